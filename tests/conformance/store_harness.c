/* Helpers of the store conformance cases (store_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop_internal.h"
#include "store/records.h"
#include "store_harness.h"

const tempo_store_factory_t *sh_factory;
bool sh_in_call;
int sh_seq;
sh_report_t sh_reports[SH_REPORTS_MAX];
int sh_report_count;

static void on_quarantine(void *ud, const char *kind, const char *id, const char *reason)
{
    (void)ud;
    if (sh_in_call)
        fail_msg("store '%s': quarantine report inside a call", sh_factory->name);
    assert_non_null(kind);
    assert_non_null(id);
    assert_non_null(reason);
    if (sh_report_count < SH_REPORTS_MAX) {
        sh_report_t *r = &sh_reports[sh_report_count];
        snprintf(r->kind, sizeof r->kind, "%s", kind);
        snprintf(r->id, sizeof r->id, "%s", id);
        snprintf(r->reason, sizeof r->reason, "%s", reason);
        r->seq = sh_seq;
    }
    sh_report_count++;
}

int sh_setup(void **state)
{
    store_h_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    tempo_error_t err;
    assert_int_equal(tempo_vloop_new(SH_T0, &h->vloop, &h->loop, &err), TEMPO_OK);
    h->store = sh_factory->make(sh_factory->ctx);
    assert_non_null(h->store);
    if (h->store->ops->start(h->store->self, h->loop, &err) != TEMPO_OK)
        fail_msg("store '%s': start: %s", sh_factory->name, err.message);
    sh_report_count = 0;
    const tempo_store_ops_t *ops = h->store->ops;
    if (ops->size > offsetof(tempo_store_ops_t, set_quarantine_cb) && ops->set_quarantine_cb)
        ops->set_quarantine_cb(h->store->self, on_quarantine, NULL);
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = SH_SEC(60);
    o.start = SH_T0;
    assert_int_equal(tempo_trigger_interval_new(&o, &h->trigger, &err), TEMPO_OK);
    sh_seq = 0;
    *state = h;
    return 0;
}

/* Stores that work on threads (SQLite, MongoDB) answer through wake-ups
 * from their threads: run the loop, and while some callback is still to
 * come, wait (in real time, bounded) for the next wake-up. A store that
 * never answers fails the case instead of hanging it. */
void sh_wait_calls(store_h_t *h, int *const *calls, size_t n)
{
    tempo_vloop_run(h->vloop);
    for (int waited_ms = 0;;) {
        size_t done = 0;
        for (size_t i = 0; i < n; i++)
            done += *calls[i] > 0;
        if (done == n)
            return;
        if (waited_ms >= SH_WAIT_MS)
            fail_msg("store '%s': %zu of %zu callbacks did not come within %d ms", sh_factory->name,
                     n - done, n, SH_WAIT_MS);
        tempo_vloop_wait(h->vloop, 50);
        waited_ms += 50;
    }
}

/* Stop (its callback once, later), free, and check nothing is left on the
 * loop: no timer, watch or queued call of the store survives it. */
int sh_teardown(void **state)
{
    store_h_t *h = *state;
    if (h->store && !h->stopped) {
        sh_result_t r = {0};
        sh_in_call = true;
        h->store->ops->stop(h->store->self, sh_status_cb, &r);
        sh_in_call = false;
        assert_int_equal(r.calls, 0);
        sh_wait_calls(h, (int *const[]){&r.calls}, 1);
        assert_int_equal(r.calls, 1);
        assert_int_equal(r.status, TEMPO_OK);
    }
    tempo_store_free(h->store); /* NULL when the case destroyed it */
    assert_int_equal(tempo__loop_pending(h->loop), 0);
    tempo_loop_free(h->loop);
    tempo_vloop_free(h->vloop);
    tempo_trigger_free(h->trigger);
    if (sh_factory->cleanup)
        sh_factory->cleanup(sh_factory->ctx);
    free(h);
    return 0;
}

void sh_result_free(sh_result_t *r)
{
    tempo__task_records_free(r->tasks, r->count);
    tempo__schedule_records_free(r->schedules, r->count);
    tempo__job_records_free(r->jobs, r->count);
    if (r->has_result)
        tempo__job_result_clear(&r->result);
    memset(r, 0, sizeof *r);
}

/* ---- callbacks ---- */

/* What every callback checks and records. A failure must explain itself. */
static void enter(sh_result_t *r, tempo_status_t status, const tempo_error_t *err)
{
    assert_false(sh_in_call); /* never inside the call that started it */
    r->calls++;
    r->seq = ++sh_seq;
    r->status = status;
    if (status != TEMPO_OK) {
        assert_non_null(err);
        assert_int_equal(err->code, status);
        assert_true(err->message[0] != '\0');
        snprintf(r->message, sizeof r->message, "%s", err->message);
    }
}

