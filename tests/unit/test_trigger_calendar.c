/* The calendar-interval trigger: hand-checked dates (Jan 31 + 1 month, Feb 29
 * + 1 year, weekly across DST), the DST policy for fixed times (gap: SHIFT
 * fires at the gap's end, SKIP drops the date; fold: first occurrence), the
 * year bound, and a statelessness check against an independent reference
 * that walks candidate dates one calendar day at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

typedef struct cal {
    int years, months, weeks, days;
    int hour, minute, second;
    int sy, sm, sd;
    const char *zone;
    tempo_dst_gap_t gap;
    tempo_time_t end;
} cal_t;

static tempo_trigger_t *make(const cal_t *c)
{
    tempo_calendar_options_t o = TEMPO_CALENDAR_OPTIONS_INIT;
    o.years = c->years;
    o.months = c->months;
    o.weeks = c->weeks;
    o.days = c->days;
    o.hour = c->hour;
    o.minute = c->minute;
    o.second = c->second;
    o.start_year = c->sy;
    o.start_month = c->sm;
    o.start_day = c->sd;
    o.zone = c->zone;
    o.dst_gap = c->gap;
    o.end = c->end ? c->end : TEMPO_TIME_NONE;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    if (tempo_trigger_calendar_new(&o, &t, &err) != TEMPO_OK)
        fail_msg("calendar_new: %s", err.message);
    return t;
}

/* Each next() in turn from "the beginning" must give these UTC times. */
static void expect_chain(const cal_t *c, const char *const *want, size_t n)
{
    tempo_trigger_t *t = make(c);
    tempo_time_t at = TEMPO_TIME_NONE;
    for (size_t i = 0; i < n; i++) {
        tempo_time_t got = tempo_trigger_next(t, at);
        tempo_time_t expected = want[i] ? tempo_test_utc(want[i]) : TEMPO_TIME_NONE;
        if (got != expected) {
            char g[48] = "NONE";
            if (got != TEMPO_TIME_NONE)
                tempo_time_format(got, tempo_zone_utc(), g, sizeof g);
            fail_msg("fire %zu: got %s, want %s", i, g, want[i] ? want[i] : "NONE");
        }
        at = got;
    }
    tempo_trigger_free(t);
}

static void expect_next(const tempo_trigger_t *t, const char *after, const char *want)
{
    tempo_time_t got = tempo_trigger_next(t, tempo_test_utc(after));
    tempo_time_t expected = want ? tempo_test_utc(want) : TEMPO_TIME_NONE;
    if (got != expected) {
        char g[48] = "NONE";
        if (got != TEMPO_TIME_NONE)
            tempo_time_format(got, tempo_zone_utc(), g, sizeof g);
        fail_msg("next(%s): got %s, want %s", after, g, want ? want : "NONE");
    }
}

static void test_month_end_skipped(void **state)
{
    (void)state;
    /* Jan 31 + 1 month is Mar 31: months without day 31 are skipped, not clamped. */
    cal_t c = {.months = 1, .hour = 9, .sy = 2027, .sm = 1, .sd = 31, .zone = "UTC"};
    const char *want[] = {"2027-01-31T09:00:00Z", "2027-03-31T09:00:00Z", "2027-05-31T09:00:00Z",
                          "2027-07-31T09:00:00Z", "2027-08-31T09:00:00Z", "2027-10-31T09:00:00Z",
                          "2027-12-31T09:00:00Z", "2028-01-31T09:00:00Z", "2028-03-31T09:00:00Z"};
    expect_chain(&c, want, sizeof want / sizeof want[0]);

    /* Every 2 months from Jan 31 in Berlin (CET/CEST). */
    cal_t b = {.months = 2, .hour = 9, .sy = 2027, .sm = 1, .sd = 31, .zone = "Europe/Berlin"};
    const char *want2[] = {"2027-01-31T08:00:00Z", "2027-03-31T07:00:00Z", "2027-05-31T07:00:00Z",
                           "2027-07-31T07:00:00Z", "2028-01-31T08:00:00Z" /* Sep, Nov lack 31 */};
    expect_chain(&b, want2, sizeof want2 / sizeof want2[0]);
}

