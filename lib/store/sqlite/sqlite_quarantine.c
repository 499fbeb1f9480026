/* Setting undecodable rows aside in the SQLite store.
 *
 * A row that cannot be decoded (sqlite_codec.c) moves, in the transaction
 * of the operation that met it, from its table to `quarantine`: the whole
 * row as it was (every column, one BSON field each), with its kind, id,
 * reason and when. It is never deleted. Because it left its table, every
 * later operation skips it without a flag to test — it is not listed, not
 * acquired, not counted by next_*_time, not in max_running_jobs — and it is
 * reported exactly once, by the operation (of whichever process) that moved
 * it: a second process that met the same row finds it gone and says
 * nothing. A new record may take its id again; the quarantined one stays
 * in `quarantine` for a person (or a newer tempo) to look at.
 *
 * Operations that only read (get_*) meet such rows inside a read
 * transaction; they answer without them, and set them aside afterwards in
 * a write transaction of their own (tempo__sq_quarantine_later), decoding
 * each once more under the write lock — a row that was replaced meanwhile
 * by a good one stays. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

static const char SQL_INSERT[] =
    "INSERT INTO quarantine(kind, id, reason, quarantined_at, record) VALUES(?1, ?2, ?3, ?4, ?5)";

static const char SQL_ROW_TASK[] = "SELECT * FROM tasks WHERE id = ?1";
static const char SQL_ROW_SCHEDULE[] = "SELECT * FROM schedules WHERE id = ?1";
static const char SQL_ROW_JOB[] = "SELECT * FROM jobs WHERE id = ?1";
static const char SQL_DELETE_TASK[] = "DELETE FROM tasks WHERE id = ?1";
static const char SQL_DELETE_SCHEDULE[] = "DELETE FROM schedules WHERE id = ?1";
static const char SQL_DELETE_JOB[] = "DELETE FROM jobs WHERE id = ?1";

typedef struct kind_sql {
    const char *kind;
    const char *row;
    const char *del;
    const sq_reader_t *reader; /* decodes the row again */
} kind_sql_t;

static const kind_sql_t kinds[] = {
    {"task", SQL_ROW_TASK, SQL_DELETE_TASK, &tempo__sq_task_reader},
    {"schedule", SQL_ROW_SCHEDULE, SQL_DELETE_SCHEDULE, &tempo__sq_schedule_reader},
    {"job", SQL_ROW_JOB, SQL_DELETE_JOB, &tempo__sq_job_reader},
};

static const kind_sql_t *kind_of(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

static int64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Room for one more report, made before anything moves: a record must not
 * be set aside without being reported. */
static bool report_room(sq_op_t *op)
{
    if (op->report_count < op->report_cap)
        return true;
    size_t want = op->report_cap ? op->report_cap * 2 : 4;
    sq_report_t *grown = realloc(op->reports, want * sizeof *grown);
    if (!grown)
        return false;
    op->reports = grown;
    op->report_cap = want;
    return true;
}

/* The row as a document; *found false when it is not there. */
static tempo_status_t row_doc(sq_db_t *db, const kind_sql_t *k, const char *id, bson_t *doc, bool *found,
                              tempo_error_t *err)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, k->row, err);
    if (!stmt)
        return err->code;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tempo__sq_fail(db, rc, err, "reading %s '%s' to set it aside", k->kind, id);
    bool ok = !*found || tempo__sq_row_to_bson(stmt, doc);
    sqlite3_reset(stmt);
    if (!ok) {
        bson_destroy(doc);
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory setting %s '%s' aside", k->kind, id);
    }
    return TEMPO_OK;
}

