/* Task records in the memory store: a map of records.h copies by id.
 *
 * Independent of the interned task ids that schedules and jobs use: a
 * schedule may name a task no process has added yet, and removing a task
 * record leaves its schedules and jobs alone (workers that do not know the
 * task just never acquire its jobs). */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

static tempo_status_t add_task(mem_store_t *st, const tempo_task_record_t *task, tempo_error_t *err)
{
    tempo_status_t rc = tempo__task_record_check(task, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_task_record_t *copy = malloc(sizeof *copy);
    if (!copy || !tempo__hmap_reserve(&st->task_records, st->task_records.count + 1)) {
        free(copy);
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory adding task '%s'", task->id);
    }
    rc = tempo__task_record_copy(copy, task, err);
    if (rc != TEMPO_OK) {
        free(copy);
        return rc;
    }
    tempo_task_record_t *old = tempo__hmap_remove(&st->task_records, task->id);
    if (old) {
        tempo__task_record_clear(old);
        free(old);
    }
    tempo__hmap_insert(&st->task_records, copy);
    return TEMPO_OK;
}

void tempo__mem_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "add_task", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = add_task(self, task, &op->err);
    tempo__mem_op_end(op);
}

static int by_id(const void *a, const void *b)
{
    const tempo_task_record_t *x = *(const tempo_task_record_t *const *)a;
    const tempo_task_record_t *y = *(const tempo_task_record_t *const *)b;
    return strcmp(x->id, y->id);
}

/* Every task, ordered by id. */
static tempo_status_t get_tasks(mem_store_t *st, mem_op_t *op)
{
    size_t n = st->task_records.count, pos = 0;
    if (n == 0)
        return TEMPO_OK;
    const tempo_task_record_t **all = malloc(n * sizeof *all);
    tempo_task_record_t *recs = calloc(n, sizeof *recs);
    tempo_status_t rc = TEMPO_OK;
    if (!all || !recs) {
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory listing %zu tasks", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        all[i] = tempo__hmap_next(&st->task_records, &pos);
    qsort(all, n, sizeof *all, by_id);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        rc = tempo__task_record_copy(&recs[i], all[i], &op->err);
    if (rc == TEMPO_OK) {
        op->out.list.recs = recs;
        op->out.list.count = n;
        recs = NULL;
    }
out:
    tempo__task_records_free(recs, n);
    free(all);
    return rc;
}

void tempo__mem_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_TASKS, "get_tasks", (mem_cb_t){.tasks = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = get_tasks(self, op);
    tempo__mem_op_end(op);
}

static tempo_status_t remove_task(mem_store_t *st, const char *id, tempo_error_t *err)
{
    if (!tempo__id_ok(id))
        return tempo__error_set(err, TEMPO_EINVAL, "task id is %s", id ? "empty" : "NULL");
    tempo_task_record_t *old = tempo__hmap_remove(&st->task_records, id);
    if (!old)
        return tempo__error_set(err, TEMPO_ENOTFOUND, "no task '%s'", id);
    tempo__task_record_clear(old);
    free(old);
    return TEMPO_OK;
}

void tempo__mem_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "remove_task", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = remove_task(self, id, &op->err);
    tempo__mem_op_end(op);
}

void tempo__mem_tasks_free(mem_store_t *st)
{
    size_t pos = 0;
    tempo_task_record_t *rec;
    while ((rec = tempo__hmap_next(&st->task_records, &pos)) != NULL) {
        tempo__task_record_clear(rec);
        free(rec);
    }
    tempo__hmap_destroy(&st->task_records);
}
