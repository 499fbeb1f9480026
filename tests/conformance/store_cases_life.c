/* Conformance cases: tasks, and the life of calls — deferred callbacks,
 * exactly once, never re-entrant, stop with calls in flight, destroy
 * dropping what was not delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "store/records.h"
#include "store_cases_internal.h"

void sl_tasks(void **state)
{
    store_h_t *h = *state;
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    bson_t meta;
    sh_doc(&meta, "team", 4);
    tempo_task_record_t b = sh_task("task-b", 3);
    b.executor = TEMPO_EXECUTOR_THREAD;
    b.misfire_grace_time = TEMPO_SECONDS(15);
    b.metadata = &meta;
    assert_int_equal(sh_add_task(h, &b), TEMPO_OK);
    tempo_task_record_t a = sh_task("task-a", 1);
    assert_int_equal(sh_add_task(h, &a), TEMPO_OK);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.tasks[0].id, "task-a");
    assert_string_equal(r.tasks[1].id, "task-b");
    assert_int_equal(r.tasks[1].executor, TEMPO_EXECUTOR_THREAD);
    assert_int_equal(r.tasks[1].max_running_jobs, 3);
    assert_int_equal(r.tasks[1].misfire_grace_time, TEMPO_SECONDS(15));
    assert_int_equal(sh_doc_int(r.tasks[1].metadata, "team"), 4);
    assert_int_equal(r.tasks[0].misfire_grace_time, TEMPO_DURATION_NONE);
    sh_result_free(&r);
    /* Adding again replaces. */
    a.max_running_jobs = 9;
    assert_int_equal(sh_add_task(h, &a), TEMPO_OK);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.tasks[0].max_running_jobs, 9);
    sh_result_free(&r);
    assert_int_equal(sh_remove_task(h, "task-b"), TEMPO_OK);
    assert_int_equal(sh_remove_task(h, "task-b"), TEMPO_ENOTFOUND);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.tasks[0].id, "task-a");
    sh_result_free(&r);
    /* Bad input. */
    tempo_task_record_t bad = sh_task("", 1);
    assert_int_equal(sh_add_task(h, &bad), TEMPO_EINVAL);
    bad = sh_task("bad", -1);
    assert_int_equal(sh_add_task(h, &bad), TEMPO_EINVAL);
    bad = sh_task("bad", 1);
    bad.misfire_grace_time = -5;
    assert_int_equal(sh_add_task(h, &bad), TEMPO_EINVAL);
    assert_int_equal(sh_add_task(h, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_remove_task(h, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    bson_destroy(&meta);
}

/* Several calls in flight: none answers inside its call; each answers once;
 * each sees the state as of its own call. */
void sl_deferred_once(void **state)
{
    store_h_t *h = *state;
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0 - 1);
    sh_result_t added = {0}, listed = {0}, next = {0}, acquired = {0}, again = {0};
    sh_in_call = true;
    h->store->ops->add_schedule(h->store->self, &rec, TEMPO_CONFLICT_ERROR, sh_add_cb, &added);
    h->store->ops->get_schedules(h->store->self, NULL, 0, sh_schedules_cb, &listed);
    h->store->ops->next_schedule_time(h->store->self, sh_time_cb, &next);
    h->store->ops->acquire_schedules(h->store->self, "w", SH_T0, SH_SEC(30), 5, sh_schedules_cb, &acquired);
    h->store->ops->add_schedule(h->store->self, &rec, TEMPO_CONFLICT_ERROR, sh_add_cb, &again);
    sh_in_call = false;
    assert_int_equal(added.calls + listed.calls + next.calls + acquired.calls + again.calls, 0);
    sh_wait_calls(h, (int *const[]){&added.calls, &listed.calls, &next.calls, &acquired.calls, &again.calls}, 5);
    assert_int_equal(added.calls, 1);
    assert_int_equal(added.status, TEMPO_OK);
    assert_int_equal(listed.calls, 1);
    assert_int_equal(listed.count, 1);
    assert_null(listed.schedules[0].lease.owner); /* listed before the acquisition */
    assert_int_equal(next.calls, 1);
    assert_int_equal(next.when, SH_T0 - 1);
    assert_int_equal(acquired.calls, 1);
    assert_int_equal(acquired.count, 1);
    assert_int_equal(again.calls, 1);
    assert_int_equal(again.status, TEMPO_EEXIST);
    /* Nothing more arrives later. */
    tempo_vloop_advance(h->vloop, SH_SEC(3600));
    assert_int_equal(added.calls + listed.calls + next.calls + acquired.calls + again.calls, 5);
    sh_result_free(&listed);
    sh_result_free(&acquired);
}

/* A callback that calls the store: the inner call answers later, too. */
typedef struct chain {
    store_h_t *h;
    sh_result_t outer, inner;
} chain_t;

static void chain_outer(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_store_added_t what)
{
    chain_t *c = ud;
    sh_add_cb(&c->outer, status, err, what);
    sh_in_call = true;
    c->h->store->ops->get_schedules(c->h->store->self, NULL, 0, sh_schedules_cb, &c->inner);
    sh_in_call = false;
    assert_int_equal(c->inner.calls, 0);
}

void sl_call_from_callback(void **state)
{
    store_h_t *h = *state;
    chain_t c = {.h = h};
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0);
    sh_in_call = true;
    h->store->ops->add_schedule(h->store->self, &rec, TEMPO_CONFLICT_ERROR, chain_outer, &c);
    sh_in_call = false;
    sh_wait_calls(h, (int *const[]){&c.outer.calls, &c.inner.calls}, 2);
    assert_int_equal(c.outer.calls, 1);
    assert_int_equal(c.inner.calls, 1);
    assert_true(c.inner.seq > c.outer.seq);
    assert_int_equal(c.inner.count, 1);
    sh_result_free(&c.inner);
}

