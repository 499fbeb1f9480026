/* Internal layout shared by the trigger types.
 *
 * Every trigger type embeds `struct tempo_trigger` as its first member and
 * supplies an ops table. Triggers are immutable after construction, so the
 * only shared mutable state is the reference count (atomic). */
#ifndef TEMPO_TRIGGER_INTERNAL_H
#define TEMPO_TRIGGER_INTERNAL_H

#include <stdatomic.h>
#include <tempo/trigger.h>

typedef struct tempo__trigger_ops {
    const char *name; /* the "type" in the serialized document */
    int version;      /* the "v" written by this build */
    tempo_time_t (*next)(const tempo_trigger_t *t, tempo_time_t after);
    /* Append the type's own fields (not "type"/"v") to `doc`. */
    tempo_status_t (*serialize)(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err);
    int (*describe)(const tempo_trigger_t *t, char *buf, size_t size);
    void (*destroy)(tempo_trigger_t *t); /* free everything, including t */
} tempo__trigger_ops_t;

struct tempo_trigger {
    const tempo__trigger_ops_t *ops;
    atomic_int refs;
};

static inline void tempo__trigger_init(tempo_trigger_t *t, const tempo__trigger_ops_t *ops)
{
    t->ops = ops;
    atomic_init(&t->refs, 1);
}

/* Deserializers of the built-in types: `doc` is the whole document; "type" and
 * "v" were checked by the dispatcher (v <= ops->version). */
typedef tempo_status_t (*tempo__trigger_load_fn)(const bson_t *doc, int version,
                                                 tempo_trigger_t **out, tempo_error_t *err);
tempo_status_t tempo__date_load(const bson_t *doc, int v, tempo_trigger_t **out, tempo_error_t *err);
tempo_status_t tempo__interval_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                    tempo_error_t *err);
tempo_status_t tempo__cron_load(const bson_t *doc, int v, tempo_trigger_t **out, tempo_error_t *err);
tempo_status_t tempo__calendar_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                    tempo_error_t *err);
tempo_status_t tempo__combine_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                   tempo_error_t *err); /* "and" and "or" */
tempo_status_t tempo__custom_load(const char *type, const bson_t *doc, tempo_trigger_t **out,
                                  tempo_error_t *err);

#endif
