/* The measured window shared by both sides and all loops. It starts 50 ms
 * before the first fire and lasts `seconds` periods: the margin keeps the
 * window's edges away from fires (loops run the callbacks that expire in
 * one iteration in no promised order, and wait in whole ms), and idle time
 * inside the window costs no CPU, so it does not change the result. */
#include <stdio.h>

#include "loops_fire.h"

#define WINDOW_LEAD_US 50000

typedef struct window {
    const host_ops_t *ops;
    void *host;
    fire_result_t *res;
    int64_t cpu0, t0;
} window_t;

int64_t fire_base(int64_t setup_us)
{
    int64_t t = bench_realtime_us() + WINDOW_LEAD_US + setup_us;
    return t - t % 1000; /* a whole millisecond: easier to read in a trace */
}

int fire_setup_overran(const char *side, int64_t base_us, int64_t setup_ns)
{
    if (bench_realtime_us() < base_us - WINDOW_LEAD_US)
        return 0;
    fprintf(stderr, "bench_loops_fire: %s: setup took %.2f s, past the start of the window; nothing measured\n",
            side, (double)setup_ns / 1e9);
    return 1;
}

static void window_start(void *arg)
{
    window_t *w = arg;
    w->t0 = bench_realtime_us();
    w->cpu0 = bench_cpu_ns();
    w->res->lags.on = 1;
}

static void window_end(void *arg)
{
    window_t *w = arg;
    w->res->lags.on = 0;
    w->res->cpu_ns = bench_cpu_ns() - w->cpu0;
    w->res->window_us = bench_realtime_us() - w->t0;
    w->ops->quit(w->host);
}

void fire_window_run(const host_ops_t *ops, void *host, fire_result_t *res, int64_t base_us,
                     const fire_cfg_t *cfg)
{
    window_t w = {ops, host, res, 0, 0};
    int64_t start = base_us - WINDOW_LEAD_US, now = bench_realtime_us();
    ops->after(host, start - now, window_start, &w);
    ops->after(host, start + cfg->seconds * cfg->period_us - now, window_end, &w);
    ops->run(host);
}
