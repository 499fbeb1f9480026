/* Jobs taken at their schedule's release, and the claim of a job id's first
 * acquisition (offload thread).
 *
 * A release may ask to take its new jobs (store.h, tempo_job_take_t): the
 * releasing scheduler runs them at once instead of acquiring them back. A
 * taken job is inserted already leased — owner, until, fence 1 — so taking
 * it costs no write but the insert (on FerretDB a write of a document by
 * _id reads its whole collection twice; an insert finds its _id by the
 * unique index). Only jobs of unlimited tasks are taken: holding a task to
 * max_running_jobs across processes takes acquire_jobs' re-count
 * (mongo_job_acquire.c); the others are queued as before.
 *
 * A job id runs once (mongo_lease.c): its first acquisition claims the
 * queued state, "j:<id>:0:NONE", naming its incarnation, and a later
 * incarnation of the id meets that claim and is deleted instead of run. A
 * taken job never is in the queued state, so its maker inserts that claim
 * itself, after the job and before handing it out (nothing is written after
 * it: the lease is in the inserted document). The claim is then
 *   - ours: the job is handed out (take.fence = 1);
 *   - another incarnation's: this one is a second copy — its id was acquired
 *     before, and that copy ran or runs. It is deleted by a lease move out
 *     of (1, until), or, when a reaper claimed that state first, by the
 *     reaper, which sees the same (below);
 *   - this incarnation's, inserted by a reaper: the lease lapsed before its
 *     maker got here; the reaper reaps it. Not handed out.
 * A reaper of a job at fence 1 first inserts that claim as well (a maker
 * that died between its two inserts never did) and deletes a second copy
 * without a result. So whenever an incarnation of a job id is deleted —
 * released, reaped, or found to be a copy — the claim of the id's first
 * acquisition exists, and no later incarnation runs (while it is kept:
 * MG_CLAIM_KEEP). A job taken but never handed out (its maker died, or the
 * release failed after the insert) is reaped as ABANDONED when its lease
 * lapses, as one acquired but not reported is. */
#include <string.h>

#include "mongo_internal.h"
#include "util/error_internal.h"

/* The move out of the queued state that the first claim names (its set, a
 * lease, is what the taken job was inserted with). */
static void first_move(mg_move_t *m, const char *id, const bson_oid_t *inc, const char *owner, tempo_time_t until)
{
    tempo__mg_move_init(m, id, inc, 0, TEMPO_TIME_NONE);
    tempo__mg_move_lease(m, owner, until, 1);
}

/* Insert the first claims of the `n` moves; dup[i]: it existed. */
static tempo_status_t insert_first(mg_op_t *op, mg_conn_t *c, const mg_move_t *moves, size_t n, tempo_time_t at,
                                   bool *dup)
{
    bson_t **claims = bson_malloc0(n * sizeof *claims);
    for (size_t i = 0; i < n; i++)
        claims[i] = tempo__mg_claim_doc(MG_JOBS, &moves[i], at);
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_CLAIMS], (const bson_t *const *)claims, n, dup,
                                                "claiming the jobs taken", &op->err);
    for (size_t i = 0; i < n; i++)
        bson_destroy(claims[i]);
    bson_free(claims);
    return rc;
}

/* The first claim of `m`'s job names another incarnation (*copy), or this
 * one or none. */
static tempo_status_t names_other(mg_op_t *op, mg_conn_t *c, const mg_move_t *m, bool *copy)
{
    bson_oid_t inc;
    bool found = false;
    tempo_status_t rc = tempo__mg_claim_inc(op, c, MG_JOBS, m, &inc, &found);
    *copy = rc == TEMPO_OK && found && !bson_oid_equal(&inc, &m->inc);
    return rc;
}

/* A taken job whose first claim was there already: delete it if it is a
 * second copy (a lease move out of the state it was inserted in; lost to
 * a reaper, which then deletes it); else a reaper has it. */
static tempo_status_t settle_copy(mg_op_t *op, mg_conn_t *c, const mg_move_t *first, tempo_time_t until)
{
    bool copy = false;
    tempo_status_t rc = names_other(op, c, first, &copy);
    if (rc != TEMPO_OK || !copy)
        return rc;
    mg_move_t *gone = bson_malloc0(sizeof *gone);
    tempo__mg_move_init(gone, first->id, &first->inc, 1, until);
    gone->del = true;
    rc = tempo__mg_moves_make(op, c, MG_JOBS, gone, 1, TEMPO_TIME_NONE);
    tempo__mg_moves_free(gone, 1);
    return rc;
}

static const char *doc_id(const bson_t *doc)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : "";
}

tempo_status_t tempo__mg_take_jobs(mg_op_t *op, mg_conn_t *c, const bool *dup)
{
    const mg_in_t *in = &op->in;
    if (!in->takes)
        return TEMPO_OK;
    op->out.took = bson_malloc0(in->job_count * sizeof *op->out.took);
    mg_move_t *moves = bson_malloc0(in->job_count * sizeof *moves);
    size_t *which = bson_malloc0(in->job_count * sizeof *which);
    size_t n = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t j = 0; j < in->job_count && rc == TEMPO_OK; j++) {
        if (!in->takes[j].asked || dup[j]) /* an id that existed is never taken */
            continue;
        bson_oid_t inc = {{0}};
        rc = tempo__mg_decode_inc(in->jobs[j], &inc, &op->err);
        first_move(&moves[n], doc_id(in->jobs[j]), &inc, in->owner, in->takes[j].until);
        which[n++] = j;
    }
    bool *existed = n ? bson_malloc0(n * sizeof *existed) : NULL;
    if (rc == TEMPO_OK && n > 0)
        rc = insert_first(op, c, moves, n, tempo__mg_wall_now(), existed);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        if (!existed[i])
            op->out.took[which[i]] = true;
        else
            rc = settle_copy(op, c, &moves[i], in->takes[which[i]].until);
    }
    bson_free(existed);
    bson_free(which);
    tempo__mg_moves_free(moves, n);
    return rc;
}

tempo_status_t tempo__mg_first_claim(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                     const bson_oid_t *inc, bool *copy)
{
    *copy = false;
    mg_move_t *m = bson_malloc0(sizeof *m);
    first_move(m, job->id, inc, job->lease.owner, job->lease.until);
    bool dup = false;
    tempo_status_t rc = insert_first(op, c, m, 1, op->in.now, &dup);
    if (rc == TEMPO_OK && dup)
        rc = names_other(op, c, m, copy);
    tempo__mg_moves_free(m, 1);
    return rc;
}
