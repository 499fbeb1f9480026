/* libtempo-glib: the GLib adapter (tempo/glib.h, contract in tempo/loop.h).
 *
 * ONE custom GSource per adapter, attached to the application's GMainContext,
 * carries everything: each watch is a unix fd of that source
 * (g_source_add_unix_fd), the core's single timer is the source's ready time
 * (g_source_set_ready_time), and wake() is an atomic flag plus
 * g_main_context_wakeup(). GLib polls the fds, computes the poll timeout from
 * the ready time and calls our dispatch when any of them is due; dispatch
 * sorts out which and calls the core. (Not g_idle_add / g_timeout_add: they
 * target the global default context, and one source per service would cost
 * a GLib allocation per timer_set.)
 *
 * Decisions, each for a reason:
 *   - The adapter IS the GSource (g_source_new with our size), so GLib's
 *     reference counting keeps our memory alive. GLib holds a reference on a
 *     source for the whole of its dispatch, so when a callback frees the loop
 *     (detach inside tempo_loop_on_*(), loop.h) the struct survives until
 *     dispatch returns: dispatch reads only `loop` (NULL once detached)
 *     after an on_* call, and stops there. That is the one exception to
 *     "touch nothing of your own after tempo_loop_on_*()", and it is safe
 *     for this reason only. Watches are separate allocations, freed at stop
 *     or detach; dispatch walks them with a cursor that watch_stop keeps
 *     valid.
 *   - The adapter holds a reference on the context from construction to
 *     detach: the application may unref its context before freeing the
 *     scheduler, and a wake() from another thread must still find the
 *     context (and our source attached to it) alive. detach destroys and
 *     unrefs the source, then drops the context. Not from a finalize
 *     function: GLib locks the source's context again after finalize
 *     returns, so dropping what may be the last reference there would free
 *     the context under it.
 *   - wake(): the core calls it with its post mutex held, and
 *     tempo_loop_free takes that mutex (and closes the queue) before it calls
 *     detach, so a wake never overlaps or follows detach. wake touches only
 *     the atomic flag and the context pointer, set once at construction.
 *     prepare reports the flag, so an iteration that starts with a wake-up
 *     pending polls with timeout 0; check reports it, so the iteration whose
 *     poll g_main_context_wakeup cut short delivers it (not the next one).
 *     dispatch clears the flag before calling on_wake, so a wake during
 *     on_wake is not lost: it brings another dispatch.
 *   - Timer: the core's relative delay goes onto GLib's monotonic clock:
 *     ready = g_get_monotonic_time() + delay + 1. The clocks are read in the
 *     order core-now (real) then monotonic, and both tick at the same rate,
 *     so the only way to fire early is truncation to whole µs on both reads:
 *     the extra 1 µs covers it. GLib itself rounds its poll timeout up to
 *     whole ms and never dispatches a source before its ready time. A zero
 *     delay is ready time 0 ("now", no poll timeout at all).
 *   - Dispatch order: timer, then wake, then fds. The timer goes first
 *     because a round started by on_wake or on_io re-arms the core's timer;
 *     an on_timer after that would look early to the core (and is counted
 *     as such by the conformance suite).
 *   - now(): g_get_real_time(), UTC µs, read afresh.
 *   - A paused watch (events 0) is taken out of the source altogether, not
 *     left with an empty mask: poll() reports POLLERR/POLLHUP whatever the
 *     mask, and GLib would dispatch us on every iteration (a busy loop) for
 *     a paused watch on a broken pipe.
 *   - Errors from poll (G_IO_ERR, G_IO_HUP, G_IO_NVAL) are passed on as
 *     READ|WRITE (masked by what the watch asks for), so that the owner's
 *     read or write sees the error, as with the libev adapter.
 *   - Priority G_PRIORITY_DEFAULT, like g_timeout_add and GIO's I/O: jobs
 *     are ordinary work, neither UI-urgent nor idle-time chores.
 *   - fd reuse needs nothing: GLib builds its poll array afresh on every
 *     iteration, and removing a unix fd from a source makes no call on the
 *     fd (it may already be closed). A closed fd is refused at watch_start
 *     with EBADF rather than reported later as G_IO_NVAL. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <tempo/glib.h>

typedef struct glib_watch glib_watch_t;

typedef struct tempo_glib {
    GSource source;         /* first: g_source_new allocates the whole struct */
    GMainContext *context;  /* our reference, until detach */
    tempo_loop_t *loop;     /* NULL once detached */
    atomic_bool woken;      /* the only field other threads touch */
    glib_watch_t *watches;  /* live ones, newest first */
    glib_watch_t *cursor;   /* dispatch's next watch to look at */
} tempo_glib_t;

