/* The interval trigger: start + k * period up to end, O(1) and overflow-safe.
 * Checked by hand at the edges and against a 128-bit reference on random
 * parameters, extremes included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

static tempo_trigger_t *interval(tempo_duration_t period, tempo_time_t start, tempo_time_t end)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = period;
    o.start = start;
    o.end = end;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_interval_new(&o, &t, &err);
    if (rc != TEMPO_OK)
        fail_msg("interval_new: %s", err.message);
    return t;
}

static void test_basic(void **state)
{
    (void)state;
    tempo_time_t s = tempo_test_utc("2027-01-01T00:00:00Z");
    tempo_duration_t p = TEMPO_MINUTES(15);
    tempo_trigger_t *t = interval(p, s, TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, TEMPO_TIME_NONE), s); /* before start: start */
    assert_int_equal(tempo_trigger_next(t, s - TEMPO_DAYS(400)), s);
    assert_int_equal(tempo_trigger_next(t, s - 1), s);
    assert_int_equal(tempo_trigger_next(t, s), s + p); /* after == start */
    assert_int_equal(tempo_trigger_next(t, s + 1), s + p);
    assert_int_equal(tempo_trigger_next(t, s + p - 1), s + p);
    assert_int_equal(tempo_trigger_next(t, s + p), s + 2 * p);
    assert_int_equal(tempo_trigger_next(t, s + 1000 * p + 7), s + 1001 * p);
    assert_string_equal(tempo_trigger_type_name(t), "interval");
    tempo_trigger_free(t);
}

static void test_end_inclusive(void **state)
{
    (void)state;
    tempo_time_t s = 1000;
    tempo_trigger_t *t = interval(10, s, s + 20);
    assert_int_equal(tempo_trigger_next(t, s + 10), s + 20); /* end itself fires */
    assert_int_equal(tempo_trigger_next(t, s + 20), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, s + 19), s + 20);
    tempo_trigger_free(t);
    t = interval(10, s, s + 25); /* end between fires */
    assert_int_equal(tempo_trigger_next(t, s + 15), s + 20);
    assert_int_equal(tempo_trigger_next(t, s + 20), TEMPO_TIME_NONE);
    tempo_trigger_free(t);
    t = interval(10, s, s); /* end == start: fires once */
    assert_int_equal(tempo_trigger_next(t, 0), s);
    assert_int_equal(tempo_trigger_next(t, s), TEMPO_TIME_NONE);
    tempo_trigger_free(t);
}

static void test_overflow(void **state)
{
    (void)state;
    tempo_trigger_t *t = interval(100, INT64_MAX - 10, TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, TEMPO_TIME_NONE), INT64_MAX - 10);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 10), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX), TEMPO_TIME_NONE);
    tempo_trigger_free(t);

    /* A span wider than INT64_MAX between start and after. */
    t = interval(INT64_MAX, INT64_MIN + 1, TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, TEMPO_TIME_NONE), INT64_MIN + 1);
    assert_int_equal(tempo_trigger_next(t, INT64_MIN + 1), 0);
    assert_int_equal(tempo_trigger_next(t, 0), INT64_MAX);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 1), INT64_MAX);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX), TEMPO_TIME_NONE);
    tempo_trigger_free(t);

    t = interval(3, INT64_MIN + 1, TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 2), TEMPO_TIME_NONE); /* next would be 2^63+1 */
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 5), INT64_MAX - 2);
    tempo_trigger_free(t);
}

