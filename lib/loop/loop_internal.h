/* The core's side of the loop: what tempo's own code (scheduler, stores,
 * executors) uses instead of an event-loop library.
 *
 * One adapter timer is multiplexed into any number of core timers (a binary
 * min-heap; O(log n) start/stop). Deferred calls run on the loop thread at
 * the next dispatch, never inside the call that queued them. Posted calls are
 * the same, queued from any thread through the adapter's wake().
 *
 * Dispatch order on every entry from the adapter (on_timer, on_wake, on_io):
 * the entry's own work, then posted calls, then due timers, then deferred
 * calls (queued before this round; ones they queue wait for the next round,
 * which is requested with timer_set(0) so nothing starves), then the adapter
 * timer is re-armed for the earliest deadline.
 *
 * Every callback may start/stop timers, defer, post, and stop watches —
 * including its own.
 *
 * Precisely (docs/adapters.md has the same with examples):
 *   - "the entry's own work" is the watch callback for on_io; on_timer and
 *     on_wake have none of their own.
 *   - Posted calls: every call posted before the round took the queue runs,
 *     in posting order (FIFO per thread; across threads in the order they
 *     took the queue's mutex). A call posted by one of them runs in a later
 *     round (its wake() brings it).
 *   - Due timers: the loop reads now() once and takes every timer whose
 *     deadline is <= now out of the heap, in (deadline, start order), before
 *     running any. A timer stopped by an earlier callback of the round does
 *     not fire; a timer (re)started by a callback of the round never fires in
 *     that round, even with a deadline in the past (a callback re-arming
 *     itself "now" cannot starve the loop), and never delays the due ones —
 *     it fires in the next round. An early fire of the adapter timer finds
 *     nothing due and just re-arms it.
 *   - Deferred calls: every call queued before the deferred phase began
 *     (including those queued by this round's watch callback, posted calls
 *     and timers) runs, FIFO. Calls they defer run in the next round.
 *   - Outside a dispatch (e.g. the application calls into the scheduler from
 *     its own code), starting a timer or deferring asks the adapter at once
 *     (timer_set) when needed; stopping the last timer clears the adapter
 *     timer so an idle host loop can exit. Inside one, nothing calls the
 *     adapter's timer ops until the round ends: one timer_set per round at
 *     most, however many timers the callbacks touch.
 *   - tempo_loop_free may be called from any callback (a job that shuts its
 *     scheduler down): everything stops at once (timers unarmed, queued calls
 *     dropped, watches stopped), nothing else of the round runs, and the
 *     adapter's detach() and the free happen when the adapter's entry
 *     unwinds. Adapters therefore touch nothing of their own after calling
 *     tempo_loop_on_*().
 *   - A callback that runs the host loop recursively is not supported (the
 *     adapter timer is not re-armed until the outer round ends, so timers
 *     may not fire meanwhile). Entries that do arrive nested are safe: they
 *     run a round of their own, leaving the outer round's due timers to it
 *     and continuing its calls not yet run (FIFO is kept).
 * All of this is loop-thread only except tempo__loop_post. Nothing here
 * allocates per timer start, defer or post: timers and calls are embedded in
 * their owners; only the heap's arrays grow (doubling, shrinking again
 * after mass stops) and watches are one allocation each. */
#ifndef TEMPO_LOOP_INTERNAL_H
#define TEMPO_LOOP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tempo/loop.h>

typedef void (*tempo__loop_fn)(void *arg);

/* A core timer, embedded in its owner's struct. Fields are read-only for
 * owners (deadline is valid while armed). */
typedef struct tempo__timer {
    tempo_time_t deadline;
    size_t heap_index; /* SIZE_MAX when not armed */
    tempo__loop_fn fn;
    void *arg;
} tempo__timer_t;

void tempo__timer_init(tempo__timer_t *timer, tempo__loop_fn fn, void *arg);
/* Arm (or re-arm) to fire at `deadline` (absolute, loop clock). A deadline in
 * the past fires at the next round. A re-arm counts as a new start for the
 * FIFO order of equal deadlines. deadline == TEMPO_TIME_NONE ("never", what
 * a finished trigger answers) stops the timer.
 * Returns TEMPO_OK, or TEMPO_ENOMEM when the heap could not grow: then the
 * timer is left as it was (not armed). Re-arming an armed timer never fails.
 * (Callers that ignore the result still compile: it was void in the first
 * draft of this header.) */
tempo_status_t tempo__timer_start(tempo_loop_t *loop, tempo__timer_t *timer, tempo_time_t deadline);
/* The same, `delay` µs from tempo_loop_now() (saturating). */
tempo_status_t tempo__timer_start_after(tempo_loop_t *loop, tempo__timer_t *timer,
                                        tempo_duration_t delay);
