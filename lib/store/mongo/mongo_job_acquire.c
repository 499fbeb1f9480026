/* acquire_jobs, and max_running_jobs across processes.
 *
 * A job is acquirable when its task is listed, due <= now, and it is not
 * held: until = NONE. A job whose lease expired is not taken over — it waits
 * for reap_abandoned, which reports it ABANDONED (store.h) — but its slot is
 * free from the expiry on. Candidates come per task from the "queue"
 * index: one query for the listed tasks without a limit, and one per limited
 * task with a free slot, asking for no more than its free slots — so a task
 * at its limit costs nothing, and its queued jobs never crowd out other
 * tasks' jobs from the batch. The candidates are merged in (due, created_at,
 * id) order, cut to `limit`, and taken by mongo_lease.c.
 *
 * max_running_jobs counts the unexpired job leases of the task, of every
 * owner: a killed worker's slots come back when its leases expire
 * (APScheduler #1110). Counting before taking is not enough when several
 * processes acquire at once — each may see the same free slot. So after
 * taking, each acquirer counts again and gives back its own excess:
 *
 *     kept = max - (count now - taken by this acquisition), at least 0,
 *
 * keeping the oldest of what it took. Why the limit holds: take the
 * acquirer L whose re-count comes last. Every other acquirer wrote its
 * leases before its own re-count, so before L's: L's re-count sees all of
 * them, and L keeps at most max minus what the others hold at that moment.
 * What the others hold afterwards only shrinks (their own give-backs, expiry,
 * releases). So once the racers have given back their excess, at most max
 * leases are unexpired — and a job is handed to its caller only after that
 * acquirer's give-back, so at most max jobs of the task ever *run* at once.
 * A racer may give back more than needed (two racers each seeing the
 * other): fewer jobs run for one round, never more. Leases written but not
 * yet given back (milliseconds; or a crash in between) block their slots
 * until they expire, never more than one lease duration. */
#include <stdlib.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

/* ---- counting ---- */

/* running[i] = unexpired leases of tasks[i] (only the limited ones), by one
 * query returning the task id of each. */
static tempo_status_t count_running(mg_op_t *op, mg_conn_t *c, size_t *running)
{
    const mg_in_t *in = &op->in;
    char **limited = bson_malloc0((in->task_count + 1) * sizeof *limited);
    size_t n = 0;
    for (size_t i = 0; i < in->task_count; i++) {
        running[i] = 0;
        if (in->tasks[i].max > 0)
            limited[n++] = in->tasks[i].id;
    }
    tempo_status_t rc = TEMPO_OK;
    if (n > 0) {
        bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
        tempo__mg_q_in(&filter, "task_id", limited, n);
        tempo__mg_q_cmp(&filter, "until", "$gt", in->now);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "task_id", 1);
        bson_append_document_end(&opts, &proj);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_JOBS], &filter, &opts, NULL);
        const bson_t *doc;
        while (mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            if (!bson_iter_init_find(&it, doc, "task_id") || !BSON_ITER_HOLDS_UTF8(&it))
                continue;
            for (size_t i = 0; i < in->task_count; i++)
                if (strcmp(in->tasks[i].id, bson_iter_utf8(&it, NULL)) == 0)
                    running[i]++;
        }
        bson_error_t e;
        if (mongoc_cursor_error(cur, &e))
            rc = tempo__mg_fail(&op->err, &e, "counting running jobs");
        mongoc_cursor_destroy(cur);
        bson_destroy(&opts);
        bson_destroy(&filter);
    }
    bson_free(limited);
    return rc;
}

/* ---- candidates ---- */

/* Acquirable at `now`: of these tasks, due, never leased (a job whose lease
 * expired waits for reap_abandoned: store.h). A job given back over the
 * limit is unheld again (until NONE) and so acquirable. */
static void due_cond(bson_t *cond, char *const *task_ids, size_t n, tempo_time_t now)
{
    bson_init(cond);
    tempo__mg_q_in(cond, "task_id", task_ids, n);
    tempo__mg_q_cmp(cond, "due", "$lte", now);
    BSON_APPEND_INT64(cond, "until", TEMPO_TIME_NONE);
}

