/* Helpers of the MongoDB store's tests: where the server is, a database of
 * one's own, and direct access to it (libmongoc) for what the store's API
 * does not show.
 *
 * The server: $TEMPO_TEST_MONGODB_URI, else the URI the ctest fixture wrote
 * (the file named by $TEMPO_MONGO_URI_FILE, see tests.cmake). When there is
 * none, or it does not answer a ping, the test skips with the reason
 * (tempo_test_skip: a failure under CI=true). */
#ifndef TEMPO_TEST_MONGO_TEST_H
#define TEMPO_TEST_MONGO_TEST_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <tempo/mongo.h>

/* Only the driver's warnings and errors on stderr (mt_uri does it). */
void mt_quiet_logs(void);

/* The server's URI (static storage); skips the test when there is none. */
const char *mt_uri(void);

/* A database name unique to this process and call: "tempo_<what>_<pid>_<n>". */
void mt_db_name(const char *what, char *buf, size_t size);

/* A single-threaded client of the test's own (mongoc_client_destroy it). */
mongoc_client_t *mt_client(const char *uri);

/* Drop a database (errors are printed, not fatal: it is cleanup). */
void mt_drop(const char *uri, const char *db);

/* A new, unstarted store on `db` with the default prefix; aborts the test
 * on failure. */
tempo_store_t *mt_store(const char *uri, const char *db);

/* The conformance factory's hooks (store_cases.h), on database `db` with the
 * default prefix "tempo_". */
bool mt_corrupt(const char *uri, const char *db, const char *kind, const char *id);
bool mt_quarantined(const char *uri, const char *db, const char *kind, const char *id);

#endif
