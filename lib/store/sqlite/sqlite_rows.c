/* Reading rows in the SQLite store.
 *
 * One loop for every list the store hands out (get_*, reaping): decode each
 * row; a good one joins the answer, a bad one is skipped and listed, so the
 * caller sets it aside once the loop is over — inside its own write
 * transaction (tempo__sq_quarantine_all), or after a read-only one
 * (tempo__sq_quarantine_later). Never while the statement still steps over
 * the table the row would leave. Around it, what the kinds' files share:
 * one row by id, get_* and next_*_time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

tempo_status_t tempo__sq_collect(sq_op_t *op, sq_db_t *db, sqlite3_stmt *stmt, const sq_reader_t *reader,
                                 size_t *cap, sq_bad_list_t *bad, const char *what)
{
    tempo_status_t rc = TEMPO_OK;
    int step = SQLITE_DONE;
    while (rc == TEMPO_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        sq_any_record_t rec;
        memset(&rec, 0, sizeof rec);
        tempo_error_t why;
        tempo_status_t got = reader->read(stmt, &rec, &why);
        if (got == TEMPO_OK && !tempo__sq_out_push(op, &rec, reader->size, cap)) {
            reader->clear(&rec);
            got = TEMPO_ENOMEM;
        } else if (got != TEMPO_OK && got != TEMPO_ENOMEM &&
                   !tempo__sq_bad_add(bad, tempo__sq_row_key(stmt), why.message)) {
            got = TEMPO_ENOMEM;
        }
        if (got == TEMPO_ENOMEM)
            rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory %s", what);
    }
    if (rc == TEMPO_OK && step != SQLITE_DONE)
        rc = tempo__sq_fail(db, step, &op->err, "%s", what);
    sqlite3_reset(stmt);
    return rc;
}

tempo_status_t tempo__sq_read_one(sq_op_t *op, sq_db_t *db, const sq_reader_t *reader, const char *id, void *rec,
                                  bool *found, tempo_error_t *why)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, reader->sql_one, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    tempo_status_t status = TEMPO_OK;
    if (rc == SQLITE_ROW)
        status = reader->read(stmt, rec, why);
    else if (rc != SQLITE_DONE)
        status = tempo__sq_fail(db, rc, &op->err, "reading %s '%s'", reader->kind, id);
    sqlite3_reset(stmt);
    /* The reader said it in *why; the operation fails with it. */
    if (status == TEMPO_ENOMEM)
        tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory reading %s '%s'", reader->kind, id);
    return status;
}

/* Sorted and unique ids (tempo__sq_ids_unique) keep the answer ordered by
 * id, each once. The read is one snapshot; the set-aside comes after it. */
tempo_status_t tempo__sq_get(sq_op_t *op, sq_db_t *db, const sq_reader_t *reader, const char *sql_all)
{
    char listing[48], reading[48];
    snprintf(listing, sizeof listing, "listing %ss", reader->kind);
    snprintf(reading, sizeof reading, "reading %ss", reader->kind);
    sq_bad_list_t bad = {0};
    size_t cap = 0;
    tempo_status_t rc = tempo__sq_begin(db, false, &op->err);
    if (rc == TEMPO_OK && op->in.ids.count == 0) {
        sqlite3_stmt *stmt = tempo__sq_stmt(db, sql_all, &op->err);
        rc = stmt ? tempo__sq_collect(op, db, stmt, reader, &cap, &bad, listing) : op->err.code;
    }
    for (size_t i = 0; rc == TEMPO_OK && i < op->in.ids.count; i++) {
        sqlite3_stmt *stmt = tempo__sq_stmt(db, reader->sql_one, &op->err);
        if (!stmt) {
            rc = op->err.code;
            break;
        }
        sqlite3_bind_text(stmt, 1, op->in.ids.ids[i], -1, SQLITE_STATIC);
        rc = tempo__sq_collect(op, db, stmt, reader, &cap, &bad, reading);
    }
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, &op->err);
    if (rc == TEMPO_OK)
        tempo__sq_quarantine_later(op, db, reader->kind, &bad);
    tempo__sq_bad_free(&bad);
    return rc;
}

tempo_status_t tempo__sq_min_time(sq_op_t *op, sq_db_t *db, const char *sql, const char *what)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, &op->err);
    if (!stmt)
        return op->err.code;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER)
        op->out.when = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt); /* lets go of the read snapshot */
    return rc == SQLITE_ROW ? TEMPO_OK : tempo__sq_fail(db, rc, &op->err, "%s", what);
}
