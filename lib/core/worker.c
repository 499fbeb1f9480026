/* The worker: acquire jobs up to free capacity, run them, release them with
 * their results (DESIGN.md §5).
 *
 * Capacity is max_concurrent_jobs minus the jobs running here; per-task
 * limits (max_running_jobs) are enforced by the store across all processes,
 * and jobs held back by them stay queued, not dropped. A job whose start
 * deadline has passed is released as MISSED_START_DEADLINE without running.
 *
 * In-loop jobs get a tempo_job_t handle (job.c) and finish whenever the task
 * calls tempo_job_complete/fail. Blocking jobs run on the thread pool; the
 * pool hands their completion back on the loop thread. Either way the job
 * ends in finish_job(), which is the one place that releases it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_internal.h"
#include "store/records.h"
#include "sched_internal.h"

static void arm_work_timer(tempo_scheduler_t *s, tempo_time_t when)
{
    tempo_time_t cap = tempo_loop_now(s->loop) + s->opts.poll_interval;
    if (when == TEMPO_TIME_NONE || when > cap)
        when = cap;
    tempo__timer_start(s->loop, &s->work_timer, when);
}

static void work_done(tempo_scheduler_t *s)
{
    s->work_busy = false;
    if (s->state != SCHED_RUNNING) {
        tempo__maybe_finish_stop(s);
        return;
    }
    if (s->work_again) {
        s->work_again = false;
        tempo__work_kick(s);
    }
}

/* ---- releasing ----
 *
 * A release carries a copy of the result until the store answers: only then
 * is JOB_RELEASED emitted and are waiters handed the result (events follow
 * stored changes, event.h). Releases in flight are listed so that freeing the
 * scheduler, which drops the store's pending answers, can free them. */

struct tempo__release {
    tempo__release_t *next, *prev;
    tempo_scheduler_t *s;
    tempo_job_result_t result; /* a deep copy (store/records.h) */
    int64_t fence;
    bool direct;               /* released with release_direct: never tried again */
    tempo__timer_t retry;      /* armed while waiting to try again */
};

/* A release the store could not make (server down: ESTORE, EIO, ETIMEOUT)
 * is tried again with backoff while the job's lease may still be valid —
 * the result is real work done, and dropping it would turn the job into an
 * "abandoned" one that runs again. A refusal (ELEASE: the lease was lost and
 * someone took over) or a stopped store is final. Retrying needs the result,
 * so a store that can fail keeps a copy of every result until it answers. */
static bool retriable(tempo_status_t status)
{
    return status == TEMPO_ESTORE || status == TEMPO_EIO || status == TEMPO_ETIMEOUT ||
           status == TEMPO_ENOMEM;
}

static void release_unlink(tempo__release_t *rel)
{
    tempo_scheduler_t *s = rel->s;
    if (rel->prev)
        rel->prev->next = rel->next;
    else
        s->releases = rel->next;
    if (rel->next)
        rel->next->prev = rel->prev;
    s->releases_in_flight--;
}

#define SPARE_RELEASES 64

static void release_free(tempo__release_t *rel)
{
    tempo_scheduler_t *s = rel->s;
    tempo__timer_stop(s->loop, &rel->retry);
    tempo__job_result_clear(&rel->result);
    if (s->state != SCHED_FREED && s->spare_release_count < SPARE_RELEASES) {
        rel->next = s->spare_releases;
        s->spare_releases = rel;
        s->spare_release_count++;
        return;
    }
    free(rel);
}

static tempo__release_t *release_alloc(tempo_scheduler_t *s)
{
    tempo__release_t *rel = s->spare_releases;
    if (!rel)
        return calloc(1, sizeof *rel);
    s->spare_releases = rel->next;
    s->spare_release_count--;
    memset(rel, 0, sizeof *rel);
    return rel;
}

static void job_released(void *ud, tempo_status_t status, const tempo_error_t *err);

static void release_send(tempo__release_t *rel)
{
    tempo_scheduler_t *s = rel->s;
    s->store->ops->release_job(s->store->self, s->identity, rel->result.job_id, rel->fence, &rel->result,
                               job_released, rel);
}

static void release_retry_fired(void *arg)
{
    release_send(arg);
}

