/* Core timers (lib/loop/timer_heap.c + the rounds in loop.c): heap order
 * against a sorted model, FIFO ties, re-arm, start/stop from callbacks,
 * early adapter fires, adapter re-arming, tempo_loop_free from a callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <tempo/virtual.h>

#include "test_loop_mock.h"
#include "test_support.h"

#define T0 INT64_C(1700000000000000)

/* ---- a recorder shared by the cases ---------------------------------- */

#define MAX_FIRES 20000

typedef struct rec {
    int order[MAX_FIRES];
    tempo_time_t at[MAX_FIRES];
    int n;
} rec_t;

typedef struct tt {
    tempo__timer_t timer;
    int id;
    rec_t *rec;
    tempo_loop_t *loop;
    tempo_vloop_t *vloop;
    void (*also)(struct tt *); /* extra action inside the callback */
    struct tt *other;
    tempo_time_t param;
} tt_t;

static void tt_fire(void *arg)
{
    tt_t *t = arg;
    rec_t *r = t->rec;
    if (r->n < MAX_FIRES) {
        r->order[r->n] = t->id;
        r->at[r->n] = tempo_loop_now(t->loop);
        r->n++;
    }
    if (t->also)
        t->also(t);
}

static void tt_init(tt_t *t, int id, rec_t *r, tempo_loop_t *loop)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->rec = r;
    t->loop = loop;
    tempo__timer_init(&t->timer, tt_fire, t);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

/* ---- heap order against a model -------------------------------------- */

#define RANDOM_N 3000

typedef struct model {
    tempo_time_t deadline;
    uint64_t started; /* global start counter at its last start */
    bool armed;
} model_t;

static int cmp_model_idx(const void *a, const void *b, const model_t *m)
{
    const model_t *x = &m[*(const int *)a], *y = &m[*(const int *)b];
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->started < y->started ? -1 : x->started > y->started;
}

static const model_t *sort_model;
static int cmp_idx(const void *a, const void *b)
{
    return cmp_model_idx(a, b, sort_model);
}

static void test_random_heap_order(void **state)
{
    (void)state;
    static tt_t timers[RANDOM_N];
    static model_t model[RANDOM_N];
    static rec_t rec;
    static int expect[RANDOM_N];
    memset(&rec, 0, sizeof rec);
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    assert_int_equal(tempo_vloop_new(T0, &v, &loop, NULL), TEMPO_OK);
    uint64_t starts = 0;
    for (int i = 0; i < RANDOM_N; i++) {
        tt_init(&timers[i], i, &rec, loop);
        model[i] = (model_t){0, 0, false};
    }
    /* Random starts, re-arms and stops; few distinct deadlines so ties abound. */
    for (int k = 0; k < 4 * RANDOM_N; k++) {
        int i = (int)(rng() % RANDOM_N);
        if (rng() % 5 == 0) {
            tempo__timer_stop(loop, &timers[i].timer);
            model[i].armed = false;
        } else {
            tempo_time_t d = T0 + 1 + (tempo_time_t)(rng() % 500) * 10;
            assert_int_equal(tempo__timer_start(loop, &timers[i].timer, d), TEMPO_OK);
            model[i] = (model_t){d, starts++, true};
        }
        assert_int_equal(tempo__timer_armed(&timers[i].timer), model[i].armed);
    }
    int n = 0;
    for (int i = 0; i < RANDOM_N; i++)
        if (model[i].armed)
            expect[n++] = i;
    sort_model = model;
    qsort(expect, (size_t)n, sizeof expect[0], cmp_idx);
    assert_int_equal(tempo__loop_pending(loop), (size_t)n);

    tempo_vloop_advance_to(v, T0 + 10000);
    assert_int_equal(rec.n, n);
    for (int k = 0; k < n; k++) {
        assert_int_equal(rec.order[k], expect[k]);
        assert_int_equal(rec.at[k], model[expect[k]].deadline); /* fired at its deadline */
    }
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
}

/* ---- FIFO ties and re-arm -------------------------------------------- */

static void test_fifo_ties(void **state)
{
    (void)state;
    static tt_t t[100];
    static rec_t rec;
    memset(&rec, 0, sizeof rec);
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    for (int i = 0; i < 100; i++) {
        tt_init(&t[i], i, &rec, loop);
        tempo__timer_start(loop, &t[i].timer, T0 + 50);
    }
    /* Re-arming at the same deadline counts as a new start: 7 goes last. */
    tempo__timer_start(loop, &t[7].timer, T0 + 50);
    m.now = T0 + 50;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 100);
    int k = 0;
    for (int i = 0; i < 100; i++)
        if (i != 7)
            assert_int_equal(rec.order[k++], i);
    assert_int_equal(rec.order[99], 7);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
    assert_int_equal(m.detaches, 1);
}

