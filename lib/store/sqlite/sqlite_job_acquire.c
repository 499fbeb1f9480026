/* Acquiring and releasing jobs in the SQLite store.
 *
 * acquire_jobs runs in one IMMEDIATE transaction (the file's write lock,
 * taken before the first read), so the running counts it reads and the
 * leases it writes cannot interleave with another process's acquisition:
 * max_running_jobs holds across processes. For each task the worker
 * listed: its free slots are max_running_jobs minus its unexpired leases of
 * every owner (jobs_running: task_id, lease_until over leased jobs only),
 * and its first min(limit, free) due jobs come from its queue (jobs_queue:
 * task_id, run_at, created_at, id over never-leased jobs — the scan reads
 * the index only, and only what it returns). A job whose lease lapsed is in
 * no queue: it waits for reap_abandoned (store.h), while its slot is free
 * from the expiry on. Those per-task prefixes, merged in
 * (run_at, created_at, id) order and cut at `limit`, are exactly what the
 * memory store's merge of task queues takes. Tasks not listed, and tasks at
 * their limit, cost nothing whatever their backlog. Each chosen job is
 * decoded (one that does not decode is set aside instead, and another round
 * fills its place) and leased by a conditional UPDATE that repeats the
 * "due and never leased" test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

const char tempo__sq_sql_queued_jobs[] =
    "SELECT id, run_at, created_at FROM jobs WHERE task_id = ?1 AND lease_owner IS NULL AND run_at <= ?2 "
    "ORDER BY run_at, created_at, id LIMIT ?3";
const char tempo__sq_sql_running_jobs[] =
    "SELECT count(*) FROM jobs WHERE task_id = ?1 AND lease_owner IS NOT NULL AND lease_until > ?2";

static const char SQL_LEASE[] =
    "UPDATE jobs SET lease_owner = ?2, lease_until = ?3, fence = fence + 1 "
    "WHERE id = ?1 AND lease_owner IS NULL AND run_at <= ?4";
static const char SQL_DELETE[] = "DELETE FROM jobs WHERE id = ?1";

/* A job that could be taken, with its place in the order. */
typedef struct candidate {
    char *id;
    int64_t run_at;
    int64_t created_at;
} candidate_t;

typedef struct candidates {
    candidate_t *items;
    size_t count, cap;
} candidates_t;

static void candidates_free(candidates_t *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->items[i].id);
    free(c->items);
    memset(c, 0, sizeof *c);
}

static int by_order(const void *a, const void *b)
{
    const candidate_t *x = a, *y = b;
    if (x->run_at != y->run_at)
        return x->run_at < y->run_at ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
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

/* A task listed twice counts once, with its first limit. */
static tempo_status_t copy_tasks(sq_op_t *op, const tempo_task_record_t *tasks, size_t count)
{
    if (count == 0)
        return TEMPO_OK;
    op->in.tasks = calloc(count, sizeof *op->in.tasks);
    if (!op->in.tasks)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu tasks", count);
    for (size_t i = 0; i < count; i++) {
        bool seen = false;
        for (size_t k = 0; k < op->in.task_count && !seen; k++)
            seen = strcmp(op->in.tasks[k].id, tasks[i].id) == 0;
        if (seen)
            continue;
        sq_task_slot_t *slot = &op->in.tasks[op->in.task_count];
        if (!(slot->id = strdup(tasks[i].id)))
            return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu tasks", count);
        slot->max_running_jobs = tasks[i].max_running_jobs;
        op->in.task_count++;
    }
    return TEMPO_OK;
}

/* ---- choosing ---- */

static tempo_status_t running_count(sq_op_t *op, sq_db_t *db, const char *task, int64_t *n)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, tempo__sq_sql_running_jobs, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, task, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, op->in.now);
    int rc = sqlite3_step(stmt);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW)
        return tempo__sq_fail(db, rc, &op->err, "counting running jobs of '%s'", task);
    return TEMPO_OK;
}

static bool candidate_add(candidates_t *c, sqlite3_stmt *stmt)
{
    if (c->count == c->cap) {
        size_t want = c->cap ? c->cap * 2 : 16;
        candidate_t *grown = realloc(c->items, want * sizeof *grown);
        if (!grown)
            return false;
        c->items = grown;
        c->cap = want;
    }
    candidate_t *item = &c->items[c->count];
    item->run_at = sqlite3_column_int64(stmt, 1);
    item->created_at = sqlite3_column_int64(stmt, 2);
    if (!(item->id = strdup(tempo__sq_row_key(stmt))))
        return false;
    c->count++;
    return true;
}

