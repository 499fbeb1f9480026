/* The memory store beyond the conformance suite: its life outside the
 * started state (calls before start, after stop, destroy at any moment),
 * and white-box checks that its indexes hold what memory_internal.h says —
 * paused, finished and leased schedules out of the due heap, running jobs
 * counted per task and returned when their leases expire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <tempo/store.h>
#include <tempo/virtual.h>

#include "loop/loop_internal.h"
#include "store/memory_internal.h"

#define T0 INT64_C(1798761600000000)

typedef struct counter {
    int calls;
    int seq;
    tempo_status_t status;
} counter_t;

static int seq;

static void on_status(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    counter_t *c = ud;
    c->calls++;
    c->seq = ++seq;
    c->status = status;
    if (status != TEMPO_OK) {
        assert_non_null(err);
        assert_non_null(strstr(err->message, "store 'memory': "));
    }
}

static void on_schedules(void *ud, tempo_status_t status, const tempo_error_t *err,
                         const tempo_schedule_record_t *recs, size_t count)
{
    (void)recs;
    on_status(ud, status, err);
    ((counter_t *)ud)->seq = (int)count; /* the count, for these tests */
}

typedef struct env {
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_trigger_t *trigger;
} env_t;

static int setup(void **state)
{
    env_t *e = calloc(1, sizeof *e);
    assert_int_equal(tempo_vloop_new(T0, &e->vloop, &e->loop, NULL), TEMPO_OK);
    assert_int_equal(tempo_memory_store_new(&e->store, NULL), TEMPO_OK);
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = TEMPO_SECONDS(60);
    o.start = T0;
    assert_int_equal(tempo_trigger_interval_new(&o, &e->trigger, NULL), TEMPO_OK);
    seq = 0;
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

static const tempo_store_ops_t *ops(env_t *e)
{
    return e->store->ops;
}

static tempo_schedule_record_t schedule(env_t *e, const char *id, tempo_time_t next, bool paused)
{
    return (tempo_schedule_record_t){.id = id, .task_id = "t", .trigger = e->trigger,
                                     .misfire_grace_time = TEMPO_DURATION_NONE, .next_fire_time = next,
                                     .last_fire_time = TEMPO_TIME_NONE, .paused = paused};
}

static void stop_now(env_t *e)
{
    counter_t c = {0};
    ops(e)->stop(e->store->self, on_status, &c);
    tempo_vloop_run(e->vloop);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, TEMPO_OK);
}

