/* Several processes on one SQLite file (issue 5): acquisition stays
 * exclusive.
 *
 * CHILDREN processes open the same file and, in a loop, acquire schedules
 * and jobs with short leases, release most of what they got at once (a
 * released schedule is due again at once, so they keep competing for it)
 * and drop the rest — letting the lease lapse, as a dead process would, so
 * schedules are taken over and jobs are reaped. Each child logs what it
 * got and when; the parent then checks, for every record, that no two
 * acquisitions overlap:
 *
 *   a holder's window is [got, end): `got` is the real time its acquire
 *   answered, `end` the earlier of its lease expiry and the real time it
 *   issued its release. For a correct store, every later acquisition of the
 *   record (higher fence) answers at or after `end` — it committed after the
 *   release did, or its `now` (read before the call) was past the expiry —
 *   so got(j) >= end(i) for every i before j. Fences are unique per record.
 *
 * and that every schedule and every job was acquired (each job exactly
 * once: a job whose lease lapsed is reaped, never handed out again), and
 * that task-b, max_running_jobs 2, never had more than 2 windows open at
 * once across all processes. The children share nothing but the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_test.h"
#include "store/records.h"

#define CHILDREN 4
#define SCHEDULES 16
#define JOBS_A 160
#define JOBS_B 40
#define LEASE TEMPO_MILLISECONDS(25)
#define MIN_SCHEDULE_ROUNDS 40 /* schedule acquisitions each child makes at least */
#define MAX_ITERATIONS 100000
#define MAX_SECONDS 120

static int64_t real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the parent's setup ---- */

