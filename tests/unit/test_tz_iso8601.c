/* ISO 8601 formatting and parsing: exact texts, round trips, and errors that
 * name the column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static void expect_format(tempo_time_t t, const char *zone_name, const char *text)
{
    char buf[64];
    int n = tempo_time_format(t, zone_name ? zone(zone_name) : NULL, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(text));
    assert_string_equal(buf, text);
}

static void test_format(void **state)
{
    (void)state;
    expect_format(tempo_test_utc("2027-03-28T01:00:00Z"), "Europe/Berlin",
                  "2027-03-28T03:00:00+02:00");
    expect_format(tempo_test_utc("2027-03-28T00:59:59Z"), "Europe/Berlin",
                  "2027-03-28T01:59:59+01:00");
    expect_format(0, "UTC", "1970-01-01T00:00:00+00:00");
    expect_format(0, NULL, "1970-01-01T00:00:00+00:00"); /* NULL zone: UTC */
    expect_format(500000, "UTC", "1970-01-01T00:00:00.5+00:00");
    expect_format(1, "UTC", "1970-01-01T00:00:00.000001+00:00");
    expect_format(-1, "UTC", "1969-12-31T23:59:59.999999+00:00");
    expect_format(123450, "UTC", "1970-01-01T00:00:00.12345+00:00");
    expect_format(tempo_test_utc("2027-01-15T12:00:00Z"), "America/St_Johns",
                  "2027-01-15T08:30:00-03:30");
    expect_format(tempo_test_utc("1890-01-01T00:00:00Z"), "Europe/Berlin",
                  "1890-01-01T00:53:28+00:53:28");
    expect_format(tempo_test_utc("0000-06-01T00:00:00Z"), "UTC", "0000-06-01T00:00:00+00:00");
    expect_format(tempo_test_utc("-0001-06-01T00:00:00Z"), "UTC", "-0001-06-01T00:00:00+00:00");
    expect_format(tempo_test_utc("10000-01-01T00:00:00Z"), "UTC", "+10000-01-01T00:00:00+00:00");
    expect_format(TEMPO_TIME_NONE, "UTC", "none");
}

static void test_format_sizes(void **state)
{
    (void)state;
    char buf[64];
    const tempo_zone_t *z = zone("Europe/Berlin");
    tempo_time_t t = tempo_test_utc("2027-03-28T01:00:00Z");
    int n = tempo_time_format(t, z, buf, sizeof buf);
    assert_int_equal(n, 25);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(tempo_time_format(t, z, buf, 26), 25); /* exact fit */
    assert_int_equal(tempo_time_format(t, z, buf, 25), -1);
    assert_int_equal(tempo_time_format(t, z, buf, 0), -1);
    assert_int_equal(tempo_time_format(t, z, NULL, 64), -1);
    /* 40 bytes always suffice, even at the extremes with the longest offset */
    const char *zs[] = {"-23:59:59", "+23:59:59", "Europe/Berlin"};
    tempo_time_t ts[] = {INT64_MIN + 1, INT64_MAX, -999999, 999999};
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < 4; k++)
            assert_in_range(tempo_time_format(ts[k], zone(zs[i]), buf, 40), 25, 39);
}

static void expect_parse(const char *text, const char *zone_name, tempo_time_t expected)
{
    tempo_time_t t = 0;
    tempo_error_t err;
    if (tempo_time_parse(text, zone_name ? zone(zone_name) : NULL, &t, &err) != TEMPO_OK)
        fail_msg("'%s': %s", text, err.message);
    assert_int_equal(t, expected);
}

