/* The acquisition core: who gets a record (offload thread).
 *
 * An acquisition finds candidates, then for each one:
 *
 *   1. claims its next fence: inserts {_id: "<inc>:<fence + 1>"} into
 *      <prefix>claims. _id is unique, so of all the acquirers that saw the
 *      record at fence f, exactly one inserts claim f + 1 — the only atomic
 *      primitive we rely on, and one that FerretDB provides too (its updates
 *      are a read followed by a write, so two concurrent conditional updates
 *      of one document can both "succeed" there; an insert of a duplicate
 *      _id cannot).
 *   2. writes the leases of the claims it won with conditional updates:
 *         {_id, fence: f, <the acquisition predicate, lease condition included>}
 *         -> {owner: us, until: now + lease, fence: f + 1}
 *      On MongoDB each document's match and change are atomic, so even
 *      without the claims one record could not be leased twice; the
 *      predicate is re-checked for each record as it is leased.
 *   3. re-reads the records: the ones showing (us, until, f + 1) are ours.
 *
 * "inc" is the record's incarnation, an ObjectId made when the record is
 * created (kept by an add with REPLACE, like the fence): a record removed and
 * added again starts at fence 0 with a new inc, so old claims never stand in
 * its way.
 *
 * A claim whose lease was never written (its owner crashed between 1 and 2,
 * or the record changed so that 2 no longer matched) would stop the record at
 * fence f for ever, since nobody else can claim f + 1. So an acquirer that
 * finds claim f + 1 taken while the record is still at f rolls the record
 * forward: it writes that claim's lease (owner, until, f + 1) into the record
 * (conditional on fence f). The claim's holder then owns the record until its
 * lease expires, exactly as if it had written it — no one runs anything twice,
 * and the record comes back at most one lease later. An acquirer whose write
 * did not stick deletes its own claim at once, so the usual case costs
 * nothing.
 *
 * Claims are kept for MG_CLAIM_KEEP and then deleted by cleanup(): a claim
 * only has to outlive the acquisitions racing for it, which last milliseconds
 * (an acquirer that stalled longer and claims an old fence anyway is stopped
 * by step 2's fence condition). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongo_internal.h"
#include "util/error_internal.h"

#define CLAIM_ID_MAX 64

static void claim_id(char *buf, const bson_oid_t *inc, int64_t fence)
{
    char hex[25];
    bson_oid_to_string(inc, hex);
    snprintf(buf, CLAIM_ID_MAX, "%s:%lld", hex, (long long)fence);
}

static bson_t *claim_doc(const mg_cand_t *cand, const char *owner, tempo_time_t now, tempo_time_t until)
{
    char id[CLAIM_ID_MAX];
    claim_id(id, &cand->inc, cand->fence + 1);
    bson_t *doc = bson_new();
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "owner", owner);
    BSON_APPEND_INT64(doc, "until", until);
    BSON_APPEND_INT64(doc, "at", now);
    return doc;
}

/* {_id, inc} of a candidate. */
static void identity(bson_t *filter, const mg_cand_t *cand)
{
    BSON_APPEND_UTF8(filter, "_id", cand->id);
    BSON_APPEND_OID(filter, "inc", &cand->inc);
}

/* {$set: {owner, until, fence}}; a negative fence is left out. */
static void lease_set(bson_t *update, const char *owner, tempo_time_t until, int64_t fence)
{
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
    tempo__mg_append_str_or_null(&set, "owner", owner);
    BSON_APPEND_INT64(&set, "until", until);
    if (fence >= 0)
        BSON_APPEND_INT64(&set, "fence", fence);
    bson_append_document_end(update, &set);
}

/* Claim f + 1 is someone else's while the record may still be at f: write
 * that claim's lease into the record (see the top of the file). */
static tempo_status_t roll_forward(mg_op_t *op, mg_conn_t *c, int coll, const mg_cand_t *cand)
{
    char id[CLAIM_ID_MAX];
    claim_id(id, &cand->inc, cand->fence + 1);
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_CLAIMS], &q, &opts, NULL);
    const bson_t *claim;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
    tempo_status_t rc = TEMPO_OK;
    bson_error_t e;
    if (mongoc_cursor_next(cur, &claim)) {
        bson_iter_t owner, until;
        if (bson_iter_init_find(&owner, claim, "owner") && BSON_ITER_HOLDS_UTF8(&owner) &&
            bson_iter_init_find(&until, claim, "until") && BSON_ITER_HOLDS_INT64(&until)) {
            identity(&filter, cand);
            BSON_APPEND_INT64(&filter, "fence", cand->fence);
            lease_set(&update, bson_iter_utf8(&owner, NULL), bson_iter_int64(&until), cand->fence + 1);
            if (!mongoc_collection_update_one(c->coll[coll], &filter, &update, NULL, NULL, &e))
                rc = tempo__mg_fail(&op->err, &e, "rolling record '%s' forward to its claimed fence", cand->id);
        }
    }
    if (rc == TEMPO_OK && mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading the claim on record '%s'", cand->id);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(&opts);
    bson_destroy(&q);
    return rc;
}

