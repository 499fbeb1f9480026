/* The life of one MongoDB-store operation, and of the store around it.
 *
 * An operation is made on the loop thread: its arguments are checked and
 * copied (mongo_input.c) or encoded, so the caller's records can go as soon
 * as the call returns. It is then queued on the store's offload pool, whose
 * one thread runs the operations in issue order; the pool hands each one
 * back to the loop thread, where deliver() makes its quarantine reports and
 * then calls its callback. So every answer comes later, on the loop thread,
 * exactly once — also a refusal decided at call time (bad arguments,
 * stopping), which goes through the pool like the rest so that answers keep
 * their order.
 *
 * States and what a call gets in each:
 *   NEW       before start(): TEMPO_ESTATE, held, and handed to the pool by
 *             start() (so it still arrives later, on the loop thread).
 *   STARTED   its answer.
 *   STOPPING  stop() was called: TEMPO_ECANCELLED. Operations already queued
 *             run and answer for real. Once nothing is in flight, the close
 *             work destroys the client pool on the offload thread; its
 *             completion frees the pool (joining the thread) and calls stop's
 *             callback — after every other answer, so nothing runs after it.
 *             A call that comes once the close is queued (from a timer, say)
 *             is answered through tempo__loop_defer and stop waits for it.
 *   STOPPED   a programming error: TEMPO_ESTATE, held, never delivered.
 * destroy() (store.h) at any time: queued operations are cancelled, the one
 * running finishes, the client pool is closed on the offload thread (destroy
 * waits for that: bounded by the driver's timeouts), the pool is freed and
 * every answer not delivered yet is dropped — none of their callbacks runs,
 * and nothing of the store stays queued on the loop. A destroy() from inside
 * one of our callbacks frees the store when that callback returns (`busy`). */
#include <stdlib.h>
#include <string.h>

#include "mongo_internal.h"
#include "store/records.h"
#include "util/error_internal.h"

#define OP_OF(w) ((mg_op_t *)((char *)(w) - offsetof(mg_op_t, work)))

/* ---- lists (loop thread) ---- */

static void link_front(mg_op_t **head, mg_op_t *op)
{
    op->prev = NULL;
    op->next = *head;
    if (*head)
        (*head)->prev = op;
    *head = op;
}

static void unlink_from(mg_op_t **head, mg_op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        *head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->next = op->prev = NULL;
}

static void hold(mg_store_t *st, mg_op_t *op)
{
    op->next = NULL;
    *st->held_tail = op;
    st->held_tail = &op->next;
}

/* ---- making and freeing ---- */

mg_op_t *tempo__mg_op_new(mg_store_t *st, mg_cb_kind_t kind, const char *name, mg_cb_t cb, void *ud,
                          mg_run_fn run)
{
    mg_op_t *op = bson_malloc0(sizeof *op);
    op->st = st;
    op->kind = kind;
    op->name = name;
    op->cb = cb;
    op->ud = ud;
    op->run = run;
    op->status = TEMPO_OK;
    tempo__error_clear(&op->err);
    op->out.when = TEMPO_TIME_NONE;
    op->out.added = TEMPO_STORE_ADDED;
    if (st->state == MG_NEW)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called before start()");
    else if (st->state == MG_STOPPING)
        op->status = tempo__error_set(&op->err, TEMPO_ECANCELLED, "the store is stopping");
    else if (st->state == MG_STOPPED)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called after stop()");
    return op;
}

static void out_free(mg_op_t *op)
{
    switch (op->kind) {
    case MG_CB_TASKS: tempo__task_records_free(op->out.recs, op->out.count); break;
    case MG_CB_SCHEDULES: tempo__schedule_records_free(op->out.recs, op->out.count); break;
    case MG_CB_JOBS: tempo__job_records_free(op->out.recs, op->out.count); break;
    case MG_CB_RESULTS:
        for (size_t i = 0; i < op->out.count; i++)
            tempo__job_result_clear((tempo_job_result_t *)op->out.recs + i);
        bson_free(op->out.recs);
        break;
    default: break;
    }
    op->out.recs = NULL;
    op->out.count = 0;
    if (op->out.has_result)
        tempo__job_result_clear(&op->out.result);
    op->out.has_result = false;
    bson_free(op->out.statuses);
    op->out.statuses = NULL;
    bson_free(op->out.took);
    op->out.took = NULL;
}

static void op_free(mg_op_t *op)
{
    out_free(op);
    tempo__mg_in_free(&op->in);
    for (size_t i = 0; i < op->report_count; i++) {
        bson_free(op->reports[i].kind);
        bson_free(op->reports[i].id);
        bson_free(op->reports[i].reason);
    }
    bson_free(op->reports);
    bson_free(op);
}

/* ---- the offload side ---- */

/* Offload thread. A refused operation (status preset) does nothing. A
 * failed one keeps no half answer: its records are dropped. */
