/* libtempo-uv: the libuv adapter (tempo/uv.h, contract in tempo/loop.h).
 *
 * One uv_poll per watched fd (shared by every watch of that fd), one
 * uv_timer for the core's single timer, one uv_async for wake(), one
 * uv_prepare that checks fds before libuv polls them. Everything runs on the
 * libuv loop's thread except wake().
 *
 * Decisions, each for a reason:
 *   - Memory: libuv handles may only be freed in their close callbacks, which
 *     libuv runs in a later phase of the loop iteration (never inside
 *     uv_close). The adapter struct holds the timer, the prepare and the
 *     async and is freed when all three have come back; a poll's struct is
 *     freed when its poll comes back. So detach() frees nothing itself: the application must run
 *     the uv loop once more before uv_loop_close (tempo/uv.h says so).
 *   - Wake vs teardown (libuv #2226, #3626: a uv_async_send racing the close
 *     and free of its handle can touch freed memory). The core already calls wake() and
 *     detach() under one mutex of its own (lib/loop/calls.c), but the adapter
 *     does not bet its memory on that: wake() sends under `wake_mu` only while
 *     `detached` is false, detach() sets `detached` under the same mutex
 *     before anything is closed, and the async is closed last. So a send is
 *     either finished before the async is closed or never starts, and a late
 *     wake() between detach and the close callbacks is a harmless no-op.
 *   - One poll per fd: libuv keeps one watcher per fd per loop (uv_poll_init
 *     answers EEXIST for a second one), but the core may watch one fd twice
 *     (a read watch and a write watch of two owners). The poll asks libuv
 *     for the union of its watches' events and reports to each watch what it
 *     asked for.
 *   - Reporting to several watches from one callback seems to break the rule
 *     "touch nothing of your own after tempo_loop_on_*() returns" (the core
 *     may have detached inside). The rule exists because an adapter may free
 *     itself in detach(); this one cannot, since libuv defers every close
 *     callback past the current callback. So after each report the poll
 *     callback checks `detached` (and the poll's own watch list, which the
 *     report may have changed) before reporting again. This holds as long as
 *     nobody runs the uv loop recursively from a callback, which the core
 *     does not support anyway (lib/loop/loop_internal.h).
 *   - fd reuse: an fd closed and reopened under the same number may be a new
 *     file that epoll does not know. Starting a watch on an fd that already
 *     has a poll therefore restarts the poll (uv_poll_start removes and
 *     re-adds the fd), like libev's ev_io_set.
 *   - libuv abort()s when epoll_ctl(ADD) fails, which it does for a closed fd;
 *     and uv_poll_start only queues that ADD for the next poll phase. So a
 *     poll is never (re)started on a closed fd (fcntl(F_GETFD) first: the
 *     watch_start/watch_update gets EBADF), and a uv_prepare (which libuv
 *     runs just before polling) checks again every poll registered since:
 *     an owner that closes its fd and lets the loop run before stopping the
 *     watch gets a silent watch (as when the fd is closed after epoll knew
 *     it: epoll forgets closed files), not a killed process. The prepare
 *     runs only while a registration awaits its check.
 *   - An error on the fd (POLLERR) makes libuv stop the poll and report
 *     UV_EBADF; it is passed on as READ|WRITE so that the owners' next read
 *     or write sees the error. The poll stays stopped until the next start or
 *     update of one of its watches (as libev stops a watcher on EV_ERROR):
 *     restarting it at once would spin on a persistent error.
 *   - Timer: libuv fires a timer when its loop time (whole ms of a fast
 *     monotonic clock, cached per iteration) reaches uv_now() + timeout.
 *     See ms_until() for the rounding, which never fires early by libuv's
 *     clock. now() is UTC, which may be slewed against the monotonic clock;
 *     the timer callback re-arms for the rest when UTC says it came early, so
 *     the core never sees an early fire.
 *   - Keep-alive: the uv_async and the uv_prepare are uv_unref'd, so an idle
 *     adapter does not keep uv_run(UV_RUN_DEFAULT) in; the timer (while
 *     armed) and the polls (while some watch of theirs wants events) count
 *     like any other handle. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tempo/uv.h>

typedef struct fdpoll fdpoll_t;
typedef struct watch watch_t;

typedef struct tempo_uv {
    uv_loop_t *uvloop;
    tempo_loop_t *loop;
    uv_timer_t timer;
    uv_async_t async;
    uv_prepare_t check; /* started while a poll registration awaits its check */
    tempo_time_t due;   /* what the timer was last set for, by now() */
    fdpoll_t *polls;    /* one per watched fd */
    int open_handles;   /* timer, check, async: freed when all came back */
    pthread_mutex_t wake_mu;
    /* Set once, by detach() on the loop thread, under wake_mu. Other threads
     * read it under wake_mu only; the loop thread (its only writer) reads it
     * without. */
    bool detached;
} tempo_uv_t;

