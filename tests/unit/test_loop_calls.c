/* Deferred and posted calls (lib/loop/calls.c) and the order of a round.
 * The threaded case is meant to run under -DTEMPO_SANITIZE=thread too.
 * (cmocka's assertions are not thread-safe: threads only record, the main
 * thread asserts.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <tempo/virtual.h>

#include "test_loop_mock.h"
#include "test_support.h"

#define T0 INT64_C(1700000000000000)

/* ---- a log of what ran, in order ------------------------------------- */

typedef struct log {
    char text[256];
    size_t len;
} log_t;

typedef struct step {
    tempo__call_t call;
    tempo__timer_t timer;
    char name;
    log_t *log;
    tempo_loop_t *loop;
    struct step *then;        /* defer this one from inside */
    struct step *then_posted; /* post this one from inside */
    bool in_call;             /* set while fn runs: catches re-entrancy */
    int *reentered;
} step_t;

static void step_fn(void *arg)
{
    step_t *s = arg;
    if (s->in_call && s->reentered)
        (*s->reentered)++;
    s->in_call = true;
    if (s->log->len + 1 < sizeof s->log->text) {
        s->log->text[s->log->len++] = s->name;
        s->log->text[s->log->len] = '\0';
    }
    if (s->then)
        tempo__loop_defer(s->loop, &s->then->call, step_fn, s->then);
    if (s->then_posted)
        tempo__loop_post(s->loop, &s->then_posted->call, step_fn, s->then_posted);
    s->in_call = false;
}

static void step_init(step_t *s, char name, log_t *log, tempo_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->log = log;
    s->loop = loop;
    tempo__timer_init(&s->timer, step_fn, s);
}

/* ---- deferred calls -------------------------------------------------- */

static void test_defer_never_inside_the_call(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b, c;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    step_init(&c, 'c', &log, loop);
    tempo__loop_defer(loop, &a.call, step_fn, &a);
    tempo__loop_defer(loop, &b.call, step_fn, &b);
    tempo__loop_defer(loop, &c.call, step_fn, &c);
    assert_string_equal(log.text, "");
    /* Outside a round, the first defer asked for an immediate timer, once. */
    assert_int_equal(m.timer_sets, 1);
    assert_int_equal(m.last_delay, 0);
    assert_int_equal(tempo__loop_pending(loop), 3);
    assert_true(mock_fire(&m, loop));
    assert_string_equal(log.text, "abc");
    assert_int_equal(tempo__loop_pending(loop), 0);
    assert_false(m.armed);
    tempo_loop_free(loop);
}

/* A call deferred by a deferred call runs in the next round, which the
 * round asks for with timer_set(0). */
static void test_defer_inside_defer_next_round(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b, c;
    int reentered = 0;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    step_init(&c, 'c', &log, loop);
    a.then = &c;
    a.reentered = c.reentered = &reentered;
    tempo__loop_defer(loop, &a.call, step_fn, &a);
    tempo__loop_defer(loop, &b.call, step_fn, &b);
    assert_true(mock_fire(&m, loop));
    assert_string_equal(log.text, "ab");
    assert_true(m.armed);
    assert_int_equal(m.last_delay, 0);
    assert_int_equal(tempo__loop_pending(loop), 1);
    assert_true(mock_fire(&m, loop));
    assert_string_equal(log.text, "abc");
    assert_int_equal(reentered, 0);
    assert_false(m.armed);
    tempo_loop_free(loop);
}

/* A call that re-defers itself runs once per round: no starvation. */
static int self_defers_left;
static tempo__call_t self_call;
static int self_runs;
static void self_defer(void *arg)
{
    tempo_loop_t *loop = arg;
    self_runs++;
    if (self_defers_left-- > 0)
        tempo__loop_defer(loop, &self_call, self_defer, loop);
}

static void test_self_defer_one_per_round(void **state)
{
    (void)state;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    self_defers_left = 3;
    self_runs = 0;
    tempo__loop_defer(loop, &self_call, self_defer, loop);
    for (int round = 1; round <= 4; round++) {
        assert_true(mock_fire(&m, loop));
        assert_int_equal(self_runs, round);
    }
    assert_false(mock_fire(&m, loop));
    tempo_loop_free(loop);
}

/* ---- the order of a round -------------------------------------------- */

/* Entry's own work (on_wake has none), posted, due timers, deferred — and
 * work queued by each phase lands where loop_internal.h says. */
