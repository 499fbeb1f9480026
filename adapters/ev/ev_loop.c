/* libtempo-ev: the libev adapter (tempo/ev.h, contract in tempo/loop.h).
 *
 * One ev_io per watch, one ev_timer for the core's single timer, one
 * ev_async for wake(). Everything runs on the libev loop's thread except
 * wake(), which is ev_async_send (thread-safe by libev's design).
 *
 * Decisions, each for a reason:
 *   - Keep-alive: the ev_async is ev_unref'd, so an idle adapter does not
 *     keep ev_run() from returning; the ev_timer (while the core has a timer
 *     or a deferred call) and the ev_io watchers (while started) do count,
 *     like any other watcher. So `ev_run(loop, 0)` returns once the
 *     scheduler has nothing armed — and stays in while it has. A post from
 *     another thread when nothing else is armed is delivered at the next
 *     ev_run (or when the scheduler is freed), not by keeping the loop alive.
 *   - Timer: ev_timer_set(after, 0.) + ev_timer_start — never
 *     ev_timer_again, whose repeat 0 means "stop". libev measures `after`
 *     from its cached ev_now(), which lags real time by however long the
 *     current iteration has been running; ev_now_update() first makes the
 *     delay count from now, as the core meant it. The µs → s conversion adds
 *     0.1 µs so that double rounding (here and in libev's `now + after`) can
 *     only make a fire later, never earlier. libev itself never invokes a
 *     timer before its time.
 *   - now(): CLOCK_REALTIME in integer µs — the clock ev_time() reads, but
 *     without its double (schedules are UTC instants; ev_now() is cached and
 *     can be stale, see above).
 *   - Updating a watch: ev_io_stop, ev_io_set, ev_io_start (a started watcher
 *     cannot be modified, and older 4.x have no ev_io_modify). ev_io_set also
 *     tells libev the fd may be a new one (its rule for fd reuse).
 *   - libev reports a bad fd as EV_ERROR and stops the watcher itself; it is
 *     passed on as READ|WRITE so that the owner's read or write sees the
 *     error.
 *   - After calling tempo_loop_on_*() a callback touches nothing of the
 *     adapter: the core may have detached (and freed it) inside.
 *   - An adapter made by ev_runner.c (tempo_ev_scheduler_new) is the same
 *     adapter with a runner attached: every op that changes a libev watcher
 *     reports it (the op may run on a thread other than the loop's, under
 *     the big lock, and the loop must then be woken to take note), and halt
 *     and detach go on to the runner, which owns the libev loop. A plain
 *     adapter (runner NULL) behaves exactly as before runners existed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ev_internal.h"

typedef struct ev_watch ev_watch_t;

typedef struct tempo_ev {
    struct ev_loop *evloop;
    tempo_loop_t *loop;
    ev_timer timer;
    ev_async async;
    ev_watch_t *watches; /* live ones, for detach */
    tempo__ev_runner_t *runner; /* NULL: the user owns the loop */
} tempo_ev_t;

struct ev_watch {
    ev_io io; /* first: libev hands us &io */
    tempo_ev_t *ad;
    void *token;
    ev_watch_t *prev, *next;
};

