/* Acquiring and releasing schedules, and next_schedule_time.
 *
 * Due: {paused: false, next_fire_time in (NONE, now], until <= now}. An
 * unheld schedule has until = NONE (INT64_MIN), so "not leased, or lease
 * expired" is the one comparison until <= now (a schedule whose holder died
 * is taken over), and a finished one has next_fire_time = NONE. Candidates
 * come in (next_fire_time, _id) order; which ones we get, and whether a
 * release still holds, is decided by lease moves (mongo_lease.c). */
#include <stdlib.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

/* Acquirable at `now`: due, unpaused, unfinished, not held (until NONE) or
 * held by an expired lease (taken over). */
static void due_cond(bson_t *cond, tempo_time_t now)
{
    bson_init(cond);
    BSON_APPEND_BOOL(cond, "paused", false);
    tempo__mg_q_range(cond, "next_fire_time", TEMPO_TIME_NONE, now);
    tempo__mg_q_cmp(cond, "until", "$lte", now);
}

static int by_next_then_id(const void *a, const void *b)
{
    const tempo_schedule_record_t *x = a, *y = b;
    if (x->next_fire_time != y->next_fire_time)
        return x->next_fire_time < y->next_fire_time ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* ---- acquire ---- */

/* Decode what we got (quarantining a record damaged meanwhile) into the
 * answer, earliest first. */
static tempo_status_t answer_got(mg_op_t *op, mg_conn_t *c, bson_t **got, size_t n)
{
    tempo_schedule_record_t *recs = n ? bson_malloc0(n * sizeof *recs) : NULL;
    size_t k = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        if (!got[i])
            continue;
        tempo_error_t why;
        if (tempo__mg_decode_schedule(got[i], &recs[k], &why) == TEMPO_OK)
            k++;
        else
            rc = tempo__mg_quarantine(op, c, &tempo__mg_schedules_kind, got[i], why.message);
    }
    if (rc != TEMPO_OK || k == 0) {
        tempo__schedule_records_free(recs, n);
        return rc;
    }
    qsort(recs, k, sizeof *recs, by_next_then_id);
    op->out.recs = recs;
    op->out.count = k;
    return TEMPO_OK;
}

/* Claim rounds over the candidates, in order: the first `limit`, then as
 * many of the next as the round before lost. Processes acquiring at once
 * read the same candidates in the same order, so the losers of the first
 * round would otherwise come back with nothing, having paid a scan of the
 * collection for it (FerretDB); a round is one claims insert. */
#define ROUNDS 3

static tempo_status_t claim_rounds(mg_op_t *op, mg_conn_t *c, mg_move_t *moves, size_t n, size_t limit)
{
    size_t from = 0, won = 0;
    tempo_status_t rc = TEMPO_OK;
    for (int round = 0; round < ROUNDS && rc == TEMPO_OK && won < limit && from < n; round++) {
        size_t k = limit - won < n - from ? limit - won : n - from;
        rc = tempo__mg_moves_make(op, c, MG_SCHEDULES, moves + from, k, op->in.now);
        for (size_t i = from; i < from + k; i++)
            won += moves[i].won;
        from += k;
    }
    return rc;
}

/* Candidates in (next_fire_time, _id) order — twice the limit, for the
 * rounds — then one lease move each out of the state it was read in
 * (mongo_lease.c): the moves won are ours. */
static tempo_status_t run_acquire(mg_op_t *op, mg_conn_t *c)
{
    if (op->in.limit == 0)
        return TEMPO_OK;
    tempo_time_t now = op->in.now, until = now + op->in.lease;
    size_t read = op->in.limit > SIZE_MAX / 2 ? op->in.limit : 2 * op->in.limit;
    bson_t cond, opts;
    due_cond(&cond, now);
    tempo__mg_q_opts(&opts, MG_KEYS("next_fire_time", "_id"), read);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_schedules_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &cond, &opts, read, &l);
    mg_move_t *moves = l.count ? bson_malloc0(l.count * sizeof *moves) : NULL;
    bson_t **got = l.count ? bson_malloc0(l.count * sizeof *got) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < l.count && rc == TEMPO_OK; i++, n++) {
        const tempo_schedule_record_t *s = tempo__mg_list_at(&l, i);
        bson_oid_t inc = {{0}};
        rc = tempo__mg_decode_inc(l.docs[i], &inc, &op->err);
        tempo__mg_move_init(&moves[i], s->id, &inc, s->lease.fence, s->lease.until);
        tempo__mg_move_lease(&moves[i], op->in.owner, until, s->lease.fence + 1);
    }
    if (rc == TEMPO_OK)
        rc = claim_rounds(op, c, moves, n, op->in.limit);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        if (moves[i].won)
            got[i] = tempo__mg_doc_moved(l.docs[i], &moves[i]);
    if (rc == TEMPO_OK)
        rc = answer_got(op, c, got, n);
    for (size_t i = 0; i < n; i++)
        if (got[i])
            bson_destroy(got[i]);
    bson_free(got);
    tempo__mg_moves_free(moves, n);
    tempo__mg_list_free(&l);
    bson_destroy(&opts);
    bson_destroy(&cond);
    return rc;
}

