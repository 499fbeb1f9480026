/* The libev adapter (adapters/ev): the conformance suite on a real libev
 * loop, once per backend this libev supports (epoll, poll, select...: fd
 * reuse behaves differently in each), plus libev-specific cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tempo/ev.h>

#include "adapter_conformance.h"
#include "loop/loop_internal.h"

/* ---- the driver: a libev loop on one backend, and a guard timer ---------- */

typedef struct ev_host {
    struct ev_loop *evloop;
    ev_timer guard;
} ev_host_t;

static unsigned int current_backend;

static void guard_cb(struct ev_loop *evloop, ev_timer *w, int revents)
{
    (void)evloop, (void)w, (void)revents;
}

static void *ev_host_new(void)
{
    ev_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->evloop = ev_loop_new(EVFLAG_NOENV | current_backend);
    if (!h->evloop) {
        free(h);
        return NULL;
    }
    ev_timer_init(&h->guard, guard_cb, 0., 0.);
    return h;
}

static void ev_host_free(void *host)
{
    ev_host_t *h = host;
    ev_timer_stop(h->evloop, &h->guard);
    ev_loop_destroy(h->evloop);
    free(h);
}

static tempo_status_t ev_driver_loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    ev_host_t *h = host;
    return tempo_ev_loop_new(h->evloop, out, err);
}

static void ev_run_once(void *host, int max_ms)
{
    ev_host_t *h = host;
    ev_timer_stop(h->evloop, &h->guard);
    ev_timer_set(&h->guard, max_ms / 1000.0, 0.);
    ev_timer_start(h->evloop, &h->guard);
    ev_run(h->evloop, EVRUN_ONCE);
    ev_timer_stop(h->evloop, &h->guard);
}

/* ---- libev-specific ------------------------------------------------------- */

typedef struct flag_timer {
    tempo__timer_t timer;
    int fires;
} flag_timer_t;

static void flag_fire(void *arg)
{
    ((flag_timer_t *)arg)->fires++;
}

/* The keep-alive policy (adapters/ev/ev_loop.c): an idle adapter does not
 * keep ev_run() in; an armed core timer does, until it fired. */
static void test_keep_alive(void **state)
{
    (void)state;
    struct ev_loop *evloop = ev_loop_new(EVFLAG_NOENV | current_backend);
    assert_non_null(evloop);
    tempo_loop_t *loop;
    assert_int_equal(tempo_ev_loop_new(evloop, &loop, NULL), TEMPO_OK);
    ev_run(evloop, 0); /* returns at once: nothing armed */
    flag_timer_t f = {0};
    tempo__timer_init(&f.timer, flag_fire, &f);
    tempo__timer_start_after(loop, &f.timer, 3000);
    ev_run(evloop, 0); /* returns only when nothing is left: after the fire */
    assert_int_equal(f.fires, 1);
    /* A deferred call keeps it in too, for its round. */
    tempo__call_t call;
    tempo__loop_defer(loop, &call, flag_fire, &f);
    ev_run(evloop, 0);
    assert_int_equal(f.fires, 2);
    tempo_loop_free(loop);
    ev_run(evloop, 0);
    ev_loop_destroy(evloop);
}

static void never(void *arg, int events)
{
    (void)arg, (void)events;
    fail();
}

static void test_bad_fd_and_arguments(void **state)
{
    (void)state;
    struct ev_loop *evloop = ev_loop_new(EVFLAG_NOENV | current_backend);
    assert_non_null(evloop);
    tempo_error_t err;
    tempo_loop_t *loop = (tempo_loop_t *)&err;
    assert_int_equal(tempo_ev_loop_new(NULL, &loop, &err), TEMPO_EINVAL);
    assert_null(loop);
    assert_non_null(strstr(err.message, "evloop"));
    assert_int_equal(tempo_ev_loop_new(evloop, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_ev_loop_new(evloop, &loop, &err), TEMPO_OK);
    /* A closed descriptor is refused at once, not reported later. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    assert_null(tempo__watch_start(loop, fds[0], TEMPO_IO_READ, never, NULL));
    assert_int_equal(errno, EBADF);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
    ev_loop_destroy(evloop);
}

static const char *backend_name(unsigned int b)
{
    switch (b) {
    case EVBACKEND_SELECT: return "select";
    case EVBACKEND_POLL: return "poll";
    case EVBACKEND_EPOLL: return "epoll";
    case EVBACKEND_LINUXAIO: return "linuxaio";
    case EVBACKEND_IOURING: return "io_uring";
    case EVBACKEND_KQUEUE: return "kqueue";
    case EVBACKEND_DEVPOLL: return "devpoll";
    case EVBACKEND_PORT: return "port";
    default: return "?";
    }
}

int main(void)
{
    /* Recommended backends only: libev marks the others (linuxaio, io_uring
     * on many kernels) as not to be used by default. */
    unsigned int backends = ev_recommended_backends();
    int failures = 0, ran = 0;
    char names[8][48];
    for (unsigned int b = 1; b && b <= EVBACKEND_MASK; b <<= 1) {
        if (!(backends & b))
            continue;
        struct ev_loop *probe = ev_loop_new(EVFLAG_NOENV | b);
        if (!probe) {
            fprintf(stderr, "libev backend %s: cannot create a loop, not tested\n", backend_name(b));
            continue;
        }
        ev_loop_destroy(probe);
        current_backend = b;
        fprintf(stderr, "== libev backend: %s ==\n", backend_name(b));
        snprintf(names[ran % 8], sizeof names[0], "libev/%s", backend_name(b));
        adapter_driver_t driver = {
            .name = names[ran % 8],
            .host_new = ev_host_new,
            .host_free = ev_host_free,
            .loop_new = ev_driver_loop_new,
            .run_once = ev_run_once,
        };
        failures += adapter_conformance_tests(&driver);
        const struct CMUnitTest own[] = {
            cmocka_unit_test(test_keep_alive),
            cmocka_unit_test(test_bad_fd_and_arguments),
        };
        failures += cmocka_run_group_tests_name(driver.name, own, NULL, NULL);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no usable libev backend\n");
        return 1;
    }
    return failures ? 1 : 0;
}