static void test_leap_day(void **state)
{
    (void)state;
    cal_t c = {.years = 1, .hour = 12, .sy = 2024, .sm = 2, .sd = 29, .zone = "Europe/Berlin"};
    const char *want[] = {"2024-02-29T11:00:00Z", "2028-02-29T11:00:00Z", "2032-02-29T11:00:00Z"};
    expect_chain(&c, want, 3);
    /* Across a century that is not a leap year: 2096 -> 2104. */
    cal_t d = {.years = 4, .sy = 2092, .sm = 2, .sd = 29, .zone = "UTC"};
    const char *want2[] = {"2092-02-29T00:00:00Z", "2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z"};
    expect_chain(&d, want2, 3);
}

static void test_weekly_across_dst(void **state)
{
    (void)state;
    cal_t c = {.weeks = 1, .hour = 8, .sy = 2027, .sm = 1, .sd = 4, .zone = "Europe/Berlin"};
    tempo_trigger_t *t = make(&c);
    expect_next(t, "2027-03-20T00:00:00Z", "2027-03-22T07:00:00Z"); /* CET */
    expect_next(t, "2027-03-22T07:00:00Z", "2027-03-29T06:00:00Z"); /* CEST from 03-28 */
    expect_next(t, "2026-01-01T00:00:00Z", "2027-01-04T07:00:00Z"); /* before start */
    expect_next(t, "2027-01-04T07:00:00Z", "2027-01-11T07:00:00Z"); /* after == first fire */
    tempo_trigger_free(t);

    cal_t d = {.days = 10, .hour = 6, .minute = 15, .second = 30, .sy = 2027, .sm = 1, .sd = 1,
               .zone = "UTC"};
    const char *want[] = {"2027-01-01T06:15:30Z", "2027-01-11T06:15:30Z", "2027-01-21T06:15:30Z",
                          "2027-01-31T06:15:30Z", "2027-02-10T06:15:30Z"};
    expect_chain(&d, want, 5);
}

static void test_dst_gap(void **state)
{
    (void)state;
    /* New York, 2016-03-13: 02:00 EST -> 03:00 EDT. A daily 02:30 fires at
     * 03:00 EDT that day with SHIFT; with SKIP that day is dropped. */
    cal_t c = {.days = 1, .hour = 2, .minute = 30, .sy = 2016, .sm = 1, .sd = 1,
               .zone = "America/New_York", .gap = TEMPO_DST_GAP_SHIFT};
    tempo_trigger_t *t = make(&c);
    expect_next(t, "2016-03-12T07:30:00Z", "2016-03-13T07:00:00Z");
    expect_next(t, "2016-03-13T06:59:59Z", "2016-03-13T07:00:00Z");
    expect_next(t, "2016-03-13T07:00:00Z", "2016-03-14T06:30:00Z");
    tempo_trigger_free(t);
    c.gap = TEMPO_DST_GAP_SKIP;
    t = make(&c);
    expect_next(t, "2016-03-12T07:30:00Z", "2016-03-14T06:30:00Z");
    expect_next(t, "2016-03-12T07:29:59Z", "2016-03-12T07:30:00Z");
    tempo_trigger_free(t);

    /* São Paulo's gap was at midnight: 2014-10-19 00:00 -> 01:00. */
    cal_t s = {.days = 1, .minute = 30, .sy = 2014, .sm = 10, .sd = 1, .zone = "America/Sao_Paulo"};
    t = make(&s);
    expect_next(t, "2014-10-18T04:00:00Z", "2014-10-19T03:00:00Z"); /* 01:00-02:00 */
    expect_next(t, "2014-10-19T03:00:00Z", "2014-10-20T02:30:00Z");
    tempo_trigger_free(t);

    /* Lord Howe moves its clocks by 30 minutes: 02:00 -> 02:30 on 2019-10-06. */
    cal_t l = {.days = 1, .hour = 2, .minute = 15, .sy = 2019, .sm = 1, .sd = 1,
               .zone = "Australia/Lord_Howe"};
    t = make(&l);
    expect_next(t, "2019-10-05T12:00:00Z", "2019-10-05T15:30:00Z"); /* 02:30+11:00 */
    tempo_trigger_free(t);
}

