/* Job records in the MongoDB store: add, get, release (with the result),
 * next_job_time and reaping.
 *
 * A job document holds the record's fields, "due" (its effective fire time:
 * scheduled_fire_time, or created_at for a job queued "now" — what
 * acquisition orders by), its lease, "inc" and "rev". Jobs are never
 * rewritten, only leased and deleted. A job ends once: its release, its
 * reaping and its owner's late extension all move out of the same lease
 * state, and the claim of that state decides which (mongo_lease.c).
 * Deleting a job comes before storing its result: a crash between the two
 * loses the result (kept for observers only), never runs the job twice.
 * Releases run on the lease lane, in batches (mongo_ops.c). */
#include <stdio.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

/* ---- add ---- */

static tempo_status_t run_add_job(mg_op_t *op, mg_conn_t *c)
{
    bson_error_t e;
    if (mongoc_collection_insert_one(c->coll[MG_JOBS], op->in.doc, NULL, NULL, &e))
        return TEMPO_OK;
    if (tempo__mg_is_duplicate(&e))
        return tempo__error_set(&op->err, TEMPO_EEXIST, "job '%s' already exists", op->in.id);
    return tempo__mg_fail(&op->err, &e, "adding job '%s' to %s", op->in.id, c->st->where);
}

void tempo__mg_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "add_job", (mg_cb_t){.status = cb}, ud, run_add_job);
    if (op->status == TEMPO_OK)
        op->status = tempo__job_record_check(job, &op->err);
    if (op->status == TEMPO_OK) {
        op->in.id = bson_strdup(job->id);
        op->in.doc = bson_new();
        op->status = tempo__mg_job_doc(op->in.doc, job, NULL, TEMPO_TIME_NONE, &op->err);
    }
    tempo__mg_op_submit(op);
}

/* ---- get ---- */

static tempo_status_t run_get_jobs(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts;
    if (op->in.count > 0)
        tempo__mg_q_in(&filter, "_id", op->in.ids, op->in.count);
    tempo__mg_q_opts(&opts, MG_KEYS("_id"), 0);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_jobs_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, &opts, 0, &l);
    if (rc == TEMPO_OK)
        tempo__mg_list_give(&l, op);
    tempo__mg_list_free(&l);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_JOBS, "get_jobs", (mg_cb_t){.jobs = cb}, ud, run_get_jobs);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_ids(ids, count, "ids", &op->err);
    if (op->status == TEMPO_OK) {
        op->in.ids = tempo__mg_strv_dup(ids, count);
        op->in.count = count;
    }
    tempo__mg_op_submit(op);
}

/* ---- results and deletion ---- */

/* An insert (its unique _id found by the index, where FerretDB's lookups by
 * _id read the whole results collection); a replacement only when a result
 * of that id exists (the same release made twice after a failure). */
tempo_status_t tempo__mg_store_result(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                      const tempo_job_result_t *result)
{
    bson_t doc = BSON_INITIALIZER, filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    tempo__mg_result_doc(&doc, job, result);
    BSON_APPEND_UTF8(&filter, "_id", job->id);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = mongoc_collection_insert_one(c->coll[MG_RESULTS], &doc, NULL, NULL, &e);
    for (int attempt = 0; attempt < 2 && !ok && tempo__mg_is_duplicate(&e); attempt++)
        ok = mongoc_collection_replace_one(c->coll[MG_RESULTS], &filter, &doc, &opts, NULL, &e);
    tempo_status_t rc = ok ? TEMPO_OK : tempo__mg_fail(&op->err, &e, "storing the result of job '%s'", job->id);
    bson_destroy(&opts);
    bson_destroy(&filter);
    bson_destroy(&doc);
    return rc;
}

/* The end of `job` as read: a lease move that deletes it (mongo_lease.c).
 * Its release and its reaping — and its owner's late extension — leave the
 * same lease state, so exactly one of them happens; *gone says whether it
 * was this one. `now`: NONE for a release (mongo_lease.c). */
static tempo_status_t end_job(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job, const bson_t *doc,
                              tempo_time_t now, bool *gone)
{
    bson_oid_t inc = {{0}};
    tempo_status_t rc = tempo__mg_decode_inc(doc, &inc, &op->err);
    if (rc != TEMPO_OK)
        return rc;
    mg_move_t *m = bson_malloc0(sizeof *m);
    tempo__mg_move_init(m, job->id, &inc, job->lease.fence, job->lease.until);
    m->del = true;
    rc = tempo__mg_moves_make(op, c, MG_JOBS, m, 1, now);
    *gone = rc == TEMPO_OK && m->won;
    tempo__mg_moves_free(m, 1);
    return rc;
}

