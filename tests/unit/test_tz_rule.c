/* POSIX TZ rules: TZif footers far in the future, TZ strings behind "local",
 * and the spans tz.h promises (merged, contiguous, across the table's end).
 *
 * Expected instants for real zones were taken from Python's zoneinfo (tzdata
 * 2026f); those for hand-made TZ strings agree with glibc's localtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "tz/tz.h"

static const tempo_zone_t *zone(const char *name)
{
    const tempo_zone_t *z = NULL;
    tempo_error_t err;
    if (tempo_zone_get(name, &z, &err) != TEMPO_OK)
        fail_msg("tempo_zone_get(%s): %s", name, err.message);
    return z;
}

/* A POSIX TZ string through "local". */
static const tempo_zone_t *tz_string(const char *tz)
{
    setenv("TZ", tz, 1);
    return zone("local");
}

static int64_t sec(const char *iso)
{
    return tempo_test_utc(iso) / TEMPO_USEC_PER_SEC;
}

/* The offset changes from `before` to `after` exactly at `iso`. */
static void assert_change(const tempo_zone_t *z, const char *iso, int32_t before, int32_t after)
{
    int64_t t = sec(iso);
    tempo__tz_span_t sp;
    tempo__zone_span(z, t, &sp);
    assert_int_equal(sp.start, t);
    assert_int_equal(sp.offset, after);
    assert_int_equal(sp.prev_offset, before);
    tempo__zone_span(z, t - 1, &sp);
    assert_int_equal(sp.end, t);
    assert_int_equal(sp.offset, before);
    assert_int_equal(tempo__zone_offset(z, t - 1), before);
    assert_int_equal(tempo__zone_offset(z, t), after);
}

static void test_far_future_north(void **state)
{
    (void)state;
    const tempo_zone_t *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York");
    assert_change(berlin, "2200-03-30T01:00:00Z", 3600, 7200); /* from the expanded table */
    assert_change(berlin, "2200-10-26T01:00:00Z", 7200, 3600);
    assert_change(berlin, "9999-03-28T01:00:00Z", 3600, 7200); /* from the rule itself */
    assert_change(berlin, "9999-10-31T01:00:00Z", 7200, 3600);
    assert_change(ny, "2200-03-09T07:00:00Z", -18000, -14400);
    assert_change(ny, "2200-11-02T06:00:00Z", -14400, -18000);
    assert_change(ny, "9999-03-14T07:00:00Z", -18000, -14400);
    assert_change(ny, "9999-11-07T06:00:00Z", -14400, -18000);
}

static void test_far_future_south_and_v3(void **state)
{
    (void)state;
    assert_change(zone("Australia/Sydney"), "2300-03-31T16:00:00Z", 39600, 36000);
    assert_change(zone("Australia/Sydney"), "2300-10-06T16:00:00Z", 36000, 39600);
    assert_change(zone("Pacific/Auckland"), "9999-04-03T14:00:00Z", 46800, 43200);
    assert_change(zone("Pacific/Auckland"), "9999-09-25T14:00:00Z", 43200, 46800);
    /* M9.1.6/24 and M4.1.6/24: v3 hour 24 */
    assert_change(zone("America/Santiago"), "2500-04-04T03:00:00Z", -10800, -14400);
    assert_change(zone("America/Santiago"), "2500-09-05T04:00:00Z", -14400, -10800);
    /* M3.5.0/-1: v3 negative time */
    assert_change(zone("America/Nuuk"), "2450-03-27T01:00:00Z", -7200, -3600);
    assert_change(zone("America/Nuuk"), "2450-10-30T01:00:00Z", -3600, -7200);
    /* M3.4.4/26: v3 time past midnight */
    assert_change(zone("Asia/Jerusalem"), "2450-03-25T00:00:00Z", 7200, 10800);
    assert_change(zone("Asia/Jerusalem"), "2450-10-29T23:00:00Z", 10800, 7200);
    /* a 30-minute DST */
    assert_change(zone("Australia/Lord_Howe"), "2450-04-02T15:00:00Z", 39600, 37800);
    assert_change(zone("Australia/Lord_Howe"), "2450-10-01T15:30:00Z", 37800, 39600);
    /* a 2-hour DST */
    assert_change(zone("Antarctica/Troll"), "2450-03-27T01:00:00Z", 0, 7200);
}

