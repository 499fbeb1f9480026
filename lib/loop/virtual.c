/* The virtual-time loop (tempo/virtual.h): an adapter whose clock is a
 * variable and whose "host loop" is the tempo_vloop_* calls themselves.
 *
 * The adapter side is trivial: timer_set records a deadline, wake sets a
 * flag. The driving side (run/advance/step/wait) delivers them as
 * tempo_loop_on_wake / tempo_loop_on_timer, wake first, one entry at a time,
 * until nothing is due at the current instant. That is deterministic: the
 * only input from other threads is the wake flag, and what it brings (posted
 * calls) runs in posting order.
 *
 * Threads: everything is single-threaded (the "loop thread" is whoever calls
 * tempo_vloop_*), except wake(), which any thread may call: `woken` lives
 * under `mu`, with a condition variable for tempo_vloop_wait.
 *
 * No file descriptors in virtual time: watch_start fails with ENOTSUP (a
 * real fd would become ready in real time, which the virtual clock cannot
 * order against its timers). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <tempo/virtual.h>

#include "util/error_internal.h"

#define MAX_ROUNDS_PER_INSTANT 1000000

struct tempo_vloop {
    tempo_time_t now;
    tempo_time_t deadline; /* the adapter timer, TEMPO_TIME_NONE when clear */
    tempo_loop_t *loop;    /* NULL once detached */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool woken; /* under mu */
};

static void *v_watch_start(void *adapter, int fd, int events, void *token)
{
    (void)adapter, (void)fd, (void)events, (void)token;
    errno = ENOTSUP;
    return NULL;
}

static int v_watch_update(void *adapter, void *watch, int events)
{
    (void)adapter, (void)watch, (void)events;
    return ENOTSUP;
}

static void v_watch_stop(void *adapter, void *watch)
{
    (void)adapter, (void)watch;
}

static void v_timer_set(void *adapter, tempo_duration_t delay)
{
    tempo_vloop_t *v = adapter;
    if (delay < 0)
        delay = 0;
    if (__builtin_add_overflow(v->now, delay, &v->deadline))
        v->deadline = INT64_MAX;
}

static void v_timer_clear(void *adapter)
{
    tempo_vloop_t *v = adapter;
    v->deadline = TEMPO_TIME_NONE;
}

static void v_wake(void *adapter)
{
    tempo_vloop_t *v = adapter;
    pthread_mutex_lock(&v->mu);
    v->woken = true;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->mu);
}

static tempo_time_t v_now(void *adapter)
{
    const tempo_vloop_t *v = adapter;
    return v->now;
}

/* The vloop stays: it outlives its loop (virtual.h). */
static void v_detach(void *adapter)
{
    tempo_vloop_t *v = adapter;
    v->loop = NULL;
    v->deadline = TEMPO_TIME_NONE;
}

static const tempo_loop_ops_t vloop_ops = {
    .size = sizeof(tempo_loop_ops_t),
    .name = "virtual",
    .watch_start = v_watch_start,
    .watch_update = v_watch_update,
    .watch_stop = v_watch_stop,
    .timer_set = v_timer_set,
    .timer_clear = v_timer_clear,
    .wake = v_wake,
    .now = v_now,
    .detach = v_detach,
};

/* Waits are measured on the monotonic clock, so a wall-clock step during
 * tempo_vloop_wait neither cuts it short nor stretches it. */
static bool init_cond(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(cond, &attr) == 0;
    pthread_condattr_destroy(&attr);
    return ok;
}

tempo_status_t tempo_vloop_new(tempo_time_t start, tempo_vloop_t **vloop, tempo_loop_t **loop,
                               tempo_error_t *err)
{
    if (!vloop || !loop)
        return tempo__error_set(err, TEMPO_EINVAL, "virtual loop: '%s' is NULL",
                                !vloop ? "vloop" : "loop");
    *vloop = NULL;
    *loop = NULL;
    if (start == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "virtual loop: start time is TEMPO_TIME_NONE");
    tempo_vloop_t *v = calloc(1, sizeof *v);
    if (!v)
        return tempo__error_set(err, TEMPO_ENOMEM, "virtual loop: out of memory");
    v->now = start;
    v->deadline = TEMPO_TIME_NONE;
    if (pthread_mutex_init(&v->mu, NULL) != 0) {
        free(v);
        return tempo__error_set(err, TEMPO_ENOMEM, "virtual loop: cannot create a mutex");
    }
    if (!init_cond(&v->cond)) {
        pthread_mutex_destroy(&v->mu);
        free(v);
        return tempo__error_set(err, TEMPO_ENOMEM, "virtual loop: cannot create a condition variable");
    }
    tempo_status_t st = tempo_loop_new(&vloop_ops, v, &v->loop, err);
    if (st != TEMPO_OK) {
        pthread_cond_destroy(&v->cond);
        pthread_mutex_destroy(&v->mu);
        free(v);
        return st;
    }
    *vloop = v;
    *loop = v->loop;
    return TEMPO_OK;
}

