/* The date trigger: fires once, at one instant. */
#include <stdlib.h>

#include "bson_read.h"
#include "text.h"
#include "trigger_internal.h"
#include "util/error_internal.h"

typedef struct date_trigger {
    struct tempo_trigger base; /* first: the trigger is cast to this */
    tempo_time_t at;
} date_trigger_t;

static tempo_time_t date_next(const tempo_trigger_t *t, tempo_time_t after)
{
    tempo_time_t at = ((const date_trigger_t *)t)->at;
    return at > after ? at : TEMPO_TIME_NONE;
}

static tempo_status_t date_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    if (!BSON_APPEND_INT64(doc, "at", ((const date_trigger_t *)t)->at))
        return tempo__error_set(err, TEMPO_ERANGE, "trigger 'date': document too large");
    return TEMPO_OK;
}

static int date_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    tempo__text_t text;
    tempo__text_init(&text, buf, size);
    tempo__text_printf(&text, "once at ");
    tempo__text_time(&text, ((const date_trigger_t *)t)->at, tempo_zone_utc());
    return tempo__text_result(&text);
}

static void date_destroy(tempo_trigger_t *t)
{
    free(t);
}

static const tempo__trigger_ops_t date_ops = {
    .name = "date",
    .version = 1,
    .next = date_next,
    .serialize = date_serialize,
    .describe = date_describe,
    .destroy = date_destroy,
};

tempo_status_t tempo_trigger_date_new(tempo_time_t at, tempo_trigger_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "date: out is NULL");
    if (at == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "date: 'at' is TEMPO_TIME_NONE; give an instant");
    date_trigger_t *d = malloc(sizeof *d);
    if (!d)
        return tempo__error_set(err, TEMPO_ENOMEM, "date: out of memory");
    tempo__trigger_init(&d->base, &date_ops);
    d->at = at;
    *out = &d->base;
    return TEMPO_OK;
}

tempo_status_t tempo__date_load(const bson_t *doc, int v, tempo_trigger_t **out, tempo_error_t *err)
{
    (void)v; /* only version 1 exists */
    tempo_time_t at;
    tempo_status_t rc = tempo__bson_read_time_required(doc, "date", "at", &at, err);
    if (rc == TEMPO_OK)
        rc = tempo_trigger_date_new(at, out, err);
    return tempo__bson_stored_error(rc, err);
}
