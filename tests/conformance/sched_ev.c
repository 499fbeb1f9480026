/* The scheduler on libev (sched_loops.h): a libev loop of its own per case
 * (libev's default backend; LIBEV_FLAGS picks another), a guard ev_timer
 * bounding each iteration, and ev_timers for the cases' host timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include <tempo/ev.h>

#include "sched_loops.h"

typedef struct later later_t;

typedef struct ev_host {
    struct ev_loop *evloop;
    ev_timer guard;
    later_t *pending; /* host timers not yet fired */
} ev_host_t;

struct later {
    ev_timer w; /* first: libev hands back &w */
    ev_host_t *host;
    void (*fn)(void *);
    void *arg;
    later_t *prev, *next;
};

static void unlink_later(later_t *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        l->host->pending = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

static void guard_cb(struct ev_loop *evloop, ev_timer *w, int revents)
{
    (void)evloop, (void)w, (void)revents;
}

static void *host_new(void)
{
    ev_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->evloop = ev_loop_new(EVFLAG_AUTO);
    if (!h->evloop) {
        free(h);
        return NULL;
    }
    ev_timer_init(&h->guard, guard_cb, 0., 0.);
    return h;
}

static void host_free(void *host)
{
    ev_host_t *h = host;
    while (h->pending) {
        later_t *l = h->pending;
        ev_timer_stop(h->evloop, &l->w);
        unlink_later(l);
        free(l);
    }
    ev_timer_stop(h->evloop, &h->guard);
    ev_loop_destroy(h->evloop);
    free(h);
}

static tempo_status_t loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_ev_loop_new(((ev_host_t *)host)->evloop, out, err);
}

static void run_once(void *host, int max_ms)
{
    ev_host_t *h = host;
    ev_timer_stop(h->evloop, &h->guard);
    ev_now_update(h->evloop);
    ev_timer_set(&h->guard, max_ms / 1000.0, 0.);
    ev_timer_start(h->evloop, &h->guard);
    ev_run(h->evloop, EVRUN_ONCE);
    ev_timer_stop(h->evloop, &h->guard);
}

static void later_cb(struct ev_loop *evloop, ev_timer *w, int revents)
{
    (void)evloop, (void)revents;
    later_t *l = (later_t *)w;
    unlink_later(l);
    l->fn(l->arg);
    free(l);
}

static void call_later(void *host, int ms, void (*fn)(void *), void *arg)
{
    ev_host_t *h = host;
    later_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->host = h;
    l->fn = fn;
    l->arg = arg;
    l->next = h->pending;
    if (h->pending)
        h->pending->prev = l;
    h->pending = l;
    ev_now_update(h->evloop);
    ev_timer_init(&l->w, later_cb, ms / 1000.0, 0.);
    ev_timer_start(h->evloop, &l->w);
}

int main(void)
{
    static const sched_driver_t driver = {
        .name = "scheduler on libev",
        .host_new = host_new,
        .host_free = host_free,
        .loop_new = loop_new,
        .run_once = run_once,
        .call_later = call_later,
    };
    return sched_loops_tests(&driver) ? 1 : 0;
}
