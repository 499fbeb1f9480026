/* The scheduling step: due schedules become jobs (DESIGN.md §5).
 *
 * One step: acquire up to batch_size due schedules with a lease, plan them
 * (step_plan.c: fire times, coalescing, jitter, deadlines, the jobs), and
 * release each schedule with its new next fire time — jobs and schedule
 * update in one release call, which the store applies idempotently (job ids
 * derive from schedule id + fire time). A store that offers step_schedules
 * (the memory store) does the three in one call instead, planning each
 * schedule in place: no lease, no copies, one round trip.
 *
 * A full batch means more may be due: step again at once. Otherwise sleep
 * until the store's next schedule time, but never longer than poll_interval
 * (the fallback if a wake-up is lost, which APScheduler lacks). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "step_plan.h"

static void emit_step_events(tempo_scheduler_t *s, tempo__plan_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        const tempo_schedule_release_t *rel = &p->releases[i];
        if (rel->status != TEMPO_OK) {
            tempo_error_t err;
            if (rel->status == TEMPO_ELEASE)
                snprintf(err.message, sizeof err.message,
                         "schedule '%s': lease lost before release (another scheduler took it over)", rel->id);
            else
                snprintf(err.message, sizeof err.message, "schedule '%s': not released (%s)", rel->id,
                         tempo_strerror(rel->status));
            tempo__emit_store_error(s, rel->status, &err, "release_schedules");
            continue;
        }
        for (size_t k = 0; tempo__wants(s, TEMPO_EVENT_JOB_ADDED) && k < rel->job_count; k++) {
            tempo_event_t ev;
            tempo__event_init(s, &ev, TEMPO_EVENT_JOB_ADDED);
            ev.job_id = rel->jobs[k].id;
            ev.task_id = rel->jobs[k].task_id;
            ev.schedule_id = rel->id;
            ev.scheduled_fire_time = rel->jobs[k].scheduled_fire_time;
            tempo__emit(s, &ev);
        }
        tempo_event_type_t type =
            rel->next_fire_time == TEMPO_TIME_NONE ? TEMPO_EVENT_SCHEDULE_REMOVED : TEMPO_EVENT_SCHEDULE_UPDATED;
        if (!tempo__wants(s, type))
            continue;
        tempo_event_t ev;
        tempo__event_init(s, &ev, type);
        ev.schedule_id = rel->id;
        ev.task_id = tempo__plan_task_id(p, i);
        ev.next_fire_time = rel->next_fire_time;
        tempo__emit(s, &ev);
    }
}

static void arm_after(tempo_scheduler_t *s, tempo_time_t when)
{
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo_time_t cap = now + s->opts.poll_interval;
    if (when == TEMPO_TIME_NONE || when > cap)
        when = cap;
    tempo__timer_start(s->loop, &s->step_timer, when);
}

static void step_done(tempo_scheduler_t *s)
{
    s->step_busy = false;
    if (s->work_after_step) {
        s->work_after_step = false;
        tempo__work_kick(s);
    }
    if (s->state != SCHED_RUNNING) {
        tempo__maybe_finish_stop(s);
        return;
    }
    if (s->step_again) {
        s->step_again = false;
        tempo__step_kick(s);
    }
}

static void got_next_time(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_time_t when)
{
    tempo_scheduler_t *s = ud;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "next_schedule_time");
        when = TEMPO_TIME_NONE; /* poll */
    }
    /* Due now: fine after a step that made progress (a schedule with a
     * backlog larger than one step stays due), but after a step that
     * acquired nothing it would spin on something the store will not hand
     * out (yet): wait for a kick or the poll instead. */
    if (when != TEMPO_TIME_NONE && when <= tempo_loop_now(s->loop) && !s->step_progress)
        when = TEMPO_TIME_NONE;
    if (s->state == SCHED_RUNNING)
        arm_after(s, when);
    step_done(s);
}