/* After a job went: its result when kept, then its schedule if that was
 * finished and this was its last job. */
static tempo_status_t after_delete(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                   const tempo_job_result_t *result)
{
    tempo_status_t rc = TEMPO_OK;
    if (job->result_expiration > 0)
        rc = tempo__mg_store_result(op, c, job, result);
    if (rc == TEMPO_OK && job->schedule_id)
        rc = tempo__mg_collect_finished(op, c, job->schedule_id);
    return rc;
}

/* ---- release ---- */

static tempo_status_t check_holder(mg_op_t *op, const tempo_job_record_t *j, const char *id)
{
    const char *owner = op->in.owner;
    if (!j)
        return tempo__error_set(&op->err, TEMPO_ELEASE,
                                "job '%s' is not held by '%s': it does not exist (released already, or reaped "
                                "after its lease expired)",
                                id, owner);
    if (!j->lease.owner || strcmp(j->lease.owner, owner) != 0)
        return tempo__error_set(&op->err, TEMPO_ELEASE, "job '%s' is held by %s%s%s, not by '%s'", id,
                                j->lease.owner ? "'" : "", j->lease.owner ? j->lease.owner : "nobody",
                                j->lease.owner ? "'" : "", owner);
    if (j->lease.fence != op->in.fence)
        return tempo__error_set(&op->err, TEMPO_ELEASE,
                                "job '%s': fence %lld is stale (it was acquired again; the fence is now %lld)", id,
                                (long long)op->in.fence, (long long)j->lease.fence);
    return TEMPO_OK;
}

/* The jobs of a batch of releases, read at once ({_id} alone for one: the
 * one lookup FerretDB makes in SQL). */
static tempo_status_t read_batch(mg_op_t *lead, mg_conn_t *c, mg_op_t *const *ops, size_t n, mg_list_t *l)
{
    bson_t filter = BSON_INITIALIZER;
    char **ids = bson_malloc0((n + 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = ops[i]->in.id;
    if (n == 1)
        BSON_APPEND_UTF8(&filter, "_id", ids[0]);
    else
        tempo__mg_q_in(&filter, "_id", ids, n);
    tempo_status_t rc = tempo__mg_find(lead, c, &filter, NULL, 0, l);
    bson_free(ids);
    bson_destroy(&filter);
    return rc;
}

static size_t job_index(const mg_list_t *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(((const tempo_job_record_t *)tempo__mg_list_at(l, i))->id, id) == 0)
            return i;
    return SIZE_MAX;
}

static bool listed_text(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* A failure of a step the batch shares is the failure of every release
 * still going. */
static void fail_rest(mg_op_t *const *ops, size_t n, tempo_status_t rc, const tempo_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (ops[i]->status == TEMPO_OK) {
            ops[i]->status = rc;
            ops[i]->err = *err;
        }
}

/* Each release still going: its holder checked, and its lease move (a
 * delete) added to moves; job[i] its job's index in l. */
static size_t check_all(mg_op_t *const *ops, size_t n, const mg_list_t *l, mg_move_t *moves, size_t *job)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        mg_op_t *op = ops[i];
        size_t k = job_index(l, op->in.id);
        job[i] = k;
        op->status = check_holder(op, k == SIZE_MAX ? NULL : tempo__mg_list_at(l, k), op->in.id);
        bson_oid_t inc = {{0}};
        if (op->status == TEMPO_OK)
            op->status = tempo__mg_decode_inc(l->docs[k], &inc, &op->err);
        if (op->status != TEMPO_OK)
            continue;
        const tempo_job_record_t *j = tempo__mg_list_at(l, k);
        tempo__mg_move_init(&moves[m], j->id, &inc, j->lease.fence, j->lease.until);
        moves[m++].del = true;
    }
    return m;
}

/* After the jobs of a batch went: the results kept (one insert for the
 * lot; one already there, from the same release made again after a
 * failure, is replaced), then their schedules if finished and these were
 * their last jobs (three queries for the lot). */
