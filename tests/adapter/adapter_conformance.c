/* The adapter conformance cases (see adapter_conformance.h). They drive the
 * adapter through the core's internal API (lib/loop), as the scheduler and
 * the stores do, and observe the adapter's own timer through the loop's
 * counters (tempo__loop_get_stats): an early or a missing timer fire shows
 * there even though the core would hide it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapter_conformance.h"
#include "loop/loop_internal.h"

/* ---- running the host loop ----------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool adapter_run_until(adapter_fixture_t *fx, bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    while (!cond(arg)) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return cond(arg);
        fx->driver->run_once(fx->host, left < 50 ? (int)left : 50);
    }
    return true;
}

static bool never_true(void *arg)
{
    (void)arg;
    return false;
}

void adapter_run_for(adapter_fixture_t *fx, int ms)
{
    adapter_run_until(fx, never_true, NULL, ms);
}

static int setup(void **state)
{
    const adapter_driver_t *driver = *state;
    adapter_fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->driver = driver;
    fx->host = driver->host_new();
    tempo_error_t err;
    if (!fx->host || driver->loop_new(fx->host, &fx->loop, &err) != TEMPO_OK) {
        if (fx->host)
            driver->host_free(fx->host);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    adapter_fixture_t *fx = *state;
    tempo_loop_free(fx->loop); /* NULL when a case freed it */
    fx->driver->host_free(fx->host);
    free(fx);
    return 0;
}

static tempo__loop_stats_t stats(adapter_fixture_t *fx)
{
    tempo__loop_stats_t s;
    tempo__loop_get_stats(fx->loop, &s);
    return s;
}

/* ---- timers ---------------------------------------------------------------- */

typedef struct probe {
    tempo__timer_t timer;
    tempo__call_t call;
    tempo_loop_t *loop;
    int fires;
    tempo_time_t fired_at;
    int id;
    int *order;
    int *order_len;
} probe_t;

static void probe_fire(void *arg)
{
    probe_t *p = arg;
    p->fires++;
    p->fired_at = tempo_loop_now(p->loop);
    if (p->order)
        p->order[(*p->order_len)++] = p->id;
}

static bool probe_fired(void *arg)
{
    return ((probe_t *)arg)->fires > 0;
}

static void probe_init(probe_t *p, tempo_loop_t *loop)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    tempo__timer_init(&p->timer, probe_fire, p);
}

/* Fires at or after its deadline by the adapter's own clock, and the
 * adapter's timer is never early (rounding µs to the host's unit goes up). */
static void test_timer_not_early(void **state)
{
    adapter_fixture_t *fx = *state;
    static const tempo_duration_t delays[] = {0, 1, 7, 100, 999, 1000, 1001, 2500, 5000};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        probe_t p;
        probe_init(&p, fx->loop);
        tempo_time_t t0 = tempo_loop_now(fx->loop);
        tempo_time_t deadline = t0 + delays[i];
        assert_int_equal(tempo__timer_start(fx->loop, &p.timer, deadline), TEMPO_OK);
        assert_true(adapter_run_until(fx, probe_fired, &p, 5000));
        assert_int_equal(p.fires, 1);
        assert_true(p.fired_at >= deadline);
        assert_true(p.fired_at - t0 < TEMPO_SECONDS(5));
    }
    tempo__loop_stats_t s = stats(fx);
    assert_int_equal(s.early_timer_entries, 0);
    assert_true(s.timer_entries >= 1);
    assert_int_equal(tempo__loop_pending(fx->loop), 0);
}

/* A callback that keeps the loop busy, then arms a timer: the host's cached
 * time is now stale (libev's ev_now, libuv's uv_now), and a delay counted
 * from it would fire early. The spin is the slow callback being simulated,
 * not a wait for anything. */
typedef struct slow {
    tempo__timer_t timer;
    probe_t *next;
    tempo_time_t armed_for;
} slow_t;

static void slow_fire(void *arg)
{
    slow_t *s = arg;
    tempo_loop_t *loop = s->next->loop;
    tempo_time_t until = tempo_loop_now(loop) + 4000;
    while (tempo_loop_now(loop) < until) {
    }
    s->armed_for = tempo_loop_now(loop) + 2000;
    tempo__timer_start(loop, &s->next->timer, s->armed_for);
}