tempo_status_t tempo__sq_quarantine(sq_op_t *op, sq_db_t *db, const char *kind, const char *id,
                                    const char *reason, bool *moved)
{
    tempo_error_t *err = &op->err;
    const kind_sql_t *k = kind_of(kind);
    *moved = false;
    if (!k)
        return tempo__error_set(err, TEMPO_EINVAL, "no quarantine for records of kind '%s'", kind);
    char *id_copy = strdup(id), *reason_copy = strdup(reason);
    if (!id_copy || !reason_copy || !report_room(op)) {
        free(id_copy);
        free(reason_copy);
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory setting %s '%s' aside", kind, id);
    }
    bson_t doc;
    bool found = false;
    tempo_status_t rc = row_doc(db, k, id, &doc, &found, err);
    if (rc != TEMPO_OK || !found) {
        free(id_copy);
        free(reason_copy);
        return rc;
    }
    sqlite3_stmt *stmt = tempo__sq_stmt(db, SQL_INSERT, err);
    if (stmt) {
        sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, wall_now());
        sqlite3_bind_blob(stmt, 5, bson_get_data(&doc), (int)doc.len, SQLITE_STATIC);
        rc = tempo__sq_done(db, stmt, "setting a record aside", err);
    } else {
        rc = err->code;
    }
    bson_destroy(&doc);
    if (rc == TEMPO_OK && (stmt = tempo__sq_stmt(db, k->del, err)) != NULL) {
        sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
        rc = tempo__sq_done(db, stmt, "setting a record aside", err);
    } else if (rc == TEMPO_OK) {
        rc = err->code;
    }
    if (rc != TEMPO_OK) {
        free(id_copy);
        free(reason_copy);
        return rc;
    }
    op->reports[op->report_count++] = (sq_report_t){kind, id_copy, reason_copy};
    *moved = true;
    return TEMPO_OK;
}

/* ---- after a read ---- */

bool tempo__sq_bad_add(sq_bad_list_t *list, const char *id, const char *reason)
{
    if (list->count == list->cap) {
        size_t want = list->cap ? list->cap * 2 : 4;
        sq_bad_t *grown = realloc(list->items, want * sizeof *grown);
        if (!grown)
            return false;
        list->items = grown;
        list->cap = want;
    }
    sq_bad_t *b = &list->items[list->count];
    b->id = strdup(id);
    b->reason = strdup(reason);
    if (!b->id || !b->reason) {
        free(b->id);
        free(b->reason);
        return false;
    }
    list->count++;
    return true;
}

void tempo__sq_bad_free(sq_bad_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].id);
        free(list->items[i].reason);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* Decode the row again: TEMPO_EFORMAT (reason in *err) when it is still
 * bad, TEMPO_OK when it is fine now or gone (*gone). */
static tempo_status_t decode_again(sq_db_t *db, const kind_sql_t *k, const char *id, bool *gone,
                                   tempo_error_t *err)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, k->reader->sql_one, err);
    if (!stmt)
        return err->code;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    *gone = rc == SQLITE_DONE;
    if (rc != SQLITE_ROW)
        return *gone ? TEMPO_OK : tempo__sq_fail(db, rc, err, "reading %s '%s'", k->kind, id);
    sq_any_record_t rec;
    memset(&rec, 0, sizeof rec);
    tempo_status_t status = k->reader->read(stmt, &rec, err);
    k->reader->clear(&rec);
    sqlite3_reset(stmt);
    return status;
}

tempo_status_t tempo__sq_quarantine_later(sq_op_t *op, sq_db_t *db, const char *kind, sq_bad_list_t *bad)
{
    const kind_sql_t *k = kind_of(kind);
    if (bad->count == 0 || !k)
        return TEMPO_OK;
    size_t reported = op->report_count;
    tempo_error_t err;
    tempo_status_t rc = tempo__sq_begin(db, true, &err);
    for (size_t i = 0; i < bad->count && rc == TEMPO_OK; i++) {
        bool gone = false, moved = false;
        tempo_status_t still = decode_again(db, k, bad->items[i].id, &gone, &err);
        if (still == TEMPO_ENOMEM || (still != TEMPO_OK && still != TEMPO_EFORMAT))
            rc = still;
        else if (still == TEMPO_EFORMAT && !gone)
            rc = tempo__sq_quarantine(op, db, kind, bad->items[i].id, err.message, &moved);
    }
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &err);
    if (rc != TEMPO_OK) {
        /* Nothing moved after all: no report. The rows stay where they
         * are, skipped, until an operation manages to set them aside. */
        tempo__sq_rollback(db);
        while (op->report_count > reported) {
            op->report_count--;
            free(op->reports[op->report_count].id);
            free(op->reports[op->report_count].reason);
        }
    }
    return rc;
}

tempo_status_t tempo__sq_quarantine_all(sq_op_t *op, sq_db_t *db, const char *kind, const sq_bad_list_t *bad)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < bad->count && rc == TEMPO_OK; i++) {
        bool moved;
        rc = tempo__sq_quarantine(op, db, kind, bad->items[i].id, bad->items[i].reason, &moved);
    }
    return rc;
}
