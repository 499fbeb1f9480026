/* Life without a host loop (adapters/ev/ev_runner.c): tempo_scheduler_run on
 * the calling thread, tempo_scheduler_run_background on a thread of its own,
 * the big lock that makes every scheduler call safe from any thread, and
 * tempo_scheduler_free stopping the loop's thread first.
 *
 * Callbacks that run on the loop thread never use cmocka's assertions (they
 * longjmp, which is only valid on the test's own thread): they record what
 * they saw in the test's context, under its mutex, and the test asserts on
 * that. Waiting is always a condition variable with a generous deadline,
 * never a sleep. ctest also runs this program with LIBEV_FLAGS set to the
 * poll and select backends (tests.cmake): the lock is released and taken
 * back inside each backend's own poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tempo/ev.h>
#include <tempo/tempo.h>

/* Generous: sanitizers and loaded machines are slow; a pass takes far less. */
#define WAIT_SECONDS 30

typedef struct ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tempo_scheduler_t *s;
    pthread_t main_thread;
    bool loop_on_main; /* which thread callbacks must run on */
    bool have_loop_thread;
    pthread_t loop_thread;

    int runs;          /* task runs */
    int blocking_runs; /* runs of a blocking task (on the pool's threads) */
    int ticks;         /* runs of the interval schedule's task */
    int answers;       /* async callbacks answered */
    int answers_ok;
    int started, stopped;
    int released_ok;
    bool released_before_stopped;
    int stop_cbs;
    tempo_status_t stop_status;
    int tcalls, tcalls_null;
    size_t last_count;
    bool last_paused;
    bool watchdog_fired;
    /* What a task saw of the signal dispositions while the run handled them. */
    bool saw_term_handled, saw_int_ignored;

    int failures;
    char failure[200];
} ctx_t;

static void ctx_init(ctx_t *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
    c->main_thread = pthread_self();
}

static void ctx_destroy(ctx_t *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

/* Record a failure seen on a thread where cmocka cannot fail the test. */
static void check_at(ctx_t *c, bool ok, const char *what, int line)
{
    if (ok)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->failures++ == 0)
        snprintf(c->failure, sizeof c->failure, "line %d: %s", line, what);
    pthread_mutex_unlock(&c->mu);
}
#define CHECK(c, cond) check_at((c), (cond), #cond, __LINE__)

static void assert_no_failures(ctx_t *c)
{
    if (c->failures)
        fail_msg("%d failure(s) on other threads, first: %s", c->failures, c->failure);
}

/* Every callback runs on the loop thread: the caller of run, or one
 * background thread that is not the main one. Under c->mu. */
static void note_thread(ctx_t *c)
{
    pthread_t self = pthread_self();
    bool on_main = pthread_equal(self, c->main_thread);
    if (on_main != c->loop_on_main && c->failures++ == 0)
        snprintf(c->failure, sizeof c->failure, "a callback ran on the %s thread",
                 on_main ? "main" : "wrong");
    if (!c->have_loop_thread) {
        c->have_loop_thread = true;
        c->loop_thread = self;
    } else if (!pthread_equal(self, c->loop_thread) && c->failures++ == 0) {
        snprintf(c->failure, sizeof c->failure, "callbacks ran on two different threads");
    }
}