/* stop() with calls in flight: every callback runs exactly once, then stop's
 * — and nothing after it. A call made by a callback while stopping is
 * answered (OK or ECANCELLED) before stop's callback too. */
typedef struct stopping {
    store_h_t *h;
    sh_result_t first, late;
} stopping_t;

static void stopping_first(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    stopping_t *s = ud;
    sh_status_cb(&s->first, status, err);
    sh_in_call = true;
    s->h->store->ops->next_job_time(s->h->store->self, sh_time_cb, &s->late);
    sh_in_call = false;
}

void sl_stop_in_flight(void **state)
{
    store_h_t *h = *state;
    stopping_t s = {.h = h};
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0 - 1);
    tempo_job_record_t job = sh_job("j", "task-a", NULL, SH_T0, SH_T0);
    sh_result_t added = {0}, acquired = {0}, listed = {0}, stopped = {0};
    sh_in_call = true;
    h->store->ops->add_schedule(h->store->self, &rec, TEMPO_CONFLICT_ERROR, sh_add_cb, &added);
    h->store->ops->acquire_schedules(h->store->self, "w", SH_T0, SH_SEC(30), 5, sh_schedules_cb, &acquired);
    h->store->ops->add_job(h->store->self, &job, stopping_first, &s);
    h->store->ops->get_jobs(h->store->self, NULL, 0, sh_jobs_cb, &listed);
    h->store->ops->stop(h->store->self, sh_status_cb, &stopped);
    sh_in_call = false;
    assert_int_equal(added.calls + acquired.calls + s.first.calls + listed.calls + stopped.calls, 0);
    sh_wait_calls(h, (int *const[]){&stopped.calls}, 1);
    h->stopped = true;
    assert_int_equal(added.calls, 1);
    assert_int_equal(acquired.calls, 1);
    assert_int_equal(s.first.calls, 1);
    assert_int_equal(listed.calls, 1);
    assert_int_equal(s.late.calls, 1);
    assert_int_equal(stopped.calls, 1);
    assert_int_equal(stopped.status, TEMPO_OK);
    /* Operations that could complete, did (with their real answers). */
    assert_true(added.status == TEMPO_OK || added.status == TEMPO_ECANCELLED);
    if (acquired.status == TEMPO_OK)
        assert_true(acquired.count <= 1);
    assert_true(s.late.status == TEMPO_OK || s.late.status == TEMPO_ECANCELLED);
    /* stop's callback is the last one. */
    int last = stopped.seq;
    assert_true(added.seq < last && acquired.seq < last && s.first.seq < last && listed.seq < last &&
                s.late.seq < last);
    tempo_vloop_advance(h->vloop, SH_SEC(3600));
    assert_int_equal(added.calls + acquired.calls + s.first.calls + listed.calls + s.late.calls +
                         stopped.calls,
                     6);
    assert_int_equal(stopped.seq, sh_seq);
    sh_result_free(&acquired);
    sh_result_free(&listed);
}

/* destroy() at any time after start drops what was not delivered: none of
 * those callbacks ever runs, and nothing of the store stays on the loop
 * (what tempo_scheduler_free relies on). */
void sl_destroy_drops(void **state)
{
    store_h_t *h = *state;
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0 - 1);
    tempo_job_record_t job = sh_job("j", "task-a", NULL, SH_T0, SH_T0);
    assert_int_equal(sh_add_job(h, &job), TEMPO_OK);
    sh_result_t added = {0}, acquired = {0}, jobs = {0}, stopped = {0};
    tempo_task_record_t task = sh_task("task-a", 0);
    sh_in_call = true;
    h->store->ops->add_schedule(h->store->self, &rec, TEMPO_CONFLICT_ERROR, sh_add_cb, &added);
    h->store->ops->acquire_schedules(h->store->self, "w", SH_T0, SH_SEC(30), 5, sh_schedules_cb, &acquired);
    h->store->ops->acquire_jobs(h->store->self, "w", SH_T0, SH_SEC(30), 5, &task, 1, sh_jobs_cb, &jobs);
    h->store->ops->stop(h->store->self, sh_status_cb, &stopped);
    tempo_store_free(h->store);
    sh_in_call = false;
    h->store = NULL;
    tempo_vloop_advance(h->vloop, SH_SEC(3600));
    assert_int_equal(added.calls + acquired.calls + jobs.calls + stopped.calls, 0);
}
