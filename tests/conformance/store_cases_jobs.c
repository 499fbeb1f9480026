/* Conformance cases: jobs (add, get, acquire, release, results, reaping,
 * lease extension, next time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/records.h"
#include "store_cases_internal.h"

#define IDS(...) ((const char *const[]){__VA_ARGS__})

static void add_job_ok(store_h_t *h, const char *id, const char *task, tempo_time_t at, tempo_time_t created)
{
    tempo_job_record_t j = sh_job(id, task, NULL, at, created);
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const tempo_job_record_t *)a)->id, ((const tempo_job_record_t *)b)->id);
}

/* The job ids a result holds, joined with spaces; sorted when asked. */
static const char *ids_of(sh_result_t *r, bool sorted, char *buf, size_t size)
{
    size_t used = 0;
    if (sorted && r->count > 1)
        qsort(r->jobs, r->count, sizeof *r->jobs, by_id);
    buf[0] = '\0';
    for (size_t i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", r->jobs[i].id);
    return buf;
}

static tempo_status_t acquire(store_h_t *h, const char *owner, tempo_time_t now, tempo_duration_t lease,
                              size_t limit, const tempo_task_record_t *tasks, size_t n, char *buf,
                              size_t size)
{
    sh_result_t r;
    tempo_status_t rc = sh_acquire_jobs(h, owner, now, lease, limit, tasks, n, &r);
    ids_of(&r, false, buf, size);
    for (size_t i = 0; i < r.count; i++) {
        assert_string_equal(r.jobs[i].lease.owner, owner);
        assert_int_equal(r.jobs[i].lease.until, now + lease);
    }
    sh_result_free(&r);
    return rc;
}

void sj_add_get(void **state)
{
    store_h_t *h = *state;
    bson_t args;
    sh_doc(&args, "k", 3);
    tempo_job_record_t j = sh_job("j-b", "task-a", "sched-1", SH_T0 + 7, SH_T0 + 1);
    j.args = &args;
    j.original_fire_time = SH_T0 + 2;
    j.start_deadline = SH_T0 + SH_SEC(30);
    j.result_expiration = SH_SEC(60);
    j.lease = (tempo_lease_t){"intruder", SH_T0 + SH_SEC(5), 12}; /* ignored */
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    assert_int_equal(sh_add_job(h, &j), TEMPO_EEXIST);
    add_job_ok(h, "j-a", "task-b", TEMPO_TIME_NONE, SH_T0);
    sh_result_t r;
    char buf[128];
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, false, buf, sizeof buf), "j-a j-b");
    const tempo_job_record_t *g = &r.jobs[1];
    assert_string_equal(g->task_id, "task-a");
    assert_string_equal(g->schedule_id, "sched-1");
    assert_int_equal(sh_doc_int(g->args, "k"), 3);
    assert_int_equal(g->scheduled_fire_time, SH_T0 + 7);
    assert_int_equal(g->original_fire_time, SH_T0 + 2);
    assert_int_equal(g->start_deadline, SH_T0 + SH_SEC(30));
    assert_int_equal(g->result_expiration, SH_SEC(60));
    assert_int_equal(g->created_at, SH_T0 + 1);
    assert_null(g->lease.owner);
    assert_int_equal(g->lease.fence, 0);
    g = &r.jobs[0];
    assert_null(g->schedule_id);
    assert_int_equal(g->scheduled_fire_time, TEMPO_TIME_NONE);
    assert_true(g->args == NULL || bson_empty(g->args));
    sh_result_free(&r);
    assert_int_equal(sh_get_jobs(h, IDS("zz", "j-b", "j-b"), 3, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, false, buf, sizeof buf), "j-b");
    sh_result_free(&r);
    /* Bad jobs: EINVAL, nothing added. */
    j = sh_job("bad", "", NULL, SH_T0, SH_T0);
    assert_int_equal(sh_add_job(h, &j), TEMPO_EINVAL);
    j = sh_job("bad", "task-a", NULL, SH_T0, TEMPO_TIME_NONE);
    assert_int_equal(sh_add_job(h, &j), TEMPO_EINVAL);
    j = sh_job("bad", "task-a", "", SH_T0, SH_T0);
    assert_int_equal(sh_add_job(h, &j), TEMPO_EINVAL);
    j = sh_job("bad", "task-a", NULL, SH_T0, SH_T0);
    j.result_expiration = -1;
    assert_int_equal(sh_add_job(h, &j), TEMPO_EINVAL);
    assert_int_equal(sh_add_job(h, NULL), TEMPO_EINVAL);
    assert_false(sh_has_job(h, "bad"));
    assert_int_equal(sh_get_jobs(h, NULL, 3, NULL), TEMPO_EINVAL);
    bson_destroy(&args);
}

