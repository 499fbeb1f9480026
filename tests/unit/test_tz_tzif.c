/* TZif files as hostile input: hand-built files, valid and corrupt, in a
 * temporary directory that TZDIR points at. Every corrupt file must be
 * refused with the right code and a message naming the file and the fault,
 * without crashing or reading out of bounds (run it under ASan). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"
#include "tz/tz.h"

static char dir[64];

/* ---- building TZif bytes ---- */

typedef struct tzif_spec {
    char version; /* 0 (v1), '2', '3', '4' */
    int timecnt;
    int64_t times[8];
    uint8_t idx[8];
    int typecnt;
    int32_t off[4];
    uint8_t isdst[4], abbr[4];
    const char *chars; /* charcnt bytes, NULs included */
    int charcnt;
    int leapcnt;
    const char *footer; /* v2+ only; without the newlines */
} tzif_spec_t;

typedef struct bytes {
    unsigned char d[4096];
    size_t n;
} bytes_t;

static void put(bytes_t *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_be(bytes_t *b, uint64_t v, int size)
{
    for (int i = size - 1; i >= 0; i--) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(b, &c, 1);
    }
}

static void put_block(bytes_t *b, const tzif_spec_t *s, int tsize)
{
    int flags = s->typecnt;
    put(b, "TZif", 4);
    put(b, &s->version, 1);
    put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
    uint32_t counts[6] = {(uint32_t)flags, (uint32_t)flags, (uint32_t)s->leapcnt,
                          (uint32_t)s->timecnt, (uint32_t)s->typecnt, (uint32_t)s->charcnt};
    for (int i = 0; i < 6; i++)
        put_be(b, counts[i], 4);
    for (int i = 0; i < s->timecnt; i++)
        put_be(b, (uint64_t)s->times[i], tsize);
    put(b, s->idx, (size_t)s->timecnt);
    for (int i = 0; i < s->typecnt; i++) {
        put_be(b, (uint32_t)s->off[i], 4);
        put(b, &s->isdst[i], 1);
        put(b, &s->abbr[i], 1);
    }
    put(b, s->chars, (size_t)s->charcnt);
    for (int i = 0; i < s->leapcnt; i++) { /* leap seconds: occurrence, correction */
        put_be(b, (uint64_t)(78796800 + i * 15897600), tsize);
        put_be(b, (uint32_t)(i + 1), 4);
    }
    for (int i = 0; i < 2 * flags; i++)
        put(b, "\0", 1);
}

static bytes_t build(const tzif_spec_t *s)
{
    bytes_t b = {.n = 0};
    put_block(&b, s, 4);
    if (s->version != 0) {
        put_block(&b, s, 8);
        put(&b, "\n", 1);
        put(&b, s->footer, strlen(s->footer));
        put(&b, "\n", 1);
    }
    return b;
}

/* Two types, +01:00 "AAA" and +02:00 "BBB" (DST), switching at 1000 and 2000. */
static tzif_spec_t base_spec(char version, const char *footer)
{
    return (tzif_spec_t){.version = version,
                         .timecnt = 2,
                         .times = {1000, 2000},
                         .idx = {1, 0},
                         .typecnt = 2,
                         .off = {3600, 7200},
                         .isdst = {0, 1},
                         .abbr = {0, 4},
                         .chars = "AAA\0BBB",
                         .charcnt = 8,
                         .footer = footer};
}