tempo_status_t tempo__ev_fail(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A libev watcher is about to change: a runner may have to wake its loop. */
static void touched(tempo_ev_t *ad)
{
    if (ad->runner)
        tempo__ev_runner_touched(ad->runner);
}

static int to_ev(int events)
{
    return (events & TEMPO_IO_READ ? EV_READ : 0) | (events & TEMPO_IO_WRITE ? EV_WRITE : 0);
}

static int from_ev(int revents)
{
    if (revents & EV_ERROR)
        return TEMPO_IO_READ | TEMPO_IO_WRITE;
    return (revents & EV_READ ? TEMPO_IO_READ : 0) | (revents & EV_WRITE ? TEMPO_IO_WRITE : 0);
}

/* ---- libev callbacks ----------------------------------------------------- */

static void io_cb(struct ev_loop *evloop, ev_io *io, int revents)
{
    (void)evloop;
    ev_watch_t *w = (ev_watch_t *)io;
    tempo_loop_on_io(w->ad->loop, w->token, from_ev(revents));
}

static void timer_cb(struct ev_loop *evloop, ev_timer *timer, int revents)
{
    (void)evloop, (void)revents;
    tempo_ev_t *ad = timer->data;
    tempo_loop_on_timer(ad->loop);
}

static void async_cb(struct ev_loop *evloop, ev_async *async, int revents)
{
    (void)evloop, (void)revents;
    tempo_ev_t *ad = async->data;
    tempo_loop_on_wake(ad->loop);
}

/* ---- the ops ---------------------------------------------------------------- */

static void *op_watch_start(void *adapter, int fd, int events, void *token)
{
    tempo_ev_t *ad = adapter;
    /* libev would report a bad fd later, as EV_ERROR; say it now. */
    if (fcntl(fd, F_GETFD) == -1) {
        errno = EBADF;
        return NULL;
    }
    ev_watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    w->ad = ad;
    w->token = token;
    ev_io_init(&w->io, io_cb, fd, to_ev(events));
    if (events) {
        touched(ad);
        ev_io_start(ad->evloop, &w->io);
    }
    w->next = ad->watches;
    if (ad->watches)
        ad->watches->prev = w;
    ad->watches = w;
    return w;
}

static int op_watch_update(void *adapter, void *watch, int events)
{
    tempo_ev_t *ad = adapter;
    ev_watch_t *w = watch;
    touched(ad);
    ev_io_stop(ad->evloop, &w->io);
    ev_io_set(&w->io, w->io.fd, to_ev(events));
    if (events)
        ev_io_start(ad->evloop, &w->io);
    return 0;
}

static void unlink_watch(tempo_ev_t *ad, ev_watch_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        ad->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

/* ev_io_stop only updates libev's tables; it makes no call on the fd, which
 * may already be closed. */
static void op_watch_stop(void *adapter, void *watch)
{
    tempo_ev_t *ad = adapter;
    ev_watch_t *w = watch;
    touched(ad);
    ev_io_stop(ad->evloop, &w->io);
    unlink_watch(ad, w);
    free(w);
}

static void op_timer_set(void *adapter, tempo_duration_t delay)
{
    tempo_ev_t *ad = adapter;
    touched(ad);
    ev_timer_stop(ad->evloop, &ad->timer);
    ev_now_update(ad->evloop);
    /* A zero delay ("next round") must stay zero: libev raises any positive
     * wait below its backend's resolution (1 ms for epoll) to that
     * resolution, which would cost every deferred round a millisecond. */
    ev_tstamp after = delay > 0 ? (ev_tstamp)delay / 1e6 + 1e-7 : 0.;
    ev_timer_set(&ad->timer, after, 0.);
    ev_timer_start(ad->evloop, &ad->timer);
}

static void op_timer_clear(void *adapter)
{
    tempo_ev_t *ad = adapter;
    touched(ad);
    ev_timer_stop(ad->evloop, &ad->timer);
}

static void op_wake(void *adapter)
{
    tempo_ev_t *ad = adapter;
    ev_async_send(ad->evloop, &ad->async);
}

static tempo_time_t op_now(void *adapter)
{
    (void)adapter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * TEMPO_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* The async watcher was unref'd when started: libev wants the reference
 * back before it is stopped. */
static void stop_async(tempo_ev_t *ad)
{
    ev_ref(ad->evloop);
    ev_async_stop(ad->evloop, &ad->async);
}

static void op_detach(void *adapter)
{
    tempo_ev_t *ad = adapter;
    ev_timer_stop(ad->evloop, &ad->timer);
    while (ad->watches)
        op_watch_stop(ad, ad->watches);
    stop_async(ad);
    tempo__ev_runner_t *runner = ad->runner;
    free(ad);
    if (runner) /* last: it destroys the libev loop the watchers were on */
        tempo__ev_runner_detached(runner);
}

/* Only a runner has a thread of its own to stop. */
static void op_halt(void *adapter)
{
    tempo_ev_t *ad = adapter;
    if (ad->runner)
        tempo__ev_runner_halt(ad->runner);
}

static const tempo_loop_ops_t ev_ops = {
    .size = sizeof(tempo_loop_ops_t),
    .name = "libev",
    .watch_start = op_watch_start,
    .watch_update = op_watch_update,
    .watch_stop = op_watch_stop,
    .timer_set = op_timer_set,
    .timer_clear = op_timer_clear,
    .wake = op_wake,
    .now = op_now,
    .detach = op_detach,
    .halt = op_halt,
};

tempo_status_t tempo__ev_adapter_new(struct ev_loop *evloop, tempo__ev_runner_t *runner,
                                     tempo_loop_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__ev_fail(err, TEMPO_EINVAL, "libev adapter: 'out' is NULL");
    *out = NULL;
    if (!evloop)
        return tempo__ev_fail(err, TEMPO_EINVAL, "libev adapter: 'evloop' is NULL");
    tempo_ev_t *ad = calloc(1, sizeof *ad);
    if (!ad)
        return tempo__ev_fail(err, TEMPO_ENOMEM, "libev adapter: out of memory");
    ad->evloop = evloop;
    ad->runner = runner;
    ev_timer_init(&ad->timer, timer_cb, 0., 0.);
    ad->timer.data = ad;
    ev_async_init(&ad->async, async_cb);
    ad->async.data = ad;
    ev_async_start(evloop, &ad->async);
    ev_unref(evloop);
    tempo_status_t st = tempo_loop_new(&ev_ops, ad, &ad->loop, err);
    if (st != TEMPO_OK) {
        stop_async(ad);
        free(ad);
        return st;
    }
    *out = ad->loop;
    return TEMPO_OK;
}

tempo_status_t tempo_ev_loop_new(struct ev_loop *evloop, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo__ev_adapter_new(evloop, NULL, out, err);
}
