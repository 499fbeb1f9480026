/* The scheduler's API on virtual time: bad input, jobs and results, in-loop
 * and blocking tasks, failures, stop, events, pause/resume, and changes made
 * from inside callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "sched_harness.h"

static void count_schedules(void *ud, tempo_status_t st, const tempo_error_t *err,
                            const tempo_schedule_record_t *recs, size_t n)
{
    (void)err;
    (void)recs;
    int *out = ud;
    assert_int_equal(st, TEMPO_OK);
    *out = (int)n;
}

static int n_schedules(harness_t *h)
{
    int n = -1;
    assert_int_equal(tempo_scheduler_list_schedules(h->s, count_schedules, &n, NULL), TEMPO_OK);
    tempo_vloop_run(h->vloop);
    return n;
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_SECONDS(10), TEMPO_SECONDS(10));
    tempo_error_t err = {0};

    tempo_schedule_options_t o = h_sched_opts("a", "nope", t);
    assert_int_equal(tempo_scheduler_add_schedule(h.s, &o, h_answer_id, &h, &err), TEMPO_ENOTFOUND);
    assert_non_null(strstr(err.message, "unknown task 'nope'"));
    o = h_sched_opts("a", "t", NULL);
    assert_int_equal(tempo_scheduler_add_schedule(h.s, &o, h_answer_id, &h, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "trigger is required"));
    o = h_sched_opts("a", "t", t);
    o.max_jitter = -1;
    assert_int_equal(tempo_scheduler_add_schedule(h.s, &o, h_answer_id, &h, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "max_jitter"));
    o = h_sched_opts("a", "t", t);
    o.misfire_grace_time = -5;
    assert_int_equal(tempo_scheduler_add_schedule(h.s, &o, h_answer_id, &h, &err), TEMPO_EINVAL);
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "bad";
    assert_int_equal(tempo_scheduler_add_task(h.s, &to, &err), TEMPO_EINVAL); /* no function */
    to.fn = (tempo_task_fn)1;
    to.max_running_jobs = -1;
    assert_int_equal(tempo_scheduler_add_task(h.s, &to, &err), TEMPO_EINVAL);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "nope";
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, &err), TEMPO_ENOTFOUND);

    tempo_vloop_run(h.vloop);
    assert_int_equal(h.answers, 0); /* refused calls never call back */
    assert_int_equal(n_schedules(&h), 0);

    /* Duplicate id under policy ERROR: the store refuses, through the callback. */
    o = h_sched_opts("a", "t", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    o.conflict = TEMPO_CONFLICT_ERROR;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_EEXIST);
    o.conflict = TEMPO_CONFLICT_DO_NOTHING;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    assert_int_equal(n_schedules(&h), 1);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_SCHEDULE_ADDED), 1);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_in_loop_task_completes_later(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h.hold = true;
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    jo.result_expiration = TEMPO_HOURS(1);
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h.n_runs, 1);
    char job_id[64];
    snprintf(job_id, sizeof job_id, "%s", h.last_id);
    assert_string_equal(h.runs[0].job_id, job_id);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_JOB_RELEASED), 0);

    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(3)); /* "later": another callback */
    bson_t *value = BCON_NEW("answer", BCON_INT32(42));
    assert_int_equal(tempo_job_complete(h.held[0], value), TEMPO_OK);
    h.held[0] = NULL;
    bson_destroy(value);
    tempo_vloop_run(h.vloop);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    tempo_trigger_t *unused = NULL;
    (void)unused;
    h_free(&h);
}

static void remember_result(void *ud, tempo_status_t st, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)err;
    harness_t *h = ud;
    h->answers++;
    h->last_status = st;
    if (res) {
        h->last_id[0] = (char)('0' + res->outcome);
        h->last_id[1] = '\0';
        snprintf(h->last_message, sizeof h->last_message, "%s", res->error ? res->error : "");
    }
}

