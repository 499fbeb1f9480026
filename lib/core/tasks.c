/* The task registry: functions registered in this process under an id.
 *
 * Tasks are few, so a flat array with linear lookup is simplest and keeps
 * registration order. A mirror array of tempo_task_record_t (pointing into
 * the tasks) is what the worker passes to acquire_jobs, so that it only ever
 * takes jobs it can run, with its own max_running_jobs limits. */
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

const tempo__task_t *tempo__task_find(const tempo_scheduler_t *s, const char *id)
{
    for (size_t i = 0; i < s->n_tasks; i++)
        if (strcmp(s->tasks[i].id, id) == 0)
            return &s->tasks[i];
    return NULL;
}

static void task_clear(tempo__task_t *t)
{
    free(t->id);
    if (t->metadata)
        bson_destroy(t->metadata);
}

void tempo__tasks_free(tempo_scheduler_t *s)
{
    for (size_t i = 0; i < s->n_tasks; i++)
        task_clear(&s->tasks[i]);
    free(s->tasks);
    free(s->task_records);
    s->tasks = NULL;
    s->task_records = NULL;
    s->n_tasks = s->cap_tasks = 0;
}

static void mirror_records(tempo_scheduler_t *s)
{
    for (size_t i = 0; i < s->n_tasks; i++) {
        const tempo__task_t *t = &s->tasks[i];
        s->task_records[i] = (tempo_task_record_t){
            .id = t->id,
            .executor = t->fn ? TEMPO_EXECUTOR_LOOP : TEMPO_EXECUTOR_THREAD,
            .max_running_jobs = t->max_running_jobs,
            .misfire_grace_time = t->misfire_grace_time,
            .metadata = t->metadata,
        };
    }
}

static tempo_status_t validate(const tempo_task_options_t *o, tempo_error_t *err)
{
    if (!o->id || !o->id[0])
        return tempo__error_set(err, TEMPO_EINVAL, "add_task: id is required");
    if (strlen(o->id) > 255)
        return tempo__error_set(err, TEMPO_EINVAL, "add_task '%.40s...': id longer than 255 bytes", o->id);
    if (!o->fn == !o->blocking_fn)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "add_task '%s': give exactly one of fn (in-loop) and blocking_fn (thread pool)",
                                o->id);
    if (o->max_running_jobs < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_task '%s': max_running_jobs %d is negative", o->id,
                                o->max_running_jobs);
    if (o->misfire_grace_time != TEMPO_DURATION_NONE && o->misfire_grace_time < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_task '%s': misfire_grace_time is negative", o->id);
    return TEMPO_OK;
}

static tempo_status_t grow(tempo_scheduler_t *s, tempo_error_t *err)
{
    if (s->n_tasks < s->cap_tasks)
        return TEMPO_OK;
    size_t cap = s->cap_tasks ? 2 * s->cap_tasks : 8;
    tempo__task_t *tasks = realloc(s->tasks, cap * sizeof *tasks);
    if (!tasks)
        return tempo__error_set(err, TEMPO_ENOMEM, "add_task: out of memory");
    s->tasks = tasks;
    tempo_task_record_t *recs = realloc(s->task_records, cap * sizeof *recs);
    if (!recs)
        return tempo__error_set(err, TEMPO_ENOMEM, "add_task: out of memory");
    s->task_records = recs;
    s->cap_tasks = cap;
    return TEMPO_OK;
}

static tempo_status_t scheduler_add_task_unlocked(tempo_scheduler_t *s, const tempo_task_options_t *opts_in,
                                        tempo_error_t *err)
{
    if (!s || !opts_in)
        return tempo__error_set(err, TEMPO_EINVAL, "add_task: scheduler and options are required");
    tempo_task_options_t o = TEMPO_TASK_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL, "add_task: options.size %zu is not a size this build knows",
                                opts_in->size);
    tempo_status_t rc = validate(&o, err);
    if (rc != TEMPO_OK || (rc = grow(s, err)) != TEMPO_OK)
        return rc;

    tempo__task_t t = {
        .id = strdup(o.id),
        .fn = o.fn,
        .blocking_fn = o.blocking_fn,
        .userdata = o.userdata,
        .max_running_jobs = o.max_running_jobs,
        .misfire_grace_time = o.misfire_grace_time,
        .metadata = o.metadata ? bson_copy(o.metadata) : NULL,
        .retry_abandoned = o.retry_abandoned,
    };
    if (!t.id || (o.metadata && !t.metadata)) {
        task_clear(&t);
        return tempo__error_set(err, TEMPO_ENOMEM, "add_task '%s': out of memory", o.id);
    }
    /* Registering an id again replaces the task (as APScheduler's configure_task). */
    tempo__task_t *old = (tempo__task_t *)tempo__task_find(s, o.id);
    if (old) {
        task_clear(old);
        *old = t;
    } else {
        s->tasks[s->n_tasks++] = t;
    }
    mirror_records(s);

    if (s->state == SCHED_RUNNING)
        tempo__work_kick(s); /* jobs of this task may be waiting */
    tempo_event_t ev;
    tempo__event_init(s, &ev, TEMPO_EVENT_TASK_ADDED);
    ev.task_id = o.id;
    tempo__emit(s, &ev); /* last: a subscriber may free the scheduler */
    return TEMPO_OK;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_add_task(tempo_scheduler_t *s, const tempo_task_options_t *opts_in,
                                        tempo_error_t *err)
{
    if (!s)
        return scheduler_add_task_unlocked(s, opts_in, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_add_task_unlocked(s, opts_in, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}
