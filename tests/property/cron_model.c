/* Random cron expressions with their meaning; see cron_model.h.
 *
 * Everything here is written for the test, from the rules in DESIGN.md §3 and
 * include/tempo/trigger.h, and shares no code with lib/trigger. Syntax whose
 * meaning those documents leave open is not generated: 'A/N' in the crontab
 * weekday field (is the top 6 or 7?), ranges ending in Sunday by name
 * ("fri-sun"), a step in a list of hours ("1,*\/5": fixed or real time?), '*\/N'
 * in the year field (counted from which year?), nW past day 28 (a day some
 * months lack), and both day fields '?'. */
#include "cron_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- random numbers: splitmix64, so every run of a seed is the same ---- */

void model_rng_seed(model_rng_t *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t model_rng_next(model_rng_t *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

int model_rnd(model_rng_t *r, int n)
{
    return n <= 1 ? 0 : (int)(model_rng_next(r) % (uint64_t)n);
}

static bool chance(model_rng_t *r, int percent)
{
    return model_rnd(r, 100) < percent;
}

static int between(model_rng_t *r, int lo, int hi)
{
    return lo + model_rnd(r, hi - lo + 1);
}

/* ---- calendar, the test's own ---- */

bool model_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int model_days_in_month(int64_t y, int month)
{
    static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && model_is_leap(y) ? 29 : dim[month];
}

/* Weekday (0 = Sunday) of January 1st, by Gauss's rule. */
static int jan1_wday(int64_t y)
{
    int64_t a = y - 1;
    int64_t r = 1 + 5 * (((a % 4) + 4) % 4) + 4 * (((a % 100) + 100) % 100) +
                6 * (((a % 400) + 400) % 400);
    return (int)(r % 7);
}

static int iso_weeks_in_year(int64_t y)
{
    int j = jan1_wday(y);
    return (j == 4 || (j == 3 && model_is_leap(y))) ? 53 : 52;
}

int model_iso_week(int64_t year, int yday, int wday)
{
    int iso_wd = wday == 0 ? 7 : wday; /* Monday 1 .. Sunday 7 */
    int w = (yday + 1 - iso_wd + 10) / 7;
    if (w < 1)
        return iso_weeks_in_year(year - 1);
    if (w > iso_weeks_in_year(year))
        return 1;
    return w;
}

/* ---- text ---- */

typedef struct text {
    char *buf;
    size_t len, cap;
} text_t;

__attribute__((format(printf, 2, 3))) static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < t->cap - t->len)
        t->len += (size_t)n;
}

