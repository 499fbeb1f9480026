/* The store administration commands (issue 6) against a running daemon:
 * `tempo run` on a schedule file with an SQLite store in a fresh directory,
 * and `tempo ls|show|add|pause|resume|rm|run-now|results` run on the same
 * store while it runs, as a user would. Real processes, real time.
 *
 * The commands of the schedules append a line to a file per run. Every
 * wait is for a condition, bounded; "it stopped running" is judged against
 * a clock schedule (`clock`, every second): while the clock ran three more
 * times, the stopped schedule ran at most once more (one may have been
 * under way). --json output is checked by Python's json module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_support.h"
#include "test_support.h"

static char python[1024];
static char out[65536], err[4096]; /* the last command's stdout and stderr */

/* Lines of a text (the command's output). */
static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* ---- the daemon ---- */

static void daemon_stop(pid_t pid)
{
    int status = ds_stop(pid, SIGTERM);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The schedule file of every case: a clock, and a schedule that would
 * fire once a year (at midnight on January 1st, UTC). */
static pid_t daemon_with_clock(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "clock: every 1s  echo tick | tee -a %s/clock.out\n"
             "yearly: \"0 0 1 1 *\"  echo once >> %s/yearly.out\n"
             "  zone = UTC\n",
             ds_dir, ds_dir);
    ds_write_file("jobs.tempo", text);
    pid_t pid = ds_start("jobs.tempo", "daemon.log", "daemon");
    assert_true(ds_wait_lines("clock.out", 1, 15000)); /* the daemon is up and running */
    return pid;
}

/* True when `name` ran at most once more while the clock ran 3 times. */
static bool stays_stopped(const char *name)
{
    int before = ds_lines_of(name), clock = ds_lines_of("clock.out");
    assert_true(ds_wait_lines("clock.out", clock + 3, 15000));
    return ds_lines_of(name) <= before + 1;
}

/* ---- the commands ---- */

/* Run `tempo CMD --store STORE ARGS...` (NULL-terminated); stdout in
 * `out`, stderr in `err`; returns its exit status. */
static int tempo(const char *cmd, ...)
{
    const char *argv[32] = {"tempo", cmd, "--store", ds_store};
    int argc = 4;
    va_list ap;
    va_start(ap, cmd);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    char o[512], e[512];
    ds_path_of(o, sizeof o, "cmd.out");
    ds_path_of(e, sizeof e, "cmd.err");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        execv(ds_tempo_bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ds_read_file("cmd.out", out, sizeof out);
    ds_read_file("cmd.err", err, sizeof err);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The last command's stdout is one JSON document. */
static void assert_json(void)
{
    char cmd[2200], o[512];
    ds_path_of(o, sizeof o, "cmd.out");
    snprintf(cmd, sizeof cmd, "'%s' -c 'import json,sys; json.load(sys.stdin)' < '%s'", python, o);
    if (system(cmd) != 0)
        fail_msg("not one JSON document:\n%s", out);
}

/* The last command failed with exit status `code` and one line on stderr
 * holding `needle`. */
static void assert_failed(int status, int code, const char *needle)
{
    assert_int_equal(status, code);
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "tempo: "));
    if (!strstr(err, needle))
        fail_msg("stderr does not say '%s': %s", needle, err);
    assert_string_equal(out, "");
}

/* ---- cases ---- */

/* ls lists the file's schedules with their triggers, next fire times and
 * last runs; show has the details, the next 5 fire times, the results. */
static void test_ls_and_show(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_true(ds_wait_lines("clock.out", 3, 15000));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_non_null(strstr(out, "NAME"));
    assert_non_null(strstr(out, "LAST"));
    assert_non_null(strstr(out, "clock"));
    assert_non_null(strstr(out, "every 1s"));
    assert_non_null(strstr(out, "ok 20"));        /* the clock's last run */
    assert_non_null(strstr(out, "yearly"));
    assert_non_null(strstr(out, "0 0 1 1 *"));
    assert_non_null(strstr(out, "-01-01T00:00:00+")); /* the yearly one's next fire time */
    assert_int_equal(count_lines(out), 3);

    assert_int_equal(tempo("show", "yearly", NULL), 0);
    assert_non_null(strstr(out, "task           run:yearly"));
    assert_non_null(strstr(out, "echo once >>"));
    assert_non_null(strstr(out, "source         tempo run, "));
    assert_non_null(strstr(out, "results kept   7d"));
    assert_non_null(strstr(out, "upcoming"));
    int years = 0;
    for (const char *p = out; (p = strstr(p, "-01-01T00:00:00+00:00")) != NULL; p++)
        years++;
    assert_int_equal(years, 5 + 1); /* "next", then the 5 upcoming */
    assert_non_null(strstr(out, "none kept"));

    assert_int_equal(tempo("show", "clock", NULL), 0);
    const char *last = strstr(out, "last results");
    assert_non_null(last);
    assert_non_null(strstr(last, "  ok ")); /* a run, with its output */
    assert_non_null(strstr(last, "tick"));
    daemon_stop(pid);
}

