/* What every store refuses before it keeps a record (records.h). */
#include "records.h"
#include "util/error_internal.h"

/* A duration that must be >= 0, or NONE where `none_ok`. */
static tempo_status_t check_duration(const char *kind, const char *id, const char *field,
                                     tempo_duration_t d, bool none_ok, tempo_error_t *err)
{
    if (d >= 0 || (none_ok && d == TEMPO_DURATION_NONE))
        return TEMPO_OK;
    return tempo__error_set(err, TEMPO_EINVAL, "%s '%s': %s must be >= 0%s, got %lld", kind, id, field,
                            none_ok ? " or TEMPO_DURATION_NONE" : "", (long long)d);
}

tempo_status_t tempo__task_record_check(const tempo_task_record_t *t, tempo_error_t *err)
{
    if (!t)
        return tempo__error_set(err, TEMPO_EINVAL, "task: the record is NULL");
    if (!tempo__id_ok(t->id))
        return tempo__error_set(err, TEMPO_EINVAL, "task: id is %s", t->id ? "empty" : "NULL");
    if (t->executor != TEMPO_EXECUTOR_LOOP && t->executor != TEMPO_EXECUTOR_THREAD)
        return tempo__error_set(err, TEMPO_EINVAL, "task '%s': executor %d is not a tempo_executor_t",
                                t->id, (int)t->executor);
    if (t->max_running_jobs < 0)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "task '%s': max_running_jobs must be >= 0 (0 = unlimited), got %d", t->id,
                                t->max_running_jobs);
    return check_duration("task", t->id, "misfire_grace_time", t->misfire_grace_time, true, err);
}

tempo_status_t tempo__schedule_record_check(const tempo_schedule_record_t *s, tempo_error_t *err)
{
    if (!s)
        return tempo__error_set(err, TEMPO_EINVAL, "schedule: the record is NULL");
    if (!tempo__id_ok(s->id))
        return tempo__error_set(err, TEMPO_EINVAL, "schedule: id is %s", s->id ? "empty" : "NULL");
    if (!tempo__id_ok(s->task_id))
        return tempo__error_set(err, TEMPO_EINVAL, "schedule '%s': task_id is %s", s->id,
                                s->task_id ? "empty" : "NULL");
    if (!s->trigger)
        return tempo__error_set(err, TEMPO_EINVAL, "schedule '%s': trigger is NULL", s->id);
    if (s->coalesce != TEMPO_COALESCE_LATEST && s->coalesce != TEMPO_COALESCE_EARLIEST &&
        s->coalesce != TEMPO_COALESCE_ALL)
        return tempo__error_set(err, TEMPO_EINVAL, "schedule '%s': coalesce %d is not a tempo_coalesce_t",
                                s->id, (int)s->coalesce);
    tempo_status_t rc =
        check_duration("schedule", s->id, "misfire_grace_time", s->misfire_grace_time, true, err);
    if (rc == TEMPO_OK)
        rc = check_duration("schedule", s->id, "max_jitter", s->max_jitter, false, err);
    if (rc == TEMPO_OK)
        rc = check_duration("schedule", s->id, "job_result_expiration", s->job_result_expiration, false,
                            err);
    return rc;
}

tempo_status_t tempo__job_record_check(const tempo_job_record_t *j, tempo_error_t *err)
{
    if (!j)
        return tempo__error_set(err, TEMPO_EINVAL, "job: the record is NULL");
    if (!tempo__id_ok(j->id))
        return tempo__error_set(err, TEMPO_EINVAL, "job: id is %s", j->id ? "empty" : "NULL");
    if (!tempo__id_ok(j->task_id))
        return tempo__error_set(err, TEMPO_EINVAL, "job '%s': task_id is %s", j->id,
                                j->task_id ? "empty" : "NULL");
    if (j->schedule_id && j->schedule_id[0] == '\0')
        return tempo__error_set(err, TEMPO_EINVAL, "job '%s': schedule_id is empty (use NULL for none)",
                                j->id);
    if (j->created_at == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "job '%s': created_at is TEMPO_TIME_NONE", j->id);
    return check_duration("job", j->id, "result_expiration", j->result_expiration, false, err);
}

tempo_status_t tempo__job_result_check(const tempo_job_result_t *r, tempo_error_t *err)
{
    if (!r)
        return tempo__error_set(err, TEMPO_EINVAL, "job result: the result is NULL");
    const char *id = r->job_id ? r->job_id : "?";
    if ((int)r->outcome < (int)TEMPO_OUTCOME_SUCCESS ||
        (int)r->outcome > (int)TEMPO_OUTCOME_DESERIALIZATION_FAILED)
        return tempo__error_set(err, TEMPO_EINVAL, "result of job '%s': outcome %d is not a tempo_outcome_t",
                                id, (int)r->outcome);
    if (r->finished_at == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "result of job '%s': finished_at is TEMPO_TIME_NONE", id);
    return TEMPO_OK;
}

static tempo_status_t take_check(tempo_job_take_t *t, tempo_error_t *err)
{
    t->fence = 0;
    if (t->until == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "take.until is TEMPO_TIME_NONE");
    if (t->max_running < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "take.max_running must be >= 0, got %d", t->max_running);
    return TEMPO_OK;
}

tempo_status_t tempo__releases_check(const char *owner, const tempo_schedule_release_t *rel, size_t count,
                                     size_t *total, tempo_error_t *err)
{
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (count > 0 && !rel)
        return tempo__error_set(err, TEMPO_EINVAL, "releases is NULL but its count is %zu", count);
    size_t jobs = 0;
    for (size_t i = 0; i < count; i++) {
        if (!tempo__id_ok(rel[i].id))
            return tempo__error_set(err, TEMPO_EINVAL, "releases[%zu].id is %s", i, rel[i].id ? "empty" : "NULL");
        if (rel[i].job_count > 0 && !rel[i].jobs)
            return tempo__error_set(err, TEMPO_EINVAL, "releases[%zu] ('%s'): jobs is NULL but job_count is %zu",
                                    i, rel[i].id, rel[i].job_count);
        for (size_t k = 0; k < rel[i].job_count; k++) {
            tempo_status_t rc = tempo__job_record_check(&rel[i].jobs[k], err);
            if (rc == TEMPO_OK && rel[i].take)
                rc = take_check(&rel[i].take[k], err);
            if (rc != TEMPO_OK)
                return tempo__error_prefix(err, rc, "releases[%zu] ('%s') jobs[%zu]", i, rel[i].id, k);
        }
        if (__builtin_add_overflow(jobs, rel[i].job_count, &jobs))
            return tempo__error_set(err, TEMPO_ERANGE, "too many jobs in one release");
    }
    if (total)
        *total = jobs;
    return TEMPO_OK;
}
