/* Conformance cases: schedules (add, get, update, remove, acquire, release,
 * next time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/records.h"
#include "store_cases_internal.h"

#define IDS(...) ((const char *const[]){__VA_ARGS__})
#define NIDS(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void add_ok(store_h_t *h, const char *id, tempo_time_t next)
{
    tempo_schedule_record_t rec = sh_schedule(h, id, next);
    tempo_store_added_t what;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_ADDED);
}

/* The ids a result holds, joined with spaces. */
static const char *ids_of(const sh_result_t *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
                                 r->schedules ? r->schedules[i].id : r->jobs[i].id);
    return buf;
}

void sc_add_conflicts(void **state)
{
    store_h_t *h = *state;
    bson_t args1, args2;
    sh_doc(&args1, "v", 1);
    sh_doc(&args2, "v", 2);
    tempo_schedule_record_t rec = sh_schedule(h, "s1", SH_T0 + SH_SEC(60));
    rec.args = &args1;
    tempo_store_added_t what = (tempo_store_added_t)-1;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_DO_NOTHING, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_ADDED);

    /* DO_NOTHING on an existing id: KEPT, nothing changes. */
    tempo_schedule_record_t other = rec;
    other.args = &args2;
    other.next_fire_time = SH_T0 + SH_SEC(999);
    assert_int_equal(sh_add_schedule(h, &other, TEMPO_CONFLICT_DO_NOTHING, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_KEPT);
    /* ERROR: EEXIST, nothing changes. */
    assert_int_equal(sh_add_schedule(h, &other, TEMPO_CONFLICT_ERROR, &what), TEMPO_EEXIST);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "s1", &got));
    assert_int_equal(got.next_fire_time, SH_T0 + SH_SEC(60));
    assert_int_equal(sh_doc_int(got.args, "v"), 1);
    tempo__schedule_record_clear(&got);

    /* REPLACE: REPLACED, the new values. */
    assert_int_equal(sh_add_schedule(h, &other, TEMPO_CONFLICT_REPLACE, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_REPLACED);
    assert_true(sh_find_schedule(h, "s1", &got));
    assert_int_equal(got.next_fire_time, SH_T0 + SH_SEC(999));
    assert_int_equal(sh_doc_int(got.args, "v"), 2);
    tempo__schedule_record_clear(&got);

    /* A replaced schedule is not leased, and its fence keeps counting: no
     * later acquisition can hand out a fence the old holder knows. */
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + SH_SEC(999), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.schedules[0].lease.fence, 1);
    sh_result_free(&r);
    assert_int_equal(sh_add_schedule(h, &other, TEMPO_CONFLICT_REPLACE, &what), TEMPO_OK);
    assert_true(sh_find_schedule(h, "s1", &got));
    assert_null(got.lease.owner);
    tempo__schedule_record_clear(&got);
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + SH_SEC(999), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_true(r.schedules[0].lease.fence > 1);
    sh_result_free(&r);
    tempo_schedule_release_t rel = {.id = "s1", .fence = 1, .next_fire_time = SH_T0, .last_fire_time = SH_T0};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_ELEASE);
    /* A new id with REPLACE is simply added. */
    rec.id = "s2";
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_REPLACE, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_ADDED);
    bson_destroy(&args1);
    bson_destroy(&args2);
}