/* Count something that happened on the loop thread and wake the waiter. */
static void bump(ctx_t *c, int *counter)
{
    pthread_mutex_lock(&c->mu);
    note_thread(c);
    (*counter)++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

typedef bool (*pred_fn)(const ctx_t *c, int n);

/* Wait until pred(c, n) holds; false after WAIT_SECONDS. */
static bool wait_for(ctx_t *c, pred_fn pred, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += WAIT_SECONDS;
    pthread_mutex_lock(&c->mu);
    bool ok = pred(c, n);
    while (!ok && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
        ok = pred(c, n);
    ok = pred(c, n);
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static bool runs_at_least(const ctx_t *c, int n) { return c->runs >= n; }
static bool ticks_at_least(const ctx_t *c, int n) { return c->ticks >= n; }
static bool answers_at_least(const ctx_t *c, int n) { return c->answers >= n; }
static bool started_at_least(const ctx_t *c, int n) { return c->started >= n; }
static bool tcalls_at_least(const ctx_t *c, int n) { return c->tcalls >= n; }

/* ---- tasks and callbacks --------------------------------------------------- */

static void count_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    CHECK(c, tempo_job_complete(job, NULL) == TEMPO_OK);
    bump(c, &c->runs);
}

static void tick_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    CHECK(c, tempo_job_complete(job, NULL) == TEMPO_OK);
    bump(c, &c->ticks);
}

static void stop_done(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    (void)err;
    ctx_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->stop_status = status;
    pthread_mutex_unlock(&c->mu);
    bump(c, &c->stop_cbs);
}

/* Finishes its job, then stops the scheduler from inside the callback. */
static void stopper_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    CHECK(c, tempo_job_complete(job, NULL) == TEMPO_OK);
    CHECK(c, tempo_scheduler_stop(c->s, TEMPO_SECONDS(5), stop_done, c) == TEMPO_OK);
    bump(c, &c->runs);
}

static bool handler_is(int sig, void (*handler)(int))
{
    struct sigaction now;
    return sigaction(sig, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) && now.sa_handler == handler;
}

/* Finishes its job, then asks for a stop the way an operator would. */
static void raiser_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    CHECK(c, tempo_job_complete(job, NULL) == TEMPO_OK);
    pthread_mutex_lock(&c->mu);
    c->saw_term_handled = !handler_is(SIGTERM, SIG_DFL) && !handler_is(SIGTERM, SIG_IGN);
    c->saw_int_ignored = handler_is(SIGINT, SIG_IGN);
    pthread_mutex_unlock(&c->mu);
    bump(c, &c->runs);
    raise(SIGTERM);
}

static void on_event(const tempo_event_t *ev, void *ud)
{
    ctx_t *c = ud;
    switch (ev->type) {
    case TEMPO_EVENT_SCHEDULER_STARTED:
        bump(c, &c->started);
        break;
    case TEMPO_EVENT_SCHEDULER_STOPPED:
        pthread_mutex_lock(&c->mu);
        c->released_before_stopped = c->released_ok > 0;
        pthread_mutex_unlock(&c->mu);
        bump(c, &c->stopped);
        break;
    case TEMPO_EVENT_JOB_RELEASED:
        if (ev->outcome == TEMPO_OUTCOME_SUCCESS)
            bump(c, &c->released_ok);
        break;
    default:
        break;
    }
}

static void id_answer(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)err, (void)id;
    ctx_t *c = ud;
    if (status == TEMPO_OK) {
        pthread_mutex_lock(&c->mu);
        c->answers_ok++;
        pthread_mutex_unlock(&c->mu);
    }
    bump(c, &c->answers);
}

static void done_answer(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    id_answer(ud, status, err, NULL);
}

static void schedules_answer(void *ud, tempo_status_t status, const tempo_error_t *err,
                             const tempo_schedule_record_t *schedules, size_t count)
{
    ctx_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->last_count = status == TEMPO_OK ? count : 0;
    c->last_paused = status == TEMPO_OK && count > 0 && schedules[0].paused;
    pthread_mutex_unlock(&c->mu);
    id_answer(ud, status, err, NULL);
}

static void threadsafe_fn(tempo_scheduler_t *s, void *arg)
{
    ctx_t *c = arg;
    if (!s) { /* freed before it ran: called from inside tempo_scheduler_free */
        pthread_mutex_lock(&c->mu);
        c->tcalls_null++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    CHECK(c, s == c->s);
    bump(c, &c->tcalls);
}

/* ---- setup helpers (main thread) --------------------------------------------- */

/* sleepy: no timer of the scheduler's own (polling, lease renewal,
 * cleanup) fires for an hour, so only outside calls can wake an idle loop. */
static tempo_scheduler_t *new_scheduler(ctx_t *c, bool sleepy)
{
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.identity = "runner-test";
    o.seed = 7;
    if (sleepy) {
        o.poll_interval = TEMPO_HOURS(1);
        o.lease_duration = TEMPO_HOURS(2);
        o.cleanup_interval = TEMPO_HOURS(1);
    }
    tempo_error_t err = {0};
    tempo_scheduler_t *s = NULL;
    tempo_status_t st = tempo_ev_scheduler_new(NULL, &o, &s, &err);
    if (st != TEMPO_OK)
        fail_msg("tempo_ev_scheduler_new: %s", err.message);
    c->s = s;
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(s, TEMPO_EVENT_ALL, on_event, c, &sub, NULL), TEMPO_OK);
    return s;
}

