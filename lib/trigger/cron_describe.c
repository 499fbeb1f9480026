/* One line of plain English for a compiled cron expression.
 *
 * The description is built from the spec's value sets, not from the text, so
 * it says what the expression does however it was spelled ("0,15,30,45" and
 * a step of 15 both read "every 15 minutes"). Common shapes get natural phrases;
 * anything else falls back to naming each field's values, which is long but
 * never wrong. Two rules keep it honest:
 *   - "every N minutes" (seconds, hours) is said only when the values are
 *     exactly 0, N, 2N, ... and N divides the unit, so the rhythm really is
 *     constant across the hour; otherwise the values are listed;
 *   - day and weekday read "or" when the expression ORs them (crontab forms)
 *     and "if it falls on" when it ANDs them (the named form).
 * The zone and the DST policy are appended by the caller. */
#include "cron_parse_internal.h"

#include <string.h>

/* ---- value sets ---- */

typedef struct vset {
    uint64_t bits[TEMPO__CRON_YEAR_WORDS]; /* bit i = value lo + i */
    int lo, n;
} vset_t;

static vset_t vset_word(uint64_t word, int lo, int n)
{
    vset_t v;
    memset(&v, 0, sizeof v);
    v.bits[0] = word;
    v.lo = lo;
    v.n = n;
    return v;
}

static bool has(const vset_t *v, int value)
{
    int i = value - v->lo;
    return i >= 0 && i < v->n && tempo__cron_bit(v->bits, i);
}

static int count(const vset_t *v)
{
    int c = 0;
    for (int i = 0; i < TEMPO__CRON_YEAR_WORDS; i++)
        c += __builtin_popcountll(v->bits[i]);
    return c;
}

static int first(const vset_t *v)
{
    for (int i = 0; i < v->n; i++)
        if (tempo__cron_bit(v->bits, i))
            return v->lo + i;
    return -1;
}

static int last(const vset_t *v)
{
    for (int i = v->n - 1; i >= 0; i--)
        if (tempo__cron_bit(v->bits, i))
            return v->lo + i;
    return -1;
}

static bool full(const vset_t *v)
{
    return count(v) == v->n;
}

/* The common difference when the values form an arithmetic progression of at
 * least two terms, else 0. */
static int progression(const vset_t *v)
{
    int a = first(v), c = count(v);
    if (c < 2)
        return 0;
    int step = 0;
    for (int x = a + 1; x <= last(v); x++)
        if (has(v, x)) {
            step = x - a;
            break;
        }
    for (int k = 0; k < c; k++)
        if (!has(v, a + k * step))
            return 0;
    return step;
}

/* 0, k, 2k, ... filling the unit exactly: a rhythm that repeats unchanged. */
static int even_rhythm(const vset_t *v)
{
    int step = full(v) ? 1 : progression(v);
    return step && first(v) == v->lo && v->n % step == 0 && count(v) == v->n / step ? step : 0;
}

/* ---- words ---- */

typedef void (*put_value_fn)(tempo__text_t *o, int value);

static void put_number(tempo__text_t *o, int value)
{
    tempo__text_printf(o, "%d", value);
}

static void put_month(tempo__text_t *o, int value)
{
    tempo__text_put(o, tempo__cron_month_name(value));
}

/* Weekday sets are listed Monday first, so "fri-sun" reads as one run. */
static void put_weekday_monday_first(tempo__text_t *o, int value)
{
    tempo__text_put(o, tempo__cron_weekday_name((value + 1) % 7));
}

static void put_ordinal(tempo__text_t *o, int n)
{
    const char *suffix = "th";
    if (n % 100 < 11 || n % 100 > 13)
        suffix = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
    tempo__text_printf(o, "%d%s", n, suffix);
}

static const char *const ordinal_words[6] = {"", "first", "second", "third", "fourth", "fifth"};

/* "5", "5 and 7", "1, 3 and 9 through 12": runs of three or more as ranges. */
static void put_list(tempo__text_t *o, const vset_t *v, put_value_fn put, const char *conj)
{
    int items = 0, total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < v->n; i++) {
            if (!tempo__cron_bit(v->bits, i) || (i > 0 && tempo__cron_bit(v->bits, i - 1)))
                continue;
            int j = i;
            while (j + 1 < v->n && tempo__cron_bit(v->bits, j + 1))
                j++;
            int pieces = j - i >= 2 ? 1 : j - i + 1;
            for (int p = 0; p < pieces; p++) {
                if (pass == 0) {
                    total++;
                    continue;
                }
                if (items > 0)
                    tempo__text_put(o, items == total - 1 ? conj : ", ");
                items++;
                put(o, v->lo + i + p);
                if (pieces == 1 && j > i) {
                    tempo__text_put(o, " through ");
                    put(o, v->lo + j);
                }
            }
        }
    }
}

