/* Lease extension, reaping, results and cleanup in the SQLite store.
 *
 * Results are kept in `job_results` only when the job's result_expiration
 * is > 0 (APScheduler's default is to keep none), until finished_at +
 * result_expiration; job_results_expiry lets cleanup delete the expired
 * ones without reading the others. get_job_result also hides a result that
 * expired by the loop's clock but was not cleaned up yet ("now" is read on
 * the loop thread when the call is made). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

const char tempo__sq_sql_lapsed_jobs[] =
    "SELECT " SQ_JOB_COLUMNS " FROM jobs WHERE lease_owner IS NOT NULL AND lease_until <= ?1 "
    "ORDER BY lease_until, id";
const char tempo__sq_sql_expired_results[] = "DELETE FROM job_results WHERE expires_at <= ?1";

static const char SQL_STORE_RESULT[] =
    "INSERT OR REPLACE INTO job_results(" SQ_RESULT_COLUMNS ") "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_RESULT[] =
    "SELECT " SQ_RESULT_COLUMNS " FROM job_results WHERE job_id = ?1 AND expires_at > ?2";
static const char SQL_DELETE_JOB[] = "DELETE FROM jobs WHERE id = ?1";
static const char SQL_FINISHED[] =
    "DELETE FROM schedules WHERE next_fire_time IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.schedule_id = schedules.id)";
static const char SQL_EXTEND_SCHEDULE[] =
    "UPDATE schedules SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2";
static const char SQL_EXTEND_JOB[] = "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2";

/* ---- results ---- */

tempo_status_t tempo__sq_store_result(sq_db_t *db, const tempo_job_record_t *job,
                                      const tempo_job_result_t *res, tempo_error_t *err)
{
    tempo_time_t expires;
    if (__builtin_add_overflow(res->finished_at, job->result_expiration, &expires))
        expires = INT64_MAX; /* kept "for ever" rather than refused */
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_STORE_RESULT, err);
    if (!stmt)
        return err->code;
    sqlite3_bind_text(stmt, 1, job->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, job->task_id, -1, SQLITE_STATIC);
    if (job->schedule_id)
        sqlite3_bind_text(stmt, 3, job->schedule_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, (int)res->outcome);
    tempo__sq_bind_time(stmt, 5, job->scheduled_fire_time);
    tempo__sq_bind_time(stmt, 6, res->started_at);
    sqlite3_bind_int64(stmt, 7, res->finished_at);
    sqlite3_bind_int64(stmt, 8, expires);
    const bson_t *value = res->return_value;
    if (value && !bson_empty(value))
        sqlite3_bind_blob(stmt, 9, bson_get_data(value), (int)value->len, SQLITE_STATIC);
    if (res->error)
        sqlite3_bind_text(stmt, 10, res->error, -1, SQLITE_STATIC);
    return tempo__sq_done(db, stmt, "storing a result", err);
}

static tempo_status_t run_get_result(sq_op_t *op, sq_db_t *db)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_RESULT, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, op->in.id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, op->in.now);
    int rc = sqlite3_step(stmt);
    tempo_status_t status = TEMPO_OK;
    if (rc == SQLITE_ROW) {
        status = tempo__sq_read_result(stmt, &op->out.result, &op->err);
        op->out.has_result = status == TEMPO_OK;
    } else if (rc == SQLITE_DONE) {
        status = tempo__error_set(&op->err, TEMPO_ENOTFOUND,
                                  "no result for job '%s' (unknown, not finished, kept for no time, or "
                                  "expired)",
                                  op->in.id);
    } else {
        status = tempo__sq_fail(db, rc, &op->err, "reading the result of job '%s'", op->in.id);
    }
    sqlite3_reset(stmt); /* lets go of the read snapshot */
    return status;
}

void tempo__sq_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_RESULT, "get_job_result", (sq_cb_t){.result = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && !tempo__id_ok(job_id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.id, job_id, &op->err);
    if (op->status == TEMPO_OK)
        op->in.now = tempo_loop_now(op->st->loop);
    tempo__sq_op_submit(op, run_get_result);
}

/* ---- listing results ---- */

