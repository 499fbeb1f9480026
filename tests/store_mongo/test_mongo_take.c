/* Jobs taken at their schedule's release in the MongoDB store
 * (lib/store/mongo/mongo_take.c), and why a job id still runs once:
 *
 *   take_new_jobs        new jobs of an unlimited task are inserted leased to
 *                        the releasing owner (fence 1); one whose id exists,
 *                        and one of a limited task, are queued instead.
 *   taken_again          a taken job id that ran, taken again by a later
 *                        release: not taken, the copy deleted; made again
 *                        queued: never handed out.
 *   maker_died           a taken job whose maker died before claiming its
 *                        id's first acquisition: reaped as ABANDONED, and the
 *                        claim made by the reaper keeps a later copy from
 *                        running.
 *   reaper_meets_copy    a leased second copy whose maker died: the reaper
 *                        deletes it without a result and does not report it
 *                        (the first run's result stays) — at once, or, when
 *                        the copy is in the very lease state its predecessor
 *                        left (its claim taken), once that claim was found
 *                        taken for MG_STUCK (10 s).
 *
 * Direct libmongoc access plays a process that died between two of its
 * writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop_internal.h"
#include "mongo_test.h"
#include "store/records.h"
#include "store_harness.h"

#define LEASE SH_SEC(30)

static const char *uri;

typedef struct fix {
    char db[64];
    store_h_t h;
} fix_t;

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    tempo_error_t err;
    mt_db_name("take", f->db, sizeof f->db);
    assert_int_equal(tempo_vloop_new(SH_T0, &f->h.vloop, &f->h.loop, &err), TEMPO_OK);
    f->h.store = mt_store(uri, f->db);
    assert_int_equal(f->h.store->ops->start(f->h.store->self, f->h.loop, &err), TEMPO_OK);
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = SH_SEC(60);
    o.start = SH_T0;
    assert_int_equal(tempo_trigger_interval_new(&o, &f->h.trigger, &err), TEMPO_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    sh_result_t r = {0};
    f->h.store->ops->stop(f->h.store->self, sh_status_cb, &r);
    sh_wait_calls(&f->h, (int *const[]){&r.calls}, 1);
    tempo_store_free(f->h.store);
    assert_int_equal(tempo__loop_pending(f->h.loop), 0);
    tempo_loop_free(f->h.loop);
    tempo_vloop_free(f->h.vloop);
    tempo_trigger_free(f->h.trigger);
    mt_drop(uri, f->db);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* Acquire schedule "s" (added at T0 when missing) at `now` and release it
 * with jobs `ids` of task "task-u", asking to take them all (max_running
 * `max`); the fences the store wrote go to fences[]. */
