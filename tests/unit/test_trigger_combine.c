/* "and" / "or": hand-checked chains with mixed and nested children, the AND
 * rule (fire at the latest of the agreeing times), the iteration cap, the
 * nesting limit, errors, ownership, and AND against a brute-force search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

#define T0 INT64_C(1798761600000000) /* 2027-01-01T00:00:00Z */

static tempo_trigger_t *every(tempo_duration_t period, tempo_time_t start)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = period;
    o.start = start;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_interval_new(&o, &t, NULL), TEMPO_OK);
    return t;
}

static tempo_trigger_t *once(tempo_time_t at)
{
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_date_new(at, &t, NULL), TEMPO_OK);
    return t;
}

/* Build and/or over `n` children, dropping the caller's references to them:
 * the combination must keep them alive on its own. */
static tempo_trigger_t *combine(bool is_and, tempo_trigger_t **kids, size_t n,
                                const tempo_combine_options_t *opts)
{
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = is_and ? tempo_trigger_and_new(kids, n, opts, &t, &err)
                               : tempo_trigger_or_new(kids, n, opts, &t, &err);
    if (rc != TEMPO_OK)
        fail_msg("combine: %s", err.message);
    for (size_t i = 0; i < n; i++)
        tempo_trigger_free(kids[i]);
    return t;
}

static void expect_chain(const tempo_trigger_t *t, tempo_time_t from, const tempo_time_t *want, size_t n)
{
    tempo_time_t at = from;
    for (size_t i = 0; i < n; i++) {
        at = tempo_trigger_next(t, at);
        if (at != want[i])
            fail_msg("fire %zu: got %lld want %lld", i, (long long)at, (long long)want[i]);
        if (at == TEMPO_TIME_NONE)
            break;
    }
}

static void test_or(void **state)
{
    (void)state;
    tempo_trigger_t *kids[] = {every(TEMPO_MINUTES(10), T0), once(T0 + TEMPO_MINUTES(25))};
    tempo_trigger_t *t = combine(false, kids, 2, NULL);
    const tempo_time_t want[] = {T0, T0 + TEMPO_MINUTES(10), T0 + TEMPO_MINUTES(20),
                                 T0 + TEMPO_MINUTES(25), T0 + TEMPO_MINUTES(30)};
    expect_chain(t, TEMPO_TIME_NONE, want, 5);
    assert_string_equal(tempo_trigger_type_name(t), "or");
    tempo_trigger_free(t);
}

static void test_or_ties_fire_once(void **state)
{
    (void)state;
    tempo_trigger_t *kids[] = {every(TEMPO_MINUTES(10), T0), every(TEMPO_MINUTES(10), T0),
                               every(TEMPO_MINUTES(20), T0)};
    tempo_trigger_t *t = combine(false, kids, 3, NULL);
    const tempo_time_t want[] = {T0, T0 + TEMPO_MINUTES(10), T0 + TEMPO_MINUTES(20),
                                 T0 + TEMPO_MINUTES(30)};
    expect_chain(t, T0 - 1, want, 4);
    tempo_trigger_free(t);

    /* Children that are over do not stop the others; all over: NONE. */
    tempo_trigger_t *k2[] = {once(T0), once(T0 + 5)};
    t = combine(false, k2, 2, NULL);
    const tempo_time_t want2[] = {T0, T0 + 5, TEMPO_TIME_NONE};
    expect_chain(t, 0, want2, 3);
    tempo_trigger_free(t);
}

static void test_and(void **state)
{
    (void)state;
    tempo_combine_options_t exact = TEMPO_COMBINE_OPTIONS_INIT;
    exact.threshold = 0;
    tempo_trigger_t *kids[] = {every(TEMPO_HOURS(2), T0), every(TEMPO_HOURS(3), T0)};
    tempo_trigger_t *t = combine(true, kids, 2, &exact);
    const tempo_time_t want[] = {T0, T0 + TEMPO_HOURS(6), T0 + TEMPO_HOURS(12)};
    expect_chain(t, TEMPO_TIME_NONE, want, 3);
    assert_string_equal(tempo_trigger_type_name(t), "and");
    tempo_trigger_free(t);
}

