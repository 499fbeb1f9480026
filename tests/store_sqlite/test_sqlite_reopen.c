/* The SQLite store keeps everything across a restart (issue 5).
 *
 * A file with every kind of record in every state — tasks, schedules with
 * each field set, held and free, paused and finished, a cron trigger in a
 * zone; queued and running jobs with arguments; a kept result; a
 * quarantined record — reads back the same after: an orderly stop (which
 * checkpoints the WAL into the file), a destroy without stop, and a process
 * killed (SIGKILL) while it has the file open. Leases
 * survive too: the holder can still release, nobody else can take over
 * before expiry. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sqlite_test.h"
#include "store/records.h"

/* ---- the observable state, as text ---- */

typedef struct text {
    char *buf;
    size_t len, cap;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
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
    char *json = doc && !bson_empty(doc) ? bson_as_canonical_extended_json(doc, NULL) : NULL;
    put(t, " %s", json ? json : "{}");
    bson_free(json);
}

static void put_lease(text_t *t, const tempo_lease_t *l)
{
    put(t, " lease=%s/%lld/%lld", l->owner ? l->owner : "-", (long long)l->until, (long long)l->fence);
}

static void put_trigger(text_t *t, const tempo_trigger_t *trigger)
{
    char desc[160];
    tempo_trigger_describe(trigger, desc, sizeof desc);
    put(t, " trigger=%s '%s'", tempo_trigger_type_name(trigger), desc);
    tempo_time_t at = SH_T0;
    for (int i = 0; i < 4; i++)
        put(t, " %lld", (long long)(at = tempo_trigger_next(trigger, at)));
}

static const char *result_ids[] = {"j-done", "j-queued", "nope"};

static char *state_text(store_h_t *h)
{
    text_t t = {0};
    sh_result_t r;
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++) {
        const tempo_schedule_record_t *s = &r.schedules[i];
        put(&t, "S %s %s next=%lld last=%lld p=%d c=%d g=%lld j=%lld/%d x=%lld", s->id, s->task_id,
            (long long)s->next_fire_time, (long long)s->last_fire_time, s->paused, (int)s->coalesce,
            (long long)s->misfire_grace_time, (long long)s->max_jitter, s->jitter_deterministic,
            (long long)s->job_result_expiration);
        put_trigger(&t, s->trigger);
        put_doc(&t, s->args);
        put_doc(&t, s->metadata);
        put_lease(&t, &s->lease);
        put(&t, "\n");
    }
    sh_result_free(&r);
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++) {
        const tempo_job_record_t *j = &r.jobs[i];
        put(&t, "J %s %s %s at=%lld orig=%lld dl=%lld c=%lld x=%lld", j->id, j->task_id,
            j->schedule_id ? j->schedule_id : "-", (long long)j->scheduled_fire_time,
            (long long)j->original_fire_time, (long long)j->start_deadline, (long long)j->created_at,
            (long long)j->result_expiration);
        put_doc(&t, j->args);
        put_lease(&t, &j->lease);
        put(&t, "\n");
    }
    sh_result_free(&r);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    for (size_t i = 0; i < r.count; i++) {
        put(&t, "T %s e=%d m=%d g=%lld", r.tasks[i].id, (int)r.tasks[i].executor, r.tasks[i].max_running_jobs,
            (long long)r.tasks[i].misfire_grace_time);
        put_doc(&t, r.tasks[i].metadata);
        put(&t, "\n");
    }
    sh_result_free(&r);
    for (size_t i = 0; i < sizeof result_ids / sizeof *result_ids; i++) {
        if (sh_get_job_result(h, result_ids[i], &r) == TEMPO_OK) {
            const tempo_job_result_t *x = &r.result;
            put(&t, "R %s %s %s o=%d at=%lld s=%lld f=%lld e=%lld %s", x->job_id, x->task_id,
                x->schedule_id ? x->schedule_id : "-", (int)x->outcome, (long long)x->scheduled_fire_time,
                (long long)x->started_at, (long long)x->finished_at, (long long)x->expires_at,
                x->error ? x->error : "-");
            put_doc(&t, x->return_value);
            put(&t, "\n");
        }
        sh_result_free(&r);
    }
    put(&t, "N %lld %lld\n", (long long)sh_next_schedule_time(h), (long long)sh_next_job_time(h));
    put(&t, "Q %lld\n", (long long)sqt_int(sqt.path, "SELECT count(*) FROM quarantine"));
    return t.buf;
}