static tempo_status_t after_batch(mg_conn_t *c, mg_op_t *const *ops, size_t n, const mg_list_t *l,
                                  const size_t *job, mg_op_t *scratch)
{
    bson_t **docs = bson_malloc0(n * sizeof *docs);
    bool *dup = bson_malloc0(n * sizeof *dup);
    char **sched = bson_malloc0((n + 1) * sizeof *sched);
    size_t *who = bson_malloc0(n * sizeof *who);
    size_t k = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->status != TEMPO_OK)
            continue;
        const tempo_job_record_t *j = tempo__mg_list_at(l, job[i]);
        if (j->schedule_id && !listed_text(sched, ns, j->schedule_id))
            sched[ns++] = (char *)j->schedule_id;
        if (j->result_expiration <= 0)
            continue;
        docs[k] = bson_new();
        tempo__mg_result_doc(docs[k], j, &ops[i]->in.result);
        who[k++] = i;
    }
    tempo_status_t rc = tempo__mg_insert_unique(c->coll[MG_RESULTS], (const bson_t *const *)docs, k, dup,
                                                "storing results", &scratch->err);
    for (size_t r = 0; r < k && rc == TEMPO_OK; r++)
        if (dup[r])
            rc = tempo__mg_store_result(scratch, c, tempo__mg_list_at(l, job[who[r]]), &ops[who[r]]->in.result);
    if (rc == TEMPO_OK)
        rc = tempo__mg_collect_finished_many(scratch, c, sched, ns);
    for (size_t r = 0; r < k; r++)
        bson_destroy(docs[r]);
    bson_free(who);
    bson_free(sched);
    bson_free(dup);
    bson_free(docs);
    return rc;
}

/* Release a batch (the lease lane takes the releases queued behind the
 * first: mongo_ops.c): read the jobs, check each holder, end the held ones
 * with one claims insert and one bulk delete (mongo_lease.c: a release and
 * a reaping of one job claim the same state, so exactly one of them
 * happens), then store the results and collect finished schedules. Each
 * release gets its own status, in its op. Shared steps run as `scratch` (the
 * read as the first op, whose quarantine reports then come with it). */
static void release_batch(mg_conn_t *c, mg_op_t *const *ops, size_t n, mg_op_t *scratch)
{
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_jobs_kind);
    tempo_status_t rc = read_batch(ops[0], c, ops, n, &l);
    if (rc != TEMPO_OK) {
        tempo_error_t err = ops[0]->err;
        fail_rest(ops, n, rc, &err);
        tempo__mg_list_free(&l);
        return;
    }
    mg_move_t *moves = bson_malloc0(n * sizeof *moves);
    size_t *job = bson_malloc0(n * sizeof *job);
    size_t m = check_all(ops, n, &l, moves, job);
    rc = tempo__mg_moves_make(scratch, c, MG_JOBS, moves, m, TEMPO_TIME_NONE);
    if (rc != TEMPO_OK)
        fail_rest(ops, n, rc, &scratch->err);
    for (size_t i = 0, k = 0; i < n && rc == TEMPO_OK; i++) {
        mg_op_t *op = ops[i];
        if (op->status == TEMPO_OK && !moves[k++].won)
            op->status = tempo__error_set(&op->err, TEMPO_ELEASE, "job '%s' changed while '%s' released it (its "
                                          "lease lapsed and it was reaped)", op->in.id, op->in.owner);
    }
    if (rc == TEMPO_OK)
        rc = after_batch(c, ops, n, &l, job, scratch);
    if (rc != TEMPO_OK)
        fail_rest(ops, n, rc, &scratch->err);
    tempo__mg_moves_free(moves, m);
    bson_free(job);
    tempo__mg_list_free(&l);
}

static tempo_status_t run_release_job(mg_op_t *op, mg_conn_t *c)
{
    mg_op_t *ops[MG_RELEASE_BATCH];
    size_t n = tempo__mg_batch_take(op, ops, MG_RELEASE_BATCH);
    mg_op_t *scratch = bson_malloc0(sizeof *scratch);
    scratch->st = op->st;
    release_batch(c, ops, n, scratch);
    bson_free(scratch);
    return op->status;
}

