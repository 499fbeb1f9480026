/* The scheduler when its store is down (DESIGN.md §5: store errors never
 * kill the scheduler). Virtual time, the memory store behind a switch
 * (tests/support/flaky_store.h): calls fail while it is down, are retried
 * with a backoff that doubles up to poll_interval, and when the store comes
 * back the scheduler catches up by itself — every fire time runs exactly
 * once, and a result that could not be stored is stored after all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"
#include "flaky_store.h"

static flaky_t flaky;

static void start_with_flaky(harness_t *h)
{
    tempo_store_t *store = flaky_new(&flaky);
    h_init_store(h, h_t0(), NULL, store); /* poll_interval: the default 10 s */
    h_add_task(h, "t", 0, TEMPO_DURATION_NONE);
}

/* Down for a minute: the step's retries back off 1, 2, 4, 8, then every
 * 10 s (poll_interval); nothing runs; then every missed fire runs once
 * (coalesce ALL) and the schedule goes on. */
static void test_down_then_catch_up(void **state)
{
    (void)state;
    harness_t *h = malloc(sizeof *h);
    assert_non_null(h);
    start_with_flaky(h);
    tempo_trigger_t *every10 = h_interval(h_t0(), TEMPO_SECONDS(10));
    tempo_schedule_options_t o = h_sched_opts("s", "t", every10);
    o.coalesce = TEMPO_COALESCE_ALL;
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    h_start(h);
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(25)); /* fires 0, 10, 20 */
    assert_int_equal(h->n_runs, 3);

    flaky.down = true;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(60));
    assert_int_equal(h->n_runs, 3);
    assert_true(h_count_events(h, TEMPO_EVENT_STORE_ERROR) > 0);
    /* The step's attempts: each gap is twice the one before, up to 10 s. */
    tempo_time_t prev = TEMPO_TIME_NONE, gaps[16] = {0};
    int n_gaps = 0;
    for (int i = 0; i < flaky.failed && i < FLAKY_MAX; i++) {
        if (strcmp(flaky.failed_op[i], "acquire_schedules") != 0)
            continue;
        if (prev != TEMPO_TIME_NONE && n_gaps < 16)
            gaps[n_gaps++] = flaky.failed_at[i] - prev;
        prev = flaky.failed_at[i];
    }
    assert_true(n_gaps >= 5);
    assert_int_equal(gaps[0], TEMPO_SECONDS(1));
    assert_int_equal(gaps[1], TEMPO_SECONDS(2));
    assert_int_equal(gaps[2], TEMPO_SECONDS(4));
    assert_int_equal(gaps[3], TEMPO_SECONDS(8));
    for (int i = 4; i < n_gaps; i++)
        assert_int_equal(gaps[i], TEMPO_SECONDS(10));

    flaky.down = false;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(15)); /* t0 + 100 s */
    /* Fires 0..100 every 10 s: 11, each exactly once. */
    assert_int_equal(h->n_runs, 11);
    for (int i = 0; i < h->n_runs; i++)
        assert_int_equal(h->runs[i].scheduled, h_t0() + TEMPO_SECONDS(10) * i);
    tempo_trigger_free(every10);
    h_free(h);
    free(h);
}

static int results_seen;
static tempo_outcome_t result_outcome;

static void got_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)ud, (void)err;
    results_seen++;
    assert_int_equal(status, TEMPO_OK);
    result_outcome = res->outcome;
}

/* A job finishes while the store is down: its release is tried again with
 * backoff, and stored once the store is back — it is not run again, and it
 * is not reported abandoned. */
