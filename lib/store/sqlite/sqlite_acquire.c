/* Acquiring and releasing schedules in the SQLite store, and
 * next_schedule_time.
 *
 * Exclusivity across processes: an acquisition runs in one IMMEDIATE
 * transaction (the write lock of the whole file, taken before the first
 * read), and each schedule is leased by one conditional UPDATE that repeats
 * the "due and not held" test. No two connections can both see a schedule
 * free and both lease it: the second one to get the lock sees the first
 * one's lease. A release updates the schedule only if owner and fence still
 * match, so a holder whose lease expired and was taken over is refused.
 *
 * The due test is one column: due_at (generated, see sqlite_schema.c) is
 * NULL for paused and finished schedules, next_fire_time for a free one and
 * max(next_fire_time, lease_until) for a held one — the first instant it
 * can be handed out. `due_at <= now` is exactly "due, not paused, not
 * finished, not held (or held by an expired lease)". The candidates come
 * from the partial index schedules_next (next_fire_time, id, due_at) in
 * acquisition order: the scan reads the due schedules it returns plus the
 * held ones among them, and never a paused or finished one.
 * next_schedule_time is min(due_at): one step into schedules_due. */
#include <stdlib.h>
#include <string.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

const char tempo__sq_sql_due_schedules[] =
    "SELECT id FROM schedules WHERE next_fire_time <= ?1 AND due_at <= ?1 "
    "ORDER BY next_fire_time, id LIMIT ?2";
const char tempo__sq_sql_next_schedule_time[] = "SELECT min(due_at) FROM schedules WHERE due_at IS NOT NULL";
const char tempo__sq_sql_collect_schedule[] =
    "DELETE FROM schedules WHERE id = ?1 AND next_fire_time IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM jobs WHERE schedule_id = ?1)";

static const char SQL_LEASE[] =
    "UPDATE schedules SET lease_owner = ?2, lease_until = ?3, fence = fence + 1 "
    "WHERE id = ?1 AND next_fire_time <= ?4 AND due_at <= ?4";
static const char SQL_RELEASE[] =
    "UPDATE schedules SET next_fire_time = ?4, last_fire_time = ?5, lease_owner = NULL, lease_until = NULL "
    "WHERE id = ?1 AND lease_owner = ?2 AND fence = ?3";

tempo_status_t tempo__sq_collect_schedule(sq_db_t *db, const char *schedule_id, tempo_error_t *err)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, tempo__sq_sql_collect_schedule, err);
    if (!stmt)
        return err->code;
    sqlite3_bind_text(stmt, 1, schedule_id, -1, SQLITE_STATIC);
    return tempo__sq_done(db, stmt, "removing a finished schedule", err);
}

/* ---- acquire ---- */

/* The ids of up to `limit` due schedules, in acquisition order (by
 * next_fire_time, then id). */
static tempo_status_t due_ids(sq_op_t *op, sq_db_t *db, size_t limit, sq_ids_t *ids)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, tempo__sq_sql_due_schedules, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_int64(stmt, 1, op->in.now);
    tempo__sq_bind_limit(stmt, 2, limit);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (ids->count == cap) {
            size_t want = cap ? cap * 2 : 16;
            char **grown = realloc(ids->ids, want * sizeof *grown);
            if (!grown)
                break;
            ids->ids = grown;
            cap = want;
        }
        if (!(ids->ids[ids->count] = strdup(tempo__sq_row_key(stmt))))
            break;
        ids->count++;
    }
    if (rc == SQLITE_ROW) {
        sqlite3_reset(stmt);
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory acquiring schedules");
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? TEMPO_OK : tempo__sq_fail(db, rc, &op->err, "finding due schedules");
}

/* The record as acquired: its lease is the new one, its fence one up. */
static tempo_status_t copy_leased(void *out, const void *rec, const char *owner, tempo_time_t until,
                                  tempo_error_t *err)
{
    tempo_schedule_record_t view = *(const tempo_schedule_record_t *)rec;
    view.lease = (tempo_lease_t){owner, until, view.lease.fence + 1};
    return tempo__schedule_record_copy(out, &view, err);
}

static int schedule_order(const void *a, const void *b)
{
    const tempo_schedule_record_t *x = a, *y = b;
    if (x->next_fire_time != y->next_fire_time)
        return x->next_fire_time < y->next_fire_time ? -1 : 1;
    return strcmp(x->id, y->id);
}

static const sq_taker_t schedules = {
    .reader = &tempo__sq_schedule_reader,
    .sql_lease = SQL_LEASE,
    .leasing = "leasing a schedule",
    .choose = due_ids,
    .copy_leased = copy_leased,
    .order = schedule_order,
};

