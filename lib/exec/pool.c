/* The offload thread pool (pool.h; docs/thread-pool.md).
 *
 * An item moves QUEUED -> RUNNING -> FINISHED, or QUEUED -> CANCELLED, and
 * then DELIVERED just before its done() is called. The queue and the
 * completed list are guarded by the pool mutex; the delivering list, the
 * `freeing` flag and the drain frames belong to the loop thread alone.
 *
 * Completions travel like this: a worker (or cancel) appends the item to the
 * completed list and, when no drain is pending, posts ONE drain call to the
 * loop. The drain moves the whole completed list to the delivering list and
 * calls the done()s one by one. So a burst of 10 000 completions costs a
 * handful of posts, and the only thing the loop queue ever holds for a pool is
 * that single drain call, embedded in the pool — never an item, whose memory
 * belongs to its owner.
 *
 * How free leaves nothing behind (the drain call is the only link from the
 * loop to the pool):
 *   - a drain still queued in the loop (posted by a worker, not yet run, or
 *     taken by the current round but not reached) is taken back with
 *     tempo__loop_cancel once every thread is joined, so no poster can race
 *     it; free delivers its items itself;
 *   - a drain on the stack (a done() it called is freeing the pool) is told
 *     through its frame: free clears `alive` in every frame on the stack, and
 *     the drain returns without touching the pool again. Free has delivered
 *     the rest of its batch by then.
 * So the pool memory can go at once, and tempo__loop_pending() is back to
 * what it was before the pool existed. */
#include "exec/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error_internal.h"

enum { QUEUED = 1, RUNNING, FINISHED, CANCELLED, DELIVERED };

/* A drain call on the loop thread's stack (frames nest if a done() runs the
 * loop). */
typedef struct drain_frame {
    bool alive; /* false once a done() freed the pool */
    struct drain_frame *outer;
} drain_frame_t;

/* A FIFO of items linked through `next` (and `prev` for the queue only). */
typedef struct list {
    tempo__work_t *head;
    tempo__work_t *tail;
} list_t;

struct tempo__pool {
    tempo_loop_t *loop;
    tempo__call_t drain_call;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* workers: an item was queued, or stop */
    pthread_cond_t stop_cv; /* tempo__pool_wait_stop: stop began */

    /* under mu */
    list_t queue;     /* QUEUED items, doubly linked so cancel is O(1) */
    list_t completed; /* FINISHED or CANCELLED, not yet taken by a drain */
    size_t queued;
    int idle;          /* workers waiting on work_cv */
    bool drain_posted; /* drain_call queued in the loop, not yet started */
    bool stopping;

    /* loop thread only */
    list_t delivering; /* taken by a drain (or by free), done() not yet called */
    drain_frame_t *frames; /* drains on the stack, innermost first */
    bool freeing;
    int started; /* threads[0 .. started) are running; only grows until free */
    int max;
    pthread_t threads[];
};

/* ---- lists ---- */

