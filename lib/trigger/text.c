/* Bounded string building for describe() (see text.h). */
#include "text.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

void tempo__text_init(tempo__text_t *t, char *buf, size_t size)
{
    t->buf = size ? buf : NULL;
    t->size = t->buf ? size : 0;
    t->len = 0;
    if (t->buf)
        t->buf[0] = '\0';
}

/* Where the next piece goes and how much room it has (NULL, 0 once full, so
 * that vsnprintf and nested describe() calls only count). */
static char *tail(const tempo__text_t *t, size_t *room)
{
    if (t->len >= t->size) {
        *room = 0;
        return NULL;
    }
    *room = t->size - t->len;
    return t->buf + t->len;
}

void tempo__text_printf(tempo__text_t *t, const char *fmt, ...)
{
    size_t room;
    char *at = tail(t, &room);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

void tempo__text_put(tempo__text_t *t, const char *s)
{
    tempo__text_printf(t, "%s", s);
}

void tempo__text_time(tempo__text_t *t, tempo_time_t at, const tempo_zone_t *zone)
{
    char iso[64];
    if (tempo_time_format(at, zone, iso, sizeof iso) >= 0)
        tempo__text_printf(t, "%s", iso);
    else /* beyond what the zone code formats: still say something exact */
        tempo__text_printf(t, "%lld microseconds after the epoch", (long long)at);
}

void tempo__text_duration(tempo__text_t *t, tempo_duration_t d, bool count_one)
{
    static const struct {
        int64_t us;
        const char *one, *many;
    } units[] = {
        {TEMPO_DAYS(7), "week", "weeks"},
        {TEMPO_DAYS(1), "day", "days"},
        {TEMPO_HOURS(1), "hour", "hours"},
        {TEMPO_MINUTES(1), "minute", "minutes"},
        {TEMPO_SECONDS(1), "second", "seconds"},
        {1000, "millisecond", "milliseconds"},
        {1, "microsecond", "microseconds"},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (d % units[i].us != 0)
            continue;
        int64_t n = d / units[i].us;
        if (n == 1 && !count_one)
            tempo__text_printf(t, "%s", units[i].one);
        else
            tempo__text_printf(t, "%lld %s", (long long)n, n == 1 ? units[i].one : units[i].many);
        return;
    }
}

void tempo__text_trigger(tempo__text_t *t, const tempo_trigger_t *trigger)
{
    size_t room;
    char *at = tail(t, &room);
    int n = tempo_trigger_describe(trigger, at, room);
    if (n > 0)
        t->len += (size_t)n;
}

int tempo__text_result(const tempo__text_t *t)
{
    return t->len > INT_MAX ? INT_MAX : (int)t->len;
}
