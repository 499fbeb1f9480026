/* libev as a benchmark host (loops.h).
 *
 * Raw timers: repeating ev_timers. libev keeps a repeating timer's phase
 * (it adds `repeat` to the instant the timer was due, not to when it ran),
 * so fire k of timer i is due at base + offset_i + k * period: exactly the
 * instants tempo's interval schedules are due at. Lag is measured against
 * those instants on CLOCK_REALTIME, the clock libev's ev_time() reads.
 *
 * Raw relay: a mutex-protected FIFO plus ev_async_send, sent only when the
 * FIFO was empty (libev merges sends anyway); the async callback takes the
 * whole FIFO under the mutex and delivers it. */
#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <tempo/ev.h>

#include "loops.h"

typedef struct ev_host {
    struct ev_loop *loop;
} ev_host_t;

static void *create(void)
{
    ev_host_t *h = calloc(1, sizeof *h);
    if (h && !(h->loop = ev_loop_new(EVFLAG_AUTO))) {
        free(h);
        h = NULL;
    }
    return h;
}

static void destroy(void *host)
{
    ev_host_t *h = host;
    ev_loop_destroy(h->loop);
    free(h);
}

static tempo_status_t adapter(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_ev_loop_new(((ev_host_t *)host)->loop, out, err);
}

static void run(void *host)
{
    ev_run(((ev_host_t *)host)->loop, 0);
}

static void quit(void *host)
{
    ev_break(((ev_host_t *)host)->loop, EVBREAK_ALL);
}

static void run_once(void *host, int nowait)
{
    ev_run(((ev_host_t *)host)->loop, nowait ? EVRUN_NOWAIT : EVRUN_ONCE);
}

typedef struct after {
    ev_timer w; /* first: libev hands back &w */
    host_fn fn;
    void *arg;
} after_t;

static void after_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    after_t *a = (after_t *)w;
    a->fn(a->arg);
    free(a);
}

static void after(void *host, int64_t delay_us, host_fn fn, void *arg)
{
    ev_host_t *h = host;
    after_t *a = calloc(1, sizeof *a);
    if (!a)
        abort(); /* a benchmark without its window measures nothing */
    a->fn = fn;
    a->arg = arg;
    ev_now_update(h->loop); /* count from now, not the cached loop time */
    ev_timer_init(&a->w, after_cb, delay_us > 0 ? (double)delay_us / 1e6 : 0., 0.);
    ev_timer_start(h->loop, &a->w);
}

/* ---- raw timers ---------------------------------------------------------- */

typedef struct raw_timer {
    ev_timer w; /* first */
    int64_t due_us;
} raw_timer_t;

typedef struct raw_timers {
    raw_timer_t *v;
    long n;
} raw_timers_t;

/* One side runs at a time: the callback finds its state here rather than
 * through a per-timer pointer (which would make each timer bigger). */
static bench_lags_t *g_lags;
static int64_t g_period_us;

static void fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    raw_timer_t *t = (raw_timer_t *)w;
    bench_lags_add(g_lags, bench_realtime_us() - t->due_us);
    t->due_us += g_period_us;
}

static void *timers_start(void *host, const fire_cfg_t *cfg, int64_t base_us, bench_lags_t *lags)
{
    ev_host_t *h = host;
    raw_timers_t *ts = calloc(1, sizeof *ts);
    if (!ts || !(ts->v = calloc((size_t)cfg->count, sizeof *ts->v))) {
        free(ts);
        return NULL;
    }
    ts->n = cfg->count;
    g_lags = lags;
    g_period_us = cfg->period_us;
    /* All count from one cached loop time, so their due instants are exact
     * relative to it: rt0 + after == base + offset. */
    ev_now_update(h->loop);
    double rt0 = ev_now(h->loop), period = (double)cfg->period_us / 1e6;
    for (long i = 0; i < ts->n; i++) {
        raw_timer_t *t = &ts->v[i];
        t->due_us = base_us + fire_offset(cfg, i);
        ev_timer_init(&t->w, fired, (double)t->due_us / 1e6 - rt0, period);
        ev_timer_start(h->loop, &t->w);
    }
    return ts;
}

static void timers_stop(void *host, void *timers)
{
    ev_host_t *h = host;
    raw_timers_t *ts = timers;
    for (long i = 0; i < ts->n; i++)
        ev_timer_stop(h->loop, &ts->v[i].w);
    free(ts->v);
    free(ts);
}

/* ---- raw relay ------------------------------------------------------------- */

typedef struct relay {
    ev_async async; /* first */
    struct ev_loop *loop;
    host_fn deliver;
    pthread_mutex_t mu;
    relay_node_t *head, **tail;
} relay_t;

static void relay_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop, (void)revents;
    relay_t *r = (relay_t *)w;
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
    ev_host_t *h = host;
    relay_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->loop = h->loop;
    r->deliver = deliver;
    pthread_mutex_init(&r->mu, NULL);
    r->tail = &r->head;
    ev_async_init(&r->async, relay_cb);
    ev_async_start(h->loop, &r->async);
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
        ev_async_send(r->loop, &r->async);
}

static void relay_free(void *relay)
{
    relay_t *r = relay;
    ev_async_stop(r->loop, &r->async);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

const host_ops_t host_ev = {
    .loop = "libev",
    .raw_timer = "ev_timer",
    .raw_wake = "ev_async",
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
