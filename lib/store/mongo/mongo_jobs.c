/* Job records in the MongoDB store: add, get, release (with the result),
 * next_job_time and reaping.
 *
 * A job document holds the record's fields, "due" (its effective fire time:
 * scheduled_fire_time, or created_at for a job queued "now" — what
 * acquisition orders by), its lease, "inc" and "rev". Jobs are never
 * rewritten, only leased and deleted. Deleting a job comes before storing
 * its result: a crash between the two loses the result (kept for observers
 * only), never runs the job twice. */
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
        op->status = tempo__mg_job_doc(op->in.doc, job, &op->err);
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

tempo_status_t tempo__mg_store_result(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                      const tempo_job_result_t *result)
{
    bson_t doc = BSON_INITIALIZER, filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    tempo__mg_result_doc(&doc, job, result);
    BSON_APPEND_UTF8(&filter, "_id", job->id);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        ok = mongoc_collection_replace_one(c->coll[MG_RESULTS], &filter, &doc, &opts, NULL, &e);
        if (!ok && !tempo__mg_is_duplicate(&e))
            break;
    }
    tempo_status_t rc = ok ? TEMPO_OK : tempo__mg_fail(&op->err, &e, "storing the result of job '%s'", job->id);
    bson_destroy(&opts);
    bson_destroy(&filter);
    bson_destroy(&doc);
    return rc;
}

/* Delete `job` if it still carries the lease it was read with; *gone says
 * whether it did. */
static tempo_status_t delete_held(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job, bool *gone)
{
    bson_t filter = BSON_INITIALIZER, reply;
    BSON_APPEND_UTF8(&filter, "_id", job->id);
    BSON_APPEND_UTF8(&filter, "owner", job->lease.owner);
    BSON_APPEND_INT64(&filter, "fence", job->lease.fence);
    BSON_APPEND_INT64(&filter, "until", job->lease.until);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_one(c->coll[MG_JOBS], &filter, NULL, &reply, &e))
        rc = tempo__mg_fail(&op->err, &e, "deleting job '%s'", job->id);
    else
        *gone = tempo__mg_reply_count(&reply, "deletedCount") == 1;
    bson_destroy(&reply);
    bson_destroy(&filter);
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

static tempo_status_t run_release_job(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", op->in.id);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_jobs_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, NULL, 1, &l);
    const tempo_job_record_t *job = l.count ? tempo__mg_list_at(&l, 0) : NULL;
    bool gone = false;
    if (rc == TEMPO_OK)
        rc = check_holder(op, job, op->in.id);
    if (rc == TEMPO_OK)
        rc = delete_held(op, c, job, &gone);
    if (rc == TEMPO_OK && !gone)
        rc = tempo__error_set(&op->err, TEMPO_ELEASE, "job '%s' changed while '%s' released it (its lease "
                              "expired and it was taken over, or reaped)", op->in.id, op->in.owner);
    if (rc == TEMPO_OK)
        rc = after_delete(op, c, job, &op->in.result);
    tempo__mg_list_free(&l);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                           const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op =
        tempo__mg_op_new(self, MG_CB_STATUS, "release_job", (mg_cb_t){.status = cb}, ud, run_release_job);
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
    tempo__mg_op_submit(op);
}

/* ---- reap ---- */

static tempo_status_t reap_one(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job, bool *gone)
{
    tempo_status_t rc = delete_held(op, c, job, gone);
    if (rc != TEMPO_OK || !*gone)
        return rc;
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
 * expiry first; one taken over meanwhile is left alone. */
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
        rc = reap_one(op, c, tempo__mg_list_at(&l, i), &gone);
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
