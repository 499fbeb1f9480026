/* Lease extension, cleanup and results in the MongoDB store. */
#include <stdio.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

/* ---- extend ---- */

/* The ids that were not extended, for the message (as the memory store). */
typedef struct lost {
    size_t count;
    char text[160];
    size_t used;
} lost_t;

static void lost_add(lost_t *l, const char *kind, const char *id)
{
    if (l->count++ < 4 && l->used < sizeof l->text) {
        int n = snprintf(l->text + l->used, sizeof l->text - l->used, "%s%s '%s'", l->used ? ", " : "", kind, id);
        l->used = n < 0 ? sizeof l->text : l->used + (size_t)n;
    }
}

static bool in_list(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

/* Set `until` on those of `ids` that `owner` holds, then read back which
 * show it: those are extended, the others lost. */
static tempo_status_t extend_in(mg_op_t *op, mg_conn_t *c, int coll, const char *kind, char *const *ids,
                                size_t n, lost_t *lost)
{
    if (n == 0)
        return TEMPO_OK;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, opts = BSON_INITIALIZER, proj;
    tempo__mg_q_in(&filter, "_id", ids, n);
    BSON_APPEND_UTF8(&filter, "owner", op->in.owner);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_INT64(&set, "until", op->in.until);
    bson_append_document_end(&update, &set);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_update_many(c->coll[coll], &filter, &update, NULL, NULL, &e))
        rc = tempo__mg_fail(&op->err, &e, "extending %zu %s leases", n, kind);
    char **held = bson_malloc0(n * sizeof *held);
    size_t nheld = 0;
    if (rc == TEMPO_OK) {
        BSON_APPEND_INT64(&filter, "until", op->in.until);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "_id", 1);
        bson_append_document_end(&opts, &proj);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[coll], &filter, &opts, NULL);
        const bson_t *doc;
        while (nheld < n && mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
                held[nheld++] = bson_strdup(bson_iter_utf8(&it, NULL));
        }
        if (mongoc_cursor_error(cur, &e))
            rc = tempo__mg_fail(&op->err, &e, "reading back %zu extended %s leases", n, kind);
        mongoc_cursor_destroy(cur);
    }
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        if (!in_list(held, nheld, ids[i]))
            lost_add(lost, kind, ids[i]);
    tempo__mg_strv_free(held, nheld);
    bson_destroy(&opts);
    bson_destroy(&update);
    bson_destroy(&filter);
    return rc;
}

static tempo_status_t run_extend(mg_op_t *op, mg_conn_t *c)
{
    lost_t lost = {0};
    tempo_status_t rc = extend_in(op, c, MG_SCHEDULES, "schedule", op->in.ids, op->in.count, &lost);
    if (rc == TEMPO_OK)
        rc = extend_in(op, c, MG_JOBS, "job", op->in.ids2, op->in.count2, &lost);
    if (rc != TEMPO_OK || lost.count == 0)
        return rc;
    return tempo__error_set(&op->err, TEMPO_ELEASE, "%zu of %zu leases are no longer held by '%s': %s%s",
                            lost.count, op->in.count + op->in.count2, op->in.owner, lost.text,
                            lost.count > 4 ? ", ..." : "");
}

void tempo__mg_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                             size_t schedule_count, const char *const *job_ids, size_t job_count,
                             tempo_time_t until, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "extend_leases", (mg_cb_t){.status = cb}, ud, run_extend);
    if (op->status == TEMPO_OK && !tempo__id_ok(owner))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (op->status == TEMPO_OK && until == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "until is TEMPO_TIME_NONE");
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_ids(schedule_ids, schedule_count, "schedule_ids", &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_ids(job_ids, job_count, "job_ids", &op->err);
    if (op->status == TEMPO_OK) {
        op->in.owner = bson_strdup(owner);
        op->in.until = until;
        op->in.ids = tempo__mg_strv_dup(schedule_ids, schedule_count);
        op->in.count = schedule_count;
        op->in.ids2 = tempo__mg_strv_dup(job_ids, job_count);
        op->in.count2 = job_count;
    }
    tempo__mg_op_submit(op);
}

/* ---- cleanup ---- */

/* Finished schedules (next_fire_time NONE) that no job names. The paused
 * condition matches everything; it lets the "due" index serve the query. */
static tempo_status_t collect_all_finished(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj, paused, any;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "paused", &paused);
    BSON_APPEND_ARRAY_BEGIN(&paused, "$in", &any);
    BSON_APPEND_BOOL(&any, "0", false);
    BSON_APPEND_BOOL(&any, "1", true);
    bson_append_array_end(&paused, &any);
    bson_append_document_end(&filter, &paused);
    BSON_APPEND_INT64(&filter, "next_fire_time", TEMPO_TIME_NONE);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    bson_append_document_end(&opts, &proj);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_SCHEDULES], &filter, &opts, NULL);
    char **ids = NULL;
    size_t n = 0, cap = 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ids = bson_realloc(ids, cap * sizeof *ids);
        }
        ids[n++] = bson_strdup(bson_iter_utf8(&it, NULL));
    }
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "looking for finished schedules");
    mongoc_cursor_destroy(cur);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        rc = tempo__mg_collect_finished(op, c, ids[i]);
    tempo__mg_strv_free(ids, n);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