/* Every field goes in and comes out unchanged. */
void sc_schedule_fields(void **state)
{
    store_h_t *h = *state;
    bson_t args, meta;
    sh_doc(&args, "n", 42);
    sh_doc(&meta, "owner", 7);
    tempo_schedule_record_t rec = sh_schedule(h, "full", SH_T0 + SH_SEC(5));
    rec.task_id = "task-z";
    rec.args = &args;
    rec.metadata = &meta;
    rec.coalesce = TEMPO_COALESCE_ALL;
    rec.misfire_grace_time = SH_SEC(30);
    rec.max_jitter = SH_SEC(2);
    rec.jitter_deterministic = true;
    rec.paused = true;
    rec.job_result_expiration = SH_SEC(3600);
    rec.last_fire_time = SH_T0 - SH_SEC(55);
    rec.lease = (tempo_lease_t){"intruder", SH_T0 + SH_SEC(100), 99}; /* ignored: stores set leases */
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "full", &got));
    assert_string_equal(got.task_id, "task-z");
    assert_non_null(got.trigger);
    assert_int_equal(tempo_trigger_next(got.trigger, SH_T0), SH_T0 + SH_SEC(60));
    assert_int_equal(sh_doc_int(got.args, "n"), 42);
    assert_int_equal(sh_doc_int(got.metadata, "owner"), 7);
    assert_int_equal(got.coalesce, TEMPO_COALESCE_ALL);
    assert_int_equal(got.misfire_grace_time, SH_SEC(30));
    assert_int_equal(got.max_jitter, SH_SEC(2));
    assert_true(got.jitter_deterministic);
    assert_true(got.paused);
    assert_int_equal(got.job_result_expiration, SH_SEC(3600));
    assert_int_equal(got.next_fire_time, SH_T0 + SH_SEC(5));
    assert_int_equal(got.last_fire_time, SH_T0 - SH_SEC(55));
    assert_null(got.lease.owner);
    assert_int_equal(got.lease.fence, 0);
    tempo__schedule_record_clear(&got);
    /* Defaults: NULL args come back as NULL or an empty document. */
    add_ok(h, "bare", SH_T0);
    assert_true(sh_find_schedule(h, "bare", &got));
    assert_true(got.args == NULL || bson_empty(got.args));
    assert_int_equal(got.misfire_grace_time, TEMPO_DURATION_NONE);
    assert_int_equal(got.last_fire_time, TEMPO_TIME_NONE);
    assert_false(got.paused);
    tempo__schedule_record_clear(&got);
    bson_destroy(&args);
    bson_destroy(&meta);
}

void sc_get_order(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    sh_result_t r;
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    add_ok(h, "c", SH_T0 + 1);
    add_ok(h, "a", SH_T0 + 3);
    add_ok(h, "b", SH_T0 + 2);
    /* count 0: all, ordered by id. */
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "a b c");
    sh_result_free(&r);
    /* By ids: ordered by id, each once, missing ones skipped. */
    assert_int_equal(sh_get_schedules(h, IDS("c", "zz", "a", "c"), 4, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "a c");
    sh_result_free(&r);
    assert_int_equal(sh_get_schedules(h, IDS("nope"), 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
}

void sc_update_keeps_lease(void **state)
{
    store_h_t *h = *state;
    add_ok(h, "s", SH_T0 - SH_SEC(1));
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    bson_t args;
    sh_doc(&args, "x", 5);
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0 + SH_SEC(120));
    rec.args = &args;
    rec.paused = true;
    rec.lease = (tempo_lease_t){"w2", SH_T0 + SH_SEC(999), 7}; /* ignored */
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "s", &got));
    assert_int_equal(got.next_fire_time, SH_T0 + SH_SEC(120));
    assert_true(got.paused);
    assert_int_equal(sh_doc_int(got.args, "x"), 5);
    assert_string_equal(got.lease.owner, "w1");
    assert_int_equal(got.lease.until, SH_T0 + SH_SEC(30));
    assert_int_equal(got.lease.fence, 1);
    tempo__schedule_record_clear(&got);
    /* The holder can still release it. */
    tempo_schedule_release_t rel = {.id = "s", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(180),
                                    .last_fire_time = SH_T0};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);
    /* Missing: ENOTFOUND, nothing added. */
    rec.id = "ghost";
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_ENOTFOUND);
    assert_false(sh_has_schedule(h, "ghost"));
    bson_destroy(&args);
}

