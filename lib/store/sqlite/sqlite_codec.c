/* Records <-> rows in the SQLite store.
 *
 * Writing binds a record's fields in the order of its SQ_*_COLUMNS list:
 * times and durations that are NONE become NULL, documents that are NULL or
 * empty become NULL, every other document its BSON bytes.
 *
 * Reading trusts nothing: the file may have been written by a newer tempo,
 * damaged, or edited by hand. Every column's type is checked, every document
 * is validated before use, the trigger must load, and the decoded record
 * must pass the same checks as a record handed to add_* (records.h). The
 * first fault wins and becomes the reason — "schedule 'nightly': field
 * 'trigger_doc': trigger: unknown trigger type 'sunrise'" — and the caller
 * sets the row aside (sqlite_quarantine.c). Only running out of memory is an
 * error of the operation itself. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

/* ---- writing ---- */

static int bind_doc(sqlite3_stmt *stmt, int idx, const bson_t *doc)
{
    if (!doc || bson_empty(doc))
        return sqlite3_bind_null(stmt, idx);
    return sqlite3_bind_blob(stmt, idx, bson_get_data(doc), (int)doc->len, SQLITE_STATIC);
}

static int bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    return s ? sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, idx);
}

/* The first failure among a run of bind calls. */
#define BIND(call)              \
    do {                        \
        if (rc == SQLITE_OK)    \
            rc = (call);        \
    } while (0)

int tempo__sq_bind_task(sqlite3_stmt *stmt, const tempo_task_record_t *t)
{
    int rc = SQLITE_OK;
    BIND(bind_text(stmt, 1, t->id));
    BIND(sqlite3_bind_int(stmt, 2, (int)t->executor));
    BIND(sqlite3_bind_int(stmt, 3, t->max_running_jobs));
    BIND(tempo__sq_bind_time(stmt, 4, t->misfire_grace_time));
    BIND(bind_doc(stmt, 5, t->metadata));
    return rc;
}

int tempo__sq_bind_schedule(sqlite3_stmt *stmt, const tempo_schedule_record_t *s, const bson_t *trigger_doc)
{
    int rc = SQLITE_OK;
    BIND(bind_text(stmt, 1, s->id));
    BIND(bind_text(stmt, 2, s->task_id));
    BIND(sqlite3_bind_blob(stmt, 3, bson_get_data(trigger_doc), (int)trigger_doc->len, SQLITE_STATIC));
    BIND(bind_doc(stmt, 4, s->args));
    BIND(sqlite3_bind_int(stmt, 5, (int)s->coalesce));
    BIND(tempo__sq_bind_time(stmt, 6, s->misfire_grace_time));
    BIND(sqlite3_bind_int64(stmt, 7, s->max_jitter));
    BIND(sqlite3_bind_int(stmt, 8, s->jitter_deterministic));
    BIND(sqlite3_bind_int(stmt, 9, s->paused));
    BIND(sqlite3_bind_int64(stmt, 10, s->job_result_expiration));
    BIND(tempo__sq_bind_time(stmt, 11, s->next_fire_time));
    BIND(tempo__sq_bind_time(stmt, 12, s->last_fire_time));
    BIND(bind_doc(stmt, 13, s->metadata));
    return rc;
}

int tempo__sq_bind_job(sqlite3_stmt *stmt, const tempo_job_record_t *j)
{
    int rc = SQLITE_OK;
    BIND(bind_text(stmt, 1, j->id));
    BIND(bind_text(stmt, 2, j->task_id));
    BIND(bind_text(stmt, 3, j->schedule_id));
    BIND(bind_doc(stmt, 4, j->args));
    BIND(tempo__sq_bind_time(stmt, 5, j->scheduled_fire_time));
    BIND(tempo__sq_bind_time(stmt, 6, j->original_fire_time));
    BIND(tempo__sq_bind_time(stmt, 7, j->start_deadline));
    BIND(sqlite3_bind_int64(stmt, 8, j->result_expiration));
    BIND(sqlite3_bind_int64(stmt, 9, j->created_at));
    return rc;
}

/* ---- reading ---- */

/* One row being decoded; `rc` keeps the first failure. */
typedef struct row {
    sqlite3_stmt *stmt;
    const char *kind;
    const char *id;
    tempo_error_t *err;
    tempo_status_t rc;
} row_t;