/* Oldest effective fire time first (scheduled_fire_time; created_at for a
 * job queued "now"), then created_at, then id; only due jobs. */
void sj_acquire_fifo(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    add_job_ok(h, "late", "task-a", SH_T0 - 1, SH_T0 - 100);
    add_job_ok(h, "first", "task-a", SH_T0 - 3, SH_T0 - 50);
    add_job_ok(h, "tie-new", "task-a", SH_T0 - 2, SH_T0 - 40);
    add_job_ok(h, "tie-old", "task-a", SH_T0 - 2, SH_T0 - 60);
    add_job_ok(h, "now", "task-a", TEMPO_TIME_NONE, SH_T0 - 2);
    add_job_ok(h, "future", "task-a", SH_T0 + SH_SEC(10), SH_T0 - 100);
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 2, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "first tie-old");
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 10, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "tie-new now late");
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 10, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "");
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(10));
    assert_int_equal(acquire(h, "w2", SH_T0 + SH_SEC(10), SH_SEC(30), 10, &task, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "future");
    /* Fences start at 1; the stored job shows the lease. */
    tempo_job_record_t got;
    assert_true(sh_find_job(h, "future", &got));
    assert_string_equal(got.lease.owner, "w2");
    assert_int_equal(got.lease.until, SH_T0 + SH_SEC(40));
    assert_int_equal(got.lease.fence, 1);
    tempo__job_record_clear(&got);
    /* limit 0 / no tasks: nothing. */
    add_job_ok(h, "more", "task-a", SH_T0, SH_T0);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 0, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "");
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 10, NULL, 0, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "");
    assert_true(sh_find_job(h, "more", &got));
    assert_null(got.lease.owner);
    tempo__job_record_clear(&got);
}

/* Only jobs of the tasks the worker lists; the order merges across them. */
void sj_only_listed_tasks(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    add_job_ok(h, "a1", "task-a", SH_T0 - 5, SH_T0);
    add_job_ok(h, "b1", "task-b", SH_T0 - 4, SH_T0);
    add_job_ok(h, "a2", "task-a", SH_T0 - 3, SH_T0);
    add_job_ok(h, "c1", "task-c", SH_T0 - 9, SH_T0);
    add_job_ok(h, "b2", "task-b", SH_T0 - 2, SH_T0);
    tempo_task_record_t none = sh_task("task-none", 0);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 10, &none, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "");
    tempo_task_record_t ab[3] = {sh_task("task-b", 0), sh_task("task-a", 0), sh_task("task-b", 0)};
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(30), 10, ab, 3, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "a1 b1 a2 b2");
    tempo_job_record_t got;
    assert_true(sh_find_job(h, "c1", &got));
    assert_null(got.lease.owner);
    tempo__job_record_clear(&got);
}

/* max_running_jobs counts every owner's unexpired leases; skipped jobs stay
 * queued; a dead owner's slot comes back when its lease expires — but its
 * job is not handed out again (it waits to be reaped as abandoned). */
