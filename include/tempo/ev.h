/* tempo — libev adapter (libtempo-ev). */
#ifndef TEMPO_EV_H
#define TEMPO_EV_H

#include <ev.h>
#include <stdbool.h>
#include <tempo/loop.h>
#include <tempo/scheduler.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An adapter on `evloop` (ev_io per watch, one ev_timer, one ev_async). The
 * libev loop must outlive the returned tempo_loop_t's scheduler. Loop thread
 * only, except that wake-ups are thread-safe.
 * Keep-alive: an idle adapter does not keep ev_run() from returning (its
 * ev_async is ev_unref'd); while the scheduler has a timer armed or a watch
 * started, those keep it running like any other watcher. The clock is the
 * system's real-time clock (UTC), read afresh on every call, not ev_now(). */
TEMPO_API tempo_status_t tempo_ev_loop_new(struct ev_loop *evloop, tempo_loop_t **out,
                                           tempo_error_t *err);

/* ---- without an event loop (docs/adapters.md, "Without an event loop") ----
 *
 * A scheduler on a PRIVATE libev loop that libtempo-ev creates, owns and
 * destroys (in tempo_scheduler_free). The loop is driven either by
 * tempo_scheduler_run() on the calling thread, or by a thread of its own
 * after tempo_scheduler_run_background().
 *
 * Threads: such a scheduler has a big lock (a recursive mutex, installed
 * with tempo_loop_set_lock) that every public tempo_scheduler_* call takes,
 * and that the thread running the loop holds except while libev waits for
 * events. So every tempo_scheduler_* call is safe from any thread, in every
 * mode; callbacks (tasks, events, completions) run on the thread running the
 * loop, with the lock held — so a callback must not wait for another thread
 * that is making a scheduler call (it would wait forever).
 * tempo_job_complete/tempo_job_fail are NOT covered: call them on the loop
 * thread (from a callback, or through tempo_scheduler_call_threadsafe).
 * tempo_scheduler_free may be called from any thread but the loop's (never
 * from a callback), also while the background thread runs: it stops and
 * joins that thread first. No call may race tempo_scheduler_free. */

/* Create such a scheduler. `store` (NULL: a new memory store) and `opts`
 * (NULL: defaults) as for tempo_scheduler_new: on success the scheduler owns
 * the store, on failure the caller still does. Not started. */
TEMPO_API tempo_status_t tempo_ev_scheduler_new(tempo_store_t *store, const tempo_scheduler_options_t *opts,
                                                tempo_scheduler_t **out, tempo_error_t *err);

typedef struct tempo_ev_run_options {
    size_t size;                   /* sizeof(tempo_ev_run_options_t) */
    /* SIGINT and SIGTERM begin a graceful stop (tempo_scheduler_stop with
     * stop_timeout) while tempo_scheduler_run_with runs; the previous
     * dispositions are restored when it returns. A signal the process
     * ignores (SIG_IGN, e.g. SIGINT in a shell's background job) stays
     * ignored. One run per process at a time may ask for this. Default false. */
    bool handle_signals;
    tempo_duration_t stop_timeout; /* >= 0; default 30 s */
} tempo_ev_run_options_t;
#define TEMPO_EV_RUN_OPTIONS_INIT { sizeof(tempo_ev_run_options_t), false, TEMPO_SECONDS(30) }

/* Blocking: start the scheduler if it is not started, and run its loop on
 * the calling thread until the scheduler stops (the first
 * SCHEDULER_STOPPED event: a tempo_scheduler_stop from a callback or from
 * another thread, or a signal). Returns TEMPO_OK then; the scheduler can be
 * run again or freed. EINVAL for a scheduler not made by
 * tempo_ev_scheduler_new; ESTATE while it is already running (here or in
 * the background) or when another run of the process handles signals;
 * ECANCELLED when another thread freed the scheduler meanwhile (then the
 * scheduler is gone when this returns). run() is run_with(NULL options). */
TEMPO_API tempo_status_t tempo_scheduler_run(tempo_scheduler_t *scheduler, tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_run_with(tempo_scheduler_t *scheduler,
                                                  const tempo_ev_run_options_t *opts, tempo_error_t *err);

/* Start a thread that runs the scheduler's loop (and start the scheduler if
 * it is not started); returns at once. The thread runs until
 * tempo_scheduler_free, also while the scheduler is stopped (so it can be
 * managed and started again). It blocks every signal, so the process's
 * signals go to the application's threads. EINVAL as above; ESTATE when
 * already running; ENOMEM when no thread can be created. */
TEMPO_API tempo_status_t tempo_scheduler_run_background(tempo_scheduler_t *scheduler, tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
