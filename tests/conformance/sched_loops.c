/* The cases of sched_loops.h: the scheduler's public API on a real host
 * loop, on real time. Each case gets a fresh host loop, adapter and
 * scheduler (memory store, fixed seed) that records every event and every
 * run of its in-loop tasks.
 *
 * Bounds are generous on purpose (LAG_MAX_US, the timeouts): the machines
 * that run this are shared and sanitizer builds are slow. They still catch
 * what they are for — a fire that waits for the 10 s poll interval, a
 * wake-up that never comes, a stop that never finishes — because those
 * miss them by seconds, not milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tempo/tempo.h>

#include "sched_loops.h"

#define TIMEOUT_MS 5000
#define SLICE_MS 50
/* A fire may start at most this late: hundreds of times what a healthy
 * loop shows (about 1 ms), and still far below the 10 s poll interval that
 * a missed timer would fall back to. */
#define LAG_MAX_US 500000
#define MAX_RUNS 64
#define MAX_EVENTS 256

/* ---- clocks -------------------------------------------------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The clock every adapter's now() reads: schedules are due on it. */
static tempo_time_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tempo_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- blocking work ---------------------------------------------------------- */

/* A gate a blocking job waits at, for at most cap_ms: bounded, so that a
 * failing case cannot hang the free that joins the pool. It lives in the
 * fixture, which outlives the pool (a case that fails early leaves its
 * stack while a pool thread may still be waiting). */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    atomic_bool entered;
    int cap_ms;
} gate_t;

static void gate_init(gate_t *g, int cap_ms)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = false;
    atomic_init(&g->entered, false);
    g->cap_ms = cap_ms;
}

static void gate_destroy(gate_t *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_open(void *arg)
{
    gate_t *g = arg;
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* The job's work: wait at the gate until it opens or cap_ms passed. */
static tempo_status_t gated_blocking(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)args, (void)err;
    gate_t *g = ud;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += g->cap_ms / 1000;
    until.tv_nsec += (long)(g->cap_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    atomic_store(&g->entered, true);
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (!g->open && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->cv, &g->mu, &until);
    bool opened = g->open;
    pthread_mutex_unlock(&g->mu);
    BSON_APPEND_BOOL(result, "opened", opened);
    return TEMPO_OK;
}

typedef struct pool_probe {
    pthread_t loop_thread;
    atomic_bool off_loop;        /* ran on a thread other than the loop's */
    atomic_llong returned_mono;  /* when the function returned */
} pool_probe_t;

/* ---- the fixture ------------------------------------------------------------ */

typedef struct run_rec {
    char job_id[40];
    tempo_time_t scheduled, started;
} run_rec_t;

typedef struct fx {
    const sched_driver_t *d;
    void *host;
    tempo_scheduler_t *s;
    pthread_t loop_thread;
    /* runs of loop_task, in order */
    run_rec_t runs[MAX_RUNS];
    int n_runs;
    /* loop_task keeps the job open instead of completing it */
    bool hold;
    tempo_job_t *held[MAX_RUNS];
    /* every event, in order */
    tempo_event_type_t ev_type[MAX_EVENTS];
    tempo_time_t ev_at[MAX_EVENTS], ev_scheduled[MAX_EVENTS];
    tempo_outcome_t ev_outcome[MAX_EVENTS];
    int n_events;
    /* tempo_scheduler_stop's answer */
    bool stopped;
    tempo_status_t stop_status;
    /* for the blocking tasks */
    gate_t gate;
    pool_probe_t probe;
} fx_t;

static void on_event(const tempo_event_t *ev, void *ud)
{
    fx_t *f = ud;
    if (f->n_events >= MAX_EVENTS)
        return;
    int i = f->n_events++;
    f->ev_type[i] = ev->type;
    f->ev_at[i] = ev->timestamp;
    f->ev_scheduled[i] = ev->scheduled_fire_time;
    f->ev_outcome[i] = ev->outcome;
}

static fx_t *fx_open(const sched_driver_t *d)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->d = d;
    f->loop_thread = pthread_self();
    gate_init(&f->gate, 10000);
    f->probe.loop_thread = f->loop_thread;
    f->host = d->host_new();
    assert_non_null(f->host);
    tempo_loop_t *loop = NULL;
    tempo_error_t err = {0};
    assert_int_equal(d->loop_new(f->host, &loop, &err), TEMPO_OK);
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.identity = "sched-loops";
    o.seed = 7;
    o.thread_pool_size = 2;
    if (tempo_scheduler_new(loop, NULL, &o, &f->s, &err) != TEMPO_OK) {
        tempo_loop_free(loop);
        fail_msg("tempo_scheduler_new on %s: %s", d->name, err.message);
    }
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(f->s, TEMPO_EVENT_ALL, on_event, f, &sub, &err), TEMPO_OK);
    return f;
}

