/* Conformance cases: listing stored results (list_results): newest first
 * with ties by job id, of one schedule or of all jobs, a limit, results
 * expired at the given `now` left out, bad input refused.
 *
 * Results are made as the scheduler makes them: a job is added, acquired
 * and released with an outcome; the store keeps the result when the job's
 * result_expiration is > 0. */
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

/* What one list_results call answered (records.h copies). */
typedef struct listing {
    int calls;
    tempo_status_t status;
    char message[TEMPO_ERROR_MESSAGE_MAX];
    tempo_job_result_t *results;
    size_t count;
} listing_t;

static void listing_free(listing_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        tempo__job_result_clear(&l->results[i]);
    free(l->results);
    memset(l, 0, sizeof *l);
}

/* The checks every harness callback makes (store_harness.c), for this one. */
static void listed_cb(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *recs,
                      size_t count)
{
    listing_t *l = ud;
    assert_false(sh_in_call); /* never inside the call that started it */
    l->calls++;
    sh_seq++;
    l->status = status;
    assert_true(count == 0 || recs != NULL);
    if (status != TEMPO_OK) {
        assert_non_null(err);
        assert_int_equal(err->code, status);
        assert_true(err->message[0] != '\0');
        snprintf(l->message, sizeof l->message, "%s", err->message);
        assert_int_equal(count, 0);
        return;
    }
    l->results = count ? calloc(count, sizeof *l->results) : NULL;
    for (size_t i = 0; i < count; i++)
        assert_int_equal(tempo__job_result_copy(&l->results[i], &recs[i], NULL), TEMPO_OK);
    l->count = count;
}

static tempo_status_t list(store_h_t *h, const char *schedule_id, tempo_time_t now, size_t limit, listing_t *out)
{
    const tempo_store_ops_t *ops = h->store->ops;
    if (ops->size < offsetof(tempo_store_ops_t, list_results) + sizeof ops->list_results || !ops->list_results)
        fail_msg("store '%s' has no list_results", sh_factory->name);
    memset(out, 0, sizeof *out);
    sh_in_call = true;
    ops->list_results(h->store->self, schedule_id, now, limit, listed_cb, out);
    sh_in_call = false;
    assert_int_equal(out->calls, 0);
    sh_wait_calls(h, (int *const[]){&out->calls}, 1);
    assert_int_equal(out->calls, 1);
    return out->status;
}

/* The job ids of a listing, joined with spaces. */
static const char *ids(const listing_t *l, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", l->results[i].job_id);
    return buf;
}

/* The ids a call lists, or "error: <status name>" when it fails. */
static const char *listed(store_h_t *h, const char *schedule_id, tempo_time_t now, size_t limit, char *buf,
                          size_t size)
{
    listing_t l;
    if (list(h, schedule_id, now, limit, &l) != TEMPO_OK)
        snprintf(buf, size, "error: %s", tempo_strerror(l.status));
    else
        ids(&l, buf, size);
    listing_free(&l);
    return buf;
}

/* A finished job: added, acquired and released at `finished_at` with
 * `outcome`; its result is kept for `keep` (0: not at all). */
static void finish(store_h_t *h, const char *id, const char *schedule_id, tempo_time_t finished_at,
                   tempo_duration_t keep, tempo_outcome_t outcome)
{
    tempo_job_record_t j = sh_job(id, "task-a", schedule_id, SH_T0 - SH_SEC(10), SH_T0 - SH_SEC(10));
    j.result_expiration = keep;
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    tempo_task_record_t task = sh_task("task-a", 0);
    sh_result_t got;
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0, SH_SEC(30), 1, &task, 1, &got), TEMPO_OK);
    assert_int_equal(got.count, 1);
    assert_string_equal(got.jobs[0].id, id);
    int64_t fence = got.jobs[0].lease.fence;
    sh_result_free(&got);
    tempo_job_result_t res = sh_outcome(outcome, finished_at);
    if (outcome != TEMPO_OUTCOME_SUCCESS)
        res.error = "it went wrong";
    assert_int_equal(sh_release_job(h, "w1", id, fence, &res), TEMPO_OK);
}

#define KEEP SH_SEC(3600)

/* Newest finished_at first; equal times by job id; results kept for no
 * time are not listed; every field comes back. */
