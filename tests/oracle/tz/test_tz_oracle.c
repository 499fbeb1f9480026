/* Time zones against Python's zoneinfo.
 *
 * gen_tz_oracle.py (a ctest fixture) writes what zoneinfo says about many
 * instants and wall times in 70 zones; this program asks tempo the same
 * questions and counts every disagreement. The data file's format is
 * described in the generator. Usage: test_tz_oracle DATA_FILE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include <tempo/clock.h>

#define MIN_ZONES 40
#define SHOW_MAX 10

static const char *data_path;

typedef struct tally {
    const tempo_zone_t *zone;
    long zones, instants, walls, mismatches, lineno;
} tally_t;

static void mismatch(tally_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(tally_t *t, const char *fmt, ...)
{
    if (t->mismatches++ < SHOW_MAX) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "MISMATCH line %ld zone %s: ", t->lineno,
                t->zone ? tempo_zone_name(t->zone) : "?");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

static void check_instant(tally_t *t, const char *line)
{
    long long ts;
    int off, f[8];
    if (sscanf(line, "I %lld %d %d %d %d %d %d %d %d %d", &ts, &off, &f[0], &f[1], &f[2], &f[3],
               &f[4], &f[5], &f[6], &f[7]) != 10)
        fail_msg("line %ld: bad instant line '%s'", t->lineno, line);
    tempo_civil_t c;
    tempo_error_t err;
    t->instants++;
    if (tempo_zone_to_civil(t->zone, ts * TEMPO_USEC_PER_SEC, &c, &err) != TEMPO_OK) {
        mismatch(t, "instant %lld: error %s", ts, err.message);
        return;
    }
    int got[8] = {(int)c.year, c.month, c.day, c.hour, c.minute, c.second, c.wday, c.yday};
    if (c.utc_offset != off || memcmp(got, f, sizeof got) != 0)
        mismatch(t,
                 "instant %lld: expected %04d-%02d-%02d %02d:%02d:%02d off %d wday %d yday %d, "
                 "got %04d-%02d-%02d %02d:%02d:%02d off %d wday %d yday %d",
                 ts, f[0], f[1], f[2], f[3], f[4], f[5], off, f[6], f[7], got[0], got[1], got[2],
                 got[3], got[4], got[5], (int)c.utc_offset, got[6], got[7]);
}

static int kind_letter(tempo_local_kind_t k)
{
    return k == TEMPO_LOCAL_UNIQUE ? 'U' : k == TEMPO_LOCAL_FOLD ? 'F' : 'G';
}

static void check_wall(tally_t *t, const char *line)
{
    tempo_civil_t c = {0};
    char kind, trans[32];
    long long earlier, later;
    if (sscanf(line, "W %d %d %d %d %d %d %c %lld %lld %31s", &c.year, &c.month, &c.day, &c.hour,
               &c.minute, &c.second, &kind, &earlier, &later, trans) != 10)
        fail_msg("line %ld: bad wall line '%s'", t->lineno, line);
    long long transition = kind == 'G' ? atoll(trans) : 0;
    tempo_local_t r;
    tempo_error_t err;
    t->walls++;
    if (tempo_zone_from_civil(t->zone, &c, &r, &err) != TEMPO_OK) {
        mismatch(t, "wall %s: error %s", line + 2, err.message);
        return;
    }
    long long e = r.earlier / TEMPO_USEC_PER_SEC, l = r.later / TEMPO_USEC_PER_SEC;
    long long tr = r.kind == TEMPO_LOCAL_GAP ? r.transition / TEMPO_USEC_PER_SEC : 0;
    if (kind_letter(r.kind) != kind || e != earlier || l != later || tr != transition)
        mismatch(t, "wall %04d-%02d-%02d %02d:%02d:%02d: expected %c %lld %lld %lld, got %c %lld "
                    "%lld %lld",
                 (int)c.year, c.month, c.day, c.hour, c.minute, c.second, kind, earlier, later,
                 transition, kind_letter(r.kind), e, l, tr);
}

static void check_zone(tally_t *t, const char *name)
{
    tempo_error_t err;
    t->zones++;
    if (tempo_zone_get(name, &t->zone, &err) != TEMPO_OK)
        fail_msg("line %ld: tempo_zone_get(%s): %s", t->lineno, name, err.message);
}

static void test_against_zoneinfo(void **state)
{
    (void)state;
    FILE *f = fopen(data_path, "r");
    if (!f)
        fail_msg("cannot open %s (did the tz_oracle_generate fixture run?)", data_path);
    char line[512];
    tally_t t = {0};
    long end_counts[3] = {-1, -1, -1};
    while (fgets(line, sizeof line, f)) {
        t.lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "SKIP ", 5) == 0) {
            fclose(f);
            tempo_test_skip(line + 5);
        } else if (strncmp(line, "TZDIR ", 6) == 0) {
            setenv("TZDIR", line + 6, 1); /* the files zoneinfo read */
        } else if (line[0] == 'Z') {
            check_zone(&t, line + 2);
        } else if (line[0] == 'I') {
            check_instant(&t, line);
        } else if (line[0] == 'W') {
            check_wall(&t, line);
        } else if (strncmp(line, "END ", 4) == 0) {
            sscanf(line, "END %ld %ld %ld", &end_counts[0], &end_counts[1], &end_counts[2]);
        }
    }
    fclose(f);
    printf("tz oracle: %ld zones, %ld instants, %ld wall times, %ld mismatches\n", t.zones,
           t.instants, t.walls, t.mismatches);
    assert_int_equal(end_counts[0], t.zones); /* the file is complete */
    assert_int_equal(end_counts[1], t.instants);
    assert_int_equal(end_counts[2], t.walls);
    assert_true(t.zones >= MIN_ZONES);
    assert_int_equal(t.mismatches, 0);
}

int main(int argc, char **argv)
{
    const char *skip = getenv("TEMPO_TZ_ORACLE_SKIP");
    if (skip && *skip)
        tempo_test_skip(skip);
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_FILE\n", argv[0]);
        return 2;
    }
    data_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_zoneinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
