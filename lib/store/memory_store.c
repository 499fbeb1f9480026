/* The in-memory store: the default store, in this process only.
 *
 * The layout (memory_internal.h) and its costs (docs/stores.md) are built
 * for a million schedules: hash maps by id, a heap of due schedules and a
 * heap of leased ones, per-task job queues, and interned names. */
#include <stdlib.h>

#include "memory_internal.h"
#include "store_internal.h"
#include "util/error_internal.h"

static const tempo_store_ops_t memory_ops = {
    .size = sizeof(tempo_store_ops_t),
    .name = "memory",
    .start = tempo__mem_start,
    .stop = tempo__mem_stop,
    .destroy = tempo__mem_destroy,
    .add_task = tempo__mem_add_task,
    .get_tasks = tempo__mem_get_tasks,
    .remove_task = tempo__mem_remove_task,
    .add_schedule = tempo__mem_add_schedule,
    .get_schedules = tempo__mem_get_schedules,
    .update_schedule = tempo__mem_update_schedule,
    .remove_schedules = tempo__mem_remove_schedules,
    .acquire_schedules = tempo__mem_acquire_schedules,
    .release_schedules = tempo__mem_release_schedules,
    .next_schedule_time = tempo__mem_next_schedule_time,
    .add_job = tempo__mem_add_job,
    .get_jobs = tempo__mem_get_jobs,
    .acquire_jobs = tempo__mem_acquire_jobs,
    .release_job = tempo__mem_release_job,
    .next_job_time = tempo__mem_next_job_time,
    .get_job_result = tempo__mem_get_job_result,
    .extend_leases = tempo__mem_extend_leases,
    .reap_abandoned = tempo__mem_reap_abandoned,
    .cleanup = tempo__mem_cleanup,
    .list_results = tempo__mem_list_results,
    .step_schedules = tempo__mem_step_schedules,
    .release_direct = tempo__mem_release_direct,
};

static void task_top_moved(void *item, size_t index)
{
    ((mem_task_t *)item)->top_pos = (uint32_t)index;
}

static void result_moved(void *item, size_t index)
{
    ((mem_result_t *)item)->pos = (uint32_t)index;
}

static const char *task_record_key(const void *item)
{
    return ((const tempo_task_record_t *)item)->id;
}

static const char *result_key(const void *item)
{
    return ((const mem_result_t *)item)->rec.job_id;
}

static void store_init(mem_store_t *st)
{
    st->held_tail = &st->held;
    tempo__hmap_init(&st->task_records, task_record_key);
    tempo__hmap_init(&st->tasks, tempo__mem_task_key);
    tempo__hmap_init(&st->owners, tempo__mem_name_key);
    tempo__hmap_init(&st->schedule_refs, tempo__mem_name_key);
    tempo__hmap_init(&st->schedules, tempo__mem_schedule_key);
    tempo__heap_init(&st->due, tempo__mem_schedule_tie, tempo__mem_schedule_moved);
    tempo__heap_init(&st->leased, tempo__mem_schedule_tie, tempo__mem_schedule_moved);
    /* Every key 0 and no tie-break: an unordered bag (heap.h). */
    tempo__heap_init(&st->finished, NULL, tempo__mem_schedule_moved);
    tempo__hmap_init(&st->jobs, tempo__mem_job_key);
    tempo__heap_init(&st->job_leases, tempo__mem_job_tie, tempo__mem_job_moved);
    tempo__heap_init(&st->task_tops, NULL, task_top_moved);
    tempo__hmap_init(&st->results, result_key);
    tempo__heap_init(&st->result_expiry, NULL, result_moved);
}

tempo_status_t tempo_memory_store_new(tempo_store_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_memory_store_new: out is NULL");
    *out = NULL;
    mem_store_t *st = calloc(1, sizeof *st);
    tempo_store_t *store = st ? tempo__store_wrap(&memory_ops, st) : NULL;
    if (!store) {
        free(st);
        return tempo__error_set(err, TEMPO_ENOMEM, "tempo_memory_store_new: out of memory");
    }
    store_init(st);
    *out = store;
    return TEMPO_OK;
}

/* Jobs first: deleting them drops their references to schedules and tasks. */
void tempo__mem_store_free(mem_store_t *st)
{
    tempo__mem_jobs_free(st);
    tempo__mem_schedules_free(st);
    tempo__mem_results_free(st);
    tempo__mem_tasks_free(st);
    tempo__mem_task_names_free(st);
    tempo__hmap_destroy(&st->owners);
    tempo__hmap_destroy(&st->schedule_refs);
    tempo__heap_destroy(&st->task_tops);
    tempo__mem_spares_free(st);
    free(st);
}
