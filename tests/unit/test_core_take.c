/* Jobs taken at their schedule's release (step.c, store.h
 * tempo_job_take_t): a scheduler that is also a worker runs the jobs it just
 * made without acquiring them back from the store — and only within its own
 * max_concurrent_jobs, the task's max_running_jobs, and when they are due.
 * On the memory store they go direct (no record; release_direct). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

/* The memory store with acquire_jobs counted. */
static tempo_store_ops_t counted_ops;
static const tempo_store_ops_t *memory_ops;
static void *counted_self;
static int acquire_jobs_calls;
static size_t acquire_jobs_got;
static int direct_answered; /* release_direct with a callback */
static int direct_quiet;    /* release_direct without one */
static int extended_jobs;   /* job ids extend_leases was given */

typedef struct relay {
    tempo_store_jobs_cb cb;
    void *ud;
} relay_t;

static void counted_answer(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_record_t *jobs,
                           size_t n)
{
    relay_t r = *(relay_t *)ud;
    free(ud);
    acquire_jobs_got += n;
    r.cb(r.ud, st, err, jobs, n);
}

static void counted_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                 size_t limit, const tempo_task_record_t *tasks, size_t n,
                                 tempo_store_jobs_cb cb, void *ud)
{
    relay_t *r = malloc(sizeof *r);
    assert_non_null(r);
    *r = (relay_t){cb, ud};
    acquire_jobs_calls++;
    memory_ops->acquire_jobs(self, owner, now, lease, limit, tasks, n, counted_answer, r);
}

static void counted_release_direct(void *self, void *direct, const tempo_job_result_t *result,
                                   tempo_store_status_cb cb, void *ud)
{
    if (cb)
        direct_answered++;
    else
        direct_quiet++;
    memory_ops->release_direct(self, direct, result, cb, ud);
}

static void counted_extend_leases(void *self, const char *owner, const char *const *schedule_ids, size_t sn,
                                  const char *const *job_ids, size_t jn, tempo_time_t until,
                                  tempo_store_status_cb cb, void *ud)
{
    extended_jobs += (int)jn;
    memory_ops->extend_leases(self, owner, schedule_ids, sn, job_ids, jn, until, cb, ud);
}

static tempo_store_t *counted_store(void)
{
    tempo_store_t *store = NULL;
    tempo_error_t err = {0};
    assert_int_equal(tempo_memory_store_new(&store, &err), TEMPO_OK);
    memory_ops = store->ops;
    counted_ops = *store->ops;
    counted_ops.acquire_jobs = counted_acquire_jobs;
    counted_ops.release_direct = counted_release_direct;
    counted_ops.extend_leases = counted_extend_leases;
    store->ops = &counted_ops;
    acquire_jobs_calls = 0;
    acquire_jobs_got = 0;
    direct_answered = direct_quiet = extended_jobs = 0;
    counted_self = store->self;
    return store;
}

static void add_every_second(harness_t *h, const char *id, const char *task)
{
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(1));
    tempo_schedule_options_t o = h_sched_opts(id, task, t);
    assert_int_equal(h_add_schedule(h, &o), TEMPO_OK);
    tempo_trigger_free(t);
}

/* Ten schedules, ten seconds: 100 runs, none of them acquired back. */
static void test_due_jobs_are_taken(void **state)
{
    (void)state;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, counted_store());
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        add_every_second(&h, id, "t");
    }
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(10));
    assert_int_equal(h.n_runs, 100);
    for (int i = 0; i < h.n_runs; i++)
        assert_int_equal(h.runs[i].started, h.runs[i].scheduled); /* on time */
    assert_int_equal(acquire_jobs_got, 0);
    h_free(&h);
}

/* max_running_jobs 1 and two schedules due together: one is taken, the
 * other waits queued and runs (acquired) once the first finishes. */
