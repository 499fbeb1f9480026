/* Jobs taken at their schedule's release (step.c, store.h
 * tempo_job_take_t): a scheduler that is also a worker runs the jobs it just
 * made without acquiring them back from the store — and only within its own
 * max_concurrent_jobs, the task's max_running_jobs, and when they are due. */
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
static int acquire_jobs_calls;
static size_t acquire_jobs_got;

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

static tempo_store_t *counted_store(void)
{
    tempo_store_t *store = NULL;
    tempo_error_t err = {0};
    assert_int_equal(tempo_memory_store_new(&store, &err), TEMPO_OK);
    memory_ops = store->ops;
    counted_ops = *store->ops;
    counted_ops.acquire_jobs = counted_acquire_jobs;
    store->ops = &counted_ops;
    acquire_jobs_calls = 0;
    acquire_jobs_got = 0;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_jobs_are_taken),
        cmocka_unit_test(test_task_limit_holds),
        cmocka_unit_test(test_concurrency_limit_holds),
        cmocka_unit_test(test_scheduler_role_takes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
