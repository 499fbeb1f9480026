/* Job records in the memory store: their queues and their leases.
 *
 * Each task id has its own queue (a heap in its interned entry) ordered by
 * the job's effective fire time — scheduled_fire_time, or created_at for a
 * job queued "now" (NONE) — then created_at, then id. Per-task queues are
 * what let acquire_jobs skip a task at its max_running_jobs, or a task the
 * worker does not run, without looking at any of its jobs
 * (memory_job_acquire.c).
 *
 * A running job sits in st->job_leases by lease expiry and counts in its
 * task's `running`. When an operation at `now` finds leases expired
 * (tempo__mem_jobs_expire), those jobs lapse: the task's slots come back, so
 * a dead worker cannot keep a task at its limit (APScheduler #1110), and the
 * jobs wait on st->lapsed, with the expired lease still on record, until
 * they are reaped (ABANDONED), or their owner, back in time, extends or
 * releases them. They are not queued again: whether a job whose worker died
 * runs again is its task's choice (the scheduler re-queues it on reaping). */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

const char *tempo__mem_job_key(const void *item)
{
    return ((const mem_job_t *)item)->id;
}

int64_t tempo__mem_job_order(const mem_job_t *j)
{
    return j->scheduled_fire_time != TEMPO_TIME_NONE ? j->scheduled_fire_time : j->created_at;
}

int tempo__mem_job_tie(const void *a, const void *b)
{
    const mem_job_t *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

void tempo__mem_job_moved(void *item, size_t index)
{
    ((mem_job_t *)item)->pos = (uint32_t)index;
}

void tempo__mem_task_touch(mem_store_t *st, mem_task_t *task)
{
    if (task->queue.count == 0) {
        if (task->top_pos != MEM_NPOS) {
            tempo__heap_remove(&st->task_tops, task->top_pos);
            task->top_pos = MEM_NPOS;
        }
        return;
    }
    int64_t key = tempo__heap_top(&task->queue)->key;
    if (task->top_pos == MEM_NPOS)
        tempo__heap_push(&st->task_tops, key, task); /* room reserved with the task */
    else
        tempo__heap_update(&st->task_tops, task->top_pos, key);
}

/* Appended at the tail: jobs lapse in lease-expiry order, and reaping
 * reports them in that order. */
static void lapsed_link(mem_store_t *st, mem_job_t *j)
{
    j->lapsed = true;
    j->lapsed_next = NULL;
    j->lapsed_prev = st->lapsed_tail;
    if (st->lapsed_tail)
        st->lapsed_tail->lapsed_next = j;
    else
        st->lapsed = j;
    st->lapsed_tail = j;
    st->lapsed_count++;
}

void tempo__mem_lapsed_unlink(mem_store_t *st, mem_job_t *j)
{
    if (!j->lapsed)
        return;
    if (j->lapsed_prev)
        j->lapsed_prev->lapsed_next = j->lapsed_next;
    else
        st->lapsed = j->lapsed_next;
    if (j->lapsed_next)
        j->lapsed_next->lapsed_prev = j->lapsed_prev;
    else
        st->lapsed_tail = j->lapsed_prev;
    j->lapsed = false;
    j->lapsed_prev = j->lapsed_next = NULL;
    st->lapsed_count--;
}

/* The queue has room: it always has room for all of its task's jobs. */
void tempo__mem_jobs_expire(mem_store_t *st, tempo_time_t now)
{
    const tempo__heap_node_t *top;
    while ((top = tempo__heap_top(&st->job_leases)) != NULL && top->key <= now) {
        mem_job_t *j = tempo__heap_pop(&st->job_leases);
        j->task->running--;
        j->where = MEM_LAPSED;
        lapsed_link(st, j);
        tempo__mem_task_touch(st, j->task);
    }
}

/* What a job owns, for one in no index. Schedules are not collected here. */
static void job_free(mem_store_t *st, mem_job_t *j)
{
    if (j->task)
        tempo__mem_task_unref(st, j->task);
    if (j->schedule)
        tempo__mem_name_unref(&st->schedule_refs, j->schedule);
    if (j->owner)
        tempo__mem_name_unref(&st->owners, j->owner);
    free(j->args);
    free(j);
}

tempo_status_t tempo__mem_job_new(mem_store_t *st, const tempo_job_record_t *rec, uint32_t hash, mem_job_t **out,
                                  tempo_error_t *err)
{
    size_t len = strlen(rec->id) + 1;
    mem_job_t *j = malloc(sizeof *j + len);
    *out = NULL;
    if (!j)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory adding job '%s'", rec->id);
    memset(j, 0, sizeof *j);
    memcpy(j->id, rec->id, len);
    j->hash = hash;
    j->task = tempo__mem_task_ref(st, rec->task_id);
    bool ok = j->task != NULL;
    if (ok && rec->schedule_id)
        ok = (j->schedule = tempo__mem_name_ref(&st->schedule_refs, rec->schedule_id)) != NULL;
    ok = ok && tempo__mem_doc_dup(rec->args, &j->args);
    ok = ok && tempo__heap_reserve(&j->task->queue, (size_t)j->task->jobs + j->task->batch + 1);
    if (!ok) {
        job_free(st, j);
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory adding job '%s'", rec->id);
    }
    j->task->batch++;
    j->scheduled_fire_time = rec->scheduled_fire_time;
    j->original_fire_time = rec->original_fire_time;
    j->start_deadline = rec->start_deadline;
    j->created_at = rec->created_at;
    j->result_expiration = rec->result_expiration;
    j->until = TEMPO_TIME_NONE;
    j->pos = MEM_NPOS;
    *out = j;
    return TEMPO_OK;
}

void tempo__mem_job_discard(mem_store_t *st, mem_job_t *j)
{
    j->task->batch--;
    job_free(st, j);
}

void tempo__mem_job_enqueue(mem_store_t *st, mem_job_t *j)
{
    j->task->batch--;
    j->task->jobs++;
    j->where = MEM_QUEUED;
    tempo__heap_push(&j->task->queue, tempo__mem_job_order(j), j);
    tempo__mem_task_touch(st, j->task);
}

void tempo__mem_job_insert(mem_store_t *st, mem_job_t *j)
{
    tempo__hmap_insert_hashed(&st->jobs, j, j->hash);
    tempo__mem_job_enqueue(st, j);
}

/* As acquire_jobs would lease it, without ever queueing it. */
void tempo__mem_job_lease_new(mem_store_t *st, mem_job_t *j, mem_name_t *owner, tempo_time_t until)
{
    j->task->batch--;
    j->task->jobs++;
    j->owner = owner;
    j->until = until;
    j->fence = 1;
    j->where = MEM_RUNNING;
    tempo__heap_push(&st->job_leases, until, j);
    j->task->running++;
}

void tempo__mem_job_delete(mem_store_t *st, mem_job_t *j)
{
    mem_task_t *task = j->task;
    if (j->where == MEM_QUEUED) {
        tempo__heap_remove(&task->queue, j->pos);
        tempo__mem_task_touch(st, task);
    } else if (j->where == MEM_RUNNING) {
        tempo__heap_remove(&st->job_leases, j->pos);
        task->running--;
    }
    tempo__mem_lapsed_unlink(st, j);
    tempo__hmap_remove_hashed(&st->jobs, j->id, j->hash);
    task->jobs--;
    /* The last job naming a finished schedule lets it go. */
    mem_schedule_t *finished = NULL;
    if (j->schedule && j->schedule->refs == 1 && st->finished.count > 0) /* else none to look up */
        finished = tempo__hmap_get(&st->schedules, j->schedule->str);
    job_free(st, j);
    if (finished)
        tempo__mem_schedule_collect(st, finished);
}

tempo_status_t tempo__mem_job_snapshot(const mem_job_t *j, const tempo_lease_t *lease,
                                       tempo_job_record_t *out, tempo_error_t *err)
{
    bson_t args;
    tempo_job_record_t view = {
        .id = j->id,
        .task_id = j->task->id,
        .schedule_id = j->schedule ? j->schedule->str : NULL,
        .args = tempo__mem_doc_view(j->args, &args),
        .scheduled_fire_time = j->scheduled_fire_time,
        .original_fire_time = j->original_fire_time,
        .start_deadline = j->start_deadline,
        .result_expiration = j->result_expiration,
        .created_at = j->created_at,
        .lease = {j->owner ? j->owner->str : NULL, j->until, j->fence},
    };
    if (lease)
        view.lease = *lease;
    return tempo__job_record_copy(out, &view, err);
}

/* ---- add ---- */

static tempo_status_t add_job(mem_store_t *st, const tempo_job_record_t *rec, tempo_error_t *err)
{
    tempo_status_t rc = tempo__job_record_check(rec, err);
    if (rc != TEMPO_OK)
        return rc;
    if (tempo__hmap_get(&st->jobs, rec->id))
        return tempo__error_set(err, TEMPO_EEXIST, "job '%s' already exists", rec->id);
    if (st->jobs.count >= MEM_MAX_RECORDS)
        return tempo__error_set(err, TEMPO_ERANGE, "the store holds %zu jobs, its limit", st->jobs.count);
    if (!tempo__hmap_reserve(&st->jobs, st->jobs.count + 1))
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory adding job '%s'", rec->id);
    mem_job_t *j;
    rc = tempo__mem_job_new(st, rec, tempo__hmap_hash(rec->id), &j, err);
    if (rc == TEMPO_OK)
        tempo__mem_job_insert(st, j);
    return rc;
}

void tempo__mem_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "add_job", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = add_job(self, job, &op->err);
    tempo__mem_op_end(op);
}

