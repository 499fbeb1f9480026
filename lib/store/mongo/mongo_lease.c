/* Lease moves: who changes a record's lease, decided atomically (offload
 * thread).
 *
 * What the servers guarantee. MongoDB matches and changes one document
 * atomically. FerretDB (v1.24, SQLite backend) does not: an update or a
 * delete first reads the documents its filter matches, then writes each one
 * back whole — or deletes it — by _id alone, in a later transaction. So two
 * conditional updates of one document can both "succeed", and the later one
 * silently undoes the earlier one (tests/store_mongo/test_mongo_atomic.c
 * shows it). What FerretDB does guarantee, and MongoDB too (the same test
 * checks both): an insert of an _id that exists fails (a unique index), and
 * of concurrent deletes of one document exactly one reports it deleted.
 *
 * So no decision here rests on a conditional update. Every change of a
 * lease is a move out of the lease state the mover read, (fence, until), and
 * the move first inserts the claim document of that state:
 *
 *     schedules:  _id "s:<inc>:<fence>:<until>"      (inc: the incarnation)
 *     jobs:       _id "j:<job id>:<fence>:<until>"
 *
 * Of all the processes that read the record in one state — acquirers,
 * the holder releasing or extending it, reapers — exactly one inserts that
 * claim; it alone writes the next state, by _id alone (the only filter
 * FerretDB looks up without reading the whole collection in Go; deletions
 * of many records go by one {_id: {$in}}, which it reads once). Nobody else
 * writes a record's lease fields without a claim, so when the winner writes,
 * the record is still in the state it claimed — the writes to one record
 * follow each other in the order of its states, and none of them is a stale
 * read written back late. A state is never entered twice (acquiring raises
 * the fence; extending moves `until`; releasing and giving back clear it,
 * each from a state that is never re-entered), so a claim is never in the
 * way of a later move. The others' inserts fail: an acquirer skips the
 * record, a release or extension answers ELEASE (the lease was taken over
 * or reaped), a reaper leaves it.
 *
 * Jobs are claimed by their id, not by their incarnation: a job id leaves
 * the queued state (fence 0, never leased) once. A job made again with an
 * id that already ran — a release by a schedule holder whose lease had
 * lapsed adds its jobs even so (store.h), after the new holder's copies may
 * have run and gone — meets the claim of its first incarnation and is
 * deleted instead of run twice (see resolve()). A job taken at its
 * schedule's release is inserted leased, never in the queued state: its
 * maker, or its reaper, inserts that state's claim (mongo_take.c).
 *
 * A claim whose move was never written (its maker died in between, or
 * stalled) would stop the record in that state for ever. Each store
 * remembers, by a hash of the claim's _id, when it first found a claim taken
 * (`seen`, mg_store_t); an acquirer or reaper that still finds the record in
 * that state MG_STUCK later reads the claim, and if it is that old, makes
 * its move for it: the claim carries what the move writes ("set") or that
 * it deletes ("del"). An acquisition made that way leaves a lease held by
 * the dead claimant, which lapses and is reaped or taken over as usual; a
 * maker that finds its own claim already older than MG_STUCK / 2 when the
 * insert returns leaves its move to them too, so a stalled maker and a
 * rescuer do not both write. Looking up a taken claim costs a collection
 * scan on FerretDB, hence only for claims that stayed taken that long.
 *
 * Claims are kept for MG_CLAIM_KEEP and then deleted by cleanup(): a state
 * claim only has to outlive the moves racing for it (milliseconds), a job's
 * first claim the stale releases that could make its id again (a lease
 * duration, or the time an operation can take). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mongo_internal.h"
#include "util/error_internal.h"

/* ---- moves ---- */

void tempo__mg_move_init(mg_move_t *m, const char *id, const bson_oid_t *inc, int64_t fence, tempo_time_t until)
{
    memset(m, 0, sizeof *m);
    m->id = id;
    bson_oid_copy(inc, &m->inc);
    m->fence = fence;
    m->until = until;
    m->set = bson_new();
}

