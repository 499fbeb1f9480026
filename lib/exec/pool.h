/* A small thread pool whose completions come back on the loop thread.
 *
 * Used for blocking tasks (TEMPO_EXECUTOR_THREAD) and, later, for the
 * blocking calls of persistent stores. Work items are embedded in their
 * owner's struct. Each submitted item gets exactly one completion call on the
 * loop thread, with TEMPO_OK when its work function ran, or TEMPO_ECANCELLED
 * when it was cancelled before starting or the pool shut down first. A done()
 * never runs inside the call that caused it (submit, cancel); it may submit,
 * cancel, free its own item, and free the pool.
 *
 * Shutdown order (NOTES.md, mongo-c-driver): stop accepting, cancel what is
 * queued, let running work finish, join the threads, and deliver every
 * completion — all before tempo__pool_free returns. No completion runs after
 * that, no thread is left, and nothing of the pool stays queued in the loop
 * (how, against a drain already posted, is explained at the top of pool.c).
 * Free the pool before its loop. */
#ifndef TEMPO_EXEC_POOL_H
#define TEMPO_EXEC_POOL_H

#include <stdbool.h>
#include <tempo/error.h>

#include "loop/loop_internal.h"

/* Most threads one pool may have. */
#define TEMPO_POOL_MAX_THREADS 1024

typedef struct tempo__pool tempo__pool_t;
typedef struct tempo__work tempo__work_t;

/* Runs on a pool thread. */
typedef void (*tempo__work_fn)(tempo__work_t *work);
/* Runs on the loop thread, once per submitted item. */
typedef void (*tempo__work_done_fn)(tempo__work_t *work, tempo_status_t status);

/* Needs no initialisation; must stay alive, and not be submitted again,
 * until its done() has been called. */
struct tempo__work {
    tempo__work_fn work;
    tempo__work_done_fn done;
    /* private to the pool */
    struct tempo__work *next;
    struct tempo__work *prev;
    int state;
};

/* Threads start lazily, on the first submit, up to `threads` (1 to
 * TEMPO_POOL_MAX_THREADS). Loop thread. */
tempo_status_t tempo__pool_new(tempo_loop_t *loop, int threads, tempo__pool_t **out,
                               tempo_error_t *err);
/* Loop thread. EINVAL for a NULL argument, ESTATE once tempo__pool_free
 * began, ENOMEM when the pool has no thread yet and none could be started;
 * the item is then not submitted and no done() will come. */
tempo_status_t tempo__pool_submit(tempo__pool_t *pool, tempo__work_t *work, tempo__work_fn fn,
                                  tempo__work_done_fn done);
/* Loop thread. Cancel an item not yet started: its done() runs (later) with
 * ECANCELLED and true is returned; false when it already started or ended.
 * `work` must have been submitted to this pool. */
bool tempo__pool_cancel(tempo__pool_t *pool, tempo__work_t *work);
/* Loop thread. Blocks until running work finishes; then every outstanding
 * done() has been called. NULL is fine. Called again from a done() while it
 * runs, it returns at once (the outer call finishes the job). */
void tempo__pool_free(tempo__pool_t *pool);

/* Loop thread: how many threads the pool has started so far (they live until
 * tempo__pool_free). */
int tempo__pool_threads(const tempo__pool_t *pool);

/* For work functions that wait on something slow (any thread the pool
 * outlives): block until tempo__pool_free began or `timeout` µs of real time
 * passed; true when the pool is shutting down. Lets long waits end early at
 * shutdown instead of holding tempo__pool_free up. */
bool tempo__pool_wait_stop(tempo__pool_t *pool, tempo_duration_t timeout);

#endif
