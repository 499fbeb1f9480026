/* Evaluating POSIX TZ rules: the instants DST starts and ends in a year, and
 * the span of constant offset holding any instant.
 *
 * A rule's start is written in local standard time and its end in local
 * daylight time (POSIX), so start_utc = wall - std_offset and end_utc =
 * wall - dst_offset. Both may fall outside their year: the v3 extension allows
 * times from -167 h to +167 h, and "J365/25" ends on the next January 1.
 *
 * The key invariant, checked once per zone by tempo__tz_rule_prepare(): the
 * transitions strictly alternate, start, end, start, end... (or end first, in
 * the southern hemisphere and for negative DST as in Europe/Dublin). Rule
 * dates repeat every 400 years (146097 days is a whole number of weeks), so
 * checking one Gregorian cycle proves it for every year. */
#include "util/civil.h"
#include "zone_internal.h"

/* Local day number of a rule date in `year`. */
static int64_t date_day(const tempo__tz_date_t *d, int64_t year)
{
    if (d->kind == TEMPO__TZ_DATE_MONTH) {
        int64_t first = tempo__days_from_civil(year, d->month, 1);
        int64_t day = first + (d->wday - tempo__weekday(first) + 7) % 7 + 7 * (d->week - 1);
        int64_t past = first + tempo__days_in_month(year, d->month);
        while (day >= past) /* week 5 means "the last": step back at most once */
            day -= 7;
        return day;
    }
    int64_t jan1 = tempo__days_from_civil(year, 1, 1);
    if (d->kind == TEMPO__TZ_DATE_JULIAN) /* J60 is March 1 in every year */
        return jan1 + d->day - 1 + (d->day >= 60 && tempo__is_leap(year));
    return jan1 + d->day;
}

static int64_t start_utc(const tempo__tz_rule_t *r, int64_t year)
{
    return date_day(&r->start, year) * 86400 + r->start.time - r->std_offset;
}

static int64_t end_utc(const tempo__tz_rule_t *r, int64_t year)
{
    return date_day(&r->end, year) * 86400 + r->end.time - r->dst_offset;
}

void tempo__tz_rule_year(const tempo__tz_rule_t *r, int64_t year, int64_t ev[2])
{
    int64_t s = start_utc(r, year), e = end_utc(r, year);
    ev[0] = r->start_first ? s : e;
    ev[1] = r->start_first ? e : s;
}

static void set_fixed(tempo__tz_rule_t *r, tempo__tz_state_t state)
{
    r->kind = TEMPO__TZ_RULE_FIXED;
    r->fixed = state;
}

/* The years checked: any 400 consecutive ones (plus the next, for the chain). */
#define CYCLE_FIRST 2000
#define CYCLE_LAST (CYCLE_FIRST + 400)

bool tempo__tz_rule_prepare(tempo__tz_rule_t *r, const char **why)
{
    r->std = (tempo__tz_state_t){r->std_offset, 0};
    r->dst = (tempo__tz_state_t){r->dst_offset, 1};
    if (!r->has_dst) {
        set_fixed(r, r->std);
        return true;
    }
    /* DST that does not move the clock only flips a flag nothing in a
     * schedule depends on; no real zone does this after its table ends. */
    if (r->std_offset == r->dst_offset) {
        set_fixed(r, r->std);
        return true;
    }
    /* RFC 8536 §3.3.1: DST all year is written as a rule whose end meets the
     * next year's start ("EST5EDT,0/0,J365/25"). */
    bool permanent = true;
    for (int64_t y = CYCLE_FIRST; y < CYCLE_LAST && permanent; y++)
        permanent = end_utc(r, y) == start_utc(r, y + 1);
    if (permanent) {
        set_fixed(r, r->dst);
        return true;
    }
    r->kind = TEMPO__TZ_RULE_ALTERNATING;
    r->start_first = start_utc(r, CYCLE_FIRST) < end_utc(r, CYCLE_FIRST);
    int64_t ev[2], next[2];
    tempo__tz_rule_year(r, CYCLE_FIRST, ev);
    for (int64_t y = CYCLE_FIRST; y <= CYCLE_LAST; y++) {
        tempo__tz_rule_year(r, y + 1, next);
        if (!(ev[0] < ev[1] && ev[1] < next[0])) {
            *why = "the DST start and end dates do not alternate (they overlap or coincide "
                   "in some year)";
            return false;
        }
        ev[0] = next[0];
        ev[1] = next[1];
    }
    return true;
}

static void fill(const tempo__tz_rule_t *r, int64_t start, int64_t end, bool after_first,
                 tempo__tz_span_t *span, tempo__tz_state_t *state)
{
    tempo__tz_state_t now = after_first ? tempo__tz_rule_first_state(r)
                                        : tempo__tz_rule_second_state(r);
    tempo__tz_state_t before = after_first ? tempo__tz_rule_second_state(r)
                                           : tempo__tz_rule_first_state(r);
    span->start = start;
    span->end = end;
    span->offset = now.offset;
    span->prev_offset = before.offset;
    if (state)
        *state = now;
}

/* General case: a year's transitions lie within ten days of that year (dates
 * in it, times within ±167 h, offsets within ±26 h), so those of year y-2 are
 * all before any instant of UTC year y and those of y+2 all after it: the ten
 * transitions of y-2..y+2 surely bracket t. */
static void span_general(const tempo__tz_rule_t *r, int64_t t, int64_t y, tempo__tz_span_t *span,
                         tempo__tz_state_t *state)
{
    int64_t ev[10];
    for (int k = 0; k < 5; k++)
        tempo__tz_rule_year(r, y - 2 + k, ev + 2 * k);
    int i = 1; /* ev[1] <= t < ev[9] */
    while (ev[i + 1] <= t)
        i++;
    fill(r, ev[i], ev[i + 1], i % 2 == 0, span, state);
}

void tempo__tz_rule_span(const tempo__tz_rule_t *r, int64_t t, tempo__tz_span_t *span,
                         tempo__tz_state_t *state)
{
    int64_t tc = t < -TEMPO__TZ_SEC_LIMIT ? -TEMPO__TZ_SEC_LIMIT
                 : t > TEMPO__TZ_SEC_LIMIT ? TEMPO__TZ_SEC_LIMIT
                                           : t;
    int64_t y;
    int m, d;
    tempo__civil_from_days(tempo__floor_div(tc, 86400), &y, &m, &d);

    /* Fast path: real rules sit well inside their year, so this year's two
     * transitions and one neighbour's bracket t. */
    int64_t a[2], b[2];
    tempo__tz_rule_year(r, y, a);
    if (tc >= a[0] && tc < a[1]) {
        fill(r, a[0], a[1], true, span, state);
    } else if (tc < a[0] && (tempo__tz_rule_year(r, y - 1, b), b[1] <= tc)) {
        fill(r, b[1], a[0], false, span, state);
    } else if (tc >= a[1] && (tempo__tz_rule_year(r, y + 1, b), tc < b[0])) {
        fill(r, a[1], b[0], false, span, state);
    } else {
        span_general(r, tc, y, span, state);
    }
    /* Clamped: the offset is frozen for ever beyond the limit. */
    if (t > TEMPO__TZ_SEC_LIMIT)
        span->end = INT64_MAX;
    if (t < -TEMPO__TZ_SEC_LIMIT)
        span->start = INT64_MIN;
}