static void test_timer_after_slow_callback(void **state)
{
    adapter_fixture_t *fx = *state;
    for (int round = 0; round < 3; round++) {
        probe_t p;
        slow_t s = {.next = &p};
        probe_init(&p, fx->loop);
        tempo__timer_init(&s.timer, slow_fire, &s);
        tempo__timer_start_after(fx->loop, &s.timer, 1000);
        assert_true(adapter_run_until(fx, probe_fired, &p, 5000));
        assert_true(p.fired_at >= s.armed_for);
    }
    assert_int_equal(stats(fx).early_timer_entries, 0);
}

static void test_timers_in_order(void **state)
{
    adapter_fixture_t *fx = *state;
    int order[3], len = 0;
    probe_t p[3];
    tempo_time_t t0 = tempo_loop_now(fx->loop);
    static const int ms[] = {6, 2, 4};
    for (int i = 0; i < 3; i++) {
        probe_init(&p[i], fx->loop);
        p[i].id = i;
        p[i].order = order;
        p[i].order_len = &len;
        tempo__timer_start(fx->loop, &p[i].timer, t0 + ms[i] * 1000);
    }
    assert_true(adapter_run_until(fx, probe_fired, &p[0], 5000));
    assert_int_equal(len, 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
    for (int i = 0; i < 3; i++)
        assert_true(p[i].fired_at >= t0 + ms[i] * 1000);
}

/* A far deadline replaced by a near one: the adapter timer was re-set. */
static void test_timer_replace(void **state)
{
    adapter_fixture_t *fx = *state;
    probe_t p;
    probe_init(&p, fx->loop);
    tempo_time_t t0 = tempo_loop_now(fx->loop);
    tempo__timer_start(fx->loop, &p.timer, t0 + TEMPO_SECONDS(30));
    tempo__timer_start(fx->loop, &p.timer, t0 + 2000);
    assert_true(adapter_run_until(fx, probe_fired, &p, 5000));
    assert_true(p.fired_at >= t0 + 2000);
    assert_true(p.fired_at < t0 + TEMPO_SECONDS(30));
    /* And a near one moved far: the early adapter fire finds nothing due. */
    probe_init(&p, fx->loop);
    t0 = tempo_loop_now(fx->loop);
    tempo__timer_start(fx->loop, &p.timer, t0 + 2000);
    tempo__timer_start(fx->loop, &p.timer, t0 + TEMPO_SECONDS(30));
    adapter_run_for(fx, 30);
    assert_int_equal(p.fires, 0);
    tempo__timer_stop(fx->loop, &p.timer);
}

/* Stopping the last timer clears the adapter's: no fire at all. */
static void test_timer_clear(void **state)
{
    adapter_fixture_t *fx = *state;
    probe_t p;
    probe_init(&p, fx->loop);
    tempo__timer_start_after(fx->loop, &p.timer, 2000);
    tempo__timer_stop(fx->loop, &p.timer);
    adapter_run_for(fx, 30);
    assert_int_equal(p.fires, 0);
    assert_int_equal(stats(fx).timer_entries, 0);
}

/* Zero delay (a deferred call, a deadline in the past): the next iteration. */
static void test_zero_delay(void **state)
{
    adapter_fixture_t *fx = *state;
    probe_t d, t;
    probe_init(&d, fx->loop);
    probe_init(&t, fx->loop);
    tempo__loop_defer(fx->loop, &d.call, probe_fire, &d);
    assert_int_equal(d.fires, 0); /* never inside the call */
    tempo__timer_start(fx->loop, &t.timer, tempo_loop_now(fx->loop) - TEMPO_SECONDS(1));
    assert_true(adapter_run_until(fx, probe_fired, &d, 5000));
    assert_true(adapter_run_until(fx, probe_fired, &t, 5000));
    assert_int_equal(tempo__loop_pending(fx->loop), 0);
}

/* ---- wake-ups from other threads ------------------------------------------ */

#define WAKE_THREADS 4
#define WAKE_POSTS 200

typedef struct waker {
    tempo_loop_t *loop;
    pthread_barrier_t *go;
    tempo__call_t calls[WAKE_POSTS];
} waker_t;

static pthread_t loop_thread;
static int wake_runs;       /* loop thread only */
static int wake_wrong_thread;

static void count_wake(void *arg)
{
    (void)arg;
    wake_runs++;
    if (!pthread_equal(pthread_self(), loop_thread))
        wake_wrong_thread++;
}

static void *waker_main(void *arg)
{
    waker_t *w = arg;
    pthread_barrier_wait(w->go);
    for (int i = 0; i < WAKE_POSTS; i++)
        tempo__loop_post(w->loop, &w->calls[i], count_wake, NULL);
    return NULL;
}

static bool all_woken(void *arg)
{
    (void)arg;
    return wake_runs == WAKE_THREADS * WAKE_POSTS;
}

static void test_wake_from_threads(void **state)
{
    adapter_fixture_t *fx = *state;
    static waker_t w[WAKE_THREADS];
    pthread_t th[WAKE_THREADS];
    pthread_barrier_t go;
    loop_thread = pthread_self();
    wake_runs = wake_wrong_thread = 0;
    pthread_barrier_init(&go, NULL, WAKE_THREADS + 1);
    for (int i = 0; i < WAKE_THREADS; i++) {
        w[i].loop = fx->loop;
        w[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, waker_main, &w[i]), 0);
    }
    /* Release them and enter the loop at once: the posts race the loop's
     * own iterations (blocked in the host's poll or not). */
    pthread_barrier_wait(&go);
    bool done = adapter_run_until(fx, all_woken, NULL, 10000);
    for (int i = 0; i < WAKE_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    assert_true(done);
    assert_int_equal(wake_wrong_thread, 0);
    assert_int_equal(tempo__loop_pending(fx->loop), 0);
}

/* ---- watches ------------------------------------------------------------------ */

typedef struct io_probe {
    tempo_loop_t *loop;
    tempo__watch_t *watch;
    int fd;
    int calls;
    int events;
    bool drain;     /* read what is there (else level-triggering repeats) */
    bool stop_self; /* stop the watch inside the callback */
    bool pause;     /* update to 0 inside the callback */
} io_probe_t;

static void io_fire(void *arg, int events)
{
    io_probe_t *p = arg;
    p->calls++;
    p->events = events;
    if (p->drain) {
        char buf[64];
        while (read(p->fd, buf, sizeof buf) > 0) {
        }
    }
    if (p->pause)
        tempo__watch_update(p->loop, p->watch, 0);
    if (p->stop_self) {
        tempo__watch_stop(p->loop, p->watch);
        p->watch = NULL;
    }
}

static bool io_called(void *arg)
{
    return ((io_probe_t *)arg)->calls > 0;
}

static void make_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        assert_int_equal(fcntl(fds[i], F_SETFL, fl | O_NONBLOCK), 0);
    }
}