static void op_work(tempo__work_t *w)
{
    mg_op_t *op = OP_OF(w);
    if (op->status != TEMPO_OK || op->batched)
        return;
    mg_conn_t c;
    tempo_status_t rc = tempo__mg_conn_open(op->st, &c, &op->err);
    if (rc == TEMPO_OK) {
        rc = op->run(op, &c);
        tempo__mg_conn_close(&c);
    }
    op->status = rc;
    if (rc != TEMPO_OK)
        out_free(op);
}

static void close_work(tempo__work_t *w)
{
    mg_store_t *st = (mg_store_t *)((char *)w - offsetof(mg_store_t, close_work));
    tempo__mg_close_clients(st);
    pthread_mutex_lock(&st->mu);
    st->closed = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* ---- answers (loop thread) ---- */

/* release_schedules: each entry's status, and the fence of each job taken
 * (the others' stayed 0 since the call: mongo_input.c). */
static void write_entries(mg_op_t *op)
{
    tempo_status_t rc = op->status;
    for (size_t i = 0; i < op->out.entry_count; i++)
        op->out.entries[i].status = op->out.statuses && rc == TEMPO_OK ? op->out.statuses[i] : rc;
    for (size_t j = 0; rc == TEMPO_OK && op->out.took && j < op->in.job_count; j++)
        if (op->out.took[j])
            op->out.entries[op->in.takes[j].entry].take[op->in.takes[j].k].fence = 1;
}

static void invoke(mg_op_t *op)
{
    const tempo_error_t *err = op->status == TEMPO_OK ? NULL : &op->err;
    tempo_status_t rc = op->status;
    switch (op->kind) {
    case MG_CB_RELEASE:
        write_entries(op);
        /* fall through */
    case MG_CB_STATUS:
        if (op->cb.status)
            op->cb.status(op->ud, rc, err);
        break;
    case MG_CB_ADD:
        if (op->cb.add)
            op->cb.add(op->ud, rc, err, op->out.added);
        break;
    case MG_CB_TASKS:
        if (op->cb.tasks)
            op->cb.tasks(op->ud, rc, err, op->out.recs, op->out.count);
        break;
    case MG_CB_SCHEDULES:
        if (op->cb.schedules)
            op->cb.schedules(op->ud, rc, err, op->out.recs, op->out.count);
        break;
    case MG_CB_JOBS:
        if (op->cb.jobs)
            op->cb.jobs(op->ud, rc, err, op->out.recs, op->out.count);
        break;
    case MG_CB_RESULT:
        if (op->cb.result)
            op->cb.result(op->ud, rc, err, op->out.has_result ? &op->out.result : NULL);
        break;
    case MG_CB_TIME:
        if (op->cb.time)
            op->cb.time(op->ud, rc, err, op->out.when);
        break;
    case MG_CB_RESULTS:
        if (op->cb.results)
            op->cb.results(op->ud, rc, err, op->out.recs, op->out.count);
        break;
    }
}

static void close_clients_now(mg_store_t *st);
static void maybe_close(mg_store_t *st);
static void maybe_finish_stop(mg_store_t *st);

/* Reports first (each before the callback of the operation that met the
 * record), then the answer; a destroy() from inside any of them ends it. */
static void deliver(mg_op_t *op)
{
    mg_store_t *st = op->st;
    st->in_flight--;
    if (st->destroyed) { /* destroy() is delivering what it dropped */
        op_free(op);
        return;
    }
    if (op->status != TEMPO_OK)
        tempo__error_prefix(&op->err, op->status, "store '" MG_NAME "': %s", op->name);
    st->busy++;
    for (size_t i = 0; i < op->report_count && !st->destroyed; i++)
        if (st->quarantine_cb)
            st->quarantine_cb(st->quarantine_ud, op->reports[i].kind, op->reports[i].id,
                              op->reports[i].reason);
    if (!st->destroyed)
        invoke(op);
    st->busy--;
    op_free(op);
    if (st->destroyed) {
        if (st->busy == 0)
            tempo__mg_store_free(st);
        return;
    }
    maybe_close(st);
    maybe_finish_stop(st);
}

static void op_done(tempo__work_t *w, tempo_status_t status)
{
    mg_op_t *op = OP_OF(w);
    unlink_from(&op->st->running, op);
    tempo__mg_batch_forget(op);
    if (status == TEMPO_ECANCELLED && op->status == TEMPO_OK)
        op->status = tempo__error_set(&op->err, TEMPO_ECANCELLED, "cancelled: the store is shutting down");
    deliver(op);
}

static void deferred_done(void *arg)
{
    mg_op_t *op = arg;
    unlink_from(&op->st->deferred, op);
    deliver(op);
}

static void defer(mg_store_t *st, mg_op_t *op)
{
    st->in_flight++;
    link_front(&st->deferred, op);
    tempo__loop_defer(st->loop, &op->call, deferred_done, op);
}

/* To the pool while it takes operations; else (close queued, or no thread
 * could be started) answered through the loop with what it has. */
/* ---- release batches ----
 *
 * A worker finishing many jobs at once issues one release_job per job; on
 * a slow server (FerretDB) each costs several round trips, one after the
 * other on the lease lane. So the first release the lane runs takes the
 * ones queued behind it and makes them together (mongo_jobs.c): one read,
 * one claims insert, one bulk delete for the lot. Each still gets its own
 * answer, when the pool hands its own turn back (which then does nothing). */

static void batch_push(mg_store_t *st, mg_op_t *op)
{
    pthread_mutex_lock(&st->batch_mu);
    op->bnext = NULL;
    op->bprev = st->batch_tail;
    if (st->batch_tail)
        st->batch_tail->bnext = op;
    else
        st->batch_head = op;
    st->batch_tail = op;
    op->in_batch_list = true;
    pthread_mutex_unlock(&st->batch_mu);
}

/* Under batch_mu. */
static void batch_unlink(mg_store_t *st, mg_op_t *op)
{
    if (!op->in_batch_list)
        return;
    if (op->bprev)
        op->bprev->bnext = op->bnext;
    else
        st->batch_head = op->bnext;
    if (op->bnext)
        op->bnext->bprev = op->bprev;
    else
        st->batch_tail = op->bprev;
    op->bnext = op->bprev = NULL;
    op->in_batch_list = false;
}

void tempo__mg_batch_forget(mg_op_t *op)
{
    if (!op->batchable)
        return;
    pthread_mutex_lock(&op->st->batch_mu);
    batch_unlink(op->st, op);
    pthread_mutex_unlock(&op->st->batch_mu);
}

size_t tempo__mg_batch_take(mg_op_t *op, mg_op_t **ops, size_t max)
{
    mg_store_t *st = op->st;
    size_t n = 0;
    pthread_mutex_lock(&st->batch_mu);
    batch_unlink(st, op);
    ops[n++] = op;
    /* The lane runs in issue order, so what is still listed was queued
     * after `op`. */
    while (st->batch_head && n < max) {
        mg_op_t *next = st->batch_head;
        batch_unlink(st, next);
        next->batched = true;
        ops[n++] = next;
    }
    pthread_mutex_unlock(&st->batch_mu);
    return n;
}

static tempo__pool_t *pool_of(const mg_store_t *st, const mg_op_t *op)
{
    return op->urgent && st->lane ? st->lane : st->pool;
}

static void dispatch(mg_store_t *st, mg_op_t *op)
{
    if (st->pool && !st->close_queued) {
        /* Listed before it is queued: the lane may run it at once. */
        bool listed = op->batchable && op->status == TEMPO_OK && pool_of(st, op) == st->lane;
        if (listed)
            batch_push(st, op);
        tempo_status_t rc = tempo__pool_submit(pool_of(st, op), &op->work, op_work, op_done);
        if (rc == TEMPO_OK) {
            st->in_flight++;
            link_front(&st->running, op);
            return;
        }
        if (listed)
            tempo__mg_batch_forget(op);
        if (op->status == TEMPO_OK)
            op->status = tempo__error_set(&op->err, TEMPO_ESTORE, "cannot start the store's offload thread");
    }
    defer(st, op);
}

void tempo__mg_op_submit(mg_op_t *op)
{
    mg_store_t *st = op->st;
    if (st->state == MG_NEW || st->state == MG_STOPPED)
        hold(st, op);
    else
        dispatch(st, op);
}

/* ---- start ---- */

tempo_status_t tempo__mg_start(void *self, tempo_loop_t *loop, tempo_error_t *err)
{
    mg_store_t *st = self;
    if (!loop)
        return tempo__error_set(err, TEMPO_EINVAL, "store '" MG_NAME "': start: loop is NULL");
    if (st->state != MG_NEW)
        return tempo__error_set(err, TEMPO_ESTATE, "store '" MG_NAME "': start: already %s",
                                st->state == MG_STARTED ? "started" : "stopped");
    /* One thread: operations run one at a time, in issue order; and the
     * lease lane's (mongo_internal.h). */
    tempo_status_t rc = tempo__pool_new(loop, 1, &st->pool, err);
    if (rc == TEMPO_OK && (rc = tempo__pool_new(loop, 1, &st->lane, err)) != TEMPO_OK) {
        tempo__pool_free(st->pool);
        st->pool = NULL;
    }
    if (rc != TEMPO_OK)
        return tempo__error_prefix(err, rc, "store '" MG_NAME "': start");
    st->loop = loop;
    st->state = MG_STARTED;
    mg_op_t *op = st->held;
    st->held = NULL;
    st->held_tail = &st->held;
    while (op) {
        mg_op_t *next = op->next;
        dispatch(st, op);
        op = next;
    }
    return TEMPO_OK;
}

void tempo__mg_set_quarantine_cb(void *self, tempo_store_quarantine_cb cb, void *ud)
{
    mg_store_t *st = self;
    st->quarantine_cb = cb;
    st->quarantine_ud = ud;
}

/* ---- stop ---- */

static void close_done(tempo__work_t *w, tempo_status_t status)
{
    (void)status; /* never cancelled: queued only when nothing else is */
    mg_store_t *st = (mg_store_t *)((char *)w - offsetof(mg_store_t, close_work));
    st->close_done = true;
    if (!st->destroyed)
        maybe_finish_stop(st);
}

static void stop_call_fn(void *arg)
{
    mg_store_t *st = arg;
    st->stop_call_queued = false;
    maybe_finish_stop(st);
}

/* No thread ran (or none could be started): nobody used the client pool, so
 * closing it here cannot block. */
static void close_clients_now(mg_store_t *st)
{
    tempo__mg_close_clients(st);
    st->closed = true;
    st->close_done = true;
}

/* Stopping and nothing in flight: queue the close behind nothing. */
static void maybe_close(mg_store_t *st)
{
    if (st->state != MG_STOPPING || st->in_flight > 0 || st->close_queued)
        return;
    st->close_queued = true;
    if (st->pool && tempo__pool_submit(st->pool, &st->close_work, close_work, close_done) == TEMPO_OK)
        return;
    close_clients_now(st);
    st->stop_call_queued = true;
    tempo__loop_defer(st->loop, &st->stop_call, stop_call_fn, st);
}

/* The client pool is closed and every answer delivered: free the offload
 * pool (its thread is idle; this may run inside one of its completions,
 * which pool.h allows), then stop's callback — the last one. */
static void maybe_finish_stop(mg_store_t *st)
{
    if (st->state != MG_STOPPING || !st->close_done || st->in_flight > 0 || st->stop_call_queued)
        return;
    tempo__pool_free(st->lane);
    st->lane = NULL;
    tempo__pool_free(st->pool);
    st->pool = NULL;
    st->state = MG_STOPPED;
    if (st->stop_cb) {
        st->busy++;
        st->stop_cb(st->stop_ud, TEMPO_OK, NULL);
        st->busy--;
    }
    if (st->destroyed && st->busy == 0)
        tempo__mg_store_free(st);
}

void tempo__mg_stop(void *self, tempo_store_status_cb cb, void *ud)
{
    mg_store_t *st = self;
    if (st->state == MG_STARTED) {
        st->state = MG_STOPPING;
        st->stop_cb = cb;
        st->stop_ud = ud;
        maybe_close(st);
        return;
    }
    mg_op_t *op = tempo__mg_op_new(st, MG_CB_STATUS, "stop", (mg_cb_t){.status = cb}, ud, NULL);
    if (st->state == MG_STOPPING)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "a stop is already in progress");
    tempo__mg_op_submit(op);
}

