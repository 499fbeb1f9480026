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
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

static char tempo_bin[1024], python[1024], dir[256], store[600];
static char out[65536], err[4096]; /* the last command's stdout and stderr */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void read_file(const char *name, char *buf, size_t size)
{
    char p[512];
    path_of(p, sizeof p, name);
    buf[0] = '\0';
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int lines_of(const char *name)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static bool wait_lines(const char *name, int at_least, int timeout_ms)
{
    for (int64_t end = now_ms() + timeout_ms; now_ms() < end; sleep_ms(50))
        if (lines_of(name) >= at_least)
            return true;
    return lines_of(name) >= at_least;
}

/* Lines of a text (the command's output). */
static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* ---- the daemon ---- */

static pid_t daemon_start(const char *file)
{
    char f[512], log[512];
    path_of(f, sizeof f, file);
    path_of(log, sizeof log, "daemon.log");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execl(tempo_bin, "tempo", "run", "--store", store, "--identity", "daemon", "--lease", "3", f, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void daemon_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
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
             dir, dir);
    write_file("jobs.tempo", text);
    pid_t pid = daemon_start("jobs.tempo");
    assert_true(wait_lines("clock.out", 1, 15000)); /* the daemon is up and running */
    return pid;
}

/* True when `name` ran at most once more while the clock ran 3 times. */
static bool stays_stopped(const char *name)
{
    int before = lines_of(name), clock = lines_of("clock.out");
    assert_true(wait_lines("clock.out", clock + 3, 15000));
    return lines_of(name) <= before + 1;
}

/* ---- the commands ---- */

/* Run `tempo CMD --store STORE ARGS...` (NULL-terminated); stdout in
 * `out`, stderr in `err`; returns its exit status. */
static int tempo(const char *cmd, ...)
{
    const char *argv[32] = {"tempo", cmd, "--store", store};
    int argc = 4;
    va_list ap;
    va_start(ap, cmd);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    char o[512], e[512];
    path_of(o, sizeof o, "cmd.out");
    path_of(e, sizeof e, "cmd.err");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        execv(tempo_bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    read_file("cmd.out", out, sizeof out);
    read_file("cmd.err", err, sizeof err);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The last command's stdout is one JSON document. */
static void assert_json(void)
{
    char cmd[2200], o[512];
    path_of(o, sizeof o, "cmd.out");
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

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tempo-admin-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(store, sizeof store, "sqlite:%s/store.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- cases ---- */

/* ls lists the file's schedules with their triggers, next fire times and
 * last runs; show has the details, the next 5 fire times, the results. */
static void test_ls_and_show(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_true(wait_lines("clock.out", 3, 15000));
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
    snprintf(cmd, sizeof cmd, "echo added >> %s/added.out", dir);
    assert_int_equal(tempo("add", "added", "every 1s", cmd, NULL), 0);
    assert_non_null(strstr(out, "added added: every 1s (next "));
    assert_true(wait_lines("added.out", 2, 15000));

    assert_int_equal(tempo("pause", "added", NULL), 0);
    assert_string_equal(out, "paused added\n");
    assert_true(stays_stopped("added.out"));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_non_null(strstr(out, "yes"));

    int before = lines_of("added.out");
    assert_int_equal(tempo("resume", "added", NULL), 0);
    assert_non_null(strstr(out, "resumed added (next "));
    assert_true(wait_lines("added.out", before + 2, 15000));

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
    path_of(file, sizeof file, "words.out");
    assert_int_equal(tempo("add", "--zone", "Europe/Berlin", "--coalesce", "all", "words", "*/2 * * * * *", "echo",
                           "two words", ">>", file, NULL),
                     0);
    assert_true(wait_lines("words.out", 1, 15000));
    char text[256];
    read_file("words.out", text, sizeof text);
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
    assert_true(wait_lines("yearly.out", 1, 10000));
    for (int64_t end = now_ms() + 10000; now_ms() < end; sleep_ms(100)) /* the result lands after the run */
        if (tempo("results", "yearly", NULL) == 0 && strstr(out, " ok "))
            break;
    assert_non_null(strstr(out, "yearly"));
    assert_non_null(strstr(out, " ok "));
    assert_int_equal(tempo("ls", NULL), 0);
    assert_non_null(strstr(out, "-01-01T00:00:00+"));
    /* A schedule of tempo add (task "run") too. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "echo now >> %s/later.out", dir);
    assert_int_equal(tempo("add", "later", "at 2099-01-01T00:00", cmd, NULL), 0);
    assert_int_equal(tempo("run-now", "--json", "later", NULL), 0);
    assert_json();
    assert_non_null(strstr(out, "\"job_id\": \""));
    assert_true(wait_lines("later.out", 1, 10000));
    daemon_stop(pid);
}

/* results: newest first, outcomes, the first line of output or error;
 * -n limits; a NAME narrows. */
static void test_results(void **state)
{
    (void)state;
    pid_t pid = daemon_with_clock();
    assert_int_equal(tempo("add", "broken", "every 1s", "echo 'it broke' >&2; exit 3", NULL), 0);
    for (int64_t end = now_ms() + 15000; now_ms() < end; sleep_ms(200))
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
    assert_true(wait_lines("clock.out", 2, 15000));
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
    snprintf(bad, sizeof bad, "sqlite:%s/no/such/dir/store.db", dir);
    snprintf(store, sizeof store, "%s", bad);
    assert_failed(tempo("ls", NULL), 1, "unable to open");
    snprintf(store, sizeof store, "postgres://nowhere");
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
    path_of(o, sizeof o, "help.out");
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "'%s' --help > '%s'", tempo_bin, o);
    assert_int_equal(system(cmd), 0);
    char text[4096];
    read_file("help.out", text, sizeof text);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        assert_non_null(strstr(text, cmds[i]));
    snprintf(cmd, sizeof cmd, "'%s' help run-now > '%s'", tempo_bin, o);
    assert_int_equal(system(cmd), 0);
    read_file("help.out", text, sizeof text);
    assert_non_null(strstr(text, "Usage: tempo run-now"));
}

int main(void)
{
    setenv("TZ", "UTC", 1); /* the commands show local times: make them predictable */
    const char *bin = getenv("TEMPO_BINARY_DIR");
    snprintf(tempo_bin, sizeof tempo_bin, "%s/bin/tempo", bin ? bin : ".");
    const char *py = getenv("TEMPO_PYTHON");
    snprintf(python, sizeof python, "%s", py && py[0] ? py : "/usr/bin/python3");
    if (access(python, X_OK) != 0)
        tempo_test_skip("no python3 to check the --json output with");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ls_and_show, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_pause_resume_rm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_words_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mistakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help, setup, teardown),
    };
    return cmocka_run_group_tests_name("tempo admin commands", tests, NULL, NULL);
}
