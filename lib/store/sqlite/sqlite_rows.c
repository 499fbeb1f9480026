/* Stepping through rows into an operation's answer (SQLite store).
 *
 * One loop for every list the store hands out (get_*, reaping): decode each
 * row; a good one joins the answer, a bad one is skipped and listed, so the
 * caller sets it aside once the loop is over — inside its own write
 * transaction (tempo__sq_quarantine_all), or after a read-only one
 * (tempo__sq_quarantine_later). Never while the statement still steps over
 * the table the row would leave. */
#include <stdlib.h>
#include <string.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

/* A record on the stack big enough for any reader's kind. */
typedef union any_record {
    tempo_task_record_t task;
    tempo_schedule_record_t schedule;
    tempo_job_record_t job;
} any_record_t;

tempo_status_t tempo__sq_collect(sq_op_t *op, sq_db_t *db, sqlite3_stmt *stmt, const sq_reader_t *reader,
                                 size_t *cap, sq_bad_list_t *bad, const char *what)
{
    tempo_status_t rc = TEMPO_OK;
    int step = SQLITE_DONE;
    while (rc == TEMPO_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        any_record_t rec;
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