static void test_task_limit_holds(void **state)
{
    (void)state;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, counted_store());
    h.hold = true;
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    add_every_second(&h, "a", "t");
    add_every_second(&h, "b", "t");
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 2);
    assert_int_equal(acquire_jobs_got, 1); /* the second, from the queue */
    h_free(&h);
}

/* max_concurrent_jobs 3 and five schedules due together: three run at once,
 * the other two as slots free up. */
static void test_concurrency_limit_holds(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.max_concurrent_jobs = 3;
    h_init_store(&h, h_t0(), &so, counted_store());
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        add_every_second(&h, id, "t");
    }
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tempo_job_complete(h.held[i], NULL), TEMPO_OK);
        h.held[i] = NULL;
    }
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 5);
    assert_int_equal(acquire_jobs_got, 2);
    h_free(&h);
}

/* A scheduler-only instance takes nothing: its jobs are for workers. */
static void test_scheduler_role_takes_nothing(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.role = TEMPO_ROLE_SCHEDULER;
    h_init_store(&h, h_t0(), &so, counted_store());
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    add_every_second(&h, "a", "t");
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(3));
    assert_int_equal(h.n_runs, 0);
    assert_int_equal(acquire_jobs_calls, 0);
    h_free(&h);
}

/* ---- direct jobs ---- */

static void count_jobs(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_record_t *jobs,
                       size_t n)
{
    (void)err, (void)jobs;
    assert_int_equal(st, TEMPO_OK);
    *(size_t *)ud = n;
}

static size_t stored_jobs(harness_t *h)
{
    size_t n = SIZE_MAX;
    memory_ops->get_jobs(counted_self, NULL, 0, count_jobs, &n);
    tempo_vloop_run(h->vloop);
    assert_int_not_equal(n, SIZE_MAX);
    return n;
}

/* A running job taken direct has no record in the store, keeps no lease to
 * renew (however long it runs), and is released through release_direct —
 * answered, because someone listens for JOB_RELEASED. */
static void test_direct_job_has_no_record(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.lease_duration = TEMPO_SECONDS(4);
    h_init_store(&h, h_t0(), &so, counted_store());
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(60));
    tempo_schedule_options_t o = h_sched_opts("a", "t", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    tempo_trigger_free(t);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 1);
    assert_int_equal(stored_jobs(&h), 0);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(20)); /* five lease durations */
    assert_int_equal(extended_jobs, 0);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_STORE_ERROR), 0);
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(direct_answered, 1);
    assert_int_equal(direct_quiet, 0);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(acquire_jobs_got, 0);
    h_free(&h);
}

/* Nobody listening, no result kept, no waiter: the slot is freed at once,
 * with no answer to wait for. A subscriber to JOB_RELEASED brings the
 * answered release back. */
static void test_quiet_release(void **state)
{
    (void)state;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, counted_store());
    tempo_scheduler_unsubscribe(h.s, h.sub);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        add_every_second(&h, id, "t");
    }
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(3));
    assert_int_equal(h.n_runs, 30);
    assert_int_equal(direct_quiet, 30);
    assert_int_equal(direct_answered, 0);
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(h.s, TEMPO_EVENT_JOB_RELEASED, h_on_event, &h, &sub, NULL),
                     TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 40);
    assert_int_equal(direct_answered, 10);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 10);
    h_free(&h);
}

static void got_result(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_result_t *r)
{
    (void)err;
    tempo_outcome_t *out = ud;
    assert_int_equal(st, TEMPO_OK);
    *out = r->outcome;
}

/* A direct job whose schedule keeps results: the store keeps it — also
 * "for ever" (an expiration that overflows the clock). */