static void test_dst_fold(void **state)
{
    (void)state;
    /* New York, 2016-11-06: 01:00-02:00 happens twice. 01:30 fires once, at
     * its first occurrence (EDT, 05:30Z). */
    cal_t c = {.days = 1, .hour = 1, .minute = 30, .sy = 2016, .sm = 1, .sd = 1,
               .zone = "America/New_York"};
    tempo_trigger_t *t = make(&c);
    expect_next(t, "2016-11-05T05:30:00Z", "2016-11-06T05:30:00Z");
    expect_next(t, "2016-11-06T05:30:00Z", "2016-11-07T06:30:00Z");
    expect_next(t, "2016-11-06T06:00:00Z", "2016-11-07T06:30:00Z"); /* inside the second pass */
    tempo_trigger_free(t);
}

static void test_mixed_steps(void **state)
{
    (void)state;
    /* +1 month keeping the day (skipping Feb 31), then +1 day. */
    cal_t c = {.months = 1, .days = 1, .hour = 9, .sy = 2027, .sm = 1, .sd = 31, .zone = "UTC"};
    const char *want[] = {"2027-01-31T09:00:00Z", "2027-04-01T09:00:00Z", "2027-05-02T09:00:00Z",
                          "2027-06-03T09:00:00Z", "2027-07-04T09:00:00Z"};
    expect_chain(&c, want, 5);
    tempo_trigger_t *t = make(&c);
    expect_next(t, "2027-05-01T00:00:00Z", "2027-05-02T09:00:00Z"); /* stateless */
    expect_next(t, "2999-12-31T00:00:00Z", NULL);
    tempo_trigger_free(t);
}

static void test_bounds(void **state)
{
    (void)state;
    cal_t c = {.years = 1000, .sy = 2000, .sm = 1, .sd = 1, .zone = "UTC"};
    const char *want[] = {"2000-01-01T00:00:00Z", NULL}; /* 3000 is past the last year */
    expect_chain(&c, want, 2);

    cal_t d = {.days = 1, .sy = 2990, .sm = 1, .sd = 1, .zone = "UTC"};
    tempo_trigger_t *t = make(&d);
    expect_next(t, "2999-12-30T12:00:00Z", "2999-12-31T00:00:00Z");
    expect_next(t, "2999-12-31T00:00:00Z", NULL);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, INT64_MIN), tempo_test_utc("2990-01-01T00:00:00Z"));
    tempo_trigger_free(t);

    /* end is inclusive */
    cal_t e = {.months = 1, .hour = 9, .sy = 2027, .sm = 1, .sd = 31, .zone = "UTC",
               .end = tempo_test_utc("2027-05-31T09:00:00Z")};
    const char *want2[] = {"2027-01-31T09:00:00Z", "2027-03-31T09:00:00Z", "2027-05-31T09:00:00Z",
                           NULL};
    expect_chain(&e, want2, 4);
    e.end = tempo_test_utc("2027-06-15T00:00:00Z"); /* between fires */
    expect_chain(&e, want2, 4);
}

/* ---- independent reference ---- */