static tempo_status_t blocking_square(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)ud;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, args, "x") || !BSON_ITER_HOLDS_INT32(&it)) {
        snprintf(err->message, sizeof err->message, "argument 'x' is missing");
        return TEMPO_EINVAL;
    }
    int x = bson_iter_int32(&it);
    BSON_APPEND_INT32(result, "square", x * x);
    return TEMPO_OK;
}

static void test_blocking_task_and_failure(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "square";
    to.blocking_fn = blocking_square;
    to.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_task(h.s, &to, NULL), TEMPO_OK);
    h_start(&h);

    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "square";
    bson_t *args = BCON_NEW("x", BCON_INT32(7));
    jo.args = args;
    jo.result_expiration = TEMPO_HOURS(1);
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    bson_destroy(args);
    tempo_vloop_run(h.vloop);
    char good[64];
    snprintf(good, sizeof good, "%s", h.last_id);
    jo.args = NULL; /* fails: no x */
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    char bad[64];
    snprintf(bad, sizeof bad, "%s", h.last_id);

    /* The pool runs on real threads: wait (real time) for their wake-ups. */
    for (int i = 0; i < 200 && h_count_events(&h, TEMPO_EVENT_JOB_RELEASED) < 2; i++)
        tempo_vloop_wait(h.vloop, 50);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_ERROR), 1);

    h.answers = 0;
    assert_int_equal(tempo_scheduler_get_job_result(h.s, bad, remember_result, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.answers, 1);
    assert_int_equal(h.last_status, TEMPO_OK);
    assert_int_equal(h.last_id[0], '0' + TEMPO_OUTCOME_ERROR);
    assert_string_equal(h.last_message, "argument 'x' is missing");
    assert_int_equal(tempo_scheduler_get_job_result(h.s, good, remember_result, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(h.last_id[0], '0' + TEMPO_OUTCOME_SUCCESS);
    h_free(&h);
}

static void test_wait_job_result(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    h_start(&h);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    jo.at = h_t0() + TEMPO_MINUTES(5); /* a queued job, no schedule; result not kept */
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, h_answer_id, &h, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    char id[64];
    snprintf(id, sizeof id, "%s", h.last_id);
    h.answers = 0;
    assert_int_equal(tempo_scheduler_wait_job_result(h.s, id, TEMPO_DURATION_NONE, remember_result, &h, NULL),
                     TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(4));
    assert_int_equal(h.answers, 0);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(2));
    assert_int_equal(h.answers, 1);
    assert_int_equal(h.last_status, TEMPO_OK);
    assert_int_equal(h.runs[0].started, h_t0() + TEMPO_MINUTES(5));

    /* A timeout. */
    h.answers = 0;
    assert_int_equal(tempo_scheduler_wait_job_result(h.s, "no-such-job", TEMPO_SECONDS(30), remember_result, &h, NULL),
                     TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(29));
    assert_int_equal(h.answers, 0);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(2));
    assert_int_equal(h.answers, 1);
    assert_int_equal(h.last_status, TEMPO_ETIMEOUT);
    h_free(&h);
}

static void done_count(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    int *n = ud;
    (*n)++;
    assert_int_equal(st, TEMPO_OK);
}

static void test_stop_waits_for_running_jobs(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h.hold = true;
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "t";
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    assert_int_equal(tempo_scheduler_add_job(h.s, &jo, NULL, NULL, NULL), TEMPO_OK);
    h_start(&h);
    assert_int_equal(h.n_runs, 2);
    int stopped = 0;
    assert_int_equal(tempo_scheduler_stop(h.s, TEMPO_MINUTES(1), done_count, &stopped), TEMPO_OK);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(10));
    assert_int_equal(stopped, 0); /* jobs still running */
    assert_int_equal(tempo_job_complete(h.held[0], NULL), TEMPO_OK);
    h.held[0] = NULL;
    tempo_vloop_run(h.vloop);
    assert_int_equal(stopped, 0);
    /* The second never finishes: the timeout cancels it. */
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(1));
    assert_int_equal(stopped, 1);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_SUCCESS), 1);
    assert_int_equal(h_count_outcome(&h, TEMPO_OUTCOME_CANCELLED), 1);
    assert_int_equal(h_count_events(&h, TEMPO_EVENT_SCHEDULER_STOPPED), 1);
    /* Its handle now answers ECANCELLED (and is freed). */
    assert_int_equal(tempo_job_complete(h.held[1], NULL), TEMPO_ECANCELLED);
    h.held[1] = NULL;
    h_free(&h);
}