static void add_task(ctx_t *c, const char *id, tempo_task_fn fn)
{
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = id;
    t.fn = fn;
    t.userdata = c;
    t.max_running_jobs = 0;
    tempo_error_t err = {0};
    if (tempo_scheduler_add_task(c->s, &t, &err) != TEMPO_OK)
        fail_msg("add_task %s: %s", id, err.message);
}

static tempo_status_t add_job(ctx_t *c, const char *task_id)
{
    tempo_job_options_t j = TEMPO_JOB_OPTIONS_INIT;
    j.task_id = task_id;
    return tempo_scheduler_add_job(c->s, &j, id_answer, c, NULL);
}

static void add_interval_schedule(ctx_t *c, const char *id, const char *task_id, tempo_duration_t period)
{
    tempo_interval_options_t io = TEMPO_INTERVAL_OPTIONS_INIT;
    io.period = period;
    io.start = tempo_time_now() + period;
    tempo_trigger_t *trig = NULL;
    assert_int_equal(tempo_trigger_interval_new(&io, &trig, NULL), TEMPO_OK);
    tempo_schedule_options_t so = TEMPO_SCHEDULE_OPTIONS_INIT;
    so.id = id;
    so.task_id = task_id;
    so.trigger = trig;
    tempo_error_t err = {0};
    tempo_status_t st = tempo_scheduler_add_schedule(c->s, &so, id_answer, c, &err);
    tempo_trigger_free(trig); /* the schedule holds its own reference */
    if (st != TEMPO_OK)
        fail_msg("add_schedule: %s", err.message);
}

static int answers_now(ctx_t *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->answers;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int ticks_now(ctx_t *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->ticks;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---- blocking run ------------------------------------------------------------ */

/* A job queued before run; its task stops the scheduler from inside its
 * callback; run returns once SCHEDULER_STOPPED was emitted, after the job's
 * release. Then the same again: a stopped scheduler runs again. */
static void test_run_until_stopped_by_a_task(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = true;
    new_scheduler(&c, false);
    add_task(&c, "stopper", stopper_task);
    assert_int_equal(add_job(&c, "stopper"), TEMPO_OK);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_run(c.s, &err), TEMPO_OK);
    assert_no_failures(&c);
    assert_int_equal(c.runs, 1);
    assert_int_equal(c.answers_ok, 1);
    assert_int_equal(c.started, 1);
    assert_int_equal(c.stopped, 1);
    assert_int_equal(c.stop_cbs, 1);
    assert_int_equal(c.stop_status, TEMPO_OK);
    assert_true(c.released_before_stopped);

    assert_int_equal(add_job(&c, "stopper"), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run(c.s, &err), TEMPO_OK);
    assert_no_failures(&c);
    assert_int_equal(c.runs, 2);
    assert_int_equal(c.started, 2);
    assert_int_equal(c.stopped, 2);
    tempo_scheduler_free(c.s);
    ctx_destroy(&c);
}

/* handle_signals: SIGTERM begins a graceful stop; the dispositions are
 * restored afterwards, and an ignored SIGINT is left ignored. */
static void test_run_stops_on_sigterm(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = true;
    struct sigaction int_before, ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGINT, &ign, &int_before), 0);
    assert_true(handler_is(SIGTERM, SIG_DFL));

    new_scheduler(&c, false);
    add_task(&c, "raiser", raiser_task);
    assert_int_equal(add_job(&c, "raiser"), TEMPO_OK);
    tempo_ev_run_options_t ro = TEMPO_EV_RUN_OPTIONS_INIT;
    ro.handle_signals = true;
    ro.stop_timeout = TEMPO_SECONDS(5);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_run_with(c.s, &ro, &err), TEMPO_OK);
    assert_no_failures(&c);
    assert_int_equal(c.runs, 1);
    assert_int_equal(c.stopped, 1);
    assert_true(c.saw_term_handled);
    assert_true(c.saw_int_ignored);
    assert_true(handler_is(SIGTERM, SIG_DFL));
    assert_true(handler_is(SIGINT, SIG_IGN));

    /* Without handle_signals nothing is installed. */
    c.runs = 0;
    add_task(&c, "stopper", stopper_task);
    assert_int_equal(add_job(&c, "stopper"), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run(c.s, &err), TEMPO_OK);
    assert_int_equal(c.runs, 1);
    assert_true(handler_is(SIGTERM, SIG_DFL));

    assert_int_equal(sigaction(SIGINT, &int_before, NULL), 0);
    tempo_scheduler_free(c.s);
    ctx_destroy(&c);
}

