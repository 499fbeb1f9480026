/* Property test: tempo's cron next() against a brute-force scanner, in zones
 * with DST.
 *
 * Each case is a random expression (cron_model.c writes the text and, on its
 * own, the sets it means), a random zone (mostly with DST, some with odd
 * half- and quarter-hour shifts), a random DST gap policy and a random start
 * between 1950 and 2150, half the time just before an offset change. The
 * scanner (cron_scan.c) walks real time and applies DESIGN.md §3 literally;
 * tempo's chain next(next(after))... must give the same instants. Also: every
 * answer is strictly after its input, and each call does a bounded amount of
 * work, counted (not timed) by wrapping the zone and wall-search calls the
 * trigger makes (-Wl,--wrap, see tests.cmake).
 *
 * Environment: TEMPO_PROPERTY_SCALE multiplies the number of cases (default 1:
 * about 3 s at -O2, 20 s under ASan+UBSan), TEMPO_PROPERTY_SEED picks another
 * seed (the summary prints the one used). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <tempo/trigger.h>

#include "cron_model.h"
#include "cron_scan.h"
#include "test_support.h"
#include "trigger/cron.h"
#include "tz/tz.h"

#define BASE_CASES 12000
#define FIRES 6
#define SCAN_STEPS 400000
#define SHOW_MAX 10
/* Wrapped calls (span lookups + wall searches) one next() may make. The
 * trigger finds the next matching wall time first and only then asks the zone
 * about the spans around it, so a handful of calls suffice however far away
 * the fire is (the most seen: 10). Walking offset spans one by one, two a year
 * in a DST zone, would blow this at once: that was a real regression, a "never"
 * answer that visited 8192 spans (600 us) before giving up. */
#define MAX_CALLS_PER_NEXT 64

static const char *const ZONES[] = {
    "America/New_York", "Europe/Berlin",  "America/Sao_Paulo", "Australia/Lord_Howe",
    "Pacific/Chatham",  "Europe/Dublin",  "Africa/Casablanca", "America/Santiago",
    "UTC",              "Asia/Kolkata",
};
#define NZONES (sizeof ZONES / sizeof ZONES[0])

/* ---- counting the work next() does ---- */

static long g_calls;
static bool g_counting;

void __real_tempo__zone_span(const tempo_zone_t *zone, int64_t t, tempo__tz_span_t *out);
void __wrap_tempo__zone_span(const tempo_zone_t *zone, int64_t t, tempo__tz_span_t *out);
int64_t __real_tempo__cron_next_wall(const tempo__cron_spec_t *spec, int64_t from, int64_t until);
int64_t __wrap_tempo__cron_next_wall(const tempo__cron_spec_t *spec, int64_t from, int64_t until);

void __wrap_tempo__zone_span(const tempo_zone_t *zone, int64_t t, tempo__tz_span_t *out)
{
    g_calls += g_counting;
    __real_tempo__zone_span(zone, t, out);
}

int64_t __wrap_tempo__cron_next_wall(const tempo__cron_spec_t *spec, int64_t from, int64_t until)
{
    g_calls += g_counting;
    return __real_tempo__cron_next_wall(spec, from, until);
}

static tempo_time_t counted_next(const tempo_trigger_t *t, tempo_time_t after, long *calls)
{
    g_calls = 0;
    g_counting = true;
    tempo_time_t r = tempo_trigger_next(t, after);
    g_counting = false;
    *calls = g_calls;
    return r;
}

/* ---- cases ---- */

typedef struct stats {
    long cases, fires, mismatches, never, horizon, skip_policy, refused;
    long gaps, gap_fires, fold_repeats, fold_skips;
    long not_after;             /* answers <= their input */
    long max_calls, total_calls, nexts, over_budget;
    char worst[MODEL_TEXT_MAX + 64]; /* the expression behind max_calls */
} stats_t;

static stats_t g_stats;

