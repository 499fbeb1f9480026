/* Out of memory in the memory store: "a failed call changes nothing".
 *
 * malloc, calloc and realloc are wrapped (-Wl,--wrap) so that the Nth
 * allocation after arming fails. For each operation, from a prepared state,
 * N = 1, 2, ... is tried until the call succeeds: every attempt that fails
 * must answer TEMPO_ENOMEM exactly once, later, and leave the store exactly
 * as it was (compared through the ops table: every schedule, job, task,
 * result and next time). N = 1 is the operation's own record, so the
 * emergency answer path is exercised too. libbson's own allocations are not
 * wrapped (it aborts on failure anyway). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/memory_internal.h"
#include "store/records.h"
#include "store_harness.h"

/* ---- the failing allocator ---- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static long fault_at; /* 0: off; else the allocation that fails, counting down */
static bool fault_all; /* every allocation fails */

static long alloc_count; /* allocations asked for, since the last reset */

static bool fail_now(void)
{
    alloc_count++;
    return fault_all || (fault_at > 0 && --fault_at == 0);
}

void *__wrap_malloc(size_t size)
{
    return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return fail_now() ? NULL : __real_realloc(p, size);
}

/* ---- the store's observable state, as text ---- */

typedef struct text {
    char *buf;
    size_t len, cap;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
}

static void put_doc(text_t *t, const bson_t *doc)
{
    if (!doc || bson_empty(doc)) {
        put(t, " {}");
        return;
    }
    char *json = bson_as_canonical_extended_json(doc, NULL);
    put(t, " %s", json);
    bson_free(json);
}

static void put_lease(text_t *t, const tempo_lease_t *l)
{
    put(t, " lease=%s/%lld/%lld", l->owner ? l->owner : "-", (long long)l->until, (long long)l->fence);
}

static const char *result_ids[] = {"j-keep", "j0", "j1", "j2"};

static char *state_text(store_h_t *h)
{
    text_t t = {0};
    sh_result_t r;
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++) {
        const tempo_schedule_record_t *s = &r.schedules[i];
        put(&t, "S %s %s next=%lld last=%lld p=%d c=%d x=%lld", s->id, s->task_id,
            (long long)s->next_fire_time, (long long)s->last_fire_time, s->paused, (int)s->coalesce,
            (long long)s->job_result_expiration);
        put_doc(&t, s->args);
        put_doc(&t, s->metadata);
        put_lease(&t, &s->lease);
        put(&t, "\n");
    }
    sh_result_free(&r);
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++) {
        const tempo_job_record_t *j = &r.jobs[i];
        put(&t, "J %s %s %s at=%lld c=%lld x=%lld", j->id, j->task_id, j->schedule_id ? j->schedule_id : "-",
            (long long)j->scheduled_fire_time, (long long)j->created_at, (long long)j->result_expiration);
        put_doc(&t, j->args);
        put_lease(&t, &j->lease);
        put(&t, "\n");
    }
    sh_result_free(&r);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++)
        put(&t, "T %s %d\n", r.tasks[i].id, r.tasks[i].max_running_jobs);
    sh_result_free(&r);
    for (size_t i = 0; i < sizeof result_ids / sizeof *result_ids; i++) {
        if (sh_get_job_result(h, result_ids[i], &r) == TEMPO_OK)
            put(&t, "R %s %d %lld %s\n", r.result.job_id, (int)r.result.outcome,
                (long long)r.result.expires_at, r.result.error ? r.result.error : "-");
        sh_result_free(&r);
    }
    put(&t, "N %lld %lld\n", (long long)sh_next_schedule_time(h), (long long)sh_next_job_time(h));
    return t.buf;
}

/* ---- the state every scenario starts from ---- */

#define NOW (SH_T0 + SH_SEC(100))

