/* Records -> stored BSON documents (the layout is in docs/stores.md).
 *
 * Every document carries "v" (MG_FORMAT): a reader meeting a newer one
 * quarantines it instead of guessing. Times and durations are int64
 * microseconds with NONE (INT64_MIN) stored as is, so every comparison the
 * queries make is an integer one. Optional documents (args, metadata,
 * return values) are null when NULL or empty, as the memory store keeps
 * them. Encoding runs on the loop thread at call time: the caller's records
 * (and its trigger, which a custom type serializes) are only read during the
 * call. */
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

void tempo__mg_append_doc_or_null(bson_t *doc, const char *key, const bson_t *value)
{
    if (value && !bson_empty(value))
        BSON_APPEND_DOCUMENT(doc, key, value);
    else
        BSON_APPEND_NULL(doc, key);
}

void tempo__mg_append_str_or_null(bson_t *doc, const char *key, const char *value)
{
    if (value)
        BSON_APPEND_UTF8(doc, key, value);
    else
        BSON_APPEND_NULL(doc, key);
}

void tempo__mg_append_new_oid(bson_t *doc, const char *key)
{
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(doc, key, &oid);
}

tempo_time_t tempo__mg_job_due(const tempo_job_record_t *j)
{
    return j->scheduled_fire_time != TEMPO_TIME_NONE ? j->scheduled_fire_time : j->created_at;
}

tempo_status_t tempo__mg_schedule_content(bson_t *doc, const tempo_schedule_record_t *s, tempo_error_t *err)
{
    bson_t trigger;
    tempo_status_t rc = tempo_trigger_to_bson(s->trigger, &trigger, err);
    if (rc != TEMPO_OK)
        return tempo__error_prefix(err, rc, "schedule '%s': trigger", s->id);
    BSON_APPEND_INT32(doc, "v", MG_FORMAT);
    BSON_APPEND_UTF8(doc, "task_id", s->task_id);
    BSON_APPEND_DOCUMENT(doc, "trigger", &trigger);
    bson_destroy(&trigger);
    tempo__mg_append_doc_or_null(doc, "args", s->args);
    BSON_APPEND_INT32(doc, "coalesce", (int32_t)s->coalesce);
    BSON_APPEND_INT64(doc, "misfire_grace_time", s->misfire_grace_time);
    BSON_APPEND_INT64(doc, "max_jitter", s->max_jitter);
    BSON_APPEND_BOOL(doc, "jitter_deterministic", s->jitter_deterministic);
    BSON_APPEND_BOOL(doc, "paused", s->paused);
    BSON_APPEND_INT64(doc, "job_result_expiration", s->job_result_expiration);
    BSON_APPEND_INT64(doc, "next_fire_time", s->next_fire_time);
    BSON_APPEND_INT64(doc, "last_fire_time", s->last_fire_time);
    tempo__mg_append_doc_or_null(doc, "metadata", s->metadata);
    /* A new revision: quarantine removes a record only if it is still the
     * revision it could not decode (mongo_quarantine.c). */
    tempo__mg_append_new_oid(doc, "rev");
    return TEMPO_OK;
}

tempo_status_t tempo__mg_job_doc(bson_t *doc, const tempo_job_record_t *j, const char *owner, tempo_time_t until,
                                 tempo_error_t *err)
{
    (void)err; /* the record was checked; appending cannot fail */
    BSON_APPEND_UTF8(doc, "_id", j->id);
    BSON_APPEND_INT32(doc, "v", MG_FORMAT);
    BSON_APPEND_UTF8(doc, "task_id", j->task_id);
    tempo__mg_append_str_or_null(doc, "schedule_id", j->schedule_id);
    tempo__mg_append_doc_or_null(doc, "args", j->args);
    BSON_APPEND_INT64(doc, "scheduled_fire_time", j->scheduled_fire_time);
    BSON_APPEND_INT64(doc, "original_fire_time", j->original_fire_time);
    BSON_APPEND_INT64(doc, "start_deadline", j->start_deadline);
    BSON_APPEND_INT64(doc, "result_expiration", j->result_expiration);
    BSON_APPEND_INT64(doc, "created_at", j->created_at);
    BSON_APPEND_INT64(doc, "due", tempo__mg_job_due(j));
    /* Queued, or taken at its schedule's release (mongo_take.c). */
    tempo__mg_append_str_or_null(doc, "owner", owner);
    BSON_APPEND_INT64(doc, "until", owner ? until : TEMPO_TIME_NONE);
    BSON_APPEND_INT64(doc, "fence", owner ? 1 : 0);
    tempo__mg_append_new_oid(doc, "inc");
    tempo__mg_append_new_oid(doc, "rev");
    return TEMPO_OK;
}

tempo_status_t tempo__mg_task_doc(bson_t *doc, const tempo_task_record_t *t, tempo_error_t *err)
{
    (void)err;
    BSON_APPEND_UTF8(doc, "_id", t->id);
    BSON_APPEND_INT32(doc, "v", MG_FORMAT);
    BSON_APPEND_INT32(doc, "executor", (int32_t)t->executor);
    BSON_APPEND_INT32(doc, "max_running_jobs", t->max_running_jobs);
    BSON_APPEND_INT64(doc, "misfire_grace_time", t->misfire_grace_time);
    tempo__mg_append_doc_or_null(doc, "metadata", t->metadata);
    tempo__mg_append_new_oid(doc, "rev");
    return TEMPO_OK;
}

void tempo__mg_result_doc(bson_t *doc, const tempo_job_record_t *job, const tempo_job_result_t *r)
{
    tempo_time_t expires;
    if (__builtin_add_overflow(r->finished_at, job->result_expiration, &expires))
        expires = INT64_MAX; /* kept "for ever" rather than refused, as the memory store */
    BSON_APPEND_UTF8(doc, "_id", job->id);
    BSON_APPEND_INT32(doc, "v", MG_FORMAT);
    BSON_APPEND_UTF8(doc, "task_id", job->task_id);
    tempo__mg_append_str_or_null(doc, "schedule_id", job->schedule_id);
    BSON_APPEND_INT32(doc, "outcome", (int32_t)r->outcome);
    BSON_APPEND_INT64(doc, "scheduled_fire_time", job->scheduled_fire_time);
    BSON_APPEND_INT64(doc, "started_at", r->started_at);
    BSON_APPEND_INT64(doc, "finished_at", r->finished_at);
    BSON_APPEND_INT64(doc, "expires_at", expires);
    tempo__mg_append_doc_or_null(doc, "return_value", r->return_value);
    tempo__mg_append_str_or_null(doc, "error", r->error);
}