/* Append up to `max` candidates of these tasks to `l`. */
static tempo_status_t find_due(mg_op_t *op, mg_conn_t *c, char *const *task_ids, size_t n, size_t max,
                               mg_list_t *l)
{
    bson_t filter, opts;
    due_cond(&filter, task_ids, n, op->in.now);
    tempo__mg_q_opts(&opts, MG_KEYS("due", "created_at", "_id"), max);
    size_t cap = max > SIZE_MAX - l->count ? 0 : l->count + max; /* 0: no cap */
    tempo_status_t rc = tempo__mg_find(op, c, &filter, &opts, cap, l);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

static tempo_status_t find_candidates(mg_op_t *op, mg_conn_t *c, const size_t *running, mg_list_t *l)
{
    const mg_in_t *in = &op->in;
    char **open = bson_malloc0((in->task_count + 1) * sizeof *open);
    size_t n = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < in->task_count; i++)
        if (in->tasks[i].max == 0)
            open[n++] = in->tasks[i].id;
    if (n > 0)
        rc = find_due(op, c, open, n, in->limit, l);
    for (size_t i = 0; i < in->task_count && rc == TEMPO_OK; i++) {
        size_t max = (size_t)in->tasks[i].max;
        if (max == 0 || running[i] >= max)
            continue;
        size_t free_slots = max - running[i];
        rc = find_due(op, c, &in->tasks[i].id, 1, free_slots < in->limit ? free_slots : in->limit, l);
    }
    bson_free(open);
    return rc;
}

static int by_due(const void *a, const void *b)
{
    const tempo_job_record_t *x = a, *y = b;
    tempo_time_t dx = tempo__mg_job_due(x), dy = tempo__mg_job_due(y);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* A candidate and its document, sorted together. */
typedef struct pair {
    tempo_job_record_t rec;
    bson_t *doc;
} pair_t;

static int pair_by_due(const void *a, const void *b)
{
    return by_due(&((const pair_t *)a)->rec, &((const pair_t *)b)->rec);
}

/* Order the merged candidates (records and their documents together) and
 * keep the first `limit`. */
static void merge(mg_list_t *l, size_t limit)
{
    size_t n = l->count;
    pair_t *pairs = bson_malloc0(n * sizeof *pairs);
    tempo_job_record_t *recs = l->recs;
    for (size_t i = 0; i < n; i++)
        pairs[i] = (pair_t){recs[i], l->docs[i]};
    qsort(pairs, n, sizeof *pairs, pair_by_due);
    for (size_t i = 0; i < n; i++) {
        recs[i] = pairs[i].rec;
        l->docs[i] = pairs[i].doc;
    }
    bson_free(pairs);
    while (l->count > limit)
        tempo__mg_list_remove(l, l->count - 1);
}

/* ---- the limit, after taking ---- */

static size_t task_index(const mg_in_t *in, const char *task_id)
{
    for (size_t i = 0; i < in->task_count; i++)
        if (strcmp(in->tasks[i].id, task_id) == 0)
            return i;
    return SIZE_MAX;
}

/* kept[t]: how many of what this acquisition took of limited task t it may
 * keep: max - (unexpired leases now - taken by it), at least 0. */
static void slots_to_keep(const mg_in_t *in, const mg_list_t *l, bson_t *const *got, const size_t *running,
                          size_t *kept)
{
    size_t *taken = bson_malloc0(in->task_count * sizeof *taken);
    for (size_t i = 0; i < l->count; i++) {
        size_t t = got[i] ? task_index(in, ((const tempo_job_record_t *)tempo__mg_list_at(l, i))->task_id)
                          : SIZE_MAX;
        if (t != SIZE_MAX)
            taken[t]++;
    }
    for (size_t t = 0; t < in->task_count; t++) {
        size_t others = running[t] > taken[t] ? running[t] - taken[t] : 0;
        size_t max = (size_t)in->tasks[t].max;
        kept[t] = max == 0 ? SIZE_MAX : others >= max ? 0 : max - others;
    }
    bson_free(taken);
}

/* Count again and give back this acquisition's excess, its newest first
 * (l is in queue order); see the top of the file. A give-back is a lease
 * move too, out of the state just written (mongo_lease.c). */
static tempo_status_t enforce_limits(mg_op_t *op, mg_conn_t *c, const mg_list_t *l, const mg_move_t *taken,
                                     bson_t **got)
{
    const mg_in_t *in = &op->in;
    size_t *running = bson_malloc0(in->task_count * sizeof *running);
    size_t *kept = bson_malloc0(in->task_count * sizeof *kept);
    mg_move_t *excess = bson_malloc0(l->count * sizeof *excess);
    size_t nexcess = 0;
    tempo_status_t rc = count_running(op, c, running);
    if (rc == TEMPO_OK)
        slots_to_keep(in, l, got, running, kept);
    for (size_t i = 0; i < l->count && rc == TEMPO_OK; i++) {
        size_t t = got[i] ? task_index(in, ((const tempo_job_record_t *)tempo__mg_list_at(l, i))->task_id)
                          : SIZE_MAX;
        if (t == SIZE_MAX || kept[t] == SIZE_MAX)
            continue;
        if (kept[t] > 0) {
            kept[t]--;
            continue;
        }
        bson_destroy(got[i]);
        got[i] = NULL;
        mg_move_t *m = &excess[nexcess++];
        tempo__mg_move_init(m, taken[i].id, &taken[i].inc, taken[i].fence + 1, in->now + in->lease);
        tempo__mg_move_lease(m, NULL, TEMPO_TIME_NONE, taken[i].fence + 1);
    }
    if (rc == TEMPO_OK)
        rc = tempo__mg_moves_make(op, c, MG_JOBS, excess, nexcess, in->now);
    tempo__mg_moves_free(excess, nexcess);
    bson_free(kept);
    bson_free(running);
    return rc;
}

/* ---- acquire ---- */

static tempo_status_t answer_got(mg_op_t *op, mg_conn_t *c, bson_t **got, size_t n)
{
    tempo_job_record_t *recs = n ? bson_malloc0(n * sizeof *recs) : NULL;
    size_t k = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        if (!got[i])
            continue;
        tempo_error_t why;
        if (tempo__mg_decode_job(got[i], &recs[k], &why) == TEMPO_OK)
            k++;
        else
            rc = tempo__mg_quarantine(op, c, &tempo__mg_jobs_kind, got[i], why.message);
    }
    if (rc != TEMPO_OK || k == 0) {
        tempo__job_records_free(recs, n);
        return rc;
    }
    qsort(recs, k, sizeof *recs, by_due);
    op->out.recs = recs;
    op->out.count = k;
    return TEMPO_OK;
}

