/* File-descriptor watches (lib/loop/watch.c) through the scripted adapter:
 * argument checks, event masking, stop inside the own callback (ASan would
 * catch a use after free), and tempo_loop_free with live watches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_loop_mock.h"
#include "test_support.h"

#define T0 INT64_C(1700000000000000)

typedef struct io_rec {
    tempo_loop_t *loop;
    tempo__watch_t *watch;
    int calls;
    int last_events;
    bool stop_self;
    int update_to; /* >= 0: update own events inside the callback */
    int update_rc;
    tempo__watch_t *stop_other;
} io_rec_t;

static void on_io(void *arg, int events)
{
    io_rec_t *r = arg;
    r->calls++;
    r->last_events = events;
    if (r->update_to >= 0)
        r->update_rc = tempo__watch_update(r->loop, r->watch, r->update_to);
    if (r->stop_other)
        tempo__watch_stop(r->loop, r->stop_other);
    if (r->stop_self) {
        tempo__watch_stop(r->loop, r->watch);
        /* Still valid until we return; updating now is refused, not a crash. */
        r->update_rc = tempo__watch_update(r->loop, r->watch, TEMPO_IO_READ);
    }
}

static mock_watch_t *handle_of(mock_t *m, int fd)
{
    for (int i = 0; i < MOCK_WATCHES; i++)
        if (m->watches[i].live && m->watches[i].fd == fd)
            return &m->watches[i];
    return NULL;
}

static void test_start_update_stop(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    io_rec_t r = {.loop = loop, .update_to = -1};
    r.watch = tempo__watch_start(loop, 5, TEMPO_IO_READ, on_io, &r);
    assert_non_null(r.watch);
    mock_watch_t *h = handle_of(&m, 5);
    assert_non_null(h);
    assert_int_equal(h->events, TEMPO_IO_READ);
    assert_int_equal(tempo__loop_pending(loop), 1);
    /* The adapter reports both; the watch asked for READ only. */
    tempo_loop_on_io(loop, h->token, TEMPO_IO_READ | TEMPO_IO_WRITE);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_events, TEMPO_IO_READ);
    /* Nothing the watch wants: no call. */
    tempo_loop_on_io(loop, h->token, TEMPO_IO_WRITE);
    assert_int_equal(r.calls, 1);
    assert_int_equal(tempo__watch_update(loop, r.watch, TEMPO_IO_WRITE), 0);
    assert_int_equal(h->events, TEMPO_IO_WRITE);
    assert_int_equal(m.watch_updates, 1);
    assert_int_equal(tempo__watch_update(loop, r.watch, TEMPO_IO_WRITE), 0);
    assert_int_equal(m.watch_updates, 1); /* unchanged: no adapter call */
    assert_int_equal(tempo__watch_update(loop, r.watch, 4), EINVAL);
    /* Paused: reports are dropped. */
    assert_int_equal(tempo__watch_update(loop, r.watch, 0), 0);
    tempo_loop_on_io(loop, h->token, TEMPO_IO_READ | TEMPO_IO_WRITE);
    assert_int_equal(r.calls, 1);
    tempo__watch_stop(loop, r.watch);
    assert_false(h->live);
    assert_int_equal(m.watch_stops, 1);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo__watch_stop(loop, NULL); /* fine */
    tempo_loop_free(loop);
}

static void test_start_errors(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    io_rec_t r = {.loop = loop, .update_to = -1};
    errno = 0;
    assert_null(tempo__watch_start(loop, -1, TEMPO_IO_READ, on_io, &r));
    assert_int_equal(errno, EBADF);
    assert_null(tempo__watch_start(loop, 3, 8, on_io, &r));
    assert_int_equal(errno, EINVAL);
    assert_null(tempo__watch_start(loop, 3, TEMPO_IO_READ, NULL, &r));
    assert_int_equal(errno, EINVAL);
    m.fail_start_errno = EPERM;
    assert_null(tempo__watch_start(loop, 3, TEMPO_IO_READ, on_io, &r));
    assert_int_equal(errno, EPERM);
    assert_int_equal(tempo__loop_pending(loop), 0);
    /* Created paused (events 0) is allowed. */
    m.fail_start_errno = 0;
    tempo__watch_t *w = tempo__watch_start(loop, 3, 0, on_io, &r);
    assert_non_null(w);
    tempo__watch_stop(loop, w);
    tempo_loop_free(loop);
}

