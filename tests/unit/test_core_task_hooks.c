/* A task's cancel and free_userdata hooks (include/tempo/task.h), on virtual
 * time: cancel once per running in-loop job the scheduler gives up on
 * (stop_now, a graceful stop's timeout, free — also a free from inside a
 * callback), never for a job that finished, never for a blocking task; finishing the handle inside cancel; free_userdata once per
 * registration (replaced idle, replaced while its jobs run, freed with the
 * scheduler), always after the registration's cancels; older callers'
 * smaller options; tempo_scheduler_loop. Every hook call is logged in order,
 * and every test checks the whole log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "test_support.h"
#include "sched_harness.h"

/* ---- the hook log: "cancel A", "free B", ... in call order ---- */

static char g_log[64][32];
static int g_n_log;

static void log_reset(void)
{
    g_n_log = 0;
}

static void log_add(const char *what, const char *name)
{
    assert_true(g_n_log < 64);
    snprintf(g_log[g_n_log++], sizeof g_log[0], "%s %s", what, name);
}

/* The log is exactly these entries (NULL-terminated). */
static void log_is(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int i = 0;
    for (const char *e = first; e; e = va_arg(ap, const char *), i++) {
        if (i >= g_n_log)
            fail_msg("log entry %d: want '%s', the log has only %d entries", i, e, g_n_log);
        if (strcmp(g_log[i], e) != 0)
            fail_msg("log entry %d: want '%s', got '%s'", i, e, g_log[i]);
    }
    va_end(ap);
    if (i != g_n_log)
        fail_msg("log has %d entries, want %d (entry %d: '%s')", g_n_log, i, i, g_log[i]);
}

/* ---- one registration's userdata ---- */

#define REG_MAX_HELD 16

typedef struct reg {
    const char *name;
    bool hold;               /* keep jobs open instead of completing them */
    int finish_in_cancel;    /* 0: no; 1: complete the handle in cancel; 2: fail it */
    int runs, cancels, frees;
    tempo_job_t *held[REG_MAX_HELD];
    int n_held;
} reg_t;

static int held_index(const reg_t *r, const tempo_job_t *job)
{
    for (int i = 0; i < r->n_held; i++)
        if (r->held[i] == job)
            return i;
    return -1;
}

static void reg_fn(tempo_job_t *job, void *ud)
{
    reg_t *r = ud;
    r->runs++;
    if (r->hold) {
        assert_true(r->n_held < REG_MAX_HELD);
        r->held[r->n_held++] = job;
        return;
    }
    assert_int_equal(tempo_job_complete(job, NULL), TEMPO_OK);
}

static void reg_cancel(tempo_job_t *job, void *ud)
{
    reg_t *r = ud;
    r->cancels++;
    log_add("cancel", r->name);
    int i = held_index(r, job);
    assert_true(i >= 0); /* a job of ours, still open */
    assert_int_equal(r->frees, 0); /* never after the end */
    if (r->finish_in_cancel == 1) {
        assert_int_equal(tempo_job_complete(job, NULL), TEMPO_ECANCELLED);
        r->held[i] = NULL;
    } else if (r->finish_in_cancel == 2) {
        assert_int_equal(tempo_job_fail(job, "given up"), TEMPO_ECANCELLED);
        r->held[i] = NULL;
    }
}

/* The end: every handle still held belongs to a cancelled job. */
static void reg_free(void *ud)
{
    reg_t *r = ud;
    r->frees++;
    log_add("free", r->name);
    for (int i = 0; i < r->n_held; i++) {
        if (r->held[i]) {
            assert_int_equal(tempo_job_complete(r->held[i], NULL), TEMPO_ECANCELLED);
            r->held[i] = NULL;
        }
    }
}

static tempo_task_options_t reg_opts(const char *id, reg_t *r)
{
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = id;
    t.fn = reg_fn;
    t.userdata = r;
    t.max_running_jobs = 0;
    t.cancel = reg_cancel;
    t.free_userdata = reg_free;
    return t;
}

static void add_reg(harness_t *h, const char *id, reg_t *r)
{
    tempo_task_options_t t = reg_opts(id, r);
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_add_task(h->s, &t, &err), TEMPO_OK);
}

static void add_jobs(harness_t *h, const char *task, int n)
{
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = task;
    for (int i = 0; i < n; i++)
        assert_int_equal(tempo_scheduler_add_job(h->s, &jo, NULL, NULL, NULL), TEMPO_OK);
}

