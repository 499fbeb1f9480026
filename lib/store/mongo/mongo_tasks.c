/* Task records in the MongoDB store: <prefix>tasks, one document per task.
 *
 * Independent of the task ids schedules and jobs name (as in the memory
 * store): removing a task leaves its schedules and jobs alone. */
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

static tempo_status_t id_filter(bson_t *filter, const char *id)
{
    bson_init(filter);
    BSON_APPEND_UTF8(filter, "_id", id);
    return TEMPO_OK;
}

/* Add replaces: an upsert. Two processes adding the same new task at once
 * may collide on the insert half of the upsert (duplicate key): the second
 * try then finds the document and replaces it. */
static tempo_status_t run_add_task(mg_op_t *op, mg_conn_t *c)
{
    bson_iter_t it;
    bson_iter_init_find(&it, op->in.doc, "_id");
    const char *id = bson_iter_utf8(&it, NULL);
    bson_t filter, opts = BSON_INITIALIZER;
    id_filter(&filter, id);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bson_error_t e;
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        ok = mongoc_collection_replace_one(c->coll[MG_TASKS], &filter, op->in.doc, &opts, NULL, &e);
        if (!ok && !tempo__mg_is_duplicate(&e))
            break;
    }
    bson_destroy(&opts);
    bson_destroy(&filter);
    return ok ? TEMPO_OK : tempo__mg_fail(&op->err, &e, "writing task '%s' to %s", id, c->st->where);
}

void tempo__mg_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_STATUS, "add_task", (mg_cb_t){.status = cb}, ud, run_add_task);
    if (op->status == TEMPO_OK)
        op->status = tempo__task_record_check(task, &op->err);
    if (op->status == TEMPO_OK) {
        op->in.doc = bson_new();
        op->status = tempo__mg_task_doc(op->in.doc, task, &op->err);
    }
    tempo__mg_op_submit(op);
}

static tempo_status_t run_get_tasks(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    mg_list_t l;
    tempo__mg_list_init(&l, &tempo__mg_tasks_kind);
    tempo_status_t rc = tempo__mg_find(op, c, &filter, &opts, 0, &l);
    if (rc == TEMPO_OK)
        tempo__mg_list_give(&l, op);
    tempo__mg_list_free(&l);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud)
{
    mg_op_t *op = tempo__mg_op_new(self, MG_CB_TASKS, "get_tasks", (mg_cb_t){.tasks = cb}, ud, run_get_tasks);
    tempo__mg_op_submit(op);
}

static tempo_status_t run_remove_task(mg_op_t *op, mg_conn_t *c)
{
    bson_t filter, reply;
    id_filter(&filter, op->in.id);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_delete_one(c->coll[MG_TASKS], &filter, NULL, &reply, &e))
        rc = tempo__mg_fail(&op->err, &e, "removing task '%s' from %s", op->in.id, c->st->where);
    else if (tempo__mg_reply_count(&reply, "deletedCount") == 0)
        rc = tempo__error_set(&op->err, TEMPO_ENOTFOUND, "no task '%s'", op->in.id);
    bson_destroy(&reply);
    bson_destroy(&filter);
    return rc;
}

void tempo__mg_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud)
{
    mg_op_t *op =
        tempo__mg_op_new(self, MG_CB_STATUS, "remove_task", (mg_cb_t){.status = cb}, ud, run_remove_task);
    if (op->status == TEMPO_OK && !tempo__id_ok(id))
        op->status = tempo__error_set(&op->err, TEMPO_EINVAL, "task id is %s", id ? "empty" : "NULL");
    if (op->status == TEMPO_OK)
        op->in.id = bson_strdup(id);
    tempo__mg_op_submit(op);
}
