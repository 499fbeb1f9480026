/* A scheduler on a private libev loop, for programs without a loop of their
 * own: tempo_scheduler_run (the caller's thread runs the loop until the
 * scheduler stops) and tempo_scheduler_run_background (a thread of ours runs
 * it until tempo_scheduler_free). See tempo/ev.h for the promises.
 *
 * The big lock, libev's documented pattern ("THREAD LOCKING EXAMPLE" in
 * ev(3)): one recursive mutex per runner.
 *   - The thread running the loop (the "owner") holds it all the time except
 *     while libev waits in its backend poll: ev_set_loop_release_cb makes
 *     libev unlock just before the poll and lock again just after. So every
 *     libev callback, and with it every core callback, runs under the lock.
 *   - Every public scheduler call takes it (the core does, through the hook
 *     installed with tempo_loop_set_lock), so other threads' calls wait for
 *     the current dispatch to end and never overlap one another.
 *   - A call from another thread that changes the loop's watchers (the core
 *     calls the adapter's timer_set or watch ops from that thread, under the
 *     lock, which libev allows between release and acquire) cannot change
 *     the poll already under way: libev computed its timeout and fd set
 *     before releasing. So the adapter marks the runner "dirty"
 *     (tempo__ev_runner_touched) and the unlock hook, on a thread other than
 *     the owner, sends `control`, an ev_async: the poll returns, libev takes
 *     the lock back and recomputes everything in its next iteration.
 *     Changes made by the owner itself need no wake-up: it recomputes after
 *     dispatching anyway.
 *   - Only the owner's ev_run releases the lock, and it must hold it exactly
 *     once when it enters ev_run (a recursive count above one would keep the
 *     lock held during the poll and stall every other thread).
 *
 * `control` is also how halt and signals (ev_signals.c) reach the loop: a
 * flag, then ev_async_send; its callback (under the lock) breaks the loop
 * or begins a graceful stop. Unlike the adapter's own ev_async it is NOT unref'd: the
 * loop must keep running while the scheduler is idle, until we break it.
 *
 * The public entry points get a tempo_scheduler_t, and libtempo has no
 * public way to reach the adapter from it, so runners are kept on a small
 * registry (a list under a mutex; a process has few of them). */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ev_internal.h"

typedef enum runner_mode {
    MODE_IDLE = 0,   /* nobody runs the loop */
    MODE_RUN,        /* tempo_scheduler_run on the owner's (the caller's) thread */
    MODE_BACKGROUND  /* our thread, until halt */
} runner_mode_t;

struct tempo__ev_runner {
    struct ev_loop *evloop; /* ours: ev_loop_new, ev_loop_destroy at detach */
    tempo_scheduler_t *scheduler;
    pthread_mutex_t mu;     /* the big lock; recursive */
    pthread_cond_t idle_cv; /* halt waits here for a blocking run to return */
    ev_async control;

    /* Under mu. */
    runner_mode_t mode;
    bool has_owner;         /* a thread is inside ev_run: `owner` */
    pthread_t owner;
    pthread_t thread;       /* MODE_BACKGROUND */
    bool dirty;             /* another thread changed a watcher: wake the loop */
    bool quit;              /* halt: leave ev_run for good */
    bool halted;            /* the scheduler is being freed: no more runs */
    bool stopped;           /* MODE_RUN: SCHEDULER_STOPPED was emitted */
    tempo_duration_t stop_timeout;

    tempo__ev_signals_t sigs; /* MODE_RUN with handle_signals */

    tempo__ev_runner_t *next; /* registry */
};

/* ---- registry ---------------------------------------------------------------- */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static tempo__ev_runner_t *registry;

static void registry_add(tempo__ev_runner_t *r)
{
    pthread_mutex_lock(&registry_mu);
    r->next = registry;
    registry = r;
    pthread_mutex_unlock(&registry_mu);
}

