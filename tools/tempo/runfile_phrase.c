/* Schedule files: the trigger phrases (docs/run-file.md, "Triggers"); the
 * wall-clock ones here, `every` and `at` in runfile_every.c.
 *
 *   daily at TIME                            cron  M H * * *
 *   weekly on DAYS at TIME                   cron  M H * * DAYS
 *   monthly on day N[,N...] at TIME          cron  M H N * *
 *   monthly on last day at TIME              cron  M H L * *
 *   yearly on MONTH DAY at TIME              cron  M H DAY MONTH *
 *
 * Each phrase has a fixed grammar, so it ends at a known word and the rest
 * of the line is the command. The wall-clock phrases become cron
 * expressions, written here in numbers: every spelling of a schedule
 * ("mon-fri", "Monday-Friday") builds the same expression, so a reload sees
 * no change where there is none. Everything is checked here, with columns;
 * the cron parser never sees a generated expression it could refuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

/* A list (days of the week or of the month) as cron text: long enough for
 * the longest list a word of LIST_WORD_MAX bytes can give. */
#define LIST_WORD_MAX 128
#define LIST_TEXT_MAX 512

bool tempo__rf_phrase_keyword(const tempo__rf_word_t *w)
{
    static const char *const keywords[] = {"every", "at", "daily", "weekly", "monthly", "yearly"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (tempo__rf_word_is(w, keywords[i]))
            return true;
    }
    return false;
}

/* The next word, or an error "expected WHAT after 'PREV'". */
tempo_status_t tempo__rf_need_word(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                   const tempo__rf_word_t *prev, const char *what,
                                   tempo__rf_word_t *w)
{
    if (tempo__rf_next_word(c, w))
        return TEMPO_OK;
    char q[TEMPO__RF_QUOTE_MAX];
    return tempo__rf_fail(ctx, tempo__rf_col(c), "expected %s after '%s'", what,
                          tempo__rf_quote(prev->p, prev->len, q));
}

/* The keyword `kw` must come next. */
tempo_status_t tempo__rf_expect(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                tempo__rf_word_t *prev, const char *kw)
{
    char what[32];
    snprintf(what, sizeof what, "'%s'", kw);
    tempo__rf_word_t w;
    tempo_status_t rc = tempo__rf_need_word(ctx, c, prev, what, &w);
    if (rc != TEMPO_OK)
        return rc;
    if (!tempo__rf_word_is(&w, kw)) {
        char q[TEMPO__RF_QUOTE_MAX], p[TEMPO__RF_QUOTE_MAX];
        return tempo__rf_fail(ctx, w.col, "expected '%s' after '%s', found '%s'", kw,
                              tempo__rf_quote(prev->p, prev->len, p),
                              tempo__rf_quote(w.p, w.len, q));
    }
    *prev = w;
    return TEMPO_OK;
}

/* "at TIME" */
tempo_status_t tempo__rf_at_time(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                 tempo__rf_word_t *prev, tempo__rf_trigger_t *out)
{
    tempo_status_t rc = tempo__rf_expect(ctx, c, prev, "at");
    tempo__rf_word_t w;
    if (rc == TEMPO_OK)
        rc = tempo__rf_need_word(ctx, c, prev, "a time of day (HH:MM)", &w);
    if (rc != TEMPO_OK)
        return rc;
    if (!tempo__rf_time_of_day(w.p, w.len, &out->hour, &out->minute, &out->second)) {
        char q[TEMPO__RF_QUOTE_MAX];
        return tempo__rf_fail(ctx, w.col,
                              "'%s' is not a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59:59)",
                              tempo__rf_quote(w.p, w.len, q));
    }
    *prev = w;
    return TEMPO_OK;
}

/* A cron expression at out's time of day, with the given day fields. */
static tempo_status_t set_cron(tempo__rf_ctx_t *ctx, tempo__rf_trigger_t *out, const char *day,
                               const char *month, const char *weekday)
{
    char expr[LIST_TEXT_MAX + 64];
    if (out->second != 0)
        snprintf(expr, sizeof expr, "%d %d %d %s %s %s", out->second, out->minute, out->hour, day,
                 month, weekday);
    else
        snprintf(expr, sizeof expr, "%d %d %s %s %s", out->minute, out->hour, day, month, weekday);
    out->kind = TEMPO__RF_CRON;
    out->expr = strdup(expr);
    out->expr_col = 0;
    return out->expr ? TEMPO_OK : tempo__rf_nomem(ctx);
}

