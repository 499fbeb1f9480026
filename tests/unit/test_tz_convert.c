/* Instants <-> wall-clock time: every civil field, gaps and folds with their
 * edges (values checked against Python's zoneinfo), refused inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

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

static tempo_local_t local(const char *name, int y, int mo, int d, int h, int mi, int s)
{
    tempo_civil_t c = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = s};
    tempo_local_t r;
    tempo_error_t err;
    if (tempo_zone_from_civil(zone(name), &c, &r, &err) != TEMPO_OK)
        fail_msg("%s %d-%d-%d: %s", name, y, mo, d, err.message);
    return r;
}

static void expect_unique(tempo_local_t r, const char *at)
{
    assert_int_equal(r.kind, TEMPO_LOCAL_UNIQUE);
    assert_int_equal(r.earlier, tempo_test_utc(at));
    assert_int_equal(r.later, tempo_test_utc(at));
}

static void expect_fold(tempo_local_t r, const char *first, const char *second)
{
    assert_int_equal(r.kind, TEMPO_LOCAL_FOLD);
    assert_int_equal(r.earlier, tempo_test_utc(first));
    assert_int_equal(r.later, tempo_test_utc(second));
}

static void expect_gap(tempo_local_t r, const char *earlier, const char *later, const char *at)
{
    assert_int_equal(r.kind, TEMPO_LOCAL_GAP);
    assert_int_equal(r.earlier, tempo_test_utc(earlier));
    assert_int_equal(r.later, tempo_test_utc(later));
    assert_int_equal(r.transition, tempo_test_utc(at));
}

static void test_to_civil_fields(void **state)
{
    (void)state;
    tempo_civil_t c;
    tempo_time_t t = tempo_test_utc("2024-02-29T12:34:56Z") + 789000;
    assert_int_equal(tempo_zone_to_civil(zone("America/New_York"), t, &c, NULL), TEMPO_OK);
    assert_int_equal(c.year, 2024);
    assert_int_equal(c.month, 2);
    assert_int_equal(c.day, 29);
    assert_int_equal(c.hour, 7);
    assert_int_equal(c.minute, 34);
    assert_int_equal(c.second, 56);
    assert_int_equal(c.usec, 789000);
    assert_int_equal(c.wday, 4); /* Thursday */
    assert_int_equal(c.yday, 59);
    assert_int_equal(c.utc_offset, -18000);
    assert_int_equal(c.is_dst, 0);

    /* one microsecond before the epoch, in a zone east of UTC */
    assert_int_equal(tempo_zone_to_civil(zone("Asia/Kolkata"), -1, &c, NULL), TEMPO_OK);
    assert_int_equal(c.year, 1970);
    assert_int_equal(c.hour, 5);
    assert_int_equal(c.minute, 29);
    assert_int_equal(c.second, 59);
    assert_int_equal(c.usec, 999999);
    assert_int_equal(c.utc_offset, 19800);
    assert_int_equal(tempo_zone_to_civil(tempo_zone_utc(), -1, &c, NULL), TEMPO_OK);
    assert_int_equal(c.year, 1969);
    assert_int_equal(c.yday, 364);
    assert_int_equal(c.wday, 3);

    /* Berlin's local mean time had seconds in its offset */
    assert_int_equal(tempo_zone_to_civil(zone("Europe/Berlin"), tempo_test_utc("1890-01-01T00:00:00Z"),
                                         &c, NULL),
                     TEMPO_OK);
    assert_int_equal(c.utc_offset, 3208);
    assert_int_equal(c.second, 28);

    /* Dublin: negative DST, winter is the DST part */
    const tempo_zone_t *dublin = zone("Europe/Dublin");
    tempo_zone_to_civil(dublin, tempo_test_utc("2020-01-15T12:00:00Z"), &c, NULL);
    assert_int_equal(c.utc_offset, 0);
    assert_int_equal(c.is_dst, 1);
    tempo_zone_to_civil(dublin, tempo_test_utc("2020-07-15T12:00:00Z"), &c, NULL);
    assert_int_equal(c.utc_offset, 3600);
    assert_int_equal(c.is_dst, 0);
}