void tempo__mg_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                           const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op =
        tempo__mg_op_new(self, MG_CB_STATUS, "release_job", (mg_cb_t){.status = cb}, ud, run_release_job);
    op->urgent = true; /* the lease lane (mongo_internal.h) */
    op->batchable = true;
    if (op->status == TEMPO_OK && !tempo__id_ok(owner))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (op->status == TEMPO_OK && !tempo__id_ok(job_id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    if (op->status == TEMPO_OK)
        op->status = tempo__job_result_check(result, &op->err);
    if (op->status == TEMPO_OK) {
        /* The identity fields are the job's (taken when it is read). */
        tempo_job_result_t mine = *result;
        mine.job_id = job_id;
        mine.task_id = NULL;
        mine.schedule_id = NULL;
        op->status = tempo__job_result_copy(&op->in.result, &mine, &op->err);
        op->in.has_result = op->status == TEMPO_OK;
        op->in.owner = bson_strdup(owner);
        op->in.id = bson_strdup(job_id);
        op->in.fence = fence;
    }
    tempo__mg_op_submit(op);
}

/* ---- next time ---- */

static bool earliest_due(void *ctx, void *rec, const bson_t *doc)
{
    (void)doc;
    *(tempo_time_t *)ctx = tempo__mg_job_due(rec);
    return false;
}

/* The least effective fire time of queued (never leased) jobs: one index
 * walk of one document. Held jobs never come back to the queue (their
 * expiry is reap_abandoned's business), so they do not count. */
static tempo_status_t run_next_job_time(mg_op_t *op, mg_conn_t *c)
{
    tempo_time_t queued = TEMPO_TIME_NONE;
    bson_t unheld = BSON_INITIALIZER, by_due;
    BSON_APPEND_INT64(&unheld, "until", TEMPO_TIME_NONE);
    tempo__mg_q_opts(&by_due, MG_KEYS("due"), 0);
    tempo_status_t rc = tempo__mg_scan(op, c, &tempo__mg_jobs_kind, &unheld, &by_due, earliest_due, &queued);
    if (rc == TEMPO_OK)
        op->out.when = queued;
    bson_destroy(&by_due);
    bson_destroy(&unheld);
    return rc;
}

void tempo__mg_next_job_time(void *self, tempo_store_time_cb cb, void *ud)
{
    mg_op_t *op =
        tempo__mg_op_new(self, MG_CB_TIME, "next_job_time", (mg_cb_t){.time = cb}, ud, run_next_job_time);
    op->urgent = true; /* the lease lane (mongo_internal.h) */
    tempo__mg_op_submit(op);
}

/* ---- reap ---- */

/* A job at fence 1 may have been taken at its release and never handed
 * out, its id's first claim not made (mongo_take.c): that claim first, and
 * a second copy goes without a result and without being reported. */
static tempo_status_t reap_one(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job, const bson_t *doc,
                               bool *gone)
{
    bool copy = false;
    bson_oid_t inc = {{0}};
    tempo_status_t rc = TEMPO_OK;
    if (job->lease.fence == 1 && (rc = tempo__mg_decode_inc(doc, &inc, &op->err)) == TEMPO_OK)
        rc = tempo__mg_first_claim(op, c, job, &inc, &copy);
    if (rc == TEMPO_OK)
        rc = end_job(op, c, job, doc, op->in.now, gone);
    if (rc != TEMPO_OK || !*gone)
        return rc;
    if (copy) {
        *gone = false;
        return job->schedule_id ? tempo__mg_collect_finished(op, c, job->schedule_id) : TEMPO_OK;
    }
    char until[48], message[160];
    tempo_time_format(job->lease.until, NULL, until, sizeof until);
    snprintf(message, sizeof message, "abandoned: the lease of '%s' expired at %s before the job finished",
             job->lease.owner, until);
    tempo_job_result_t result = {
        .outcome = TEMPO_OUTCOME_ABANDONED,
        .started_at = TEMPO_TIME_NONE,
        .finished_at = op->in.now,
        .error = message,
    };
    return after_delete(op, c, job, &result);
}

/* Every job whose lease expired at `now` (until in (NONE, now]), oldest
 * expiry first; one released, extended or reaped by another meanwhile is
 * left alone (its lease state was claimed: mongo_lease.c). */
static tempo_status_t run_reap(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts;
    tempo__mg_q_range(&filter, "until", TEMPO_TIME_NONE, op->in.now);
    tempo__mg_q_opts(&opts, MG_KEYS("until", "_id"), 0);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_jobs_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, &opts, 0, &l);
    for (size_t i = 0; i < l.count && rc == TEMPO_OK;) {
        bool gone = false;
        rc = reap_one(op, c, tempo__mg_list_at(&l, i), l.docs[i], &gone);
        if (gone)
            i++;
        else
            tempo__mg_list_remove(&l, i);
    }
    if (rc == TEMPO_OK)
        tempo__mg_list_give(&l, op);
    tempo__mg_list_free(&l);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_JOBS, "reap_abandoned", (mg_cb_t){.jobs = cb}, ud, run_reap);
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    op->in.now = now;
    tempo__mg_op_submit(op);
}