/* "hour 9", "hours 9 and 17", "hours 9 through 17", "every 2nd hour from 0
 * through 22" (a progression of five or more). */
static void put_values(tempo__text_t *o, const vset_t *v, const char *noun, const char *conj)
{
    int step = progression(v);
    if (step >= 2 && count(v) >= 5) {
        tempo__text_put(o, "every ");
        put_ordinal(o, step);
        tempo__text_printf(o, " %s from %d through %d", noun, first(v), last(v));
        return;
    }
    tempo__text_printf(o, count(v) == 1 ? "%s " : "%ss ", noun);
    put_list(o, v, put_number, conj);
}

static void put_clock(tempo__text_t *o, int h, int m, int s, bool seconds)
{
    if (seconds)
        tempo__text_printf(o, "%02d:%02d:%02d", h, m, s);
    else
        tempo__text_printf(o, "%02d:%02d", h, m);
}

/* ---- time of day ---- */

typedef struct clock_sets {
    vset_t s, m, h;
} clock_sets_t;

/* " from 09:00 through 17:45": the first and last time of a run of hours. */
static void put_window(tempo__text_t *o, const clock_sets_t *c, bool seconds)
{
    tempo__text_put(o, " from ");
    put_clock(o, first(&c->h), first(&c->m), first(&c->s), seconds);
    tempo__text_put(o, " through ");
    put_clock(o, last(&c->h), last(&c->m), last(&c->s), seconds);
}

static bool contiguous(const vset_t *v)
{
    return count(v) == 1 || progression(v) == 1;
}

/* One second of one minute, in some hours. Returns true for a list of fixed
 * times of day (which reads better followed by "every day"). */
static bool put_times_at(tempo__text_t *o, const clock_sets_t *c)
{
    int sec = first(&c->s), min = first(&c->m), hours = count(&c->h);
    int step = progression(&c->h);
    if (full(&c->h)) {
        tempo__text_printf(o, "at minute %d", min);
        if (sec)
            tempo__text_printf(o, ", second %d", sec);
        tempo__text_put(o, " of every hour");
    } else if (hours <= 6) {
        tempo__text_put(o, "at ");
        for (int h = 0, i = 0; h < 24; h++) {
            if (!has(&c->h, h))
                continue;
            if (i++)
                tempo__text_put(o, i == hours ? " and " : ", ");
            put_clock(o, h, min, sec, sec != 0);
        }
        return true;
    } else if (step) {
        if (step == 1)
            tempo__text_put(o, "every hour");
        else
            tempo__text_printf(o, "every %d hours", step);
        put_window(o, c, sec != 0);
    } else {
        tempo__text_printf(o, "at minute %d", min);
        if (sec)
            tempo__text_printf(o, ", second %d", sec);
        tempo__text_put(o, " of ");
        put_values(o, &c->h, "hour", " and ");
    }
    return false;
}

/* " of every hour" or " of hours 9 through 17". */
static void put_of_hours(tempo__text_t *o, const clock_sets_t *c)
{
    if (full(&c->h)) {
        tempo__text_put(o, " of every hour");
        return;
    }
    tempo__text_put(o, " of ");
    put_values(o, &c->h, "hour", " and ");
}

/* Hours that restrict a rhythm: a window when they are one run, else a list. */
static void put_during_hours(tempo__text_t *o, const clock_sets_t *c, bool seconds)
{
    if (full(&c->h))
        return;
    if (contiguous(&c->h)) {
        put_window(o, c, seconds);
        return;
    }
    tempo__text_put(o, " during ");
    put_values(o, &c->h, "hour", " and ");
}

/* One second of every minute the minute set allows. */
static void put_minutes(tempo__text_t *o, const clock_sets_t *c)
{
    int sec = first(&c->s), rhythm = even_rhythm(&c->m);
    if (rhythm) {
        if (rhythm == 1)
            tempo__text_put(o, "every minute");
        else
            tempo__text_printf(o, "every %d minutes", rhythm);
        if (sec)
            tempo__text_printf(o, " at second %d", sec);
        put_during_hours(o, c, sec != 0);
        return;
    }
    tempo__text_put(o, "at ");
    if (sec)
        tempo__text_printf(o, "second %d of ", sec);
    put_values(o, &c->m, "minute", " and ");
    put_of_hours(o, c);
}