void tempo__mg_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                 size_t limit, tempo_store_schedules_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_SCHEDULES, "acquire_schedules", (mg_cb_t){.schedules = cb}, ud,
                                   run_acquire);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_lease_args(owner, now, lease, &op->err);
    if (op->status == TEMPO_OK) {
        op->in.owner = bson_strdup(owner);
        op->in.now = now;
        op->in.lease = lease;
        op->in.limit = limit;
    }
    tempo__mg_op_submit(op);
}

/* ---- release ----
 *
 * Jobs first (idempotently: an id that exists is skipped), even for an
 * entry whose lease was lost (store.h), so a finished schedule they name
 * survives its release; those the caller asks to take are added leased to
 * it (mongo_take.c). Then each entry still held by this owner and fence,
 * as read, moves out of that lease state: new times, lease cleared, fence
 * kept (mongo_lease.c). A takeover of a lapsed lease claims the same state,
 * so of a late release and a takeover exactly one wins; the release that
 * loses answers ELEASE and changes nothing. Without transactions a failure
 * half way leaves what was done: some jobs added (a retry skips them), some
 * schedules released (a retry finds them released: ELEASE). */

/* The documents of the entries, by id (NULL: missing). */
static tempo_status_t read_entries(mg_op_t *op, mg_conn_t *c, mg_list_t *l)
{
    size_t n = op->in.release_count;
    char **ids = bson_malloc0((n + 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = op->in.releases[i].id;
    bson_t filter = BSON_INITIALIZER;
    tempo__mg_q_in(&filter, "_id", ids, n);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, NULL, 0, l);
    bson_destroy(&filter);
    bson_free(ids);
    return rc;
}

static size_t entry_index(const mg_list_t *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(((const tempo_schedule_record_t *)tempo__mg_list_at(l, i))->id, id) == 0)
            return i;
    return SIZE_MAX;
}

/* The jobs, idempotently, then the first claims of those taken
 * (mongo_take.c). */
static tempo_status_t add_jobs(mg_op_t *op, mg_conn_t *c)
{
    size_t n = op->in.job_count;
    bool *dup = n ? bson_malloc0(n * sizeof *dup) : NULL;
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_JOBS], (const bson_t *const *)op->in.jobs, n, dup,
                                                "adding the jobs of the release", &op->err);
    if (rc == TEMPO_OK)
        rc = tempo__mg_take_jobs(op, c, dup);
    bson_free(dup);
    return rc;
}

static tempo_status_t run_release(mg_op_t *op, mg_conn_t *c)
{
    tempo_status_t rc = add_jobs(op, c);
    if (rc != TEMPO_OK)
        return rc;
    size_t n = op->in.release_count;
    op->out.statuses = n ? bson_malloc0(n * sizeof *op->out.statuses) : NULL;
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_schedules_kind);
    rc = read_entries(op, c, &l);
    mg_move_t *moves = n ? bson_malloc0(n * sizeof *moves) : NULL;
    size_t *entry = n ? bson_malloc0(n * sizeof *entry) : NULL;
    size_t m = 0;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        const mg_release_t *r = &op->in.releases[i];
        size_t k = entry_index(&l, r->id);
        const tempo_schedule_record_t *s = k == SIZE_MAX ? NULL : tempo__mg_list_at(&l, k);
        op->out.statuses[i] = TEMPO_ELEASE;
        if (!s || !s->lease.owner || strcmp(s->lease.owner, op->in.owner) != 0 || s->lease.fence != r->fence)
            continue;
        bson_oid_t inc = {{0}};
        rc = tempo__mg_decode_inc(l.docs[k], &inc, &op->err);
        tempo__mg_move_init(&moves[m], r->id, &inc, s->lease.fence, s->lease.until);
        BSON_APPEND_INT64(moves[m].set, "next_fire_time", r->next_fire_time);
        BSON_APPEND_INT64(moves[m].set, "last_fire_time", r->last_fire_time);
        tempo__mg_move_lease(&moves[m], NULL, TEMPO_TIME_NONE, s->lease.fence);
        entry[m++] = i;
    }
    if (rc == TEMPO_OK)
        rc = tempo__mg_moves_make(op, c, MG_SCHEDULES, moves, m, TEMPO_TIME_NONE);
    for (size_t j = 0; j < m && rc == TEMPO_OK; j++) {
        const mg_release_t *r = &op->in.releases[entry[j]];
        op->out.statuses[entry[j]] = moves[j].won ? TEMPO_OK : TEMPO_ELEASE;
        /* A finished schedule goes with its last job; one its own jobs name
         * (just added, or there already) stays — no need to look. */
        if (moves[j].won && r->next_fire_time == TEMPO_TIME_NONE && !r->named)
            rc = tempo__mg_collect_finished(op, c, r->id);
    }
    tempo__mg_moves_free(moves, m);
    bson_free(entry);
    tempo__mg_list_free(&l);
    return rc;
}