static void test_release_retried(void **state)
{
    (void)state;
    harness_t *h = malloc(sizeof *h);
    assert_non_null(h);
    start_with_flaky(h);
    h->hold = true;
    tempo_trigger_t *every60 = h_interval(h_t0(), TEMPO_SECONDS(60));
    tempo_schedule_options_t o = h_sched_opts("s", "t", every60);
    o.job_result_expiration = TEMPO_MINUTES(30);
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    h_start(h);
    assert_int_equal(h->n_runs, 1);
    char job_id[40];
    snprintf(job_id, sizeof job_id, "%s", h->runs[0].job_id);

    flaky.down = true;
    assert_int_equal(tempo_job_complete(h->held[0], NULL), TEMPO_OK);
    h->held[0] = NULL;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(20));
    int release_failures = 0;
    for (int i = 0; i < flaky.failed && i < FLAKY_MAX; i++)
        release_failures += strcmp(flaky.failed_op[i], "release_job") == 0;
    assert_true(release_failures >= 3); /* 0, +1, +2, +4, +8 s */
    assert_int_equal(h_count_events(h, TEMPO_EVENT_JOB_RELEASED), 0);

    flaky.down = false;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(15)); /* before the next fire */
    assert_int_equal(h_count_outcome(h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(h_count_outcome(h, TEMPO_OUTCOME_ABANDONED), 0);
    tempo_error_t err;
    assert_int_equal(tempo_scheduler_get_job_result(h->s, job_id, got_result, NULL, &err), TEMPO_OK);
    tempo_vloop_run(h->vloop);
    assert_int_equal(results_seen, 1);
    assert_int_equal(result_outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(h->n_runs, 1); /* not run again */
    tempo_trigger_free(every60);
    h_free(h);
    free(h);
}

/* Stopping while a release waits to be retried: the stop does not wait for
 * the store forever — after its timeout it gives the release up, says so,
 * and finishes. */
static void test_stop_gives_up_retries(void **state)
{
    (void)state;
    harness_t *h = malloc(sizeof *h);
    assert_non_null(h);
    start_with_flaky(h);
    h->hold = true;
    tempo_trigger_t *every60 = h_interval(h_t0(), TEMPO_SECONDS(60));
    tempo_schedule_options_t o = h_sched_opts("s", "t", every60);
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    h_start(h);
    assert_int_equal(h->n_runs, 1);
    flaky.down = true;
    assert_int_equal(tempo_job_complete(h->held[0], NULL), TEMPO_OK);
    h->held[0] = NULL;
    tempo_vloop_run(h->vloop);
    assert_int_equal(tempo_scheduler_stop(h->s, TEMPO_SECONDS(5), h_answer_done, h), TEMPO_OK);
    int before = h->answers;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(4));
    assert_int_equal(h->answers, before); /* still trying */
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(2));
    assert_int_equal(h->answers, before + 1);
    assert_int_equal(h_count_events(h, TEMPO_EVENT_SCHEDULER_STOPPED), 1);
    tempo_trigger_free(every60);
    h_free(h);
    free(h);
}

/* A worker that cannot renew its lease looks dead to the others: its job is
 * reaped as ABANDONED after the lease, and — because the task allows it —
 * queued again for the same fire time and run once more. The old worker's
 * late completion is then refused (its lease is gone) and changes nothing. */
static void test_abandoned_retried(void **state)
{
    (void)state;
    harness_t *h = malloc(sizeof *h);
    assert_non_null(h);
    tempo_store_t *store = flaky_new(&flaky);
    h_init_store(h, h_t0(), NULL, store);
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "t";
    t.fn = h_task;
    t.userdata = h;
    t.max_running_jobs = 0;
    t.retry_abandoned = true;
    tempo_error_t err;
    assert_int_equal(tempo_scheduler_add_task(h->s, &t, &err), TEMPO_OK);
    h->hold = true;
    tempo_trigger_t *hourly = h_interval(h_t0(), TEMPO_HOURS(1));
    tempo_schedule_options_t o = h_sched_opts("s", "t", hourly);
    o.job_result_expiration = TEMPO_HOURS(2);
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    h_start(h);
    assert_int_equal(h->n_runs, 1);
    flaky.fail_extend = true;
    /* Lease 30 s, reaping every lease duration: reaped at +30 s, run again
     * at once (the retry holds a new 30 s lease). */
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(45));
    flaky.fail_extend = false;
    assert_int_equal(h_count_outcome(h, TEMPO_OUTCOME_ABANDONED), 1);
    assert_int_equal(h->n_runs, 2);
    assert_int_equal(h->runs[1].scheduled, h->runs[0].scheduled);
    assert_string_not_equal(h->runs[1].job_id, h->runs[0].job_id);
    /* The first worker finishes late: refused, nothing recorded. */
    assert_int_equal(tempo_job_complete(h->held[0], NULL), TEMPO_OK);
    h->held[0] = NULL;
    assert_int_equal(tempo_job_complete(h->held[1], NULL), TEMPO_OK);
    h->held[1] = NULL;
    tempo_vloop_run(h->vloop);
    assert_int_equal(h_count_outcome(h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(h->n_runs, 2);
    tempo_trigger_free(hourly);
    h_free(h);
    free(h);
}

/* Without retry_abandoned (the default) an abandoned job is not run again. */
static void test_abandoned_not_retried_by_default(void **state)
{
    (void)state;
    harness_t *h = malloc(sizeof *h);
    assert_non_null(h);
    start_with_flaky(h);
    h->hold = true;
    tempo_trigger_t *hourly = h_interval(h_t0(), TEMPO_HOURS(1));
    tempo_schedule_options_t o = h_sched_opts("s", "t", hourly);
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    h_start(h);
    flaky.fail_extend = true;
    tempo_vloop_advance(h->vloop, TEMPO_SECONDS(61));
    assert_int_equal(h_count_outcome(h, TEMPO_OUTCOME_ABANDONED), 1);
    assert_int_equal(h->n_runs, 1);
    tempo_trigger_free(hourly);
    h_free(h);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_then_catch_up),
        cmocka_unit_test(test_release_retried),
        cmocka_unit_test(test_stop_gives_up_retries),
        cmocka_unit_test(test_abandoned_retried),
        cmocka_unit_test(test_abandoned_not_retried_by_default),
    };
    return cmocka_run_group_tests_name("core: store down", tests, NULL, NULL);
}
