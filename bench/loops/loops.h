/* The per-loop benchmarks (docs/performance.md, "Scheduler on each loop"):
 * the same measurement on libev, libuv and GLib, each against that loop's
 * own primitive in the same run.
 *
 *   bench_loops_fire  N interval schedules vs N raw timers of the loop
 *   bench_loops_wake  M threads handing calls to the loop: tempo's
 *                     tempo_scheduler_call_threadsafe vs the loop's own
 *                     cross-thread primitive
 *
 * A host_ops_t is everything loop-specific: making and running the loop,
 * tempo's adapter on it, a one-shot timer for the measured window, the raw
 * timers and the raw cross-thread relay. The measuring code (fire_*.c,
 * wake_*.c) is shared, so both sides of a ratio and all three loops are
 * measured by the same instructions. */
#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#include <stdint.h>
#include <tempo/loop.h>

#include "bench_util.h"

typedef void (*host_fn)(void *arg);

/* The fire benchmark's workload. */
typedef struct fire_cfg {
    const char *name;  /* label for the output lines */
    long count;        /* timers / schedules */
    long seconds;      /* periods in the measured window */
    int64_t period_us; /* each fires this often */
    int aligned;       /* all on the same instant (else spread over the period) */
} fire_cfg_t;

/* The offset within the period of timer/schedule i. */
int64_t fire_offset(const fire_cfg_t *cfg, long i);

/* A call handed to the loop by the raw relay: intrusive, owned by the
 * poster (no allocation on the measured path), delivered exactly once. */
typedef struct relay_node {
    struct relay_node *next;
    void *arg;
    void *relay; /* the host's to use while the node is queued */
} relay_node_t;

typedef struct host_ops {
    const char *loop;      /* "libev", "libuv", "glib" */
    const char *raw_timer; /* what the fire baseline uses */
    const char *raw_wake;  /* what the wake baseline uses */

    void *(*create)(void);
    /* After everything made on it was stopped (and tempo's adapter freed):
     * lets deferred closes run, then frees the loop. */
    void (*destroy)(void *host);
    tempo_status_t (*adapter)(void *host, tempo_loop_t **out, tempo_error_t *err);
    /* Run until quit() is called from a callback. */
    void (*run)(void *host);
    void (*quit)(void *host);
    /* One iteration: blocking (until something happens), or not. */
    void (*run_once)(void *host, int nowait);
    /* A one-shot timer of the loop's own, `delay_us` from now (rounded up
     * to the loop's resolution). Freed when it fires; must fire before
     * destroy. */
    void (*after)(void *host, int64_t delay_us, host_fn fn, void *arg);

    /* cfg->count raw timers, timer i first due at base_us + fire_offset(i)
     * (CLOCK_REALTIME) and then every period; each fire records its lag
     * (callback start minus the instant it was due, as the loop defines
     * it) in `lags`. Returns NULL when out of memory. */
    void *(*timers_start)(void *host, const fire_cfg_t *cfg, int64_t base_us, bench_lags_t *lags);
    void (*timers_stop)(void *host, void *timers);

    /* The raw cross-thread relay: post() from any thread queues `node`;
     * the loop calls deliver(node->arg) for each, once, in post order per
     * poster. relay_free on the loop thread once every node was delivered. */
    void *(*relay_new)(void *host, host_fn deliver);
    void (*relay_post)(void *relay, relay_node_t *node);
    void (*relay_free)(void *relay);
} host_ops_t;

extern const host_ops_t host_ev, host_uv, host_glib;

/* "--loop ev|uv|glib|all": fills hosts[] (up to 3), returns how many, or
 * -1 for an unknown name. */
int hosts_select(const char *name, const host_ops_t **hosts);

#endif