/* The orders of job_results_recent and job_results_schedule (schema
 * version 2): rows come in the answer's order, and the LIMIT stops the
 * walk. A negative LIMIT is no limit. */
const char tempo__sq_sql_recent_results[] =
    "SELECT " SQ_RESULT_COLUMNS " FROM job_results WHERE expires_at > ?1 "
    "ORDER BY finished_at DESC, job_id LIMIT ?2";
const char tempo__sq_sql_schedule_results[] =
    "SELECT " SQ_RESULT_COLUMNS " FROM job_results WHERE schedule_id = ?3 AND expires_at > ?1 "
    "ORDER BY finished_at DESC, job_id LIMIT ?2";

/* A row that does not decode fails the listing, naming it, as it fails
 * get_job_result: results have no quarantine, and leaving one out would
 * hide it. */
static tempo_status_t run_list_results(sq_op_t *op, sq_db_t *db)
{
    const char *sql = op->in.id ? tempo__sq_sql_schedule_results : tempo__sq_sql_recent_results;
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_int64(stmt, 1, op->in.now);
    if (op->in.limit == 0)
        sqlite3_bind_int64(stmt, 2, -1);
    else
        tempo__sq_bind_limit(stmt, 2, op->in.limit);
    if (op->in.id)
        sqlite3_bind_text(stmt, 3, op->in.id, -1, SQLITE_STATIC);
    size_t cap = 0;
    tempo_status_t rc = TEMPO_OK;
    int step = SQLITE_DONE;
    while (rc == TEMPO_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        tempo_job_result_t res;
        rc = tempo__sq_read_result(stmt, &res, &op->err);
        if (rc == TEMPO_OK && !tempo__sq_out_push(op, &res, sizeof res, &cap)) {
            tempo__job_result_clear(&res);
            rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory listing results");
        }
    }
    if (rc == TEMPO_OK && step != SQLITE_DONE)
        rc = tempo__sq_fail(db, step, &op->err, "listing results");
    sqlite3_reset(stmt); /* lets go of the read snapshot */
    return rc;
}

void tempo__sq_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                            tempo_store_results_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_RESULTS, "list_results", (sq_cb_t){.results = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && schedule_id && !schedule_id[0])
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "schedule_id is empty (NULL lists every job's results)");
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.id, schedule_id, &op->err);
    op->in.now = now;
    op->in.limit = limit;
    tempo__sq_op_submit(op, run_list_results);
}

/* ---- reap ---- */

/* The ABANDONED result of a job whose lease expired. */
static tempo_status_t abandon(sq_db_t *db, const tempo_job_record_t *j, tempo_time_t now, tempo_error_t *err)
{
    char until[48], message[160];
    tempo_time_format(j->lease.until, NULL, until, sizeof until);
    snprintf(message, sizeof message, "abandoned: the lease of '%s' expired at %s before the job finished",
             j->lease.owner ? j->lease.owner : "?", until);
    tempo_job_result_t res = {
        .outcome = TEMPO_OUTCOME_ABANDONED,
        .started_at = TEMPO_TIME_NONE,
        .finished_at = now,
        .error = message,
    };
    return tempo__sq_store_result(db, j, &res, err);
}

static tempo_status_t delete_job(sq_op_t *op, sq_db_t *db, const tempo_job_record_t *j)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_DELETE_JOB, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, j->id, -1, SQLITE_STATIC);
    tempo_status_t rc = tempo__sq_done(db, stmt, "deleting an abandoned job", &op->err);
    if (rc == TEMPO_OK && j->schedule_id)
        rc = tempo__sq_collect_schedule(db, j->schedule_id, &op->err);
    return rc;
}

/* Every job whose lease expired at `now`, in expiry order (jobs_leases):
 * reported as it was, with its result (when kept) and deleted. */
