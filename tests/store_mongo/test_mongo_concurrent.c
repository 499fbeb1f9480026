/* Two MongoDB store instances on one database — two "processes", each with
 * its own offload thread and client pool — acquiring at the same time:
 * never do both hold one record, takeovers of expired schedule leases hand
 * each schedule to exactly one of them, and max_running_jobs holds across
 * both. Both race for the same records: they see the same candidates, in
 * the same order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop_internal.h"
#include "mongo_pair.h"
#include "mongo_test.h"
#include "store/records.h"
#include "store_harness.h"

#define NSTORES MT_PAIR_STORES
#define NRECORDS 240
#define BATCH 25
#define MAX_ROUNDS 200

static const char *uri;

typedef mt_pair_t pair_t;

static const char *const owners[NSTORES] = {"proc-a", "proc-b"};

static int setup(void **state)
{
    return mt_pair_setup(state, uri, "concurrent");
}

static int teardown(void **state)
{
    return mt_pair_teardown(state);
}

/* ---- who holds what ---- */

typedef struct holders {
    int holder[NRECORDS]; /* store index; -1: none; -2: finished */
    int64_t fence[NRECORDS];
} holders_t;

static int index_of(const char *id)
{
    int i = -1;
    if (sscanf(id + 1, "%d", &i) != 1 || i < 0 || i >= NRECORDS)
        fail_msg("unexpected id '%s'", id);
    return i;
}

/* Record what store `s` got; a record already held by someone is a double
 * acquisition. */
static void took(holders_t *hs, int s, const char *id, const tempo_lease_t *lease, const char *what)
{
    int i = index_of(id);
    if (hs->holder[i] >= 0)
        fail_msg("%s '%s' acquired by %s while %s holds it", what, id, owners[s], owners[hs->holder[i]]);
    if (hs->holder[i] == -2)
        fail_msg("%s '%s' acquired by %s after it finished", what, id, owners[s]);
    assert_string_equal(lease->owner, owners[s]);
    hs->holder[i] = s;
    hs->fence[i] = lease->fence;
}

/* Both stores acquire at `now` until neither gets anything; returns how
 * many records were taken in all. */
static int race_schedules(pair_t *p, holders_t *hs, tempo_time_t now, tempo_duration_t lease)
{
    int total = 0, rounds = 0;
    for (;;) {
        sh_result_t r[NSTORES] = {{0}};
        for (int s = 0; s < NSTORES; s++)
            p->store[s]->ops->acquire_schedules(p->store[s]->self, owners[s], now, lease, BATCH, sh_schedules_cb,
                                                &r[s]);
        sh_wait_calls(&p->h, (int *const[]){&r[0].calls, &r[1].calls}, NSTORES);
        int got = 0;
        for (int s = 0; s < NSTORES; s++) {
            assert_int_equal(r[s].status, TEMPO_OK);
            for (size_t k = 0; k < r[s].count; k++)
                took(hs, s, r[s].schedules[k].id, &r[s].schedules[k].lease, "schedule");
            got += (int)r[s].count;
            sh_result_free(&r[s]);
        }
        total += got;
        if (got == 0)
            return total;
        assert_true(++rounds < MAX_ROUNDS);
    }
}

static void reset(holders_t *hs)
{
    for (int i = 0; i < NRECORDS; i++)
        hs->holder[i] = -1;
}

