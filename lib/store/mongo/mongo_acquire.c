/* Acquiring and releasing schedules, and next_schedule_time.
 *
 * Due: {paused: false, next_fire_time in (NONE, now], until <= now}. An
 * unheld schedule has until = NONE (INT64_MIN), so "not leased, or lease
 * expired" is the one comparison until <= now (a schedule whose holder died
 * is taken over), and a finished one has next_fire_time = NONE. Candidates come from the "due" index in
 * (next_fire_time, _id) order; mongo_lease.c decides which ones we get. */
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
static tempo_status_t answer_got(mg_op_t *op, mg_conn_t *c, mg_cand_t *cands, size_t n)
{
    tempo_schedule_record_t *recs = n ? bson_malloc0(n * sizeof *recs) : NULL;
    size_t k = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        if (!cands[i].got)
            continue;
        tempo_error_t why;
        if (tempo__mg_decode_schedule(cands[i].got, &recs[k], &why) == TEMPO_OK)
            k++;
        else
            rc = tempo__mg_quarantine(op, c, &tempo__mg_schedules_kind, cands[i].got, why.message);
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

static tempo_status_t run_acquire(mg_op_t *op, mg_conn_t *c)
{
    if (op->in.limit == 0)
        return TEMPO_OK;
    tempo_time_t now = op->in.now, until = now + op->in.lease;
    bson_t cond, opts;
    due_cond(&cond, now);
    tempo__mg_q_opts(&opts, MG_KEYS("next_fire_time", "_id"), op->in.limit);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_schedules_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &cond, &opts, op->in.limit, &l);
    mg_cand_t *cands = l.count ? bson_malloc0(l.count * sizeof *cands) : NULL;
    for (size_t i = 0; i < l.count && rc == TEMPO_OK; i++) {
        const tempo_schedule_record_t *s = tempo__mg_list_at(&l, i);
        cands[i].id = s->id;
        cands[i].fence = s->lease.fence;
        rc = tempo__mg_decode_inc(l.docs[i], &cands[i].inc, &op->err);
    }
    if (rc == TEMPO_OK)
        rc = tempo__mg_lease_take(op, c, MG_SCHEDULES, &cond, op->in.owner, now, until, cands, l.count);
    if (rc == TEMPO_OK)
        rc = answer_got(op, c, cands, l.count);
    for (size_t i = 0; i < l.count; i++)
        if (cands[i].got)
            bson_destroy(cands[i].got);
    bson_free(cands);
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

/* ---- release ---- */

/* Update one schedule if `owner` still holds it with this fence: new
 * times, lease cleared, fence kept. */
static tempo_status_t release_one(mg_op_t *op, mg_conn_t *c, const mg_release_t *r, bool *released)
{
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    BSON_APPEND_UTF8(&filter, "_id", r->id);
    BSON_APPEND_UTF8(&filter, "owner", op->in.owner);
    BSON_APPEND_INT64(&filter, "fence", r->fence);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_INT64(&set, "next_fire_time", r->next_fire_time);
    BSON_APPEND_INT64(&set, "last_fire_time", r->last_fire_time);
    BSON_APPEND_NULL(&set, "owner");
    BSON_APPEND_INT64(&set, "until", TEMPO_TIME_NONE);
    bson_append_document_end(&update, &set);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_update_one(c->coll[MG_SCHEDULES], &filter, &update, NULL, &reply, &e))
        rc = tempo__mg_fail(&op->err, &e, "releasing schedule '%s'", r->id);
    else
        *released = tempo__mg_reply_count(&reply, "matchedCount") == 1;
    bson_destroy(&reply);
    bson_destroy(&update);
    bson_destroy(&filter);
    return rc;
}

/* Jobs first (idempotently: an id that exists is skipped), so a finished
 * schedule they name survives its release. Without transactions a failure
 * half way leaves what was done: some jobs added (a retry skips them), some
 * schedules released (a retry finds them released: ELEASE). */
static tempo_status_t run_release(mg_op_t *op, mg_conn_t *c)
{
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_JOBS], (const bson_t *const *)op->in.jobs,
                                                op->in.job_count, NULL, "adding the jobs of the release", &op->err);
    if (rc != TEMPO_OK)
        return rc;
    size_t n = op->in.release_count;
    op->out.statuses = n ? bson_malloc0(n * sizeof *op->out.statuses) : NULL;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        bool released = false;
        rc = release_one(op, c, &op->in.releases[i], &released);
        op->out.statuses[i] = released ? TEMPO_OK : TEMPO_ELEASE;
        if (rc == TEMPO_OK && released && op->in.releases[i].next_fire_time == TEMPO_TIME_NONE)
            rc = tempo__mg_collect_finished(op, c, op->in.releases[i].id);
    }
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

/* ---- next time ---- */

/* Held schedules in lease-expiry order: the answer is the least
 * max(next_fire_time, until); once `until` reaches the best so far, no later
 * one can beat it. */
typedef struct wake {
    tempo_time_t best;
} wake_t;

static bool held_one(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    wake_t *w = ctx;
    const tempo_schedule_record_t *s = rec;
    if (w->best != TEMPO_TIME_NONE && s->lease.until >= w->best)
        return false;
    tempo_time_t at = s->next_fire_time > s->lease.until ? s->next_fire_time : s->lease.until;
    if (w->best == TEMPO_TIME_NONE || at < w->best)
        w->best = at;
    return true;
}

static bool first_one(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    ((wake_t *)ctx)->best = ((const tempo_schedule_record_t *)rec)->next_fire_time;
    return false;
}

static tempo_status_t run_next_time(mg_op_t *op, mg_conn_t *c)
{
    wake_t w = {TEMPO_TIME_NONE};
    bson_t unheld = BSON_INITIALIZER, held = BSON_INITIALIZER, by_next, by_until;
    BSON_APPEND_BOOL(&unheld, "paused", false);
    tempo__mg_q_cmp(&unheld, "next_fire_time", "$gt", TEMPO_TIME_NONE);
    BSON_APPEND_INT64(&unheld, "until", TEMPO_TIME_NONE);
    BSON_APPEND_BOOL(&held, "paused", false);
    tempo__mg_q_cmp(&held, "next_fire_time", "$gt", TEMPO_TIME_NONE);
    tempo__mg_q_cmp(&held, "until", "$gt", TEMPO_TIME_NONE);
    tempo__mg_q_opts(&by_next, MG_KEYS("next_fire_time"), 0);
    tempo__mg_q_opts(&by_until, MG_KEYS("until"), 0);
    tempo_status_t rc = tempo__mg_scan(op, c, &tempo__mg_schedules_kind, &unheld, &by_next, first_one, &w);
    if (rc == TEMPO_OK)
        rc = tempo__mg_scan(op, c, &tempo__mg_schedules_kind, &held, &by_until, held_one, &w);
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
