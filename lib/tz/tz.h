/* Internal time-zone interface for triggers.
 *
 * Triggers need more than "offset at t": to place wall-clock times around DST
 * transitions they ask for the span of constant UTC offset holding an instant,
 * and what the offset was before it. Adjacent transitions that leave the UTC
 * offset unchanged (only the abbreviation or the isdst flag changes) are merged:
 * for scheduling only offset changes matter.
 *
 * Must be thread-safe, allocation-free and O(log n) on the hot path: the cron
 * benchmark budget (300 ns per next()) includes two or three of these calls. */
#ifndef TEMPO_TZ_TZ_H
#define TEMPO_TZ_TZ_H

#include <stdint.h>
#include <tempo/clock.h>

typedef struct tempo__tz_span {
    int64_t start;       /* first second of the span; INT64_MIN when unbounded */
    int64_t end;         /* first second after the span; INT64_MAX when unbounded */
    int32_t offset;      /* seconds east of UTC inside the span */
    int32_t prev_offset; /* offset of the span before (== offset when none) */
} tempo__tz_span_t;

/* The span holding instant `t` (seconds since the epoch). Spans after the last
 * transition of the file come from its POSIX TZ footer. */
void tempo__zone_span(const tempo_zone_t *zone, int64_t t, tempo__tz_span_t *out);

/* Offset (seconds east of UTC) in force at `t`; same as span.offset. */
int32_t tempo__zone_offset(const tempo_zone_t *zone, int64_t t);

#endif
