/* A store that can be "down": the memory store behind a switch.
 *
 * While `down` is set, the operations a running scheduler makes fail with
 * TEMPO_ESTORE — answered later on the loop thread, as a real store whose
 * server does not answer would — and change nothing. Everything else, and
 * everything while up, goes to the memory store. `calls` counts the failed
 * calls and `failed_at` keeps when they were made, to check the backoff.
 * Include after <cmocka.h>; one per test program. */
#ifndef TEMPO_TEST_FLAKY_STORE_H
#define TEMPO_TEST_FLAKY_STORE_H

#include <stdlib.h>
#include <string.h>
#include <tempo/tempo.h>

#include "loop/loop_internal.h"

#define FLAKY_MAX 256

typedef struct flaky {
    tempo_store_t *inner;
    tempo_loop_t *loop;
    bool down;
    bool fail_extend; /* only extend_leases fails (a worker that cannot reach the store) */
    int failed;
    tempo_time_t failed_at[FLAKY_MAX];
    const char *failed_op[FLAKY_MAX];
    struct flaky_call *pending; /* answers not yet delivered */
} flaky_t;

typedef struct flaky_call {
    tempo__call_t call;
    struct flaky_call *next, *prev;
    flaky_t *f;
    int kind; /* 0 status, 1 schedules, 2 jobs, 3 time */
    void *cb;
    void *ud;
} flaky_call_t;

static void flaky_unlink(flaky_call_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->f->pending = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void flaky_answer(void *arg)
{
    flaky_call_t *c = arg;
    flaky_unlink(c);
    tempo_error_t e = {TEMPO_ESTORE, "flaky store: the server is down"};
    switch (c->kind) {
    case 0: ((tempo_store_status_cb)c->cb)(c->ud, TEMPO_ESTORE, &e); break;
    case 1: ((tempo_store_schedules_cb)c->cb)(c->ud, TEMPO_ESTORE, &e, NULL, 0); break;
    case 2: ((tempo_store_jobs_cb)c->cb)(c->ud, TEMPO_ESTORE, &e, NULL, 0); break;
    default: ((tempo_store_time_cb)c->cb)(c->ud, TEMPO_ESTORE, &e, TEMPO_TIME_NONE); break;
    }
    free(c);
}

static void flaky_fail(flaky_t *f, const char *op, int kind, void *cb, void *ud)
{
    if (f->failed < FLAKY_MAX) {
        f->failed_at[f->failed] = tempo_loop_now(f->loop);
        f->failed_op[f->failed] = op;
    }
    f->failed++;
    flaky_call_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->f = f;
    c->kind = kind;
    c->cb = cb;
    c->ud = ud;
    c->next = f->pending;
    if (f->pending)
        f->pending->prev = c;
    f->pending = c;
    tempo__loop_defer(f->loop, &c->call, flaky_answer, c);
}

#define FLAKY_INNER(f) (f)->inner->ops
#define FLAKY_SELF(f) (f)->inner->self

static tempo_status_t flaky_start(void *self, tempo_loop_t *loop, tempo_error_t *err)
{
    flaky_t *f = self;
    f->loop = loop;
    return FLAKY_INNER(f)->start(FLAKY_SELF(f), loop, err);
}
static void flaky_stop(void *self, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->stop(FLAKY_SELF(f), cb, ud);
}
static void flaky_destroy(void *self)
{
    flaky_t *f = self;
    while (f->pending) { /* destroy drops undelivered answers */
        flaky_call_t *c = f->pending;
        flaky_unlink(c);
        tempo__loop_cancel(f->loop, &c->call);
        free(c);
    }
    tempo_store_free(f->inner);
    f->inner = NULL;
}
static void flaky_add_task(void *self, const tempo_task_record_t *t, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->add_task(FLAKY_SELF(f), t, cb, ud);
}
static void flaky_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->get_tasks(FLAKY_SELF(f), cb, ud);
}
static void flaky_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->remove_task(FLAKY_SELF(f), id, cb, ud);
}
static void flaky_add_schedule(void *self, const tempo_schedule_record_t *r, tempo_conflict_t c,
                               tempo_store_add_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->add_schedule(FLAKY_SELF(f), r, c, cb, ud);
}
static void flaky_get_schedules(void *self, const char *const *ids, size_t n, tempo_store_schedules_cb cb,
                                void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->get_schedules(FLAKY_SELF(f), ids, n, cb, ud);
}
static void flaky_update_schedule(void *self, const tempo_schedule_record_t *r, tempo_store_status_cb cb,
                                  void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->update_schedule(FLAKY_SELF(f), r, cb, ud);
}
static void flaky_remove_schedules(void *self, const char *const *ids, size_t n, tempo_store_status_cb cb,
                                   void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->remove_schedules(FLAKY_SELF(f), ids, n, cb, ud);
}
static void flaky_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                    size_t limit, tempo_store_schedules_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "acquire_schedules", 1, (void *)cb, ud);
    FLAKY_INNER(f)->acquire_schedules(FLAKY_SELF(f), owner, now, lease, limit, cb, ud);
}
static void flaky_release_schedules(void *self, const char *owner, tempo_schedule_release_t *r, size_t n,
                                    tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "release_schedules", 0, (void *)cb, ud);
    FLAKY_INNER(f)->release_schedules(FLAKY_SELF(f), owner, r, n, cb, ud);
}
static void flaky_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "next_schedule_time", 3, (void *)cb, ud);
    FLAKY_INNER(f)->next_schedule_time(FLAKY_SELF(f), cb, ud);
}
static void flaky_add_job(void *self, const tempo_job_record_t *j, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->add_job(FLAKY_SELF(f), j, cb, ud);
}
static void flaky_get_jobs(void *self, const char *const *ids, size_t n, tempo_store_jobs_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->get_jobs(FLAKY_SELF(f), ids, n, cb, ud);
}
static void flaky_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                               size_t limit, const tempo_task_record_t *tasks, size_t nt, tempo_store_jobs_cb cb,
                               void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "acquire_jobs", 2, (void *)cb, ud);
    FLAKY_INNER(f)->acquire_jobs(FLAKY_SELF(f), owner, now, lease, limit, tasks, nt, cb, ud);
}
static void flaky_release_job(void *self, const char *owner, const char *id, int64_t fence,
                              const tempo_job_result_t *res, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "release_job", 0, (void *)cb, ud);
    FLAKY_INNER(f)->release_job(FLAKY_SELF(f), owner, id, fence, res, cb, ud);
}
static void flaky_next_job_time(void *self, tempo_store_time_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "next_job_time", 3, (void *)cb, ud);
    FLAKY_INNER(f)->next_job_time(FLAKY_SELF(f), cb, ud);
}
static void flaky_get_job_result(void *self, const char *id, tempo_store_result_cb cb, void *ud)
{
    flaky_t *f = self;
    FLAKY_INNER(f)->get_job_result(FLAKY_SELF(f), id, cb, ud);
}
static void flaky_extend_leases(void *self, const char *owner, const char *const *sids, size_t sn,
                                const char *const *jids, size_t jn, tempo_time_t until, tempo_store_status_cb cb,
                                void *ud)
{
    flaky_t *f = self;
    if (f->down || f->fail_extend)
        return flaky_fail(f, "extend_leases", 0, (void *)cb, ud);
    FLAKY_INNER(f)->extend_leases(FLAKY_SELF(f), owner, sids, sn, jids, jn, until, cb, ud);
}
static void flaky_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "reap_abandoned", 2, (void *)cb, ud);
    FLAKY_INNER(f)->reap_abandoned(FLAKY_SELF(f), now, cb, ud);
}
static void flaky_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud)
{
    flaky_t *f = self;
    if (f->down)
        return flaky_fail(f, "cleanup", 0, (void *)cb, ud);
    FLAKY_INNER(f)->cleanup(FLAKY_SELF(f), now, cb, ud);
}

