/* The calendar-interval trigger: every N years/months/weeks/days at a fixed
 * wall-clock time of day in a zone (APScheduler 4's CalendarIntervalTrigger,
 * with tempo's DST policy for fixed times).
 *
 * The candidate dates are a pure function of the options: c0 = start date;
 * c(n+1) = c(n) plus years+months keeping c(n)'s day of month (a date that
 * does not exist, Feb 31, is skipped: keep adding the month step from that
 * month with the same day), then plus weeks*7+days days. Each candidate at
 * hour:minute:second in the zone gives an instant by wall.h's fixed-time
 * policy (a gap time fires at the gap's end, or the date is dropped with SKIP;
 * a fold time fires at its first occurrence).
 *
 * next(after) never remembers anything: it seeks the first candidate dated on
 * or after after's local date (O(1) for pure day/week steps and for pure
 * year/month steps; a walk from the start date when both kinds are mixed) and
 * walks forward to the first instant > after. Walks stop at the end of
 * TEMPO__CAL_YEAR_MAX, so none is unbounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "text.h"
#include "trigger_internal.h"
#include "util/civil.h"
#include "util/error_internal.h"
#include "util/options.h"
#include "wall.h"

/* Same span of years as cron (cron.h). */
#define TEMPO__CAL_YEAR_MIN 1900
#define TEMPO__CAL_YEAR_MAX 2999

typedef struct calendar_trigger {
    struct tempo_trigger base;
    int years, months, weeks, days;
    int hour, minute, second;
    int32_t start_year;
    int start_month, start_day;
    int64_t month_step; /* years * 12 + months */
    int64_t day_step;   /* weeks * 7 + days */
    int64_t start_dn;   /* day number of the start date */
    tempo_time_t end;
    const tempo_zone_t *zone;
    tempo_dst_gap_t dst_gap;
} calendar_trigger_t;

/* A candidate date. While seeking with a month step it may name a day the
 * month does not have (Feb 31); candidates handed to the zone always exist. */
typedef struct cdate {
    int64_t y;
    int m, d;
} cdate_t;

static int64_t ceil_div(int64_t a, int64_t b) /* a >= 0, b > 0 */
{
    return a / b + (a % b != 0);
}

static bool exists(const cdate_t *cd)
{
    return cd->d <= tempo__days_in_month(cd->y, cd->m);
}

static int64_t day_number(const cdate_t *cd)
{
    return tempo__days_from_civil(cd->y, cd->m, cd->d);
}

static void set_month_index(cdate_t *cd, int64_t mi)
{
    cd->y = mi / 12; /* mi >= 0: years start at TEMPO__CAL_YEAR_MIN */
    cd->m = (int)(mi % 12) + 1;
}

/* Add the month step until the day exists, keeping the day of month. The
 * months reached repeat within 12 steps (and the starting month has the day,
 * save Feb 29, which recurs within a few leap cycles); the year bound caps
 * every case. False when past TEMPO__CAL_YEAR_MAX. */
static bool step_months(const calendar_trigger_t *c, cdate_t *cd)
{
    int64_t mi = cd->y * 12 + (cd->m - 1);
    do {
        mi += c->month_step;
        if (mi / 12 > TEMPO__CAL_YEAR_MAX)
            return false;
        set_month_index(cd, mi);
    } while (!exists(cd));
    return true;
}

static bool step_days(const calendar_trigger_t *c, cdate_t *cd, int64_t n)
{
    tempo__civil_from_days(day_number(cd) + n * c->day_step, &cd->y, &cd->m, &cd->d);
    return cd->y <= TEMPO__CAL_YEAR_MAX;
}

/* c(n) -> c(n+1). Always moves forward at least one day. */
static bool step(const calendar_trigger_t *c, cdate_t *cd)
{
    if (c->month_step && !step_months(c, cd))
        return false;
    return !c->day_step || step_days(c, cd, 1);
}

static bool seek_days(const calendar_trigger_t *c, int64_t day, cdate_t *cd)
{
    *cd = (cdate_t){c->start_year, c->start_month, c->start_day};
    return step_days(c, cd, ceil_div(day - c->start_dn, c->day_step));
}