struct glib_watch {
    gpointer tag; /* GLib's handle for the fd; NULL while paused */
    int fd;
    int events; /* TEMPO_IO_* */
    void *token;
    glib_watch_t *prev, *next;
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

static GIOCondition to_glib(int events)
{
    return (events & TEMPO_IO_READ ? G_IO_IN : 0) | (events & TEMPO_IO_WRITE ? G_IO_OUT : 0);
}

static int from_glib(GIOCondition revents)
{
    if (revents & (G_IO_ERR | G_IO_HUP | G_IO_NVAL))
        return TEMPO_IO_READ | TEMPO_IO_WRITE;
    return (revents & G_IO_IN ? TEMPO_IO_READ : 0) | (revents & G_IO_OUT ? TEMPO_IO_WRITE : 0);
}

/* ---- timer arithmetic --------------------------------------------------------- */

/* Farther than any real deadline (about 146,000 years); keeps GLib's own
 * `ready - now + 999` from overflowing. */
#define FAR_READY_TIME (G_MAXINT64 / 2)

/* The monotonic ready time for a timer `delay` µs from now (see the header
 * comment for the + 1). */
static gint64 ready_time_after(tempo_duration_t delay)
{
    if (delay <= 0)
        return 0;
    gint64 now = g_get_monotonic_time();
    if (delay >= FAR_READY_TIME - now)
        return FAR_READY_TIME;
    return now + delay + 1;
}

/* The timer is due when GLib's time for this iteration reached the ready
 * time. Read at dispatch, not remembered from check: code dispatched before
 * us in the same iteration may have moved the timer. */
static bool timer_due(tempo_glib_t *ad)
{
    gint64 ready = g_source_get_ready_time(&ad->source);
    return ready != -1 && ready <= g_source_get_time(&ad->source);
}

/* ---- the GSource ------------------------------------------------------------------ */

/* GLib adds the fds' readiness and the ready time itself (in both phases);
 * only the wake flag is ours to report (see the header comment for why in
 * both). */
static gboolean src_prepare(GSource *source, gint *timeout)
{
    tempo_glib_t *ad = (tempo_glib_t *)source;
    *timeout = -1;
    return atomic_load(&ad->woken);
}

static gboolean src_check(GSource *source)
{
    tempo_glib_t *ad = (tempo_glib_t *)source;
    return atomic_load(&ad->woken);
}

static int watch_ready(tempo_glib_t *ad, glib_watch_t *w)
{
    if (!w->tag)
        return 0;
    return from_glib(g_source_query_unix_fd(&ad->source, w->tag)) & w->events;
}

/* Every watch the last poll found ready, each with its own on_io. A callback
 * may stop any watch (watch_stop moves the cursor past it) or start new ones
 * (at the head, behind the cursor: they were not polled yet). */
static void dispatch_io(tempo_glib_t *ad)
{
    ad->cursor = ad->watches;
    while (ad->cursor) {
        glib_watch_t *w = ad->cursor;
        ad->cursor = w->next;
        int ready = watch_ready(ad, w);
        if (ready) {
            tempo_loop_on_io(ad->loop, w->token, ready);
            if (!ad->loop)
                return; /* detached inside: only our GSource memory is left */
        }
    }
}

/* `ad` stays valid across the on_* calls (GLib holds a reference while it
 * dispatches); ad->loop turns NULL when one of them detached us. */
static gboolean src_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    (void)callback, (void)data;
    tempo_glib_t *ad = (tempo_glib_t *)source;
    if (timer_due(ad)) {
        g_source_set_ready_time(source, -1); /* one-shot */
        tempo_loop_on_timer(ad->loop);
        if (!ad->loop)
            return G_SOURCE_REMOVE;
    }
    if (atomic_exchange(&ad->woken, false)) {
        tempo_loop_on_wake(ad->loop);
        if (!ad->loop)
            return G_SOURCE_REMOVE;
    }
    dispatch_io(ad);
    return ad->loop ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GSourceFuncs source_funcs = {
    .prepare = src_prepare,
    .check = src_check,
    .dispatch = src_dispatch,
};

/* ---- the ops ---------------------------------------------------------------------- */

static void *op_watch_start(void *adapter, int fd, int events, void *token)
{
    tempo_glib_t *ad = adapter;
    /* GLib would report a bad fd later, as G_IO_NVAL; say it now. */
    if (fcntl(fd, F_GETFD) == -1) {
        errno = EBADF;
        return NULL;
    }
    glib_watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    w->fd = fd;
    w->events = events;
    w->token = token;
    if (events)
        w->tag = g_source_add_unix_fd(&ad->source, fd, to_glib(events));
    w->next = ad->watches;
    if (ad->watches)
        ad->watches->prev = w;
    ad->watches = w;
    return w;
}

static int op_watch_update(void *adapter, void *watch, int events)
{
    tempo_glib_t *ad = adapter;
    glib_watch_t *w = watch;
    if (events == 0) {
        if (w->tag)
            g_source_remove_unix_fd(&ad->source, w->tag);
        w->tag = NULL;
    } else if (!w->tag) {
        w->tag = g_source_add_unix_fd(&ad->source, w->fd, to_glib(events));
    } else {
        g_source_modify_unix_fd(&ad->source, w->tag, to_glib(events));
    }
    w->events = events;
    return 0;
}

/* g_source_remove_unix_fd only updates GLib's tables; it makes no call on
 * the fd, which may already be closed. */
static void op_watch_stop(void *adapter, void *watch)
{
    tempo_glib_t *ad = adapter;
    glib_watch_t *w = watch;
    if (ad->cursor == w)
        ad->cursor = w->next;
    if (w->tag)
        g_source_remove_unix_fd(&ad->source, w->tag);
    if (w->prev)
        w->prev->next = w->next;
    else
        ad->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    free(w);
}

static void op_timer_set(void *adapter, tempo_duration_t delay)
{
    tempo_glib_t *ad = adapter;
    g_source_set_ready_time(&ad->source, ready_time_after(delay));
}

static void op_timer_clear(void *adapter)
{
    tempo_glib_t *ad = adapter;
    g_source_set_ready_time(&ad->source, -1);
}

/* Any thread. The flag first: the loop thread that g_main_context_wakeup
 * interrupts must find it set. */
static void op_wake(void *adapter)
{
    tempo_glib_t *ad = adapter;
    atomic_store(&ad->woken, true);
    g_main_context_wakeup(ad->context);
}

static tempo_time_t op_now(void *adapter)
{
    (void)adapter;
    return g_get_real_time();
}

/* Possibly inside our own dispatch: g_source_destroy is allowed there, and
 * GLib's reference keeps the struct until dispatch returns (it checks
 * ad->loop). The context goes last (see the header comment). */
static void op_detach(void *adapter)
{
    tempo_glib_t *ad = adapter;
    GMainContext *context = ad->context;
    while (ad->watches)
        op_watch_stop(ad, ad->watches);
    ad->loop = NULL;
    g_source_destroy(&ad->source);
    g_source_unref(&ad->source);
    g_main_context_unref(context);
}

static const tempo_loop_ops_t glib_ops = {
    .size = sizeof(tempo_loop_ops_t),
    .name = "glib",
    .watch_start = op_watch_start,
    .watch_update = op_watch_update,
    .watch_stop = op_watch_stop,
    .timer_set = op_timer_set,
    .timer_clear = op_timer_clear,
    .wake = op_wake,
    .now = op_now,
    .detach = op_detach,
};

tempo_status_t tempo_glib_loop_new(GMainContext *context, tempo_loop_t **out, tempo_error_t *err)
{
    if (!out)
        return fail(err, TEMPO_EINVAL, "glib adapter: 'out' is NULL");
    *out = NULL;
    GSource *source = g_source_new(&source_funcs, sizeof(tempo_glib_t));
    tempo_glib_t *ad = (tempo_glib_t *)source;
    atomic_init(&ad->woken, false);
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_name(source, "tempo");
    tempo_status_t st = tempo_loop_new(&glib_ops, ad, &ad->loop, err);
    if (st != TEMPO_OK) {
        g_source_unref(source);
        return st;
    }
    ad->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    g_source_attach(source, ad->context);
    *out = ad->loop;
    return TEMPO_OK;
}
