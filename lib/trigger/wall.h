/* Wall-clock time -> instant, for schedules whose time of day is fixed.
 *
 * DESIGN.md §3: a fixed wall time that falls in a DST gap fires once at the
 * first instant after the gap (TEMPO_DST_GAP_SHIFT) or not at all
 * (TEMPO_DST_GAP_SKIP); one that falls in a fold fires once, at its first
 * occurrence. Used by the calendar-interval trigger (cron applies the same
 * policy span by span, in cron_trigger.c). */
#ifndef TEMPO_TRIGGER_WALL_H
#define TEMPO_TRIGGER_WALL_H

#include <stdint.h>
#include <tempo/trigger.h>

/* The instant of y-m-d H:M:S (a valid civil time) in `zone`, or
 * TEMPO_TIME_NONE when it is dropped (SKIP and in a gap) or the zone cannot
 * place it. Non-decreasing in the wall time, which is what lets callers search
 * candidates in wall-time order and stop at the first one after `after`. */
tempo_time_t tempo__wall_to_instant_fixed(const tempo_zone_t *zone, int64_t y, int m, int d, int hour,
                                          int minute, int second, tempo_dst_gap_t policy);

#endif