/* Free the scheduler (if the case did not), then the handles it left open
 * (they answer ECANCELLED and are freed by that call), then the host. */
static void fx_close(fx_t *f)
{
    gate_open(&f->gate); /* so that free need not wait out the cap */
    tempo_scheduler_free(f->s);
    f->s = NULL;
    for (int i = 0; i < MAX_RUNS; i++)
        if (f->held[i])
            tempo_job_complete(f->held[i], NULL);
    f->d->host_free(f->host);
    gate_destroy(&f->gate);
    free(f);
}

static int setup(void **state)
{
    *state = fx_open(*state);
    return 0;
}

static int teardown(void **state)
{
    fx_close(*state);
    return 0;
}

/* ---- running the host loop -------------------------------------------------- */

/* Run the host loop until cond(arg) or `timeout_ms` passed; each iteration
 * blocks at most `slice_ms`. Wake-up cases pass slice == timeout: then only
 * the wake-up under test can end an iteration in time. */
static bool run_until(fx_t *f, bool (*cond)(void *), void *arg, int timeout_ms, int slice_ms)
{
    int64_t end = mono_us() + (int64_t)timeout_ms * 1000;
    while (!cond(arg)) {
        int64_t left_ms = (end - mono_us()) / 1000;
        if (left_ms <= 0)
            return cond(arg);
        f->d->run_once(f->host, left_ms < slice_ms ? (int)left_ms : slice_ms);
    }
    return true;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

/* Run for about `ms` (to show something does not happen, or to let time pass). */
static void run_for(fx_t *f, int ms)
{
    run_until(f, never, NULL, ms, SLICE_MS);
}

static bool flag_set(void *arg)
{
    return *(bool *)arg;
}

static bool atomic_flag_set(void *arg)
{
    return atomic_load((atomic_bool *)arg);
}

typedef struct at_least {
    const int *value;
    int want;
} at_least_t;

static bool reached(void *arg)
{
    at_least_t *a = arg;
    return *a->value >= a->want;
}

static bool runs_reach(fx_t *f, int want, int timeout_ms)
{
    at_least_t a = {&f->n_runs, want};
    return run_until(f, reached, &a, timeout_ms, SLICE_MS);
}

static int count_events(const fx_t *f, tempo_event_type_t type)
{
    int n = 0;
    for (int i = 0; i < f->n_events; i++)
        n += f->ev_type[i] == type;
    return n;
}

static int first_event(const fx_t *f, tempo_event_type_t type)
{
    for (int i = 0; i < f->n_events; i++)
        if (f->ev_type[i] == type)
            return i;
    return -1;
}

static int count_outcome(const fx_t *f, tempo_outcome_t outcome)
{
    int n = 0;
    for (int i = 0; i < f->n_events; i++)
        n += f->ev_type[i] == TEMPO_EVENT_JOB_RELEASED && f->ev_outcome[i] == outcome;
    return n;
}

/* ---- tasks, jobs and results ------------------------------------------------ */

static bson_t *value_doc(int n)
{
    return BCON_NEW("n", BCON_INT32(n));
}

static int value_of(const bson_t *doc)
{
    bson_iter_t it;
    if (doc && bson_iter_init_find(&it, doc, "n") && BSON_ITER_HOLDS_INT32(&it))
        return bson_iter_int32(&it);
    return -1;
}

/* The in-loop task most cases use: record the run, then complete with the
 * run's number — or keep the job open (fx.hold) for the case to finish. */
static void loop_task(tempo_job_t *job, void *ud)
{
    fx_t *f = ud;
    if (f->n_runs >= MAX_RUNS) {
        tempo_job_fail(job, "too many runs");
        return;
    }
    int i = f->n_runs++;
    run_rec_t *r = &f->runs[i];
    snprintf(r->job_id, sizeof r->job_id, "%s", tempo_job_id(job));
    r->scheduled = tempo_job_scheduled_fire_time(job);
    r->started = real_us();
    if (f->hold) {
        f->held[i] = job;
        return;
    }
    bson_t *v = value_doc(i + 1);
    tempo_job_complete(job, v);
    bson_destroy(v);
}

static void add_task(fx_t *f, const char *id, tempo_task_fn fn, tempo_task_blocking_fn blocking, void *ud,
                     int max_running)
{
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = id;
    t.fn = fn;
    t.blocking_fn = blocking;
    t.userdata = ud;
    t.max_running_jobs = max_running;
    tempo_error_t err = {0};
    if (tempo_scheduler_add_task(f->s, &t, &err) != TEMPO_OK)
        fail_msg("add_task '%s': %s", id, err.message);
}

static void start(fx_t *f)
{
    tempo_error_t err = {0};
    if (tempo_scheduler_start(f->s, &err) != TEMPO_OK)
        fail_msg("start: %s", err.message);
}

typedef struct result_slot {
    bool done;
    tempo_status_t status;
    tempo_outcome_t outcome;
    tempo_time_t started_at, finished_at;
    int value;          /* "n" of the return value, -1 when none */
    int64_t at_mono_us; /* when the answer came */
} result_slot_t;

static void on_result(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)err;
    result_slot_t *r = ud;
    r->done = true;
    r->status = st;
    r->at_mono_us = mono_us();
    r->value = -1;
    if (res) {
        r->outcome = res->outcome;
        r->started_at = res->started_at;
        r->finished_at = res->finished_at;
        r->value = value_of(res->return_value);
    }
}