void sj_max_running(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    add_job_ok(h, "a1", "task-a", SH_T0 - 4, SH_T0);
    add_job_ok(h, "a2", "task-a", SH_T0 - 3, SH_T0);
    add_job_ok(h, "a3", "task-a", SH_T0 - 2, SH_T0);
    add_job_ok(h, "a4", "task-a", SH_T0 - 1, SH_T0);
    add_job_ok(h, "b1", "task-b", SH_T0 - 1, SH_T0);
    tempo_task_record_t a2 = sh_task("task-a", 2);
    tempo_task_record_t ab[2] = {sh_task("task-a", 2), sh_task("task-b", 1)};
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(10), 1, &a2, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "a1");
    assert_int_equal(acquire(h, "w2", SH_T0, SH_SEC(60), 10, &a2, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "a2");
    /* task-a is at 2 (one lease each): its jobs are skipped, b1 is not. */
    assert_int_equal(acquire(h, "w1", SH_T0 + 1, SH_SEC(10), 10, ab, 2, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "b1");
    assert_int_equal(acquire(h, "w3", SH_T0 + SH_SEC(9), SH_SEC(100), 10, ab, 2, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "");
    /* w1 died: at T0+10 its a1 lease expired and one slot is free again;
     * the next queued job takes it — not a1, which lapsed. */
    sh_result_t r;
    assert_int_equal(sh_acquire_jobs(h, "w3", SH_T0 + SH_SEC(10), SH_SEC(100), 10, &a2, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "a3");
    assert_int_equal(r.jobs[0].lease.fence, 1);
    sh_result_free(&r);
    tempo_job_record_t lapsed;
    assert_true(sh_find_job(h, "a1", &lapsed)); /* kept, its lease on record */
    assert_string_equal(lapsed.lease.owner, "w1");
    assert_int_equal(lapsed.lease.fence, 1);
    tempo__job_record_clear(&lapsed);
    /* Not reaped yet and nobody else took it: its owner's late release
     * still counts (the work was done once). */
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(11));
    assert_int_equal(sh_release_job(h, "w1", "a1", 1, &ok), TEMPO_OK);
    assert_false(sh_has_job(h, "a1"));
    /* w2's lease (until T0+60) ends too: its slot serves a4. */
    assert_int_equal(acquire(h, "w3", SH_T0 + SH_SEC(59), SH_SEC(100), 10, &a2, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "");
    assert_int_equal(acquire(h, "w3", SH_T0 + SH_SEC(60), SH_SEC(100), 10, &a2, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "a4");
    /* A finished job frees its slot at once. */
    add_job_ok(h, "a5", "task-a", SH_T0, SH_T0);
    assert_int_equal(sh_release_job(h, "w3", "a3", 1, &ok), TEMPO_OK);
    assert_int_equal(acquire(h, "w3", SH_T0 + SH_SEC(61), SH_SEC(100), 10, &a2, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "a5");
    /* max_running_jobs 0: unlimited. */
    add_job_ok(h, "a6", "task-a", SH_T0, SH_T0);
    add_job_ok(h, "a7", "task-a", SH_T0, SH_T0);
    tempo_task_record_t any = sh_task("task-a", 0);
    assert_int_equal(acquire(h, "w4", SH_T0 + SH_SEC(62), SH_SEC(100), 10, &any, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "a6 a7");
}

void sj_release_fencing(void **state)
{
    store_h_t *h = *state;
    char buf[64];
    add_job_ok(h, "j", "task-a", SH_T0, SH_T0);
    tempo_task_record_t task = sh_task("task-a", 0);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + 1);
    /* Not leased yet: nobody can release it. */
    assert_int_equal(sh_release_job(h, "w1", "j", 0, &ok), TEMPO_ELEASE);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(10), 10, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "j");
    assert_int_equal(sh_release_job(h, "w2", "j", 1, &ok), TEMPO_ELEASE);
    assert_int_equal(sh_release_job(h, "w1", "j", 0, &ok), TEMPO_ELEASE);
    assert_int_equal(sh_release_job(h, "w1", "j", 2, &ok), TEMPO_ELEASE);
    tempo_job_record_t got;
    assert_true(sh_find_job(h, "j", &got));
    assert_string_equal(got.lease.owner, "w1");
    assert_int_equal(got.lease.fence, 1);
    tempo__job_record_clear(&got);
    /* After expiry nobody else takes it over; reaped, it is gone, and the
     * old owner's release is refused. */
    assert_int_equal(acquire(h, "w2", SH_T0 + SH_SEC(10), SH_SEC(10), 10, &task, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "");
    sh_result_t reaped;
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(10), &reaped), TEMPO_OK);
    assert_int_equal(reaped.count, 1);
    sh_result_free(&reaped);
    assert_int_equal(sh_release_job(h, "w1", "j", 1, &ok), TEMPO_ELEASE);
    assert_false(sh_has_job(h, "j"));
    /* A job acquired and released once: a second release is refused. */
    add_job_ok(h, "k", "task-a", SH_T0, SH_T0);
    assert_int_equal(acquire(h, "w2", SH_T0 + SH_SEC(11), SH_SEC(10), 10, &task, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "k");
    assert_int_equal(sh_release_job(h, "w2", "k", 1, &ok), TEMPO_OK);
    assert_false(sh_has_job(h, "k"));
    assert_int_equal(sh_release_job(h, "w2", "k", 1, &ok), TEMPO_ELEASE);
    assert_int_equal(sh_release_job(h, "w2", "never", 1, &ok), TEMPO_ELEASE);
    /* Bad input. */
    assert_int_equal(sh_release_job(h, NULL, "j", 1, &ok), TEMPO_EINVAL);
    assert_int_equal(sh_release_job(h, "w2", "j", 1, NULL), TEMPO_EINVAL);
    ok.outcome = (tempo_outcome_t)44;
    assert_int_equal(sh_release_job(h, "w2", "j", 1, &ok), TEMPO_EINVAL);
}

/* A result is kept only when the job's result_expiration > 0, until
 * finished_at + expiration; cleanup deletes expired ones. */
void sj_results(void **state)
{
    store_h_t *h = *state;
    tempo_job_record_t keep = sh_job("keep", "task-a", "sched-9", SH_T0 - 1, SH_T0 - 2);
    keep.result_expiration = SH_SEC(60);
    tempo_job_record_t fail = sh_job("fail", "task-a", NULL, SH_T0 - 1, SH_T0 - 1);
    fail.result_expiration = SH_SEC(600);
    assert_int_equal(sh_add_job(h, &keep), TEMPO_OK);
    assert_int_equal(sh_add_job(h, &fail), TEMPO_OK);
    add_job_ok(h, "drop", "task-a", SH_T0 - 1, SH_T0);
    assert_int_equal(sh_get_job_result(h, "keep", NULL), TEMPO_ENOTFOUND); /* not finished */
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0, SH_SEC(30), 10, &task, 1, NULL), TEMPO_OK);

    tempo_job_result_t res = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(5));
    assert_int_equal(sh_release_job(h, "w1", "drop", 1, &res), TEMPO_OK);
    assert_int_equal(sh_get_job_result(h, "drop", NULL), TEMPO_ENOTFOUND);

    bson_t value;
    sh_doc(&value, "r", 9);
    res.return_value = &value;
    res.expires_at = 12345; /* the store computes it */
    assert_int_equal(sh_release_job(h, "w1", "keep", 1, &res), TEMPO_OK);
    assert_false(sh_has_job(h, "keep"));
    sh_result_t r;
    assert_int_equal(sh_get_job_result(h, "keep", &r), TEMPO_OK);
    assert_string_equal(r.result.job_id, "keep");
    assert_string_equal(r.result.task_id, "task-a");
    assert_string_equal(r.result.schedule_id, "sched-9");
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(r.result.scheduled_fire_time, SH_T0 - 1);
    assert_int_equal(r.result.started_at, SH_T0 + SH_SEC(4));
    assert_int_equal(r.result.finished_at, SH_T0 + SH_SEC(5));
    assert_int_equal(r.result.expires_at, SH_T0 + SH_SEC(65));
    assert_int_equal(sh_doc_int(r.result.return_value, "r"), 9);
    sh_result_free(&r);
    bson_destroy(&value);

    tempo_job_result_t err = sh_outcome(TEMPO_OUTCOME_ERROR, SH_T0 + SH_SEC(6));
    err.error = "division by zero";
    assert_int_equal(sh_release_job(h, "w1", "fail", 1, &err), TEMPO_OK);
    assert_int_equal(sh_get_job_result(h, "fail", &r), TEMPO_OK);
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_ERROR);
    assert_string_equal(r.result.error, "division by zero");
    assert_null(r.result.schedule_id);
    assert_int_equal(r.result.expires_at, SH_T0 + SH_SEC(606));
    sh_result_free(&r);

    /* cleanup before expiry keeps it; at expiry removes it (even though
     * the loop's clock is still at T0). */
    assert_int_equal(sh_cleanup(h, SH_T0 + SH_SEC(64)), TEMPO_OK);
    assert_int_equal(sh_get_job_result(h, "keep", NULL), TEMPO_OK);
    assert_int_equal(sh_cleanup(h, SH_T0 + SH_SEC(65)), TEMPO_OK);
    assert_int_equal(sh_get_job_result(h, "keep", NULL), TEMPO_ENOTFOUND);
    assert_int_equal(sh_get_job_result(h, "fail", NULL), TEMPO_OK);
    /* Expired by the clock, not cleaned up: not found either. */
    tempo_vloop_advance_to(h->vloop, SH_T0 + SH_SEC(606));
    assert_int_equal(sh_get_job_result(h, "fail", NULL), TEMPO_ENOTFOUND);
    assert_int_equal(sh_get_job_result(h, NULL, NULL), TEMPO_EINVAL);
}