void sr_order(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    assert_string_equal(listed(h, NULL, SH_T0, 0, buf, sizeof buf), ""); /* none yet */
    finish(h, "j-old", "s1", SH_T0 + SH_SEC(1), KEEP, TEMPO_OUTCOME_SUCCESS);
    finish(h, "j-new", "s2", SH_T0 + SH_SEC(9), KEEP, TEMPO_OUTCOME_ERROR);
    finish(h, "j-tie-b", "s1", SH_T0 + SH_SEC(5), KEEP, TEMPO_OUTCOME_SUCCESS);
    finish(h, "j-tie-a", NULL, SH_T0 + SH_SEC(5), KEEP, TEMPO_OUTCOME_MISSED_START_DEADLINE);
    finish(h, "j-gone", "s1", SH_T0 + SH_SEC(7), 0, TEMPO_OUTCOME_SUCCESS); /* kept for no time */
    assert_string_equal(listed(h, NULL, SH_T0, 0, buf, sizeof buf), "j-new j-tie-a j-tie-b j-old");

    listing_t l;
    assert_int_equal(list(h, NULL, SH_T0, 0, &l), TEMPO_OK);
    const tempo_job_result_t *r = &l.results[0];
    assert_string_equal(r->job_id, "j-new");
    assert_string_equal(r->task_id, "task-a");
    assert_string_equal(r->schedule_id, "s2");
    assert_int_equal(r->outcome, TEMPO_OUTCOME_ERROR);
    assert_int_equal(r->scheduled_fire_time, SH_T0 - SH_SEC(10));
    assert_int_equal(r->started_at, SH_T0 + SH_SEC(8));
    assert_int_equal(r->finished_at, SH_T0 + SH_SEC(9));
    assert_int_equal(r->expires_at, SH_T0 + SH_SEC(9) + KEEP);
    assert_string_equal(r->error, "it went wrong");
    assert_null(l.results[1].schedule_id);
    assert_int_equal(l.results[1].outcome, TEMPO_OUTCOME_MISSED_START_DEADLINE);
    listing_free(&l);

    /* A reaped job's ABANDONED result is a result like the others. */
    tempo_job_record_t j = sh_job("j-lost", "task-a", "s1", SH_T0 - SH_SEC(10), SH_T0 - SH_SEC(10));
    j.result_expiration = KEEP;
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w2", SH_T0, SH_SEC(30), 1, &task, 1, NULL), TEMPO_OK);
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(30), NULL), TEMPO_OK);
    assert_int_equal(list(h, NULL, SH_T0, 1, &l), TEMPO_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.results[0].job_id, "j-lost");
    assert_int_equal(l.results[0].outcome, TEMPO_OUTCOME_ABANDONED);
    assert_int_equal(l.results[0].finished_at, SH_T0 + SH_SEC(30));
    listing_free(&l);
}

/* One schedule's results only; NULL lists every job's, with or without a
 * schedule; an unknown schedule has none. */
void sr_filter(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    finish(h, "a1", "sched-a", SH_T0 + SH_SEC(1), KEEP, TEMPO_OUTCOME_SUCCESS);
    finish(h, "b1", "sched-b", SH_T0 + SH_SEC(2), KEEP, TEMPO_OUTCOME_SUCCESS);
    finish(h, "a2", "sched-a", SH_T0 + SH_SEC(3), KEEP, TEMPO_OUTCOME_ERROR);
    finish(h, "n1", NULL, SH_T0 + SH_SEC(4), KEEP, TEMPO_OUTCOME_SUCCESS);
    finish(h, "ab", "sched-ab", SH_T0 + SH_SEC(5), KEEP, TEMPO_OUTCOME_SUCCESS); /* not a prefix match */
    assert_string_equal(listed(h, "sched-a", SH_T0, 0, buf, sizeof buf), "a2 a1");
    assert_string_equal(listed(h, "sched-b", SH_T0, 0, buf, sizeof buf), "b1");
    assert_string_equal(listed(h, "sched-ab", SH_T0, 0, buf, sizeof buf), "ab");
    assert_string_equal(listed(h, "sched-", SH_T0, 0, buf, sizeof buf), "");
    assert_string_equal(listed(h, "nope", SH_T0, 0, buf, sizeof buf), "");
    assert_string_equal(listed(h, NULL, SH_T0, 0, buf, sizeof buf), "ab n1 a2 b1 a1");
}

