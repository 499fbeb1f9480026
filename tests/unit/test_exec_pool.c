/* The offload pool (lib/exec/pool.c): every submitted item gets exactly one
 * done() on the loop thread; shutdown cancels what is queued, waits for what
 * runs, delivers everything and leaves nothing behind — no thread, no queued
 * call, no late done().
 *
 * Driven by the virtual loop: completions are received with tempo_vloop_wait.
 * Threads meet through condition variables (the gate below), never sleeps.
 * Meant to run under -DTEMPO_SANITIZE=thread and =address as well. cmocka's
 * assertions are not thread-safe: work functions only record, the main (loop)
 * thread asserts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/virtual.h>
#include <time.h>

#include "exec/pool.h"
#include "test_support.h"

/* Real time after which a missing completion counts as a hang. */
#define WAIT_MS 10000

/* ---- a gate: work functions arrive (and may wait); the test opens it ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    bool open;
} gate_t;

static void gate_init(gate_t *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->arrived = 0;
    g->open = false;
}

static void gate_destroy(gate_t *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_arrive(gate_t *g, bool wait_open)
{
    pthread_mutex_lock(&g->mu);
    g->arrived++;
    pthread_cond_broadcast(&g->cv);
    while (wait_open && !g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* Test side: wait until `n` have arrived; false after WAIT_MS. */
static bool gate_await(gate_t *g, int n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (g->arrived < n && rc == 0)
        rc = pthread_cond_timedwait(&g->cv, &g->mu, &deadline);
    bool ok = g->arrived >= n;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

static void gate_open(gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ---- fixture ---- */

typedef struct item item_t;

static struct {
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo__pool_t *pool; /* NULL once freed */
    pthread_t main_thread;
    gate_t gate;
    int done_total;          /* loop thread only, as are the two below */
    bool in_free;            /* inside a tempo__pool_free the test called */
    item_t *done_order[512]; /* the first done()s, in order */
} fx;

struct item {
    tempo__work_t work;
    int id;
    tempo__pool_t *pool; /* for work functions */
    /* written by the work function */
    atomic_int ran;
    pthread_t ran_on;
    bool stop_seen;
    /* written by done() */
    int done_calls;
    tempo_status_t status;
    bool done_on_loop;
    bool done_in_free;
    /* run at the end of done(), on the loop thread */
    void (*then)(item_t *it);
};

#define ITEM(w) ((item_t *)((char *)(w) - offsetof(item_t, work)))

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    fx.main_thread = pthread_self();
    gate_init(&fx.gate);
    return tempo_vloop_new(tempo_test_utc("2026-01-01T00:00:00Z"), &fx.vloop, &fx.loop, NULL) == TEMPO_OK
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    tempo__pool_free(fx.pool); /* after a failed assertion */
    tempo_vloop_run(fx.vloop);
    tempo_loop_free(fx.loop);
    tempo_vloop_free(fx.vloop);
    gate_destroy(&fx.gate);
    return 0;
}

static void new_pool(int threads)
{
    tempo_error_t err;
    assert_int_equal(tempo__pool_new(fx.loop, threads, &fx.pool, &err), TEMPO_OK);
}

static void free_pool(void)
{
    fx.in_free = true;
    tempo__pool_free(fx.pool);
    fx.in_free = false;
    fx.pool = NULL;
}

/* Receive completions until `n` done()s have run in all. */
static void pump(int n)
{
    while (fx.done_total < n)
        if (!tempo_vloop_wait(fx.vloop, WAIT_MS))
            fail_msg("only %d of %d completions after %d ms", fx.done_total, n, WAIT_MS);
}

/* After free: nothing more comes, and nothing of the pool is left queued. */
static void assert_nothing_after_free(int total)
{
    assert_int_equal(fx.done_total, total);
    tempo_vloop_run(fx.vloop);
    assert_false(tempo_vloop_wait(fx.vloop, 0));
    assert_int_equal(fx.done_total, total);
    assert_int_equal(tempo__loop_pending(fx.loop), 0);
}

/* ---- work and done functions ---- */

static void record_run(item_t *it)
{
    atomic_fetch_add(&it->ran, 1);
    it->ran_on = pthread_self();
}

static void work_quick(tempo__work_t *w)
{
    record_run(ITEM(w));
}

/* Says it started (gate.arrived), returns at once. */
static void work_arrive(tempo__work_t *w)
{
    record_run(ITEM(w));
    gate_arrive(&fx.gate, false);
}

/* Says it started, then holds its thread until the test opens the gate. */
static void work_hold(tempo__work_t *w)
{
    record_run(ITEM(w));
    gate_arrive(&fx.gate, true);
}

/* Says it started, then holds its thread until the pool shuts down. */
static void work_until_stop(tempo__work_t *w)
{
    item_t *it = ITEM(w);
    record_run(it);
    gate_arrive(&fx.gate, false);
    it->stop_seen = tempo__pool_wait_stop(it->pool, (tempo_duration_t)WAIT_MS * 1000);
}

static void on_done(tempo__work_t *w, tempo_status_t status)
{
    item_t *it = ITEM(w);
    it->done_calls++;
    it->status = status;
    it->done_on_loop = pthread_equal(pthread_self(), fx.main_thread);
    it->done_in_free = fx.in_free;
    if (fx.done_total < (int)(sizeof fx.done_order / sizeof fx.done_order[0]))
        fx.done_order[fx.done_total] = it;
    fx.done_total++;
    if (it->then)
        it->then(it);
}

static void submit(item_t *it, int id, tempo__work_fn fn)
{
    it->id = id;
    it->pool = fx.pool;
    assert_int_equal(tempo__pool_submit(fx.pool, &it->work, fn, on_done), TEMPO_OK);
}

static void assert_done_once(const item_t *it, tempo_status_t status)
{
    assert_int_equal(it->done_calls, 1);
    assert_int_equal(it->status, status);
    assert_true(it->done_on_loop);
    assert_int_equal(atomic_load(&it->ran), status == TEMPO_OK ? 1 : 0);
}

/* ---- arguments ---- */

static void test_new_rejects_bad_arguments(void **state)
{
    (void)state;
    tempo__pool_t *pool = NULL;
    tempo_error_t err;
    assert_int_equal(tempo__pool_new(NULL, 2, &pool, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "loop is NULL"));
    assert_int_equal(tempo__pool_new(fx.loop, 2, NULL, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "out is NULL"));
    const int bad[] = {0, -1, TEMPO_POOL_MAX_THREADS + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tempo__pool_new(fx.loop, bad[i], &pool, &err), TEMPO_EINVAL);
        assert_int_equal(err.code, TEMPO_EINVAL);
        assert_non_null(strstr(err.message, "threads must be 1 to 1024"));
        assert_null(pool);
    }
    assert_int_equal(tempo__pool_new(fx.loop, 0, &pool, NULL), TEMPO_EINVAL);
    assert_null(pool);
}

