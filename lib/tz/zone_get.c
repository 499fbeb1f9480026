/* Finding zones by name, and the process-wide cache.
 *
 * Every zone is loaded once and kept until the process exits. The cache maps
 * a key to the one zone published for it: "file:<path>" for TZif files (so
 * the same name under another TZDIR is another zone), "fixed:<name>" for
 * fixed offsets, "rule:<string>" for a POSIX TZ string from the TZ variable.
 * UTC is a static zone and never in the cache.
 *
 * Concurrency: the mutex guards only the bucket lists. A missing zone is
 * built outside the lock (file I/O), then inserted; when another thread
 * inserted the same key meanwhile, ours is freed and theirs returned, so a key
 * maps to exactly one pointer for ever. A zone is complete before the locked
 * insert publishes it and never written again, so every thread that got the
 * pointer through the lock (or from one that did) reads it without locking. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error_internal.h"
#include "zone_internal.h"

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define LOCALTIME "/etc/localtime"
#define KEY_MAX 4352 /* "file:" + a path of up to PATH_MAX */

static const tempo__tz_state_t utc_state[1] = {{0, 0}};
static const int32_t utc_offset[1] = {0};
static const struct tempo_zone utc_zone = {
    .name = "UTC", .state = utc_state, .span_offset = utc_offset};

const tempo_zone_t *tempo_zone_utc(void)
{
    return &utc_zone;
}

const char *tempo_zone_name(const tempo_zone_t *zone)
{
    return zone ? zone->name : "(null)";
}

/* ---- the cache ---- */

#define BUCKETS 128

typedef struct entry {
    struct entry *next;
    const tempo_zone_t *zone;
    char key[];
} entry_t;