/* Step 2 for the claims won, in one update per MG_WRITE_CHUNK records:
 *     {$or: [{_id, fence: f}...], <cond>} -> {$set: {owner, until}, $inc: {fence: 1}}
 * Each document is matched and changed atomically (MongoDB), so `cond` — the
 * whole acquisition predicate, lease condition included — is re-checked for
 * each record at the moment it is leased, and the fence condition ties the
 * write to the claim: only the holder of claim f + 1 writes fence f + 1. A
 * record already rolled forward to our claim shows our lease (and f + 1):
 * it no longer matches, and the re-read counts it as ours. The chunks keep
 * each server call short on a slow server (FerretDB's SQLite backend takes
 * milliseconds per document written), within socketTimeoutMS. */
static void chunk_filter(bson_t *filter, const bson_t *cond, const mg_cand_t *cands, const bool *dup,
                         size_t from, size_t to)
{
    bson_t or, branch;
    BSON_APPEND_ARRAY_BEGIN(filter, "$or", &or);
    uint32_t k = 0;
    for (size_t i = from; i < to; i++) {
        if (dup[i])
            continue;
        char key[16];
        const char *kp;
        bson_uint32_to_string(k++, &kp, key, sizeof key);
        BSON_APPEND_DOCUMENT_BEGIN(&or, kp, &branch);
        BSON_APPEND_UTF8(&branch, "_id", cands[i].id);
        BSON_APPEND_INT64(&branch, "fence", cands[i].fence);
        bson_append_document_end(&or, &branch);
    }
    bson_append_array_end(filter, &or);
    bson_concat(filter, cond);
}

static tempo_status_t write_leases(mg_op_t *op, mg_conn_t *c, int coll, const bson_t *cond, const char *owner,
                                   tempo_time_t until, const mg_cand_t *cands, const bool *dup, size_t n)
{
    tempo_status_t rc = TEMPO_OK;
    size_t from = 0;
    while (from < n && rc == TEMPO_OK) {
        size_t to = from, won = 0;
        while (to < n && won < MG_WRITE_CHUNK)
            won += !dup[to++];
        if (won > 0) {
            bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, inc;
            chunk_filter(&filter, cond, cands, dup, from, to);
            lease_set(&update, owner, until, -1);
            BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
            BSON_APPEND_INT64(&inc, "fence", 1);
            bson_append_document_end(&update, &inc);
            bson_error_t e;
            if (!mongoc_collection_update_many(c->coll[coll], &filter, &update, NULL, NULL, &e))
                rc = tempo__mg_fail(&op->err, &e, "writing %zu leases", won);
            bson_destroy(&update);
            bson_destroy(&filter);
        }
        from = to;
    }
    return rc;
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(const mg_cand_t *const *)a)->id, (*(const mg_cand_t *const *)b)->id);
}

static mg_cand_t *find_cand(mg_cand_t **sorted, size_t n, const char *id)
{
    mg_cand_t key = {.id = id}, *pkey = &key;
    mg_cand_t **hit = bsearch(&pkey, sorted, n, sizeof *sorted, by_id);
    return hit ? *hit : NULL;
}

static bool shows_lease(const bson_t *doc, const mg_cand_t *cand, const char *owner, tempo_time_t until)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, "inc") && BSON_ITER_HOLDS_OID(&it) &&
           bson_oid_equal(bson_iter_oid(&it), &cand->inc) && bson_iter_init_find(&it, doc, "owner") &&
           BSON_ITER_HOLDS_UTF8(&it) && strcmp(bson_iter_utf8(&it, NULL), owner) == 0 &&
           bson_iter_init_find(&it, doc, "until") && BSON_ITER_HOLDS_INT64(&it) &&
           bson_iter_int64(&it) == until && bson_iter_init_find(&it, doc, "fence") &&
           BSON_ITER_HOLDS_INT64(&it) && bson_iter_int64(&it) == cand->fence + 1;
}

