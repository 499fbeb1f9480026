/* The core's end of an adapter: creation, teardown, the three entries the
 * adapter calls, and the re-arming of the adapter's single timer.
 *
 * A "round" is one entry from the adapter: its own work, posted calls, due
 * timers, deferred calls, then one timer_set/timer_clear if the wanted
 * wake-up changed (loop_internal.h has the exact rules). `depth` counts
 * entries on the stack; while it is > 0 nothing calls the adapter's timer
 * ops except the end of a round, so a round costs at most one timer_set
 * however many timers its callbacks start and stop.
 *
 * tempo_loop_free inside a callback (a job that shuts its scheduler down)
 * stops everything at once, and leaves the detach and the free to the
 * outermost entry as it unwinds, so no code below a callback ever touches
 * freed memory. */
#include <stddef.h>
#include <stdlib.h>

#include "loop_private.h"
#include "util/error_internal.h"

/* `want - now` without overflow, never negative. */
static tempo_duration_t delay_until(tempo_time_t want, tempo_time_t now)
{
    tempo_duration_t delay;
    if (want <= now)
        return 0;
    if (__builtin_sub_overflow(want, now, &delay))
        return INT64_MAX;
    return delay;
}

static void set_adapter_timer(tempo_loop_t *loop, tempo_time_t want)
{
    tempo_duration_t delay = 0;
    if (want != TEMPO__ARMED_ASAP)
        delay = delay_until(want, loop->ops->now(loop->adapter));
    loop->ops->timer_set(loop->adapter, delay);
    loop->armed_at = want;
}

/* What the adapter timer should be: ASAP while deferred calls wait (they
 * were queued by the last phase, or outside any round), else the earliest
 * core timer, else nothing. */
static tempo_time_t wanted(const tempo_loop_t *loop)
{
    if (loop->defer.head)
        return TEMPO__ARMED_ASAP;
    return tempo__timers_earliest(loop);
}

static void rearm(tempo_loop_t *loop)
{
    tempo_time_t want = wanted(loop);
    if (want == loop->armed_at)
        return;
    if (want == TEMPO_TIME_NONE) {
        loop->ops->timer_clear(loop->adapter);
        loop->armed_at = TEMPO__ARMED_NONE;
        return;
    }
    set_adapter_timer(loop, want);
}

/* Outside a round, only ever move the wake-up earlier: a later one (the top
 * timer was stopped) costs one early fire, which the round tolerates, and
 * saves an adapter call on every reschedule. */
void tempo__loop_arm_before(tempo_loop_t *loop, tempo_time_t want)
{
    if (loop->armed_at == TEMPO__ARMED_NONE || want < loop->armed_at)
        set_adapter_timer(loop, want);
}

void tempo__loop_disarm_if_idle(tempo_loop_t *loop)
{
    if (loop->heap_len == 0 && !loop->defer.head && loop->armed_at != TEMPO__ARMED_NONE) {
        loop->ops->timer_clear(loop->adapter);
        loop->armed_at = TEMPO__ARMED_NONE;
    }
}

static bool ops_complete(const tempo_loop_ops_t *ops)
{
    return ops->watch_start && ops->watch_update && ops->watch_stop && ops->timer_set &&
           ops->timer_clear && ops->wake && ops->now && ops->detach;
}

tempo_status_t tempo_loop_new(const tempo_loop_ops_t *ops, void *adapter, tempo_loop_t **out,
                              tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "loop: 'out' is NULL");
    *out = NULL;
    if (!ops)
        return tempo__error_set(err, TEMPO_EINVAL, "loop: 'ops' is NULL");
    if (ops->size < offsetof(tempo_loop_ops_t, halt)) /* halt came later: optional */
        return tempo__error_set(err, TEMPO_EINVAL,
                                "loop: adapter '%s': ops->size is %zu, expected at least %zu "
                                "(built against an older tempo/loop.h?)",
                                ops->name ? ops->name : "?", ops->size, offsetof(tempo_loop_ops_t, halt));
    if (!ops_complete(ops))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "loop: adapter '%s': every operation in tempo_loop_ops_t is required",
                                ops->name ? ops->name : "?");
    tempo_loop_t *loop = calloc(1, sizeof *loop);
    if (!loop)
        return tempo__error_set(err, TEMPO_ENOMEM, "loop: out of memory");
    if (tempo__calls_init(loop) != 0) {
        free(loop);
        return tempo__error_set(err, TEMPO_ENOMEM, "loop: cannot create the post mutex");
    }
    loop->ops = ops;
    loop->adapter = adapter;
    loop->armed_at = TEMPO__ARMED_NONE;
    *out = loop;
    return TEMPO_OK;
}