static void schedules_exclusive(void **state)
{
    pair_t *p = *state;
    for (int i = 0; i < NRECORDS; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%03d", i);
        tempo_schedule_record_t s = sh_schedule(&p->h, id, SH_T0 - NRECORDS + i);
        assert_int_equal(sh_add_schedule(&p->h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    holders_t hs;
    reset(&hs);
    assert_int_equal(race_schedules(p, &hs, SH_T0, SH_SEC(60)), NRECORDS);
    int by[NSTORES] = {0};
    for (int i = 0; i < NRECORDS; i++) {
        assert_int_equal(hs.fence[i], 1);
        by[hs.holder[i]]++;
    }
    printf("  first acquisition: %d by %s, %d by %s\n", by[0], owners[0], by[1], owners[1]);
    /* Every lease expired (nobody released): both take over at once. */
    reset(&hs);
    assert_int_equal(race_schedules(p, &hs, SH_T0 + SH_SEC(61), SH_SEC(60)), NRECORDS);
    sh_result_t all;
    assert_int_equal(sh_get_schedules(&p->h, NULL, 0, &all), TEMPO_OK);
    assert_int_equal(all.count, NRECORDS);
    for (size_t k = 0; k < all.count; k++) {
        int i = index_of(all.schedules[k].id);
        assert_int_equal(hs.fence[i], 2);
        assert_int_equal(all.schedules[k].lease.fence, 2);
        assert_string_equal(all.schedules[k].lease.owner, owners[hs.holder[i]]);
    }
    sh_result_free(&all);
}

/* ---- jobs ---- */

static void add_jobs(pair_t *p, const char *task)
{
    for (int i = 0; i < NRECORDS; i++) {
        char id[16];
        snprintf(id, sizeof id, "j%03d", i);
        tempo_job_record_t j = sh_job(id, task, NULL, SH_T0 - NRECORDS + i, SH_T0 - NRECORDS);
        assert_int_equal(sh_add_job(&p->h, &j), TEMPO_OK);
    }
}

/* One round: both acquire at once. */
static int race_jobs_once(pair_t *p, holders_t *hs, tempo_time_t now, const tempo_task_record_t *task)
{
    sh_result_t r[NSTORES] = {{0}};
    for (int s = 0; s < NSTORES; s++)
        p->store[s]->ops->acquire_jobs(p->store[s]->self, owners[s], now, SH_SEC(1000), BATCH, task, 1, sh_jobs_cb,
                                       &r[s]);
    sh_wait_calls(&p->h, (int *const[]){&r[0].calls, &r[1].calls}, NSTORES);
    int got = 0;
    for (int s = 0; s < NSTORES; s++) {
        assert_int_equal(r[s].status, TEMPO_OK);
        for (size_t k = 0; k < r[s].count; k++)
            took(hs, s, r[s].jobs[k].id, &r[s].jobs[k].lease, "job");
        got += (int)r[s].count;
        sh_result_free(&r[s]);
    }
    return got;
}

static void jobs_exclusive(void **state)
{
    pair_t *p = *state;
    add_jobs(p, "task-a");
    tempo_task_record_t task = sh_task("task-a", 0);
    holders_t hs;
    reset(&hs);
    int total = 0, got, rounds = 0;
    while ((got = race_jobs_once(p, &hs, SH_T0, &task)) > 0) {
        total += got;
        assert_true(++rounds < MAX_ROUNDS);
    }
    assert_int_equal(total, NRECORDS);
    for (int i = 0; i < NRECORDS; i++)
        assert_int_equal(hs.fence[i], 1);
}

/* Unexpired leases of the task right now, from the store's own view. */
static int running_now(pair_t *p, tempo_time_t now, holders_t *hs)
{
    sh_result_t all;
    assert_int_equal(sh_get_jobs(&p->h, NULL, 0, &all), TEMPO_OK);
    int n = 0;
    for (size_t k = 0; k < all.count; k++) {
        const tempo_lease_t *l = &all.jobs[k].lease;
        if (!l->owner || l->until <= now)
            continue;
        n++;
        int i = index_of(all.jobs[k].id);
        if (hs->holder[i] < 0 || strcmp(owners[hs->holder[i]], l->owner) != 0)
            fail_msg("job '%s' is leased to %s, who was not handed it", all.jobs[k].id, l->owner);
    }
    sh_result_free(&all);
    return n;
}

/* max_running_jobs = 5 over both: after every simultaneous round, at most 5
 * unexpired leases; a few finish each round and free their slots. */
static void max_running_across(void **state)
{
    pair_t *p = *state;
    enum { MAX = 5 };
    add_jobs(p, "task-x");
    tempo_task_record_t task = sh_task("task-x", MAX);
    holders_t hs;
    reset(&hs);
    int done = 0, rounds = 0, full = 0;
    tempo_time_t now = SH_T0;
    while (done < NRECORDS) {
        assert_true(++rounds < 4 * NRECORDS);
        race_jobs_once(p, &hs, now, &task);
        int running = running_now(p, now, &hs);
        if (running > MAX)
            fail_msg("round %d: %d jobs of a task limited to %d hold unexpired leases", rounds, running, MAX);
        full += running == MAX;
        /* Finish the two oldest running jobs (whoever holds them). */
        int finished = 0;
        for (int i = 0; i < NRECORDS && finished < 2; i++) {
            if (hs.holder[i] < 0)
                continue;
            tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, now);
            sh_result_t r = {0};
            char id[16];
            snprintf(id, sizeof id, "j%03d", i);
            tempo_store_t *s = p->store[hs.holder[i]];
            s->ops->release_job(s->self, owners[hs.holder[i]], id, hs.fence[i], &ok, sh_status_cb, &r);
            sh_wait_calls(&p->h, (int *const[]){&r.calls}, 1);
            assert_int_equal(r.status, TEMPO_OK);
            hs.holder[i] = -2; /* done: never again */
            finished++;
            done++;
        }
        assert_true(finished > 0 || running_now(p, now, &hs) == 0);
        now += SH_SEC(1);
    }
    printf("  %d rounds, %d of them with all %d slots in use\n", rounds, full, MAX);
    sh_result_t left;
    assert_int_equal(sh_get_jobs(&p->h, NULL, 0, &left), TEMPO_OK);
    assert_int_equal(left.count, 0);
    sh_result_free(&left);
}

int main(void)
{
    uri = mt_uri();
    static const tempo_store_factory_t factory = {.name = "mongodb (two processes)"};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schedules_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(max_running_across, setup, teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: two processes", tests, NULL, NULL);
}