/* A watch stopped inside its own callback is freed after it returns; a
 * watch stopped by another's callback is freed at once and not reported. */
static void test_stop_inside_callbacks(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    io_rec_t a = {.loop = loop, .update_to = -1, .stop_self = true};
    io_rec_t b = {.loop = loop, .update_to = -1};
    a.watch = tempo__watch_start(loop, 7, TEMPO_IO_READ, on_io, &a);
    b.watch = tempo__watch_start(loop, 8, TEMPO_IO_READ, on_io, &b);
    void *token_a = handle_of(&m, 7)->token;
    tempo_loop_on_io(loop, token_a, TEMPO_IO_READ);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.update_rc, EINVAL);
    assert_null(handle_of(&m, 7));
    assert_int_equal(tempo__loop_pending(loop), 1);
    /* c stops b from its callback. */
    io_rec_t c = {.loop = loop, .update_to = -1, .stop_other = b.watch};
    c.watch = tempo__watch_start(loop, 9, TEMPO_IO_WRITE, on_io, &c);
    tempo_loop_on_io(loop, handle_of(&m, 9)->token, TEMPO_IO_WRITE);
    assert_int_equal(c.calls, 1);
    assert_null(handle_of(&m, 8));
    assert_int_equal(b.calls, 0);
    /* Update from inside the own callback. */
    c.stop_other = NULL;
    c.update_to = TEMPO_IO_READ | TEMPO_IO_WRITE;
    tempo_loop_on_io(loop, handle_of(&m, 9)->token, TEMPO_IO_WRITE);
    assert_int_equal(c.update_rc, 0);
    assert_int_equal(handle_of(&m, 9)->events, TEMPO_IO_READ | TEMPO_IO_WRITE);
    assert_int_equal(tempo__loop_pending(loop), 1);
    tempo__watch_stop(loop, c.watch);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* The same fd number watched again after a stop is a new watch. */
static void test_fd_reuse(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    io_rec_t a = {.loop = loop, .update_to = -1};
    io_rec_t b = {.loop = loop, .update_to = -1};
    a.watch = tempo__watch_start(loop, 4, TEMPO_IO_READ, on_io, &a);
    tempo__watch_stop(loop, a.watch);
    b.watch = tempo__watch_start(loop, 4, TEMPO_IO_READ, on_io, &b);
    tempo_loop_on_io(loop, handle_of(&m, 4)->token, TEMPO_IO_READ);
    assert_int_equal(a.calls, 0);
    assert_int_equal(b.calls, 1);
    tempo__watch_stop(loop, b.watch);
    tempo_loop_free(loop);
}

/* tempo_loop_free stops live watches through the adapter, including the one
 * whose callback frees the loop. */
static void free_loop_io(void *arg, int events)
{
    (void)events;
    io_rec_t *r = arg;
    r->calls++;
    tempo_loop_free(r->loop);
}

static void test_free_with_watches(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    io_rec_t a = {.loop = loop, .update_to = -1};
    io_rec_t b = {.loop = loop, .update_to = -1};
    a.watch = tempo__watch_start(loop, 4, TEMPO_IO_READ, on_io, &a);
    b.watch = tempo__watch_start(loop, 5, TEMPO_IO_READ, on_io, &b);
    tempo_loop_free(loop);
    assert_int_equal(m.watch_stops, 2);
    assert_int_equal(m.detaches, 1);

    loop = mock_loop(&m, T0);
    io_rec_t c = {.loop = loop, .update_to = -1};
    c.watch = tempo__watch_start(loop, 6, TEMPO_IO_READ, free_loop_io, &c);
    b.watch = tempo__watch_start(loop, 5, TEMPO_IO_READ, on_io, &b);
    tempo_loop_on_io(loop, handle_of(&m, 6)->token, TEMPO_IO_READ);
    assert_int_equal(c.calls, 1);
    assert_int_equal(m.watch_stops, 2);
    assert_int_equal(m.detaches, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_update_stop),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_stop_inside_callbacks),
        cmocka_unit_test(test_fd_reuse),
        cmocka_unit_test(test_free_with_watches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
