/* libtempo-ev internals shared by ev_loop.c (the adapter) and ev_runner.c
 * (a scheduler on a private libev loop: blocking run and background mode).
 *
 * The adapter knows nothing of threads. When it belongs to a runner it
 * tells the runner about every change it makes to the libev loop
 * (tempo__ev_runner_touched), so that a change made by a thread other than
 * the loop's wakes the loop; and it hands halt and detach on to the runner,
 * which owns the libev loop and the big lock. */
#ifndef TEMPO_EV_INTERNAL_H
#define TEMPO_EV_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <tempo/ev.h>

typedef struct tempo__ev_runner tempo__ev_runner_t;

/* An adapter on `evloop`, as tempo_ev_loop_new, that reports to `runner`
 * (NULL: a plain adapter on a loop its user owns). */
tempo_status_t tempo__ev_adapter_new(struct ev_loop *evloop, tempo__ev_runner_t *runner,
                                     tempo_loop_t **out, tempo_error_t *err);

/* ev_runner.c, called by the adapter's ops. */

/* The adapter changed a watcher of the libev loop (timer, io). Called under
 * the big lock, or while no other thread can reach the runner yet (creation)
 * or any more (free, after halt). */
void tempo__ev_runner_touched(tempo__ev_runner_t *runner);
/* The ops' halt: stop the thread running the loop, if any, and wait for it. */
void tempo__ev_runner_halt(tempo__ev_runner_t *runner);
/* The ops' detach, once the adapter stopped its watchers: destroy the libev
 * loop and the runner. */
void tempo__ev_runner_detached(tempo__ev_runner_t *runner);

/* ev_signals.c: SIGINT and SIGTERM begin a graceful stop, for one
 * blocking run of the process at a time. Embedded in the runner. */
enum { TEMPO__EV_N_SIGNALS = 2 };
typedef struct tempo__ev_signals {
    struct ev_loop *evloop; /* woken with ev_async_send(evloop, wake) */
    ev_async *wake;
    atomic_int received;    /* the last signal number, 0 = none (the handler writes it) */
    struct sigaction saved[TEMPO__EV_N_SIGNALS]; /* what was there before */
    bool installed[TEMPO__EV_N_SIGNALS];
} tempo__ev_signals_t;
/* Install the handlers (ESTATE when another run of the process has them). */
tempo_status_t tempo__ev_signals_install(tempo__ev_signals_t *sigs, tempo_error_t *err);
/* Restore what was there; when this returns no handler touches `sigs`. */
void tempo__ev_signals_remove(tempo__ev_signals_t *sigs);
/* The signal received since the last call (0: none), forgotten. */
int tempo__ev_signals_take(tempo__ev_signals_t *sigs);

/* Fill `err` (may be NULL) and return `code`. libtempo's tempo__error_set is
 * internal to libtempo.so, which this library links as a user does. */
__attribute__((format(printf, 3, 4))) tempo_status_t tempo__ev_fail(tempo_error_t *err, tempo_status_t code,
                                                                   const char *fmt, ...);

#endif
