/* The measured window shared by both sides of the fire benchmark. */
#include <stdio.h>

#include "fire.h"

#define WINDOW_LEAD_US 50000

int64_t fire_offset(const fire_cfg_t *cfg, long i)
{
    if (cfg->aligned)
        return 0;
    /* Evenly spread: the i-th of count slots in one period. */
    return (int64_t)((double)cfg->period_us * (double)i / (double)cfg->count);
}

const char *fire_backend_name(struct ev_loop *loop)
{
    switch (ev_backend(loop)) {
    case EVBACKEND_SELECT: return "select";
    case EVBACKEND_POLL: return "poll";
    case EVBACKEND_EPOLL: return "epoll";
    case EVBACKEND_LINUXAIO: return "linuxaio";
    case EVBACKEND_IOURING: return "iouring";
    default: return "other";
    }
}

int64_t fire_base(int64_t setup_us)
{
    int64_t t = bench_realtime_us() + WINDOW_LEAD_US + setup_us;
    return t - t % 1000; /* a whole millisecond: easier to read in a trace */
}

int fire_setup_overran(const char *side, int64_t base_us, int64_t setup_ns)
{
    if (bench_realtime_us() < base_us - WINDOW_LEAD_US)
        return 0;
    fprintf(stderr, "bench_sched_fire: %s side: setup took %.2f s, past the start of the window; "
                    "nothing measured\n", side, (double)setup_ns / 1e9);
    return 1;
}

static void window_start(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    fire_window_t *w = t->data;
    w->t0 = bench_realtime_us();
    w->cpu0 = bench_cpu_ns();
    w->res->lags.on = 1;
}

static void window_end(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)revents;
    fire_window_t *w = t->data;
    w->res->lags.on = 0;
    w->res->cpu_ns = bench_cpu_ns() - w->cpu0;
    w->res->window_us = bench_realtime_us() - w->t0;
    ev_break(loop, EVBREAK_ALL);
}

/* ev_timer counts from the loop's cached time; refresh it so that the
 * delays below are measured from now. */
static double delay_to(struct ev_loop *loop, int64_t at_us)
{
    ev_now_update(loop);
    double d = (double)at_us / 1e6 - ev_now(loop);
    return d > 0 ? d : 0;
}

void fire_window_arm(struct ev_loop *loop, fire_window_t *w, fire_result_t *res, int64_t base_us,
                     const fire_cfg_t *cfg)
{
    w->res = res;
    int64_t start = base_us - WINDOW_LEAD_US;
    int64_t end = start + cfg->seconds * cfg->period_us;
    ev_timer_init(&w->start, window_start, delay_to(loop, start), 0.);
    ev_timer_init(&w->end, window_end, delay_to(loop, end), 0.);
    w->start.data = w->end.data = w;
    ev_timer_start(loop, &w->start);
    ev_timer_start(loop, &w->end);
}