static void bad(row_t *r, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(row_t *r, int col, const char *fmt, ...)
{
    if (r->rc != TEMPO_OK)
        return;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *field = sqlite3_column_name(r->stmt, col);
    r->rc = tempo__error_set(r->err, TEMPO_EFORMAT, "%s '%s': field '%s' %s", r->kind, r->id,
                             field ? field : "?", what);
}

static const char *type_name(int type)
{
    switch (type) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a real number";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a blob";
    default: return "NULL";
    }
}

static const char *col_text(row_t *r, int col, bool nullable)
{
    int type = sqlite3_column_type(r->stmt, col);
    if (type == SQLITE_NULL && nullable)
        return NULL;
    if (type != SQLITE_TEXT) {
        bad(r, col, "is %s, not text", type_name(type));
        return NULL;
    }
    const char *s = (const char *)sqlite3_column_text(r->stmt, col);
    if (!s) {
        r->rc = r->rc ? r->rc : tempo__error_set(r->err, TEMPO_ENOMEM, "out of memory reading a %s", r->kind);
        return NULL;
    }
    if (strlen(s) != (size_t)sqlite3_column_bytes(r->stmt, col))
        bad(r, col, "holds a NUL character");
    return s;
}

/* NULL reads as `none` when nullable (TEMPO_TIME_NONE / DURATION_NONE). */
static int64_t col_int(row_t *r, int col, bool nullable)
{
    int type = sqlite3_column_type(r->stmt, col);
    if (type == SQLITE_NULL && nullable)
        return INT64_MIN;
    if (type != SQLITE_INTEGER) {
        bad(r, col, "is %s, not an integer", type_name(type));
        return 0;
    }
    int64_t v = sqlite3_column_int64(r->stmt, col);
    if (v == INT64_MIN)
        bad(r, col, "holds INT64_MIN, which is written as NULL");
    return v;
}

static int col_int32(row_t *r, int col)
{
    int64_t v = col_int(r, col, false);
    if (v < INT_MIN || v > INT_MAX) {
        bad(r, col, "is %lld, out of range", (long long)v);
        return 0;
    }
    return (int)v;
}

/* A view of the BSON bytes in the row (valid until the next step), or
 * NULL for NULL. */
static const bson_t *col_doc(row_t *r, int col, bson_t *storage, bool required)
{
    int type = sqlite3_column_type(r->stmt, col);
    if (type == SQLITE_NULL && !required)
        return NULL;
    if (type != SQLITE_BLOB) {
        bad(r, col, "is %s, not a BSON document", type_name(type));
        return NULL;
    }
    const uint8_t *data = sqlite3_column_blob(r->stmt, col);
    int n = sqlite3_column_bytes(r->stmt, col);
    if (!data || n < 5 || !bson_init_static(storage, data, (size_t)n)) {
        bad(r, col, "is not a BSON document (%d bytes, or a length that does not match)", n);
        return NULL;
    }
    size_t offset = 0;
    if (!bson_validate(storage, BSON_VALIDATE_NONE, &offset)) {
        bad(r, col, "is a corrupt BSON document (at byte %zu)", offset);
        return NULL;
    }
    return storage;
}

/* The decoded record must also be one add_* would accept. */
static void check(row_t *r, tempo_status_t status, const tempo_error_t *e)
{
    if (r->rc == TEMPO_OK && status != TEMPO_OK)
        r->rc = tempo__error_set(r->err, TEMPO_EFORMAT, "%s", e->message);
}

static void lease_of(row_t *r, int col, tempo_lease_t *lease)
{
    lease->owner = col_text(r, col, true);
    lease->until = col_int(r, col + 1, true);
    lease->fence = col_int(r, col + 2, false);
    if (!lease->owner)
        lease->until = TEMPO_TIME_NONE; /* a lease without owner is no lease */
}

static const char *row_id(row_t *r)
{
    const char *id = col_text(r, 0, false);
    r->id = id ? id : "?";
    return id;
}

