/* Running-job records and the tempo_job_t handle of in-loop tasks.
 *
 * The handle's promise (task.h): it stays valid until the task calls
 * tempo_job_complete() or tempo_job_fail(), even if the scheduler cancelled
 * the job or was freed meanwhile. So while a handle exists it, not the
 * scheduler, decides when the running record is freed: the scheduler only
 * marks the record cancelled/orphaned, and the handle's last call frees it. */
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"

static size_t size0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static char *put(char **cursor, const char *s, size_t size)
{
    if (!s)
        return NULL;
    char *at = memcpy(*cursor, s, size);
    *cursor += size;
    return at;
}

/* One allocation per job started — the record, its handle and its names —
 * since this runs once per fire. */
tempo__running_t *tempo__running_new(tempo_scheduler_t *s, const tempo_job_record_t *job,
                                     const tempo__task_t *task)
{
    size_t id_size = size0(job->id), task_size = size0(job->task_id), sched_size = size0(job->schedule_id);
    tempo__running_t *r = malloc(sizeof *r + id_size + task_size + sched_size);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    char *cursor = (char *)(r + 1);
    r->s = s;
    r->id = put(&cursor, job->id, id_size);
    r->task_id = put(&cursor, job->task_id, task_size);
    r->schedule_id = put(&cursor, job->schedule_id, sched_size);
    bool has_args = job->args && !bson_empty(job->args);
    r->args = has_args ? bson_copy(job->args) : NULL;
    if (task && task->blocking_fn)
        r->blocking = calloc(1, sizeof *r->blocking);
    if ((has_args && !r->args) || (task && task->blocking_fn && !r->blocking)) {
        if (r->args)
            bson_destroy(r->args);
        free(r->blocking);
        free(r);
        return NULL;
    }
    if (r->blocking)
        r->blocking->r = r;
    r->scheduled_fire_time = job->scheduled_fire_time;
    r->started_at = TEMPO_TIME_NONE;
    r->result_expiration = job->result_expiration;
    r->fence = job->lease.fence;
    if (task) {
        r->blocking_fn = task->blocking_fn;
        r->userdata = task->userdata;
        r->hooks = task->hooks;
        tempo__hooks_ref(r->hooks);
    }
    return r;
}

void tempo__running_free(tempo__running_t *r)
{
    if (!r)
        return;
    /* First, also when a handle keeps the record: from here on the
     * scheduler calls nothing of the task's for this job, so a replaced
     * registration need not wait for the task to finish its handle. */
    tempo__hooks_t *hooks = r->hooks;
    r->hooks = NULL;
    tempo__hooks_unref(hooks);
    if (r->handle) {
        r->orphaned = true; /* the handle frees it */
        return;
    }
    if (r->args)
        bson_destroy(r->args);
    if (r->blocking && r->blocking->value_ready)
        bson_destroy(&r->blocking->value);
    free(r->blocking);
    free(r);
}

const bson_t *tempo__running_args(const tempo__running_t *r)
{
    static const bson_t empty = BSON_INITIALIZER;
    return r->args ? r->args : &empty;
}

tempo_job_t *tempo__job_handle_new(tempo__running_t *r)
{
    r->handle_storage.r = r;
    r->handle = &r->handle_storage;
    return r->handle;
}

void tempo__job_handle_cancel(tempo__running_t *r)
{
    r->cancelled = true;
}

const char *tempo_job_id(const tempo_job_t *job)
{
    return job ? job->r->id : NULL;
}

const char *tempo_job_task_id(const tempo_job_t *job)
{
    return job ? job->r->task_id : NULL;
}

const char *tempo_job_schedule_id(const tempo_job_t *job)
{
    return job ? job->r->schedule_id : NULL;
}

const bson_t *tempo_job_args(const tempo_job_t *job)
{
    return job ? tempo__running_args(job->r) : NULL;
}

tempo_time_t tempo_job_scheduled_fire_time(const tempo_job_t *job)
{
    return job ? job->r->scheduled_fire_time : TEMPO_TIME_NONE;
}

/* The handle's last act: detach from the record, then either finish the job
 * or, when the scheduler already gave up on it, free what is left. */
static tempo_status_t finish(tempo_job_t *job, tempo_outcome_t outcome, const bson_t *value, const char *error)
{
    if (!job)
        return TEMPO_EINVAL;
    tempo__running_t *r = job->r;
    r->handle = NULL; /* the handle lives in r: no longer valid for the task */
    if (r->cancelled) {
        if (r->orphaned)
            tempo__running_free(r);
        return TEMPO_ECANCELLED;
    }
    tempo__job_finish(r, outcome, value, error);
    return TEMPO_OK;
}

tempo_status_t tempo_job_complete(tempo_job_t *job, const bson_t *return_value)
{
    return finish(job, TEMPO_OUTCOME_SUCCESS, return_value, NULL);
}

tempo_status_t tempo_job_fail(tempo_job_t *job, const char *message)
{
    return finish(job, TEMPO_OUTCOME_ERROR, NULL, message ? message : "failed");
}