typedef struct job_slot {
    fx_t *f;
    bool added;
    tempo_status_t status;
    char id[40];
    /* Non-NULL: wait for the job's result, asked from the add callback —
     * before the job can possibly run, so that a result kept for no time
     * (result_expiration 0) is still seen. */
    result_slot_t *wait;
    tempo_status_t wait_rc;
} job_slot_t;

static void on_job_added(void *ud, tempo_status_t st, const tempo_error_t *err, const char *id)
{
    (void)err;
    job_slot_t *j = ud;
    j->added = true;
    j->status = st;
    snprintf(j->id, sizeof j->id, "%s", id ? id : "");
    if (j->wait && st == TEMPO_OK)
        j->wait_rc = tempo_scheduler_wait_job_result(j->f->s, id, TEMPO_SECONDS(10), on_result, j->wait, NULL);
}

static void add_job(fx_t *f, job_slot_t *j, const char *task, tempo_time_t at, const bson_t *args)
{
    j->f = f;
    tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT;
    o.task_id = task;
    o.at = at;
    o.args = args;
    tempo_error_t err = {0};
    if (tempo_scheduler_add_job(f->s, &o, on_job_added, j, &err) != TEMPO_OK)
        fail_msg("add_job '%s': %s", task, err.message);
}

static void add_job_and_wait(fx_t *f, job_slot_t *j, result_slot_t *r, const char *task, tempo_time_t at,
                             const bson_t *args)
{
    j->wait = r;
    add_job(f, j, task, at, args);
    assert_true(run_until(f, flag_set, &j->added, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(j->status, TEMPO_OK);
    assert_int_equal(j->wait_rc, TEMPO_OK);
}

static void on_schedule_added(void *ud, tempo_status_t st, const tempo_error_t *err, const char *id)
{
    (void)id;
    job_slot_t *j = ud;
    j->added = true;
    j->status = st;
    if (st != TEMPO_OK && err)
        fprintf(stderr, "add_schedule: %s\n", err->message);
}

/* Add a schedule and run until the store confirmed it. Takes the trigger. */
static void add_schedule(fx_t *f, const char *id, const char *task, tempo_trigger_t *trigger,
                         tempo_coalesce_t coalesce)
{
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = id;
    o.task_id = task;
    o.trigger = trigger;
    o.coalesce = coalesce;
    job_slot_t j = {.f = f};
    tempo_error_t err = {0};
    tempo_status_t rc = tempo_scheduler_add_schedule(f->s, &o, on_schedule_added, &j, &err);
    tempo_trigger_free(trigger);
    if (rc != TEMPO_OK)
        fail_msg("add_schedule '%s': %s", id, err.message);
    assert_true(run_until(f, flag_set, &j.added, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(j.status, TEMPO_OK);
}

static tempo_trigger_t *interval(tempo_time_t first, tempo_duration_t period)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.start = first;
    o.period = period;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_interval_new(&o, &t, NULL), TEMPO_OK);
    return t;
}

static void on_stopped(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    fx_t *f = ud;
    f->stopped = true;
    f->stop_status = st;
}

/* Every run started at or after its scheduled time, and not much later. */
static void assert_runs_on_time(const fx_t *f, int n)
{
    for (int i = 0; i < n; i++) {
        const run_rec_t *r = &f->runs[i];
        if (r->started < r->scheduled || r->started - r->scheduled > LAG_MAX_US)
            fail_msg("%s: run %d scheduled %lld started %lld (lag %lld us)", f->d->name, i,
                     (long long)r->scheduled, (long long)r->started, (long long)(r->started - r->scheduled));
    }
}

/* ---- schedules on real time ------------------------------------------------- */

/* An interval schedule fires at start, start + p, start + 2p, ... each
 * soon after it is due. COALESCE_ALL: a late loop must still run every
 * fire, so the sequence is exact whatever the machine's load. */
static void test_interval_fires_in_sequence(void **state)
{
    fx_t *f = *state;
    enum { K = 5 };
    const tempo_duration_t period = 40000;
    add_task(f, "t", loop_task, NULL, f, 0);
    tempo_time_t first = real_us() + 100000;
    add_schedule(f, "every-40ms", "t", interval(first, period), TEMPO_COALESCE_ALL);
    start(f);
    assert_true(runs_reach(f, K, TIMEOUT_MS));
    for (int i = 0; i < K; i++)
        assert_int_equal(f->runs[i].scheduled, first + i * period);
    assert_runs_on_time(f, K);
    /* The last run's release may still be on its way to the store. */
    assert_true(count_outcome(f, TEMPO_OUTCOME_SUCCESS) >= K - 1);
}

/* A 6-field cron "* * * * * *" fires on each whole second (UTC), once per
 * second: 2 or 3 fires in 2.5 s, whatever the phase we start at. */
static void test_cron_every_second(void **state)
{
    fx_t *f = *state;
    add_task(f, "t", loop_task, NULL, f, 0);
    tempo_cron_options_t co = TEMPO_CRON_OPTIONS_INIT;
    co.zone = "UTC";
    tempo_trigger_t *t = NULL;
    tempo_error_t err = {0};
    if (tempo_trigger_cron_new("* * * * * *", &co, &t, &err) != TEMPO_OK)
        fail_msg("cron: %s", err.message);
    tempo_time_t added = real_us();
    add_schedule(f, "each-second", "t", t, TEMPO_COALESCE_LATEST);
    start(f);
    run_for(f, 2500);
    if (f->n_runs < 2 || f->n_runs > 3)
        fail_msg("%s: %d fires in 2.5 s of '* * * * * *'", f->d->name, f->n_runs);
    for (int i = 0; i < f->n_runs; i++) {
        assert_int_equal(f->runs[i].scheduled % TEMPO_USEC_PER_SEC, 0);
        assert_true(f->runs[i].scheduled > added);
        if (i > 0)
            assert_int_equal(f->runs[i].scheduled - f->runs[i - 1].scheduled, TEMPO_USEC_PER_SEC);
    }
    assert_true(f->runs[0].scheduled <= added + TEMPO_USEC_PER_SEC);
    assert_runs_on_time(f, f->n_runs);
}

/* A job queued for 30 ms from now runs then; wait_job_result delivers its
 * result although it is kept for no time (result_expiration 0), and
 * afterwards the store has none. */
static void test_queued_job_and_wait(void **state)
{
    fx_t *f = *state;
    add_task(f, "t", loop_task, NULL, f, 1);
    start(f);
    tempo_time_t at = real_us() + 30000;
    job_slot_t j = {0};
    result_slot_t r = {0};
    add_job_and_wait(f, &j, &r, "t", at, NULL);
    assert_true(run_until(f, flag_set, &r.done, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(r.status, TEMPO_OK);
    assert_int_equal(r.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(r.value, 1);
    assert_true(r.started_at >= at);
    assert_int_equal(f->n_runs, 1);
    assert_string_equal(f->runs[0].job_id, j.id);
    assert_int_equal(f->runs[0].scheduled, at);
    assert_runs_on_time(f, 1);

    result_slot_t again = {0};
    assert_int_equal(tempo_scheduler_get_job_result(f->s, j.id, on_result, &again, NULL), TEMPO_OK);
    assert_true(run_until(f, flag_set, &again.done, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(again.status, TEMPO_ENOTFOUND);
}

/* ---- an in-loop task finishing later ---------------------------------------- */

typedef struct later {
    fx_t *f;
    tempo_job_t *job;
    bool fired;
    int released_before; /* JOB_RELEASED events seen when the host timer fired */
    tempo_status_t complete_rc;
} later_t;

static void complete_from_host_timer(void *arg)
{
    later_t *l = arg;
    l->fired = true;
    l->released_before = count_events(l->f, TEMPO_EVENT_JOB_RELEASED);
    bson_t *v = value_doc(42);
    l->complete_rc = tempo_job_complete(l->job, v);
    bson_destroy(v);
    l->job = NULL;
}

static void deferring_task(tempo_job_t *job, void *ud)
{
    later_t *l = ud;
    l->job = job;
    l->f->d->call_later(l->f->host, 30, complete_from_host_timer, l);
}

/* The task returns without finishing; a timer of the host loop's own
 * completes the job 30 ms later. Until then the job is running. */
static void test_task_completes_from_host_timer(void **state)
{
    fx_t *f = *state;
    later_t l = {.f = f};
    add_task(f, "later", deferring_task, NULL, &l, 1);
    start(f);
    job_slot_t j = {0};
    result_slot_t r = {0};
    add_job_and_wait(f, &j, &r, "later", TEMPO_TIME_NONE, NULL);
    assert_true(run_until(f, flag_set, &r.done, TIMEOUT_MS, SLICE_MS));
    assert_true(l.fired);
    assert_int_equal(l.released_before, 0);
    assert_int_equal(l.complete_rc, TEMPO_OK);
    assert_int_equal(r.status, TEMPO_OK);
    assert_int_equal(r.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(r.value, 42);
    assert_true(r.finished_at >= r.started_at);
}

/* ---- blocking tasks on the pool ----------------------------------------------- */

static tempo_status_t square_blocking(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    pool_probe_t *p = ud;
    atomic_store(&p->off_loop, !pthread_equal(pthread_self(), p->loop_thread));
    int x = value_of(args);
    if (x < 0) {
        snprintf(err->message, sizeof err->message, "argument 'n' is missing");
        return TEMPO_EINVAL;
    }
    BSON_APPEND_INT32(result, "n", x * x);
    atomic_store(&p->returned_mono, mono_us());
    return TEMPO_OK;
}

/* A blocking task runs on a pool thread; its completion crosses back into
 * the loop by the adapter's wake-up. The loop is left to block for the
 * whole timeout, so only that wake-up can deliver the result in time. */
static void test_blocking_task_wakes_loop(void **state)
{
    fx_t *f = *state;
    pool_probe_t *p = &f->probe;
    add_task(f, "square", NULL, square_blocking, p, 0);
    start(f);
    job_slot_t j = {0};
    result_slot_t r = {0};
    bson_t *args = value_doc(9);
    add_job_and_wait(f, &j, &r, "square", TEMPO_TIME_NONE, args);
    bson_destroy(args);
    assert_true(run_until(f, flag_set, &r.done, TIMEOUT_MS, TIMEOUT_MS));
    assert_int_equal(r.status, TEMPO_OK);
    assert_int_equal(r.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(r.value, 81);
    assert_true(atomic_load(&p->off_loop));
    int64_t delivery = r.at_mono_us - atomic_load(&p->returned_mono);
    if (delivery < 0 || delivery > 1000000)
        fail_msg("%s: result delivered %lld us after the pool thread returned", f->d->name, (long long)delivery);
}

/* ---- max_running_jobs ------------------------------------------------------------ */

static bool three_succeeded(void *arg)
{
    return count_outcome(arg, TEMPO_OUTCOME_SUCCESS) == 3;
}

/* A task with max_running_jobs 1 and three jobs due at once: one runs, the
 * others wait queued (not failed, not run alongside) and each starts
 * promptly — well before the poll interval — when the one before ends. */
static void test_max_running_jobs_holds_back(void **state)
{
    fx_t *f = *state;
    f->hold = true;
    add_task(f, "one-at-a-time", loop_task, NULL, f, 1);
    job_slot_t j[3] = {{0}};
    tempo_time_t now = real_us();
    for (int i = 0; i < 3; i++) {
        add_job(f, &j[i], "one-at-a-time", now + i, NULL);
        assert_true(run_until(f, flag_set, &j[i].added, TIMEOUT_MS, SLICE_MS));
        assert_int_equal(j[i].status, TEMPO_OK);
    }
    start(f);
    for (int i = 0; i < 3; i++) {
        int64_t t0 = mono_us();
        assert_true(runs_reach(f, i + 1, TIMEOUT_MS));
        if (i > 0 && mono_us() - t0 > 1000000)
            fail_msg("%s: job %d started %lld us after the one before ended", f->d->name, i,
                     (long long)(mono_us() - t0));
        run_for(f, 150);
        assert_int_equal(f->n_runs, i + 1); /* the next one is held back */
        assert_string_equal(f->runs[i].job_id, j[i].id);
        bson_t *v = value_doc(i);
        assert_int_equal(tempo_job_complete(f->held[i], v), TEMPO_OK);
        bson_destroy(v);
        f->held[i] = NULL;
    }
    assert_true(run_until(f, three_succeeded, f, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(f->n_runs, 3);
}

/* ---- stopping ------------------------------------------------------------------- */

static bool is_stopped(void *arg)
{
    return ((fx_t *)arg)->stopped;
}

static void complete_first_held(void *arg)
{
    fx_t *f = arg;
    if (f->held[0]) {
        tempo_job_complete(f->held[0], NULL);
        f->held[0] = NULL;
    }
}

/* A graceful stop with an in-loop job running: it waits for the job (not
 * cancelled, no STOPPED yet), and completes once a host timer finishes it. */
static void test_stop_waits_for_in_loop_job(void **state)
{
    fx_t *f = *state;
    f->hold = true;
    add_task(f, "t", loop_task, NULL, f, 0);
    start(f);
    job_slot_t j = {0};
    add_job(f, &j, "t", TEMPO_TIME_NONE, NULL);
    assert_true(runs_reach(f, 1, TIMEOUT_MS));
    assert_int_equal(tempo_scheduler_stop(f->s, TEMPO_SECONDS(10), on_stopped, f), TEMPO_OK);
    run_for(f, 150);
    assert_false(f->stopped);
    assert_int_equal(count_events(f, TEMPO_EVENT_SCHEDULER_STOPPED), 0);
    assert_int_equal(count_events(f, TEMPO_EVENT_JOB_RELEASED), 0);
    f->d->call_later(f->host, 30, complete_first_held, f);
    assert_true(run_until(f, is_stopped, f, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(f->stop_status, TEMPO_OK);
    assert_int_equal(count_outcome(f, TEMPO_OUTCOME_SUCCESS), 1);
    int released = first_event(f, TEMPO_EVENT_JOB_RELEASED);
    int stopped = first_event(f, TEMPO_EVENT_SCHEDULER_STOPPED);
    assert_true(released >= 0 && stopped > released);
}

/* The same with a blocking job: the stop ends when the pool thread
 * returns and its completion wakes the loop (which blocks meanwhile). */
static void test_stop_waits_for_blocking_job(void **state)
{
    fx_t *f = *state;
    gate_t *g = &f->gate;
    add_task(f, "gated", NULL, gated_blocking, g, 0);
    start(f);
    job_slot_t j = {0};
    add_job(f, &j, "gated", TEMPO_TIME_NONE, NULL);
    assert_true(run_until(f, atomic_flag_set, &g->entered, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(tempo_scheduler_stop(f->s, TEMPO_SECONDS(10), on_stopped, f), TEMPO_OK);
    run_for(f, 150);
    assert_false(f->stopped);
    f->d->call_later(f->host, 30, gate_open, g);
    assert_true(run_until(f, is_stopped, f, TIMEOUT_MS, TIMEOUT_MS));
    assert_int_equal(f->stop_status, TEMPO_OK);
    assert_int_equal(count_outcome(f, TEMPO_OUTCOME_SUCCESS), 1);
}

typedef struct stopper {
    fx_t *f;
    int runs;
    tempo_status_t stop_rc;
} stopper_t;

static void stopping_task(tempo_job_t *job, void *ud)
{
    stopper_t *st = ud;
    if (st->runs++ == 0)
        st->stop_rc = tempo_scheduler_stop(st->f->s, TEMPO_SECONDS(5), on_stopped, st->f);
    tempo_job_complete(job, NULL);
}

/* A job that stops its own scheduler: the stop completes after the job,
 * and the interval schedule fires no more. */
static void test_stop_from_inside_job(void **state)
{
    fx_t *f = *state;
    stopper_t st = {.f = f};
    add_task(f, "stopper", stopping_task, NULL, &st, 0);
    add_schedule(f, "every-40ms", "stopper", interval(real_us() + 50000, 40000), TEMPO_COALESCE_ALL);
    start(f);
    assert_true(run_until(f, is_stopped, f, TIMEOUT_MS, SLICE_MS));
    assert_int_equal(st.stop_rc, TEMPO_OK);
    assert_int_equal(f->stop_status, TEMPO_OK);
    assert_int_equal(count_outcome(f, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(count_events(f, TEMPO_EVENT_SCHEDULER_STOPPED), 1);
    run_for(f, 200);
    assert_int_equal(st.runs, 1);
}

/* ---- events ----------------------------------------------------------------------- */

/* A date schedule's life, as events in the order it happened, with
 * timestamps that never go back. */
static void test_events_in_order(void **state)
{
    fx_t *f = *state;
    add_task(f, "t", loop_task, NULL, f, 1);
    tempo_time_t at = real_us() + 50000;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_date_new(at, &t, NULL), TEMPO_OK);
    add_schedule(f, "once", "t", t, TEMPO_COALESCE_LATEST);
    start(f);
    at_least_t a = {&f->n_events, 7};
    assert_true(run_until(f, reached, &a, TIMEOUT_MS, SLICE_MS));
    run_for(f, 100); /* nothing more comes */
    static const tempo_event_type_t want[] = {
        TEMPO_EVENT_TASK_ADDED,       TEMPO_EVENT_SCHEDULE_ADDED, TEMPO_EVENT_SCHEDULER_STARTED,
        TEMPO_EVENT_JOB_ADDED,        TEMPO_EVENT_SCHEDULE_REMOVED, TEMPO_EVENT_JOB_ACQUIRED,
        TEMPO_EVENT_JOB_RELEASED,
    };
    enum { N = sizeof want / sizeof want[0] };
    if (f->n_events != N) {
        for (int i = 0; i < f->n_events; i++)
            fprintf(stderr, "  event %d: %s\n", i, tempo_event_type_name(f->ev_type[i]));
        fail_msg("%s: %d events, expected %d", f->d->name, f->n_events, (int)N);
    }
    for (int i = 0; i < N; i++) {
        if (f->ev_type[i] != want[i])
            fail_msg("%s: event %d is %s, expected %s", f->d->name, i, tempo_event_type_name(f->ev_type[i]),
                     tempo_event_type_name(want[i]));
        if (i > 0)
            assert_true(f->ev_at[i] >= f->ev_at[i - 1]);
    }
    assert_int_equal(f->ev_scheduled[3], at);  /* JOB_ADDED */
    assert_true(f->ev_at[5] >= at);            /* JOB_ACQUIRED: not early */
    assert_int_equal(f->ev_outcome[6], TEMPO_OUTCOME_SUCCESS);
}

/* ---- calls from other threads --------------------------------------------------------- */

enum { CALL_THREADS = 4, CALLS_EACH = 250 };

typedef struct caller {
    fx_t *f;
    int delivered;          /* loop thread only */
    int wrong;              /* calls seen off the loop thread or with a wrong scheduler */
    int orphaned;           /* run by free with NULL (the case failed) */
    atomic_int refused;
} caller_t;

static void counted_call(tempo_scheduler_t *s, void *arg)
{
    caller_t *c = arg;
    if (!s) {
        c->orphaned++;
        return;
    }
    if (s != c->f->s || !pthread_equal(pthread_self(), c->f->loop_thread))
        c->wrong++;
    c->delivered++;
}

static void *call_many(void *arg)
{
    caller_t *c = arg;
    for (int i = 0; i < CALLS_EACH; i++)
        if (tempo_scheduler_call_threadsafe(c->f->s, counted_call, c) != TEMPO_OK)
            atomic_fetch_add(&c->refused, 1);
    return NULL;
}

/* Threads call into the running scheduler; every call runs once, on the
 * loop thread, and the loop (blocking for the whole timeout) is woken for
 * them. */
static void test_call_threadsafe_from_threads(void **state)
{
    fx_t *f = *state;
    start(f);
    run_for(f, 20);
    caller_t c = {.f = f};
    atomic_init(&c.refused, 0);
    pthread_t th[CALL_THREADS];
    for (int i = 0; i < CALL_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, call_many, &c), 0);
    at_least_t a = {&c.delivered, CALL_THREADS * CALLS_EACH};
    bool all = run_until(f, reached, &a, TIMEOUT_MS, TIMEOUT_MS);
    for (int i = 0; i < CALL_THREADS; i++)
        pthread_join(th[i], NULL);
    if (!all) {
        /* Calls not run yet point at `c`, which this frame owns: free now,
         * so that they run (with NULL) before it goes. */
        tempo_scheduler_free(f->s);
        f->s = NULL;
        fail_msg("%s: %d of %d calls delivered, %d refused, %d left to free", f->d->name, c.delivered,
                 CALL_THREADS * CALLS_EACH, atomic_load(&c.refused), c.orphaned);
    }
    assert_int_equal(atomic_load(&c.refused), 0);
    assert_true(all);
    assert_int_equal(c.delivered, CALL_THREADS * CALLS_EACH);
    assert_int_equal(c.wrong, 0);
}

/* ---- freeing with work in flight ------------------------------------------------------- */

typedef struct orphan_calls {
    tempo_scheduler_t *s;
    int ran, cancelled; /* loop thread (or the freeing thread) only */
} orphan_calls_t;

static void orphan_call(tempo_scheduler_t *s, void *arg)
{
    orphan_calls_t *o = arg;
    if (s)
        o->ran++;
    else
        o->cancelled++;
}

static void *post_orphans(void *arg)
{
    orphan_calls_t *o = arg;
    for (int i = 0; i < 100; i++)
        tempo_scheduler_call_threadsafe(o->s, orphan_call, o);
    return NULL;
}

/* One round: a running blocking job (its pool thread finishing just as
 * free begins, or still in its work), a held in-loop job, jobs queued for
 * an hour from now with a waiter, an add whose answer has not come, and
 * calls posted from another thread that the loop never ran. Free answers
 * every callback once (ECANCELLED), runs every orphaned call with NULL,
 * and leaves nothing for ASan or TSan to find. */
static void free_round(const sched_driver_t *d, int round)
{
    fx_t *f = fx_open(d);
    gate_t *g = &f->gate;
    g->cap_ms = 100;
    f->hold = true;
    add_task(f, "gated", NULL, gated_blocking, g, 0);
    add_task(f, "held", loop_task, NULL, f, 0);
    start(f);
    job_slot_t blocking = {0}, held = {0}, queued[3] = {{0}}, late = {0};
    result_slot_t waiter = {0};
    add_job(f, &blocking, "gated", TEMPO_TIME_NONE, NULL);
    add_job(f, &held, "held", TEMPO_TIME_NONE, NULL);
    tempo_time_t hour = real_us() + TEMPO_HOURS(1);
    add_job(f, &queued[0], "held", hour, NULL);
    add_job(f, &queued[1], "held", hour, NULL);
    add_job_and_wait(f, &queued[2], &waiter, "held", hour, NULL);
    assert_true(run_until(f, atomic_flag_set, &g->entered, TIMEOUT_MS, SLICE_MS));
    assert_true(runs_reach(f, 1, TIMEOUT_MS));
    add_job(f, &late, "held", TEMPO_TIME_NONE, NULL);

    orphan_calls_t o = {.s = f->s};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_orphans, &o), 0);
    pthread_join(th, NULL);
    if (round % 2 == 0)
        gate_open(g); /* the pool thread returns while free begins */

    tempo_job_t *open_job = f->held[0];
    f->held[0] = NULL;
    tempo_scheduler_free(f->s);
    f->s = NULL;
    assert_true(waiter.done);
    assert_int_equal(waiter.status, TEMPO_ECANCELLED);
    assert_true(late.added);
    assert_int_equal(late.status, TEMPO_ECANCELLED);
    assert_int_equal(o.ran + o.cancelled, 100);
    assert_int_equal(o.cancelled, 100); /* the loop never ran after they were posted */
    assert_int_equal(tempo_job_complete(open_job, NULL), TEMPO_ECANCELLED);
    fx_close(f);
}

static void test_free_with_work_in_flight(void **state)
{
    const sched_driver_t *d = *state;
    for (int round = 0; round < 6; round++)
        free_round(d, round);
}

/* ---- freeing from inside the scheduler's own callbacks ----------------------------- */

typedef struct freer {
    fx_t *f;
    bool freed;
    int after;             /* our callbacks that ran after the free returned */
    tempo_status_t job_rc; /* tempo_job_complete on the freed job's handle */
    result_slot_t waiter;  /* answered from inside the free */
} freer_t;

static void free_now(freer_t *fr)
{
    tempo_scheduler_free(fr->f->s);
    fr->f->s = NULL;
    fr->freed = true;
}

static void freeing_task(tempo_job_t *job, void *ud)
{
    freer_t *fr = ud;
    if (fr->freed) {
        fr->after++;
        return;
    }
    free_now(fr);
    fr->job_rc = tempo_job_complete(job, NULL); /* the handle is still ours to finish */
}

static void freeing_event(const tempo_event_t *ev, void *ud)
{
    freer_t *fr = ud;
    if (fr->freed)
        fr->after++;
    else if (ev->type == TEMPO_EVENT_JOB_RELEASED)
        free_now(fr);
}

/* A job that frees its own scheduler on a real loop, and then an event
 * subscriber that does (after a blocking job's completion crossed back
 * from the pool): teardown inside the adapter's dispatch. Pending waiters
 * are answered ECANCELLED, nothing of ours runs afterwards, the loop keeps
 * running, and the host frees cleanly (libuv: every handle closed). */
static void test_free_from_inside_callbacks(void **state)
{
    fx_t *f = *state;
    freer_t fr = {.f = f};
    add_task(f, "freeing", freeing_task, NULL, &fr, 0);
    start(f);
    job_slot_t queued = {0}, j = {0};
    add_job(f, &queued, "freeing", real_us() + TEMPO_HOURS(1), NULL);
    add_job_and_wait(f, &j, &fr.waiter, "freeing", real_us() + 20000, NULL);
    assert_true(run_until(f, flag_set, &fr.freed, TIMEOUT_MS, SLICE_MS));
    assert_null(f->s);
    assert_int_equal(fr.job_rc, TEMPO_ECANCELLED);
    assert_true(fr.waiter.done);
    assert_int_equal(fr.waiter.status, TEMPO_ECANCELLED);
    run_for(f, 100);
    assert_int_equal(fr.after, 0);

    /* The second time, on a fresh scheduler, from an event callback. */
    fx_t *g = fx_open(f->d);
    freer_t fe = {.f = g};
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(g->s, TEMPO_EVENT_ALL, freeing_event, &fe, &sub, NULL), TEMPO_OK);
    add_task(g, "square", NULL, square_blocking, &g->probe, 0);
    start(g);
    job_slot_t sq = {0};
    bson_t *args = value_doc(3);
    add_job(g, &sq, "square", TEMPO_TIME_NONE, args);
    bson_destroy(args);
    assert_true(run_until(g, flag_set, &fe.freed, TIMEOUT_MS, SLICE_MS));
    run_for(g, 100);
    assert_int_equal(fe.after, 0);
    fx_close(g);
}

/* ---- the suite ----------------------------------------------------------------------- */

int sched_loops_tests(const sched_driver_t *driver)
{
#define CASE(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)driver)
    const struct CMUnitTest tests[] = {
        CASE(test_interval_fires_in_sequence),
        CASE(test_cron_every_second),
        CASE(test_queued_job_and_wait),
        CASE(test_task_completes_from_host_timer),
        CASE(test_blocking_task_wakes_loop),
        CASE(test_max_running_jobs_holds_back),
        CASE(test_stop_waits_for_in_loop_job),
        CASE(test_stop_waits_for_blocking_job),
        CASE(test_stop_from_inside_job),
        CASE(test_events_in_order),
        CASE(test_call_threadsafe_from_threads),
        cmocka_unit_test_prestate(test_free_with_work_in_flight, (void *)driver),
        CASE(test_free_from_inside_callbacks),
    };
#undef CASE
    return cmocka_run_group_tests_name(driver->name, tests, NULL, NULL);
}