static void test_new_york(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    expect_unique(local(ny, 2016, 3, 13, 1, 59, 59), "2016-03-13T06:59:59Z");
    expect_gap(local(ny, 2016, 3, 13, 2, 0, 0), "2016-03-13T06:00:00Z", "2016-03-13T07:00:00Z",
               "2016-03-13T07:00:00Z");
    expect_gap(local(ny, 2016, 3, 13, 2, 30, 0), "2016-03-13T06:30:00Z", "2016-03-13T07:30:00Z",
               "2016-03-13T07:00:00Z");
    expect_gap(local(ny, 2016, 3, 13, 2, 59, 59), "2016-03-13T06:59:59Z", "2016-03-13T07:59:59Z",
               "2016-03-13T07:00:00Z");
    expect_unique(local(ny, 2016, 3, 13, 3, 0, 0), "2016-03-13T07:00:00Z");
    expect_unique(local(ny, 2016, 11, 6, 0, 59, 59), "2016-11-06T04:59:59Z");
    expect_fold(local(ny, 2016, 11, 6, 1, 0, 0), "2016-11-06T05:00:00Z", "2016-11-06T06:00:00Z");
    expect_fold(local(ny, 2016, 11, 6, 1, 30, 0), "2016-11-06T05:30:00Z", "2016-11-06T06:30:00Z");
    expect_fold(local(ny, 2016, 11, 6, 1, 59, 59), "2016-11-06T05:59:59Z", "2016-11-06T06:59:59Z");
    expect_unique(local(ny, 2016, 11, 6, 2, 0, 0), "2016-11-06T07:00:00Z");
}

static void test_odd_zones(void **state)
{
    (void)state;
    /* Lord Howe: a 30-minute DST */
    expect_gap(local("Australia/Lord_Howe", 2019, 10, 6, 2, 15, 0), "2019-10-05T15:15:00Z",
               "2019-10-05T15:45:00Z", "2019-10-05T15:30:00Z");
    expect_fold(local("Australia/Lord_Howe", 2019, 4, 7, 1, 45, 0), "2019-04-06T14:45:00Z",
                "2019-04-06T15:15:00Z");
    /* Apia skipped 2011-12-30 entirely (-10 -> +14) */
    expect_gap(local("Pacific/Apia", 2011, 12, 30, 12, 0, 0), "2011-12-29T22:00:00Z",
               "2011-12-30T22:00:00Z", "2011-12-30T10:00:00Z");
    /* Dublin's negative DST: the fold is in October as everywhere in Europe */
    expect_fold(local("Europe/Dublin", 2020, 10, 25, 1, 30, 0), "2020-10-25T00:30:00Z",
                "2020-10-25T01:30:00Z");
    /* a fixed zone and UTC are always unique */
    expect_unique(local("+05:30", 2016, 3, 13, 2, 30, 0), "2016-03-12T21:00:00Z");
    expect_unique(local("UTC", 1, 1, 1, 0, 0, 0), "0001-01-01T00:00:00Z");
    /* microseconds ride along; the transition stays on the second */
    tempo_civil_t c = {.year = 2016, .month = 3, .day = 13, .hour = 2, .minute = 30, .usec = 250000};
    tempo_local_t r;
    assert_int_equal(tempo_zone_from_civil(zone("America/New_York"), &c, &r, NULL), TEMPO_OK);
    assert_int_equal(r.earlier, tempo_test_utc("2016-03-13T06:30:00Z") + 250000);
    assert_int_equal(r.transition, tempo_test_utc("2016-03-13T07:00:00Z"));
    c.month = 7;
    assert_int_equal(tempo_zone_from_civil(zone("America/New_York"), &c, &r, NULL), TEMPO_OK);
    assert_int_equal(r.transition, TEMPO_TIME_NONE);
}

/* Every hour of 1990..2030 in a few zones: to_civil then from_civil gives
 * back the instant (earlier or later when in a fold). */