/* "mon-fri,sun" -> "1-5,7": crontab numbers with 7 for Sunday, so that a
 * range over the weekend ("sat-sun", "fri-mon") is still upward. */
static tempo_status_t weekdays(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w, char *buf)
{
    char q[TEMPO__RF_QUOTE_MAX];
    if (w->len > LIST_WORD_MAX)
        return tempo__rf_fail(ctx, w->col, "the list of days '%s' is too long",
                              tempo__rf_quote(w->p, w->len, q));
    size_t n = 0, start = 0;
    buf[0] = '\0';
    for (size_t i = 0; i <= w->len; i++) {
        if (i < w->len && w->p[i] != ',')
            continue;
        const char *item = w->p + start;
        size_t len = i - start;
        const char *dash = memchr(item, '-', len);
        size_t len1 = dash ? (size_t)(dash - item) : len;
        int a = tempo__rf_weekday(item, len1);
        int b = dash ? tempo__rf_weekday(dash + 1, len - len1 - 1) : a;
        if (len == 0)
            return tempo__rf_fail(ctx, w->col + start, "empty item in the list of days '%s'",
                                  tempo__rf_quote(w->p, w->len, q));
        if (!a || !b)
            return tempo__rf_fail(ctx, w->col + start + (a ? len1 + 1 : 0),
                                  "'%s' is not a weekday name (mon..sun, or in full; numbers are "
                                  "not accepted)",
                                  a ? tempo__rf_quote(dash + 1, len - len1 - 1, q)
                                    : tempo__rf_quote(item, len1, q));
        const char *sep = n ? "," : "";
        if (a == b)
            n += (size_t)snprintf(buf + n, LIST_TEXT_MAX - n, "%s%d", sep, a);
        else if (a < b)
            n += (size_t)snprintf(buf + n, LIST_TEXT_MAX - n, "%s%d-%d", sep, a, b);
        else
            n += (size_t)snprintf(buf + n, LIST_TEXT_MAX - n, "%s%d-7,1-%d", sep, a, b);
        start = i + 1;
    }
    return TEMPO_OK;
}

/* "1,15" -> "1,15": days 1-31. */
static tempo_status_t month_days(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w, char *buf)
{
    char q[TEMPO__RF_QUOTE_MAX];
    if (w->len > LIST_WORD_MAX)
        return tempo__rf_fail(ctx, w->col, "the list of days '%s' is too long",
                              tempo__rf_quote(w->p, w->len, q));
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= w->len; i++) {
        if (i < w->len && w->p[i] != ',')
            continue;
        long day;
        if (!tempo__rf_count(w->p + start, i - start, 31, &day) || day < 1)
            return tempo__rf_fail(ctx, w->col + start, "'%s' is not a day of the month (1-31)",
                                  tempo__rf_quote(w->p + start, i - start, q));
        n += (size_t)snprintf(buf + n, LIST_TEXT_MAX - n, "%s%ld", n ? "," : "", day);
        start = i + 1;
    }
    return TEMPO_OK;
}

static tempo_status_t weekly(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_word_t *prev,
                             tempo__rf_trigger_t *out)
{
    char days[LIST_TEXT_MAX];
    tempo__rf_word_t w;
    tempo_status_t rc = tempo__rf_expect(ctx, c, prev, "on");
    if (rc == TEMPO_OK)
        rc = tempo__rf_need_word(ctx, c, prev, "weekdays (mon-fri)", &w);
    if (rc == TEMPO_OK)
        rc = weekdays(ctx, &w, days);
    if (rc == TEMPO_OK)
        rc = tempo__rf_at_time(ctx, c, &w, out);
    return rc == TEMPO_OK ? set_cron(ctx, out, "*", "*", days) : rc;
}

