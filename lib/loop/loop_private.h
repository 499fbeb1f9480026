/* The loop's own state, shared by the files of lib/loop only (loop.c,
 * timer_heap.c, calls.c, watch.c). Nothing outside lib/loop includes this:
 * the rest of the core sees loop_internal.h. */
#ifndef TEMPO_LOOP_PRIVATE_H
#define TEMPO_LOOP_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "loop_internal.h"

#define TEMPO__NOT_ARMED ((size_t)-1)
#define TEMPO__READY_BIT (~(SIZE_MAX >> 1))

/* The adapter timer's state (loop->armed_at): not armed, or "as soon as
 * possible" (timer_set(0) for deferred calls). Both sort before every real
 * deadline, which the comparisons in loop.c rely on. */
#define TEMPO__ARMED_NONE TEMPO_TIME_NONE
#define TEMPO__ARMED_ASAP (TEMPO_TIME_NONE + 1)

/* One heap slot. The deadline is copied here so that sifting compares
 * without touching the timers (cache-friendly); `seq` makes equal deadlines
 * fire in the order they were started (FIFO), which keeps runs deterministic. */
typedef struct tempo__heap_entry {
    tempo_time_t deadline;
    uint64_t seq;
    tempo__timer_t *timer;
} tempo__heap_entry_t;

struct tempo__watch {
    tempo_loop_t *loop;
    void *handle; /* the adapter's */
    tempo__io_fn fn;
    void *arg;
    int events;
    /* Watches are freed by tempo__watch_stop, unless their callback is on
     * the stack (busy > 0): then stop only marks them and on_io frees them
     * when the callback returns. */
    int busy;
    bool stopped;
    struct tempo__watch *prev, *next; /* loop->watches, for tempo_loop_free */
};

typedef struct tempo__call_list {
    tempo__call_t *head;
    tempo__call_t **tail;
} tempo__call_list_t;

struct tempo_loop {
    const tempo_loop_ops_t *ops;
    void *adapter;

    /* Optional big lock (tempo_loop_set_lock): taken by every public
     * scheduler call, so that a runner that holds it on its loop thread
     * (except while the loop sleeps) makes the API safe from any thread. */
    /* Called once by the final free, after detach (tempo__loop_at_free). */
    void (*at_free)(void *arg);
    void *at_free_arg;

    void (*lock)(void *arg);
    void (*unlock)(void *arg);
    void *lock_arg;

    /* Core timers: a binary min-heap ordered by (deadline, seq). */
    tempo__heap_entry_t *heap;
    size_t heap_len, heap_cap;
    uint64_t next_seq;

    /* The timer phase's batch: due timers taken out of the heap before any
     * of them runs (timer_heap.c explains why). A timer in the batch has
     * heap_index == TEMPO__READY_BIT | its position; fired or stopped
     * slots are NULL. ready_live counts the non-NULL ones. */
    tempo__timer_t **ready;
    size_t ready_len, ready_cap, ready_live;
    bool ready_active;

    /* What the adapter's single timer was last asked for (absolute), or
     * TEMPO__ARMED_NONE / TEMPO__ARMED_ASAP. Lets us skip redundant
     * timer_set calls; on_timer resets it, since the adapter timer is
     * one-shot. */
    tempo_time_t armed_at;

    /* Deferred calls (loop thread only): `defer` is the queue, `defer_run`
     * what the current round took from it and has not run yet (kept here,
     * not on the stack, so tempo__loop_cancel can find them). `deferred`
     * counts both. */
    tempo__call_list_t defer, defer_run;
    size_t deferred;

    /* Posted calls: the only state touched by other threads, all of it under
     * post_mu. `post_flag` mirrors "post list non-empty" so that entries
     * other than on_wake can skip the mutex when nothing was posted. */
    pthread_mutex_t post_mu;
    tempo__call_list_t post;
    size_t posted;
    bool post_closed;
    /* Loop thread only: posted calls taken by a round, not yet run. */
    tempo__call_list_t post_run;
    size_t posts_running;
    atomic_bool post_flag;

    /* Live watches (not yet stopped). */
    tempo__watch_t *watches;
    size_t watch_count;

    /* > 0 while an adapter entry is on the stack. Inside, starting timers and
     * deferring never call the adapter: the round re-arms once at its end. */
    int depth;
    tempo__loop_stats_t stats;
    /* tempo_loop_free was called inside a dispatch: everything is stopped,
     * and the outermost entry detaches and frees when it unwinds. */
    bool closing;
};

/* timer_heap.c */
void tempo__timers_fire_due(tempo_loop_t *loop);
void tempo__timers_drop_all(tempo_loop_t *loop);
/* The earliest deadline in the heap, or TEMPO_TIME_NONE. */
tempo_time_t tempo__timers_earliest(const tempo_loop_t *loop);
/* Armed timers, batched ones included. */
size_t tempo__timers_count(const tempo_loop_t *loop);

/* calls.c */
/* 0 or an errno value (the mutex). */
int tempo__calls_init(tempo_loop_t *loop);
void tempo__calls_destroy(tempo_loop_t *loop);
void tempo__calls_run_posted(tempo_loop_t *loop, bool force);
void tempo__calls_run_deferred(tempo_loop_t *loop);
void tempo__calls_drop_all(tempo_loop_t *loop);

/* watch.c */
void tempo__watches_dispatch(tempo_loop_t *loop, tempo__watch_t *watch, int events);
void tempo__watches_stop_all(tempo_loop_t *loop);

/* loop.c: ask the adapter for a wake-up at `want` (absolute or
 * TEMPO__ARMED_ASAP) if it is earlier than what is armed. Outside a
 * dispatch only; inside, the end of the round does it. */
void tempo__loop_arm_before(tempo_loop_t *loop, tempo_time_t want);
/* loop.c: nothing left to wait for (called after a stop outside a
 * dispatch): clear the adapter timer so an idle loop can exit. */
void tempo__loop_disarm_if_idle(tempo_loop_t *loop);

#endif