static void write_file(const char *name, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* ---- checks ---- */

static const tempo_zone_t *load_ok(const char *name)
{
    const tempo_zone_t *z = NULL;
    tempo_error_t err;
    if (tempo_zone_get(name, &z, &err) != TEMPO_OK)
        fail_msg("%s: %s", name, err.message);
    return z;
}

static void expect_refused(const char *name, tempo_status_t code, const char *needle)
{
    const tempo_zone_t *z = tempo_zone_utc();
    tempo_error_t err = {0};
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(tempo_zone_get(name, &z, &err), code);
    assert_ptr_equal(z, tempo_zone_utc()); /* untouched */
    if (code != TEMPO_ENOTFOUND && !strstr(err.message, path))
        fail_msg("%s: message does not name the file: %s", name, err.message);
    if (!strstr(err.message, needle))
        fail_msg("%s: message lacks '%s': %s", name, needle, err.message);
}

static void refuse_spec(const char *name, const tzif_spec_t *s, tempo_status_t code,
                        const char *needle)
{
    bytes_t b = build(s);
    write_file(name, b.d, b.n);
    expect_refused(name, code, needle);
}

/* Patch a big-endian 32-bit count of the header at `header` (0 = first). */
static void patch32(bytes_t *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->d[at + (size_t)i] = (unsigned char)(v >> (24 - 8 * i));
}

static size_t second_header(const tzif_spec_t *s)
{
    tzif_spec_t v1 = *s;
    v1.version = 0;
    return build(&v1).n;
}

/* ---- tests ---- */

static void test_valid_v1_and_type0(void **state)
{
    (void)state;
    tzif_spec_t s = base_spec(0, NULL);
    bytes_t b = build(&s);
    write_file("v1", b.d, b.n);
    const tempo_zone_t *z = load_ok("v1");
    assert_int_equal(tempo__zone_offset(z, 0), 3600); /* type 0 before the first */
    assert_int_equal(tempo__zone_offset(z, 1000), 7200);
    assert_int_equal(tempo__zone_offset(z, 1999), 7200);
    assert_int_equal(tempo__zone_offset(z, 2000), 3600);
    assert_int_equal(tempo__zone_offset(z, INT64_C(1) << 40), 3600); /* v1: last type for ever */

    /* Type 0 (LMT) is used before the first transition even though no
     * transition refers to it (RFC 8536 §3.2). */
    s = (tzif_spec_t){.version = '2', .timecnt = 3, .times = {1000, 2000, 3000},
                      .idx = {1, 2, 1}, .typecnt = 3, .off = {1800, 3600, 7200},
                      .isdst = {0, 0, 1}, .abbr = {0, 4, 8}, .chars = "LMT\0AAA\0BBB",
                      .charcnt = 12, .footer = "AAA-1"};
    b = build(&s);
    write_file("lmt", b.d, b.n);
    z = load_ok("lmt");
    assert_int_equal(tempo__zone_offset(z, -5000000000), 1800);
    assert_int_equal(tempo__zone_offset(z, 2500), 7200);
    assert_int_equal(tempo__zone_offset(z, 9000000000), 3600);
}

static void test_valid_v2_v3_v4(void **state)
{
    (void)state;
    /* Leap-second records are read past and ignored. */
    tzif_spec_t s = base_spec('2', "AAA-1");
    s.leapcnt = 2;
    bytes_t b = build(&s);
    write_file("leaps", b.d, b.n);
    const tempo_zone_t *z = load_ok("leaps");
    assert_int_equal(tempo__zone_offset(z, 1000), 7200);
    assert_int_equal(tempo__zone_offset(z, 2000), 3600);
    tempo__tz_span_t sp;
    tempo__zone_span(z, 1500, &sp);
    assert_int_equal(sp.start, 1000);
    assert_int_equal(sp.end, 2000);

    /* v3, no transitions, only a footer with v3 times: all from the rule. */
    s = (tzif_spec_t){.version = '3', .typecnt = 1, .off = {-7200}, .chars = "-02",
                      .charcnt = 4, .footer = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"};
    b = build(&s);
    write_file("v3rule", b.d, b.n);
    z = load_ok("v3rule");
    /* 2030: last Sunday of March is the 31st; -1 h local (-02) is Mar 30 23:00
     * = Mar 31 01:00Z. End: last Sunday of October (27th) 00:00 local (-01). */
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-03-31T00:59:59Z") / 1000000), -7200);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-03-31T01:00:00Z") / 1000000), -3600);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-10-27T00:59:59Z") / 1000000), -3600);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-10-27T01:00:00Z") / 1000000), -7200);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("1930-07-01T00:00:00Z") / 1000000), -3600);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("1850-07-01T00:00:00Z") / 1000000), -3600);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("1850-12-01T00:00:00Z") / 1000000), -7200);

    s = base_spec('4', "AAA-1");
    b = build(&s);
    write_file("v4", b.d, b.n);
    assert_int_equal(tempo__zone_offset(load_ok("v4"), 1500), 7200);
}

/* RFC 8536: from the last transition on, the footer decides; times before
 * and after tempo's range are ignored without harm. */