static void done_status(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    *(tempo_status_t *)ud = st;
}

/* Free the harness's scheduler and vloop (the hooks finish the handles). */
static void free_all(harness_t *h)
{
    tempo_scheduler_free(h->s);
    h->s = NULL;
    tempo_vloop_free(h->vloop);
}

/* ---- cancel ---- */

static void test_cancel_on_stop_now(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true};
    add_reg(&h, "a", &a);
    add_jobs(&h, "a", 3);
    h_start(&h);
    assert_int_equal(a.n_held, 3);
    tempo_status_t st = TEMPO_EINVAL;
    assert_int_equal(tempo_scheduler_stop_now(h.s, done_status, &st), TEMPO_OK);
    /* Inside the call, before its callback. */
    assert_int_equal(a.cancels, 3);
    assert_int_equal(st, TEMPO_EINVAL);
    tempo_vloop_run(h.vloop);
    assert_int_equal(st, TEMPO_OK);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 3);
    /* Stopping ends no registration; a restart runs new jobs with it. */
    assert_int_equal(a.frees, 0);
    h_start(&h);
    add_jobs(&h, "a", 1);
    tempo_vloop_run(h.vloop);
    assert_int_equal(a.runs, 4);
    free_all(&h); /* cancels the fourth; the first three are not cancelled again */
    assert_int_equal(a.cancels, 4);
    assert_int_equal(a.frees, 1);
    log_is("cancel A", "cancel A", "cancel A", "cancel A", "free A", NULL);
}

static void test_cancel_on_graceful_stop_timeout(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true};
    add_reg(&h, "a", &a);
    add_jobs(&h, "a", 2);
    h_start(&h);
    assert_int_equal(a.n_held, 2);
    assert_int_equal(tempo_job_complete(a.held[0], NULL), TEMPO_OK);
    a.held[0] = NULL;
    tempo_status_t st = TEMPO_EINVAL;
    assert_int_equal(tempo_scheduler_stop(h.s, TEMPO_SECONDS(30), done_status, &st), TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(29));
    assert_int_equal(a.cancels, 0); /* a graceful stop waits */
    assert_int_equal(st, TEMPO_EINVAL);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(2));
    assert_int_equal(a.cancels, 1); /* the open one, at the timeout */
    assert_int_equal(st, TEMPO_OK);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 1);
    free_all(&h);
    log_is("cancel A", "free A", NULL);
}

static void test_cancel_on_free(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true}, b = {.name = "B", .hold = true};
    add_reg(&h, "a", &a);
    add_reg(&h, "b", &b);
    add_jobs(&h, "a", 2);
    add_jobs(&h, "b", 1);
    h_start(&h);
    assert_int_equal(a.n_held + b.n_held, 3);
    free_all(&h);
    /* Every cancel (in the order the jobs are held), then every end. */
    assert_int_equal(g_n_log, 5);
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(g_log[i], "cancel "));
    log_is(g_log[0], g_log[1], g_log[2], "free A", "free B", NULL);
    assert_int_equal(a.cancels, 2);
    assert_int_equal(b.cancels, 1);
}

/* A subscriber frees the scheduler when a quick job's release is stored,
 * while two jobs of another task are open. */
typedef struct free_ctx {
    harness_t *h;
    bool freed;
} free_ctx_t;

static void free_on_release(const tempo_event_t *ev, void *ud)
{
    free_ctx_t *c = ud;
    if (ev->type != TEMPO_EVENT_JOB_RELEASED || c->freed)
        return;
    c->freed = true;
    tempo_scheduler_free(c->h->s);
    c->h->s = NULL;
    /* Already ended, before the free returned. */
    log_add("freed", "-");
}

static void test_cancel_on_free_inside_callback(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true}, q = {.name = "Q"};
    add_reg(&h, "a", &a);
    add_reg(&h, "q", &q);
    free_ctx_t c = {.h = &h};
    assert_int_equal(tempo_scheduler_subscribe(h.s, TEMPO_EVENT_JOB_RELEASED, free_on_release, &c, NULL, NULL),
                     TEMPO_OK);
    add_jobs(&h, "a", 2);
    h_start(&h);
    assert_int_equal(a.n_held, 2);
    add_jobs(&h, "q", 1);
    tempo_vloop_run(h.vloop);
    assert_true(c.freed);
    assert_int_equal(q.runs, 1);
    log_is("cancel A", "cancel A", "free A", "free Q", "freed -", NULL);
    tempo_vloop_free(h.vloop);
}