void tempo__mg_move_lease(mg_move_t *m, const char *owner, tempo_time_t until, int64_t fence)
{
    tempo__mg_append_str_or_null(m->set, "owner", owner);
    BSON_APPEND_INT64(m->set, "until", until);
    BSON_APPEND_INT64(m->set, "fence", fence);
}

void tempo__mg_moves_free(mg_move_t *moves, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bson_destroy(moves[i].set);
    bson_free(moves);
}

static char *claim_id(int coll, const mg_move_t *m)
{
    if (coll == MG_JOBS)
        return bson_strdup_printf("j:%s:%lld:%lld", m->id, (long long)m->fence, (long long)m->until);
    char hex[25];
    bson_oid_to_string(&m->inc, hex);
    return bson_strdup_printf("s:%s:%lld:%lld", hex, (long long)m->fence, (long long)m->until);
}

bson_t *tempo__mg_claim_doc(int coll, const mg_move_t *m, tempo_time_t at)
{
    char *id = claim_id(coll, m);
    bson_t *doc = bson_new();
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_INT64(doc, "at", at);
    BSON_APPEND_OID(doc, "inc", &m->inc);
    if (m->del)
        BSON_APPEND_BOOL(doc, "del", true);
    else
        BSON_APPEND_DOCUMENT(doc, "set", m->set);
    bson_free(id);
    return doc;
}

tempo_status_t tempo__mg_claim_inc(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *m, bson_oid_t *inc,
                                   bool *found)
{
    char *id = claim_id(coll, m);
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_CLAIMS], &q, &opts, NULL);
    const bson_t *claim;
    bson_iter_t it;
    *found = false;
    if (mongoc_cursor_next(cur, &claim) && bson_iter_init_find(&it, claim, "inc") && BSON_ITER_HOLDS_OID(&it)) {
        bson_oid_copy(bson_iter_oid(&it), inc);
        *found = true;
    }
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading the claim '%s'", id);
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&q);
    bson_free(id);
    return rc;
}

bson_t *tempo__mg_doc_moved(const bson_t *doc, const mg_move_t *m)
{
    bson_t *out = bson_new();
    bson_iter_t it;
    if (bson_iter_init(&it, doc))
        while (bson_iter_next(&it))
            if (!bson_has_field(m->set, bson_iter_key(&it)))
                bson_append_iter(out, NULL, 0, &it);
    bson_concat(out, m->set);
    return out;
}

