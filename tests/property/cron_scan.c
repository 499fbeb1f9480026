/* Brute-force scanner; see cron_scan.h.
 *
 * The walk visits real instants in whole seconds. From an instant whose wall
 * clock cannot match it jumps ahead by wall-clock arithmetic (to the next
 * minute, hour, day, or at most 7 days when the month or year is wrong). A
 * jump is only trusted when the UTC offset is the same at both ends: if it
 * changed, a bisection finds the transition and the walk resumes there, so no
 * instant after a transition is ever skipped on the strength of the old
 * offset. That relies on no zone changing its offset twice within 7 days
 * (true of every zone the test uses since 1950).
 *
 * The DST policy, straight from DESIGN.md §3:
 *  - every real instant whose wall time matches fires, except that with fixed
 *    hours (not '*', not stepped) a wall time that occurs twice (a fold) fires
 *    only at its first occurrence;
 *  - wall times inside a gap never occur; with fixed hours and the SHIFT
 *    policy, if any of them matches, the transition instant (the first after
 *    the gap) fires, once however many matched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cron_scan.h"

#include <string.h>

#define DAY 86400

static void civil_at(const tempo_zone_t *z, int64_t sec, tempo_civil_t *c)
{
    tempo_error_t err;
    if (tempo_zone_to_civil(z, sec * TEMPO_USEC_PER_SEC, c, &err) != TEMPO_OK)
        fail_msg("tempo_zone_to_civil(%s, %lld s): %s", tempo_zone_name(z), (long long)sec,
                 err.message);
}

static model_date_t date_of(const tempo_civil_t *c)
{
    model_date_t d = {c->year, c->month, c->day, c->wday, c->yday};
    return d;
}

static bool time_ok(const cron_model_t *m, const tempo_civil_t *c)
{
    return m->hour[c->hour] && m->min[c->minute] && m->sec[c->second];
}

/* Seconds to skip from wall time c because nothing before then can match, or
 * 0 when c matches. */
static int64_t skip_from(const cron_model_t *m, const tempo_civil_t *c)
{
    int64_t into_day = c->hour * 3600 + c->minute * 60 + c->second;
    model_date_t d = date_of(c);
    int64_t days = 0;
    if (!model_year_ok(m, c->year))
        days = (model_is_leap(c->year) ? 366 : 365) - c->yday;
    else if (!m->month[c->month])
        days = model_days_in_month(c->year, c->month) - c->day + 1;
    else if (!model_date_ok(m, &d))
        days = 1;
    if (days)
        return (days < 7 ? days : 7) * DAY - into_day;
    if (!m->hour[c->hour])
        return 3600 - (c->minute * 60 + c->second);
    if (!m->min[c->minute])
        return 60 - c->second;
    if (!m->sec[c->second]) {
        for (int s = c->second + 1; s < 60; s++)
            if (m->sec[s])
                return s - c->second;
        return 60 - c->second;
    }
    return 0;
}

/* The first instant in (lo, hi] whose offset differs from lo's. */
static int64_t find_transition(const tempo_zone_t *z, int64_t lo, int32_t lo_off, int64_t hi)
{
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        tempo_civil_t c;
        civil_at(z, mid, &c);
        if (c.utc_offset == lo_off)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* One wall second later, carrying by hand (the test's own calendar). */
static void tick(tempo_civil_t *c)
{
    if (++c->second < 60)
        return;
    c->second = 0;
    if (++c->minute < 60)
        return;
    c->minute = 0;
    if (++c->hour < 24)
        return;
    c->hour = 0;
    c->wday = (c->wday + 1) % 7;
    c->yday++;
    if (++c->day <= model_days_in_month(c->year, c->month))
        return;
    c->day = 1;
    if (++c->month <= 12)
        return;
    c->month = 1;
    c->year++;
    c->yday = 0;
}

/* Does any wall time in the gap before transition T (offset before: from,
 * after: to) match? The gap's wall times run from T + from to T + to. */
static bool gap_matches(const cron_model_t *m, const tempo_zone_t *z, int64_t T, int32_t from,
                        int32_t to)
{
    tempo_civil_t c;
    civil_at(z, T - 1, &c); /* wall T - 1 + from: the second before the gap */
    for (int64_t w = 0; w < (int64_t)(to - from); w++) {
        tick(&c);
        model_date_t d = date_of(&c);
        if (model_date_ok(m, &d) && time_ok(m, &c))
            return true;
    }
    return false;
}

/* Fixed hours fire a folded wall time at its first occurrence only. Also
 * checks from_civil against to_civil while at it. */
static bool first_occurrence(const tempo_zone_t *z, const tempo_civil_t *c, int64_t sec)
{
    tempo_local_t loc;
    tempo_error_t err;
    tempo_time_t t = sec * TEMPO_USEC_PER_SEC;
    if (tempo_zone_from_civil(z, c, &loc, &err) != TEMPO_OK)
        fail_msg("tempo_zone_from_civil(%s): %s", tempo_zone_name(z), err.message);
    if (loc.kind == TEMPO_LOCAL_FOLD) {
        if (t != loc.earlier && t != loc.later)
            fail_msg("%s: instant %lld s reads as a folded wall time it is not part of",
                     tempo_zone_name(z), (long long)sec);
        return t == loc.earlier;
    }
    if (loc.kind != TEMPO_LOCAL_UNIQUE || loc.earlier != t)
        fail_msg("%s: instant %lld s: to_civil and from_civil disagree (kind %d)",
                 tempo_zone_name(z), (long long)sec, (int)loc.kind);
    return true;
}

static void add_fire(scan_result_t *out, int64_t sec)
{
    tempo_time_t t = sec * TEMPO_USEC_PER_SEC;
    if (out->n > 0 && out->fires[out->n - 1] >= t)
        return; /* a gap's fire and a match at the same instant fire once */
    out->fires[out->n++] = t;
}

void scan_fires(const cron_model_t *m, const tempo_zone_t *z, bool skip, tempo_time_t after,
                int want, long max_steps, scan_result_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t t = after / TEMPO_USEC_PER_SEC;
    if (after % TEMPO_USEC_PER_SEC < 0)
        t--;
    t++; /* the first whole second strictly after `after` */

    /* The instant before the first one examined: a transition exactly at t
     * is seen (its gap fire would be > after), one before it is not. */
    tempo_civil_t c;
    int64_t prev = t - 1;
    civil_at(z, prev, &c);
    int32_t prev_off = c.utc_offset;

    while (out->n < want) {
        if (out->steps++ >= max_steps) {
            out->horizon = t * TEMPO_USEC_PER_SEC;
            return;
        }
        civil_at(z, t, &c);
        if (c.utc_offset != prev_off) {
            int64_t T = find_transition(z, prev, prev_off, t);
            if (T != t) {
                t = T;
                civil_at(z, t, &c);
            }
            if (c.utc_offset > prev_off) {
                out->gaps++;
                if (!skip && !m->follow_real && gap_matches(m, z, T, prev_off, c.utc_offset)) {
                    add_fire(out, T);
                    out->gap_fires++;
                    if (out->n == want)
                        return;
                }
            }
        }
        prev = t;
        prev_off = c.utc_offset;
        if (c.year > MODEL_YEAR_MAX) {
            out->never = true;
            return;
        }
        int64_t jump = skip_from(m, &c);
        if (jump > 0) {
            t += jump;
            continue;
        }
        bool first = first_occurrence(z, &c, t);
        if (m->follow_real) {
            out->fold_repeats += !first;
            add_fire(out, t);
        } else if (first) {
            add_fire(out, t);
        } else {
            out->fold_skips++;
        }
        t++;
    }
}
