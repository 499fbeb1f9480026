/* The libuv adapter (adapters/uv): the conformance suite on a real libuv
 * loop, plus libuv-specific cases: keep-alive, refused fds, several watches
 * sharing one uv_poll, fd reuse while a stale watch is still there, errors
 * on the fd, and wake-ups racing the teardown. Every host loop ends with
 * uv_loop_close() == 0, which proves the adapter closed every handle it
 * opened. */
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tempo/uv.h>

#include "adapter_conformance.h"
#include "loop/loop_internal.h"
/* Only for test_wake_races_teardown, which calls the adapter's wake() op
 * directly (bypassing the core's own serialisation) to prove the adapter is
 * safe by itself. */
#include "loop/loop_private.h"

/* ---- the driver: a malloc'ed uv_loop_t and a guard timer ------------------ */

typedef struct uv_host {
    uv_loop_t *uvloop;
    uv_timer_t guard;
} uv_host_t;

static void guard_cb(uv_timer_t *t)
{
    (void)t;
}

static uv_loop_t *uvloop_new(void)
{
    uv_loop_t *l = malloc(sizeof *l);
    if (l && uv_loop_init(l) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

static void print_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    fprintf(stderr, "  left open: %s handle %p (active %d, closing %d)\n",
            uv_handle_type_name(uv_handle_get_type(h)), (void *)h, uv_is_active(h), uv_is_closing(h));
}

/* Let close callbacks run, then close the loop: EBUSY means a handle was
 * left open. Bounded: a leaked active handle must fail, not hang. */
static void uvloop_free(uv_loop_t *l)
{
    for (int i = 0; i < 10 && uv_loop_alive(l); i++)
        uv_run(l, UV_RUN_NOWAIT);
    int rc = uv_loop_close(l);
    if (rc != 0) {
        uv_walk(l, print_handle, NULL);
        fail_msg("uv_loop_close: %s (a handle was not closed)", uv_strerror(rc));
    }
    free(l);
}

static void *uv_host_new(void)
{
    uv_host_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->uvloop = uvloop_new();
    if (!h->uvloop) {
        free(h);
        return NULL;
    }
    uv_timer_init(h->uvloop, &h->guard);
    return h;
}

static void uv_host_free(void *host)
{
    uv_host_t *h = host;
    uv_close((uv_handle_t *)&h->guard, NULL);
    uvloop_free(h->uvloop);
    free(h);
}

static tempo_status_t uv_driver_loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    uv_host_t *h = host;
    return tempo_uv_loop_new(h->uvloop, out, err);
}

static void uv_run_once(void *host, int max_ms)
{
    uv_host_t *h = host;
    uv_timer_start(&h->guard, guard_cb, (uint64_t)max_ms, 0);
    uv_run(h->uvloop, UV_RUN_ONCE);
    uv_timer_stop(&h->guard);
}

static const adapter_driver_t uv_driver = {
    .name = "libuv",
    .host_new = uv_host_new,
    .host_free = uv_host_free,
    .loop_new = uv_driver_loop_new,
    .run_once = uv_run_once,
};

/* ---- helpers for the libuv cases ------------------------------------------- */

typedef struct flag_timer {
    tempo__timer_t timer;
    int fires;
} flag_timer_t;

static void flag_fire(void *arg)
{
    ((flag_timer_t *)arg)->fires++;
}

typedef struct io_rec {
    tempo_loop_t *loop;
    tempo__watch_t *watch;
    struct io_rec *other; /* stop_other: stop this one's watch */
    int fd;
    int calls;
    int events;
    bool drain;
    bool stop_self;
    bool stop_other;
    bool free_loop; /* tempo_loop_free from inside the callback */
} io_rec_t;

static void io_cb(void *arg, int events)
{
    io_rec_t *r = arg;
    r->calls++;
    r->events = events;
    if (r->drain) {
        char buf[64];
        while (read(r->fd, buf, sizeof buf) > 0) {
        }
    }
    if (r->stop_self) {
        tempo__watch_stop(r->loop, r->watch);
        r->watch = NULL;
    }
    if (r->stop_other && r->other->watch) {
        tempo__watch_stop(r->loop, r->other->watch);
        r->other->watch = NULL;
    }
    if (r->free_loop)
        tempo_loop_free(r->loop);
}

static void make_nonblocking_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK), 0);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the host loop until *counter >= want or about 5 s passed. */
static bool run_until_count(uv_host_t *h, const int *counter, int want)
{
    int64_t end = mono_ms() + 5000;
    while (*counter < want && mono_ms() < end)
        uv_run_once(h, 50);
    return *counter >= want;
}

