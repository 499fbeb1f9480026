/* Scheduler behaviour on virtual time: fire times, coalescing after downtime,
 * misfire grace, jitter, limits, exhausted triggers, a year of cron across
 * DST. Every expectation is an exact instant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

static void test_interval_fires_at_exact_times(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "tick", 1, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(10), TEMPO_SECONDS(10));
    tempo_schedule_options_t o = h_sched_opts("every10", "tick", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    assert_string_equal(h.last_id, "every10");
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(60));
    assert_int_equal(h.n_runs, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(h.runs[i].scheduled, h_t0() + TEMPO_SECONDS(10 * (i + 1)));
        assert_int_equal(h.runs[i].started, h.runs[i].scheduled); /* no lag in virtual time */
        assert_string_equal(h.runs[i].schedule_id, "every10");
    }
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 6);
    tempo_trigger_free(t);
    h_free(&h);
}

/* The "a year of a cron schedule across both DST changes in a zone
 * firing exactly the expected instants": the expected list is the trigger's
 * own sequence, whose DST behaviour is checked by the trigger tests. */
static void test_year_of_cron_across_dst(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "nightly", 1, TEMPO_DURATION_NONE);
    tempo_cron_options_t co = TEMPO_CRON_OPTIONS_INIT;
    co.zone = "America/New_York";
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_cron_new("30 2 * * *", &co, &t, NULL), TEMPO_OK);
    tempo_schedule_options_t o = h_sched_opts("nightly", "nightly", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_time_t end = h_t0() + TEMPO_DAYS(365);
    tempo_vloop_advance_to(h.vloop, end);

    tempo_time_t expect = h_t0();
    int n = 0;
    while ((expect = tempo_trigger_next(t, expect)) <= end) {
        assert_true(n < h.n_runs);
        assert_int_equal(h.runs[n].scheduled, expect);
        assert_int_equal(h.runs[n].started, expect);
        n++;
    }
    assert_int_equal(h.n_runs, n);
    assert_int_equal(n, 365);
    /* 2027-03-14: 02:30 does not exist in New York; it ran at 03:00 EDT. */
    tempo_time_t gap_day = tempo_test_utc("2027-03-14T07:00:00Z");
    bool seen = false;
    for (int i = 0; i < h.n_runs; i++)
        seen |= h.runs[i].scheduled == gap_day;
    assert_true(seen);
    tempo_trigger_free(t);
    h_free(&h);
}

static void stopped_cb(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    int *n = ud;
    assert_int_equal(st, TEMPO_OK);
    (*n)++;
}

/* Stop the scheduler for `down` periods, start it again: what runs? */
static void run_downtime(tempo_coalesce_t coalesce, int *runs, tempo_time_t *first, tempo_time_t *last)
{
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = h_sched_opts("s", "t", t);
    o.coalesce = coalesce;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(90)); /* one run at +1 min */
    assert_int_equal(h.n_runs, 1);
    int stopped = 0;
    assert_int_equal(tempo_scheduler_stop(h.s, TEMPO_SECONDS(5), stopped_cb, &stopped), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(stopped, 1);
    /* Down for 10 periods: fires due at +2 .. +11 min are missed. */
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(10));
    assert_int_equal(h.n_runs, 1);
    h.n_runs = 0;
    h_start(&h);
    *runs = h.n_runs;
    *first = h.n_runs ? h.runs[0].scheduled : TEMPO_TIME_NONE;
    *last = h.n_runs ? h.runs[h.n_runs - 1].scheduled : TEMPO_TIME_NONE;
    /* After catching up, the schedule continues on its grid. */
    h.n_runs = 0;
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(1));
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(h.runs[0].scheduled, h_t0() + TEMPO_MINUTES(12));
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_coalesce_after_downtime(void **state)
{
    (void)state;
    int runs;
    tempo_time_t first, last;
    run_downtime(TEMPO_COALESCE_LATEST, &runs, &first, &last);
    assert_int_equal(runs, 1);
    assert_int_equal(first, h_t0() + TEMPO_MINUTES(11));
    run_downtime(TEMPO_COALESCE_EARLIEST, &runs, &first, &last);
    assert_int_equal(runs, 1);
    assert_int_equal(first, h_t0() + TEMPO_MINUTES(2));
    run_downtime(TEMPO_COALESCE_ALL, &runs, &first, &last);
    assert_int_equal(runs, 10);
    assert_int_equal(first, h_t0() + TEMPO_MINUTES(2));
    assert_int_equal(last, h_t0() + TEMPO_MINUTES(11));
}