static void test_null_arguments(void **state)
{
    (void)state;
    tempo__pool_free(NULL);
    assert_int_equal(tempo__pool_threads(NULL), 0);
    assert_false(tempo__pool_wait_stop(NULL, 0));
    new_pool(1);
    item_t it = {0};
    assert_false(tempo__pool_cancel(NULL, &it.work));
    assert_false(tempo__pool_cancel(fx.pool, NULL));
    assert_int_equal(tempo__pool_submit(NULL, &it.work, work_quick, on_done), TEMPO_EINVAL);
    assert_int_equal(tempo__pool_submit(fx.pool, NULL, work_quick, on_done), TEMPO_EINVAL);
    assert_int_equal(tempo__pool_submit(fx.pool, &it.work, NULL, on_done), TEMPO_EINVAL);
    assert_int_equal(tempo__pool_submit(fx.pool, &it.work, work_quick, NULL), TEMPO_EINVAL);
    assert_int_equal(tempo__pool_threads(fx.pool), 0); /* refused submits start nothing */
    free_pool();
    assert_nothing_after_free(0);
}

/* ---- threads ---- */

static int count_os_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

/* No thread before the first submit; then one per item that has no idle
 * thread to go to, up to the maximum. Every item holds its thread, so no
 * thread is ever idle and the counts are exact. */
