/* bench_loops_wake: calls handed to a loop from other threads, as fast as
 * the loop takes them. M producer threads post calls; the loop thread runs
 * each. Baseline: the loop's own cross-thread primitive (host_ops_t's
 * relay); tempo: tempo_scheduler_call_threadsafe on a started scheduler
 * on that loop. Same producers, same delivery callback, same window.
 *
 * Flow control: each producer keeps at most `inflight` calls undelivered
 * and, when it has that many, waits (a condition variable) until half of
 * them were delivered. Without a bound the producers would outrun the loop
 * and the queue — not the hand-over — would be measured (and memory would
 * grow without limit). The cost of that wait is the same on both sides. */
#ifndef BENCH_LOOPS_WAKE_H
#define BENCH_LOOPS_WAKE_H

#include "loops.h"

typedef struct wake_cfg {
    const char *name;
    int threads;   /* producers */
    long seconds;  /* measured window, after a 200 ms warm-up */
    int inflight;  /* per producer */
} wake_cfg_t;

typedef struct wake_result {
    const char *impl;
    long long calls;        /* delivered in the window */
    int64_t window_us;
    int64_t cpu_ns;         /* whole process (producers included) over the window */
    int64_t loop_cpu_ns;    /* the loop thread alone */
    long long out_of_order; /* calls of one producer delivered out of order (want 0) */
    long long refused;      /* posts the API refused (want 0) */
} wake_result_t;

/* Run one side on a new loop of `ops`; 0 on success, -1 with a message. */
int wake_run_raw(const host_ops_t *ops, const wake_cfg_t *cfg, wake_result_t *res);
int wake_run_tempo(const host_ops_t *ops, const wake_cfg_t *cfg, wake_result_t *res);

#endif