static void prepare(store_h_t *h)
{
    bson_t args;
    sh_doc(&args, "a", 1);
    char id[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "s%d", i);
        tempo_schedule_record_t s = sh_schedule(h, id, SH_T0 + i);
        s.args = i % 2 ? &args : NULL;
        s.paused = i == 5;
        assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + 10, SH_SEC(10), 2, &r), TEMPO_OK);
    assert_int_equal(r.count, 2); /* s0 s1 */
    sh_result_free(&r);
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "j%d", i);
        tempo_job_record_t j = sh_job(id, i < 4 ? "task-a" : "task-b", "s0", SH_T0 + i, SH_T0);
        j.args = i == 2 ? &args : NULL;
        j.result_expiration = SH_SEC(600);
        assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    }
    tempo_task_record_t tasks[2] = {sh_task("task-a", 0), sh_task("task-b", 0)};
    assert_int_equal(sh_add_task(h, &tasks[0]), TEMPO_OK);
    /* j0 j1 leased briefly (they lapse by NOW), j2 j3 for long. */
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0 + 10, SH_SEC(10), 2, tasks, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_jobs(h, "w2", SH_T0 + 10, SH_SEC(1000), 2, tasks, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.jobs[1].id, "j3");
    sh_result_free(&r);
    tempo_job_record_t keep = sh_job("j-keep", "task-b", NULL, SH_T0, SH_T0);
    keep.result_expiration = SH_SEC(1000);
    assert_int_equal(sh_add_job(h, &keep), TEMPO_OK);
    assert_int_equal(sh_acquire_jobs(h, "w3", SH_T0, SH_SEC(1000), 1, &tasks[1], 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "j-keep");
    sh_result_free(&r);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + 5);
    assert_int_equal(sh_release_job(h, "w3", "j-keep", 1, &ok), TEMPO_OK);
    /* Let every expiry up to NOW be seen, so that a failed call cannot be
     * told apart by bookkeeping catching up with the clock. */
    assert_int_equal(sh_acquire_schedules(h, "w9", NOW, SH_SEC(1), 0, NULL), TEMPO_OK);
    assert_int_equal(sh_acquire_jobs(h, "w9", NOW, SH_SEC(1), 0, tasks, 2, NULL), TEMPO_OK);
    bson_destroy(&args);
}

/* ---- one operation under failing allocations ---- */

typedef tempo_status_t (*scenario_fn)(store_h_t *h, sh_result_t *r);

/* Start the call with allocation `n` set to fail, stop failing, then let
 * the answer arrive. */
static char last_message[TEMPO_ERROR_MESSAGE_MAX];

static long last_allocs; /* allocations the last attempt's call asked for */

static tempo_status_t attempt(store_h_t *h, scenario_fn fn, long n)
{
    sh_result_t r = {0};
    fault_at = n;
    alloc_count = 0;
    sh_in_call = true;
    fn(h, &r);
    sh_in_call = false;
    fault_at = 0;
    last_allocs = alloc_count;
    assert_int_equal(r.calls, 0);
    tempo_vloop_run(h->vloop);
    assert_int_equal(r.calls, 1);
    if (r.status == TEMPO_ENOMEM)
        assert_non_null(strstr(r.message, "store 'memory': "));
    tempo_status_t status = r.status;
    snprintf(last_message, sizeof last_message, "%s", r.message);
    sh_result_free(&r);
    return status;
}

static void run_scenario(store_h_t *h, const char *name, scenario_fn fn, tempo_status_t expected)
{
    prepare(h);
    char *before = state_text(h);
    long failures = 0, n;
    for (n = 1; n < 500; n++) {
        tempo_status_t status = attempt(h, fn, n);
        if (status != TEMPO_ENOMEM) {
            if (status != expected)
                fail_msg("%s: allocation %ld failing: status %d, expected %d (%s)", name, n, status, expected,
                         last_message);
            break;
        }
        failures++;
        char *after = state_text(h);
        if (strcmp(before, after) != 0)
            fail_msg("%s: allocation %ld failing changed the store:\n--- before\n%s--- after\n%s", name, n,
                     before, after);
        free(after);
    }
    assert_true(n < 500);
    if (failures == 0) {
        /* Only an operation that allocated nothing at all may never fail:
         * it was answered from a spare operation (MEM_SPARE_OPS). */
        if (last_allocs != 0)
            fail_msg("%s: %ld allocations, none of them made to fail", name, last_allocs);
        printf("  %-18s no allocation (a spare operation): cannot run out of memory\n", name);
    } else {
        printf("  %-18s %ld failing allocations, each answered ENOMEM and changed nothing\n", name, failures);
    }
    free(before);
}

/* ---- the operations ---- */

static bson_t big_args; /* larger than a bson_t's inline buffer */

