/* Housekeeping: renew the leases of running jobs, reap jobs whose owner
 * died, and clean up expired results and finished schedules.
 *
 * Leases are renewed at half their duration (DESIGN.md §5), so a job that
 * runs longer than the lease keeps it while this process lives, and loses it
 * within one lease duration after this process dies — which is what returns
 * its max_running_jobs slot to the others (APScheduler #1110). */
#include <stdlib.h>

#include "job_internal.h"
#include "sched_internal.h"

static void renewed(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo_scheduler_t *s = ud;
    s->renew_busy = false;
    if (status != TEMPO_OK)
        tempo__emit_store_error(s, status, err, "extend_leases");
    tempo__maybe_finish_stop(s);
}

static void renew(void *arg)
{
    tempo_scheduler_t *s = arg;
    /* Also while stopping gracefully: running jobs keep their leases until
     * they finish or the stop times out. */
    if (s->state != SCHED_RUNNING && s->state != SCHED_STOPPING)
        return;
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo__timer_start(s->loop, &s->renew_timer, now + s->opts.lease_duration / 2);
    if (s->renew_busy || s->running_count == 0)
        return;
    const char **ids = malloc((size_t)s->running_count * sizeof *ids);
    if (!ids)
        return; /* try again next round */
    size_t n = 0;
    for (tempo__running_t *r = s->running; r; r = r->next)
        if (!r->direct) /* no lease: nothing to renew */
            ids[n++] = r->id;
    if (n == 0) {
        free(ids);
        return;
    }
    s->renew_busy = true;
    s->store->ops->extend_leases(s->store->self, s->identity, NULL, 0, ids, n, now + s->opts.lease_duration,
                                 renewed, s);
    free(ids); /* read during the call only */
}

static void cleaned(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo_scheduler_t *s = ud;
    s->cleanup_busy = false;
    if (status != TEMPO_OK)
        tempo__emit_store_error(s, status, err, "cleanup");
    tempo__maybe_finish_stop(s);
}

static void requeued(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo_scheduler_t *s = ud;
    s->releases_in_flight--;
    /* EEXIST: this retry was queued already (a reap answered twice). */
    if (status != TEMPO_OK && status != TEMPO_EEXIST)
        tempo__emit_store_error(s, status, err, "add_job (retrying an abandoned job)");
    tempo__maybe_finish_stop(s);
}

/* Queue an abandoned job again, when its task says so. The new id is derived
 * from the old one, so the retry of a given abandonment is one job however
 * often this runs; its fire time and start deadline are the original's, so a
 * retry never runs later than the job was allowed to start. */
static void retry_abandoned(tempo_scheduler_t *s, const tempo_job_record_t *job)
{
    const tempo__task_t *task = tempo__task_find(s, job->task_id);
    if (!task || !task->retry_abandoned || s->state != SCHED_RUNNING)
        return;
    char id[37];
    tempo__uuid_for_fire(job->id, job->scheduled_fire_time, id);
    tempo_job_record_t again = *job;
    again.id = id;
    again.created_at = tempo_loop_now(s->loop);
    again.lease = (tempo_lease_t){NULL, TEMPO_TIME_NONE, 0};
    s->releases_in_flight++;
    s->store->ops->add_job(s->store->self, &again, requeued, s);
}

static void reaped(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_record_t *jobs,
                   size_t n)
{
    tempo_scheduler_t *s = ud;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "reap_abandoned");
    } else {
        for (size_t i = 0; i < n; i++) {
            tempo_event_t ev;
            tempo__event_init(s, &ev, TEMPO_EVENT_JOB_RELEASED);
            ev.job_id = jobs[i].id;
            ev.task_id = jobs[i].task_id;
            ev.schedule_id = jobs[i].schedule_id;
            ev.scheduled_fire_time = jobs[i].scheduled_fire_time;
            ev.outcome = TEMPO_OUTCOME_ABANDONED;
            ev.message = "its worker's lease expired";
            tempo__emit(s, &ev);
            retry_abandoned(s, &jobs[i]);
        }
        if (n > 0)
            tempo__work_kick(s);
    }
    if (s->state != SCHED_RUNNING) {
        s->cleanup_busy = false;
        tempo__maybe_finish_stop(s);
        return;
    }
    s->store->ops->cleanup(s->store->self, tempo_loop_now(s->loop), cleaned, s);
}

/* Reaping runs at least once per lease duration, so a dead worker's jobs are
 * reported abandoned (and retried, where the task allows) within about two
 * lease durations of its death, not only at the next cleanup. */
static tempo_duration_t house_period(const tempo_scheduler_t *s)
{
    return s->opts.lease_duration < s->opts.cleanup_interval ? s->opts.lease_duration : s->opts.cleanup_interval;
}

static void cleanup(void *arg)
{
    tempo_scheduler_t *s = arg;
    if (s->state != SCHED_RUNNING)
        return;
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo__timer_start(s->loop, &s->cleanup_timer, now + house_period(s));
    if (s->cleanup_busy)
        return;
    s->cleanup_busy = true;
    s->store->ops->reap_abandoned(s->store->self, now, reaped, s);
}

void tempo__house_init(tempo_scheduler_t *s)
{
    tempo__timer_init(&s->renew_timer, renew, s);
    tempo__timer_init(&s->cleanup_timer, cleanup, s);
}

void tempo__house_start(tempo_scheduler_t *s)
{
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo__timer_start(s->loop, &s->renew_timer, now + s->opts.lease_duration / 2);
    tempo__timer_start(s->loop, &s->cleanup_timer, now + house_period(s));
}

void tempo__house_stopping(tempo_scheduler_t *s)
{
    tempo__timer_stop(s->loop, &s->cleanup_timer);
}

void tempo__house_stop(tempo_scheduler_t *s)
{
    tempo__timer_stop(s->loop, &s->renew_timer);
    tempo__timer_stop(s->loop, &s->cleanup_timer);
}