void sh_status_cb(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    enter(ud, status, err);
}

void sh_add_cb(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_store_added_t what)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    r->added = what;
}

static void tasks_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                     const tempo_task_record_t *recs, size_t count)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    assert_true(count == 0 || recs != NULL);
    assert_int_equal(tempo__task_records_dup(recs, count, &r->tasks, NULL), TEMPO_OK);
    r->count = count;
}

void sh_schedules_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                     const tempo_schedule_record_t *recs, size_t count)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    assert_true(count == 0 || recs != NULL);
    if (status != TEMPO_OK)
        assert_int_equal(count, 0);
    assert_int_equal(tempo__schedule_records_dup(recs, count, &r->schedules, NULL), TEMPO_OK);
    r->count = count;
}

void sh_jobs_cb(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_record_t *recs,
                size_t count)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    assert_true(count == 0 || recs != NULL);
    if (status != TEMPO_OK)
        assert_int_equal(count, 0);
    assert_int_equal(tempo__job_records_dup(recs, count, &r->jobs, NULL), TEMPO_OK);
    r->count = count;
}

void sh_time_cb(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_time_t when)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    r->when = when;
}

static void result_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                      const tempo_job_result_t *res)
{
    sh_result_t *r = ud;
    enter(r, status, err);
    assert_true((status == TEMPO_OK) == (res != NULL));
    if (res) {
        assert_int_equal(tempo__job_result_copy(&r->result, res, NULL), TEMPO_OK);
        r->has_result = true;
    }
}

/* ---- calls ---- */

#define OPS(h) ((h)->store->ops)
#define SELF(h) ((h)->store->self)

/* Make the call with the flag up, check it did not answer inside, run the
 * loop, check it answered once. */
#define CALL(h, r, expr)                   \
    do {                                   \
        sh_in_call = true;                 \
        expr;                              \
        sh_in_call = false;                \
        assert_int_equal((r)->calls, 0);   \
        sh_wait_calls((h), (int *const[]){&(r)->calls}, 1); \
        assert_int_equal((r)->calls, 1);   \
    } while (0)

/* Hand the result to `out`, or drop it; return the status. */
static tempo_status_t finish(sh_result_t *r, sh_result_t *out)
{
    tempo_status_t status = r->status;
    if (out)
        *out = *r;
    else
        sh_result_free(r);
    return status;
}

