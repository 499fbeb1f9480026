/* Helpers of the MongoDB store's tests (mongo_test.h). */
#include "mongo_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

/* The driver's own messages at warning and above only (its default handler
 * also prints its debug messages), without the one FerretDB causes at every
 * client pool's end (it has no endSessions command; docs/stores.md). */
static void quiet_handler(mongoc_log_level_t level, const char *domain, const char *message, void *ud)
{
    if (level <= MONGOC_LOG_LEVEL_WARNING && !strstr(message, "endSessions"))
        mongoc_log_default_handler(level, domain, message, ud);
}

void mt_quiet_logs(void)
{
    mongoc_log_set_handler(quiet_handler, NULL);
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* The fixture's error file sits next to its uri file. */
static void skip_with_fixture_reason(const char *uri_file)
{
    char path[1024], reason[512] = "", msg[1200];
    snprintf(path, sizeof path, "%s", uri_file);
    char *slash = strrchr(path, '/');
    if (slash)
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "error");
    FILE *f = slash ? fopen(path, "r") : NULL;
    if (f) {
        if (!fgets(reason, sizeof reason, f))
            reason[0] = '\0';
        fclose(f);
        chomp(reason);
    }
    snprintf(msg, sizeof msg, "no MongoDB server for the tests: %s",
             reason[0] ? reason : "the fixture wrote no URI (set TEMPO_TEST_MONGODB_URI, or run through ctest)");
    tempo_test_skip(msg);
}

static void ping_or_skip(const char *uri)
{
    mongoc_client_t *client = mt_client(uri);
    bson_t cmd = BSON_INITIALIZER;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bson_error_t e;
    bool ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    mongoc_client_destroy(client);
    if (!ok) {
        char msg[1200];
        snprintf(msg, sizeof msg, "the MongoDB server at %s does not answer: %s", uri, e.message);
        tempo_test_skip(msg);
    }
}

const char *mt_uri(void)
{
    static char uri[512];
    if (uri[0])
        return uri;
    mongoc_init();
    mt_quiet_logs();
    const char *env = getenv("TEMPO_TEST_MONGODB_URI");
    const char *file = getenv("TEMPO_MONGO_URI_FILE");
    if (env && env[0]) {
        snprintf(uri, sizeof uri, "%s", env);
    } else if (file && file[0]) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(uri, sizeof uri, f))
            uri[0] = '\0';
        if (f)
            fclose(f);
        chomp(uri);
        if (!uri[0])
            skip_with_fixture_reason(file);
    } else {
        tempo_test_skip("no MongoDB server for the tests: set TEMPO_TEST_MONGODB_URI, or run through ctest "
                        "(which starts FerretDB)");
    }
    ping_or_skip(uri);
    return uri;
}

void mt_db_name(const char *what, char *buf, size_t size)
{
    static unsigned counter;
    snprintf(buf, size, "tempo_%s_%ld_%u", what, (long)getpid(), counter++);
}

mongoc_client_t *mt_client(const char *uri)
{
    mongoc_init();
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &e);
    if (!u) {
        fprintf(stderr, "mt_client: bad URI '%s': %s\n", uri, e.message);
        abort();
    }
    if (!mongoc_uri_has_option(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 3000);
    mongoc_client_t *client = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    if (!client)
        abort();
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    return client;
}

void mt_drop(const char *uri, const char *db)
{
    mongoc_client_t *client = mt_client(uri);
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    bson_error_t e;
    if (!mongoc_database_drop(d, &e))
        fprintf(stderr, "mt_drop: dropping '%s': %s\n", db, e.message);
    mongoc_database_destroy(d);
    mongoc_client_destroy(client);
}

tempo_store_t *mt_store(const char *uri, const char *db)
{
    tempo_mongo_options_t opts = TEMPO_MONGO_OPTIONS_INIT;
    opts.database = db;
    tempo_store_t *store = NULL;
    tempo_error_t err;
    if (tempo_mongo_store_new(uri, &opts, &store, &err) != TEMPO_OK) {
        fprintf(stderr, "mt_store: %s\n", err.message);
        abort();
    }
    return store;
}

/* A schedule's trigger becomes a type nobody registered; a job's arguments
 * a string: what a newer version or a damaged record could leave. */
bool mt_corrupt(const char *uri, const char *db, const char *kind, const char *id)
{
    bool schedule = strcmp(kind, "schedule") == 0;
    if (!schedule && strcmp(kind, "job") != 0)
        return false;
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, schedule ? "tempo_schedules" : "tempo_jobs");
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, trigger, reply;
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    if (schedule) {
        BSON_APPEND_DOCUMENT_BEGIN(&set, "trigger", &trigger);
        BSON_APPEND_UTF8(&trigger, "type", "no-such-trigger");
        BSON_APPEND_INT32(&trigger, "v", 1);
        bson_append_document_end(&set, &trigger);
    } else {
        BSON_APPEND_UTF8(&set, "args", "\x01garbage");
    }
    bson_append_document_end(&update, &set);
    bson_error_t e;
    bool ok = mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &e);
    if (!ok)
        fprintf(stderr, "mt_corrupt: %s\n", e.message);
    bson_iter_t it;
    ok = ok && bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) == 1;
    bson_destroy(&reply);
    bson_destroy(&update);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    return ok;
}

static int64_t count(mongoc_client_t *client, const char *db, const char *coll_name, const bson_t *filter)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, coll_name);
    bson_error_t e;
    int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &e);
    if (n < 0)
        fprintf(stderr, "mt count in %s: %s\n", coll_name, e.message);
    mongoc_collection_destroy(coll);
    return n;
}

/* Kept whole in the quarantine collection, gone from its own. */
bool mt_quarantined(const char *uri, const char *db, const char *kind, const char *id)
{
    mongoc_client_t *client = mt_client(uri);
    bson_t q = BSON_INITIALIZER, own = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "kind", kind);
    BSON_APPEND_UTF8(&q, "id", id);
    BSON_APPEND_UTF8(&q, "record._id", id); /* the record itself is kept */
    BSON_APPEND_UTF8(&own, "_id", id);
    bool schedule = strcmp(kind, "schedule") == 0;
    int64_t set_aside = count(client, db, "tempo_quarantine", &q);
    int64_t left = count(client, db, schedule ? "tempo_schedules" : "tempo_jobs", &own);
    bson_destroy(&q);
    bson_destroy(&own);
    mongoc_client_destroy(client);
    return set_aside >= 1 && left == 0;
}
