/* The cron trigger: a compiled spec, a zone, bounds, and the DST policy that
 * maps matching wall-clock times to instants.
 *
 * The policy (DESIGN.md §3, docs/dst.md) is defined on the real time line cut
 * into spans of constant UTC offset (tz/tz.h). Inside one span wall time is
 * just instant + offset, so the wall-clock search of cron_next.c applies
 * directly. Only at span borders does anything special happen:
 *
 *   - hours '*' or stepped ("follow real time"): an instant fires iff its wall
 *     time matches. Wall times inside a gap never occur; wall times inside a
 *     fold occur once per span and so fire twice. Nothing else to do.
 *   - fixed hours: a span that starts with a gap (offset grew) fires once at its
 *     first instant when any wall time inside the gap matches (policy SHIFT);
 *     a span that starts with a fold (offset shrank) skips the wall times the
 *     previous span already lived through, so a match fires at its first
 *     occurrence only.
 *   - policy SKIP: gaps fire nothing, for every schedule.
 *
 * The walk visits spans in order and stops at the first fire, so next() costs
 * one span lookup and one wall search in the common case. It is bounded: each
 * span either yields a fire or moves on, and the wall search answers "none"
 * past TEMPO__CRON_YEAR_MAX, where spans stop mattering. */
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "cron.h"
#include "text.h"
#include "trigger_internal.h"
#include "tz/tz.h"
#include "util/civil.h"
#include "util/error_internal.h"
#include "util/options.h"


typedef struct cron_trigger {
    tempo_trigger_t base;
    tempo__cron_spec_t spec;
    const tempo_zone_t *zone;
    tempo_time_t start, end;
    tempo_dst_gap_t dst_gap;
    bool form_fields;
    char *zone_name; /* as given: stored so a reload resolves it the same way */
    tempo__cron_text_t text;
} cron_trigger_t;

/* Spans to visit before giving up. A real zone changes offset at most a few
 * times a year, and the wall search returns "none" after year 2999, so this
 * is never reached; it only caps the damage of a corrupt zone. */
#define MAX_SPANS 8192

static const cron_trigger_t *as_cron(const tempo_trigger_t *t)
{
    return (const cron_trigger_t *)t;
}

/* No zone is ever more than this far from UTC (RFC 8536 bounds UT offsets to
 * -89999..93599 s). */
#define MAX_OFFSET (26 * 3600)

/* The first fire instant (seconds) at or after t.
 *
 * Skipping fruitless spans: a year field far in the future (or past) would
 * otherwise make the walk visit two spans a year. Let W be the first matching
 * wall time at or after the start's wall time t0 + o0. A fire f has a wall
 * time w(f) = f + o(f). Either w(f) >= W, so f >= W - MAX_OFFSET; or w(f) is
 * below t0 + o0 — possible only in a fold, and only while f - t0 < o0 - o(f)
 * <= 2 * MAX_OFFSET. A gap-shifted fire at a border s needs a matching wall
 * time below s + o(s), so it obeys the same bound. Hence once the walk is
 * 2 * MAX_OFFSET past t0 it may jump straight to W - MAX_OFFSET, and when no
 * W exists at all there is no fire. */