static void populate(store_h_t *h, int64_t due)
{
    char id[32];
    for (int i = 0; i < SCHEDULES; i++) {
        snprintf(id, sizeof id, "s%02d", i);
        tempo_schedule_record_t s = sh_schedule(h, id, due);
        assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
    for (int i = 0; i < JOBS_A + JOBS_B; i++) {
        snprintf(id, sizeof id, "j%03d", i);
        tempo_job_record_t j = sh_job(id, i < JOBS_A ? "task-a" : "task-b", NULL, due + i, due);
        assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    }
}

/* ---- a child ---- */

typedef struct child {
    int index;
    char owner[16];
    FILE *log;
    tempo_vloop_t *vloop;
    tempo_store_t *store;
    unsigned seed;
    int schedule_rounds;
} child_t;

#define OPS(c) ((c)->store->ops)
#define SELF(c) ((c)->store->self)

static int child_fail(child_t *c, const char *what, const sqt_wait_t *w)
{
    fprintf(stderr, "child %d: %s: status %d: %s\n", c->index, what, w ? (int)w->status : -1,
            w ? w->message : "");
    return 1;
}

/* Most records are released at once; one in five is dropped (its lease
 * lapses, as if this process had died holding it). */
static bool drop(child_t *c)
{
    return rand_r(&c->seed) % 5 == 0;
}

static int schedules_round(child_t *c)
{
    sqt_wait_t w = {0};
    OPS(c)->acquire_schedules(SELF(c), c->owner, real_now(), LEASE, 3, sqt_wait_schedules_cb, &w);
    if (!sqt_wait(c->vloop, &w) || w.status != TEMPO_OK)
        return child_fail(c, "acquire_schedules", &w);
    int64_t got = real_now();
    tempo_schedule_release_t rel[3];
    size_t n = 0;
    for (size_t i = 0; i < w.count; i++) {
        const tempo_schedule_record_t *s = &w.schedules[i];
        fprintf(c->log, "S %s %lld %lld %lld\n", s->id, (long long)s->lease.fence, (long long)got,
                (long long)s->lease.until);
        if (!drop(c))
            rel[n++] = (tempo_schedule_release_t){.id = s->id, .fence = s->lease.fence};
    }
    c->schedule_rounds += w.count > 0;
    if (n > 0) {
        sqt_wait_t r = {0};
        int64_t issued = real_now();
        for (size_t i = 0; i < n; i++) {
            rel[i].next_fire_time = issued; /* due again at once: the others compete for it */
            rel[i].last_fire_time = issued;
            fprintf(c->log, "RS %s %lld %lld\n", rel[i].id, (long long)rel[i].fence, (long long)issued);
        }
        OPS(c)->release_schedules(SELF(c), c->owner, rel, n, sqt_wait_status_cb, &r);
        if (!sqt_wait(c->vloop, &r) || r.status != TEMPO_OK)
            return child_fail(c, "release_schedules", &r);
    }
    sqt_wait_free(&w);
    return 0;
}

static int release_job(child_t *c, const tempo_job_record_t *j)
{
    int64_t issued = real_now();
    fprintf(c->log, "RJ %s %lld %lld\n", j->id, (long long)j->lease.fence, (long long)issued);
    tempo_job_result_t res = {.outcome = TEMPO_OUTCOME_SUCCESS, .started_at = issued, .finished_at = issued};
    sqt_wait_t r = {0};
    OPS(c)->release_job(SELF(c), c->owner, j->id, j->lease.fence, &res, sqt_wait_status_cb, &r);
    if (!sqt_wait(c->vloop, &r))
        return child_fail(c, "release_job", &r);
    /* ELEASE: the lease lapsed and the job was reaped meanwhile (slow
     * machine); the log shows the window ended at the expiry anyway. */
    return r.status == TEMPO_OK || r.status == TEMPO_ELEASE ? 0 : child_fail(c, "release_job", &r);
}

/* Returns 0, or 1 on failure; *none when nothing was there to take. */
static int jobs_round(child_t *c, bool *none)
{
    static const tempo_task_record_t tasks[2] = {
        {.id = "task-a", .max_running_jobs = 0, .misfire_grace_time = TEMPO_DURATION_NONE},
        {.id = "task-b", .max_running_jobs = 2, .misfire_grace_time = TEMPO_DURATION_NONE},
    };
    sqt_wait_t w = {0};
    OPS(c)->acquire_jobs(SELF(c), c->owner, real_now(), LEASE, 3, tasks, 2, sqt_wait_jobs_cb, &w);
    if (!sqt_wait(c->vloop, &w) || w.status != TEMPO_OK)
        return child_fail(c, "acquire_jobs", &w);
    int64_t got = real_now();
    *none = w.count == 0;
    int rc = 0;
    for (size_t i = 0; i < w.count; i++)
        fprintf(c->log, "J %s %lld %lld %lld %s\n", w.jobs[i].id, (long long)w.jobs[i].lease.fence,
                (long long)got, (long long)w.jobs[i].lease.until, w.jobs[i].task_id);
    for (size_t i = 0; i < w.count && rc == 0; i++)
        if (!drop(c))
            rc = release_job(c, &w.jobs[i]);
    sqt_wait_free(&w);
    return rc;
}

/* Reap what lapsed (anyone's); true when no job is left at all. */
static int reap_round(child_t *c, bool *empty)
{
    sqt_wait_t w = {0};
    OPS(c)->reap_abandoned(SELF(c), real_now(), sqt_wait_jobs_cb, &w);
    if (!sqt_wait(c->vloop, &w) || w.status != TEMPO_OK)
        return child_fail(c, "reap_abandoned", &w);
    sqt_wait_free(&w);
    OPS(c)->get_jobs(SELF(c), NULL, 0, sqt_wait_jobs_cb, &w);
    if (!sqt_wait(c->vloop, &w) || w.status != TEMPO_OK)
        return child_fail(c, "get_jobs", &w);
    *empty = w.count == 0;
    sqt_wait_free(&w);
    return 0;
}

static int child_loop(child_t *c)
{
    int64_t deadline = real_now() + TEMPO_SECONDS(MAX_SECONDS);
    bool empty = false;
    for (int it = 0; it < MAX_ITERATIONS; it++) {
        if (real_now() > deadline)
            return child_fail(c, "ran out of time", NULL);
        bool none = false;
        if (schedules_round(c) || jobs_round(c, &none))
            return 1;
        if (none && reap_round(c, &empty))
            return 1;
        if (empty && c->schedule_rounds >= MIN_SCHEDULE_ROUNDS)
            return 0;
    }
    return child_fail(c, "too many iterations", NULL);
}

static int child_main(int index)
{
    child_t c = {.index = index, .seed = (unsigned)(getpid() * 7919 + index)};
    snprintf(c.owner, sizeof c.owner, "p%d", index);
    char log_path[600];
    snprintf(log_path, sizeof log_path, "%s/log-%d.txt", sqt.dir, index);
    tempo_loop_t *loop;
    tempo_error_t err;
    if (!(c.log = fopen(log_path, "w")) || tempo_vloop_new(real_now(), &c.vloop, &loop, &err) != TEMPO_OK ||
        !(c.store = sqt_make(NULL)) || c.store->ops->start(c.store->self, loop, &err) != TEMPO_OK)
        return child_fail(&c, "setting up", NULL);
    int rc = child_loop(&c);
    sqt_wait_t w = {0};
    c.store->ops->stop(c.store->self, sqt_wait_status_cb, &w);
    if (!sqt_wait(c.vloop, &w))
        rc = child_fail(&c, "stop", &w);
    tempo_store_free(c.store);
    tempo_loop_free(loop);
    tempo_vloop_free(c.vloop);
    if (fclose(c.log) != 0)
        rc = 1;
    return rc;
}

/* ---- the parent's check ---- */

typedef struct window {
    int child;
    int64_t fence, got, until, end;
    char task[16];
} window_t;

typedef struct record {
    char id[16];
    window_t *w;
    size_t n, cap;
} record_t;

static record_t schedules[SCHEDULES], jobs[JOBS_A + JOBS_B];

static record_t *find(record_t *recs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(recs[i].id, id) == 0)
            return &recs[i];
    fail_msg("the log names an unknown record '%s'", id);
    return NULL;
}