/* ---- get ---- */

static const char *job_id(const void *rec)
{
    return ((const mem_job_t *)rec)->id;
}

static tempo_status_t get_jobs(mem_store_t *st, const char *const *ids, size_t count, mem_op_t *op)
{
    tempo_status_t rc = tempo__mem_check_ids(ids, count, "ids", &op->err);
    if (rc != TEMPO_OK)
        return rc;
    size_t cap = count ? count : st->jobs.count;
    if (cap == 0)
        return TEMPO_OK;
    void **found = malloc(cap * sizeof *found); /* of mem_job_t */
    if (!found)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    size_t n = tempo__mem_collect(&st->jobs, ids, count, job_id, found);
    if (n == SIZE_MAX) {
        free(found);
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    }
    tempo_job_record_t *recs = n ? calloc(n, sizeof *recs) : NULL;
    if (n && !recs)
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu jobs", n);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        rc = tempo__mem_job_snapshot(found[i], NULL, &recs[i], &op->err);
    free(found);
    if (rc != TEMPO_OK) {
        tempo__job_records_free(recs, n);
        return rc;
    }
    op->out.list.recs = recs;
    op->out.list.count = n;
    return TEMPO_OK;
}

void tempo__mem_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_JOBS, "get_jobs", (mem_cb_t){.jobs = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = get_jobs(self, ids, count, op);
    tempo__mem_op_end(op);
}

void tempo__mem_jobs_free(mem_store_t *st)
{
    size_t pos = 0;
    mem_job_t *j;
    while ((j = tempo__hmap_next(&st->jobs, &pos)) != NULL)
        job_free(st, j);
    tempo__hmap_destroy(&st->jobs);
    tempo__heap_destroy(&st->job_leases);
    st->lapsed = st->lapsed_tail = NULL;
    st->lapsed_count = 0;
}
