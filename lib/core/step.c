/* The scheduling step: due schedules become jobs (DESIGN.md §5).
 *
 * One step: acquire up to batch_size due schedules with a lease; for each,
 * work out its due fire times, apply the coalesce policy, jitter and start
 * deadline, make the jobs, and release the schedule with its new next fire
 * time — jobs and schedule update in one release call, which the store
 * applies idempotently (job ids derive from schedule id + fire time). A full
 * batch means more may be due: step again at once. Otherwise sleep until the
 * store's next schedule time, but never longer than poll_interval (the
 * fallback if a wake-up is lost, which APScheduler lacks).
 *
 * Work per schedule is bounded however long the downtime was: LATEST and
 * EARLIEST find their fire times by a galloping search, not by walking every
 * missed fire, and ALL makes at most MAX_JOBS_PER_STEP jobs per step (the
 * rest follow in the next steps, since the schedule stays due). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

#define MAX_JOBS_PER_STEP 1000
#define MAX_WALK 4096 /* next() calls in one gallop's final walk */

typedef struct step_ctx {
    tempo_scheduler_t *s;
    tempo_schedule_release_t *releases;
    size_t count;
    tempo_job_record_t *jobs; /* all jobs of all releases, in order */
    char (*job_ids)[37];
    bson_t **args;            /* per release: the schedule's args copy (jobs share it) */
    char **ids;               /* per release: schedule id copy (in `names`) */
    char **task_ids;          /* per release: task id copy (in `names`) */
    char *names;              /* one block for all the id copies */
    tempo_job_take_t *takes;  /* per job, NULL when none is taken */
    int taking;               /* jobs asked to be taken */
    bool full_batch;
} step_ctx_t;

static void step_ctx_free(step_ctx_t *c)
{
    for (size_t i = 0; i < c->count; i++) {
        if (c->args[i])
            bson_destroy(c->args[i]);
    }
    free(c->names);
    free(c->args);
    free(c->ids);
    free(c->task_ids);
    free(c->releases);
    free(c->jobs);
    free(c->job_ids);
    free(c->takes);
    free(c);
}

/* The latest fire time in [first, now], first being a fire time <= now.
 * Probe windows (now - d, now] of doubling size until one holds a fire, then
 * walk forward inside it: for a periodic trigger the window ends up less than
 * twice the distance back to the latest fire, so the walk is a step or two. */
static tempo_time_t latest_due(const tempo_trigger_t *trigger, tempo_time_t first, tempo_time_t now)
{
    tempo_time_t f = first;
    for (tempo_duration_t d = TEMPO_SECONDS(1); d > 0; d *= 2) {
        tempo_time_t probe = now - d;
        if (probe <= first) {
            f = first;
            break;
        }
        tempo_time_t g = tempo_trigger_next(trigger, probe);
        if (g != TEMPO_TIME_NONE && g <= now) {
            f = g;
            break;
        }
        if (d > INT64_MAX / 2)
            break;
    }
    for (int i = 0; i < MAX_WALK; i++) {
        tempo_time_t g = tempo_trigger_next(trigger, f);
        if (g == TEMPO_TIME_NONE || g > now)
            break;
        f = g;
    }
    return f;
}

/* Jitter within [0, max_jitter], never reaching the next fire time. */
static tempo_duration_t jitter_for(tempo_scheduler_t *s, const tempo_schedule_record_t *r,
                                   tempo_time_t fire, tempo_time_t next)
{
    if (r->max_jitter <= 0)
        return 0;
    tempo_duration_t j;
    if (r->jitter_deterministic)
        j = (tempo_duration_t)(tempo__unit_hash(r->id, fire) * (double)r->max_jitter);
    else
        j = (tempo_duration_t)(tempo__rng_next(&s->rng) % ((uint64_t)r->max_jitter + 1));
    if (next != TEMPO_TIME_NONE && fire + j >= next)
        j = next - fire - 1;
    return j < 0 ? 0 : j;
}

