/* Schedule files: the phrases `every` and `at` (docs/run-file.md).
 *
 *   every DURATION [from INSTANT]       interval
 *   every N UNIT at TIME from DATE      calendar interval
 *   at INSTANT                          date
 *
 * "every 2d" (elapsed time) and "every 2 days at ..." (the calendar) differ
 * only by a blank, so the words of an elapsed period ("every 15 minutes")
 * are refused rather than read as either. An interval without "from" counts
 * from the Unix epoch, and a calendar interval must say its first day: a
 * trigger never depends on when the file was read. */
#include <stdio.h>
#include <string.h>

#include "runfile_internal.h"

static bool time_like(const tempo__rf_word_t *w)
{
    const char *p = w->p;
    return w->len >= 3 && p[0] >= '0' && p[0] <= '9' &&
           (p[1] == ':' || (p[1] >= '0' && p[1] <= '9' && p[2] == ':'));
}

/* An ISO 8601 instant: one word, or a date and a time of day as two. The
 * library checks it when the trigger is built (runfile_build.c). */
static tempo_status_t instant(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_word_t *prev,
                              tempo__rf_trigger_t *out)
{
    tempo__rf_word_t w, t;
    tempo_status_t rc = tempo__rf_need_word(ctx, c, prev, "a date and time (2027-01-01T00:00)", &w);
    if (rc != TEMPO_OK)
        return rc;
    if (w.len > 40) {
        char q[TEMPO__RF_QUOTE_MAX];
        return tempo__rf_fail(ctx, w.col, "'%s' is not a date and time (e.g. 2027-01-01T00:00)",
                              tempo__rf_quote(w.p, w.len, q));
    }
    tempo__rf_instant_t *in = &out->instant;
    memcpy(in->text, w.p, w.len);
    in->text[w.len] = '\0';
    in->len1 = w.len, in->col1 = w.col, in->col2 = 0;
    bool date_only = w.len == 10 && !memchr(w.p, 'T', w.len) && !memchr(w.p, 't', w.len);
    if (date_only && tempo__rf_peek_word(c, &t) && time_like(&t) && t.len <= 20) {
        tempo__rf_next_word(c, &t);
        snprintf(in->text + w.len, sizeof in->text - w.len, "T%.*s", (int)t.len, t.p);
        in->col2 = t.col;
        w = t;
    }
    out->has_instant = true;
    *prev = w;
    return TEMPO_OK;
}

/* The unit of "every N UNIT": sets the count on `out`; false if not a unit. */
static bool calendar_unit(const tempo__rf_word_t *w, int n, tempo__rf_trigger_t *out)
{
    if (tempo__rf_word_is(w, "day") || tempo__rf_word_is(w, "days"))
        out->days = n;
    else if (tempo__rf_word_is(w, "week") || tempo__rf_word_is(w, "weeks"))
        out->weeks = n;
    else if (tempo__rf_word_is(w, "month") || tempo__rf_word_is(w, "months"))
        out->months = n;
    else if (tempo__rf_word_is(w, "year") || tempo__rf_word_is(w, "years"))
        out->years = n;
    else
        return false;
    return true;
}

/* YYYY-MM-DD; whether the date exists is the calendar trigger's check. */
static bool date(const tempo__rf_word_t *w, tempo__rf_trigger_t *out)
{
    if (w->len != 10 || w->p[4] != '-' || w->p[7] != '-')
        return false;
    long y, m, d;
    if (!tempo__rf_count(w->p, 4, 9999, &y) || !tempo__rf_count(w->p + 5, 2, 99, &m) ||
        !tempo__rf_count(w->p + 8, 2, 99, &d))
        return false;
    out->start_year = (int32_t)y, out->start_month = (int)m, out->start_day = (int)d;
    out->date_col = w->col;
    return true;
}

/* every N UNIT at TIME from DATE; `count` is N, the cursor at UNIT. */
static tempo_status_t every_calendar(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                     const tempo__rf_word_t *count, tempo__rf_trigger_t *out)
{
    char q[TEMPO__RF_QUOTE_MAX];
    long n;
    if (!tempo__rf_count(count->p, count->len, 1000, &n) || n < 1)
        return tempo__rf_fail(ctx, count->col, "'%s' is not a count (1-1000)",
                              tempo__rf_quote(count->p, count->len, q));
    tempo__rf_word_t unit, prev, w;
    tempo__rf_next_word(c, &unit);
    calendar_unit(&unit, (int)n, out);
    prev = unit;
    tempo_status_t rc = tempo__rf_at_time(ctx, c, &prev, out);
    if (rc != TEMPO_OK)
        return rc;
    /* No default start: "every 2 weeks" has no meaning without a first week. */
    if (!tempo__rf_peek_word(c, &w) || !tempo__rf_word_is(&w, "from"))
        return tempo__rf_fail(ctx, tempo__rf_peek_word(c, &w) ? w.col : tempo__rf_col(c),
                              "expected 'from DATE' after '%.*s': 'every N %.*s' needs its first "
                              "day (e.g. from 2027-01-04)",
                              (int)prev.len, prev.p, (int)unit.len, unit.p);
    tempo__rf_next_word(c, &prev);
    rc = tempo__rf_need_word(ctx, c, &prev, "a date (YYYY-MM-DD)", &w);
    if (rc != TEMPO_OK)
        return rc;
    if (!date(&w, out))
        return tempo__rf_fail(ctx, w.col, "'%s' is not a date (YYYY-MM-DD)",
                              tempo__rf_quote(w.p, w.len, q));
    out->kind = TEMPO__RF_CALENDAR;
    return TEMPO_OK;
}

tempo_status_t tempo__rf_every_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                     tempo__rf_word_t *prev, tempo__rf_trigger_t *out)
{
    tempo__rf_word_t w, next;
    tempo_status_t rc =
        tempo__rf_need_word(ctx, c, prev, "a period (15m) or 'N days|weeks|months|years'", &w);
    if (rc != TEMPO_OK)
        return rc;
    long n;
    bool is_count = tempo__rf_count(w.p, w.len, 999999999, &n);
    bool has_next = tempo__rf_peek_word(c, &next);
    tempo__rf_trigger_t probe = {0};
    if (is_count && has_next && calendar_unit(&next, 1, &probe))
        return every_calendar(ctx, c, &w, out);
    if (is_count && has_next) {
        /* "every 15 minutes": the words of an elapsed period are refused,
         * so that "every 2 days" can only mean the calendar. */
        char q[TEMPO__RF_QUOTE_MAX], r[TEMPO__RF_QUOTE_MAX];
        return tempo__rf_fail(ctx, w.col,
                              "'%s %s': write an elapsed period as one word (15m, 2h, 1d12h), or a "
                              "calendar interval as 'every N days|weeks|months|years at HH:MM from "
                              "DATE'",
                              tempo__rf_quote(w.p, w.len, q), tempo__rf_quote(next.p, next.len, r));
    }
    rc = tempo__rf_read_duration(ctx, &w, &out->period);
    if (rc != TEMPO_OK)
        return rc;
    if (out->period == 0)
        return tempo__rf_fail(ctx, w.col, "the period must be longer than 0");
    out->kind = TEMPO__RF_INTERVAL;
    *prev = w;
    if (has_next && tempo__rf_word_is(&next, "from")) {
        tempo__rf_next_word(c, prev);
        return instant(ctx, c, prev, out);
    }
    return TEMPO_OK;
}

tempo_status_t tempo__rf_at_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                  tempo__rf_word_t *prev, tempo__rf_trigger_t *out)
{
    out->kind = TEMPO__RF_DATE;
    return instant(ctx, c, prev, out);
}
