/* GLib as a benchmark host (loops.h): a private GMainContext run by a
 * GMainLoop, as an application with its own context would.
 *
 * Raw timers: g_timeout_add's source — g_timeout_source_new(period_ms) —
 * attached to that context (g_timeout_add itself targets the global
 * default context), one per timer, repeating (the callback returns
 * G_SOURCE_CONTINUE). The first expiration is moved to the timer's offset
 * in the period with g_source_set_ready_time. After that GLib sets each
 * next expiration to the time of the iteration that dispatched it plus the
 * interval, so these timers drift by their own lag every period (GLib's
 * semantics, kept: this is the primitive an application uses). Lag is
 * therefore measured against the instant GLib itself meant the source to
 * fire — its ready time, read at the start of the callback — on GLib's
 * monotonic clock.
 *
 * Raw relay: g_main_context_invoke(context, ...) from the posting thread.
 * The context is not that thread's, so GLib makes an idle source per call
 * and attaches it (GLib allocates; nothing to tune). GLib's own locks are
 * invisible to ThreadSanitizer (an uninstrumented library), so TSan sees
 * races through this relay that are not there: tsan-glib-relay.supp
 * silences exactly the stacks through glib_relay_post and
 * glib_relay_invoked, and nothing of tempo's. */
#include <stdlib.h>

#include <tempo/glib.h>

#include "loops.h"

typedef struct glib_host {
    GMainContext *ctx;
    GMainLoop *ml;
} glib_host_t;

static void *create(void)
{
    glib_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->ctx = g_main_context_new();
    h->ml = g_main_loop_new(h->ctx, FALSE);
    return h;
}

static void destroy(void *host)
{
    glib_host_t *h = host;
    while (g_main_context_iteration(h->ctx, FALSE)) {
    }
    g_main_loop_unref(h->ml);
    g_main_context_unref(h->ctx);
    free(h);
}

static tempo_status_t adapter(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_glib_loop_new(((glib_host_t *)host)->ctx, out, err);
}

static void run(void *host)
{
    g_main_loop_run(((glib_host_t *)host)->ml);
}

static void quit(void *host)
{
    g_main_loop_quit(((glib_host_t *)host)->ml);
}

static void run_once(void *host, int nowait)
{
    g_main_context_iteration(((glib_host_t *)host)->ctx, !nowait);
}

typedef struct after {
    host_fn fn;
    void *arg;
} after_t;

static gboolean after_cb(gpointer data)
{
    after_t *a = data;
    a->fn(a->arg);
    return G_SOURCE_REMOVE;
}

static void after(void *host, int64_t delay_us, host_fn fn, void *arg)
{
    glib_host_t *h = host;
    after_t *a = calloc(1, sizeof *a);
    if (!a)
        abort(); /* a benchmark without its window measures nothing */
    a->fn = fn;
    a->arg = arg;
    GSource *s = g_timeout_source_new(0);
    g_source_set_callback(s, after_cb, a, free);
    g_source_set_ready_time(s, g_get_monotonic_time() + (delay_us > 0 ? delay_us : 0));
    g_source_attach(s, h->ctx);
    g_source_unref(s);
}

/* ---- raw timers ---------------------------------------------------------- */

typedef struct raw_timers {
    GSource **v;
    long n;
} raw_timers_t;

/* One side runs at a time (see host_ev.c). */
static bench_lags_t *g_lags;

static gboolean fired(gpointer data)
{
    GSource *s = data;
    bench_lags_add(g_lags, g_get_monotonic_time() - g_source_get_ready_time(s));
    return G_SOURCE_CONTINUE;
}

static void *timers_start(void *host, const fire_cfg_t *cfg, int64_t base_us, bench_lags_t *lags)
{
    glib_host_t *h = host;
    raw_timers_t *ts = calloc(1, sizeof *ts);
    if (!ts || !(ts->v = calloc((size_t)cfg->count, sizeof *ts->v))) {
        free(ts);
        return NULL;
    }
    ts->n = cfg->count;
    g_lags = lags;
    gint64 real_minus_mono = g_get_real_time() - g_get_monotonic_time();
    guint period_ms = (guint)(cfg->period_us / 1000);
    for (long i = 0; i < ts->n; i++) {
        GSource *s = g_timeout_source_new(period_ms);
        g_source_set_callback(s, fired, s, NULL);
        g_source_set_ready_time(s, base_us + fire_offset(cfg, i) - real_minus_mono);
        g_source_attach(s, h->ctx);
        ts->v[i] = s;
    }
    return ts;
}

static void timers_stop(void *host, void *timers)
{
    (void)host;
    raw_timers_t *ts = timers;
    for (long i = 0; i < ts->n; i++) {
        g_source_destroy(ts->v[i]);
        g_source_unref(ts->v[i]);
    }
    free(ts->v);
    free(ts);
}

/* ---- raw relay ------------------------------------------------------------- */

typedef struct relay {
    GMainContext *ctx;
    host_fn deliver;
} relay_t;

static gboolean glib_relay_invoked(gpointer data)
{
    relay_node_t *n = data;
    relay_t *r = n->relay;
    r->deliver(n->arg);
    return G_SOURCE_REMOVE;
}

static void *relay_new(void *host, host_fn deliver)
{
    glib_host_t *h = host;
    relay_t *r = calloc(1, sizeof *r);
    if (r) {
        r->ctx = h->ctx;
        r->deliver = deliver;
    }
    return r;
}

static void glib_relay_post(void *relay, relay_node_t *node)
{
    relay_t *r = relay;
    node->relay = r; /* GLib hands the callback one pointer: the node */
    g_main_context_invoke(r->ctx, glib_relay_invoked, node);
}

static void relay_free(void *relay)
{
    free(relay);
}

const host_ops_t host_glib = {
    .loop = "glib",
    .raw_timer = "g_timeout",
    .raw_wake = "g_main_context_invoke",
    .create = create,
    .destroy = destroy,
    .adapter = adapter,
    .run = run,
    .quit = quit,
    .run_once = run_once,
    .after = after,
    .timers_start = timers_start,
    .timers_stop = timers_stop,
    .relay_new = relay_new,
    .relay_post = glib_relay_post,
    .relay_free = relay_free,
};
