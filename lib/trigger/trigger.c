/* The trigger dispatcher: what every trigger shares (reference counting,
 * next(), describe()) and the stored form's envelope {"type", "v", ...}.
 *
 * Loading dispatches on "type": the built-in names first, then the custom
 * registry (custom.c). The envelope is checked here so that every loader can
 * trust "v" to be one it knows; the loaders check their own fields. */
#include <stdio.h>
#include <string.h>

#include "bson_read.h"
#include "dispatch.h"
#include "util/error_internal.h"

tempo_time_t tempo_trigger_next(const tempo_trigger_t *trigger, tempo_time_t after)
{
    if (!trigger)
        return TEMPO_TIME_NONE;
    return trigger->ops->next(trigger, after);
}

tempo_trigger_t *tempo_trigger_ref(tempo_trigger_t *trigger)
{
    /* Taking a reference needs no ordering: the caller already holds one, so
     * the object cannot be destroyed concurrently. */
    if (trigger)
        atomic_fetch_add_explicit(&trigger->refs, 1, memory_order_relaxed);
    return trigger;
}

void tempo_trigger_free(tempo_trigger_t *trigger)
{
    if (!trigger)
        return;
    /* acq_rel: the thread that drops the last reference must see every other
     * thread's use of the trigger finished before it destroys it. */
    if (atomic_fetch_sub_explicit(&trigger->refs, 1, memory_order_acq_rel) == 1)
        trigger->ops->destroy(trigger);
}

const char *tempo_trigger_type_name(const tempo_trigger_t *trigger)
{
    return trigger ? trigger->ops->name : NULL;
}

int tempo_trigger_describe(const tempo_trigger_t *trigger, char *buf, size_t size)
{
    if (!size || !buf) { /* snprintf semantics: count only */
        buf = NULL;
        size = 0;
    }
    if (!trigger)
        return snprintf(buf, size, "never");
    return trigger->ops->describe(trigger, buf, size);
}

/* ---- serializing ---- */

tempo_status_t tempo__trigger_append(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const tempo__trigger_ops_t *ops = t->ops;
    if (!BSON_APPEND_UTF8(doc, "type", ops->name) || !BSON_APPEND_INT32(doc, "v", ops->version))
        return tempo__error_set(err, TEMPO_ERANGE, "trigger '%s': document too large", ops->name);
    return ops->serialize(t, doc, err);
}

/* The caller's document is initialised on every return, so it may always be
 * bson_destroy()ed; on failure it is empty. */
tempo_status_t tempo_trigger_to_bson(const tempo_trigger_t *trigger, bson_t *doc, tempo_error_t *err)
{
    if (!doc)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger_to_bson: doc is NULL");
    bson_init(doc);
    if (!trigger)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger_to_bson: trigger is NULL");
    tempo_status_t rc = tempo__trigger_append(trigger, doc, err);
    if (rc != TEMPO_OK) {
        bson_destroy(doc);
        bson_init(doc);
    }
    return rc;
}

/* ---- loading ---- */

typedef struct builtin {
    const char *name;
    /* Newest stored version this build reads. Must equal the "v" the type's
     * ops write (each type's tests round-trip through here, so a mismatch
     * shows up as a refused document). */
    int version;
    tempo__trigger_load_fn load; /* NULL: and/or, which need the nesting level */
} builtin_t;

static const builtin_t builtins[] = {
    {"date", 1, tempo__date_load},
    {"interval", 1, tempo__interval_load},
    {"cron", 1, tempo__cron_load},
    {"calendar", 1, tempo__calendar_load},
    {"and", 1, NULL},
    {"or", 1, NULL},
};

static const builtin_t *find_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

static tempo_status_t read_version(const bson_t *doc, const char *type, int newest, int *v,
                                   tempo_error_t *err)
{
    tempo_status_t rc = tempo__bson_read_int(doc, type, "v", v, err);
    if (rc != TEMPO_OK)
        return rc;
    if (*v < 1)
        return tempo__error_set(err, TEMPO_EFORMAT, "trigger '%s': field 'v' must be >= 1, got %d",
                                type, *v);
    if (*v > newest)
        return tempo__error_set(err, TEMPO_EVERSION,
                                "trigger '%s': stored version %d, this build reads up to %d", type, *v,
                                newest);
    return TEMPO_OK;
}

tempo_status_t tempo__trigger_load(const bson_t *doc, int level, tempo_trigger_t **out,
                                   tempo_error_t *err)
{
    if (level > TEMPO__TRIGGER_MAX_DEPTH)
        return tempo__error_set(err, TEMPO_EFORMAT, "trigger: nested more than %d levels deep",
                                TEMPO__TRIGGER_MAX_DEPTH);
    tempo_status_t rc = tempo__bson_check_level(doc, NULL, err);
    if (rc != TEMPO_OK)
        return rc;
    const char *type;
    rc = tempo__bson_read_utf8(doc, NULL, "type", true, &type, err);
    if (rc != TEMPO_OK)
        return rc;
    const builtin_t *b = find_builtin(type);
    if (!b && !tempo__custom_registered(type))
        return tempo__error_set(err, TEMPO_ENOTFOUND,
                                "trigger: unknown type '%.64s' (not built in and not registered)", type);
    int v;
    rc = read_version(doc, type, b ? b->version : TEMPO__CUSTOM_VERSION, &v, err);
    if (rc != TEMPO_OK)
        return rc;
    if (!b)
        return tempo__custom_load(type, doc, out, err);
    if (!b->load)
        return tempo__combine_load_at(doc, v, level, out, err);
    return b->load(doc, v, out, err);
}

tempo_status_t tempo_trigger_from_bson(const bson_t *doc, tempo_trigger_t **out, tempo_error_t *err)
{
    if (!doc || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger_from_bson: %s is NULL",
                                doc ? "out" : "doc");
    /* No bson_validate() here: each level is checked as it is read (see
     * tempo__bson_check_level for why). */
    return tempo__trigger_load(doc, 1, out, err);
}
