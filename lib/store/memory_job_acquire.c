/* Acquiring, releasing and reaping jobs in the memory store.
 *
 * acquire_jobs merges the queues of the tasks the worker listed: a small
 * heap holds each listed task under the key of its first queued job, and
 * each step takes the least. A task leaves the merge when its queue is empty
 * or it reaches its max_running_jobs (running jobs of every owner, plus what
 * this call took) — so its remaining jobs stay queued and are never looked
 * at. Cost: O(t log t + k (log t + log q)) for t listed tasks, k jobs taken,
 * q jobs per queue; tasks not listed and jobs of tasks at their limit cost
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

static void merge_moved(void *item, size_t index)
{
    ((mem_task_t *)item)->merge_pos = (uint32_t)index;
}

/* Tasks whose first jobs have equal keys: the job order decides. */
static int merge_tie(const void *a, const void *b)
{
    const mem_task_t *x = a, *y = b;
    return tempo__mem_job_tie(tempo__heap_top(&x->queue)->item, tempo__heap_top(&y->queue)->item);
}

static tempo_status_t check_tasks(const tempo_task_record_t *tasks, size_t count, tempo_error_t *err)
{
    if (count > 0 && !tasks)
        return tempo__error_set(err, TEMPO_EINVAL, "tasks is NULL but task_count is %zu", count);
    for (size_t i = 0; i < count; i++) {
        if (!tempo__id_ok(tasks[i].id))
            return tempo__error_set(err, TEMPO_EINVAL, "tasks[%zu].id is %s", i,
                                    tasks[i].id ? "empty" : "NULL");
        if (tasks[i].max_running_jobs < 0)
            return tempo__error_set(err, TEMPO_EINVAL,
                                    "tasks[%zu] ('%s'): max_running_jobs must be >= 0, got %d", i,
                                    tasks[i].id, tasks[i].max_running_jobs);
    }
    return TEMPO_OK;
}

static bool at_limit(const mem_task_t *t)
{
    return t->merge_max != 0 && (uint64_t)t->running + t->taken >= t->merge_max;
}

/* Put each listed task that has queued jobs and a free slot into the merge
 * heap (room reserved); a task listed twice counts once, with its first
 * limit. */
static void merge_fill(mem_store_t *st, const tempo_task_record_t *tasks, size_t count, tempo__heap_t *merge)
{
    st->stamp++;
    for (size_t i = 0; i < count; i++) {
        mem_task_t *t = tempo__hmap_get(&st->tasks, tasks[i].id);
        if (!t || t->stamp == st->stamp)
            continue;
        t->stamp = st->stamp;
        t->merge_max = (uint32_t)tasks[i].max_running_jobs;
        t->taken = 0;
        if (t->queue.count == 0 || at_limit(t))
            continue;
        tempo__heap_push(merge, tempo__heap_top(&t->queue)->key, t);
    }
}

/* Back to their queues, which always have room for their task's jobs. */
static void unpick(mem_job_t **picked, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tempo__heap_push(&picked[i]->task->queue, tempo__mem_job_order(picked[i]), picked[i]);
}

/* Pop up to `limit` due jobs in order from the merged queues into *out, an
 * array that grows as it fills (a huge limit with few jobs due costs
 * little). False when out of memory, with nothing popped. */
static bool merge_take(tempo__heap_t *merge, tempo_time_t now, size_t limit, mem_job_t ***out, size_t *n)
{
    mem_job_t **picked = NULL;
    size_t cap = 0;
    const tempo__heap_node_t *top;
    *n = 0;
    while (*n < limit && (top = tempo__heap_top(merge)) != NULL && top->key <= now) {
        if (*n == cap) {
            size_t want = cap ? cap * 2 : 64;
            cap = want < limit ? want : limit;
            mem_job_t **grown = realloc(picked, cap * sizeof *grown);
            if (!grown) {
                unpick(picked, *n);
                free(picked);
                *n = 0;
                return false;
            }
            picked = grown;
        }
        mem_task_t *t = top->item;
        picked[(*n)++] = tempo__heap_pop(&t->queue);
        t->taken++;
        if (t->queue.count == 0 || at_limit(t))
            tempo__heap_remove(merge, t->merge_pos);
        else
            tempo__heap_update(merge, t->merge_pos, tempo__heap_top(&t->queue)->key);
    }
    *out = picked;
    return true;
}

static void lease_picked(mem_store_t *st, mem_job_t **picked, size_t n, mem_name_t *owner, tempo_time_t until)
{
    owner->refs += (uint32_t)(n - 1); /* one reference was taken already */
    for (size_t i = 0; i < n; i++) {
        mem_job_t *j = picked[i];
        j->owner = owner; /* queued jobs hold no lease (lapsed ones are not queued) */
        j->until = until;
        j->fence++;
        j->where = MEM_RUNNING;
        tempo__heap_push(&st->job_leases, until, j);
        j->task->running++;
    }
    for (size_t i = 0; i < n; i++)
        tempo__mem_task_touch(st, picked[i]->task);
}

/* Snapshot the picked jobs as they will be once leased, then lease them; on
 * failure put them back. */