static void list_push(list_t *l, tempo__work_t *w)
{
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

static tempo__work_t *list_pop(list_t *l)
{
    tempo__work_t *w = l->head;
    if (w) {
        l->head = w->next;
        if (l->head)
            l->head->prev = NULL;
        else
            l->tail = NULL;
    }
    return w;
}

static void list_unlink(list_t *l, tempo__work_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
}

/* Append all of `from` to `to`, leaving `from` empty. */
static void list_splice(list_t *to, list_t *from)
{
    if (!from->head)
        return;
    if (to->tail) {
        to->tail->next = from->head;
        from->head->prev = to->tail;
    } else {
        to->head = from->head;
    }
    to->tail = from->tail;
    from->head = from->tail = NULL;
}

/* ---- completions ---- */

static void drain(void *arg);

/* Under mu: `w` is FINISHED or CANCELLED. True when the caller must post the
 * drain (after unlocking: the loop's own lock is never taken under ours).
 * Once stopping, tempo__pool_free delivers after joining, so no post. */
static bool complete_locked(tempo__pool_t *pool, tempo__work_t *w)
{
    list_push(&pool->completed, w);
    if (pool->drain_posted || pool->stopping)
        return false;
    pool->drain_posted = true;
    return true;
}

/* Not under mu. The pool is alive: free joins every thread first, and a
 * loop-thread caller is not inside free. */
static void post_drain(tempo__pool_t *pool)
{
    tempo__loop_post(pool->loop, &pool->drain_call, drain, pool);
}

/* Loop thread: call the done() of everything in the delivering list. With a
 * frame (a drain), stop as soon as a done() freed the pool — that free
 * delivered the rest — and touch nothing more. */
static void deliver(tempo__pool_t *pool, const drain_frame_t *frame)
{
    tempo__work_t *w;
    while ((w = list_pop(&pool->delivering))) {
        tempo_status_t status = w->state == FINISHED ? TEMPO_OK : TEMPO_ECANCELLED;
        /* Before the call: done() may submit the item again or free it. */
        w->state = DELIVERED;
        w->done(w, status);
        if (frame && !frame->alive)
            return;
    }
}

/* The posted call (loop thread). A new completion from here on posts a new
 * drain, perhaps while this one still runs (the loop allows re-posting a call
 * whose fn has started), so none waits for an unrelated wake-up. */
static void drain(void *arg)
{
    tempo__pool_t *pool = arg;
    pthread_mutex_lock(&pool->mu);
    list_splice(&pool->delivering, &pool->completed);
    pool->drain_posted = false;
    pthread_mutex_unlock(&pool->mu);

    drain_frame_t frame = {.alive = true, .outer = pool->frames};
    pool->frames = &frame;
    deliver(pool, &frame);
    if (frame.alive)
        pool->frames = frame.outer;
}

/* ---- workers ---- */

/* Under mu: the next item to run, or NULL when the thread must exit. Waits
 * (without spinning) while there is nothing to do. */
static tempo__work_t *next_item(tempo__pool_t *pool)
{
    while (!pool->stopping && !pool->queue.head) {
        pool->idle++;
        pthread_cond_wait(&pool->work_cv, &pool->mu);
        pool->idle--;
    }
    /* Stopping empties the queue under the same lock, so nothing is skipped. */
    if (pool->stopping)
        return NULL;
    tempo__work_t *w = list_pop(&pool->queue);
    pool->queued--;
    w->state = RUNNING;
    return w;
}

static void *worker_main(void *arg)
{
    tempo__pool_t *pool = arg;
    pthread_mutex_lock(&pool->mu);
    tempo__work_t *w;
    while ((w = next_item(pool))) {
        pthread_mutex_unlock(&pool->mu);
        w->work(w);
        pthread_mutex_lock(&pool->mu);
        w->state = FINISHED;
        if (complete_locked(pool, w)) {
            pthread_mutex_unlock(&pool->mu);
            post_drain(pool);
            pthread_mutex_lock(&pool->mu);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/* Pool threads block every signal, so process signals go to the
 * application's own threads (the mask is inherited at creation). */
static int start_thread(tempo__pool_t *pool, pthread_t *thread)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(thread, NULL, worker_main, pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Under mu, after queueing: start a thread when queued items outnumber the
 * idle workers and the pool is not full. A failure only matters when there is
 * no thread at all; otherwise the existing ones will get to the item. */
static tempo_status_t grow_locked(tempo__pool_t *pool)
{
    if (pool->queued <= (size_t)pool->idle || pool->started == pool->max)
        return TEMPO_OK;
    if (start_thread(pool, &pool->threads[pool->started]) == 0) {
        pool->started++;
        return TEMPO_OK;
    }
    return pool->started > 0 ? TEMPO_OK : TEMPO_ENOMEM;
}

/* ---- the API ---- */

static void sync_destroy(tempo__pool_t *pool)
{
    pthread_cond_destroy(&pool->stop_cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_mutex_destroy(&pool->mu);
}

/* stop_cv waits with a real-time timeout: measure it on the monotonic clock
 * so that wall-clock steps neither shorten nor stretch it. */
static int monotonic_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* 0 or an errno value; nothing is left initialised on failure. */
static int sync_init(tempo__pool_t *pool)
{
    int rc = pthread_mutex_init(&pool->mu, NULL);
    if (rc != 0)
        return rc;
    rc = pthread_cond_init(&pool->work_cv, NULL);
    if (rc == 0) {
        rc = monotonic_cond_init(&pool->stop_cv);
        if (rc != 0)
            pthread_cond_destroy(&pool->work_cv);
    }
    if (rc != 0)
        pthread_mutex_destroy(&pool->mu);
    return rc;
}

tempo_status_t tempo__pool_new(tempo_loop_t *loop, int threads, tempo__pool_t **out,
                               tempo_error_t *err)
{
    if (!loop || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "thread pool: %s is NULL", !loop ? "loop" : "out");
    if (threads < 1 || threads > TEMPO_POOL_MAX_THREADS)
        return tempo__error_set(err, TEMPO_EINVAL, "thread pool: threads must be 1 to %d, not %d",
                                TEMPO_POOL_MAX_THREADS, threads);
    tempo__pool_t *pool = calloc(1, sizeof *pool + (size_t)threads * sizeof(pthread_t));
    if (!pool)
        return tempo__error_set(err, TEMPO_ENOMEM, "thread pool: out of memory for a pool of %d threads",
                                threads);
    int rc = sync_init(pool);
    if (rc != 0) {
        free(pool);
        return tempo__error_set(err, TEMPO_ENOMEM, "thread pool: cannot create its mutex and condition "
                                "variables: %s", strerror(rc));
    }
    pool->loop = loop;
    pool->max = threads;
    *out = pool;
    return TEMPO_OK;
}

tempo_status_t tempo__pool_submit(tempo__pool_t *pool, tempo__work_t *work, tempo__work_fn fn,
                                  tempo__work_done_fn done)
{
    if (!pool || !work || !fn || !done)
        return TEMPO_EINVAL;
    if (pool->freeing)
        return TEMPO_ESTATE;
    work->work = fn;
    work->done = done;
    work->state = QUEUED;
    pthread_mutex_lock(&pool->mu);
    list_push(&pool->queue, work);
    pool->queued++;
    tempo_status_t status = grow_locked(pool);
    if (status == TEMPO_OK) {
        pthread_cond_signal(&pool->work_cv);
    } else {
        list_unlink(&pool->queue, work);
        pool->queued--;
        work->state = DELIVERED;
    }
    pthread_mutex_unlock(&pool->mu);
    return status;
}

bool tempo__pool_cancel(tempo__pool_t *pool, tempo__work_t *work)
{
    if (!pool || !work)
        return false;
    pthread_mutex_lock(&pool->mu);
    bool queued = work->state == QUEUED;
    bool post = false;
    if (queued) {
        list_unlink(&pool->queue, work);
        pool->queued--;
        work->state = CANCELLED;
        post = complete_locked(pool, work);
    }
    pthread_mutex_unlock(&pool->mu);
    if (post)
        post_drain(pool);
    return queued;
}

/* Stop accepting (the caller set `freeing`), cancel what is queued, wake
 * every waiter, and join: running items finish and land in `completed`. */
static void stop_and_join(tempo__pool_t *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    tempo__work_t *w;
    while ((w = list_pop(&pool->queue))) {
        w->state = CANCELLED;
        list_push(&pool->completed, w);
    }
    pool->queued = 0;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_cond_broadcast(&pool->stop_cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->started; i++)
        pthread_join(pool->threads[i], NULL);
}

void tempo__pool_free(tempo__pool_t *pool)
{
    if (!pool || pool->freeing)
        return;
    pool->freeing = true;
    stop_and_join(pool);
    /* No thread can post any more: a drain still queued is ours to take
     * back (false just means none is queued). */
    tempo__loop_cancel(pool->loop, &pool->drain_call);
    /* The done()s below cannot add to `completed` (nothing is queued to
     * cancel, submit says ESTATE), so one splice and one pass deliver
     * everything, including the rest of a drain's batch when a done() called
     * us. */
    list_splice(&pool->delivering, &pool->completed);
    deliver(pool, NULL);
    for (drain_frame_t *f = pool->frames; f; f = f->outer)
        f->alive = false;
    sync_destroy(pool);
    free(pool);
}

int tempo__pool_threads(const tempo__pool_t *pool)
{
    return pool ? pool->started : 0;
}

static struct timespec deadline_after(tempo_duration_t timeout)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (timeout < 0)
        timeout = 0;
    /* Capped at about 30 years so the seconds cannot overflow time_t. */
    if (timeout > (tempo_duration_t)1000000000 * 1000000)
        timeout = (tempo_duration_t)1000000000 * 1000000;
    ts.tv_sec += (time_t)(timeout / 1000000);
    ts.tv_nsec += (long)(timeout % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

bool tempo__pool_wait_stop(tempo__pool_t *pool, tempo_duration_t timeout)
{
    if (!pool)
        return false;
    struct timespec deadline = deadline_after(timeout);
    pthread_mutex_lock(&pool->mu);
    /* Any error ends the wait (ETIMEDOUT, or EINVAL that would recur). */
    int rc = 0;
    while (!pool->stopping && rc == 0)
        rc = pthread_cond_timedwait(&pool->stop_cv, &pool->mu, &deadline);
    bool stopping = pool->stopping;
    pthread_mutex_unlock(&pool->mu);
    return stopping;
}
