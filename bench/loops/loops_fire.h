/* bench_loops_fire: N timers firing every period on one loop — the loop's
 * own raw timers (the baseline), then tempo interval schedules through
 * tempo's adapter for that loop — measured over the same kind of window.
 *
 * Both sides do the same work per fire: read a clock, record the lag in a
 * preallocated array, return (tempo's task also completes its job, keeping
 * no result). CPU is the whole process's user + system time over the
 * window, so it includes the loop library, the kernel's poll and tempo's
 * own bookkeeping: everything a fire costs. */
#ifndef BENCH_LOOPS_FIRE_H
#define BENCH_LOOPS_FIRE_H

#include "loops.h"

typedef struct fire_result {
    const char *impl;
    int64_t setup_ns;  /* creating the timers / adding the schedules */
    int64_t window_us; /* real length of the measured window */
    int64_t cpu_ns;    /* process CPU over the window */
    bench_lags_t lags; /* one sample per fire in the window */
} fire_result_t;

/* The first fire instant: the window's lead plus `setup_us` from now. */
int64_t fire_base(int64_t setup_us);
/* True (with a message) when the setup ran past the window's start:
 * nothing is measured then. */
int fire_setup_overran(const char *side, int64_t base_us, int64_t setup_ns);
/* Arm the window (from 50 ms before `base_us` for cfg->seconds periods)
 * and run the loop until it ends. */
void fire_window_run(const host_ops_t *ops, void *host, fire_result_t *res, int64_t base_us,
                     const fire_cfg_t *cfg);

/* Run one side on a new loop of `ops`; 0 on success, -1 with a message. */
int fire_run_raw(const host_ops_t *ops, const fire_cfg_t *cfg, fire_result_t *res);
int fire_run_tempo(const host_ops_t *ops, const fire_cfg_t *cfg, fire_result_t *res);

#endif