static void registry_remove(tempo__ev_runner_t *r)
{
    pthread_mutex_lock(&registry_mu);
    for (tempo__ev_runner_t **p = &registry; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

/* The runner of `s`, or NULL when `s` was not made by tempo_ev_scheduler_new.
 * The caller keeps `s` alive (no call may race tempo_scheduler_free), so the
 * runner found stays alive too. */
static tempo__ev_runner_t *registry_find(const tempo_scheduler_t *s)
{
    if (!s)
        return NULL;
    tempo__ev_runner_t *found = NULL;
    pthread_mutex_lock(&registry_mu);
    for (tempo__ev_runner_t *r = registry; r; r = r->next) {
        if (r->scheduler == s) {
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    return found;
}

/* ---- the big lock -------------------------------------------------------------- */

/* Under mu (or while no other thread can reach the runner). */
static bool on_loop_thread(const tempo__ev_runner_t *r)
{
    return r->has_owner && pthread_equal(r->owner, pthread_self());
}

static void big_lock(void *arg)
{
    tempo__ev_runner_t *r = arg;
    pthread_mutex_lock(&r->mu);
}

/* Sent before unlocking, as libev's example does: the loop cannot get past
 * its acquire before we unlock, and once it does it sees every change. */
static void big_unlock(void *arg)
{
    tempo__ev_runner_t *r = arg;
    if (r->dirty && !on_loop_thread(r)) {
        r->dirty = false;
        ev_async_send(r->evloop, &r->control);
    }
    pthread_mutex_unlock(&r->mu);
}

void tempo__ev_runner_touched(tempo__ev_runner_t *r)
{
    if (!on_loop_thread(r))
        r->dirty = true;
}

/* libev's release/acquire: only the owner runs ev_run, holding mu once. */
static void loop_release(struct ev_loop *evloop)
{
    tempo__ev_runner_t *r = ev_userdata(evloop);
    pthread_mutex_unlock(&r->mu);
}

static void loop_acquire(struct ev_loop *evloop)
{
    tempo__ev_runner_t *r = ev_userdata(evloop);
    pthread_mutex_lock(&r->mu);
}

/* ---- loop-thread callbacks (under mu) ---------------------------------------- */

static void control_cb(struct ev_loop *evloop, ev_async *w, int revents)
{
    (void)revents;
    tempo__ev_runner_t *r = w->data;
    if (r->quit) {
        ev_break(evloop, EVBREAK_ALL);
        return;
    }
    /* A signal: begin a graceful stop. ESTATE (already stopping, or a
     * second signal) is fine: the stop under way ends the run. */
    if (tempo__ev_signals_take(&r->sigs) != 0 && r->mode == MODE_RUN)
        tempo_scheduler_stop(r->scheduler, r->stop_timeout, NULL, NULL);
}

static void on_stopped(const tempo_event_t *ev, void *userdata)
{
    (void)ev;
    tempo__ev_runner_t *r = userdata;
    r->stopped = true;
    ev_break(r->evloop, EVBREAK_ALL);
}

/* ---- creation and teardown ----------------------------------------------------- */

static tempo_status_t runner_init_sync(tempo__ev_runner_t *r, tempo_error_t *err)
{
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc == 0) {
        rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        if (rc == 0)
            rc = pthread_mutex_init(&r->mu, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    if (rc != 0)
        return tempo__ev_fail(err, TEMPO_ENOMEM, "tempo_ev_scheduler_new: cannot create the lock: %s",
                              strerror(rc));
    rc = pthread_cond_init(&r->idle_cv, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&r->mu);
        return tempo__ev_fail(err, TEMPO_ENOMEM, "tempo_ev_scheduler_new: cannot create a condition: %s",
                              strerror(rc));
    }
    return TEMPO_OK;
}

/* The runner with its libev loop, not yet registered. */
static tempo_status_t runner_new(tempo__ev_runner_t **out, tempo_error_t *err)
{
    tempo__ev_runner_t *r = calloc(1, sizeof *r);
    if (!r)
        return tempo__ev_fail(err, TEMPO_ENOMEM, "tempo_ev_scheduler_new: out of memory");
    tempo_status_t st = runner_init_sync(r, err);
    if (st != TEMPO_OK) {
        free(r);
        return st;
    }
    r->evloop = ev_loop_new(EVFLAG_AUTO);
    if (!r->evloop) {
        pthread_cond_destroy(&r->idle_cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return tempo__ev_fail(err, TEMPO_EIO, "tempo_ev_scheduler_new: ev_loop_new failed (no usable backend, "
                                              "or out of file descriptors)");
    }
    ev_set_userdata(r->evloop, r);
    ev_set_loop_release_cb(r->evloop, loop_release, loop_acquire);
    ev_async_init(&r->control, control_cb);
    r->control.data = r;
    ev_async_start(r->evloop, &r->control);
    r->sigs.evloop = r->evloop;
    r->sigs.wake = &r->control;
    atomic_init(&r->sigs.received, 0);
    *out = r;
    return TEMPO_OK;
}

void tempo__ev_runner_detached(tempo__ev_runner_t *r)
{
    registry_remove(r);
    ev_async_stop(r->evloop, &r->control);
    ev_loop_destroy(r->evloop);
    pthread_cond_destroy(&r->idle_cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

tempo_status_t tempo_ev_scheduler_new(tempo_store_t *store, const tempo_scheduler_options_t *opts,
                                      tempo_scheduler_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__ev_fail(err, TEMPO_EINVAL, "tempo_ev_scheduler_new: 'out' is NULL");
    *out = NULL;
    tempo__ev_runner_t *r = NULL;
    tempo_status_t st = runner_new(&r, err);
    if (st != TEMPO_OK)
        return st;
    tempo_loop_t *loop = NULL;
    st = tempo__ev_adapter_new(r->evloop, r, &loop, err);
    if (st != TEMPO_OK) {
        tempo__ev_runner_detached(r);
        return st;
    }
    /* Before the scheduler exists: every call it will ever see is locked. */
    tempo_loop_set_lock(loop, big_lock, big_unlock, r);
    tempo_scheduler_t *s = NULL;
    st = tempo_scheduler_new(loop, store, opts, &s, err);
    if (st != TEMPO_OK) {
        tempo_loop_free(loop); /* detaches: frees the runner and its libev loop */
        return st;
    }
    r->scheduler = s;
    registry_add(r);
    *out = s;
    return TEMPO_OK;
}

/* ---- stopping the loop's thread ------------------------------------------------ */

static void ask_quit(tempo__ev_runner_t *r)
{
    r->quit = true;
    ev_async_send(r->evloop, &r->control);
}

/* Called by tempo_scheduler_free (first, before it touches anything) on a
 * thread that is not the loop's and never under the big lock: so mu is held
 * exactly once below, as pthread_cond_wait wants of a recursive mutex. */
void tempo__ev_runner_halt(tempo__ev_runner_t *r)
{
    pthread_mutex_lock(&r->mu);
    r->halted = true;
    if (on_loop_thread(r)) {
        /* tempo_scheduler_free from one of the scheduler's own callbacks:
         * not allowed (scheduler.h). Joining ourselves would deadlock; all
         * we can do is not make it worse. */
        pthread_mutex_unlock(&r->mu);
        return;
    }
    if (r->mode == MODE_BACKGROUND) {
        ask_quit(r);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL); /* after this, the thread touches nothing */
        r->mode = MODE_IDLE;
        return;
    }
    if (r->mode == MODE_RUN) {
        /* A blocking run on another thread: it returns ECANCELLED. */
        ask_quit(r);
        while (r->mode == MODE_RUN)
            pthread_cond_wait(&r->idle_cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---- running ------------------------------------------------------------------- */

static tempo__ev_runner_t *find_runner(tempo_scheduler_t *s, const char *what, tempo_error_t *err)
{
    tempo__ev_runner_t *r = registry_find(s);
    if (!r)
        tempo__ev_fail(err, TEMPO_EINVAL, "%s: %s", what,
                       s ? "the scheduler was not made by tempo_ev_scheduler_new" : "scheduler is NULL");
    return r;
}

/* Under mu. */
static tempo_status_t check_idle(const tempo__ev_runner_t *r, const char *what, tempo_error_t *err)
{
    if (r->halted)
        return tempo__ev_fail(err, TEMPO_ESTATE, "%s: the scheduler is being freed", what);
    if (r->mode == MODE_RUN)
        return tempo__ev_fail(err, TEMPO_ESTATE, "%s: the scheduler is already running (tempo_scheduler_run)",
                              what);
    if (r->mode == MODE_BACKGROUND)
        return tempo__ev_fail(err, TEMPO_ESTATE, "%s: the scheduler already runs in the background", what);
    return TEMPO_OK;
}

/* Older callers pass a smaller size: the fields they do not know keep their
 * defaults. A larger size is a newer header than this library: refused. */
static tempo_status_t read_run_options(const tempo_ev_run_options_t *in, tempo_ev_run_options_t *o,
                                       tempo_error_t *err)
{
    *o = (tempo_ev_run_options_t)TEMPO_EV_RUN_OPTIONS_INIT;
    if (in) {
        if (in->size < sizeof(size_t) || in->size > sizeof *o)
            return tempo__ev_fail(err, TEMPO_EINVAL,
                                  "tempo_scheduler_run: options.size %zu is not a size this build knows "
                                  "(expected %zu)",
                                  in->size, sizeof *o);
        memcpy((char *)o + sizeof(size_t), (const char *)in + sizeof(size_t), in->size - sizeof(size_t));
    }
    if (o->stop_timeout < 0)
        return tempo__ev_fail(err, TEMPO_EINVAL, "tempo_scheduler_run: stop_timeout must be >= 0, not %lld",
                              (long long)o->stop_timeout);
    return TEMPO_OK;
}

/* Under mu, held once: the caller becomes the owner and runs the loop until
 * the scheduler stopped or halt asked us to quit. */
static tempo_status_t run_loop(tempo__ev_runner_t *r, const tempo_ev_run_options_t *o, tempo_error_t *err)
{
    uint64_t sub = 0;
    tempo_status_t st = tempo_scheduler_subscribe(r->scheduler, TEMPO_EVENT_SCHEDULER_STOPPED, on_stopped, r,
                                                  &sub, err);
    if (st != TEMPO_OK)
        return st;
    if (o->handle_signals && (st = tempo__ev_signals_install(&r->sigs, err)) != TEMPO_OK) {
        tempo_scheduler_unsubscribe(r->scheduler, sub);
        return st;
    }
    r->mode = MODE_RUN;
    r->owner = pthread_self();
    r->has_owner = true;
    r->stopped = false;
    r->stop_timeout = o->stop_timeout;
    /* ESTATE: already started (or stopping), which is fine: the run lasts
     * until the SCHEDULER_STOPPED that follows. */
    tempo_scheduler_start(r->scheduler, NULL);
    while (!r->stopped && !r->quit)
        ev_run(r->evloop, 0);
    if (o->handle_signals)
        tempo__ev_signals_remove(&r->sigs);
    tempo_scheduler_unsubscribe(r->scheduler, sub);
    r->has_owner = false;
    r->mode = MODE_IDLE;
    if (r->quit) {
        pthread_cond_broadcast(&r->idle_cv); /* halt: the scheduler is ours no more */
        return tempo__ev_fail(err, TEMPO_ECANCELLED, "tempo_scheduler_run: the scheduler was freed");
    }
    return TEMPO_OK;
}

tempo_status_t tempo_scheduler_run_with(tempo_scheduler_t *s, const tempo_ev_run_options_t *opts,
                                        tempo_error_t *err)
{
    tempo__ev_runner_t *r = find_runner(s, "tempo_scheduler_run", err);
    if (!r)
        return TEMPO_EINVAL;
    tempo_ev_run_options_t o;
    tempo_status_t st = read_run_options(opts, &o, err);
    if (st != TEMPO_OK)
        return st;
    pthread_mutex_lock(&r->mu);
    st = check_idle(r, "tempo_scheduler_run", err);
    if (st == TEMPO_OK)
        st = run_loop(r, &o, err);
    /* After a halt, this unlock is our last touch: halt's thread frees r. */
    pthread_mutex_unlock(&r->mu);
    return st;
}

tempo_status_t tempo_scheduler_run(tempo_scheduler_t *s, tempo_error_t *err)
{
    return tempo_scheduler_run_with(s, NULL, err);
}

static void *background_main(void *arg)
{
    tempo__ev_runner_t *r = arg;
    pthread_mutex_lock(&r->mu);
    r->owner = pthread_self();
    r->has_owner = true;
    while (!r->quit)
        ev_run(r->evloop, 0);
    r->has_owner = false;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Under mu. The new thread blocks every signal: a library's thread must not
 * receive the process's SIGINT in place of the thread that handles it. It
 * waits for mu before it runs anything. */
static tempo_status_t start_thread(tempo__ev_runner_t *r, tempo_error_t *err)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, background_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return tempo__ev_fail(err, TEMPO_ENOMEM, "tempo_scheduler_run_background: cannot create a thread: %s",
                              strerror(rc));
    r->mode = MODE_BACKGROUND;
    return TEMPO_OK;
}

tempo_status_t tempo_scheduler_run_background(tempo_scheduler_t *s, tempo_error_t *err)
{
    tempo__ev_runner_t *r = find_runner(s, "tempo_scheduler_run_background", err);
    if (!r)
        return TEMPO_EINVAL;
    pthread_mutex_lock(&r->mu);
    tempo_status_t st = check_idle(r, "tempo_scheduler_run_background", err);
    if (st == TEMPO_OK)
        st = start_thread(r, err);
    if (st == TEMPO_OK)
        tempo_scheduler_start(s, NULL); /* ESTATE: already started, fine */
    pthread_mutex_unlock(&r->mu);
    return st;
}