/* Jobs whose lease expired: an ABANDONED result (when kept), deleted,
 * reported. */
void sj_reap_abandoned(void **state)
{
    store_h_t *h = *state;
    char buf[128];
    tempo_job_record_t j1 = sh_job("j1", "task-a", "s", SH_T0 - 1, SH_T0 - 1);
    j1.result_expiration = SH_SEC(60);
    assert_int_equal(sh_add_job(h, &j1), TEMPO_OK);
    add_job_ok(h, "j2", "task-a", SH_T0 - 1, SH_T0 - 1);
    add_job_ok(h, "j3", "task-b", SH_T0 - 1, SH_T0 - 1);
    add_job_ok(h, "j4", "task-a", SH_T0 - 1, SH_T0);
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(10), 2, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "j1 j2");
    assert_int_equal(acquire(h, "w2", SH_T0, SH_SEC(100), 2, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "j4");
    sh_result_t r;
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(9), &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(10), &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, true, buf, sizeof buf), "j1 j2");
    assert_string_equal(r.jobs[0].lease.owner, "w1");
    assert_int_equal(r.jobs[0].lease.fence, 1);
    assert_string_equal(r.jobs[0].task_id, "task-a");
    sh_result_free(&r);
    assert_false(sh_has_job(h, "j1"));
    assert_false(sh_has_job(h, "j2"));
    assert_true(sh_has_job(h, "j3"));
    assert_true(sh_has_job(h, "j4"));
    assert_int_equal(sh_get_job_result(h, "j1", &r), TEMPO_OK);
    assert_int_equal(r.result.outcome, TEMPO_OUTCOME_ABANDONED);
    assert_int_equal(r.result.finished_at, SH_T0 + SH_SEC(10));
    assert_int_equal(r.result.expires_at, SH_T0 + SH_SEC(70));
    assert_string_equal(r.result.schedule_id, "s");
    sh_result_free(&r);
    assert_int_equal(sh_get_job_result(h, "j2", NULL), TEMPO_ENOTFOUND);
    /* The owner comes back too late. */
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(11));
    assert_int_equal(sh_release_job(h, "w1", "j1", 1, &ok), TEMPO_ELEASE);
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(11), &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_reap_abandoned(h, TEMPO_TIME_NONE, NULL), TEMPO_EINVAL);
}