/* ---- destroy ---- */

/* Cancel what is queued; let the lease lane's running operation finish (its
 * completions come now and find `destroyed`), so that no thread but the
 * offload thread uses the client pool; close it there after its running
 * operation, wait for that, then free the pool. */
static void shut_pool(mg_store_t *st)
{
    for (mg_op_t *op = st->running; op; op = op->next)
        tempo__pool_cancel(pool_of(st, op), &op->work);
    tempo__pool_free(st->lane);
    st->lane = NULL;
    if (!st->close_queued) {
        st->close_queued = true;
        if (tempo__pool_submit(st->pool, &st->close_work, close_work, close_done) != TEMPO_OK)
            close_clients_now(st);
    }
    pthread_mutex_lock(&st->mu);
    while (!st->closed)
        pthread_cond_wait(&st->cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
    tempo__pool_free(st->pool);
    st->pool = NULL;
}

void tempo__mg_destroy(void *self)
{
    mg_store_t *st = self;
    if (!st || st->destroyed)
        return;
    st->destroyed = true;
    st->busy++;
    if (st->pool)
        shut_pool(st);
    else if (!st->closed)
        close_clients_now(st); /* never started: no thread ever used it */
    while (st->deferred) {
        mg_op_t *op = st->deferred;
        unlink_from(&st->deferred, op);
        tempo__loop_cancel(st->loop, &op->call);
        op_free(op);
    }
    if (st->stop_call_queued)
        tempo__loop_cancel(st->loop, &st->stop_call);
    st->stop_call_queued = false;
    while (st->held) {
        mg_op_t *op = st->held;
        st->held = op->next;
        op_free(op);
    }
    st->busy--;
    if (st->busy == 0)
        tempo__mg_store_free(st);
}
