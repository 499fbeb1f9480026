/* One cron field: its text -> the set of values it allows, the stepped ranges
 * it was written with, and its calendar specials (L, W, #, "3rd fri").
 *
 * A field is a comma list of items. Each item is read left to right by a
 * handful of small readers over a cursor; every reader either consumes exactly
 * its syntax or reports an error pointing at the offending text. Nothing here
 * allocates, and each loop advances the cursor, so bad input cannot hang it. */
#include "cron_parse_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Numbers are read saturating at this: anything longer is "out of range". */
#define NUMBER_CAP 99999
/* Longest piece of user text quoted in a message. */
#define SHOW_MAX 40

static const tempo__cron_field_def_t crontab_defs[TEMPO__CRON_NFIELDS] = {
    [TEMPO__CRON_YEAR] = {"year", TEMPO__CRON_YEAR_MIN, TEMPO__CRON_YEAR_MAX, TEMPO__CRON_YEAR_MAX},
    [TEMPO__CRON_MONTH] = {"month", 1, 12, 12},
    [TEMPO__CRON_DAY] = {"day", 1, 31, 31},
    [TEMPO__CRON_WEEK] = {"week", 1, 53, 53},
    [TEMPO__CRON_DOW] = {"day_of_week", 0, 7, 6},
    [TEMPO__CRON_HOUR] = {"hour", 0, 23, 23},
    [TEMPO__CRON_MINUTE] = {"minute", 0, 59, 59},
    [TEMPO__CRON_SECOND] = {"second", 0, 59, 59},
};

/* APScheduler numbers weekdays 0 = Monday .. 6 = Sunday and has no alias 7. */
static const tempo__cron_field_def_t named_dow_def = {"day_of_week", 0, 6, 6};

const tempo__cron_field_def_t *tempo__cron_field_def(tempo__cron_field_t f, bool named)
{
    return named && f == TEMPO__CRON_DOW ? &named_dow_def : &crontab_defs[f];
}

typedef struct cursor {
    const char *base; /* the whole expression: columns count from its start */
    size_t pos;       /* next unread byte of the current item */
    size_t end;       /* end of the current item (whitespace trimmed) */
    tempo__cron_field_t field;
    bool named;
    const tempo__cron_field_def_t *def;
    tempo_error_t *err;
} cursor_t;

/* A run of letters and digits: the unit names and numbers are made of. */
typedef struct word {
    size_t at, len;
    size_t digits; /* leading digits */
} word_t;

__attribute__((format(printf, 4, 5))) static tempo_status_t
fail(const cursor_t *c, size_t at, size_t len, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int shown = (int)(len > SHOW_MAX ? SHOW_MAX : len);
    return tempo__error_set(c->err, TEMPO_EPARSE, "cron: field '%s' column %zu: '%.*s%s'%s",
                            c->def->name, at + 1, shown, c->base + at, len > SHOW_MAX ? "..." : "",
                            why);
}

static bool at_end(const cursor_t *c)
{
    return c->pos >= c->end;
}

static char peek(const cursor_t *c)
{
    return at_end(c) ? '\0' : c->base[c->pos];
}

static word_t scan_word(const cursor_t *c)
{
    word_t w = {c->pos, 0, 0};
    while (w.at + w.len < c->end && isalnum((unsigned char)c->base[w.at + w.len]))
        w.len++;
    while (w.digits < w.len && isdigit((unsigned char)c->base[w.at + w.digits]))
        w.digits++;
    return w;
}

static int word_number(const cursor_t *c, word_t w)
{
    int n = 0;
    for (size_t i = 0; i < w.digits; i++) {
        n = n * 10 + (c->base[w.at + i] - '0');
        if (n > NUMBER_CAP)
            n = NUMBER_CAP;
    }
    return n;
}

static bool word_is(const cursor_t *c, word_t w, const char *lower)
{
    return w.len == strlen(lower) && strncasecmp(c->base + w.at, lower, w.len) == 0;
}

static void skip_space(cursor_t *c)
{
    while (!at_end(c) && isspace((unsigned char)c->base[c->pos]))
        c->pos++;
}