static tempo_status_t lease_or_undo(mem_store_t *st, mem_job_t **picked, size_t n, const char *owner,
                                    tempo_time_t until, mem_op_t *op)
{
    tempo_job_record_t *recs = calloc(n, sizeof *recs);
    mem_name_t *name = recs && tempo__heap_reserve(&st->job_leases, st->job_leases.count + n)
                           ? tempo__mem_owner_ref(st, owner)
                           : NULL;
    tempo_status_t rc = name ? TEMPO_OK : tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        tempo_lease_t lease = {owner, until, picked[i]->fence + 1};
        rc = tempo__mem_job_snapshot(picked[i], &lease, &recs[i], &op->err);
    }
    if (rc == TEMPO_OK) {
        lease_picked(st, picked, n, name, until);
        op->out.list.recs = recs;
        op->out.list.count = n;
        return TEMPO_OK;
    }
    unpick(picked, n);
    if (name)
        tempo__mem_name_unref(&st->owners, name);
    tempo__job_records_free(recs, n);
    return rc;
}

static tempo_status_t acquire_jobs(mem_store_t *st, const char *owner, tempo_time_t now,
                                   tempo_duration_t lease, size_t limit, const tempo_task_record_t *tasks,
                                   size_t task_count, mem_op_t *op)
{
    tempo_status_t rc = tempo__mem_check_lease_args(owner, now, lease, &op->err);
    if (rc == TEMPO_OK)
        rc = check_tasks(tasks, task_count, &op->err);
    if (rc != TEMPO_OK)
        return rc;
    tempo__mem_jobs_expire(st, now);
    if (limit == 0 || task_count == 0)
        return TEMPO_OK;
    tempo__heap_t merge;
    tempo__heap_init(&merge, merge_tie, merge_moved);
    if (!tempo__heap_reserve(&merge, task_count))
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    merge_fill(st, tasks, task_count, &merge);
    mem_job_t **picked = NULL;
    size_t n = 0;
    if (!merge_take(&merge, now, limit, &picked, &n))
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    else if (n > 0)
        rc = lease_or_undo(st, picked, n, owner, now + lease, op);
    free(picked);
    tempo__heap_destroy(&merge);
    return rc;
}

void tempo__mem_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                             size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                             tempo_store_jobs_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_JOBS, "acquire_jobs", (mem_cb_t){.jobs = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = acquire_jobs(self, owner, now, lease, limit, tasks, task_count, op);
    tempo__mem_op_end(op);
}

/* ---- release ---- */

static tempo_status_t check_holder(const mem_job_t *j, const char *owner, const char *id, int64_t fence,
                                   tempo_error_t *err)
{
    if (!j)
        return tempo__error_set(err, TEMPO_ELEASE,
                                "job '%s' is not held by '%s': it does not exist (released already, or "
                                "reaped after its lease expired)",
                                id, owner);
    if (!tempo__mem_owner_is(j->owner, owner))
        return tempo__error_set(err, TEMPO_ELEASE, "job '%s' is held by %s%s%s, not by '%s'", id,
                                j->owner ? "'" : "", j->owner ? j->owner->str : "nobody", j->owner ? "'" : "",
                                owner);
    if (j->fence != fence)
        return tempo__error_set(err, TEMPO_ELEASE,
                                "job '%s': fence %lld is stale (it was acquired again; the fence is now "
                                "%lld)",
                                id, (long long)fence, (long long)j->fence);
    return TEMPO_OK;
}

static tempo_status_t release_job(mem_store_t *st, const char *owner, const char *job_id, int64_t fence,
                                  const tempo_job_result_t *result, tempo_error_t *err)
{
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (!tempo__id_ok(job_id))
        return tempo__error_set(err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    tempo_status_t rc = tempo__job_result_check(result, err);
    if (rc != TEMPO_OK)
        return rc;
    mem_job_t *j = tempo__hmap_get(&st->jobs, job_id);
    rc = check_holder(j, owner, job_id, fence, err);
    if (rc != TEMPO_OK)
        return rc;
    mem_result_t *r = NULL;
    if (j->result_expiration > 0) {
        if (!tempo__mem_results_reserve(st, 1))
            return tempo__error_set(err, TEMPO_ENOMEM, "out of memory storing the result of job '%s'",
                                    job_id);
        rc = tempo__mem_result_prepare(j, result, &r, err);
        if (rc != TEMPO_OK)
            return rc;
        tempo__mem_result_store(st, r);
    }
    tempo__mem_job_delete(st, j);
    return TEMPO_OK;
}

void tempo__mem_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                            const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "release_job", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = release_job(self, owner, job_id, fence, result, &op->err);
    tempo__mem_op_end(op);
}

/* ---- jobs taken direct (memory_release.c) ---- */

/* The slot first, whatever else happens: a store that is stopping or cannot
 * keep the result must not keep the task's slot for ever either. */
static void direct_end(mem_store_t *st, mem_task_t *task)
{
    task->running--;
    st->direct_jobs--;
    tempo__mem_task_unref(st, task);
}