static bool seek_months(const calendar_trigger_t *c, int64_t day, cdate_t *cd)
{
    cdate_t target;
    tempo__civil_from_days(day, &target.y, &target.m, &target.d);
    int64_t from = (int64_t)c->start_year * 12 + (c->start_month - 1);
    int64_t to = target.y * 12 + (target.m - 1);
    int64_t mi = from + ceil_div(to > from ? to - from : 0, c->month_step) * c->month_step;
    if (mi / 12 > TEMPO__CAL_YEAR_MAX)
        return false;
    *cd = (cdate_t){0, 0, c->start_day};
    set_month_index(cd, mi);
    /* The first month reached may lack the day, or hold it before `day`. */
    while (!exists(cd) || day_number(cd) < day)
        if (!step_months(c, cd))
            return false;
    return true;
}

/* The first candidate dated on or after day number `day` (>= start). */
static bool seek(const calendar_trigger_t *c, int64_t day, cdate_t *cd)
{
    if (!c->month_step)
        return seek_days(c, day, cd);
    if (!c->day_step)
        return seek_months(c, day, cd);
    /* Mixed steps: the day of month drifts with every step, so there is no
     * closed form; walk from the start (at most ~13000 steps to year 2999). */
    *cd = (cdate_t){c->start_year, c->start_month, c->start_day};
    while (day_number(cd) < day)
        if (!step(c, cd))
            return false;
    return true;
}

/* The first day number whose candidates may fire after `after`: after's
 * local date. Candidates dated earlier have earlier wall times, and the
 * fixed-time mapping is non-decreasing, so they fire at or before `after`.
 * Returns false when `after` is past every candidate. */
static bool first_day(const calendar_trigger_t *c, tempo_time_t after, int64_t *day)
{
    /* Far from the calendar span, decide without the zone (offsets are well
     * under 2 days), which also keeps extreme instants away from it. */
    int64_t secs = tempo__floor_div(after, TEMPO_USEC_PER_SEC);
    if (secs < (c->start_dn - 2) * 86400) {
        *day = c->start_dn;
        return true;
    }
    if (secs > (tempo__days_from_civil(TEMPO__CAL_YEAR_MAX + 1, 1, 1) + 2) * 86400)
        return false;
    tempo_civil_t local;
    if (tempo_zone_to_civil(c->zone, after, &local, NULL) != TEMPO_OK)
        return false;
    int64_t d = tempo__days_from_civil(local.year, local.month, local.day);
    *day = d > c->start_dn ? d : c->start_dn;
    return true;
}

static tempo_time_t calendar_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const calendar_trigger_t *c = (const calendar_trigger_t *)t;
    if (c->end != TEMPO_TIME_NONE && after >= c->end)
        return TEMPO_TIME_NONE;
    int64_t day;
    cdate_t cd;
    if (!first_day(c, after, &day) || !seek(c, day, &cd))
        return TEMPO_TIME_NONE;
    /* Usually one or two rounds: the candidate on after's own date may be
     * earlier in the day, and SKIP drops dates whose time is in a gap.
     * step() fails past the last year, so the loop ends. */
    for (;;) {
        tempo_time_t at = tempo__wall_to_instant_fixed(c->zone, cd.y, cd.m, cd.d, c->hour, c->minute,
                                                       c->second, c->dst_gap);
        if (at != TEMPO_TIME_NONE && at > after)
            return c->end != TEMPO_TIME_NONE && at > c->end ? TEMPO_TIME_NONE : at;
        if (!step(c, &cd))
            return TEMPO_TIME_NONE;
    }
}

/* ---- describe ---- */

static void describe_steps(const calendar_trigger_t *c, tempo__text_t *text)
{
    const int counts[4] = {c->years, c->months, c->weeks, c->days};
    static const char *const one[4] = {"year", "month", "week", "day"};
    static const char *const many[4] = {"years", "months", "weeks", "days"};
    int parts = 0, done = 0;
    for (int i = 0; i < 4; i++)
        parts += counts[i] != 0;
    for (int i = 0; i < 4; i++) {
        if (!counts[i])
            continue;
        done++;
        if (done > 1)
            tempo__text_printf(text, done == parts ? " and " : ", ");
        if (counts[i] == 1 && parts == 1)
            tempo__text_printf(text, "%s", one[i]); /* "every month" */
        else
            tempo__text_printf(text, "%d %s", counts[i], counts[i] == 1 ? one[i] : many[i]);
    }
}

