/* Stored BSON documents -> records (records.h copies).
 *
 * A document is read field by field; the first fault stops it with
 * TEMPO_EFORMAT and a reason naming the field ("field 'trigger': unknown
 * trigger type 'x'", "field 'fence' is a utf8, expected an integer"), which
 * is what the quarantine report says. A decoded record must also pass the
 * checks every store applies to what it is given (records_check.c): a
 * document edited by hand into a negative max_jitter is as undecodable as a
 * damaged one. Integers are accepted as int32 or int64 (a hand-written
 * document may hold either). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

static tempo_status_t bad(tempo_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tempo_status_t bad(tempo_error_t *err, const char *field, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tempo__error_set(err, TEMPO_EFORMAT, "field '%s' %s", field, what);
}

static const char *type_name(bson_type_t t)
{
    switch (t) {
    case BSON_TYPE_DOUBLE: return "a double";
    case BSON_TYPE_UTF8: return "a utf8";
    case BSON_TYPE_DOCUMENT: return "a document";
    case BSON_TYPE_ARRAY: return "an array";
    case BSON_TYPE_BINARY: return "a binary";
    case BSON_TYPE_OID: return "an ObjectId";
    case BSON_TYPE_BOOL: return "a bool";
    case BSON_TYPE_DATE_TIME: return "a date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_INT32: return "an int32";
    case BSON_TYPE_INT64: return "an int64";
    default: return "of another type";
    }
}

static tempo_status_t find(const bson_t *doc, const char *field, bson_iter_t *it, tempo_error_t *err)
{
    if (!bson_iter_init_find(it, doc, field))
        return bad(err, field, "is missing");
    return TEMPO_OK;
}

static tempo_status_t wrong(tempo_error_t *err, const char *field, const bson_iter_t *it, const char *expected)
{
    return bad(err, field, "is %s, expected %s", type_name(bson_iter_type(it)), expected);
}

/* A string without an embedded NUL; NULL for null when `nullable`. */
static tempo_status_t get_str(const bson_t *doc, const char *field, bool nullable, const char **out,
                              tempo_error_t *err)
{
    bson_iter_t it;
    tempo_status_t rc = find(doc, field, &it, err);
    if (rc != TEMPO_OK)
        return rc;
    if (nullable && BSON_ITER_HOLDS_NULL(&it)) {
        *out = NULL;
        return TEMPO_OK;
    }
    if (!BSON_ITER_HOLDS_UTF8(&it))
        return wrong(err, field, &it, nullable ? "a string or null" : "a string");
    uint32_t len;
    *out = bson_iter_utf8(&it, &len);
    if (strlen(*out) != len)
        return bad(err, field, "holds a NUL character");
    return TEMPO_OK;
}

static tempo_status_t get_i64(const bson_t *doc, const char *field, int64_t *out, tempo_error_t *err)
{
    bson_iter_t it;
    tempo_status_t rc = find(doc, field, &it, err);
    if (rc != TEMPO_OK)
        return rc;
    if (BSON_ITER_HOLDS_INT64(&it))
        *out = bson_iter_int64(&it);
    else if (BSON_ITER_HOLDS_INT32(&it))
        *out = bson_iter_int32(&it);
    else
        return wrong(err, field, &it, "an integer");
    return TEMPO_OK;
}

static tempo_status_t get_int(const bson_t *doc, const char *field, int *out, tempo_error_t *err)
{
    int64_t v;
    tempo_status_t rc = get_i64(doc, field, &v, err);
    if (rc != TEMPO_OK)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX)
        return bad(err, field, "is %lld, out of range", (long long)v);
    *out = (int)v;
    return TEMPO_OK;
}

static tempo_status_t get_bool(const bson_t *doc, const char *field, bool *out, tempo_error_t *err)
{
    bson_iter_t it;
    tempo_status_t rc = find(doc, field, &it, err);
    if (rc != TEMPO_OK)
        return rc;
    if (!BSON_ITER_HOLDS_BOOL(&it))
        return wrong(err, field, &it, "a bool");
    *out = bson_iter_bool(&it);
    return TEMPO_OK;
}

