/* The life of one SQLite-store operation, and of the store around it.
 *
 * A call copies and checks its input on the loop thread, then hands the
 * operation to the writer thread (st->pool, one thread, FIFO): so operations
 * take effect in the order they were issued, and a get issued before an
 * acquire sees the state before it. The pool calls done() on the loop
 * thread, which reports the records the operation set aside and then calls
 * the callback. Answers that need no SQL (before start, while stopping, out
 * of memory) are deferred on the loop instead and kept on st->deferred, so
 * that destroy() can take them back.
 *
 * States and what a call gets in each (as the memory store):
 *   NEW       before start(): TEMPO_ESTATE, held; start() delivers it.
 *   STARTED   the call runs on the writer thread — also a call that failed
 *             its checks, so that answers keep the order of the calls.
 *   STOPPING  stop() was called: TEMPO_ECANCELLED, deferred. Once nothing is
 *             in flight, the writer closes the file (st->stop_work) and then
 *             stop's callback runs: the last one.
 *   STOPPED   a programming error: TEMPO_ESTATE, held, never delivered.
 * destroy() at any time: the pool is freed (queued work is cancelled,
 * running work finishes; their done()s see `destroyed` and only free the
 * operations), deferred answers are taken back from the loop, and the file is
 * closed without a checkpoint (that I/O is not for the loop thread). From
 * inside one of our callbacks, all of that waits until the callback returns.
 *
 * Out of memory for the operation itself: one of SQ_EMERGENCY_OPS slots in
 * the store carries the TEMPO_ENOMEM answer; with all of them taken the
 * callback is called at once, inside the call — the one exception, as in
 * the memory store. */
#include <stdlib.h>
#include <string.h>

#include "store/records.h"
#include "sqlite_internal.h"
#include "util/error_internal.h"

/* ---- small helpers for the operation files ---- */

tempo_status_t tempo__sq_strdup(char **dst, const char *src, tempo_error_t *err)
{
    *dst = src ? strdup(src) : NULL;
    if (src && !*dst)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
    return TEMPO_OK;
}

tempo_status_t tempo__sq_ids_copy(sq_ids_t *dst, const char *const *ids, size_t count, const char *what,
                                  tempo_error_t *err)
{
    dst->ids = NULL;
    dst->count = 0;
    if (count > 0 && !ids)
        return tempo__error_set(err, TEMPO_EINVAL, "%s is NULL but its count is %zu", what, count);
    for (size_t i = 0; i < count; i++)
        if (!tempo__id_ok(ids[i]))
            return tempo__error_set(err, TEMPO_EINVAL, "%s[%zu] is %s", what, i, ids[i] ? "empty" : "NULL");
    if (count == 0)
        return TEMPO_OK;
    dst->ids = calloc(count, sizeof *dst->ids);
    if (!dst->ids)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory copying %zu ids", count);
    for (size_t i = 0; i < count; i++) {
        if (!(dst->ids[i] = strdup(ids[i])))
            return tempo__error_set(err, TEMPO_ENOMEM, "out of memory copying %zu ids", count);
        dst->count++; /* only copies are counted: a failed copy frees what it made */
    }
    return TEMPO_OK;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void tempo__sq_ids_unique(sq_ids_t *ids)
{
    if (ids->count < 2)
        return;
    qsort(ids->ids, ids->count, sizeof *ids->ids, by_string);
    size_t kept = 1;
    for (size_t i = 1; i < ids->count; i++) {
        if (strcmp(ids->ids[i], ids->ids[kept - 1]) == 0)
            free(ids->ids[i]);
        else
            ids->ids[kept++] = ids->ids[i];
    }
    ids->count = kept;
}

void tempo__sq_submit_get(sq_op_t *op, const char *const *ids, size_t count, sq_run_fn run)
{
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_ids_copy(&op->in.ids, ids, count, "ids", &op->err);
    tempo__sq_ids_unique(&op->in.ids);
    tempo__sq_op_submit(op, run);
}

void tempo__sq_ids_free(sq_ids_t *ids)
{
    for (size_t i = 0; i < ids->count; i++)
        free(ids->ids[i]);
    free(ids->ids);
    ids->ids = NULL;
    ids->count = 0;
}

tempo_status_t tempo__sq_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                          tempo_error_t *err)
{
    tempo_time_t until;
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    if (lease <= 0)
        return tempo__error_set(err, TEMPO_EINVAL, "lease must be > 0 microseconds, got %lld",
                                (long long)lease);
    if (__builtin_add_overflow(now, lease, &until))
        return tempo__error_set(err, TEMPO_ERANGE, "now + lease (%lld + %lld) is past the end of time",
                                (long long)now, (long long)lease);
    return TEMPO_OK;
}