static void test_no_cancel_for_finished_jobs(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true}, q = {.name = "Q"};
    add_reg(&h, "a", &a);
    add_reg(&h, "q", &q);
    add_jobs(&h, "a", 2);
    add_jobs(&h, "q", 2);
    h_start(&h);
    assert_int_equal(a.n_held, 2);
    assert_int_equal(q.runs, 2);
    assert_int_equal(tempo_job_complete(a.held[0], NULL), TEMPO_OK);
    assert_int_equal(tempo_job_fail(a.held[1], "no"), TEMPO_OK);
    a.held[0] = a.held[1] = NULL;
    assert_int_equal(tempo_scheduler_stop_now(h.s, NULL, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    free_all(&h);
    assert_int_equal(a.cancels + q.cancels, 0);
    log_is("free A", "free Q", NULL);
}

static void test_finish_inside_cancel(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t c = {.name = "C", .hold = true, .finish_in_cancel = 1};
    reg_t f = {.name = "F", .hold = true, .finish_in_cancel = 2};
    add_reg(&h, "c", &c);
    add_reg(&h, "f", &f);
    add_jobs(&h, "c", 2);
    add_jobs(&h, "f", 1);
    h_start(&h);
    assert_int_equal(tempo_scheduler_stop_now(h.s, NULL, NULL), TEMPO_OK);
    assert_int_equal(c.cancels, 2);
    assert_int_equal(f.cancels, 1);
    tempo_vloop_run(h.vloop);
    /* Released as cancelled, whatever the hook said (ASan: the handles
     * were freed once, inside the hook). */
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 3);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 0);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_ERROR), 0);
    free_all(&h);
    assert_int_equal(c.frees + f.frees, 2);
}

/* ---- free_userdata ---- */

static void test_free_userdata_on_idle_replacement(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A"}, b = {.name = "B"};
    add_reg(&h, "t", &a);
    add_jobs(&h, "t", 1);
    h_start(&h);
    assert_int_equal(a.runs, 1); /* finished: the registration is idle */
    add_reg(&h, "t", &b);
    assert_int_equal(a.frees, 1); /* inside add_task */
    add_jobs(&h, "t", 1);
    tempo_vloop_run(h.vloop);
    assert_int_equal(b.runs, 1);
    assert_int_equal(a.runs, 1);
    free_all(&h);
    log_is("free A", "free B", NULL);
}

static void test_free_userdata_after_replaced_jobs(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true}, b = {.name = "B", .hold = true};
    add_reg(&h, "t", &a);
    add_jobs(&h, "t", 2);
    h_start(&h);
    assert_int_equal(a.n_held, 2);
    add_reg(&h, "t", &b); /* A's two jobs run on under A */
    assert_int_equal(a.frees, 0);
    add_jobs(&h, "t", 1);
    tempo_vloop_run(h.vloop);
    assert_int_equal(b.n_held, 1);
    assert_int_equal(tempo_job_complete(a.held[0], NULL), TEMPO_OK);
    a.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(a.frees, 0); /* one of its jobs still runs */
    /* The last one: given up by stop_now, with A's own cancel and userdata. */
    assert_int_equal(tempo_scheduler_stop_now(h.s, NULL, NULL), TEMPO_OK);
    assert_int_equal(a.cancels, 1);
    assert_int_equal(b.cancels, 1);
    assert_int_equal(a.frees, 0); /* never inside the stop: from the loop */
    tempo_vloop_run(h.vloop);
    assert_int_equal(a.frees, 1);
    free_all(&h);
    assert_int_equal(b.frees, 1);
    assert_int_equal(a.frees, 1);
    /* The cancels' order follows the running list; A's end follows A's cancel. */
    assert_true((strcmp(g_log[0], "cancel A") == 0 && strcmp(g_log[1], "cancel B") == 0) ||
                (strcmp(g_log[0], "cancel B") == 0 && strcmp(g_log[1], "cancel A") == 0));
    log_is(g_log[0], g_log[1], "free A", "free B", NULL);
}

/* The last job of a replaced registration finishes: the end comes from
 * the loop, never inside the task's own tempo_job_complete — the task may
 * still touch its userdata after finishing a job. */
