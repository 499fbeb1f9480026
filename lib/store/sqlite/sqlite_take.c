/* The acquisition rounds acquire_schedules and acquire_jobs share (SQLite
 * store); sqlite_acquire.c and sqlite_job_acquire.c say which records are
 * due, in which order, and how a lease shows on one of their kind.
 *
 * Exclusivity across processes comes from the IMMEDIATE transaction (the
 * file's write lock, taken before the first read) and from the lease being
 * a conditional UPDATE that repeats the due test: a record some other
 * connection leased first is not leased again, and no lease is counted that
 * the UPDATE did not make (sqlite3_changes). */
#include <stdlib.h>
#include <string.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

/* The conditional update: *leased true when this connection leased it. */
static tempo_status_t lease_one(sq_op_t *op, sq_db_t *db, const sq_taker_t *t, const char *id, bool *leased)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, t->sql_lease, &op->err);
    if (!stmt)
        return op->err.code;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, op->in.owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, op->in.now + op->in.lease);
    sqlite3_bind_int64(stmt, 4, op->in.now);
    tempo_status_t rc = tempo__sq_done(db, stmt, t->leasing, &op->err);
    *leased = rc == TEMPO_OK && sqlite3_changes(db->handle) == 1;
    return rc;
}

/* Decode, then lease: a record that does not decode is set aside instead
 * of leased (*bad true). The answer shows the lease it got. A record gone
 * meanwhile, or leased by another connection first, is skipped. */
static tempo_status_t take_one(sq_op_t *op, sq_db_t *db, const sq_taker_t *t, const char *id, size_t *cap,
                               bool *bad)
{
    sq_any_record_t rec, leased_rec;
    memset(&rec, 0, sizeof rec);
    memset(&leased_rec, 0, sizeof leased_rec);
    tempo_error_t why;
    bool found = false, leased = false;
    tempo_status_t rc = tempo__sq_read_one(op, db, t->reader, id, &rec, &found, &why);
    *bad = found && rc == TEMPO_EFORMAT;
    if (*bad) {
        bool moved;
        return tempo__sq_quarantine(op, db, t->reader->kind, id, why.message, &moved);
    }
    if (rc == TEMPO_OK && found)
        rc = lease_one(op, db, t, id, &leased);
    if (rc == TEMPO_OK && leased) {
        rc = t->copy_leased(&leased_rec, &rec, op->in.owner, op->in.now + op->in.lease, &op->err);
        if (rc == TEMPO_OK && !tempo__sq_out_push(op, &leased_rec, t->reader->size, cap)) {
            t->reader->clear(&leased_rec);
            rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory acquiring %ss", t->reader->kind);
        }
    }
    t->reader->clear(&rec);
    return rc;
}

tempo_status_t tempo__sq_acquire(sq_op_t *op, sq_db_t *db, const sq_taker_t *t)
{
    size_t cap = 0, rounds = 0;
    tempo_status_t rc = tempo__sq_begin(db, true, &op->err);
    bool again = true;
    while (rc == TEMPO_OK && again && op->out.count < op->in.limit) {
        sq_ids_t ids = {0};
        again = false;
        rounds++;
        rc = t->choose(op, db, op->in.limit - op->out.count, &ids);
        for (size_t i = 0; rc == TEMPO_OK && i < ids.count; i++) {
            bool bad = false;
            rc = take_one(op, db, t, ids.ids[i], &cap, &bad);
            again = again || bad;
        }
        tempo__sq_ids_free(&ids);
    }
    if (rc == TEMPO_OK && rounds > 1 && op->out.count > 1)
        qsort(op->out.recs, op->out.count, t->reader->size, t->order);
    return rc == TEMPO_OK ? tempo__sq_commit(db, &op->err) : rc;
}
