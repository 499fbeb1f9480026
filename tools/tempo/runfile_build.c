/* Schedule files: from a parsed trigger to a tempo_trigger_t, through the
 * public constructors only.
 *
 * The parser builds every trigger twice: once on its line in UTC, so that a
 * bad expression is reported in file order (before the settings below it
 * are read), and once when the schedule's block is complete and its zone
 * known. Only the second is kept. A library error names a column of the text
 * it was given; it is moved to the column of that text in the file. */
#include <stdio.h>

#include "runfile_internal.h"

/* The column in the file of column `n` (1-based) of the instant's text,
 * which is its words joined by a 'T' that the file does not have. */
static size_t instant_column(const tempo__rf_instant_t *in, size_t n)
{
    if (n <= in->len1 || in->col2 == 0)
        return in->col1 + n - 1;
    size_t k = n - in->len1 - 1; /* 0: the 'T'; 1: the time's first byte */
    return in->col2 + (k ? k - 1 : 0);
}

static tempo_status_t read_instant(tempo__rf_ctx_t *ctx, const tempo__rf_instant_t *in,
                                   const char *zone_name, tempo_time_t *out)
{
    tempo_error_t err = {0};
    const tempo_zone_t *zone;
    tempo_status_t st = tempo_zone_get(zone_name, &zone, &err);
    if (st == TEMPO_OK)
        st = tempo_time_parse(in->text, zone, out, &err);
    if (st == TEMPO_OK)
        return TEMPO_OK;
    if (st == TEMPO_ENOMEM)
        return tempo__rf_nomem(ctx);
    char text[TEMPO_ERROR_MESSAGE_MAX];
    size_t n, col = in->col1;
    if (tempo__rf_lib_column(err.message, &n, text, sizeof text))
        col = instant_column(in, n);
    return tempo__rf_fail(ctx, col, "%s", text);
}

static tempo_status_t cron(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t, const char *zone,
                           tempo_dst_gap_t dst_gap, tempo_trigger_t **out)
{
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = zone;
    o.dst_gap = dst_gap;
    tempo_error_t err = {0};
    tempo_status_t st = t->kind == TEMPO__RF_FIELDS
                            ? tempo_trigger_cron_fields_new(t->expr, &o, out, &err)
                            : tempo_trigger_cron_new(t->expr, &o, out, &err);
    if (st == TEMPO_OK)
        return TEMPO_OK;
    if (t->expr_col)
        return tempo__rf_fail_lib(ctx, t->expr_col, st, &err);
    /* A phrase's expression is checked before it is made; if the library
     * still refuses it, its column means nothing in the file. */
    char text[TEMPO_ERROR_MESSAGE_MAX];
    size_t n;
    tempo__rf_lib_column(err.message, &n, text, sizeof text);
    return st == TEMPO_ENOMEM ? tempo__rf_nomem(ctx) : tempo__rf_fail(ctx, t->col, "%s", text);
}

static tempo_status_t interval(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t,
                               const char *zone, tempo_trigger_t **out)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = t->period;
    /* The epoch, unless told: the same line always means the same times. */
    o.start = 0;
    tempo_status_t st = t->has_instant ? read_instant(ctx, &t->instant, zone, &o.start) : TEMPO_OK;
    if (st != TEMPO_OK)
        return st;
    tempo_error_t err = {0};
    st = tempo_trigger_interval_new(&o, out, &err);
    return st == TEMPO_OK ? st : tempo__rf_fail_lib(ctx, t->col, st, &err);
}

static tempo_status_t date(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t, const char *zone,
                           tempo_trigger_t **out)
{
    tempo_time_t at;
    tempo_status_t st = read_instant(ctx, &t->instant, zone, &at);
    if (st != TEMPO_OK)
        return st;
    tempo_error_t err = {0};
    st = tempo_trigger_date_new(at, out, &err);
    return st == TEMPO_OK ? st : tempo__rf_fail_lib(ctx, t->instant.col1, st, &err);
}

static tempo_status_t calendar(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t,
                               const char *zone, tempo_dst_gap_t dst_gap, tempo_trigger_t **out)
{
    tempo_calendar_options_t o = TEMPO_CALENDAR_OPTIONS_INIT;
    o.years = t->years, o.months = t->months, o.weeks = t->weeks, o.days = t->days;
    o.hour = t->hour, o.minute = t->minute, o.second = t->second;
    o.start_year = t->start_year, o.start_month = t->start_month, o.start_day = t->start_day;
    o.zone = zone;
    o.dst_gap = dst_gap;
    tempo_error_t err = {0};
    tempo_status_t st = tempo_trigger_calendar_new(&o, out, &err);
    /* Its only complaints about parsed input are about the start date. */
    return st == TEMPO_OK ? st : tempo__rf_fail_lib(ctx, t->date_col, st, &err);
}

tempo_status_t tempo__rf_trigger_build(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t,
                                       const char *zone, tempo_dst_gap_t dst_gap,
                                       tempo_trigger_t **out)
{
    *out = NULL;
    switch (t->kind) {
    case TEMPO__RF_CRON:
    case TEMPO__RF_FIELDS:
        return cron(ctx, t, zone, dst_gap, out);
    case TEMPO__RF_INTERVAL:
        return interval(ctx, t, zone, out);
    case TEMPO__RF_DATE:
        return date(ctx, t, zone, out);
    case TEMPO__RF_CALENDAR:
        return calendar(ctx, t, zone, dst_gap, out);
    }
    return tempo__rf_fail(ctx, t->col, "internal error: trigger kind %d", (int)t->kind);
}
