/* Building the scale benchmark's scheduler and its schedules. */
#include <stdio.h>
#include <string.h>

#include "scale.h"

#define T0 INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define DAY TEMPO_SECONDS(86400)

static void noop(tempo_job_t *job, void *userdata)
{
    (void)userdata;
    tempo_job_complete(job, NULL);
}

static void on_job_added(const tempo_event_t *ev, void *userdata)
{
    (void)ev;
    ((scale_env_t *)userdata)->jobs_added++;
}

static void added(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)id;
    scale_env_t *e = userdata;
    e->answered++;
    if (status != TEMPO_OK && e->failed++ == 0 && err)
        e->first_err = *err;
}

static int fail(const char *what, tempo_status_t rc, const tempo_error_t *err)
{
    fprintf(stderr, "bench_sched_scale: %s: %s (%s)\n", what, err->message, tempo_strerror(rc));
    return -1;
}

int scale_env_new(scale_env_t *e, bool shared_trigger)
{
    memset(e, 0, sizeof *e);
    e->shared_trigger = shared_trigger;
    tempo_error_t err = {0};
    tempo_loop_t *loop;
    tempo_status_t rc = tempo_vloop_new(T0, &e->vloop, &loop, &err);
    if (rc != TEMPO_OK)
        return fail("virtual loop", rc, &err);
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.role = TEMPO_ROLE_SCHEDULER;
    o.seed = 1;
    o.poll_interval = TEMPO_SECONDS(1);
    o.lease_duration = TEMPO_SECONDS(3600);
    o.cleanup_interval = DAY;
    rc = tempo_scheduler_new(loop, NULL, &o, &e->s, &err);
    if (rc != TEMPO_OK) {
        tempo_loop_free(loop);
        return fail("scheduler", rc, &err);
    }
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "noop";
    to.fn = noop;
    to.max_running_jobs = 0;
    uint64_t sub;
    if ((rc = tempo_scheduler_add_task(e->s, &to, &err)) != TEMPO_OK ||
        (rc = tempo_scheduler_subscribe(e->s, TEMPO_EVENT_JOB_ADDED, on_job_added, e, &sub, &err)) != TEMPO_OK)
        return fail("task", rc, &err);
    if (shared_trigger) {
        tempo_interval_options_t io = TEMPO_INTERVAL_OPTIONS_INIT;
        io.period = DAY;
        io.start = T0 + DAY;
        if ((rc = tempo_trigger_interval_new(&io, &e->shared, &err)) != TEMPO_OK)
            return fail("trigger", rc, &err);
    }
    return 0;
}

void scale_env_free(scale_env_t *e)
{
    tempo_scheduler_free(e->s); /* before the vloop: it detaches the loop */
    tempo_vloop_free(e->vloop);
    tempo_trigger_free(e->shared);
    memset(e, 0, sizeof *e);
}

static tempo_status_t add_one(scale_env_t *e, tempo_time_t start, tempo_duration_t period, tempo_error_t *err)
{
    tempo_trigger_t *trigger = e->shared;
    tempo_status_t rc = TEMPO_OK;
    if (!trigger || period != DAY) {
        tempo_interval_options_t io = TEMPO_INTERVAL_OPTIONS_INIT;
        io.period = period;
        io.start = start;
        if ((rc = tempo_trigger_interval_new(&io, &trigger, err)) != TEMPO_OK)
            return rc;
    }
    tempo_schedule_options_t so = TEMPO_SCHEDULE_OPTIONS_INIT;
    so.task_id = "noop";
    so.trigger = trigger;
    rc = tempo_scheduler_add_schedule(e->s, &so, added, e, err);
    if (trigger != e->shared)
        tempo_trigger_free(trigger); /* the schedule holds its own reference */
    return rc;
}

/* Adds go in batches with the loop run in between, as an application
 * adding schedules from its loop would: the answers (and the memory of
 * their pending calls) do not pile up. */
static int add_many(scale_env_t *e, long n, tempo_time_t first, tempo_duration_t spread, tempo_duration_t period)
{
    tempo_error_t err = {0};
    long want = e->answered + n;
    for (long i = 0; i < n; i++) {
        tempo_time_t start = first + (tempo_time_t)((double)spread * (double)i / (double)n);
        tempo_status_t rc = add_one(e, start, period, &err);
        if (rc != TEMPO_OK)
            return fail("add_schedule", rc, &err);
        if (i % 1024 == 1023)
            tempo_vloop_run(e->vloop);
    }
    tempo_vloop_run(e->vloop);
    if (e->answered != want || e->failed) {
        fprintf(stderr, "bench_sched_scale: %ld of %ld adds answered, %ld failed: %s\n", e->answered, want,
                e->failed, e->first_err.message);
        return -1;
    }
    return 0;
}

int scale_add_idle(scale_env_t *e, long n)
{
    /* With a shared trigger every schedule fires at T0 + 1 day; else their
     * first fires are spread over the day after. */
    return add_many(e, n, T0 + DAY, e->shared_trigger ? 0 : DAY, DAY);
}

int scale_add_hot(scale_env_t *e, long n)
{
    tempo_time_t now = tempo_vloop_now(e->vloop);
    return add_many(e, n, now + TEMPO_SECONDS(1), 0, TEMPO_SECONDS(1));
}