static void test_misfire_grace_drops_late_jobs(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_SECONDS(30)); /* task default grace 30 s */
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = h_sched_opts("s", "t", t);
    o.coalesce = TEMPO_COALESCE_ALL;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    int stopped = 0;
    tempo_scheduler_stop(h.s, 0, stopped_cb, &stopped);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(5) + TEMPO_SECONDS(10));
    /* Back at +5:10: the fires at +1..+4 are more than 30 s late, +5 is 10 s late. */
    h_start(&h);
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(h.runs[0].scheduled, h_t0() + TEMPO_MINUTES(5));
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_MISSED_START_DEADLINE), 4);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_max_running_jobs_holds_back(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h.hold = true;
    h_add_task(&h, "slow", 1, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(1));
    tempo_schedule_options_t o = h_sched_opts("s", "slow", t);
    o.coalesce = TEMPO_COALESCE_ALL;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(3));
    /* Three jobs exist; only one may run. */
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_JOB_ADDED), 3);
    /* Finish it: the next (not dropped) starts at once. */
    h.hold = false;
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 3);
    assert_int_equal(h.runs[1].scheduled, h_t0() + TEMPO_SECONDS(2));
    assert_int_equal(h.runs[2].scheduled, h_t0() + TEMPO_SECONDS(3));
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 3);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_max_concurrent_jobs(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.max_concurrent_jobs = 2;
    h_init_opts(&h, h_t0(), &so);
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(1));
    char id[8];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "s%d", i);
        tempo_schedule_options_t o = h_sched_opts(id, "t", t);
        assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    }
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 2);
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 3);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_jitter_bounds_and_determinism(void **state)
{
    (void)state;
    tempo_time_t seen[2][20];
    for (int round = 0; round < 2; round++) {
        harness_t h;
        tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
        so.seed = 1000 + (uint64_t)round; /* different seeds: same deterministic jitter */
        h_init_opts(&h, h_t0(), &so);
        h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
        tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
        tempo_schedule_options_t o = h_sched_opts("jittery", "t", t);
        o.max_jitter = TEMPO_MINUTES(5); /* more than the period: capped below the next fire */
        o.jitter_deterministic = true;
        assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
        h_start(&h);
        tempo_vloop_advance(h.vloop, TEMPO_MINUTES(21));
        assert_true(h.n_runs >= 20);
        bool some_jitter = false;
        for (int i = 0; i < 20; i++) {
            tempo_time_t fire = h_t0() + TEMPO_MINUTES(i + 1);
            assert_true(h.runs[i].scheduled >= fire);
            assert_true(h.runs[i].scheduled < fire + TEMPO_MINUTES(1)); /* never reaches the next fire */
            assert_int_equal(h.runs[i].started, h.runs[i].scheduled);
            some_jitter |= h.runs[i].scheduled != fire;
            seen[round][i] = h.runs[i].scheduled;
        }
        assert_true(some_jitter);
        tempo_trigger_free(t);
        h_free(&h);
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[0][i], seen[1][i]);
}

/* The start deadline counts from the jittered time: jitter larger than the
 * grace time must not turn into missed deadlines. */
static void test_jitter_does_not_eat_grace(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = h_sched_opts("s", "t", t);
    o.max_jitter = TEMPO_SECONDS(30);
    o.misfire_grace_time = TEMPO_SECONDS(10);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(30) + TEMPO_SECONDS(45));
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 30);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_MISSED_START_DEADLINE), 0);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_exhausted_trigger_removes_schedule(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "once", 1, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_date_new(h_t0() + TEMPO_MINUTES(1), &t, NULL), TEMPO_OK);
    tempo_schedule_options_t o = h_sched_opts("once", "once", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(2));
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_SCHEDULE_REMOVED), 1);
    /* Gone from the store once its job is done (cleanup runs on its interval). */
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(10));
    int before = h.answers;
    assert_int_equal(tempo_scheduler_remove_schedule(h.s, "once", h_answer_done, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.answers, before + 1);
    assert_int_equal(h.last_status, TEMPO_ENOTFOUND);
    tempo_trigger_free(t);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval_fires_at_exact_times),
        cmocka_unit_test(test_year_of_cron_across_dst),
        cmocka_unit_test(test_coalesce_after_downtime),
        cmocka_unit_test(test_misfire_grace_drops_late_jobs),
        cmocka_unit_test(test_max_running_jobs_holds_back),
        cmocka_unit_test(test_max_concurrent_jobs),
        cmocka_unit_test(test_jitter_bounds_and_determinism),
        cmocka_unit_test(test_jitter_does_not_eat_grace),
        cmocka_unit_test(test_exhausted_trigger_removes_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