static void job_released(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__release_t *rel = ud;
    tempo_scheduler_t *s = rel->s;
    if (status == TEMPO_OK)
        tempo__backoff_reset(&s->release_backoff);
    if (retriable(status) && rel->result.job_id && !rel->direct && s->state != SCHED_FREED) {
        tempo__emit_store_error(s, status, err, "release_job (will retry)");
        tempo__timer_start(s->loop, &rel->retry, tempo__backoff_next(s, &s->release_backoff));
        return;
    }
    release_unlink(rel);
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "release_job");
    } else if (rel->result.job_id && tempo__wants(s, TEMPO_EVENT_JOB_RELEASED)) {
        const tempo_job_result_t *res = &rel->result;
        tempo_event_t ev;
        tempo__event_init(s, &ev, TEMPO_EVENT_JOB_RELEASED);
        ev.job_id = res->job_id;
        ev.task_id = res->task_id;
        ev.schedule_id = res->schedule_id;
        ev.scheduled_fire_time = res->scheduled_fire_time;
        ev.outcome = res->outcome;
        ev.message = res->error;
        tempo__emit(s, &ev);
    }
    if (status == TEMPO_OK && rel->result.job_id && s->waiters)
        tempo__waiters_notify(s, &rel->result);
    release_free(rel);
    tempo__maybe_finish_stop(s);
}

void tempo__releases_give_up(tempo_scheduler_t *s)
{
    tempo__release_t *rel = s->releases;
    while (rel) {
        tempo__release_t *next = rel->next;
        if (tempo__timer_armed(&rel->retry)) {
            release_unlink(rel);
            tempo_error_t e = {TEMPO_ESTORE, ""};
            snprintf(e.message, sizeof e.message,
                     "job %s: result not stored before the stop; its lease will expire and it will be "
                     "reported abandoned", rel->result.job_id);
            tempo__emit_store_error(s, TEMPO_ESTORE, &e, "release_job");
            release_free(rel);
        }
        rel = next;
    }
}

void tempo__releases_free(tempo_scheduler_t *s)
{
    while (s->releases) {
        tempo__release_t *rel = s->releases;
        release_unlink(rel);
        release_free(rel);
    }
    while (s->spare_releases) {
        tempo__release_t *rel = s->spare_releases;
        s->spare_releases = rel->next;
        free(rel);
    }
    s->spare_release_count = 0;
}

static void unlink_running(tempo_scheduler_t *s, tempo__running_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        s->running = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
    s->running_count--;
}

/* A job taken direct that keeps no result, and whose end nobody waits for
 * or listens to: the store only frees its slot, at once — no release
 * record, no answer. The cheapest end of a fire. */
static bool release_quietly(tempo_scheduler_t *s, const tempo__running_t *r)
{
    if (!r->direct || r->result_expiration > 0 || s->waiters || tempo__wants(s, TEMPO_EVENT_JOB_RELEASED))
        return false;
    s->store->ops->release_direct(s->store->self, r->direct, NULL, NULL, NULL);
    return true;
}

/* Release a job that was acquired here, with its result. */
static void release_with(tempo_scheduler_t *s, const tempo__running_t *r, tempo_outcome_t outcome,
                         tempo_time_t started_at, const bson_t *value, const char *error)
{
    if (release_quietly(s, r))
        return;
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo_time_t expires = now;
    if (r->result_expiration > 0 && __builtin_add_overflow(now, r->result_expiration, &expires))
        expires = INT64_MAX; /* kept "for ever", as the stores keep it */
    tempo_job_result_t res = {
        .job_id = r->id,
        .task_id = r->task_id,
        .schedule_id = r->schedule_id,
        .outcome = outcome,
        .scheduled_fire_time = r->scheduled_fire_time,
        .started_at = started_at,
        .finished_at = now,
        .expires_at = expires,
        .return_value = value,
        .error = error,
    };
    tempo__release_t *rel = release_alloc(s);
    tempo_error_t err;
    /* The copy is for the answer's event and waiters, and for trying again
     * when the store can fail; with none of these (the memory store, nobody
     * listening: the common in-process case) it carries only its scheduler. */
    bool keep = tempo__wants(s, TEMPO_EVENT_JOB_RELEASED) || s->waiters || s->store_can_fail;
    if (!rel || (keep && tempo__job_result_copy(&rel->result, &res, &err) != TEMPO_OK)) {
        free(rel);
        if (r->direct) /* its slot at least */
            s->store->ops->release_direct(s->store->self, r->direct, NULL, NULL, NULL);
        tempo_error_t e = {TEMPO_ENOMEM, ""};
        snprintf(e.message, sizeof e.message, "out of memory releasing a job; %s",
                 r->direct ? "its result is lost" : "its lease will expire");
        tempo__emit_store_error(s, TEMPO_ENOMEM, &e, "release_job");
        return;
    }
    rel->s = s;
    rel->fence = r->fence;
    rel->direct = r->direct != NULL;
    tempo__timer_init(&rel->retry, release_retry_fired, rel);
    rel->next = s->releases;
    if (s->releases)
        s->releases->prev = rel;
    s->releases = rel;
    s->releases_in_flight++;
    if (r->direct)
        s->store->ops->release_direct(s->store->self, r->direct, &res, job_released, rel);
    else
        s->store->ops->release_job(s->store->self, s->identity, r->id, r->fence, &res, job_released, rel);
}