/* Run the host loop for about `ms` (to show nothing happens). */
static void run_for(uv_host_t *h, int ms)
{
    int64_t end = mono_ms() + ms;
    do
        uv_run_once(h, 5);
    while (mono_ms() < end);
}

static uint64_t rounds_of(tempo_loop_t *loop)
{
    tempo__loop_stats_t s;
    tempo__loop_get_stats(loop, &s);
    return s.rounds;
}

/* ---- keep-alive -------------------------------------------------------------- */

/* The keep-alive policy (tempo/uv.h): an idle adapter does not keep
 * uv_run(UV_RUN_DEFAULT) in; an armed core timer, a deferred call and a
 * started watch do, until they are done. */
static void test_keep_alive(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_loop_t *loop;
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
    assert_int_equal(uv_run(uvloop, UV_RUN_DEFAULT), 0); /* at once: nothing armed */
    flag_timer_t f = {0};
    tempo__timer_init(&f.timer, flag_fire, &f);
    tempo__timer_start_after(loop, &f.timer, 3000);
    uv_run(uvloop, UV_RUN_DEFAULT); /* returns only when nothing is left: after the fire */
    assert_int_equal(f.fires, 1);
    tempo__call_t call;
    tempo__loop_defer(loop, &call, flag_fire, &f);
    uv_run(uvloop, UV_RUN_DEFAULT);
    assert_int_equal(f.fires, 2);
    /* A watch keeps it in until its callback stops it; a paused one does not. */
    int fds[2];
    make_nonblocking_pipe(fds);
    io_rec_t paused = {.loop = loop, .fd = fds[0]};
    paused.watch = tempo__watch_start(loop, fds[0], 0, io_cb, &paused);
    assert_non_null(paused.watch);
    uv_run(uvloop, UV_RUN_DEFAULT);
    assert_int_equal(paused.calls, 0);
    io_rec_t w = {.loop = loop, .fd = fds[1], .stop_self = true};
    w.watch = tempo__watch_start(loop, fds[1], TEMPO_IO_WRITE, io_cb, &w);
    assert_non_null(w.watch);
    uv_run(uvloop, UV_RUN_DEFAULT);
    assert_int_equal(w.calls, 1);
    tempo__watch_stop(loop, paused.watch);
    tempo_loop_free(loop);
    close(fds[0]);
    close(fds[1]);
    uv_host_free(h);
}

/* ---- refused fds and arguments ------------------------------------------- */

static void never_io(void *arg, int events)
{
    (void)arg, (void)events;
    fail();
}

static void test_bad_fds_and_arguments(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_error_t err;
    tempo_loop_t *loop = (tempo_loop_t *)&err;
    assert_int_equal(tempo_uv_loop_new(NULL, &loop, &err), TEMPO_EINVAL);
    assert_null(loop);
    assert_non_null(strstr(err.message, "uvloop"));
    assert_int_equal(tempo_uv_loop_new(uvloop, NULL, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "out"));
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, &err), TEMPO_OK);

    /* A closed descriptor: EBADF at once. */
    int fds[2];
    make_nonblocking_pipe(fds);
    int closed = fds[0];
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    assert_null(tempo__watch_start(loop, closed, TEMPO_IO_READ, never_io, NULL));
    assert_int_equal(errno, EBADF);

    /* A regular file: epoll cannot poll it, libuv says EPERM. */
    char path[] = "/tmp/tempo-uv-XXXXXX";
    int file = mkstemp(path);
    assert_true(file >= 0);
    unlink(path);
    errno = 0;
    assert_null(tempo__watch_start(loop, file, TEMPO_IO_READ, never_io, NULL));
    assert_int_equal(errno, EPERM);
    close(file);

    /* An fd the application polls on the same uv loop: libuv allows one poll
     * handle per fd, so EEXIST (not a silent takeover). */
    make_nonblocking_pipe(fds);
    uv_poll_t theirs;
    assert_int_equal(uv_poll_init(uvloop, &theirs, fds[0]), 0);
    assert_int_equal(uv_poll_start(&theirs, UV_READABLE, NULL), 0);
    errno = 0;
    assert_null(tempo__watch_start(loop, fds[0], TEMPO_IO_READ, never_io, NULL));
    assert_int_equal(errno, EEXIST);
    uv_close((uv_handle_t *)&theirs, NULL);

    /* Updating a watch whose fd was closed: EBADF, not libuv's abort() at
     * its next poll; the watch keeps its old events and still stops. */
    io_rec_t r = {.loop = loop, .fd = fds[0]};
    r.watch = tempo__watch_start(loop, fds[0], TEMPO_IO_READ, io_cb, &r);
    assert_non_null(r.watch);
    close(fds[0]);
    assert_int_equal(tempo__watch_update(loop, r.watch, TEMPO_IO_READ | TEMPO_IO_WRITE), EBADF);
    run_for(h, 10);
    tempo__watch_stop(loop, r.watch);
    close(fds[1]);
    run_for(h, 10);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
    uv_host_free(h);
}

