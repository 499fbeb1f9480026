/* Schedule records in the SQLite store: add, get, update, remove.
 *
 * A schedule is one row of `schedules`; its trigger is stored as the
 * document tempo_trigger_to_bson makes (serialized during the call, on the
 * loop thread: custom trigger types promise thread-safe next(), not
 * serialize()). Its lease columns are only ever written by acquisition,
 * release and extension (sqlite_acquire.c, sqlite_leases.c): add and update
 * ignore the record's `lease`, as store.h says. */
#include <stdlib.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

static const char SQL_EXISTS[] = "SELECT fence FROM schedules WHERE id = ?1";
static const char SQL_INSERT[] =
    "INSERT INTO schedules(id, task_id, trigger_doc, args, coalesce_policy, misfire_grace_time, max_jitter, "
    "jitter_deterministic, paused, job_result_expiration, next_fire_time, last_fire_time, metadata) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
/* Every field but the lease (update_schedule). */
static const char SQL_UPDATE[] =
    "UPDATE schedules SET task_id = ?2, trigger_doc = ?3, args = ?4, coalesce_policy = ?5, "
    "misfire_grace_time = ?6, max_jitter = ?7, jitter_deterministic = ?8, paused = ?9, "
    "job_result_expiration = ?10, next_fire_time = ?11, last_fire_time = ?12, metadata = ?13 WHERE id = ?1";
/* A replacement is a new schedule: whoever leased the old one loses its
 * lease (its release would write times computed from the old trigger); the
 * fence column is left alone, so it keeps counting and no later acquisition
 * can hand out a fence the old holder knows. */
static const char SQL_REPLACE[] =
    "UPDATE schedules SET task_id = ?2, trigger_doc = ?3, args = ?4, coalesce_policy = ?5, "
    "misfire_grace_time = ?6, max_jitter = ?7, jitter_deterministic = ?8, paused = ?9, "
    "job_result_expiration = ?10, next_fire_time = ?11, last_fire_time = ?12, metadata = ?13, "
    "lease_owner = NULL, lease_until = NULL WHERE id = ?1";
static const char SQL_ALL[] = "SELECT " SQ_SCHEDULE_COLUMNS " FROM schedules ORDER BY id";
static const char SQL_DELETE[] = "DELETE FROM schedules WHERE id = ?1";

/* Check and copy the record, and serialize its trigger. */
static tempo_status_t take_schedule(sq_op_t *op, const tempo_schedule_record_t *rec)
{
    tempo_status_t rc = tempo__schedule_record_check(rec, &op->err);
    if (rc == TEMPO_OK)
        rc = tempo__schedule_record_copy(&op->in.schedule, rec, &op->err);
    if (rc == TEMPO_OK) {
        rc = tempo_trigger_to_bson(rec->trigger, &op->in.trigger_doc, &op->err);
        op->in.has_trigger_doc = true; /* initialised even when it failed */
        if (rc != TEMPO_OK)
            tempo__error_prefix(&op->err, rc, "schedule '%s': trigger", rec->id);
    }
    return rc;
}

/* Write the record's fields with `sql` (insert, update or replace). */
static tempo_status_t write_row(sq_op_t *op, sq_db_t *db, const char *sql)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, &op->err);
    if (!stmt)
        return op->err.code;
    int brc = tempo__sq_bind_schedule(stmt, &op->in.schedule, &op->in.trigger_doc);
    if (brc != SQLITE_OK)
        return tempo__sq_fail(db, brc, &op->err, "binding schedule '%s'", op->in.schedule.id);
    return tempo__sq_done(db, stmt, "writing the schedule", &op->err);
}

/* ---- add ---- */

static tempo_status_t exists(sq_op_t *op, sq_db_t *db, const char *id, bool *found)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_EXISTS, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    *found = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tempo__sq_fail(db, rc, &op->err, "looking for schedule '%s'", id);
    return TEMPO_OK;
}

static tempo_status_t run_add(sq_op_t *op, sq_db_t *db)
{
    const char *id = op->in.schedule.id;
    bool found = false;
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    if (rc == TEMPO_OK)
        rc = exists(op, db, id, &found);
    if (rc != TEMPO_OK)
        return rc;
    if (found && op->in.conflict != TEMPO_CONFLICT_REPLACE) {
        op->out.added = TEMPO_STORE_KEPT;
        if (op->in.conflict == TEMPO_CONFLICT_ERROR)
            return tempo__error_set(&op->err, TEMPO_EEXIST, "schedule '%s' already exists", id);
        return tempo__sq_commit(db, &op->err);
    }
    rc = write_row(op, db, found ? SQL_REPLACE : SQL_INSERT);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err);
    if (rc == TEMPO_OK)
        op->out.added = found ? TEMPO_STORE_REPLACED : TEMPO_STORE_ADDED;
    return rc;
}

void tempo__sq_add_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_conflict_t conflict,
                            tempo_store_add_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_ADD, "add_schedule", (sq_cb_t){.add = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = take_schedule(op, schedule);
    if (op->status == TEMPO_OK && conflict != TEMPO_CONFLICT_DO_NOTHING &&
        conflict != TEMPO_CONFLICT_REPLACE && conflict != TEMPO_CONFLICT_ERROR)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "schedule '%s': conflict %d is not a "
                                      "tempo_conflict_t", schedule->id, (int)conflict);
    op->in.conflict = conflict;
    tempo__sq_op_submit(op, run_add);
}

/* ---- get ---- */

/* All (ordered by id), or the ones asked for (sorted and unique first, so
 * the answer is ordered by id and has each once). */
static tempo_status_t run_get(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_get(op, db, &tempo__sq_schedule_reader, SQL_ALL);
}

void tempo__sq_get_schedules(void *self, const char *const *ids, size_t count, tempo_store_schedules_cb cb,
                             void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_SCHEDULES, "get_schedules", (sq_cb_t){.schedules = cb}, ud);
    if (op)
        tempo__sq_submit_get(op, ids, count, run_get);
}

/* ---- update ---- */

static tempo_status_t run_update(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    if (rc == TEMPO_OK)
        rc = write_row(op, db, SQL_UPDATE);
    if (rc == TEMPO_OK && sqlite3_changes(db->handle) == 0)
        return tempo__error_set(&op->err, TEMPO_ENOTFOUND, "no schedule '%s'", op->in.schedule.id);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_update_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_store_status_cb cb,
                               void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "update_schedule", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = take_schedule(op, schedule);
    tempo__sq_op_submit(op, run_update);
}

/* ---- remove ---- */

static tempo_status_t run_remove(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    for (size_t i = 0; rc == TEMPO_OK && i < op->in.ids.count; i++) {
        sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_DELETE, &op->err);
        if (!stmt)
            return op->err.code;
        sqlite3_bind_text(stmt, 1, op->in.ids.ids[i], -1, SQLITE_STATIC);
        rc = tempo__sq_done(db, stmt, "deleting schedules", &op->err);
    }
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_remove_schedules(void *self, const char *const *ids, size_t count, tempo_store_status_cb cb,
                                void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "remove_schedules", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_ids_copy(&op->in.ids, ids, count, "ids", &op->err);
    tempo__sq_op_submit(op, count ? run_remove : NULL);
}
