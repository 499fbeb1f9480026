/* Deep copies of the store records (records.h). */
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "util/error_internal.h"

/* ---- the string block ---- */

static size_t size0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Append `s` at *cursor and return where it went (NULL stays NULL). */
static const char *put(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *at = *cursor;
    memcpy(at, s, n);
    *cursor += n;
    return at;
}

/* Copy a document, or NULL for NULL. *ok turns false when the copy fails
 * (libbson's allocator aborts first in practice; the check costs nothing). */
static bson_t *copy_doc(const bson_t *doc, bool *ok)
{
    if (!doc)
        return NULL;
    bson_t *copy = bson_copy(doc);
    if (!copy)
        *ok = false;
    return copy;
}

static void free_doc(const bson_t *doc)
{
    if (doc)
        bson_destroy((bson_t *)doc);
}

static tempo_status_t no_memory(tempo_error_t *err, const char *kind, const char *id)
{
    return tempo__error_set(err, TEMPO_ENOMEM, "out of memory copying %s '%s'", kind, id ? id : "?");
}

/* ---- tasks ---- */

tempo_status_t tempo__task_record_copy(tempo_task_record_t *dst, const tempo_task_record_t *src,
                                       tempo_error_t *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->id)
        return tempo__error_set(err, TEMPO_EINVAL, "task record: %s is NULL", src ? "id" : "record");
    char *block = malloc(size0(src->id)), *cursor = block;
    bool ok = block != NULL;
    bson_t *metadata = ok ? copy_doc(src->metadata, &ok) : NULL;
    if (!ok) {
        free(block);
        free_doc(metadata);
        return no_memory(err, "task", src->id);
    }
    *dst = *src;
    dst->id = put(&cursor, src->id);
    dst->metadata = metadata;
    return TEMPO_OK;
}

void tempo__task_record_clear(tempo_task_record_t *rec)
{
    free((char *)rec->id);
    free_doc(rec->metadata);
    memset(rec, 0, sizeof *rec);
}

/* ---- schedules ---- */

tempo_status_t tempo__schedule_record_copy(tempo_schedule_record_t *dst,
                                           const tempo_schedule_record_t *src, tempo_error_t *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->id)
        return tempo__error_set(err, TEMPO_EINVAL, "schedule record: %s is NULL",
                                src ? "id" : "record");
    char *block = malloc(size0(src->id) + size0(src->task_id) + size0(src->lease.owner));
    char *cursor = block;
    bool ok = block != NULL;
    bson_t *args = ok ? copy_doc(src->args, &ok) : NULL;
    bson_t *metadata = ok ? copy_doc(src->metadata, &ok) : NULL;
    if (!ok) {
        free(block);
        free_doc(args);
        free_doc(metadata);
        return no_memory(err, "schedule", src->id);
    }
    *dst = *src;
    dst->id = put(&cursor, src->id);
    dst->task_id = put(&cursor, src->task_id);
    dst->lease.owner = put(&cursor, src->lease.owner);
    dst->args = args;
    dst->metadata = metadata;
    dst->trigger = src->trigger ? tempo_trigger_ref(src->trigger) : NULL;
    return TEMPO_OK;
}

void tempo__schedule_record_clear(tempo_schedule_record_t *rec)
{
    free((char *)rec->id);
    free_doc(rec->args);
    free_doc(rec->metadata);
    tempo_trigger_free(rec->trigger);
    memset(rec, 0, sizeof *rec);
}

/* ---- jobs ---- */

tempo_status_t tempo__job_record_copy(tempo_job_record_t *dst, const tempo_job_record_t *src,
                                      tempo_error_t *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->id)
        return tempo__error_set(err, TEMPO_EINVAL, "job record: %s is NULL", src ? "id" : "record");
    char *block = malloc(size0(src->id) + size0(src->task_id) + size0(src->schedule_id) +
                         size0(src->lease.owner));
    char *cursor = block;
    bool ok = block != NULL;
    bson_t *args = ok ? copy_doc(src->args, &ok) : NULL;
    if (!ok) {
        free(block);
        free_doc(args);
        return no_memory(err, "job", src->id);
    }
    *dst = *src;
    dst->id = put(&cursor, src->id);
    dst->task_id = put(&cursor, src->task_id);
    dst->schedule_id = put(&cursor, src->schedule_id);
    dst->lease.owner = put(&cursor, src->lease.owner);
    dst->args = args;
    return TEMPO_OK;
}

void tempo__job_record_clear(tempo_job_record_t *rec)
{
    free((char *)rec->id);
    free_doc(rec->args);
    memset(rec, 0, sizeof *rec);
}

/* ---- results ---- */

tempo_status_t tempo__job_result_copy(tempo_job_result_t *dst, const tempo_job_result_t *src,
                                      tempo_error_t *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->job_id)
        return tempo__error_set(err, TEMPO_EINVAL, "job result: %s is NULL", src ? "job_id" : "result");
    char *block = malloc(size0(src->job_id) + size0(src->task_id) + size0(src->schedule_id) +
                         size0(src->error));
    char *cursor = block;
    bool ok = block != NULL;
    bson_t *value = ok ? copy_doc(src->return_value, &ok) : NULL;
    if (!ok) {
        free(block);
        free_doc(value);
        return no_memory(err, "the result of job", src->job_id);
    }
    *dst = *src;
    dst->job_id = put(&cursor, src->job_id);
    dst->task_id = put(&cursor, src->task_id);
    dst->schedule_id = put(&cursor, src->schedule_id);
    dst->error = put(&cursor, src->error);
    dst->return_value = value;
    return TEMPO_OK;
}

void tempo__job_result_clear(tempo_job_result_t *rec)
{
    free((char *)rec->job_id);
    free_doc(rec->return_value);
    memset(rec, 0, sizeof *rec);
}

/* ---- arrays ---- */

/* One generic body for the three array kinds: copy element by element into
 * a calloc'd array, and on failure clear what was made (clearing a zeroed
 * element is a no-op). */
#define DEFINE_DUP(name, type, copy, clear)                                                  \
    void name##_free(type *recs, size_t count)                                               \
    {                                                                                        \
        if (!recs)                                                                           \
            return;                                                                          \
        for (size_t i = 0; i < count; i++)                                                   \
            clear(&recs[i]);                                                                 \
        free(recs);                                                                          \
    }                                                                                        \
    tempo_status_t name##_dup(const type *src, size_t count, type **out, tempo_error_t *err) \
    {                                                                                        \
        *out = NULL;                                                                         \
        if (count == 0)                                                                      \
            return TEMPO_OK;                                                                 \
        type *recs = calloc(count, sizeof *recs);                                            \
        if (!recs)                                                                           \
            return tempo__error_set(err, TEMPO_ENOMEM, "out of memory copying %zu records",  \
                                    count);                                                  \
        for (size_t i = 0; i < count; i++) {                                                 \
            tempo_status_t rc = copy(&recs[i], &src[i], err);                                \
            if (rc != TEMPO_OK) {                                                            \
                name##_free(recs, i);                                                        \
                return rc;                                                                   \
            }                                                                                \
        }                                                                                    \
        *out = recs;                                                                         \
        return TEMPO_OK;                                                                     \
    }

DEFINE_DUP(tempo__task_records, tempo_task_record_t, tempo__task_record_copy, tempo__task_record_clear)
DEFINE_DUP(tempo__schedule_records, tempo_schedule_record_t, tempo__schedule_record_copy,
           tempo__schedule_record_clear)
DEFINE_DUP(tempo__job_records, tempo_job_record_t, tempo__job_record_copy, tempo__job_record_clear)