/* Bad calls are refused with a message and change nothing. */
static void test_run_refusals(void **state)
{
    (void)state;
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_run(NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_scheduler_run_background(NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_ev_scheduler_new(NULL, NULL, NULL, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "out"));

    /* Invalid scheduler options: refused, and the store is still ours. */
    tempo_store_t *store = NULL;
    assert_int_equal(tempo_memory_store_new(&store, NULL), TEMPO_OK);
    tempo_scheduler_options_t bad = TEMPO_SCHEDULER_OPTIONS_INIT;
    bad.max_concurrent_jobs = 0;
    tempo_scheduler_t *s = (tempo_scheduler_t *)&err;
    assert_int_equal(tempo_ev_scheduler_new(store, &bad, &s, &err), TEMPO_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.message, "max_concurrent_jobs"));
    tempo_store_free(store);

    /* A scheduler on a user-owned loop is not ours to run. */
    struct ev_loop *evloop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(evloop);
    tempo_loop_t *loop = NULL;
    assert_int_equal(tempo_ev_loop_new(evloop, &loop, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_new(loop, NULL, NULL, &s, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run(s, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "tempo_ev_scheduler_new"));
    assert_int_equal(tempo_scheduler_run_background(s, &err), TEMPO_EINVAL);
    tempo_scheduler_free(s);
    ev_loop_destroy(evloop);

    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = true;
    new_scheduler(&c, false);
    tempo_ev_run_options_t ro = TEMPO_EV_RUN_OPTIONS_INIT;
    ro.stop_timeout = -1;
    assert_int_equal(tempo_scheduler_run_with(c.s, &ro, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "stop_timeout"));
    ro = (tempo_ev_run_options_t)TEMPO_EV_RUN_OPTIONS_INIT;
    ro.size = sizeof ro + 8;
    assert_int_equal(tempo_scheduler_run_with(c.s, &ro, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "size"));
    assert_int_equal(c.started, 0); /* nothing happened */
    tempo_scheduler_free(c.s);
    ctx_destroy(&c);
}

/* run, then run or run_background again from inside a callback: ESTATE. */
static void nested_task(tempo_job_t *job, void *ud)
{
    ctx_t *c = ud;
    tempo_error_t err = {0};
    CHECK(c, tempo_scheduler_run(c->s, &err) == TEMPO_ESTATE);
    CHECK(c, strstr(err.message, "already running") != NULL);
    CHECK(c, tempo_scheduler_run_background(c->s, &err) == TEMPO_ESTATE);
    stopper_task(job, ud);
}

static void test_run_is_not_reentrant(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = true;
    new_scheduler(&c, false);
    add_task(&c, "nested", nested_task);
    assert_int_equal(add_job(&c, "nested"), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run(c.s, NULL), TEMPO_OK);
    assert_no_failures(&c);
    assert_int_equal(c.runs, 1);
    tempo_scheduler_free(c.s);
    ctx_destroy(&c);
}

/* Another thread adds a job while run() sleeps in the poll. The scheduler
 * has no timer due within the hour, so only the wake-up the big lock's unlock sends
 * can make the loop notice in time. A watchdog that goes through a
 * different path (call_threadsafe: a posted call and the adapter's wake)
 * ends the run if it does not.
 * "Sleeps": starting takes a few loop rounds (the step and the worker ask
 * the store, whose answers come a round later). Each call_threadsafe round
 * trip takes at least one full round, so after ten of them the start-up
 * work is done and the loop waits in its poll for an hour-long timer. */
static void watchdog_fn(tempo_scheduler_t *s, void *arg)
{
    ctx_t *c = arg;
    if (!s)
        return;
    pthread_mutex_lock(&c->mu);
    c->watchdog_fired = true;
    pthread_mutex_unlock(&c->mu);
    tempo_scheduler_stop(s, 0, NULL, NULL);
}

static void *adder_main(void *arg)
{
    ctx_t *c = arg;
    CHECK(c, wait_for(c, started_at_least, 1));
    for (int i = 1; i <= 10; i++) {
        CHECK(c, tempo_scheduler_call_threadsafe(c->s, threadsafe_fn, c) == TEMPO_OK);
        CHECK(c, wait_for(c, tcalls_at_least, i));
    }
    CHECK(c, add_job(c, "stopper") == TEMPO_OK);
    if (!wait_for(c, runs_at_least, 1))
        CHECK(c, tempo_scheduler_call_threadsafe(c->s, watchdog_fn, c) == TEMPO_OK);
    return NULL;
}

static void test_run_wakes_for_other_threads(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = true;
    new_scheduler(&c, true);
    add_task(&c, "stopper", stopper_task);
    pthread_t adder;
    assert_int_equal(pthread_create(&adder, NULL, adder_main, &c), 0);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_run(c.s, &err), TEMPO_OK);
    assert_int_equal(pthread_join(adder, NULL), 0);
    assert_no_failures(&c);
    assert_false(c.watchdog_fired);
    assert_int_equal(c.tcalls, 10);
    assert_int_equal(c.runs, 1);
    assert_int_equal(c.stopped, 1);
    tempo_scheduler_free(c.s);
    ctx_destroy(&c);
}

/* ---- runs on other threads ----------------------------------------------------- */

typedef struct run_thread {
    ctx_t *c;
    tempo_scheduler_t *s;
    bool handle_signals;
    tempo_status_t result;
    tempo_error_t err;
} run_thread_t;

static void *run_main(void *arg)
{
    run_thread_t *rt = arg;
    tempo_ev_run_options_t ro = TEMPO_EV_RUN_OPTIONS_INIT;
    ro.handle_signals = rt->handle_signals;
    rt->result = tempo_scheduler_run_with(rt->s, &ro, &rt->err);
    return NULL;
}

/* tempo_scheduler_free from the main thread while another thread is inside
 * tempo_scheduler_run and a schedule fires every 20 ms: halt ends the run
 * (ECANCELLED), then the free completes. */
static void test_free_during_a_run_on_another_thread(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, false);
    add_task(&c, "tick", tick_task);
    add_interval_schedule(&c, "every-20ms", "tick", 20000 /* 20 ms */);
    run_thread_t rt = {.c = &c, .s = c.s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_main, &rt), 0);
    assert_true(wait_for(&c, ticks_at_least, 3));
    tempo_scheduler_free(c.s);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rt.result, TEMPO_ECANCELLED);
    assert_non_null(strstr(rt.err.message, "freed"));
    assert_no_failures(&c);
    ctx_destroy(&c);
}