/* ---- every kind of record in every state ---- */

static void populate(store_h_t *h)
{
    bson_t meta, args, value;
    sh_doc(&meta, "team", 4);
    sh_doc(&args, "n", 42);
    sh_doc(&value, "rows", 7);
    tempo_task_record_t a = sh_task("task-a", 3), b = sh_task("task-b", 0);
    a.executor = TEMPO_EXECUTOR_THREAD;
    a.misfire_grace_time = SH_SEC(15);
    a.metadata = &meta;
    assert_int_equal(sh_add_task(h, &a), TEMPO_OK);
    assert_int_equal(sh_add_task(h, &b), TEMPO_OK);

    tempo_cron_options_t co = TEMPO_CRON_OPTIONS_INIT;
    co.zone = "America/New_York";
    tempo_trigger_t *cron = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_cron_new("30 9 * * mon-fri", &co, &cron, &err), TEMPO_OK);
    tempo_schedule_record_t full = sh_schedule(h, "full", SH_T0 - SH_SEC(5));
    full.task_id = "task-a";
    full.trigger = cron;
    full.args = &args;
    full.metadata = &meta;
    full.coalesce = TEMPO_COALESCE_ALL;
    full.misfire_grace_time = SH_SEC(30);
    full.max_jitter = SH_SEC(2);
    full.jitter_deterministic = true;
    full.job_result_expiration = SH_SEC(3600);
    full.last_fire_time = SH_T0 - SH_SEC(86400);
    assert_int_equal(sh_add_schedule(h, &full, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    tempo_trigger_free(cron);
    tempo_schedule_record_t s = sh_schedule(h, "free", SH_T0 + SH_SEC(60));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    s = sh_schedule(h, "paused", SH_T0 - SH_SEC(60));
    s.paused = true;
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    s = sh_schedule(h, "once", SH_T0 - SH_SEC(1));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    s = sh_schedule(h, "bad", SH_T0 + SH_SEC(1));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);

    /* "full" and "once" held by w1; "once" released finished, with a job. */
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(300), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    sh_result_free(&r);
    tempo_job_record_t from_once = sh_job("j-once", "task-b", "once", SH_T0 - SH_SEC(1), SH_T0);
    tempo_schedule_release_t rel = {.id = "once", .fence = 1, .next_fire_time = TEMPO_TIME_NONE,
                                    .last_fire_time = SH_T0 - SH_SEC(1), .jobs = &from_once, .job_count = 1};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);

    tempo_job_record_t j = sh_job("j-queued", "task-a", "full", SH_T0 + SH_SEC(30), SH_T0);
    j.args = &args;
    j.original_fire_time = SH_T0 + SH_SEC(29);
    j.start_deadline = SH_T0 + SH_SEC(90);
    j.result_expiration = SH_SEC(60);
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    j = sh_job("j-done", "task-b", NULL, SH_T0 - SH_SEC(2), SH_T0 - SH_SEC(3));
    j.result_expiration = SH_SEC(600);
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    j = sh_job("j-running", "task-b", NULL, SH_T0 - SH_SEC(1), SH_T0 - SH_SEC(3));
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    assert_int_equal(sh_acquire_jobs(h, "w2", SH_T0, SH_SEC(120), 10, &b, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 3); /* j-done j-running j-once */
    sh_result_free(&r);
    tempo_job_result_t res = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(1));
    res.return_value = &value;
    assert_int_equal(sh_release_job(h, "w2", "j-done", 1, &res), TEMPO_OK);
    /* A record set aside, kept in the file. */
    assert_true(sqt_exec(sqt.path, "UPDATE schedules SET trigger_doc = x'00' WHERE id = 'bad'"));
    assert_int_equal(sh_get_schedules(h, (const char *[]){"bad"}, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    bson_destroy(&meta);
    bson_destroy(&args);
    bson_destroy(&value);
}

/* After a restart the leases still hold: nobody else takes a record over
 * before its expiry, and the holder can release with its fence. */
static void check_leases(store_h_t *h)
{
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w9", SH_T0 + SH_SEC(299), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1); /* "free" is due; "full" is still w1's */
    assert_string_equal(r.schedules[0].id, "free");
    sh_result_free(&r);
    tempo_schedule_release_t rel = {.id = "full", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(86400),
                                    .last_fire_time = SH_T0};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(2));
    assert_int_equal(sh_release_job(h, "w2", "j-running", 1, &ok), TEMPO_OK);
}