tempo_time_t tempo__mg_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * TEMPO_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- claims found taken ---- */

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* True when this store found the claim taken MG_STUCK ago or more (by the
 * operations' clock); remembers it otherwise, in a free slot or one from
 * another episode (8 MG_STUCK old, or from a clock that went back). A full
 * table remembers nothing new: were fresh entries replaced, more stuck
 * claims than slots — a maker that stalled over a batch of 100 — would keep
 * every entry from ever getting MG_STUCK old, and those records would never
 * move again. Kept, the entries mature and free their slots for the next. */
static bool seen_long_ago(mg_store_t *st, uint64_t h, tempo_time_t now)
{
    mg_seen_t *slot = NULL;
    for (size_t i = 0; i < MG_SEEN_SLOTS; i++) {
        mg_seen_t *s = &st->seen[i];
        bool stale = now < s->first || now - s->first >= 8 * MG_STUCK;
        if (s->hash == h) {
            if (!stale && now - s->first >= MG_STUCK) {
                s->hash = 0;
                return true;
            }
            if (stale)
                s->first = now;
            return false;
        }
        if (!slot && (s->hash == 0 || stale))
            slot = s;
    }
    if (slot) {
        slot->hash = h;
        slot->first = now;
    }
    return false;
}

/* Make a stuck claim's move for its maker, or delete a second incarnation
 * of a job id that was claimed already (see the top of the file). */
static tempo_status_t resolve(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *m, const char *id,
                              tempo_time_t now)
{
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_CLAIMS], &q, &opts, NULL);
    const bson_t *claim;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", m->id);
    tempo_status_t rc = TEMPO_OK;
    bson_error_t e;
    if (mongoc_cursor_next(cur, &claim)) {
        bson_iter_t inc, at, set;
        bool has_inc = bson_iter_init_find(&inc, claim, "inc") && BSON_ITER_HOLDS_OID(&inc);
        bool old = bson_iter_init_find(&at, claim, "at") && BSON_ITER_HOLDS_INT64(&at) &&
                   now - bson_iter_int64(&at) >= MG_STUCK;
        if (has_inc && !bson_oid_equal(bson_iter_oid(&inc), &m->inc)) {
            /* A job id claimed by an earlier incarnation: this one is a copy
             * of a job that was acquired already. */
            BSON_APPEND_OID(&filter, "inc", &m->inc);
            if (!mongoc_collection_delete_one(c->coll[coll], &filter, NULL, NULL, &e))
                rc = tempo__mg_fail(&op->err, &e, "deleting a second copy of job '%s' (it ran already)", m->id);
        } else if (has_inc && old && bson_has_field(claim, "del")) {
            if (!mongoc_collection_delete_one(c->coll[coll], &filter, NULL, NULL, &e))
                rc = tempo__mg_fail(&op->err, &e, "finishing the stuck deletion of record '%s'", m->id);
        } else if (has_inc && old && bson_iter_init_find(&set, claim, "set") && BSON_ITER_HOLDS_DOCUMENT(&set)) {
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&set, &len, &data);
            bson_t fields;
            if (bson_init_static(&fields, data, len)) {
                BSON_APPEND_DOCUMENT(&update, "$set", &fields);
                if (!mongoc_collection_update_one(c->coll[coll], &filter, &update, NULL, NULL, &e))
                    rc = tempo__mg_fail(&op->err, &e, "finishing the stuck lease move of record '%s'", m->id);
            }
        }
    }
    if (rc == TEMPO_OK && mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading the claim on record '%s'", m->id);
    mongoc_cursor_destroy(cur);
    bson_destroy(&update);
    bson_destroy(&filter);
    bson_destroy(&opts);
    bson_destroy(&q);
    return rc;
}

/* ---- making moves ---- */

/* The won moves from `*from` on, up to MG_WRITE_CHUNK of them, in one
 * unordered bulk write of single-document updates and deletes by _id (the
 * deletes left out when `skip_del`: delete_in made them). */
static tempo_status_t write_chunk(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *moves, size_t n,
                                  bool skip_del, size_t *from)
{
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c->coll[coll], &opts);
    size_t k = 0, i = *from;
    bson_error_t e;
    bool ok = true;
    for (; i < n && ok && k < MG_WRITE_CHUNK; i++) {
        if (!moves[i].won || (skip_del && moves[i].del))
            continue;
        bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", moves[i].id);
        if (moves[i].del) {
            ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &filter, NULL, &e);
        } else {
            BSON_APPEND_DOCUMENT(&update, "$set", moves[i].set);
            ok = mongoc_bulk_operation_update_one_with_opts(bulk, &filter, &update, NULL, &e);
        }
        k++;
        bson_destroy(&update);
        bson_destroy(&filter);
    }
    *from = i;
    tempo_status_t rc = TEMPO_OK;
    if (!ok) {
        rc = tempo__mg_fail(&op->err, &e, "preparing %zu lease writes", k);
    } else if (k > 0) {
        bson_t reply;
        if (!mongoc_bulk_operation_execute(bulk, &reply, &e))
            rc = tempo__mg_fail(&op->err, &e, "writing %zu leases", k);
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    return rc;
}

/* The won deletions, MG_DELETE_CHUNK per {_id: {$in}} command. The filter
 * is _id alone, as for one: each winner deletes exactly the records whose
 * states it claimed. On FerretDB a delete by _id reads the collection twice
 * (its lookup, then the SQL delete), a delete by $in once for the lot (in
 * Go, a few times slower than one SQL lookup) and deletes the rows in one
 * statement: from MG_DELETE_IN_MIN deletions on, fewer reads. */