/* add -> the daemon runs it; pause -> it stops; resume -> it runs again;
 * rm -> gone from ls, and it stops. */
static void test_add_pause_resume_rm(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "echo added >> %s/added.out", ds_dir);
    assert_int_equal(tempo("add", "added", "every 1s", cmd, NULL), 0);
    assert_non_null(strstr(out, "added added: every 1s (next "));
    assert_true(ds_wait_lines("added.out", 2, 15000));

    assert_int_equal(tempo("pause", "added", NULL), 0);
    assert_string_equal(out, "paused added\n");
    assert_true(stays_stopped("added.out"));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_non_null(strstr(out, "yes"));

    int before = ds_lines_of("added.out");
    assert_int_equal(tempo("resume", "added", NULL), 0);
    assert_non_null(strstr(out, "resumed added (next "));
    assert_true(ds_wait_lines("added.out", before + 2, 15000));

    assert_int_equal(tempo("rm", "added", NULL), 0);
    assert_string_equal(out, "removed added\n");
    assert_true(stays_stopped("added.out"));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_null(strstr(out, "added"));
    assert_int_equal(count_lines(out), 3);

    /* A schedule of the file: rm says it comes back with the file. */
    assert_int_equal(tempo("rm", "yearly", NULL), 0);
    assert_non_null(strstr(out, "still lists it"));
    daemon_stop(pid);
}

/* A command of several words, options before it, and its settings kept. */
static void test_add_words_and_options(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    char file[512];
    ds_path_of(file, sizeof file, "words.out");
    assert_int_equal(tempo("add", "--zone", "Europe/Berlin", "--coalesce", "all", "words", "*/2 * * * * *", "echo",
                           "two words", ">>", file, NULL),
                     0);
    assert_true(ds_wait_lines("words.out", 1, 15000));
    char text[256];
    ds_read_file("words.out", text, sizeof text);
    assert_string_equal(strtok(text, "\n"), "two words");
    assert_int_equal(tempo("show", "words", NULL), 0);
    assert_non_null(strstr(out, "coalesce       all"));
    assert_non_null(strstr(out, "Europe/Berlin"));
    assert_non_null(strstr(out, "source         tempo add"));
    assert_non_null(strstr(out, "task           run\n"));
    daemon_stop(pid);
}

/* run-now on a schedule that fires once a year: it runs within seconds,
 * its result is the schedule's, and the schedule keeps its next time. */
static void test_run_now(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_int_equal(tempo("run-now", "yearly", NULL), 0);
    assert_non_null(strstr(out, "queued a run of yearly now (job "));
    assert_true(ds_wait_lines("yearly.out", 1, 10000));
    /* The result lands after the run. */
    for (int64_t end = ds_now_ms() + 10000; ds_now_ms() < end; ds_sleep_ms(100))
        if (tempo("results", "yearly", NULL) == 0 && strstr(out, " ok "))
            break;
    assert_non_null(strstr(out, "yearly"));
    assert_non_null(strstr(out, " ok "));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_non_null(strstr(out, "-01-01T00:00:00+"));
    /* A schedule of tempo add (task "run") too. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "echo now >> %s/later.out", ds_dir);
    assert_int_equal(tempo("add", "later", "at 2099-01-01T00:00", cmd, NULL), 0);
    assert_int_equal(tempo("run-now", "--json", "later", NULL), 0);
    assert_json();
    assert_non_null(strstr(out, "\"job_id\": \""));
    assert_true(ds_wait_lines("later.out", 1, 10000));
    daemon_stop(pid);
}

/* results: newest first, outcomes, the first line of output or error;
 * -n limits; a NAME narrows. */
static void test_results(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_int_equal(tempo("add", "broken", "every 1s", "echo 'it broke' >&2; exit 3", NULL), 0);
    for (int64_t end = ds_now_ms() + 15000; ds_now_ms() < end; ds_sleep_ms(200))
        if (tempo("results", "broken", NULL) == 0 && count_lines(out) >= 3)
            break;
    assert_true(count_lines(out) >= 3);
    assert_non_null(strstr(out, "TIME"));
    assert_non_null(strstr(out, "failed"));
    assert_non_null(strstr(out, "exit status 3: it broke"));
    assert_null(strstr(out, "clock"));
    assert_int_equal(tempo("results", "-n", "4", NULL), 0);
    assert_int_equal(count_lines(out), 1 + 4);
    assert_non_null(strstr(out, "clock"));
    assert_non_null(strstr(out, " ok "));
    assert_non_null(strstr(out, "tick"));
    /* newest first: the times of the lines do not increase */
    char prev[64] = "9999", *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "TIME", 4) == 0)
            continue;
        char t[64];
        snprintf(t, sizeof t, "%.25s", line);
        assert_true(strcmp(t, prev) <= 0);
        snprintf(prev, sizeof prev, "%s", t);
    }
    assert_int_equal(tempo("results", "yearly", NULL), 0); /* known, nothing kept yet */
    assert_string_equal(out, "no results of yearly kept\n");
    daemon_stop(pid);
}

