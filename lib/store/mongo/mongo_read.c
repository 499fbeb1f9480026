/* Running a query and decoding what it returns (offload thread).
 *
 * Every operation that reads records reads them whole and decodes them, so
 * a record that cannot be decoded is met — and set aside — by whichever
 * operation reads it first, before that operation's answer. The bad
 * documents are copied while the cursor runs and quarantined after it is
 * done (the same client then issues the moves). */
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

static tempo_status_t dec_task(const bson_t *doc, void *rec, tempo_error_t *err)
{
    return tempo__mg_decode_task(doc, rec, err);
}

static tempo_status_t dec_schedule(const bson_t *doc, void *rec, tempo_error_t *err)
{
    return tempo__mg_decode_schedule(doc, rec, err);
}

static tempo_status_t dec_job(const bson_t *doc, void *rec, tempo_error_t *err)
{
    return tempo__mg_decode_job(doc, rec, err);
}

static void clear_task(void *rec)
{
    tempo__task_record_clear(rec);
}

static void clear_schedule(void *rec)
{
    tempo__schedule_record_clear(rec);
}

static void clear_job(void *rec)
{
    tempo__job_record_clear(rec);
}

const mg_kind_t tempo__mg_tasks_kind = {"task", MG_TASKS, sizeof(tempo_task_record_t), dec_task, clear_task};
const mg_kind_t tempo__mg_schedules_kind = {"schedule", MG_SCHEDULES, sizeof(tempo_schedule_record_t),
                                            dec_schedule, clear_schedule};
const mg_kind_t tempo__mg_jobs_kind = {"job", MG_JOBS, sizeof(tempo_job_record_t), dec_job, clear_job};

/* ---- lists ---- */

void tempo__mg_list_init(mg_list_t *l, const mg_kind_t *kind)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
}

void *tempo__mg_list_at(const mg_list_t *l, size_t i)
{
    return (char *)l->recs + i * l->kind->size;
}

void tempo__mg_list_free(mg_list_t *l)
{
    for (size_t i = 0; i < l->count; i++) {
        l->kind->clear(tempo__mg_list_at(l, i));
        bson_destroy(l->docs[i]);
    }
    bson_free(l->recs);
    bson_free(l->docs);
    tempo__mg_list_init(l, l->kind);
}

void tempo__mg_list_remove(mg_list_t *l, size_t i)
{
    l->kind->clear(tempo__mg_list_at(l, i));
    bson_destroy(l->docs[i]);
    size_t after = l->count - i - 1;
    memmove(tempo__mg_list_at(l, i), tempo__mg_list_at(l, i + 1), after * l->kind->size);
    memmove(&l->docs[i], &l->docs[i + 1], after * sizeof *l->docs);
    l->count--;
}

void tempo__mg_list_give(mg_list_t *l, mg_op_t *op)
{
    for (size_t i = 0; i < l->count; i++)
        bson_destroy(l->docs[i]);
    bson_free(l->docs);
    op->out.recs = l->count ? l->recs : NULL;
    op->out.count = l->count;
    if (!l->count)
        bson_free(l->recs);
    tempo__mg_list_init(l, l->kind);
}

/* Append a decoded record (moved in) and a copy of its document. */
static void list_push(mg_list_t *l, const void *rec, const bson_t *doc)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->recs = bson_realloc(l->recs, l->cap * l->kind->size);
        l->docs = bson_realloc(l->docs, l->cap * sizeof *l->docs);
    }
    memcpy(tempo__mg_list_at(l, l->count), rec, l->kind->size);
    l->docs[l->count++] = bson_copy(doc);
}

/* ---- find ---- */

typedef struct bad_doc {
    bson_t *doc;
    char *why;
} bad_doc_t;

typedef struct bad_list {
    bad_doc_t *items;
    size_t count, cap;
} bad_list_t;

static void bad_push(bad_list_t *b, const bson_t *doc, const char *why)
{
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->items = bson_realloc(b->items, b->cap * sizeof *b->items);
    }
    b->items[b->count++] = (bad_doc_t){bson_copy(doc), bson_strdup(why)};
}

/* Quarantine them all (stopping at the first failure), then free them. */
static tempo_status_t bad_settle(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, bad_list_t *b)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < b->count; i++) {
        if (rc == TEMPO_OK)
            rc = tempo__mg_quarantine(op, c, kind, b->items[i].doc, b->items[i].why);
        bson_destroy(b->items[i].doc);
        bson_free(b->items[i].why);
    }
    bson_free(b->items);
    return rc;
}

tempo_status_t tempo__mg_scan(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, const bson_t *filter,
                              const bson_t *opts, mg_each_fn each, void *ctx)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->coll[kind->coll], filter, opts, NULL);
    bad_list_t bad = {0};
    const bson_t *doc;
    void *rec = bson_malloc0(kind->size);
    bool more = true;
    while (more && mongoc_cursor_next(cur, &doc)) {
        tempo_error_t why;
        if (kind->decode(doc, rec, &why) == TEMPO_OK) {
            more = each(ctx, rec, doc);
            kind->clear(rec); /* a no-op when `each` took it */
        } else {
            bad_push(&bad, doc, why.message);
        }
    }
    bson_free(rec);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (mongoc_cursor_error(cur, &e))
        rc = tempo__mg_fail(&op->err, &e, "reading %ss from %s", kind->name, c->st->where);
    mongoc_cursor_destroy(cur);
    tempo_status_t qrc = bad_settle(op, c, kind, &bad);
    return rc != TEMPO_OK ? rc : qrc;
}

typedef struct collect {
    mg_list_t *l;
    size_t max;
} collect_t;

static bool collect_one(void *ctx, void *rec, const bson_t *doc)
{
    collect_t *k = ctx;
    list_push(k->l, rec, doc);
    memset(rec, 0, k->l->kind->size);
    return k->max == 0 || k->l->count < k->max;
}

tempo_status_t tempo__mg_find(mg_op_t *op, mg_conn_t *c, const bson_t *filter, const bson_t *opts,
                              size_t max, mg_list_t *l)
{
    collect_t k = {l, max};
    return tempo__mg_scan(op, c, l->kind, filter, opts, collect_one, &k);
}