void sc_remove(void **state)
{
    store_h_t *h = *state;
    add_ok(h, "a", SH_T0);
    add_ok(h, "b", SH_T0);
    add_ok(h, "c", SH_T0);
    assert_int_equal(sh_remove_schedules(h, IDS("a", "missing", "c"), 3), TEMPO_OK);
    assert_false(sh_has_schedule(h, "a"));
    assert_true(sh_has_schedule(h, "b"));
    assert_false(sh_has_schedule(h, "c"));
    assert_int_equal(sh_remove_schedules(h, NULL, 0), TEMPO_OK);
    assert_true(sh_has_schedule(h, "b"));
    /* A removed schedule is not acquired. */
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    char buf[64];
    assert_string_equal(ids_of(&r, buf, sizeof buf), "b");
    sh_result_free(&r);
}

/* Only due, unpaused, unfinished, unleased schedules, earliest first, ties by
 * id, up to the limit; each leased to the caller with fence + 1. */
void sc_acquire_due(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    add_ok(h, "late", SH_T0 - SH_SEC(5));
    add_ok(h, "early", SH_T0 - SH_SEC(10));
    add_ok(h, "now", SH_T0);
    add_ok(h, "tie-b", SH_T0 - SH_SEC(7));
    add_ok(h, "tie-a", SH_T0 - SH_SEC(7));
    add_ok(h, "future", SH_T0 + 1);
    tempo_schedule_record_t rec = sh_schedule(h, "paused", SH_T0 - SH_SEC(60));
    rec.paused = true;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    rec = sh_schedule(h, "finished", TEMPO_TIME_NONE);
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);

    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 3, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "early tie-a tie-b");
    for (size_t i = 0; i < r.count; i++) {
        assert_string_equal(r.schedules[i].lease.owner, "w1");
        assert_int_equal(r.schedules[i].lease.until, SH_T0 + SH_SEC(30));
        assert_int_equal(r.schedules[i].lease.fence, 1);
        assert_string_equal(r.schedules[i].task_id, "task-a");
    }
    assert_int_equal(r.schedules[0].next_fire_time, SH_T0 - SH_SEC(10));
    sh_result_free(&r);
    /* The rest that is due; leased ones are not handed out twice. */
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0, SH_SEC(30), 100, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "late now");
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0, SH_SEC(30), 100, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    /* limit 0: nothing, nothing leased. */
    assert_int_equal(sh_acquire_schedules(h, "w3", SH_T0 + 1, SH_SEC(30), 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "w3", SH_T0 + 1, SH_SEC(30), 100, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "future");
    sh_result_free(&r);
    /* The stored record shows the lease. */
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "future", &got));
    assert_string_equal(got.lease.owner, "w3");
    assert_int_equal(got.lease.until, SH_T0 + 1 + SH_SEC(30));
    tempo__schedule_record_clear(&got);
}

/* A second owner gets nothing until the lease expires, then takes over
 * with fence + 1; the first owner's release is then refused. */
void sc_lease_takeover(void **state)
{
    store_h_t *h = *state;
    add_ok(h, "s", SH_T0);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.schedules[0].lease.fence, 1);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(29), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    /* Expired at its `until`. */
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(30), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].lease.owner, "w2");
    assert_int_equal(r.schedules[0].lease.fence, 2);
    assert_int_equal(r.schedules[0].lease.until, SH_T0 + SH_SEC(60));
    sh_result_free(&r);

    /* The stale owner: ELEASE for its entry, the schedule untouched. */
    tempo_schedule_release_t rel = {.id = "s", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(600),
                                    .last_fire_time = SH_T0};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_ELEASE);
    /* Right owner, stale fence: refused too. */
    assert_int_equal(sh_release_schedules(h, "w2", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_ELEASE);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "s", &got));
    assert_int_equal(got.next_fire_time, SH_T0);
    assert_int_equal(got.last_fire_time, TEMPO_TIME_NONE);
    assert_string_equal(got.lease.owner, "w2");
    assert_int_equal(got.lease.fence, 2);
    tempo__schedule_record_clear(&got);

    /* The holder's release: new times, lease gone, fence kept. */
    rel.fence = 2;
    rel.next_fire_time = SH_T0 + SH_SEC(60);
    assert_int_equal(sh_release_schedules(h, "w2", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);
    assert_true(sh_find_schedule(h, "s", &got));
    assert_int_equal(got.next_fire_time, SH_T0 + SH_SEC(60));
    assert_int_equal(got.last_fire_time, SH_T0);
    assert_null(got.lease.owner);
    assert_int_equal(got.lease.fence, 2);
    tempo__schedule_record_clear(&got);
    /* Released twice: the second is refused. */
    assert_int_equal(sh_release_schedules(h, "w2", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_ELEASE);
    /* A released schedule is acquired again when due, fence 3. */
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + SH_SEC(60), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.schedules[0].lease.fence, 3);
    sh_result_free(&r);
}

