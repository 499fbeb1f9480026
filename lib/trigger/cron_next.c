/* Cron evaluation on the wall-clock calendar (no zone here).
 *
 * tempo__cron_next_wall() is the classic "odometer" search: find the first
 * year, then month, then day, hour, minute, second at or after the start that
 * the spec allows, carrying into the next larger unit whenever a unit has no
 * allowed value left. Each unit is a bitmask, so every step is one bit scan;
 * a whole month with no matching day costs one mask computation. That keeps a
 * typical next() in the tens of nanoseconds and makes the worst case bounded:
 * at most 12 months x (YEAR_MAX - YEAR_MIN + 1) years of month steps, and the
 * parser has already answered "never" for expressions that cannot match at all.
 *
 * Wall seconds are civil times read as if UTC (util/civil.h). The DST policy
 * that maps them to instants lives in cron_trigger.c. */
#include "cron.h"

#include "util/civil.h"

/* First set bit at or above `from`, or -1. */
static inline int next_bit64(uint64_t mask, int from)
{
    if (from >= 64)
        return -1;
    uint64_t x = mask & (~UINT64_C(0) << from);
    return x ? __builtin_ctzll(x) : -1;
}

static inline int next_bit32(uint32_t mask, int from)
{
    if (from >= 32)
        return -1;
    uint32_t x = mask & (~UINT32_C(0) << from);
    return x ? __builtin_ctz(x) : -1;
}

/* The first year >= y allowed by the year field, or -1. */
static int64_t next_year(const tempo__cron_spec_t *spec, int64_t y)
{
    if (y < TEMPO__CRON_YEAR_MIN)
        y = TEMPO__CRON_YEAR_MIN;
    if (y > TEMPO__CRON_YEAR_MAX)
        return -1;
    int64_t b = y - TEMPO__CRON_YEAR_MIN;
    for (int64_t w = b / 64; w < TEMPO__CRON_YEAR_WORDS; w++) {
        int bit = next_bit64(spec->years[w], w == b / 64 ? (int)(b % 64) : 0);
        if (bit >= 0) {
            int64_t year = TEMPO__CRON_YEAR_MIN + w * 64 + bit;
            return year <= TEMPO__CRON_YEAR_MAX ? year : -1;
        }
    }
    return -1;
}

/* The day of the month a special names in this month, or 0 for none.
 * `first_wday` is the weekday of day 1, `ndays` the month's length. */
static int special_day(const tempo__cron_special_t *sp, int first_wday, int ndays)
{
    int last_wday = (first_wday + ndays - 1) % 7;
    switch (sp->kind) {
    case TEMPO__CRON_LAST_DAY:
        return ndays - sp->arg >= 1 ? ndays - sp->arg : 0;
    case TEMPO__CRON_LAST_WEEKDAY:
        /* Saturday -> Friday, Sunday -> Friday. */
        return last_wday == 6 ? ndays - 1 : last_wday == 0 ? ndays - 2 : ndays;
    case TEMPO__CRON_NEAREST_WEEKDAY: {
        int d = sp->arg;
        if (d > ndays)
            return 0;
        int wd = (first_wday + d - 1) % 7;
        /* Quartz rule, kept inside the month: a Saturday moves back to Friday
         * unless that leaves the month (then forward to Monday); a Sunday moves
         * forward to Monday unless that leaves the month (then back to Friday). */
        if (wd == 6)
            return d == 1 ? 3 : d - 1;
        if (wd == 0)
            return d == ndays ? d - 2 : d + 1;
        return d;
    }
    case TEMPO__CRON_NTH_DOW: {
        int d = 1 + (sp->dow - first_wday + 7) % 7 + 7 * (sp->arg - 1);
        return d <= ndays ? d : 0;
    }
    case TEMPO__CRON_LAST_DOW:
        return ndays - (last_wday - sp->dow + 7) % 7;
    }
    return 0;
}

static uint32_t specials_mask(const tempo__cron_special_t *sp, int n, int first_wday, int ndays)
{
    uint32_t mask = 0;
    for (int i = 0; i < n; i++) {
        int d = special_day(&sp[i], first_wday, ndays);
        if (d > 0)
            mask |= UINT32_C(1) << d;
    }
    return mask;
}

/* Keep only the days whose ISO week is allowed. ISO weeks change on Mondays,
 * so the week number is recomputed only there (and once for day 1). */
