/* The virtual-time loop (tempo/virtual.h, lib/loop/virtual.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/virtual.h>

#include "loop/loop_internal.h"
#include "test_support.h"

#define T0 INT64_C(1700000000000000)

typedef struct vt {
    tempo__timer_t timer;
    tempo_loop_t *loop;
    tempo_time_t fired_at[64];
    int fires;
    tempo_duration_t every; /* > 0: periodic */
    int rearm_now;          /* re-arm at "now" this many times */
} vt_t;

static void vt_fire(void *arg)
{
    vt_t *t = arg;
    tempo_time_t now = tempo_loop_now(t->loop);
    if (t->fires < 64)
        t->fired_at[t->fires] = now;
    t->fires++;
    if (t->every > 0)
        tempo__timer_start(t->loop, &t->timer, t->timer.deadline + t->every);
    else if (t->rearm_now != 0) {
        if (t->rearm_now > 0)
            t->rearm_now--;
        tempo__timer_start(t->loop, &t->timer, now);
    }
}

static void vt_init(vt_t *t, tempo_loop_t *loop)
{
    memset(t, 0, sizeof *t);
    t->loop = loop;
    tempo__timer_init(&t->timer, vt_fire, t);
}

static void new_vloop(tempo_vloop_t **v, tempo_loop_t **loop)
{
    tempo_error_t err;
    assert_int_equal(tempo_vloop_new(T0, v, loop, &err), TEMPO_OK);
    assert_int_equal(tempo_vloop_now(*v), T0);
    assert_int_equal(tempo_loop_now(*loop), T0);
}

static void test_advance_stops_at_each_deadline(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    vt_t a, b, c;
    vt_init(&a, loop);
    vt_init(&b, loop);
    vt_init(&c, loop);
    tempo__timer_start(loop, &c.timer, T0 + 30);
    tempo__timer_start(loop, &a.timer, T0 + 10);
    tempo__timer_start(loop, &b.timer, T0 + 20);
    assert_int_equal(tempo_vloop_next_deadline(v), T0 + 10);
    tempo_vloop_advance_to(v, T0 + 25);
    assert_int_equal(a.fires, 1);
    assert_int_equal(a.fired_at[0], T0 + 10);
    assert_int_equal(b.fires, 1);
    assert_int_equal(b.fired_at[0], T0 + 20);
    assert_int_equal(c.fires, 0);
    assert_int_equal(tempo_vloop_now(v), T0 + 25);
    assert_int_equal(tempo_vloop_next_deadline(v), T0 + 30);
    /* A deadline exactly at `until` fires. */
    tempo_vloop_advance(v, 5);
    assert_int_equal(c.fires, 1);
    assert_int_equal(c.fired_at[0], T0 + 30);
    assert_int_equal(tempo_vloop_next_deadline(v), TEMPO_TIME_NONE);
    /* The past: just run(), the clock stays. */
    tempo_vloop_advance_to(v, T0);
    assert_int_equal(tempo_vloop_now(v), T0 + 30);
    tempo_vloop_advance(v, -100);
    assert_int_equal(tempo_vloop_now(v), T0 + 30);
    tempo_vloop_free(v);
}

/* A periodic timer over a simulated day: every fire at its exact instant. */
static void test_periodic_day(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    vt_t t;
    vt_init(&t, loop);
    t.every = TEMPO_MINUTES(1);
    tempo__timer_start(loop, &t.timer, T0 + TEMPO_MINUTES(1));
    tempo_vloop_advance(v, TEMPO_DAYS(1));
    assert_int_equal(t.fires, 1440);
    assert_int_equal(t.fired_at[63], T0 + TEMPO_MINUTES(64));
    assert_int_equal(tempo_vloop_now(v), T0 + TEMPO_DAYS(1));
    assert_int_equal(tempo_vloop_next_deadline(v), T0 + TEMPO_DAYS(1) + TEMPO_MINUTES(1));
    tempo__timer_stop(loop, &t.timer);
    tempo_vloop_free(v);
}

