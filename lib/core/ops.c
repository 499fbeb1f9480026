/* Pending public calls.
 *
 * Every asynchronous API call is an op on the scheduler's list from the
 * moment it is accepted until its callback has run. The list is what lets
 * stop and free keep the promise "the callback runs exactly once": whatever
 * the store has not answered yet is answered with TEMPO_ECANCELLED. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

tempo__op_t *tempo__op_new(tempo_scheduler_t *s, op_kind_t kind, void (*cb)(void), void *userdata,
                           const char *id)
{
    tempo__op_t *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->s = s;
    op->kind = kind;
    op->userdata = userdata;
    switch (kind) {
    case OP_ID: op->cb.id = (tempo_id_cb)cb; break;
    case OP_DONE: op->cb.done = (tempo_done_cb)cb; break;
    case OP_SCHEDULES: op->cb.schedules = (tempo_schedules_cb)cb; break;
    case OP_RESULT: op->cb.result = (tempo_result_cb)cb; break;
    }
    if (id)
        snprintf(op->id, sizeof op->id, "%s", id);
    op->next = s->ops;
    if (s->ops)
        s->ops->prev = op;
    s->ops = op;
    return op;
}

static void unlink_op(tempo__op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        op->s->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->next = op->prev = NULL;
}

static void free_op(tempo__op_t *op)
{
    if (op->free_extra)
        op->free_extra(op->extra);
    free(op);
}

/* Unlink first: the callback may start new ops or stop the scheduler. */
static void answer(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err,
                   const tempo_schedule_record_t *recs, size_t n, const tempo_job_result_t *result)
{
    unlink_op(op);
    switch (op->kind) {
    case OP_ID:
        if (op->cb.id)
            op->cb.id(op->userdata, status, err, status == TEMPO_OK ? op->id : NULL);
        break;
    case OP_DONE:
        if (op->cb.done)
            op->cb.done(op->userdata, status, err);
        break;
    case OP_SCHEDULES:
        if (op->cb.schedules)
            op->cb.schedules(op->userdata, status, err, recs, n);
        break;
    case OP_RESULT:
        if (op->cb.result)
            op->cb.result(op->userdata, status, err, result);
        break;
    }
    free_op(op);
}

void tempo__op_finish(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err)
{
    answer(op, status, err, NULL, 0, NULL);
}

void tempo__op_finish_schedules(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err,
                                const tempo_schedule_record_t *recs, size_t n)
{
    answer(op, status, err, recs, n, NULL);
}

void tempo__op_finish_result(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err,
                             const tempo_job_result_t *result)
{
    answer(op, status, err, NULL, 0, result);
}

void tempo__op_discard(tempo__op_t *op)
{
    unlink_op(op);
    free_op(op);
}

void tempo__ops_cancel_all(tempo_scheduler_t *s)
{
    tempo_error_t err = {TEMPO_ECANCELLED, "scheduler stopped before the operation completed"};
    while (s->ops)
        answer(s->ops, TEMPO_ECANCELLED, &err, NULL, 0, NULL);
}
