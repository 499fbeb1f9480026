/* The MongoDB store refusing bad input at tempo_mongo_store_new, and facing
 * a server that is not there: each operation fails with TEMPO_ESTORE within
 * the URI's timeouts, the store stays usable, and stop/destroy still work.
 * Needs no server (port 1 on loopback refuses connections). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tempo/mongo.h>

#include "loop/loop_internal.h"
#include "mongo_test.h"
#include "store_harness.h"

#define NOWHERE "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=400&connectTimeoutMS=400&socketTimeoutMS=400"
/* Bound for one failing operation: the selection timeout, and slack for
 * slow (sanitized) builds. */
#define BOUND_MS (400 + 4000)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void refused(const char *uri, const tempo_mongo_options_t *opts, const char *expect)
{
    tempo_store_t *store = (tempo_store_t *)&store; /* must be cleared */
    tempo_error_t err;
    assert_int_equal(tempo_mongo_store_new(uri, opts, &store, &err), TEMPO_EINVAL);
    assert_null(store);
    assert_int_equal(err.code, TEMPO_EINVAL);
    if (!strstr(err.message, expect))
        fail_msg("message '%s' does not say '%s'", err.message, expect);
}

static void bad_input(void **state)
{
    (void)state;
    tempo_error_t err;
    assert_int_equal(tempo_mongo_store_new(NOWHERE, NULL, NULL, &err), TEMPO_EINVAL);
    refused(NULL, NULL, "uri is NULL");
    refused("not-a-uri", NULL, "bad URI 'not-a-uri'");
    refused("mongodb://127.0.0.1:99999/", NULL, "bad URI");
    refused("http://127.0.0.1/", NULL, "bad URI");
    /* A password never shows in a message. */
    tempo_store_t *store = NULL;
    assert_int_equal(tempo_mongo_store_new("mongodb://me:s3cret@127.0.0.1:99999/", NULL, &store, &err),
                     TEMPO_EINVAL);
    assert_null(strstr(err.message, "s3cret"));
    tempo_mongo_options_t o = TEMPO_MONGO_OPTIONS_INIT;
    o.database = "a.b";
    refused(NOWHERE, &o, "database name 'a.b' has a '.'");
    o.database = "";
    refused(NOWHERE, &o, "1 to 63 characters");
    char long_name[65];
    memset(long_name, 'x', 64);
    long_name[64] = '\0';
    o.database = long_name;
    refused(NOWHERE, &o, "1 to 63 characters");
    o.database = "my$db";
    refused(NOWHERE, &o, "has a '$'");
    refused("mongodb://127.0.0.1:1/my$db", NULL, "Invalid database name");
    o = (tempo_mongo_options_t)TEMPO_MONGO_OPTIONS_INIT;
    o.prefix = "a$";
    refused(NOWHERE, &o, "prefix 'a$' has a '$'");
    o.prefix = "system.x";
    refused(NOWHERE, &o, "reserved");
    o = (tempo_mongo_options_t)TEMPO_MONGO_OPTIONS_INIT;
    o.size = 4;
    refused(NOWHERE, &o, "options->size");
    /* Good ones are accepted and need no server. */
    o = (tempo_mongo_options_t)TEMPO_MONGO_OPTIONS_INIT;
    o.prefix = "";
    assert_int_equal(tempo_mongo_store_new(NOWHERE, &o, &store, &err), TEMPO_OK);
    tempo_store_free(store); /* never started */
    assert_int_equal(tempo_mongo_store_new("mongodb+srv://cluster0.example.invalid/db", NULL, &store, &err), TEMPO_OK);
    tempo_store_free(store);
}

static tempo_store_t *make_nowhere(void *ctx)
{
    (void)ctx;
    tempo_store_t *store = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_mongo_store_new(NOWHERE, NULL, &store, &err), TEMPO_OK);
    return store;
}

static void expect_estore(tempo_status_t status, double started, const char *what)
{
    double took = now_ms() - started;
    if (status != TEMPO_ESTORE)
        fail_msg("%s: status %d, expected TEMPO_ESTORE", what, status);
    if (took > BOUND_MS)
        fail_msg("%s: failed after %.0f ms, bound %d ms", what, took, BOUND_MS);
}