/* The first `want` due, never leased jobs of one task, in order. */
static tempo_status_t task_prefix(sq_op_t *op, sq_db_t *db, const char *task, size_t want, candidates_t *c)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, tempo__sq_sql_queued_jobs, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, task, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, op->in.now);
    tempo__sq_bind_limit(stmt, 3, want);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!candidate_add(c, stmt)) {
            sqlite3_reset(stmt);
            return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory acquiring jobs");
        }
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? TEMPO_OK : tempo__sq_fail(db, rc, &op->err, "reading the queue of '%s'", task);
}

/* Every listed task's prefix, merged; cut to `room`. */
static tempo_status_t merge_prefixes(sq_op_t *op, sq_db_t *db, size_t room, candidates_t *c)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < op->in.task_count && rc == TEMPO_OK; i++) {
        const sq_task_slot_t *t = &op->in.tasks[i];
        size_t want = room;
        if (t->max_running_jobs > 0) {
            int64_t running = 0;
            rc = running_count(op, db, t->id, &running);
            if (rc != TEMPO_OK || running >= t->max_running_jobs)
                continue;
            if ((uint64_t)(t->max_running_jobs - running) < want)
                want = (size_t)(t->max_running_jobs - running);
        }
        rc = task_prefix(op, db, t->id, want, c);
    }
    if (rc == TEMPO_OK && c->count > 1)
        qsort(c->items, c->count, sizeof *c->items, by_order);
    while (c->count > room)
        free(c->items[--c->count].id);
    return rc;
}

/* The chosen ids, in order, for the rounds (sqlite_take.c). */
static tempo_status_t choose(sq_op_t *op, sq_db_t *db, size_t room, sq_ids_t *ids)
{
    candidates_t c = {0};
    tempo_status_t rc = merge_prefixes(op, db, room, &c);
    if (rc == TEMPO_OK && c.count > 0 && !(ids->ids = malloc(c.count * sizeof *ids->ids)))
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory acquiring jobs");
    if (rc == TEMPO_OK) {
        for (size_t i = 0; i < c.count; i++)
            ids->ids[i] = c.items[i].id; /* handed over: the list owns them now */
        ids->count = c.count;
        c.count = 0;
    }
    candidates_free(&c);
    return rc;
}

/* ---- taking ---- */

/* The record as acquired: its lease is the new one, its fence one up. */
static tempo_status_t copy_leased(void *out, const void *rec, const char *owner, tempo_time_t until,
                                  tempo_error_t *err)
{
    tempo_job_record_t view = *(const tempo_job_record_t *)rec;
    view.lease = (tempo_lease_t){owner, until, view.lease.fence + 1};
    return tempo__job_record_copy(out, &view, err);
}

static int64_t run_at_of(const tempo_job_record_t *j)
{
    return j->scheduled_fire_time != TEMPO_TIME_NONE ? j->scheduled_fire_time : j->created_at;
}

static int job_order(const void *a, const void *b)
{
    const tempo_job_record_t *x = a, *y = b;
    candidate_t cx = {(char *)x->id, run_at_of(x), x->created_at};
    candidate_t cy = {(char *)y->id, run_at_of(y), y->created_at};
    return by_order(&cx, &cy);
}

static const sq_taker_t jobs = {
    .reader = &tempo__sq_job_reader,
    .sql_lease = SQL_LEASE,
    .leasing = "leasing a job",
    .choose = choose,
    .copy_leased = copy_leased,
    .order = job_order,
};

static tempo_status_t run_acquire(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_acquire(op, db, &jobs);
}

void tempo__sq_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                            size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                            tempo_store_jobs_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_JOBS, "acquire_jobs", (sq_cb_t){.jobs = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_check_lease_args(owner, now, lease, &op->err);
    if (op->status == TEMPO_OK)
        op->status = check_tasks(tasks, task_count, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.owner, owner, &op->err);
    if (op->status == TEMPO_OK)
        op->status = copy_tasks(op, tasks, task_count);
    op->in.now = now;
    op->in.lease = lease;
    op->in.limit = limit;
    tempo__sq_op_submit(op, limit && task_count ? run_acquire : NULL);
}

