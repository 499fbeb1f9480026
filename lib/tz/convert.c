/* Instants <-> wall-clock time in a zone, and the system clock. */
#include <time.h>

#include "util/civil.h"
#include "util/error_internal.h"
#include "zone_internal.h"

void tempo__zone_civil(const tempo_zone_t *zone, tempo_time_t t, tempo_civil_t *out)
{
    int64_t sec = tempo__floor_div(t, TEMPO_USEC_PER_SEC);
    tempo__tz_state_t st = tempo__zone_state(zone, sec);
    int64_t local = sec + st.offset, days = tempo__floor_div(local, 86400), sod = local - days * 86400;
    int64_t year;
    tempo__civil_from_days(days, &year, &out->month, &out->day);
    out->year = (int32_t)year; /* |t| < 2^63 µs is under 300,000 years */
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    out->usec = (int32_t)tempo__floor_mod(t, TEMPO_USEC_PER_SEC); /* t - sec * 1e6 can overflow */
    out->wday = tempo__weekday(days);
    out->yday = (int)(days - tempo__days_from_civil(year, 1, 1));
    out->utc_offset = st.offset;
    out->is_dst = st.is_dst;
}

tempo_status_t tempo_zone_to_civil(const tempo_zone_t *zone, tempo_time_t t, tempo_civil_t *out,
                                   tempo_error_t *err)
{
    if (!zone || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_zone_to_civil: %s is NULL",
                                zone ? "out" : "zone");
    if (t == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "tempo_zone_to_civil: the time is TEMPO_TIME_NONE (no time)");
    tempo__zone_civil(zone, t, out);
    return TEMPO_OK;
}

static tempo_status_t check_civil(const tempo_civil_t *c, tempo_error_t *err)
{
    int dim = c->month >= 1 && c->month <= 12 ? tempo__days_in_month(c->year, c->month) : 31;
    const struct {
        const char *name;
        long value, lo, hi;
    } fields[] = {
        {"month", c->month, 1, 12},   {"day", c->day, 1, dim},        {"hour", c->hour, 0, 23},
        {"minute", c->minute, 0, 59}, {"second", c->second, 0, 59}, {"usec", c->usec, 0, 999999},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value < fields[i].lo || fields[i].value > fields[i].hi)
            return tempo__error_set(err, TEMPO_EINVAL,
                                    "tempo_zone_from_civil: %s %ld is out of range (%ld-%ld)",
                                    fields[i].name, fields[i].value, fields[i].lo, fields[i].hi);
    return TEMPO_OK;
}

/* More offset changes than this between two instants a wall time could map
 * to (about two days apart) only happen in a crafted file. */
#define MAX_SPANS 64

/* The instants (seconds) of wall second `w`: every span [start, end) with
 * offset o such that w - o falls inside it is one occurrence. Offsets lie in
 * [min_offset, max_offset], so only spans meeting [w - max, w - min] can
 * hold one; we walk them in order. When none does, the wall time fell into a
 * gap: between two spans where the wall clock jumped from below w to above
 * it, and that border is the transition. */
static tempo_status_t resolve(const tempo_zone_t *z, int64_t w, tempo_local_t *r,
                              tempo_error_t *err)
{
    int64_t hi = w - z->min_offset;
    tempo__tz_span_t sp, next;
    tempo__zone_span(z, w - z->max_offset, &sp);
    int count = 0;
    bool gap = false;
    for (int i = 0; i < MAX_SPANS; i++) {
        int64_t t = w - sp.offset;
        if (t >= sp.start && t < sp.end) {
            if (count++ == 0)
                r->earlier = t;
            r->later = t;
        }
        if (sp.end > hi || sp.end == INT64_MAX) {
            if (count > 0) {
                r->kind = count == 1 ? TEMPO_LOCAL_UNIQUE : TEMPO_LOCAL_FOLD;
                return TEMPO_OK;
            }
            if (gap)
                return TEMPO_OK;
            break; /* impossible for a consistent zone; refuse rather than guess */
        }
        tempo__zone_span(z, sp.end, &next);
        if (!gap && sp.end + sp.offset <= w && w < sp.end + next.offset) {
            gap = true;
            r->kind = TEMPO_LOCAL_GAP;
            r->earlier = w - next.offset; /* zoneinfo fold=1: the offset after */
            r->later = w - sp.offset;     /* zoneinfo fold=0: the offset before */
            r->transition = sp.end;
        }
        sp = next;
    }
    return tempo__error_set(err, TEMPO_EFORMAT,
                            "time zone '%s' changes its offset too often around this wall time "
                            "(more than %d times in two days)", z->name, MAX_SPANS);
}

tempo_status_t tempo_zone_from_civil(const tempo_zone_t *zone, const tempo_civil_t *civil,
                                     tempo_local_t *out, tempo_error_t *err)
{
    if (!zone || !civil || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_zone_from_civil: %s is NULL",
                                !zone ? "zone" : !civil ? "civil" : "out");
    tempo_status_t rc = check_civil(civil, err);
    if (rc != TEMPO_OK)
        return rc;
    /* int32 years keep this far from overflow (|w| < 2^56). */
    int64_t w = tempo__days_from_civil(civil->year, civil->month, civil->day) * 86400 +
                civil->hour * 3600 + civil->minute * 60 + civil->second;
    if (w < TEMPO__TZ_SEC_MIN + 2 * 86400 || w > TEMPO__TZ_SEC_MAX - 2 * 86400)
        return tempo__error_set(err, TEMPO_ERANGE,
                                "tempo_zone_from_civil: year %d is outside what tempo_time_t "
                                "holds (about -290000..290000)", (int)civil->year);
    tempo_local_t r = {0};
    rc = resolve(zone, w, &r, err);
    if (rc != TEMPO_OK)
        return rc;
    out->kind = r.kind;
    out->earlier = r.earlier * TEMPO_USEC_PER_SEC + civil->usec;
    out->later = r.later * TEMPO_USEC_PER_SEC + civil->usec;
    out->transition =
        r.kind == TEMPO_LOCAL_GAP ? r.transition * TEMPO_USEC_PER_SEC : TEMPO_TIME_NONE;
    return TEMPO_OK;
}

tempo_time_t tempo_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * TEMPO_USEC_PER_SEC + ts.tv_nsec / 1000;
}
