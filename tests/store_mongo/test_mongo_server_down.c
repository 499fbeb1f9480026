/* The MongoDB store when its server goes away and comes back: a FerretDB of
 * this test's own (scripts/ferretdb-test.sh, data kept across restarts) is
 * stopped mid-test — every operation then fails with TEMPO_ESTORE within the
 * URI's timeouts, and the store stays usable — and started again on the same
 * port and data: the same store instance works again, and nothing that was
 * stored before is lost (records, leases, fences). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop_internal.h"
#include "mongo_test.h"
#include "store/records.h"
#include "store_harness.h"
#include "test_support.h"

/* Timeouts of this test's store, and the bound of one failing operation:
 * the selection timeout plus slack for slow (sanitized) builds. */
#define TIMEOUTS "serverSelectionTimeoutMS=1000&connectTimeoutMS=1000&socketTimeoutMS=3000"
#define BOUND_MS (1000 + 4000)
#define COMEBACK_MS 20000

static char state_dir[1024];
static char uri[600];
static char db[64];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run the fixture script; the server of this test only, whatever
 * TEMPO_TEST_MONGODB_URI says. `soft`: a failure to start leaves its reason
 * in <state>/error instead of failing the script. */
static int server(const char *cmd, bool fresh, bool soft)
{
    const char *script = getenv("TEMPO_MONGO_SCRIPT");
    char line[2400];
    snprintf(line, sizeof line,
             "env -u TEMPO_TEST_MONGODB_URI TEMPO_FERRETDB_FRESH=%d TEMPO_FERRETDB_SOFT=%d bash '%s' %s '%s' >&2",
             fresh ? 1 : 0, soft ? 1 : 0, script ? script : "scripts/ferretdb-test.sh", cmd, state_dir);
    return system(line);
}

static void remove_state(void)
{
    char line[1200];
    snprintf(line, sizeof line, "rm -rf '%s'", state_dir);
    if (system(line) != 0)
        fprintf(stderr, "could not remove %s\n", state_dir);
}

/* The first line of <state>/<name>, or "" when there is none. */
static void read_state(const char *name, char *buf, size_t size)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", state_dir, name);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f && !fgets(buf, (int)size, f))
        buf[0] = '\0';
    if (f)
        fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static void start_server_or_skip(void)
{
    const char *base = getenv("TEMPO_MONGO_DOWN_STATE");
    snprintf(state_dir, sizeof state_dir, "%s-%ld", base ? base : "/tmp/tempo-mongo-down", (long)getpid());
    char base_uri[512], why[512], msg[700];
    if (server("start", true, true) != 0)
        fail_msg("scripts/ferretdb-test.sh start %s failed", state_dir);
    read_state("uri", base_uri, sizeof base_uri);
    if (!base_uri[0]) {
        read_state("error", why, sizeof why);
        snprintf(msg, sizeof msg, "cannot start a FerretDB of this test's own: %s", why[0] ? why : "no reason given");
        remove_state();
        tempo_test_skip(msg);
    }
    snprintf(uri, sizeof uri, "%s?%s", base_uri, TIMEOUTS);
}

static tempo_store_t *make(void *ctx)
{
    (void)ctx;
    mt_db_name("down", db, sizeof db);
    return mt_store(uri, db);
}

static void expect_estore(tempo_status_t status, const char *message, double started, const char *what)
{
    double took = now_ms() - started;
    if (status != TEMPO_ESTORE)
        fail_msg("%s with the server down: status %d (%s), expected TEMPO_ESTORE", what, status, message);
    if (took > BOUND_MS)
        fail_msg("%s with the server down: failed after %.0f ms, bound %d ms", what, took, BOUND_MS);
    if (!strstr(message, "store 'mongodb': "))
        fail_msg("%s: message '%s' does not name the store", what, message);
}