/* Europe/Dublin's footer "IST-1GMT0,M10.5.0,M3.5.0/1" has negative DST:
 * winter (GMT, +00) is the daylight-saving part, as the tz database says. */
static void test_negative_dst(void **state)
{
    (void)state;
    const tempo_zone_t *dublin = zone("Europe/Dublin");
    assert_change(dublin, "2500-03-28T01:00:00Z", 0, 3600);
    assert_change(dublin, "2500-10-31T01:00:00Z", 3600, 0);
    tempo_civil_t c;
    assert_int_equal(tempo_zone_to_civil(dublin, tempo_test_utc("2500-01-15T12:00:00Z"), &c, NULL),
                     TEMPO_OK);
    assert_int_equal(c.utc_offset, 0);
    assert_int_equal(c.is_dst, 1);
    assert_int_equal(tempo_zone_to_civil(dublin, tempo_test_utc("2500-07-15T12:00:00Z"), &c, NULL),
                     TEMPO_OK);
    assert_int_equal(c.utc_offset, 3600);
    assert_int_equal(c.is_dst, 0);
}

static void test_footer_without_dst(void **state)
{
    (void)state;
    const tempo_zone_t *kolkata = zone("Asia/Kolkata");
    tempo__tz_span_t sp;
    tempo__zone_span(kolkata, sec("9999-06-01T00:00:00Z"), &sp);
    assert_int_equal(sp.offset, 19800);
    assert_int_equal(sp.end, INT64_MAX);
    assert_true(sp.start < sec("1950-01-01T00:00:00Z"));
}

/* Walk every span from 1900 to 3000: contiguous, each border a real offset
 * change (merged), prev_offset the offset of the span before. Crosses the
 * end of the expanded table (2401) into rule-computed spans. */
static void walk(const tempo_zone_t *z)
{
    int64_t t = sec("1900-01-01T00:00:00Z"), stop = sec("3000-01-01T00:00:00Z");
    tempo__tz_span_t sp, next;
    tempo__zone_span(z, t, &sp);
    for (int i = 0; i < 4000 && sp.end < stop; i++) {
        assert_true(sp.start < sp.end);
        tempo__zone_span(z, sp.end, &next);
        assert_int_equal(next.start, sp.end);
        assert_int_equal(next.prev_offset, sp.offset);
        assert_int_not_equal(next.offset, sp.offset);
        tempo__zone_span(z, sp.end - 1, &next); /* the last second is still inside */
        assert_int_equal(next.start, sp.start);
        assert_int_equal(next.end, sp.end);
        tempo__zone_span(z, sp.end, &sp);
    }
    assert_true(sp.end >= stop);
}