void tempo__job_finish(tempo__running_t *r, tempo_outcome_t outcome, const bson_t *value, const char *error)
{
    tempo_scheduler_t *s = r->s;
    unlink_running(s, r);
    release_with(s, r, outcome, r->started_at, value, error);
    tempo__running_free(r);
    if (s->state != SCHED_RUNNING)
        tempo__maybe_finish_stop(s);
    else if (s->work_maybe || !s->store_direct)
        tempo__work_kick(s); /* a slot is free, and jobs may wait for one */
}

/* ---- running ---- */

static void blocking_work(tempo__work_t *w)
{
    tempo__blocking_t *b = (tempo__blocking_t *)((char *)w - offsetof(tempo__blocking_t, work));
    tempo__running_t *r = b->r;
    bson_init(&b->value);
    b->value_ready = true;
    b->status = r->blocking_fn(tempo__running_args(r), &b->value, &b->error, r->userdata);
}

static void blocking_done(tempo__work_t *w, tempo_status_t status)
{
    tempo__blocking_t *b = (tempo__blocking_t *)((char *)w - offsetof(tempo__blocking_t, work));
    tempo__running_t *r = b->r;
    r->in_pool = false;
    if (r->cancelled) { /* already released as CANCELLED; nothing to record */
        tempo__running_free(r);
        return;
    }
    if (status != TEMPO_OK)
        tempo__job_finish(r, TEMPO_OUTCOME_CANCELLED, NULL, "cancelled before it started");
    else if (b->status == TEMPO_OK)
        tempo__job_finish(r, TEMPO_OUTCOME_SUCCESS, &b->value, NULL);
    else
        tempo__job_finish(r, TEMPO_OUTCOME_ERROR, NULL,
                          b->error.message[0] ? b->error.message : tempo_strerror(b->status));
}

static tempo_status_t ensure_pool(tempo_scheduler_t *s)
{
    if (s->pool)
        return TEMPO_OK;
    return tempo__pool_new(s->loop, s->opts.thread_pool_size, &s->pool, NULL);
}

static void start_job(tempo_scheduler_t *s, const tempo_job_record_t *job, void *direct)
{
    tempo_time_t now = tempo_loop_now(s->loop);
    const tempo__task_t *task = tempo__task_find(s, job->task_id);
    tempo__running_t *r = tempo__running_new(s, job, task);
    if (!r) {
        /* Cannot even remember it: leave the lease to expire and the job to be
         * reaped as abandoned (a direct job has no lease: it is lost, its
         * slot freed); say why. */
        if (direct)
            s->store->ops->release_direct(s->store->self, direct, NULL, NULL, NULL);
        tempo_error_t e = {TEMPO_ENOMEM, ""};
        snprintf(e.message, sizeof e.message, "out of memory starting a job%s", direct ? "; it is dropped" : "");
        tempo__emit_store_error(s, TEMPO_ENOMEM, &e, "worker");
        return;
    }
    r->direct = direct;
    r->next = s->running;
    if (s->running)
        s->running->prev = r;
    s->running = r;
    s->running_count++;

    if (job->start_deadline != TEMPO_TIME_NONE && now > job->start_deadline) {
        tempo__job_finish(r, TEMPO_OUTCOME_MISSED_START_DEADLINE, NULL, "start deadline passed before it could start");
        return;
    }
    uint64_t epoch = s->cancel_epoch;
    bool announced = tempo__wants(s, TEMPO_EVENT_JOB_ACQUIRED);
    if (announced) {
        tempo_event_t ev;
        tempo__event_init(s, &ev, TEMPO_EVENT_JOB_ACQUIRED);
        ev.job_id = r->id;
        ev.task_id = r->task_id;
        ev.schedule_id = r->schedule_id;
        ev.scheduled_fire_time = r->scheduled_fire_time;
        tempo__emit(s, &ev);
    }
    /* A subscriber that stopped the scheduler at once (or freed it) had every
     * running job cancelled, and this one, without a handle yet, freed:
     * look at the cancellation count, never at r. A graceful stop lets the
     * acquired job run. */
    if (s->cancel_epoch != epoch || s->state == SCHED_FREED || !task)
        return;
    /* The clock again only when subscribers ran meanwhile: one read per
     * job start is part of the dispatch cost. */
    r->started_at = announced ? tempo_loop_now(s->loop) : now;
    if (task->fn) {
        task->fn(tempo__job_handle_new(r), task->userdata);
        return;
    }
    if (ensure_pool(s) != TEMPO_OK) {
        tempo__job_finish(r, TEMPO_OUTCOME_ERROR, NULL, "could not start the thread pool");
        return;
    }
    r->in_pool = true;
    if (tempo__pool_submit(s->pool, &r->blocking->work, blocking_work, blocking_done) != TEMPO_OK) {
        r->in_pool = false;
        tempo__job_finish(r, TEMPO_OUTCOME_ERROR, NULL, "the thread pool refused the job");
    }
}