/* Extending keeps what the owner holds; what it lost is ELEASE. */
void sj_extend_leases(void **state)
{
    store_h_t *h = *state;
    char buf[128];
    tempo_schedule_record_t s = sh_schedule(h, "s", SH_T0);
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    add_job_ok(h, "j", "task-a", SH_T0, SH_T0);
    tempo_task_record_t task = sh_task("task-a", 0);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(acquire(h, "w1", SH_T0, SH_SEC(10), 10, &task, 1, buf, sizeof buf), TEMPO_OK);
    assert_string_equal(buf, "j");

    assert_int_equal(sh_extend_leases(h, "w1", IDS("s"), 1, IDS("j"), 1, SH_T0 + SH_SEC(100)), TEMPO_OK);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(100));
    assert_int_equal(sh_next_job_time(h), TEMPO_TIME_NONE); /* a held job is never due again */
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(50), SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(acquire(h, "w2", SH_T0 + SH_SEC(50), SH_SEC(10), 10, &task, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "");
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(50), &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);

    /* Not the holder: ELEASE, nothing changed. */
    assert_int_equal(sh_extend_leases(h, "w2", IDS("s"), 1, IDS("j"), 1, SH_T0 + SH_SEC(999)), TEMPO_ELEASE);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(h, "s", &got));
    assert_string_equal(got.lease.owner, "w1");
    assert_int_equal(got.lease.until, SH_T0 + SH_SEC(100));
    tempo__schedule_record_clear(&got);
    /* Partly held: ELEASE, the held ones extended. */
    assert_int_equal(sh_extend_leases(h, "w1", IDS("s", "ghost"), 2, NULL, 0, SH_T0 + SH_SEC(200)),
                     TEMPO_ELEASE);
    assert_true(sh_find_schedule(h, "s", &got));
    assert_int_equal(got.lease.until, SH_T0 + SH_SEC(200));
    assert_int_equal(got.lease.fence, 1);
    tempo__schedule_record_clear(&got);
    /* Lost to a takeover after expiry. */
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(200), SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(sh_extend_leases(h, "w1", IDS("s"), 1, NULL, 0, SH_T0 + SH_SEC(300)), TEMPO_ELEASE);
    /* A job whose lease lapsed is not taken over; its owner, back before
     * it was reaped, may extend it again — nobody else may. */
    assert_int_equal(acquire(h, "w2", SH_T0 + SH_SEC(200), SH_SEC(10), 10, &task, 1, buf, sizeof buf),
                     TEMPO_OK);
    assert_string_equal(buf, "");
    assert_int_equal(sh_extend_leases(h, "w2", NULL, 0, IDS("j"), 1, SH_T0 + SH_SEC(300)), TEMPO_ELEASE);
    assert_int_equal(sh_extend_leases(h, "w1", NULL, 0, IDS("j"), 1, SH_T0 + SH_SEC(300)), TEMPO_OK);
    tempo_job_record_t job;
    assert_true(sh_find_job(h, "j", &job));
    assert_string_equal(job.lease.owner, "w1");
    assert_int_equal(job.lease.until, SH_T0 + SH_SEC(300));
    assert_int_equal(job.lease.fence, 1);
    tempo__job_record_clear(&job);
    sh_result_t reaped;
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(299), &reaped), TEMPO_OK);
    assert_int_equal(reaped.count, 0); /* revived: not abandoned */
    sh_result_free(&reaped);
    /* Nothing to extend: fine. Bad input: EINVAL. */
    assert_int_equal(sh_extend_leases(h, "w2", NULL, 0, NULL, 0, SH_T0), TEMPO_OK);
    assert_int_equal(sh_extend_leases(h, NULL, NULL, 0, NULL, 0, SH_T0), TEMPO_EINVAL);
    assert_int_equal(sh_extend_leases(h, "w2", NULL, 1, NULL, 0, SH_T0), TEMPO_EINVAL);
}