static void test_new_and_start_errors(void **state)
{
    env_t *e = *state;
    tempo_error_t err;
    assert_int_equal(tempo_memory_store_new(NULL, &err), TEMPO_EINVAL);
    tempo_store_free(NULL);
    assert_string_equal(ops(e)->name, "memory");
    assert_int_equal(ops(e)->size, sizeof(tempo_store_ops_t));
    assert_int_equal(ops(e)->start(e->store->self, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(ops(e)->start(e->store->self, e->loop, &err), TEMPO_OK);
    assert_int_equal(ops(e)->start(e->store->self, e->loop, &err), TEMPO_ESTATE);
    assert_string_equal(err.message, "store 'memory': start: already started");
    stop_now(e);
    assert_int_equal(ops(e)->start(e->store->self, e->loop, &err), TEMPO_ESTATE);
}

/* Before start there is no loop: the answer (ESTATE, nothing done) waits,
 * and arrives on the loop after start — not inside start. */
static void test_calls_before_start(void **state)
{
    env_t *e = *state;
    tempo_schedule_record_t rec = schedule(e, "s", T0, false);
    counter_t added = {0}, listed = {0};
    ops(e)->add_schedule(e->store->self, &rec, TEMPO_CONFLICT_ERROR, NULL, NULL); /* NULL callback: fine */
    ops(e)->update_schedule(e->store->self, &rec, on_status, &added);
    tempo_vloop_run(e->vloop);
    assert_int_equal(added.calls, 0);
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    assert_int_equal(added.calls, 0);
    tempo_vloop_run(e->vloop);
    assert_int_equal(added.calls, 1);
    assert_int_equal(added.status, TEMPO_ESTATE);
    ops(e)->get_schedules(e->store->self, NULL, 0, on_schedules, &listed);
    tempo_vloop_run(e->vloop);
    assert_int_equal(listed.status, TEMPO_OK);
    assert_int_equal(listed.seq, 0); /* nothing was added before start */
    stop_now(e);
}

/* Never started: destroy drops what is held; no callback runs. */
static void test_destroy_unstarted(void **state)
{
    env_t *e = *state;
    counter_t a = {0}, b = {0};
    ops(e)->cleanup(e->store->self, T0, on_status, &a);
    ops(e)->stop(e->store->self, on_status, &b);
    tempo_store_free(e->store);
    e->store = NULL;
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.calls + b.calls, 0);
}

/* A second stop is refused (after the calls in flight, before the first
 * stop's answer); a call after stop is never answered (destroy drops it). */
static void test_stop_twice_and_after(void **state)
{
    env_t *e = *state;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    counter_t first = {0}, second = {0}, during = {0}, after = {0};
    ops(e)->stop(e->store->self, on_status, &first);
    ops(e)->stop(e->store->self, on_status, &second);
    ops(e)->cleanup(e->store->self, T0, on_status, &during);
    tempo_vloop_run(e->vloop);
    assert_int_equal(first.calls, 1);
    assert_int_equal(first.status, TEMPO_OK);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.status, TEMPO_ESTATE);
    assert_int_equal(during.calls, 1);
    assert_int_equal(during.status, TEMPO_ECANCELLED);
    assert_true(second.seq < first.seq && during.seq < first.seq);
    ops(e)->cleanup(e->store->self, T0, on_status, &after);
    tempo_vloop_run(e->vloop);
    assert_int_equal(tempo__loop_pending(e->loop), 0);
    tempo_store_free(e->store);
    e->store = NULL;
    tempo_vloop_run(e->vloop);
    assert_int_equal(after.calls, 0);
}

static void free_in_cb(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    (void)err;
    env_t *e = ud;
    assert_int_equal(status, TEMPO_OK);
    tempo_store_free(e->store);
    e->store = NULL;
}

static void test_destroy_from_stop_callback(void **state)
{
    env_t *e = *state;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    tempo_schedule_record_t rec = schedule(e, "s", T0, false);
    ops(e)->add_schedule(e->store->self, &rec, TEMPO_CONFLICT_ERROR, NULL, NULL);
    ops(e)->stop(e->store->self, free_in_cb, e);
    tempo_vloop_run(e->vloop);
    assert_null(e->store); /* freed inside; ASan checks nothing touched it after */
}

/* destroy at any time drops the answers not delivered yet (store.h: what
 * tempo_scheduler_free needs): none of their callbacks runs, nothing of the
 * store is left queued on the loop, nothing leaks. */
static void test_destroy_drops_answers(void **state)
{
    env_t *e = *state;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    counter_t a = {0}, b = {0};
    tempo_schedule_record_t rec = schedule(e, "s", T0, false);
    ops(e)->add_schedule(e->store->self, &rec, TEMPO_CONFLICT_ERROR, NULL, NULL);
    ops(e)->get_schedules(e->store->self, NULL, 0, on_schedules, &a); /* holds copied records */
    ops(e)->stop(e->store->self, on_status, &b);
    tempo_store_free(e->store);
    e->store = NULL;
    assert_int_equal(tempo__loop_pending(e->loop), 0);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a.calls + b.calls, 0);
}

/* destroy from inside a callback: the callback finishes, the answers queued
 * behind it are dropped, the store is freed when it returns. */
typedef struct inside {
    env_t *e;
    counter_t self, later;
} inside_t;

