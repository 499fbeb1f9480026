/* What the memory store keeps once, however many records use it.
 *
 * Names: a million schedules of one task share one copy of its id; the few
 * lease owners are shared the same way. Each interned entry counts the
 * records naming it and goes away with the last of them. The schedule ids
 * that jobs name are interned too, in their own map, so that their count is
 * exactly "jobs that refer to this schedule" — what decides when a finished
 * schedule may be removed, even across a remove and re-add of the same id.
 *
 * A task id's entry also carries that task's job queue (memory_jobs.c): the
 * queue lives exactly as long as something names the task.
 *
 * Documents are kept as their BSON bytes, in one allocation of exactly their
 * size (a bson_t would cost 128 bytes more each), and not at all when empty:
 * the common schedule without arguments pays 8 bytes for the pointer. */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"

const char *tempo__mem_name_key(const void *item)
{
    return ((const mem_name_t *)item)->str;
}

mem_name_t *tempo__mem_name_ref(tempo__hmap_t *map, const char *str)
{
    mem_name_t *name = tempo__hmap_get(map, str);
    if (name) {
        name->refs++;
        return name;
    }
    if (!tempo__hmap_reserve(map, map->count + 1))
        return NULL;
    size_t len = strlen(str) + 1;
    name = malloc(sizeof *name + len);
    if (!name)
        return NULL;
    name->refs = 1;
    memcpy(name->str, str, len);
    tempo__hmap_insert(map, name);
    return name;
}

void tempo__mem_name_unref(tempo__hmap_t *map, mem_name_t *name)
{
    if (--name->refs == 0) {
        tempo__hmap_remove(map, name->str);
        free(name);
    }
}

mem_name_t *tempo__mem_owner_ref(mem_store_t *st, const char *owner)
{
    return tempo__mem_name_ref(&st->owners, owner);
}

bool tempo__mem_owner_is(const mem_name_t *name, const char *owner)
{
    return name && strcmp(name->str, owner) == 0;
}

const char *tempo__mem_task_key(const void *item)
{
    return ((const mem_task_t *)item)->id;
}

/* A new task entry also makes room for itself in st->task_tops, so that its
 * queue becoming non-empty can never fail to be indexed. */
mem_task_t *tempo__mem_task_ref(mem_store_t *st, const char *id)
{
    mem_task_t *task = tempo__hmap_get(&st->tasks, id);
    if (task) {
        task->refs++;
        return task;
    }
    if (!tempo__hmap_reserve(&st->tasks, st->tasks.count + 1) ||
        !tempo__heap_reserve(&st->task_tops, st->tasks.count + 1))
        return NULL;
    size_t len = strlen(id) + 1;
    task = calloc(1, sizeof *task + len);
    if (!task)
        return NULL;
    task->refs = 1;
    task->top_pos = MEM_NPOS;
    task->merge_pos = MEM_NPOS;
    tempo__heap_init(&task->queue, tempo__mem_job_tie, tempo__mem_job_moved);
    memcpy(task->id, id, len);
    tempo__hmap_insert(&st->tasks, task);
    return task;
}

void tempo__mem_task_unref(mem_store_t *st, mem_task_t *task)
{
    if (--task->refs > 0)
        return;
    /* No job names it, so its queue is empty and it is not in task_tops. */
    tempo__hmap_remove(&st->tasks, task->id);
    tempo__heap_destroy(&task->queue);
    free(task);
}

/* At the end, the only references left are jobs taken direct that were
 * never released (their scheduler went away): the names go with the store. */
void tempo__mem_task_names_free(mem_store_t *st)
{
    size_t pos = 0;
    mem_task_t *task;
    while ((task = tempo__hmap_next(&st->tasks, &pos)) != NULL) {
        tempo__heap_destroy(&task->queue);
        free(task);
    }
    tempo__hmap_destroy(&st->tasks);
}

bool tempo__mem_doc_dup(const bson_t *doc, uint8_t **out)
{
    *out = NULL;
    if (!doc || bson_empty(doc))
        return true;
    uint8_t *bytes = malloc(doc->len);
    if (!bytes)
        return false;
    memcpy(bytes, bson_get_data(doc), doc->len);
    *out = bytes;
    return true;
}

const bson_t *tempo__mem_doc_view(const uint8_t *bytes, bson_t *storage)
{
    if (!bytes)
        return NULL;
    uint32_t len = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                   (uint32_t)bytes[3] << 24;
    /* Cannot fail: the bytes are a copy of a valid document. */
    return bson_init_static(storage, bytes, len) ? storage : NULL;
}
