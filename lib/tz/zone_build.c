/* Building a zone's tables from a TZif view, a POSIX rule, or one fixed state.
 *
 * RFC 8536 §3.2: before the first transition time type 0 applies; from the
 * last transition on, the footer's rule does (and with no transitions it
 * applies always). A well-formed file's last type agrees with its footer;
 * when they disagree we let the footer win from the last transition on, as
 * the RFC words it (and as Python's zoneinfo behaves just after it).
 *
 * The footer is then expanded into explicit transitions up to
 * TEMPO__TZ_TABLE_YEAR_END, so the tables answer almost every lookup and the
 * rule is evaluated directly only beyond (rule_after) or, for a zone that is
 * nothing but a rule (a TZ variable), before its first expanded year. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/civil.h"
#include "zone_internal.h"

/* A zone that is only a rule gets explicit transitions from this year on. */
#define RULE_ONLY_FIRST_YEAR 1900
/* A footer is expanded from the year before the last transition; a file whose
 * last transition comes before year 1 with a DST footer would need hundreds of
 * thousands of years of expansion and is refused (no real zone is like that). */
#define EXPAND_FIRST_YEAR_MIN 1

typedef struct entry {
    int64_t at;
    tempo__tz_state_t state;
} entry_t;

typedef struct draft {
    entry_t *e;
    size_t n;
    tempo__tz_state_t initial;
    bool has_rule;
    int64_t rule_before, rule_after;
} draft_t;

static int64_t year_of(int64_t t)
{
    int64_t y;
    int m, d;
    tempo__civil_from_days(tempo__floor_div(t, 86400), &y, &m, &d);
    return y;
}

/* The file's transitions that can matter: [lo, hi) within ±SEC_LIMIT. Those
 * before only decide the initial state; those after are never reached. */
static void file_range(const tempo__tzif_t *f, uint32_t *lo, uint32_t *hi,
                       tempo__tz_state_t *initial)
{
    uint32_t i = 0;
    *initial = tempo__tzif_state(f, 0);
    while (i < f->timecnt && tempo__tzif_time(f, i) < -TEMPO__TZ_SEC_LIMIT)
        *initial = tempo__tzif_state(f, tempo__tzif_index(f, i++));
    *lo = i;
    while (i < f->timecnt && tempo__tzif_time(f, i) <= TEMPO__TZ_SEC_LIMIT)
        i++;
    *hi = i;
}

/* Append the rule's transitions of years [first, last] that come after
 * `after`, and note where the table stops. */
static void expand(draft_t *d, const tempo__tz_rule_t *r, int64_t first, int64_t last,
                   int64_t after)
{
    int64_t ev[2];
    for (int64_t y = first; y <= last; y++) {
        tempo__tz_rule_year(r, y, ev);
        for (int k = 0; k < 2; k++)
            if (ev[k] > after)
                d->e[d->n++] = (entry_t){ev[k], k == 0 ? tempo__tz_rule_first_state(r)
                                                       : tempo__tz_rule_second_state(r)};
    }
    tempo__tz_rule_year(r, last + 1, ev);
    d->has_rule = true;
    d->rule_after = ev[0];
}

static tempo__tz_state_t rule_state_at(const tempo__tz_rule_t *r, int64_t t)
{
    if (r->kind == TEMPO__TZ_RULE_FIXED)
        return r->fixed;
    tempo__tz_span_t span;
    tempo__tz_state_t state;
    tempo__tz_rule_span(r, t, &span, &state);
    return state;
}

/* Fill the draft: the file's transitions, then the rule's. */
static tempo_status_t draft_fill(draft_t *d, const tempo__zone_source_t *src,
                                 const tempo__tz_rule_t *r, char *why, size_t why_size)
{
    uint32_t lo = 0, hi = 0;
    d->initial = src->fixed;
    d->rule_before = INT64_MIN;
    if (src->tzif) {
        file_range(src->tzif, &lo, &hi, &d->initial);
        if (hi < src->tzif->timecnt)
            r = NULL; /* the footer only starts past the instants we serve */
    }
    size_t cap = hi - lo;
    int64_t last_t = 0, first_year = RULE_ONLY_FIRST_YEAR, last_year = TEMPO__TZ_TABLE_YEAR_END;
    if (r && r->kind == TEMPO__TZ_RULE_ALTERNATING) {
        if (cap > 0) {
            last_t = tempo__tzif_time(src->tzif, hi - 1);
            first_year = year_of(last_t) - 1;
            if (year_of(last_t) + 1 > last_year)
                last_year = year_of(last_t) + 1;
        }
        if (first_year < EXPAND_FIRST_YEAR_MIN) {
            snprintf(why, why_size, "the last transition (year %lld) is too early for a "
                                    "footer rule with DST", (long long)(first_year + 1));
            return TEMPO_EFORMAT;
        }
        cap += 2 * (size_t)(last_year - first_year + 1);
    }
    d->e = malloc((cap ? cap : 1) * sizeof *d->e);
    if (!d->e)
        return TEMPO_ENOMEM;
    for (uint32_t i = lo; i < hi; i++)
        d->e[d->n++] = (entry_t){tempo__tzif_time(src->tzif, i),
                                 tempo__tzif_state(src->tzif, tempo__tzif_index(src->tzif, i))};
    if (!r)
        return TEMPO_OK;
    if (d->n > 0) {
        d->e[d->n - 1].state = rule_state_at(r, last_t);
        if (r->kind == TEMPO__TZ_RULE_ALTERNATING)
            expand(d, r, first_year, last_year, last_t);
    } else if (r->kind == TEMPO__TZ_RULE_FIXED) {
        d->initial = r->fixed;
    } else {
        d->initial = tempo__tz_rule_second_state(r);
        expand(d, r, first_year, last_year, INT64_MIN);
        d->rule_before = d->e[0].at;
    }
    return TEMPO_OK;
}

