/* Planning a scheduling step (step_plan.h): for each due schedule, its due
 * fire times, the coalesce policy, jitter and start deadline, the jobs, and
 * which of them this scheduler takes to run at once.
 *
 * Work per schedule is bounded however long the downtime was: LATEST and
 * EARLIEST find their fire times by a galloping search, not by walking every
 * missed fire, and ALL makes at most TEMPO__PLAN_MAX_JOBS jobs per step. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "step_plan.h"

#define MAX_WALK 4096 /* next() calls in one gallop's final walk */

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

/* How many jobs schedule r makes now, and its new next fire time. Fills
 * `fires` (room for TEMPO__PLAN_MAX_JOBS) with their fire times. */
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
        while (t != TEMPO_TIME_NONE && t <= now && n < TEMPO__PLAN_MAX_JOBS) {
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

/* Jitter within [0, max_jitter], never reaching the next fire time. */
static tempo_duration_t jitter_for(tempo_scheduler_t *s, const tempo_schedule_record_t *r, tempo_time_t fire,
                                   tempo_time_t next)
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

/* ---- growing ---- */

/* The capacity, doubled from `cap` (64 at first), that holds `need`. */
static size_t cap_for(size_t cap, size_t need)
{
    size_t n = cap ? cap : 64;
    while (n < need)
        n *= 2;
    return n;
}

static bool resize(void *v, size_t n, size_t size)
{
    void *grown = realloc(*(void **)v, n * size);
    if (grown)
        *(void **)v = grown;
    return grown != NULL;
}

/* Room for one more release with `jobs` jobs and `names` bytes of ids. The
 * per-release arrays share `cap`, the per-job ones `job_cap`; a capacity is
 * recorded only once all its arrays have it (a failure half way leaves some
 * bigger, which is harmless). */
static bool reserve(tempo__plan_t *p, size_t jobs, size_t names)
{
    if (p->count + 1 > p->cap) {
        size_t n = cap_for(p->cap, p->count + 1);
        if (!resize(&p->releases, n, sizeof *p->releases) || !resize(&p->first_job, n, sizeof *p->first_job) ||
            !resize(&p->name_at, n, sizeof *p->name_at) || !resize(&p->take, n, sizeof *p->take) ||
            !resize(&p->args, n, sizeof *p->args))
            return false;
        p->cap = n;
    }
    if (p->job_count + jobs > p->job_cap) {
        size_t n = cap_for(p->job_cap, p->job_count + jobs);
        if (!resize(&p->jobs, n, sizeof *p->jobs) || !resize(&p->job_ids, n, sizeof *p->job_ids) ||
            !resize(&p->takes, n, sizeof *p->takes))
            return false;
        p->job_cap = n;
    }
    if (p->names_len + names > p->names_cap) {
        size_t n = cap_for(p->names_cap, p->names_len + names);
        if (!resize(&p->names, n, 1))
            return false;
        p->names_cap = n;
    }
    return true;
}

tempo__plan_t *tempo__plan_new(tempo_scheduler_t *s, tempo_time_t now, bool take)
{
    tempo__plan_t *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, offsetof(tempo__plan_t, fires)); /* the scratch needs no zeroing: one per step */
    p->s = s;
    p->now = now;
    if (take) {
        int free_slots = tempo__work_free_slots(s);
        p->budget = free_slots > 0 ? free_slots : 0;
    }
    return p;
}

void tempo__plan_free(tempo__plan_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        if (p->args[i])
            bson_destroy(p->args[i]);
    free(p->releases);
    free(p->first_job);
    free(p->name_at);
    free(p->take);
    free(p->args);
    free(p->jobs);
    free(p->job_ids);
    free(p->takes);
    free(p->names);
    free(p);
}

const char *tempo__plan_task_id(const tempo__plan_t *p, size_t i)
{
    const char *id = p->names + p->name_at[i];
    return id + strlen(id) + 1;
}

/* Point entry i and its jobs into the arrays. */
static void fix_one(tempo__plan_t *p, size_t i)
{
    tempo_schedule_release_t *rel = &p->releases[i];
    size_t first = p->first_job[i];
    rel->id = p->names + p->name_at[i];
    rel->jobs = rel->job_count ? &p->jobs[first] : NULL;
    rel->take = p->take[i] ? &p->takes[first] : NULL;
    const char *task_id = tempo__plan_task_id(p, i);
    for (size_t k = 0; k < rel->job_count; k++) {
        tempo_job_record_t *job = &p->jobs[first + k];
        job->id = p->job_ids[first + k];
        job->task_id = task_id;
        job->schedule_id = rel->id;
        job->args = p->args[i];
    }
}

