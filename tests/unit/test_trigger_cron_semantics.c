/* Cron triggers end to end through the public API: the worked examples of
 * DESIGN.md §3 and docs/dst.md, the calendar edge cases of NOTES.md, bounds,
 * and strictness of next(). Expected instants are written in UTC with the
 * local reading in a comment, checked by hand against the zone's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <tempo/tempo.h>

#include "test_support.h"

static tempo_trigger_t *cron_in(const char *expr, const char *zone, tempo_dst_gap_t gap)
{
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = zone;
    o.dst_gap = gap;
    tempo_trigger_t *t = NULL;
    tempo_error_t err = {0};
    tempo_status_t rc = tempo_trigger_cron_new(expr, &o, &t, &err);
    if (rc != TEMPO_OK)
        print_error("'%s' in %s: %s\n", expr, zone, err.message);
    assert_int_equal(rc, TEMPO_OK);
    return t;
}

/* Check the fire times that follow `after`, in order. */
static void expect_fires(const char *expr, const char *zone, tempo_dst_gap_t gap, const char *after,
                         const char *const *fires, int n)
{
    tempo_trigger_t *t = cron_in(expr, zone, gap);
    tempo_time_t at = tempo_test_utc(after);
    for (int i = 0; i < n; i++) {
        tempo_time_t next = tempo_trigger_next(t, at);
        tempo_time_t want = tempo_test_utc(fires[i]);
        if (next != want) {
            char got[64] = "NONE";
            if (next != TEMPO_TIME_NONE)
                tempo_time_format(next, tempo_zone_utc(), got, sizeof got);
            print_error("'%s' in %s, fire %d after %s: want %s, got %s\n", expr, zone, i, after,
                        fires[i], got);
        }
        assert_int_equal(next, want);
        at = next;
    }
    tempo_trigger_free(t);
}

#define FIRES(...) (const char *const[]){__VA_ARGS__}, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define SHIFT TEMPO_DST_GAP_SHIFT
#define SKIP TEMPO_DST_GAP_SKIP

/* ---- DESIGN.md §3 worked examples ---- */

static void test_ny_fixed_hour_in_gap_shifts(void **state)
{
    (void)state;
    /* 02:30 does not exist on 2016-03-13: the daily job runs at 03:00 EDT. */
    expect_fires("30 2 * * *", "America/New_York", SHIFT, "2016-03-13T06:59:59Z",
                 FIRES("2016-03-13T07:00:00Z",   /* 03:00-04:00 */
                       "2016-03-14T06:30:00Z",   /* 02:30-04:00 */
                       "2016-03-15T06:30:00Z"));
}

static void test_ny_fixed_hour_in_gap_skip_policy(void **state)
{
    (void)state;
    expect_fires("30 2 * * *", "America/New_York", SKIP, "2016-03-13T06:59:59Z",
                 FIRES("2016-03-14T06:30:00Z"));
}

static void test_ny_wildcard_hour_fold_fires_twice(void **state)
{
    (void)state;
    expect_fires("30 * * * *", "America/New_York", SHIFT, "2016-11-06T05:00:00Z",
                 FIRES("2016-11-06T05:30:00Z",   /* 01:30-04:00 */
                       "2016-11-06T06:30:00Z",   /* 01:30-05:00 */
                       "2016-11-06T07:30:00Z")); /* 02:30-05:00 */
}

static void test_ny_fixed_hour_fold_fires_once(void **state)
{
    (void)state;
    expect_fires("30 1 * * *", "America/New_York", SHIFT, "2016-11-06T04:00:00Z",
                 FIRES("2016-11-06T05:30:00Z",   /* 01:30-04:00 only */
                       "2016-11-07T06:30:00Z")); /* 01:30-05:00 next day */
    /* Starting inside the repeated hour (01:10-05:00) must not fire 01:30-05:00. */
    expect_fires("30 1 * * *", "America/New_York", SHIFT, "2016-11-06T06:10:00Z",
                 FIRES("2016-11-07T06:30:00Z"));
}

static void test_sao_paulo_midnight_gap(void **state)
{
    (void)state;
    /* 2014-10-19 00:00 does not exist in Sao Paulo: midnight runs at 01:00-02:00. */
    expect_fires("0 0 * * *", "America/Sao_Paulo", SHIFT, "2014-10-18T15:00:00Z",
                 FIRES("2014-10-19T03:00:00Z", "2014-10-20T02:00:00Z"));
}