static tempo_duration_t grace_for(const tempo_scheduler_t *s, const tempo_schedule_record_t *r)
{
    if (r->misfire_grace_time != TEMPO_DURATION_NONE)
        return r->misfire_grace_time;
    const tempo__task_t *t = tempo__task_find(s, r->task_id);
    return t ? t->misfire_grace_time : TEMPO_DURATION_NONE;
}

static void make_job(step_ctx_t *c, size_t job_index, size_t rel_index, const tempo_schedule_record_t *r,
                     tempo_time_t fire, tempo_time_t next, tempo_time_t now)
{
    tempo_scheduler_t *s = c->s;
    tempo_duration_t grace = grace_for(s, r);
    tempo_time_t scheduled = fire + jitter_for(s, r, fire, next);
    tempo__uuid_for_fire(r->id, fire, c->job_ids[job_index]);
    /* The deadline counts from the jittered time: a job cannot start before
     * it, so grace measured from the raw fire time would make any jitter
     * larger than the grace a guaranteed miss (as APScheduler 4 also does). */
    c->jobs[job_index] = (tempo_job_record_t){
        .id = c->job_ids[job_index],
        .task_id = c->task_ids[rel_index],
        .schedule_id = c->ids[rel_index],
        .args = c->args[rel_index],
        .scheduled_fire_time = scheduled,
        .original_fire_time = fire,
        .start_deadline = grace == TEMPO_DURATION_NONE ? TEMPO_TIME_NONE : scheduled + grace,
        .result_expiration = r->job_result_expiration,
        .created_at = now,
    };
}

/* How many jobs schedule r makes now, and its new next fire time. Fills
 * `fires` (room for MAX_JOBS_PER_STEP) with their fire times. */
static size_t due_fires(const tempo_schedule_record_t *r, tempo_time_t now, tempo_time_t *fires,
                        tempo_time_t *next, tempo_time_t *last)
{
    tempo_time_t first = r->next_fire_time;
    *last = r->last_fire_time;
    if (first == TEMPO_TIME_NONE || first > now) { /* acquired early: nothing due yet */
        *next = first;
        return 0;
    }
    if (r->coalesce == TEMPO_COALESCE_ALL) {
        size_t n = 0;
        tempo_time_t t = first;
        while (t != TEMPO_TIME_NONE && t <= now && n < MAX_JOBS_PER_STEP) {
            fires[n++] = t;
            t = tempo_trigger_next(r->trigger, t);
        }
        *last = fires[n - 1];
        *next = t; /* may still be <= now: the schedule stays due */
        return n;
    }
    tempo_time_t latest = latest_due(r->trigger, first, now);
    fires[0] = r->coalesce == TEMPO_COALESCE_EARLIEST ? first : latest;
    *last = latest;
    *next = tempo_trigger_next(r->trigger, now);
    return 1;
}

