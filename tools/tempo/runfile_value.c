/* Schedule files: the small values — durations, counts, times of day, and
 * the names of weekdays and months.
 *
 * Each reader takes a whole word and says only whether it is one; the caller
 * knows what was expected there and writes the message. Numbers are read
 * with a bounded number of digits, so no input can overflow them. */
#include <string.h>

#include "runfile_internal.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool tempo__rf_name_char(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == '.' || c == '-';
}

bool tempo__rf_count(const char *p, size_t len, long max, long *out)
{
    if (len == 0 || len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Units largest first; a duration names each at most once, in this order,
 * so "1h30m" has one spelling and "30m1h" is a typo, not a synonym. */
static const struct {
    char unit;
    int64_t seconds;
} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

/* 1: not a duration; 2: longer than TEMPO__RUNFILE_DURATION_MAX. */
static int duration(const char *p, size_t len, tempo_duration_t *out)
{
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return 0;
    }
    const int64_t max_seconds = TEMPO__RUNFILE_DURATION_MAX / TEMPO_USEC_PER_SEC;
    int64_t total = 0;
    size_t i = 0, next_unit = 0;
    while (i < len) {
        size_t digits = 0;
        int64_t n = 0;
        while (i < len && is_digit(p[i]) && digits < 12)
            n = n * 10 + (p[i++] - '0'), digits++;
        if (digits == 0 || i >= len)
            return 1;
        size_t u = next_unit;
        while (u < sizeof units / sizeof units[0] && units[u].unit != lower(p[i]))
            u++;
        if (u == sizeof units / sizeof units[0])
            return 1;
        i++;
        next_unit = u + 1;
        /* n < 10^12 and a unit <= 86400: the product fits int64; the sum is
         * checked at every step, so it stays below the bound. */
        total += n * units[u].seconds;
        if (total > max_seconds)
            return 2;
    }
    if (i == 0)
        return 1;
    *out = TEMPO_SECONDS(total);
    return 0;
}

tempo_status_t tempo__rf_read_duration(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w,
                                       tempo_duration_t *out)
{
    char q[TEMPO__RF_QUOTE_MAX];
    switch (duration(w->p, w->len, out)) {
    case 0:
        return TEMPO_OK;
    case 2:
        return tempo__rf_fail(ctx, w->col, "'%s' is too long (at most %lldd)",
                              tempo__rf_quote(w->p, w->len, q),
                              (long long)(TEMPO__RUNFILE_DURATION_MAX / TEMPO_DAYS(1)));
    default:
        return tempo__rf_fail(ctx, w->col, "'%s' is not a duration (e.g. 90s, 15m, 1h30m, 2d)",
                              tempo__rf_quote(w->p, w->len, q));
    }
}

bool tempo__rf_time_of_day(const char *p, size_t len, int *hour, int *minute, int *second)
{
    /* H:MM, HH:MM, H:MM:SS, HH:MM:SS */
    size_t h = (len >= 2 && p[1] == ':') ? 1 : 2;
    if (len != h + 3 && len != h + 6)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool colon = i == h || i == h + 3;
        if (colon ? p[i] != ':' : !is_digit(p[i]))
            return false;
    }
    int hh = h == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
    int mm = (p[h + 1] - '0') * 10 + (p[h + 2] - '0');
    int ss = len == h + 6 ? (p[h + 4] - '0') * 10 + (p[h + 5] - '0') : 0;
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    *hour = hh, *minute = mm, *second = ss;
    return true;
}

/* Three letters or the full name, any case; nothing in between (as cron). */
static int find_name(const char *p, size_t len, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        size_t full = strlen(names[i]);
        if (len != 3 && len != full)
            continue;
        size_t k = 0;
        while (k < len && lower(p[k]) == names[i][k])
            k++;
        if (k == len)
            return i + 1;
    }
    return 0;
}

int tempo__rf_weekday(const char *p, size_t len)
{
    static const char *const days[] = {"monday", "tuesday", "wednesday", "thursday",
                                       "friday", "saturday", "sunday"};
    return find_name(p, len, days, 7);
}

int tempo__rf_month(const char *p, size_t len)
{
    static const char *const months[] = {"january", "february", "march",     "april",
                                         "may",     "june",     "july",      "august",
                                         "september", "october", "november", "december"};
    return find_name(p, len, months, 12);
}

/* One piece of a field between the separators , - / #: a number, possibly
 * with L or W (Quartz: "5L", "15W"), or L, W, LW, *, ?, or a name. */
static bool field_atom(const char *p, size_t len)
{
    if (len == 1 && (p[0] == '*' || p[0] == '?'))
        return true;
    if (tempo__rf_weekday(p, len) || tempo__rf_month(p, len))
        return true;
    size_t i = 0;
    while (i < len && is_digit(p[i]))
        i++;
    for (; i < len; i++) {
        if (p[i] != 'L' && p[i] != 'W')
            return false;
    }
    return true;
}

bool tempo__rf_cron_field_like(const char *p, size_t len)
{
    size_t start = 0, atoms = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && !memchr(",-/#", p[i], 4))
            continue;
        if (i > start) {
            if (!field_atom(p + start, i - start))
                return false;
            atoms++;
        }
        start = i + 1;
    }
    return atoms > 0;
}
