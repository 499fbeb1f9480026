/* The store a scheduler points at once it has been freed from inside one of
 * its own callbacks.
 *
 * Such a free tears everything down at once but must leave the scheduler's
 * memory in place until the frames below the callback have returned (the
 * loop frees it when the round unwinds). Those frames may still call the
 * store; pointing them at operations that do nothing and never call back is
 * simpler and safer than a check before every store call. */
#include "sched_internal.h"

static tempo_status_t dead_start(void *self, tempo_loop_t *loop, tempo_error_t *err)
{
    (void)self, (void)loop, (void)err;
    return TEMPO_ESTATE;
}

static void dead_stop(void *self, tempo_store_status_cb cb, void *ud) { (void)self, (void)cb, (void)ud; }
static void dead_destroy(void *self) { (void)self; }
static void dead_add_task(void *self, const tempo_task_record_t *t, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)t, (void)cb, (void)ud;
}
static void dead_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud) { (void)self, (void)cb, (void)ud; }
static void dead_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)id, (void)cb, (void)ud;
}
static void dead_add_schedule(void *self, const tempo_schedule_record_t *r, tempo_conflict_t c, tempo_store_add_cb cb,
                              void *ud)
{
    (void)self, (void)r, (void)c, (void)cb, (void)ud;
}
static void dead_get_schedules(void *self, const char *const *ids, size_t n, tempo_store_schedules_cb cb, void *ud)
{
    (void)self, (void)ids, (void)n, (void)cb, (void)ud;
}
static void dead_update_schedule(void *self, const tempo_schedule_record_t *r, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)r, (void)cb, (void)ud;
}
static void dead_remove_schedules(void *self, const char *const *ids, size_t n, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)ids, (void)n, (void)cb, (void)ud;
}
static void dead_acquire_schedules(void *self, const char *o, tempo_time_t now, tempo_duration_t l, size_t lim,
                                   tempo_store_schedules_cb cb, void *ud)
{
    (void)self, (void)o, (void)now, (void)l, (void)lim, (void)cb, (void)ud;
}
static void dead_release_schedules(void *self, const char *o, tempo_schedule_release_t *r, size_t n,
                                   tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)o, (void)r, (void)n, (void)cb, (void)ud;
}
static void dead_time(void *self, tempo_store_time_cb cb, void *ud) { (void)self, (void)cb, (void)ud; }
static void dead_add_job(void *self, const tempo_job_record_t *j, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)j, (void)cb, (void)ud;
}
static void dead_get_jobs(void *self, const char *const *ids, size_t n, tempo_store_jobs_cb cb, void *ud)
{
    (void)self, (void)ids, (void)n, (void)cb, (void)ud;
}
static void dead_acquire_jobs(void *self, const char *o, tempo_time_t now, tempo_duration_t l, size_t lim,
                              const tempo_task_record_t *t, size_t nt, tempo_store_jobs_cb cb, void *ud)
{
    (void)self, (void)o, (void)now, (void)l, (void)lim, (void)t, (void)nt, (void)cb, (void)ud;
}
static void dead_release_job(void *self, const char *o, const char *id, int64_t f, const tempo_job_result_t *r,
                             tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)o, (void)id, (void)f, (void)r, (void)cb, (void)ud;
}
static void dead_get_job_result(void *self, const char *id, tempo_store_result_cb cb, void *ud)
{
    (void)self, (void)id, (void)cb, (void)ud;
}
static void dead_extend_leases(void *self, const char *o, const char *const *s, size_t ns, const char *const *j,
                               size_t nj, tempo_time_t until, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)o, (void)s, (void)ns, (void)j, (void)nj, (void)until, (void)cb, (void)ud;
}
static void dead_reap(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud)
{
    (void)self, (void)now, (void)cb, (void)ud;
}
static void dead_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud)
{
    (void)self, (void)now, (void)cb, (void)ud;
}

static void dead_list_results(void *self, const char *sid, tempo_time_t now, size_t limit, tempo_store_results_cb cb,
                              void *ud)
{
    (void)self, (void)sid, (void)now, (void)limit, (void)cb, (void)ud;
}

/* The scheduler still believes its store takes jobs direct: the token it
 * might hand back belonged to the freed store. */
static void dead_release_direct(void *self, void *direct, const tempo_job_result_t *result, tempo_store_status_cb cb,
                                void *ud)
{
    (void)self, (void)direct, (void)result, (void)cb, (void)ud;
}

static const tempo_store_ops_t dead_ops = {
    .size = sizeof(tempo_store_ops_t),
    .name = "freed",
    .start = dead_start,
    .stop = dead_stop,
    .destroy = dead_destroy,
    .add_task = dead_add_task,
    .get_tasks = dead_get_tasks,
    .remove_task = dead_remove_task,
    .add_schedule = dead_add_schedule,
    .get_schedules = dead_get_schedules,
    .update_schedule = dead_update_schedule,
    .remove_schedules = dead_remove_schedules,
    .acquire_schedules = dead_acquire_schedules,
    .release_schedules = dead_release_schedules,
    .next_schedule_time = dead_time,
    .add_job = dead_add_job,
    .get_jobs = dead_get_jobs,
    .acquire_jobs = dead_acquire_jobs,
    .release_job = dead_release_job,
    .next_job_time = dead_time,
    .get_job_result = dead_get_job_result,
    .extend_leases = dead_extend_leases,
    .reap_abandoned = dead_reap,
    .cleanup = dead_cleanup,
    .list_results = dead_list_results,
    .release_direct = dead_release_direct,
};

static tempo_store_t dead_store = {&dead_ops, NULL};

tempo_store_t *tempo__dead_store(void)
{
    return &dead_store;
}