static void test_and_fires_at_latest(void **state)
{
    (void)state;
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    o.threshold = TEMPO_MINUTES(1);
    tempo_trigger_t *kids[] = {every(TEMPO_HOURS(2), T0), every(TEMPO_HOURS(3), T0 + TEMPO_SECONDS(30))};
    tempo_trigger_t *t = combine(true, kids, 2, &o);
    /* Group {T0, T0+30s} fires at T0+30s; next(T0+30s) is past that group. */
    const tempo_time_t want[] = {T0 + TEMPO_SECONDS(30), T0 + TEMPO_HOURS(6) + TEMPO_SECONDS(30)};
    expect_chain(t, T0 - 1, want, 2);
    /* Stateless: "after" between the group's members excludes that group. */
    assert_int_equal(tempo_trigger_next(t, T0 + TEMPO_SECONDS(10)), T0 + TEMPO_HOURS(6) + TEMPO_SECONDS(30));
    tempo_trigger_free(t);
}

static void test_and_never(void **state)
{
    (void)state;
    tempo_combine_options_t exact = TEMPO_COMBINE_OPTIONS_INIT;
    exact.threshold = 0;
    /* Odd and even hours never meet: NONE after max_iterations rounds. */
    tempo_trigger_t *kids[] = {every(TEMPO_HOURS(2), T0), every(TEMPO_HOURS(2), T0 + TEMPO_HOURS(1))};
    tempo_trigger_t *t = combine(true, kids, 2, &exact);
    assert_int_equal(tempo_trigger_next(t, T0), TEMPO_TIME_NONE);
    tempo_trigger_free(t);

    /* A child that is over ends the AND. */
    tempo_trigger_t *k2[] = {every(TEMPO_HOURS(2), T0), once(T0 + TEMPO_HOURS(6))};
    t = combine(true, k2, 2, &exact);
    const tempo_time_t want[] = {T0 + TEMPO_HOURS(6), TEMPO_TIME_NONE};
    expect_chain(t, T0, want, 2);
    tempo_trigger_free(t);
}

static void test_and_iteration_cap(void **state)
{
    (void)state;
    /* every 3 and every 5 from 0 meet at 15 after 6 rounds: (3,5) (6,5)
     * (6,10) (12,10) (12,15) (15,15). */
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    o.threshold = 0;
    o.max_iterations = 5;
    tempo_trigger_t *k1[] = {every(3, 0), every(5, 0)};
    tempo_trigger_t *t = combine(true, k1, 2, &o);
    assert_int_equal(tempo_trigger_next(t, 0), TEMPO_TIME_NONE);
    tempo_trigger_free(t);
    o.max_iterations = 6;
    tempo_trigger_t *k2[] = {every(3, 0), every(5, 0)};
    t = combine(true, k2, 2, &o);
    assert_int_equal(tempo_trigger_next(t, 0), 15);
    tempo_trigger_free(t);
}

static void test_nested(void **state)
{
    (void)state;
    tempo_combine_options_t exact = TEMPO_COMBINE_OPTIONS_INIT;
    exact.threshold = 0;
    tempo_trigger_t *inner[] = {every(TEMPO_HOURS(2), T0), every(TEMPO_HOURS(3), T0)};
    tempo_trigger_t *kids[] = {combine(true, inner, 2, &exact), once(T0 + TEMPO_HOURS(1))};
    tempo_trigger_t *t = combine(false, kids, 2, NULL);
    const tempo_time_t want[] = {T0, T0 + TEMPO_HOURS(1), T0 + TEMPO_HOURS(6), T0 + TEMPO_HOURS(12)};
    expect_chain(t, TEMPO_TIME_NONE, want, 4);

    /* and(or(...), interval): the or fires hourly-ish, the and every 4 h. */
    tempo_trigger_t *k2[] = {t, every(TEMPO_HOURS(4), T0)};
    tempo_trigger_t *u = combine(true, k2, 2, &exact);
    const tempo_time_t want2[] = {T0, T0 + TEMPO_HOURS(12), T0 + TEMPO_HOURS(24)};
    expect_chain(u, TEMPO_TIME_NONE, want2, 3);
    tempo_trigger_free(u);

    /* One child is allowed: it is the child. */
    tempo_trigger_t *k3[] = {every(7, 3)};
    t = combine(false, k3, 1, NULL);
    assert_int_equal(tempo_trigger_next(t, 3), 10);
    tempo_trigger_free(t);
}

