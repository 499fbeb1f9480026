/* tempo — the MongoDB store (libmongoc), DESIGN.md §7.
 *
 * The mongo-c-driver has no asynchronous API, so every server call runs on the
 * store's offload threads with a client from a mongoc_client_pool_t — never on
 * the loop thread; completions come back on the loop thread. Acquisition is a
 * single-document conditional update per record (no transactions: works on
 * MongoDB >= 4.4 and FerretDB); leases carry owner, expiry and a fencing
 * token. Times are stored as int64 microseconds since the Unix epoch.
 * A server that is down makes operations fail with TEMPO_ESTORE (bounded by
 * the URI's serverSelectionTimeoutMS / socketTimeoutMS); the scheduler
 * retries with backoff. docs/stores.md explains the layout and replica sets. */
#ifndef TEMPO_MONGO_H
#define TEMPO_MONGO_H

#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_mongo_options {
    size_t size;               /* sizeof(tempo_mongo_options_t) */
    const char *database;      /* NULL: the URI's database, else "tempo" */
    const char *prefix;        /* collection name prefix; NULL: "tempo_" */
    int threads;               /* offload threads (and pooled clients); 0: 2 */
} tempo_mongo_options_t;

#define TEMPO_MONGO_OPTIONS_INIT { sizeof(tempo_mongo_options_t), NULL, NULL, 0 }

/* A store on the server at `uri` ("mongodb://..."). The URI is parsed now
 * (EINVAL naming the fault); the server is contacted from start on. */
TEMPO_API tempo_status_t tempo_mongo_store_new(const char *uri, const tempo_mongo_options_t *options,
                                               tempo_store_t **out, tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