/* A loop still attached here was never given to a scheduler (or its
 * scheduler leaked): free it, which detaches it. See virtual.h. */
void tempo_vloop_free(tempo_vloop_t *v)
{
    if (!v)
        return;
    if (v->loop)
        tempo_loop_free(v->loop);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

tempo_time_t tempo_vloop_now(const tempo_vloop_t *v)
{
    return v ? v->now : TEMPO_TIME_NONE;
}

tempo_time_t tempo_vloop_next_deadline(const tempo_vloop_t *v)
{
    return v && v->loop ? v->deadline : TEMPO_TIME_NONE;
}

static bool take_wake(tempo_vloop_t *v)
{
    pthread_mutex_lock(&v->mu);
    bool woken = v->woken;
    v->woken = false;
    pthread_mutex_unlock(&v->mu);
    return woken;
}

/* One entry into the core, or none when nothing is due. */
static bool run_one(tempo_vloop_t *v)
{
    if (take_wake(v)) {
        tempo_loop_on_wake(v->loop);
        return true;
    }
    if (v->deadline != TEMPO_TIME_NONE && v->deadline <= v->now) {
        v->deadline = TEMPO_TIME_NONE; /* one-shot, like a real loop's */
        tempo_loop_on_timer(v->loop);
        return true;
    }
    return false;
}

/* run() with a verdict: false when the bound stopped it (the callbacks keep
 * re-queueing work at this instant), so that advance_to does not spin. */
static bool run_bounded(tempo_vloop_t *v, int *calls)
{
    *calls = 0;
    while (v->loop) {
        if (*calls >= MAX_ROUNDS_PER_INSTANT) {
            fprintf(stderr,
                    "tempo: virtual loop: stopped after %d rounds at %lld µs without "
                    "running out of work (a timer or deferred call re-arming itself at "
                    "the same instant?)\n",
                    MAX_ROUNDS_PER_INSTANT, (long long)v->now);
            return false;
        }
        if (!run_one(v))
            break;
        (*calls)++;
    }
    return true;
}

int tempo_vloop_run(tempo_vloop_t *v)
{
    int calls = 0;
    if (v)
        run_bounded(v, &calls);
    return calls;
}

void tempo_vloop_advance_to(tempo_vloop_t *v, tempo_time_t until)
{
    if (!v)
        return;
    int calls;
    for (;;) {
        if (!run_bounded(v, &calls))
            return; /* a runaway at this instant: moving on would hide it */
        if (!v->loop || v->deadline == TEMPO_TIME_NONE || v->deadline > until)
            break;
        /* run() left nothing due now, so this moves the clock forward. */
        v->now = v->deadline;
    }
    if (v->now < until) {
        v->now = until;
        run_bounded(v, &calls);
    }
}

void tempo_vloop_advance(tempo_vloop_t *v, tempo_duration_t by)
{
    if (!v)
        return;
    tempo_time_t until;
    if (by < 0)
        by = 0;
    if (__builtin_add_overflow(v->now, by, &until))
        until = INT64_MAX;
    tempo_vloop_advance_to(v, until);
}

bool tempo_vloop_step(tempo_vloop_t *v, tempo_time_t limit)
{
    if (!v)
        return false;
    int calls;
    if (!run_bounded(v, &calls) || !v->loop)
        return false;
    if (v->deadline == TEMPO_TIME_NONE || v->deadline > limit)
        return false;
    if (v->deadline > v->now)
        v->now = v->deadline;
    run_bounded(v, &calls);
    return true;
}

/* Absolute CLOCK_MONOTONIC deadline for pthread_cond_timedwait. */
static struct timespec real_deadline(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

bool tempo_vloop_wait(tempo_vloop_t *v, int timeout_ms)
{
    if (!v)
        return false;
    struct timespec until = real_deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&v->mu);
    while (!v->woken && timeout_ms != 0) {
        int rc = timeout_ms < 0 ? pthread_cond_wait(&v->cond, &v->mu)
                                : pthread_cond_timedwait(&v->cond, &v->mu, &until);
        if (rc != 0 && rc != EINTR)
            break;
    }
    bool came = v->woken;
    pthread_mutex_unlock(&v->mu);
    tempo_vloop_run(v);
    return came;
}
