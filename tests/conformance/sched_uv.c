/* The scheduler on libuv (sched_loops.h): a malloc'ed uv_loop_t per case, a
 * guard uv_timer bounding each iteration, uv_timers for the cases' host
 * timers. Freeing the host lets close callbacks run and then requires
 * uv_loop_close() == 0: the scheduler's adapter left no handle open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include <tempo/uv.h>

#include "sched_loops.h"

typedef struct later later_t;

typedef struct uv_host {
    uv_loop_t loop;
    uv_timer_t guard;
    later_t *pending; /* host timers not yet fired */
} uv_host_t;

struct later {
    uv_timer_t t;
    uv_host_t *host;
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

static void free_handle(uv_handle_t *h)
{
    free(h->data);
}

static void guard_cb(uv_timer_t *t)
{
    (void)t;
}

static void *host_new(void)
{
    uv_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (uv_loop_init(&h->loop) != 0) {
        free(h);
        return NULL;
    }
    uv_timer_init(&h->loop, &h->guard);
    return h;
}

static void print_handle(uv_handle_t *handle, void *arg)
{
    (void)arg;
    fprintf(stderr, "  left open: %s handle %p (active %d, closing %d)\n",
            uv_handle_type_name(uv_handle_get_type(handle)), (void *)handle, uv_is_active(handle),
            uv_is_closing(handle));
}

static void host_free(void *host)
{
    uv_host_t *h = host;
    while (h->pending) {
        later_t *l = h->pending;
        unlink_later(l);
        l->t.data = l;
        uv_close((uv_handle_t *)&l->t, free_handle);
    }
    uv_close((uv_handle_t *)&h->guard, NULL);
    /* Bounded: a handle left active must fail the case, not hang it. */
    for (int i = 0; i < 10 && uv_loop_alive(&h->loop); i++)
        uv_run(&h->loop, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&h->loop);
    if (rc != 0) {
        uv_walk(&h->loop, print_handle, NULL);
        fail_msg("uv_loop_close: %s (a handle was left open)", uv_strerror(rc));
    }
    free(h);
}

static tempo_status_t loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_uv_loop_new(&((uv_host_t *)host)->loop, out, err);
}

static void run_once(void *host, int max_ms)
{
    uv_host_t *h = host;
    uv_update_time(&h->loop);
    uv_timer_start(&h->guard, guard_cb, (uint64_t)max_ms, 0);
    uv_run(&h->loop, UV_RUN_ONCE);
    uv_timer_stop(&h->guard);
}

static void later_cb(uv_timer_t *t)
{
    later_t *l = t->data;
    unlink_later(l);
    l->fn(l->arg);
    uv_close((uv_handle_t *)&l->t, free_handle);
}

static void call_later(void *host, int ms, void (*fn)(void *), void *arg)
{
    uv_host_t *h = host;
    later_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->host = h;
    l->fn = fn;
    l->arg = arg;
    l->next = h->pending;
    if (h->pending)
        h->pending->prev = l;
    h->pending = l;
    uv_timer_init(&h->loop, &l->t);
    l->t.data = l;
    uv_update_time(&h->loop);
    uv_timer_start(&l->t, later_cb, (uint64_t)ms, 0);
}

int main(void)
{
    static const sched_driver_t driver = {
        .name = "scheduler on libuv",
        .host_new = host_new,
        .host_free = host_free,
        .loop_new = loop_new,
        .run_once = run_once,
        .call_later = call_later,
    };
    return sched_loops_tests(&driver) ? 1 : 0;
}
