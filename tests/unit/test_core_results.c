/* tempo_scheduler_list_results on virtual time: the stored results of a
 * schedule or of every job, newest first, limited; results expired by the
 * loop's clock left out; bad input refused without a callback; a store
 * without the operation refused with EUNSUPPORTED; an answer still pending
 * when the scheduler is freed arrives once, ECANCELLED. And a job queued
 * directly for a schedule (tempo_job_options_t.schedule_id), listed with
 * that schedule's results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

#define KEEP TEMPO_HOURS(1)

typedef struct listing {
    int calls;
    tempo_status_t status;
    char message[TEMPO_ERROR_MESSAGE_MAX];
    size_t count;
    char ids[64][40];
    char schedules[64][64];
    tempo_time_t finished[64];
    tempo_outcome_t outcomes[64];
} listing_t;

static void on_results(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_result_t *res,
                       size_t n)
{
    listing_t *l = ud;
    l->calls++;
    l->status = st;
    l->count = n;
    snprintf(l->message, sizeof l->message, "%s", err ? err->message : "");
    if (st != TEMPO_OK) {
        assert_non_null(err);
        assert_int_equal(n, 0);
        assert_null(res);
        return;
    }
    assert_true(n == 0 || res != NULL);
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(l->ids[i], sizeof l->ids[i], "%s", res[i].job_id);
        snprintf(l->schedules[i], sizeof l->schedules[i], "%s", res[i].schedule_id ? res[i].schedule_id : "");
        l->finished[i] = res[i].finished_at;
        l->outcomes[i] = res[i].outcome;
    }
}

/* One call, answered later (never inside it), exactly once. */
static tempo_status_t list(harness_t *h, const char *schedule_id, size_t limit, listing_t *l)
{
    memset(l, 0, sizeof *l);
    tempo_error_t err = {0};
    tempo_status_t rc = tempo_scheduler_list_results(h->s, schedule_id, limit, on_results, l, &err);
    assert_int_equal(rc, TEMPO_OK);
    assert_int_equal(l->calls, 0);
    tempo_vloop_run(h->vloop);
    assert_int_equal(l->calls, 1);
    return l->status;
}

static void stopped(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    assert_int_equal(st, TEMPO_OK);
    ++*(int *)ud;
}

/* Schedules a (every 10 s) and b (every 15 s) keep their results, c
 * (every 20 s) keeps none; one job queued directly keeps its result. The
 * scheduler runs a minute, then stops: the listings see what was kept. */
static void run_a_minute(harness_t *h)
{
    h_init(h);
    h_add_task(h, "t", 0, TEMPO_DURATION_NONE);
    const struct {
        const char *id;
        int period_s;
        tempo_duration_t keep;
    } defs[] = {{"a", 10, KEEP}, {"b", 15, KEEP}, {"c", 20, 0}};
    for (size_t i = 0; i < 3; i++) {
        tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(defs[i].period_s), TEMPO_SECONDS(defs[i].period_s));
        tempo_schedule_options_t o = h_sched_opts(defs[i].id, "t", t);
        o.job_result_expiration = defs[i].keep;
        assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
        tempo_trigger_free(t);
    }
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    jo.at = h_t0() + TEMPO_SECONDS(25);
    jo.result_expiration = KEEP;
    assert_int_equal(tempo_scheduler_add_job(h->s, &jo, h_answer_id, h, NULL), TEMPO_OK);
    h_start(h);
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(60));
    int done = 0;
    assert_int_equal(tempo_scheduler_stop(h->s, TEMPO_SECONDS(5), stopped, &done), TEMPO_OK);
    tempo_vloop_run(h->vloop);
    assert_int_equal(done, 1);
    /* 6 of a, 4 of b, 3 of c, the direct job */
    assert_int_equal(h->n_runs, 14);
}