void tempo__mg_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                 size_t count, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_RELEASE, "release_schedules", (mg_cb_t){.status = cb}, ud,
                                   run_release);
    /* Entry statuses are written just before the callback, whatever the
     * outcome, so the array must live until then (store.h). */
    op->out.entries = releases;
    op->out.entry_count = releases ? count : 0;
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_copy_releases(&op->in, owner, releases, count, &op->err);
    tempo__mg_op_submit(op);
}

/* ---- next time ----
 *
 * The least max(next_fire_time, until) over unpaused, unfinished schedules
 * (an unheld one has until NONE, so it counts from its next time; a held one
 * from its lease's expiry). Whole records are read, so this meets
 * undecodable ones too. On MongoDB two index walks that stop early: the
 * first unheld schedule by next time, then held ones by expiry until the
 * expiry reaches the best so far. On FerretDB (st->scans) each of those
 * would read and sort the whole collection, so one unsorted pass over it
 * instead — what every idle process's poll costs there. */

typedef struct wake {
    tempo_time_t best;
} wake_t;

static tempo_time_t wake_at(const tempo_schedule_record_t *s)
{
    return s->next_fire_time > s->lease.until ? s->next_fire_time : s->lease.until;
}

static bool held_one(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    wake_t *w = ctx;
    const tempo_schedule_record_t *s = rec;
    if (w->best != TEMPO_TIME_NONE && s->lease.until >= w->best)
        return false;
    if (w->best == TEMPO_TIME_NONE || wake_at(s) < w->best)
        w->best = wake_at(s);
    return true;
}

static bool first_one(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    ((wake_t *)ctx)->best = ((const tempo_schedule_record_t *)rec)->next_fire_time;
    return false;
}

static bool any_one(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    wake_t *w = ctx;
    if (w->best == TEMPO_TIME_NONE || wake_at(rec) < w->best)
        w->best = wake_at(rec);
    return true;
}

static void live_cond(bson_t *cond)
{
    bson_init(cond);
    BSON_APPEND_BOOL(cond, "paused", false);
    tempo__mg_q_cmp(cond, "next_fire_time", "$gt", TEMPO_TIME_NONE);
}

static tempo_status_t run_next_time(mg_op_t *op, mg_conn_t *c)
{
    wake_t w = {TEMPO_TIME_NONE};
    bson_t unheld, held, by_next, by_until;
    live_cond(&unheld);
    live_cond(&held);
    BSON_APPEND_INT64(&unheld, "until", TEMPO_TIME_NONE);
    tempo__mg_q_cmp(&held, "until", "$gt", TEMPO_TIME_NONE);
    tempo__mg_q_opts(&by_next, MG_KEYS("next_fire_time"), 0);
    tempo__mg_q_opts(&by_until, MG_KEYS("until"), 0);
    tempo_status_t rc;
    if (c->st->scans) {
        bson_t live;
        live_cond(&live);
        rc = tempo__mg_scan(op, c, &tempo__mg_schedules_kind, &live, NULL, any_one, &w);
        bson_destroy(&live);
    } else {
        rc = tempo__mg_scan(op, c, &tempo__mg_schedules_kind, &unheld, &by_next, first_one, &w);
        if (rc == TEMPO_OK)
            rc = tempo__mg_scan(op, c, &tempo__mg_schedules_kind, &held, &by_until, held_one, &w);
    }
    if (rc == TEMPO_OK)
        op->out.when = w.best;
    bson_destroy(&by_until);
    bson_destroy(&by_next);
    bson_destroy(&held);
    bson_destroy(&unheld);
    return rc;
}

void tempo__mg_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_TIME, "next_schedule_time", (mg_cb_t){.time = cb}, ud,
                                   run_next_time);
    tempo__mg_op_submit(op);
}