/* Whatever is left of the item could not be read. */
static tempo_status_t unexpected(const cursor_t *c)
{
    size_t at = c->pos;
    while (at < c->end && isspace((unsigned char)c->base[at]))
        at++;
    return fail(c, at, c->end - at, " is unexpected here");
}

/* The item ended (or met a non-word) where a number or name was due after `sep`. */
static tempo_status_t missing(const cursor_t *c, size_t item, char sep)
{
    if (!at_end(c))
        return unexpected(c);
    return fail(c, item, c->end - item, " is missing a value after '%c'", sep);
}

static tempo_status_t expect_end(const cursor_t *c)
{
    return at_end(c) ? TEMPO_OK : unexpected(c);
}

static tempo_status_t out_of_range(const cursor_t *c, word_t w, int lo, int hi)
{
    if (c->named && c->field == TEMPO__CRON_DOW)
        return fail(c, w.at, w.len, " is out of range %d-%d (in named fields 0 = Monday)", lo, hi);
    return fail(c, w.at, w.len, " is out of range %d-%d", lo, hi);
}

/* A weekday name in the numbering of the form being parsed. */
static int weekday_value(const cursor_t *c, int sunday_based)
{
    return c->named ? (sunday_based + 6) % 7 : sunday_based;
}

/* A form's weekday number to 0 = Sunday. */
static int weekday_sunday_based(const cursor_t *c, int v)
{
    return c->named ? (v + 1) % 7 : v % 7;
}

/* A plain number or a name of this field, range-checked. */
static tempo_status_t read_value(cursor_t *c, size_t item, char sep, int *out)
{
    word_t w = scan_word(c);
    if (w.len == 0)
        return sep ? missing(c, item, sep) : unexpected(c);
    c->pos += w.len;
    if (w.digits == w.len) {
        *out = word_number(c, w);
        if (*out < c->def->lo || *out > c->def->hi)
            return out_of_range(c, w, c->def->lo, c->def->hi);
        return TEMPO_OK;
    }
    int v = -1;
    if (w.digits == 0 && c->field == TEMPO__CRON_MONTH) {
        v = tempo__cron_month_lookup(c->base + w.at, w.len);
        if (v < 0)
            return fail(c, w.at, w.len, " is not a month name");
    } else if (w.digits == 0 && c->field == TEMPO__CRON_DOW) {
        v = tempo__cron_weekday_lookup(c->base + w.at, w.len);
        if (v < 0)
            return fail(c, w.at, w.len, " is not a weekday name");
        v = weekday_value(c, v);
    } else {
        return fail(c, w.at, w.len, " is not a number");
    }
    *out = v;
    return TEMPO_OK;
}

static tempo_status_t read_number(cursor_t *c, size_t item, char sep, int lo, int hi,
                                  const char *what, int *out)
{
    word_t w = scan_word(c);
    if (w.len == 0)
        return missing(c, item, sep);
    if (w.digits != w.len)
        return fail(c, w.at, w.len, " is not a number");
    c->pos += w.len;
    *out = word_number(c, w);
    if (*out < lo || *out > hi)
        return fail(c, w.at, w.len, " is out of range %d-%d%s", lo, hi, what);
    return TEMPO_OK;
}

/* ---- recording what was read ---- */

static int special_cmp(const tempo__cron_special_t *a, const tempo__cron_special_t *b)
{
    if (a->kind != b->kind)
        return a->kind - b->kind;
    if (a->arg != b->arg)
        return a->arg - b->arg;
    return a->dow - b->dow;
}

/* Insert keeping the list sorted and distinct, so equal fields compare equal. */
static tempo_status_t add_special(cursor_t *c, tempo__cron_parsed_t *out, size_t item, int kind,
                                  int arg, int dow)
{
    tempo__cron_special_t s = {(uint8_t)kind, (uint8_t)arg, (uint8_t)dow};
    int i = 0;
    while (i < out->n_specials && special_cmp(&out->specials[i], &s) < 0)
        i++;
    if (i < out->n_specials && special_cmp(&out->specials[i], &s) == 0)
        return TEMPO_OK;
    if (out->n_specials == TEMPO__CRON_MAX_SPECIALS)
        return fail(c, item, c->end - item, " is one special too many (at most %d per field)",
                    TEMPO__CRON_MAX_SPECIALS);
    memmove(&out->specials[i + 1], &out->specials[i],
            (size_t)(out->n_specials - i) * sizeof out->specials[0]);
    out->specials[i] = s;
    out->n_specials++;
    return TEMPO_OK;
}