static void test_step(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    vt_t a, b;
    vt_init(&a, loop);
    vt_init(&b, loop);
    tempo__timer_start(loop, &a.timer, T0 + 100);
    tempo__timer_start(loop, &b.timer, T0 + 200);
    /* Limit before the next deadline: nothing, clock unchanged. */
    assert_false(tempo_vloop_step(v, T0 + 99));
    assert_int_equal(tempo_vloop_now(v), T0);
    assert_true(tempo_vloop_step(v, T0 + 100));
    assert_int_equal(tempo_vloop_now(v), T0 + 100);
    assert_int_equal(a.fires, 1);
    assert_int_equal(b.fires, 0);
    assert_true(tempo_vloop_step(v, INT64_MAX));
    assert_int_equal(tempo_vloop_now(v), T0 + 200);
    assert_int_equal(b.fires, 1);
    assert_false(tempo_vloop_step(v, INT64_MAX)); /* nothing armed */
    assert_int_equal(tempo_vloop_now(v), T0 + 200);
    tempo_vloop_free(v);
}

/* run(): what is due now, counted in core entries; the clock stays. */
static tempo__call_t chain_call;
static int chain_left, chain_runs;
static void chain(void *arg)
{
    chain_runs++;
    if (chain_left-- > 0)
        tempo__loop_defer(arg, &chain_call, chain, arg);
}

static void test_run_counts_and_keeps_clock(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    assert_int_equal(tempo_vloop_run(v), 0);
    chain_left = 9;
    chain_runs = 0;
    tempo__loop_defer(loop, &chain_call, chain, loop);
    assert_int_equal(tempo_vloop_next_deadline(v), T0); /* timer_set(0) */
    assert_int_equal(tempo_vloop_run(v), 10);           /* one round each */
    assert_int_equal(chain_runs, 10);
    assert_int_equal(tempo_vloop_now(v), T0);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
}

/* A timer re-arming itself at the same instant forever: run() gives up after
 * 1,000,000 rounds, and advance_to stops there instead of spinning. */
static void test_run_bound(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    vt_t t;
    vt_init(&t, loop);
    t.rearm_now = -1; /* forever */
    tempo__timer_start(loop, &t.timer, T0);
    assert_int_equal(tempo_vloop_run(v), 1000000);
    assert_int_equal(t.fires, 1000000);
    tempo_vloop_advance_to(v, T0 + 1000);
    assert_int_equal(tempo_vloop_now(v), T0);
    assert_int_equal(t.fires, 2000000);
    tempo__timer_stop(loop, &t.timer);
    tempo_vloop_advance_to(v, T0 + 1000);
    assert_int_equal(tempo_vloop_now(v), T0 + 1000);
    tempo_vloop_free(v);
}

/* ---- wait(): a real thread posts ------------------------------------------ */

typedef struct waker {
    tempo_loop_t *loop;
    tempo__call_t call;
    pthread_barrier_t *ready;
    int ran; /* loop thread only */
} waker_t;

static void mark_ran(void *arg)
{
    waker_t *w = arg;
    w->ran++;
}

static void *waker_main(void *arg)
{
    waker_t *w = arg;
    pthread_barrier_wait(w->ready);
    tempo__loop_post(w->loop, &w->call, mark_ran, w);
    return NULL;
}

static void test_wait_for_thread(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    /* Nothing to wait for: a zero timeout returns at once, a short one times out. */
    assert_false(tempo_vloop_wait(v, 0));
    assert_false(tempo_vloop_wait(v, 20));
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, 2);
    waker_t w = {.loop = loop, .ready = &ready};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, waker_main, &w), 0);
    pthread_barrier_wait(&ready);
    /* The post may land before or during the wait: either way it comes. */
    assert_true(tempo_vloop_wait(v, 10000));
    assert_int_equal(w.ran, 1);
    assert_int_equal(tempo_vloop_now(v), T0);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&ready);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
}

