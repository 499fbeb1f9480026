/* Custom triggers: user types registered by name, so that stored schedules
 * can name them and be loaded again.
 *
 * The registry is process-global and grow-only: a registered type stays for
 * the life of the process, because triggers (and stored records loaded later)
 * point at it and there is no safe moment to take it away. Entries are
 * immutable once published, so a trigger uses its type without locking; the
 * mutex only orders registration against lookup. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "util/error_internal.h"

#define TEMPO__TYPE_NAME_MAX 64

typedef struct custom_type {
    tempo__trigger_ops_t ops;  /* what triggers of this type dispatch through */
    tempo_trigger_type_t type; /* the user's vtable; type.name == name */
    struct custom_type *next;
    char name[];
} custom_type_t;

typedef struct custom_trigger {
    struct tempo_trigger base; /* base.ops == &type->ops */
    const custom_type_t *type;
    void *state; /* owned */
} custom_trigger_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static custom_type_t *registry; /* newest first; reachable, so never a "leak" */

static const char *const reserved[] = {"date", "interval", "cron", "calendar", "and", "or"};

static const custom_type_t *lookup(const char *name)
{
    pthread_mutex_lock(&registry_lock);
    const custom_type_t *found = registry;
    while (found && strcmp(found->name, name) != 0)
        found = found->next;
    pthread_mutex_unlock(&registry_lock);
    return found;
}

bool tempo__custom_registered(const char *name)
{
    return lookup(name) != NULL;
}

/* ---- the trigger ---- */

static tempo_time_t custom_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const custom_trigger_t *c = (const custom_trigger_t *)t;
    tempo_time_t n = c->type->type.next(c->state, after);
    /* A next() that does not move forward would make every caller that walks
     * fire times loop forever (APScheduler #980): read it as "never again". */
    return n != TEMPO_TIME_NONE && n <= after ? TEMPO_TIME_NONE : n;
}

/* The user's callbacks may fail without filling `err`: make sure the
 * message says who failed. */
static tempo_status_t user_failed(const char *name, const char *what, tempo_status_t rc,
                                  tempo_error_t *local, tempo_error_t *err)
{
    if (!err)
        return rc;
    if (local->message[0] == '\0') {
        return tempo__error_set(err, rc, "trigger '%s': %s() failed (%s)", name, what,
                                tempo_strerror(rc));
    }
    *err = *local;
    return tempo__error_prefix(err, rc, "trigger '%s': %s()", name, what);
}

static tempo_status_t custom_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const custom_trigger_t *c = (const custom_trigger_t *)t;
    tempo_error_t local = {TEMPO_OK, ""};
    tempo_status_t rc = c->type->type.serialize(c->state, doc, &local);
    return rc == TEMPO_OK ? TEMPO_OK : user_failed(c->type->name, "serialize", rc, &local, err);
}

static int custom_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    const custom_trigger_t *c = (const custom_trigger_t *)t;
    if (c->type->type.describe) {
        /* Never hand user code a NULL buffer, even when only counting. */
        char scratch[1];
        int n = size ? c->type->type.describe(c->state, buf, size)
                     : c->type->type.describe(c->state, scratch, sizeof scratch);
        if (n >= 0)
            return n;
    }
    return snprintf(size ? buf : NULL, size, "%s", c->type->name);
}

static void custom_destroy(tempo_trigger_t *t)
{
    custom_trigger_t *c = (custom_trigger_t *)t;
    c->type->type.free(c->state);
    free(c);
}

static tempo_status_t wrap(const custom_type_t *type, void *state, tempo_trigger_t **out,
                           tempo_error_t *err)
{
    custom_trigger_t *c = malloc(sizeof *c);
    if (!c)
        return tempo__error_set(err, TEMPO_ENOMEM, "trigger '%s': out of memory", type->name);
    tempo__trigger_init(&c->base, &type->ops);
    c->type = type;
    c->state = state;
    *out = &c->base;
    return TEMPO_OK;
}

tempo_status_t tempo_trigger_custom_new(const char *type_name, void *state, tempo_trigger_t **out,
                                        tempo_error_t *err)
{
    if (!type_name || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "custom trigger: %s is NULL",
                                type_name ? "out" : "type_name");
    const custom_type_t *type = lookup(type_name);
    if (!type)
        return tempo__error_set(err, TEMPO_ENOTFOUND,
                                "custom trigger: type '%.64s' is not registered "
                                "(call tempo_trigger_type_register first)",
                                type_name);
    return wrap(type, state, out, err);
}