static void expect_same(const char *before, const char *after)
{
    if (strcmp(before, after) != 0)
        fail_msg("the state changed across the restart:\n--- before\n%s--- after\n%s", before, after);
}

static void test_stop_and_reopen(void **state)
{
    store_h_t *h = *state;
    populate(h);
    char *before = state_text(h);
    sqt_close(h);
    /* An orderly stop checkpointed the WAL and removed it (the last
     * connection to close does). */
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", sqt.path);
    assert_false(access(wal, F_OK) == 0);
    sqt_open(h);
    char *after = state_text(h);
    expect_same(before, after);
    check_leases(h);
    free(before);
    free(after);
}

/* destroy without stop (what tempo_scheduler_free does): no checkpoint
 * on the loop thread, nothing lost either. */
static void test_destroy_and_reopen(void **state)
{
    store_h_t *h = *state;
    populate(h);
    char *before = state_text(h);
    tempo_store_free(h->store);
    sqt_open(h);
    char *after = state_text(h);
    expect_same(before, after);
    check_leases(h);
    free(before);
    free(after);
}

/* A process killed holding the file open: every committed change is
 * there, its leases included. The child does not use cmocka (its asserts
 * would jump into the parent's copy of the test runner). */
static int child_writes_and_dies(void)
{
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_error_t err;
    if (tempo_vloop_new(SH_T0, &vloop, &loop, &err) != TEMPO_OK || !(store = sqt_make(NULL)) ||
        store->ops->start(store->self, loop, &err) != TEMPO_OK)
        return 10;
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = SH_SEC(60);
    o.start = SH_T0;
    tempo_trigger_t *trigger;
    if (tempo_trigger_interval_new(&o, &trigger, &err) != TEMPO_OK)
        return 11;
    tempo_schedule_record_t s = {.id = "crash", .task_id = "task-a", .trigger = trigger,
                                 .misfire_grace_time = TEMPO_DURATION_NONE, .next_fire_time = SH_T0,
                                 .last_fire_time = TEMPO_TIME_NONE};
    sqt_wait_t w = {0};
    store->ops->update_schedule(store->self, &s, sqt_wait_status_cb, &w);
    if (!sqt_wait(vloop, &w) || w.status != TEMPO_OK)
        return 12;
    memset(&w, 0, sizeof w);
    store->ops->acquire_schedules(store->self, "child", SH_T0, SH_SEC(60), 10, sqt_wait_schedules_cb, &w);
    if (!sqt_wait(vloop, &w) || w.status != TEMPO_OK || w.count != 1)
        return 13;
    raise(SIGKILL); /* no stop, no destroy, no close: killed */
    return 14;
}

static void test_process_dies(void **state)
{
    store_h_t *h = *state;
    tempo_schedule_record_t s = sh_schedule(h, "crash", SH_T0 + SH_SEC(999));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    sqt_close(h); /* no connection, no thread of ours across fork() */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_writes_and_dies());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("the child did not get as far as being killed (exit status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    sqt_open(h);
    sh_result_t r;
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "crash", &got));
    assert_int_equal(got.next_fire_time, SH_T0);
    assert_string_equal(got.lease.owner, "child");
    assert_int_equal(got.lease.until, SH_T0 + SH_SEC(60));
    assert_int_equal(got.lease.fence, 1);
    tempo__schedule_record_clear(&got);
    /* The dead child's lease expires; then the schedule is ours. */
    assert_int_equal(sh_acquire_schedules(h, "parent", SH_T0 + SH_SEC(59), SH_SEC(60), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "parent", SH_T0 + SH_SEC(60), SH_SEC(60), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.schedules[0].lease.fence, 2);
    sh_result_free(&r);
}

static int setup(void **state)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "reopen-%d.db", ++n);
    sqt_use(name);
    return sh_setup(state);
}

int main(void)
{
    sqt_init("sqlite-reopen");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_and_reopen, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_and_reopen, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_process_dies, setup, sh_teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite store: reopen", tests, NULL, NULL);
    sqt_fini();
    return failed;
}
