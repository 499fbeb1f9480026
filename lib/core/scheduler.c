/* Scheduler life: create, start, stop (graceful and now), free.
 *
 *   STOPPED --start--> STARTING --(next loop round)--> RUNNING --stop--> STOPPING
 *      ^                                                                    |
 *      +---------- running jobs done, every store call of ours answered ----+
 *
 * The store stays bound to the loop from tempo_scheduler_new to free, so
 * schedules can be managed while the scheduler is stopped.
 *
 * A stopped scheduler may be started again. Free works in any state and
 * never waits: it cancels, answers pending callbacks with ECANCELLED, joins
 * the thread pool and destroys the store. */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

static tempo_status_t validate(const tempo_scheduler_options_t *o, tempo_error_t *err)
{
    if (o->role != TEMPO_ROLE_BOTH && o->role != TEMPO_ROLE_SCHEDULER && o->role != TEMPO_ROLE_WORKER)
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: role %d is not a tempo_role_t", (int)o->role);
    if (o->max_concurrent_jobs < 1)
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: max_concurrent_jobs must be >= 1, not %d",
                                o->max_concurrent_jobs);
    if (o->thread_pool_size < 1)
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: thread_pool_size must be >= 1, not %d",
                                o->thread_pool_size);
    if (o->batch_size < 1)
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: batch_size must be >= 1, not %d", o->batch_size);
    if (o->lease_duration <= 0 || o->poll_interval <= 0 || o->cleanup_interval <= 0)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "scheduler: lease_duration, poll_interval and cleanup_interval must be > 0");
    if (o->identity && (!o->identity[0] || strlen(o->identity) > 255))
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: identity must be 1-255 bytes");
    return TEMPO_OK;
}

static uint64_t os_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        uint64_t r;
        if (fread(&r, sizeof r, 1, f) == 1)
            seed ^= r;
        fclose(f);
    }
    return seed ? seed : 1;
}

static char *make_identity(tempo_scheduler_t *s)
{
    if (s->opts.identity)
        return strdup(s->opts.identity);
    char host[128] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char buf[200];
    snprintf(buf, sizeof buf, "%s-%ld-%04x", host, (long)getpid(),
             (unsigned)(tempo__rng_next(&s->rng) & 0xffff));
    return strdup(buf);
}

tempo_status_t tempo_scheduler_new(tempo_loop_t *loop, tempo_store_t *store,
                                   const tempo_scheduler_options_t *opts_in, tempo_scheduler_t **out,
                                   tempo_error_t *err)
{
    if (!loop || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: loop and out are required");
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL, "scheduler: options.size %zu is not a size this build knows",
                                opts_in->size);
    tempo_status_t rc = validate(&o, err);
    if (rc != TEMPO_OK)
        return rc;

    tempo_scheduler_t *s = calloc(1, sizeof *s);
    if (!s)
        return tempo__error_set(err, TEMPO_ENOMEM, "scheduler: out of memory");
    s->opts = o;
    s->opts.identity = NULL; /* not kept: s->identity is the copy */
    s->rng = o.seed ? o.seed : os_seed();
    s->identity = make_identity(s);
    bool own_store = store == NULL;
    if (own_store && (rc = tempo_memory_store_new(&store, err)) != TEMPO_OK) {
        free(s->identity);
        free(s);
        return rc;
    }
    if (!s->identity) {
        if (own_store)
            tempo_store_free(store);
        free(s);
        return tempo__error_set(err, TEMPO_ENOMEM, "scheduler: out of memory");
    }
    /* The store binds to the loop now, so schedules can be added before
     * start() (the common way to set a scheduler up). */
    rc = store->ops->start(store->self, loop, err);
    if (rc != TEMPO_OK) {
        if (own_store)
            tempo_store_free(store);
        free(s->identity);
        free(s);
        return tempo__error_prefix(err, rc, "scheduler: store '%s' did not start", store->ops->name);
    }
    s->loop = loop;
    s->store = store;
    /* The memory store fails only when out of memory; the others fail when
     * their server or disk does, and then results are kept for retries. */
    s->store_can_fail = strcmp(store->ops->name, "memory") != 0;
    s->store_direct = store->ops->size >= offsetof(tempo_store_ops_t, release_direct) + sizeof(void *) &&
                      store->ops->step_schedules && store->ops->release_direct;
    if (store->ops->size > offsetof(tempo_store_ops_t, set_quarantine_cb) && store->ops->set_quarantine_cb)
        store->ops->set_quarantine_cb(store->self, tempo__on_quarantine, s);
    tempo__timer_init(&s->stop_timer, NULL, s);
    tempo__step_init(s);
    tempo__work_init(s);
    tempo__house_init(s);
    tempo__tcalls_init(s);
    *out = s;
    return TEMPO_OK;
}

