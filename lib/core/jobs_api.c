/* Public job calls: queue a job without a schedule, read a result, list
 * the stored results, wait for one.
 *
 * Waiting: a waiter first asks the store (the job may be long finished); if
 * there is no result yet it stays on the scheduler's list until a job of
 * that id finishes in this process (worker.c calls tempo__waiters_notify,
 * also for jobs whose results are not kept), or its timeout fires. A job run
 * by another process is seen only if its result is stored, so waiters also
 * re-ask the store every poll_interval. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

struct tempo__waiter {
    tempo__waiter_t *next, *prev;
    tempo_scheduler_t *s;
    tempo__op_t *op;        /* answered through the op list, so free/stop cancel it */
    tempo__timer_t timeout;
    tempo__timer_t poll;
    tempo_time_t deadline;  /* NONE: none */
    bool asking;            /* a get_job_result is in flight: its reply frees us */
    bool answered;          /* the op was answered while asking */
};

/* ---- add_job ---- */

static void job_added(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__op_t *op = ud;
    tempo_scheduler_t *s = op->s;
    if (status == TEMPO_OK) {
        tempo_event_t ev;
        tempo__event_init(s, &ev, TEMPO_EVENT_JOB_ADDED);
        ev.job_id = op->id;
        ev.task_id = op->task_id;
        ev.schedule_id = op->extra; /* NULL: none */
        ev.scheduled_fire_time = op->when;
        tempo__emit(s, &ev);
        if (s->state == SCHED_FREED)
            return; /* a subscriber freed the scheduler; the op went with it */
        tempo__work_kick(s);
    }
    tempo__op_finish(op, status, err);
}

static tempo_status_t scheduler_add_job_unlocked(tempo_scheduler_t *s, const tempo_job_options_t *opts_in, tempo_id_cb cb,
                                       void *userdata, tempo_error_t *err)
{
    if (!s || !opts_in)
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: scheduler and options are required");
    tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: options.size %zu is not a size this build knows",
                                opts_in->size);
    if (!o.task_id)
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: task_id is required");
    const tempo__task_t *task = tempo__task_find(s, o.task_id);
    if (!task)
        return tempo__error_set(err, TEMPO_ENOTFOUND,
                                "add_job: unknown task '%s' (register it with tempo_scheduler_add_task first)",
                                o.task_id);
    if (o.misfire_grace_time != TEMPO_DURATION_NONE && o.misfire_grace_time < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: misfire_grace_time must be >= 0 or NONE");
    if (o.result_expiration < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: result_expiration must be >= 0");
    if (o.schedule_id && (!o.schedule_id[0] || strlen(o.schedule_id) > 255))
        return tempo__error_set(err, TEMPO_EINVAL, "add_job: schedule_id must be 1-255 bytes (or NULL)");

    tempo_time_t now = tempo_loop_now(s->loop);
    tempo_time_t at = o.at == TEMPO_TIME_NONE ? now : o.at;
    tempo_duration_t grace = o.misfire_grace_time != TEMPO_DURATION_NONE ? o.misfire_grace_time
                                                                         : task->misfire_grace_time;
    char id[37];
    tempo__uuid_random(&s->rng, id);
    tempo__op_t *op = tempo__op_new(s, OP_ID, (void (*)(void))cb, userdata, id);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "add_job: out of memory");
    snprintf(op->task_id, sizeof op->task_id, "%s", o.task_id);
    op->when = at;
    if (o.schedule_id) { /* for the JOB_ADDED event */
        if (!(op->extra = strdup(o.schedule_id))) {
            tempo__op_discard(op);
            return tempo__error_set(err, TEMPO_ENOMEM, "add_job: out of memory");
        }
        op->free_extra = free;
    }
    tempo_job_record_t job = {
        .id = op->id,
        .task_id = o.task_id,
        .schedule_id = o.schedule_id,
        .args = o.args,
        .scheduled_fire_time = at,
        .original_fire_time = at,
        .start_deadline = grace == TEMPO_DURATION_NONE ? TEMPO_TIME_NONE : at + grace,
        .result_expiration = o.result_expiration,
        .created_at = now,
    };
    s->store->ops->add_job(s->store->self, &job, job_added, op);
    return TEMPO_OK;
}

/* ---- get_job_result ---- */

static void got_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    tempo__op_finish_result(ud, status, err, res);
}

static tempo_status_t check_job_id(const tempo_scheduler_t *s, const char *id, const char *what, tempo_error_t *err)
{
    if (!s)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: scheduler is NULL", what);
    if (!id || !id[0] || strlen(id) > 255)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: job id must be 1-255 bytes", what);
    return TEMPO_OK;
}

