/* Freeing the scheduler from inside its own callbacks: a job, an event, an
 * operation's answer, and a blocking job's completion. After the free
 * returns nothing of ours may be called, and ASan checks no frame below the
 * callback touches freed memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

typedef struct ctx {
    tempo_scheduler_t *s;
    tempo_vloop_t *vloop;
    int calls_after_free; /* any callback of ours seen after the free */
    bool freed;
    int runs;
} ctx_t;

static ctx_t *new_ctx(void)
{
    ctx_t *c = calloc(1, sizeof *c);
    tempo_loop_t *loop = NULL;
    assert_int_equal(tempo_vloop_new(h_t0(), &c->vloop, &loop, NULL), TEMPO_OK);
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.seed = 7;
    assert_int_equal(tempo_scheduler_new(loop, NULL, &o, &c->s, NULL), TEMPO_OK);
    return c;
}

static void end_ctx(ctx_t *c)
{
    if (!c->freed)
        tempo_scheduler_free(c->s);
    tempo_vloop_run(c->vloop);
    tempo_vloop_advance(c->vloop, TEMPO_MINUTES(10)); /* nothing may fire any more */
    assert_int_equal(c->calls_after_free, 0);
    tempo_vloop_free(c->vloop);
    free(c);
}

static void free_now(ctx_t *c)
{
    assert_false(c->freed);
    c->freed = true;
    tempo_scheduler_free(c->s);
}

static void on_any_event(const tempo_event_t *ev, void *ud)
{
    (void)ev;
    ctx_t *c = ud;
    if (c->freed)
        c->calls_after_free++;
}

static void task_that_frees(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    c->runs++;
    if (c->freed) {
        c->calls_after_free++;
        tempo_job_complete(job, NULL);
        return;
    }
    free_now(c);
    /* The handle outlives the scheduler. */
    assert_int_equal(tempo_job_complete(job, NULL), TEMPO_ECANCELLED);
}

static void add_loop_task(ctx_t *c, tempo_task_fn fn)
{
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "t";
    t.fn = fn;
    t.userdata = c;
    t.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_task(c->s, &t, NULL), TEMPO_OK);
}

static void test_free_from_job_callback(void **state)
{
    (void)state;
    ctx_t *c = new_ctx();
    add_loop_task(c, task_that_frees);
    assert_int_equal(tempo_scheduler_subscribe(c->s, TEMPO_EVENT_ALL, on_any_event, c, NULL, NULL), TEMPO_OK);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    for (int i = 0; i < 5; i++) /* several in one acquisition: the rest must not start */
        assert_int_equal(tempo_scheduler_add_job(c->s, &jo, NULL, NULL, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_start(c->s, NULL), TEMPO_OK);
    tempo_vloop_run(c->vloop);
    assert_true(c->freed);
    assert_int_equal(c->runs, 1);
    end_ctx(c);
}

static void plain_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    c->runs++;
    if (c->freed)
        c->calls_after_free++;
    tempo_job_complete(job, NULL);
}

static void free_on_job_added(const tempo_event_t *ev, void *ud)
{
    ctx_t *c = ud;
    if (c->freed) {
        c->calls_after_free++;
        return;
    }
    if (ev->type == TEMPO_EVENT_JOB_ADDED)
        free_now(c);
}

static void test_free_from_event_callback(void **state)
{
    (void)state;
    ctx_t *c = new_ctx();
    add_loop_task(c, plain_task);
    assert_int_equal(tempo_scheduler_subscribe(c->s, TEMPO_EVENT_ALL, free_on_job_added, c, NULL, NULL), TEMPO_OK);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(1), TEMPO_SECONDS(1));
    for (int i = 0; i < 3; i++) { /* one step releases three: the event comes mid-way */
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
        o.id = id;
        o.task_id = "t";
        o.trigger = t;
        assert_int_equal(tempo_scheduler_add_schedule(c->s, &o, NULL, NULL, NULL), TEMPO_OK);
    }
    tempo_trigger_free(t);
    assert_int_equal(tempo_scheduler_start(c->s, NULL), TEMPO_OK);
    tempo_vloop_advance(c->vloop, TEMPO_SECONDS(2));
    assert_true(c->freed);
    assert_int_equal(c->runs, 0);
    end_ctx(c);
}

static void free_in_answer(void *ud, tempo_status_t st, const tempo_error_t *err,
                           const tempo_schedule_record_t *recs, size_t n)
{
    (void)err, (void)recs, (void)n;
    ctx_t *c = ud;
    if (c->freed) {
        /* the other pending call: answered once, ECANCELLED, from inside free */
        assert_int_equal(st, TEMPO_ECANCELLED);
        return;
    }
    assert_int_equal(st, TEMPO_OK);
    free_now(c);
}

static void count_after_free(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    ctx_t *c = ud;
    assert_int_equal(st, TEMPO_ECANCELLED);
    if (!c->freed)
        c->calls_after_free++; /* must come from inside the free */
}

static void test_free_from_store_completion(void **state)
{
    (void)state;
    ctx_t *c = new_ctx();
    add_loop_task(c, plain_task);
    assert_int_equal(tempo_scheduler_list_schedules(c->s, free_in_answer, c, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_remove_schedule(c->s, "nope", count_after_free, c, NULL), TEMPO_OK);
    tempo_vloop_run(c->vloop);
    assert_true(c->freed);
    end_ctx(c);
}

static tempo_status_t blocking_ok(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)args, (void)result, (void)err, (void)ud;
    return TEMPO_OK;
}

static void free_on_released(const tempo_event_t *ev, void *ud)
{
    ctx_t *c = ud;
    if (c->freed) {
        c->calls_after_free++;
        return;
    }
    if (ev->type == TEMPO_EVENT_JOB_RELEASED)
        free_now(c);
}

static void test_free_from_blocking_job_completion(void **state)
{
    (void)state;
    ctx_t *c = new_ctx();
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "b";
    t.blocking_fn = blocking_ok;
    t.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_task(c->s, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_subscribe(c->s, TEMPO_EVENT_ALL, free_on_released, c, NULL, NULL), TEMPO_OK);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "b";
    for (int i = 0; i < 4; i++)
        assert_int_equal(tempo_scheduler_add_job(c->s, &jo, NULL, NULL, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_start(c->s, NULL), TEMPO_OK);
    tempo_vloop_run(c->vloop);
    for (int i = 0; i < 200 && !c->freed; i++)
        tempo_vloop_wait(c->vloop, 50);
    assert_true(c->freed);
    end_ctx(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_from_job_callback),
        cmocka_unit_test(test_free_from_event_callback),
        cmocka_unit_test(test_free_from_store_completion),
        cmocka_unit_test(test_free_from_blocking_job_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
