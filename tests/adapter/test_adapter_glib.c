/* The GLib adapter (adapters/glib): the conformance suite on a private
 * GMainContext per case, plus GLib-specific cases: which context a NULL
 * argument means, a non-default context while the default one idles, two
 * adapters sharing a context, wake-ups from other threads while the context
 * and the adapters are being torn down, and the dispatch paths where one
 * GSource dispatch carries several events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tempo/glib.h>

#include "adapter_conformance.h"
#include "loop/loop_internal.h"

/* ---- the driver: a fresh GMainContext, and a guard timeout ------------------- */

static gboolean guard_cb(gpointer data)
{
    (void)data;
    return G_SOURCE_REMOVE;
}

static void *glib_host_new(void)
{
    return g_main_context_new();
}

static void glib_host_free(void *host)
{
    g_main_context_unref(host);
}

static tempo_status_t glib_driver_loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_glib_loop_new(host, out, err);
}

/* One blocking iteration, bounded by a timeout source of our own. Returns
 * whether anything was dispatched (the guard included). */
static gboolean iterate(GMainContext *ctx, int max_ms)
{
    GSource *guard = g_timeout_source_new((guint)max_ms);
    g_source_set_callback(guard, guard_cb, NULL, NULL);
    g_source_attach(guard, ctx);
    gboolean dispatched = g_main_context_iteration(ctx, TRUE);
    g_source_destroy(guard);
    g_source_unref(guard);
    return dispatched;
}

static void glib_run_once(void *host, int max_ms)
{
    iterate(host, max_ms);
}

static const adapter_driver_t driver = {
    .name = "glib",
    .host_new = glib_host_new,
    .host_free = glib_host_free,
    .loop_new = glib_driver_loop_new,
    .run_once = glib_run_once,
};

/* ---- helpers ---------------------------------------------------------------------- */

typedef struct probe {
    tempo__timer_t timer;
    tempo__call_t call;
    int fires;
} probe_t;

static void probe_fire(void *arg)
{
    ((probe_t *)arg)->fires++;
}

static bool probe_fired(void *arg)
{
    return ((probe_t *)arg)->fires > 0;
}

/* A watch callback counting into an int (it does not drain: level-triggered
 * readiness repeats until the watch stops). */
static void count_io(void *arg, int events)
{
    (void)events;
    (*(int *)arg)++;
}

static bool count_nonzero(void *arg)
{
    return *(int *)arg > 0;
}

static void probe_init(probe_t *p)
{
    memset(p, 0, sizeof *p);
    tempo__timer_init(&p->timer, probe_fire, p);
}

static adapter_fixture_t fixture(GMainContext *ctx, tempo_loop_t *loop)
{
    adapter_fixture_t fx = {.driver = &driver, .host = ctx, .loop = loop};
    return fx;
}

static void make_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK), 0);
}