/* A sub-document viewed in place (valid as long as `doc`), or NULL for null. */
static tempo_status_t get_doc(const bson_t *doc, const char *field, bson_t *view, const bson_t **out,
                              tempo_error_t *err)
{
    bson_iter_t it;
    tempo_status_t rc = find(doc, field, &it, err);
    if (rc != TEMPO_OK)
        return rc;
    if (BSON_ITER_HOLDS_NULL(&it)) {
        *out = NULL;
        return TEMPO_OK;
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
        return wrong(err, field, &it, "a document or null");
    uint32_t len;
    const uint8_t *data;
    bson_iter_document(&it, &len, &data);
    if (!bson_init_static(view, data, len))
        return bad(err, field, "is not a valid document");
    *out = view;
    return TEMPO_OK;
}

/* "v": a format this build reads. */
static tempo_status_t check_format(const bson_t *doc, tempo_error_t *err)
{
    int v = 0;
    tempo_status_t rc = get_int(doc, "v", &v, err);
    if (rc == TEMPO_OK && (v < 1 || v > MG_FORMAT))
        return bad(err, "v", "is %d: written by a newer version (this build reads format %d)", v, MG_FORMAT);
    return rc;
}

/* The lease fields: owner (or null), until, fence. */
static tempo_status_t get_lease(const bson_t *doc, tempo_lease_t *lease, tempo_error_t *err)
{
    tempo_status_t rc = get_str(doc, "owner", true, &lease->owner, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "until", &lease->until, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "fence", &lease->fence, err);
    return rc;
}

tempo_status_t tempo__mg_decode_inc(const bson_t *doc, bson_oid_t *inc, tempo_error_t *err)
{
    bson_iter_t it;
    tempo_status_t rc = find(doc, "inc", &it, err);
    if (rc != TEMPO_OK)
        return rc;
    if (!BSON_ITER_HOLDS_OID(&it))
        return wrong(err, "inc", &it, "an ObjectId");
    bson_oid_copy(bson_iter_oid(&it), inc);
    return TEMPO_OK;
}

char *tempo__mg_id_text(const bson_t *doc)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id"))
        return bson_strdup("(no _id)");
    if (BSON_ITER_HOLDS_UTF8(&it))
        return bson_strdup(bson_iter_utf8(&it, NULL));
    bson_t one = BSON_INITIALIZER;
    bson_append_iter(&one, "_id", -1, &it);
    char *json = bson_as_canonical_extended_json(&one, NULL);
    bson_destroy(&one);
    return json ? json : bson_strdup("(unprintable _id)");
}

/* The fields records.h cannot check, then the check every store applies. */

tempo_status_t tempo__mg_decode_task(const bson_t *doc, tempo_task_record_t *out, tempo_error_t *err)
{
    tempo_task_record_t t = {0};
    bson_t meta;
    int executor = 0;
    tempo_status_t rc = check_format(doc, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "_id", false, &t.id, err);
    if (rc == TEMPO_OK)
        rc = get_int(doc, "executor", &executor, err);
    if (rc == TEMPO_OK)
        rc = get_int(doc, "max_running_jobs", &t.max_running_jobs, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "misfire_grace_time", &t.misfire_grace_time, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "metadata", &meta, &t.metadata, err);
    t.executor = (tempo_executor_t)executor;
    if (rc == TEMPO_OK && tempo__task_record_check(&t, err) != TEMPO_OK)
        rc = tempo__error_prefix(err, TEMPO_EFORMAT, "invalid record");
    return rc == TEMPO_OK ? tempo__task_record_copy(out, &t, err) : rc;
}

/* Everything but the trigger, which needs freeing. */
static tempo_status_t schedule_fields(const bson_t *doc, tempo_schedule_record_t *s, bson_t *args, bson_t *meta,
                                      tempo_error_t *err)
{
    int coalesce = 0;
    tempo_status_t rc = check_format(doc, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "_id", false, &s->id, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "task_id", false, &s->task_id, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "args", args, &s->args, err);
    if (rc == TEMPO_OK)
        rc = get_int(doc, "coalesce", &coalesce, err);
    s->coalesce = (tempo_coalesce_t)coalesce;
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "misfire_grace_time", &s->misfire_grace_time, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "max_jitter", &s->max_jitter, err);
    if (rc == TEMPO_OK)
        rc = get_bool(doc, "jitter_deterministic", &s->jitter_deterministic, err);
    if (rc == TEMPO_OK)
        rc = get_bool(doc, "paused", &s->paused, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "job_result_expiration", &s->job_result_expiration, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "next_fire_time", &s->next_fire_time, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "last_fire_time", &s->last_fire_time, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "metadata", meta, &s->metadata, err);
    if (rc == TEMPO_OK)
        rc = get_lease(doc, &s->lease, err);
    return rc;
}

