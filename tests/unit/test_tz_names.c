/* Zone names: UTC, fixed offsets, IANA names, "local", refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"
#include "tz/tz.h"

static const tempo_zone_t *get(const char *name)
{
    const tempo_zone_t *z = NULL;
    tempo_error_t err;
    if (tempo_zone_get(name, &z, &err) != TEMPO_OK)
        fail_msg("tempo_zone_get(%s): %s", name, err.message);
    assert_non_null(z);
    return z;
}

static void expect_error(const char *name, tempo_status_t code, const char *message)
{
    const tempo_zone_t *z = tempo_zone_utc();
    tempo_error_t err = {0};
    assert_int_equal(tempo_zone_get(name, &z, &err), code);
    assert_int_equal(err.code, code);
    assert_ptr_equal(z, tempo_zone_utc()); /* untouched */
    if (!strstr(err.message, message))
        fail_msg("'%s': message '%s' lacks '%s'", name, err.message, message);
}

static void test_utc(void **state)
{
    (void)state;
    const tempo_zone_t *utc = tempo_zone_utc();
    assert_ptr_equal(get("UTC"), utc);
    assert_string_equal(tempo_zone_name(utc), "UTC");
    tempo__tz_span_t sp;
    tempo__zone_span(utc, 1234567890, &sp);
    assert_int_equal(sp.offset, 0);
    assert_int_equal(sp.prev_offset, 0);
    assert_int_equal(sp.start, INT64_MIN);
    assert_int_equal(sp.end, INT64_MAX);
    tempo_civil_t c;
    assert_int_equal(tempo_zone_to_civil(utc, tempo_test_utc("2027-03-28T01:02:03Z"), &c, NULL),
                     TEMPO_OK);
    assert_int_equal(c.utc_offset, 0);
    assert_int_equal(c.is_dst, 0);
    assert_int_equal(c.hour, 1);
    /* "Etc/UTC" is the file: another zone, same answers. */
    assert_int_equal(tempo__zone_offset(get("Etc/UTC"), 0), 0);
    assert_string_equal(tempo_zone_name(get("Etc/UTC")), "Etc/UTC");
}

static void test_fixed_offsets(void **state)
{
    (void)state;
    const struct {
        const char *name;
        int32_t offset;
    } ok[] = {
        {"+05:30", 19800},   {"-08", -28800},       {"+0530", 19800},    {"UTC+2", 7200},
        {"UTC-03:30", -12600}, {"+05:30:15", 19815}, {"-023045", -9045}, {"+00", 0},
        {"-00:00", 0},       {"UTC+14", 50400},     {"-9", -32400},      {"+23:59:59", 86399},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const tempo_zone_t *z = get(ok[i].name);
        assert_string_equal(tempo_zone_name(z), ok[i].name);
        assert_int_equal(tempo__zone_offset(z, 0), ok[i].offset);
        assert_int_equal(tempo__zone_offset(z, INT64_C(253402300799)), ok[i].offset);
        assert_ptr_equal(get(ok[i].name), z); /* cached */
        tempo__tz_span_t sp;
        tempo__zone_span(z, 0, &sp);
        assert_int_equal(sp.start, INT64_MIN);
        assert_int_equal(sp.end, INT64_MAX);
    }
    const char *bad[] = {"+5:3", "+24", "+05:60", "UTC+", "+123", "+05:30x", "-05:30:60",
                         "+05:3", "UTC+05:", "+", "-", "+0530:00", "+05:30:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(bad[i], TEMPO_EINVAL, "is not a valid fixed offset");
}

static void test_iana_and_cache(void **state)
{
    (void)state;
    const tempo_zone_t *berlin = get("Europe/Berlin");
    assert_string_equal(tempo_zone_name(berlin), "Europe/Berlin");
    assert_ptr_equal(get("Europe/Berlin"), berlin);
    assert_int_equal(tempo__zone_offset(berlin, tempo_test_utc("2027-07-01T00:00:00Z") / 1000000),
                     7200);
    /* backward-compatible links are files too */
    assert_int_equal(tempo__zone_offset(get("US/Eastern"), 0), -18000);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("Mars/Olympus", TEMPO_ENOTFOUND,
                 "time zone 'Mars/Olympus' not found (looked in /usr/share/zoneinfo)");
    expect_error("Europe", TEMPO_ENOTFOUND, "not found"); /* a directory */
    expect_error("Europe/Berlin/x", TEMPO_ENOTFOUND, "not found");
    expect_error("utc", TEMPO_ENOTFOUND, "not found");
    const char *escapes[] = {"../etc/passwd", "/etc/passwd", "Europe/../Europe/Berlin",
                             "./UTC", "Europe//Berlin", "Europe/Berlin/", "..", "a/..",
                             "", "Europe/\x01"};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++)
        expect_error(escapes[i], TEMPO_EINVAL, "is not a valid name");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    expect_error(longname, TEMPO_EINVAL, "longer than 255");

    const tempo_zone_t *z;
    tempo_error_t err;
    assert_int_equal(tempo_zone_get(NULL, &z, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_get("UTC", NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_zone_get("Mars/Olympus", &z, NULL), TEMPO_ENOTFOUND); /* err optional */
    assert_string_equal(tempo_zone_name(NULL), "(null)");
}

static const tempo_zone_t *local_with(const char *tz)
{
    if (tz)
        setenv("TZ", tz, 1);
    else
        unsetenv("TZ");
    return get("local");
}

static void test_local(void **state)
{
    (void)state;
    const tempo_zone_t *berlin = get("Europe/Berlin");
    assert_ptr_equal(local_with(":Europe/Berlin"), berlin);
    assert_ptr_equal(local_with("Europe/Berlin"), berlin);
    assert_ptr_equal(local_with(":/usr/share/zoneinfo/Europe/Berlin"), berlin);
    assert_string_equal(tempo_zone_name(local_with("/usr/share/zoneinfo/Asia/Tokyo")),
                        "Asia/Tokyo");
    assert_ptr_equal(local_with(""), tempo_zone_utc());
    assert_ptr_equal(local_with(":UTC"), tempo_zone_utc());
    /* a file wins over the POSIX reading of the same text */
    assert_string_equal(tempo_zone_name(local_with("EST5EDT")), "EST5EDT");
    const tempo_zone_t *rule = local_with("EST5EDT,M3.2.0,M11.1.0");
    assert_string_equal(tempo_zone_name(rule), "EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(tempo__zone_offset(rule, tempo_test_utc("2027-07-01T00:00:00Z") / 1000000),
                     -14400);
    assert_ptr_equal(local_with("EST5EDT,M3.2.0,M11.1.0"), rule);

    /* No TZ: /etc/localtime, named after its link when it points into
     * zoneinfo; without it, UTC. Either way "local" works. */
    const tempo_zone_t *host = local_with(NULL);
    char link[512];
    ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        const char *at = strstr(link, "zoneinfo/");
        if (at)
            assert_string_equal(tempo_zone_name(host), at + strlen("zoneinfo/"));
    } else if (access("/etc/localtime", F_OK) != 0) {
        assert_ptr_equal(host, tempo_zone_utc());
    }

    setenv("TZ", "Nowhere/Land", 1);
    expect_error("local", TEMPO_ENOTFOUND, "time zone 'Nowhere/Land' (from TZ) not found");
    setenv("TZ", ":/nonexistent/zone", 1);
    expect_error("local", TEMPO_ENOTFOUND, "'/nonexistent/zone' (from TZ) not found");
    unsetenv("TZ");
}

int main(void)
{
    unsetenv("TZDIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_fixed_offsets),
        cmocka_unit_test(test_iana_and_cache),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
