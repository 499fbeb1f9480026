/* Roles, rescheduling and result expiration on virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

static void count_cb(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    tempo_status_t *out = ud;
    *out = st;
}

static void result_cb(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)err;
    (void)res;
    tempo_status_t *out = ud;
    *out = st;
}

static void add_every_minute(harness_t *h, const char *id)
{
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = id;
    o.task_id = "t";
    o.trigger = t;
    o.coalesce = TEMPO_COALESCE_ALL;
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    tempo_trigger_free(t);
}

static void test_scheduler_role_runs_nothing(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.role = TEMPO_ROLE_SCHEDULER;
    h_init_opts(&h, h_t0(), &so);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    add_every_minute(&h, "s");
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(3));
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_JOB_ADDED), 3);
    assert_int_equal(h.n_runs, 0);
    h_free(&h);
}

static void test_worker_role_processes_no_schedules(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.role = TEMPO_ROLE_WORKER;
    h_init_opts(&h, h_t0(), &so);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    add_every_minute(&h, "s");
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(3));
    assert_int_equal(h.n_runs, 1); /* the queued job only */
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_JOB_ADDED), 1);
    h_free(&h);
}

static void test_reschedule(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    add_every_minute(&h, "s");
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(2));
    assert_int_equal(h.n_runs, 2);
    tempo_trigger_t *hourly = h_interval(h_t0() + TEMPO_HOURS(1), TEMPO_HOURS(1));
    tempo_status_t st = TEMPO_EINVAL;
    assert_int_equal(tempo_scheduler_reschedule(h.s, "s", hourly, count_cb, &st, NULL), TEMPO_OK);
    tempo_trigger_free(hourly); /* the schedule keeps its own reference */
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(59));
    assert_int_equal(h.n_runs, 3);
    assert_int_equal(h.runs[2].scheduled, h_t0() + TEMPO_HOURS(1));
    /* Unknown id: through the callback. */
    assert_int_equal(tempo_scheduler_reschedule(h.s, "s", NULL, count_cb, &st, NULL), TEMPO_EINVAL); /* no trigger */
    h_free(&h);
}

static void test_result_expiration(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.cleanup_interval = TEMPO_MINUTES(1);
    h_init_opts(&h, h_t0(), &so);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    jo.result_expiration = TEMPO_MINUTES(10);
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    char kept[64];
    snprintf(kept, sizeof kept, "%s", h.last_id);
    jo.result_expiration = 0;
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    char dropped[64];
    snprintf(dropped, sizeof dropped, "%s", h.last_id);
    h_start(&h);
    assert_int_equal(h.n_runs, 2);

    tempo_status_t st = TEMPO_EINVAL;
    assert_int_equal(tempo_scheduler_get_job_result(h.s, kept, result_cb, &st, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_OK);
    assert_int_equal(tempo_scheduler_get_job_result(h.s, dropped, result_cb, &st, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_ENOTFOUND); /* expiration 0: no result kept */

    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(9));
    assert_int_equal(tempo_scheduler_get_job_result(h.s, kept, result_cb, &st, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(2)); /* expired, and a cleanup ran */
    assert_int_equal(tempo_scheduler_get_job_result(h.s, kept, result_cb, &st, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_ENOTFOUND);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scheduler_role_runs_nothing),
        cmocka_unit_test(test_worker_role_processes_no_schedules),
        cmocka_unit_test(test_reschedule),
        cmocka_unit_test(test_result_expiration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