static tempo_status_t scheduler_get_job_result_unlocked(tempo_scheduler_t *s, const char *job_id, tempo_result_cb cb,
                                              void *userdata, tempo_error_t *err)
{
    tempo_status_t rc = check_job_id(s, job_id, "get_job_result", err);
    if (rc != TEMPO_OK)
        return rc;
    tempo__op_t *op = tempo__op_new(s, OP_RESULT, (void (*)(void))cb, userdata, job_id);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "get_job_result: out of memory");
    s->store->ops->get_job_result(s->store->self, op->id, got_result, op);
    return TEMPO_OK;
}

/* ---- list_results ----
 *
 * The op list answers four kinds of callback (sched_internal.h); a list of
 * results travels through an OP_RESULT op whose callback is results_relay()
 * and whose userdata is a relay holding the caller's callback. Stop and
 * free cancel it like every op (the relay then passes ECANCELLED on, with
 * no results); the store's answer is parked in the relay just before the op
 * is finished, so it reaches the caller through the same single path. */

typedef struct results_relay {
    tempo_results_cb cb;
    void *userdata;
    const tempo_job_result_t *results; /* the store's, during the answer only */
    size_t count;
} results_relay_t;

static void results_relay(void *ud, tempo_status_t status, const tempo_error_t *err,
                          const tempo_job_result_t *unused)
{
    (void)unused;
    results_relay_t *r = ud;
    if (r->cb)
        r->cb(r->userdata, status, err, status == TEMPO_OK ? r->results : NULL, status == TEMPO_OK ? r->count : 0);
}

static void got_results(void *ud, tempo_status_t status, const tempo_error_t *err,
                        const tempo_job_result_t *results, size_t count)
{
    tempo__op_t *op = ud;
    results_relay_t *r = op->extra;
    r->results = results;
    r->count = count;
    tempo__op_finish_result(op, status, err, NULL); /* frees the relay after the callback */
}

static bool store_lists_results(const tempo_store_t *store)
{
    const tempo_store_ops_t *ops = store->ops;
    return ops->size >= offsetof(tempo_store_ops_t, list_results) + sizeof ops->list_results &&
           ops->list_results != NULL;
}

static tempo_status_t scheduler_list_results_unlocked(tempo_scheduler_t *s, const char *schedule_id, size_t limit,
                                                      tempo_results_cb cb, void *userdata, tempo_error_t *err)
{
    if (!s)
        return tempo__error_set(err, TEMPO_EINVAL, "list_results: scheduler is NULL");
    if (schedule_id && (!schedule_id[0] || strlen(schedule_id) > 255))
        return tempo__error_set(err, TEMPO_EINVAL, "list_results: schedule id must be 1-255 bytes (NULL: all)");
    if (!store_lists_results(s->store))
        return tempo__error_set(err, TEMPO_EUNSUPPORTED, "list_results: store '%s' cannot list results",
                                s->store->ops->name ? s->store->ops->name : "?");
    results_relay_t *relay = calloc(1, sizeof *relay);
    tempo__op_t *op = relay ? tempo__op_new(s, OP_RESULT, (void (*)(void))results_relay, relay, schedule_id) : NULL;
    if (!op) {
        free(relay);
        return tempo__error_set(err, TEMPO_ENOMEM, "list_results: out of memory");
    }
    relay->cb = cb;
    relay->userdata = userdata;
    op->extra = relay;
    op->free_extra = free;
    s->store->ops->list_results(s->store->self, schedule_id ? op->id : NULL, tempo_loop_now(s->loop), limit,
                                got_results, op);
    return TEMPO_OK;
}

/* ---- waiting ---- */

static void waiter_unlink(tempo__waiter_t *w)
{
    tempo_scheduler_t *s = w->s;
    if (w->prev)
        w->prev->next = w->next;
    else
        s->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    tempo__timer_stop(s->loop, &w->timeout);
    tempo__timer_stop(s->loop, &w->poll);
}

/* Answer the op; the waiter itself goes now, or — while a store call still
 * holds a pointer to it — when that call replies. */
static void waiter_answer(tempo__waiter_t *w, tempo_status_t status, const tempo_error_t *err,
                          const tempo_job_result_t *res)
{
    waiter_unlink(w);
    tempo__op_finish_result(w->op, status, err, res);
    w->op = NULL;
    if (w->asking)
        w->answered = true;
    else
        free(w);
}