bool tempo__sq_out_push(sq_op_t *op, const void *rec, size_t size, size_t *cap)
{
    if (op->out.count == *cap) {
        size_t want = *cap ? *cap * 2 : 16;
        void *grown = realloc(op->out.recs, want * size);
        if (!grown)
            return false;
        op->out.recs = grown;
        *cap = want;
    }
    memcpy((char *)op->out.recs + op->out.count * size, rec, size);
    op->out.count++;
    return true;
}

/* ---- an operation's memory ---- */

static void in_free(sq_in_t *in)
{
    free(in->owner);
    free(in->id);
    tempo__sq_ids_free(&in->ids);
    tempo__sq_ids_free(&in->ids2);
    tempo__task_record_clear(&in->task);
    tempo__schedule_record_clear(&in->schedule);
    if (in->has_trigger_doc)
        bson_destroy(&in->trigger_doc);
    tempo__job_record_clear(&in->job);
    for (size_t i = 0; i < in->task_count; i++)
        free(in->tasks[i].id);
    free(in->tasks);
    for (size_t i = 0; i < in->release_count; i++) {
        free(in->releases[i].id);
        tempo__job_records_free(in->releases[i].jobs, in->releases[i].job_count);
    }
    free(in->releases);
    if (in->return_value)
        bson_destroy(in->return_value);
    free(in->error);
}

static void out_free(sq_op_t *op)
{
    switch (op->answer) {
    case SQ_TASKS: tempo__task_records_free(op->out.recs, op->out.count); break;
    case SQ_SCHEDULES: tempo__schedule_records_free(op->out.recs, op->out.count); break;
    case SQ_JOBS: tempo__job_records_free(op->out.recs, op->out.count); break;
    case SQ_RESULTS:
        for (size_t i = 0; i < op->out.count; i++)
            tempo__job_result_clear((tempo_job_result_t *)op->out.recs + i);
        free(op->out.recs);
        break;
    default: break;
    }
    if (op->out.has_result)
        tempo__job_result_clear(&op->out.result);
    free(op->out.statuses);
}

static void op_free(sq_op_t *op)
{
    in_free(&op->in);
    out_free(op);
    for (size_t i = 0; i < op->report_count; i++) {
        free(op->reports[i].id);
        free(op->reports[i].reason);
    }
    free(op->reports);
    if (op->emergency)
        memset(op, 0, sizeof *op); /* the slot is free again (st == NULL) */
    else
        free(op);
}

/* ---- answering ---- */

