/* Cron expressions: the entry forms, APScheduler's defaults, and the spec.
 *
 * The expression is first laid out as one text per field: crontab columns,
 * a macro's 5-field expansion, or the named form's values. Fields the form
 * leaves out get literal default texts ("*", "0") that cannot fail to parse.
 * Each text is then parsed by cron_field.c, and the results are turned into
 * the spec only when everything parsed, so a failing call writes nothing. */
#include "cron_parse_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where one field's text lives. Columns in messages are offsets into `base`,
 * which is the user's expression except for defaults and macro expansions. */
typedef struct field_src {
    const char *base;
    size_t off, len;
    bool given; /* written in the expression: its normalised text is kept */
} field_src_t;

typedef struct layout {
    tempo__cron_form_t form;
    field_src_t src[TEMPO__CRON_NFIELDS];
} layout_t;

static const struct macro {
    const char *name, *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static void set_literal(layout_t *l, tempo__cron_field_t f, const char *text)
{
    l->src[f] = (field_src_t){text, 0, strlen(text), false};
}

static bool is_space(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Splits at whitespace; counts every word, records the first `max`. */
static size_t split_words(const char *s, size_t *at, size_t *len, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; s[i];) {
        while (s[i] && is_space(s[i]))
            i++;
        if (!s[i])
            break;
        size_t start = i;
        while (s[i] && !is_space(s[i]))
            i++;
        if (n < max) {
            at[n] = start;
            len[n] = i - start;
        }
        n++;
    }
    return n;
}

/* Crontab columns in the order they are written, per field count. */
static void map_columns(layout_t *l, const char *base, const size_t *at, const size_t *len,
                        size_t n)
{
    static const tempo__cron_field_t order[7] = {
        TEMPO__CRON_SECOND, TEMPO__CRON_MINUTE, TEMPO__CRON_HOUR, TEMPO__CRON_DAY,
        TEMPO__CRON_MONTH,  TEMPO__CRON_DOW,    TEMPO__CRON_YEAR};
    size_t skip = n == 5 ? 1 : 0; /* 5 fields start at the minute */
    set_literal(l, TEMPO__CRON_SECOND, "0");
    set_literal(l, TEMPO__CRON_YEAR, "*");
    set_literal(l, TEMPO__CRON_WEEK, "*");
    for (size_t i = 0; i < n; i++)
        l->src[order[i + skip]] = (field_src_t){base, at[i], len[i], true};
}

static tempo_status_t layout_macro(const char *expr, size_t at, size_t len, size_t words,
                                   const size_t *wat, layout_t *l, tempo_error_t *err)
{
    int show = (int)(len > 40 ? 40 : len);
    if (len == 7 && strncasecmp(expr + at, "@reboot", 7) == 0)
        return tempo__error_set(err, TEMPO_EPARSE,
                                "cron: column %zu: '@reboot' is not supported (a trigger fires "
                                "at times of day, not when a system starts)",
                                at + 1);
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
        if (strlen(macros[i].name) != len || strncasecmp(expr + at, macros[i].name, len) != 0)
            continue;
        if (words > 1)
            return tempo__error_set(err, TEMPO_EPARSE,
                                    "cron: column %zu: nothing may follow the macro '%.*s'",
                                    wat[1] + 1, show, expr + at);
        size_t eat[5], elen[5];
        split_words(macros[i].expansion, eat, elen, 5);
        map_columns(l, macros[i].expansion, eat, elen, 5);
        l->form = TEMPO__CRON_FORM_MACRO;
        return TEMPO_OK;
    }
    return tempo__error_set(err, TEMPO_EPARSE,
                            "cron: column %zu: '%.*s' is not a macro (@yearly, @annually, "
                            "@monthly, @weekly, @daily, @midnight, @hourly)",
                            at + 1, show, expr + at);
}

static tempo_status_t layout_crontab(const char *expr, layout_t *l, tempo_error_t *err)
{
    size_t at[7], len[7];
    size_t n = split_words(expr, at, len, 7);
    if (n == 0)
        return tempo__error_set(err, TEMPO_EPARSE, "cron: the expression is empty");
    if (expr[at[0]] == '@')
        return layout_macro(expr, at[0], len[0], n, at, l, err);
    if (n < 5 || n > 7)
        return tempo__error_set(err, TEMPO_EPARSE, "cron: expected 5, 6 or 7 fields, found %zu%s",
                                n,
                                strchr(expr, '=') ? " (named fields like 'hour=9' are a "
                                                    "separate form)"
                                                  : "");
    map_columns(l, expr, at, len, n);
    l->form = (tempo__cron_form_t)n;
    return TEMPO_OK;
}

static int field_lookup(const char *s, size_t len)
{
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++) {
        const char *name = tempo__cron_field_def((tempo__cron_field_t)f, true)->name;
        if (strlen(name) == len && strncasecmp(name, s, len) == 0)
            return f;
    }
    return -1;
}