/* Jobs of a release are added idempotently: an existing id (from an earlier
 * release, or earlier in the batch) is skipped; entry statuses per entry. */
void sc_release_jobs_idempotent(void **state)
{
    store_h_t *h = *state;
    add_ok(h, "s", SH_T0);
    add_ok(h, "t", SH_T0);
    tempo_job_record_t pre = sh_job("j0", "task-x", "s", SH_T0 - 5, SH_T0 - 5);
    assert_int_equal(sh_add_job(h, &pre), TEMPO_OK);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    sh_result_free(&r);
    tempo_job_record_t jobs_s[3] = {
        sh_job("j0", "task-a", "s", SH_T0, SH_T0), /* exists: skipped, j0 keeps task-x */
        sh_job("j1", "task-a", "s", SH_T0, SH_T0),
        sh_job("j1", "task-b", "s", SH_T0, SH_T0), /* repeated in the batch */
    };
    tempo_job_record_t jobs_t[1] = {sh_job("j2", "task-a", "t", SH_T0, SH_T0)};
    tempo_schedule_release_t rel[3] = {
        {.id = "s", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(60), .last_fire_time = SH_T0,
         .jobs = jobs_s, .job_count = 3},
        {.id = "t", .fence = 9, .next_fire_time = SH_T0 + SH_SEC(60), .last_fire_time = SH_T0,
         .jobs = jobs_t, .job_count = 1},
        {.id = "gone", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(60), .last_fire_time = SH_T0},
    };
    assert_int_equal(sh_release_schedules(h, "w1", rel, 3), TEMPO_OK);
    assert_int_equal(rel[0].status, TEMPO_OK);
    assert_int_equal(rel[1].status, TEMPO_ELEASE); /* wrong fence */
    assert_int_not_equal(rel[2].status, TEMPO_OK); /* no such schedule */
    tempo_job_record_t got;
    assert_true(sh_find_job(h, "j0", &got));
    assert_string_equal(got.task_id, "task-x");
    tempo__job_record_clear(&got);
    assert_true(sh_find_job(h, "j1", &got));
    assert_string_equal(got.task_id, "task-a");
    assert_string_equal(got.schedule_id, "s");
    assert_null(got.lease.owner);
    tempo__job_record_clear(&got);
    /* Jobs are added even for an entry whose lease was lost: their ids are
     * derived from (schedule, fire time), so the new holder's are the same. */
    assert_true(sh_has_job(h, "j2"));
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 3);
    sh_result_free(&r);
    /* Replaying the same release: no new job, and the lease is gone now. */
    assert_int_equal(sh_release_schedules(h, "w1", rel, 1), TEMPO_OK);
    assert_int_equal(rel[0].status, TEMPO_ELEASE);
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 3);
    sh_result_free(&r);
}

/* A finished schedule (next NONE) stays while a job refers to it, and goes
 * with the last of them; never acquired, never a next time. */
