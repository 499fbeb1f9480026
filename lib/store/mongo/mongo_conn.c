/* The driver: process-wide init, the client of one operation, the indexes,
 * and turning the driver's errors into tempo's.
 *
 * mongoc_init() runs once per process (pthread_once). tempo never calls
 * mongoc_cleanup(): the application, or another library in it, may use the
 * driver too and only the application knows when the last user is gone —
 * it may call mongoc_cleanup() itself after freeing every store.
 *
 * The client pool is made by the first operation that runs (on the offload
 * thread: making one for a mongodb+srv URI resolves DNS) and destroyed by
 * the close work at stop or destroy (mongo_ops.c). Indexes are created by
 * the first operation that finds the server; until then each operation
 * tries again, and fails with the reason when it cannot (server down). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mongo_internal.h"
#include "util/error_internal.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    mongoc_init();
}

void tempo__mg_init_once(void)
{
    pthread_once(&init_once, init);
}

tempo_status_t tempo__mg_fail(tempo_error_t *err, const bson_error_t *e, const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (e->domain == MONGOC_ERROR_SERVER_SELECTION)
        return tempo__error_set(err, TEMPO_ESTORE, "%s: server unreachable: %s", what, e->message);
    return tempo__error_set(err, TEMPO_ESTORE, "%s: %s", what, e->message);
}

bool tempo__mg_is_duplicate(const bson_error_t *e)
{
    switch (e->domain) {
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_CLIENT:
        return false;
    default:
        return e->code == 11000 || e->code == 11001 || e->code == 12582;
    }
}

int64_t tempo__mg_reply_count(const bson_t *reply, const char *field)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, reply, field))
        return 0;
    return BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
}

/* The write errors of an unordered insert: true when every one is a
 * duplicate _id (marked in dup_out); false with the first other one. */
static bool only_duplicates(const bson_t *reply, size_t n, bool *dup_out, char *other, size_t size)
{
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr)) {
        snprintf(other, size, "no write errors in the reply");
        return false;
    }
    bool any = false;
    while (bson_iter_next(&arr)) {
        bson_iter_t we, f;
        int32_t code = 0, index = -1;
        const char *msg = "?";
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &we))
            continue;
        while (bson_iter_next(&we)) {
            const char *key = bson_iter_key(&we);
            f = we;
            if (strcmp(key, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&f))
                code = (int32_t)bson_iter_as_int64(&f);
            else if (strcmp(key, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&f))
                index = (int32_t)bson_iter_as_int64(&f);
            else if (strcmp(key, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&f))
                msg = bson_iter_utf8(&f, NULL);
        }
        if (code != 11000 && code != 11001) {
            snprintf(other, size, "%s (code %d)", msg, code);
            return false;
        }
        if (index >= 0 && (size_t)index < n && dup_out)
            dup_out[index] = true;
        any = true;
    }
    if (!any)
        snprintf(other, size, "an empty list of write errors");
    return any;
}

tempo_status_t tempo__mg_insert_unique(mongoc_collection_t *coll, const bson_t *const *docs, size_t n,
                                       bool *dup_out, const char *what, tempo_error_t *err)
{
    if (dup_out)
        memset(dup_out, 0, n * sizeof *dup_out);
    if (n == 0)
        return TEMPO_OK;
    bson_t opts = BSON_INITIALIZER, reply;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    bson_error_t e;
    bool ok = mongoc_collection_insert_many(coll, (const bson_t **)docs, n, &opts, &reply, &e);
    tempo_status_t rc = TEMPO_OK;
    char other[160];
    if (!ok && !only_duplicates(&reply, n, dup_out, other, sizeof other)) {
        /* A network error has no write errors: the driver's message says it. */
        if (!bson_has_field(&reply, "writeErrors"))
            rc = tempo__mg_fail(err, &e, "%s", what);
        else
            rc = tempo__error_set(err, TEMPO_ESTORE, "%s: %s", what, other);
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    return rc;
}

/* ---- indexes ---- */

typedef struct index_spec {
    int coll;
    const char *name;
    const char *keys[5]; /* ascending, or descending when written "-key"; NULL-terminated */
} index_spec_t;

/* Named, so that creating them again is a no-op (MongoDB and FerretDB). */
static const index_spec_t indexes[] = {
    /* acquire_schedules: due, unpaused, in next_fire_time order */
    {MG_SCHEDULES, "due", {"paused", "next_fire_time", "_id", NULL}},
    /* next_schedule_time: unheld by next time, held by lease expiry */
    {MG_SCHEDULES, "wake", {"paused", "until", "next_fire_time", NULL}},
    /* acquire_jobs: per task, effective fire time, created_at, id */
    {MG_JOBS, "queue", {"task_id", "due", "created_at", "_id", NULL}},
    /* max_running_jobs: unexpired leases of a task */
    {MG_JOBS, "running", {"task_id", "until", NULL}},
    /* next_job_time and reap_abandoned */
    {MG_JOBS, "lease", {"until", "due", NULL}},
    /* finished schedules: is any job still naming it? */
    {MG_JOBS, "schedule", {"schedule_id", NULL}},
    {MG_RESULTS, "expiry", {"expires_at", NULL}},
    /* list_results, newest first (ties by job id), of all or of one
     * schedule: the order of the listing's sort, so its limit ends the scan */
    {MG_RESULTS, "recent", {"-finished_at", "_id", NULL}},
    {MG_RESULTS, "schedule_recent", {"schedule_id", "-finished_at", "_id", NULL}},
    {MG_CLAIMS, "age", {"at", NULL}},
    {MG_QUARANTINE, "record", {"kind", "id", NULL}},
};

/* One command per index: FerretDB v1.24 drops the connection when one
 * createIndexes command lists several indexes that all exist already. */
static tempo_status_t create_index(mg_conn_t *c, const index_spec_t *spec, tempo_error_t *err)
{
    bson_t cmd = BSON_INITIALIZER, list, one, keys;
    BSON_APPEND_UTF8(&cmd, "createIndexes", c->st->coll_names[spec->coll]);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
    BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &one);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &keys);
    for (int f = 0; spec->keys[f]; f++) {
        const char *key = spec->keys[f];
        BSON_APPEND_INT32(&keys, key[0] == '-' ? key + 1 : key, key[0] == '-' ? -1 : 1);
    }
    bson_append_document_end(&one, &keys);
    BSON_APPEND_UTF8(&one, "name", spec->name);
    bson_append_document_end(&list, &one);
    bson_append_array_end(&cmd, &list);
    bson_error_t e;
    bool ok = mongoc_collection_write_command_with_opts(c->coll[spec->coll], &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    if (!ok)
        return tempo__mg_fail(err, &e, "creating index '%s' of collection '%s' in %s", spec->name,
                              c->st->coll_names[spec->coll], c->st->where);
    return TEMPO_OK;
}