static tempo_status_t run_cleanup(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER;
    tempo__mg_q_cmp(&filter, "expires_at", "$lte", op->in.now);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_many(c->coll[MG_RESULTS], &filter, NULL, NULL, &e))
        rc = tempo__mg_fail(&op->err, &e, "deleting expired results");
    bson_destroy(&filter);
    if (rc == TEMPO_OK)
        rc = collect_all_finished(op, c);
    if (rc == TEMPO_OK)
        rc = tempo__mg_claims_cleanup(op, c, op->in.now);
    return rc;
}

void tempo__mg_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "cleanup", (mg_cb_t){.status = cb}, ud, run_cleanup);
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    op->in.now = now;
    tempo__mg_op_submit(op);
}

/* ---- results ---- */

static tempo_status_t not_found(mg_op_t *op)
{
    return tempo__error_set(&op->err, TEMPO_ENOTFOUND,
                            "no result for job '%s' (unknown, not finished, kept for no time, or expired)",
                            op->in.id);
}

/* A result that cannot be decoded is an error naming the field; results
 * are not quarantined (nothing acquires them), and it is left in place. */
static tempo_status_t run_get_result(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", op->in.id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_RESULTS], &filter, &opts, NULL);
    const bson_t *doc;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_next(cur, &doc)) {
        rc = tempo__mg_decode_result(doc, &op->out.result, &op->err);
        if (rc != TEMPO_OK)
            rc = tempo__error_prefix(&op->err, rc, "the stored result of job '%s' cannot be decoded", op->in.id);
        else
            op->out.has_result = true;
    }
    bson_error_t e;
    if (rc == TEMPO_OK && mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading the result of job '%s'", op->in.id);
    mongoc_cursor_destroy(cur);
    if (rc == TEMPO_OK && (!op->out.has_result || op->out.result.expires_at <= op->in.now)) {
        if (op->out.has_result)
            tempo__job_result_clear(&op->out.result);
        op->out.has_result = false;
        rc = not_found(op);
    }
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud)
{
    mg_store_t *st = self;
    mg_op_t *op = tempo__mg_op_new(st, MG_CB_RESULT, "get_job_result", (mg_cb_t){.result = cb}, ud,
                                   run_get_result);
    if (op->status == TEMPO_OK && !tempo__id_ok(job_id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    if (op->status == TEMPO_OK) {
        op->in.id = bson_strdup(job_id);
        /* Expiry is judged by the loop's clock at the call (store.h). */
        op->in.now = tempo_loop_now(st->loop);
    }
    tempo__mg_op_submit(op);
}

/* ---- listing results ---- */

/* Newest first, ties by job id: the order of the "recent" and
 * "schedule_recent" indexes (mongo_conn.c), so the server walks one of them
 * and stops at the limit. Expiry is judged by the loop's clock at the call,
 * as get_job_result does; a result that cannot be decoded fails the listing,
 * naming it (results are not quarantined, as there). */
static tempo_status_t run_list_results(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    if (op->in.id)
        BSON_APPEND_UTF8(&filter, "schedule_id", op->in.id);
    tempo__mg_q_cmp(&filter, "expires_at", "$gt", op->in.now);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "finished_at", -1);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    if (op->in.limit > 0 && op->in.limit <= INT32_MAX)
        BSON_APPEND_INT64(&opts, "limit", (int64_t)op->in.limit);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[MG_RESULTS], &filter, &opts, NULL);
    tempo_status_t rc = TEMPO_OK;
    size_t cap = 0;
    const bson_t *doc;
    while (rc == TEMPO_OK && mongoc_cursor_next(cur, &doc)) {
        if (op->out.count == cap) {
            cap = cap ? cap * 2 : 16;
            op->out.recs = bson_realloc(op->out.recs, cap * sizeof(tempo_job_result_t));
        }
        tempo_job_result_t *r = (tempo_job_result_t *)op->out.recs + op->out.count;
        rc = tempo__mg_decode_result(doc, r, &op->err);
        if (rc == TEMPO_OK) {
            op->out.count++;
        } else {
            char *id = tempo__mg_id_text(doc);
            rc = tempo__error_prefix(&op->err, rc, "the stored result of job '%s' cannot be decoded", id);
            bson_free(id);
        }
    }
    bson_error_t e;
    if (rc == TEMPO_OK && mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "listing results");
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc; /* on failure the records read so far are dropped (mongo_ops.c) */
}

void tempo__mg_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                            tempo_store_results_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_RESULTS, "list_results", (mg_cb_t){.results = cb}, ud,
                                   run_list_results);
    if (op->status == TEMPO_OK && schedule_id && !schedule_id[0])
        op->status =
            tempo__error_set(&op->err, TEMPO_EINVAL, "schedule_id is empty (NULL lists every job's results)");
    if (op->status == TEMPO_OK && now == TEMPO_TIME_NONE)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    if (op->status == TEMPO_OK) {
        op->in.id = schedule_id ? bson_strdup(schedule_id) : NULL;
        op->in.now = now;
        op->in.limit = limit;
    }
    tempo__mg_op_submit(op);
}
