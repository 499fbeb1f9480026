/* Argument checks and the copies an operation keeps (loop thread).
 *
 * The checks say the same as the memory store's, word for word where the
 * conformance suite or a user could compare them; a refused call changes
 * nothing and never reaches the server. */
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

tempo_status_t tempo__mg_check_ids(const char *const *ids, size_t count, const char *what,
                                   tempo_error_t *err)
{
    if (count > 0 && !ids)
        return tempo__error_set(err, TEMPO_EINVAL, "%s is NULL but its count is %zu", what, count);
    for (size_t i = 0; i < count; i++)
        if (!tempo__id_ok(ids[i]))
            return tempo__error_set(err, TEMPO_EINVAL, "%s[%zu] is %s", what, i, ids[i] ? "empty" : "NULL");
    return TEMPO_OK;
}

char **tempo__mg_strv_dup(const char *const *ids, size_t count)
{
    if (count == 0)
        return NULL;
    char **v = bson_malloc0(count * sizeof *v);
    for (size_t i = 0; i < count; i++)
        v[i] = bson_strdup(ids[i]);
    return v;
}

void tempo__mg_strv_free(char **v, size_t count)
{
    if (!v)
        return;
    for (size_t i = 0; i < count; i++)
        bson_free(v[i]);
    bson_free(v);
}

tempo_status_t tempo__mg_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                          tempo_error_t *err)
{
    tempo_time_t until;
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    if (lease <= 0)
        return tempo__error_set(err, TEMPO_EINVAL, "lease must be > 0 microseconds, got %lld",
                                (long long)lease);
    if (__builtin_add_overflow(now, lease, &until))
        return tempo__error_set(err, TEMPO_ERANGE, "now + lease (%lld + %lld) is past the end of time",
                                (long long)now, (long long)lease);
    return TEMPO_OK;
}

/* A task listed twice counts once, with its first limit (as in the memory
 * store). */
tempo_status_t tempo__mg_copy_tasks(mg_in_t *in, const tempo_task_record_t *tasks, size_t count,
                                    tempo_error_t *err)
{
    if (count > 0 && !tasks)
        return tempo__error_set(err, TEMPO_EINVAL, "tasks is NULL but task_count is %zu", count);
    for (size_t i = 0; i < count; i++) {
        if (!tempo__id_ok(tasks[i].id))
            return tempo__error_set(err, TEMPO_EINVAL, "tasks[%zu].id is %s", i, tasks[i].id ? "empty" : "NULL");
        if (tasks[i].max_running_jobs < 0)
            return tempo__error_set(err, TEMPO_EINVAL, "tasks[%zu] ('%s'): max_running_jobs must be >= 0, got %d",
                                    i, tasks[i].id, tasks[i].max_running_jobs);
    }
    in->tasks = count ? bson_malloc0(count * sizeof *in->tasks) : NULL;
    in->task_count = 0;
    for (size_t i = 0; i < count; i++) {
        bool seen = false;
        for (size_t k = 0; k < in->task_count && !seen; k++)
            seen = strcmp(in->tasks[k].id, tasks[i].id) == 0;
        if (!seen)
            in->tasks[in->task_count++] = (mg_task_limit_t){bson_strdup(tasks[i].id), tasks[i].max_running_jobs};
    }
    return TEMPO_OK;
}


/* Whether an earlier job of the batch has this id (the first one is kept:
 * idempotent insertion, store.h). Quadratic in the batch, which is one
 * scheduler step's worth of jobs. */
static bool batch_has(bson_t *const *docs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, docs[i], "_id") && BSON_ITER_HOLDS_UTF8(&it) &&
            strcmp(bson_iter_utf8(&it, NULL), id) == 0)
            return true;
    }
    return false;
}

tempo_status_t tempo__mg_copy_releases(mg_in_t *in, const char *owner, const tempo_schedule_release_t *rel,
                                       size_t count, tempo_error_t *err)
{
    tempo_status_t rc = tempo__releases_check(owner, rel, count, NULL, err);
    if (rc != TEMPO_OK)
        return rc;
    size_t total = 0;
    bool takes = false;
    for (size_t i = 0; i < count; i++) {
        total += rel[i].job_count;
        takes |= rel[i].take && rel[i].job_count > 0;
    }
    in->owner = bson_strdup(owner);
    in->releases = count ? bson_malloc0(count * sizeof *in->releases) : NULL;
    in->jobs = total ? bson_malloc0(total * sizeof *in->jobs) : NULL;
    in->takes = takes ? bson_malloc0(total * sizeof *in->takes) : NULL;
    for (size_t i = 0; i < count; i++) {
        mg_release_t *r = &in->releases[in->release_count++];
        *r = (mg_release_t){bson_strdup(rel[i].id), rel[i].fence, rel[i].next_fire_time, rel[i].last_fire_time,
                            false};
        for (size_t k = 0; k < rel[i].job_count; k++) {
            r->named |= rel[i].jobs[k].schedule_id && strcmp(rel[i].jobs[k].schedule_id, rel[i].id) == 0;
            if (batch_has(in->jobs, in->job_count, rel[i].jobs[k].id))
                continue;
            /* Only jobs of unlimited tasks are taken (mongo_take.c). */
            const tempo_job_take_t *t = rel[i].take ? &rel[i].take[k] : NULL;
            bool take = t && t->max_running == 0;
            bson_t *doc = bson_new();
            rc = tempo__mg_job_doc(doc, &rel[i].jobs[k], take ? owner : NULL, take ? t->until : TEMPO_TIME_NONE,
                                   err);
            if (rc != TEMPO_OK) {
                bson_destroy(doc);
                return tempo__error_prefix(err, rc, "releases[%zu] ('%s') jobs[%zu]", i, rel[i].id, k);
            }
            if (take)
                in->takes[in->job_count] = (mg_take_t){true, i, k, t->until};
            in->jobs[in->job_count++] = doc;
        }
    }
    return TEMPO_OK;
}

void tempo__mg_in_free(mg_in_t *in)
{
    bson_free(in->owner);
    bson_free(in->id);
    tempo__mg_strv_free(in->ids, in->count);
    tempo__mg_strv_free(in->ids2, in->count2);
    if (in->doc)
        bson_destroy(in->doc);
    for (size_t i = 0; i < in->task_count; i++)
        bson_free(in->tasks[i].id);
    bson_free(in->tasks);
    for (size_t i = 0; i < in->release_count; i++)
        bson_free(in->releases[i].id);
    bson_free(in->releases);
    for (size_t i = 0; i < in->job_count; i++)
        bson_destroy(in->jobs[i]);
    bson_free(in->jobs);
    bson_free(in->takes);
    if (in->has_result)
        tempo__job_result_clear(&in->result);
    memset(in, 0, sizeof *in);
}