tempo_status_t tempo__custom_load(const char *type_name, const bson_t *doc, tempo_trigger_t **out,
                                  tempo_error_t *err)
{
    const custom_type_t *type = lookup(type_name);
    if (!type)
        return tempo__error_set(err, TEMPO_ENOTFOUND,
                                "trigger: unknown type '%.64s' (not built in and not registered)",
                                type_name);
    void *state = NULL;
    tempo_error_t local = {TEMPO_OK, ""};
    tempo_status_t rc = type->type.deserialize(doc, &state, &local);
    if (rc != TEMPO_OK)
        return user_failed(type->name, "deserialize", rc, &local, err);
    rc = wrap(type, state, out, err);
    if (rc != TEMPO_OK)
        type->type.free(state);
    return rc;
}

/* ---- registration ---- */

static tempo_status_t check_name(const char *name, tempo_error_t *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > TEMPO__TYPE_NAME_MAX)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "trigger type: name must be 1 to %d characters, got %zu",
                                TEMPO__TYPE_NAME_MAX, len);
    /* Names end up in stored records and messages: keep them plain. */
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  (i > 0 && (ch == '.' || ch == '_' || ch == '-' || ch == ':'));
        if (!ok)
            return tempo__error_set(err, TEMPO_EINVAL,
                                    "trigger type '%s': character %zu is not allowed (use letters, "
                                    "digits and . _ - :, starting with a letter or digit)",
                                    name, i + 1);
    }
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return tempo__error_set(err, TEMPO_EEXIST,
                                    "trigger type '%s' is built in; choose another name", name);
    return TEMPO_OK;
}

static tempo_status_t check_type(const tempo_trigger_type_t *type, tempo_error_t *err)
{
    if (!type)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger type: type is NULL");
    if (type->size != sizeof *type)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "trigger type: size is %zu, expected sizeof(tempo_trigger_type_t) = %zu",
                                type->size, sizeof *type);
    if (!type->name)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger type: name is NULL");
    tempo_status_t rc = check_name(type->name, err);
    if (rc != TEMPO_OK)
        return rc;
    const char *missing = !type->next          ? "next"
                          : !type->serialize   ? "serialize"
                          : !type->deserialize ? "deserialize"
                          : !type->free        ? "free"
                                               : NULL;
    if (missing)
        return tempo__error_set(err, TEMPO_EINVAL, "trigger type '%s': %s() is required", type->name,
                                missing);
    return TEMPO_OK;
}

static custom_type_t *make_entry(const tempo_trigger_type_t *type)
{
    size_t len = strlen(type->name);
    custom_type_t *e = malloc(sizeof *e + len + 1);
    if (!e)
        return NULL;
    memcpy(e->name, type->name, len + 1);
    e->type = *type;
    e->type.name = e->name;
    e->ops = (tempo__trigger_ops_t){
        .name = e->name,
        .version = TEMPO__CUSTOM_VERSION,
        .next = custom_next,
        .serialize = custom_serialize,
        .describe = custom_describe,
        .destroy = custom_destroy,
    };
    e->next = NULL;
    return e;
}

tempo_status_t tempo_trigger_type_register(const tempo_trigger_type_t *type, tempo_error_t *err)
{
    tempo_status_t rc = check_type(type, err);
    if (rc != TEMPO_OK)
        return rc;
    custom_type_t *e = make_entry(type);
    if (!e)
        return tempo__error_set(err, TEMPO_ENOMEM, "trigger type '%s': out of memory", type->name);
    pthread_mutex_lock(&registry_lock);
    const custom_type_t *dup = registry;
    while (dup && strcmp(dup->name, e->name) != 0)
        dup = dup->next;
    if (!dup) {
        e->next = registry;
        registry = e;
    }
    pthread_mutex_unlock(&registry_lock);
    if (dup) {
        free(e);
        return tempo__error_set(err, TEMPO_EEXIST, "trigger type '%s' is already registered",
                                type->name);
    }
    return TEMPO_OK;
}