/* Two runs cannot both own SIGINT/SIGTERM. Meanwhile the main thread talks
 * to a scheduler that a run drives on another thread: refused second runs,
 * then a stop that ends that run. */
static void test_one_signal_handler_per_process(void **state)
{
    (void)state;
    ctx_t a, b;
    ctx_init(&a);
    ctx_init(&b);
    a.loop_on_main = false;
    b.loop_on_main = true;
    new_scheduler(&a, false);
    new_scheduler(&b, false);
    run_thread_t rt = {.c = &a, .s = a.s, .handle_signals = true};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_main, &rt), 0);
    assert_true(wait_for(&a, started_at_least, 1));

    tempo_error_t err = {0};
    tempo_ev_run_options_t ro = TEMPO_EV_RUN_OPTIONS_INIT;
    ro.handle_signals = true;
    assert_int_equal(tempo_scheduler_run_with(b.s, &ro, &err), TEMPO_ESTATE);
    assert_non_null(strstr(err.message, "another run"));
    assert_int_equal(b.started, 0);
    assert_int_equal(tempo_scheduler_run(a.s, &err), TEMPO_ESTATE);
    assert_int_equal(tempo_scheduler_run_background(a.s, &err), TEMPO_ESTATE);

    assert_int_equal(tempo_scheduler_stop(a.s, 0, NULL, NULL), TEMPO_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rt.result, TEMPO_OK);
    assert_int_equal(a.stopped, 1);
    assert_true(handler_is(SIGTERM, SIG_DFL));
    assert_no_failures(&a);
    assert_no_failures(&b);
    tempo_scheduler_free(a.s);
    tempo_scheduler_free(b.s);
    ctx_destroy(&a);
    ctx_destroy(&b);
}