static void close_pipe(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

static uint64_t rounds(tempo_loop_t *loop)
{
    tempo__loop_stats_t s;
    tempo__loop_get_stats(loop, &s);
    return s.rounds;
}

/* ---- arguments -------------------------------------------------------------------- */

static void never_io(void *arg, int events)
{
    (void)arg, (void)events;
    fail();
}

static void test_arguments(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_error_t err;
    assert_int_equal(tempo_glib_loop_new(ctx, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(err.code, TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "'out'"));
    assert_int_equal(tempo_glib_loop_new(ctx, NULL, NULL), TEMPO_EINVAL);
    tempo_loop_t *loop = NULL;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, &err), TEMPO_OK);
    assert_non_null(loop);
    /* A closed descriptor is refused at once, not reported later as NVAL. */
    int fds[2];
    make_pipe(fds);
    close_pipe(fds);
    errno = 0;
    assert_null(tempo__watch_start(loop, fds[0], TEMPO_IO_READ, never_io, NULL));
    assert_int_equal(errno, EBADF);
    assert_int_equal(tempo__loop_pending(loop), 0);
    /* The clock is UTC wall-clock time. */
    tempo_time_t now = tempo_loop_now(loop);
    tempo_time_t real = g_get_real_time();
    assert_true(now <= real && real - now < TEMPO_SECONDS(1));
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* ---- an idle adapter, and far timers ------------------------------------------- */

/* Nothing armed (or armed far away): the source is never ready, so the
 * application's non-blocking iterations find nothing, and a blocking one
 * only ends with the guard. */
static void test_idle_never_ready(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    assert_false(g_main_context_pending(ctx));
    probe_t far, end;
    probe_init(&far);
    probe_init(&end);
    /* The end of time first (later starts only move the adapter's timer
     * earlier): the ready time saturates, and GLib's poll-timeout arithmetic
     * must not overflow. */
    tempo__timer_start(loop, &end.timer, INT64_MAX);
    assert_false(g_main_context_pending(ctx));
    adapter_fixture_t fx = fixture(ctx, loop);
    adapter_run_for(&fx, 20);
    tempo__timer_start_after(loop, &far.timer, TEMPO_HOURS(1));
    assert_false(g_main_context_pending(ctx));
    adapter_run_for(&fx, 20);
    assert_int_equal(rounds(loop), 0);
    assert_int_equal(end.fires + far.fires, 0);
    tempo__timer_stop(loop, &far.timer);
    tempo__timer_stop(loop, &end.timer);
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* The ready time is one-shot: after the fire, with nothing re-armed, the
 * source is idle again (GLib does not reset a ready time by itself). */
static void test_timer_is_one_shot(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    probe_t t;
    probe_init(&t);
    tempo__timer_start_after(loop, &t.timer, 1000);
    adapter_fixture_t fx = fixture(ctx, loop);
    assert_true(adapter_run_until(&fx, probe_fired, &t, 5000));
    uint64_t after_fire = rounds(loop);
    assert_false(g_main_context_pending(ctx));
    adapter_run_for(&fx, 20);
    assert_int_equal(rounds(loop), after_fire);
    assert_int_equal(t.fires, 1);
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* A paused watch on a broken pipe: poll() reports POLLERR whatever the mask,
 * so a paused fd left in the source would make every iteration return at
 * once. Count iterations over a stretch of real time instead of rounds (the
 * core would never see such spins). */
static void test_paused_watch_does_not_spin(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    int fds[2];
    make_pipe(fds);
    tempo__watch_t *w = tempo__watch_start(loop, fds[1], TEMPO_IO_WRITE, never_io, NULL);
    assert_non_null(w);
    assert_int_equal(tempo__watch_update(loop, w, 0), 0);
    close(fds[0]); /* the write end is now in error */
    gint64 end = g_get_monotonic_time() + 60000;
    int iterations = 0;
    while (g_get_monotonic_time() < end) {
        iterate(ctx, 20);
        iterations++;
    }
    assert_true(iterations <= 6);
    assert_int_equal(rounds(loop), 0);
    tempo__watch_stop(loop, w);
    close(fds[1]);
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* Errors on a watched fd come back as the events the watch asks for, so
 * that the owner's read or write sees them: a hung-up pipe for a reader
 * (G_IO_HUP), a broken pipe for a writer (G_IO_ERR), and a descriptor
 * closed under a live watch (G_IO_NVAL). */
typedef struct err_probe {
    int calls;
    int events;
} err_probe_t;

static void err_io(void *arg, int events)
{
    err_probe_t *p = arg;
    p->calls++;
    p->events = events;
}

static bool err_called(void *arg)
{
    return ((err_probe_t *)arg)->calls > 0;
}

static void expect_error_report(tempo_loop_t *loop, GMainContext *ctx, int fd, int events,
                                void (*breakit)(int fds[2]), int fds[2])
{
    err_probe_t p = {0};
    tempo__watch_t *w = tempo__watch_start(loop, fd, events, err_io, &p);
    assert_non_null(w);
    adapter_fixture_t fx = fixture(ctx, loop);
    adapter_run_for(&fx, 10);
    assert_int_equal(p.calls, 0);
    breakit(fds);
    assert_true(adapter_run_until(&fx, err_called, &p, 5000));
    assert_int_equal(p.events, events);
    tempo__watch_stop(loop, w);
}

static void close_writer(int fds[2])
{
    close(fds[1]);
    fds[1] = -1;
}

static void close_reader(int fds[2])
{
    close(fds[0]);
    fds[0] = -1;
}

static void test_errors_reported(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    int fds[2];
    make_pipe(fds);
    expect_error_report(loop, ctx, fds[0], TEMPO_IO_READ, close_writer, fds);
    close(fds[0]);
    make_pipe(fds);
    /* A full pipe, so the writer is not simply writable. */
    while (write(fds[1], "xxxxxxxxxxxxxxxx", 16) > 0) {
    }
    expect_error_report(loop, ctx, fds[1], TEMPO_IO_WRITE, close_reader, fds);
    close(fds[1]);
    make_pipe(fds);
    expect_error_report(loop, ctx, fds[0], TEMPO_IO_READ, close_reader, fds);
    close(fds[1]);
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* ---- which context ------------------------------------------------------------- */

/* On a private context, with the global default context left alone: the
 * adapter's source is not on the default context (a zero-delay request
 * would make it pending there), and everything works by running the private
 * one only. */
static void test_private_context_default_idle(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    probe_t d, t, q;
    probe_init(&d);
    probe_init(&t);
    probe_init(&q);
    tempo__loop_defer(loop, &d.call, probe_fire, &d);
    assert_true(g_main_context_pending(ctx));
    assert_false(g_main_context_pending(NULL));
    tempo__timer_start_after(loop, &t.timer, 2000);
    int fds[2];
    make_pipe(fds);
    int io_calls = 0;
    assert_non_null(tempo__watch_start(loop, fds[0], TEMPO_IO_READ, count_io, &io_calls));
    assert_int_equal(write(fds[1], "x", 1), 1);
    tempo__loop_post(loop, &q.call, probe_fire, &q);
    assert_int_equal(q.fires, 0); /* a wake never runs inside the post */
    assert_false(g_main_context_pending(NULL));
    adapter_fixture_t fx = fixture(ctx, loop);
    assert_true(adapter_run_until(&fx, probe_fired, &t, 5000));
    assert_int_equal(d.fires, 1);
    assert_int_equal(q.fires, 1);
    assert_true(io_calls >= 1);
    assert_false(g_main_context_pending(NULL));
    tempo_loop_free(loop);
    close_pipe(fds);
    g_main_context_unref(ctx);
}

/* NULL is the thread-default context: the one pushed on this thread, else
 * the global default. */
static void test_null_is_thread_default(void **state)
{
    (void)state;
    /* Nothing pushed: the global default context. */
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(NULL, &loop, NULL), TEMPO_OK);
    probe_t d;
    probe_init(&d);
    tempo__loop_defer(loop, &d.call, probe_fire, &d);
    assert_true(g_main_context_pending(NULL));
    adapter_fixture_t fx = fixture(g_main_context_default(), loop);
    assert_true(adapter_run_until(&fx, probe_fired, &d, 5000));
    tempo_loop_free(loop);
    assert_false(g_main_context_pending(NULL));

    /* A pushed context. */
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    assert_int_equal(tempo_glib_loop_new(NULL, &loop, NULL), TEMPO_OK);
    g_main_context_pop_thread_default(ctx);
    probe_init(&d);
    tempo__loop_defer(loop, &d.call, probe_fire, &d);
    assert_false(g_main_context_pending(NULL));
    assert_true(g_main_context_pending(ctx));
    fx = fixture(ctx, loop);
    assert_true(adapter_run_until(&fx, probe_fired, &d, 5000));
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* The application drops its reference first; the adapter's keeps the
 * context (and the adapter's source on it) alive until the loop is freed. */
static void test_context_outlives_host_ref(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    g_main_context_unref(ctx); /* the application's reference, gone */
    /* Still usable (nothing here frees the loop inside a dispatch, which
     * would need the runner to hold a reference of its own). */
    probe_t t;
    probe_init(&t);
    tempo__timer_start_after(loop, &t.timer, 1000);
    adapter_fixture_t fx = fixture(ctx, loop);
    assert_true(adapter_run_until(&fx, probe_fired, &t, 5000));
    probe_t q;
    probe_init(&q);
    tempo__loop_post(loop, &q.call, probe_fire, &q); /* wakes a context nobody runs */
    tempo_loop_free(loop); /* the last reference: ASan checks the order */
    assert_int_equal(q.fires, 0);
}

/* ---- two adapters on one context ----------------------------------------------- */

typedef struct pair_side {
    tempo__timer_t timer;
    tempo_loop_t **other;
    int fires;
} pair_side_t;

static void pair_fire(void *arg)
{
    pair_side_t *s = arg;
    s->fires++;
    /* The first one to run frees the other adapter, whose source was ready
     * in the same iteration: GLib must skip it, and it must not call in. */
    if (*s->other) {
        tempo_loop_free(*s->other);
        *s->other = NULL;
    }
}

static bool pair_one_fired(void *arg)
{
    pair_side_t *s = arg;
    return s[0].fires + s[1].fires > 0;
}

static void test_two_adapters_one_context(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    tempo_loop_t *a, *b;
    assert_int_equal(tempo_glib_loop_new(ctx, &a, NULL), TEMPO_OK);
    assert_int_equal(tempo_glib_loop_new(ctx, &b, NULL), TEMPO_OK);
    adapter_fixture_t fa = fixture(ctx, a), fb = fixture(ctx, b);

    /* Independent timers, watches and posts. */
    probe_t ta, tb, qa, qb;
    probe_init(&ta);
    probe_init(&tb);
    probe_init(&qa);
    probe_init(&qb);
    tempo__timer_start_after(a, &ta.timer, TEMPO_HOURS(1));
    tempo__timer_start_after(b, &tb.timer, 1000);
    int pa[2], pb[2], ioa = 0, iob = 0;
    make_pipe(pa);
    make_pipe(pb);
    tempo__watch_t *wa = tempo__watch_start(a, pa[0], TEMPO_IO_READ, count_io, &ioa);
    tempo__watch_t *wb = tempo__watch_start(b, pb[0], TEMPO_IO_READ, count_io, &iob);
    assert_non_null(wa);
    assert_non_null(wb);
    assert_true(adapter_run_until(&fb, probe_fired, &tb, 5000));
    assert_int_equal(ta.fires, 0); /* b's timer does not fire a's */
    tempo__timer_start_after(a, &ta.timer, 1000);
    assert_true(adapter_run_until(&fa, probe_fired, &ta, 5000));
    assert_int_equal(ioa + iob, 0);
    assert_int_equal(write(pb[1], "x", 1), 1);
    assert_true(adapter_run_until(&fb, count_nonzero, &iob, 5000));
    assert_int_equal(ioa, 0);
    tempo__loop_post(a, &qa.call, probe_fire, &qa);
    assert_true(adapter_run_until(&fa, probe_fired, &qa, 5000));
    assert_int_equal(qb.fires, 0);
    tempo__watch_stop(a, wa);
    tempo__watch_stop(b, wb);

    /* Both due in the same iteration; the first frees the other. */
    pair_side_t side[2] = {{.other = &b}, {.other = &a}};
    tempo__timer_init(&side[0].timer, pair_fire, &side[0]);
    tempo__timer_init(&side[1].timer, pair_fire, &side[1]);
    tempo_time_t at = tempo_loop_now(a) + 1000;
    tempo__timer_start(a, &side[0].timer, at);
    tempo__timer_start(b, &side[1].timer, at);
    assert_true(adapter_run_until(&fa, pair_one_fired, side, 5000));
    adapter_run_for(&fa, 20);
    assert_int_equal(side[0].fires + side[1].fires, 1);
    /* The survivor goes on. */
    tempo_loop_t *survivor = a ? a : b;
    assert_non_null(survivor);
    assert_true(a == NULL || b == NULL);
    probe_t after;
    probe_init(&after);
    tempo__timer_start_after(survivor, &after.timer, 1000);
    adapter_fixture_t fs = fixture(ctx, survivor);
    assert_true(adapter_run_until(&fs, probe_fired, &after, 5000));
    tempo_loop_free(survivor);
    close_pipe(pa);
    close_pipe(pb);
    g_main_context_unref(ctx);
}

/* ---- several events in one dispatch ------------------------------------------- */

typedef struct busy {
    tempo__timer_t timer;
    tempo__timer_t later; /* keeps the core's timer armed after the round */
    tempo_loop_t *loop;
    tempo__watch_t *w[2];
    int fds[2][2];
    int io_calls;
    int timer_fires;
    bool free_in_timer, free_in_io, stop_other;
} busy_t;

static void busy_free(busy_t *b)
{
    tempo_loop_free(b->loop);
    b->loop = NULL;
}

static void busy_timer(void *arg)
{
    busy_t *b = arg;
    b->timer_fires++;
    if (b->free_in_timer)
        busy_free(b);
}

static void busy_io(void *arg, int events)
{
    (void)events;
    busy_t *b = arg;
    b->io_calls++;
    if (b->free_in_io) {
        busy_free(b);
        return;
    }
    if (b->stop_other) {
        /* Stop whichever is still live (this one too: no harm). */
        for (int i = 0; i < 2; i++) {
            tempo__watch_stop(b->loop, b->w[i]);
            b->w[i] = NULL;
        }
    }
}

static bool busy_io_called(void *arg)
{
    return ((busy_t *)arg)->io_calls > 0;
}

static bool busy_timer_fired(void *arg)
{
    return ((busy_t *)arg)->timer_fires > 0;
}

/* Arm the timer (due), post, and make both watches ready, so that one
 * dispatch of the adapter's source has all of it to deliver. */
static void busy_arm(busy_t *b, GMainContext *ctx, probe_t *q)
{
    assert_int_equal(tempo_glib_loop_new(ctx, &b->loop, NULL), TEMPO_OK);
    tempo__timer_init(&b->timer, busy_timer, b);
    for (int i = 0; i < 2; i++) {
        make_pipe(b->fds[i]);
        b->w[i] = tempo__watch_start(b->loop, b->fds[i][0], TEMPO_IO_READ, busy_io, b);
        assert_non_null(b->w[i]);
        assert_int_equal(write(b->fds[i][1], "x", 1), 1);
    }
    tempo__timer_start(b->loop, &b->timer, tempo_loop_now(b->loop) - 1);
    tempo__timer_init(&b->later, busy_timer, b);
    tempo__timer_start_after(b->loop, &b->later, TEMPO_HOURS(1));
    probe_init(q);
    tempo__loop_post(b->loop, &q->call, probe_fire, q);
}

static void busy_close(busy_t *b)
{
    for (int i = 0; i < 2; i++)
        close_pipe(b->fds[i]);
}

static void test_free_inside_busy_dispatch(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    probe_t q;

    /* The timer's callback frees the loop: the wake and both ready fds of
     * the same dispatch are never delivered (the timer goes first). */
    busy_t b = {.free_in_timer = true};
    busy_arm(&b, ctx, &q);
    adapter_fixture_t fx = fixture(ctx, b.loop);
    assert_true(adapter_run_until(&fx, busy_timer_fired, &b, 5000));
    adapter_run_for(&fx, 20);
    assert_null(b.loop);
    assert_int_equal(b.io_calls, 0);
    busy_close(&b);

    /* The first ready fd's callback frees it: the second is not reported. */
    busy_t c = {.free_in_io = true};
    busy_arm(&c, ctx, &q);
    fx = fixture(ctx, c.loop);
    assert_true(adapter_run_until(&fx, busy_io_called, &c, 5000));
    adapter_run_for(&fx, 20);
    assert_null(c.loop);
    assert_int_equal(c.io_calls, 1);
    assert_int_equal(c.timer_fires, 1);
    assert_int_equal(q.fires, 1);
    busy_close(&c);
    g_main_context_unref(ctx);
}

/* Both fds ready in one poll; the first callback stops both watches: the
 * other one's readiness, already collected, is dropped (loop.h). */
static void test_stop_other_ready_watch(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    probe_t q;
    busy_t b = {.stop_other = true};
    busy_arm(&b, ctx, &q);
    adapter_fixture_t fx = fixture(ctx, b.loop);
    assert_true(adapter_run_until(&fx, busy_io_called, &b, 5000));
    adapter_run_for(&fx, 20);
    assert_int_equal(b.io_calls, 1);
    /* The timer was delivered before the wake-up: the round on_wake starts
     * re-arms the core's timer (for `later`), and an on_timer after it
     * would come before that deadline. */
    tempo__loop_stats_t st;
    tempo__loop_get_stats(b.loop, &st);
    assert_int_equal(st.timer_entries, 1);
    assert_int_equal(st.early_timer_entries, 0);
    tempo__timer_stop(b.loop, &b.later);
    assert_int_equal(tempo__loop_pending(b.loop), 0);
    tempo_loop_free(b.loop);
    busy_close(&b);
    g_main_context_unref(ctx);
}

/* ---- a wake-up and the poll ---------------------------------------------------- */

/* GLib's poll function is per context, without user data: these tests run
 * one at a time, on one context. */
static pthread_mutex_t poll_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poll_cv = PTHREAD_COND_INITIALIZER;
static int polls_entered;     /* under poll_mu */
static gint first_poll_timeout;

static gint hooked_poll(GPollFD *fds, guint nfds, gint timeout)
{
    pthread_mutex_lock(&poll_mu);
    if (polls_entered++ == 0)
        first_poll_timeout = timeout;
    pthread_cond_broadcast(&poll_cv);
    pthread_mutex_unlock(&poll_mu);
    return g_poll(fds, nfds, timeout);
}

static void hook_reset(void)
{
    pthread_mutex_lock(&poll_mu);
    polls_entered = 0;
    first_poll_timeout = -2;
    pthread_mutex_unlock(&poll_mu);
}

/* A wake-up already sent when an iteration starts: that iteration does not
 * block at all (prepare reports it, so the poll timeout is 0). */
static void test_pending_wake_does_not_block(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    g_main_context_set_poll_func(ctx, hooked_poll);
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    hook_reset();
    probe_t q;
    probe_init(&q);
    tempo__loop_post(loop, &q.call, probe_fire, &q);
    assert_true(iterate(ctx, 5000));
    assert_int_equal(first_poll_timeout, 0);
    assert_int_equal(q.fires, 1);
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

typedef struct poll_poster {
    tempo_loop_t *loop;
    probe_t q;
} poll_poster_t;

static void *post_once_polling(void *arg)
{
    poll_poster_t *p = arg;
    pthread_mutex_lock(&poll_mu);
    while (polls_entered == 0)
        pthread_cond_wait(&poll_cv, &poll_mu);
    pthread_mutex_unlock(&poll_mu);
    tempo__loop_post(p->loop, &p->q.call, probe_fire, &p->q);
    return NULL;
}

/* A wake-up from another thread while the loop thread is in (or entering)
 * its poll: the same iteration returns and delivers it, i.e. check sees the
 * flag after g_main_context_wakeup cut the poll short. */
static void test_wake_interrupts_poll(void **state)
{
    (void)state;
    GMainContext *ctx = g_main_context_new();
    g_main_context_set_poll_func(ctx, hooked_poll);
    tempo_loop_t *loop;
    assert_int_equal(tempo_glib_loop_new(ctx, &loop, NULL), TEMPO_OK);
    for (int i = 0; i < 50; i++) {
        hook_reset();
        poll_poster_t p = {.loop = loop};
        probe_init(&p.q);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, post_once_polling, &p), 0);
        gint64 t0 = g_get_monotonic_time();
        assert_true(iterate(ctx, 5000));
        pthread_join(th, NULL);
        assert_int_equal(p.q.fires, 1);
        assert_true(g_get_monotonic_time() - t0 < 4000000); /* not the guard */
    }
    tempo_loop_free(loop);
    g_main_context_unref(ctx);
}

/* ---- wake-ups while everything is torn down ------------------------------------- */

/* Threads post to two adapters on one context while the loop thread runs it,
 * frees one adapter, drops the application's context reference (the
 * adapters' own keep the context alive for the wake-ups still arriving) and
 * finally frees the other, sometimes from inside one of its own callbacks.
 * Posting must end before a loop's memory goes away (loop.h); each target's
 * rwlock lets the posters go on right up to that point and not one post
 * further. Repeated many times: ASan and TSan look for use-after-free and
 * races in the adapter's wake path. */
#define TD_ROUNDS 150
#define TD_THREADS 3
#define TD_POSTS 64

typedef struct td_target {
    tempo_loop_t *loop;
    pthread_rwlock_t gate;
    bool gone; /* under gate */
    atomic_int ran;
} td_target_t;

typedef struct td_poster {
    td_target_t *targets;
    pthread_barrier_t *go;
    tempo__call_t calls[2][TD_POSTS];
} td_poster_t;

static void td_count(void *arg)
{
    atomic_fetch_add(&((td_target_t *)arg)->ran, 1);
}

static void td_post(td_target_t *t, tempo__call_t *call)
{
    pthread_rwlock_rdlock(&t->gate);
    if (!t->gone)
        tempo__loop_post(t->loop, call, td_count, t);
    pthread_rwlock_unlock(&t->gate);
}

static void *td_poster_main(void *arg)
{
    td_poster_t *p = arg;
    pthread_barrier_wait(p->go);
    for (int i = 0; i < TD_POSTS; i++) {
        td_post(&p->targets[0], &p->calls[0][i]);
        td_post(&p->targets[1], &p->calls[1][i]);
    }
    return NULL;
}

static void td_free(td_target_t *t)
{
    pthread_rwlock_wrlock(&t->gate);
    tempo_loop_free(t->loop); /* inside a callback: the detach follows later */
    t->gone = true;
    pthread_rwlock_unlock(&t->gate);
}

typedef struct td_freer {
    tempo__call_t call;
    td_target_t *target;
    bool done;
} td_freer_t;

static void td_free_from_callback(void *arg)
{
    td_freer_t *f = arg;
    td_free(f->target);
    f->done = true;
}

static bool td_freer_done(void *arg)
{
    return ((td_freer_t *)arg)->done;
}

static bool td_some_ran(void *arg)
{
    td_target_t *t = arg;
    return atomic_load(&t[0].ran) > 0 && atomic_load(&t[1].ran) > 0;
}

static void td_round(int round)
{
    GMainContext *ctx = g_main_context_new();
    td_target_t t[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tempo_glib_loop_new(ctx, &t[i].loop, NULL), TEMPO_OK);
        pthread_rwlock_init(&t[i].gate, NULL);
        t[i].gone = false;
        atomic_init(&t[i].ran, 0);
    }
    static td_poster_t posters[TD_THREADS];
    pthread_t th[TD_THREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, TD_THREADS + 1);
    for (int i = 0; i < TD_THREADS; i++) {
        posters[i].targets = t;
        posters[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, td_poster_main, &posters[i]), 0);
    }
    pthread_barrier_wait(&go);
    /* Run until both saw a post (the posts race the iterations), then take
     * them down while the posts go on. */
    adapter_fixture_t fx = fixture(ctx, t[0].loop);
    assert_true(adapter_run_until(&fx, td_some_ran, t, 10000));
    td_free(&t[1]);
    g_main_context_ref(ctx); /* the runner's reference, for what follows */
    g_main_context_unref(ctx); /* the application's, gone: wakes go on */
    if (round % 2) {
        /* From inside the adapter's dispatch (on_wake of a post). */
        td_freer_t f = {.target = &t[0]};
        tempo__loop_post(t[0].loop, &f.call, td_free_from_callback, &f);
        assert_true(adapter_run_until(&fx, td_freer_done, &f, 10000));
        g_main_context_unref(ctx);
    } else {
        /* From outside, the context no longer run by anyone. */
        g_main_context_unref(ctx);
        td_free(&t[0]); /* the last context reference goes here */
    }
    for (int i = 0; i < TD_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++) {
        assert_true(t[i].gone);
        assert_true(atomic_load(&t[i].ran) <= TD_THREADS * TD_POSTS);
        pthread_rwlock_destroy(&t[i].gate);
    }
}

static void test_wake_during_teardown(void **state)
{
    (void)state;
    for (int round = 0; round < TD_ROUNDS; round++)
        td_round(round);
}

int main(void)
{
    int failures = adapter_conformance_tests(&driver);
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_idle_never_ready),
        cmocka_unit_test(test_timer_is_one_shot),
        cmocka_unit_test(test_paused_watch_does_not_spin),
        cmocka_unit_test(test_errors_reported),
        cmocka_unit_test(test_private_context_default_idle),
        cmocka_unit_test(test_null_is_thread_default),
        cmocka_unit_test(test_context_outlives_host_ref),
        cmocka_unit_test(test_two_adapters_one_context),
        cmocka_unit_test(test_free_inside_busy_dispatch),
        cmocka_unit_test(test_stop_other_ready_watch),
        cmocka_unit_test(test_pending_wake_does_not_block),
        cmocka_unit_test(test_wake_interrupts_poll),
        cmocka_unit_test(test_wake_during_teardown),
    };
    failures += cmocka_run_group_tests_name("glib: own cases", own, NULL, NULL);
    return failures ? 1 : 0;
}