static void test_rearm(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b;
    tempo_vloop_t *v;
    tempo_loop_t *loop;
    assert_int_equal(tempo_vloop_new(T0, &v, &loop, NULL), TEMPO_OK);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    tempo__timer_start(loop, &a.timer, T0 + 100);
    tempo__timer_start(loop, &b.timer, T0 + 200);
    tempo__timer_start(loop, &a.timer, T0 + 300); /* later */
    tempo__timer_start(loop, &b.timer, T0 + 50);  /* earlier */
    assert_int_equal(a.timer.deadline, T0 + 300);
    assert_int_equal(tempo_vloop_next_deadline(v), T0 + 50);
    assert_int_equal(tempo__loop_pending(loop), 2);
    tempo_vloop_advance_to(v, T0 + 1000);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.order[0], 2);
    assert_int_equal(rec.at[0], T0 + 50);
    assert_int_equal(rec.order[1], 1);
    assert_int_equal(rec.at[1], T0 + 300);
    /* NONE means never: it stops an armed timer. */
    tempo__timer_start(loop, &a.timer, T0 + 2000);
    assert_int_equal(tempo__timer_start(loop, &a.timer, TEMPO_TIME_NONE), TEMPO_OK);
    assert_false(tempo__timer_armed(&a.timer));
    /* start_after is relative to the loop clock. */
    assert_int_equal(tempo__timer_start_after(loop, &b.timer, 10), TEMPO_OK);
    assert_int_equal(b.timer.deadline, T0 + 1010);
    /* Saturates instead of overflowing. */
    assert_int_equal(tempo__timer_start_after(loop, &a.timer, INT64_MAX), TEMPO_OK);
    assert_int_equal(a.timer.deadline, INT64_MAX);
    tempo_vloop_advance_to(v, T0 + 5000);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.at[2], T0 + 1010);
    assert_true(tempo__timer_armed(&a.timer));
    tempo__timer_stop(loop, &a.timer);
    tempo__timer_stop(loop, &a.timer); /* twice is fine */
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_vloop_free(v);
}

/* ---- callbacks that start and stop timers ---------------------------- */

static void stop_other(tt_t *t)
{
    tempo__timer_stop(t->loop, &t->other->timer);
}

static void stop_self_then_rearm(tt_t *t)
{
    tempo__timer_stop(t->loop, &t->timer); /* already disarmed: no-op */
    if (t->param != TEMPO_TIME_NONE) {
        tempo__timer_start(t->loop, &t->timer, t->param);
        t->param = TEMPO_TIME_NONE; /* once */
    }
}

static void test_stop_inside_callbacks(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b, c, d;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    tt_init(&c, 3, &rec, loop);
    tt_init(&d, 4, &rec, loop);
    a.also = stop_other;
    a.other = &b; /* b is due in the same round, after a: must not fire */
    c.also = stop_self_then_rearm;
    c.param = T0 + 500;
    d.also = stop_other;
    d.other = &a; /* a already fired: stopping it is a no-op */
    tempo__timer_start(loop, &a.timer, T0 + 10);
    tempo__timer_start(loop, &b.timer, T0 + 10);
    tempo__timer_start(loop, &c.timer, T0 + 10);
    tempo__timer_start(loop, &d.timer, T0 + 20);
    m.now = T0 + 20;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.order[0], 1);
    assert_int_equal(rec.order[1], 3);
    assert_int_equal(rec.order[2], 4);
    assert_false(tempo__timer_armed(&b.timer));
    assert_true(tempo__timer_armed(&c.timer));
    /* The round re-armed the adapter for c's new deadline. */
    assert_true(m.armed);
    assert_int_equal(m.last_delay, 480);
    m.now = T0 + 500;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 4);
    assert_int_equal(rec.order[3], 3);
    assert_int_equal(tempo__loop_pending(loop), 0);
    assert_false(m.armed);
    tempo_loop_free(loop);
}

static void restart_other_later(tt_t *t)
{
    tempo__timer_start(t->loop, &t->other->timer, t->param);
}

/* b is due in the same round, but a moves it later before it runs: it
 * fires once, at the new deadline. */