static void test_lists_newest_first(void **state)
{
    (void)state;
    harness_t h;
    run_a_minute(&h);
    listing_t l;
    assert_int_equal(list(&h, NULL, 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 11); /* c keeps nothing */
    for (size_t i = 1; i < l.count; i++) {
        assert_true(l.finished[i - 1] >= l.finished[i]);
        if (l.finished[i - 1] == l.finished[i]) /* a and b both at 30 s and 60 s */
            assert_true(strcmp(l.ids[i - 1], l.ids[i]) < 0);
    }
    int direct = 0;
    for (size_t i = 0; i < l.count; i++) {
        assert_int_equal(l.outcomes[i], TEMPO_OUTCOME_SUCCESS);
        assert_true(strcmp(l.schedules[i], "c") != 0);
        direct += l.schedules[i][0] == '\0';
    }
    assert_int_equal(direct, 1);
    assert_int_equal(l.finished[0], h_t0() + TEMPO_SECONDS(60));

    assert_int_equal(list(&h, "a", 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 6);
    for (size_t i = 0; i < l.count; i++) {
        assert_string_equal(l.schedules[i], "a");
        assert_int_equal(l.finished[i], h_t0() + TEMPO_SECONDS(60 - 10 * (int)i));
    }
    assert_int_equal(list(&h, "b", 2, &l), TEMPO_OK);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.finished[0], h_t0() + TEMPO_SECONDS(60));
    assert_int_equal(l.finished[1], h_t0() + TEMPO_SECONDS(45));
    assert_int_equal(list(&h, "c", 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 0);
    assert_int_equal(list(&h, "no-such-schedule", 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 0);
    assert_int_equal(list(&h, NULL, 1, &l), TEMPO_OK);
    assert_int_equal(l.count, 1);
    h_free(&h);
}

/* The loop's clock hides expired results, cleaned up or not. */
static void test_expired_results_left_out(void **state)
{
    (void)state;
    harness_t h;
    run_a_minute(&h);
    listing_t l;
    /* a's first result finished at 10 s: expired one hour later. */
    tempo_vloop_advance_to(h.vloop, h_t0() + TEMPO_SECONDS(10) + KEEP);
    assert_int_equal(list(&h, "a", 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 5);
    tempo_vloop_advance_to(h.vloop, h_t0() + TEMPO_SECONDS(60) + KEEP);
    assert_int_equal(list(&h, NULL, 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 0);
    h_free(&h);
}

static void test_bad_input_no_callback(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    listing_t l = {0};
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_list_results(NULL, NULL, 0, on_results, &l, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_scheduler_list_results(h.s, "", 0, on_results, &l, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "list_results"));
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(tempo_scheduler_list_results(h.s, long_id, 0, on_results, &l, &err), TEMPO_EINVAL);
    tempo_vloop_run(h.vloop);
    assert_int_equal(l.calls, 0);
    /* A NULL callback is allowed: the answer is dropped. */
    assert_int_equal(tempo_scheduler_list_results(h.s, NULL, 0, NULL, NULL, &err), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    h_free(&h);
}

/* A store built against a header without list_results: its ops end before
 * it. The scheduler refuses the call rather than read past the table. */
static void test_store_without_the_operation(void **state)
{
    (void)state;
    tempo_store_t *store = NULL;
    assert_int_equal(tempo_memory_store_new(&store, NULL), TEMPO_OK);
    static tempo_store_ops_t older;
    older = *store->ops;
    older.size = offsetof(tempo_store_ops_t, list_results);
    older.list_results = NULL;
    store->ops = &older;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, store);
    listing_t l = {0};
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_list_results(h.s, NULL, 0, on_results, &l, &err), TEMPO_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "memory"));
    tempo_vloop_run(h.vloop);
    assert_int_equal(l.calls, 0);
    h_free(&h);
}

/* Freed before the store answered: ECANCELLED, once, from inside free. */
static void test_cancelled_by_free(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    listing_t l = {0};
    assert_int_equal(tempo_scheduler_list_results(h.s, "a", 3, on_results, &l, NULL), TEMPO_OK);
    assert_int_equal(l.calls, 0);
    tempo_scheduler_free(h.s);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.status, TEMPO_ECANCELLED);
    h.s = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(l.calls, 1);
    h_free(&h);
}

/* A job queued directly for a schedule (an extra run of it): its result
 * is listed with the schedule's, its events name the schedule. */
static void test_direct_job_of_a_schedule(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    jo.schedule_id = "";
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "schedule_id"));
    jo.schedule_id = "nightly"; /* need not exist */
    jo.result_expiration = KEEP;
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h.n_runs, 1);
    assert_string_equal(h.runs[0].schedule_id, "nightly");
    int added = 0;
    for (int i = 0; i < h.n_events; i++)
        if (h.events[i].type == TEMPO_EVENT_JOB_ADDED) {
            assert_string_equal(h.events[i].schedule_id, "nightly");
            added++;
        }
    assert_int_equal(added, 1);
    listing_t l;
    assert_int_equal(list(&h, "nightly", 0, &l), TEMPO_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.ids[0], h.runs[0].job_id);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_newest_first),
        cmocka_unit_test(test_expired_results_left_out),
        cmocka_unit_test(test_bad_input_no_callback),
        cmocka_unit_test(test_store_without_the_operation),
        cmocka_unit_test(test_cancelled_by_free),
        cmocka_unit_test(test_direct_job_of_a_schedule),
    };
    return cmocka_run_group_tests_name("core: list_results", tests, NULL, NULL);
}
