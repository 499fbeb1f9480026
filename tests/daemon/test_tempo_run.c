/* `tempo run` driven as a user drives it (issue 6): start it on a schedule
 * file, watch its commands run, change the file and send SIGHUP, kill -9 it
 * and start it again, run two of it on one store. Real processes, real
 * time, the SQLite store in a fresh directory per case.
 *
 * The schedule files' commands append a line to a file per run; the
 * daemon's log says which job ran. Every wait is for a condition, bounded. */
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

static char tempo_bin[1024], dir[256];

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

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
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

/* Lines in a file (0 when missing). */
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

/* How often `needle` occurs in a file. */
static int count_in(const char *name, const char *needle)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
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

static bool wait_text(const char *name, const char *needle, int at_least, int timeout_ms)
{
    for (int64_t end = now_ms() + timeout_ms; now_ms() < end; sleep_ms(50))
        if (count_in(name, needle) >= at_least)
            return true;
    return count_in(name, needle) >= at_least;
}

/* Start `tempo run` on `file` with its stdout and stderr to `log`. */
static pid_t start(const char *file, const char *log, const char *identity)
{
    char f[512], l[512], store[600];
    path_of(f, sizeof f, file);
    path_of(l, sizeof l, log);
    snprintf(store, sizeof store, "sqlite:%s/store.db", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(l, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execl(tempo_bin, "tempo", "run", "--store", store, "--identity", identity, "--lease", "3", f, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int stop(pid_t pid, int sig)
{
    kill(pid, sig);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tempo-run-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Start, see three runs and their log lines, stop with SIGTERM: exit 0. */
static void test_runs_and_stops(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "a: every 1s  echo A >> %s/a.out\n", dir);
    write_file("jobs.tempo", text);
    pid_t pid = start("jobs.tempo", "log", "d1");
    assert_true(wait_lines("a.out", 3, 15000));
    assert_true(wait_text("log", "a ok", 3, 5000));
    int status = stop(pid, SIGTERM);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_in("log", "stopped"), 1);
    assert_true(count_in("log", "a start (job") >= 3);
}

/* A bad line: FILE:LINE:COLUMN on stderr, exit 2, nothing started. */
static void test_bad_file(void **state)
{
    (void)state;
    write_file("bad.tempo", "ok: every 1s  true\nbad: 61 * * * *  true\n");
    pid_t pid = start("bad.tempo", "log", "d1");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    char where[600];
    snprintf(where, sizeof where, "%s/bad.tempo:2:", dir);
    assert_int_equal(count_in("log", where), 1);
    assert_int_equal(count_in("log", "start (job"), 0);
    char store[512];
    path_of(store, sizeof store, "store.db");
    assert_int_equal(access(store, F_OK), -1); /* the store was not even opened */
}

/* SIGHUP with a changed file: the removed schedule stops, the added one
 * starts, the unchanged one goes on, without a restart. */
static void test_reload(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "a: every 1s  echo A >> %s/a.out\nkeep: every 1s  echo K >> %s/k.out\n", dir, dir);
    write_file("jobs.tempo", text);
    pid_t pid = start("jobs.tempo", "log", "d1");
    assert_true(wait_lines("a.out", 2, 15000));
    snprintf(text, sizeof text, "keep: every 1s  echo K >> %s/k.out\nb: every 1s  echo B >> %s/b.out\n", dir, dir);
    write_file("jobs.tempo", text);
    kill(pid, SIGHUP);
    assert_true(wait_text("log", "reload: 1 added, 1 removed, 0 changed, 1 unchanged", 1, 5000));
    assert_true(wait_lines("b.out", 3, 15000));
    int a_after = lines_of("a.out"), k_after = lines_of("k.out");
    assert_true(wait_lines("b.out", 5, 15000));
    assert_true(lines_of("a.out") <= a_after + 1); /* at most one already under way */
    assert_true(lines_of("k.out") >= k_after + 2);
    /* A file that no longer parses: reported, schedules unchanged. */
    write_file("jobs.tempo", "keep: every 1x  true\n");
    kill(pid, SIGHUP);
    assert_true(wait_text("log", "keeping the schedules as they were", 1, 5000));
    int b_now = lines_of("b.out");
    assert_true(wait_lines("b.out", b_now + 2, 15000));
    int status = stop(pid, SIGTERM);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* kill -9 while a command runs, start again: every fire time of the
 * schedule ran once — the ones missed while down too (coalesce all) — and
 * the killed run is reported abandoned. */
static void test_kill9_restart(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "slow: every 2s  sleep 1; echo S >> %s/s.out\n"
             "  coalesce = all\n",
             dir);
    write_file("jobs.tempo", text);
    pid_t pid = start("jobs.tempo", "log1", "d1");
    assert_true(wait_lines("s.out", 2, 20000));
    assert_true(wait_text("log1", "slow start (job", lines_of("s.out") + 1, 5000)); /* one running */
    stop(pid, SIGKILL);
    int before = lines_of("s.out");
    sleep_ms(4500); /* down across two fire times (the scenario, not a synchronization) */
    pid = start("jobs.tempo", "log2", "d2");
    assert_true(wait_text("log2", "slow abandoned", 1, 20000));
    assert_true(wait_lines("s.out", before + 4, 30000));
    int status = stop(pid, SIGTERM);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* No job ran twice: each "ok" job id appears once over both runs. */
    char l1[512], l2[512], cmd[1400];
    path_of(l1, sizeof l1, "log1");
    path_of(l2, sizeof l2, "log2");
    snprintf(cmd, sizeof cmd,
             "grep -h 'slow start (job' '%s' '%s' | sed 's/.*(job //' | sort | uniq -d | grep -q . && exit 1; exit 0",
             l1, l2);
    assert_int_equal(system(cmd), 0);
}

/* Two daemons on one store and one file: each fire runs once. */
static void test_two_daemons(void **state)
{
    (void)state;
    char text[2048];
    size_t used = 0;
    for (int i = 0; i < 10; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "s%d: every 1s  echo %d >> %s/all.out\n", i, i,
                                 dir);
    write_file("jobs.tempo", text);
    pid_t a = start("jobs.tempo", "log1", "d1"), b = start("jobs.tempo", "log2", "d2");
    assert_true(wait_lines("all.out", 100, 30000));
    stop(a, SIGTERM);
    stop(b, SIGTERM);
    char l1[512], l2[512], cmd[2200];
    path_of(l1, sizeof l1, "log1");
    path_of(l2, sizeof l2, "log2");
    snprintf(cmd, sizeof cmd,
             "grep -h 'start (job' '%s' '%s' | sed 's/.*(job //' | sort | uniq -d | grep -q . && exit 1; exit 0",
             l1, l2);
    assert_int_equal(system(cmd), 0);
    int runs1 = count_in("log1", " ok"), runs2 = count_in("log2", " ok");
    print_message("[          ] runs: d1 %d, d2 %d; command output lines %d\n", runs1, runs2, lines_of("all.out"));
    assert_int_equal(runs1 + runs2, lines_of("all.out"));
}

int main(void)
{
    const char *bin = getenv("TEMPO_BINARY_DIR");
    snprintf(tempo_bin, sizeof tempo_bin, "%s/bin/tempo", bin ? bin : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runs_and_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_daemons, setup, teardown),
    };
    return cmocka_run_group_tests_name("tempo run", tests, NULL, NULL);
}