static void put_byte(int fd)
{
    assert_int_equal(write(fd, "x", 1), 1);
}

static void test_watch_read(void **state)
{
    adapter_fixture_t *fx = *state;
    int fds[2];
    make_pipe(fds);
    io_probe_t p = {.loop = fx->loop, .fd = fds[0], .drain = true};
    p.watch = tempo__watch_start(fx->loop, fds[0], TEMPO_IO_READ, io_fire, &p);
    assert_non_null(p.watch);
    adapter_run_for(fx, 20);
    assert_int_equal(p.calls, 0); /* nothing to read yet */
    put_byte(fds[1]);
    assert_true(adapter_run_until(fx, io_called, &p, 5000));
    assert_int_equal(p.events, TEMPO_IO_READ);
    /* Drained: no more reports until the next byte. */
    int calls = p.calls;
    adapter_run_for(fx, 20);
    assert_int_equal(p.calls, calls);
    tempo__watch_stop(fx->loop, p.watch);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(tempo__loop_pending(fx->loop), 0);
}

static void test_watch_update_to_write(void **state)
{
    adapter_fixture_t *fx = *state;
    int fds[2];
    make_pipe(fds);
    io_probe_t p = {.loop = fx->loop, .fd = fds[1], .pause = true};
    /* The write end is writable at once; paused, nothing is reported. */
    p.watch = tempo__watch_start(fx->loop, fds[1], 0, io_fire, &p);
    assert_non_null(p.watch);
    adapter_run_for(fx, 20);
    assert_int_equal(p.calls, 0);
    assert_int_equal(tempo__watch_update(fx->loop, p.watch, TEMPO_IO_WRITE), 0);
    assert_true(adapter_run_until(fx, io_called, &p, 5000));
    assert_int_equal(p.events, TEMPO_IO_WRITE);
    /* It paused itself: still writable, but no more reports. */
    adapter_run_for(fx, 20);
    assert_int_equal(p.calls, 1);
    /* READ on the write end never fires; back to WRITE does. */
    assert_int_equal(tempo__watch_update(fx->loop, p.watch, TEMPO_IO_READ), 0);
    adapter_run_for(fx, 20);
    assert_int_equal(p.calls, 1);
    assert_int_equal(tempo__watch_update(fx->loop, p.watch, TEMPO_IO_WRITE), 0);
    p.calls = 0;
    assert_true(adapter_run_until(fx, io_called, &p, 5000));
    tempo__watch_stop(fx->loop, p.watch);
    close(fds[0]);
    close(fds[1]);
}