static void invoke(sq_op_t *op)
{
    if (op->status != TEMPO_OK)
        tempo__error_prefix(&op->err, op->status, "store 'sqlite': %s", op->name);
    const tempo_error_t *err = op->status == TEMPO_OK ? NULL : &op->err;
    tempo_status_t rc = op->status;
    /* A failed list operation answers no records. */
    void *recs = rc == TEMPO_OK ? op->out.recs : NULL;
    size_t count = rc == TEMPO_OK ? op->out.count : 0;
    switch (op->answer) {
    case SQ_RELEASE:
        for (size_t i = 0; i < op->in.caller_count; i++)
            op->in.caller_releases[i].status = rc == TEMPO_OK && op->out.statuses ? op->out.statuses[i] : rc;
        /* fall through */
    case SQ_STATUS:
        if (op->cb.status)
            op->cb.status(op->ud, rc, err);
        break;
    case SQ_ADD:
        if (op->cb.add)
            op->cb.add(op->ud, rc, err, op->out.added);
        break;
    case SQ_TASKS:
        if (op->cb.tasks)
            op->cb.tasks(op->ud, rc, err, recs, count);
        break;
    case SQ_SCHEDULES:
        if (op->cb.schedules)
            op->cb.schedules(op->ud, rc, err, recs, count);
        break;
    case SQ_JOBS:
        if (op->cb.jobs)
            op->cb.jobs(op->ud, rc, err, recs, count);
        break;
    case SQ_RESULT:
        if (op->cb.result)
            op->cb.result(op->ud, rc, err, rc == TEMPO_OK && op->out.has_result ? &op->out.result : NULL);
        break;
    case SQ_TIME:
        if (op->cb.time)
            op->cb.time(op->ud, rc, err, rc == TEMPO_OK ? op->out.when : TEMPO_TIME_NONE);
        break;
    case SQ_RESULTS:
        if (op->cb.results)
            op->cb.results(op->ud, rc, err, recs, count);
        break;
    }
}

static void store_release(sq_store_t *st);
static void stop_maybe(sq_store_t *st);

/* Reports first (store.h: each before the callback of the operation that
 * met the record), then the callback. Either may destroy the store: then
 * nothing more is called, and the store goes once we are off its stack. */
static void deliver(sq_op_t *op)
{
    sq_store_t *st = op->st;
    st->in_flight--;
    st->in_callback = true;
    for (size_t i = 0; i < op->report_count && !st->destroyed; i++) {
        const sq_report_t *r = &op->reports[i];
        if (st->quarantine_cb)
            st->quarantine_cb(st->quarantine_ud, r->kind, r->id, r->reason);
    }
    if (!st->destroyed)
        invoke(op);
    st->in_callback = false;
    op_free(op);
    if (st->destroyed) {
        store_release(st);
        return;
    }
    stop_maybe(st);
}

static void unlink_deferred(sq_store_t *st, sq_op_t *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        st->deferred = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->next = op->prev = NULL;
}

static void deferred_call(void *arg)
{
    sq_op_t *op = arg;
    unlink_deferred(op->st, op);
    deliver(op);
}

/* Answer later from the loop, without SQL. */
static void defer(sq_store_t *st, sq_op_t *op)
{
    op->prev = NULL;
    op->next = st->deferred;
    if (st->deferred)
        st->deferred->prev = op;
    st->deferred = op;
    st->in_flight++;
    tempo__loop_defer(st->loop, &op->call, deferred_call, op);
}

static void hold(sq_store_t *st, sq_op_t *op)
{
    op->next = NULL;
    *st->held_tail = op;
    st->held_tail = &op->next;
}

/* ---- the writer thread ---- */

static void op_work(tempo__work_t *work)
{
    sq_op_t *op = (sq_op_t *)work;
    if (op->status != TEMPO_OK || !op->run)
        return;
    sq_db_t *db = &op->st->db;
    op->status = tempo__sq_db_ready(db, &op->err);
    if (op->status == TEMPO_OK)
        op->status = tempo__sq_schema_check(db, &op->err);
    if (op->status == TEMPO_OK)
        op->status = op->run(op, db);
    tempo__sq_rollback(db); /* whatever a failed run left open */
    if (db->broken)
        tempo__sq_db_close(db, false);
}

static void op_done(tempo__work_t *work, tempo_status_t status)
{
    sq_op_t *op = (sq_op_t *)work;
    sq_store_t *st = op->st;
    if (st->destroyed) { /* tempo__pool_free delivering: no callback runs */
        op_free(op);
        return;
    }
    if (status == TEMPO_ECANCELLED && op->status == TEMPO_OK)
        op->status = tempo__error_set(&op->err, TEMPO_ECANCELLED, "cancelled before it ran");
    deliver(op);
}