static const tempo_store_ops_t flaky_ops = {
    .size = sizeof(tempo_store_ops_t),
    .name = "flaky",
    .start = flaky_start,
    .stop = flaky_stop,
    .destroy = flaky_destroy,
    .add_task = flaky_add_task,
    .get_tasks = flaky_get_tasks,
    .remove_task = flaky_remove_task,
    .add_schedule = flaky_add_schedule,
    .get_schedules = flaky_get_schedules,
    .update_schedule = flaky_update_schedule,
    .remove_schedules = flaky_remove_schedules,
    .acquire_schedules = flaky_acquire_schedules,
    .release_schedules = flaky_release_schedules,
    .next_schedule_time = flaky_next_schedule_time,
    .add_job = flaky_add_job,
    .get_jobs = flaky_get_jobs,
    .acquire_jobs = flaky_acquire_jobs,
    .release_job = flaky_release_job,
    .next_job_time = flaky_next_job_time,
    .get_job_result = flaky_get_job_result,
    .extend_leases = flaky_extend_leases,
    .reap_abandoned = flaky_reap_abandoned,
    .cleanup = flaky_cleanup,
};

/* A flaky store around a new memory store; `f` must outlive the store
 * (freeing the store frees the memory store inside, not `f`). */
static tempo_store_t *flaky_new(flaky_t *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(tempo_memory_store_new(&f->inner, NULL), TEMPO_OK);
    tempo_store_t *store = malloc(sizeof *store);
    assert_non_null(store);
    store->ops = &flaky_ops;
    store->self = f;
    return store;
}

#endif