static void release_taking(fix_t *f, tempo_time_t now, const char *const *ids, size_t n, int max, int64_t *fences)
{
    if (!sh_has_schedule(&f->h, "s")) {
        tempo_schedule_record_t rec = sh_schedule(&f->h, "s", SH_T0);
        assert_int_equal(sh_add_schedule(&f->h, &rec, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(&f->h, "w1", now, LEASE, 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    int64_t fence = r.schedules[0].lease.fence;
    tempo_time_t fire = r.schedules[0].next_fire_time;
    sh_result_free(&r);
    tempo_job_record_t jobs[8];
    tempo_job_take_t take[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        jobs[i] = sh_job(ids[i], "task-u", "s", fire, now);
        jobs[i].result_expiration = TEMPO_HOURS(1);
        take[i] = (tempo_job_take_t){.until = now + LEASE, .max_running = max, .fence = -1};
    }
    tempo_schedule_release_t rel = {.id = "s", .fence = fence, .next_fire_time = fire + SH_SEC(60),
                                    .last_fire_time = fire, .jobs = jobs, .job_count = n, .take = take};
    assert_int_equal(sh_release_schedules(&f->h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);
    for (size_t i = 0; i < n; i++)
        fences[i] = take[i].fence;
}

/* The claim of job `id`'s first acquisition; false when there is none. */
static bool first_claim(fix_t *f, const char *id, bson_oid_t *inc)
{
    char cid[96];
    snprintf(cid, sizeof cid, "j:%s:0:%lld", id, (long long)TEMPO_TIME_NONE);
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *claims = mongoc_client_get_collection(client, f->db, "tempo_claims");
    bson_t q = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", cid);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(claims, &q, NULL, NULL);
    const bson_t *doc;
    bool found = mongoc_cursor_next(cur, &doc);
    bson_iter_t it;
    if (found && inc) {
        assert_true(bson_iter_init_find(&it, doc, "inc"));
        bson_oid_copy(bson_iter_oid(&it), inc);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&q);
    mongoc_collection_destroy(claims);
    mongoc_client_destroy(client);
    return found;
}

static void drop_first_claim(fix_t *f, const char *id)
{
    char cid[96];
    snprintf(cid, sizeof cid, "j:%s:0:%lld", id, (long long)TEMPO_TIME_NONE);
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *claims = mongoc_client_get_collection(client, f->db, "tempo_claims");
    bson_t q = BSON_INITIALIZER, reply;
    BSON_APPEND_UTF8(&q, "_id", cid);
    bson_error_t e;
    assert_true(mongoc_collection_delete_one(claims, &q, NULL, &reply, &e));
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, &reply, "deletedCount") && BSON_ITER_HOLDS_NUMBER(&it));
    assert_int_equal(bson_iter_as_int64(&it), 1);
    bson_destroy(&reply);
    bson_destroy(&q);
    mongoc_collection_destroy(claims);
    mongoc_client_destroy(client);
}

/* The stored document of job `id` (a copy), or NULL. */
static bson_t *job_doc(fix_t *f, const char *id)
{
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *jobs = mongoc_client_get_collection(client, f->db, "tempo_jobs");
    bson_t q = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&q, "_id", id);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(jobs, &q, NULL, NULL);
    const bson_t *doc;
    bson_t *copy = mongoc_cursor_next(cur, &doc) ? bson_copy(doc) : NULL;
    mongoc_cursor_destroy(cur);
    bson_destroy(&q);
    mongoc_collection_destroy(jobs);
    mongoc_client_destroy(client);
    return copy;
}

/* Insert `doc` as a new incarnation (a fresh "inc"), leased until `until`. */
static void insert_copy(fix_t *f, const bson_t *doc, tempo_time_t until)
{
    bson_t fresh = BSON_INITIALIZER;
    bson_iter_t it;
    assert_true(bson_iter_init(&it, doc));
    while (bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), "inc") != 0 && strcmp(bson_iter_key(&it), "until") != 0)
            bson_append_iter(&fresh, NULL, 0, &it);
    bson_oid_t inc;
    bson_oid_init(&inc, NULL);
    BSON_APPEND_OID(&fresh, "inc", &inc);
    BSON_APPEND_INT64(&fresh, "until", until);
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *jobs = mongoc_client_get_collection(client, f->db, "tempo_jobs");
    bson_error_t e;
    assert_true(mongoc_collection_insert_one(jobs, &fresh, NULL, NULL, &e));
    mongoc_collection_destroy(jobs);
    mongoc_client_destroy(client);
    bson_destroy(&fresh);
}

/* A queued copy of `id` is never handed out, over rounds that reach past
 * the time after which a claim found taken is looked at (MG_STUCK, 10 s),
 * and is gone by then. */
static void never_again(fix_t *f, const char *id, tempo_time_t now)
{
    tempo_task_record_t task = sh_task("task-u", 0);
    sh_result_t r;
    for (int round = 0; round < 3; round++, now += SH_SEC(6)) {
        assert_int_equal(sh_acquire_jobs(&f->h, "w2", now, LEASE, 10, &task, 1, &r), TEMPO_OK);
        assert_int_equal(r.count, 0);
        sh_result_free(&r);
    }
    assert_false(sh_has_job(&f->h, id));
}

/* ---- cases ---- */

static void take_new_jobs(void **state)
{
    fix_t *f = *state;
    tempo_job_record_t old = sh_job("j0", "task-u", "s", SH_T0, SH_T0);
    assert_int_equal(sh_add_job(&f->h, &old), TEMPO_OK);
    int64_t fences[3];
    release_taking(f, SH_T0, (const char *const[]){"j0", "j1", "j2"}, 3, 0, fences);
    assert_int_equal(fences[0], 0); /* existed: never taken */
    assert_int_equal(fences[1], 1);
    assert_int_equal(fences[2], 1);
    int64_t limited[1];
    release_taking(f, SH_T0 + SH_SEC(60), (const char *const[]){"j3"}, 1, 5, limited);
    assert_int_equal(limited[0], 0); /* a limited task: queued (acquire_jobs counts) */

    tempo_job_record_t got;
    assert_true(sh_find_job(&f->h, "j1", &got));
    assert_string_equal(got.lease.owner, "w1");
    assert_int_equal(got.lease.until, SH_T0 + LEASE);
    assert_int_equal(got.lease.fence, 1);
    tempo__job_record_clear(&got);
    assert_true(first_claim(f, "j1", NULL));

    /* What was taken is not queued; the rest is, for anyone. */
    tempo_task_record_t task = sh_task("task-u", 0);
    sh_result_t r;
    assert_int_equal(sh_acquire_jobs(&f->h, "w2", SH_T0 + SH_SEC(61), LEASE, 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    for (size_t i = 0; i < r.count; i++)
        assert_true(strcmp(r.jobs[i].id, "j0") == 0 || strcmp(r.jobs[i].id, "j3") == 0);
    sh_result_free(&r);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(2));
    assert_int_equal(sh_release_job(&f->h, "w2", "j1", 1, &ok), TEMPO_ELEASE);
    assert_int_equal(sh_release_job(&f->h, "w1", "j1", 1, &ok), TEMPO_OK);
    assert_false(sh_has_job(&f->h, "j1"));
    assert_int_equal(sh_get_job_result(&f->h, "j1", &r), TEMPO_OK);
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_SUCCESS);
    sh_result_free(&r);
}