static void test_restart_due_timer_inside_callback(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    a.also = restart_other_later;
    a.other = &b;
    a.param = T0 + 300;
    tempo__timer_start(loop, &a.timer, T0 + 10);
    tempo__timer_start(loop, &b.timer, T0 + 10);
    m.now = T0 + 10;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 1);
    assert_true(tempo__timer_armed(&b.timer));
    assert_int_equal(b.timer.deadline, T0 + 300);
    assert_int_equal(tempo__loop_pending(loop), 1);
    assert_int_equal(m.last_delay, 290);
    m.now = T0 + 300;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.order[1], 2);
    assert_int_equal(rec.at[1], T0 + 300);
    tempo_loop_free(loop);
}

/* An entry arriving while a round runs (a host loop run recursively from a
 * callback): it runs its own round and leaves the outer batch alone, so no
 * timer fires twice and none is lost. */
static tempo__call_t nested_call;
static void nested_posted(void *arg)
{
    rec_t *r = arg;
    r->order[r->n] = 99;
    r->at[r->n++] = 0;
}

static void nested_entry(tt_t *t)
{
    tempo__loop_post(t->loop, &nested_call, nested_posted, t->rec);
    tempo_loop_on_wake(t->loop);
}

static void test_nested_entry(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    a.also = nested_entry;
    tempo__timer_start(loop, &a.timer, T0);
    tempo__timer_start(loop, &b.timer, T0);
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.order[0], 1);
    assert_int_equal(rec.order[1], 99);
    assert_int_equal(rec.order[2], 2);
    assert_int_equal(tempo__loop_pending(loop), 0);
    assert_false(m.armed);
    tempo_loop_free(loop);
}

static void start_other_now(tt_t *t)
{
    tempo__timer_start(t->loop, &t->other->timer, t->param);
}

/* A timer started by a callback, even due already, waits for the next round:
 * b (armed before the round) fires first. The mock shows the two rounds. */
static void test_start_inside_callback(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b, n;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    tt_init(&n, 3, &rec, loop);
    a.also = start_other_now;
    a.other = &n;
    a.param = T0; /* in the past by the time it is started */
    tempo__timer_start(loop, &a.timer, T0 + 10);
    tempo__timer_start(loop, &b.timer, T0 + 10);
    m.now = T0 + 10;
    int sets = m.timer_sets;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.order[0], 1);
    assert_int_equal(rec.order[1], 2);
    assert_true(tempo__timer_armed(&n.timer));
    /* One timer_set for the round, asking for "now". */
    assert_int_equal(m.timer_sets, sets + 1);
    assert_int_equal(m.last_delay, 0);
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.order[2], 3);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

static void rearm_self_now(tt_t *t)
{
    if (t->param-- > 0)
        tempo__timer_start(t->loop, &t->timer, tempo_loop_now(t->loop));
}

/* A timer re-arming itself at "now" runs once per round, not in a loop. */
static void test_self_rearm_one_per_round(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    a.also = rearm_self_now;
    a.param = 5;
    tempo__timer_start(loop, &a.timer, T0);
    for (int round = 1; round <= 6; round++) {
        assert_true(mock_fire(&m, loop));
        assert_int_equal(rec.n, round);
    }
    assert_false(m.armed);
    assert_false(mock_fire(&m, loop));
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* ---- the adapter timer ----------------------------------------------- */

static void test_early_adapter_fire(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tempo__timer_start(loop, &a.timer, T0 + 1000);
    assert_true(m.armed);
    assert_int_equal(m.last_delay, 1000);
    /* The host fires 400 µs early: nothing runs, the timer is re-armed. */
    m.now = T0 + 600;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 0);
    assert_true(m.armed);
    assert_int_equal(m.last_delay, 400);
    /* A spurious wake-up changes nothing either. */
    int sets = m.timer_sets;
    tempo_loop_on_wake(loop);
    assert_int_equal(rec.n, 0);
    assert_int_equal(m.timer_sets, sets); /* still armed for the same deadline */
    m.now = T0 + 1000;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.at[0], T0 + 1000);
    assert_false(m.armed);
    tempo__loop_stats_t st;
    tempo__loop_get_stats(loop, &st);
    assert_int_equal(st.timer_entries, 2);
    assert_int_equal(st.early_timer_entries, 1);
    assert_int_equal(st.rounds, 3);
    assert_int_equal(st.timers_fired, 1);
    assert_int_equal(tempo__loop_pending(loop), 0);
    tempo_loop_free(loop);
}

/* Outside a round: only move the adapter timer earlier; clear it when the
 * last timer stops (an idle host loop may then exit). */