/* ---- acquiring ---- */

static void given_back(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo_scheduler_t *s = ud;
    s->releases_in_flight--;
    if (status != TEMPO_OK)
        tempo__emit_store_error(s, status, err, "extend_leases (giving jobs back)");
    tempo__maybe_finish_stop(s);
}

static void give_back(tempo_scheduler_t *s, const tempo_job_record_t *jobs, size_t n)
{
    if (n == 0)
        return;
    const char **ids = malloc(n * sizeof *ids);
    if (!ids)
        return; /* their leases expire on their own */
    for (size_t i = 0; i < n; i++)
        ids[i] = jobs[i].id;
    s->releases_in_flight++;
    s->store->ops->extend_leases(s->store->self, s->identity, NULL, 0, ids, n, tempo_loop_now(s->loop) - 1,
                                 given_back, s);
    free(ids); /* read during the call only */
}

void tempo__work_take(tempo_scheduler_t *s, const tempo_job_record_t *jobs, size_t n)
{
    if (s->state != SCHED_RUNNING) {
        /* Stopping: take no new work. Hand the jobs back by letting their
         * fresh leases lapse at once, so another worker (or this one after a
         * restart) takes them without waiting out the lease. */
        give_back(s, jobs, n);
        return;
    }
    /* A task may stop or free the scheduler: the rest are then left to
     * their leases (stop_now cancels, free drops everything). */
    for (size_t i = 0; i < n && s->state == SCHED_RUNNING; i++)
        start_job(s, &jobs[i], NULL);
}

static void requeued(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo_scheduler_t *s = ud;
    s->releases_in_flight--;
    if (status != TEMPO_OK)
        tempo__emit_store_error(s, status, err, "add_job (giving a job back)");
    tempo__maybe_finish_stop(s);
}

void tempo__work_take_one(tempo_scheduler_t *s, const tempo_job_record_t *job, void *direct)
{
    if (!direct) {
        tempo__work_take(s, job, 1);
        return;
    }
    if (s->state == SCHED_RUNNING) {
        start_job(s, job, direct);
        return;
    }
    /* Stopping: a direct job has no record to hand back; queue it as a new
     * one (as it would have been had this scheduler not taken it) and free
     * its slot. */
    tempo_job_record_t again = *job;
    again.lease = (tempo_lease_t){NULL, TEMPO_TIME_NONE, 0};
    s->store->ops->release_direct(s->store->self, direct, NULL, NULL, NULL);
    s->releases_in_flight++;
    s->store->ops->add_job(s->store->self, &again, requeued, s);
}

int tempo__work_free_slots(const tempo_scheduler_t *s)
{
    int busy = s->running_count + s->step_taking + (s->work_busy ? (int)s->work_asked : 0);
    return s->opts.max_concurrent_jobs - busy;
}

static void got_next_job_time(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_time_t when)
{
    tempo_scheduler_t *s = ud;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "next_job_time");
        when = TEMPO_TIME_NONE;
    }
    /* A job already due that the acquisition just passed over is held back
     * by a per-task limit (or is a task this worker lacks): waking for it
     * would spin. A finishing job kicks the worker; the poll covers the rest. */
    if (status == TEMPO_OK && when == TEMPO_TIME_NONE && !s->work_again)
        s->work_maybe = false; /* none queued: until the next kick, a free slot needs no look */
    if (when != TEMPO_TIME_NONE && when <= tempo_loop_now(s->loop))
        when = TEMPO_TIME_NONE;
    if (s->state == SCHED_RUNNING)
        arm_work_timer(s, when);
    work_done(s);
}