static void test_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe",
                           "Pacific/Chatham", "America/St_Johns", "Europe/Dublin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const tempo_zone_t *z = zone(names[i]);
        for (tempo_time_t t = tempo_test_utc("1990-01-01T00:00:00Z");
             t < tempo_test_utc("2030-01-01T00:00:00Z"); t += TEMPO_MINUTES(61)) {
            tempo_civil_t c;
            tempo_local_t r;
            assert_int_equal(tempo_zone_to_civil(z, t, &c, NULL), TEMPO_OK);
            assert_int_equal(tempo_zone_from_civil(z, &c, &r, NULL), TEMPO_OK);
            assert_int_not_equal(r.kind, TEMPO_LOCAL_GAP);
            if (r.earlier != t && r.later != t)
                fail_msg("%s: %lld does not round-trip", names[i], (long long)t);
        }
    }
}

static void expect_civil_error(tempo_civil_t c, tempo_status_t code, const char *needle)
{
    tempo_local_t r = {.kind = TEMPO_LOCAL_FOLD, .earlier = 42};
    tempo_error_t err = {0};
    assert_int_equal(tempo_zone_from_civil(zone("Europe/Berlin"), &c, &r, &err), code);
    assert_int_equal(r.earlier, 42); /* untouched */
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_refused(void **state)
{
    (void)state;
    tempo_civil_t ok = {.year = 2027, .month = 4, .day = 30, .hour = 12};
    tempo_civil_t c = ok;
    c.month = 13;
    expect_civil_error(c, TEMPO_EINVAL, "month 13 is out of range (1-12)");
    c = ok;
    c.day = 31;
    expect_civil_error(c, TEMPO_EINVAL, "day 31 is out of range (1-30)");
    c = ok;
    c.month = 2, c.day = 29;
    expect_civil_error(c, TEMPO_EINVAL, "day 29 is out of range (1-28)");
    c = ok;
    c.hour = 24;
    expect_civil_error(c, TEMPO_EINVAL, "hour 24");
    c = ok;
    c.minute = -1;
    expect_civil_error(c, TEMPO_EINVAL, "minute -1");
    c = ok;
    c.second = 60;
    expect_civil_error(c, TEMPO_EINVAL, "second 60");
    c = ok;
    c.usec = 1000000;
    expect_civil_error(c, TEMPO_EINVAL, "usec 1000000");
    c = ok;
    c.year = 300000;
    expect_civil_error(c, TEMPO_ERANGE, "year 300000");
    c = ok;
    c.year = INT32_MIN;
    expect_civil_error(c, TEMPO_ERANGE, "outside");

    tempo_civil_t out;
    tempo_local_t r;
    tempo_error_t err;
    assert_int_equal(tempo_zone_to_civil(tempo_zone_utc(), TEMPO_TIME_NONE, &out, &err),
                     TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "TEMPO_TIME_NONE"));
    assert_int_equal(tempo_zone_to_civil(NULL, 0, &out, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_to_civil(tempo_zone_utc(), 0, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_from_civil(NULL, &ok, &r, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_from_civil(tempo_zone_utc(), NULL, &r, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_from_civil(tempo_zone_utc(), &ok, NULL, &err), TEMPO_EINVAL);
    /* the extremes of tempo_time_t convert */
    assert_int_equal(tempo_zone_to_civil(zone("America/New_York"), INT64_MAX, &out, NULL), TEMPO_OK);
    assert_int_equal(out.year, 294247);
    assert_int_equal(tempo_zone_to_civil(zone("America/New_York"), INT64_MIN + 1, &out, NULL),
                     TEMPO_OK);
}

static void test_now(void **state)
{
    (void)state;
    tempo_time_t before = (tempo_time_t)time(NULL) * TEMPO_USEC_PER_SEC;
    tempo_time_t now = tempo_time_now();
    tempo_time_t after = ((tempo_time_t)time(NULL) + 1) * TEMPO_USEC_PER_SEC;
    assert_true(now >= before && now <= after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_civil_fields), cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_odd_zones),       cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
