/* tempo — the event-loop adapter contract (DESIGN.md §6, docs/adapters.md).
 *
 * The core never calls an event-loop library. It asks its host loop for
 * exactly these services, through an adapter's ops table, all on the loop's
 * thread except wake():
 *
 *   watch_start / watch_update / watch_stop   readiness of a file descriptor
 *   timer_set / timer_clear                    ONE timer (the core multiplexes)
 *   wake                                       from any thread; wake-ups may merge
 *   now                                        the loop's clock, UTC µs
 *   detach                                     the core is done with the adapter
 *
 * and the adapter reports back by calling tempo_loop_on_io(),
 * tempo_loop_on_timer() and tempo_loop_on_wake() from the loop's thread.
 *
 * Re-entrancy rules, which keep both sides simple:
 *   - an adapter never calls back into the core from inside an ops call
 *     (timer_set(0) must not run the timer callback before returning);
 *   - the core tolerates early or spurious timer fires and wake-ups, and fd
 *     numbers being reused after a watch stops;
 *   - after detach() returns the adapter never calls the core again; it may
 *     free its own resources later (e.g. in libuv close callbacks);
 *   - detach() may run inside a tempo_loop_on_*() call (a callback freed the
 *     loop: see tempo_loop_free), so an adapter touches nothing of its own
 *     after a tempo_loop_on_*() call returns;
 *   - after watch_stop() returns, that watch's token is never reported again.
 *
 * Adapters are small libraries of their own (libtempo-ev, libtempo-uv,
 * libtempo-glib); each exposes one constructor that returns a tempo_loop_t. */
#ifndef TEMPO_LOOP_H
#define TEMPO_LOOP_H

#include <tempo/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The core's end of an adapter. Owned by whoever holds it: a scheduler takes
 * it over in tempo_scheduler_new(). */
typedef struct tempo_loop tempo_loop_t;

enum {
    TEMPO_IO_READ = 1,
    TEMPO_IO_WRITE = 2
};

typedef struct tempo_loop_ops {
    size_t size;      /* sizeof(tempo_loop_ops_t) */
    const char *name; /* "libev", "libuv", "glib", "virtual" */
    /* Watch `fd` for `events` (TEMPO_IO_*); report with tempo_loop_on_io(loop,
     * token, events). Returns the adapter's handle, or NULL with errno set. */
    void *(*watch_start)(void *adapter, int fd, int events, void *token);
    /* Change the events of a watch; 0 pauses it. Returns 0 or an errno value. */
    int (*watch_update)(void *adapter, void *watch, int events);
    /* Stop and forget a watch. Must not touch the fd (it may already be closed). */
    void (*watch_stop)(void *adapter, void *watch);
    /* Arm the single timer to fire once after `delay` µs (>= 0), replacing any
     * earlier setting. Rounds up to the loop's resolution, never down. */
    void (*timer_set)(void *adapter, tempo_duration_t delay);
    void (*timer_clear)(void *adapter);
    /* Make the loop call tempo_loop_on_wake() soon. The only thread-safe op;
     * async-signal-safety is not required. Several wakes may merge into one. */
    void (*wake)(void *adapter);
    /* The current time, UTC µs since the epoch (the loop's idea of it). */
    tempo_time_t (*now)(void *adapter);
    /* Stop every watch and the timer, stop calling the core, free the adapter
     * (possibly later). Called once, last. */
    void (*detach)(void *adapter);
    /* Optional (NULL, or absent in an older ops table): for adapters that run
     * the loop on a thread of their own. Stop that thread; when this returns
     * no other thread runs loop callbacks. Called first by
     * tempo_scheduler_free, from a thread that is not the loop's. */
    void (*halt)(void *adapter);
} tempo_loop_ops_t;

/* For adapter writers: create the core's end of a new adapter. `ops` must stay
 * valid for the loop's life (a static table); `adapter` is passed to every op. */
TEMPO_API tempo_status_t tempo_loop_new(const tempo_loop_ops_t *ops, void *adapter,
                                        tempo_loop_t **out, tempo_error_t *err);

/* Free a loop that no scheduler took over (calls ops->detach once). NULL is
 * fine. Armed core timers are disarmed, queued deferred and posted calls are
 * dropped (never run), watches are stopped. Allowed from inside a callback
 * the loop is running: everything stops at once and the detach and free
 * happen when the adapter's tempo_loop_on_*() call returns. Posts from other
 * threads must have ended before (the loop's memory goes away). */
TEMPO_API void tempo_loop_free(tempo_loop_t *loop);

/* For adapter writers: report to the core. Loop thread only. */
TEMPO_API void tempo_loop_on_io(tempo_loop_t *loop, void *token, int events);
TEMPO_API void tempo_loop_on_timer(tempo_loop_t *loop);
TEMPO_API void tempo_loop_on_wake(tempo_loop_t *loop);

/* For runners that drive a loop on a thread of their own (tempo_ev_runner_*):
 * a RECURSIVE lock that every public scheduler call takes for its duration.
 * The runner holds it on the loop thread while the loop dispatches and
 * releases it while the loop sleeps (libev: ev_set_loop_release_cb), and its
 * unlock wakes the loop when called from another thread so that changes made
 * there (timers, queued work) are noticed. Set before a scheduler uses the
 * loop; NULL functions remove it. */
TEMPO_API void tempo_loop_set_lock(tempo_loop_t *loop, void (*lock)(void *arg), void (*unlock)(void *arg),
                                   void *arg);

/* The loop's clock. */
TEMPO_API tempo_time_t tempo_loop_now(const tempo_loop_t *loop);

#ifdef __cplusplus
}
#endif
#endif