static void jobs_acquired(void *ud, tempo_status_t status, const tempo_error_t *err,
                          const tempo_job_record_t *jobs, size_t n)
{
    tempo_scheduler_t *s = ud;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "acquire_jobs");
        if (s->state == SCHED_RUNNING)
            arm_work_timer(s, tempo__backoff_next(s, &s->work_backoff));
        work_done(s);
        return;
    }
    tempo__backoff_reset(&s->work_backoff);
    size_t asked = s->work_asked;
    s->work_asked = 0; /* answered: its slots are the running jobs now, not a promise */
    if (s->state != SCHED_RUNNING) {
        tempo__work_take(s, jobs, n); /* hands them back */
        work_done(s);
        return;
    }
    tempo__work_take(s, jobs, n);
    if (s->state == SCHED_FREED)
        return; /* a task freed the scheduler */
    if (s->state != SCHED_RUNNING) {
        /* A task stopped it: the jobs not started go back. */
        work_done(s);
        return;
    }
    if (n >= asked && s->running_count < s->opts.max_concurrent_jobs) {
        s->work_again = true; /* there may be more */
        work_done(s);
        return;
    }
    s->store->ops->next_job_time(s->store->self, got_next_job_time, s);
}

static void work_run(void *arg)
{
    tempo_scheduler_t *s = arg;
    s->work_queued = false;
    if (s->state != SCHED_RUNNING || s->work_busy)
        return;
    int free_slots = tempo__work_free_slots(s);
    if (free_slots <= 0 || s->n_tasks == 0)
        return; /* a finishing job or a new task kicks us again */
    /* A step under way may make due jobs and hand them to us at once;
     * asking the store now would hold our free slots as a promise that
     * makes the step queue them instead, to be acquired back. */
    if ((s->step_busy || s->step_queued) && !s->work_waited) {
        s->work_after_step = s->work_waited = true;
        return;
    }
    s->work_waited = false;
    size_t limit = (size_t)free_slots;
    if (limit > (size_t)s->opts.batch_size)
        limit = (size_t)s->opts.batch_size;
    s->work_busy = true;
    s->work_asked = limit;
    tempo__timer_stop(s->loop, &s->work_timer);
    s->store->ops->acquire_jobs(s->store->self, s->identity, tempo_loop_now(s->loop), s->opts.lease_duration,
                                limit, s->task_records, s->n_tasks, jobs_acquired, s);
}

void tempo__work_kick(tempo_scheduler_t *s)
{
    if (s->state != SCHED_RUNNING || s->opts.role == TEMPO_ROLE_SCHEDULER)
        return;
    s->work_maybe = true;
    if (s->work_busy) {
        s->work_again = true;
        return;
    }
    if (!s->work_queued) {
        s->work_queued = true;
        tempo__loop_defer(s->loop, &s->work_call, work_run, s);
    }
}

static void work_timer_fired(void *arg)
{
    tempo__work_kick(arg);
}

void tempo__work_init(tempo_scheduler_t *s)
{
    tempo__timer_init(&s->work_timer, work_timer_fired, s);
}

void tempo__work_start(tempo_scheduler_t *s)
{
    tempo__work_kick(s);
}

void tempo__work_stop(tempo_scheduler_t *s)
{
    tempo__timer_stop(s->loop, &s->work_timer);
    s->work_again = false;
}

void tempo__work_cancel_all(tempo_scheduler_t *s, bool release)
{
    s->cancel_epoch++;
    while (s->running) {
        tempo__running_t *r = s->running;
        unlink_running(s, r);
        r->cancelled = true;
        if (release)
            release_with(s, r, TEMPO_OUTCOME_CANCELLED, r->started_at, NULL, "cancelled: the scheduler stopped");
        tempo__job_handle_cancel(r);
        /* The task's cancel hook (task.h), for an in-loop job whose function
         * ran: it holds a handle. The job is unlinked already, so this runs
         * once; the hook may finish the handle (ECANCELLED, r stays ours:
         * not orphaned yet) or finish other jobs (we re-read s->running). */
        if (r->handle && r->hooks && r->hooks->cancel)
            r->hooks->cancel(r->handle, r->hooks->userdata);
        /* A blocking job frees itself when the pool hands it back
         * (blocking_done sees `cancelled`): at once with ECANCELLED if it had
         * not started, else when its thread returns. */
        if (r->in_pool) {
            if (s->pool)
                tempo__pool_cancel(s->pool, &r->blocking->work);
            continue;
        }
        tempo__running_free(r);
    }
}
