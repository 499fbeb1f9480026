/* The task registry: functions registered in this process under an id.
 *
 * Tasks are few, so a flat array with linear lookup is simplest and keeps
 * registration order. A mirror array of tempo_task_record_t (pointing into
 * the tasks) is what the worker passes to acquire_jobs, so that it only ever
 * takes jobs it can run, with its own max_running_jobs limits.
 *
 * A registration's hooks (cancel, free_userdata) live apart, counted (see
 * tempo__hooks_t in sched_internal.h), because a replaced registration ends
 * only once its running jobs are done with:
 *
 *   current --replaced--> retired --last job done--> ended (deferred call)
 *      |  \--replaced, no job running--------------> ended (inside add_task)
 *      +------ tempo_scheduler_free (either state) --> ended (inside free)
 *
 * "Ended" is the one call of free_userdata. The end of a retired
 * registration is deferred to the loop so that it never runs inside the
 * tempo_job_complete/fail (or the stop) that dropped the last reference:
 * a task may still touch its userdata after finishing a job. */
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

/* ---- hooks ---- */

static void hooks_call_free_userdata(tempo__hooks_t *h)
{
    void (*free_userdata)(void *) = h->free_userdata;
    h->free_userdata = NULL; /* once, whatever happens next */
    if (free_userdata)
        free_userdata(h->userdata);
}

static void retired_link(tempo_scheduler_t *s, tempo__hooks_t *h)
{
    h->prev = NULL;
    h->next = s->retired;
    if (s->retired)
        s->retired->prev = h;
    s->retired = h;
}

static void retired_unlink(tempo_scheduler_t *s, tempo__hooks_t *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        s->retired = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->next = h->prev = NULL;
}

static void retired_end(void *arg)
{
    tempo__hooks_t *h = arg;
    h->end_queued = false;
    retired_unlink(h->s, h);
    hooks_call_free_userdata(h);
    free(h);
}

void tempo__hooks_ref(tempo__hooks_t *h)
{
    if (h)
        h->refs++;
}

void tempo__hooks_unref(tempo__hooks_t *h)
{
    if (!h || --h->refs > 0)
        return;
    if (!h->s) { /* the scheduler's free ended it already; we were the last holder */
        free(h);
        return;
    }
    /* No reference left while the scheduler lives: a current registration
     * holds the registry's, so this one is retired. */
    h->end_queued = true;
    tempo__loop_defer(h->s->loop, &h->end_call, retired_end, h);
}

/* The registry lets go of `old` because `repl` (NULL: no hooks) replaces it. */
static void hooks_retire(tempo_scheduler_t *s, tempo__hooks_t *old, const tempo__hooks_t *repl)
{
    if (!old)
        return;
    /* Re-registering with the same userdata (to change a limit, say) must
     * not free what the new registration uses: it takes the userdata over. */
    if (repl && repl->userdata == old->userdata && repl->free_userdata == old->free_userdata)
        old->free_userdata = NULL;
    if (--old->refs == 0) { /* none of its jobs runs: it ends now */
        hooks_call_free_userdata(old);
        free(old);
        return;
    }
    retired_link(s, old); /* its jobs finish under it; the last one ends it */
}

/* The scheduler is being freed: end `h` now. A holder left (only a blocking
 * job whose completion is still on the stack of an outer pool free) frees
 * the memory when it lets go; `s` NULL tells it the end already happened. */
static void hooks_end_at_free(tempo__hooks_t *h)
{
    if (h->end_queued)
        (void)tempo__loop_cancel(h->s->loop, &h->end_call);
    h->end_queued = false;
    h->s = NULL;
    hooks_call_free_userdata(h);
    if (h->refs == 0)
        free(h);
}

void tempo__tasks_free(tempo_scheduler_t *s)
{
    for (size_t i = 0; i < s->n_tasks; i++) {
        tempo__hooks_t *h = s->tasks[i].hooks;
        if (h) {
            h->refs--; /* the registry's */
            hooks_end_at_free(h);
        }
    }
    while (s->retired) {
        tempo__hooks_t *h = s->retired;
        retired_unlink(s, h);
        hooks_end_at_free(h);
    }
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
    if (o->cancel && o->blocking_fn)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "add_task '%s': cancel is for in-loop tasks (fn); a blocking task's thread "
                                "cannot be interrupted",
                                o->id);
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
        .hooks = o.cancel || o.free_userdata ? malloc(sizeof(tempo__hooks_t)) : NULL,
    };
    if (!t.id || (o.metadata && !t.metadata) || ((o.cancel || o.free_userdata) && !t.hooks)) {
        task_clear(&t);
        free(t.hooks);
        return tempo__error_set(err, TEMPO_ENOMEM, "add_task '%s': out of memory", o.id);
    }
    if (t.hooks) /* the registry's reference */
        *t.hooks = (tempo__hooks_t){
            .s = s, .userdata = o.userdata, .cancel = o.cancel, .free_userdata = o.free_userdata, .refs = 1};
    /* Registering an id again replaces the task (as APScheduler's configure_task). */
    tempo__task_t *old = (tempo__task_t *)tempo__task_find(s, o.id);
    tempo__hooks_t *old_hooks = NULL;
    if (old) {
        old_hooks = old->hooks;
        task_clear(old);
        *old = t;
    } else {
        s->tasks[s->n_tasks++] = t;
    }
    mirror_records(s);
    /* After the registry is whole again: free_userdata may run here. */
    hooks_retire(s, old_hooks, t.hooks);

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