/* Every operation fails, each within the bound, with a message naming the
 * store, the operation and the fault; the store keeps answering. */
static void server_unreachable(void **state)
{
    store_h_t *h = *state;
    sh_result_t r;
    double t = now_ms();
    tempo_schedule_record_t s = sh_schedule(h, "s", SH_T0);
    sh_result_t res = {0};
    sh_in_call = true;
    h->store->ops->add_schedule(h->store->self, &s, TEMPO_CONFLICT_ERROR, sh_add_cb, &res);
    sh_in_call = false;
    sh_wait_calls(h, (int *const[]){&res.calls}, 1);
    expect_estore(res.status, t, "add_schedule");
    if (!strstr(res.message, "store 'mongodb': add_schedule:") || !strstr(res.message, "127.0.0.1:1"))
        fail_msg("message '%s' does not name the store, the operation and the server", res.message);
    t = now_ms();
    expect_estore(sh_get_schedules(h, NULL, 0, &r), t, "get_schedules");
    sh_result_free(&r);
    t = now_ms();
    expect_estore(sh_acquire_schedules(h, "w", SH_T0, SH_SEC(30), 10, &r), t, "acquire_schedules");
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    t = now_ms();
    tempo_task_record_t task = sh_task("task-a", 1);
    expect_estore(sh_acquire_jobs(h, "w", SH_T0, SH_SEC(30), 10, &task, 1, &r), t, "acquire_jobs");
    sh_result_free(&r);
    t = now_ms();
    expect_estore(sh_cleanup(h, SH_T0), t, "cleanup");
    /* Bad input is still refused first, without the server. */
    t = now_ms();
    assert_int_equal(sh_acquire_schedules(h, NULL, SH_T0, SH_SEC(30), 10, NULL), TEMPO_EINVAL);
    assert_true(now_ms() - t < 1000);
}

/* Operations before start are answered TEMPO_ESTATE once started. */
static void before_start(void **state)
{
    (void)state;
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_error_t err;
    assert_int_equal(tempo_vloop_new(SH_T0, &vloop, &loop, &err), TEMPO_OK);
    tempo_store_t *store = make_nowhere(NULL);
    sh_result_t r = {0};
    store->ops->get_schedules(store->self, NULL, 0, sh_schedules_cb, &r);
    assert_int_equal(r.calls, 0);
    assert_int_equal(store->ops->start(store->self, loop, &err), TEMPO_OK);
    assert_int_equal(store->ops->start(store->self, loop, &err), TEMPO_ESTATE);
    store_h_t h = {.vloop = vloop, .loop = loop, .store = store};
    sh_wait_calls(&h, (int *const[]){&r.calls}, 1);
    assert_int_equal(r.status, TEMPO_ESTATE);
    assert_non_null(strstr(r.message, "before start()"));
    tempo_store_free(store);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
    tempo_vloop_free(vloop);
}

/* destroy() with operations queued and one running against the dead
 * server: it waits for the running one (bounded), drops every answer, and
 * leaves nothing on the loop. */
static void destroy_in_flight(void **state)
{
    store_h_t *h = *state;
    sh_result_t r[5] = {{0}};
    for (int i = 0; i < 5; i++)
        h->store->ops->next_schedule_time(h->store->self, sh_time_cb, &r[i]);
    double t = now_ms();
    tempo_store_free(h->store);
    h->store = NULL;
    assert_true(now_ms() - t < BOUND_MS);
    tempo_vloop_run(h->vloop);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 0);
}

int main(void)
{
    static const tempo_store_factory_t factory = {.name = "mongodb (no server)", .make = make_nowhere};
    sh_factory = &factory;
    mt_quiet_logs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test_setup_teardown(server_unreachable, sh_setup, sh_teardown),
        cmocka_unit_test(before_start),
        cmocka_unit_test_setup_teardown(destroy_in_flight, sh_setup, sh_teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: bad input, no server", tests, NULL, NULL);
}