/* Several seconds of each allowed minute. */
static void put_seconds(tempo__text_t *o, const clock_sets_t *c)
{
    int rhythm = even_rhythm(&c->s);
    if (rhythm == 1) {
        tempo__text_put(o, "every second");
    } else if (rhythm) {
        tempo__text_printf(o, "every %d seconds", rhythm);
    } else {
        tempo__text_put(o, "at ");
        put_values(o, &c->s, "second", " and ");
        if (full(&c->m) && full(&c->h))
            tempo__text_put(o, " of every minute");
    }
    if (full(&c->m)) {
        put_during_hours(o, c, true);
        return;
    }
    tempo__text_put(o, " during ");
    put_values(o, &c->m, "minute", " and ");
    put_of_hours(o, c);
}

static bool put_time_of_day(tempo__text_t *o, const tempo__cron_spec_t *spec)
{
    clock_sets_t c;
    c.s = vset_word(spec->seconds, 0, 60);
    c.m = vset_word(spec->minutes, 0, 60);
    c.h = vset_word(spec->hours, 0, 24);
    if (count(&c.s) > 1) {
        put_seconds(o, &c);
        return false;
    }
    if (count(&c.m) > 1) {
        put_minutes(o, &c);
        return false;
    }
    return put_times_at(o, &c);
}

/* ---- the calendar ---- */

static void put_special(tempo__text_t *o, const tempo__cron_special_t *sp)
{
    const char *wday = tempo__cron_weekday_name(sp->dow);
    switch (sp->kind) {
    case TEMPO__CRON_LAST_DAY:
        if (sp->arg == 0)
            tempo__text_put(o, "the last day");
        else if (sp->arg + 1 <= 5)
            tempo__text_printf(o, "the %s-to-last day", ordinal_words[sp->arg + 1]);
        else {
            tempo__text_put(o, "the ");
            put_ordinal(o, sp->arg + 1);
            tempo__text_put(o, "-to-last day");
        }
        break;
    case TEMPO__CRON_LAST_WEEKDAY: tempo__text_put(o, "the last weekday (Monday to Friday)"); break;
    case TEMPO__CRON_NEAREST_WEEKDAY:
        tempo__text_printf(o, "the weekday (Monday to Friday) nearest day %d", sp->arg);
        break;
    case TEMPO__CRON_NTH_DOW:
        tempo__text_printf(o, "the %s %s", ordinal_words[sp->arg < 6 ? sp->arg : 0], wday);
        break;
    case TEMPO__CRON_LAST_DOW: tempo__text_printf(o, "the last %s", wday); break;
    }
}

typedef void (*put_plain_fn)(tempo__text_t *o, const void *ctx, const char *conj);

/* Items of one field joined as a list: plain values first, then specials. */
static void put_items(tempo__text_t *o, int plain, const tempo__cron_special_t *sp, int n,
                      const char *conj, put_plain_fn put_plain, const void *ctx)
{
    int total = (plain ? 1 : 0) + n;
    if (plain)
        put_plain(o, ctx, conj);
    for (int i = 0; i < n; i++) {
        int item = i + (plain ? 1 : 0);
        if (item > 0)
            tempo__text_put(o, item == total - 1 ? conj : ", ");
        put_special(o, &sp[i]);
    }
    if (n > 0)
        tempo__text_put(o, " of the month");
}

static void put_plain_days(tempo__text_t *o, const void *ctx, const char *conj)
{
    put_values(o, ctx, "day", conj);
}

static void put_plain_weekdays(tempo__text_t *o, const void *ctx, const char *conj)
{
    put_list(o, ctx, put_weekday_monday_first, conj);
}

static void put_days(tempo__text_t *o, const tempo__cron_spec_t *spec)
{
    vset_t days = vset_word(spec->days >> 1, 1, 31);
    int plain = count(&days) > 0;
    put_items(o, plain, spec->day_specials, spec->n_day_specials, " and ", put_plain_days, &days);
    if (spec->n_day_specials == 0)
        tempo__text_put(o, " of the month");
}

