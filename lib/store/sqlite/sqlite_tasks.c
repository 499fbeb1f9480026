/* Task records in the SQLite store: one row each in `tasks`.
 *
 * As in the memory store, task records are independent of the task ids
 * that schedules and jobs name: removing a task leaves them alone. */
#include <stdlib.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

static const char SQL_UPSERT[] =
    "INSERT INTO tasks(" SQ_TASK_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(id) DO UPDATE SET executor = excluded.executor, "
    "max_running_jobs = excluded.max_running_jobs, misfire_grace_time = excluded.misfire_grace_time, "
    "metadata = excluded.metadata";
static const char SQL_ALL[] = "SELECT " SQ_TASK_COLUMNS " FROM tasks ORDER BY id";
static const char SQL_DELETE[] = "DELETE FROM tasks WHERE id = ?1";

static tempo_status_t run_add(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, SQL_UPSERT, &op->err) : NULL;
    if (!stmt)
        return op->err.code;
    int brc = tempo__sq_bind_task(stmt, &op->in.task);
    if (brc != SQLITE_OK)
        return tempo__sq_fail(db, brc, &op->err, "binding task '%s'", op->in.task.id);
    rc = tempo__sq_done(db, stmt, "writing the task", &op->err);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "add_task", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = tempo__task_record_check(task, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__task_record_copy(&op->in.task, task, &op->err);
    tempo__sq_op_submit(op, run_add);
}

/* Every task, ordered by id; undecodable ones are set aside after. */
static tempo_status_t run_get(sq_op_t *op, sq_db_t *db)
{
    return tempo__sq_get(op, db, &tempo__sq_task_reader, SQL_ALL); /* op->in.ids is empty: all */
}

void tempo__sq_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_TASKS, "get_tasks", (sq_cb_t){.tasks = cb}, ud);
    if (op)
        tempo__sq_op_submit(op, run_get);
}

static tempo_status_t run_remove(sq_op_t *op, sq_db_t *db)
{
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    sqlite3_stmt *stmt = rc == TEMPO_OK ? tempo__sq_stmt(db, SQL_DELETE, &op->err) : NULL;
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, op->in.id, -1, SQLITE_STATIC);
    rc = tempo__sq_done(db, stmt, "deleting the task", &op->err);
    if (rc == TEMPO_OK && sqlite3_changes(db->handle) == 0)
        return tempo__error_set(&op->err, TEMPO_ENOTFOUND, "no task '%s'", op->in.id);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}

void tempo__sq_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud)
{
    sq_op_t *op = tempo__sq_op_begin(self, SQ_STATUS, "remove_task", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK && !tempo__id_ok(id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "task id is %s", id ? "empty" : "NULL");
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_strdup(&op->in.id, id, &op->err);
    tempo__sq_op_submit(op, run_remove);
}