/* Step 3: which records show our lease. */
static tempo_status_t reread(mg_op_t *op, mg_conn_t *c, int coll, const char *owner, tempo_time_t until,
                             mg_cand_t *cands, const bool *dup, size_t n)
{
    mg_cand_t **sorted = bson_malloc0(n * sizeof *sorted);
    size_t m = 0;
    bson_t filter = BSON_INITIALIZER, in, list;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            continue;
        char key[16];
        const char *k;
        bson_uint32_to_string((uint32_t)m, &k, key, sizeof key);
        BSON_APPEND_UTF8(&list, k, cands[i].id);
        sorted[m++] = &cands[i];
    }
    bson_append_array_end(&in, &list);
    bson_append_document_end(&filter, &in);
    qsort(sorted, m, sizeof *sorted, by_id);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[coll], &filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        mg_cand_t *cand = find_cand(sorted, m, bson_iter_utf8(&it, NULL));
        if (cand && !cand->got && shows_lease(doc, cand, owner, until))
            cand->got = bson_copy(doc);
    }
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading back %zu leased records", m);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_free(sorted);
    return rc;
}

/* Our claims whose lease did not stick: give the fence back at once (best
 * effort; a leftover is rolled forward by the next acquirer). */
static void unclaim_lost(mg_conn_t *c, const char *owner, const mg_cand_t *cands, const bool *dup, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (dup[i] || cands[i].got)
            continue;
        char id[CLAIM_ID_MAX];
        claim_id(id, &cands[i].inc, cands[i].fence + 1);
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", id);
        BSON_APPEND_UTF8(&filter, "owner", owner);
        mongoc_collection_delete_one(c->coll[MG_CLAIMS], &filter, NULL, NULL, NULL);
        bson_destroy(&filter);
    }
}

tempo_status_t tempo__mg_lease_take(mg_op_t *op, mg_conn_t *c, int coll, const bson_t *cond, const char *owner,
                                    tempo_time_t now, tempo_time_t until, mg_cand_t *cands, size_t n)
{
    if (n == 0)
        return TEMPO_OK;
    bson_t **claims = bson_malloc0(n * sizeof *claims);
    bool *dup = bson_malloc0(n * sizeof *dup);
    for (size_t i = 0; i < n; i++)
        claims[i] = claim_doc(&cands[i], owner, now, until);
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_CLAIMS], (const bson_t *const *)claims, n, dup,
                                                "claiming records", &op->err);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        if (dup[i])
            rc = roll_forward(op, c, coll, &cands[i]);
    if (rc == TEMPO_OK)
        rc = write_leases(op, c, coll, cond, owner, until, cands, dup, n);
    if (rc == TEMPO_OK)
        rc = reread(op, c, coll, owner, until, cands, dup, n);
    if (rc == TEMPO_OK)
        unclaim_lost(c, owner, cands, dup, n);
    for (size_t i = 0; i < n; i++)
        bson_destroy(claims[i]);
    bson_free(claims);
    bson_free(dup);
    return rc;
}

tempo_status_t tempo__mg_lease_drop(mg_op_t *op, mg_conn_t *c, int coll, const char *owner, mg_cand_t *cands,
                                    size_t n)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
        identity(&filter, &cands[i]);
        BSON_APPEND_UTF8(&filter, "owner", owner);
        BSON_APPEND_INT64(&filter, "fence", cands[i].fence + 1);
        lease_set(&update, NULL, TEMPO_TIME_NONE, cands[i].fence + 1);
        bson_error_t e;
        if (!mongoc_collection_update_one(c->coll[coll], &filter, &update, NULL, NULL, &e))
            rc = tempo__mg_fail(&op->err, &e, "giving back the lease of record '%s'", cands[i].id);
        bson_destroy(&filter);
        bson_destroy(&update);
    }
    return rc;
}

tempo_status_t tempo__mg_claims_cleanup(mg_op_t *op, mg_conn_t *c, tempo_time_t now)
{
    tempo_time_t before;
    if (__builtin_sub_overflow(now, MG_CLAIM_KEEP, &before))
        return TEMPO_OK; /* nothing can be that old */
    bson_t filter = BSON_INITIALIZER, lt;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "at", &lt);
    BSON_APPEND_INT64(&lt, "$lt", before);
    bson_append_document_end(&filter, &lt);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_many(c->coll[MG_CLAIMS], &filter, NULL, NULL, &e))
        rc = tempo__mg_fail(&op->err, &e, "deleting old claims");
    bson_destroy(&filter);
    return rc;
}