/* Start the jobs the store let us take at release, in their order. The
 * rest are queued: true when there are any for the worker to acquire. */
static bool start_taken(tempo_scheduler_t *s, tempo__plan_t *p)
{
    bool queued = false;
    for (size_t i = 0; i < p->count; i++) {
        const tempo_schedule_release_t *rel = &p->releases[i];
        for (size_t k = 0; k < rel->job_count; k++) {
            tempo_job_take_t *t = rel->take ? &rel->take[k] : NULL;
            if (!t || t->fence == 0) {
                queued |= rel->status == TEMPO_OK;
                continue;
            }
            tempo_job_record_t *job = &p->jobs[p->first_job[i] + k];
            job->lease = (tempo_lease_t){s->identity, t->until, t->fence};
            if (s->state != SCHED_FREED)
                tempo__work_take_one(s, job, t->direct);
        }
    }
    return queued;
}

/* The end of a step: what was released is announced and started, then the
 * next step is arranged. `full`: the step took as many as it could. */
static void step_end(tempo_scheduler_t *s, tempo__plan_t *p, bool full, tempo_status_t status,
                     const tempo_error_t *err, const char *op)
{
    bool any_jobs = false;
    s->step_taking = 0;
    if (status != TEMPO_OK)
        tempo__emit_store_error(s, status, err, op);
    if (p) {
        tempo__plan_fix(p);
        emit_step_events(s, p);
        any_jobs = start_taken(s, p);
        tempo__plan_free(p);
    }
    if (s->state == SCHED_FREED)
        return; /* a task or a subscriber freed the scheduler */
    if (any_jobs)
        tempo__work_kick(s);
    if (s->state == SCHED_RUNNING && status == TEMPO_OK && full) {
        s->step_again = true; /* a full batch: more may be due right now */
        step_done(s);
        return;
    }
    if (s->state != SCHED_RUNNING) {
        step_done(s);
        return;
    }
    if (status != TEMPO_OK) {
        arm_after(s, tempo__backoff_next(s, &s->step_backoff));
        step_done(s);
        return;
    }
    s->store->ops->next_schedule_time(s->store->self, got_next_time, s);
}

/* ---- acquire, plan, release ---- */


static void released(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__plan_t *p = ud;
    tempo_scheduler_t *s = p->s;
    s->step_plan = NULL;
    bool full = p->count >= (size_t)s->opts.batch_size;
    if (status == TEMPO_OK)
        tempo__backoff_reset(&s->step_backoff);
    /* A release that failed as a whole changed nothing: no events, and no
     * job to start (no take was granted). */
    step_end(s, status == TEMPO_OK ? p : NULL, full, status, err, "release_schedules");
    if (status != TEMPO_OK)
        tempo__plan_free(p);
}

static void planning_failed(tempo_scheduler_t *s)
{
    tempo_error_t e = {TEMPO_ENOMEM, "out of memory planning a scheduling step"};
    tempo__emit_store_error(s, TEMPO_ENOMEM, &e, "scheduling step");
    if (s->state == SCHED_RUNNING)
        arm_after(s, tempo_loop_now(s->loop) + TEMPO_SECONDS(1));
    step_done(s);
}

static bool may_take(const tempo_scheduler_t *s)
{
    return s->opts.role != TEMPO_ROLE_SCHEDULER && s->state == SCHED_RUNNING;
}

