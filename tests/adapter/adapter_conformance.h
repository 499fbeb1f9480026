/* The adapter conformance suite: the same cases, unchanged, against every
 * event-loop adapter (DESIGN.md §6). An adapter's test program describes its
 * host loop with an adapter_driver_t and runs adapter_conformance_tests()
 * plus any cases of its own.
 *
 * Timing: cases use real delays of a few milliseconds but never sleep to
 * wait for something: they run the host loop until the condition holds or a
 * generous timeout passes (adapter_run_until). */
#ifndef TEMPO_TEST_ADAPTER_CONFORMANCE_H
#define TEMPO_TEST_ADAPTER_CONFORMANCE_H

#include <stdbool.h>
#include <tempo/loop.h>

typedef struct adapter_driver {
    const char *name;
    /* A fresh host loop (NULL on failure). */
    void *(*host_new)(void);
    void (*host_free)(void *host);
    /* The adapter on that host loop. */
    tempo_status_t (*loop_new)(void *host, tempo_loop_t **out, tempo_error_t *err);
    /* One iteration of the host loop, blocking at most about `max_ms`
     * (the driver arms its own guard timer for that). */
    void (*run_once)(void *host, int max_ms);
} adapter_driver_t;

/* A host loop and its adapter, made fresh for each case. */
typedef struct adapter_fixture {
    const adapter_driver_t *driver;
    void *host;
    tempo_loop_t *loop;
} adapter_fixture_t;

/* Run the host loop until cond(arg) is true or `timeout_ms` of real time
 * passed; returns cond(arg). */
bool adapter_run_until(adapter_fixture_t *fx, bool (*cond)(void *arg), void *arg, int timeout_ms);
/* Run the host loop for about `ms` of real time (to show nothing happens). */
void adapter_run_for(adapter_fixture_t *fx, int ms);

/* Run the conformance cases against `driver`; returns the failure count. */
int adapter_conformance_tests(const adapter_driver_t *driver);

#endif