static void test_round_order(void **state)
{
    (void)state;
    log_t log = {0};
    step_t p, t1, t2, d, dt, pp;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&p, 'P', &log, loop);
    step_init(&t1, 'T', &log, loop);
    step_init(&t2, 't', &log, loop);
    step_init(&d, 'D', &log, loop);
    step_init(&dt, 'd', &log, loop);  /* deferred by a timer: same round */
    step_init(&pp, 'p', &log, loop);  /* posted by a timer: next round */
    t1.then = &dt;
    t1.then_posted = &pp;
    tempo__loop_defer(loop, &d.call, step_fn, &d);
    tempo__timer_start(loop, &t1.timer, T0);
    tempo__timer_start(loop, &t2.timer, T0 + 5); /* not due yet */
    tempo__loop_post(loop, &p.call, step_fn, &p);
    assert_int_equal(m.wakes, 1);
    assert_string_equal(log.text, "");
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "PTDd");
    assert_int_equal(m.wakes, 2); /* pp's post woke the loop */
    assert_int_equal(m.last_delay, 5);
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "PTDdp");
    m.now = T0 + 5;
    assert_true(mock_fire(&m, loop));
    assert_string_equal(log.text, "PTDdpt");
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* Posted calls also run on timer and io entries (no wake-up needed). */
static void test_posted_run_on_any_entry(void **state)
{
    (void)state;
    log_t log = {0};
    step_t p, t;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&p, 'P', &log, loop);
    step_init(&t, 'T', &log, loop);
    tempo__timer_start(loop, &t.timer, T0);
    tempo__loop_post(loop, &p.call, step_fn, &p);
    assert_true(mock_fire(&m, loop));
    assert_string_equal(log.text, "PT");
    /* The wake-up that follows finds nothing: harmless. */
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "PT");
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* Only the post that makes the queue non-empty calls wake(). */
static void test_post_wakes_once_per_batch(void **state)
{
    (void)state;
    log_t log = {0};
    step_t s[5];
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    for (int i = 0; i < 5; i++) {
        step_init(&s[i], (char)('0' + i), &log, loop);
        tempo__loop_post(loop, &s[i].call, step_fn, &s[i]);
    }
    assert_int_equal(m.wakes, 1);
    assert_int_equal(tempo__loop_pending(loop), 5);
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "01234");
    tempo__loop_post(loop, &s[0].call, step_fn, &s[0]);
    assert_int_equal(m.wakes, 2);
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "012340");
    tempo_loop_free(loop);
}

/* tempo_loop_free drops queued calls without running them, and refuses
 * posts after (the memory is gone then, so only inside the free's round:
 * a posted call that frees the loop and a later post in the same round). */
static void test_free_drops_calls(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    tempo__loop_defer(loop, &a.call, step_fn, &a);
    tempo__loop_post(loop, &b.call, step_fn, &b);
    tempo_loop_free(loop);
    assert_string_equal(log.text, "");
    assert_int_equal(m.detaches, 1);
}

static void free_from_call(void *arg)
{
    step_t *s = arg;
    step_fn(s);
    tempo_loop_free(s->loop);
    /* Still inside the round: the loop's memory lives until it unwinds, and
     * a post now is dropped. */
    tempo__loop_post(s->loop, &s->then->call, step_fn, s->then);
}

static void test_free_inside_posted_call(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b, c, d;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    step_init(&c, 'c', &log, loop);
    step_init(&d, 'd', &log, loop);
    a.then = &d;
    tempo__loop_post(loop, &a.call, free_from_call, &a);
    tempo__loop_post(loop, &b.call, step_fn, &b);
    tempo__loop_defer(loop, &c.call, step_fn, &c);
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "a");
    assert_int_equal(m.detaches, 1);
}

/* ---- cancel ------------------------------------------------------------ */

static void test_cancel_queued(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b, c, d, p, q;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    step_init(&c, 'c', &log, loop);
    step_init(&d, 'd', &log, loop);
    step_init(&p, 'p', &log, loop);
    step_init(&q, 'q', &log, loop);
    assert_false(tempo__loop_cancel(loop, &a.call)); /* never queued */
    tempo__loop_defer(loop, &a.call, step_fn, &a);
    tempo__loop_defer(loop, &b.call, step_fn, &b);
    tempo__loop_defer(loop, &c.call, step_fn, &c);
    tempo__loop_post(loop, &p.call, step_fn, &p);
    tempo__loop_post(loop, &q.call, step_fn, &q);
    assert_int_equal(tempo__loop_pending(loop), 5);
    assert_true(tempo__loop_cancel(loop, &c.call)); /* the tail */
    assert_true(tempo__loop_cancel(loop, &a.call)); /* the head */
    assert_false(tempo__loop_cancel(loop, &a.call));
    assert_true(tempo__loop_cancel(loop, &p.call)); /* a post */
    assert_int_equal(tempo__loop_pending(loop), 2);
    /* The tail was fixed: a defer after cancelling it still lands. */
    tempo__loop_defer(loop, &d.call, step_fn, &d);
    tempo__loop_defer(loop, &a.call, step_fn, &a); /* a cancelled node is free again */
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "qbda");
    assert_false(tempo__loop_cancel(loop, &b.call)); /* already ran */
    assert_int_equal(tempo__loop_pending(loop), 0);
    assert_true(tempo__loop_cancel(loop, &q.call) == false);
    tempo_loop_free(loop);
}