/* ---- several watches on one fd (one shared uv_poll) ------------------------- */

static void test_two_watches_one_fd(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_loop_t *loop;
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);

    /* A reader and a writer of the same socket: each gets its own events. */
    io_rec_t rd = {.loop = loop, .fd = sv[0], .drain = true};
    io_rec_t wr = {.loop = loop, .fd = sv[0]};
    rd.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_READ, io_cb, &rd);
    wr.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_WRITE, io_cb, &wr);
    assert_non_null(rd.watch);
    assert_non_null(wr.watch);
    assert_true(run_until_count(h, &wr.calls, 1));
    assert_int_equal(wr.events, TEMPO_IO_WRITE);
    assert_int_equal(rd.calls, 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(run_until_count(h, &rd.calls, 1));
    assert_int_equal(rd.events, TEMPO_IO_READ);
    /* Pausing the writer leaves the reader working, and vice versa. */
    assert_int_equal(tempo__watch_update(loop, wr.watch, 0), 0);
    int wcalls = wr.calls;
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(run_until_count(h, &rd.calls, 2));
    assert_int_equal(wr.calls, wcalls);
    assert_int_equal(tempo__watch_update(loop, rd.watch, 0), 0);
    assert_int_equal(tempo__watch_update(loop, wr.watch, TEMPO_IO_WRITE), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(run_until_count(h, &wr.calls, wcalls + 1));
    assert_int_equal(rd.calls, 2);
    /* Stopping one leaves the other. */
    tempo__watch_stop(loop, wr.watch);
    wr.watch = NULL;
    assert_int_equal(tempo__watch_update(loop, rd.watch, TEMPO_IO_READ), 0);
    assert_true(run_until_count(h, &rd.calls, 3));
    tempo__watch_stop(loop, rd.watch);
    rd.watch = NULL;

    /* Two readers, one readiness: both hear of it, in one poll callback. */
    io_rec_t a = {.loop = loop, .fd = sv[0]}, b = {.loop = loop, .fd = sv[0]};
    a.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_READ, io_cb, &a);
    b.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_READ, io_cb, &b);
    assert_int_equal(write(sv[1], "x", 1), 1);
    uint64_t rounds0 = rounds_of(loop);
    assert_true(run_until_count(h, &a.calls, 1));
    assert_int_equal(b.calls, 1);
    assert_int_equal(rounds_of(loop) - rounds0, 2);
    /* Each stops the other when called: whichever runs first, the other is
     * never reported again (the contract for a stopped watch), though it was
     * ready in the same poll. */
    a.calls = b.calls = 0;
    a.other = &b, b.other = &a;
    a.stop_other = b.stop_other = true;
    a.drain = b.drain = true; /* else the one left is called again next poll */
    for (int i = 0; i < 100 && a.calls + b.calls == 0; i++)
        uv_run_once(h, 50);
    run_for(h, 10);
    assert_int_equal(a.calls + b.calls, 1);
    io_rec_t *left = a.watch ? &a : &b;
    assert_non_null(left->watch);
    tempo__watch_stop(loop, left->watch);
    left->watch = NULL;

    /* The loop freed inside the first report, the second watch still ready:
     * nothing more is reported, nothing touches freed memory (ASan). */
    io_rec_t x = {.loop = loop, .fd = sv[0], .free_loop = true};
    io_rec_t y = {.loop = loop, .fd = sv[0], .free_loop = true};
    x.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_READ, io_cb, &x);
    y.watch = tempo__watch_start(loop, sv[0], TEMPO_IO_READ, io_cb, &y);
    assert_int_equal(write(sv[1], "x", 1), 1);
    for (int i = 0; i < 100 && x.calls + y.calls == 0; i++)
        uv_run_once(h, 50);
    run_for(h, 10);
    assert_int_equal(x.calls + y.calls, 1);
    close(sv[0]);
    close(sv[1]);
    uv_host_free(h);
}

/* ---- fd reuse while a stale watch is still there ---------------------------- */

/* The owner closed fd n but has not stopped its watch yet, a new file gets
 * number n and a second watch starts on it. Sharing the poll, the adapter
 * must register the new file (epoll forgot the old one when it was closed),
 * and stopping the stale watch must leave the new one working. */
