/* tempo — the MongoDB store (libmongoc), DESIGN.md §7.
 *
 * The mongo-c-driver has no asynchronous API, so every server call runs on
 * the store's own offload thread with a client from a mongoc_client_pool_t —
 * never on the loop thread; completions come back on the loop thread.
 * Operations of one store run one at a time, in the order they were issued.
 *
 * Acquisition needs no transactions: each record is claimed with a unique
 * insert and leased with a single-document conditional update (owner,
 * expiry, fencing token), so several processes can share one database and a
 * record is held by one owner at a time — on MongoDB >= 4.4 and on FerretDB.
 * Times are stored as int64 microseconds since the Unix epoch. Records that
 * cannot be decoded are moved to a quarantine collection and reported, never
 * deleted.
 *
 * A server that is down or unreachable makes each operation fail with
 * TEMPO_ESTORE within a bounded time; the store stays usable and works again
 * once the server is back (the scheduler retries with backoff). The bound
 * comes from the URI; when the URI does not set them, the store uses
 *     serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, socketTimeoutMS=5000
 * (the driver's own defaults are 30 s, 10 s and 5 min). An operation makes a
 * few server calls; it fails at the first that fails.
 *
 * The store calls mongoc_init() once per process and never mongoc_cleanup():
 * an application that wants it calls mongoc_cleanup() itself, after every
 * store (and any other libmongoc user) is gone.
 *
 * docs/stores.md ("MongoDB") explains the collections, indexes, leases, and
 * how to run on a replica set (w=majority) and on FerretDB. */
#ifndef TEMPO_MONGO_H
#define TEMPO_MONGO_H

#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_mongo_options {
    size_t size;          /* sizeof(tempo_mongo_options_t) */
    const char *database; /* NULL: the URI's database ("mongodb://h/db"), else "tempo" */
    const char *prefix;   /* collection name prefix; NULL: "tempo_" ("" is allowed) */
} tempo_mongo_options_t;

#define TEMPO_MONGO_OPTIONS_INIT { sizeof(tempo_mongo_options_t), NULL, NULL }

/* A store on the server at `uri` ("mongodb://..." or "mongodb+srv://...").
 * The URI, the database name and the prefix are checked now (TEMPO_EINVAL
 * naming the fault, nothing allocated); the server is contacted only once
 * the store is started, by its first operation (which also creates the
 * indexes). `options` may be NULL. The URI's credentials never appear in
 * error messages. */
TEMPO_API tempo_status_t tempo_mongo_store_new(const char *uri, const tempo_mongo_options_t *options,
                                               tempo_store_t **out, tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