static window_t *window_of(record_t *r, int64_t fence)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->w[i].fence == fence)
            return &r->w[i];
    return NULL;
}

static void read_log(int child)
{
    char path[600], line[256], kind[4], id[16], task[16];
    snprintf(path, sizeof path, "%s/log-%d.txt", sqt.dir, child);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        long long fence, a, b;
        int fields = sscanf(line, "%3s %15s %lld %lld %lld %15s", kind, id, &fence, &a, &b, task);
        bool is_job = kind[0] == 'J' || strcmp(kind, "RJ") == 0;
        record_t *r = is_job ? find(jobs, JOBS_A + JOBS_B, id) : find(schedules, SCHEDULES, id);
        if (kind[0] == 'S' || kind[0] == 'J') {
            assert_true(fields >= 5);
            /* A fence seen twice: two owners of one acquisition. */
            if (window_of(r, fence))
                fail_msg("%s '%s': fence %lld handed out twice", is_job ? "job" : "schedule", id, fence);
            if (r->n == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 8;
                r->w = realloc(r->w, r->cap * sizeof *r->w);
                assert_non_null(r->w);
            }
            r->w[r->n++] = (window_t){child, fence, a, b, b, ""};
            if (fields == 6)
                snprintf(r->w[r->n - 1].task, sizeof r->w[r->n - 1].task, "%s", task);
        } else {
            window_t *w = window_of(r, fence);
            assert_non_null(w);
            assert_int_equal(w->child, child);
            if (a < w->end)
                w->end = a; /* released before its lease expired */
        }
    }
    fclose(f);
}

/* The first two acquisitions of `r` that overlap, described in `msg`;
 * false when there are none. */
static bool overlap(const char *kind, const record_t *r, char *msg, size_t size)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < r->n; j++)
            if (r->w[i].fence < r->w[j].fence && r->w[j].got < r->w[i].end) {
                snprintf(msg, size, "%s '%s': fence %lld (process %d) answered at %lld, before fence %lld "
                         "(process %d) ended at %lld: two holders at once",
                         kind, r->id, (long long)r->w[j].fence, r->w[j].child, (long long)r->w[j].got,
                         (long long)r->w[i].fence, r->w[i].child, (long long)r->w[i].end);
                return true;
            }
    return false;
}

static size_t check_record(const char *kind, record_t *r)
{
    char msg[256];
    if (r->n == 0)
        fail_msg("%s '%s' was never acquired", kind, r->id);
    if (overlap(kind, r, msg, sizeof msg))
        fail_msg("%s", msg);
    return r->n;
}

