/* The SQLite store: constructor and ops table (include/tempo/sqlite.h).
 *
 * The layout of the code is in sqlite_internal.h, the layout of the file
 * in sqlite_schema.c, and both with the reasons in docs/stores.md. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_internal.h"
#include "store/store_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

static const tempo_store_ops_t sqlite_ops = {
    .size = sizeof(tempo_store_ops_t),
    .name = "sqlite",
    .start = tempo__sq_start,
    .stop = tempo__sq_stop,
    .destroy = tempo__sq_destroy,
    .add_task = tempo__sq_add_task,
    .get_tasks = tempo__sq_get_tasks,
    .remove_task = tempo__sq_remove_task,
    .add_schedule = tempo__sq_add_schedule,
    .get_schedules = tempo__sq_get_schedules,
    .update_schedule = tempo__sq_update_schedule,
    .remove_schedules = tempo__sq_remove_schedules,
    .acquire_schedules = tempo__sq_acquire_schedules,
    .release_schedules = tempo__sq_release_schedules,
    .next_schedule_time = tempo__sq_next_schedule_time,
    .add_job = tempo__sq_add_job,
    .get_jobs = tempo__sq_get_jobs,
    .acquire_jobs = tempo__sq_acquire_jobs,
    .release_job = tempo__sq_release_job,
    .next_job_time = tempo__sq_next_job_time,
    .get_job_result = tempo__sq_get_job_result,
    .extend_leases = tempo__sq_extend_leases,
    .reap_abandoned = tempo__sq_reap_abandoned,
    .cleanup = tempo__sq_cleanup,
    .set_quarantine_cb = tempo__sq_set_quarantine_cb,
    .list_results = tempo__sq_list_results,
};

static tempo_status_t check_path(const char *path, tempo_error_t *err)
{
    if (!path || !path[0])
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_sqlite_store_new: path is %s (a temporary database "
                                "would not be shared or kept)", path ? "empty" : "NULL");
    if (strcmp(path, ":memory:") == 0)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "tempo_sqlite_store_new: path ':memory:' is refused: use the memory store "
                                "(tempo_memory_store_new) for a store in this process only");
    return TEMPO_OK;
}

/* busy_timeout in whole milliseconds, rounded up, at most INT_MAX. */
static int busy_ms(tempo_duration_t timeout)
{
    tempo_duration_t ms = timeout / 1000 + (timeout % 1000 != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

tempo_status_t tempo_sqlite_store_new(const char *path, const tempo_sqlite_options_t *options,
                                      tempo_store_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_sqlite_store_new: out is NULL");
    *out = NULL;
    tempo_status_t rc = check_path(path, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_sqlite_options_t o = TEMPO_SQLITE_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, options))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "tempo_sqlite_store_new: options.size %zu is not a size this build knows",
                                options->size);
    if (o.busy_timeout < 0)
        return tempo__error_set(err, TEMPO_EINVAL,
                                "tempo_sqlite_store_new: busy_timeout must be >= 0, got %lld",
                                (long long)o.busy_timeout);
    sq_store_t *st = calloc(1, sizeof *st);
    char *copy = strdup(path);
    tempo_store_t *store = st && copy ? tempo__store_wrap(&sqlite_ops, st) : NULL;
    if (!store) {
        free(st);
        free(copy);
        return tempo__error_set(err, TEMPO_ENOMEM, "tempo_sqlite_store_new: out of memory");
    }
    st->path = copy;
    st->held_tail = &st->held;
    st->db.path = copy;
    st->db.busy_ms = busy_ms(o.busy_timeout);
    st->db.create = o.create;
    *out = store;
    return TEMPO_OK;
}

int tempo_sqlite_schema_version(void)
{
    return TEMPO__SQ_SCHEMA_VERSION;
}
