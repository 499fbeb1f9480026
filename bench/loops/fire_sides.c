/* The two sides of the fire benchmark, each on a loop of its own.
 *
 * tempo's side: the memory store, default scheduler options, one in-loop
 * task that records its lag and completes at once, keeping no result, as
 * bench/sched/fire_tempo.c does on libev. The one non-default setting is
 * the task's max_running_jobs = 0 (unlimited): all N schedules share the
 * task, and the default of 1 would impose a concurrency limit this
 * workload does not ask for. */
#include <stdio.h>

#include <tempo/scheduler.h>

#include "loops_fire.h"

int fire_run_raw(const host_ops_t *ops, const fire_cfg_t *cfg, fire_result_t *res)
{
    res->impl = ops->raw_timer;
    void *host = ops->create();
    if (!host) {
        fprintf(stderr, "bench_loops_fire: %s: cannot create a loop\n", ops->loop);
        return -1;
    }
    /* Starting a raw timer takes well under 5 µs on every loop. */
    int64_t base = fire_base(50000 + cfg->count * 5);
    int64_t t0 = bench_mono_ns();
    void *timers = ops->timers_start(host, cfg, base, &res->lags);
    res->setup_ns = bench_mono_ns() - t0;
    int rc = -1;
    if (!timers) {
        fprintf(stderr, "bench_loops_fire: %s: out of memory for %ld timers\n", ops->raw_timer, cfg->count);
    } else {
        if (!fire_setup_overran(ops->raw_timer, base, res->setup_ns)) {
            fire_window_run(ops, host, res, base, cfg);
            rc = 0;
        }
        ops->timers_stop(host, timers);
    }
    ops->destroy(host);
    return rc;
}

typedef struct adds {
    long answered, failed;
    tempo_error_t first_err;
} adds_t;

static void task_fn(tempo_job_t *job, void *userdata)
{
    bench_lags_add(userdata, bench_realtime_us() - tempo_job_scheduled_fire_time(job));
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

static tempo_status_t setup(const host_ops_t *ops, void *host, const fire_cfg_t *cfg, tempo_scheduler_t *s,
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
            ops->run_once(host, 1);
    }
    while (rc == TEMPO_OK && adds.answered < cfg->count)
        ops->run_once(host, 0);
    if (rc == TEMPO_OK && adds.failed) {
        *err = adds.first_err;
        rc = err->code ? err->code : TEMPO_EINVAL;
    }
    return rc;
}

int fire_run_tempo(const host_ops_t *ops, const fire_cfg_t *cfg, fire_result_t *res)
{
    res->impl = "tempo";
    void *host = ops->create();
    if (!host) {
        fprintf(stderr, "bench_loops_fire: %s: cannot create a loop\n", ops->loop);
        return -1;
    }
    tempo_error_t err = {0};
    tempo_loop_t *loop = NULL;
    tempo_scheduler_t *s = NULL;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.seed = 1;
    /* Adding takes a few µs per schedule: start far enough ahead (a setup
     * that overran anyway is reported, not measured). */
    int64_t base = fire_base(50000 + cfg->count * 20);
    int64_t t0 = bench_mono_ns();
    tempo_status_t rc = ops->adapter(host, &loop, &err);
    if (rc == TEMPO_OK && (rc = tempo_scheduler_new(loop, NULL, &so, &s, &err)) != TEMPO_OK)
        tempo_loop_free(loop);
    if (rc == TEMPO_OK)
        rc = setup(ops, host, cfg, s, &res->lags, base, &err);
    if (rc == TEMPO_OK)
        rc = tempo_scheduler_start(s, &err);
    res->setup_ns = bench_mono_ns() - t0;
    if (rc != TEMPO_OK)
        fprintf(stderr, "bench_loops_fire: tempo on %s: %s (%s)\n", ops->loop, err.message, tempo_strerror(rc));
    else if (fire_setup_overran("tempo", base, res->setup_ns))
        rc = TEMPO_ETIMEOUT;
    if (rc == TEMPO_OK)
        fire_window_run(ops, host, res, base, cfg);
    tempo_scheduler_free(s); /* frees the tempo loop too */
    ops->destroy(host);
    return rc == TEMPO_OK ? 0 : -1;
}