tempo_status_t sh_add_task(store_h_t *h, const tempo_task_record_t *task)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->add_task(SELF(h), task, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_get_tasks(store_h_t *h, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->get_tasks(SELF(h), tasks_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_remove_task(store_h_t *h, const char *id)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->remove_task(SELF(h), id, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_add_schedule(store_h_t *h, const tempo_schedule_record_t *rec, tempo_conflict_t conflict,
                               tempo_store_added_t *added)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->add_schedule(SELF(h), rec, conflict, sh_add_cb, &r));
    if (added)
        *added = r.added;
    return r.status;
}

tempo_status_t sh_get_schedules(store_h_t *h, const char *const *ids, size_t count, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->get_schedules(SELF(h), ids, count, sh_schedules_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_update_schedule(store_h_t *h, const tempo_schedule_record_t *rec)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->update_schedule(SELF(h), rec, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_remove_schedules(store_h_t *h, const char *const *ids, size_t count)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->remove_schedules(SELF(h), ids, count, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_acquire_schedules(store_h_t *h, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                    size_t limit, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->acquire_schedules(SELF(h), owner, now, lease, limit, sh_schedules_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_release_schedules(store_h_t *h, const char *owner, tempo_schedule_release_t *rel,
                                    size_t count)
{
    sh_result_t r = {0};
    for (size_t i = 0; i < count; i++)
        rel[i].status = (tempo_status_t)-1; /* must be written */
    CALL(h, &r, OPS(h)->release_schedules(SELF(h), owner, rel, count, sh_status_cb, &r));
    for (size_t i = 0; i < count; i++)
        assert_int_not_equal(rel[i].status, (tempo_status_t)-1);
    return r.status;
}

tempo_time_t sh_next_schedule_time(store_h_t *h)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->next_schedule_time(SELF(h), sh_time_cb, &r));
    assert_int_equal(r.status, TEMPO_OK);
    return r.when;
}

tempo_status_t sh_add_job(store_h_t *h, const tempo_job_record_t *job)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->add_job(SELF(h), job, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_get_jobs(store_h_t *h, const char *const *ids, size_t count, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->get_jobs(SELF(h), ids, count, sh_jobs_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_acquire_jobs(store_h_t *h, const char *owner, tempo_time_t now, tempo_duration_t lease,
                               size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                               sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r,
         OPS(h)->acquire_jobs(SELF(h), owner, now, lease, limit, tasks, task_count, sh_jobs_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_release_job(store_h_t *h, const char *owner, const char *id, int64_t fence,
                              const tempo_job_result_t *result)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->release_job(SELF(h), owner, id, fence, result, sh_status_cb, &r));
    return r.status;
}

tempo_time_t sh_next_job_time(store_h_t *h)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->next_job_time(SELF(h), sh_time_cb, &r));
    assert_int_equal(r.status, TEMPO_OK);
    return r.when;
}

tempo_status_t sh_get_job_result(store_h_t *h, const char *id, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->get_job_result(SELF(h), id, result_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_extend_leases(store_h_t *h, const char *owner, const char *const *sids, size_t sn,
                                const char *const *jids, size_t jn, tempo_time_t until)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->extend_leases(SELF(h), owner, sids, sn, jids, jn, until, sh_status_cb, &r));
    return r.status;
}

tempo_status_t sh_reap_abandoned(store_h_t *h, tempo_time_t now, sh_result_t *out)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->reap_abandoned(SELF(h), now, sh_jobs_cb, &r));
    return finish(&r, out);
}

tempo_status_t sh_cleanup(store_h_t *h, tempo_time_t now)
{
    sh_result_t r = {0};
    CALL(h, &r, OPS(h)->cleanup(SELF(h), now, sh_status_cb, &r));
    return r.status;
}

/* ---- lookups ---- */

bool sh_find_schedule(store_h_t *h, const char *id, tempo_schedule_record_t *out)
{
    sh_result_t r;
    assert_int_equal(sh_get_schedules(h, &id, 1, &r), TEMPO_OK);
    assert_true(r.count <= 1);
    bool found = r.count == 1;
    if (found) {
        assert_string_equal(r.schedules[0].id, id);
        if (out)
            assert_int_equal(tempo__schedule_record_copy(out, &r.schedules[0], NULL), TEMPO_OK);
    }
    sh_result_free(&r);
    return found;
}

bool sh_find_job(store_h_t *h, const char *id, tempo_job_record_t *out)
{
    sh_result_t r;
    assert_int_equal(sh_get_jobs(h, &id, 1, &r), TEMPO_OK);
    assert_true(r.count <= 1);
    bool found = r.count == 1;
    if (found) {
        assert_string_equal(r.jobs[0].id, id);
        if (out)
            assert_int_equal(tempo__job_record_copy(out, &r.jobs[0], NULL), TEMPO_OK);
    }
    sh_result_free(&r);
    return found;
}

bool sh_has_schedule(store_h_t *h, const char *id)
{
    return sh_find_schedule(h, id, NULL);
}

bool sh_has_job(store_h_t *h, const char *id)
{
    return sh_find_job(h, id, NULL);
}

/* ---- records ---- */

tempo_schedule_record_t sh_schedule(const store_h_t *h, const char *id, tempo_time_t next)
{
    return (tempo_schedule_record_t){
        .id = id,
        .task_id = "task-a",
        .trigger = h->trigger,
        .coalesce = TEMPO_COALESCE_LATEST,
        .misfire_grace_time = TEMPO_DURATION_NONE,
        .next_fire_time = next,
        .last_fire_time = TEMPO_TIME_NONE,
        .lease = {NULL, TEMPO_TIME_NONE, 0},
    };
}

tempo_job_record_t sh_job(const char *id, const char *task_id, const char *schedule_id, tempo_time_t at,
                          tempo_time_t created_at)
{
    return (tempo_job_record_t){
        .id = id,
        .task_id = task_id,
        .schedule_id = schedule_id,
        .scheduled_fire_time = at,
        .original_fire_time = at,
        .start_deadline = TEMPO_TIME_NONE,
        .created_at = created_at,
        .lease = {NULL, TEMPO_TIME_NONE, 0},
    };
}

tempo_task_record_t sh_task(const char *id, int max_running_jobs)
{
    return (tempo_task_record_t){
        .id = id,
        .executor = TEMPO_EXECUTOR_LOOP,
        .max_running_jobs = max_running_jobs,
        .misfire_grace_time = TEMPO_DURATION_NONE,
    };
}

tempo_job_result_t sh_outcome(tempo_outcome_t outcome, tempo_time_t finished_at)
{
    return (tempo_job_result_t){
        .outcome = outcome,
        .started_at = finished_at - SH_SEC(1),
        .finished_at = finished_at,
        .expires_at = TEMPO_TIME_NONE,
    };
}

void sh_doc(bson_t *doc, const char *key, int32_t value)
{
    bson_init(doc);
    assert_true(BSON_APPEND_INT32(doc, key, value));
}

int32_t sh_doc_int(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    assert_non_null(doc);
    assert_true(bson_iter_init_find(&it, doc, key));
    assert_true(BSON_ITER_HOLDS_INT32(&it));
    return bson_iter_int32(&it);
}