/* The earliest due time of a queued job; running ones never count (a lapsed
 * lease makes a job reapable, not acquirable). */
void sj_next_job_time(void **state)
{
    store_h_t *h = *state;
    assert_int_equal(sh_next_job_time(h), TEMPO_TIME_NONE);
    add_job_ok(h, "later", "task-b", SH_T0 + SH_SEC(50), SH_T0);
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(50));
    add_job_ok(h, "soon", "task-a", SH_T0 + SH_SEC(5), SH_T0);
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(5));
    add_job_ok(h, "now", "task-c", TEMPO_TIME_NONE, SH_T0 + SH_SEC(1));
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(1));
    tempo_task_record_t tasks[2] = {sh_task("task-a", 0), sh_task("task-c", 0)};
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0 + SH_SEC(5), SH_SEC(20), 10, tasks, 2, NULL), TEMPO_OK);
    /* Both running (until T0+25); "later" queued for T0+50. */
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(50));
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(6));
    assert_int_equal(sh_release_job(h, "w1", "soon", 1, &ok), TEMPO_OK);
    assert_int_equal(sh_release_job(h, "w1", "now", 1, &ok), TEMPO_OK);
    assert_int_equal(sh_next_job_time(h), SH_T0 + SH_SEC(50));
}

/* Jobs taken at their schedule's release (store.h, tempo_job_take_t): a
 * store may ignore the request (every fence stays 0, the jobs are queued);
 * one that honours it leases a new job to the releasing owner, within the
 * task's max_running_jobs, and never takes a job whose id existed. The
 * memory store must honour it: it is the dispatch fast path. */