static void test_parse(void **state)
{
    (void)state;
    tempo_time_t at1 = tempo_test_utc("2027-03-28T01:00:00Z");
    expect_parse("2027-03-28T03:00:00+02:00", "America/New_York", at1);
    expect_parse("2027-03-28T01:00:00Z", "Europe/Berlin", at1);
    expect_parse("2027-03-28t01:00:00z", NULL, at1);
    expect_parse("2027-03-28T03:00:00+0200", NULL, at1);
    expect_parse("2027-03-28T03:00:00+02", NULL, at1);
    expect_parse("2027-03-28T03:00:00+02:00:00", NULL, at1);
    expect_parse("2027-03-27T21:30:00-03:30", NULL, at1);
    expect_parse("2027-03-28T03:00", "Europe/Berlin", at1);
    expect_parse("2027-03-28 03:00:00.5", "Europe/Berlin", at1 + 500000);
    expect_parse("2027-03-28T01:00:00,25Z", NULL, at1 + 250000);
    expect_parse("2027-03-28T01:00:00.123456789Z", NULL, at1 + 123456);
    expect_parse("2027-03-28", "Europe/Berlin", tempo_test_utc("2027-03-27T23:00:00Z"));
    expect_parse("2027-03-28", NULL, tempo_test_utc("2027-03-28T00:00:00Z"));
    /* a gap reads as the transition, a fold as its first occurrence */
    expect_parse("2016-03-13T02:30", "America/New_York", tempo_test_utc("2016-03-13T07:00:00Z"));
    expect_parse("2016-11-06T01:30", "America/New_York", tempo_test_utc("2016-11-06T05:30:00Z"));
    expect_parse("+10000-01-01T00:00:00Z", NULL, tempo_test_utc("10000-01-01T00:00:00Z"));
    expect_parse("-0001-06-01T00:00:00+00:00", NULL, tempo_test_utc("-0001-06-01T00:00:00Z"));
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu",
                           "Pacific/Chatham", "Europe/Dublin", "+05:30", "America/Santiago"};
    uint64_t seed = 42;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const tempo_zone_t *z = zone(names[i]);
        for (int k = 0; k < 3000; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            /* years ~1850..2600, with and without microseconds */
            tempo_time_t t = (tempo_time_t)(seed >> 11) % (INT64_C(23700000000) * TEMPO_USEC_PER_SEC)
                             - INT64_C(3786825600) * TEMPO_USEC_PER_SEC;
            if (k % 2)
                t -= t % TEMPO_USEC_PER_SEC;
            char buf[40];
            tempo_time_t back;
            tempo_error_t err;
            assert_true(tempo_time_format(t, z, buf, sizeof buf) > 0);
            if (tempo_time_parse(buf, tempo_zone_utc(), &back, &err) != TEMPO_OK)
                fail_msg("%s: %s", buf, err.message);
            if (back != t)
                fail_msg("%s: %s read back as %lld, not %lld", names[i], buf, (long long)back,
                         (long long)t);
        }
    }
}

static void expect_error(const char *text, tempo_status_t code, const char *needle)
{
    tempo_time_t t = 42;
    tempo_error_t err = {0};
    assert_int_equal(tempo_time_parse(text, zone("Europe/Berlin"), &t, &err), code);
    assert_int_equal(t, 42); /* untouched */
    if (!strstr(err.message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.message, needle);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("2027-13-01", TEMPO_EPARSE, "column 6: month 13 is out of range (01-12)");
    expect_error("2027-00-01", TEMPO_EPARSE, "column 6: month 00");
    expect_error("2027-04-31", TEMPO_EPARSE, "column 9: day 31 is out of range for 2027-04 (01-30)");
    expect_error("2023-02-29", TEMPO_EPARSE, "column 9: day 29");
    expect_error("2027-03-28T24:00", TEMPO_EPARSE, "column 12: hour 24 is out of range (00-23)");
    expect_error("2027-03-28T23:60", TEMPO_EPARSE, "column 15: minute 60");
    expect_error("2027-03-28T23:59:60Z", TEMPO_EPARSE, "column 18: second 60");
    expect_error("2027-3-28", TEMPO_EPARSE, "column 6: expected a two-digit month");
    expect_error("27-03-28", TEMPO_EPARSE, "column 1: expected a four-digit year");
    expect_error("", TEMPO_EPARSE, "column 1");
    expect_error("2027-03-28X", TEMPO_EPARSE, "column 11: expected 'T'");
    expect_error("2027-03-28T03", TEMPO_EPARSE, "column 14: expected ':' after the hour");
    expect_error("2027-03-28T03:00:00+02:00x", TEMPO_EPARSE, "column 26: unexpected 'x'");
    expect_error("2027-03-28T03:00:00+24:00", TEMPO_EPARSE, "column 21: offset hour 24");
    expect_error("2027-03-28T03:00:00+02:60", TEMPO_EPARSE, "column 24: offset minute 60");
    expect_error("2027-03-28T03:00:00.", TEMPO_EPARSE, "column 21: expected digits after '.'");
    expect_error("2027-03-28T03:00:00.1234567890Z", TEMPO_EPARSE, "more than 9 fraction digits");
    expect_error("2027-03-28T03:00:00 ", TEMPO_EPARSE, "column 20: unexpected ' '");
    expect_error("+300000-01-01T00:00:00Z", TEMPO_ERANGE, "outside");
    expect_error("+300000-01-01T00:00:00", TEMPO_ERANGE, "outside");
    tempo_time_t t;
    assert_int_equal(tempo_time_parse(NULL, NULL, &t, NULL), TEMPO_EINVAL);
    assert_int_equal(tempo_time_parse("2027-03-28", NULL, NULL, NULL), TEMPO_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),       cmocka_unit_test(test_format_sizes),
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