static void test_fd_reuse_with_stale_watch(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_loop_t *loop;
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
    int a[2], b[2];
    make_nonblocking_pipe(a);
    int n = a[0];
    io_rec_t stale = {.loop = loop, .fd = n, .drain = true};
    stale.watch = tempo__watch_start(loop, n, TEMPO_IO_READ, io_cb, &stale);
    assert_non_null(stale.watch);
    run_for(h, 5); /* registered with epoll */
    close(a[0]);
    close(a[1]);
    make_nonblocking_pipe(b);
    if (b[0] != n) {
        assert_int_equal(dup2(b[0], n), n);
        close(b[0]);
        b[0] = n;
    }
    io_rec_t fresh = {.loop = loop, .fd = n, .drain = true};
    fresh.watch = tempo__watch_start(loop, n, TEMPO_IO_READ, io_cb, &fresh);
    assert_non_null(fresh.watch);
    assert_int_equal(write(b[1], "x", 1), 1);
    assert_true(run_until_count(h, &fresh.calls, 1));
    tempo__watch_stop(loop, stale.watch);
    assert_int_equal(write(b[1], "x", 1), 1);
    assert_true(run_until_count(h, &fresh.calls, 2));
    tempo__watch_stop(loop, fresh.watch);
    close(b[0]);
    close(b[1]);
    tempo_loop_free(loop);
    uv_host_free(h);
}

/* Two watches on an fd that gets closed: stopping one (which changes the
 * events wanted) must not restart the poll on the dead fd (libuv would
 * abort() at its next poll); the other still stops; the number is reusable. */
static void test_close_fd_with_two_watches(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_loop_t *loop;
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int n = sv[0];
    io_rec_t r = {.loop = loop, .fd = n}, w = {.loop = loop, .fd = n};
    r.watch = tempo__watch_start(loop, n, TEMPO_IO_READ, io_cb, &r);
    w.watch = tempo__watch_start(loop, n, TEMPO_IO_WRITE, io_cb, &w);
    assert_true(run_until_count(h, &w.calls, 1));
    close(sv[0]);
    close(sv[1]);
    tempo__watch_stop(loop, w.watch);
    run_for(h, 10);
    tempo__watch_stop(loop, r.watch);
    int p[2];
    make_nonblocking_pipe(p);
    if (p[0] != n) {
        assert_int_equal(dup2(p[0], n), n);
        close(p[0]);
        p[0] = n;
    }
    io_rec_t again = {.loop = loop, .fd = n, .drain = true};
    again.watch = tempo__watch_start(loop, n, TEMPO_IO_READ, io_cb, &again);
    assert_non_null(again.watch);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_true(run_until_count(h, &again.calls, 1));
    tempo__watch_stop(loop, again.watch);
    close(p[0]);
    close(p[1]);
    tempo_loop_free(loop);
    uv_host_free(h);
}

/* ---- an error on the fd ------------------------------------------------------- */

/* libuv stops a poll on POLLERR (here: writing end of a pipe whose reader is
 * gone) and says UV_EBADF: reported once as READ|WRITE masked by the watch
 * (so WRITE), then quiet until the owner updates the watch. */
static void test_fd_error(void **state)
{
    (void)state;
    uv_host_t *h = uv_host_new();
    assert_non_null(h);
    uv_loop_t *uvloop = h->uvloop;
    tempo_loop_t *loop;
    assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
    int fds[2];
    make_nonblocking_pipe(fds);
    io_rec_t w = {.loop = loop, .fd = fds[1]};
    w.watch = tempo__watch_start(loop, fds[1], TEMPO_IO_WRITE, io_cb, &w);
    assert_non_null(w.watch);
    close(fds[0]);
    assert_true(run_until_count(h, &w.calls, 1));
    assert_int_equal(w.events, TEMPO_IO_WRITE);
    run_for(h, 20);
    assert_int_equal(w.calls, 1);
    assert_int_equal(tempo__watch_update(loop, w.watch, TEMPO_IO_READ | TEMPO_IO_WRITE), 0);
    assert_true(run_until_count(h, &w.calls, 2));
    assert_int_equal(w.events, TEMPO_IO_READ | TEMPO_IO_WRITE);
    tempo__watch_stop(loop, w.watch);
    close(fds[1]);
    tempo_loop_free(loop);
    uv_host_free(h);
}

/* ---- wake-ups racing the teardown ---------------------------------------------- */

#define RACE_ROUNDS 200
#define RACE_THREADS 3
#define WAKES_AFTER_DETACH 50