/* Every command's --json output is one JSON document. */
static void test_json(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_true(ds_wait_lines("clock.out", 2, 15000));
    assert_int_equal(tempo("ls", "--json", NULL), 0);
    assert_json();
    assert_non_null(strstr(out, "\"schedules\": ["));
    assert_int_equal(tempo("show", "clock", "--json", NULL), 0);
    assert_json();
    assert_non_null(strstr(out, "\"upcoming\": ["));
    assert_int_equal(tempo("add", "--json", "j", "daily at 09:30", "echo \"quoted\\\" and\ttab\"", NULL), 0);
    assert_json();
    assert_int_equal(tempo("pause", "j", "--json", NULL), 0);
    assert_json();
    assert_int_equal(tempo("resume", "j", "--json", NULL), 0);
    assert_json();
    assert_int_equal(tempo("results", "--json", NULL), 0);
    assert_json();
    assert_non_null(strstr(out, "\"outcome\": \"success\""));
    assert_int_equal(tempo("results", "j", "--json", NULL), 0);
    assert_json();
    assert_int_equal(tempo("rm", "j", "--json", NULL), 0);
    assert_json();
    daemon_stop(pid);
}

/* Mistakes: exit 2 with one clear line, nothing changed; a store that
 * cannot be opened: exit 1. */
static void test_mistakes(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    const char *cmds[] = {"show", "pause", "resume", "rm", "run-now", "results"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char want[128];
        snprintf(want, sizeof want, "tempo: %s: no schedule 'nope' in the store", cmds[i]);
        assert_failed(tempo(cmds[i], "nope", NULL), 2, want);
    }
    assert_failed(tempo("add", "x", "30 24 * * *", "true", NULL), 2,
                  "TRIGGER '30 24 * * *': cron: field 'hour': '24' is out of range 0-23");
    assert_failed(tempo("add", "--zone", "Mars/Olympus", "x", "@daily", "true", NULL), 2, "--zone: time zone");
    assert_failed(tempo("add", "bad name", "@daily", "true", NULL), 2, "NAME 'bad name'");
    assert_failed(tempo("add", "clock", "@daily", "true", NULL), 2, "a schedule named 'clock' exists already");
    assert_failed(tempo("add", "x", "@daily", NULL), 2, "missing COMMAND");
    assert_failed(tempo("ls", "extra", NULL), 2, "unexpected 'extra'");
    assert_failed(tempo("ls", "--bogus", NULL), 2, "unknown option '--bogus'");
    assert_failed(tempo("results", "-n", "0", NULL), 2, "give a count from 1 to 10000");
    assert_int_equal(tempo("ls", NULL), 0);
    assert_int_equal(count_lines(out), 3); /* nothing was added */
    daemon_stop(pid);

    char bad[512];
    snprintf(bad, sizeof bad, "sqlite:%s/no/such/dir/store.db", ds_dir);
    snprintf(ds_store, sizeof ds_store, "%s", bad);
    assert_failed(tempo("ls", NULL), 1, "unable to open");
    snprintf(ds_store, sizeof ds_store, "postgres://nowhere");
    assert_failed(tempo("ls", NULL), 2, "--store postgres://nowhere");
}

/* Help: every command's, and the main one lists them. */
static void test_help(void **state)
{
    (void)state;
    const char *cmds[] = {"ls", "show", "add", "pause", "resume", "rm", "run-now", "results"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        assert_int_equal(tempo(cmds[i], "--help", NULL), 0);
        char want[64];
        snprintf(want, sizeof want, "Usage: tempo %s ", cmds[i]);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "--store URI"));
        assert_non_null(strstr(out, "--json"));
    }
    char o[512];
    ds_path_of(o, sizeof o, "help.out");
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "'%s' --help > '%s'", ds_tempo_bin, o);
    assert_int_equal(system(cmd), 0);
    char text[4096];
    ds_read_file("help.out", text, sizeof text);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        assert_non_null(strstr(text, cmds[i]));
    snprintf(cmd, sizeof cmd, "'%s' help run-now > '%s'", ds_tempo_bin, o);
    assert_int_equal(system(cmd), 0);
    ds_read_file("help.out", text, sizeof text);
    assert_non_null(strstr(text, "Usage: tempo run-now"));
}

int main(void)
{
    setenv("TZ", "UTC", 1); /* the commands show local times: make them predictable */
    ds_init("tempo-admin");
    const char *py = getenv("TEMPO_PYTHON");
    snprintf(python, sizeof python, "%s", py && py[0] ? py : "/usr/bin/python3");
    if (access(python, X_OK) != 0)
        tempo_test_skip("no python3 to check the --json output with");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ls_and_show, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_add_pause_resume_rm, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_add_words_and_options, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_run_now, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_results, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_json, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_mistakes, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_help, ds_setup, ds_teardown),
    };
    return cmocka_run_group_tests_name("tempo admin commands", tests, NULL, NULL);
}