static void destroy_inside(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    inside_t *in = ud;
    on_status(&in->self, status, err);
    /* a call after destroy, from the same callback: dropped too */
    in->e->store->ops->cleanup(in->e->store->self, T0, on_status, &in->later);
    tempo_store_free(in->e->store);
    in->e->store = NULL;
}

static void test_destroy_inside_callback(void **state)
{
    env_t *e = *state;
    inside_t in = {.e = e};
    counter_t queued = {0};
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    ops(e)->cleanup(e->store->self, T0, destroy_inside, &in);
    ops(e)->cleanup(e->store->self, T0, on_status, &queued);
    tempo_vloop_run(e->vloop);
    assert_null(e->store);
    assert_int_equal(in.self.calls, 1);
    assert_int_equal(queued.calls, 0);
    assert_int_equal(in.later.calls, 0);
    assert_int_equal(tempo__loop_pending(e->loop), 0);
}

/* Release writes the entries' statuses with its answer, not before. */
static void test_release_status_timing(void **state)
{
    env_t *e = *state;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    tempo_schedule_release_t rel = {.id = "nope", .fence = 1, .next_fire_time = T0,
                                    .last_fire_time = T0, .status = (tempo_status_t)99};
    counter_t c = {0};
    ops(e)->release_schedules(e->store->self, "w", &rel, 1, on_status, &c);
    assert_int_equal(rel.status, 99);
    tempo_vloop_run(e->vloop);
    assert_int_equal(c.status, TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_ELEASE);
    stop_now(e);
}

/* ---- white box ---- */

static void run_ok(env_t *e, counter_t *c)
{
    tempo_vloop_run(e->vloop);
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->status, TEMPO_OK);
    *c = (counter_t){0};
}

static void test_schedule_indexes(void **state)
{
    env_t *e = *state;
    mem_store_t *st = e->store->self;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    counter_t c = {0};
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "s%d", i);
        tempo_time_t next = i < 2 ? TEMPO_TIME_NONE : T0 + i;
        tempo_schedule_record_t rec = schedule(e, id, next, i >= 2 && i < 5);
        ops(e)->add_schedule(st, &rec, TEMPO_CONFLICT_ERROR, NULL, NULL);
    }
    tempo_vloop_run(e->vloop);
    assert_int_equal(st->schedules.count, 10);
    assert_int_equal(st->finished.count, 2); /* s0 s1 */
    assert_int_equal(st->due.count, 5);      /* s5..s9; s2..s4 are paused: nowhere */
    assert_int_equal(st->leased.count, 0);
    assert_int_equal(((mem_schedule_t *)tempo__heap_top(&st->due)->item)->next_fire_time, T0 + 5);
    /* Every schedule shares one interned task id. */
    assert_int_equal(st->tasks.count, 1);
    assert_int_equal(((mem_task_t *)tempo__hmap_get(&st->tasks, "t"))->refs, 10);
    ops(e)->acquire_schedules(st, "w", T0 + 100, TEMPO_SECONDS(30), 2, on_schedules, &c);
    tempo_vloop_run(e->vloop);
    assert_int_equal(c.seq, 2);
    assert_int_equal(st->due.count, 3);
    assert_int_equal(st->leased.count, 2);
    assert_int_equal(tempo__heap_top(&st->leased)->key, T0 + 100 + TEMPO_SECONDS(30));
    assert_int_equal(st->owners.count, 1);
    assert_int_equal(((mem_name_t *)tempo__hmap_get(&st->owners, "w"))->refs, 2);
    /* Expired and due: back to the due heap at the next acquisition, still
     * showing the old lease until taken. */
    c = (counter_t){0};
    ops(e)->acquire_schedules(st, "w2", T0 + 100 + TEMPO_SECONDS(30), TEMPO_SECONDS(30), 0, on_schedules, &c);
    tempo_vloop_run(e->vloop);
    assert_int_equal(st->due.count, 5);
    assert_int_equal(st->leased.count, 0);
    assert_int_equal(((mem_name_t *)tempo__hmap_get(&st->owners, "w"))->refs, 2);
    assert_int_equal(c.calls, 1);
    c = (counter_t){0};
    /* Finished ones with no job: cleanup empties the bag. */
    ops(e)->cleanup(st, T0, on_status, &c);
    run_ok(e, &c);
    assert_int_equal(st->finished.count, 0);
    assert_int_equal(st->schedules.count, 8);
    ops(e)->remove_schedules(st, (const char *const[]){"s5", "s6", "s7", "s8", "s9", "s2", "s3", "s4"}, 8,
                             on_status, &c);
    run_ok(e, &c);
    assert_int_equal(st->tasks.count, 0); /* the last reference went */
    assert_int_equal(st->owners.count, 0);
    assert_int_equal(st->due.count, 0);
    stop_now(e);
}

