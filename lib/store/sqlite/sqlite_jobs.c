/* Job records in the SQLite store: add, get, next_job_time.
 *
 * A job is one row of `jobs`. Its generated column run_at, the effective
 * fire time (scheduled_fire_time, or created_at for a job queued "now"),
 * orders each task's queue. Only jobs never leased (lease_owner IS NULL) are
 * queued: a leased job runs, is released (deleted) or, once its lease
 * lapsed, is reaped — it is never handed out again (store.h). So the queue
 * indexes are partial, over unleased jobs only, and next_job_time is
 * min(run_at) over them: one step into jobs_due. */
#include <stdlib.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

const char tempo__sq_sql_next_job_time[] = "SELECT min(run_at) FROM jobs WHERE lease_owner IS NULL";

const char tempo__sq_sql_insert_job[] =
    "INSERT INTO jobs(id, task_id, schedule_id, args, scheduled_fire_time, original_fire_time, "
    "start_deadline, result_expiration, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(id) DO NOTHING";
static const char SQL_ALL[] = "SELECT " SQ_JOB_COLUMNS " FROM jobs ORDER BY id";

/* ---- add ---- */

static tempo_status_t run_add(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, tempo__sq_sql_insert_job, &op->err) : NULL;
    if (!stmt)
        return op->err.code;
    int brc = tempo__sq_bind_job(stmt, &op->in.job);
    if (brc != SQLITE_OK)
        return tempo__sq_fail(db, brc, &op->err, "binding job '%s'", op->in.job.id);
    rc = tempo__sq_done(db, stmt, "writing the job", &op->err);
    if (rc == TEMPO_OK && sqlite3_changes(db->handle) == 0)
        return tempo__error_set(&op->err, TEMPO_EEXIST, "job '%s' already exists", op->in.job.id);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "add_job", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = tempo__job_record_check(job, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__job_record_copy(&op->in.job, job, &op->err);
    tempo__sq_op_submit(op, run_add);
}

/* ---- get ---- */

static tempo_status_t run_get(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_get(op, db, &tempo__sq_job_reader, SQL_ALL);
}

void tempo__sq_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_JOBS, "get_jobs", (sq_cb_t){.jobs = cb}, ud);
    if (op)
        tempo__sq_submit_get(op, ids, count, run_get);
}

/* ---- next time ---- */

static tempo_status_t run_next(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_min_time(op, db, tempo__sq_sql_next_job_time, "finding the next job time");
}

void tempo__sq_next_job_time(void *self, tempo_store_time_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_TIME, "next_job_time", (sq_cb_t){.time = cb}, ud);
    if (op)
        tempo__sq_op_submit(op, run_next);
}