static void test_depth_limit(void **state)
{
    (void)state;
    tempo_trigger_t *t = once(T0);
    for (int level = 2; level <= 32; level++) {
        tempo_trigger_t *kids[] = {t};
        t = combine(level % 2 == 0, kids, 1, NULL);
    }
    assert_int_equal(tempo_trigger_next(t, 0), T0); /* 32 levels: fine */
    tempo_trigger_t *out = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_or_new(&t, 1, NULL, &out, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "or: nesting 33 levels deep exceeds the limit of 32"));
    assert_null(out);
    tempo_trigger_free(t);
}

static void expect_error(bool is_and, tempo_trigger_t *const *kids, size_t n,
                         const tempo_combine_options_t *o, const char *needle)
{
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = is_and ? tempo_trigger_and_new(kids, n, o, &t, &err)
                               : tempo_trigger_or_new(kids, n, o, &t, &err);
    assert_int_equal(rc, TEMPO_EINVAL);
    assert_int_equal(err.code, TEMPO_EINVAL);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_null(t);
}

static void test_errors(void **state)
{
    (void)state;
    tempo_trigger_t *a = once(T0);
    tempo_trigger_t *kids[] = {a, NULL, a};
    expect_error(true, kids, 0, NULL, "and: needs at least one child trigger (got count = 0)");
    expect_error(false, NULL, 2, NULL, "or: needs at least one child trigger (got children = NULL)");
    expect_error(true, kids, 3, NULL, "and: child 1 is NULL");
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    o.threshold = -1;
    expect_error(true, kids, 1, &o, "threshold must be >= 0 microseconds, got -1");
    o = (tempo_combine_options_t)TEMPO_COMBINE_OPTIONS_INIT;
    o.max_iterations = 0;
    expect_error(false, kids, 1, &o, "or: max_iterations must be 1..1000000, got 0");
    o.max_iterations = TEMPO_COMBINE_MAX_ITERATIONS + 1; /* bounded: a record cannot stall next() */
    expect_error(true, kids, 1, &o, "and: max_iterations must be 1..1000000, got 1000001");
    o = (tempo_combine_options_t)TEMPO_COMBINE_OPTIONS_INIT;
    o.size = 3;
    expect_error(true, kids, 1, &o, "options.size 3");
    tempo_error_t err;
    assert_int_equal(tempo_trigger_and_new(kids, 1, NULL, NULL, &err), TEMPO_EINVAL);
    tempo_trigger_free(a);
}

static void test_describe(void **state)
{
    (void)state;
    tempo_trigger_t *k1[] = {every(TEMPO_HOURS(2), T0), once(T0)};
    tempo_trigger_t *t = combine(true, k1, 2, NULL);
    char buf[256];
    const char *want = "when all of: (every 2 hours starting 2027-01-01T00:00:00+00:00) and (once at "
                       "2027-01-01T00:00:00+00:00) agree within 1 second";
    assert_int_equal(tempo_trigger_describe(t, buf, sizeof buf), (int)strlen(want));
    assert_string_equal(buf, want);
    /* Truncation keeps counting through the children. */
    char small[20];
    assert_int_equal(tempo_trigger_describe(t, small, sizeof small), (int)strlen(want));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);

    tempo_trigger_t *k2[] = {t, once(T0 + 1000000)};
    tempo_trigger_t *u = combine(false, k2, 2, NULL);
    const char *want2 = "at the earliest of: (when all of: (every 2 hours starting "
                        "2027-01-01T00:00:00+00:00) and (once at 2027-01-01T00:00:00+00:00) agree "
                        "within 1 second) or (once at 2027-01-01T00:00:01+00:00)";
    assert_int_equal(tempo_trigger_describe(u, buf, sizeof buf), (int)strlen(want2));
    assert_string_equal(buf, want2);
    tempo_trigger_free(u);
}

