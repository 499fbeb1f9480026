/* The life of one memory-store operation, and of the store around it.
 *
 * A memory operation does its work during the call: the answer (status,
 * records copied for the callback) is final when the call returns. Only the
 * callback waits: it is deferred to the loop (tempo__loop_defer), so it never
 * runs inside the call. Deferred answers are kept on st->flying until they
 * are delivered, so that destroy() can take them back.
 *
 * States and what a call gets in each:
 *   NEW         before start(): no loop to defer on. The call is answered
 *               TEMPO_ESTATE and held; start() hands the held answers to the
 *               loop (so they still arrive later, on the loop thread).
 *   STARTED     the call runs.
 *   STOPPING    stop() was called: new calls are answered TEMPO_ECANCELLED
 *               (deferred, counted), and stop's own callback runs once
 *               in_flight drains to zero — after every other callback, so
 *               nothing runs after it.
 *   STOPPED     stop's callback ran; the loop may be gone. A call now is a
 *               programming error: answered TEMPO_ESTATE and held, and never
 *               delivered (destroy drops it).
 *   DESTROYING  destroy() was called from inside one of our callbacks: the
 *               store is freed when that callback returns.
 * destroy() (store.h) drops every answer not delivered yet: deferred ones are
 * taken back from the loop (tempo__loop_cancel), held ones freed. None of
 * their callbacks runs. It must come before the loop is freed.
 *
 * Out of memory for the operation itself: one of MEM_EMERGENCY_OPS slots in
 * the store carries the TEMPO_ENOMEM answer instead. Only when all of those
 * are taken too is the callback called at once, inside the call — the one
 * exception to deferral, reached only after that many allocation failures
 * whose answers are still queued. */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

static void op_init(mem_op_t *op, mem_store_t *st, mem_op_kind_t kind, const char *name, mem_cb_t cb,
                    void *ud)
{
    memset(op, 0, offsetof(mem_op_t, err));
    op->st = st;
    op->kind = kind;
    op->name = name;
    op->cb = cb;
    op->ud = ud;
    op->status = TEMPO_OK;
    tempo__error_clear(&op->err);
    memset(&op->out, 0, sizeof op->out); /* empty lists, no result */
    if (kind == MEM_OP_TIME)
        op->out.when = TEMPO_TIME_NONE; /* a union: only for this kind */
    else if (kind == MEM_OP_ADD)
        op->out.added = TEMPO_STORE_ADDED;
}

static void invoke(mem_op_t *op)
{
    const tempo_error_t *err = op->status == TEMPO_OK ? NULL : &op->err;
    tempo_status_t rc = op->status;
    switch (op->kind) {
    case MEM_OP_RELEASE:
        for (size_t i = 0; i < op->out.release.count; i++)
            op->out.release.entries[i].status =
                op->out.release.statuses ? op->out.release.statuses[i] : rc;
        /* fall through */
    case MEM_OP_STATUS:
    case MEM_OP_STOP:
        if (op->cb.status)
            op->cb.status(op->ud, rc, err);
        break;
    case MEM_OP_ADD:
        if (op->cb.add)
            op->cb.add(op->ud, rc, err, op->out.added);
        break;
    case MEM_OP_TASKS:
        if (op->cb.tasks)
            op->cb.tasks(op->ud, rc, err, op->out.list.recs, op->out.list.count);
        break;
    case MEM_OP_SCHEDULES:
        if (op->cb.schedules)
            op->cb.schedules(op->ud, rc, err, op->out.list.recs, op->out.list.count);
        break;
    case MEM_OP_JOBS:
        if (op->cb.jobs)
            op->cb.jobs(op->ud, rc, err, op->out.list.recs, op->out.list.count);
        break;
    case MEM_OP_RESULT:
        if (op->cb.result)
            op->cb.result(op->ud, rc, err, op->out.result.job_id ? &op->out.result : NULL);
        break;
    case MEM_OP_TIME:
        if (op->cb.time)
            op->cb.time(op->ud, rc, err, op->out.when);
        break;
    case MEM_OP_RESULTS:
        if (op->cb.results)
            op->cb.results(op->ud, rc, err, op->out.list.recs, op->out.list.count);
        break;
    }
}