/* APScheduler 3's CronTrigger: fields before (and between) the given ones are
 * '*'; after the least significant given field they take their minimum, except
 * week and day_of_week, which stay '*'. So "hour=9" is 09:00:00 every day. */
static void named_defaults(layout_t *l)
{
    static const char *const minimum[TEMPO__CRON_NFIELDS] = {
        [TEMPO__CRON_YEAR] = "*", [TEMPO__CRON_MONTH] = "1",  [TEMPO__CRON_DAY] = "1",
        [TEMPO__CRON_WEEK] = "*", [TEMPO__CRON_DOW] = "*",    [TEMPO__CRON_HOUR] = "0",
        [TEMPO__CRON_MINUTE] = "0", [TEMPO__CRON_SECOND] = "0"};
    int last = 0;
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++)
        if (l->src[f].given)
            last = f;
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++)
        if (!l->src[f].given)
            set_literal(l, (tempo__cron_field_t)f, f < last ? "*" : minimum[f]);
}

/* One "key=value" word of the named form; the value may continue over the
 * following words that hold no '=' ("day=last fri"). */
static tempo_status_t named_key(const char *expr, size_t at, size_t len, layout_t *l,
                                size_t *key_at, int *current, tempo_error_t *err)
{
    const char *eq = memchr(expr + at, '=', len);
    int show = (int)(len > 40 ? 40 : len);
    if (!eq || eq == expr + at)
        return tempo__error_set(err, TEMPO_EPARSE,
                                "cron: column %zu: '%.*s' has no field name (write name=value, "
                                "e.g. 'hour=9')",
                                at + 1, show, expr + at);
    size_t klen = (size_t)(eq - (expr + at));
    int f = field_lookup(expr + at, klen);
    if (f < 0)
        return tempo__error_set(err, TEMPO_EPARSE,
                                "cron: column %zu: '%.*s' is not a field name (year, month, day, "
                                "week, day_of_week, hour, minute, second)",
                                at + 1, (int)(klen > 40 ? 40 : klen), expr + at);
    if (l->src[f].given)
        return tempo__error_set(err, TEMPO_EPARSE,
                                "cron: field '%s' column %zu: '%.*s' is given twice",
                                tempo__cron_field_def((tempo__cron_field_t)f, true)->name, at + 1,
                                (int)klen, expr + at);
    l->src[f] = (field_src_t){expr, at + klen + 1, len - klen - 1, true};
    key_at[f] = at;
    *current = f;
    return TEMPO_OK;
}

static tempo_status_t layout_named(const char *expr, layout_t *l, tempo_error_t *err)
{
    size_t key_at[TEMPO__CRON_NFIELDS] = {0};
    int current = -1;
    bool any = false;
    tempo_status_t st;
    for (size_t i = 0; expr[i];) {
        while (expr[i] && is_space(expr[i]))
            i++;
        if (!expr[i])
            break;
        size_t at = i;
        while (expr[i] && !is_space(expr[i]))
            i++;
        if (current >= 0 && !memchr(expr + at, '=', i - at)) {
            l->src[current].len = i - l->src[current].off;
            continue;
        }
        if ((st = named_key(expr, at, i - at, l, key_at, &current, err)))
            return st;
        any = true;
    }
    if (!any)
        return tempo__error_set(err, TEMPO_EPARSE,
                                "cron: the expression is empty (give at least one field, e.g. "
                                "'hour=9')");
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++) {
        field_src_t *s = &l->src[f];
        if (s->given && s->len == 0)
            return tempo__error_set(err, TEMPO_EPARSE,
                                    "cron: field '%s' column %zu: '%.*s' has an empty value",
                                    tempo__cron_field_def((tempo__cron_field_t)f, true)->name,
                                    key_at[f] + 1, (int)(s->off - key_at[f]), expr + key_at[f]);
    }
    named_defaults(l);
    l->form = TEMPO__CRON_FORM_FIELDS;
    return TEMPO_OK;
}

/* ---- the spec ---- */

/* Weekday bits of the form's numbering to 0 = Sunday. */
static uint8_t sunday_based_dows(uint64_t set, bool named)
{
    if (named) /* 0 = Monday: rotate left by one within 7 bits */
        return (uint8_t)(((set << 1) | (set >> 6)) & 0x7f);
    return (uint8_t)((set | (set >> 7)) & 0x7f); /* 7 is Sunday again */
}

static void fill_dow_month_mask(tempo__cron_spec_t *spec)
{
    for (int first = 0; first < 7; first++) {
        uint32_t mask = 0;
        for (int d = 1; d <= 31; d++)
            if ((spec->dows >> ((first + d - 1) % 7)) & 1)
                mask |= (uint32_t)1 << d;
        spec->dow_month_mask[first] = mask;
    }
}

/* One Gregorian cycle repeats every weekday/date/ISO-week pattern, so when the
 * year is free, 2000-2399 decides; otherwise every allowed year is tried. */