void tempo__plan_fix(tempo__plan_t *p)
{
    for (size_t i = 0; i < p->count; i++)
        fix_one(p, i);
}

static tempo_duration_t grace_for(const tempo_schedule_record_t *r, const tempo__task_t *task)
{
    if (r->misfire_grace_time != TEMPO_DURATION_NONE)
        return r->misfire_grace_time;
    return task ? task->misfire_grace_time : TEMPO_DURATION_NONE;
}

/* Jobs this scheduler can run now are taken at their release (store.h,
 * tempo_job_take_t) rather than queued and acquired back by the worker: a
 * store round trip and two record copies less per fire — the dispatch cost
 * that matters with many frequent schedules. Only when this scheduler also
 * works, runs the task, has free slots for every job of the schedule
 * (max_concurrent_jobs), and the jobs are due (jittered ones wait in the
 * queue for their time); the store checks the task's max_running_jobs. */
static void plan_take(tempo__plan_t *p, size_t first, size_t n, const tempo__task_t *task)
{
    if (!task || n == 0 || n > (size_t)p->budget)
        return;
    for (size_t k = 0; k < n; k++)
        if (p->jobs[first + k].scheduled_fire_time > p->now)
            return;
    for (size_t k = 0; k < n; k++)
        p->takes[first + k] = (tempo_job_take_t){
            .until = p->now + p->s->opts.lease_duration,
            .max_running = task->max_running_jobs,
            .direct_ok = p->s->store_direct,
        };
    p->take[p->count] = true;
    p->budget -= (int)n;
    p->taking += (int)n;
}

static void make_jobs(tempo__plan_t *p, const tempo_schedule_record_t *r, const tempo__task_t *task, size_t n,
                      tempo_time_t next)
{
    tempo_duration_t grace = grace_for(r, task);
    for (size_t k = 0; k < n; k++) {
        size_t j = p->job_count + k;
        tempo_time_t fire = p->fires[k];
        tempo_time_t scheduled = fire + jitter_for(p->s, r, fire, next);
        tempo__uuid_for_fire(r->id, fire, p->job_ids[j]);
        /* The deadline counts from the jittered time: a job cannot start
         * before it, so grace measured from the raw fire time would make any
         * jitter larger than the grace a guaranteed miss (as APScheduler 4
         * also does). Strings are set by fix_one. */
        p->jobs[j] = (tempo_job_record_t){
            .scheduled_fire_time = scheduled,
            .original_fire_time = fire,
            .start_deadline = grace == TEMPO_DURATION_NONE ? TEMPO_TIME_NONE : scheduled + grace,
            .result_expiration = r->job_result_expiration,
            .created_at = p->now,
        };
    }
}

bool tempo__plan_add(tempo__plan_t *p, const tempo_schedule_record_t *r, tempo_schedule_release_t **out)
{
    tempo_time_t next, last;
    size_t n = due_fires(r, p->now, p->fires, &next, &last);
    size_t id_size = strlen(r->id) + 1, task_size = strlen(r->task_id) + 1;
    bson_t *args = r->args ? bson_copy(r->args) : NULL;
    if ((r->args && !args) || !reserve(p, n, id_size + task_size)) {
        if (args)
            bson_destroy(args);
        return false;
    }
    size_t i = p->count;
    p->name_at[i] = p->names_len;
    memcpy(p->names + p->names_len, r->id, id_size);
    memcpy(p->names + p->names_len + id_size, r->task_id, task_size);
    p->names_len += id_size + task_size;
    p->args[i] = args;
    p->first_job[i] = p->job_count;
    p->take[i] = false;
    const tempo__task_t *task = tempo__task_find(p->s, r->task_id);
    make_jobs(p, r, task, n, next);
    plan_take(p, p->job_count, n, task);
    p->releases[i] = (tempo_schedule_release_t){
        .fence = r->lease.fence, .next_fire_time = next, .last_fire_time = last, .job_count = n};
    p->job_count += n;
    p->count++;
    fix_one(p, i);
    if (out)
        *out = &p->releases[i];
    return true;
}