struct fdpoll {
    uv_poll_t poll;
    tempo_uv_t *ad;
    int fd;
    int polling;      /* UV_READABLE|UV_WRITABLE that libuv polls for now */
    bool unchecked;   /* uv_poll_start called, not yet seen by check_cb */
    watch_t *watches; /* never empty: the poll is closed with its last watch */
    watch_t *cursor;  /* the next watch poll_cb reports to */
    fdpoll_t *prev, *next;
};

struct watch {
    fdpoll_t *fp;
    void *token;
    int events; /* TEMPO_IO_* */
    watch_t *prev, *next;
};

/* libtempo's tempo__error_set is internal to libtempo.so; this library links
 * the shared libtempo, so it fills errors itself. */
__attribute__((format(printf, 3, 4))) static tempo_status_t
fail(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
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

static int to_uv(int events)
{
    return (events & TEMPO_IO_READ ? UV_READABLE : 0) | (events & TEMPO_IO_WRITE ? UV_WRITABLE : 0);
}

static int from_uv(int uvevents)
{
    return (uvevents & UV_READABLE ? TEMPO_IO_READ : 0) | (uvevents & UV_WRITABLE ? TEMPO_IO_WRITE : 0);
}

static bool fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* ---- polls: one per fd ----------------------------------------------------- */

static void dispatch(fdpoll_t *fp, int events)
{
    tempo_uv_t *ad = fp->ad;
    /* A report may stop any watch of this fd (the cursor steps over it, see
     * unlink_watch), start one (linked at the head: reported from the next
     * poll on), or detach the adapter. Memory stays valid: see the top. */
    fp->cursor = fp->watches;
    while (fp->cursor && !ad->detached) {
        watch_t *w = fp->cursor;
        fp->cursor = w->next;
        int ev = events & w->events;
        if (ev)
            tempo_loop_on_io(ad->loop, w->token, ev);
    }
}

static void poll_cb(uv_poll_t *poll, int status, int uvevents)
{
    fdpoll_t *fp = poll->data;
    if (status < 0) {
        fp->polling = 0; /* libuv stopped the poll itself */
        dispatch(fp, TEMPO_IO_READ | TEMPO_IO_WRITE);
        return;
    }
    dispatch(fp, from_uv(uvevents));
}

/* Just before libuv polls (and would abort() on a closed fd): stop the
 * polls whose fd was closed since they were registered. Calls nothing of
 * the core, so the list cannot change under it. */
static void check_cb(uv_prepare_t *check)
{
    tempo_uv_t *ad = check->data;
    uv_prepare_stop(check);
    for (fdpoll_t *fp = ad->polls; fp; fp = fp->next) {
        if (!fp->unchecked)
            continue;
        fp->unchecked = false;
        if (fp->polling && !fd_is_open(fp->fd)) {
            uv_poll_stop(&fp->poll);
            fp->polling = 0;
        }
    }
}

static int wanted(const fdpoll_t *fp)
{
    int events = 0;
    for (const watch_t *w = fp->watches; w; w = w->next)
        events |= w->events;
    return to_uv(events);
}

/* Make libuv poll for what the watches want; `reregister` restarts the poll
 * even when that did not change (fd reuse, see the top). 0 or an errno
 * value; on error nothing changed. */
static int sync_poll(fdpoll_t *fp, bool reregister)
{
    int want = wanted(fp);
    if (want == fp->polling && !(reregister && want))
        return 0;
    if (want == 0) {
        uv_poll_stop(&fp->poll);
        fp->polling = 0;
        return 0;
    }
    if (!fd_is_open(fp->fd))
        return EBADF;
    int rc = uv_poll_start(&fp->poll, want, poll_cb);
    if (rc < 0)
        return -rc; /* libuv errors are negated errno values on Unix */
    fp->polling = want;
    fp->unchecked = true;
    uv_prepare_start(&fp->ad->check, check_cb);
    return 0;
}

static fdpoll_t *find_poll(const tempo_uv_t *ad, int fd)
{
    fdpoll_t *fp = ad->polls;
    while (fp && fp->fd != fd)
        fp = fp->next;
    return fp;
}

/* NULL with *error set (an errno value). */
static fdpoll_t *new_poll(tempo_uv_t *ad, int fd, int *error)
{
    fdpoll_t *fp = calloc(1, sizeof *fp);
    if (!fp) {
        *error = ENOMEM;
        return NULL;
    }
    /* Checks the fd (EBADF, EPERM for a regular file, EEXIST when something
     * on this loop polls it already) before it registers anything. */
    int rc = uv_poll_init(ad->uvloop, &fp->poll, fd);
    if (rc < 0) {
        free(fp);
        *error = -rc;
        return NULL;
    }
    fp->poll.data = fp;
    fp->ad = ad;
    fp->fd = fd;
    fp->next = ad->polls;
    if (ad->polls)
        ad->polls->prev = fp;
    ad->polls = fp;
    return fp;
}

static void poll_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void free_watches(fdpoll_t *fp)
{
    while (fp->watches) {
        watch_t *w = fp->watches;
        fp->watches = w->next;
        free(w);
    }
}

/* uv_close stops the poll at once (and removes the fd from epoll by number:
 * see docs/adapters.md on closing an fd before its watch stops). */
static void close_poll(tempo_uv_t *ad, fdpoll_t *fp)
{
    if (fp->prev)
        fp->prev->next = fp->next;
    else
        ad->polls = fp->next;
    if (fp->next)
        fp->next->prev = fp->prev;
    free_watches(fp);
    fp->cursor = NULL;
    uv_close((uv_handle_t *)&fp->poll, poll_closed);
}

/* ---- watches ----------------------------------------------------------------- */

static void link_watch(fdpoll_t *fp, watch_t *w)
{
    w->fp = fp;
    w->prev = NULL;
    w->next = fp->watches;
    if (fp->watches)
        fp->watches->prev = w;
    fp->watches = w;
}

static void unlink_watch(fdpoll_t *fp, watch_t *w)
{
    if (fp->cursor == w)
        fp->cursor = w->next;
    if (w->prev)
        w->prev->next = w->next;
    else
        fp->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void *op_watch_start(void *adapter, int fd, int events, void *token)
{
    tempo_uv_t *ad = adapter;
    watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    w->token = token;
    w->events = events;
    int error = 0;
    fdpoll_t *fp = find_poll(ad, fd);
    bool fresh = fp == NULL;
    if (fresh && !(fp = new_poll(ad, fd, &error))) {
        free(w);
        errno = error;
        return NULL;
    }
    link_watch(fp, w);
    error = sync_poll(fp, !fresh);
    if (error) {
        unlink_watch(fp, w);
        free(w);
        if (fresh)
            close_poll(ad, fp);
        errno = error;
        return NULL;
    }
    return w;
}

static int op_watch_update(void *adapter, void *watch, int events)
{
    (void)adapter;
    watch_t *w = watch;
    int old = w->events;
    w->events = events;
    int error = sync_poll(w->fp, false);
    if (error)
        w->events = old;
    return error;
}

/* Never touches the fd itself (it may be closed): when other watches of the
 * fd remain and the events change, sync_poll's fcntl check finds a closed fd
 * and leaves the poll as it is rather than restarting it (see the top). */
static void op_watch_stop(void *adapter, void *watch)
{
    tempo_uv_t *ad = adapter;
    watch_t *w = watch;
    fdpoll_t *fp = w->fp;
    unlink_watch(fp, w);
    free(w);
    if (!fp->watches)
        close_poll(ad, fp);
    else
        (void)sync_poll(fp, false);
}

/* ---- the timer ------------------------------------------------------------------ */

/* The timeout, in ms, that makes libuv fire no earlier than `delay` µs (> 0)
 * from now. libuv fires when its loop time reaches uv_now() + timeout. Its
 * loop time is whole ms of a fast monotonic clock (CLOCK_MONOTONIC_COARSE
 * when that is precise to 1 ms, else CLOCK_MONOTONIC), which never runs
 * ahead of uv_hrtime() (CLOCK_MONOTONIC). So a fire at loop time
 * ceil((hrtime + delay) / 1 ms), measured after uv_update_time(), comes at
 * least `delay` after hrtime — and at most about 1 ms later than that (a
 * plain ceil(delay) from uv_now() would be early by up to 1 ms, since uv_now()
 * truncates). */
static uint64_t ms_until(const tempo_uv_t *ad, tempo_duration_t delay)
{
    uint64_t hr_ns = uv_hrtime();
    if ((uint64_t)delay > (UINT64_MAX - hr_ns) / 1000)
        return UINT64_MAX; /* centuries: libuv clamps to "never" */
    uint64_t target_ns = hr_ns + (uint64_t)delay * 1000;
    uint64_t target_ms = target_ns / 1000000 + (target_ns % 1000000 != 0);
    uint64_t now_ms = uv_now(ad->uvloop);
    return target_ms > now_ms ? target_ms - now_ms : 0;
}

static void timer_cb(uv_timer_t *timer);

static void arm_timer(tempo_uv_t *ad, tempo_duration_t delay)
{
    /* Count from the real present, not from the iteration's cached time. */
    uv_update_time(ad->uvloop);
    uint64_t ms = delay > 0 ? ms_until(ad, delay) : 0;
    uv_timer_start(&ad->timer, timer_cb, ms, 0);
}

static tempo_time_t op_now(void *adapter)
{
    (void)adapter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * TEMPO_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void timer_cb(uv_timer_t *timer)
{
    tempo_uv_t *ad = timer->data;
    tempo_time_t now = op_now(ad);
    if (now < ad->due) {
        /* UTC ran slower than the monotonic clock (NTP slewing, a step
         * back): not due by the clock the core reads. */
        arm_timer(ad, ad->due - now);
        return;
    }
    tempo_loop_on_timer(ad->loop);
}

static void op_timer_set(void *adapter, tempo_duration_t delay)
{
    tempo_uv_t *ad = adapter;
    if (delay < 0)
        delay = 0;
    tempo_time_t now = op_now(ad);
    if (__builtin_add_overflow(now, delay, &ad->due))
        ad->due = INT64_MAX;
    arm_timer(ad, delay);
}

static void op_timer_clear(void *adapter)
{
    tempo_uv_t *ad = adapter;
    uv_timer_stop(&ad->timer);
}

/* ---- wake-ups and teardown --------------------------------------------------- */

static void async_cb(uv_async_t *async)
{
    tempo_uv_t *ad = async->data;
    tempo_loop_on_wake(ad->loop);
}

static void op_wake(void *adapter)
{
    tempo_uv_t *ad = adapter;
    pthread_mutex_lock(&ad->wake_mu);
    if (!ad->detached)
        uv_async_send(&ad->async);
    pthread_mutex_unlock(&ad->wake_mu);
}

static void free_adapter(tempo_uv_t *ad)
{
    pthread_mutex_destroy(&ad->wake_mu);
    free(ad);
}

/* libuv runs close callbacks in no promised order: whichever of the timer,
 * the prepare and the async comes back last frees the adapter. */
static void handle_closed(uv_handle_t *handle)
{
    tempo_uv_t *ad = handle->data;
    if (--ad->open_handles == 0)
        free_adapter(ad);
}

static void op_detach(void *adapter)
{
    tempo_uv_t *ad = adapter;
    pthread_mutex_lock(&ad->wake_mu);
    ad->detached = true;
    pthread_mutex_unlock(&ad->wake_mu);
    while (ad->polls)
        close_poll(ad, ad->polls);
    if (ad->open_handles == 0) { /* the constructor failed before any handle */
        free_adapter(ad);
        return;
    }
    uv_close((uv_handle_t *)&ad->timer, handle_closed);
    uv_close((uv_handle_t *)&ad->check, handle_closed);
    /* Last: no wake() can reach it any more (detached is set). */
    uv_close((uv_handle_t *)&ad->async, handle_closed);
}

static const tempo_loop_ops_t uv_ops = {
    .size = sizeof(tempo_loop_ops_t),
    .name = "libuv",
    .watch_start = op_watch_start,
    .watch_update = op_watch_update,
    .watch_stop = op_watch_stop,
    .timer_set = op_timer_set,
    .timer_clear = op_timer_clear,
    .wake = op_wake,
    .now = op_now,
    .detach = op_detach,
};

tempo_status_t tempo_uv_loop_new(uv_loop_t *uvloop, tempo_loop_t **out, tempo_error_t *err)
{
    if (!out)
        return fail(err, TEMPO_EINVAL, "libuv adapter: 'out' is NULL");
    *out = NULL;
    if (!uvloop)
        return fail(err, TEMPO_EINVAL, "libuv adapter: 'uvloop' is NULL");
    tempo_uv_t *ad = calloc(1, sizeof *ad);
    if (!ad)
        return fail(err, TEMPO_ENOMEM, "libuv adapter: out of memory");
    int rc = pthread_mutex_init(&ad->wake_mu, NULL);
    if (rc != 0) {
        free(ad);
        return fail(err, TEMPO_ENOMEM, "libuv adapter: cannot create the wake-up mutex: %s",
                    strerror(rc));
    }
    ad->uvloop = uvloop;
    /* The core's end first: it calls no op until we return, and undoing it
     * (tempo_loop_free -> op_detach) copes with a half-made adapter. */
    tempo_status_t st = tempo_loop_new(&uv_ops, ad, &ad->loop, err);
    if (st != TEMPO_OK) {
        free_adapter(ad);
        return st;
    }
    /* The async first: it is the one that can fail (libuv creates the loop's
     * eventfd on the first uv_async_init), and it fails before it is linked
     * into the loop, so nothing needs closing. */
    rc = uv_async_init(uvloop, &ad->async, async_cb);
    if (rc < 0) {
        tempo_loop_free(ad->loop); /* frees ad: no handle is open */
        return fail(err, TEMPO_EIO, "libuv adapter: uv_async_init: %s", uv_strerror(rc));
    }
    ad->async.data = ad;
    ad->open_handles++;
    uv_unref((uv_handle_t *)&ad->async);
    /* uv_timer_init and uv_prepare_init cannot fail (libuv 1.x returns 0
     * unconditionally). */
    uv_timer_init(uvloop, &ad->timer);
    ad->timer.data = ad;
    ad->open_handles++;
    uv_prepare_init(uvloop, &ad->check);
    ad->check.data = ad;
    ad->open_handles++;
    uv_unref((uv_handle_t *)&ad->check);
    *out = ad->loop;
    return TEMPO_OK;
}
