/* tempo_store_open: a store named by a URI (store.h).
 *
 * The one place that knows every store, so that programs (the `tempo`
 * command, tests that run one scenario on each store) take a store from a
 * string instead of linking a constructor each. */
#include <string.h>
#include <tempo/mongo.h>
#include <tempo/sqlite.h>
#include <tempo/store.h>

#include "util/error_internal.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

tempo_status_t tempo_store_open(const char *uri, tempo_store_t **out, tempo_error_t *err)
{
    if (!uri || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "store_open: uri and out are required");
    if (strcmp(uri, "memory:") == 0 || strcmp(uri, "memory") == 0)
        return tempo_memory_store_new(out, err);
    if (has_prefix(uri, "sqlite:")) {
        const char *path = uri + strlen("sqlite:");
        if (has_prefix(path, "//")) /* sqlite:///abs/path, as SQLAlchemy writes it */
            path += 2;
        if (!*path)
            return tempo__error_set(err, TEMPO_EINVAL, "store_open: '%s': sqlite: needs a file path", uri);
#ifdef TEMPO_HAVE_SQLITE
        return tempo_sqlite_store_new(path, NULL, out, err);
#else
        return tempo__error_set(err, TEMPO_EUNSUPPORTED, "store_open: '%s': built without the SQLite store", uri);
#endif
    }
    if (has_prefix(uri, "mongodb://") || has_prefix(uri, "mongodb+srv://")) {
#ifdef TEMPO_HAVE_MONGO
        return tempo_mongo_store_new(uri, NULL, out, err);
#else
        return tempo__error_set(err, TEMPO_EUNSUPPORTED, "store_open: built without the MongoDB store");
#endif
    }
    return tempo__error_set(err, TEMPO_EINVAL,
                            "store_open: '%s': unknown store (expected memory:, sqlite:PATH or mongodb://...)", uri);
}