/* Inside a round: a call cancels one taken by the same round, not yet run. */
static tempo__call_t *cancel_target, *cancel_next;
static int cancels_ok;
static void cancel_other(void *arg)
{
    step_t *s = arg;
    step_fn(s);
    cancels_ok += tempo__loop_cancel(s->loop, cancel_target);
    cancel_target = cancel_next;
}

static void test_cancel_inside_round(void **state)
{
    (void)state;
    log_t log = {0};
    step_t a, b, c, p1, p2;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    step_init(&a, 'a', &log, loop);
    step_init(&b, 'b', &log, loop);
    step_init(&c, 'c', &log, loop);
    step_init(&p1, 'P', &log, loop);
    step_init(&p2, 'Q', &log, loop);
    tempo__loop_defer(loop, &a.call, cancel_other, &a);
    tempo__loop_defer(loop, &b.call, step_fn, &b);
    tempo__loop_defer(loop, &c.call, step_fn, &c);
    tempo__loop_post(loop, &p1.call, cancel_other, &p1);
    tempo__loop_post(loop, &p2.call, step_fn, &p2);
    /* P runs first (posted phase) and cancels b, still queued; then a runs
     * and cancels c, taken by this round's deferred phase but not reached. */
    cancel_target = &b.call;
    cancel_next = &c.call;
    cancels_ok = 0;
    tempo_loop_on_wake(loop);
    assert_string_equal(log.text, "PQa");
    assert_int_equal(cancels_ok, 2);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* ---- posts from many threads ------------------------------------------ */

#define THREADS 8
#define PER_THREAD 5000

typedef struct post_item {
    tempo__call_t call;
    int thread, index;
    int runs; /* loop thread only */
} post_item_t;

typedef struct poster {
    int id;
    tempo_loop_t *loop;
    post_item_t *items;
} poster_t;

static pthread_barrier_t go;
static int delivered;          /* loop thread only */
static int last_index[THREADS]; /* loop thread only: per-thread FIFO check */
static int out_of_order;

static void count_item(void *arg)
{
    post_item_t *it = arg;
    it->runs++;
    delivered++;
    if (it->index <= last_index[it->thread])
        out_of_order++;
    last_index[it->thread] = it->index;
}

static void *poster_main(void *arg)
{
    poster_t *p = arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < PER_THREAD; i++)
        tempo__loop_post(p->loop, &p->items[i].call, count_item, &p->items[i]);
    return NULL;
}

static void test_post_from_threads(void **state)
{
    (void)state;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    assert_int_equal(tempo_vloop_new(T0, &v, &loop, NULL), TEMPO_OK);
    post_item_t *items = calloc(THREADS * PER_THREAD, sizeof *items);
    assert_non_null(items);
    poster_t posters[THREADS];
    pthread_t threads[THREADS];
    delivered = out_of_order = 0;
    assert_int_equal(pthread_barrier_init(&go, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        last_index[t] = -1;
        posters[t] = (poster_t){t, loop, items + t * PER_THREAD};
        for (int i = 0; i < PER_THREAD; i++)
            posters[t].items[i] = (post_item_t){.thread = t, .index = i};
        assert_int_equal(pthread_create(&threads[t], NULL, poster_main, &posters[t]), 0);
    }
    /* Drive the loop while they post: the loop runs concurrently with the
     * posters. Bounded in real time, not by sleeping. */
    int idle_waits = 0;
    while (delivered < THREADS * PER_THREAD && idle_waits < 100) {
        if (!tempo_vloop_wait(v, 100))
            idle_waits++;
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    tempo_vloop_run(v); /* anything posted after the last wait */
    pthread_barrier_destroy(&go);
    assert_int_equal(delivered, THREADS * PER_THREAD);
    assert_int_equal(out_of_order, 0);
    for (int i = 0; i < THREADS * PER_THREAD; i++)
        assert_int_equal(items[i].runs, 1);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defer_never_inside_the_call),
        cmocka_unit_test(test_defer_inside_defer_next_round),
        cmocka_unit_test(test_self_defer_one_per_round),
        cmocka_unit_test(test_round_order),
        cmocka_unit_test(test_posted_run_on_any_entry),
        cmocka_unit_test(test_post_wakes_once_per_batch),
        cmocka_unit_test(test_free_drops_calls),
        cmocka_unit_test(test_free_inside_posted_call),
        cmocka_unit_test(test_cancel_queued),
        cmocka_unit_test(test_cancel_inside_round),
        cmocka_unit_test(test_post_from_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