static int calendar_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    const calendar_trigger_t *c = (const calendar_trigger_t *)t;
    tempo__text_t text;
    tempo__text_init(&text, buf, size);
    tempo__text_printf(&text, "every ");
    describe_steps(c, &text);
    if (c->month_step && !c->day_step)
        tempo__text_printf(&text, " on day %d", c->start_day);
    tempo__text_printf(&text, " at %02d:%02d", c->hour, c->minute);
    if (c->second)
        tempo__text_printf(&text, ":%02d", c->second);
    tempo__text_printf(&text, " (%s), starting %04d-%02d-%02d", tempo_zone_name(c->zone),
                       (int)c->start_year, c->start_month, c->start_day);
    if (c->end != TEMPO_TIME_NONE) {
        tempo__text_printf(&text, " until ");
        tempo__text_time(&text, c->end, c->zone);
    }
    if (c->dst_gap == TEMPO_DST_GAP_SKIP)
        tempo__text_printf(&text, ", skipping days whose time falls in a DST gap");
    return tempo__text_result(&text);
}

/* ---- serialize ---- */

static tempo_status_t calendar_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const calendar_trigger_t *c = (const calendar_trigger_t *)t;
    char date[16];
    snprintf(date, sizeof date, "%04d-%02d-%02d", (int)c->start_year, c->start_month, c->start_day);
    bool ok = BSON_APPEND_INT32(doc, "years", c->years) && BSON_APPEND_INT32(doc, "months", c->months) &&
              BSON_APPEND_INT32(doc, "weeks", c->weeks) && BSON_APPEND_INT32(doc, "days", c->days) &&
              BSON_APPEND_INT32(doc, "hour", c->hour) && BSON_APPEND_INT32(doc, "minute", c->minute) &&
              BSON_APPEND_INT32(doc, "second", c->second) && BSON_APPEND_UTF8(doc, "start_date", date);
    if (ok && c->end != TEMPO_TIME_NONE)
        ok = BSON_APPEND_INT64(doc, "end", c->end);
    ok = ok && BSON_APPEND_UTF8(doc, "zone", tempo_zone_name(c->zone)) &&
         BSON_APPEND_UTF8(doc, "dst_gap", tempo__dst_gap_name(c->dst_gap));
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ERANGE, "trigger 'calendar': document too large");
}

static void calendar_destroy(tempo_trigger_t *t)
{
    free(t); /* the zone is shared and lives for the process */
}

static const tempo__trigger_ops_t calendar_ops = {
    .name = "calendar",
    .version = 1,
    .next = calendar_next,
    .serialize = calendar_serialize,
    .describe = calendar_describe,
    .destroy = calendar_destroy,
};

/* ---- construct ---- */

static tempo_status_t check_steps(const tempo_calendar_options_t *o, tempo_error_t *err)
{
    const int counts[4] = {o->years, o->months, o->weeks, o->days};
    static const char *const names[4] = {"years", "months", "weeks", "days"};
    for (int i = 0; i < 4; i++)
        if (counts[i] < 0)
            return tempo__error_set(err, TEMPO_EINVAL, "calendar: %s must be >= 0, got %d", names[i],
                                    counts[i]);
    if (!o->years && !o->months && !o->weeks && !o->days)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "calendar: years, months, weeks and days are all 0; set at least one");
    return TEMPO_OK;
}

static tempo_status_t check(const tempo_calendar_options_t *o, tempo_error_t *err)
{
    tempo_status_t rc = check_steps(o, err);
    if (rc != TEMPO_OK)
        return rc;
    if (o->hour < 0 || o->hour > 23 || o->minute < 0 || o->minute > 59 || o->second < 0 ||
        o->second > 59)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "calendar: time of day %02d:%02d:%02d is not valid (hour 0-23, "
                                "minute and second 0-59)",
                                o->hour, o->minute, o->second);
    if (o->start_year < TEMPO__CAL_YEAR_MIN || o->start_year > TEMPO__CAL_YEAR_MAX)
        return tempo__error_set(err, TEMPO_EINVAL, "calendar: start year %d is outside %d..%d",
                                (int)o->start_year, TEMPO__CAL_YEAR_MIN, TEMPO__CAL_YEAR_MAX);
    if (o->start_month < 1 || o->start_month > 12 || o->start_day < 1 ||
        o->start_day > tempo__days_in_month(o->start_year, o->start_month))
        return tempo__error_set(err, TEMPO_EINVAL, "calendar: start date %04d-%02d-%02d does not exist",
                                (int)o->start_year, o->start_month, o->start_day);
    if (o->dst_gap != TEMPO_DST_GAP_SHIFT && o->dst_gap != TEMPO_DST_GAP_SKIP)
        return tempo__error_set(err, TEMPO_EINVAL, "calendar: dst_gap %d is not a tempo_dst_gap_t",
                                (int)o->dst_gap);
    return TEMPO_OK;
}