typedef struct race {
    const tempo_loop_ops_t *ops;
    void *adapter;
    atomic_bool detached; /* set by the loop thread after tempo_loop_free */
    atomic_bool stop;
    atomic_int after; /* wakes sent after `detached` was seen */
} race_t;

static void *race_waker(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        bool late = atomic_load(&r->detached);
        r->ops->wake(r->adapter);
        if (late)
            atomic_fetch_add(&r->after, 1);
    }
    return NULL;
}

static bool spin_until_after(race_t *r, int want)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&r->after) < want) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            return false;
        sched_yield();
    }
    return true;
}

/* Threads hammer the adapter's wake() while the loop thread frees the loop
 * (detach closes the uv_async) and keep waking after detach, until the
 * close callbacks are about to run; then the uv loop is closed. The adapter
 * alone must make this safe (wake_mu + detached, async closed last): ASan
 * and TSan check it, uv_loop_close() == 0 checks nothing leaked. */
static void test_wake_races_teardown(void **state)
{
    (void)state;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        uv_host_t *h = uv_host_new();
        assert_non_null(h);
        uv_loop_t *uvloop = h->uvloop;
        tempo_loop_t *loop;
        assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
        race_t r = {.ops = loop->ops, .adapter = loop->adapter};
        atomic_init(&r.detached, false);
        atomic_init(&r.stop, false);
        atomic_init(&r.after, 0);
        pthread_t th[RACE_THREADS];
        for (int i = 0; i < RACE_THREADS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, race_waker, &r), 0);
        /* Wake-ups arrive as rounds of the core (on_wake), then the teardown
         * races the threads still waking. */
        uint64_t got = 0;
        for (int i = 0; i < 200 && (got = rounds_of(loop)) < 2; i++)
            uv_run_once(h, 20);
        if (round % 2)
            uv_run(uvloop, UV_RUN_NOWAIT); /* vary where the threads are */
        tempo_loop_free(loop);
        atomic_store(&r.detached, true);
        bool late_wakes = spin_until_after(&r, WAKES_AFTER_DETACH);
        atomic_store(&r.stop, true);
        for (int i = 0; i < RACE_THREADS; i++)
            pthread_join(th[i], NULL);
        uv_host_free(h);
        assert_true(got >= 2);
        assert_true(late_wakes);
    }
}

/* The same through the core, as a thread pool would do it: posts from
 * threads racing the running loop, then the loop freed and the uv loop
 * closed, many times. */
#define POST_THREADS 3
#define POSTS 100

typedef struct poster {
    tempo_loop_t *loop;
    tempo__call_t calls[POSTS];
} poster_t;

static int posts_run;

static void count_post(void *arg)
{
    (void)arg;
    posts_run++;
}

static void *poster_main(void *arg)
{
    poster_t *p = arg;
    for (int i = 0; i < POSTS; i++)
        tempo__loop_post(p->loop, &p->calls[i], count_post, NULL);
    return NULL;
}

static void test_posts_then_teardown(void **state)
{
    (void)state;
    static poster_t posters[POST_THREADS];
    for (int round = 0; round < 50; round++) {
        uv_host_t *h = uv_host_new();
        assert_non_null(h);
        uv_loop_t *uvloop = h->uvloop;
        tempo_loop_t *loop;
        assert_int_equal(tempo_uv_loop_new(uvloop, &loop, NULL), TEMPO_OK);
        posts_run = 0;
        pthread_t th[POST_THREADS];
        for (int i = 0; i < POST_THREADS; i++) {
            posters[i].loop = loop;
            assert_int_equal(pthread_create(&th[i], NULL, poster_main, &posters[i]), 0);
        }
        bool all = run_until_count(h, &posts_run, POST_THREADS * POSTS);
        for (int i = 0; i < POST_THREADS; i++)
            pthread_join(th[i], NULL);
        tempo_loop_free(loop);
        uv_host_free(h);
        assert_true(all);
    }
}

int main(void)
{
    int failures = adapter_conformance_tests(&uv_driver);
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_bad_fds_and_arguments),
        cmocka_unit_test(test_two_watches_one_fd),
        cmocka_unit_test(test_fd_reuse_with_stale_watch),
        cmocka_unit_test(test_close_fd_with_two_watches),
        cmocka_unit_test(test_fd_error),
        cmocka_unit_test(test_wake_races_teardown),
        cmocka_unit_test(test_posts_then_teardown),
    };
    failures += cmocka_run_group_tests_name("libuv (own cases)", own, NULL, NULL);
    return failures ? 1 : 0;
}