static int64_t next_instant(const cron_trigger_t *c, int64_t t)
{
    const tempo__cron_spec_t *spec = &c->spec;
    bool fixed = !spec->hours_follow_real_time;
    tempo__tz_span_t sp;
    tempo__zone_span(c->zone, t, &sp);
    const int64_t t0 = t, wall0 = t + sp.offset;
    int64_t first_match = -1; /* W, computed only when the walk gets long */

    for (int i = 0; i < MAX_SPANS; i++) {
        int64_t o = sp.offset, prev = sp.prev_offset;
        bool entering = t == sp.start; /* the border itself is still ahead */

        if (entering && fixed && o > prev && c->dst_gap == TEMPO_DST_GAP_SHIFT &&
            tempo__cron_next_wall(spec, sp.start + prev, sp.start + o) != INT64_MAX)
            return sp.start;

        int64_t from = t + o;
        if (fixed && o < prev && from < sp.start + prev)
            from = sp.start + prev; /* already lived in the previous span */
        int64_t until = sp.end == INT64_MAX ? INT64_MAX : sp.end + o;
        int64_t wall = tempo__cron_next_wall(spec, from, until);
        if (wall != INT64_MAX)
            return wall - o;
        if (sp.end == INT64_MAX)
            return INT64_MAX;
        t = sp.end;
        if (t - t0 > 2 * MAX_OFFSET) {
            if (first_match < 0)
                first_match = tempo__cron_next_wall(spec, wall0, INT64_MAX);
            if (first_match == INT64_MAX)
                return INT64_MAX;
            if (first_match - MAX_OFFSET > t)
                t = first_match - MAX_OFFSET;
        }
        tempo__zone_span(c->zone, t, &sp);
    }
    return INT64_MAX;
}

/* Seconds beyond which no cron fires (after YEAR_MAX in any zone). */
#define LAST_SECOND ((INT64_C(1) << 40))

static tempo_time_t cron_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const cron_trigger_t *c = as_cron(t);
    if (!c->spec.possible)
        return TEMPO_TIME_NONE;
    if (c->start != TEMPO_TIME_NONE && after < c->start)
        after = c->start - 1;
    /* Cron resolution is one second: the first candidate is the next whole
     * second strictly after `after`. */
    int64_t s = tempo__floor_div(after, TEMPO_USEC_PER_SEC) + 1;
    if (s > LAST_SECOND)
        return TEMPO_TIME_NONE;
    int64_t fire = next_instant(c, s);
    if (fire == INT64_MAX)
        return TEMPO_TIME_NONE;
    tempo_time_t us = fire * TEMPO_USEC_PER_SEC;
    if (c->end != TEMPO_TIME_NONE && us > c->end)
        return TEMPO_TIME_NONE;
    return us;
}

static void cron_destroy(tempo_trigger_t *t)
{
    cron_trigger_t *c = (cron_trigger_t *)t;
    tempo__cron_text_free(&c->text);
    free(c->zone_name);
    free(c);
}

static tempo_status_t cron_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const cron_trigger_t *c = as_cron(t);
    bool ok = BSON_APPEND_UTF8(doc, "expr", c->text.source) &&
              BSON_APPEND_UTF8(doc, "form", c->form_fields ? "fields" : "crontab") &&
              BSON_APPEND_UTF8(doc, "zone", c->zone_name) &&
              (c->start == TEMPO_TIME_NONE || BSON_APPEND_INT64(doc, "start", c->start)) &&
              (c->end == TEMPO_TIME_NONE || BSON_APPEND_INT64(doc, "end", c->end)) &&
              BSON_APPEND_UTF8(doc, "dst_gap", tempo__dst_gap_name(c->dst_gap));
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ERANGE, "trigger 'cron': document too large");
}

static int cron_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    const cron_trigger_t *c = as_cron(t);
    tempo__text_t out;
    tempo__text_init(&out, buf, size);
    /* Describe into the caller's buffer, then append; the text builder keeps
     * counting past a full buffer so the snprintf-style result stays exact. */
    out.len = (size_t)tempo__cron_describe(&c->spec, &c->text, buf, size);
    /* "local" alone would not tell the reader which zone the host has. */
    const char *resolved = tempo_zone_name(c->zone);
    bool local = strcmp(c->zone_name, "local") == 0 && strcmp(resolved, "local") != 0;
    tempo__text_printf(&out, " (%s%s%s%s)", c->zone_name, local ? " time, " : "", local ? resolved : "",
                       c->dst_gap == TEMPO_DST_GAP_SKIP ? ", times in DST gaps skipped" : "");
    return tempo__text_result(&out);
}

static const tempo__trigger_ops_t cron_ops = {
    .name = "cron",
    .version = 1,
    .next = cron_next,
    .serialize = cron_serialize,
    .describe = cron_describe,
    .destroy = cron_destroy,
};