/* ---- begin / submit ---- */

static sq_op_t *emergency_slot(sq_store_t *st)
{
    for (int i = 0; i < SQ_EMERGENCY_OPS; i++)
        if (st->emergency[i].st == NULL)
            return &st->emergency[i];
    return NULL;
}

sq_op_t *tempo__sq_op_begin(sq_store_t *st, sq_answer_t answer, const char *name, sq_cb_t cb, void *ud)
{
    sq_op_t *op = calloc(1, sizeof *op);
    bool emergency = !op;
    if (!op)
        op = emergency_slot(st);
    if (!op) { /* the last resort (top of this file) */
        sq_op_t now;
        memset(&now, 0, sizeof now);
        now.answer = answer;
        now.name = name;
        now.cb = cb;
        now.ud = ud;
        now.status = tempo__error_set(&now.err, TEMPO_ENOMEM, "out of memory");
        invoke(&now);
        return NULL;
    }
    op->st = st;
    op->answer = answer;
    op->name = name;
    op->emergency = emergency;
    op->cb = cb;
    op->ud = ud;
    op->out.when = TEMPO_TIME_NONE;
    op->in.now = TEMPO_TIME_NONE;
    if (emergency)
        op->status = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    else if (st->state == SQ_NEW)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called before start()");
    else if (st->state == SQ_STOPPING)
        op->status = tempo__error_set(&op->err, TEMPO_ECANCELLED, "the store is stopping");
    else if (st->state == SQ_STOPPED)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "called after stop()");
    return op;
}

void tempo__sq_op_submit(sq_op_t *op, sq_run_fn run)
{
    sq_store_t *st = op->st;
    op->run = run;
    if (st->state == SQ_NEW || st->state == SQ_STOPPED) {
        hold(st, op);
        return;
    }
    if (st->state == SQ_STARTED && !op->emergency) {
        st->in_flight++;
        if (tempo__pool_submit(st->pool, &op->work, op_work, op_done) == TEMPO_OK)
            return;
        st->in_flight--;
        op->status = tempo__error_set(&op->err, TEMPO_ENOMEM, "cannot start the store's writer thread");
    }
    defer(st, op);
}

/* ---- start ---- */

/* Open the file right away, so the first operation does not pay for it.
 * A failure is not kept: the next operation tries again and reports it. */
static void open_work(tempo__work_t *work)
{
    sq_store_t *st = (sq_store_t *)((char *)work - offsetof(sq_store_t, open_work));
    tempo_error_t err;
    if (tempo__sq_db_ready(&st->db, &err) != TEMPO_OK)
        tempo__sq_db_close(&st->db, false);
}

static void open_done(tempo__work_t *work, tempo_status_t status)
{
    (void)work, (void)status;
}

tempo_status_t tempo__sq_start(void *self, tempo_loop_t *loop, tempo_error_t *err)
{
    sq_store_t *st = self;
    if (!loop)
        return tempo__error_set(err, TEMPO_EINVAL, "store 'sqlite': start: loop is NULL");
    if (st->state != SQ_NEW)
        return tempo__error_set(err, TEMPO_ESTATE, "store 'sqlite': start: already %s",
                                st->state == SQ_STARTED ? "started" : "stopped");
    tempo_status_t rc = tempo__pool_new(loop, 1, &st->pool, err);
    st->db.pool = st->pool; /* before the writer starts: it only reads it */
    if (rc == TEMPO_OK && tempo__pool_submit(st->pool, &st->open_work, open_work, open_done) != TEMPO_OK) {
        tempo__pool_free(st->pool);
        st->pool = st->db.pool = NULL;
        rc = tempo__error_set(err, TEMPO_ENOMEM, "cannot start the store's writer thread");
    }
    if (rc != TEMPO_OK)
        return tempo__error_prefix(err, rc, "store 'sqlite': start");
    st->loop = loop;
    st->state = SQ_STARTED;
    /* Answers held before start (TEMPO_ESTATE) now go to the loop. */
    sq_op_t *op = st->held;
    st->held = NULL;
    st->held_tail = &st->held;
    while (op) {
        sq_op_t *next = op->next;
        defer(st, op);
        op = next;
    }
    return TEMPO_OK;
}