tempo_status_t tempo__sq_read_task(sqlite3_stmt *stmt, tempo_task_record_t *out, tempo_error_t *err)
{
    row_t r = {stmt, "task", "?", err, TEMPO_OK};
    bson_t meta;
    tempo_task_record_t v = {0};
    v.id = row_id(&r);
    v.executor = (tempo_executor_t)col_int32(&r, 1);
    v.max_running_jobs = col_int32(&r, 2);
    v.misfire_grace_time = col_int(&r, 3, true);
    v.metadata = col_doc(&r, 4, &meta, false);
    tempo_error_t e;
    if (r.rc == TEMPO_OK)
        check(&r, tempo__task_record_check(&v, &e), &e);
    if (r.rc == TEMPO_OK)
        r.rc = tempo__task_record_copy(out, &v, err);
    return r.rc;
}

/* The trigger document, loaded. */
static tempo_trigger_t *col_trigger(row_t *r, int col)
{
    bson_t storage;
    const bson_t *doc = col_doc(r, col, &storage, true);
    if (!doc)
        return NULL;
    tempo_trigger_t *trigger = NULL;
    tempo_error_t e;
    tempo_status_t status = tempo_trigger_from_bson(doc, &trigger, &e);
    if (status == TEMPO_ENOMEM)
        r->rc = r->rc ? r->rc : tempo__error_set(r->err, TEMPO_ENOMEM, "%s", e.message);
    else if (status != TEMPO_OK)
        bad(r, col, "does not load: %s", e.message);
    return trigger;
}

tempo_status_t tempo__sq_read_schedule(sqlite3_stmt *stmt, tempo_schedule_record_t *out, tempo_error_t *err)
{
    row_t r = {stmt, "schedule", "?", err, TEMPO_OK};
    bson_t args, meta;
    tempo_schedule_record_t v = {0};
    v.id = row_id(&r);
    v.task_id = col_text(&r, 1, false);
    v.trigger = r.rc == TEMPO_OK ? col_trigger(&r, 2) : NULL;
    v.args = col_doc(&r, 3, &args, false);
    v.coalesce = (tempo_coalesce_t)col_int32(&r, 4);
    v.misfire_grace_time = col_int(&r, 5, true);
    v.max_jitter = col_int(&r, 6, false);
    v.jitter_deterministic = col_int(&r, 7, false) != 0;
    v.paused = col_int(&r, 8, false) != 0;
    v.job_result_expiration = col_int(&r, 9, false);
    v.next_fire_time = col_int(&r, 10, true);
    v.last_fire_time = col_int(&r, 11, true);
    v.metadata = col_doc(&r, 12, &meta, false);
    lease_of(&r, 13, &v.lease);
    tempo_error_t e;
    if (r.rc == TEMPO_OK)
        check(&r, tempo__schedule_record_check(&v, &e), &e);
    if (r.rc == TEMPO_OK)
        r.rc = tempo__schedule_record_copy(out, &v, err);
    tempo_trigger_free(v.trigger); /* the copy holds its own reference */
    return r.rc;
}

tempo_status_t tempo__sq_read_job(sqlite3_stmt *stmt, tempo_job_record_t *out, tempo_error_t *err)
{
    row_t r = {stmt, "job", "?", err, TEMPO_OK};
    bson_t args;
    tempo_job_record_t v = {0};
    v.id = row_id(&r);
    v.task_id = col_text(&r, 1, false);
    v.schedule_id = col_text(&r, 2, true);
    v.args = col_doc(&r, 3, &args, false);
    v.scheduled_fire_time = col_int(&r, 4, true);
    v.original_fire_time = col_int(&r, 5, true);
    v.start_deadline = col_int(&r, 6, true);
    v.result_expiration = col_int(&r, 7, false);
    v.created_at = col_int(&r, 8, false);
    lease_of(&r, 9, &v.lease);
    tempo_error_t e;
    if (r.rc == TEMPO_OK)
        check(&r, tempo__job_record_check(&v, &e), &e);
    if (r.rc == TEMPO_OK)
        r.rc = tempo__job_record_copy(out, &v, err);
    return r.rc;
}

tempo_status_t tempo__sq_read_result(sqlite3_stmt *stmt, tempo_job_result_t *out, tempo_error_t *err)
{
    row_t r = {stmt, "result of job", "?", err, TEMPO_OK};
    bson_t value;
    tempo_job_result_t v = {0};
    v.job_id = row_id(&r);
    v.task_id = col_text(&r, 1, false);
    v.schedule_id = col_text(&r, 2, true);
    v.outcome = (tempo_outcome_t)col_int32(&r, 3);
    v.scheduled_fire_time = col_int(&r, 4, true);
    v.started_at = col_int(&r, 5, true);
    v.finished_at = col_int(&r, 6, false);
    v.expires_at = col_int(&r, 7, false);
    v.return_value = col_doc(&r, 8, &value, false);
    v.error = col_text(&r, 9, true);
    tempo_error_t e;
    if (r.rc == TEMPO_OK)
        check(&r, tempo__job_result_check(&v, &e), &e);
    if (r.rc == TEMPO_OK)
        r.rc = tempo__job_result_copy(out, &v, err);
    return r.rc;
}