static void op_free(mem_op_t *op)
{
    switch (op->kind) {
    case MEM_OP_TASKS: tempo__task_records_free(op->out.list.recs, op->out.list.count); break;
    case MEM_OP_SCHEDULES: tempo__schedule_records_free(op->out.list.recs, op->out.list.count); break;
    case MEM_OP_JOBS: tempo__job_records_free(op->out.list.recs, op->out.list.count); break;
    case MEM_OP_RESULT: tempo__job_result_clear(&op->out.result); break;
    case MEM_OP_RESULTS: tempo__mem_result_list_free(op->out.list.recs, op->out.list.count); break;
    case MEM_OP_RELEASE: free(op->out.release.statuses); break;
    default: break;
    }
    mem_store_t *st = op->st;
    if (op->emergency) {
        op->emergency = false, op->st = NULL; /* the slot is free again */
    } else if (op->stop_slot) {
        return;
    } else if (st && st->spare_count < MEM_SPARE_OPS && st->state != MEM_DESTROYING) {
        op->next = st->spare;
        st->spare = op;
        st->spare_count++;
    } else {
        free(op);
    }
}

void tempo__mem_spares_free(mem_store_t *st)
{
    while (st->spare) {
        mem_op_t *op = st->spare;
        st->spare = op->next;
        free(op);
    }
    st->spare_count = 0;
}

static mem_op_t *op_alloc(mem_store_t *st)
{
    mem_op_t *op = st->spare;
    if (!op)
        return malloc(sizeof *op);
    st->spare = op->next;
    st->spare_count--;
    return op;
}

static mem_op_t *emergency_slot(mem_store_t *st)
{
    for (int i = 0; i < MEM_EMERGENCY_OPS; i++) {
        if (st->emergency[i].st == NULL) {
            st->emergency[i].emergency = true;
            return &st->emergency[i];
        }
    }
    return NULL;
}

mem_op_t *tempo__mem_op_begin(mem_store_t *st, mem_op_kind_t kind, const char *name, mem_cb_t cb, void *ud)
{
    mem_op_t *op = op_alloc(st);
    bool emergency = false;
    if (!op) {
        op = emergency_slot(st);
        emergency = true;
    }
    if (!op) {
        mem_op_t now; /* last resort, see the top of this file */
        op_init(&now, st, kind, name, cb, ud);
        now.status = tempo__error_set(&now.err, TEMPO_ENOMEM, "store 'memory': %s: out of memory", name);
        invoke(&now);
        return NULL;
    }
    op_init(op, st, kind, name, cb, ud);
    op->emergency = emergency;
    if (emergency)
        op->status = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    else if (st->state == MEM_NEW)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called before start()");
    else if (st->state == MEM_STOPPING)
        op->status = tempo__error_set(&op->err, TEMPO_ECANCELLED, "the store is stopping");
    else if (st->state == MEM_STOPPED)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called after stop()");
    else if (st->state == MEM_DESTROYING)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called while the store is destroyed");
    return op;
}

static void hold(mem_store_t *st, mem_op_t *op)
{
    op->next = NULL;
    *st->held_tail = op;
    st->held_tail = &op->next;
}

static void fly(mem_store_t *st, mem_op_t *op)
{
    op->prev = NULL;
    op->next = st->flying;
    if (st->flying)
        st->flying->prev = op;
    st->flying = op;
    st->in_flight++;
}

static void land(mem_store_t *st, mem_op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        st->flying = op->next;
    if (op->next)
        op->next->prev = op->prev;
    st->in_flight--;
}

static void complete(void *arg);

static void defer(mem_store_t *st, mem_op_t *op)
{
    fly(st, op);
    tempo__loop_defer(st->loop, &op->call, complete, op);
}

void tempo__mem_op_end(mem_op_t *op)
{
    mem_store_t *st = op->st;
    if (op->status != TEMPO_OK)
        tempo__error_prefix(&op->err, op->status, "store 'memory': %s", op->name);
    if (st->state == MEM_STARTED || st->state == MEM_STOPPING)
        defer(st, op);
    else
        hold(st, op);
}

/* Queue stop's answer once nothing else is in flight. */
static void stop_maybe(mem_store_t *st)
{
    if (st->state == MEM_STOPPING && st->in_flight == 0 && !st->stop_queued) {
        st->stop_queued = true;
        defer(st, st->stop_op);
    }
}

/* Free the store and the answers it still holds (none is delivered). */
static void store_release(mem_store_t *st)
{
    while (st->held) {
        mem_op_t *op = st->held;
        st->held = op->next;
        op_free(op);
    }
    tempo__mem_store_free(st);
}

/* An operation started while the stop was queued keeps the store STOPPING:
 * its completion queues the stop again. */