/* At most `limit`, the newest ones; 0 is no limit. */
void sr_limit(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "j%d", i);
        finish(h, id, i % 2 ? "odd" : "even", SH_T0 + SH_SEC(i), KEEP, TEMPO_OUTCOME_SUCCESS);
    }
    assert_string_equal(listed(h, NULL, SH_T0, 1, buf, sizeof buf), "j5");
    assert_string_equal(listed(h, NULL, SH_T0, 3, buf, sizeof buf), "j5 j4 j3");
    assert_string_equal(listed(h, NULL, SH_T0, 6, buf, sizeof buf), "j5 j4 j3 j2 j1 j0");
    assert_string_equal(listed(h, NULL, SH_T0, 100, buf, sizeof buf), "j5 j4 j3 j2 j1 j0");
    assert_string_equal(listed(h, NULL, SH_T0, 0, buf, sizeof buf), "j5 j4 j3 j2 j1 j0");
    assert_string_equal(listed(h, "even", SH_T0, 2, buf, sizeof buf), "j4 j2");
    assert_string_equal(listed(h, "odd", SH_T0, 1, buf, sizeof buf), "j5");
    assert_string_equal(listed(h, "odd", SH_T0, SIZE_MAX, buf, sizeof buf), "j5 j3 j1");
}

/* A result is listed while now < expires_at, as get_job_result has it:
 * `now` decides, whether or not cleanup ran yet. */
void sr_expiry(void **state)
{
    store_h_t *h = *state;
    char buf[256];
    finish(h, "short", "s", SH_T0 + SH_SEC(5), SH_SEC(60), TEMPO_OUTCOME_SUCCESS);  /* until T0 + 65 s */
    finish(h, "long", "s", SH_T0 + SH_SEC(1), SH_SEC(600), TEMPO_OUTCOME_SUCCESS);  /* until T0 + 601 s */
    assert_string_equal(listed(h, NULL, SH_T0 + SH_SEC(64), 0, buf, sizeof buf), "short long");
    assert_string_equal(listed(h, NULL, SH_T0 + SH_SEC(65), 0, buf, sizeof buf), "long");
    assert_string_equal(listed(h, "s", SH_T0 + SH_SEC(65), 1, buf, sizeof buf), "long");
    /* An earlier `now` still sees it until cleanup deletes it. */
    assert_string_equal(listed(h, "s", SH_T0, 0, buf, sizeof buf), "short long");
    assert_int_equal(sh_cleanup(h, SH_T0 + SH_SEC(65)), TEMPO_OK);
    assert_string_equal(listed(h, "s", SH_T0, 0, buf, sizeof buf), "long");
    assert_string_equal(listed(h, NULL, SH_T0 + SH_SEC(601), 0, buf, sizeof buf), "");
    /* The listing itself deletes nothing. */
    assert_int_equal(sh_get_job_result(h, "long", NULL), TEMPO_OK);
}

/* An empty schedule id and a missing `now` are refused with a message; a
 * NULL callback is allowed (the answer is dropped). */
void sr_bad_input(void **state)
{
    store_h_t *h = *state;
    finish(h, "j", "s", SH_T0 + SH_SEC(1), KEEP, TEMPO_OUTCOME_SUCCESS);
    listing_t l;
    assert_int_equal(list(h, "", SH_T0, 0, &l), TEMPO_EINVAL);
    assert_non_null(strstr(l.message, "list_results"));
    assert_non_null(strstr(l.message, "schedule_id"));
    listing_free(&l);
    assert_int_equal(list(h, NULL, TEMPO_TIME_NONE, 0, &l), TEMPO_EINVAL);
    assert_non_null(strstr(l.message, "now"));
    listing_free(&l);
    assert_int_equal(list(h, "s", TEMPO_TIME_NONE, 5, &l), TEMPO_EINVAL);
    listing_free(&l);
    h->store->ops->list_results(h->store->self, "s", SH_T0, 0, NULL, NULL);
    char buf[64];
    assert_string_equal(listed(h, "s", SH_T0, 0, buf, sizeof buf), "j"); /* still answering, in order */
}