void sc_finished_removal(void **state)
{
    store_h_t *h = *state;
    add_ok(h, "once", SH_T0);
    add_ok(h, "bare", SH_T0);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    sh_result_free(&r);
    tempo_job_record_t jobs[2] = {sh_job("j1", "task-a", "once", SH_T0, SH_T0),
                                  sh_job("j2", "task-a", "once", SH_T0 + 1, SH_T0)};
    tempo_schedule_release_t rel[2] = {
        {.id = "once", .fence = 1, .next_fire_time = TEMPO_TIME_NONE, .last_fire_time = SH_T0,
         .jobs = jobs, .job_count = 2},
        {.id = "bare", .fence = 1, .next_fire_time = TEMPO_TIME_NONE, .last_fire_time = SH_T0},
    };
    assert_int_equal(sh_release_schedules(h, "w1", rel, 2), TEMPO_OK);
    assert_int_equal(rel[0].status, TEMPO_OK);
    assert_int_equal(rel[1].status, TEMPO_OK);
    /* No job refers to "bare": gone at once. "once" stays, finished. */
    assert_false(sh_has_schedule(h, "bare"));
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "once", &got));
    assert_int_equal(got.next_fire_time, TEMPO_TIME_NONE);
    assert_int_equal(got.last_fire_time, SH_T0);
    tempo__schedule_record_clear(&got);
    assert_int_equal(sh_next_schedule_time(h), TEMPO_TIME_NONE);
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + SH_SEC(3600), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_cleanup(h, SH_T0 + SH_SEC(10)), TEMPO_OK);
    assert_true(sh_has_schedule(h, "once"));

    /* Run the jobs; the schedule goes with the last one. */
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0 + SH_SEC(1), SH_SEC(30), 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(2));
    assert_int_equal(sh_release_job(h, "w1", "j1", r.jobs[0].lease.fence, &ok), TEMPO_OK);
    assert_true(sh_has_schedule(h, "once"));
    assert_int_equal(sh_release_job(h, "w1", "j2", r.jobs[1].lease.fence, &ok), TEMPO_OK);
    assert_false(sh_has_schedule(h, "once"));
    sh_result_free(&r);

    /* Added finished, no job: cleanup removes it. */
    tempo_schedule_record_t rec = sh_schedule(h, "dead", TEMPO_TIME_NONE);
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    assert_int_equal(sh_cleanup(h, SH_T0), TEMPO_OK);
    assert_false(sh_has_schedule(h, "dead"));
}

/* The earliest time acquire could hand out something: paused and finished
 * schedules never count; a held lease counts from its expiry. */
void sc_next_schedule_time(void **state)
{
    store_h_t *h = *state;
    assert_int_equal(sh_next_schedule_time(h), TEMPO_TIME_NONE);
    tempo_schedule_record_t rec = sh_schedule(h, "paused", SH_T0 - SH_SEC(100));
    rec.paused = true;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    rec = sh_schedule(h, "finished", TEMPO_TIME_NONE);
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), TEMPO_TIME_NONE);
    add_ok(h, "later", SH_T0 + SH_SEC(100));
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(100));
    add_ok(h, "due", SH_T0 - SH_SEC(10));
    assert_int_equal(sh_next_schedule_time(h), SH_T0 - SH_SEC(10));
    /* Leased until T0+30: counts from then. */
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(30));
    /* Leased past its next time: the later of the two. */
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0 + SH_SEC(100), SH_SEC(300), 10, &r), TEMPO_OK);
    char buf[64];
    assert_string_equal(ids_of(&r, buf, sizeof buf), "due later");
    sh_result_free(&r);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(400));
    /* Held, but its next time moved past the lease: the next time counts. */
    rec = sh_schedule(h, "later", SH_T0 + SH_SEC(1000));
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(400)); /* "due" still held till then */
    rec = sh_schedule(h, "due", SH_T0 + SH_SEC(2000));
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(1000));
    /* Unpausing brings the paused one back. */
    rec = sh_schedule(h, "paused", SH_T0 - SH_SEC(100));
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 - SH_SEC(100));
    /* Pausing removes it from the answer, leased or not. */
    rec.paused = true;
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(1000));
    rec = sh_schedule(h, "later", SH_T0 + SH_SEC(1000));
    rec.paused = true;
    assert_int_equal(sh_update_schedule(h, &rec), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(2000));
}