static void test_events_in_order(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 1, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_date_new(h_t0() + TEMPO_SECONDS(5), &t, NULL), TEMPO_OK);
    tempo_schedule_options_t o = h_sched_opts("d", "t", t);
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(10));
    tempo_event_type_t want[] = {
        TEMPO_EVENT_SCHEDULE_ADDED, TEMPO_EVENT_SCHEDULER_STARTED, TEMPO_EVENT_JOB_ADDED,
        TEMPO_EVENT_SCHEDULE_REMOVED, TEMPO_EVENT_JOB_ACQUIRED, TEMPO_EVENT_JOB_RELEASED,
    };
    /* TASK_ADDED came first, synchronously. */
    assert_int_equal(h.events[0].type, TEMPO_EVENT_TASK_ADDED);
    assert_int_equal(h.n_events, 1 + (int)(sizeof want / sizeof *want));
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_int_equal(h.events[1 + i].type, want[i]);
    const h_event_t *added = &h.events[1], *job = &h.events[3], *rel = &h.events[6];
    assert_string_equal(added->schedule_id, "d");
    assert_int_equal(added->next, h_t0() + TEMPO_SECONDS(5));
    assert_string_equal(job->schedule_id, "d");
    assert_int_equal(job->scheduled, h_t0() + TEMPO_SECONDS(5));
    assert_int_equal(job->at, h_t0() + TEMPO_SECONDS(5));
    assert_string_equal(rel->job_id, job->job_id);
    assert_int_equal(rel->outcome, TEMPO_OUTCOME_SUCCESS);
    tempo_trigger_free(t);
    h_free(&h);
}