/* ---- stop ---- */

static void stop_finish(sq_store_t *st)
{
    /* An operation issued while the file was being closed: stop waits for
     * its answer and comes back here through stop_maybe. */
    if (st->in_flight > 0)
        return;
    st->state = SQ_STOPPED;
    if (st->stop_cb) {
        st->in_callback = true;
        st->stop_cb(st->stop_ud, TEMPO_OK, NULL);
        st->in_callback = false;
    }
    if (st->destroyed)
        store_release(st);
}

static void stop_work(tempo__work_t *work)
{
    sq_store_t *st = (sq_store_t *)((char *)work - offsetof(sq_store_t, stop_work));
    tempo__sq_db_close(&st->db, true);
}

static void stop_done(tempo__work_t *work, tempo_status_t status)
{
    (void)status;
    sq_store_t *st = (sq_store_t *)((char *)work - offsetof(sq_store_t, stop_work));
    st->stop_queued = false;
    if (!st->destroyed)
        stop_finish(st);
}

/* The pool had no thread and could not start one: then no thread ever
 * opened the file, and there is nothing to close. */
static void stop_call(void *arg)
{
    sq_store_t *st = arg;
    st->stop_call_queued = false;
    st->stop_queued = false;
    stop_finish(st);
}

static void stop_maybe(sq_store_t *st)
{
    if (st->state != SQ_STOPPING || st->in_flight > 0 || st->stop_queued)
        return;
    st->stop_queued = true;
    if (tempo__pool_submit(st->pool, &st->stop_work, stop_work, stop_done) == TEMPO_OK)
        return;
    st->stop_call_queued = true;
    tempo__loop_defer(st->loop, &st->stop_call, stop_call, st);
}

void tempo__sq_stop(void *self, tempo_store_status_cb cb, void *ud)
{
    sq_store_t *st = self;
    if (st->state == SQ_STARTED) {
        st->state = SQ_STOPPING;
        st->stop_cb = cb;
        st->stop_ud = ud;
        stop_maybe(st);
        return;
    }
    sq_op_t *op = tempo__sq_op_begin(st, SQ_STATUS, "stop", (sq_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (st->state == SQ_STOPPING && !op->emergency)
        op->status = tempo__error_set(&op->err, TEMPO_ESTATE, "a stop is already in progress");
    tempo__sq_op_submit(op, NULL);
}

/* ---- destroy ---- */

static void store_release(sq_store_t *st)
{
    /* Running work finishes, queued work is cancelled; every done() sees
     * `destroyed` and frees its operation. The writer is joined after. */
    tempo__pool_free(st->pool);
    st->pool = NULL;
    while (st->deferred) {
        sq_op_t *op = st->deferred;
        unlink_deferred(st, op);
        tempo__loop_cancel(st->loop, &op->call);
        op_free(op);
    }
    if (st->stop_call_queued)
        tempo__loop_cancel(st->loop, &st->stop_call);
    while (st->held) {
        sq_op_t *op = st->held;
        st->held = op->next;
        op_free(op);
    }
    tempo__sq_db_close(&st->db, false);
    free(st->path);
    free(st);
}

void tempo__sq_destroy(void *self)
{
    sq_store_t *st = self;
    if (!st || st->destroyed)
        return;
    st->destroyed = true;
    if (!st->in_callback)
        store_release(st);
}

void tempo__sq_set_quarantine_cb(void *self, tempo_store_quarantine_cb cb, void *ud)
{
    sq_store_t *st = self;
    st->quarantine_cb = cb;
    st->quarantine_ud = ud;
}