typedef struct touch {
    reg_t reg;
    harness_t *h;
    reg_t *replacement;
    int touched_after_complete;
} touch_t;

/* Replaces its own registration, then finishes its job: the last one of
 * the replaced registration. */
static void replace_then_complete(tempo_job_t *job, void *ud)
{
    touch_t *t = ud;
    add_reg(t->h, "u", t->replacement);
    assert_int_equal(tempo_job_complete(job, NULL), TEMPO_OK);
    assert_int_equal(t->reg.frees, 0); /* still ours to touch */
    t->touched_after_complete++;
}

static void test_free_userdata_never_inside_complete(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    /* Finished from outside. */
    touch_t a = {.reg = {.name = "A", .hold = true}};
    reg_t b = {.name = "B"};
    add_reg(&h, "t", &a.reg);
    add_jobs(&h, "t", 1);
    h_start(&h);
    add_reg(&h, "t", &b);
    assert_int_equal(tempo_job_complete(a.reg.held[0], NULL), TEMPO_OK);
    a.reg.held[0] = NULL;
    assert_int_equal(a.reg.frees, 0);
    tempo_vloop_run(h.vloop);
    assert_int_equal(a.reg.frees, 1);
    /* Finished from inside the task's own function. */
    reg_t d = {.name = "D"};
    touch_t c = {.reg = {.name = "C"}, .h = &h, .replacement = &d};
    tempo_task_options_t t = reg_opts("u", &c.reg);
    t.fn = replace_then_complete;
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, NULL), TEMPO_OK);
    add_jobs(&h, "u", 1);
    tempo_vloop_run(h.vloop);
    assert_int_equal(c.touched_after_complete, 1);
    assert_int_equal(c.reg.frees, 1); /* then, from the loop */
    free_all(&h);
    log_is("free A", "free C", "free B", "free D", NULL);
}

/* Replaced, its last job finished (end queued), then the scheduler freed
 * before the loop ran again: ended once, by the free. */
static void test_replaced_then_freed_before_the_end_ran(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true}, b = {.name = "B"};
    add_reg(&h, "t", &a);
    add_jobs(&h, "t", 1);
    h_start(&h);
    add_reg(&h, "t", &b);
    assert_int_equal(tempo_job_complete(a.held[0], NULL), TEMPO_OK);
    a.held[0] = NULL;
    free_all(&h);
    assert_int_equal(a.frees, 1);
    assert_int_equal(b.frees, 1);
    assert_int_equal(g_n_log, 2);
}

static void test_same_userdata_is_taken_over(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A"};
    add_reg(&h, "t", &a);
    tempo_task_options_t t = reg_opts("t", &a);
    t.max_running_jobs = 5; /* re-registered to change a limit */
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, NULL), TEMPO_OK);
    assert_int_equal(a.frees, 0);
    free_all(&h);
    log_is("free A", NULL);
}

static void test_refused_registration_is_not_ended(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A"};
    tempo_task_options_t t = reg_opts("", &a); /* no id */
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, NULL), TEMPO_EINVAL);
    free_all(&h);
    assert_int_equal(a.frees, 0);
    assert_int_equal(g_n_log, 0);
}

/* ---- blocking tasks ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
    int frees;
} gate_t;

static tempo_status_t gated_fn(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)args, (void)result, (void)err;
    gate_t *g = ud;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return TEMPO_OK;
}

static void gate_free(void *ud)
{
    gate_t *g = ud;
    pthread_mutex_lock(&g->mu);
    assert_true(!g->entered || g->open); /* never while its function may run */
    g->frees++;
    pthread_mutex_unlock(&g->mu);
}

