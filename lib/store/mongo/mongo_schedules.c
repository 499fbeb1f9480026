/* Schedule records in the MongoDB store: add, get, update, remove, and the
 * removal of finished schedules no job names any more.
 *
 * A schedule document holds the record's fields plus its lease (owner,
 * until, fence), its incarnation "inc" (mongo_lease.c) and its revision
 * "rev" (mongo_quarantine.c). The owner's fields and the lease are written
 * separately: update_schedule and an add with REPLACE set every field but
 * the lease fields they must keep, so a lease held meanwhile is never
 * overwritten by stale values. */
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

static void id_filter(bson_t *filter, const char *id)
{
    bson_init(filter);
    BSON_APPEND_UTF8(filter, "_id", id);
}

/* {_id: {$in: ids}}, or {} for all. */
static void ids_filter(bson_t *filter, char *const *ids, size_t count)
{
    bson_init(filter);
    if (count > 0)
        tempo__mg_q_in(filter, "_id", ids, count);
}

/* ---- add ---- */

/* DO_NOTHING and ERROR: a plain insert; the unique _id answers "exists". */
static tempo_status_t insert_new(mg_op_t *op, mg_conn_t *c, const char *id)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "_id", id);
    bson_concat(&doc, op->in.doc);
    BSON_APPEND_NULL(&doc, "owner");
    BSON_APPEND_INT64(&doc, "until", TEMPO_TIME_NONE);
    BSON_APPEND_INT64(&doc, "fence", 0);
    tempo__mg_append_new_oid(&doc, "inc");
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_insert_one(c->coll[MG_SCHEDULES], &doc, NULL, NULL, &e)) {
        if (!tempo__mg_is_duplicate(&e))
            rc = tempo__mg_fail(&op->err, &e, "adding schedule '%s' to %s", id, c->st->where);
        else if (op->in.conflict == TEMPO_CONFLICT_ERROR)
            rc = tempo__error_set(&op->err, TEMPO_EEXIST, "schedule '%s' already exists", id);
        op->out.added = TEMPO_STORE_KEPT;
    }
    bson_destroy(&doc);
    return rc;
}

/* REPLACE: every field of the owner's, the lease cleared; fence and
 * incarnation kept when the record exists (a replacement keeps counting its
 * fence, store.h), made when it does not. A concurrent insert of the same id
 * can beat the insert half of the upsert: the second try replaces it. */
static tempo_status_t replace(mg_op_t *op, mg_conn_t *c, const char *id)
{
    bson_t filter, update = BSON_INITIALIZER, set, on_insert, opts = BSON_INITIALIZER, reply;
    id_filter(&filter, id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    bson_concat(&set, op->in.doc);
    BSON_APPEND_NULL(&set, "owner");
    BSON_APPEND_INT64(&set, "until", TEMPO_TIME_NONE);
    bson_append_document_end(&update, &set);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &on_insert);
    BSON_APPEND_INT64(&on_insert, "fence", 0);
    tempo__mg_append_new_oid(&on_insert, "inc");
    bson_append_document_end(&update, &on_insert);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = false;
    bson_init(&reply);
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        bson_destroy(&reply); /* the driver initialises it on every call */
        ok = mongoc_collection_update_one(c->coll[MG_SCHEDULES], &filter, &update, &opts, &reply, &e);
        if (!ok && !tempo__mg_is_duplicate(&e))
            break;
    }
    tempo_status_t rc = TEMPO_OK;
    if (!ok)
        rc = tempo__mg_fail(&op->err, &e, "replacing schedule '%s' in %s", id, c->st->where);
    else if (tempo__mg_reply_count(&reply, "upsertedCount") == 0)
        op->out.added = TEMPO_STORE_REPLACED;
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&update);
    bson_destroy(&filter);
    return rc;
}

static tempo_status_t run_add_schedule(mg_op_t *op, mg_conn_t *c)
{
    const char *id = op->in.id;
    return op->in.conflict == TEMPO_CONFLICT_REPLACE ? replace(op, c, id) : insert_new(op, c, id);
}

