/* tempo's side of the fire benchmark: N interval schedules on a real libev
 * loop (tempo_ev_loop_new), the memory store, default scheduler options,
 * one in-loop task that records its lag and completes at once, keeping no
 * result.
 *
 * The one non-default setting: the task's max_running_jobs is 0
 * (unlimited). All N schedules share the task, and the default of 1 would
 * let only one of their jobs run at a time — a concurrency limit this
 * workload does not ask for. Everything else (batch_size, lease, poll
 * interval, max_concurrent_jobs) is as a user gets it. */
#include <stdio.h>
#include <stdlib.h>

#include <tempo/ev.h>
#include <tempo/scheduler.h>

#include "fire.h"

/* Adds answered so far, and failures among them. */
typedef struct adds {
    long answered, failed;
    tempo_error_t first_err;
} adds_t;

static void task_fn(tempo_job_t *job, void *userdata)
{
    bench_lags_t *lags = userdata;
    bench_lags_add(lags, bench_realtime_us() - tempo_job_scheduled_fire_time(job));
    tempo_job_complete(job, NULL);
}

static void added(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)id;
    adds_t *a = userdata;
    a->answered++;
    if (status != TEMPO_OK && a->failed++ == 0 && err)
        a->first_err = *err;
}

static tempo_status_t add_one(tempo_scheduler_t *s, int64_t start, int64_t period, adds_t *adds,
                              tempo_error_t *err)
{
    tempo_interval_options_t io = TEMPO_INTERVAL_OPTIONS_INIT;
    io.period = period;
    io.start = start;
    tempo_trigger_t *trigger;
    tempo_status_t rc = tempo_trigger_interval_new(&io, &trigger, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_schedule_options_t so = TEMPO_SCHEDULE_OPTIONS_INIT;
    so.task_id = "noop";
    so.trigger = trigger;
    rc = tempo_scheduler_add_schedule(s, &so, added, adds, err);
    tempo_trigger_free(trigger); /* the schedule holds its own reference */
    return rc;
}

static tempo_status_t setup(const fire_cfg_t *cfg, struct ev_loop *ev, tempo_scheduler_t *s,
                            bench_lags_t *lags, int64_t base, tempo_error_t *err)
{
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "noop";
    to.fn = task_fn;
    to.userdata = lags;
    to.max_running_jobs = 0;
    tempo_status_t rc = tempo_scheduler_add_task(s, &to, err);
    adds_t adds = {0};
    for (long i = 0; i < cfg->count && rc == TEMPO_OK; i++) {
        rc = add_one(s, base + fire_offset(cfg, i), cfg->period_us, &adds, err);
        /* Let the answers come in as we go, as an application would. */
        if (i % 1024 == 1023)
            ev_run(ev, EVRUN_NOWAIT);
    }
    while (rc == TEMPO_OK && adds.answered < cfg->count)
        ev_run(ev, EVRUN_ONCE);
    if (rc == TEMPO_OK && adds.failed) {
        *err = adds.first_err;
        rc = err->code ? err->code : TEMPO_EINVAL;
    }
    return rc;
}

int fire_run_tempo(const fire_cfg_t *cfg, fire_result_t *res)
{
    res->impl = "tempo";
    struct ev_loop *ev = ev_loop_new(cfg->ev_flags);
    if (!ev) {
        fprintf(stderr, "bench_sched_fire: tempo side: no libev loop\n");
        return -1;
    }
    res->backend = fire_backend_name(ev);
    tempo_error_t err = {0};
    tempo_loop_t *loop = NULL;
    tempo_scheduler_t *s = NULL;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.seed = 1;
    /* Adding takes a few µs per schedule: start far enough ahead (checked
     * below: a setup that overran is reported, not measured). */
    int64_t base = fire_base(50000 + cfg->count * 20);
    int64_t t0 = bench_mono_ns();
    tempo_status_t rc = tempo_ev_loop_new(ev, &loop, &err);
    if (rc == TEMPO_OK && (rc = tempo_scheduler_new(loop, NULL, &so, &s, &err)) != TEMPO_OK)
        tempo_loop_free(loop);
    if (rc == TEMPO_OK)
        rc = setup(cfg, ev, s, &res->lags, base, &err);
    if (rc == TEMPO_OK)
        rc = tempo_scheduler_start(s, &err);
    res->setup_ns = bench_mono_ns() - t0;
    if (rc != TEMPO_OK)
        fprintf(stderr, "bench_sched_fire: tempo side: %s (%s)\n", err.message, tempo_strerror(rc));
    else if (fire_setup_overran("tempo", base, res->setup_ns))
        rc = TEMPO_ETIMEOUT;
    if (rc == TEMPO_OK) {
        fire_window_t win;
        fire_window_arm(ev, &win, res, base, cfg);
        ev_run(ev, 0);
    }
    tempo_scheduler_free(s); /* detaches (frees) the tempo loop too */
    ev_loop_destroy(ev);
    return rc == TEMPO_OK ? 0 : -1;
}