static tempo_status_t run_reap(sq_op_t *op, sq_db_t *db)
{
    sq_bad_list_t bad = {0};
    size_t cap = 0;
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, tempo__sq_sql_lapsed_jobs, &op->err) : NULL;
    if (!stmt)
        return op->err.code;
    sqlite3_bind_int64(stmt, 1, op->in.now);
    rc = tempo__sq_collect(op, db, stmt, &tempo__sq_job_reader, &cap, &bad, "reaping jobs");
    const tempo_job_record_t *jobs = op->out.recs;
    for (size_t i = 0; i < op->out.count && rc == TEMPO_OK; i++) {
        if (jobs[i].result_expiration > 0)
            rc = abandon(db, &jobs[i], op->in.now, &op->err);
        if (rc == TEMPO_OK)
            rc = delete_job(op, db, &jobs[i]);
    }
    if (rc == TEMPO_OK)
        rc = tempo__sq_quarantine_all(op, db, "job", &bad);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err);
    tempo__sq_bad_free(&bad);
    return rc;
}

void tempo__sq_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_JOBS, "reap_abandoned", (sq_cb_t){.jobs = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    op->in.now = now;
    tempo__sq_op_submit(op, run_reap);
}

/* ---- cleanup ---- */

static tempo_status_t run_cleanup(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, tempo__sq_sql_expired_results, &op->err) : NULL;
    if (!stmt)
        return op->err.code;
    sqlite3_bind_int64(stmt, 1, op->in.now);
    rc = tempo__sq_done(db, stmt, "deleting expired results", &op->err);
    if (rc == TEMPO_OK)
        rc = tempo__sq_exec(db, SQL_FINISHED, &op->err);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "cleanup", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    op->in.now = now;
    tempo__sq_op_submit(op, run_cleanup);
}

/* ---- extend ---- */

/* The ids that were not extended, for the message. */
typedef struct lost {
    size_t count;
    char text[160];
    size_t used;
} lost_t;

static void lost_add(lost_t *l, const char *kind, const char *id)
{
    if (l->count++ < 4 && l->used < sizeof l->text) {
        int n = snprintf(l->text + l->used, sizeof l->text - l->used, "%s%s '%s'", l->used ? ", " : "", kind,
                         id);
        l->used = n < 0 ? sizeof l->text : l->used + (size_t)n;
    }
}

static tempo_status_t extend_each(sq_op_t *op, sq_db_t *db, const char *sql, const char *kind,
                                  const sq_ids_t *ids, lost_t *lost)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < ids->count && rc == TEMPO_OK; i++) {
        sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, &op->err);
        if (!stmt)
            return op->err.code;
        sqlite3_bind_text(stmt, 1, ids->ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, op->in.owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, op->in.now);
        rc = tempo__sq_done(db, stmt, "extending leases", &op->err);
        if (rc == TEMPO_OK && sqlite3_changes(db->handle) == 0)
            lost_add(lost, kind, ids->ids[i]);
    }
    return rc;
}

/* An expired lease nobody took over is still its owner's (docs/stores.md):
 * extending needs only the owner to match. */
static tempo_status_t run_extend(sq_op_t *op, sq_db_t *db)
{
    lost_t lost = {0};
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    if (rc == TEMPO_OK)
        rc = extend_each(op, db, SQL_EXTEND_SCHEDULE, "schedule", &op->in.ids, &lost);
    if (rc == TEMPO_OK)
        rc = extend_each(op, db, SQL_EXTEND_JOB, "job", &op->in.ids2, &lost);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err);
    if (rc != TEMPO_OK || lost.count == 0)
        return rc;
    return tempo__error_set(&op->err, TEMPO_ELEASE, "%zu of %zu leases are no longer held by '%s': %s%s",
                            lost.count, op->in.ids.count + op->in.ids2.count, op->in.owner, lost.text,
                            lost.count > 4 ? ", ..." : "");
}

void tempo__sq_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                             size_t schedule_count, const char *const *job_ids, size_t job_count,
                             tempo_time_t until, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "extend_leases", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && !tempo__id_ok(owner))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (op->status == TEMPO_OK && until == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "until is TEMPO_TIME_NONE");
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_ids_copy(&op->in.ids, schedule_ids, schedule_count, "schedule_ids", &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_ids_copy(&op->in.ids2, job_ids, job_count, "job_ids", &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.owner, owner, &op->err);
    op->in.now = until;
    tempo__sq_op_submit(op, schedule_count + job_count ? run_extend : NULL);
}