static void taken_again(void **state)
{
    fix_t *f = *state;
    int64_t fence[1];
    release_taking(f, SH_T0, (const char *const[]){"t1"}, 1, 0, fence);
    assert_int_equal(fence[0], 1);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(1));
    assert_int_equal(sh_release_job(&f->h, "w1", "t1", 1, &ok), TEMPO_OK);
    /* A later release makes the same id again (a lapsed holder's): a
     * second copy, not taken and deleted at once. */
    release_taking(f, SH_T0 + SH_SEC(60), (const char *const[]){"t1"}, 1, 0, fence);
    assert_int_equal(fence[0], 0);
    assert_false(sh_has_job(&f->h, "t1"));
    /* Made again queued: never handed out either. */
    tempo_job_record_t again = sh_job("t1", "task-u", "s", SH_T0, SH_T0);
    assert_int_equal(sh_add_job(&f->h, &again), TEMPO_OK);
    never_again(f, "t1", SH_T0 + SH_SEC(61));
}

static void maker_died(void **state)
{
    fix_t *f = *state;
    int64_t fence[1];
    release_taking(f, SH_T0, (const char *const[]){"d1"}, 1, 0, fence);
    assert_int_equal(fence[0], 1);
    /* As if the maker died between inserting the job and its first claim. */
    bson_t *doc = job_doc(f, "d1");
    assert_non_null(doc);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, doc, "inc"));
    bson_oid_t inc;
    bson_oid_copy(bson_iter_oid(&it), &inc);
    bson_destroy(doc);
    drop_first_claim(f, "d1");

    sh_result_t r;
    assert_int_equal(sh_reap_abandoned(&f->h, SH_T0 + LEASE, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "d1");
    sh_result_free(&r);
    assert_int_equal(sh_get_job_result(&f->h, "d1", &r), TEMPO_OK);
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_ABANDONED);
    sh_result_free(&r);
    bson_oid_t claimed;
    assert_true(first_claim(f, "d1", &claimed)); /* made by the reaper */
    assert_true(bson_oid_equal(&claimed, &inc));
    tempo_job_record_t again = sh_job("d1", "task-u", "s", SH_T0, SH_T0);
    assert_int_equal(sh_add_job(&f->h, &again), TEMPO_OK);
    never_again(f, "d1", SH_T0 + LEASE + 1);
}

/* Job "c1" taken and run; then a copy of it taken by a maker that died
 * before its first claim — leased at fence 1 until `until`, another
 * incarnation than the one that ran — reaped from `now` on, `rounds` times
 * 6 s apart: never reported, gone, and the first run's result stays. */
static void copy_reaped(fix_t *f, tempo_time_t until, tempo_time_t now, int rounds)
{
    int64_t fence[1];
    release_taking(f, SH_T0, (const char *const[]){"c1"}, 1, 0, fence);
    assert_int_equal(fence[0], 1);
    bson_t *doc = job_doc(f, "c1");
    assert_non_null(doc);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(1));
    assert_int_equal(sh_release_job(&f->h, "w1", "c1", 1, &ok), TEMPO_OK);
    insert_copy(f, doc, until);
    bson_destroy(doc);
    sh_result_t r;
    for (int i = 0; i < rounds; i++, now += SH_SEC(6)) {
        assert_int_equal(sh_reap_abandoned(&f->h, now, &r), TEMPO_OK);
        assert_int_equal(r.count, 0);
        sh_result_free(&r);
    }
    assert_false(sh_has_job(&f->h, "c1"));
    assert_int_equal(sh_get_job_result(&f->h, "c1", &r), TEMPO_OK);
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_SUCCESS); /* not overwritten */
    sh_result_free(&r);
}

static void reaper_meets_copy(void **state)
{
    copy_reaped(*state, SH_T0 + LEASE + 1, SH_T0 + LEASE + 1, 1);
}

static void reaper_meets_copy_same_state(void **state)
{
    copy_reaped(*state, SH_T0 + LEASE, SH_T0 + LEASE, 3);
}

int main(void)
{
    uri = mt_uri();
    static const tempo_store_factory_t factory = {.name = "mongodb (take)"};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(take_new_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(taken_again, setup, teardown),
        cmocka_unit_test_setup_teardown(maker_died, setup, teardown),
        cmocka_unit_test_setup_teardown(reaper_meets_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(reaper_meets_copy_same_state, setup, teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: jobs taken at release", tests, NULL, NULL);
}