static void test_footer_takes_over(void **state)
{
    (void)state;
    tzif_spec_t s = base_spec('2', "CET-1CEST,M3.5.0,M10.5.0/3");
    bytes_t b = build(&s);
    write_file("footer", b.d, b.n);
    const tempo_zone_t *z = load_ok("footer");
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-07-01T00:00:00Z") / 1000000), 7200);
    assert_int_equal(tempo__zone_offset(z, tempo_test_utc("2030-12-01T00:00:00Z") / 1000000), 3600);

    /* The last type says +05:00 but the footer +03:00: the footer wins. */
    s = base_spec('2', "<+03>-3");
    s.off[0] = 5 * 3600;
    b = build(&s);
    write_file("disagree", b.d, b.n);
    z = load_ok("disagree");
    assert_int_equal(tempo__zone_offset(z, 1999), 7200);
    assert_int_equal(tempo__zone_offset(z, 2000), 3 * 3600);

    /* A "big bang" transition at -2^59 and one far past tempo_time_t. */
    s = base_spec('2', "AAA-1");
    s.times[0] = -(INT64_C(1) << 59);
    s.times[1] = INT64_C(1) << 59;
    b = build(&s);
    write_file("bigbang", b.d, b.n);
    z = load_ok("bigbang");
    assert_int_equal(tempo__zone_offset(z, 0), 7200);
    tempo_civil_t c;
    assert_int_equal(tempo_zone_to_civil(z, INT64_MAX, &c, NULL), TEMPO_OK);
    assert_int_equal(c.utc_offset, 7200);
}

static void test_refused(void **state)
{
    (void)state;
    tzif_spec_t good = base_spec('2', "AAA-1BBB,M3.5.0,M10.5.0/3");
    bytes_t b = build(&good);
    size_t h2 = second_header(&good);

    write_file("empty", "", 0);
    expect_refused("empty", TEMPO_EFORMAT, "header truncated");
    write_file("trunc_header", b.d, 10);
    expect_refused("trunc_header", TEMPO_EFORMAT, "header truncated (10 of 44 bytes)");

    bytes_t x = b;
    x.d[3] = 'X';
    write_file("bad_magic", x.d, x.n);
    expect_refused("bad_magic", TEMPO_EFORMAT, "bad magic");
    x = b;
    x.d[4] = '7';
    write_file("version7", x.d, x.n);
    expect_refused("version7", TEMPO_EVERSION, "version");
    x = b;
    x.d[4] = 'x';
    write_file("version_x", x.d, x.n);
    expect_refused("version_x", TEMPO_EFORMAT, "version");

    x = b; /* timecnt of the 64-bit block far past the end */
    patch32(&x, h2 + 32, 0x7fffffff);
    write_file("huge_timecnt", x.d, x.n);
    expect_refused("huge_timecnt", TEMPO_EFORMAT, "v2+ data block needs");
    x = b; /* charcnt of the v1 block */
    patch32(&x, 40, 0xffffffff);
    write_file("huge_charcnt", x.d, x.n);
    expect_refused("huge_charcnt", TEMPO_EFORMAT, "v1 data block needs");
    x = b; /* leapcnt of the v2 block */
    patch32(&x, h2 + 28, 1000);
    write_file("huge_leapcnt", x.d, x.n);
    expect_refused("huge_leapcnt", TEMPO_EFORMAT, "needs");

    tzif_spec_t s = good;
    s.idx[1] = 5;
    refuse_spec("bad_type_index", &s, TEMPO_EFORMAT, "transition 1 uses time type 5");
    s = good;
    s.typecnt = 0;
    refuse_spec("typecnt_zero", &s, TEMPO_EFORMAT, "typecnt 0");
    s = good;
    s.charcnt = 0;
    refuse_spec("charcnt_zero", &s, TEMPO_EFORMAT, "charcnt is 0");
    s = good;
    s.times[1] = s.times[0];
    refuse_spec("not_ascending", &s, TEMPO_EFORMAT, "times must ascend");
    s = good;
    s.off[1] = 100000;
    refuse_spec("offset_range", &s, TEMPO_EFORMAT, "UTC offset 100000");
    s = good;
    s.off[1] = INT32_MIN;
    refuse_spec("offset_min", &s, TEMPO_EFORMAT, "UTC offset");
    s = good;
    s.isdst[0] = 2;
    refuse_spec("isdst_bad", &s, TEMPO_EFORMAT, "isdst is 2");
    s = good;
    s.abbr[1] = 8;
    refuse_spec("abbr_index", &s, TEMPO_EFORMAT, "abbreviation index 8");
    s = good;
    s.chars = "AAA\0BBBB";
    refuse_spec("abbr_unterminated", &s, TEMPO_EFORMAT, "abbreviation index 4");

    s = good;
    s.footer = "\x01\x02zz";
    refuse_spec("garbage_footer", &s, TEMPO_EFORMAT, "footer TZ string '??zz' column 1");
    s.footer = "CET-1CEST,M3.5.0";
    refuse_spec("short_footer", &s, TEMPO_EFORMAT, "column 17");
    s.footer = "AAA-1BBB,J60/0,59/1";
    refuse_spec("overlapping_footer", &s, TEMPO_EFORMAT, "do not alternate");

    x = b;
    write_file("no_final_newline", x.d, x.n - 1);
    expect_refused("no_final_newline", TEMPO_EFORMAT, "not terminated");
    x = b;
    size_t footer_at = x.n - strlen(good.footer) - 2;
    write_file("no_footer", x.d, footer_at);
    expect_refused("no_footer", TEMPO_EFORMAT, "footer missing");
    x.d[footer_at] = 'X';
    write_file("footer_no_newline", x.d, x.n);
    expect_refused("footer_no_newline", TEMPO_EFORMAT, "does not start with a newline");
    x = b;
    put(&x, "junk", 4);
    write_file("trailing", x.d, x.n);
    expect_refused("trailing", TEMPO_EFORMAT, "4 unexpected bytes after the footer");

    char path[256];
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_refused("adir", TEMPO_ENOTFOUND, "not found");
    expect_refused("missing", TEMPO_ENOTFOUND, "time zone 'missing' not found (looked in ");
}