tempo_status_t tempo__mg_decode_schedule(const bson_t *doc, tempo_schedule_record_t *out, tempo_error_t *err)
{
    tempo_schedule_record_t s = {0};
    bson_t args, meta, tview;
    const bson_t *tdoc = NULL;
    bson_oid_t inc;
    memset(out, 0, sizeof *out);
    tempo_status_t rc = schedule_fields(doc, &s, &args, &meta, err);
    if (rc == TEMPO_OK)
        rc = tempo__mg_decode_inc(doc, &inc, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "trigger", &tview, &tdoc, err);
    if (rc == TEMPO_OK && !tdoc)
        rc = bad(err, "trigger", "is null");
    if (rc == TEMPO_OK && (rc = tempo_trigger_from_bson(tdoc, &s.trigger, err)) != TEMPO_OK)
        rc = tempo__error_prefix(err, TEMPO_EFORMAT, "field 'trigger'");
    if (rc == TEMPO_OK && tempo__schedule_record_check(&s, err) != TEMPO_OK)
        rc = tempo__error_prefix(err, TEMPO_EFORMAT, "invalid record");
    if (rc == TEMPO_OK)
        rc = tempo__schedule_record_copy(out, &s, err);
    tempo_trigger_free(s.trigger);
    return rc;
}

tempo_status_t tempo__mg_decode_job(const bson_t *doc, tempo_job_record_t *out, tempo_error_t *err)
{
    tempo_job_record_t j = {0};
    bson_t args;
    bson_oid_t inc;
    memset(out, 0, sizeof *out);
    tempo_status_t rc = check_format(doc, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "_id", false, &j.id, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "task_id", false, &j.task_id, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "schedule_id", true, &j.schedule_id, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "args", &args, &j.args, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "scheduled_fire_time", &j.scheduled_fire_time, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "original_fire_time", &j.original_fire_time, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "start_deadline", &j.start_deadline, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "result_expiration", &j.result_expiration, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "created_at", &j.created_at, err);
    if (rc == TEMPO_OK)
        rc = get_lease(doc, &j.lease, err);
    if (rc == TEMPO_OK)
        rc = tempo__mg_decode_inc(doc, &inc, err);
    if (rc == TEMPO_OK && tempo__job_record_check(&j, err) != TEMPO_OK)
        rc = tempo__error_prefix(err, TEMPO_EFORMAT, "invalid record");
    return rc == TEMPO_OK ? tempo__job_record_copy(out, &j, err) : rc;
}

tempo_status_t tempo__mg_decode_result(const bson_t *doc, tempo_job_result_t *out, tempo_error_t *err)
{
    tempo_job_result_t r = {0};
    bson_t value;
    int outcome = 0;
    memset(out, 0, sizeof *out);
    tempo_status_t rc = check_format(doc, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "_id", false, &r.job_id, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "task_id", false, &r.task_id, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "schedule_id", true, &r.schedule_id, err);
    if (rc == TEMPO_OK)
        rc = get_int(doc, "outcome", &outcome, err);
    r.outcome = (tempo_outcome_t)outcome;
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "scheduled_fire_time", &r.scheduled_fire_time, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "started_at", &r.started_at, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "finished_at", &r.finished_at, err);
    if (rc == TEMPO_OK)
        rc = get_i64(doc, "expires_at", &r.expires_at, err);
    if (rc == TEMPO_OK)
        rc = get_doc(doc, "return_value", &value, &r.return_value, err);
    if (rc == TEMPO_OK)
        rc = get_str(doc, "error", true, &r.error, err);
    if (rc == TEMPO_OK && tempo__job_result_check(&r, err) != TEMPO_OK)
        rc = tempo__error_prefix(err, TEMPO_EFORMAT, "invalid record");
    return rc == TEMPO_OK ? tempo__job_result_copy(out, &r, err) : rc;
}
