/* The memory store's step_schedules (store.h): acquisition, planning and
 * release in one call — which schedules it shows the planner and in what
 * order, what it applies, and where it stops; and jobs taken direct
 * (tempo_job_take_t.direct, release_direct). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <tempo/store.h>
#include <tempo/virtual.h>

#include "store/records.h"

#define T0 INT64_C(1798761600000000)
#define SEC(n) TEMPO_SECONDS(n)

typedef struct env {
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_trigger_t *trigger;
} env_t;

/* The planner: records what it was shown, moves each schedule a minute on,
 * makes one job per schedule, and fails at schedule `fail_at` (0: never). */
typedef struct planner {
    char seen[8][16];
    int n;
    int fail_at;
    bool wrong_id;
    bool finish;            /* the schedule ends with this fire */
    bool take;              /* ask to take the job, direct if it may */
    tempo_job_take_t taken; /* the request, and the store's answer */
    tempo_schedule_release_t rel;
    tempo_job_record_t job;
    char job_id[40];
    char id[16];
} planner_t;

static bool plan(void *ud, const tempo_schedule_record_t *r, tempo_schedule_release_t **out)
{
    planner_t *p = ud;
    assert_true(p->n < 8);
    snprintf(p->seen[p->n++], sizeof p->seen[0], "%s", r->id);
    if (p->fail_at == p->n)
        return false;
    snprintf(p->id, sizeof p->id, "%s", p->wrong_id ? "other" : r->id);
    snprintf(p->job_id, sizeof p->job_id, "job-%s", r->id);
    p->job = (tempo_job_record_t){.id = p->job_id, .task_id = r->task_id, .schedule_id = p->id,
                                  .scheduled_fire_time = r->next_fire_time,
                                  .original_fire_time = r->next_fire_time,
                                  .start_deadline = TEMPO_TIME_NONE, .created_at = T0};
    p->rel = (tempo_schedule_release_t){.id = p->id,
                                        .next_fire_time = p->finish ? TEMPO_TIME_NONE : r->next_fire_time + SEC(60),
                                        .last_fire_time = r->next_fire_time, .jobs = &p->job, .job_count = 1,
                                        .status = -1};
    if (p->take) {
        p->taken = (tempo_job_take_t){.until = T0 + SEC(30), .max_running = 1, .direct_ok = true};
        p->rel.take = &p->taken;
    }
    *out = &p->rel;
    return true;
}

typedef struct answer {
    int calls;
    tempo_status_t status;
    char message[TEMPO_ERROR_MESSAGE_MAX];
    tempo_schedule_record_t *recs;
    size_t count;
} answer_t;

static void on_status(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    answer_t *a = ud;
    a->calls++;
    a->status = status;
    snprintf(a->message, sizeof a->message, "%s", err ? err->message : "");
}

static void on_schedules(void *ud, tempo_status_t status, const tempo_error_t *err,
                         const tempo_schedule_record_t *recs, size_t count)
{
    answer_t *a = ud;
    on_status(ud, status, err);
    assert_int_equal(tempo__schedule_records_dup(recs, count, &a->recs, NULL), TEMPO_OK);
    a->count = count;
}

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof *e);
    assert_int_equal(tempo_vloop_new(T0, &e->vloop, &e->loop, NULL), TEMPO_OK);
    assert_int_equal(tempo_memory_store_new(&e->store, NULL), TEMPO_OK);
    assert_int_equal(e->store->ops->start(e->store->self, e->loop, NULL), TEMPO_OK);
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = SEC(60);
    o.start = T0;
    assert_int_equal(tempo_trigger_interval_new(&o, &e->trigger, NULL), TEMPO_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env_t *e = *state;
    tempo_store_free(e->store);
    tempo_loop_free(e->loop);
    tempo_vloop_free(e->vloop);
    tempo_trigger_free(e->trigger);
    free(e);
    return 0;
}

static void add(env_t *e, const char *id, tempo_time_t next)
{
    tempo_schedule_record_t r = {.id = id, .task_id = "t", .trigger = e->trigger,
                                 .misfire_grace_time = TEMPO_DURATION_NONE, .next_fire_time = next,
                                 .last_fire_time = TEMPO_TIME_NONE};
    answer_t a = {0};
    e->store->ops->add_schedule(e->store->self, &r, TEMPO_CONFLICT_ERROR, NULL, NULL);
    e->store->ops->next_schedule_time(e->store->self, NULL, NULL);
    tempo_vloop_run(e->vloop);
    (void)a;
}

static answer_t step(env_t *e, tempo_time_t now, size_t limit, planner_t *p)
{
    answer_t a = {0};
    e->store->ops->step_schedules(e->store->self, "w1", now, limit, plan, p, on_status, &a);
    assert_int_equal(a.calls, 0); /* never inside the call */
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.calls, 1);
    return a;
}