/* Disarm. A timer that is not armed is fine. */
void tempo__timer_stop(tempo_loop_t *loop, tempo__timer_t *timer);
static inline bool tempo__timer_armed(const tempo__timer_t *timer)
{
    return timer->heap_index != (size_t)-1;
}

/* A queued call, embedded in its owner's struct; must stay alive (and not be
 * queued again) until fn has run or the call was cancelled. */
typedef struct tempo__call {
    struct tempo__call *next;
    tempo__loop_fn fn;
    void *arg;
} tempo__call_t;

/* Loop thread only. */
void tempo__loop_defer(tempo_loop_t *loop, tempo__call_t *call, tempo__loop_fn fn, void *arg);
/* Any thread. The caller must not free the loop concurrently: posts that
 * race tempo_loop_free are dropped only while the loop's memory exists.
 * (The post holds the loop's mutex while it calls the adapter's wake(), so
 * once tempo__loop_post returns, the posting thread no longer touches the
 * loop or the adapter.) Calls still queued when the loop is freed are
 * dropped, never run. */
void tempo__loop_post(tempo_loop_t *loop, tempo__call_t *call, tempo__loop_fn fn, void *arg);

/* Loop thread only. Take back a deferred or posted call that has not run
 * yet (queued, or taken by the current round but not reached): true when it
 * was found and removed — fn will not run and the node is free again; false
 * when it is not queued (never was, already ran or running, or dropped by
 * tempo_loop_free). For a posted call, the poster must be done posting it
 * (e.g. its thread joined), else the answer is already stale. O(queue
 * length): meant for shutdown paths, e.g. a pool freeing the node of a post
 * that would otherwise only be dropped when the loop is freed. */
bool tempo__loop_cancel(tempo_loop_t *loop, tempo__call_t *call);

/* True while an adapter entry is on the stack (a callback is running). */
bool tempo__loop_dispatching(const tempo_loop_t *loop);
/* Run fn(arg) once, right after the loop's final free (which tempo_loop_free
 * defers to the end of the round when called from a callback). Lets an
 * owner freed from inside a callback release its own memory only once no
 * frame below the callback can still touch it. */
void tempo__loop_at_free(tempo_loop_t *loop, void (*fn)(void *arg), void *arg);

/* The optional big lock (tempo_loop_set_lock); no-ops when none is set.
 * Recursive by contract: a scheduler call made from a callback re-enters. */
void tempo__loop_lock(tempo_loop_t *loop);
/* The adapter's optional halt (loop.h): stop its own loop thread, if any. */
void tempo__loop_halt(tempo_loop_t *loop);
void tempo__loop_unlock(tempo_loop_t *loop);

/* File-descriptor watches (for stores that speak sockets on the loop). */
typedef void (*tempo__io_fn)(void *arg, int events);
typedef struct tempo__watch tempo__watch_t;
/* NULL with errno set when the adapter refuses: EBADF (fd < 0), EINVAL
 * (events not a subset of TEMPO_IO_READ|TEMPO_IO_WRITE), ENOMEM, ENOTSUP
 * (the virtual loop: no file descriptors in virtual time), or the adapter's
 * own errno. `events` may be 0 (created paused). The callback gets the
 * ready events masked by the watch's current events (an adapter reporting an
 * error on the fd reports READ|WRITE, so the owner's read or write sees it). */
tempo__watch_t *tempo__watch_start(tempo_loop_t *loop, int fd, int events, tempo__io_fn fn, void *arg);
/* 0 or an errno value (EINVAL for bad events or a stopped watch). */
int tempo__watch_update(tempo_loop_t *loop, tempo__watch_t *watch, int events);
/* Safe from inside the watch's own callback. The watch is invalid after
 * this returns (freed now, or when its callback returns). The fd may
 * already be closed. */
void tempo__watch_stop(tempo_loop_t *loop, tempo__watch_t *watch);

/* Number of armed timers, queued calls and watches: lets tests and shutdown
 * check that nothing is left behind. Loop thread only. */
size_t tempo__loop_pending(const tempo_loop_t *loop);

/* Counters since tempo_loop_new, for tests (they make an adapter's timer
 * behaviour observable), benchmarks and health reports. Loop thread only. */
typedef struct tempo__loop_stats {
    uint64_t rounds;              /* entries from the adapter (on_io + on_timer + on_wake) */
    uint64_t timer_entries;       /* on_timer */
    uint64_t early_timer_entries; /* on_timer before the deadline it was armed for */
    uint64_t timers_fired;
    uint64_t calls_run;           /* deferred and posted */
} tempo__loop_stats_t;
void tempo__loop_get_stats(const tempo_loop_t *loop, tempo__loop_stats_t *out);

#endif