/* 128-bit reference: k = floor((after - start) / period) + 1. */
static tempo_time_t reference(tempo_duration_t p, tempo_time_t s, tempo_time_t e, tempo_time_t after)
{
    __int128 next;
    if (after < s) {
        next = s;
    } else {
        __int128 k = ((__int128)after - s) / p + 1;
        next = (__int128)s + k * p;
    }
    if (next > INT64_MAX || (e != TEMPO_TIME_NONE && next > e))
        return TEMPO_TIME_NONE;
    return (tempo_time_t)next;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Values near 0, near the ends of int64 and anywhere. */
static int64_t pick(void)
{
    switch (rnd() % 4) {
    case 0: return (int64_t)(rnd() % 2000) - 1000;
    case 1: return INT64_MAX - (int64_t)(rnd() % 1000);
    case 2: return INT64_MIN + 1 + (int64_t)(rnd() % 1000);
    default: return (int64_t)rnd();
    }
}

static void test_against_reference(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        tempo_time_t s = pick();
        if (s == TEMPO_TIME_NONE)
            s++;
        tempo_duration_t p = rnd() % 3 == 0 ? (int64_t)(rnd() % 100) + 1 : (int64_t)(rnd() >> 1);
        if (p <= 0)
            p = 1;
        tempo_time_t e = TEMPO_TIME_NONE;
        if (rnd() % 2) {
            e = pick();
            if (e < s)
                e = TEMPO_TIME_NONE;
        }
        tempo_trigger_t *t = interval(p, s, e);
        for (int j = 0; j < 20; j++) {
            tempo_time_t after = pick();
            if (j >= 10) { /* near the start, where k is 0 or 1 */
                int64_t delta = (int64_t)(rnd() % 1000) - 500;
                if ((delta > 0 && s > INT64_MAX - delta) || (delta < 0 && s < INT64_MIN - delta))
                    continue;
                after = s + delta;
            }
            tempo_time_t got = tempo_trigger_next(t, after);
            tempo_time_t want = reference(p, s, e, after);
            if (got != want)
                fail_msg("period %lld start %lld end %lld after %lld: got %lld want %lld", (long long)p,
                         (long long)s, (long long)e, (long long)after, (long long)got, (long long)want);
        }
        tempo_trigger_free(t);
    }
}

static void expect_error(const tempo_interval_options_t *o, const char *needle)
{
    tempo_trigger_t *t = (tempo_trigger_t *)&t;
    tempo_trigger_t *const sentinel = t;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_interval_new(o, &t, &err), TEMPO_EINVAL);
    assert_int_equal(err.code, TEMPO_EINVAL);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_ptr_equal(t, sentinel);
}

static void test_errors(void **state)
{
    (void)state;
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.start = 0;
    o.period = 0;
    expect_error(&o, "period must be > 0 microseconds, got 0");
    o.period = -5;
    expect_error(&o, "period must be > 0 microseconds, got -5");
    o.period = 10;
    o.start = TEMPO_TIME_NONE;
    expect_error(&o, "start is required");
    o.start = 100;
    o.end = 99;
    expect_error(&o, "end (99) is before start (100)");
    o.end = TEMPO_TIME_NONE;
    o.size = sizeof o + 8;
    expect_error(&o, "options.size");
    expect_error(NULL, "options is NULL");
}

static void test_describe(void **state)
{
    (void)state;
    tempo_time_t s = tempo_test_utc("2027-01-01T00:00:00Z");
    struct {
        tempo_duration_t p;
        tempo_time_t end;
        const char *want;
    } cases[] = {
        {TEMPO_MINUTES(15), TEMPO_TIME_NONE, "every 15 minutes starting 2027-01-01T00:00:00+00:00"},
        {TEMPO_DAYS(1), TEMPO_TIME_NONE, "every day starting 2027-01-01T00:00:00+00:00"},
        {TEMPO_SECONDS(90), TEMPO_TIME_NONE, "every 90 seconds starting 2027-01-01T00:00:00+00:00"},
        {TEMPO_DAYS(14), TEMPO_TIME_NONE, "every 2 weeks starting 2027-01-01T00:00:00+00:00"},
        {1500, TEMPO_TIME_NONE, "every 1500 microseconds starting 2027-01-01T00:00:00+00:00"},
        {TEMPO_HOURS(1), s + TEMPO_HOURS(5),
         "every hour starting 2027-01-01T00:00:00+00:00 until 2027-01-01T05:00:00+00:00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tempo_trigger_t *t = interval(cases[i].p, s, cases[i].end);
        char buf[160];
        int n = tempo_trigger_describe(t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, (int)strlen(cases[i].want));
        tempo_trigger_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),    cmocka_unit_test(test_end_inclusive),
        cmocka_unit_test(test_overflow), cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