/* Stopped inside its own callback, with data still unread: never again. */
static void test_watch_stop_in_callback(void **state)
{
    adapter_fixture_t *fx = *state;
    int fds[2];
    make_pipe(fds);
    io_probe_t p = {.loop = fx->loop, .fd = fds[0], .stop_self = true};
    p.watch = tempo__watch_start(fx->loop, fds[0], TEMPO_IO_READ, io_fire, &p);
    put_byte(fds[1]);
    put_byte(fds[1]);
    assert_true(adapter_run_until(fx, io_called, &p, 5000));
    adapter_run_for(fx, 30);
    assert_int_equal(p.calls, 1);
    assert_null(p.watch);
    assert_int_equal(tempo__loop_pending(fx->loop), 0);
    close(fds[0]);
    close(fds[1]);
}

/* Watch the read end of a fresh pipe whose read end has number `want`. */
static void pipe_at(int fds[2], int want)
{
    make_pipe(fds);
    if (fds[0] != want) {
        /* Someone took the number in between: force it. */
        assert_int_equal(dup2(fds[0], want), want);
        close(fds[0]);
        fds[0] = want;
    }
}

/* The same fd number, a different file: the new watch works, the old one
 * says nothing. `close_first`: the fd is closed before the watch stops (the
 * contract allows it: watch_stop must not touch the fd). */
static void fd_reuse(adapter_fixture_t *fx, bool close_first)
{
    int a[2], b[2];
    make_pipe(a);
    int num = a[0];
    io_probe_t old = {.loop = fx->loop, .fd = a[0], .drain = true};
    old.watch = tempo__watch_start(fx->loop, a[0], TEMPO_IO_READ, io_fire, &old);
    assert_non_null(old.watch);
    put_byte(a[1]);
    assert_true(adapter_run_until(fx, io_called, &old, 5000));
    if (close_first) {
        close(a[0]);
        tempo__watch_stop(fx->loop, old.watch);
    } else {
        tempo__watch_stop(fx->loop, old.watch);
        close(a[0]);
    }
    close(a[1]);
    int calls_old = old.calls;
    pipe_at(b, num);
    io_probe_t fresh = {.loop = fx->loop, .fd = b[0], .drain = true};
    fresh.watch = tempo__watch_start(fx->loop, b[0], TEMPO_IO_READ, io_fire, &fresh);
    assert_non_null(fresh.watch);
    adapter_run_for(fx, 20);
    assert_int_equal(fresh.calls, 0);
    put_byte(b[1]);
    assert_true(adapter_run_until(fx, io_called, &fresh, 5000));
    assert_int_equal(fresh.events, TEMPO_IO_READ);
    assert_int_equal(old.calls, calls_old);
    tempo__watch_stop(fx->loop, fresh.watch);
    close(b[0]);
    close(b[1]);
}

static void test_fd_reuse_stop_then_close(void **state)
{
    fd_reuse(*state, false);
}

static void test_fd_reuse_close_then_stop(void **state)
{
    fd_reuse(*state, true);
}

/* ---- detach ------------------------------------------------------------------- */