/* Record a stepped range for printing, unless its step is invisible in the
 * field's meaning. Only the hour field's text matters beyond its values (a
 * step there selects the DST policy), so elsewhere a step of 1, a step that
 * hits one value, weekday steps (printed as plain weekdays) and steps past
 * TEMPO__CRON_MAX_STEPS become plain values; the set is the same. In the hour
 * field an overflow is folded too: the steps kept still carry the '/'. */
static void add_step(cursor_t *c, tempo__cron_parsed_t *out, int a, int b, int step)
{
    int last = a + (b - a) / step * step;
    bool hour = c->field == TEMPO__CRON_HOUR;
    bool fold = (!hour && (step == 1 || last == a)) || c->field == TEMPO__CRON_DOW ||
                out->n_steps == TEMPO__CRON_MAX_STEPS;
    for (int v = a; v <= b; v += step) {
        tempo__cron_set_bit(out->all, v - c->def->lo);
        if (fold)
            tempo__cron_set_bit(out->plain, v - c->def->lo);
    }
    if (fold)
        return;
    /* Keep the end the user wrote when the step hits one value only: "5/30"
     * must print as a range that still reads as a step from 5. */
    tempo__cron_step_t s = {(int16_t)a, (int16_t)(last > a ? last : b), (int16_t)step};
    for (int i = 0; i < out->n_steps; i++)
        if (memcmp(&out->steps[i], &s, sizeof s) == 0)
            return;
    out->steps[out->n_steps++] = s;
}

static void add_plain(cursor_t *c, tempo__cron_parsed_t *out, int a, int b)
{
    for (int v = a; v <= b; v++) {
        tempo__cron_set_bit(out->all, v - c->def->lo);
        tempo__cron_set_bit(out->plain, v - c->def->lo);
    }
}

/* ---- items ---- */

/* '*', N and A-B, each with an optional step '/N'; and A/N (A to the field's end). */
static tempo_status_t range_item(cursor_t *c, tempo__cron_parsed_t *out)
{
    size_t item = c->pos;
    const tempo__cron_field_def_t *d = c->def;
    int a, b, step = 0;
    bool star = peek(c) == '*', dash = false;
    tempo_status_t st;
    if (star) {
        c->pos++;
        a = d->lo;
        b = d->star_hi;
    } else {
        if ((st = read_value(c, item, 0, &a)))
            return st;
        b = a;
        if (peek(c) == '-') {
            c->pos++;
            dash = true;
            if ((st = read_value(c, item, '-', &b)))
                return st;
            if (b < a)
                return fail(c, item, c->pos - item,
                            ": range %d-%d is backwards (wrap-around is not supported; "
                            "write two ranges)",
                            a, b);
        }
    }
    if (peek(c) == '/') {
        c->pos++;
        int span = d->star_hi - d->lo + 1;
        if ((st = read_number(c, item, '/', 1, span, " for a step", &step)))
            return st;
        /* "A/N" runs to the end of the field. A crontab weekday 7 (Sunday
         * again) is past star_hi and stays alone. */
        if (!star && !dash && d->star_hi > a)
            b = d->star_hi;
    }
    if ((st = expect_end(c)))
        return st;
    if (step)
        add_step(c, out, a, b, step);
    else
        add_plain(c, out, a, b);
    return TEMPO_OK;
}

/* The weekday after "3rd" or "last" in the day field (ordinal 0 = last).
 * Only the named form can hold the space between them. */