static const char *const MONTH_NAMES[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const SUN_NAMES[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const MON_NAMES[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* How one numeric field may be written. `top` is the largest value a plain
 * number may take (7 for the crontab weekday), `star_top` the end of '*'. */
typedef struct shape {
    int lo, hi, star_top;
    const char *const *names; /* names[v - lo], or NULL */
    int n_names;
    bool start_step; /* allow 'A/N' */
    bool star_step;  /* allow '*\/N' */
    int a_top;       /* 'A/N' runs to this value */
} shape_t;

static void put_value(model_rng_t *r, text_t *t, const shape_t *s, int v)
{
    int i = v - s->lo;
    if (s->names && i < s->n_names && chance(r, 35)) {
        const char *n = s->names[i];
        if (chance(r, 20))
            put(t, "%c%c%c", n[0] - 32, n[1] - 32, n[2] - 32);
        else
            put(t, "%s", n);
        return;
    }
    put(t, "%d", v);
}

static void mark(bool *vals, int a, int b, int step)
{
    for (int v = a; v <= b; v += step)
        vals[v] = true;
}

/* One list item: N, A-B, *\/N, A-B/N or A/N; values go to vals[field numbering].
 * Returns whether the item has a step. */
static bool put_atom(model_rng_t *r, text_t *t, const shape_t *s, bool *vals, bool steps)
{
    int kinds[6], nk = 0;
    kinds[nk++] = 0;
    kinds[nk++] = 0;
    kinds[nk++] = 1;
    if (steps) {
        if (s->star_step)
            kinds[nk++] = 2;
        kinds[nk++] = 3;
        if (s->start_step)
            kinds[nk++] = 4;
    }
    int kind = kinds[model_rnd(r, nk)];
    if (kind == 0) {
        int v = between(r, s->lo, s->hi);
        put_value(r, t, s, v);
        vals[v] = true;
        return false;
    }
    if (kind == 2) {
        int n = between(r, 2, s->star_top - s->lo);
        put(t, "*/%d", n);
        mark(vals, s->lo, s->star_top, n);
        return true;
    }
    int a = between(r, s->lo, s->hi - 1), b = between(r, a + 1, s->hi);
    if (kind == 4) {
        int n = between(r, 1, s->hi - a);
        put(t, "%d/%d", a, n);
        mark(vals, a, s->a_top, n);
        return true;
    }
    /* A range; none may end in Sunday by name ("fri-sun" is ambiguous). */
    put_value(r, t, s, a);
    put(t, "-");
    if (s->names == SUN_NAMES && b == 7)
        put(t, "7");
    else
        put_value(r, t, s, b);
    int n = kind == 3 ? between(r, 1, b - a) : 1;
    if (kind == 3)
        put(t, "/%d", n);
    mark(vals, a, b, n);
    return kind == 3;
}

/* A whole numeric field. Returns whether it is a lone '*'; *stepped says the
 * field is exactly one stepped item. With steps_alone (hours) a step never
 * shares a list with other items. */
static bool put_numeric(model_rng_t *r, text_t *t, const shape_t *s, int p_star, bool *vals,
                        bool *stepped, bool steps_alone)
{
    *stepped = false;
    if (chance(r, p_star)) {
        put(t, "*");
        mark(vals, s->lo, s->star_top, 1);
        return true;
    }
    int n = chance(r, 60) ? 1 : between(r, 2, 3);
    for (int i = 0; i < n; i++) {
        if (i)
            put(t, ",");
        bool step = put_atom(r, t, s, vals, n == 1 || !steps_alone);
        if (n == 1)
            *stepped = step;
    }
    return false;
}

/* ---- the crontab forms ---- */

static void crontab_day(model_rng_t *r, text_t *t, cron_model_t *m)
{
    if (chance(r, 45)) {
        put(t, chance(r, 85) ? "*" : "?");
        mark(m->day, 1, 31, 1);
        return;
    }
    m->day_restricted = true;
    static const shape_t day = {1, 31, 31, NULL, 0, true, true, 31};
    int n = chance(r, 60) ? 1 : between(r, 2, 3);
    for (int i = 0; i < n; i++) {
        if (i)
            put(t, ",");
        int k = model_rnd(r, 10);
        if (k == 0) {
            put(t, "L");
            m->day_last = true;
        } else if (k == 1 && !m->day_last_minus) {
            m->day_last_minus = between(r, 1, 10);
            put(t, "L-%d", m->day_last_minus);
        } else if (k == 2) {
            put(t, "LW");
            m->day_last_wkday = true;
        } else if (k == 3 && m->n_nearest < MODEL_MAX_W) {
            int d = between(r, 1, 28);
            m->nearest[m->n_nearest++] = d;
            put(t, "%dW", d);
        } else {
            put_atom(r, t, &day, m->day, true);
        }
    }
}

static void crontab_dow(model_rng_t *r, text_t *t, cron_model_t *m, bool day_was_question)
{
    if (chance(r, 45)) {
        put(t, chance(r, 85) || day_was_question ? "*" : "?");
        mark(m->dow, 0, 6, 1);
        return;
    }
    m->dow_restricted = true;
    static const shape_t dow = {0, 7, 6, SUN_NAMES, 7, false, true, 7};
    int n = chance(r, 65) ? 1 : 2;
    for (int i = 0; i < n; i++) {
        if (i)
            put(t, ",");
        int k = model_rnd(r, 8);
        int w = between(r, 0, 6);
        const char *wt = chance(r, 30) ? SUN_NAMES[w] : NULL;
        if (k == 0) {
            int nth = between(r, 1, 5);
            wt ? put(t, "%s#%d", wt, nth) : put(t, "%d#%d", w, nth);
            m->nth[w][nth] = true;
        } else if (k == 1) {
            wt ? put(t, "%sL", wt) : put(t, "%dL", w);
            m->last_dow[w] = true;
        } else {
            bool vals[8] = {false};
            put_atom(r, t, &dow, vals, true);
            for (int v = 0; v < 8; v++)
                if (vals[v])
                    m->dow[v % 7] = true;
        }
    }
}

static void gen_crontab(model_rng_t *r, cron_model_t *m)
{
    text_t t = {m->text, 0, sizeof m->text};
    static const shape_t sec = {0, 59, 59, NULL, 0, true, true, 59};
    static const shape_t hour = {0, 23, 23, NULL, 0, true, true, 23};
    static const shape_t month = {1, 12, 12, MONTH_NAMES, 12, true, true, 12};
    static const shape_t year = {1950, 2200, 2999, NULL, 0, true, false, 2999};
    bool stepped;
    m->nfields = 5 + model_rnd(r, 3);
    if (m->nfields >= 6) {
        put_numeric(r, &t, &sec, 30, m->sec, &stepped, false);
        put(&t, " ");
    } else {
        m->sec[0] = true;
    }
    put_numeric(r, &t, &sec, 25, m->min, &stepped, false);
    put(&t, " ");
    bool star = put_numeric(r, &t, &hour, 35, m->hour, &stepped, true);
    m->follow_real = star || stepped;
    put(&t, " ");
    size_t day_at = t.len;
    crontab_day(r, &t, m);
    bool day_q = m->text[day_at] == '?';
    put(&t, " ");
    put_numeric(r, &t, &month, 60, m->month, &stepped, false);
    put(&t, " ");
    crontab_dow(r, &t, m, day_q);
    if (m->nfields == 7) {
        put(&t, " ");
        bool years[MODEL_YEAR_MAX + 1] = {false};
        bool any = put_numeric(r, &t, &year, 50, years, &stepped, false);
        for (int y = MODEL_YEAR_MIN; y <= MODEL_YEAR_MAX; y++)
            m->years[y - MODEL_YEAR_MIN] = any || years[y];
    } else {
        mark(m->years, 0, MODEL_YEAR_MAX - MODEL_YEAR_MIN, 1);
    }
}

/* ---- the named form (APScheduler's fields; day_of_week 0 = Monday) ---- */

enum { F_YEAR, F_MONTH, F_DAY, F_WEEK, F_DOW, F_HOUR, F_MINUTE, F_SECOND, F_N };
static const char *const FIELD_NAMES[F_N] = {"year", "month", "day", "week",
                                             "day_of_week", "hour", "minute", "second"};
static const int P_GIVEN[F_N] = {12, 30, 30, 12, 30, 60, 60, 40};

static void named_day(model_rng_t *r, text_t *t, cron_model_t *m)
{
    static const char *const ORD[] = {"", "1st", "2nd", "3rd", "4th", "5th"};
    static const shape_t day = {1, 31, 31, NULL, 0, true, true, 31};
    int n = chance(r, 60) ? 1 : between(r, 2, 3);
    for (int i = 0; i < n; i++) {
        if (i)
            put(t, ",");
        int k = model_rnd(r, 8), w = between(r, 0, 6); /* w: Monday-based */
        int sun = (w + 1) % 7;
        if (k == 0) {
            put(t, "last");
            m->day_last = true;
        } else if (k == 1) {
            put(t, "last %s", MON_NAMES[w]);
            m->last_dow[sun] = true;
        } else if (k == 2) {
            int nth = between(r, 1, 5);
            put(t, "%s %s", ORD[nth], MON_NAMES[w]);
            m->nth[sun][nth] = true;
        } else {
            put_atom(r, t, &day, m->day, true);
        }
    }
}

static void named_field(model_rng_t *r, text_t *t, cron_model_t *m, int f)
{
    static const shape_t shapes[F_N] = {
        {1950, 2200, 2999, NULL, 0, true, false, 2999},
        {1, 12, 12, MONTH_NAMES, 12, true, true, 12},
        {1, 31, 31, NULL, 0, true, true, 31},
        {1, 53, 53, NULL, 0, true, true, 53},
        {0, 6, 6, MON_NAMES, 7, true, true, 6},
        {0, 23, 23, NULL, 0, true, true, 23},
        {0, 59, 59, NULL, 0, true, true, 59},
        {0, 59, 59, NULL, 0, true, true, 59},
    };
    put(t, "%s=", FIELD_NAMES[f]);
    if (f == F_DAY && chance(r, 35)) {
        named_day(r, t, m);
        return;
    }
    bool vals[MODEL_YEAR_MAX + 1] = {false}, stepped;
    bool star = put_numeric(r, t, &shapes[f], 8, vals, &stepped, f == F_HOUR);
    switch (f) {
    case F_YEAR:
        for (int y = MODEL_YEAR_MIN; y <= MODEL_YEAR_MAX; y++)
            m->years[y - MODEL_YEAR_MIN] = star || vals[y];
        break;
    case F_MONTH: memcpy(m->month, vals, sizeof m->month); break;
    case F_DAY: memcpy(m->day, vals, sizeof m->day); break;
    case F_WEEK: memcpy(m->week, vals, sizeof m->week); break;
    case F_DOW:
        for (int v = 0; v < 7; v++)
            m->dow[(v + 1) % 7] = vals[v];
        m->dow_plain_any = star;
        break;
    case F_HOUR:
        memcpy(m->hour, vals, sizeof m->hour);
        m->follow_real = star || stepped;
        break;
    case F_MINUTE: memcpy(m->min, vals, sizeof m->min); break;
    default: memcpy(m->sec, vals, sizeof m->sec); break;
    }
}

/* A field the text leaves out: '*' when more significant than the least
 * significant given field, else its default (week and day_of_week stay '*'). */
static void named_default(cron_model_t *m, int f, bool star)
{
    switch (f) {
    case F_YEAR: mark(m->years, 0, MODEL_YEAR_MAX - MODEL_YEAR_MIN, 1); break;
    case F_MONTH: star ? mark(m->month, 1, 12, 1) : mark(m->month, 1, 1, 1); break;
    case F_DAY: star ? mark(m->day, 1, 31, 1) : mark(m->day, 1, 1, 1); break;
    case F_WEEK: mark(m->week, 1, 53, 1); break;
    case F_DOW:
        mark(m->dow, 0, 6, 1);
        m->dow_plain_any = true;
        break;
    case F_HOUR:
        star ? mark(m->hour, 0, 23, 1) : mark(m->hour, 0, 0, 1);
        m->follow_real = star;
        break;
    case F_MINUTE: star ? mark(m->min, 0, 59, 1) : mark(m->min, 0, 0, 1); break;
    default: star ? mark(m->sec, 0, 59, 1) : mark(m->sec, 0, 0, 1); break;
    }
}

static void gen_named(model_rng_t *r, cron_model_t *m)
{
    text_t t = {m->text, 0, sizeof m->text};
    bool given[F_N];
    int last = -1;
    do {
        for (int f = 0; f < F_N; f++) {
            given[f] = chance(r, P_GIVEN[f]);
            if (given[f])
                last = f;
        }
    } while (last < 0);
    m->named = true;
    m->day_specials_in_day = true;
    /* Written in a random order half the time: order must not matter. */
    int order[F_N];
    for (int f = 0; f < F_N; f++)
        order[f] = f;
    if (chance(r, 50)) {
        for (int i = F_N - 1; i > 0; i--) {
            int j = model_rnd(r, i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    }
    bool first = true;
    for (int i = 0; i < F_N; i++) {
        int f = order[i];
        if (!given[f]) {
            named_default(m, f, f < last);
            continue;
        }
        if (!first)
            put(&t, " ");
        first = false;
        named_field(r, &t, m, f);
    }
}

/* ---- DST-focused expressions ----
 * Uniform random fields rarely fire near an offset change. These pick their
 * times from the hours where the test zones change offset (00:00 Sao Paulo and
 * Santiago, 01:00 Dublin, 02:00 New York, Berlin, Lord Howe (30 minutes),
 * Casablanca, 02:45 Chatham, 03:00 Berlin's fold) and keep the date wide. */

typedef struct pick {
    const char *text;
    uint64_t bits;
    bool real; /* hours: '*' or stepped, so the schedule follows real time */
} pick_t;

#define B(n) (UINT64_C(1) << (n))

static const pick_t FOCUS_HOURS[] = {
    {"*", 0xFFFFFF, true},       {"*/2", 0x555555, true},    {"1-23/2", 0xAAAAAA, true},
    {"*/3", 0x249249, true},     {"0", B(0), false},         {"1", B(1), false},
    {"2", B(2), false},          {"3", B(3), false},         {"2,3", B(2) | B(3), false},
    {"1-3", B(1) | B(2) | B(3), false}, {"0-2", B(0) | B(1) | B(2), false},
    {"23,0", B(23) | B(0), false},      {"2,14", B(2) | B(14), false},
    {"1,2", B(1) | B(2), false},
};

static const pick_t FOCUS_MINUTES[] = {
    {"*", UINT64_C(0x0FFFFFFFFFFFFFFF), false},
    {"0", B(0), false},
    {"30", B(30), false},
    {"0,30", B(0) | B(30), false},
    {"*/15", B(0) | B(15) | B(30) | B(45), false},
    {"45", B(45), false},
    {"15", B(15), false},
    {"59", B(59), false},
    {"10-20", 0x1FFC00, false},
    {"*/7", B(0) | B(7) | B(14) | B(21) | B(28) | B(35) | B(42) | B(49) | B(56), false},
};

static void mark_bits(bool *set, int n, uint64_t bits)
{
    for (int i = 0; i < n; i++)
        set[i] = (bits >> i) & 1;
}

static void gen_focus(model_rng_t *r, cron_model_t *m)
{
    text_t t = {m->text, 0, sizeof m->text};
    int h = model_rnd(r, (int)(sizeof FOCUS_HOURS / sizeof FOCUS_HOURS[0]));
    int mi = model_rnd(r, (int)(sizeof FOCUS_MINUTES / sizeof FOCUS_MINUTES[0]));
    mark_bits(m->hour, 24, FOCUS_HOURS[h].bits);
    m->follow_real = FOCUS_HOURS[h].real;
    mark_bits(m->min, 60, FOCUS_MINUTES[mi].bits);
    int sec = chance(r, 70) ? 0 : between(r, 0, 59);
    m->sec[sec] = true;
    mark(m->years, 0, MODEL_YEAR_MAX - MODEL_YEAR_MIN, 1);
    mark(m->month, 1, 12, 1);
    mark(m->week, 1, 53, 1);
    mark(m->day, 1, 31, 1);
    mark(m->dow, 0, 6, 1);
    int w = between(r, 0, 6);
    bool one_dow = chance(r, 20);
    if (chance(r, 40)) {
        m->named = true;
        m->day_specials_in_day = true;
        m->dow_plain_any = !one_dow;
        put(&t, "second=%d minute=%s hour=%s", sec, FOCUS_MINUTES[mi].text, FOCUS_HOURS[h].text);
        if (one_dow) {
            put(&t, " day_of_week=%s", MON_NAMES[w]);
            memset(m->dow, 0, sizeof m->dow);
            m->dow[(w + 1) % 7] = true;
        }
        return;
    }
    m->nfields = sec || chance(r, 30) ? 6 : 5;
    if (m->nfields == 6)
        put(&t, "%d ", sec);
    put(&t, "%s %s * * ", FOCUS_MINUTES[mi].text, FOCUS_HOURS[h].text);
    if (one_dow) {
        put(&t, "%s", SUN_NAMES[w]);
        memset(m->dow, 0, sizeof m->dow);
        m->dow[w] = true;
        m->dow_restricted = true;
    } else {
        put(&t, "*");
    }
}

void model_generate(model_rng_t *r, cron_model_t *m)
{
    memset(m, 0, sizeof *m);
    int kind = model_rnd(r, 100);
    if (kind < 40)
        gen_focus(r, m);
    else if (kind < 65)
        gen_named(r, m);
    else
        gen_crontab(r, m);
}

/* ---- matching ---- */

bool model_year_ok(const cron_model_t *m, int64_t year)
{
    return year >= MODEL_YEAR_MIN && year <= MODEL_YEAR_MAX && m->years[year - MODEL_YEAR_MIN];
}

static int wday_of(const model_date_t *d, int day)
{
    return (int)((((d->wday + day - d->day) % 7) + 7) % 7);
}

static int last_weekday(const model_date_t *d, int dim)
{
    int w = wday_of(d, dim);
    return w == 6 ? dim - 1 : w == 0 ? dim - 2 : dim;
}

static int nearest_weekday(const model_date_t *d, int n, int dim)
{
    int w = wday_of(d, n);
    if (w == 6)
        return n == 1 ? 3 : n - 1;
    if (w == 0)
        return n == dim ? n - 2 : n + 1;
    return n;
}

static bool day_field_ok(const cron_model_t *m, const model_date_t *d, int dim)
{
    if (m->day[d->day] || (m->day_last && d->day == dim) ||
        (m->day_last_minus && d->day == dim - m->day_last_minus) ||
        (m->day_last_wkday && d->day == last_weekday(d, dim)))
        return true;
    for (int i = 0; i < m->n_nearest; i++)
        if (d->day == nearest_weekday(d, m->nearest[i], dim))
            return true;
    return false;
}

static bool weekday_specials_ok(const cron_model_t *m, const model_date_t *d, int dim)
{
    return m->nth[d->wday][(d->day - 1) / 7 + 1] || (m->last_dow[d->wday] && d->day + 7 > dim);
}

bool model_date_ok(const cron_model_t *m, const model_date_t *d)
{
    if (!model_year_ok(m, d->year) || !m->month[d->month])
        return false;
    int dim = model_days_in_month(d->year, d->month);
    if (m->named) {
        return m->week[model_iso_week(d->year, d->yday, d->wday)] && m->dow[d->wday] &&
               (day_field_ok(m, d, dim) || weekday_specials_ok(m, d, dim));
    }
    bool dom = day_field_ok(m, d, dim);
    bool dow = m->dow[d->wday] || weekday_specials_ok(m, d, dim);
    if (m->day_restricted && m->dow_restricted)
        return dom || dow;
    return dom && dow;
}