/* Unarm every timer, drop every queued call, stop every watch. The timers
 * and calls belong to their owners: they are only unlinked, never freed. */
static void stop_everything(tempo_loop_t *loop)
{
    tempo__timers_drop_all(loop);
    tempo__calls_drop_all(loop);
    tempo__watches_stop_all(loop);
}

/* Last: the adapter never calls us after detach() returns. */
static void finish_free(tempo_loop_t *loop)
{
    void (*at_free)(void *) = loop->at_free;
    void *at_free_arg = loop->at_free_arg;
    loop->ops->detach(loop->adapter);
    tempo__calls_destroy(loop);
    free(loop->heap);
    free(loop->ready);
    free(loop);
    if (at_free)
        at_free(at_free_arg);
}

void tempo__loop_at_free(tempo_loop_t *loop, void (*fn)(void *arg), void *arg)
{
    loop->at_free = fn;
    loop->at_free_arg = arg;
}

bool tempo__loop_dispatching(const tempo_loop_t *loop)
{
    return loop->depth > 0;
}

void tempo_loop_free(tempo_loop_t *loop)
{
    if (!loop || loop->closing)
        return;
    stop_everything(loop);
    if (loop->depth > 0) {
        loop->closing = true;
        return;
    }
    finish_free(loop);
}

static void enter(tempo_loop_t *loop)
{
    loop->depth++;
    loop->stats.rounds++;
}

/* The rest of the round after the entry's own work. */
static void leave(tempo_loop_t *loop, bool force_posted)
{
    if (!loop->closing)
        tempo__calls_run_posted(loop, force_posted);
    if (!loop->closing)
        tempo__timers_fire_due(loop);
    if (!loop->closing)
        tempo__calls_run_deferred(loop);
    loop->depth--;
    if (loop->closing) {
        if (loop->depth == 0)
            finish_free(loop);
        return;
    }
    rearm(loop);
}

void tempo_loop_on_io(tempo_loop_t *loop, void *token, int events)
{
    if (!loop || loop->closing || !token)
        return;
    enter(loop);
    tempo__watches_dispatch(loop, token, events);
    leave(loop, false);
}

void tempo_loop_on_timer(tempo_loop_t *loop)
{
    if (!loop || loop->closing)
        return;
    /* Counted for tests of adapters: rounding must never make a timer early.
     * (An early fire is still harmless: nothing is due, the round re-arms.) */
    loop->stats.timer_entries++;
    if (loop->armed_at > TEMPO__ARMED_ASAP && loop->ops->now(loop->adapter) < loop->armed_at)
        loop->stats.early_timer_entries++;
    /* The adapter timer is one-shot: it is not armed any more. */
    loop->armed_at = TEMPO__ARMED_NONE;
    enter(loop);
    leave(loop, false);
}

void tempo_loop_on_wake(tempo_loop_t *loop)
{
    if (!loop || loop->closing)
        return;
    enter(loop);
    leave(loop, true);
}

void tempo_loop_set_lock(tempo_loop_t *loop, void (*lock)(void *arg), void (*unlock)(void *arg), void *arg)
{
    if (!loop)
        return;
    loop->lock = lock && unlock ? lock : NULL;
    loop->unlock = lock && unlock ? unlock : NULL;
    loop->lock_arg = arg;
}

void tempo__loop_halt(tempo_loop_t *loop)
{
    const tempo_loop_ops_t *ops = loop->ops;
    if (ops->size >= offsetof(tempo_loop_ops_t, halt) + sizeof ops->halt && ops->halt)
        ops->halt(loop->adapter);
}

void tempo__loop_lock(tempo_loop_t *loop)
{
    if (loop->lock)
        loop->lock(loop->lock_arg);
}

void tempo__loop_unlock(tempo_loop_t *loop)
{
    if (loop->unlock)
        loop->unlock(loop->lock_arg);
}

tempo_time_t tempo_loop_now(const tempo_loop_t *loop)
{
    if (!loop)
        return TEMPO_TIME_NONE;
    return loop->ops->now(loop->adapter);
}

size_t tempo__loop_pending(const tempo_loop_t *loop)
{
    pthread_mutex_t *mu = (pthread_mutex_t *)&loop->post_mu; /* logically const */
    pthread_mutex_lock(mu);
    size_t posted = loop->posted;
    pthread_mutex_unlock(mu);
    return tempo__timers_count(loop) + loop->deferred + posted + loop->posts_running + loop->watch_count;
}

void tempo__loop_get_stats(const tempo_loop_t *loop, tempo__loop_stats_t *out)
{
    *out = loop->stats;
}