static void test_span_walk(void **state)
{
    (void)state;
    const char *names[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "America/Santiago", "Australia/Lord_Howe", "Europe/Dublin",
                           "America/Nuuk", "Asia/Kolkata", "Pacific/Apia", "Africa/Casablanca",
                           "Europe/London", "Asia/Jerusalem"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        walk(zone(names[i]));
    walk(tz_string("EST5EDT,M3.2.0,M11.1.0"));
}

/* Europe/London 1968-10-27: British Standard Time kept +01:00 but stopped
 * being DST. The span ignores that border; to_civil still sees it. */
static void test_merged_span(void **state)
{
    (void)state;
    const tempo_zone_t *london = zone("Europe/London");
    tempo__tz_span_t sp;
    tempo__zone_span(london, sec("1969-06-01T00:00:00Z"), &sp);
    assert_int_equal(sp.start, sec("1968-02-18T02:00:00Z"));
    assert_int_equal(sp.end, sec("1971-10-31T02:00:00Z"));
    assert_int_equal(sp.offset, 3600);
    tempo_civil_t c;
    tempo_zone_to_civil(london, tempo_test_utc("1968-07-01T00:00:00Z"), &c, NULL);
    assert_int_equal(c.is_dst, 1);
    tempo_zone_to_civil(london, tempo_test_utc("1969-07-01T00:00:00Z"), &c, NULL);
    assert_int_equal(c.is_dst, 0);
    assert_int_equal(c.utc_offset, 3600);
}

/* Instants far outside tempo_time_t: the offset is frozen, nothing breaks. */
static void test_extremes(void **state)
{
    (void)state;
    const tempo_zone_t *zs[] = {zone("Europe/Berlin"), tz_string("EST5EDT,M3.2.0,M11.1.0"),
                                zone("+05:30"), tempo_zone_utc()};
    int64_t ts[] = {INT64_MAX, INT64_MAX - 1, INT64_C(1) << 50, INT64_MIN, INT64_MIN + 1,
                    -(INT64_C(1) << 50)};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
            tempo__tz_span_t sp;
            tempo__zone_span(zs[i], ts[k], &sp);
            assert_true(sp.start <= ts[k]);
            assert_true(ts[k] < sp.end || sp.end == INT64_MAX);
        }
        tempo_civil_t c;
        assert_int_equal(tempo_zone_to_civil(zs[i], INT64_MAX, &c, NULL), TEMPO_OK);
        assert_int_equal(tempo_zone_to_civil(zs[i], INT64_MIN + 1, &c, NULL), TEMPO_OK);
    }
}

/* The TZ strings tzcode's own tests like: Julian days, zero-based days,
 * v3 times of ±167 hours, quoted names, DST all year. */
static void test_tz_strings(void **state)
{
    (void)state;
    const tempo_zone_t *j = tz_string("AAA-1BBB,J60/2,J300/2"); /* J60 = March 1, always */
    assert_change(j, "2023-03-01T01:00:00Z", 3600, 7200);
    assert_change(j, "2023-10-27T00:00:00Z", 7200, 3600);
    assert_change(j, "2024-03-01T01:00:00Z", 3600, 7200);
    assert_change(j, "2024-10-27T00:00:00Z", 7200, 3600);
    const tempo_zone_t *n = tz_string("AAA-1BBB,59/2,299/2"); /* 59 = Feb 29 in leap years */
    assert_change(n, "2023-03-01T01:00:00Z", 3600, 7200);
    assert_change(n, "2024-02-29T01:00:00Z", 3600, 7200);
    assert_change(n, "2024-10-26T00:00:00Z", 7200, 3600);
    const tempo_zone_t *v3 = tz_string("AAA3BBB,M3.5.0/-167,M10.5.0/167");
    assert_change(v3, "2024-03-24T04:00:00Z", -10800, -7200);
    assert_change(v3, "2024-11-03T01:00:00Z", -7200, -10800);
    assert_change(v3, "2030-03-24T04:00:00Z", -10800, -7200);
    assert_change(v3, "2030-11-03T01:00:00Z", -7200, -10800);
    assert_change(v3, "1850-03-24T04:00:00Z", -10800, -7200); /* before the expanded years */
    const tempo_zone_t *quoted = tz_string("<+0330>-3:30");
    assert_int_equal(tempo__zone_offset(quoted, 0), 12600);
    assert_string_equal(tempo_zone_name(quoted), "<+0330>-3:30");
    /* POSIX sign in TZ: UTC+2 is two hours WEST (not the ISO reading of tempo_zone_get). */
    assert_int_equal(tempo__zone_offset(tz_string("UTC+2"), 0), -7200);
    assert_int_equal(tempo__zone_offset(zone("UTC+2"), 0), 7200);
    /* RFC 8536 §3.3.1: DST all year. */
    const tempo_zone_t *all = tz_string("EST5EDT,0/0,J365/25");
    tempo__tz_span_t sp;
    tempo__zone_span(all, sec("2030-01-01T05:00:00Z"), &sp);
    assert_int_equal(sp.offset, -14400);
    assert_int_equal(sp.start, INT64_MIN);
    assert_int_equal(sp.end, INT64_MAX);
    tempo_civil_t c;
    tempo_zone_to_civil(all, tempo_test_utc("2030-01-01T05:00:00Z"), &c, NULL);
    assert_int_equal(c.is_dst, 1);
    unsetenv("TZ");
}

