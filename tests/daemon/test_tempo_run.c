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
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_support.h"
#include "mongo_uri.h"
#include "test_support.h"


/* True when no job id follows `what` (a log line's start, up to "(job")
 * twice over the logs log1 and log2 of two daemons. */
static bool started_once_each(const char *what)
{
    char l1[512], l2[512], cmd[1400];
    ds_path_of(l1, sizeof l1, "log1");
    ds_path_of(l2, sizeof l2, "log2");
    snprintf(cmd, sizeof cmd,
             "grep -h '%s' '%s' '%s' | sed 's/.*(job //' | sort | uniq -d | grep -q . && exit 1; exit 0", what, l1,
             l2);
    return system(cmd) == 0;
}

/* Start, see three runs and their log lines, stop with SIGTERM: exit 0. */
static void test_runs_and_stops(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "a: every 1s  echo A >> %s/a.out\n", ds_dir);
    ds_write_file("jobs.tempo", text);
    pid_t pid = ds_start("jobs.tempo", "log", "d1");
    assert_true(ds_wait_lines("a.out", 3, 15000));
    assert_true(ds_wait_text("log", "a ok", 3, 5000));
    int status = ds_stop(pid, SIGTERM);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(ds_count_in("log", "stopped"), 1);
    assert_true(ds_count_in("log", "a start (job") >= 3);
}

/* A bad line: FILE:LINE:COLUMN on stderr, exit 2, nothing started. */
static void test_bad_file(void **state)
{
    (void)state;
    ds_write_file("bad.tempo", "ok: every 1s  true\nbad: 61 * * * *  true\n");
    pid_t pid = ds_start("bad.tempo", "log", "d1");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    char where[600];
    snprintf(where, sizeof where, "%s/bad.tempo:2:", ds_dir);
    assert_int_equal(ds_count_in("log", where), 1);
    assert_int_equal(ds_count_in("log", "start (job"), 0);
    char store[512];
    ds_path_of(store, sizeof store, "store.db");
    assert_int_equal(access(store, F_OK), -1); /* the store was not even opened */
}

/* SIGHUP with a changed file: the removed schedule stops, the added one
 * starts, the unchanged one goes on, without a restart. */
static void test_reload(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "a: every 1s  echo A >> %s/a.out\nkeep: every 1s  echo K >> %s/k.out\n", ds_dir,
             ds_dir);
    ds_write_file("jobs.tempo", text);
    pid_t pid = ds_start("jobs.tempo", "log", "d1");
    assert_true(ds_wait_lines("a.out", 2, 15000));
    snprintf(text, sizeof text, "keep: every 1s  echo K >> %s/k.out\nb: every 1s  echo B >> %s/b.out\n", ds_dir,
             ds_dir);
    ds_write_file("jobs.tempo", text);
    kill(pid, SIGHUP);
    assert_true(ds_wait_text("log", "reload: 1 added, 1 removed, 0 changed, 1 unchanged", 1, 5000));
    assert_true(ds_wait_lines("b.out", 3, 15000));
    int a_after = ds_lines_of("a.out"), k_after = ds_lines_of("k.out");
    assert_true(ds_wait_lines("b.out", 5, 15000));
    assert_true(ds_lines_of("a.out") <= a_after + 1); /* at most one already under way */
    assert_true(ds_lines_of("k.out") >= k_after + 2);
    /* A file that no longer parses: reported, schedules unchanged. */
    ds_write_file("jobs.tempo", "keep: every 1x  true\n");
    kill(pid, SIGHUP);
    assert_true(ds_wait_text("log", "keeping the schedules as they were", 1, 5000));
    int b_now = ds_lines_of("b.out");
    assert_true(ds_wait_lines("b.out", b_now + 2, 15000));
    int status = ds_stop(pid, SIGTERM);
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
             ds_dir);
    ds_write_file("jobs.tempo", text);
    pid_t pid = ds_start("jobs.tempo", "log1", "d1");
    assert_true(ds_wait_lines("s.out", 2, 20000));
    assert_true(ds_wait_text("log1", "slow start (job", ds_lines_of("s.out") + 1, 5000)); /* one running */
    ds_stop(pid, SIGKILL);
    int before = ds_lines_of("s.out");
    ds_sleep_ms(4500); /* down across two fire times (the scenario, not a synchronization) */
    pid = ds_start("jobs.tempo", "log2", "d2");
    assert_true(ds_wait_text("log2", "slow abandoned", 1, 20000));
    assert_true(ds_wait_lines("s.out", before + 4, 30000));
    int status = ds_stop(pid, SIGTERM);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* No job ran twice: each "ok" job id appears once over both runs. */
    assert_true(started_once_each("slow start (job"));
}

/* Two daemons on one store and one file: each fire runs once. */
static void test_two_daemons(void **state)
{
    (void)state;
    char text[2048];
    size_t used = 0;
    for (int i = 0; i < 10; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "s%d: every 1s  echo %d >> %s/all.out\n", i, i,
                                 ds_dir);
    ds_write_file("jobs.tempo", text);
    pid_t a = ds_start("jobs.tempo", "log1", "d1"), b = ds_start("jobs.tempo", "log2", "d2");
    assert_true(ds_wait_lines("all.out", 100, 30000));
    ds_stop(a, SIGTERM);
    ds_stop(b, SIGTERM);
    assert_true(started_once_each("start (job"));
    int runs1 = ds_count_in("log1", " ok"), runs2 = ds_count_in("log2", " ok");
    print_message("[          ] runs: d1 %d, d2 %d; command output lines %d\n", runs1, runs2, ds_lines_of("all.out"));
    if (runs1 + runs2 != ds_lines_of("all.out")) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "grep -v ' ok \\| start ' %s/log1 %s/log2 | tail -20", ds_dir, ds_dir);
        (void)system(cmd);
    }
    assert_int_equal(runs1 + runs2, ds_lines_of("all.out"));
}

/* With "mongodb": the cases about several processes and a daemon's life,
 * on a MongoDB server (FerretDB from the fixture) instead of SQLite. */
static int run_on_mongodb(void)
{
    if (!tempo_test_mongo_base(ds_mongo_base, sizeof ds_mongo_base))
        tempo_test_skip("no MongoDB server: TEMPO_TEST_MONGODB_URI unset and no URI from the FerretDB fixture");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runs_and_stops, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_two_daemons, ds_setup, ds_teardown),
    };
    return cmocka_run_group_tests_name("tempo run (mongodb)", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
    ds_init("tempo-run");
    if (argc > 1 && strcmp(argv[1], "mongodb") == 0)
        return run_on_mongodb();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runs_and_stops, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_bad_file, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_reload, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_restart, ds_setup, ds_teardown),
        cmocka_unit_test_setup_teardown(test_two_daemons, ds_setup, ds_teardown),
    };
    return cmocka_run_group_tests_name("tempo run", tests, NULL, NULL);
}