/* Every proper prefix of a valid file is refused; random corruptions are
 * either refused or give a usable zone. Never a crash. */
static void test_truncations_and_flips(void **state)
{
    (void)state;
    tzif_spec_t good = base_spec('2', "AAA-1BBB,M3.5.0,M10.5.0/3");
    bytes_t b = build(&good);
    char name[64];
    for (size_t n = 0; n < b.n; n++) {
        snprintf(name, sizeof name, "prefix_%zu", n);
        write_file(name, b.d, n);
        const tempo_zone_t *z = NULL;
        tempo_error_t err;
        assert_int_equal(tempo_zone_get(name, &z, &err), TEMPO_EFORMAT);
        assert_null(z);
    }
    uint32_t seed = 12345;
    for (int i = 0; i < 400; i++) {
        bytes_t x = b;
        for (int k = 0; k < 1 + i % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % x.n;
            seed = seed * 1103515245u + 12345u;
            x.d[at] ^= (unsigned char)(1u << ((seed >> 16) % 8));
        }
        snprintf(name, sizeof name, "flip_%d", i);
        write_file(name, x.d, x.n);
        const tempo_zone_t *z = NULL;
        tempo_error_t err;
        tempo_status_t rc = tempo_zone_get(name, &z, &err);
        assert_true(rc == TEMPO_OK || rc == TEMPO_EFORMAT || rc == TEMPO_EVERSION);
        if (rc == TEMPO_OK) { /* whatever it says, it answers */
            tempo_civil_t c;
            tempo_local_t l;
            assert_int_equal(tempo_zone_to_civil(z, 0, &c, NULL), TEMPO_OK);
            assert_int_equal(tempo_zone_from_civil(z, &c, &l, NULL), TEMPO_OK);
        }
    }
}

/* The cache is keyed by file: another TZDIR gives another zone. */
static void test_tzdir_switch(void **state)
{
    (void)state;
    const tempo_zone_t *mine = load_ok("v4");
    unsetenv("TZDIR");
    const tempo_zone_t *system_berlin = load_ok("Europe/Berlin");
    tzif_spec_t s = base_spec('2', "AAA-1");
    bytes_t b = build(&s);
    char path[256];
    snprintf(path, sizeof path, "%s/Europe", dir);
    mkdir(path, 0700);
    write_file("Europe/Berlin", b.d, b.n);
    setenv("TZDIR", dir, 1);
    const tempo_zone_t *fake_berlin = load_ok("Europe/Berlin");
    assert_ptr_not_equal(fake_berlin, system_berlin);
    assert_int_equal(tempo__zone_offset(fake_berlin, 1500), 7200);
    assert_ptr_equal(load_ok("v4"), mine);
}

/* Something in the zoneinfo directory that is not a regular file is no
 * zone. A FIFO used to block open() for ever (until some process opened it
 * for writing); the alarm turns such a hang into a failure. */
static void test_fifo_is_not_a_zone(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    expect_refused("fifo", TEMPO_ENOTFOUND, "time zone 'fifo' not found");
    alarm(0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tempo_tz_tzif_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return setenv("TZDIR", dir, 1);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_v1_and_type0),
        cmocka_unit_test(test_valid_v2_v3_v4),
        cmocka_unit_test(test_footer_takes_over),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_truncations_and_flips),
        cmocka_unit_test(test_tzdir_switch),
        cmocka_unit_test(test_fifo_is_not_a_zone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