/* The US default rule for a DST name without one matches America/New_York
 * since 2007. */
static void test_tz_string_matches_zone(void **state)
{
    (void)state;
    const tempo_zone_t *ny = zone("America/New_York");
    const tempo_zone_t *posix[] = {tz_string("EST5EDT,M3.2.0,M11.1.0"), tz_string("EST5EDT4")};
    for (size_t i = 0; i < 2; i++) {
        for (int64_t t = sec("2008-01-01T00:00:00Z"); t < sec("2040-01-01T00:00:00Z"); t += 3600) {
            if (tempo__zone_offset(ny, t) != tempo__zone_offset(posix[i], t))
                fail_msg("%s differs from America/New_York at %lld",
                         tempo_zone_name(posix[i]), (long long)t);
        }
    }
    unsetenv("TZ");
}

static void expect_tz_error(const char *tz, tempo_status_t code, const char *needle)
{
    const tempo_zone_t *z = (const tempo_zone_t *)&z; /* any sentinel */
    const tempo_zone_t *before = z;
    tempo_error_t err = {0};
    setenv("TZ", tz, 1);
    assert_int_equal(tempo_zone_get("local", &z, &err), code);
    assert_int_equal(err.code, code);
    assert_ptr_equal(z, before); /* nothing changed */
    if (!strstr(err.message, needle))
        fail_msg("TZ=%s: message '%s' lacks '%s'", tz, err.message, needle);
}

static void test_tz_string_errors(void **state)
{
    (void)state;
    expect_tz_error("EST5EDT,M13.1.0,M11.1.0", TEMPO_ENOTFOUND, "column 10: month must be 1..12");
    expect_tz_error("EST5EDT,M3.2.0", TEMPO_ENOTFOUND, "column 15");
    expect_tz_error("EST5EDT,M3.2.0/168,M11.1.0", TEMPO_ENOTFOUND, "hours out of range");
    expect_tz_error("ES5", TEMPO_ENOTFOUND, "column 1");
    expect_tz_error("EST25", TEMPO_ENOTFOUND, "offset hours out of range");
    expect_tz_error("<+03", TEMPO_ENOTFOUND, "'>'");
    expect_tz_error("EST5EDT,J0,J100", TEMPO_ENOTFOUND, "J1..J365");
    /* start and end coincide in common years: not a usable rule */
    expect_tz_error("AAA-1BBB,J60/0,59/1", TEMPO_EINVAL, "do not alternate");
    expect_tz_error(":../etc/passwd", TEMPO_EINVAL, "'..'");
    expect_tz_error(":Nowhere/Land", TEMPO_ENOTFOUND, "not found");
    unsetenv("TZ");
}

int main(void)
{
    unsetenv("TZDIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_far_future_north),
        cmocka_unit_test(test_far_future_south_and_v3),
        cmocka_unit_test(test_negative_dst),
        cmocka_unit_test(test_footer_without_dst),
        cmocka_unit_test(test_span_walk),
        cmocka_unit_test(test_merged_span),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_tz_strings),
        cmocka_unit_test(test_tz_string_matches_zone),
        cmocka_unit_test(test_tz_string_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