static void test_lord_howe_half_hour_gap(void **state)
{
    (void)state;
    /* 2019-10-06 02:00+10:30 -> 02:30+11:00; the 02:00 wall time never occurs. */
    expect_fires("0 * * * *", "Australia/Lord_Howe", SHIFT, "2019-10-05T15:13:00Z",
                 FIRES("2019-10-05T16:00:00Z",   /* 03:00+11:00 */
                       "2019-10-05T17:00:00Z"));
    /* A fixed 02:00 shifts to the end of the gap, 02:30+11:00. */
    expect_fires("0 2 * * *", "Australia/Lord_Howe", SHIFT, "2019-10-05T15:13:00Z",
                 FIRES("2019-10-05T15:30:00Z", "2019-10-06T15:00:00Z"));
}

static void test_lord_howe_half_hour_fold(void **state)
{
    (void)state;
    /* 2020-04-05 02:00+11:00 -> 01:30+10:30: 01:30..02:00 happens twice. */
    expect_fires("45 * * * *", "Australia/Lord_Howe", SHIFT, "2020-04-04T14:00:00Z",
                 FIRES("2020-04-04T14:45:00Z",   /* 01:45+11:00 */
                       "2020-04-04T15:15:00Z",   /* 01:45+10:30 */
                       "2020-04-04T16:15:00Z")); /* 02:45+10:30 */
    expect_fires("45 1 * * *", "Australia/Lord_Howe", SHIFT, "2020-04-04T14:00:00Z",
                 FIRES("2020-04-04T14:45:00Z", "2020-04-05T15:15:00Z"));
}

static void test_berlin_gap_matches_collapse(void **state)
{
    (void)state;
    /* Every minute of 02:xx on 2027-03-28 is in the gap: one fire at 03:00. */
    expect_fires("* 2 * * *", "Europe/Berlin", SHIFT, "2027-03-28T00:30:00Z",
                 FIRES("2027-03-28T01:00:00Z",   /* 03:00+02:00 */
                       "2027-03-29T00:00:00Z",   /* 02:00+02:00 next day */
                       "2027-03-29T00:01:00Z"));
}

static void test_berlin_fold_fixed_and_stepped(void **state)
{
    (void)state;
    /* 2027-10-31 03:00+02:00 -> 02:00+01:00. */
    expect_fires("0,30 2 * * *", "Europe/Berlin", SHIFT, "2027-10-30T23:00:00Z",
                 FIRES("2027-10-31T00:00:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:00:00Z"));
    /* A stepped hour field follows real time: 02:00 fires in both offsets. */
    expect_fires("0 */1 * * *", "Europe/Berlin", SHIFT, "2027-10-30T23:30:00Z",
                 FIRES("2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"));
}

/* ---- calendar cases (NOTES.md) ---- */

static void test_calendar_edge_cases(void **state)
{
    (void)state;
    expect_fires("0 0 L 2 *", "UTC", SHIFT, "2027-01-01T00:00:00Z",
                 FIRES("2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"));
    expect_fires("0 0 L 2 *", "UTC", SHIFT, "2100-01-01T00:00:00Z", FIRES("2100-02-28T00:00:00Z"));
    expect_fires("0 0 13 * 5", "UTC", SHIFT, "2026-11-01T00:00:00Z",
                 FIRES("2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z"));
    expect_fires("0 0 0 1W * ?", "UTC", SHIFT, "2021-12-31T00:00:00Z", FIRES("2022-01-03T00:00:00Z"));
    expect_fires("0 0 0 31W 10 ?", "UTC", SHIFT, "2021-01-01T00:00:00Z", FIRES("2021-10-29T00:00:00Z"));
    expect_fires("0 4 1-31/5 * *", "UTC", SHIFT, "2022-02-28T00:00:00Z",
                 FIRES("2022-03-01T04:00:00Z", "2022-03-06T04:00:00Z", "2022-03-11T04:00:00Z"));
    expect_fires("0 0 31 4,5 *", "UTC", SHIFT, "2026-01-01T00:00:00Z", FIRES("2026-05-31T00:00:00Z"));
}

static void test_impossible_is_never_at_once(void **state)
{
    (void)state;
    const char *exprs[] = {"0 0 30 2 *", "0 0 31 4 *", "0 0 0 30 2 ? 2027"};
    for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++) {
        tempo_trigger_t *t = cron_in(exprs[i], "UTC", SHIFT);
        assert_int_equal(tempo_trigger_next(t, 0), TEMPO_TIME_NONE);
        tempo_trigger_free(t);
    }
}

/* ---- next() contract ---- */