static void test_adapter_arming_outside_rounds(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b, c;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    tt_init(&c, 3, &rec, loop);
    tempo__timer_start(loop, &a.timer, T0 + 100);
    assert_int_equal(m.timer_sets, 1);
    assert_int_equal(m.last_delay, 100);
    tempo__timer_start(loop, &b.timer, T0 + 200);
    assert_int_equal(m.timer_sets, 1);
    tempo__timer_start(loop, &c.timer, T0 + 50);
    assert_int_equal(m.timer_sets, 2);
    assert_int_equal(m.last_delay, 50);
    tempo__timer_stop(loop, &c.timer); /* stays armed early: tolerated */
    assert_int_equal(m.timer_clears, 0);
    tempo__timer_stop(loop, &a.timer);
    tempo__timer_stop(loop, &b.timer);
    assert_int_equal(m.timer_clears, 1);
    assert_false(m.armed);
    /* A deadline in the past asks for an immediate fire. */
    m.now = T0 + 1000;
    tempo__timer_start(loop, &a.timer, T0 + 10);
    assert_int_equal(m.last_delay, 0);
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 1);
    tempo_loop_free(loop);
    assert_int_equal(m.detaches, 1);
}

/* Deadlines near the ends of the range do not overflow the delay. */
static void test_extreme_deadlines(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, INT64_MIN + 10);
    tt_init(&a, 1, &rec, loop);
    tempo__timer_start(loop, &a.timer, INT64_MAX);
    assert_int_equal(m.last_delay, INT64_MAX);
    m.now = INT64_MAX - 5;
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 0);
    assert_int_equal(m.last_delay, 5);
    tempo_loop_free(loop);
}

/* ---- big heaps, pending counts, free ----------------------------------- */

static void test_many_then_stop_all(void **state)
{
    (void)state;
    enum { N = 50000 };
    tt_t *t = calloc(N, sizeof *t);
    rec_t *rec = calloc(1, sizeof *rec);
    assert_non_null(t);
    assert_non_null(rec);
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    for (int i = 0; i < N; i++) {
        tt_init(&t[i], i, rec, loop);
        tempo__timer_start(loop, &t[i].timer, T0 + (tempo_time_t)(rng() % 100000));
    }
    assert_int_equal(tempo__loop_pending(loop), N);
    /* Stop in a scattered order so removals hit every part of the heap. */
    for (int i = 0; i < N; i++)
        tempo__timer_stop(loop, &t[(int)(((uint64_t)i * 7919u) % N)].timer);
    assert_int_equal(tempo__loop_pending(loop), 0);
    assert_false(m.armed);
    /* Still usable after shrinking. */
    tempo__timer_start(loop, &t[0].timer, T0);
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec->n, 1);
    tempo_loop_free(loop);
    free(rec);
    free(t);
}

static void free_loop_cb(tt_t *t)
{
    tempo_loop_free(t->loop);
}

/* A callback may free the loop: the rest of the round is dropped, detach
 * runs once, after the callback, and the armed timers are left unarmed. */
static void test_free_inside_callback(void **state)
{
    (void)state;
    rec_t rec = {0};
    tt_t a, b, c;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tt_init(&b, 2, &rec, loop);
    tt_init(&c, 3, &rec, loop);
    a.also = free_loop_cb;
    tempo__timer_start(loop, &a.timer, T0);
    tempo__timer_start(loop, &b.timer, T0);
    tempo__timer_start(loop, &c.timer, T0 + 100);
    assert_true(mock_fire(&m, loop));
    assert_int_equal(rec.n, 1);
    assert_int_equal(m.detaches, 1);
    assert_false(tempo__timer_armed(&b.timer));
    assert_false(tempo__timer_armed(&c.timer));
}

static void test_free_null_and_armed(void **state)
{
    (void)state;
    tempo_loop_free(NULL);
    rec_t rec = {0};
    tt_t a;
    mock_t m;
    tempo_loop_t *loop = mock_loop(&m, T0);
    tt_init(&a, 1, &rec, loop);
    tempo__timer_start(loop, &a.timer, T0 + 5);
    tempo_loop_free(loop);
    assert_int_equal(m.detaches, 1);
    assert_false(tempo__timer_armed(&a.timer));
    assert_int_equal(rec.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_heap_order),
        cmocka_unit_test(test_fifo_ties),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_stop_inside_callbacks),
        cmocka_unit_test(test_start_inside_callback),
        cmocka_unit_test(test_restart_due_timer_inside_callback),
        cmocka_unit_test(test_nested_entry),
        cmocka_unit_test(test_self_rearm_one_per_round),
        cmocka_unit_test(test_early_adapter_fire),
        cmocka_unit_test(test_adapter_arming_outside_rounds),
        cmocka_unit_test(test_extreme_deadlines),
        cmocka_unit_test(test_many_then_stop_all),
        cmocka_unit_test(test_free_inside_callback),
        cmocka_unit_test(test_free_null_and_armed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
