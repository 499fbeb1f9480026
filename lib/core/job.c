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

struct tempo_job {
    tempo__running_t *r;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

tempo__running_t *tempo__running_new(tempo_scheduler_t *s, const tempo_job_record_t *job,
                                     const tempo__task_t *task)
{
    tempo__running_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->s = s;
    r->id = strdup(job->id);
    r->task_id = strdup(job->task_id);
    r->schedule_id = dup_or_null(job->schedule_id);
    if (job->args)
        bson_copy_to(job->args, &r->args);
    else
        bson_init(&r->args);
    if (!r->id || !r->task_id || (job->schedule_id && !r->schedule_id)) {
        free(r->id);
        free(r->task_id);
        free(r->schedule_id);
        bson_destroy(&r->args);
        free(r);
        return NULL;
    }
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
    free(r->id);
    free(r->task_id);
    free(r->schedule_id);
    bson_destroy(&r->args);
    if (r->value_ready)
        bson_destroy(&r->value);
    free(r);
}

tempo_job_t *tempo__job_handle_new(tempo__running_t *r)
{
    tempo_job_t *h = malloc(sizeof *h);
    if (h) {
        h->r = r;
        r->handle = h;
    }
    return h;
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
    return job ? &job->r->args : NULL;
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
    free(job);
    r->handle = NULL;
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