static tempo_status_t day_nth_weekday(cursor_t *c, tempo__cron_parsed_t *out, size_t item,
                                      int ordinal)
{
    skip_space(c);
    word_t w = scan_word(c);
    if (w.len == 0 || w.digits > 0)
        return fail(c, item, c->end - item, " must be followed by a weekday name (e.g. '%s fri')",
                    ordinal ? "3rd" : "last");
    int wday = tempo__cron_weekday_lookup(c->base + w.at, w.len);
    if (wday < 0)
        return fail(c, w.at, w.len, " is not a weekday name");
    c->pos += w.len;
    tempo_status_t st = expect_end(c);
    if (st)
        return st;
    if (ordinal == 0)
        return add_special(c, out, item, TEMPO__CRON_LAST_DOW, 0, wday);
    return add_special(c, out, item, TEMPO__CRON_NTH_DOW, ordinal, wday);
}

/* L, L-n, last, "last fri". */
static tempo_status_t day_last(cursor_t *c, tempo__cron_parsed_t *out, size_t item, word_t w)
{
    int n = 0;
    tempo_status_t st;
    c->pos += w.len;
    if (word_is(c, w, "last") && !at_end(c) && isspace((unsigned char)peek(c)))
        return day_nth_weekday(c, out, item, 0);
    if (word_is(c, w, "l") && peek(c) == '-') {
        c->pos++;
        if ((st = read_number(c, item, '-', 0, 30, " for 'L-n'", &n)))
            return st;
    }
    if ((st = expect_end(c)))
        return st;
    return add_special(c, out, item, TEMPO__CRON_LAST_DAY, n, 0);
}

/* Day field: L, L-n, LW, nW, last, "1st fri".."5th fri", "last fri".
 * Sets *taken when the item was one of these (or an error). */
static tempo_status_t day_special(cursor_t *c, tempo__cron_parsed_t *out, bool *taken)
{
    static const char *const suffix[6] = {"th", "st", "nd", "rd", "th", "th"};
    size_t item = c->pos;
    word_t w = scan_word(c);
    const char *s = c->base + w.at;
    tempo_status_t st;
    int n;
    *taken = true;
    if (word_is(c, w, "l") || word_is(c, w, "last"))
        return day_last(c, out, item, w);
    if (word_is(c, w, "lw")) {
        c->pos += w.len;
        if ((st = expect_end(c)))
            return st;
        return add_special(c, out, item, TEMPO__CRON_LAST_WEEKDAY, 0, 0);
    }
    if (w.digits > 0 && w.len == w.digits + 1 && (s[w.digits] == 'w' || s[w.digits] == 'W')) {
        n = word_number(c, w);
        if (n < 1 || n > 31)
            return fail(c, w.at, w.digits, " is out of range 1-31 for 'nW'");
        c->pos += w.len;
        if ((st = expect_end(c)))
            return st;
        return add_special(c, out, item, TEMPO__CRON_NEAREST_WEEKDAY, n, 0);
    }
    if (w.digits > 0 && w.len == w.digits + 2 && isalpha((unsigned char)s[w.digits])) {
        n = word_number(c, w);
        if (n < 1 || n > 5 || strncasecmp(s + w.digits, suffix[n], 2) != 0)
            return fail(c, w.at, w.len, " is not one of 1st, 2nd, 3rd, 4th, 5th");
        c->pos += w.len;
        return day_nth_weekday(c, out, item, n);
    }
    *taken = false;
    return TEMPO_OK;
}