/* ---- background ---------------------------------------------------------------- */

/* Every scheduler call from the main thread while the background thread
 * runs the loop; callbacks all on that one thread; free while the
 * schedule still fires. */
static void test_background(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, false);
    add_task(&c, "tick", tick_task);
    add_task(&c, "queued", count_task);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_run_background(c.s, &err), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run_background(c.s, &err), TEMPO_ESTATE);
    assert_int_equal(tempo_scheduler_run(c.s, &err), TEMPO_ESTATE);
    assert_non_null(strstr(err.message, "background"));
    assert_true(wait_for(&c, started_at_least, 1));

    add_interval_schedule(&c, "every-20ms", "tick", 20000 /* 20 ms */);
    for (int i = 0; i < 5; i++)
        assert_int_equal(add_job(&c, "queued"), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, 6));
    assert_true(wait_for(&c, runs_at_least, 5));
    assert_true(wait_for(&c, ticks_at_least, 5));

    int n = answers_now(&c);
    assert_int_equal(tempo_scheduler_get_schedule(c.s, "every-20ms", schedules_answer, &c, &err), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, ++n));
    assert_int_equal(c.last_count, 1);
    assert_false(c.last_paused);
    assert_int_equal(tempo_scheduler_list_schedules(c.s, schedules_answer, &c, &err), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, ++n));
    assert_int_equal(c.last_count, 1);

    assert_int_equal(tempo_scheduler_pause_schedule(c.s, "every-20ms", done_answer, &c, &err), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, ++n));
    assert_int_equal(tempo_scheduler_get_schedule(c.s, "every-20ms", schedules_answer, &c, &err), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, ++n));
    assert_true(c.last_paused);
    int ticks = ticks_now(&c);
    assert_int_equal(tempo_scheduler_resume_schedule(c.s, "every-20ms", done_answer, &c, &err), TEMPO_OK);
    assert_true(wait_for(&c, answers_at_least, ++n));
    assert_true(wait_for(&c, ticks_at_least, ticks + 3));

    assert_int_equal(tempo_scheduler_call_threadsafe(c.s, threadsafe_fn, &c), TEMPO_OK);
    assert_true(wait_for(&c, tcalls_at_least, 1));

    /* Free while the schedule fires and a posted call may not have run:
     * the thread stops first, and the call still runs exactly once. */
    assert_int_equal(tempo_scheduler_call_threadsafe(c.s, threadsafe_fn, &c), TEMPO_OK);
    tempo_scheduler_free(c.s);
    assert_int_equal(c.tcalls + c.tcalls_null, 2);
    assert_int_equal(c.answers_ok, c.answers);
    assert_false(pthread_equal(c.loop_thread, c.main_thread));
    assert_no_failures(&c);
    ctx_destroy(&c);
}

/* As test_run_wakes_for_other_threads, in the background: the main thread
 * adds a job while the loop thread sleeps with nothing due for an hour. */