static void test_strictly_after_to_the_microsecond(void **state)
{
    (void)state;
    tempo_trigger_t *t = cron_in("0 12 * * *", "UTC", SHIFT);
    tempo_time_t noon = tempo_test_utc("2027-01-05T12:00:00Z");
    assert_int_equal(tempo_trigger_next(t, noon - 1), noon);
    assert_int_equal(tempo_trigger_next(t, noon), noon + TEMPO_DAYS(1));
    assert_int_equal(tempo_trigger_next(t, noon - TEMPO_USEC_PER_SEC), noon);
    /* Far outside the supported years: none, not an overflow. */
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 1), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, tempo_test_utc("2999-12-31T12:00:00Z")), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, INT64_MIN + 1), tempo_test_utc("1900-01-01T12:00:00Z"));
    tempo_trigger_free(t);
}

static void test_start_and_end_are_inclusive(void **state)
{
    (void)state;
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = "UTC";
    o.start = tempo_test_utc("2027-01-10T12:00:00Z");
    o.end = tempo_test_utc("2027-01-12T12:00:00Z");
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_cron_new("0 12 * * *", &o, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 0), o.start);
    assert_int_equal(tempo_trigger_next(t, o.start), o.start + TEMPO_DAYS(1));
    assert_int_equal(tempo_trigger_next(t, o.start + TEMPO_DAYS(1)), o.end);
    assert_int_equal(tempo_trigger_next(t, o.end), TEMPO_TIME_NONE);
    tempo_trigger_free(t);

    o.end = o.start - 1;
    tempo_error_t err = {0};
    tempo_trigger_t *untouched = (tempo_trigger_t *)&err; /* a failed call changes nothing */
    t = untouched;
    assert_int_equal(tempo_trigger_cron_new("0 12 * * *", &o, &t, &err), TEMPO_EINVAL);
    assert_ptr_equal(t, untouched);
    assert_non_null(strstr(err.message, "end is before start"));
}

static void test_bad_zone_and_options(void **state)
{
    (void)state;
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = "Mars/Olympus";
    tempo_trigger_t *t = NULL;
    tempo_error_t err = {0};
    assert_int_equal(tempo_trigger_cron_new("* * * * *", &o, &t, &err), TEMPO_ENOTFOUND);
    assert_null(t);
    assert_non_null(strstr(err.message, "Mars/Olympus"));

    o.zone = "UTC";
    o.dst_gap = (tempo_dst_gap_t)7;
    assert_int_equal(tempo_trigger_cron_new("* * * * *", &o, &t, &err), TEMPO_EINVAL);
    o.dst_gap = SHIFT;
    o.size = 3;
    assert_int_equal(tempo_trigger_cron_new("* * * * *", &o, &t, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_trigger_cron_new(NULL, NULL, &t, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_trigger_cron_new("* * * * *", NULL, NULL, &err), TEMPO_EINVAL);
    assert_null(t);
}

static void test_named_form_and_normalized(void **state)
{
    (void)state;
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = "UTC";
    tempo_trigger_t *t = NULL;
    tempo_error_t err = {0};
    /* Named form: weekday 0 = Monday (APScheduler); day and weekday ANDed. */
    assert_int_equal(tempo_trigger_cron_fields_new("day=13 day_of_week=4 hour=9", &o, &t, &err), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, tempo_test_utc("2026-11-01T00:00:00Z")),
                     tempo_test_utc("2026-11-13T09:00:00Z"));
    assert_string_equal(tempo_trigger_type_name(t), "cron");
    tempo_trigger_free(t);

    assert_int_equal(tempo_trigger_cron_new("30 9 * * mon-fri", &o, &t, &err), TEMPO_OK);
    char buf[128];
    assert_int_equal(tempo_trigger_cron_normalized(t, buf, sizeof buf), (int)strlen("30 9 * * 1-5"));
    assert_string_equal(buf, "30 9 * * 1-5");
    tempo_trigger_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ny_fixed_hour_in_gap_shifts),
        cmocka_unit_test(test_ny_fixed_hour_in_gap_skip_policy),
        cmocka_unit_test(test_ny_wildcard_hour_fold_fires_twice),
        cmocka_unit_test(test_ny_fixed_hour_fold_fires_once),
        cmocka_unit_test(test_sao_paulo_midnight_gap),
        cmocka_unit_test(test_lord_howe_half_hour_gap),
        cmocka_unit_test(test_lord_howe_half_hour_fold),
        cmocka_unit_test(test_berlin_gap_matches_collapse),
        cmocka_unit_test(test_berlin_fold_fixed_and_stepped),
        cmocka_unit_test(test_calendar_edge_cases),
        cmocka_unit_test(test_impossible_is_never_at_once),
        cmocka_unit_test(test_strictly_after_to_the_microsecond),
        cmocka_unit_test(test_start_and_end_are_inclusive),
        cmocka_unit_test(test_bad_zone_and_options),
        cmocka_unit_test(test_named_form_and_normalized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