/* ---- a whole row, for the quarantine ---- */

bool tempo__sq_row_to_bson(sqlite3_stmt *stmt, bson_t *doc)
{
    bson_init(doc);
    bool ok = true;
    int n = sqlite3_column_count(stmt);
    for (int i = 0; i < n && ok; i++) {
        const char *name = sqlite3_column_name(stmt, i);
        if (!name)
            return false;
        int type = sqlite3_column_type(stmt, i);
        const uint8_t *bytes = NULL;
        int len = 0;
        switch (type) {
        case SQLITE_INTEGER: ok = BSON_APPEND_INT64(doc, name, sqlite3_column_int64(stmt, i)); break;
        case SQLITE_FLOAT: ok = BSON_APPEND_DOUBLE(doc, name, sqlite3_column_double(stmt, i)); break;
        case SQLITE_TEXT:
            bytes = sqlite3_column_text(stmt, i);
            len = sqlite3_column_bytes(stmt, i);
            if (bytes && bson_utf8_validate((const char *)bytes, (size_t)len, false))
                ok = BSON_APPEND_UTF8(doc, name, (const char *)bytes);
            else
                ok = BSON_APPEND_BINARY(doc, name, BSON_SUBTYPE_BINARY, bytes ? bytes : (const uint8_t *)"",
                                        (uint32_t)len);
            break;
        case SQLITE_BLOB:
            bytes = sqlite3_column_blob(stmt, i);
            len = sqlite3_column_bytes(stmt, i);
            ok = BSON_APPEND_BINARY(doc, name, BSON_SUBTYPE_BINARY, bytes ? bytes : (const uint8_t *)"",
                                    (uint32_t)len);
            break;
        default: ok = BSON_APPEND_NULL(doc, name); break;
        }
    }
    return ok;
}

/* ---- readers behind one signature ---- */

const char *tempo__sq_row_key(sqlite3_stmt *stmt)
{
    const char *key = (const char *)sqlite3_column_text(stmt, 0);
    return key ? key : "?";
}

static tempo_status_t read_task_any(sqlite3_stmt *stmt, void *out, tempo_error_t *err)
{
    return tempo__sq_read_task(stmt, out, err);
}

static tempo_status_t read_schedule_any(sqlite3_stmt *stmt, void *out, tempo_error_t *err)
{
    return tempo__sq_read_schedule(stmt, out, err);
}

static tempo_status_t read_job_any(sqlite3_stmt *stmt, void *out, tempo_error_t *err)
{
    return tempo__sq_read_job(stmt, out, err);
}

static void clear_task_any(void *rec)
{
    tempo__task_record_clear(rec);
}

static void clear_schedule_any(void *rec)
{
    tempo__schedule_record_clear(rec);
}

static void clear_job_any(void *rec)
{
    tempo__job_record_clear(rec);
}

static const char SQL_ONE_TASK[] = "SELECT " SQ_TASK_COLUMNS " FROM tasks WHERE id = ?1";
static const char SQL_ONE_SCHEDULE[] = "SELECT " SQ_SCHEDULE_COLUMNS " FROM schedules WHERE id = ?1";
static const char SQL_ONE_JOB[] = "SELECT " SQ_JOB_COLUMNS " FROM jobs WHERE id = ?1";

const sq_reader_t tempo__sq_task_reader = {"task", SQL_ONE_TASK, sizeof(tempo_task_record_t), read_task_any,
                                           clear_task_any};
const sq_reader_t tempo__sq_schedule_reader = {"schedule", SQL_ONE_SCHEDULE, sizeof(tempo_schedule_record_t),
                                               read_schedule_any, clear_schedule_any};
const sq_reader_t tempo__sq_job_reader = {"job", SQL_ONE_JOB, sizeof(tempo_job_record_t), read_job_any,
                                          clear_job_any};