static void test_background_wakes_for_calls(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, true);
    add_task(&c, "queued", count_task);
    assert_int_equal(tempo_scheduler_run_background(c.s, NULL), TEMPO_OK);
    assert_true(wait_for(&c, started_at_least, 1));
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(tempo_scheduler_call_threadsafe(c.s, threadsafe_fn, &c), TEMPO_OK);
        assert_true(wait_for(&c, tcalls_at_least, i));
    }
    assert_int_equal(add_job(&c, "queued"), TEMPO_OK);
    assert_true(wait_for(&c, runs_at_least, 1));
    tempo_scheduler_free(c.s);
    assert_no_failures(&c);
    ctx_destroy(&c);
}

/* Blocking tasks run on the scheduler's thread pool, whose completions come
 * back to the background loop from the pool's threads (posted calls). */
static tempo_status_t blocking_task(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)args, (void)err;
    ctx_t *c = ud;
    CHECK(c, BSON_APPEND_INT32(result, "answer", 42));
    pthread_mutex_lock(&c->mu);
    c->blocking_runs++;
    pthread_mutex_unlock(&c->mu);
    return TEMPO_OK;
}

static bool released_at_least(const ctx_t *c, int n) { return c->released_ok >= n; }

static void test_background_blocking_tasks(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, false);
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "blocking";
    t.blocking_fn = blocking_task;
    t.userdata = &c;
    t.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_task(c.s, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run_background(c.s, NULL), TEMPO_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(add_job(&c, "blocking"), TEMPO_OK);
    assert_true(wait_for(&c, released_at_least, 10));
    tempo_scheduler_free(c.s);
    assert_int_equal(c.blocking_runs, 10);
    assert_int_equal(c.answers_ok, 10);
    assert_no_failures(&c);
    ctx_destroy(&c);
}

/* Several threads call add_job (and call_threadsafe) at once. */
enum { HAMMER_THREADS = 4, HAMMER_JOBS = 200 };

static void *hammer_main(void *arg)
{
    ctx_t *c = arg;
    for (int i = 0; i < HAMMER_JOBS; i++) {
        CHECK(c, add_job(c, "queued") == TEMPO_OK);
        if (i % 50 == 0)
            CHECK(c, tempo_scheduler_call_threadsafe(c->s, threadsafe_fn, c) == TEMPO_OK);
    }
    return NULL;
}

static void test_background_hammered(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, false);
    add_task(&c, "queued", count_task);
    assert_int_equal(tempo_scheduler_run_background(c.s, NULL), TEMPO_OK);
    pthread_t t[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &c), 0);
    for (int i = 0; i < HAMMER_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    const int total = HAMMER_THREADS * HAMMER_JOBS;
    assert_true(wait_for(&c, answers_at_least, total));
    assert_true(wait_for(&c, runs_at_least, total));
    assert_true(wait_for(&c, tcalls_at_least, HAMMER_THREADS * (HAMMER_JOBS / 50)));
    tempo_scheduler_free(c.s);
    assert_int_equal(c.answers_ok, total);
    assert_int_equal(c.runs, total);
    assert_no_failures(&c);
    ctx_destroy(&c);
}

/* Freeing a background scheduler that was never given work, and one that
 * was never run at all. */
static void test_free_idle(void **state)
{
    (void)state;
    ctx_t c;
    ctx_init(&c);
    c.loop_on_main = false;
    new_scheduler(&c, false);
    assert_int_equal(tempo_scheduler_run_background(c.s, NULL), TEMPO_OK);
    tempo_scheduler_free(c.s);
    new_scheduler(&c, false);
    tempo_scheduler_free(c.s);
    assert_no_failures(&c);
    ctx_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_until_stopped_by_a_task),
        cmocka_unit_test(test_run_stops_on_sigterm),
        cmocka_unit_test(test_run_refusals),
        cmocka_unit_test(test_run_is_not_reentrant),
        cmocka_unit_test(test_run_wakes_for_other_threads),
        cmocka_unit_test(test_free_during_a_run_on_another_thread),
        cmocka_unit_test(test_one_signal_handler_per_process),
        cmocka_unit_test(test_background),
        cmocka_unit_test(test_background_wakes_for_calls),
        cmocka_unit_test(test_background_blocking_tasks),
        cmocka_unit_test(test_background_hammered),
        cmocka_unit_test(test_free_idle),
    };
    return cmocka_run_group_tests_name("ev_runner", tests, NULL, NULL);
}