const char *tempo_scheduler_identity(const tempo_scheduler_t *s)
{
    return s ? s->identity : NULL;
}

tempo_loop_t *tempo_scheduler_loop(const tempo_scheduler_t *s)
{
    return s ? s->loop : NULL;
}

static void started(void *arg)
{
    tempo_scheduler_t *s = arg;
    if (s->state != SCHED_STARTING)
        return;
    s->state = SCHED_RUNNING;
    tempo_event_t ev;
    tempo__event_init(s, &ev, TEMPO_EVENT_SCHEDULER_STARTED);
    tempo__emit(s, &ev);
    if (s->state != SCHED_RUNNING)
        return; /* a subscriber stopped it */
    if (s->opts.role != TEMPO_ROLE_WORKER)
        tempo__step_start(s);
    if (s->opts.role != TEMPO_ROLE_SCHEDULER)
        tempo__work_start(s);
    tempo__house_start(s);
}

static tempo_status_t scheduler_start_unlocked(tempo_scheduler_t *s, tempo_error_t *err)
{
    if (!s)
        return tempo__error_set(err, TEMPO_EINVAL, "start: scheduler is NULL");
    if (s->state != SCHED_STOPPED)
        return tempo__error_set(err, TEMPO_ESTATE, "start: scheduler '%s' is already started", s->identity);
    s->state = SCHED_STARTING;
    /* The started event comes from the loop, never inside this call. */
    tempo__loop_defer(s->loop, &s->start_call, started, s);
    return TEMPO_OK;
}

/* ---- stopping ---- */

static bool quiet(const tempo_scheduler_t *s)
{
    return s->running_count == 0 && s->releases_in_flight == 0 && !s->step_busy && !s->work_busy &&
           !s->renew_busy && !s->cleanup_busy;
}

static void finish_stop(void *arg)
{
    tempo_scheduler_t *s = arg;
    s->stop_queued = false;
    if (s->state != SCHED_STOPPING || !quiet(s))
        return;
    tempo__timer_stop(s->loop, &s->stop_timer);
    tempo__house_stop(s);
    s->state = SCHED_STOPPED;
    tempo_done_cb cb = s->stop_cb;
    void *ud = s->stop_ud;
    s->stop_cb = NULL;
    tempo_event_t ev;
    tempo__event_init(s, &ev, TEMPO_EVENT_SCHEDULER_STOPPED);
    tempo__emit(s, &ev);
    if (cb)
        cb(ud, TEMPO_OK, NULL);
}

/* Called by every machine when its store call ends: the last one out
 * completes a pending stop. Deferred, so no callback runs inside another. */
static void queue_finish(tempo_scheduler_t *s)
{
    if (!s->stop_queued) { /* one call node: never queue it twice */
        s->stop_queued = true;
        tempo__loop_defer(s->loop, &s->stop_call, finish_stop, s);
    }
}

void tempo__maybe_finish_stop(tempo_scheduler_t *s)
{
    if (s->state == SCHED_STOPPING && quiet(s))
        queue_finish(s);
}

static void stop_timeout(void *arg)
{
    tempo_scheduler_t *s = arg;
    tempo__work_cancel_all(s, true);
    tempo__releases_give_up(s);
    tempo__maybe_finish_stop(s);
}