tempo_status_t tempo_trigger_calendar_new(const tempo_calendar_options_t *opts_in,
                                          tempo_trigger_t **out, tempo_error_t *err)
{
    if (!opts_in || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "calendar: %s is NULL", opts_in ? "out" : "options");
    tempo_calendar_options_t o = TEMPO_CALENDAR_OPTIONS_INIT;
    const tempo_calendar_options_t *opts = &o;
    if (!tempo__options_copy(&o, sizeof o, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "calendar: options.size %zu is not a size this build knows (initialise "
                                "the options with TEMPO_CALENDAR_OPTIONS_INIT)",
                                opts_in->size);
    tempo_status_t rc = check(opts, err);
    if (rc != TEMPO_OK)
        return rc;
    const tempo_zone_t *zone;
    rc = tempo_zone_get(opts->zone ? opts->zone : "local", &zone, err);
    if (rc != TEMPO_OK) {
        return tempo__error_prefix(err, rc, "calendar");
    }
    calendar_trigger_t *c = malloc(sizeof *c);
    if (!c)
        return tempo__error_set(err, TEMPO_ENOMEM, "calendar: out of memory");
    tempo__trigger_init(&c->base, &calendar_ops);
    c->years = opts->years;
    c->months = opts->months;
    c->weeks = opts->weeks;
    c->days = opts->days;
    c->hour = opts->hour;
    c->minute = opts->minute;
    c->second = opts->second;
    c->start_year = opts->start_year;
    c->start_month = opts->start_month;
    c->start_day = opts->start_day;
    c->month_step = (int64_t)opts->years * 12 + opts->months;
    c->day_step = (int64_t)opts->weeks * 7 + opts->days;
    c->start_dn = tempo__days_from_civil(opts->start_year, opts->start_month, opts->start_day);
    c->end = opts->end;
    c->zone = zone;
    c->dst_gap = opts->dst_gap;
    *out = &c->base;
    return TEMPO_OK;
}

/* ---- load ---- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD", exactly (whether the date exists is the constructor's call). */
static tempo_status_t read_start_date(const bson_t *doc, tempo_calendar_options_t *o,
                                      tempo_error_t *err)
{
    const char *s;
    tempo_status_t rc = tempo__bson_read_utf8(doc, "calendar", "start_date", true, &s, err);
    if (rc != TEMPO_OK)
        return rc;
    int y, m, d;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
        !digits(s + 8, 2, &d))
        return tempo__error_set(err, TEMPO_EFORMAT,
                                "trigger 'calendar': field 'start_date' must be \"YYYY-MM-DD\", got "
                                "\"%.40s\"",
                                s);
    o->start_year = y;
    o->start_month = m;
    o->start_day = d;
    return TEMPO_OK;
}

static tempo_status_t read_options(const bson_t *doc, tempo_calendar_options_t *o, tempo_error_t *err)
{
    struct {
        const char *name;
        int *field;
    } ints[] = {{"years", &o->years},   {"months", &o->months}, {"weeks", &o->weeks},
                {"days", &o->days},     {"hour", &o->hour},     {"minute", &o->minute},
                {"second", &o->second}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        tempo_status_t rc = tempo__bson_read_int(doc, "calendar", ints[i].name, ints[i].field, err);
        if (rc != TEMPO_OK)
            return rc;
    }
    tempo_status_t rc = read_start_date(doc, o, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_time(doc, "calendar", "end", &o->end, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_utf8(doc, "calendar", "zone", true, &o->zone, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_dst_gap(doc, "calendar", "dst_gap", &o->dst_gap, err);
    return rc;
}

tempo_status_t tempo__calendar_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                    tempo_error_t *err)
{
    (void)v; /* only version 1 exists */
    tempo_calendar_options_t o = TEMPO_CALENDAR_OPTIONS_INIT;
    tempo_status_t rc = read_options(doc, &o, err);
    if (rc == TEMPO_OK)
        rc = tempo_trigger_calendar_new(&o, out, err);
    return tempo__bson_stored_error(rc, err);
}
