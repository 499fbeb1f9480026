/* libuv as a benchmark host (loops.h).
 *
 * Raw timers: one-shot uv_timers that re-arm themselves, in their callback,
 * for the next instant of a fixed grid (base + offset_i + k * period), so
 * that they are due at the instants tempo's interval schedules are due at.
 * (A repeating uv_timer would not do: libuv re-arms it from the loop time
 * at which it ran, so every fire's lag would push all later ones back.)
 * The re-arm costs what libuv's own repeat costs (stop + start on its
 * timer heap). Instants are mapped once onto libuv's clock (whole ms of
 * the monotonic clock): due_ms = ceil((due_realtime - offset) / 1000),
 * timeout = due_ms - uv_now(), which libuv adds back to the same uv_now().
 * Lag is measured against the grid on CLOCK_REALTIME, as for tempo.
 *
 * Raw relay: a mutex-protected FIFO plus uv_async_send when the FIFO was
 * empty; the async callback takes the whole FIFO and delivers it. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <tempo/uv.h>

#include "loops.h"

static void *create(void)
{
    uv_loop_t *l = malloc(sizeof *l);
    if (l && uv_loop_init(l) != 0) {
        free(l);
        l = NULL;
    }
    return l;
}

/* Close callbacks (ours and tempo's adapter's) run in a later iteration. */
static void destroy(void *host)
{
    uv_loop_t *l = host;
    for (int i = 0; i < 100 && uv_loop_alive(l); i++)
        uv_run(l, UV_RUN_NOWAIT);
    uv_loop_close(l);
    free(l);
}

static tempo_status_t adapter(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_uv_loop_new(host, out, err);
}

static void run(void *host)
{
    uv_run(host, UV_RUN_DEFAULT);
}

static void quit(void *host)
{
    uv_stop(host);
}

static void run_once(void *host, int nowait)
{
    uv_run(host, nowait ? UV_RUN_NOWAIT : UV_RUN_ONCE);
}

static void free_data(uv_handle_t *h)
{
    free(h->data);
}

typedef struct after {
    uv_timer_t t;
    host_fn fn;
    void *arg;
} after_t;

static void after_cb(uv_timer_t *t)
{
    after_t *a = t->data;
    a->fn(a->arg);
    uv_close((uv_handle_t *)&a->t, free_data);
}

static void after(void *host, int64_t delay_us, host_fn fn, void *arg)
{
    after_t *a = calloc(1, sizeof *a);
    if (!a)
        abort(); /* a benchmark without its window measures nothing */
    a->fn = fn;
    a->arg = arg;
    uv_timer_init(host, &a->t);
    a->t.data = a;
    uv_update_time(host);
    uv_timer_start(&a->t, after_cb, delay_us > 0 ? (uint64_t)(delay_us + 999) / 1000 : 0, 0);
}

/* ---- raw timers ---------------------------------------------------------- */

typedef struct raw_timer {
    uv_timer_t t;
    int64_t due_us; /* CLOCK_REALTIME */
} raw_timer_t;

typedef struct raw_timers {
    raw_timer_t *v;
    long n;
} raw_timers_t;

/* One side runs at a time (see host_ev.c). */
static bench_lags_t *g_lags;
static int64_t g_period_us;
static int64_t g_real_minus_mono_us; /* CLOCK_REALTIME - libuv's hrtime */

static void fired(uv_timer_t *handle);

static void arm(raw_timer_t *t)
{
    uv_loop_t *l = t->t.loop;
    int64_t mono = t->due_us - g_real_minus_mono_us;
    uint64_t due_ms = (uint64_t)(mono + 999) / 1000;
    uint64_t now = uv_now(l);
    uv_timer_start(&t->t, fired, due_ms > now ? due_ms - now : 0, 0);
}

static void fired(uv_timer_t *handle)
{
    raw_timer_t *t = (raw_timer_t *)handle;
    bench_lags_add(g_lags, bench_realtime_us() - t->due_us);
    t->due_us += g_period_us;
    arm(t);
}

static void *timers_start(void *host, const fire_cfg_t *cfg, int64_t base_us, bench_lags_t *lags)
{
    raw_timers_t *ts = calloc(1, sizeof *ts);
    if (!ts || !(ts->v = calloc((size_t)cfg->count, sizeof *ts->v))) {
        free(ts);
        return NULL;
    }
    ts->n = cfg->count;
    g_lags = lags;
    g_period_us = cfg->period_us;
    g_real_minus_mono_us = bench_realtime_us() - (int64_t)(uv_hrtime() / 1000);
    uv_update_time(host);
    for (long i = 0; i < ts->n; i++) {
        raw_timer_t *t = &ts->v[i];
        uv_timer_init(host, &t->t);
        t->due_us = base_us + fire_offset(cfg, i);
        arm(t);
    }
    return ts;
}

static void timers_stop(void *host, void *timers)
{
    raw_timers_t *ts = timers;
    for (long i = 0; i < ts->n; i++)
        uv_close((uv_handle_t *)&ts->v[i].t, NULL);
    /* libuv touches each handle once more, in its close callback phase. */
    uv_run(host, UV_RUN_NOWAIT);
    free(ts->v);
    free(ts);
}

/* ---- raw relay ------------------------------------------------------------- */

typedef struct relay {
    uv_async_t async;
    host_fn deliver;
    pthread_mutex_t mu;
    relay_node_t *head, **tail;
} relay_t;

static void relay_cb(uv_async_t *async)
{
    relay_t *r = async->data;
    pthread_mutex_lock(&r->mu);
    relay_node_t *n = r->head;
    r->head = NULL;
    r->tail = &r->head;
    pthread_mutex_unlock(&r->mu);
    while (n) {
        relay_node_t *next = n->next; /* deliver may let the poster reuse n */
        r->deliver(n->arg);
        n = next;
    }
}

static void *relay_new(void *host, host_fn deliver)
{
    relay_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (uv_async_init(host, &r->async, relay_cb) != 0) {
        free(r);
        return NULL;
    }
    r->async.data = r;
    r->deliver = deliver;
    pthread_mutex_init(&r->mu, NULL);
    r->tail = &r->head;
    return r;
}

static void relay_post(void *relay, relay_node_t *node)
{
    relay_t *r = relay;
    node->next = NULL;
    pthread_mutex_lock(&r->mu);
    bool was_empty = r->head == NULL;
    *r->tail = node;
    r->tail = &node->next;
    pthread_mutex_unlock(&r->mu);
    if (was_empty)
        uv_async_send(&r->async);
}

static void relay_closed(uv_handle_t *h)
{
    relay_t *r = h->data;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void relay_free(void *relay)
{
    relay_t *r = relay;
    uv_close((uv_handle_t *)&r->async, relay_closed);
}

const host_ops_t host_uv = {
    .loop = "libuv",
    .raw_timer = "uv_timer",
    .raw_wake = "uv_async",
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
    .relay_post = relay_post,
    .relay_free = relay_free,
};