void sj_take_at_release(void **state)
{
    store_h_t *h = *state;
    add_job_ok(h, "j0", "task-a", SH_T0, SH_T0); /* exists already: repeated below */
    tempo_store_added_t what;
    tempo_schedule_record_t rec = sh_schedule(h, "s", SH_T0);
    assert_int_equal(sh_add_schedule(h, &rec, TEMPO_CONFLICT_ERROR, &what), TEMPO_OK);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    int64_t fence = r.schedules[0].lease.fence;
    sh_result_free(&r);

    tempo_job_record_t jobs[4] = {
        sh_job("j0", "task-a", "s", SH_T0, SH_T0), sh_job("j1", "task-a", "s", SH_T0, SH_T0),
        sh_job("j2", "task-a", "s", SH_T0, SH_T0), sh_job("j3", "task-a", "s", SH_T0, SH_T0)};
    tempo_job_take_t take[4];
    for (int i = 0; i < 4; i++)
        take[i] = (tempo_job_take_t){.until = SH_T0 + SH_SEC(30), .max_running = 2, .fence = -1}; /* -1: the store must write it */
    tempo_schedule_release_t rel = {.id = "s", .fence = fence, .next_fire_time = SH_T0 + SH_SEC(60),
                                    .last_fire_time = SH_T0, .jobs = jobs, .job_count = 4, .take = take};
    assert_int_equal(sh_release_schedules(h, "w1", &rel, 1), TEMPO_OK);
    assert_int_equal(rel.status, TEMPO_OK);
    bool honoured = take[1].fence != 0 && take[1].fence != -1;
    if (strcmp(h->store->ops->name, "memory") == 0)
        assert_true(honoured);
    if (!honoured) {
        for (int i = 0; i < 4; i++)
            assert_true(take[i].fence == 0 || take[i].fence == -1); /* untouched, or said "not taken" */
    } else {
        assert_int_equal(take[0].fence, 0); /* j0 existed: never taken */
        assert_int_not_equal(take[2].fence, 0);
        assert_int_equal(take[3].fence, 0); /* two of task-a hold leases: its limit */
        tempo_job_record_t got;
        assert_true(sh_find_job(h, "j1", &got));
        assert_string_equal(got.lease.owner, "w1");
        assert_int_equal(got.lease.until, SH_T0 + SH_SEC(30));
        assert_int_equal(got.lease.fence, take[1].fence);
        tempo__job_record_clear(&got);
    }
    /* What was not taken is queued for anyone; what was taken is not. */
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w2", SH_T0 + SH_SEC(1), SH_SEC(30), 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, honoured ? 2 : 4);
    for (size_t i = 0; i < r.count; i++)
        assert_true(!honoured || strcmp(r.jobs[i].id, "j0") == 0 || strcmp(r.jobs[i].id, "j3") == 0);
    sh_result_free(&r);
    if (honoured) {
        tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + SH_SEC(2));
        assert_int_equal(sh_release_job(h, "w2", "j1", take[1].fence, &ok), TEMPO_ELEASE);
        assert_int_equal(sh_release_job(h, "w1", "j1", take[1].fence, &ok), TEMPO_OK);
        assert_int_equal(sh_release_job(h, "w1", "j2", take[2].fence, &ok), TEMPO_OK);
        assert_false(sh_has_job(h, "j1"));
    }
}
