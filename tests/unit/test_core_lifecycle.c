/* Scheduler life and failure paths on virtual time: stop now, free with work
 * in flight, failing tasks, random jitter, start twice, unsubscribe inside a
 * callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

static void done_status(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    tempo_status_t *out = ud;
    *out = st;
}

static void failing_task(tempo_job_t *job, void *ud)
{
    (void)ud;
    assert_int_equal(tempo_job_fail(job, "disk full"), TEMPO_OK);
}

static void test_failing_in_loop_task(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "fails";
    to.fn = failing_task;
    assert_int_equal(tempo_scheduler_add_task(h.s, &to, NULL), TEMPO_OK);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "fails";
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_ERROR), 1);
    h_free(&h);
}

static void test_stop_now_cancels_running(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    for (int i = 0; i < 3; i++)
        assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h.n_runs, 3);
    tempo_status_t st = TEMPO_EINVAL;
    assert_int_equal(tempo_scheduler_stop_now(h.s, done_status, &st), TEMPO_OK);
    assert_int_equal(st, TEMPO_EINVAL); /* not inside the call */
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_OK);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tempo_job_complete(h.held[i], NULL), TEMPO_ECANCELLED);
        h.held[i] = NULL;
    }
    /* Stopping twice is refused; a stopped scheduler starts again. */
    assert_int_equal(tempo_scheduler_stop_now(h.s, NULL, NULL), TEMPO_ESTATE);
    h_start(&h);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_SCHEDULER_STARTED), 2);
    h_free(&h);
}

static void test_start_twice_is_refused(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_start(&h);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_start(h.s, &err), TEMPO_ESTATE);
    assert_non_null(strstr(err.message, "already started"));
    h_free(&h);
}

/* Freeing with in-loop jobs open: their handles stay valid and answer
 * ECANCELLED afterwards (ASan checks nothing is touched after free). */
static void test_free_with_open_jobs(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h.n_held, 2);
    /* A pending call is answered ECANCELLED by free. */
    tempo_status_t st = TEMPO_OK;
    assert_int_equal(tempo_scheduler_remove_schedule(h.s, "x", done_status, &st, NULL), TEMPO_OK);
    tempo_job_t *a = h.held[0], *b = h.held[1];
    h.n_held = 0;
    tempo_scheduler_free(h.s);
    h.s = NULL;
    assert_int_equal(st, TEMPO_ECANCELLED);
    assert_string_equal(tempo_job_task_id(a), "t"); /* still readable */
    assert_int_equal(tempo_job_complete(a, NULL), TEMPO_ECANCELLED);
    assert_int_equal(tempo_job_fail(b, "late"), TEMPO_ECANCELLED);
    tempo_vloop_free(h.vloop);
}

static void test_random_jitter_within_bounds(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = "j";
    o.task_id = "t";
    o.trigger = t;
    o.max_jitter = TEMPO_SECONDS(20);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(200) + TEMPO_SECONDS(30));
    assert_int_equal(h.n_runs, 200);
    tempo_duration_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < h.n_runs; i++) {
        tempo_duration_t j = h.runs[i].scheduled - (h_t0() + TEMPO_MINUTES(i + 1));
        assert_true(j >= 0 && j <= TEMPO_SECONDS(20));
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    /* 200 uniform draws cover most of the range. */
    assert_true(lo < TEMPO_SECONDS(2));
    assert_true(hi > TEMPO_SECONDS(18));
    tempo_trigger_free(t);
    h_free(&h);
}

typedef struct once {
    tempo_scheduler_t *s;
    uint64_t id;
    int calls;
} once_t;

static void unsubscribe_self(const tempo_event_t *ev, void *ud)
{
    (void)ev;
    once_t *o = ud;
    o->calls++;
    tempo_scheduler_unsubscribe(o->s, o->id);
}

static void test_unsubscribe_inside_callback(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    once_t o = {h.s, 0, 0};
    assert_int_equal(tempo_scheduler_subscribe(h.s, TEMPO_EVENT_ALL, unsubscribe_self, &o, &o.id, NULL), TEMPO_OK);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_subscribe(h.s, 0, unsubscribe_self, &o, NULL, &err), TEMPO_EINVAL);
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE); /* TASK_ADDED */
    h_start(&h);                                  /* SCHEDULER_STARTED */
    assert_int_equal(o.calls, 1);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_SCHEDULER_STARTED), 1); /* others still see events */
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failing_in_loop_task),
        cmocka_unit_test(test_stop_now_cancels_running),
        cmocka_unit_test(test_start_twice_is_refused),
        cmocka_unit_test(test_free_with_open_jobs),
        cmocka_unit_test(test_random_jitter_within_bounds),
        cmocka_unit_test(test_unsubscribe_inside_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
