/* Where the MongoDB tests find their server: $TEMPO_TEST_MONGODB_URI (a
 * real MongoDB), else the URI the FerretDB fixture wrote to the file
 * $TEMPO_MONGO_URI_FILE (tests/store_mongo/tests.cmake). And a URI for a
 * fresh database on it, so that cases never see each other's records. */
#ifndef TEMPO_TEST_MONGO_URI_H
#define TEMPO_TEST_MONGO_URI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's URI into `out`; false when there is none. */
static inline bool tempo_test_mongo_base(char *out, size_t size)
{
    const char *env = getenv("TEMPO_TEST_MONGODB_URI"), *file = getenv("TEMPO_MONGO_URI_FILE");
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return true;
    }
    FILE *f = file ? fopen(file, "r") : NULL;
    bool ok = f && fgets(out, (int)size, f);
    if (f)
        fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok && *out;
}

/* mongodb://host:port[/db][?opts] -> mongodb://host:port/<db>[?opts] */
static inline void tempo_test_mongo_db_uri(char *out, size_t size, const char *base, const char *db)
{
    const char *hosts = strstr(base, "://");
    hosts = hosts ? hosts + 3 : base;
    const char *slash = strchr(hosts, '/'), *query = strchr(hosts, '?');
    size_t head = slash ? (size_t)(slash - base) : query ? (size_t)(query - base) : strlen(base);
    snprintf(out, size, "%.*s/%s%s", (int)head, base, db, query ? query : "");
}

#endif