static void stop_complete(mem_op_t *op)
{
    mem_store_t *st = op->st;
    st->stop_queued = false;
    if (st->in_flight > 0)
        return;
    st->state = MEM_STOPPED;
    st->stop_op = NULL;
    if (op->cb.status) {
        st->in_callback = true;
        op->cb.status(op->ud, TEMPO_OK, NULL);
        st->in_callback = false;
    }
    if (st->destroyed)
        store_release(st);
}

/* While the callback runs, the op is off st->flying (destroy() cannot take
 * it back: it is being delivered) and st->in_callback keeps a destroy() from
 * inside it from freeing the store under us. */
static void complete(void *arg)
{
    mem_op_t *op = arg;
    mem_store_t *st = op->st;
    land(st, op);
    if (op->kind == MEM_OP_STOP) {
        stop_complete(op);
        return;
    }
    st->in_callback = true;
    invoke(op);
    st->in_callback = false;
    op_free(op);
    if (st->destroyed) {
        store_release(st);
        return;
    }
    stop_maybe(st);
}

tempo_status_t tempo__mem_start(void *self, tempo_loop_t *loop, tempo_error_t *err)
{
    mem_store_t *st = self;
    if (!loop)
        return tempo__error_set(err, TEMPO_EINVAL, "store 'memory': start: loop is NULL");
    if (st->state != MEM_NEW)
        return tempo__error_set(err, TEMPO_ESTATE, "store 'memory': start: already %s",
                                st->state == MEM_STARTED ? "started" : "stopped");
    st->loop = loop;
    st->state = MEM_STARTED;
    /* Answers held before start (TEMPO_ESTATE) now go to the loop. */
    mem_op_t *op = st->held;
    st->held = NULL;
    st->held_tail = &st->held;
    while (op) {
        mem_op_t *next = op->next;
        defer(st, op);
        op = next;
    }
    return TEMPO_OK;
}

/* The stop that is accepted lives in the store (no allocation, so it
 * cannot fail); one refused (before start, while stopping, after stop) is
 * an ordinary operation answered TEMPO_ESTATE. */
void tempo__mem_stop(void *self, tempo_store_status_cb cb, void *ud)
{
    mem_store_t *st = self;
    if (st->state == MEM_STARTED) {
        mem_op_t *op = &st->stop_slot;
        op_init(op, st, MEM_OP_STOP, "stop", (mem_cb_t){.status = cb}, ud);
        op->stop_slot = true;
        st->state = MEM_STOPPING;
        st->stop_op = op;
        stop_maybe(st);
        return;
    }
    mem_op_t *op = tempo__mem_op_begin(st, MEM_OP_STATUS, "stop", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (st->state == MEM_STOPPING && !op->emergency)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "a stop is already in progress");
    tempo__mem_op_end(op);
}

void tempo__mem_destroy(void *self)
{
    mem_store_t *st = self;
    if (!st || st->destroyed)
        return;
    st->destroyed = true;
    st->state = MEM_DESTROYING;
    /* Not one of them is being delivered (that one left the list first), so
     * each is still queued on the loop and comes back. */
    while (st->flying) {
        mem_op_t *op = st->flying;
        land(st, op);
        tempo__loop_cancel(st->loop, &op->call);
        op_free(op);
    }
    if (!st->in_callback)
        store_release(st);
}

/* ---- get by ids ---- */

typedef struct found {
    const char *id;
    void *rec;
} found_t;

static int by_found_id(const void *a, const void *b)
{
    return strcmp(((const found_t *)a)->id, ((const found_t *)b)->id);
}

size_t tempo__mem_collect(const tempo__hmap_t *map, const char *const *ids, size_t count,
                          const char *(*id_of)(const void *rec), void **out)
{
    size_t cap = count ? count : map->count;
    found_t *found = cap ? malloc(cap * sizeof *found) : NULL;
    if (cap && !found)
        return SIZE_MAX;
    size_t n = 0, pos = 0;
    void *rec;
    if (count == 0) {
        while ((rec = tempo__hmap_next(map, &pos)) != NULL)
            found[n++] = (found_t){id_of(rec), rec};
    } else {
        for (size_t i = 0; i < count; i++)
            if ((rec = tempo__hmap_get(map, ids[i])) != NULL)
                found[n++] = (found_t){id_of(rec), rec};
    }
    qsort(found, n, sizeof *found, by_found_id);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || out[kept - 1] != found[i].rec)
            out[kept++] = found[i].rec;
    free(found);
    return kept;
}