static void acquired(void *ud, tempo_status_t status, const tempo_error_t *err,
                     const tempo_schedule_record_t *recs, size_t n)
{
    tempo_scheduler_t *s = ud;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "acquire_schedules");
        if (s->state == SCHED_RUNNING)
            arm_after(s, tempo__backoff_next(s, &s->step_backoff));
        step_done(s);
        return;
    }
    tempo__backoff_reset(&s->step_backoff);
    s->step_progress = n > 0;
    if (n == 0) {
        if (s->state != SCHED_RUNNING) {
            step_done(s);
            return;
        }
        s->store->ops->next_schedule_time(s->store->self, got_next_time, s);
        return;
    }
    /* Even while stopping, release what we hold with its due jobs: the
     * leases would otherwise hide these schedules until they expire. */
    tempo__plan_t *p = tempo__plan_new(s, tempo_loop_now(s->loop), may_take(s));
    for (size_t i = 0; p && i < n; i++) {
        if (!tempo__plan_add(p, &recs[i], NULL)) {
            tempo__plan_free(p);
            p = NULL;
        }
    }
    if (!p) {
        planning_failed(s);
        return;
    }
    tempo__plan_fix(p);
    s->step_taking = p->taking;
    s->step_plan = p;
    s->store->ops->release_schedules(s->store->self, s->identity, p->releases, p->count, released, p);
}

/* ---- the fused step (store step_schedules) ---- */

static bool plan_one(void *ud, const tempo_schedule_record_t *schedule, tempo_schedule_release_t **release)
{
    tempo__plan_t *p = ud;
    bool ok = tempo__plan_add(p, schedule, release);
    p->s->step_taking = p->taking; /* the worker must not hand these slots out meanwhile */
    return ok;
}

static void stepped(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__plan_t *p = ud;
    tempo_scheduler_t *s = p->s;
    s->step_plan = NULL;
    s->step_progress = p->count > 0;
    if (status == TEMPO_OK)
        tempo__backoff_reset(&s->step_backoff);
    /* Entries applied before a failure stay applied (their status says so):
     * announce and start them whatever the step's status. */
    step_end(s, p, p->count >= (size_t)s->opts.batch_size, status, err, "step_schedules");
}

static bool store_steps(const tempo_store_t *store)
{
    const tempo_store_ops_t *ops = store->ops;
    return ops->size >= offsetof(tempo_store_ops_t, step_schedules) + sizeof ops->step_schedules &&
           ops->step_schedules;
}

static void step_run(void *arg)
{
    tempo_scheduler_t *s = arg;
    s->step_queued = false;
    if (s->state != SCHED_RUNNING)
        return;
    if (s->step_busy) {
        s->step_again = true;
        return;
    }
    s->step_busy = true;
    tempo__timer_stop(s->loop, &s->step_timer);
    tempo_time_t now = tempo_loop_now(s->loop);
    if (!store_steps(s->store)) {
        s->store->ops->acquire_schedules(s->store->self, s->identity, now, s->opts.lease_duration,
                                         (size_t)s->opts.batch_size, acquired, s);
        return;
    }
    tempo__plan_t *p = tempo__plan_new(s, now, may_take(s));
    if (!p) {
        planning_failed(s);
        return;
    }
    s->step_plan = p;
    s->store->ops->step_schedules(s->store->self, s->identity, now, (size_t)s->opts.batch_size, plan_one, p,
                                  stepped, p);
}

void tempo__step_kick(tempo_scheduler_t *s)
{
    if (s->state != SCHED_RUNNING || s->opts.role == TEMPO_ROLE_WORKER)
        return;
    if (s->step_busy) {
        s->step_again = true;
        return;
    }
    if (!s->step_queued) {
        s->step_queued = true;
        tempo__loop_defer(s->loop, &s->step_call, step_run, s);
    }
}

static void step_timer_fired(void *arg)
{
    tempo__step_kick(arg);
}

void tempo__step_init(tempo_scheduler_t *s)
{
    tempo__timer_init(&s->step_timer, step_timer_fired, s);
}

void tempo__step_start(tempo_scheduler_t *s)
{
    tempo__step_kick(s);
}

void tempo__step_drop(tempo_scheduler_t *s)
{
    tempo__plan_free(s->step_plan);
    s->step_plan = NULL;
}

void tempo__step_stop(tempo_scheduler_t *s)
{
    tempo__timer_stop(s->loop, &s->step_timer);
    s->step_again = false;
}