static void test_job_indexes(void **state)
{
    env_t *e = *state;
    mem_store_t *st = e->store->self;
    assert_int_equal(ops(e)->start(e->store->self, e->loop, NULL), TEMPO_OK);
    counter_t c = {0};
    char id[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "j%d", i);
        tempo_job_record_t j = {.id = id, .task_id = i < 4 ? "a" : "b", .schedule_id = "s",
                                .scheduled_fire_time = T0 + i, .created_at = T0};
        ops(e)->add_job(st, &j, on_status, &c);
        run_ok(e, &c);
    }
    mem_task_t *a = tempo__hmap_get(&st->tasks, "a"), *b = tempo__hmap_get(&st->tasks, "b");
    assert_int_equal(a->queue.count, 4);
    assert_int_equal(b->queue.count, 2);
    assert_int_equal(st->task_tops.count, 2);
    assert_int_equal(((mem_name_t *)tempo__hmap_get(&st->schedule_refs, "s"))->refs, 6);
    tempo_task_record_t tasks[1] = {{.id = "a", .max_running_jobs = 3}};
    ops(e)->acquire_jobs(st, "w", T0 + 10, TEMPO_SECONDS(10), 10, tasks, 1, NULL, NULL);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a->running, 3);
    assert_int_equal(a->queue.count, 1);
    assert_int_equal(st->job_leases.count, 3);
    assert_int_equal(tempo__heap_top(&st->task_tops)->key, T0 + 3); /* j3 */
    /* Leases expire: slots back, the jobs on the lapsed list — not back in
     * the queue (they wait to be reaped, or for their owner). */
    ops(e)->reap_abandoned(st, T0 + TEMPO_SECONDS(5), NULL, NULL);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a->running, 3);
    ops(e)->acquire_jobs(st, "w2", T0 + TEMPO_SECONDS(10) + 10, TEMPO_SECONDS(10), 0, tasks, 1, NULL, NULL);
    tempo_vloop_run(e->vloop);
    assert_int_equal(a->running, 0);
    assert_int_equal(a->queue.count, 1);
    assert_int_equal(st->lapsed_count, 3);
    assert_int_equal(st->job_leases.count, 0);
    assert_int_equal(tempo__heap_top(&st->task_tops)->key, T0 + 3);
    /* Extending one revives it; reaping takes the other two. */
    ops(e)->extend_leases(st, "w", NULL, 0, (const char *const[]){"j1"}, 1, T0 + TEMPO_SECONDS(60), on_status,
                          &c);
    run_ok(e, &c);
    assert_int_equal(a->running, 1);
    assert_int_equal(st->lapsed_count, 2);
    ops(e)->reap_abandoned(st, T0 + TEMPO_SECONDS(30), NULL, NULL);
    tempo_vloop_run(e->vloop);
    assert_int_equal(st->lapsed_count, 0);
    assert_int_equal(st->jobs.count, 4);
    assert_int_equal(a->jobs, 2);
    assert_int_equal(((mem_name_t *)tempo__hmap_get(&st->schedule_refs, "s"))->refs, 4);
    stop_now(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_and_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_unstarted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_twice_and_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_from_stop_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_drops_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_status_timing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schedule_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_indexes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
