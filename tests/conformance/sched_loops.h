/* The scheduler on real event loops: the same behaviour cases, unchanged,
 * on libev, libuv and GLib (label `conformance`). Where the unit tests
 * (tests/unit/test_core_*.c) prove the scheduler's logic on a virtual
 * clock, these prove it on real time through each adapter: timers that
 * fire when they should, wake-ups from the thread pool and from other
 * threads reaching each loop, stop and free while work is in flight.
 *
 * A runner (sched_ev.c, sched_uv.c, sched_glib.c) describes its host loop
 * with a sched_driver_t and calls sched_loops_tests().
 *
 * Timing: periods of tens of milliseconds, generous timeouts, and never a
 * sleep to wait for something: the cases run the host loop until a
 * condition holds or the timeout passes. Cases about wake-ups let the loop
 * block for the whole timeout, so that a lost wake-up fails instead of
 * being rescued by a periodic guard. */
#ifndef TEMPO_TEST_SCHED_LOOPS_H
#define TEMPO_TEST_SCHED_LOOPS_H

#include <tempo/loop.h>

typedef struct sched_driver {
    const char *name;
    /* A fresh host loop (NULL on failure). */
    void *(*host_new)(void);
    /* Called after the scheduler is freed: lets the adapter's deferred
     * cleanup run (libuv close callbacks), checks nothing was left behind,
     * frees the host. */
    void (*host_free)(void *host);
    /* The adapter on that host loop. */
    tempo_status_t (*loop_new)(void *host, tempo_loop_t **out, tempo_error_t *err);
    /* One iteration of the host loop, blocking at most about `max_ms`. */
    void (*run_once)(void *host, int max_ms);
    /* A one-shot timer of the host loop's own (not tempo's): fn(arg) runs
     * from the host loop about `ms` from now. */
    void (*call_later)(void *host, int ms, void (*fn)(void *arg), void *arg);
} sched_driver_t;

/* Run every case against `driver`; returns the failure count. */
int sched_loops_tests(const sched_driver_t *driver);

#endif
