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

/* Read the records of `ids`; each one `owner` holds moves out of the lease
 * state it was read in to the new `until` (mongo_lease.c): those won are
 * extended, the others lost — not held, or taken over, released or reaped
 * meanwhile. A late extension (the lease lapsed, nobody took it over or
 * reaped it yet) claims the same state as the takeover or the reaping, so
 * exactly one of them happens. One already at that `until` is held as is
 * (a move to the same state would claim it for nothing). */
static tempo_status_t extend_in(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, char *const *ids, size_t n,
                                lost_t *lost)
{
    if (n == 0)
        return TEMPO_OK;
    bson_t filter = BSON_INITIALIZER;
    tempo__mg_q_in(&filter, "_id", ids, n);
    mg_list_t l;
    tempo__mg_list_init(&l, kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, NULL, 0, &l);
    mg_move_t *moves = l.count ? bson_malloc0(l.count * sizeof *moves) : NULL;
    bool *held = bson_malloc0(n * sizeof *held);
    size_t m = 0;
    for (size_t i = 0; i < l.count && rc == TEMPO_OK; i++) {
        const void *rec = tempo__mg_list_at(&l, i);
        const char *id = kind == &tempo__mg_jobs_kind ? ((const tempo_job_record_t *)rec)->id
                                                      : ((const tempo_schedule_record_t *)rec)->id;
        const tempo_lease_t *lease = kind == &tempo__mg_jobs_kind ? &((const tempo_job_record_t *)rec)->lease
                                                                  : &((const tempo_schedule_record_t *)rec)->lease;
        if (!lease->owner || strcmp(lease->owner, op->in.owner) != 0)
            continue;
        if (lease->until == op->in.until) {
            for (size_t k = 0; k < n; k++)
                held[k] |= strcmp(ids[k], id) == 0;
            continue;
        }
        bson_oid_t inc = {{0}};
        rc = tempo__mg_decode_inc(l.docs[i], &inc, &op->err);
        tempo__mg_move_init(&moves[m], id, &inc, lease->fence, lease->until);
        BSON_APPEND_INT64(moves[m].set, "until", op->in.until);
        m++;
    }
    if (rc == TEMPO_OK)
        rc = tempo__mg_moves_make(op, c, kind->coll, moves, m, TEMPO_TIME_NONE);
    for (size_t j = 0; j < m && rc == TEMPO_OK; j++)
        for (size_t k = 0; k < n && moves[j].won; k++)
            held[k] |= strcmp(ids[k], moves[j].id) == 0;
    for (size_t k = 0; k < n && rc == TEMPO_OK; k++)
        if (!held[k])
            lost_add(lost, kind->name, ids[k]);
    bson_free(held);
    tempo__mg_moves_free(moves, m);
    tempo__mg_list_free(&l);
    bson_destroy(&filter);
    return rc;
}

static tempo_status_t run_extend(mg_op_t *op, mg_conn_t *c)
{
    lost_t lost = {0};
    tempo_status_t rc = extend_in(op, c, &tempo__mg_schedules_kind, op->in.ids, op->in.count, &lost);
    if (rc == TEMPO_OK)
        rc = extend_in(op, c, &tempo__mg_jobs_kind, op->in.ids2, op->in.count2, &lost);
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
    op->urgent = true; /* the lease lane (mongo_internal.h) */
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

/* The string values of `field` in the documents of `coll` matching
 * `filter`, appended to *out (bson_strdup'ed; *n of them). */
static tempo_status_t read_strings(mg_op_t *op, mongoc_collection_t *coll, const bson_t *filter, const char *field,
                                   char ***out, size_t *n, const char *what)
{
    bson_t opts = BSON_INITIALIZER, proj;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, field, 1);
    bson_append_document_end(&opts, &proj);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
    size_t cap = 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = bson_realloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = bson_strdup(bson_iter_utf8(&it, NULL));
    }
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "%s", what);
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    return rc;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finished schedules (next_fire_time NONE) that no job names: one read of
 * the finished ones, one of the schedule ids jobs name (every other query
 * but one by _id reads a whole collection on FerretDB, so one each, not one
 * per schedule), then one delete of those named by none — each only if
 * still finished. A job naming it may be added between the look and the
 * delete (a release by another process): that job then outlives its
 * schedule, which is what remove_schedules allows anyway. */
static tempo_status_t collect_all_finished(mg_op_t *op, mg_conn_t *c)
{
    bson_t finished = BSON_INITIALIZER, named = BSON_INITIALIZER, del, paused, any, type;
    /* The paused condition matches everything; it lets MongoDB's "due"
     * index serve the query. */
    BSON_APPEND_DOCUMENT_BEGIN(&finished, "paused", &paused);
    BSON_APPEND_ARRAY_BEGIN(&paused, "$in", &any);
    BSON_APPEND_BOOL(&any, "0", false);
    BSON_APPEND_BOOL(&any, "1", true);
    bson_append_array_end(&paused, &any);
    bson_append_document_end(&finished, &paused);
    BSON_APPEND_INT64(&finished, "next_fire_time", TEMPO_TIME_NONE);
    /* Jobs with a schedule: MongoDB's "schedule" index covers it. */
    BSON_APPEND_DOCUMENT_BEGIN(&named, "schedule_id", &type);
    BSON_APPEND_UTF8(&type, "$type", "string");
    bson_append_document_end(&named, &type);
    char **ids = NULL, **names = NULL;
    size_t n = 0, m = 0;
    tempo_status_t rc = read_strings(op, c->coll[MG_SCHEDULES], &finished, "_id", &ids, &n,
                                     "looking for finished schedules");
    if (rc == TEMPO_OK && n > 0)
        rc = read_strings(op, c->coll[MG_JOBS], &named, "schedule_id", &names, &m,
                          "looking for the schedules jobs name");
    if (m > 0)
        qsort(names, m, sizeof *names, by_text);
    /* MG_DELETE_CHUNK per command: on FerretDB each delete reads the whole
     * collection, whatever it deletes. */
    char **gone = n ? bson_malloc0(n * sizeof *gone) : NULL; /* borrowed from ids */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(m > 0 && bsearch(&ids[i], names, m, sizeof *names, by_text)))
            gone[k++] = ids[i];
    for (size_t at = 0; at < k && rc == TEMPO_OK; at += MG_DELETE_CHUNK) {
        size_t chunk = k - at < MG_DELETE_CHUNK ? k - at : MG_DELETE_CHUNK;
        bson_init(&del);
        tempo__mg_q_in(&del, "_id", gone + at, chunk);
        BSON_APPEND_INT64(&del, "next_fire_time", TEMPO_TIME_NONE);
        bson_error_t e;
        if (!mongoc_collection_delete_many(c->coll[MG_SCHEDULES], &del, NULL, NULL, &e))
            rc = tempo__mg_fail(&op->err, &e, "removing %zu finished schedules", chunk);
        bson_destroy(&del);
    }
    bson_free(gone);
    tempo__mg_strv_free(names, m);
    tempo__mg_strv_free(ids, n);
    bson_destroy(&named);
    bson_destroy(&finished);
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
    op->urgent = true; /* the lease lane, behind the releases (mongo_internal.h) */
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