static void waiter_timed_out(void *arg)
{
    tempo__waiter_t *w = arg;
    tempo_error_t e;
    tempo__error_set(&e, TEMPO_ETIMEOUT, "no result for job '%s' before the timeout", w->op->id);
    waiter_answer(w, TEMPO_ETIMEOUT, &e, NULL);
}

static void waiter_asked(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res);

static void waiter_poll(void *arg)
{
    tempo__waiter_t *w = arg;
    if (w->asking)
        return;
    w->asking = true;
    w->s->store->ops->get_job_result(w->s->store->self, w->op->id, waiter_asked, w);
}

static void waiter_asked(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    tempo__waiter_t *w = ud;
    tempo_scheduler_t *s = w->s;
    w->asking = false;
    if (w->answered) { /* answered (by a local result or the timeout) meanwhile */
        free(w);
        return;
    }
    if (status == TEMPO_OK) {
        waiter_answer(w, status, err, res);
        return;
    }
    if (status != TEMPO_ENOTFOUND) {
        waiter_answer(w, status, err, NULL);
        return;
    }
    tempo_time_t now = tempo_loop_now(s->loop);
    if (w->deadline != TEMPO_TIME_NONE && now >= w->deadline) {
        waiter_timed_out(w);
        return;
    }
    tempo__timer_start(s->loop, &w->poll, now + s->opts.poll_interval);
}

static tempo_status_t scheduler_wait_job_result_unlocked(tempo_scheduler_t *s, const char *job_id, tempo_duration_t timeout,
                                               tempo_result_cb cb, void *userdata, tempo_error_t *err)
{
    tempo_status_t rc = check_job_id(s, job_id, "wait_job_result", err);
    if (rc != TEMPO_OK)
        return rc;
    if (timeout != TEMPO_DURATION_NONE && timeout < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "wait_job_result: timeout must be >= 0 or NONE");
    tempo__waiter_t *w = calloc(1, sizeof *w);
    tempo__op_t *op = w ? tempo__op_new(s, OP_RESULT, (void (*)(void))cb, userdata, job_id) : NULL;
    if (!op) {
        free(w);
        return tempo__error_set(err, TEMPO_ENOMEM, "wait_job_result: out of memory");
    }
    w->s = s;
    w->op = op;
    tempo__timer_init(&w->timeout, waiter_timed_out, w);
    tempo__timer_init(&w->poll, waiter_poll, w);
    tempo_time_t now = tempo_loop_now(s->loop);
    w->deadline = timeout == TEMPO_DURATION_NONE ? TEMPO_TIME_NONE : now + timeout;
    if (w->deadline != TEMPO_TIME_NONE)
        tempo__timer_start(s->loop, &w->timeout, w->deadline);
    w->next = s->waiters;
    if (s->waiters)
        s->waiters->prev = w;
    s->waiters = w;
    waiter_poll(w);
    return TEMPO_OK;
}

void tempo__waiters_notify(tempo_scheduler_t *s, const tempo_job_result_t *result)
{
    /* Answering may add or remove waiters: restart the scan after each. */
    for (bool again = true; again;) {
        again = false;
        for (tempo__waiter_t *w = s->waiters; w; w = w->next) {
            if (strcmp(w->op->id, result->job_id) == 0) {
                waiter_answer(w, TEMPO_OK, NULL, result);
                again = true;
                break;
            }
        }
    }
}

/* Free only, after the store was destroyed (no reply will come) and the op
 * list answered every op with ECANCELLED. */
void tempo__waiters_cancel_all(tempo_scheduler_t *s)
{
    while (s->waiters) {
        tempo__waiter_t *w = s->waiters;
        waiter_unlink(w);
        free(w);
    }
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_add_job(tempo_scheduler_t *s, const tempo_job_options_t *opts_in, tempo_id_cb cb,
                                       void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_add_job_unlocked(s, opts_in, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_add_job_unlocked(s, opts_in, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_get_job_result(tempo_scheduler_t *s, const char *job_id, tempo_result_cb cb,
                                              void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_get_job_result_unlocked(s, job_id, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_get_job_result_unlocked(s, job_id, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_wait_job_result(tempo_scheduler_t *s, const char *job_id, tempo_duration_t timeout,
                                               tempo_result_cb cb, void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_wait_job_result_unlocked(s, job_id, timeout, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_wait_job_result_unlocked(s, job_id, timeout, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_list_results(tempo_scheduler_t *s, const char *schedule_id, size_t limit,
                                            tempo_results_cb cb, void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_list_results_unlocked(s, schedule_id, limit, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_list_results_unlocked(s, schedule_id, limit, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}