static tempo_status_t monthly(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_word_t *prev,
                              tempo__rf_trigger_t *out)
{
    char days[LIST_TEXT_MAX];
    tempo__rf_word_t w, list;
    tempo_status_t rc = tempo__rf_expect(ctx, c, prev, "on");
    if (rc == TEMPO_OK)
        rc = tempo__rf_need_word(ctx, c, prev, "'day N' or 'last day'", &w);
    if (rc != TEMPO_OK)
        return rc;
    if (tempo__rf_word_is(&w, "last")) {
        rc = tempo__rf_expect(ctx, c, &w, "day");
        snprintf(days, sizeof days, "L");
    } else if (tempo__rf_word_is(&w, "day")) {
        rc = tempo__rf_need_word(ctx, c, &w, "a day of the month (1-31)", &list);
        if (rc == TEMPO_OK)
            rc = month_days(ctx, &list, days);
        w = list;
    } else {
        char q[TEMPO__RF_QUOTE_MAX];
        rc = tempo__rf_fail(ctx, w.col, "expected 'day N' or 'last day' after 'on', found '%s'",
                            tempo__rf_quote(w.p, w.len, q));
    }
    if (rc == TEMPO_OK)
        rc = tempo__rf_at_time(ctx, c, &w, out);
    return rc == TEMPO_OK ? set_cron(ctx, out, days, "*", "*") : rc;
}

/* "dec 24" or "24 dec". A day the month never has is an error, not a
 * schedule that never fires: "feb 30" is a typo. February 29 is allowed
 * (leap years only). */
static tempo_status_t yearly(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_word_t *prev,
                             tempo__rf_trigger_t *out)
{
    static const char *const names[] = {"January", "February", "March",     "April",
                                        "May",     "June",     "July",      "August",
                                        "September", "October", "November", "December"};
    static const int max_day[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    tempo__rf_word_t a, b;
    tempo_status_t rc = tempo__rf_expect(ctx, c, prev, "on");
    if (rc == TEMPO_OK)
        rc = tempo__rf_need_word(ctx, c, prev, "a month and a day (dec 24)", &a);
    if (rc == TEMPO_OK)
        rc = tempo__rf_need_word(ctx, c, &a, "a month and a day (dec 24)", &b);
    if (rc != TEMPO_OK)
        return rc;
    int month = tempo__rf_month(a.p, a.len);
    tempo__rf_word_t day_word = b;
    if (!month) {
        month = tempo__rf_month(b.p, b.len);
        day_word = a;
    }
    long day;
    char q[TEMPO__RF_QUOTE_MAX];
    if (!month)
        return tempo__rf_fail(ctx, a.col,
                              "expected a month and a day after 'on' (dec 24), found '%s'",
                              tempo__rf_quote(a.p, a.len, q));
    if (!tempo__rf_count(day_word.p, day_word.len, 99, &day) || day < 1)
        return tempo__rf_fail(ctx, day_word.col, "'%s' is not a day of the month",
                              tempo__rf_quote(day_word.p, day_word.len, q));
    if (day > max_day[month - 1])
        return tempo__rf_fail(ctx, day_word.col, "%s has no day %ld", names[month - 1], day);
    rc = tempo__rf_at_time(ctx, c, &b, out);
    if (rc != TEMPO_OK)
        return rc;
    char d[8], m[8];
    snprintf(d, sizeof d, "%ld", day);
    snprintf(m, sizeof m, "%d", month);
    return set_cron(ctx, out, d, m, "*");
}

tempo_status_t tempo__rf_phrase_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                      const tempo__rf_word_t *first, tempo__rf_trigger_t *out)
{
    tempo__rf_word_t prev = *first;
    if (tempo__rf_word_is(first, "every"))
        return tempo__rf_every_parse(ctx, c, &prev, out);
    if (tempo__rf_word_is(first, "at"))
        return tempo__rf_at_parse(ctx, c, &prev, out);
    if (tempo__rf_word_is(first, "daily")) {
        tempo_status_t rc = tempo__rf_at_time(ctx, c, &prev, out);
        return rc == TEMPO_OK ? set_cron(ctx, out, "*", "*", "*") : rc;
    }
    if (tempo__rf_word_is(first, "weekly"))
        return weekly(ctx, c, &prev, out);
    if (tempo__rf_word_is(first, "monthly"))
        return monthly(ctx, c, &prev, out);
    return yearly(ctx, c, &prev, out);
}