static entry_t *buckets[BUCKETS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

static const tempo_zone_t *find_locked(const char *key, size_t b)
{
    for (const entry_t *e = buckets[b]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->zone;
    return NULL;
}

static const tempo_zone_t *cache_find(const char *key)
{
    size_t b = bucket_of(key);
    pthread_mutex_lock(&cache_lock);
    const tempo_zone_t *z = find_locked(key, b);
    pthread_mutex_unlock(&cache_lock);
    return z;
}

/* Publish `zone` under `key`, or return the zone that won a race (freeing
 * ours). NULL only when out of memory (ours freed). */
static const tempo_zone_t *cache_insert(const char *key, tempo_zone_t *zone)
{
    size_t b = bucket_of(key), len = strlen(key) + 1;
    entry_t *e = malloc(sizeof *e + len);
    pthread_mutex_lock(&cache_lock);
    const tempo_zone_t *found = find_locked(key, b);
    if (!found && e) {
        memcpy(e->key, key, len);
        e->zone = zone;
        e->next = buckets[b];
        buckets[b] = e;
        found = zone;
        e = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    free(e);
    if (found != zone)
        tempo__zone_free(zone);
    return found;
}

/* Set *out only on a hit: a failed lookup leaves the caller's pointer alone. */
static bool cached(const char *key, const tempo_zone_t **out)
{
    const tempo_zone_t *z = cache_find(key);
    if (z)
        *out = z;
    return z != NULL;
}

/* `name` is for the message: the key is the cache's business. */
static tempo_status_t publish(const char *key, const char *name, tempo_zone_t *zone,
                              const tempo_zone_t **out, tempo_error_t *err)
{
    const tempo_zone_t *z = cache_insert(key, zone);
    if (!z)
        return tempo__error_set(err, TEMPO_ENOMEM, "time zone '%s': out of memory", name);
    *out = z;
    return TEMPO_OK;
}

static bool make_key(char *key, const char *kind, const char *what)
{
    int n = snprintf(key, KEY_MAX, "%s:%s", kind, what);
    return n > 0 && n < KEY_MAX;
}

/* ---- zones by kind ---- */

static tempo_status_t get_fixed(const char *name, int32_t offset, const tempo_zone_t **out,
                                tempo_error_t *err)
{
    char key[KEY_MAX], why[64];
    make_key(key, "fixed", name); /* name_ok-sized: always fits */
    if (cached(key, out))
        return TEMPO_OK;
    tempo__zone_source_t src = {.fixed = {offset, 0}};
    tempo_zone_t *z;
    if (tempo__zone_build(name, &src, &z, why, sizeof why) != TEMPO_OK)
        return tempo__error_set(err, TEMPO_ENOMEM, "time zone '%s': out of memory", name);
    return publish(key, name, z, out, err);
}

/* ENOTFOUND with `err` untouched when there is no such file. */
static tempo_status_t get_file(const char *path, const char *name, const tempo_zone_t **out,
                               tempo_error_t *err)
{
    char key[KEY_MAX];
    if (!make_key(key, "file", path))
        return tempo__error_set(err, TEMPO_EINVAL, "time zone '%s': path too long", name);
    if (cached(key, out))
        return TEMPO_OK;
    tempo_zone_t *z;
    tempo_status_t rc = tempo__zone_load_file(path, name, &z, err);
    return rc == TEMPO_OK ? publish(key, name, z, out, err) : rc;
}

static const char *zoneinfo_dir(void)
{
    const char *dir = getenv("TZDIR");
    return dir && *dir ? dir : DEFAULT_TZDIR;
}

/* An IANA name under the zoneinfo directory; ENOTFOUND has err set. */
static tempo_status_t get_iana(const char *name, const tempo_zone_t **out, tempo_error_t *err)
{
    const char *why, *dir = zoneinfo_dir();
    if (!tempo__zone_name_ok(name, &why))
        return tempo__error_set(err, TEMPO_EINVAL, "time zone '%.64s' is not a valid name: %s",
                                name, why);
    char path[KEY_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || n >= (int)sizeof path)
        return tempo__error_set(err, TEMPO_EINVAL, "time zone '%s': TZDIR is too long", name);
    tempo_status_t rc = get_file(path, name, out, err);
    if (rc == TEMPO_ENOTFOUND)
        tempo__error_set(err, rc, "time zone '%s' not found (looked in %s)", name, dir);
    return rc;
}

/* The zone name inside a path such as /usr/share/zoneinfo/Europe/Berlin. */
static const char *name_in_path(const char *path)
{
    const char *name = NULL;
    for (const char *p = strstr(path, "zoneinfo/"); p; p = strstr(p + 1, "zoneinfo/"))
        name = p + strlen("zoneinfo/");
    return name && *name ? name : NULL;
}

static tempo_status_t get_rule(const char *text, const tempo__tz_rule_t *rule,
                               const tempo_zone_t **out, tempo_error_t *err)
{
    char key[KEY_MAX], why[160];
    if (!make_key(key, "rule", text))
        return tempo__error_set(err, TEMPO_EINVAL, "TZ='%.64s...' is too long", text);
    if (cached(key, out))
        return TEMPO_OK;
    tempo__zone_source_t src = {.rule = rule};
    tempo_zone_t *z;
    tempo_status_t rc = tempo__zone_build(text, &src, &z, why, sizeof why);
    if (rc != TEMPO_OK)
        return tempo__error_set(err, rc == TEMPO_ENOMEM ? rc : TEMPO_EINVAL,
                                "TZ='%s' (a POSIX TZ string): %s", text, why);
    return publish(key, text, z, out, err);
}

/* ---- "local" ---- */

/* No TZ: /etc/localtime, named after its symlink target when that points
 * into a zoneinfo directory; no such file means UTC. */
static tempo_status_t get_localtime(const tempo_zone_t **out, tempo_error_t *err)
{
    char link[KEY_MAX];
    const char *name = NULL;
    ssize_t n = readlink(LOCALTIME, link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        name = name_in_path(link);
    }
    tempo_status_t rc = get_file(LOCALTIME, name ? name : "local", out, err);
    if (rc == TEMPO_ENOTFOUND) {
        *out = &utc_zone;
        rc = TEMPO_OK;
    }
    return rc;
}

/* TZ=":Name", "Name", ":/path", "/path" or a POSIX TZ string. As in glibc, a
 * file wins over a POSIX reading ("EST5EDT" is both), and an empty TZ is UTC.
 * The ISO fixed-offset syntax is not applied here: in TZ, "UTC+2" is POSIX
 * and means two hours WEST of UTC, as every other program reads it. */
static tempo_status_t get_local(const tempo_zone_t **out, tempo_error_t *err)
{
    const char *tz = getenv("TZ");
    if (!tz)
        return get_localtime(out, err);
    const char *s = tz[0] == ':' ? tz + 1 : tz;
    if (*s == '\0' || strcmp(s, "UTC") == 0) {
        *out = &utc_zone;
        return TEMPO_OK;
    }
    tempo_status_t rc;
    if (*s == '/') { /* the environment is trusted with a path, unlike a zone name */
        const char *name = name_in_path(s);
        rc = get_file(s, name ? name : s, out, err);
        if (rc == TEMPO_ENOTFOUND)
            tempo__error_set(err, rc, "time zone file '%s' (from TZ) not found", s);
        return rc;
    }
    const char *why = NULL, *dir = zoneinfo_dir();
    if (tempo__zone_name_ok(s, &why)) {
        rc = get_iana(s, out, err);
        if (rc != TEMPO_ENOTFOUND)
            return rc;
        why = NULL;
    }
    if (tz[0] == ':')
        return why ? tempo__error_set(err, TEMPO_EINVAL, "TZ='%.64s' is not a valid zone name: %s",
                                      tz, why)
                   : tempo__error_set(err, TEMPO_ENOTFOUND,
                                      "time zone '%.64s' (from TZ) not found (looked in %s)", s, dir);
    tempo__tz_rule_t rule;
    size_t column;
    const char *rule_why;
    if (tempo__tz_rule_parse(s, strlen(s), &rule, &column, &rule_why))
        return get_rule(s, &rule, out, err);
    if (why)
        return tempo__error_set(err, TEMPO_EINVAL, "TZ='%.64s' is neither a zone name (%s) nor a "
                                "POSIX TZ string (column %zu: %s)", s, why, column, rule_why);
    return tempo__error_set(err, TEMPO_ENOTFOUND, "time zone '%.64s' (from TZ) not found (looked "
                            "in %s) and not a POSIX TZ string (column %zu: %s)", s, dir, column,
                            rule_why);
}

/* ---- the public entry ---- */

tempo_status_t tempo_zone_get(const char *name, const tempo_zone_t **out, tempo_error_t *err)
{
    if (!name || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_zone_get: %s is NULL",
                                name ? "out" : "name");
    if (strcmp(name, "local") == 0)
        return get_local(out, err);
    if (strcmp(name, "UTC") == 0) {
        *out = &utc_zone;
        return TEMPO_OK;
    }
    int32_t offset;
    const char *why;
    switch (tempo__zone_fixed_offset(name, &offset, &why)) {
    case 1:
        return get_fixed(name, offset, out, err);
    case -1:
        return tempo__error_set(err, TEMPO_EINVAL,
                                "time zone '%.64s' is not a valid fixed offset: %s", name, why);
    default:
        return get_iana(name, out, err);
    }
}