static tempo_time_t next_of(env_t *e, const char *id)
{
    answer_t a = {0};
    const char *ids[1] = {id};
    e->store->ops->get_schedules(e->store->self, ids, 1, on_schedules, &a);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.count, 1);
    tempo_time_t next = a.recs[0].next_fire_time;
    assert_null(a.recs[0].lease.owner); /* the step leaves no lease */
    tempo__schedule_records_free(a.recs, a.count);
    return next;
}

static void on_jobs(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_record_t *jobs,
                    size_t count)
{
    (void)jobs;
    on_status(ud, status, err);
    ((answer_t *)ud)->count = count;
}

static size_t jobs_in_store(env_t *e)
{
    answer_t a = {0};
    e->store->ops->get_jobs(e->store->self, NULL, 0, on_jobs, &a);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.status, TEMPO_OK);
    return a.count;
}

/* Due ones only, earliest first, at most `limit`; each applied. */
static void test_due_in_order(void **state)
{
    env_t *e = *state;
    add(e, "late", T0 + SEC(100));
    add(e, "b", T0 + SEC(1));
    add(e, "a", T0);
    planner_t p = {0};
    answer_t a = step(e, T0 + SEC(1), 10, &p);
    assert_int_equal(a.status, TEMPO_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.seen[0], "a");
    assert_string_equal(p.seen[1], "b");
    assert_int_equal(next_of(e, "a"), T0 + SEC(60));
    assert_int_equal(next_of(e, "b"), T0 + SEC(61));
    assert_int_equal(next_of(e, "late"), T0 + SEC(100));
    assert_int_equal(jobs_in_store(e), 2);
    /* The limit. */
    planner_t q = {0};
    a = step(e, T0 + SEC(200), 1, &q);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.seen[0], "a");
}

/* A schedule another owner holds (lease not expired) is not stepped; once
 * its lease expires, it is. */
static void test_leased_skipped(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    answer_t got = {0};
    e->store->ops->acquire_schedules(e->store->self, "w2", T0, SEC(30), 10, on_schedules, &got);
    tempo_vloop_run(e->vloop);
    assert_int_equal(got.count, 1);
    tempo__schedule_records_free(got.recs, got.count);
    planner_t p = {0};
    step(e, T0 + SEC(10), 10, &p);
    assert_int_equal(p.n, 0);
    step(e, T0 + SEC(30), 10, &p);
    assert_int_equal(p.n, 1);
}

/* The planner failing stops the step there: what came before stays
 * applied, that schedule and the rest are untouched. */
static void test_plan_failure_stops(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    add(e, "b", T0 + SEC(1));
    add(e, "c", T0 + SEC(2));
    planner_t p = {.fail_at = 2};
    answer_t a = step(e, T0 + SEC(5), 10, &p);
    assert_int_equal(a.status, TEMPO_ENOMEM);
    assert_non_null(strstr(a.message, "store 'memory': step_schedules"));
    assert_int_equal(p.n, 2);
    assert_int_equal(next_of(e, "a"), T0 + SEC(60));
    assert_int_equal(next_of(e, "b"), T0 + SEC(1));
    assert_int_equal(next_of(e, "c"), T0 + SEC(2));
    assert_int_equal(jobs_in_store(e), 1);
}

/* A plan naming another schedule is refused with EINVAL, unapplied, its
 * status written. */
static void test_wrong_plan_refused(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    planner_t p = {.wrong_id = true};
    answer_t a = step(e, T0, 10, &p);
    assert_int_equal(a.status, TEMPO_EINVAL);
    assert_int_equal(p.rel.status, TEMPO_EINVAL);
    assert_int_equal(next_of(e, "a"), T0);
    assert_int_equal(jobs_in_store(e), 0);
}

/* Bad arguments: EINVAL, no planning. */
static void test_bad_arguments(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    planner_t p = {0};
    answer_t a = {0};
    e->store->ops->step_schedules(e->store->self, NULL, T0, 10, plan, &p, on_status, &a);
    e->store->ops->step_schedules(e->store->self, "w1", T0, 10, NULL, &p, on_status, &a);
    e->store->ops->step_schedules(e->store->self, "w1", TEMPO_TIME_NONE, 10, plan, &p, on_status, &a);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.calls, 3);
    assert_int_equal(a.status, TEMPO_EINVAL);
    assert_int_equal(p.n, 0);
}

static size_t acquire(env_t *e, tempo_time_t now)
{
    tempo_task_record_t task = {.id = "t", .max_running_jobs = 1, .misfire_grace_time = TEMPO_DURATION_NONE};
    answer_t a = {0};
    e->store->ops->acquire_jobs(e->store->self, "w1", now, SEC(30), 10, &task, 1, on_jobs, &a);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.status, TEMPO_OK);
    return a.count;
}

typedef struct result_answer {
    tempo_status_t status;
    tempo_outcome_t outcome;
    char job_id[40];
} result_answer_t;

static void on_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *r)
{
    (void)err;
    result_answer_t *a = ud;
    a->status = status;
    if (r) {
        a->outcome = r->outcome;
        snprintf(a->job_id, sizeof a->job_id, "%s", r->job_id);
    }
}

/* A job taken direct has no record: nothing lists it, yet it holds its
 * task's slot (a queued job of that task waits) until release_direct,
 * which keeps the result it is given. */
