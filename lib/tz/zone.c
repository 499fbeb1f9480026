/* Lookups on a built zone: the hot path of every trigger.
 *
 * Zones are immutable once published (zone_get.c), so these read without
 * locks or atomics, allocate nothing and cost one binary search. Only
 * instants past the expanded table (after TEMPO__TZ_TABLE_YEAR_END) or before
 * a rule-only zone's first expanded year evaluate the rule itself. */
#include "zone_internal.h"

/* How many entries of the ascending a[0..n) are <= t. The halving loop has a
 * fixed trip count for a given n and its one condition becomes a conditional
 * move, so there are no mispredicted branches on random instants. */
static inline size_t count_le(const int64_t *a, size_t n, int64_t t)
{
    if (n == 0)
        return 0;
    const int64_t *base = a;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] <= t ? base + half : base;
        n -= half;
    }
    return (size_t)(base - a) + (*base <= t);
}

static inline bool from_rule(const tempo_zone_t *z, int64_t t)
{
    return z->has_rule && (t >= z->rule_after || t < z->rule_before);
}

static inline int64_t table_end(const tempo_zone_t *z)
{
    return z->has_rule ? z->rule_after : INT64_MAX;
}

void tempo__zone_span(const tempo_zone_t *zone, int64_t t, tempo__tz_span_t *out)
{
    if (from_rule(zone, t)) {
        tempo__tz_rule_span(&zone->rule, t, out, NULL);
        return;
    }
    size_t i = count_le(zone->span_at, zone->span_n, t);
    out->start = i ? zone->span_at[i - 1] : INT64_MIN;
    out->end = i < zone->span_n ? zone->span_at[i] : table_end(zone);
    out->offset = zone->span_offset[i];
    out->prev_offset = zone->span_offset[i ? i - 1 : 0];
}

int32_t tempo__zone_offset(const tempo_zone_t *zone, int64_t t)
{
    return tempo__zone_state(zone, t).offset;
}

tempo__tz_state_t tempo__zone_state(const tempo_zone_t *zone, int64_t t)
{
    if (from_rule(zone, t)) {
        tempo__tz_span_t span;
        tempo__tz_state_t state;
        tempo__tz_rule_span(&zone->rule, t, &span, &state);
        return state;
    }
    return zone->state[count_le(zone->at, zone->n, t)];
}