/* ---- AND against brute force ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Du;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define WINDOW 4000

/* The earliest "latest member" over all pairs (a, b), a and b fire times > after,
 * |a - b| <= thr; NONE if no pair lies inside the window. */
static tempo_time_t brute(int64_t pa, int64_t sa, int64_t pb, int64_t sb, int64_t thr, int64_t after)
{
    tempo_time_t best = TEMPO_TIME_NONE;
    for (int64_t a = sa; a <= WINDOW; a += pa) {
        if (a <= after)
            continue;
        for (int64_t b = sb; b <= WINDOW; b += pb) {
            if (b <= after || (a > b ? a - b : b - a) > thr)
                continue;
            int64_t m = a > b ? a : b;
            if (best == TEMPO_TIME_NONE || m < best)
                best = m;
        }
    }
    return best;
}

static void test_and_brute_force(void **state)
{
    (void)state;
    for (int i = 0; i < 400; i++) {
        int64_t pa = (int64_t)(rnd() % 60) + 1, pb = (int64_t)(rnd() % 60) + 1;
        int64_t sa = (int64_t)(rnd() % 100), sb = (int64_t)(rnd() % 100);
        tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
        o.threshold = (int64_t)(rnd() % 8);
        tempo_trigger_t *kids[] = {every(pa, sa), every(pb, sb)};
        tempo_trigger_t *t = combine(true, kids, 2, &o);
        for (int j = 0; j < 30; j++) {
            int64_t after = (int64_t)(rnd() % (WINDOW / 2)) - 10;
            tempo_time_t want = brute(pa, sa, pb, sb, o.threshold, after);
            tempo_time_t got = tempo_trigger_next(t, after);
            if (want == TEMPO_TIME_NONE ? (got != TEMPO_TIME_NONE && got <= WINDOW) : got != want)
                fail_msg("every %lld from %lld AND every %lld from %lld within %lld, after %lld: got "
                         "%lld want %lld",
                         (long long)pa, (long long)sa, (long long)pb, (long long)sb,
                         (long long)o.threshold, (long long)after, (long long)got, (long long)want);
        }
        tempo_trigger_free(t);
    }
}

/* ---- one tree, many threads ---- */

#define THREADS 4
#define POINTS 2000

typedef struct worker {
    tempo_trigger_t *t; /* the worker's own reference, dropped when done */
    const tempo_time_t *want;
    int mismatches;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < POINTS; i++)
        w->mismatches += tempo_trigger_next(w->t, T0 + (tempo_time_t)i * TEMPO_MINUTES(7)) != w->want[i];
    tempo_trigger_free(w->t);
    return NULL;
}

/* next() is pure and references are atomic: threads share one tree and the
 * last one out destroys it (run under TSan and ASan). */
static void test_shared_between_threads(void **state)
{
    (void)state;
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    o.threshold = TEMPO_MINUTES(1);
    tempo_trigger_t *inner[] = {every(TEMPO_MINUTES(20), T0), every(TEMPO_MINUTES(30), T0 + 7)};
    tempo_trigger_t *kids[] = {combine(true, inner, 2, &o), once(T0 + TEMPO_HOURS(3))};
    tempo_trigger_t *t = combine(false, kids, 2, NULL);
    static tempo_time_t want[POINTS];
    for (int i = 0; i < POINTS; i++)
        want[i] = tempo_trigger_next(t, T0 + (tempo_time_t)i * TEMPO_MINUTES(7));
    pthread_t threads[THREADS];
    worker_t workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker_t){tempo_trigger_ref(t), want, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    }
    tempo_trigger_free(t); /* the workers may outlive this reference */
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].mismatches, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_or),           cmocka_unit_test(test_or_ties_fire_once),
        cmocka_unit_test(test_and),          cmocka_unit_test(test_and_fires_at_latest),
        cmocka_unit_test(test_and_never),    cmocka_unit_test(test_and_iteration_cap),
        cmocka_unit_test(test_nested),       cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_describe),
        cmocka_unit_test(test_and_brute_force), cmocka_unit_test(test_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