static bool feasible(const tempo__cron_spec_t *spec, bool any_year)
{
    int from = any_year ? 2000 : TEMPO__CRON_YEAR_MIN;
    int to = any_year ? 2399 : TEMPO__CRON_YEAR_MAX;
    for (int y = from; y <= to; y++) {
        if (!any_year && !tempo__cron_year_ok(spec, y))
            continue;
        for (int m = 1; m <= 12; m++)
            if (((spec->months >> m) & 1) && tempo__cron_month_days(spec, y, m))
                return true;
    }
    return false;
}

static void build_spec(const tempo__cron_parsed_t *p, bool named, tempo__cron_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->seconds = p[TEMPO__CRON_SECOND].all[0];
    spec->minutes = p[TEMPO__CRON_MINUTE].all[0];
    spec->hours = (uint32_t)p[TEMPO__CRON_HOUR].all[0];
    spec->days = (uint32_t)(p[TEMPO__CRON_DAY].all[0] << 1);
    spec->months = (uint16_t)(p[TEMPO__CRON_MONTH].all[0] << 1);
    spec->weeks = p[TEMPO__CRON_WEEK].all[0] << 1;
    spec->dows = sunday_based_dows(p[TEMPO__CRON_DOW].all[0], named);
    memcpy(spec->years, p[TEMPO__CRON_YEAR].all, sizeof spec->years);
    spec->n_day_specials = p[TEMPO__CRON_DAY].n_specials;
    spec->n_dow_specials = p[TEMPO__CRON_DOW].n_specials;
    memcpy(spec->day_specials, p[TEMPO__CRON_DAY].specials, sizeof spec->day_specials);
    memcpy(spec->dow_specials, p[TEMPO__CRON_DOW].specials, sizeof spec->dow_specials);
    spec->day_restricted = !p[TEMPO__CRON_DAY].star;
    spec->dow_restricted = !p[TEMPO__CRON_DOW].star;
    spec->week_restricted = !p[TEMPO__CRON_WEEK].star;
    spec->day_or_dow = !named && spec->day_restricted && spec->dow_restricted;
    spec->hours_follow_real_time = p[TEMPO__CRON_HOUR].star || p[TEMPO__CRON_HOUR].has_slash;
    fill_dow_month_mask(spec);
    spec->possible = feasible(spec, p[TEMPO__CRON_YEAR].star);
}

/* ---- the text ---- */

static tempo_status_t build_text(const char *expr, const layout_t *l,
                                 const tempo__cron_parsed_t *p, tempo__cron_text_t *text,
                                 tempo_error_t *err)
{
    bool named = l->form == TEMPO__CRON_FORM_FIELDS;
    memset(text, 0, sizeof *text);
    text->form = l->form;
    text->source = strdup(expr);
    bool ok = text->source != NULL;
    for (int f = 0; ok && f < TEMPO__CRON_NFIELDS; f++) {
        if (!l->src[f].given)
            continue;
        text->fields[f] = tempo__cron_field_format((tempo__cron_field_t)f, named, &p[f]);
        ok = text->fields[f] != NULL;
    }
    if (ok)
        return TEMPO_OK;
    tempo__cron_text_free(text);
    return tempo__error_set(err, TEMPO_ENOMEM, "cron: out of memory");
}

tempo_status_t tempo__cron_parse(const char *expr, bool form_fields, tempo__cron_spec_t *spec,
                                 tempo__cron_text_t *text, tempo_error_t *err)
{
    layout_t l;
    tempo__cron_parsed_t p[TEMPO__CRON_NFIELDS];
    tempo__cron_spec_t s;
    tempo__cron_text_t t;
    tempo_status_t st;
    if (!expr)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: the expression is NULL");
    if (!spec)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: no spec to parse into");
    memset(&l, 0, sizeof l);
    st = form_fields ? layout_named(expr, &l, err) : layout_crontab(expr, &l, err);
    if (st)
        return st;
    /* Parse in the order the fields were written, so the error reported is
     * the leftmost one (defaults cannot fail, their order does not matter). */
    int order[TEMPO__CRON_NFIELDS];
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++) {
        int i = f;
        for (; i > 0 && l.src[order[i - 1]].off > l.src[f].off; i--)
            order[i] = order[i - 1];
        order[i] = f;
    }
    for (int i = 0; i < TEMPO__CRON_NFIELDS; i++) {
        int f = order[i];
        const field_src_t *src = &l.src[f];
        st = tempo__cron_field_parse((tempo__cron_field_t)f, form_fields, src->base, src->off,
                                     src->len, &p[f], err);
        if (st)
            return st;
    }
    build_spec(p, form_fields, &s);
    if (text && (st = build_text(expr, &l, p, &t, err)))
        return st;
    *spec = s;
    if (text)
        *text = t;
    return TEMPO_OK;
}

void tempo__cron_text_free(tempo__cron_text_t *text)
{
    if (!text)
        return;
    free(text->source);
    text->source = NULL;
    for (int f = 0; f < TEMPO__CRON_NFIELDS; f++) {
        free(text->fields[f]);
        text->fields[f] = NULL;
    }
}