static void test_threads_start_lazily(void **state)
{
    (void)state;
    int before = count_os_threads();
    if (before < 0)
        tempo_test_skip("no /proc/self/task to count threads with");
    new_pool(3);
    tempo_vloop_run(fx.vloop);
    assert_int_equal(tempo__pool_threads(fx.pool), 0);
    assert_int_equal(count_os_threads(), before);

    item_t it[5] = {0};
    const int expect[5] = {1, 2, 3, 3, 3};
    for (int i = 0; i < 5; i++) {
        submit(&it[i], i, work_hold);
        assert_int_equal(tempo__pool_threads(fx.pool), expect[i]);
    }
    /* At least ours (a sanitizer may add a helper thread of its own). */
    assert_true(count_os_threads() >= before + 3);
    assert_true(gate_await(&fx.gate, 3));
    gate_open(&fx.gate);
    pump(5);
    for (int i = 0; i < 5; i++) {
        assert_done_once(&it[i], TEMPO_OK);
        assert_false(pthread_equal(it[i].ran_on, fx.main_thread));
    }
    assert_int_equal(tempo__pool_threads(fx.pool), 3);
    free_pool();
    assert_nothing_after_free(5);
}

/* ---- many items ---- */

#define MANY 10000

static void many_items(int threads)
{
    new_pool(threads);
    item_t *items = calloc(MANY, sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < MANY; i++)
        submit(&items[i], i, work_quick);
    pump(MANY);
    for (int i = 0; i < MANY; i++) {
        assert_done_once(&items[i], TEMPO_OK);
        assert_false(pthread_equal(items[i].ran_on, fx.main_thread));
    }
    assert_true(tempo__pool_threads(fx.pool) >= 1);
    assert_true(tempo__pool_threads(fx.pool) <= threads);
    free_pool();
    assert_nothing_after_free(MANY);
    free(items);
}

static void test_many_items_one_thread(void **state)
{
    (void)state;
    many_items(1);
}

static void test_many_items_eight_threads(void **state)
{
    (void)state;
    many_items(8);
}

/* ---- order ---- */

static atomic_int start_count;
static int start_order[200];

static void work_note_order(tempo__work_t *w)
{
    item_t *it = ITEM(w);
    start_order[atomic_fetch_add(&start_count, 1)] = it->id;
    if (it->id == 0)
        work_hold(w); /* the rest queue up behind it */
    else
        record_run(it);
}

static void test_fifo_with_one_thread(void **state)
{
    (void)state;
    new_pool(1);
    atomic_store(&start_count, 0);
    item_t it[200] = {0};
    for (int i = 0; i < 200; i++)
        submit(&it[i], i, work_note_order);
    assert_true(gate_await(&fx.gate, 1));
    gate_open(&fx.gate);
    pump(200);
    assert_int_equal(atomic_load(&start_count), 200);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(start_order[i], i);
        assert_ptr_equal(fx.done_order[i], &it[i]); /* one thread: done in order too */
        assert_done_once(&it[i], TEMPO_OK);
    }
    free_pool();
    assert_nothing_after_free(200);
}

/* ---- cancel ---- */

static void test_cancel_queued_not_running(void **state)
{
    (void)state;
    new_pool(1);
    item_t running = {0}, queued = {0}, after = {0};
    submit(&running, 0, work_hold);
    submit(&queued, 1, work_quick);
    submit(&after, 2, work_quick);
    assert_true(gate_await(&fx.gate, 1));

    assert_true(tempo__pool_cancel(fx.pool, &queued.work));
    assert_int_equal(queued.done_calls, 0); /* later, not inside cancel */
    assert_false(tempo__pool_cancel(fx.pool, &queued.work));
    assert_false(tempo__pool_cancel(fx.pool, &running.work));
    pump(1); /* the cancelled one arrives while the other still runs */
    assert_ptr_equal(fx.done_order[0], &queued);
    assert_done_once(&queued, TEMPO_ECANCELLED);

    gate_open(&fx.gate);
    pump(3);
    assert_done_once(&running, TEMPO_OK);
    assert_done_once(&after, TEMPO_OK);
    assert_false(tempo__pool_cancel(fx.pool, &running.work));
    assert_false(tempo__pool_cancel(fx.pool, &after.work));
    free_pool();
    assert_nothing_after_free(3);
}

/* ---- shutdown ---- */

static item_t late;
static tempo_status_t late_submit;
static bool late_cancel;

/* A done() delivered by free pokes the pool while it is going away. */
static void poke_during_free(item_t *it)
{
    late_submit = tempo__pool_submit(fx.pool, &late.work, work_quick, on_done);
    late_cancel = tempo__pool_cancel(fx.pool, &it->work);
    tempo__pool_free(fx.pool); /* re-entrant: returns at once */
}