static tempo_status_t keep_direct_result(mem_store_t *st, const tempo_job_result_t *result, tempo_error_t *err)
{
    tempo_status_t rc = tempo__job_result_check(result, err);
    if (rc != TEMPO_OK || result->expires_at <= result->finished_at)
        return rc;
    if (!tempo__mem_results_reserve(st, 1))
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory storing the result of job '%s'",
                                result->job_id);
    mem_result_t *r = malloc(sizeof *r);
    if (!r)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory storing the result of job '%s'",
                                result->job_id);
    rc = tempo__job_result_copy(&r->rec, result, err);
    if (rc != TEMPO_OK) {
        free(r);
        return rc;
    }
    tempo__mem_result_store(st, r);
    return TEMPO_OK;
}

void tempo__mem_release_direct(void *self, void *direct, const tempo_job_result_t *result,
                               tempo_store_status_cb cb, void *ud)
{
    mem_store_t *st = self;
    if (direct && !st->destroyed)
        direct_end(st, direct);
    if (!cb)
        return;
    mem_op_t *op = tempo__mem_op_begin(st, MEM_OP_STATUS, "release_direct", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && !direct)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "direct is NULL");
    if (op->status == TEMPO_OK && result)
        op->status = keep_direct_result(st, result, &op->err);
    tempo__mem_op_end(op);
}

/* ---- next time ---- */

void tempo__mem_next_job_time(void *self, tempo_store_time_cb cb, void *ud)
{
    mem_store_t *st = self;
    mem_op_t *op = tempo__mem_op_begin(st, MEM_OP_TIME, "next_job_time", (mem_cb_t){.time = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK) {
        const tempo__heap_node_t *queued = tempo__heap_top(&st->task_tops);
        op->out.when = queued ? queued->key : TEMPO_TIME_NONE;
    }
    tempo__mem_op_end(op);
}

/* ---- reap ---- */

/* The ABANDONED result of a job whose lease expired. */
static tempo_status_t abandoned_result(const mem_job_t *j, tempo_time_t now,
                                       mem_result_t **out, tempo_error_t *err)
{
    char until[48], message[160];
    tempo_time_format(j->until, NULL, until, sizeof until);
    snprintf(message, sizeof message, "abandoned: the lease of '%s' expired at %s before the job finished",
             j->owner ? j->owner->str : "?", until);
    tempo_job_result_t result = {
        .outcome = TEMPO_OUTCOME_ABANDONED,
        .started_at = TEMPO_TIME_NONE,
        .finished_at = now,
        .error = message,
    };
    return tempo__mem_result_prepare(j, &result, out, err);
}

typedef struct reaped {
    mem_job_t **jobs;
    mem_result_t **results;
    tempo_job_record_t *recs;
    size_t n;
} reaped_t;

static void reaped_free(reaped_t *r)
{
    if (r->results)
        for (size_t i = 0; i < r->n; i++)
            if (r->results[i])
                tempo__mem_result_discard(r->results[i]);
    tempo__job_records_free(r->recs, r->n);
    free(r->jobs);
    free(r->results);
}

/* Snapshots and results for every lapsed job; all or nothing. */
static tempo_status_t reap_prepare(mem_store_t *st, tempo_time_t now, reaped_t *r, tempo_error_t *err)
{
    r->n = st->lapsed_count;
    r->jobs = malloc(r->n * sizeof *r->jobs);
    r->results = calloc(r->n, sizeof *r->results);
    r->recs = calloc(r->n, sizeof *r->recs);
    if (!r->jobs || !r->results || !r->recs || !tempo__mem_results_reserve(st, r->n))
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory reaping %zu jobs", r->n);
    size_t i = 0;
    for (mem_job_t *j = st->lapsed; j; j = j->lapsed_next, i++) {
        r->jobs[i] = j;
        tempo_status_t rc = tempo__mem_job_snapshot(j, NULL, &r->recs[i], err);
        if (rc == TEMPO_OK && j->result_expiration > 0)
            rc = abandoned_result(j, now, &r->results[i], err);
        if (rc != TEMPO_OK)
            return rc;
    }
    return TEMPO_OK;
}

static tempo_status_t reap(mem_store_t *st, tempo_time_t now, mem_op_t *op)
{
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    tempo__mem_jobs_expire(st, now);
    if (st->lapsed_count == 0)
        return TEMPO_OK;
    reaped_t r = {0};
    tempo_status_t rc = reap_prepare(st, now, &r, &op->err);
    if (rc != TEMPO_OK) {
        reaped_free(&r);
        return rc;
    }
    for (size_t i = 0; i < r.n; i++) {
        if (r.results[i])
            tempo__mem_result_store(st, r.results[i]);
        r.results[i] = NULL;
        tempo__mem_job_delete(st, r.jobs[i]);
    }
    op->out.list.recs = r.recs;
    op->out.list.count = r.n;
    r.recs = NULL;
    reaped_free(&r);
    return TEMPO_OK;
}

void tempo__mem_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_JOBS, "reap_abandoned", (mem_cb_t){.jobs = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = reap(self, now, op);
    tempo__mem_op_end(op);
}