static void test_direct_result_kept(void **state)
{
    (void)state;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, counted_store());
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(60));
    tempo_schedule_options_t o = h_sched_opts("a", "t", t);
    o.job_result_expiration = TEMPO_SECONDS(600);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    o = h_sched_opts("b", "t", t);
    o.job_result_expiration = INT64_MAX;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    tempo_trigger_free(t);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(2));
    assert_int_equal(h.n_runs, 2);
    assert_int_equal(direct_answered, 2);
    for (int i = 0; i < 2; i++) {
        tempo_outcome_t outcome = TEMPO_OUTCOME_ABANDONED;
        assert_int_equal(tempo_scheduler_get_job_result(h.s, h.runs[i].job_id, got_result, &outcome, NULL),
                         TEMPO_OK);
        tempo_vloop_run(h.vloop);
        assert_int_equal(outcome, TEMPO_OUTCOME_SUCCESS);
    }
    h_free(&h);
}

/* Stopped between the step and the start of its jobs (a JOB_ADDED
 * subscriber stops it): the direct job is not lost but queued in the store,
 * and its task slot is free again. */
static bool stop_sent;

static void stop_on_added(const tempo_event_t *ev, void *ud)
{
    harness_t *h = ud;
    if (ev->type == TEMPO_EVENT_JOB_ADDED && !stop_sent) {
        stop_sent = true;
        assert_int_equal(tempo_scheduler_stop(h->s, TEMPO_SECONDS(5), h_answer_done, h), TEMPO_OK);
    }
}

static void test_stopping_queues_direct_job(void **state)
{
    (void)state;
    harness_t h;
    h_init_store(&h, h_t0(), NULL, counted_store());
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    add_every_second(&h, "a", "t");
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(h.s, TEMPO_EVENT_JOB_ADDED, stop_on_added, &h, &sub, NULL),
                     TEMPO_OK);
    h_start(&h);
    int answers = h.answers;
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 0);
    assert_int_equal(h.answers, answers + 1); /* stopped */
    assert_int_equal(h.last_status, TEMPO_OK);
    assert_int_equal(direct_quiet, 1); /* the slot */
    tempo_task_record_t task = {.id = "t", .max_running_jobs = 1, .misfire_grace_time = TEMPO_DURATION_NONE};
    size_t n = SIZE_MAX;
    memory_ops->acquire_jobs(counted_self, "other", h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(30), 10, &task, 1,
                             count_jobs, &n);
    tempo_vloop_run(h.vloop);
    assert_int_equal(n, 1); /* queued, and the task's one slot free for it */
    h_free(&h);
}

/* A store shared with other processes (here: the memory store without
 * release_direct, so not one of its own) may get jobs queued behind the
 * worker's back; a finishing job frees a slot and looks at once, not at the
 * next poll. */
static void test_shared_store_finish_looks(void **state)
{
    (void)state;
    harness_t h;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.max_concurrent_jobs = 1;
    tempo_store_t *store = counted_store();
    counted_ops.release_direct = NULL;
    h_init_store(&h, h_t0(), &so, store);
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(60));
    tempo_schedule_options_t o = h_sched_opts("a", "t", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    tempo_trigger_free(t);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1));
    assert_int_equal(h.n_runs, 1);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(1)); /* the worker found nothing queued */
    /* "Another process" queues a job, straight into the store. */
    tempo_job_record_t job = {.id = "6c1f5d9e-0000-4000-8000-000000000001", .task_id = "t",
                              .scheduled_fire_time = h_t0(), .original_fire_time = h_t0(),
                              .start_deadline = TEMPO_TIME_NONE, .created_at = h_t0()};
    memory_ops->add_job(counted_self, &job, NULL, NULL);
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.n_runs, 1); /* the one slot is busy */
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop); /* no time passes */
    assert_int_equal(h.n_runs, 2);
    assert_string_equal(h.runs[1].job_id, job.id);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_jobs_are_taken),
        cmocka_unit_test(test_task_limit_holds),
        cmocka_unit_test(test_concurrency_limit_holds),
        cmocka_unit_test(test_scheduler_role_takes_nothing),
        cmocka_unit_test(test_direct_job_has_no_record),
        cmocka_unit_test(test_quiet_release),
        cmocka_unit_test(test_direct_result_kept),
        cmocka_unit_test(test_stopping_queues_direct_job),
        cmocka_unit_test(test_shared_store_finish_looks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