static void test_free_cancels_queued_and_waits_for_running(void **state)
{
    (void)state;
    new_pool(2);
    memset(&late, 0, sizeof late);
    item_t run[2] = {0}, queued[6] = {0};
    submit(&run[0], 0, work_until_stop);
    submit(&run[1], 1, work_until_stop);
    for (int i = 0; i < 6; i++)
        submit(&queued[i], 10 + i, work_quick);
    queued[0].then = poke_during_free;
    /* Both threads are held until the pool stops, so nothing queued can
     * start before free. */
    assert_true(gate_await(&fx.gate, 2));
    tempo_vloop_run(fx.vloop);
    assert_int_equal(fx.done_total, 0);

    free_pool();
    assert_int_equal(fx.done_total, 8);
    for (int i = 0; i < 2; i++) {
        assert_done_once(&run[i], TEMPO_OK);
        assert_true(run[i].stop_seen); /* it ran on until the stop */
        assert_true(run[i].done_in_free);
    }
    for (int i = 0; i < 6; i++) {
        assert_done_once(&queued[i], TEMPO_ECANCELLED);
        assert_true(queued[i].done_in_free);
    }
    assert_int_equal(late_submit, TEMPO_ESTATE);
    assert_false(late_cancel);
    assert_int_equal(late.done_calls, 0);
    assert_nothing_after_free(8);
}

/* A completion posted to the loop but not yet received when free runs: free
 * takes the queued drain call back and delivers the item itself. One thread:
 * when the second item has started, the first one's completion has certainly
 * been posted. */
static void test_free_with_drain_in_flight(void **state)
{
    (void)state;
    new_pool(1);
    item_t first = {0}, second = {0};
    submit(&first, 0, work_quick);
    submit(&second, 1, work_until_stop);
    assert_true(gate_await(&fx.gate, 1));
    assert_int_equal(tempo__loop_pending(fx.loop), 1); /* the drain call */
    free_pool();
    assert_done_once(&first, TEMPO_OK);
    assert_done_once(&second, TEMPO_OK);
    assert_true(first.done_in_free);
    assert_true(second.done_in_free);
    assert_true(second.stop_seen);
    assert_int_equal(tempo__loop_pending(fx.loop), 0); /* taken back by free */
    assert_nothing_after_free(2);
}

/* The same when the drain is already taken by the loop's current round but
 * not reached: an earlier posted call of that round frees the pool. */
static struct {
    tempo__call_t call;
    item_t first, second;
} early;

static void free_from_posted_call(void *arg)
{
    (void)arg;
    free_pool();
}

static void test_free_from_earlier_call_of_same_round(void **state)
{
    (void)state;
    new_pool(1);
    memset(&early, 0, sizeof early);
    /* Posted before the pool's drain, so it runs first in the round. */
    tempo__loop_post(fx.loop, &early.call, free_from_posted_call, NULL);
    submit(&early.first, 0, work_quick);
    submit(&early.second, 1, work_until_stop);
    assert_true(gate_await(&fx.gate, 1));
    assert_int_equal(tempo__loop_pending(fx.loop), 2);
    assert_true(tempo_vloop_wait(fx.vloop, WAIT_MS));
    assert_null(fx.pool);
    assert_done_once(&early.first, TEMPO_OK);
    assert_done_once(&early.second, TEMPO_OK);
    assert_true(early.first.done_in_free);
    assert_nothing_after_free(2);
}

static void free_from_done(item_t *it)
{
    (void)it;
    free_pool();
}

/* A done() frees the pool in the middle of a drain's batch: the rest of the
 * batch is delivered by that free, and the drain stops touching the pool. */
static void test_free_from_done_inside_drain(void **state)
{
    (void)state;
    new_pool(1);
    item_t it[10] = {0};
    for (int i = 0; i < 10; i++)
        submit(&it[i], i, work_arrive);
    it[0].then = free_from_done;
    assert_true(gate_await(&fx.gate, 10));
    pump(1);
    assert_null(fx.pool);
    assert_int_equal(fx.done_total, 10);
    assert_false(it[0].done_in_free);
    for (int i = 0; i < 10; i++) {
        assert_done_once(&it[i], TEMPO_OK);
        assert_ptr_equal(fx.done_order[i], &it[i]);
        if (i > 0)
            assert_true(it[i].done_in_free);
    }
    assert_nothing_after_free(10);
}

/* The same from the middle of a busy pool, many times over: items are queued,
 * running, finished and posted at the moment of free. Each ends exactly once,
 * as OK when and only when its work ran. */