static double env_scale(void)
{
    const char *s = getenv("TEMPO_PROPERTY_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

static int64_t utc_seconds(int year)
{
    return tempo_test_utc(year == 1950 ? "1950-01-01T00:00:00Z" : "2150-01-01T00:00:00Z") /
           TEMPO_USEC_PER_SEC;
}

/* A start instant: uniform in 1950..2150, or half the time within six hours
 * before the zone's next offset change (found with to_civil alone). */
static tempo_time_t random_start(model_rng_t *r, const tempo_zone_t *z)
{
    int64_t lo = utc_seconds(1950), hi = utc_seconds(2150);
    int64_t t = lo + (int64_t)(model_rng_next(r) % (uint64_t)(hi - lo));
    if (model_rnd(r, 2)) {
        tempo_civil_t c;
        tempo_zone_to_civil(z, t * TEMPO_USEC_PER_SEC, &c, NULL);
        int32_t off = c.utc_offset;
        for (int i = 0; i < 400; i++) {
            int64_t next = t + 86400;
            tempo_zone_to_civil(z, next * TEMPO_USEC_PER_SEC, &c, NULL);
            if (c.utc_offset != off) {
                int64_t lo2 = t, hi2 = next; /* offset(lo2) == off != offset(hi2) */
                while (hi2 - lo2 > 1) {
                    int64_t mid = lo2 + (hi2 - lo2) / 2;
                    tempo_zone_to_civil(z, mid * TEMPO_USEC_PER_SEC, &c, NULL);
                    *(c.utc_offset == off ? &lo2 : &hi2) = mid;
                }
                t = hi2 - model_rnd(r, 6 * 3600);
                break;
            }
            t = next;
        }
    }
    int64_t usec = model_rnd(r, 4) == 0 ? model_rnd(r, 1000000) : 0;
    return t * TEMPO_USEC_PER_SEC + usec;
}

static void show(const char *label, tempo_time_t t, const tempo_zone_t *z)
{
    char local[48], utc[48];
    if (t == TEMPO_TIME_NONE) {
        fprintf(stderr, "    %-8s never\n", label);
        return;
    }
    tempo_time_format(t, z, local, sizeof local);
    tempo_time_format(t, tempo_zone_utc(), utc, sizeof utc);
    fprintf(stderr, "    %-8s %s  (%s)\n", label, local, utc);
}

static void mismatch(stats_t *st, const cron_model_t *m, const char *zone, const tempo_zone_t *z,
                     bool skip, tempo_time_t after, int i, tempo_time_t from, tempo_time_t want,
                     tempo_time_t got, const char *what)
{
    if (++st->mismatches > SHOW_MAX)
        return;
    fprintf(stderr, "MISMATCH (%s): %s '%s' zone %s dst_gap %s\n", what,
            m->named ? "fields" : "crontab", m->text, zone, skip ? "SKIP" : "SHIFT");
    show("start", after, z);
    fprintf(stderr, "    fire #%d after\n", i + 1);
    show("from", from, z);
    show("expected", want, z);
    show("tempo", got, z);
}

static tempo_trigger_t *make_trigger(stats_t *st, const cron_model_t *m, const char *zone,
                                     bool skip)
{
    tempo_cron_options_t opts = TEMPO_CRON_OPTIONS_INIT;
    opts.zone = zone;
    opts.dst_gap = skip ? TEMPO_DST_GAP_SKIP : TEMPO_DST_GAP_SHIFT;
    tempo_trigger_t *t = NULL;
    tempo_error_t err = {0};
    tempo_status_t rc = m->named ? tempo_trigger_cron_fields_new(m->text, &opts, &t, &err)
                                 : tempo_trigger_cron_new(m->text, &opts, &t, &err);
    if (rc != TEMPO_OK) {
        if (++st->refused <= SHOW_MAX)
            fprintf(stderr, "REFUSED %s '%s': %s\n", m->named ? "fields" : "crontab", m->text,
                    err.message);
        return NULL;
    }
    return t;
}

static void run_case(stats_t *st, model_rng_t *r, long steps)
{
    cron_model_t m;
    model_generate(r, &m);
    const char *zone = ZONES[model_rnd(r, NZONES)];
    const tempo_zone_t *z;
    assert_int_equal(tempo_zone_get(zone, &z, NULL), TEMPO_OK);
    bool skip = model_rnd(r, 5) == 0;
    tempo_time_t after = random_start(r, z);
    st->cases++;
    st->skip_policy += skip;

    tempo_trigger_t *trig = make_trigger(st, &m, zone, skip);
    if (!trig)
        return;
    scan_result_t want;
    scan_fires(&m, z, skip, after, FIRES, steps, &want);
    st->gaps += want.gaps;
    st->gap_fires += want.gap_fires;
    st->fold_repeats += want.fold_repeats;
    st->fold_skips += want.fold_skips;
    st->never += want.never;
    st->horizon += want.horizon != 0;

    tempo_time_t t = after;
    for (int i = 0; i <= want.n; i++) {
        long calls;
        tempo_time_t got = counted_next(trig, t, &calls);
        st->nexts++;
        st->total_calls += calls;
        if (calls > st->max_calls) {
            st->max_calls = calls;
            snprintf(st->worst, sizeof st->worst, "'%s' in %s", m.text, zone);
        }
        if (calls > MAX_CALLS_PER_NEXT && ++st->over_budget <= SHOW_MAX) {
            char buf[48];
            tempo_time_format(t, z, buf, sizeof buf);
            fprintf(stderr, "TOO MUCH WORK: %ld wrapped calls in one next(%s) of %s '%s' in %s\n",
                    calls, buf, m.named ? "fields" : "crontab", m.text, zone);
        }
        if (got != TEMPO_TIME_NONE && got <= t) {
            st->not_after++;
            mismatch(st, &m, zone, z, skip, after, i, t, i < want.n ? want.fires[i] : got, got,
                     "not strictly after its input");
            break;
        }
        if (i < want.n) {
            if (got != want.fires[i]) {
                mismatch(st, &m, zone, z, skip, after, i, t, want.fires[i], got, "fire time");
                break;
            }
            st->fires++;
            t = got;
            continue;
        }
        /* Past the scanned fires: "never" must be never; after a budget stop
         * nothing may fire before the scanner's horizon. */
        if (want.never && got != TEMPO_TIME_NONE)
            mismatch(st, &m, zone, z, skip, after, i, t, TEMPO_TIME_NONE, got, "never");
        if (want.horizon && got != TEMPO_TIME_NONE && got < want.horizon)
            mismatch(st, &m, zone, z, skip, after, i, t, want.horizon, got,
                     "fire before the scanner's horizon");
    }
    tempo_trigger_free(trig);
}

/* All cases run once, in the group setup; the tests below each judge one
 * property of the results, so a failure says which property broke. */
static int run_all(void **state)
{
    (void)state;
    uint64_t seed = UINT64_C(0x7e3d0c0ffee);
    const char *s = getenv("TEMPO_PROPERTY_SEED");
    if (s)
        seed = strtoull(s, NULL, 0);
    long cases = (long)(BASE_CASES * env_scale());
    model_rng_t r;
    model_rng_seed(&r, seed);
    stats_t *st = &g_stats;
    for (long i = 0; i < cases; i++)
        run_case(st, &r, SCAN_STEPS);

    printf("property: seed %#" PRIx64 ", %ld cases (%ld with dst_gap SKIP), %ld fire times "
           "checked, %ld mismatches, %ld refused\n",
           seed, st->cases, st->skip_policy, st->fires, st->mismatches, st->refused);
    printf("property: DST seen by the scanner: %ld gaps crossed, %ld SHIFT fires at a gap's end, "
           "%ld folded times fired twice, %ld folded times fired once; %ld cases never fire "
           "again, %ld hit the scan budget\n",
           st->gaps, st->gap_fires, st->fold_repeats, st->fold_skips, st->never, st->horizon);
    printf("property: work per next(): max %ld wrapped calls (%s), mean %.2f over %ld calls, "
           "%ld over %d\n",
           st->max_calls, st->worst, st->nexts ? (double)st->total_calls / (double)st->nexts : 0.0,
           st->nexts, st->over_budget, MAX_CALLS_PER_NEXT);
    return 0;
}

static void test_fire_times_match_scanner(void **state)
{
    (void)state;
    assert_int_equal(g_stats.refused, 0);
    assert_int_equal(g_stats.mismatches, 0);
    /* The cases must have reached far enough to mean something. */
    assert_true(g_stats.fires > 3 * g_stats.cases);
}

static void test_dst_paths_exercised(void **state)
{
    (void)state;
    assert_true(g_stats.gap_fires > 0);
    assert_true(g_stats.fold_repeats > 0);
    assert_true(g_stats.fold_skips > 0);
    assert_true(g_stats.skip_policy > 0);
}

static void test_next_strictly_after(void **state)
{
    (void)state;
    assert_int_equal(g_stats.not_after, 0);
}

static void test_next_work_bounded(void **state)
{
    (void)state;
    assert_true(g_stats.nexts > 0);
    assert_int_equal(g_stats.over_budget, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fire_times_match_scanner),
        cmocka_unit_test(test_dst_paths_exercised),
        cmocka_unit_test(test_next_strictly_after),
        cmocka_unit_test(test_next_work_bounded),
    };
    return cmocka_run_group_tests_name("cron_property", tests, run_all, NULL);
}