static void put_weekdays(tempo__text_t *o, const tempo__cron_spec_t *spec, const char *conj)
{
    uint64_t monday_first = ((spec->dows >> 1) | ((uint64_t)(spec->dows & 1) << 6)) & 0x7f;
    vset_t w = vset_word(monday_first, 0, 7);
    put_items(o, count(&w) > 0, spec->dow_specials, spec->n_dow_specials, conj,
              put_plain_weekdays, &w);
}

/* "on January 1": one plain day in one month, weekdays free. */
static bool one_date(const tempo__cron_spec_t *spec)
{
    return spec->day_restricted && !spec->dow_restricted && spec->n_day_specials == 0 &&
           __builtin_popcount(spec->days) == 1 && __builtin_popcount(spec->months) == 1;
}

static void put_day_clause(tempo__text_t *o, const tempo__cron_spec_t *spec)
{
    if (one_date(spec)) {
        tempo__text_printf(o, " on %s %d", tempo__cron_month_name(__builtin_ctz(spec->months)),
                           __builtin_ctz(spec->days));
        return;
    }
    if (spec->day_restricted) {
        tempo__text_put(o, " on ");
        put_days(o, spec);
    }
    if (!spec->dow_restricted)
        return;
    if (!spec->day_restricted) {
        tempo__text_put(o, " on ");
        put_weekdays(o, spec, " and ");
    } else if (spec->day_or_dow) {
        tempo__text_put(o, " or on ");
        put_weekdays(o, spec, " and ");
    } else {
        tempo__text_put(o, ", if it falls on ");
        put_weekdays(o, spec, " or ");
    }
}

static void put_years(tempo__text_t *o, const vset_t *y)
{
    int step = progression(y);
    if (step >= 2 && count(y) >= 5) {
        tempo__text_put(o, "every ");
        put_ordinal(o, step);
        tempo__text_printf(o, " year from %d through %d", first(y), last(y));
    } else {
        put_list(o, y, put_number, " and ");
    }
}

static bool years_restricted(const tempo__cron_spec_t *spec)
{
    for (int y = TEMPO__CRON_YEAR_MIN; y <= TEMPO__CRON_YEAR_MAX; y++)
        if (!tempo__cron_year_ok(spec, y))
            return true;
    return false;
}

static void put_calendar(tempo__text_t *o, const tempo__cron_spec_t *spec, bool fixed_times)
{
    vset_t weeks = vset_word(spec->weeks >> 1, 1, 53);
    vset_t months = vset_word((uint64_t)spec->months >> 1, 1, 12);
    bool by_month = !full(&months) && !one_date(spec);
    if (fixed_times && !spec->day_restricted && !spec->dow_restricted)
        tempo__text_put(o, " every day");
    put_day_clause(o, spec);
    /* After "... or on Friday" / "..., if it falls on Friday" a comma keeps
     * what follows applying to the whole day clause. */
    bool comma = spec->day_restricted && spec->dow_restricted;
    if (spec->week_restricted) {
        tempo__text_put(o, comma ? ", in " : " in ");
        put_values(o, &weeks, "ISO week", " and ");
        comma = false;
    }
    if (by_month) {
        tempo__text_put(o, comma ? ", in " : " in ");
        put_list(o, &months, put_month, " and ");
    }
    if (!years_restricted(spec))
        return;
    vset_t years;
    memcpy(years.bits, spec->years, sizeof years.bits);
    years.lo = TEMPO__CRON_YEAR_MIN;
    years.n = TEMPO__CRON_YEAR_MAX - TEMPO__CRON_YEAR_MIN + 1;
    if (one_date(spec) && !spec->week_restricted && count(&years) == 1) {
        tempo__text_printf(o, ", %d", first(&years)); /* "on January 1, 2027" */
        return;
    }
    tempo__text_put(o, by_month || one_date(spec) || spec->week_restricted ? ", in " : " in ");
    put_years(o, &years);
}

int tempo__cron_describe(const tempo__cron_spec_t *spec, const tempo__cron_text_t *text, char *buf,
                         size_t size)
{
    tempo__text_t o;
    (void)text; /* the spec says everything; the text is kept for future wording */
    tempo__text_init(&o, buf, size);
    if (!spec)
        return -1;
    bool fixed = put_time_of_day(&o, spec);
    put_calendar(&o, spec, fixed);
    if (!spec->possible)
        tempo__text_put(&o, " (no date ever matches)");
    return tempo__text_result(&o);
}