static tempo_status_t run_acquire(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_acquire(op, db, &schedules);
}

void tempo__sq_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                 size_t limit, tempo_store_schedules_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_SCHEDULES, "acquire_schedules", (sq_cb_t){.schedules = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_check_lease_args(owner, now, lease, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.owner, owner, &op->err);
    op->in.now = now;
    op->in.lease = lease;
    op->in.limit = limit;
    tempo__sq_op_submit(op, limit ? run_acquire : NULL);
}

/* ---- release ---- */

static tempo_status_t copy_releases(sq_op_t *op, const tempo_schedule_release_t *rel, size_t count)
{
    op->in.releases = calloc(count, sizeof *op->in.releases);
    op->out.statuses = calloc(count, sizeof *op->out.statuses);
    if (!op->in.releases || !op->out.statuses)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu releases", count);
    op->in.release_count = count;
    for (size_t i = 0; i < count; i++) {
        sq_release_t *r = &op->in.releases[i];
        r->fence = rel[i].fence;
        r->next_fire_time = rel[i].next_fire_time;
        r->last_fire_time = rel[i].last_fire_time;
        tempo_status_t rc = tempo__sq_strdup(&r->id, rel[i].id, &op->err);
        if (rc == TEMPO_OK)
            rc = tempo__job_records_dup(rel[i].jobs, rel[i].job_count, &r->jobs, &op->err);
        if (rc != TEMPO_OK)
            return rc;
        r->job_count = rel[i].job_count;
    }
    return TEMPO_OK;
}

/* Idempotent: an id that exists (or came earlier in the batch) is kept. */
static tempo_status_t add_jobs(sq_op_t *op, sq_db_t *db, const sq_release_t *r)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t k = 0; k < r->job_count && rc == TEMPO_OK; k++) {
        sqlite3_stmt *stmt = tempo__sq_stmt(db, tempo__sq_sql_insert_job, &op->err);
        if (!stmt)
            return op->err.code;
        int brc = tempo__sq_bind_job(stmt, &r->jobs[k]);
        rc = brc == SQLITE_OK ? tempo__sq_done(db, stmt, "adding the jobs of a release", &op->err)
                              : tempo__sq_fail(db, brc, &op->err, "binding job '%s'", r->jobs[k].id);
    }
    return rc;
}

/* TEMPO_ELEASE in *entry when owner and fence no longer hold it. */
static tempo_status_t release_one(sq_op_t *op, sq_db_t *db, const sq_release_t *r, tempo_status_t *entry)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_RELEASE, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, op->in.owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, r->fence);
    tempo__sq_bind_time(stmt, 4, r->next_fire_time);
    tempo__sq_bind_time(stmt, 5, r->last_fire_time);
    tempo_status_t rc = tempo__sq_done(db, stmt, "releasing a schedule", &op->err);
    if (rc != TEMPO_OK)
        return rc;
    *entry = sqlite3_changes(db->handle) == 1 ? TEMPO_OK : TEMPO_ELEASE;
    if (*entry == TEMPO_OK && r->next_fire_time == TEMPO_TIME_NONE)
        rc = tempo__sq_collect_schedule(db, r->id, &op->err);
    return rc;
}

/* Jobs first, all of them: a finished schedule they name must survive its
 * release, and jobs of an entry whose lease was lost are still added (store.h). */
static tempo_status_t run_release(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    for (size_t i = 0; i < op->in.release_count && rc == TEMPO_OK; i++)
        rc = add_jobs(op, db, &op->in.releases[i]);
    for (size_t i = 0; i < op->in.release_count && rc == TEMPO_OK; i++)
        rc = release_one(op, db, &op->in.releases[i], &op->out.statuses[i]);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                 size_t count, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_RELEASE, "release_schedules", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    /* Entry statuses are written just before the callback, whatever the
     * outcome, so the array must live until then (store.h). */
    op->in.caller_releases = releases;
    op->in.caller_count = releases ? count : 0;
    if (op->status == TEMPO_OK)
        op->status = tempo__releases_check(owner, releases, count, NULL, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.owner, owner, &op->err);
    if (op->status == TEMPO_OK && count > 0)
        op->status = copy_releases(op, releases, count);
    tempo__sq_op_submit(op, count ? run_release : NULL);
}

/* ---- next time ---- */

static tempo_status_t run_next(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_min_time(op, db, tempo__sq_sql_next_schedule_time, "finding the next schedule time");
}

void tempo__sq_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_TIME, "next_schedule_time", (sq_cb_t){.time = cb}, ud);
    if (op)
        tempo__sq_op_submit(op, run_next);
}