/* ---- no file descriptors in virtual time ---------------------------------- */

static void never(void *arg, int events)
{
    (void)arg, (void)events;
    fail();
}

static void test_watch_unsupported(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    new_vloop(&v, &loop);
    errno = 0;
    assert_null(tempo__watch_start(loop, 0, TEMPO_IO_READ, never, NULL));
    assert_int_equal(errno, ENOTSUP);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
}

/* ---- lifetimes and errors --------------------------------------------------- */

static void test_free_orders(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    /* The documented order: the loop (its scheduler) first, then the vloop. */
    new_vloop(&v, &loop);
    vt_t t;
    vt_init(&t, loop);
    tempo__timer_start(loop, &t.timer, T0 + 10);
    tempo_loop_free(loop);
    assert_int_equal(tempo_vloop_next_deadline(v), TEMPO_TIME_NONE);
    assert_int_equal(tempo_vloop_run(v), 0);
    tempo_vloop_advance(v, 100); /* the clock still moves; nothing runs */
    assert_int_equal(tempo_vloop_now(v), T0 + 100);
    assert_false(tempo_vloop_step(v, INT64_MAX));
    assert_int_equal(t.fires, 0);
    tempo_vloop_free(v);
    /* A loop never handed to anyone is freed with its vloop (ASan checks). */
    new_vloop(&v, &loop);
    vt_init(&t, loop);
    tempo__timer_start(loop, &t.timer, T0 + 10);
    tempo_vloop_free(v);
    assert_false(tempo__timer_armed(&t.timer));
    tempo_vloop_free(NULL);
}

static void test_new_errors(void **state)
{
    (void)state;
    tempo_vloop_t *v = (tempo_vloop_t *)&v;
    tempo_loop_t *loop;
    tempo_error_t err;
    assert_int_equal(tempo_vloop_new(TEMPO_TIME_NONE, &v, &loop, &err), TEMPO_EINVAL);
    assert_null(v);
    assert_non_null(strstr(err.message, "TEMPO_TIME_NONE"));
    assert_int_equal(tempo_vloop_new(T0, NULL, &loop, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "vloop"));
    /* Negative start times (before 1970) are fine. */
    assert_int_equal(tempo_vloop_new(-TEMPO_DAYS(365), &v, &loop, NULL), TEMPO_OK);
    tempo_vloop_advance(v, TEMPO_DAYS(1));
    assert_int_equal(tempo_vloop_now(v), -TEMPO_DAYS(364));
    tempo_vloop_free(v);
}

/* tempo_loop_new checks the ops table. */
static void test_loop_new_errors(void **state)
{
    (void)state;
    tempo_loop_t *loop = (tempo_loop_t *)&loop;
    tempo_error_t err;
    assert_int_equal(tempo_loop_new(NULL, NULL, &loop, &err), TEMPO_EINVAL);
    assert_null(loop);
    assert_non_null(strstr(err.message, "ops"));
    tempo_loop_ops_t ops = {.size = offsetof(tempo_loop_ops_t, halt) - 1, .name = "short"}; /* older than the first table */
    assert_int_equal(tempo_loop_new(&ops, NULL, &loop, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "'short'"));
    assert_non_null(strstr(err.message, "ops->size"));
    ops.size = sizeof ops;
    assert_int_equal(tempo_loop_new(&ops, NULL, &loop, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "every operation"));
    assert_int_equal(tempo_loop_new(&ops, NULL, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_loop_now(NULL), TEMPO_TIME_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advance_stops_at_each_deadline),
        cmocka_unit_test(test_periodic_day),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_run_counts_and_keeps_clock),
        cmocka_unit_test(test_run_bound),
        cmocka_unit_test(test_wait_for_thread),
        cmocka_unit_test(test_watch_unsupported),
        cmocka_unit_test(test_free_orders),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_loop_new_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