static tempo_status_t cron_build(const char *expr, bool form_fields, const tempo_cron_options_t *opts_in,
                                 tempo_trigger_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: out is NULL");
    if (!expr)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: expression is NULL");
    tempo_cron_options_t opts = TEMPO_CRON_OPTIONS_INIT;
    if (!tempo__options_copy(&opts, sizeof opts, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL, "cron: options.size %zu is not a size this build knows",
                                opts_in->size);
    if (opts.dst_gap != TEMPO_DST_GAP_SHIFT && opts.dst_gap != TEMPO_DST_GAP_SKIP)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: dst_gap %d is neither SHIFT nor SKIP",
                                (int)opts.dst_gap);
    if (opts.start != TEMPO_TIME_NONE && opts.end != TEMPO_TIME_NONE && opts.end < opts.start)
        return tempo__error_set(err, TEMPO_EINVAL, "cron: end is before start");

    const char *zone_name = opts.zone ? opts.zone : "local";
    const tempo_zone_t *zone;
    tempo_status_t rc = tempo_zone_get(zone_name, &zone, err);
    if (rc != TEMPO_OK)
        return tempo__error_prefix(err, rc, "cron");

    cron_trigger_t *c = calloc(1, sizeof *c);
    char *zname = strdup(zone_name);
    if (!c || !zname) {
        free(c);
        free(zname);
        return tempo__error_set(err, TEMPO_ENOMEM, "cron: out of memory");
    }
    rc = tempo__cron_parse(expr, form_fields, &c->spec, &c->text, err);
    if (rc != TEMPO_OK) {
        free(c);
        free(zname);
        return rc;
    }
    tempo__trigger_init(&c->base, &cron_ops);
    c->zone = zone;
    c->zone_name = zname;
    c->start = opts.start;
    c->end = opts.end;
    c->dst_gap = opts.dst_gap;
    c->form_fields = form_fields;
    *out = &c->base;
    return TEMPO_OK;
}

tempo_status_t tempo_trigger_cron_new(const char *expr, const tempo_cron_options_t *opts,
                                      tempo_trigger_t **out, tempo_error_t *err)
{
    return cron_build(expr, false, opts, out, err);
}

tempo_status_t tempo_trigger_cron_fields_new(const char *fields, const tempo_cron_options_t *opts,
                                             tempo_trigger_t **out, tempo_error_t *err)
{
    return cron_build(fields, true, opts, out, err);
}

int tempo_trigger_cron_normalized(const tempo_trigger_t *t, char *buf, size_t size)
{
    if (!t || t->ops != &cron_ops)
        return -1;
    return tempo__cron_normalize(&as_cron(t)->text, buf, size);
}

tempo_status_t tempo__cron_load(const bson_t *doc, int v, tempo_trigger_t **out, tempo_error_t *err)
{
    (void)v; /* only version 1 exists */
    const char *expr, *form, *zone;
    tempo_cron_options_t opts = TEMPO_CRON_OPTIONS_INIT;
    tempo_status_t rc;
    if ((rc = tempo__bson_read_utf8(doc, "cron", "expr", true, &expr, err)) ||
        (rc = tempo__bson_read_utf8(doc, "cron", "form", true, &form, err)) ||
        (rc = tempo__bson_read_utf8(doc, "cron", "zone", true, &zone, err)) ||
        (rc = tempo__bson_read_dst_gap(doc, "cron", "dst_gap", &opts.dst_gap, err)) ||
        (rc = tempo__bson_read_time(doc, "cron", "start", &opts.start, err)) ||
        (rc = tempo__bson_read_time(doc, "cron", "end", &opts.end, err)))
        return rc;
    bool fields = strcmp(form, "fields") == 0;
    if (!fields && strcmp(form, "crontab") != 0)
        return tempo__error_set(err, TEMPO_EFORMAT,
                                "trigger 'cron': field 'form' is '%s', not 'crontab' or 'fields'", form);
    opts.zone = zone;
    return tempo__bson_stored_error(cron_build(expr, fields, &opts, out, err), err);
}