static void emit_step_events(tempo_scheduler_t *s, step_ctx_t *c)
{
    size_t j = 0;
    for (size_t i = 0; i < c->count; i++) {
        const tempo_schedule_release_t *rel = &c->releases[i];
        if (rel->status != TEMPO_OK) {
            tempo_error_t err;
            snprintf(err.message, sizeof err.message,
                     "schedule '%s': lease lost before release (another scheduler took it over)", rel->id);
            tempo__emit_store_error(s, rel->status, &err, "release_schedules");
            j += rel->job_count;
            continue;
        }
        if (!tempo__wants(s, TEMPO_EVENT_JOB_ADDED))
            j += rel->job_count;
        for (size_t k = 0; tempo__wants(s, TEMPO_EVENT_JOB_ADDED) && k < rel->job_count; k++, j++) {
            tempo_event_t ev;
            tempo__event_init(s, &ev, TEMPO_EVENT_JOB_ADDED);
            ev.job_id = c->jobs[j].id;
            ev.task_id = c->jobs[j].task_id;
            ev.schedule_id = rel->id;
            ev.scheduled_fire_time = c->jobs[j].scheduled_fire_time;
            tempo__emit(s, &ev);
        }
        tempo_event_type_t type =
            rel->next_fire_time == TEMPO_TIME_NONE ? TEMPO_EVENT_SCHEDULE_REMOVED : TEMPO_EVENT_SCHEDULE_UPDATED;
        if (!tempo__wants(s, type))
            continue;
        tempo_event_t ev;
        tempo__event_init(s, &ev, type);
        ev.schedule_id = rel->id;
        ev.task_id = c->task_ids[i];
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
static bool start_taken(tempo_scheduler_t *s, step_ctx_t *c)
{
    bool queued = false;
    size_t j = 0;
    for (size_t i = 0; i < c->count; i++) {
        const tempo_schedule_release_t *rel = &c->releases[i];
        for (size_t k = 0; k < rel->job_count; k++, j++) {
            tempo_job_take_t *t = rel->take ? &rel->take[k] : NULL;
            if (!t || t->fence == 0) {
                queued |= rel->status == TEMPO_OK;
                continue;
            }
            c->jobs[j].lease = (tempo_lease_t){s->identity, t->until, t->fence};
            if (s->state != SCHED_FREED)
                tempo__work_take(s, &c->jobs[j], 1);
        }
    }
    return queued;
}

static void released(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    step_ctx_t *c = ud;
    tempo_scheduler_t *s = c->s;
    bool full = c->full_batch, any_jobs = false;
    s->step_taking = 0;
    if (status != TEMPO_OK) {
        tempo__emit_store_error(s, status, err, "release_schedules");
    } else {
        emit_step_events(s, c);
        any_jobs = start_taken(s, c);
    }
    step_ctx_free(c);
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
    s->store->ops->next_schedule_time(s->store->self, got_next_time, s);
}

static step_ctx_t *step_ctx_new(tempo_scheduler_t *s, size_t n)
{
    step_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->count = n;
    c->releases = calloc(n, sizeof *c->releases);
    c->args = calloc(n, sizeof *c->args);
    c->ids = calloc(n, sizeof *c->ids);
    c->task_ids = calloc(n, sizeof *c->task_ids);
    if (!c->releases || !c->args || !c->ids || !c->task_ids) {
        step_ctx_free(c);
        return NULL;
    }
    return c;
}

static bool reserve_jobs(step_ctx_t *c, size_t total)
{
    if (total == 0)
        return true;
    c->jobs = calloc(total, sizeof *c->jobs);
    c->job_ids = calloc(total, sizeof *c->job_ids);
    return c->jobs && c->job_ids;
}

/* A growable array of fire times for one step. */
typedef struct fire_vec {
    tempo_time_t *v;
    size_t n, cap;
} fire_vec_t;

static bool fire_vec_reserve(fire_vec_t *f, size_t extra)
{
    if (f->n + extra <= f->cap)
        return true;
    size_t cap = f->cap ? f->cap : 64;
    while (cap < f->n + extra)
        cap *= 2;
    tempo_time_t *v = realloc(f->v, cap * sizeof *v);
    if (!v)
        return false;
    f->v = v;
    f->cap = cap;
    return true;
}

/* Jobs this scheduler can run now are taken at their release
 * (store.h, tempo_job_take_t) rather than queued and acquired back by the
 * worker: one store round trip and two record copies less per fire — the
 * dispatch cost that matters with many frequent schedules. Only when this
 * scheduler is also a worker, runs the task, and has free slots for every
 * job of the schedule (max_concurrent_jobs); the store checks the task's
 * max_running_jobs. What is not taken is queued as before. */
static bool all_due(const tempo_job_record_t *jobs, size_t n, tempo_time_t now)
{
    for (size_t k = 0; k < n; k++)
        if (jobs[k].scheduled_fire_time > now)
            return false;
    return true;
}

static bool plan_takes(step_ctx_t *c, const size_t *counts, size_t total, tempo_time_t now)
{
    tempo_scheduler_t *s = c->s;
    int budget = s->opts.role == TEMPO_ROLE_SCHEDULER || s->state != SCHED_RUNNING ? 0
                                                                                      : tempo__work_free_slots(s);
    if (budget <= 0 || total == 0)
        return true;
    c->takes = calloc(total, sizeof *c->takes);
    if (!c->takes)
        return false;
    size_t j = 0;
    for (size_t i = 0; i < c->count; j += counts[i], i++) {
        const tempo__task_t *t = counts[i] ? tempo__task_find(s, c->task_ids[i]) : NULL;
        if (!t || counts[i] > (size_t)budget || !all_due(&c->jobs[j], counts[i], now))
            continue; /* jittered jobs wait in the queue for their time */
        for (size_t k = 0; k < counts[i]; k++)
            c->takes[j + k] = (tempo_job_take_t){now + s->opts.lease_duration, t->max_running_jobs, 0};
        c->releases[i].take = &c->takes[j];
        budget -= (int)counts[i];
        c->taking += (int)counts[i];
    }
    return true;
}

/* The ids the releases and jobs name, copied into one block: the acquired
 * records go when their callback returns. */
static bool copy_names(step_ctx_t *c, const tempo_schedule_record_t *recs, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(recs[i].id) + strlen(recs[i].task_id) + 2;
    char *at = c->names = malloc(total ? total : 1);
    if (!at)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t id = strlen(recs[i].id) + 1, task = strlen(recs[i].task_id) + 1;
        c->ids[i] = memcpy(at, recs[i].id, id);
        c->task_ids[i] = memcpy(at + id, recs[i].task_id, task);
        at += id + task;
    }
    return true;
}

/* Build the releases for an acquired batch. */
static step_ctx_t *plan(tempo_scheduler_t *s, const tempo_schedule_record_t *recs, size_t n, tempo_time_t now)
{
    step_ctx_t *c = step_ctx_new(s, n);
    fire_vec_t fires = {0};
    size_t *counts = calloc(n ? n : 1, sizeof *counts);
    if (!c || !counts || !copy_names(c, recs, n))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const tempo_schedule_record_t *r = &recs[i];
        tempo_schedule_release_t *rel = &c->releases[i];
        size_t room = r->coalesce == TEMPO_COALESCE_ALL ? MAX_JOBS_PER_STEP : 1;
        if (!fire_vec_reserve(&fires, room))
            goto fail;
        counts[i] = due_fires(r, now, fires.v + fires.n, &rel->next_fire_time, &rel->last_fire_time);
        fires.n += counts[i];
        c->args[i] = r->args ? bson_copy(r->args) : NULL;
        if (r->args && !c->args[i])
            goto fail;
        rel->id = c->ids[i];
        rel->fence = r->lease.fence;
    }
    if (!reserve_jobs(c, fires.n))
        goto fail;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        tempo_schedule_release_t *rel = &c->releases[i];
        rel->jobs = counts[i] ? &c->jobs[j] : NULL;
        rel->job_count = counts[i];
        for (size_t k = 0; k < counts[i]; k++, j++)
            make_job(c, j, i, &recs[i], fires.v[j], rel->next_fire_time, now);
    }
    if (!plan_takes(c, counts, fires.n, now))
        goto fail;
    free(fires.v);
    free(counts);
    return c;
fail:
    free(fires.v);
    free(counts);
    if (c)
        step_ctx_free(c);
    return NULL;
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
    step_ctx_t *c = plan(s, recs, n, tempo_loop_now(s->loop));
    if (!c) {
        tempo_error_t e = {TEMPO_ENOMEM, "out of memory planning a scheduling step"};
        tempo__emit_store_error(s, TEMPO_ENOMEM, &e, "scheduling step");
        if (s->state == SCHED_RUNNING)
            arm_after(s, tempo_loop_now(s->loop) + TEMPO_SECONDS(1));
        step_done(s);
        return;
    }
    c->full_batch = n >= (size_t)s->opts.batch_size;
    s->step_taking = c->taking;
    s->store->ops->release_schedules(s->store->self, s->identity, c->releases, c->count, released, c);
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
    s->store->ops->acquire_schedules(s->store->self, s->identity, tempo_loop_now(s->loop),
                                     s->opts.lease_duration, (size_t)s->opts.batch_size, acquired, s);
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

void tempo__step_stop(tempo_scheduler_t *s)
{
    tempo__timer_stop(s->loop, &s->step_timer);
    s->step_again = false;
}