static bool any_limited(const mg_in_t *in)
{
    for (size_t i = 0; i < in->task_count; i++)
        if (in->tasks[i].max > 0)
            return true;
    return false;
}

/* One lease move per candidate, out of the queued state it was read in
 * (mongo_lease.c): the moves won are ours. */
static tempo_status_t take(mg_op_t *op, mg_conn_t *c, mg_list_t *l)
{
    const mg_in_t *in = &op->in;
    mg_move_t *moves = bson_malloc0(l->count * sizeof *moves);
    bson_t **got = bson_malloc0(l->count * sizeof *got);
    size_t n = 0;
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < l->count && rc == TEMPO_OK; i++, n++) {
        const tempo_job_record_t *j = tempo__mg_list_at(l, i);
        bson_oid_t inc = {{0}};
        rc = tempo__mg_decode_inc(l->docs[i], &inc, &op->err);
        tempo__mg_move_init(&moves[i], j->id, &inc, j->lease.fence, j->lease.until);
        tempo__mg_move_lease(&moves[i], in->owner, in->now + in->lease, j->lease.fence + 1);
    }
    if (rc == TEMPO_OK)
        rc = tempo__mg_moves_make(op, c, MG_JOBS, moves, n, in->now);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        if (moves[i].won)
            got[i] = tempo__mg_doc_moved(l->docs[i], &moves[i]);
    if (rc == TEMPO_OK && any_limited(in))
        rc = enforce_limits(op, c, l, moves, got);
    if (rc == TEMPO_OK)
        rc = answer_got(op, c, got, n);
    for (size_t i = 0; i < n; i++)
        if (got[i])
            bson_destroy(got[i]);
    bson_free(got);
    tempo__mg_moves_free(moves, n);
    return rc;
}

static tempo_status_t run_acquire_jobs(mg_op_t *op, mg_conn_t *c)
{
    if (op->in.limit == 0 || op->in.task_count == 0)
        return TEMPO_OK;
    size_t *running = bson_malloc0(op->in.task_count * sizeof *running);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_jobs_kind);
    tempo_status_t rc = count_running(op, c, running);
    if (rc == TEMPO_OK)
        rc = find_candidates(op, c, running, &l);
    if (rc == TEMPO_OK && l.count > 0) {
        merge(&l, op->in.limit);
        rc = take(op, c, &l);
    }
    tempo__mg_list_free(&l);
    bson_free(running);
    return rc;
}

void tempo__mg_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                            size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                            tempo_store_jobs_cb cb, void *ud)
{
    mg_op_t *op =
        tempo__mg_op_new(self, MG_CB_JOBS, "acquire_jobs", (mg_cb_t){.jobs = cb}, ud, run_acquire_jobs);
    op->urgent = true; /* the lease lane (mongo_internal.h) */
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_lease_args(owner, now, lease, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_copy_tasks(&op->in, tasks, task_count, &op->err);
    if (op->status == TEMPO_OK) {
        op->in.owner = bson_strdup(owner);
        op->in.now = now;
        op->in.lease = lease;
        op->in.limit = limit;
    }
    tempo__mg_op_submit(op);
}