/* Bad input is refused with EINVAL and changes nothing. */
void sc_schedule_bad_input(void **state)
{
    store_h_t *h = *state;
    tempo_schedule_record_t rec = sh_schedule(h, "", SH_T0);
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    rec = sh_schedule(h, "x", SH_T0);
    rec.trigger = NULL;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    rec = sh_schedule(h, "x", SH_T0);
    rec.task_id = NULL;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    rec = sh_schedule(h, "x", SH_T0);
    rec.max_jitter = -1;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    rec = sh_schedule(h, "x", SH_T0);
    rec.coalesce = (tempo_coalesce_t)17;
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_add_schedule(h, NULL, TEMPO_CONFLICT_ERROR, NULL), TEMPO_EINVAL);
    rec = sh_schedule(h, "x", SH_T0);
    assert_int_equal(sh_add_schedule(h, &rec, (tempo_conflict_t)9, NULL), TEMPO_EINVAL);
    assert_false(sh_has_schedule(h, "x"));
    assert_int_equal(sh_get_schedules(h, NULL, 2, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_get_schedules(h, IDS("a", NULL), 2, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_remove_schedules(h, IDS(""), 1), TEMPO_EINVAL);

    add_ok(h, "s", SH_T0);
    assert_int_equal(sh_acquire_schedules(h, NULL, SH_T0, SH_SEC(30), 10, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_acquire_schedules(h, "w", SH_T0, 0, 10, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_acquire_schedules(h, "w", TEMPO_TIME_NONE, SH_SEC(1), 10, NULL), TEMPO_EINVAL);
    assert_int_equal(sh_acquire_schedules(h, "w", INT64_MAX - 5, SH_SEC(1), 10, NULL), TEMPO_ERANGE);
    /* Nothing was leased by the refused calls. */
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "s", &got));
    assert_null(got.lease.owner);
    tempo__schedule_record_clear(&got);
    /* A release with a bad job refuses the whole batch: every entry says so. */
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    sh_result_free(&r);
    tempo_job_record_t bad = sh_job("jb", "", "s", SH_T0, SH_T0);
    tempo_schedule_release_t rel = {.id = "s", .fence = 1, .next_fire_time = SH_T0 + SH_SEC(60),
                                    .last_fire_time = SH_T0, .jobs = &bad, .job_count = 1};
    assert_int_equal(sh_release_schedules(h, "w", &rel, 1), TEMPO_EINVAL);
    assert_int_equal(rel.status, TEMPO_EINVAL);
    assert_true(sh_find_schedule(h, "s", &got));
    assert_string_equal(got.lease.owner, "w"); /* still held */
    assert_int_equal(got.next_fire_time, SH_T0);
    tempo__schedule_record_clear(&got);
    assert_false(sh_has_job(h, "jb"));
    assert_int_equal(sh_release_schedules(h, NULL, &rel, 1), TEMPO_EINVAL);
}

/* acquire is O(log n): many paused and leased schedules do not get in the
 * way of the few due ones (a functional check here; timing in the bench). */
void sc_acquire_among_many(void **state)
{
    store_h_t *h = *state;
    char id[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "p%04d", i);
        tempo_schedule_record_t rec = sh_schedule(h, id, SH_T0 - SH_SEC(1000) + i);
        rec.paused = (i % 2) == 0;
        assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    sh_result_t r;
    /* 1000 unpaused: lease them all, in two batches. */
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 600, &r), TEMPO_OK);
    assert_int_equal(r.count, 600);
    assert_string_equal(r.schedules[0].id, "p0001");
    assert_string_equal(r.schedules[599].id, "p1199");
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 600, &r), TEMPO_OK);
    assert_int_equal(r.count, 400);
    sh_result_free(&r);
    add_ok(h, "new", SH_T0 + SH_SEC(5));
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(5));
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(5), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "new");
    sh_result_free(&r);
}