#define LOAD 300
#define ROUNDS 30

static void test_free_from_done_under_load(void **state)
{
    (void)state;
    item_t *items = calloc(LOAD, sizeof *items);
    assert_non_null(items);
    for (int round = 0; round < ROUNDS; round++) {
        memset(items, 0, LOAD * sizeof *items);
        fx.done_total = 0;
        new_pool(4);
        for (int i = 0; i < LOAD; i++)
            submit(&items[i], i, work_quick);
        items[(round * 37) % 50].then = free_from_done;
        pump(LOAD);
        assert_null(fx.pool);
        for (int i = 0; i < LOAD; i++) {
            assert_int_equal(items[i].done_calls, 1);
            assert_true(items[i].status == TEMPO_OK || items[i].status == TEMPO_ECANCELLED);
            assert_done_once(&items[i], items[i].status);
        }
        assert_nothing_after_free(LOAD);
    }
    free(items);
}

/* ---- done() may reuse or free its item ---- */

#define CHAIN 50

static int chain_mismatch;

static void resubmit_or_free(item_t *it)
{
    if (atomic_load(&it->ran) != it->done_calls)
        chain_mismatch++;
    if (it->done_calls < CHAIN) {
        if (tempo__pool_submit(fx.pool, &it->work, work_quick, on_done) != TEMPO_OK)
            chain_mismatch++;
    } else {
        free(it); /* the pool must not look at it again */
    }
}

static void test_done_may_resubmit_and_free_its_item(void **state)
{
    (void)state;
    new_pool(2);
    chain_mismatch = 0;
    item_t *it = calloc(1, sizeof *it);
    assert_non_null(it);
    it->then = resubmit_or_free;
    submit(it, 0, work_quick);
    pump(CHAIN);
    assert_int_equal(chain_mismatch, 0);
    free_pool();
    assert_nothing_after_free(CHAIN);
}

/* ---- the loop is not held up by work ---- */

static struct {
    tempo__timer_t timer;
    int fires;
    int done_seen; /* done()s of the held item seen by the timer */
    item_t *held;
} tick;

static void on_tick(void *arg)
{
    (void)arg;
    tick.fires++;
    tick.done_seen += tick.held->done_calls;
    if (tick.fires == 100)
        gate_open(&fx.gate);
    else
        tempo__timer_start(fx.loop, &tick.timer, tempo_loop_now(fx.loop) + TEMPO_USEC_PER_SEC);
}

static void test_loop_keeps_running_during_long_work(void **state)
{
    (void)state;
    new_pool(1);
    item_t held = {0};
    memset(&tick, 0, sizeof tick);
    tick.held = &held;
    submit(&held, 0, work_hold);
    assert_true(gate_await(&fx.gate, 1));
    tempo_time_t start = tempo_vloop_now(fx.vloop);
    tempo__timer_init(&tick.timer, on_tick, NULL);
    tempo__timer_start(fx.loop, &tick.timer, start + TEMPO_USEC_PER_SEC);
    tempo_vloop_advance(fx.vloop, 200 * TEMPO_USEC_PER_SEC);
    assert_int_equal(tick.fires, 100);
    assert_int_equal(tick.done_seen, 0);
    pump(1);
    assert_done_once(&held, TEMPO_OK);
    assert_int_equal(tempo_vloop_now(fx.vloop), start + 200 * TEMPO_USEC_PER_SEC);
    free_pool();
    assert_nothing_after_free(1);
}

static void test_wait_stop_times_out(void **state)
{
    (void)state;
    new_pool(1);
    assert_false(tempo__pool_wait_stop(fx.pool, 2000));
    assert_false(tempo__pool_wait_stop(fx.pool, -1));
    free_pool();
    assert_nothing_after_free(0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_rejects_bad_arguments),
        T(test_null_arguments),
        T(test_threads_start_lazily),
        T(test_many_items_one_thread),
        T(test_many_items_eight_threads),
        T(test_fifo_with_one_thread),
        T(test_cancel_queued_not_running),
        T(test_free_cancels_queued_and_waits_for_running),
        T(test_free_with_drain_in_flight),
        T(test_free_from_earlier_call_of_same_round),
        T(test_free_from_done_inside_drain),
        T(test_free_from_done_under_load),
        T(test_done_may_resubmit_and_free_its_item),
        T(test_loop_keeps_running_during_long_work),
        T(test_wait_stop_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