/* FerretDB says so in buildInfo ("ferretdbVersion"). Its SQLite backend
 * looks up only a filter of _id alone in SQL (and even that reads the whole
 * table: its _id index is on another expression), and runs every other
 * filter and sort in memory over the whole collection: where one query
 * serves better than several there, the store picks by this. A server that
 * does not answer buildInfo is taken for MongoDB. */
static void detect_scans(mg_conn_t *c)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    BSON_APPEND_INT32(&cmd, "buildInfo", 1);
    if (mongoc_client_command_simple(c->client, "admin", &cmd, NULL, &reply, NULL))
        c->st->scans = bson_has_field(&reply, "ferretdbVersion");
    bson_destroy(&reply);
    bson_destroy(&cmd);
}

static tempo_status_t ensure_ready(mg_conn_t *c, tempo_error_t *err)
{
    if (c->st->ready)
        return TEMPO_OK;
    detect_scans(c);
    for (size_t i = 0; i < sizeof indexes / sizeof *indexes; i++) {
        tempo_status_t rc = create_index(c, &indexes[i], err);
        if (rc != TEMPO_OK)
            return rc;
    }
    c->st->ready = true;
    return TEMPO_OK;
}

/* ---- the client of one operation ---- */

static tempo_status_t make_clients(mg_store_t *st, tempo_error_t *err)
{
    bson_error_t e;
    st->clients = mongoc_client_pool_new_with_error(st->uri, &e);
    if (!st->clients)
        return tempo__mg_fail(err, &e, "cannot create a client pool for %s", st->where);
    mongoc_client_pool_set_error_api(st->clients, MONGOC_ERROR_API_VERSION_2);
    if (!mongoc_uri_get_option_as_utf8(st->uri, MONGOC_URI_APPNAME, NULL))
        mongoc_client_pool_set_appname(st->clients, "tempo");
    return TEMPO_OK;
}

/* Both offload threads (the lease lane too) come here: the client pool and
 * the indexes are made once, under conn_mu; popping a client is
 * thread-safe. */
tempo_status_t tempo__mg_conn_open(mg_store_t *st, mg_conn_t *c, tempo_error_t *err)
{
    memset(c, 0, sizeof *c);
    c->st = st;
    pthread_mutex_lock(&st->conn_mu);
    tempo_status_t rc = st->clients ? TEMPO_OK : make_clients(st, err);
    mongoc_client_pool_t *clients = st->clients;
    pthread_mutex_unlock(&st->conn_mu);
    if (rc != TEMPO_OK)
        return rc;
    c->client = mongoc_client_pool_pop(clients);
    if (!c->client)
        return tempo__error_set(err, TEMPO_ESTORE, "no client available for %s", st->where);
    for (int i = 0; i < MG_NCOLL; i++)
        c->coll[i] = mongoc_client_get_collection(c->client, st->db, st->coll_names[i]);
    pthread_mutex_lock(&st->conn_mu);
    rc = ensure_ready(c, err);
    pthread_mutex_unlock(&st->conn_mu);
    if (rc != TEMPO_OK)
        tempo__mg_conn_close(c);
    return rc;
}

void tempo__mg_conn_close(mg_conn_t *c)
{
    for (int i = 0; i < MG_NCOLL; i++) {
        mongoc_collection_destroy(c->coll[i]);
        c->coll[i] = NULL;
    }
    if (c->client)
        mongoc_client_pool_push(c->st->clients, c->client);
    c->client = NULL;
}

void tempo__mg_close_clients(mg_store_t *st)
{
    mongoc_client_pool_destroy(st->clients);
    st->clients = NULL;
}
