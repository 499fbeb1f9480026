/* The baseline of the fire benchmark: N raw ev_timers repeating every
 * period, on a libev loop of their own.
 *
 * A repeating ev_timer keeps its phase (libev adds `repeat` to the instant
 * it was due, not to when it ran), so fire k of timer i is due at
 * base + offset_i + k * period, the same instants tempo's interval
 * schedules are due at. */
#include <stdio.h>
#include <stdlib.h>

#include "fire.h"

typedef struct raw_timer {
    ev_timer w; /* first: libev hands back &w */
    int64_t due_us;
} raw_timer_t;

/* One side runs at a time: the callback finds its state here rather than
 * through a per-timer pointer (which would make each timer bigger). */
static bench_lags_t *g_lags;
static int64_t g_period_us;

static void fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    raw_timer_t *t = (raw_timer_t *)w;
    bench_lags_add(g_lags, bench_realtime_us() - t->due_us);
    t->due_us += g_period_us;
}

int fire_run_ev(const fire_cfg_t *cfg, fire_result_t *res)
{
    res->impl = "ev_timer";
    struct ev_loop *loop = ev_loop_new(cfg->ev_flags);
    raw_timer_t *timers = calloc((size_t)cfg->count, sizeof *timers);
    if (!loop || !timers) {
        fprintf(stderr, "bench_sched_fire: ev_timer side: out of memory or no libev loop\n");
        free(timers);
        if (loop)
            ev_loop_destroy(loop);
        return -1;
    }
    res->backend = fire_backend_name(loop);
    g_lags = &res->lags;
    g_period_us = cfg->period_us;
    int64_t base = fire_base(50000 + cfg->count); /* starting a timer: well under 1 µs */
    int64_t t0 = bench_mono_ns();
    /* All timers count from one cached loop time, so their due instants
     * are exact relative to it: rt0 + after == base + offset. */
    ev_now_update(loop);
    double rt0 = ev_now(loop), period = (double)cfg->period_us / 1e6;
    for (long i = 0; i < cfg->count; i++) {
        raw_timer_t *t = &timers[i];
        t->due_us = base + fire_offset(cfg, i);
        ev_timer_init(&t->w, fired, (double)t->due_us / 1e6 - rt0, period);
        ev_timer_start(loop, &t->w);
    }
    res->setup_ns = bench_mono_ns() - t0;
    int overran = fire_setup_overran("ev_timer", base, res->setup_ns);
    if (!overran) {
        fire_window_t win;
        fire_window_arm(loop, &win, res, base, cfg);
        ev_run(loop, 0);
    }
    for (long i = 0; i < cfg->count; i++)
        ev_timer_stop(loop, &timers[i].w);
    free(timers);
    ev_loop_destroy(loop);
    return overran ? -1 : 0;
}