void tempo__mg_add_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_conflict_t conflict,
                            tempo_store_add_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_ADD, "add_schedule", (mg_cb_t){.add = cb}, ud, run_add_schedule);
    if (op->status == TEMPO_OK)
        op->status = tempo__schedule_record_check(schedule, &op->err);
    if (op->status == TEMPO_OK && conflict != TEMPO_CONFLICT_DO_NOTHING && conflict != TEMPO_CONFLICT_REPLACE &&
        conflict != TEMPO_CONFLICT_ERROR)
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "schedule '%s': conflict %d is not a tempo_conflict_t",
                                      schedule->id, (int)conflict);
    if (op->status == TEMPO_OK) {
        op->in.conflict = conflict;
        op->in.id = bson_strdup(schedule->id);
        op->in.doc = bson_new();
        op->status = tempo__mg_schedule_content(op->in.doc, schedule, &op->err);
    }
    tempo__mg_op_submit(op);
}

/* ---- get ---- */

static tempo_status_t run_get_schedules(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter, opts;
    ids_filter(&filter, op->in.ids, op->in.count);
    tempo__mg_q_opts(&opts, MG_KEYS("_id"), 0);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_schedules_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, &opts, 0, &l);
    if (rc == TEMPO_OK)
        tempo__mg_list_give(&l, op);
    tempo__mg_list_free(&l);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_get_schedules(void *self, const char *const *ids, size_t count, tempo_store_schedules_cb cb,
                             void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_SCHEDULES, "get_schedules", (mg_cb_t){.schedules = cb}, ud,
                                   run_get_schedules);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_ids(ids, count, "ids", &op->err);
    if (op->status == TEMPO_OK) {
        op->in.ids = tempo__mg_strv_dup(ids, count);
        op->in.count = count;
    }
    tempo__mg_op_submit(op);
}

/* ---- update ---- */

static tempo_status_t run_update_schedule(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter, update = BSON_INITIALIZER, reply;
    id_filter(&filter, op->in.id);
    BSON_APPEND_DOCUMENT(&update, "$set", op->in.doc);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_update_one(c->coll[MG_SCHEDULES], &filter, &update, NULL, &reply, &e))
        rc = tempo__mg_fail(&op->err, &e, "updating schedule '%s' in %s", op->in.id, c->st->where);
    else if (tempo__mg_reply_count(&reply, "matchedCount") == 0)
        rc = tempo__error_set(&op->err, TEMPO_ENOTFOUND, "no schedule '%s'", op->in.id);
    bson_destroy(&reply);
    bson_destroy(&update);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_update_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_store_status_cb cb,
                               void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "update_schedule", (mg_cb_t){.status = cb}, ud,
                                   run_update_schedule);
    if (op->status == TEMPO_OK)
        op->status = tempo__schedule_record_check(schedule, &op->err);
    if (op->status == TEMPO_OK) {
        op->in.id = bson_strdup(schedule->id);
        op->in.doc = bson_new();
        op->status = tempo__mg_schedule_content(op->in.doc, schedule, &op->err);
    }
    tempo__mg_op_submit(op);
}

/* ---- remove ---- */

static tempo_status_t run_remove_schedules(mg_op_t *op, mg_conn_t *c)
{
    if (op->in.count == 0)
        return TEMPO_OK;
    bson_t filter;
    ids_filter(&filter, op->in.ids, op->in.count);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_many(c->coll[MG_SCHEDULES], &filter, NULL, NULL, &e))
        rc = tempo__mg_fail(&op->err, &e, "removing %zu schedules from %s", op->in.count, c->st->where);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_remove_schedules(void *self, const char *const *ids, size_t count, tempo_store_status_cb cb,
                                void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "remove_schedules", (mg_cb_t){.status = cb}, ud,
                                   run_remove_schedules);
    if (op->status == TEMPO_OK)
        op->status = tempo__mg_check_ids(ids, count, "ids", &op->err);
    if (op->status == TEMPO_OK) {
        op->in.ids = tempo__mg_strv_dup(ids, count);
        op->in.count = count;
    }
    tempo__mg_op_submit(op);
}

