/* The fire benchmark (bench_sched_fire): N things firing every period on a
 * real libev loop, measured over a window of real time, done twice in one
 * process — once as N raw ev_timers (the baseline), once as N tempo
 * interval schedules whose in-loop task completes at once.
 *
 * Both sides do the same work per fire: read CLOCK_REALTIME, record the lag
 * (callback start minus the instant the fire was scheduled for) in a
 * preallocated array, and return (tempo's task also completes its job,
 * keeping no result). CPU time is the whole process's user + system time
 * over the window, so it includes the loop, the kernel's epoll and the
 * scheduler's own bookkeeping: everything a fire costs. */
#ifndef BENCH_SCHED_FIRE_H
#define BENCH_SCHED_FIRE_H

#include <ev.h>
#include <stdint.h>

#include "bench_util.h"

typedef struct fire_cfg {
    const char *name;  /* label for the output lines */
    long count;        /* timers / schedules */
    long seconds;      /* periods in the measured window */
    int64_t period_us; /* every timer / schedule fires this often */
    int aligned;       /* all fire at the same instant (else spread evenly over the period) */
    unsigned ev_flags; /* ev_loop_new() flags: 0 = libev's choice (epoll on Linux) */
} fire_cfg_t;

typedef struct fire_result {
    const char *impl;
    const char *backend; /* the libev backend the loop got */
    int64_t setup_ns;  /* creating the timers / adding the schedules */
    int64_t window_us; /* real length of the measured window */
    int64_t cpu_ns;    /* process CPU over the window */
    bench_lags_t lags; /* one sample per fire in the window */
} fire_result_t;

/* The offset within the period of timer/schedule i. */
int64_t fire_offset(const fire_cfg_t *cfg, long i);

/* The measured window: from 50 ms before the first fire (at `base`) for
 * `seconds` periods. 50 ms keeps the window's edges away from fires: libev
 * runs the callbacks that expire in one iteration in no particular order,
 * and its epoll wait has 1 ms resolution. Idle time inside the window costs
 * no CPU, so the margin does not change the result. */
typedef struct fire_window {
    ev_timer start, end;
    fire_result_t *res;
    int64_t cpu0, t0;
} fire_window_t;

void fire_window_arm(struct ev_loop *loop, fire_window_t *w, fire_result_t *res, int64_t base_us,
                     const fire_cfg_t *cfg);

/* The name of the backend `loop` runs on ("epoll", "select", ...). */
const char *fire_backend_name(struct ev_loop *loop);

/* The first fire instant: the window's lead plus `setup_us` from now. */
int64_t fire_base(int64_t setup_us);
/* True (with a message) when the setup ran past the window's start, so
 * that the window would be short or miss fires: nothing is measured then. */
int fire_setup_overran(const char *side, int64_t base_us, int64_t setup_ns);

/* Run one side; 0 on success, -1 with a message on stderr. */
int fire_run_ev(const fire_cfg_t *cfg, fire_result_t *res);
int fire_run_tempo(const fire_cfg_t *cfg, fire_result_t *res);

#endif