static void test_direct_take(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    add(e, "b", T0 + SEC(1));
    planner_t p = {.take = true};
    assert_int_equal(step(e, T0 + SEC(1), 1, &p).status, TEMPO_OK);
    void *direct = p.taken.direct;
    assert_non_null(direct);
    assert_int_not_equal(p.taken.fence, 0);
    assert_int_equal(jobs_in_store(e), 0);
    /* b's job: the task's one slot is taken, so it is queued, not taken. */
    assert_int_equal(step(e, T0 + SEC(1), 1, &p).status, TEMPO_OK);
    assert_string_equal(p.seen[1], "b");
    assert_null(p.taken.direct);
    assert_int_equal(p.taken.fence, 0);
    assert_int_equal(jobs_in_store(e), 1);
    assert_int_equal(acquire(e, T0 + SEC(2)), 0); /* held back by the direct job */

    tempo_job_result_t res = {.job_id = "job-a", .task_id = "t", .schedule_id = "a",
                              .outcome = TEMPO_OUTCOME_SUCCESS, .scheduled_fire_time = T0,
                              .started_at = T0 + SEC(2), .finished_at = T0 + SEC(3),
                              .expires_at = T0 + SEC(63)};
    answer_t a = {0};
    e->store->ops->release_direct(e->store->self, direct, &res, on_status, &a);
    assert_int_equal(a.calls, 0); /* answered later */
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, TEMPO_OK);
    result_answer_t r = {0};
    e->store->ops->get_job_result(e->store->self, "job-a", on_result, &r);
    tempo_vloop_run(e->vloop);
    assert_int_equal(r.status, TEMPO_OK);
    assert_int_equal(r.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(acquire(e, T0 + SEC(3)), 1); /* b's job, now that the slot is free */
}

/* Without a result and a callback the slot is freed at once: no answer to
 * wait for. A job kept no result for. */
static void test_direct_quiet_release(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    add(e, "b", T0 + SEC(1));
    planner_t p = {.take = true};
    step(e, T0 + SEC(1), 1, &p);
    void *direct = p.taken.direct;
    assert_non_null(direct);
    step(e, T0 + SEC(1), 1, &p); /* b queued */
    e->store->ops->release_direct(e->store->self, direct, NULL, NULL, NULL);
    assert_int_equal(acquire(e, T0 + SEC(2)), 1);
    result_answer_t r = {0};
    e->store->ops->get_job_result(e->store->self, "job-a", on_result, &r);
    tempo_vloop_run(e->vloop);
    assert_int_equal(r.status, TEMPO_ENOTFOUND);
}

/* The last job of a finishing schedule keeps a record (taken with a lease):
 * it is what keeps the schedule listed until the job ends. */
static void test_finishing_job_not_direct(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    planner_t p = {.take = true, .finish = true};
    step(e, T0, 1, &p);
    assert_null(p.taken.direct);
    assert_int_not_equal(p.taken.fence, 0);
    assert_int_equal(jobs_in_store(e), 1);
    answer_t got = {0};
    const char *ids[1] = {"a"};
    e->store->ops->get_schedules(e->store->self, ids, 1, on_schedules, &got);
    tempo_vloop_run(e->vloop);
    assert_int_equal(got.count, 1);
    tempo__schedule_records_free(got.recs, got.count);
}

/* Direct jobs never released (their scheduler went away) go with the
 * store: teardown frees it, and the sanitizers and valgrind would see a
 * leak. release_schedules ignores direct_ok: its jobs get records. */
static void test_direct_left_at_free(void **state)
{
    env_t *e = *state;
    add(e, "a", T0);
    planner_t p = {.take = true};
    step(e, T0, 1, &p);
    assert_non_null(p.taken.direct);

    add(e, "b", T0);
    answer_t got = {0};
    e->store->ops->acquire_schedules(e->store->self, "w1", T0, SEC(30), 10, on_schedules, &got);
    tempo_vloop_run(e->vloop);
    assert_int_equal(got.count, 1);
    tempo_job_record_t job = {.id = "job-b", .task_id = "t", .schedule_id = "b", .scheduled_fire_time = T0,
                              .original_fire_time = T0, .start_deadline = TEMPO_TIME_NONE, .created_at = T0};
    tempo_job_take_t take = {.until = T0 + SEC(30), .direct_ok = true};
    tempo_schedule_release_t rel = {.id = "b", .fence = got.recs[0].lease.fence, .next_fire_time = T0 + SEC(60),
                                    .last_fire_time = T0, .jobs = &job, .job_count = 1, .take = &take};
    tempo__schedule_records_free(got.recs, got.count);
    answer_t a = {0};
    e->store->ops->release_schedules(e->store->self, "w1", &rel, 1, on_status, &a);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.status, TEMPO_OK);
    assert_null(take.direct);
    assert_int_not_equal(take.fence, 0);
    assert_int_equal(jobs_in_store(e), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_due_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leased_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_failure_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_plan_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_quiet_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finishing_job_not_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_left_at_free, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