static int ref_dim(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* APScheduler 4's walk, spelled out one month and one day at a time. */
static void ref_step(const cal_t *c, int *y, int *m, int *d)
{
    if (c->years || c->months) {
        do {
            for (int i = 0; i < c->years * 12 + c->months; i++)
                if (++*m > 12) {
                    *m = 1;
                    ++*y;
                }
        } while (*d > ref_dim(*y, *m));
    }
    for (int i = 0; i < c->weeks * 7 + c->days; i++)
        if (++*d > ref_dim(*y, *m)) {
            *d = 1;
            if (++*m > 12) {
                *m = 1;
                ++*y;
            }
        }
}

static tempo_time_t ref_instant(const cal_t *c, const tempo_zone_t *zone, int y, int m, int d)
{
    tempo_civil_t civil = {.year = y, .month = m, .day = d,
                           .hour = c->hour, .minute = c->minute, .second = c->second};
    tempo_local_t local;
    tempo_error_t err;
    if (tempo_zone_from_civil(zone, &civil, &local, &err) != TEMPO_OK)
        fail_msg("zone_from_civil: %s", err.message);
    if (local.kind != TEMPO_LOCAL_GAP)
        return local.earlier;
    return c->gap == TEMPO_DST_GAP_SKIP ? TEMPO_TIME_NONE : local.transition;
}

#define REF_MAX 4000

static size_t ref_fires(const cal_t *c, int until_year, tempo_time_t *out)
{
    const tempo_zone_t *zone;
    assert_int_equal(tempo_zone_get(c->zone, &zone, NULL), TEMPO_OK);
    int y = c->sy, m = c->sm, d = c->sd;
    size_t n = 0;
    while (y <= until_year && n < REF_MAX) {
        tempo_time_t t = ref_instant(c, zone, y, m, d);
        if (t != TEMPO_TIME_NONE && (n == 0 || t > out[n - 1]))
            out[n++] = t;
        ref_step(c, &y, &m, &d);
    }
    return n;
}

static uint64_t rng_state = 88172645463325252u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_against_reference(const cal_t *c, int until_year)
{
    static tempo_time_t fires[REF_MAX];
    size_t n = ref_fires(c, until_year, fires);
    assert_true(n > 2);
    tempo_trigger_t *t = make(c);
    /* The chain, from the beginning. */
    tempo_time_t at = TEMPO_TIME_NONE;
    for (size_t i = 0; i < n; i++) {
        at = tempo_trigger_next(t, at);
        if (at != fires[i])
            fail_msg("%s: fire %zu: got %lld want %lld", c->zone, i, (long long)at, (long long)fires[i]);
    }
    /* Arbitrary points, around fires and anywhere in the span: a pure
     * function of `after`. */
    for (int k = 0; k < 3000; k++) {
        size_t i = rnd() % (n - 1);
        tempo_time_t after;
        switch (k % 3) {
        case 0: after = fires[i]; break;
        case 1: after = fires[i] - 1; break;
        default: after = fires[i] + (tempo_time_t)(rnd() % (uint64_t)(fires[i + 1] - fires[i])); break;
        }
        size_t lo = 0; /* first fire > after */
        while (lo < n && fires[lo] <= after)
            lo++;
        tempo_time_t got = tempo_trigger_next(t, after);
        if (got != fires[lo])
            fail_msg("%s: next(%lld): got %lld want %lld", c->zone, (long long)after, (long long)got,
                     (long long)fires[lo]);
    }
    tempo_trigger_free(t);
}

static void test_reference(void **state)
{
    (void)state;
    const cal_t cases[] = {
        {.months = 1, .hour = 9, .sy = 2020, .sm = 1, .sd = 31, .zone = "Europe/Berlin"},
        {.years = 1, .months = 1, .hour = 2, .minute = 30, .sy = 2001, .sm = 1, .sd = 31,
         .zone = "America/New_York"},
        {.months = 5, .hour = 23, .minute = 59, .second = 59, .sy = 2021, .sm = 3, .sd = 31,
         .zone = "Asia/Kolkata"},
        {.weeks = 2, .hour = 2, .minute = 30, .sy = 2015, .sm = 3, .sd = 1, .zone = "America/New_York"},
        {.weeks = 2, .hour = 2, .minute = 30, .sy = 2015, .sm = 3, .sd = 1, .zone = "America/New_York",
         .gap = TEMPO_DST_GAP_SKIP},
        {.days = 1, .hour = 2, .minute = 30, .sy = 2015, .sm = 1, .sd = 1, .zone = "America/New_York",
         .gap = TEMPO_DST_GAP_SKIP},
        {.days = 1, .hour = 1, .minute = 30, .sy = 2015, .sm = 1, .sd = 1, .zone = "America/New_York"},
        {.days = 3, .minute = 30, .sy = 2008, .sm = 1, .sd = 1, .zone = "America/Sao_Paulo"},
        {.days = 1, .hour = 2, .minute = 15, .sy = 2018, .sm = 1, .sd = 1, .zone = "Australia/Lord_Howe"},
        {.days = 1, .hour = 12, .sy = 2011, .sm = 12, .sd = 1, .zone = "Pacific/Apia"}, /* no Dec 30 */
        {.months = 1, .days = 1, .hour = 2, .minute = 30, .sy = 2020, .sm = 1, .sd = 31,
         .zone = "America/New_York"},
        {.years = 1, .weeks = 1, .minute = 30, .sy = 2004, .sm = 2, .sd = 29, .zone = "America/Sao_Paulo"},
        {.months = 13, .days = 3, .hour = 12, .sy = 1990, .sm = 12, .sd = 31, .zone = "UTC"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_against_reference(&cases[i], cases[i].sy + (cases[i].days == 1 ? 4 : 40));
}

/* ---- errors and describe ---- */

static void expect_error(const tempo_calendar_options_t *o, tempo_status_t code, const char *needle)
{
    tempo_trigger_t *t = (tempo_trigger_t *)&t;
    tempo_trigger_t *const sentinel = t;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_calendar_new(o, &t, &err), code);
    assert_int_equal(err.code, code);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    assert_ptr_equal(t, sentinel);
}

static void test_errors(void **state)
{
    (void)state;
    tempo_calendar_options_t ok = TEMPO_CALENDAR_OPTIONS_INIT;
    ok.days = 1;
    ok.start_year = 2027;
    ok.start_month = 1;
    ok.start_day = 1;
    ok.zone = "UTC";
    tempo_calendar_options_t o = ok;
    o.days = 0;
    expect_error(&o, TEMPO_EINVAL, "all 0");
    o = ok;
    o.months = -1;
    expect_error(&o, TEMPO_EINVAL, "months must be >= 0, got -1");
    o = ok;
    o.hour = 24;
    expect_error(&o, TEMPO_EINVAL, "time of day 24:00:00 is not valid");
    o = ok;
    o.second = 60;
    expect_error(&o, TEMPO_EINVAL, "is not valid");
    o = ok;
    o.start_year = 2023;
    o.start_month = 2;
    o.start_day = 29;
    expect_error(&o, TEMPO_EINVAL, "start date 2023-02-29 does not exist");
    o = ok;
    o.start_month = 13;
    expect_error(&o, TEMPO_EINVAL, "start date 2027-13-01 does not exist");
    o = ok;
    o.start_year = 1899;
    expect_error(&o, TEMPO_EINVAL, "start year 1899 is outside 1900..2999");
    o = ok;
    o.zone = "Mars/Olympus";
    expect_error(&o, TEMPO_ENOTFOUND, "calendar: ");
    expect_error(&o, TEMPO_ENOTFOUND, "Mars/Olympus");
    o = ok;
    o.dst_gap = (tempo_dst_gap_t)7;
    expect_error(&o, TEMPO_EINVAL, "dst_gap 7");
    o = ok;
    o.size = sizeof o + 1;
    expect_error(&o, TEMPO_EINVAL, "options.size");
    expect_error(NULL, TEMPO_EINVAL, "options is NULL");
}

static void test_describe(void **state)
{
    (void)state;
    struct {
        cal_t c;
        const char *want;
    } cases[] = {
        {{.months = 2, .hour = 9, .sy = 2027, .sm = 1, .sd = 31, .zone = "Europe/Berlin"},
         "every 2 months on day 31 at 09:00 (Europe/Berlin), starting 2027-01-31"},
        {{.days = 1, .hour = 2, .minute = 30, .sy = 2016, .sm = 1, .sd = 1, .zone = "America/New_York",
          .gap = TEMPO_DST_GAP_SKIP},
         "every day at 02:30 (America/New_York), starting 2016-01-01, skipping days whose time falls "
         "in a DST gap"},
        {{.years = 1, .weeks = 1, .days = 2, .hour = 7, .second = 5, .sy = 2027, .sm = 3, .sd = 1,
          .zone = "UTC"},
         "every 1 year, 1 week and 2 days at 07:00:05 (UTC), starting 2027-03-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tempo_trigger_t *t = make(&cases[i].c);
        char buf[256];
        int n = tempo_trigger_describe(t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, (int)strlen(cases[i].want));
        tempo_trigger_free(t);
    }
}

static int need_zones(void **state)
{
    (void)state;
    const char *names[] = {"Europe/Berlin", "America/New_York", "America/Sao_Paulo",
                           "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const tempo_zone_t *z;
        tempo_error_t err;
        if (tempo_zone_get(names[i], &z, &err) != TEMPO_OK) {
            char why[300];
            snprintf(why, sizeof why, "time zone data missing: %s", err.message);
            tempo_test_skip(why);
        }
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_end_skipped), cmocka_unit_test(test_leap_day),
        cmocka_unit_test(test_weekly_across_dst), cmocka_unit_test(test_dst_gap),
        cmocka_unit_test(test_dst_fold),          cmocka_unit_test(test_mixed_steps),
        cmocka_unit_test(test_bounds),            cmocka_unit_test(test_reference),
        cmocka_unit_test(test_errors),            cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, need_zones, NULL);
}