static void gate_init(gate_t *g)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_destroy(gate_t *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void test_blocking_tasks(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    gate_t g1, g2;
    gate_init(&g1);
    gate_init(&g2);
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "b";
    t.blocking_fn = gated_fn;
    t.userdata = &g1;
    t.cancel = reg_cancel;
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "add_task 'b': cancel is for in-loop tasks (fn); a blocking task's "
                                     "thread cannot be interrupted");
    t.cancel = NULL;
    t.free_userdata = gate_free;
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, &err), TEMPO_OK);
    add_jobs(&h, "b", 1);
    h_start(&h);
    pthread_mutex_lock(&g1.mu);
    while (!g1.entered)
        pthread_cond_wait(&g1.cv, &g1.mu);
    pthread_mutex_unlock(&g1.mu);
    /* Replaced while its job's thread runs: the end waits for the thread. */
    t.userdata = &g2;
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, &err), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(g1.frees, 0);
    pthread_mutex_lock(&g1.mu);
    g1.open = true;
    pthread_cond_broadcast(&g1.cv);
    pthread_mutex_unlock(&g1.mu);
    for (int i = 0; i < 400 && h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS) == 0; i++)
        tempo_vloop_wait(h.vloop, 50); /* bounded: 20 s of real time */
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    tempo_vloop_run(h.vloop);
    assert_int_equal(g1.frees, 1);
    assert_int_equal(g2.frees, 0);
    free_all(&h);
    assert_int_equal(g1.frees, 1);
    assert_int_equal(g2.frees, 1);
    assert_int_equal(g_n_log, 0); /* no cancel */
    gate_destroy(&g1);
    gate_destroy(&g2);
}

/* ---- compatibility, accessor ---- */

static void never_cancel(tempo_job_t *job, void *ud)
{
    (void)job, (void)ud;
    fail_msg("a field past the caller's size was read");
}

static void never_free(void *ud)
{
    (void)ud;
    fail_msg("a field past the caller's size was read");
}

static void test_older_callers_options(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true};
    tempo_task_options_t t = reg_opts("t", &a);
    t.size = offsetof(tempo_task_options_t, cancel); /* built before the hooks existed */
    t.cancel = never_cancel;
    t.free_userdata = never_free;
    assert_int_equal(tempo_scheduler_add_task(h.s, &t, NULL), TEMPO_OK);
    add_jobs(&h, "t", 1);
    h_start(&h);
    assert_int_equal(a.n_held, 1);
    assert_int_equal(tempo_scheduler_stop_now(h.s, NULL, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    tempo_scheduler_free(h.s);
    assert_int_equal(tempo_job_complete(a.held[0], NULL), TEMPO_ECANCELLED);
    tempo_vloop_free(h.vloop);
    assert_int_equal(g_n_log, 0);
}

static void test_scheduler_loop(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    tempo_loop_t *loop = tempo_scheduler_loop(h.s);
    assert_non_null(loop);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(5));
    assert_true(tempo_loop_now(loop) == tempo_vloop_now(h.vloop));
    assert_null(tempo_scheduler_loop(NULL));
    free_all(&h);
}

/* A subscriber stops the scheduler when a job is acquired, before the
 * task's function could run: nothing to cancel. */
static void stop_on_acquired(const tempo_event_t *ev, void *ud)
{
    (void)ev;
    harness_t *h = ud;
    (void)tempo_scheduler_stop_now(h->s, NULL, NULL);
}

static void test_no_cancel_for_jobs_never_started(void **state)
{
    (void)state;
    log_reset();
    harness_t h;
    h_init(&h);
    reg_t a = {.name = "A", .hold = true};
    add_reg(&h, "a", &a);
    assert_int_equal(tempo_scheduler_subscribe(h.s, TEMPO_EVENT_JOB_ACQUIRED, stop_on_acquired, &h, NULL, NULL),
                     TEMPO_OK);
    add_jobs(&h, "a", 1);
    h_start(&h);
    assert_int_equal(a.runs, 0);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 1);
    free_all(&h);
    log_is("free A", NULL);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_on_stop_now),
        cmocka_unit_test(test_cancel_on_graceful_stop_timeout),
        cmocka_unit_test(test_cancel_on_free),
        cmocka_unit_test(test_cancel_on_free_inside_callback),
        cmocka_unit_test(test_no_cancel_for_finished_jobs),
        cmocka_unit_test(test_finish_inside_cancel),
        cmocka_unit_test(test_free_userdata_on_idle_replacement),
        cmocka_unit_test(test_free_userdata_after_replaced_jobs),
        cmocka_unit_test(test_free_userdata_never_inside_complete),
        cmocka_unit_test(test_replaced_then_freed_before_the_end_ran),
        cmocka_unit_test(test_same_userdata_is_taken_over),
        cmocka_unit_test(test_refused_registration_is_not_ended),
        cmocka_unit_test(test_blocking_tasks),
        cmocka_unit_test(test_older_callers_options),
        cmocka_unit_test(test_scheduler_loop),
        cmocka_unit_test(test_no_cancel_for_jobs_never_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