/* The most task-b windows open at one instant (sweep over starts/ends). */
static int max_overlap(const char *task)
{
    int most = 0;
    for (size_t a = 0; a < JOBS_A + JOBS_B; a++) {
        for (size_t i = 0; i < jobs[a].n; i++) {
            const window_t *w = &jobs[a].w[i];
            if (strcmp(w->task, task) != 0 || w->end <= w->got)
                continue;
            int open = 0; /* windows open at w->got */
            for (size_t b = 0; b < JOBS_A + JOBS_B; b++)
                for (size_t k = 0; k < jobs[b].n; k++) {
                    const window_t *x = &jobs[b].w[k];
                    open += strcmp(x->task, task) == 0 && x->got <= w->got && w->got < x->end;
                }
            most = open > most ? open : most;
        }
    }
    return most;
}

static void test_exclusive_across_processes(void **state)
{
    store_h_t *h = *state;
    populate(h, real_now() - TEMPO_SECONDS(1));
    sqt_close(h); /* no connection and no thread of ours across fork() */

    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(child_main(i));
    }
    int failed = 0;
    for (int i = 0; i < CHILDREN; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    assert_int_equal(failed, 0);

    for (int i = 0; i < SCHEDULES; i++)
        snprintf(schedules[i].id, sizeof schedules[i].id, "s%02d", i);
    for (int i = 0; i < JOBS_A + JOBS_B; i++)
        snprintf(jobs[i].id, sizeof jobs[i].id, "j%03d", i);
    for (int i = 0; i < CHILDREN; i++)
        read_log(i);
    size_t schedule_windows = 0, takeovers = 0, per_child[CHILDREN] = {0};
    for (int i = 0; i < SCHEDULES; i++) {
        schedule_windows += check_record("schedule", &schedules[i]);
        for (size_t k = 0; k < schedules[i].n; k++) {
            per_child[schedules[i].w[k].child]++;
            takeovers += schedules[i].w[k].end == schedules[i].w[k].until && k + 1 < schedules[i].n;
        }
    }
    for (int i = 0; i < JOBS_A + JOBS_B; i++) {
        check_record("job", &jobs[i]);
        if (jobs[i].n != 1)
            fail_msg("job '%s' was acquired %zu times", jobs[i].id, jobs[i].n);
    }
    int b_max = max_overlap("task-b");
    print_message("  %d processes: %zu schedule acquisitions (%zu after a lapsed lease), %d jobs each acquired "
                  "once, at most %d task-b jobs at once (limit 2)\n",
                  CHILDREN, schedule_windows, takeovers, JOBS_A + JOBS_B, b_max);
    for (int i = 0; i < CHILDREN; i++)
        assert_true(per_child[i] > 0); /* they did compete */
    assert_true(takeovers > 0);
    assert_true(b_max <= 2);
    for (int i = 0; i < SCHEDULES; i++)
        free(schedules[i].w);
    for (int i = 0; i < JOBS_A + JOBS_B; i++)
        free(jobs[i].w);
}

/* The check must be able to fail: two overlapping windows are caught. */
static void test_check_catches_overlap(void **state)
{
    (void)state;
    record_t r = {.id = "x"};
    window_t w[2] = {{0, 1, 100, 200, 200, ""}, {1, 2, 150, 300, 300, ""}};
    r.w = w;
    r.n = 2;
    char msg[256];
    assert_true(overlap("schedule", &r, msg, sizeof msg));
    w[1].got = 200; /* answered when the first ended: fine */
    assert_false(overlap("schedule", &r, msg, sizeof msg));
    w[0].end = 150; /* released early: fine too */
    w[1].got = 150;
    assert_false(overlap("schedule", &r, msg, sizeof msg));
}

int main(void)
{
    sqt_init("sqlite-processes");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_catches_overlap),
        cmocka_unit_test_setup_teardown(test_exclusive_across_processes, sh_setup, sh_teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite store: several processes", tests, NULL, NULL);
    sqt_fini();
    return failed;
}