/* Each operation while the server is down. */
static void all_fail(store_h_t *h)
{
    sh_result_t r = {0};
    double t = now_ms();
    tempo_schedule_record_t s = sh_schedule(h, "during", SH_T0);
    h->store->ops->add_schedule(h->store->self, &s, TEMPO_CONFLICT_ERROR, sh_add_cb, &r);
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    expect_estore(r.status, r.message, t, "add_schedule");
    printf("  down: %s\n", r.message);
    static const char *const what[] = {"get_schedules", "acquire_schedules", "acquire_jobs", "next_job_time",
                                       "extend_leases"};
    tempo_task_record_t task = sh_task("task-a", 2);
    for (size_t i = 0; i < sizeof what / sizeof *what; i++) {
        memset(&r, 0, sizeof r);
        t = now_ms();
        switch (i) {
        case 0: h->store->ops->get_schedules(h->store->self, NULL, 0, sh_schedules_cb, &r); break;
        case 1: h->store->ops->acquire_schedules(h->store->self, "w", SH_T0, SH_SEC(30), 10, sh_schedules_cb, &r); break;
        case 2: h->store->ops->acquire_jobs(h->store->self, "w", SH_T0, SH_SEC(30), 10, &task, 1, sh_jobs_cb, &r); break;
        case 3: h->store->ops->next_job_time(h->store->self, sh_time_cb, &r); break;
        default: {
            static const char *const ids[] = {"s0"};
            h->store->ops->extend_leases(h->store->self, "w1", ids, 1, NULL, 0, SH_T0 + SH_SEC(99), sh_status_cb, &r);
        }
        }
        sh_wait_calls(h, (int *const[]){&r.calls}, 1);
        expect_estore(r.status, r.message, t, what[i]);
        sh_result_free(&r);
    }
}

/* After the restart: poll (bounded) until an operation succeeds. */
static void comes_back(store_h_t *h)
{
    double t = now_ms();
    int failures = 0;
    for (;;) {
        sh_result_t r;
        tempo_status_t rc = sh_get_schedules(h, NULL, 0, &r);
        if (rc == TEMPO_OK) {
            /* Nothing lost: every schedule, the two leases as they were. */
            assert_int_equal(r.count, 5);
            for (size_t i = 0; i < r.count; i++) {
                bool held = i < 2;
                if (held) {
                    assert_string_equal(r.schedules[i].lease.owner, "w1");
                    assert_int_equal(r.schedules[i].lease.fence, 1);
                } else {
                    assert_null(r.schedules[i].lease.owner);
                }
            }
            sh_result_free(&r);
            break;
        }
        sh_result_free(&r);
        assert_int_equal(rc, TEMPO_ESTORE);
        failures++;
        if (now_ms() - t > COMEBACK_MS)
            fail_msg("the store did not work again within %d ms of the restart", COMEBACK_MS);
        usleep(100 * 1000); /* a retry interval, as the scheduler's backoff would */
    }
    printf("  back after %d failed tries, %.0f ms\n", failures, now_ms() - t);
}

static void server_down_and_back(void **state)
{
    store_h_t *h = *state;
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        tempo_schedule_record_t s = sh_schedule(h, id, SH_T0 - SH_SEC(10 - i));
        assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "j%d", i);
        tempo_job_record_t j = sh_job(id, "task-a", NULL, SH_T0 - i, SH_T0 - 10);
        assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    }
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(300), 2, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    sh_result_free(&r);

    assert_int_equal(server("stop", false, false), 0);
    all_fail(h);
    assert_int_equal(server("start", false, false), 0);
    comes_back(h);

    /* It works as before: the holder releases, the jobs are all there. */
    tempo_schedule_release_t rel[2] = {
        {.id = "s0", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(60), .last_fire_time = SH_T0},
        {.id = "s1", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(60), .last_fire_time = SH_T0},
    };
    assert_int_equal(sh_release_schedules(h, "w1", rel, 2), TEMPO_OK);
    assert_int_equal(rel[0].status, TEMPO_OK);
    assert_int_equal(rel[1].status, TEMPO_OK);
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0, SH_SEC(30), 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 3);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 3); /* s2 s3 s4 */
    sh_result_free(&r);
}

/* Stop it and remove its state (a directory of this process's own). */
static int stop_server(void **state)
{
    (void)state;
    mt_drop(uri, db);
    if (server("stop", false, false) != 0)
        return -1;
    remove_state();
    return 0;
}

int main(void)
{
    mt_quiet_logs();
    start_server_or_skip();
    static const tempo_store_factory_t factory = {.name = "mongodb (server down)", .make = make};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(server_down_and_back, sh_setup, sh_teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: server down and back", tests, NULL, stop_server);
}