static void test_detach_with_everything_armed(void **state)
{
    adapter_fixture_t *fx = *state;
    int fds[2];
    make_pipe(fds);
    probe_t t, d, q;
    probe_init(&t, fx->loop);
    probe_init(&d, fx->loop);
    probe_init(&q, fx->loop);
    tempo__timer_start_after(fx->loop, &t.timer, 1000);
    tempo__loop_defer(fx->loop, &d.call, probe_fire, &d);
    tempo__loop_post(fx->loop, &q.call, probe_fire, &q);
    io_probe_t r = {.loop = fx->loop, .fd = fds[0]};
    io_probe_t w = {.loop = fx->loop, .fd = fds[1]};
    r.watch = tempo__watch_start(fx->loop, fds[0], TEMPO_IO_READ, io_fire, &r);
    w.watch = tempo__watch_start(fx->loop, fds[1], TEMPO_IO_WRITE, io_fire, &w);
    assert_non_null(r.watch);
    assert_non_null(w.watch);
    put_byte(fds[1]);
    tempo_loop_free(fx->loop);
    fx->loop = NULL;
    /* The host loop goes on without us: nothing of ours runs. */
    for (int i = 0; i < 3; i++)
        fx->driver->run_once(fx->host, 5);
    assert_int_equal(t.fires + d.fires + q.fires, 0);
    assert_int_equal(r.calls + w.calls, 0);
    close(fds[0]);
    close(fds[1]);
}

/* A callback frees the loop (a job shutting its scheduler down): the adapter
 * is detached from inside its own host callback and must not touch itself
 * afterwards (ASan checks); the host loop goes on. */
typedef struct freer {
    tempo__timer_t timer;
    adapter_fixture_t *fx;
    int fires;
} freer_t;

static void free_from_timer(void *arg)
{
    freer_t *f = arg;
    f->fires++;
    tempo_loop_free(f->fx->loop);
    f->fx->loop = NULL;
}

static bool freer_fired(void *arg)
{
    return ((freer_t *)arg)->fires > 0;
}

static void free_from_io(void *arg, int events)
{
    (void)events;
    free_from_timer(arg);
}

static void test_free_inside_callbacks(void **state)
{
    adapter_fixture_t *fx = *state;
    int fds[2];
    make_pipe(fds);
    /* From a timer callback, with a watch live and calls queued. */
    freer_t f = {.fx = fx};
    probe_t d;
    probe_init(&d, fx->loop);
    tempo__timer_init(&f.timer, free_from_timer, &f);
    /* d is due with f, started after it: same round, after f — never runs. */
    tempo_time_t at = tempo_loop_now(fx->loop) + 1000;
    tempo__timer_start(fx->loop, &f.timer, at);
    tempo__timer_start(fx->loop, &d.timer, at);
    io_probe_t r = {.loop = fx->loop, .fd = fds[0]};
    r.watch = tempo__watch_start(fx->loop, fds[0], TEMPO_IO_READ, io_fire, &r);
    assert_non_null(r.watch);
    assert_true(adapter_run_until(fx, freer_fired, &f, 5000));
    put_byte(fds[1]);
    adapter_run_for(fx, 20);
    assert_int_equal(r.calls, 0);
    assert_int_equal(f.fires, 1);
    assert_int_equal(d.fires, 0);
    /* From a watch callback, with a timer armed. */
    tempo_error_t err;
    assert_int_equal(fx->driver->loop_new(fx->host, &fx->loop, &err), TEMPO_OK);
    freer_t g = {.fx = fx};
    probe_t t;
    probe_init(&t, fx->loop);
    tempo__timer_start_after(fx->loop, &t.timer, 2000);
    tempo__watch_t *w = tempo__watch_start(fx->loop, fds[0], TEMPO_IO_READ, free_from_io, &g);
    assert_non_null(w);
    assert_true(adapter_run_until(fx, freer_fired, &g, 5000));
    adapter_run_for(fx, 20);
    assert_int_equal(g.fires, 1);
    assert_int_equal(t.fires, 0);
    close(fds[0]);
    close(fds[1]);
}

/* ---- the suite -------------------------------------------------------------- */

int adapter_conformance_tests(const adapter_driver_t *driver)
{
#define CASE(f) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)driver)
    const struct CMUnitTest tests[] = {
        CASE(test_timer_not_early),
        CASE(test_timer_after_slow_callback),
        CASE(test_timers_in_order),
        CASE(test_timer_replace),
        CASE(test_timer_clear),
        CASE(test_zero_delay),
        CASE(test_wake_from_threads),
        CASE(test_watch_read),
        CASE(test_watch_update_to_write),
        CASE(test_watch_stop_in_callback),
        CASE(test_fd_reuse_stop_then_close),
        CASE(test_fd_reuse_close_then_stop),
        CASE(test_detach_with_everything_armed),
        CASE(test_free_inside_callbacks),
    };
#undef CASE
    return cmocka_run_group_tests_name(driver->name, tests, NULL, NULL);
}
