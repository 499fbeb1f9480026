/* Wall time -> instant for fixed times of day (see wall.h). */
#include "wall.h"

tempo_time_t tempo__wall_to_instant_fixed(const tempo_zone_t *zone, int64_t y, int m, int d, int hour,
                                          int minute, int second, tempo_dst_gap_t policy)
{
    if (y < INT32_MIN || y > INT32_MAX)
        return TEMPO_TIME_NONE;
    tempo_civil_t civil = {.year = (int32_t)y, .month = m, .day = d,
                           .hour = hour, .minute = minute, .second = second};
    tempo_local_t local;
    if (tempo_zone_from_civil(zone, &civil, &local, NULL) != TEMPO_OK)
        return TEMPO_TIME_NONE;
    switch (local.kind) {
    case TEMPO_LOCAL_UNIQUE:
    case TEMPO_LOCAL_FOLD:
        return local.earlier; /* a fold fires once, at its first occurrence */
    case TEMPO_LOCAL_GAP:
        break;
    }
    /* In a gap the wall time never happens. SHIFT fires at the first instant
     * after the gap: every wall time of one gap maps to that same instant, so
     * a caller searching "first > after" sees them collapse into one fire. */
    return policy == TEMPO_DST_GAP_SKIP ? TEMPO_TIME_NONE : local.transition;
}
