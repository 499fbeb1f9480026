/* Setting undecodable records aside (offload thread).
 *
 * A record that cannot be decoded (damaged, written by a newer version,
 * edited by hand) is never deleted: it is copied whole into
 * <prefix>quarantine as {kind, id, reason, at, record} and only then removed
 * from its own collection, so no query meets it again and it is reported
 * once (the report goes with the operation that met it, mongo_ops.c). The
 * removal is guarded by the record's revision ("rev", renewed by every
 * write that replaces a record's content): if another process rewrote the
 * record in the meantime — an operator fixing it, an add with REPLACE — the
 * new version stays where it is (and nothing is reported; the copy of the
 * bad version stays in quarantine, for the record). A crash between the copy and the removal
 * leaves a copy in quarantine and the record in place; the next operation
 * meets it again and quarantines it again (two copies, nothing lost). An
 * operator restores a record by inserting `record` back (docs/stores.md). */
#include <string.h>
#include <time.h>

#include "mongo_internal.h"
#include "util/error_internal.h"

static tempo_time_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * TEMPO_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void add_report(mg_op_t *op, const char *kind, const char *id, const char *why)
{
    op->reports = bson_realloc(op->reports, (op->report_count + 1) * sizeof *op->reports);
    op->reports[op->report_count++] = (mg_report_t){bson_strdup(kind), bson_strdup(id), bson_strdup(why)};
}

/* {_id: <the record's>, rev: <its rev, or "absent">} */
static void guard(bson_t *filter, const bson_t *doc)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "_id"))
        bson_append_iter(filter, "_id", -1, &it);
    if (bson_iter_init_find(&it, doc, "rev")) {
        bson_append_iter(filter, "rev", -1, &it);
    } else {
        bson_t absent;
        BSON_APPEND_DOCUMENT_BEGIN(filter, "rev", &absent);
        BSON_APPEND_BOOL(&absent, "$exists", false);
        bson_append_document_end(filter, &absent);
    }
}

tempo_status_t tempo__mg_quarantine(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, const bson_t *doc,
                                    const char *why)
{
    char *id = tempo__mg_id_text(doc);
    bson_t copy = BSON_INITIALIZER, filter = BSON_INITIALIZER, reply;
    tempo__mg_append_new_oid(&copy, "_id");
    BSON_APPEND_UTF8(&copy, "kind", kind->name);
    BSON_APPEND_UTF8(&copy, "id", id);
    BSON_APPEND_UTF8(&copy, "reason", why);
    BSON_APPEND_INT64(&copy, "at", wall_now());
    BSON_APPEND_DOCUMENT(&copy, "record", doc);
    bson_error_t e;
    tempo_status_t rc = TEMPO_OK;
    if (!mongoc_collection_insert_one(c->coll[MG_QUARANTINE], &copy, NULL, NULL, &e)) {
        rc = tempo__mg_fail(&op->err, &e, "setting aside undecodable %s '%s'", kind->name, id);
    } else {
        guard(&filter, doc);
        if (!mongoc_collection_delete_one(c->coll[kind->coll], &filter, NULL, &reply, &e))
            rc = tempo__mg_fail(&op->err, &e, "removing undecodable %s '%s' (copied to quarantine)",
                                kind->name, id);
        else if (tempo__mg_reply_count(&reply, "deletedCount") == 1)
            add_report(op, kind->name, id, why);
        bson_destroy(&reply);
    }
    bson_destroy(&filter);
    bson_destroy(&copy);
    bson_free(id);
    return rc;
}