static uint32_t filter_weeks(const tempo__cron_spec_t *spec, uint32_t mask, int64_t day1,
                             int first_wday, int ndays)
{
    uint32_t out = 0;
    int week = tempo__iso_week(day1);
    for (int d = 1; d <= ndays; d++) {
        if (d > 1 && (first_wday + d - 1) % 7 == 1)
            week = tempo__iso_week(day1 + d - 1);
        if (((mask >> d) & 1) && ((spec->weeks >> week) & 1))
            out |= UINT32_C(1) << d;
    }
    return out;
}

uint32_t tempo__cron_month_days(const tempo__cron_spec_t *spec, int64_t year, int month)
{
    int ndays = tempo__days_in_month(year, month);
    uint32_t valid = ((UINT32_C(1) << ndays) - 1) << 1; /* bits 1..ndays */
    int64_t day1 = tempo__days_from_civil(year, month, 1);
    int first_wday = tempo__weekday(day1);

    uint32_t by_day = ~UINT32_C(0), by_dow = ~UINT32_C(0);
    if (spec->day_restricted)
        by_day = spec->days |
                 specials_mask(spec->day_specials, spec->n_day_specials, first_wday, ndays);
    if (spec->dow_restricted)
        by_dow = spec->dow_month_mask[first_wday] |
                 specials_mask(spec->dow_specials, spec->n_dow_specials, first_wday, ndays);

    /* POSIX crontab: when both are restricted, either may match. An
     * unrestricted field is all ones, so AND covers every other case. */
    uint32_t mask = (spec->day_or_dow ? (by_day | by_dow) : (by_day & by_dow)) & valid;
    if (spec->week_restricted && mask)
        mask = filter_weeks(spec, mask, day1, first_wday, ndays);
    return mask;
}

/* Far more than any real search needs (the calendar walk is bounded by
 * months x years); a last line of defence against a spec bug looping. */
#define MAX_STEPS 100000

int64_t tempo__cron_next_wall(const tempo__cron_spec_t *spec, int64_t from, int64_t until)
{
    if (!spec->possible || from >= until)
        return INT64_MAX;

    int64_t days = tempo__floor_div(from, 86400);
    int sod = (int)(from - days * 86400);
    int64_t y;
    int m, d;
    tempo__civil_from_days(days, &y, &m, &d);
    int H = sod / 3600, M = sod / 60 % 60, S = sod % 60;

    for (int step = 0; step < MAX_STEPS; step++) {
        if (!tempo__cron_year_ok(spec, y)) {
            int64_t ny = next_year(spec, y + 1 > TEMPO__CRON_YEAR_MIN ? y + 1 : TEMPO__CRON_YEAR_MIN);
            if (ny < 0)
                return INT64_MAX;
            y = ny, m = 1, d = 1, H = M = S = 0;
        }
        int nm = next_bit32(spec->months, m);
        if (nm < 0) {
            y++, m = 1, d = 1, H = M = S = 0;
            continue;
        }
        if (nm != m)
            m = nm, d = 1, H = M = S = 0;

        int nd = next_bit32(tempo__cron_month_days(spec, y, m), d);
        if (nd < 0) {
            if (++m > 12)
                y++, m = 1;
            d = 1, H = M = S = 0;
            if (tempo__days_from_civil(y, m, 1) * 86400 >= until)
                return INT64_MAX;
            continue;
        }
        if (nd != d)
            d = nd, H = M = S = 0;
        int64_t day_start = tempo__days_from_civil(y, m, d) * 86400;
        if (day_start >= until)
            return INT64_MAX;

        int nh = next_bit32(spec->hours, H);
        if (nh < 0) {
            d++, H = M = S = 0; /* past the month's end: the day scan carries */
            continue;
        }
        if (nh != H)
            H = nh, M = S = 0;
        int nmin = next_bit64(spec->minutes, M);
        if (nmin < 0) {
            H++, M = S = 0;
            continue;
        }
        if (nmin != M)
            M = nmin, S = 0;
        int ns = next_bit64(spec->seconds, S);
        if (ns < 0) {
            M++, S = 0;
            continue;
        }
        int64_t wall = day_start + H * 3600 + M * 60 + ns;
        return wall < until ? wall : INT64_MAX;
    }
    return INT64_MAX;
}