static tempo_status_t begin_stop(tempo_scheduler_t *s, tempo_duration_t timeout, tempo_done_cb cb,
                                 void *ud)
{
    if (s->state != SCHED_STARTING && s->state != SCHED_RUNNING)
        return TEMPO_ESTATE;
    s->state = SCHED_STOPPING;
    s->stop_cb = cb;
    s->stop_ud = ud;
    tempo__step_stop(s);
    tempo__work_stop(s);
    tempo__house_stopping(s);
    if (timeout <= 0) {
        tempo__work_cancel_all(s, true);
        tempo__releases_give_up(s);
    } else {
        s->stop_timer.fn = stop_timeout;
        tempo__timer_start(s->loop, &s->stop_timer, tempo_loop_now(s->loop) + timeout);
    }
    /* Even with nothing running the answer comes from the loop. */
    queue_finish(s);
    return TEMPO_OK;
}

static tempo_status_t scheduler_stop_unlocked(tempo_scheduler_t *s, tempo_duration_t timeout, tempo_done_cb cb,
                                    void *userdata)
{
    if (!s || timeout < 0)
        return TEMPO_EINVAL;
    return begin_stop(s, timeout, cb, userdata);
}

static tempo_status_t scheduler_stop_now_unlocked(tempo_scheduler_t *s, tempo_done_cb cb, void *userdata)
{
    if (!s)
        return TEMPO_EINVAL;
    return begin_stop(s, 0, cb, userdata);
}

/* Everything but the scheduler's own memory and its loop. After this no
 * callback of the user's runs again: pending ones were answered (cancelled)
 * here, and every source of new ones (store, pool, timers) is gone. */
static void teardown(tempo_scheduler_t *s)
{
    tempo__step_stop(s);
    tempo__work_stop(s);
    tempo__house_stop(s);
    tempo__timer_stop(s->loop, &s->stop_timer);
    /* Running jobs: handles answer ECANCELLED from now on; nothing is stored. */
    tempo__work_cancel_all(s, false);
    /* Joins the threads; blocking jobs' completions see the cancelled state. */
    tempo__pool_free(s->pool);
    s->pool = NULL;
    /* Drops the store's pending callbacks, so no op is answered twice below. */
    tempo_store_free(s->store);
    s->store = tempo__dead_store();
    tempo__step_drop(s);
    tempo__releases_free(s);
    tempo_done_cb stop_cb = s->stop_cb;
    s->stop_cb = NULL;
    tempo__subs_free(s); /* no event reaches anyone any more */
    if (stop_cb) {
        tempo_error_t err = {TEMPO_ECANCELLED, "scheduler freed while stopping"};
        stop_cb(s->stop_ud, TEMPO_ECANCELLED, &err);
    }
    tempo__ops_cancel_all(s);
    tempo__waiters_cancel_all(s);
    tempo__tcalls_free(s);
    tempo__tasks_free(s);
}

static void free_memory(void *arg)
{
    tempo_scheduler_t *s = arg;
    free(s->identity);
    free(s);
}

void tempo_scheduler_free(tempo_scheduler_t *s)
{
    if (!s)
        return;
    /* A runner's loop thread stops first: from here on this thread alone
     * touches the scheduler, so nothing below needs the big lock (and the
     * state may only be read after it). */
    tempo__loop_halt(s->loop);
    if (s->state == SCHED_FREED)
        return; /* freed already, from inside a callback of this round */
    bool inside = tempo__loop_dispatching(s->loop);
    teardown(s);
    if (inside) {
        /* Freed from one of our own callbacks: frames below it still hold
         * `s`. They find state FREED, a store that never answers, and empty
         * lists; the memory goes when the loop's round has unwound. */
        s->state = SCHED_FREED;
        tempo__loop_at_free(s->loop, free_memory, s);
        tempo_loop_free(s->loop);
        return;
    }
    tempo_loop_free(s->loop);
    free_memory(s);
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_start(tempo_scheduler_t *s, tempo_error_t *err)
{
    if (!s)
        return scheduler_start_unlocked(s, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_start_unlocked(s, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_stop(tempo_scheduler_t *s, tempo_duration_t timeout, tempo_done_cb cb,
                                    void *userdata)
{
    if (!s)
        return scheduler_stop_unlocked(s, timeout, cb, userdata);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_stop_unlocked(s, timeout, cb, userdata);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_stop_now(tempo_scheduler_t *s, tempo_done_cb cb, void *userdata)
{
    if (!s)
        return scheduler_stop_now_unlocked(s, cb, userdata);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_stop_now_unlocked(s, cb, userdata);
    tempo__loop_unlock(s->loop);
    return rc_;
}