/* Weekday field: `5L` / `friL` (last Friday), `5#3` / `fri#3` (third Friday). */
static tempo_status_t dow_special(cursor_t *c, tempo__cron_parsed_t *out, bool *taken)
{
    size_t item = c->pos;
    word_t w = scan_word(c);
    char lastc = w.len ? c->base[w.at + w.len - 1] : '\0';
    tempo_status_t st;
    int v, n;
    *taken = true;
    if (word_is(c, w, "l") || word_is(c, w, "last"))
        return fail(c, w.at, w.len,
                    " needs a weekday here (e.g. '5L' or 'friL' for the last Friday)");
    if (w.len >= 2 && (lastc == 'l' || lastc == 'L')) {
        /* A number before the L commits to "last weekday" (and to its range
         * errors); letters commit only when they name a weekday, so "april"
         * gets the plain reader's "not a weekday name". */
        bool number = w.digits == w.len - 1;
        cursor_t head = *c;
        head.end = w.at + w.len - 1;
        head.err = number ? c->err : NULL;
        st = read_value(&head, item, 0, &v);
        if (st && number)
            return st;
        if (!st && head.pos == head.end) {
            c->pos = w.at + w.len;
            if ((st = expect_end(c)))
                return st;
            return add_special(c, out, item, TEMPO__CRON_LAST_DOW, 0, weekday_sunday_based(c, v));
        }
    }
    if (w.len > 0 && w.at + w.len < c->end && c->base[w.at + w.len] == '#') {
        if ((st = read_value(c, item, 0, &v)))
            return st;
        c->pos++; /* '#' */
        if ((st = read_number(c, item, '#', 1, 5, " for '#'", &n)))
            return st;
        if ((st = expect_end(c)))
            return st;
        return add_special(c, out, item, TEMPO__CRON_NTH_DOW, n, weekday_sunday_based(c, v));
    }
    *taken = false;
    return TEMPO_OK;
}

static tempo_status_t parse_item(cursor_t *c, tempo__cron_parsed_t *out)
{
    bool taken = false;
    tempo_status_t st = TEMPO_OK;
    if (peek(c) == '?') {
        if (c->field != TEMPO__CRON_DAY && c->field != TEMPO__CRON_DOW)
            return fail(c, c->pos, 1, " is only allowed in the day and day_of_week fields");
        return fail(c, c->pos, 1, " must stand alone in its field");
    }
    if (c->field == TEMPO__CRON_DAY)
        st = day_special(c, out, &taken);
    else if (c->field == TEMPO__CRON_DOW)
        st = dow_special(c, out, &taken);
    if (st || taken)
        return st;
    return range_item(c, out);
}

/* ---- the field ---- */

static void trim(const char *base, size_t *start, size_t *end)
{
    while (*start < *end && isspace((unsigned char)base[*start]))
        (*start)++;
    while (*end > *start && isspace((unsigned char)base[*end - 1]))
        (*end)--;
}

/* The message quotes the whole field: an empty item has no text of its own. */
static tempo_status_t empty_item(const cursor_t *c, size_t at, size_t off, size_t len)
{
    int shown = (int)(len > SHOW_MAX ? SHOW_MAX : len);
    return tempo__error_set(c->err, TEMPO_EPARSE,
                            "cron: field '%s' column %zu: '%.*s%s' has an empty list item",
                            c->def->name, at + 1, shown, c->base + off,
                            len > SHOW_MAX ? "..." : "");
}

static tempo_status_t lone_star(cursor_t *c, tempo__cron_parsed_t *out, size_t at)
{
    if (c->base[at] == '?' && c->field != TEMPO__CRON_DAY && c->field != TEMPO__CRON_DOW)
        return fail(c, at, 1, " is only allowed in the day and day_of_week fields");
    out->star = true;
    add_plain(c, out, c->def->lo, c->def->star_hi);
    return TEMPO_OK;
}

tempo_status_t tempo__cron_field_parse(tempo__cron_field_t f, bool named, const char *base,
                                       size_t off, size_t len, tempo__cron_parsed_t *out,
                                       tempo_error_t *err)
{
    cursor_t c = {base, off, off + len, f, named, tempo__cron_field_def(f, named), err};
    size_t start = off, end = off + len;
    memset(out, 0, sizeof *out);
    trim(base, &start, &end);
    if (end - start == 1 && (base[start] == '*' || base[start] == '?'))
        return lone_star(&c, out, start);
    out->has_slash = memchr(base + off, '/', len) != NULL;
    for (size_t item = off;;) {
        const char *comma = memchr(base + item, ',', off + len - item);
        size_t stop = comma ? (size_t)(comma - base) : off + len;
        size_t s = item, e = stop;
        trim(base, &s, &e);
        if (s == e)
            return empty_item(&c, s, off, len);
        c.pos = s;
        c.end = e;
        tempo_status_t st = parse_item(&c, out);
        if (st)
            return st;
        if (!comma)
            return TEMPO_OK;
        item = stop + 1;
    }
}