static void test_pause_and_resume(void **state)
{
    (void)state;
    harness_t h;
    h_init(&h);
    h_add_task(&h, "t", 0, TEMPO_DURATION_NONE);
    tempo_trigger_t *t = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = h_sched_opts("p", "t", t);
    o.coalesce = TEMPO_COALESCE_LATEST;
    assert_int_equal(h_add_schedule(&h, &o), TEMPO_OK);
    h_start(&h);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(2));
    assert_int_equal(h.n_runs, 2);
    int done = 0;
    assert_int_equal(tempo_scheduler_pause_schedule(h.s, "p", done_count, &done, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    assert_int_equal(done, 1);
    tempo_vloop_advance(h.vloop, TEMPO_MINUTES(5) + TEMPO_SECONDS(30));
    assert_int_equal(h.n_runs, 2); /* paused */
    assert_int_equal(tempo_scheduler_resume_schedule(h.s, "p", done_count, &done, NULL), TEMPO_OK);
    tempo_vloop_run(h.vloop);
    /* Fires at +3..+7 were missed; LATEST runs the one for +7 once. */
    assert_int_equal(h.n_runs, 3);
    assert_int_equal(h.runs[2].scheduled, h_t0() + TEMPO_MINUTES(7));
    tempo_vloop_advance(h.vloop, TEMPO_SECONDS(30));
    assert_int_equal(h.n_runs, 4);
    assert_int_equal(h.runs[3].scheduled, h_t0() + TEMPO_MINUTES(8));
    tempo_trigger_free(t);
    h_free(&h);
}

/* A task that, when it runs, adds a schedule, modifies another and removes a
 * third — the scheduler must cope with changes from inside its callbacks. */
typedef struct reentrant {
    harness_t h;
    tempo_trigger_t *trigger;
    int runs;
} reentrant_t;

static void changing_task(tempo_job_t *job, void *ud)
{
    reentrant_t *r = ud;
    r->runs++;
    if (r->runs == 1) {
        tempo_schedule_options_t o = h_sched_opts("added-in-job", "plain", r->trigger);
        assert_int_equal(tempo_scheduler_add_schedule(r->h.s, &o, NULL, NULL, NULL), TEMPO_OK);
        assert_int_equal(tempo_scheduler_remove_schedule(r->h.s, "victim", NULL, NULL, NULL), TEMPO_OK);
    }
    assert_int_equal(tempo_job_complete(job, NULL), TEMPO_OK);
}

static void on_schedule_added(const tempo_event_t *ev, void *ud)
{
    reentrant_t *r = ud;
    if (strcmp(ev->schedule_id, "added-in-job") == 0) {
        tempo_schedule_changes_t c = TEMPO_SCHEDULE_CHANGES_INIT;
        c.fields = TEMPO_CHANGE_MAX_JITTER;
        c.max_jitter = 0;
        assert_int_equal(tempo_scheduler_modify_schedule(r->h.s, ev->schedule_id, &c, NULL, NULL, NULL), TEMPO_OK);
        assert_int_equal(tempo_scheduler_pause_schedule(r->h.s, "changer", NULL, NULL, NULL), TEMPO_OK);
    }
}

static void test_changes_from_inside_callbacks(void **state)
{
    (void)state;
    reentrant_t *r = calloc(1, sizeof *r);
    h_init(&r->h);
    h_add_task(&r->h, "plain", 0, TEMPO_DURATION_NONE);
    tempo_task_options_t to = TEMPO_TASK_OPTIONS_INIT;
    to.id = "changer";
    to.fn = changing_task;
    to.userdata = r;
    to.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_task(r->h.s, &to, NULL), TEMPO_OK);
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(r->h.s, TEMPO_EVENT_SCHEDULE_ADDED, on_schedule_added, r, &sub, NULL),
                     TEMPO_OK);
    r->trigger = h_interval(h_t0() + TEMPO_MINUTES(1), TEMPO_MINUTES(1));
    tempo_schedule_options_t o = h_sched_opts("changer", "changer", r->trigger);
    assert_int_equal(h_add_schedule(&r->h, &o), TEMPO_OK);
    o = h_sched_opts("victim", "plain", r->trigger);
    assert_int_equal(h_add_schedule(&r->h, &o), TEMPO_OK);
    h_start(&r->h);
    tempo_vloop_advance(r->h.vloop, TEMPO_MINUTES(5) + TEMPO_SECONDS(1));
    /* changer ran once, then was paused from the event callback */
    assert_int_equal(r->runs, 1);
    /* victim ran once (at +1, same step as changer) or not at all, then was removed;
     * added-in-job, added at +1, fires from its first time at or after now: +1 to +5. */
    int added = 0, victim = 0;
    for (int i = 0; i < r->h.n_runs; i++) {
        added += strcmp(r->h.runs[i].schedule_id, "added-in-job") == 0;
        victim += strcmp(r->h.runs[i].schedule_id, "victim") == 0;
    }
    assert_int_equal(added, 5);
    assert_true(victim <= 1);
    assert_int_equal(n_schedules(&r->h), 2); /* changer (paused) + added-in-job */
    tempo_trigger_free(r->trigger);
    h_free(&r->h);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_in_loop_task_completes_later),
        cmocka_unit_test(test_blocking_task_and_failure),
        cmocka_unit_test(test_wait_job_result),
        cmocka_unit_test(test_stop_waits_for_running_jobs),
        cmocka_unit_test(test_events_in_order),
        cmocka_unit_test(test_pause_and_resume),
        cmocka_unit_test(test_changes_from_inside_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