static tempo_status_t delete_in(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *moves, size_t n)
{
    char **ids = bson_malloc0(MG_DELETE_CHUNK * sizeof *ids);
    tempo_status_t rc = TEMPO_OK;
    size_t k = 0;
    for (size_t i = 0; i <= n && rc == TEMPO_OK; i++) {
        if (i < n && moves[i].won && moves[i].del)
            ids[k++] = (char *)moves[i].id;
        if (k == 0 || (i < n && k < MG_DELETE_CHUNK))
            continue;
        bson_t filter = BSON_INITIALIZER;
        tempo__mg_q_in(&filter, "_id", ids, k);
        bson_error_t e;
        if (!mongoc_collection_delete_many(c->coll[coll], &filter, NULL, NULL, &e))
            rc = tempo__mg_fail(&op->err, &e, "deleting %zu records", k);
        bson_destroy(&filter);
        k = 0;
    }
    bson_free(ids);
    return rc;
}

static tempo_status_t write_moves(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *moves, size_t n)
{
    size_t dels = 0;
    for (size_t i = 0; i < n; i++)
        dels += moves[i].won && moves[i].del;
    bool in = dels >= (c->st->scans ? MG_DELETE_IN_MIN : 2);
    tempo_status_t rc = in ? delete_in(op, c, coll, moves, n) : TEMPO_OK;
    size_t from = 0;
    while (from < n && rc == TEMPO_OK)
        rc = write_chunk(op, c, coll, moves, n, in, &from);
    return rc;
}

tempo_status_t tempo__mg_moves_make(mg_op_t *op, mg_conn_t *c, int coll, mg_move_t *moves, size_t n,
                                    tempo_time_t now)
{
    if (n == 0)
        return TEMPO_OK;
    tempo_time_t at = now != TEMPO_TIME_NONE ? now : tempo__mg_wall_now();
    bson_t **claims = bson_malloc0(n * sizeof *claims);
    bool *dup = bson_malloc0(n * sizeof *dup);
    for (size_t i = 0; i < n; i++)
        claims[i] = tempo__mg_claim_doc(coll, &moves[i], at);
    int64_t began = mono_us();
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_CLAIMS], (const bson_t *const *)claims, n, dup,
                                                "claiming lease states", &op->err);
    /* A maker this slow leaves its moves to the others (top of the file). */
    bool late = mono_us() - began >= MG_STUCK / 2;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        moves[i].won = !dup[i] && !late;
        if (!dup[i] || now == TEMPO_TIME_NONE)
            continue;
        bson_iter_t it;
        const char *id = bson_iter_init_find(&it, claims[i], "_id") ? bson_iter_utf8(&it, NULL) : "";
        if (seen_long_ago(c->st, hash_text(id), now))
            rc = resolve(op, c, coll, &moves[i], id, now);
    }
    if (rc == TEMPO_OK)
        rc = write_moves(op, c, coll, moves, n);
    if (rc != TEMPO_OK)
        for (size_t i = 0; i < n; i++)
            moves[i].won = false;
    for (size_t i = 0; i < n; i++)
        bson_destroy(claims[i]);
    bson_free(claims);
    bson_free(dup);
    return rc;
}

/* ---- cleanup ---- */

tempo_status_t tempo__mg_claims_cleanup(mg_op_t *op, mg_conn_t *c, tempo_time_t now)
{
    tempo_time_t before;
    if (__builtin_sub_overflow(now, MG_CLAIM_KEEP, &before))
        return TEMPO_OK; /* nothing can be that old */
    /* The claims collection is the store's largest (a few claims per job)
     * and deleting by age reads it whole on FerretDB: once per
     * MG_CLAIM_KEEP / 4 per store is plenty for claims kept MG_CLAIM_KEEP. */
    mg_store_t *st = c->st;
    if (st->claims_cleaned != 0 && now >= st->claims_cleaned && now - st->claims_cleaned < MG_CLAIM_KEEP / 4)
        return TEMPO_OK;
    bson_t filter = BSON_INITIALIZER;
    tempo__mg_q_cmp(&filter, "at", "$lt", before);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_many(c->coll[MG_CLAIMS], &filter, NULL, NULL, &e))
        rc = tempo__mg_fail(&op->err, &e, "deleting old claims");
    else
        st->claims_cleaned = now;
    bson_destroy(&filter);
    return rc;
}