static tempo_status_t op_add_schedule(store_h_t *h, sh_result_t *r)
{
    tempo_schedule_record_t s = sh_schedule(h, "s-new", SH_T0);
    s.task_id = "task-new";
    s.args = &big_args;
    s.metadata = &big_args;
    h->store->ops->add_schedule(h->store->self, &s, TEMPO_CONFLICT_ERROR, sh_add_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_replace_schedule(store_h_t *h, sh_result_t *r)
{
    tempo_schedule_record_t s = sh_schedule(h, "s0", SH_T0 + 77);
    s.task_id = "task-new";
    s.args = &big_args;
    h->store->ops->add_schedule(h->store->self, &s, TEMPO_CONFLICT_REPLACE, sh_add_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_update_schedule(store_h_t *h, sh_result_t *r)
{
    tempo_schedule_record_t s = sh_schedule(h, "s1", TEMPO_TIME_NONE);
    s.task_id = "task-other";
    s.metadata = &big_args;
    h->store->ops->update_schedule(h->store->self, &s, sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_get_schedules(store_h_t *h, sh_result_t *r)
{
    h->store->ops->get_schedules(h->store->self, NULL, 0, sh_schedules_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_acquire_schedules(store_h_t *h, sh_result_t *r)
{
    h->store->ops->acquire_schedules(h->store->self, "w-new", NOW, SH_SEC(30), 10, sh_schedules_cb, r);
    return TEMPO_OK;
}

static tempo_job_record_t release_jobs[3];
static tempo_schedule_release_t releases[2];

static tempo_status_t op_release_schedules(store_h_t *h, sh_result_t *r)
{
    release_jobs[0] = sh_job("jr1", "task-new", "s0", SH_T0, NOW);
    release_jobs[0].args = &big_args;
    release_jobs[1] = sh_job("jr2", "task-a", "s-gone", SH_T0, NOW);
    release_jobs[2] = sh_job("j0", "task-a", "s0", SH_T0, NOW); /* exists: skipped */
    releases[0] = (tempo_schedule_release_t){.id = "s0", .fence = 1, .next_fire_time = TEMPO_TIME_NONE,
                                             .last_fire_time = SH_T0, .jobs = release_jobs, .job_count = 3};
    releases[1] = (tempo_schedule_release_t){.id = "s1", .fence = 1, .next_fire_time = NOW + SH_SEC(60),
                                             .last_fire_time = SH_T0};
    h->store->ops->release_schedules(h->store->self, "w1", releases, 2, sh_status_cb, r);
    return TEMPO_OK;
}

/* step_schedules' planner: one new job, taken, for the one schedule due. */
static tempo_job_take_t step_take;

static bool step_plan(void *ud, const tempo_schedule_record_t *rec, tempo_schedule_release_t **out)
{
    (void)ud;
    release_jobs[0] = sh_job("js1", "task-new", "s2", SH_T0, NOW);
    release_jobs[0].args = &big_args;
    step_take = (tempo_job_take_t){.until = NOW + SH_SEC(30)};
    releases[0] = (tempo_schedule_release_t){.id = rec->id, .next_fire_time = NOW + SH_SEC(60),
                                             .last_fire_time = rec->next_fire_time, .jobs = release_jobs,
                                             .job_count = 1, .take = &step_take};
    *out = &releases[0];
    return true;
}

static tempo_status_t op_step_schedules(store_h_t *h, sh_result_t *r)
{
    h->store->ops->step_schedules(h->store->self, "w1", NOW, 1, step_plan, NULL, sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_add_job(store_h_t *h, sh_result_t *r)
{
    tempo_job_record_t j = sh_job("j-new", "task-new", "s-new", SH_T0, NOW);
    j.args = &big_args;
    h->store->ops->add_job(h->store->self, &j, sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_get_jobs(store_h_t *h, sh_result_t *r)
{
    h->store->ops->get_jobs(h->store->self, NULL, 0, sh_jobs_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_acquire_jobs(store_h_t *h, sh_result_t *r)
{
    tempo_task_record_t tasks[2] = {sh_task("task-b", 1), sh_task("task-a", 0)};
    h->store->ops->acquire_jobs(h->store->self, "w-new", NOW, SH_SEC(30), 10, tasks, 2, sh_jobs_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_release_job(store_h_t *h, sh_result_t *r)
{
    static tempo_job_result_t res;
    res = sh_outcome(TEMPO_OUTCOME_ERROR, NOW);
    res.return_value = &big_args;
    res.error = "it broke";
    h->store->ops->release_job(h->store->self, "w2", "j2", 1, &res, sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_reap(store_h_t *h, sh_result_t *r)
{
    h->store->ops->reap_abandoned(h->store->self, NOW, sh_jobs_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_extend(store_h_t *h, sh_result_t *r)
{
    /* s0 s1 and j0 j1 lapsed (w1); j2 j3 running (w2): revive and extend. */
    static const char *const sids[] = {"s0", "s1"};
    static const char *const jids[] = {"j0", "j1"};
    h->store->ops->extend_leases(h->store->self, "w1", sids, 2, jids, 2, NOW + SH_SEC(60), sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_tasks(store_h_t *h, sh_result_t *r)
{
    static tempo_task_record_t task;
    task = sh_task("task-a", 5);
    task.metadata = &big_args;
    h->store->ops->add_task(h->store->self, &task, sh_status_cb, r);
    return TEMPO_OK;
}

static tempo_status_t op_next_time(store_h_t *h, sh_result_t *r)
{
    h->store->ops->next_job_time(h->store->self, sh_time_cb, r);
    return TEMPO_OK;
}

static void test_out_of_memory(void **state)
{
    store_h_t *h = *state;
    bson_init(&big_args);
    for (int i = 0; i < 40; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        BSON_APPEND_INT32(&big_args, key, i);
    }
    static const struct {
        const char *name;
        scenario_fn fn;
    } scenarios[] = {
        {"add_schedule", op_add_schedule},     {"replace_schedule", op_replace_schedule},
        {"update_schedule", op_update_schedule}, {"get_schedules", op_get_schedules},
        {"acquire_schedules", op_acquire_schedules}, {"release_schedules", op_release_schedules},
        {"add_job", op_add_job},               {"get_jobs", op_get_jobs},
        {"acquire_jobs", op_acquire_jobs},     {"release_job", op_release_job},
        {"reap_abandoned", op_reap},           {"extend_leases", op_extend},
        {"add_task", op_tasks},                {"next_job_time", op_next_time},
        {"step_schedules", op_step_schedules},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) {
        /* A fresh store for each. */
        sh_teardown(state);
        sh_setup(state);
        h = *state;
        run_scenario(h, scenarios[i].name, scenarios[i].fn, TEMPO_OK);
    }
    bson_destroy(&big_args);
}

/* With no memory at all, the first MEM_EMERGENCY_OPS calls are answered
 * later from the store's emergency slots; the next one, with nowhere to
 * keep its answer, is answered at once — the documented last resort. Once
 * the slots' answers are delivered, they serve again. */
typedef struct counted {
    int calls;
    tempo_status_t status;
    bool inside;
} counted_t;

static void counted_cb(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    counted_t *c = ud;
    c->calls++;
    c->status = status;
    c->inside = sh_in_call;
    assert_non_null(err);
}

static void test_emergency_slots(void **state)
{
    store_h_t *h = *state;
    counted_t c[MEM_EMERGENCY_OPS + 2];
    memset(c, 0, sizeof c);
    fault_all = true;
    sh_in_call = true;
    for (int i = 0; i < MEM_EMERGENCY_OPS + 1; i++)
        h->store->ops->cleanup(h->store->self, SH_T0, counted_cb, &c[i]);
    sh_in_call = false;
    fault_all = false;
    for (int i = 0; i < MEM_EMERGENCY_OPS; i++)
        assert_int_equal(c[i].calls, 0);
    assert_int_equal(c[MEM_EMERGENCY_OPS].calls, 1);
    assert_int_equal(c[MEM_EMERGENCY_OPS].status, TEMPO_ENOMEM);
    assert_true(c[MEM_EMERGENCY_OPS].inside);
    tempo_vloop_run(h->vloop);
    for (int i = 0; i < MEM_EMERGENCY_OPS + 1; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].status, TEMPO_ENOMEM);
    }
    assert_false(c[0].inside);
    /* The slots are free again. */
    fault_all = true;
    sh_in_call = true;
    h->store->ops->cleanup(h->store->self, SH_T0, counted_cb, &c[MEM_EMERGENCY_OPS + 1]);
    sh_in_call = false;
    fault_all = false;
    assert_int_equal(c[MEM_EMERGENCY_OPS + 1].calls, 0);
    tempo_vloop_run(h->vloop);
    assert_int_equal(c[MEM_EMERGENCY_OPS + 1].calls, 1);
    assert_false(c[MEM_EMERGENCY_OPS + 1].inside);
}

static tempo_store_t *make(void *ctx)
{
    (void)ctx;
    tempo_store_t *store = NULL;
    return tempo_memory_store_new(&store, NULL) == TEMPO_OK ? store : NULL;
}

int main(void)
{
    static const tempo_store_factory_t factory = {.name = "memory", .make = make};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_out_of_memory, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_emergency_slots, sh_setup, sh_teardown),
    };
    return cmocka_run_group_tests_name("memory store: out of memory", tests, NULL, NULL);
}