/* ---- finished schedules ---- */

/* The string values of `field` in the documents of `coll` matching
 * `filter`, appended to *out (bson_strdup'ed; *n of them). With
 * `only_finished`, only of documents whose next_fire_time is NONE. */
static tempo_status_t read_names(mg_op_t *op, mongoc_collection_t *coll, const bson_t *filter, const char *field,
                                 bool only_finished, char ***out, size_t *n, const char *what)
{
    bson_t opts = BSON_INITIALIZER, proj;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, field, 1);
    if (only_finished)
        BSON_APPEND_INT32(&proj, "next_fire_time", 1);
    bson_append_document_end(&opts, &proj);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
    size_t cap = 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (only_finished && !(bson_iter_init_find(&it, doc, "next_fire_time") && BSON_ITER_HOLDS_INT64(&it) &&
                               bson_iter_int64(&it) == TEMPO_TIME_NONE))
            continue;
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

/* {_id: id} for one (the lookup FerretDB makes in SQL), {_id: {$in}} else. */
static void one_or_in(bson_t *filter, const char *field, char *const *ids, size_t n)
{
    bson_init(filter);
    if (n == 1)
        BSON_APPEND_UTF8(filter, field, ids[0]);
    else
        tempo__mg_q_in(filter, field, ids, n);
}

static bool listed(char *const *names, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], id) == 0)
            return true;
    return false;
}

/* Of the schedules `ids`, delete those finished (next_fire_time NONE) that
 * no job names: which are finished (one read: most jobs name a schedule
 * that is not, and that is all there is to look at), which of those jobs
 * still name (one read), one delete for the rest — conditional on still
 * being finished. Every query but one by _id alone reads a whole collection
 * on FerretDB, so a batch of released jobs costs these three, not three per
 * job. A job naming one may be added between the look and the delete (a
 * release by another process): that job then outlives its schedule, which
 * is what remove_schedules allows anyway. */
tempo_status_t tempo__mg_collect_finished_many(mg_op_t *op, mg_conn_t *c, char *const *ids, size_t n)
{
    if (n == 0)
        return TEMPO_OK;
    char **done = NULL, **named = NULL, **gone = NULL;
    size_t nd = 0, nn = 0, ng = 0;
    bson_t filter;
    one_or_in(&filter, "_id", ids, n);
    tempo_status_t rc = read_names(op, c->coll[MG_SCHEDULES], &filter, "_id", true, &done, &nd,
                                   "looking for finished schedules");
    bson_destroy(&filter);
    if (rc == TEMPO_OK && nd > 0) {
        one_or_in(&filter, "schedule_id", done, nd);
        rc = read_names(op, c->coll[MG_JOBS], &filter, "schedule_id", false, &named, &nn,
                        "looking for jobs of finished schedules");
        bson_destroy(&filter);
    }
    gone = nd ? bson_malloc0(nd * sizeof *gone) : NULL;
    for (size_t i = 0; i < nd && rc == TEMPO_OK; i++)
        if (!listed(named, nn, done[i]) && !listed(gone, ng, done[i]))
            gone[ng++] = done[i];
    if (rc == TEMPO_OK && ng > 0) {
        one_or_in(&filter, "_id", gone, ng);
        BSON_APPEND_INT64(&filter, "next_fire_time", TEMPO_TIME_NONE);
        bson_error_t e;
        if (!mongoc_collection_delete_many(c->coll[MG_SCHEDULES], &filter, NULL, NULL, &e))
            rc = tempo__mg_fail(&op->err, &e, "removing %zu finished schedules", ng);
        bson_destroy(&filter);
    }
    bson_free(gone);
    tempo__mg_strv_free(named, nn);
    tempo__mg_strv_free(done, nd);
    return rc;
}

tempo_status_t tempo__mg_collect_finished(mg_op_t *op, mg_conn_t *c, const char *id)
{
    char *ids[1] = {(char *)id};
    return tempo__mg_collect_finished_many(op, c, ids, 1);
}