/* ---- release ---- */

static tempo_status_t check_holder(sq_op_t *op, const tempo_job_record_t *j, bool found)
{
    const char *owner = op->in.owner, *id = op->in.id;
    if (!found)
        return tempo__error_set(&op->err, TEMPO_ELEASE,
                                "job '%s' is not held by '%s': it does not exist (released already, or "
                                "reaped after its lease expired)",
                                id, owner);
    if (!j->lease.owner || strcmp(j->lease.owner, owner) != 0)
        return tempo__error_set(&op->err, TEMPO_ELEASE, "job '%s' is held by %s%s%s, not by '%s'", id,
                                j->lease.owner ? "'" : "", j->lease.owner ? j->lease.owner : "nobody",
                                j->lease.owner ? "'" : "", owner);
    if (j->lease.fence != op->in.fence)
        return tempo__error_set(&op->err, TEMPO_ELEASE,
                                "job '%s': fence %lld is stale (it was acquired again; the fence is now "
                                "%lld)",
                                id, (long long)op->in.fence, (long long)j->lease.fence);
    return TEMPO_OK;
}

/* The job as stored; one that no longer decodes is set aside, and nobody
 * holds it any more. */
static tempo_status_t holder_of(sq_op_t *op, sq_db_t *db, tempo_job_record_t *j, bool *found)
{
    tempo_error_t why;
    tempo_status_t rc = tempo__sq_read_one(op, db, &tempo__sq_job_reader, op->in.id, j, found, &why);
    if (rc != TEMPO_EFORMAT || !*found)
        return rc;
    bool moved;
    rc = tempo__sq_quarantine(op, db, "job", op->in.id, why.message, &moved);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err); /* keep the quarantine, refuse the release */
    if (rc != TEMPO_OK)
        return rc;
    return tempo__error_set(&op->err, TEMPO_ELEASE, "job '%s' could not be decoded and was set aside: %s",
                            op->in.id, why.message);
}

static tempo_status_t run_release(sq_op_t *op, sq_db_t *db)
{
    tempo_job_record_t job = {0};
    bool found = false;
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    if (rc == TEMPO_OK)
        rc = holder_of(op, db, &job, &found);
    if (rc == TEMPO_OK)
        rc = check_holder(op, &job, found);
    if (rc == TEMPO_OK && job.result_expiration > 0) {
        tempo_job_result_t res = {
            .outcome = op->in.outcome,
            .started_at = op->in.started_at,
            .finished_at = op->in.finished_at,
            .return_value = op->in.return_value,
            .error = op->in.error,
        };
        rc = tempo__sq_store_result(db, &job, &res, &op->err);
    }
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, SQL_DELETE, &op->err) : NULL;
    if (stmt) {
        sqlite3_bind_text(stmt, 1, op->in.id, -1, SQLITE_STATIC);
        rc = tempo__sq_done(db, stmt, "deleting the job", &op->err);
    } else if (rc == TEMPO_OK) {
        rc = op->err.code;
    }
    /* The last job naming a finished schedule lets it go. */
    if (rc == TEMPO_OK && job.schedule_id)
        rc = tempo__sq_collect_schedule(db, job.schedule_id, &op->err);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err);
    tempo__job_record_clear(&job);
    return rc;
}

void tempo__sq_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                           const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "release_job", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && !tempo__id_ok(owner))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (op->status == TEMPO_OK && !tempo__id_ok(job_id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    if (op->status == TEMPO_OK)
        op->status = tempo__job_result_check(result, &op->err);
    if (op->status == TEMPO_OK && (tempo__sq_strdup(&op->in.owner, owner, &op->err) != TEMPO_OK ||
                                   tempo__sq_strdup(&op->in.id, job_id, &op->err) != TEMPO_OK ||
                                   tempo__sq_strdup(&op->in.error, result->error, &op->err) != TEMPO_OK))
        op->status = TEMPO_ENOMEM;
    if (op->status == TEMPO_OK && result->return_value &&
        !(op->in.return_value = bson_copy(result->return_value)))
        op->status = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    if (op->status == TEMPO_OK) {
        op->in.fence = fence;
        op->in.outcome = result->outcome;
        op->in.started_at = result->started_at;
        op->in.finished_at = result->finished_at;
    }
    tempo__sq_op_submit(op, run_release);
}