static void widen(tempo_zone_t *z, int32_t offset)
{
    if (offset < z->min_offset)
        z->min_offset = offset;
    if (offset > z->max_offset)
        z->max_offset = offset;
}

/* Copy the draft into one block: the full table without repeated states and
 * the span table without repeated offsets (tz.h: spans merge transitions
 * that leave the offset alone). */
static tempo_status_t tables(tempo_zone_t *z, const draft_t *d)
{
    size_t n = 0, m = 0;
    tempo__tz_state_t cur = d->initial;
    for (size_t i = 0; i < d->n; i++) {
        n += !tempo__tz_state_eq(d->e[i].state, cur);
        m += d->e[i].state.offset != cur.offset;
        cur = d->e[i].state;
    }
    /* int64 arrays first, then the 4-byte ones: every array stays aligned. */
    char *block = malloc((n + m) * sizeof(int64_t) + (n + 1) * sizeof(tempo__tz_state_t) +
                         (m + 1) * sizeof(int32_t));
    if (!block)
        return TEMPO_ENOMEM;
    int64_t *at = (int64_t *)block, *span_at = at + n;
    tempo__tz_state_t *state = (tempo__tz_state_t *)(span_at + m);
    int32_t *span_offset = (int32_t *)(state + n + 1);
    state[0] = d->initial;
    span_offset[0] = d->initial.offset;
    z->min_offset = z->max_offset = d->initial.offset;
    n = m = 0;
    for (size_t i = 0; i < d->n; i++) {
        tempo__tz_state_t s = d->e[i].state;
        if (!tempo__tz_state_eq(s, state[n])) {
            at[n] = d->e[i].at;
            state[++n] = s;
        }
        if (s.offset != span_offset[m]) {
            span_at[m] = d->e[i].at;
            span_offset[++m] = s.offset;
        }
        widen(z, s.offset);
    }
    z->storage = block;
    z->n = n;
    z->at = at;
    z->state = state;
    z->span_n = m;
    z->span_at = span_at;
    z->span_offset = span_offset;
    return TEMPO_OK;
}

tempo_status_t tempo__zone_build(const char *name, const tempo__zone_source_t *src,
                                 tempo_zone_t **out, char *why, size_t why_size)
{
    tempo__tz_rule_t rule = {0};
    const tempo__tz_rule_t *r = NULL;
    if (src->rule) {
        const char *reason = NULL;
        rule = *src->rule;
        if (!tempo__tz_rule_prepare(&rule, &reason)) {
            snprintf(why, why_size, "%s", reason);
            return TEMPO_EFORMAT;
        }
        r = &rule;
    }
    draft_t d = {0};
    tempo_status_t rc = draft_fill(&d, src, r, why, why_size);
    tempo_zone_t *z = rc == TEMPO_OK ? calloc(1, sizeof *z) : NULL;
    char *copy = z ? strdup(name) : NULL;
    if (rc == TEMPO_OK && !copy)
        rc = TEMPO_ENOMEM;
    if (rc == TEMPO_OK)
        rc = tables(z, &d);
    free(d.e);
    if (rc != TEMPO_OK) {
        if (rc == TEMPO_ENOMEM)
            snprintf(why, why_size, "out of memory");
        free(copy);
        free(z);
        return rc;
    }
    z->name = copy;
    z->has_rule = d.has_rule;
    z->rule_before = d.rule_before;
    z->rule_after = d.rule_after;
    if (d.has_rule) {
        z->rule = rule;
        widen(z, rule.std_offset);
        widen(z, rule.dst_offset);
    }
    *out = z;
    return TEMPO_OK;
}

void tempo__zone_free(tempo_zone_t *zone)
{
    if (zone) {
        free(zone->storage);
        free((char *)zone->name);
        free(zone);
    }
}
