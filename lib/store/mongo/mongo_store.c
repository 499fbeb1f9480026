/* The MongoDB store: constructor, ops table, and freeing.
 *
 * tempo_mongo_store_new only parses and checks (URI, database, prefix); it
 * talks to no server and blocks on nothing, so it may run on the loop
 * thread. The layout and the threads are described in mongo_internal.h, the
 * life of an operation in mongo_ops.c, the data layout in docs/stores.md. */
#include <stdio.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/store_internal.h"
#include "util/error_internal.h"

static const tempo_store_ops_t mongo_ops = {
    .size = sizeof(tempo_store_ops_t),
    .name = MG_NAME,
    .start = tempo__mg_start,
    .stop = tempo__mg_stop,
    .destroy = tempo__mg_destroy,
    .add_task = tempo__mg_add_task,
    .get_tasks = tempo__mg_get_tasks,
    .remove_task = tempo__mg_remove_task,
    .add_schedule = tempo__mg_add_schedule,
    .get_schedules = tempo__mg_get_schedules,
    .update_schedule = tempo__mg_update_schedule,
    .remove_schedules = tempo__mg_remove_schedules,
    .acquire_schedules = tempo__mg_acquire_schedules,
    .release_schedules = tempo__mg_release_schedules,
    .next_schedule_time = tempo__mg_next_schedule_time,
    .add_job = tempo__mg_add_job,
    .get_jobs = tempo__mg_get_jobs,
    .acquire_jobs = tempo__mg_acquire_jobs,
    .release_job = tempo__mg_release_job,
    .next_job_time = tempo__mg_next_job_time,
    .get_job_result = tempo__mg_get_job_result,
    .extend_leases = tempo__mg_extend_leases,
    .reap_abandoned = tempo__mg_reap_abandoned,
    .cleanup = tempo__mg_cleanup,
    .set_quarantine_cb = tempo__mg_set_quarantine_cb,
    .list_results = tempo__mg_list_results,
};

static const char *const coll_suffix[MG_NCOLL] = {"tasks", "schedules", "jobs", "results", "claims", "quarantine"};

/* Timeouts set when the URI has none (mongo.h): an operation against a
 * server that is down fails within about this, instead of the driver's 30 s
 * server selection and 5 min socket timeout. */
static const struct {
    const char *option;
    int32_t ms;
} timeout_defaults[] = {
    {MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 5000},
    {MONGOC_URI_CONNECTTIMEOUTMS, 5000},
    {MONGOC_URI_SOCKETTIMEOUTMS, 5000},
};

#define FN "tempo_mongo_store_new"

/* MongoDB's rules for database names (the strictest platform's), which
 * FerretDB follows too. */
static tempo_status_t check_database(const char *db, tempo_error_t *err)
{
    size_t len = strlen(db);
    if (len == 0 || len > 63)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": database name '%s' must have 1 to 63 characters", db);
    size_t bad = strcspn(db, "/\\. \"$*<>:|?");
    if (bad < len)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": database name '%s' has a '%c' (not allowed in "
                                "MongoDB database names)", db, db[bad]);
    return TEMPO_OK;
}

static tempo_status_t check_prefix(const char *prefix, tempo_error_t *err)
{
    if (strlen(prefix) > 100)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": collection prefix is longer than 100 characters");
    if (strchr(prefix, '$'))
        return tempo__error_set(err, TEMPO_EINVAL, FN ": collection prefix '%s' has a '$'", prefix);
    if (strncmp(prefix, "system.", 7) == 0)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": collection prefix '%s' starts with 'system.' "
                                "(reserved by MongoDB)", prefix);
    return TEMPO_OK;
}

/* Don't echo a URI that may carry a password. */
static tempo_status_t bad_uri(const char *uri, const bson_error_t *e, tempo_error_t *err)
{
    if (strchr(uri, '@'))
        return tempo__error_set(err, TEMPO_EINVAL, FN ": bad URI: %s", e->message);
    return tempo__error_set(err, TEMPO_EINVAL, FN ": bad URI '%s': %s", uri, e->message);
}

static void set_timeouts(mongoc_uri_t *uri)
{
    for (size_t i = 0; i < sizeof timeout_defaults / sizeof *timeout_defaults; i++)
        if (!mongoc_uri_has_option(uri, timeout_defaults[i].option))
            mongoc_uri_set_option_as_int32(uri, timeout_defaults[i].option, timeout_defaults[i].ms);
}

/* "database 'tempo' on h1:27017,h2:27017" (or the SRV name). */
static char *describe(const mongoc_uri_t *uri, const char *db)
{
    char hosts[256] = "";
    size_t used = 0;
    const char *srv = mongoc_uri_get_srv_hostname(uri);
    if (srv) {
        snprintf(hosts, sizeof hosts, "%s (SRV)", srv);
    } else {
        for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h && used < sizeof hosts; h = h->next) {
            int n = snprintf(hosts + used, sizeof hosts - used, "%s%s", used ? "," : "", h->host_and_port);
            used = n < 0 ? sizeof hosts : used + (size_t)n;
        }
    }
    return bson_strdup_printf("database '%s' on %s", db, hosts);
}

static mg_store_t *store_make(mongoc_uri_t *uri, const char *db, const char *prefix)
{
    mg_store_t *st = bson_malloc0(sizeof *st);
    st->uri = uri;
    st->db = bson_strdup(db);
    for (int i = 0; i < MG_NCOLL; i++)
        st->coll_names[i] = bson_strdup_printf("%s%s", prefix, coll_suffix[i]);
    st->where = describe(uri, db);
    st->held_tail = &st->held;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    pthread_mutex_init(&st->conn_mu, NULL);
    pthread_mutex_init(&st->batch_mu, NULL);
    return st;
}

void tempo__mg_store_free(mg_store_t *st)
{
    mongoc_uri_destroy(st->uri);
    bson_free(st->db);
    for (int i = 0; i < MG_NCOLL; i++)
        bson_free(st->coll_names[i]);
    bson_free(st->where);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->conn_mu);
    pthread_mutex_destroy(&st->batch_mu);
    bson_free(st);
}

tempo_status_t tempo_mongo_store_new(const char *uri, const tempo_mongo_options_t *options, tempo_store_t **out,
                                     tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": out is NULL");
    *out = NULL;
    if (!uri)
        return tempo__error_set(err, TEMPO_EINVAL, FN ": uri is NULL");
    if (options && options->size < sizeof(tempo_mongo_options_t))
        return tempo__error_set(err, TEMPO_EINVAL, FN ": options->size is %zu, expected %zu "
                                "(use TEMPO_MONGO_OPTIONS_INIT)", options->size, sizeof(tempo_mongo_options_t));
    tempo__mg_init_once();
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &e);
    if (!u)
        return bad_uri(uri, &e, err);
    const char *db = options && options->database ? options->database : mongoc_uri_get_database(u);
    const char *prefix = options && options->prefix ? options->prefix : "tempo_";
    tempo_status_t rc = check_database(db ? db : "tempo", err);
    if (rc == TEMPO_OK)
        rc = check_prefix(prefix, err);
    if (rc != TEMPO_OK) {
        mongoc_uri_destroy(u);
        return rc;
    }
    set_timeouts(u);
    mg_store_t *st = store_make(u, db ? db : "tempo", prefix);
    tempo_store_t *store = tempo__store_wrap(&mongo_ops, st);
    if (!store) {
        tempo__mg_store_free(st);
        return tempo__error_set(err, TEMPO_ENOMEM, FN ": out of memory");
    }
    *out = store;
    return TEMPO_OK;
}
