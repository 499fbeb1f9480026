/* The interval trigger: start + k * period for k >= 0, up to end inclusive.
 *
 * Exact elapsed time: the arithmetic is on instants (UTC), so DST never
 * changes the spacing, by definition. next() is O(1). */
#include <stdlib.h>

#include "bson_read.h"
#include "text.h"
#include "trigger_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

typedef struct interval_trigger {
    struct tempo_trigger base;
    tempo_duration_t period; /* > 0 */
    tempo_time_t start;      /* never NONE */
    tempo_time_t end;        /* NONE = no end; else >= start */
} interval_trigger_t;

/* The first start + k*period > after, without overflow anywhere: the distance
 * after - start is taken in uint64 (it can exceed INT64_MAX when start is far
 * negative), and the answer is built as after - (distance mod period) +
 * period, whose first term lies in [start, after] and whose sum is checked
 * against INT64_MAX before it is formed. */
static tempo_time_t interval_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const interval_trigger_t *it = (const interval_trigger_t *)t;
    tempo_time_t next;
    if (after < it->start) {
        next = it->start;
    } else {
        uint64_t since = (uint64_t)after - (uint64_t)it->start;
        tempo_time_t last = after - (tempo_time_t)(since % (uint64_t)it->period);
        if (last > INT64_MAX - it->period)
            return TEMPO_TIME_NONE;
        next = last + it->period;
    }
    if (it->end != TEMPO_TIME_NONE && next > it->end)
        return TEMPO_TIME_NONE;
    return next;
}

static tempo_status_t interval_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const interval_trigger_t *it = (const interval_trigger_t *)t;
    bool ok = BSON_APPEND_INT64(doc, "period", it->period) && BSON_APPEND_INT64(doc, "start", it->start);
    if (ok && it->end != TEMPO_TIME_NONE)
        ok = BSON_APPEND_INT64(doc, "end", it->end);
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ERANGE, "trigger 'interval': document too large");
}

static int interval_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    const interval_trigger_t *it = (const interval_trigger_t *)t;
    tempo__text_t text;
    tempo__text_init(&text, buf, size);
    tempo__text_printf(&text, "every ");
    tempo__text_duration(&text, it->period, false);
    tempo__text_printf(&text, " starting ");
    tempo__text_time(&text, it->start, tempo_zone_utc());
    if (it->end != TEMPO_TIME_NONE) {
        tempo__text_printf(&text, " until ");
        tempo__text_time(&text, it->end, tempo_zone_utc());
    }
    return tempo__text_result(&text);
}

static void interval_destroy(tempo_trigger_t *t)
{
    free(t);
}

static const tempo__trigger_ops_t interval_ops = {
    .name = "interval",
    .version = 1,
    .next = interval_next,
    .serialize = interval_serialize,
    .describe = interval_describe,
    .destroy = interval_destroy,
};

static tempo_status_t check(const tempo_interval_options_t *o, tempo_error_t *err)
{
    if (o->period <= 0)
        return tempo__error_set(err, TEMPO_EINVAL, "interval: period must be > 0 microseconds, got %lld",
                                (long long)o->period);
    if (o->start == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "interval: start is required (got TEMPO_TIME_NONE); it is the first "
                                "fire time");
    if (o->end != TEMPO_TIME_NONE && o->end < o->start)
        return tempo__error_set(err, TEMPO_EINVAL, "interval: end (%lld) is before start (%lld)",
                                (long long)o->end, (long long)o->start);
    return TEMPO_OK;
}

tempo_status_t tempo_trigger_interval_new(const tempo_interval_options_t *opts, tempo_trigger_t **out,
                                          tempo_error_t *err)
{
    if (!opts || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "interval: %s is NULL", opts ? "out" : "options");
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "interval: options.size %zu is not a size this build knows (initialise "
                                "the options with TEMPO_INTERVAL_OPTIONS_INIT)",
                                opts->size);
    tempo_status_t rc = check(&o, err);
    if (rc != TEMPO_OK)
        return rc;
    interval_trigger_t *it = malloc(sizeof *it);
    if (!it)
        return tempo__error_set(err, TEMPO_ENOMEM, "interval: out of memory");
    tempo__trigger_init(&it->base, &interval_ops);
    it->period = o.period;
    it->start = o.start;
    it->end = o.end;
    *out = &it->base;
    return TEMPO_OK;
}

tempo_status_t tempo__interval_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                    tempo_error_t *err)
{
    (void)v; /* only version 1 exists */
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    tempo_status_t rc = tempo__bson_read_int64(doc, "interval", "period", &o.period, NULL, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_time_required(doc, "interval", "start", &o.start, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_time(doc, "interval", "end", &o.end, err);
    if (rc == TEMPO_OK)
        rc = tempo_trigger_interval_new(&o, out, err);
    return tempo__bson_stored_error(rc, err);
}
