/* A scheduler on a virtual clock, for behaviour tests: no sleeps, every
 * instant exact. Include after <cmocka.h>. Each test makes one harness_t.
 *
 * Tasks registered through the harness record every run (job id, scheduled
 * fire time, the clock when it started); events are recorded in order. */
#ifndef TEMPO_TEST_SCHED_HARNESS_H
#define TEMPO_TEST_SCHED_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/tempo.h>

#define H_MAX 4096

typedef struct h_run {
    char job_id[40];
    char schedule_id[64];
    tempo_time_t scheduled, started;
} h_run_t;

typedef struct h_event {
    tempo_event_type_t type;
    char job_id[40], schedule_id[64];
    tempo_time_t at, scheduled, next;
    tempo_outcome_t outcome;
} h_event_t;

typedef struct harness {
    tempo_vloop_t *vloop;
    tempo_scheduler_t *s;
    h_run_t runs[H_MAX];
    int n_runs;
    h_event_t events[H_MAX];
    int n_events;
    uint64_t sub; /* the subscription to every event */
    /* in-loop jobs held open (hold mode), to complete later */
    tempo_job_t *held[H_MAX];
    int n_held;
    bool hold;  /* in-loop task keeps the job open instead of completing */
    /* last async answer */
    int answers;
    tempo_status_t last_status;
    char last_id[64];
    char last_message[TEMPO_ERROR_MESSAGE_MAX];
} harness_t;

static inline tempo_time_t h_t0(void)
{
    return tempo_test_utc("2027-01-04T00:00:00Z"); /* a Monday */
}

static inline void h_on_event(const tempo_event_t *ev, void *ud)
{
    harness_t *h = ud;
    if (h->n_events >= H_MAX)
        return;
    h_event_t *e = &h->events[h->n_events++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    snprintf(e->job_id, sizeof e->job_id, "%s", ev->job_id ? ev->job_id : "");
    snprintf(e->schedule_id, sizeof e->schedule_id, "%s", ev->schedule_id ? ev->schedule_id : "");
    e->at = ev->timestamp;
    e->scheduled = ev->scheduled_fire_time;
    e->next = ev->next_fire_time;
    e->outcome = ev->outcome;
}

static inline void h_init_store(harness_t *h, tempo_time_t start, const tempo_scheduler_options_t *opts,
                                tempo_store_t *store);

static inline void h_init_opts(harness_t *h, tempo_time_t start, const tempo_scheduler_options_t *opts)
{
    h_init_store(h, start, opts, NULL);
}

/* With a store of the test's (NULL: the default memory store). */
static inline void h_init_store(harness_t *h, tempo_time_t start, const tempo_scheduler_options_t *opts,
                                tempo_store_t *store)
{
    memset(h, 0, sizeof *h);
    tempo_loop_t *loop = NULL;
    tempo_error_t err = {0};
    assert_int_equal(tempo_vloop_new(start, &h->vloop, &loop, &err), TEMPO_OK);
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (!o.seed)
        o.seed = 42;
    if (!o.identity)
        o.identity = "test-scheduler";
    assert_int_equal(tempo_scheduler_new(loop, store, &o, &h->s, &err), TEMPO_OK);
    assert_int_equal(tempo_scheduler_subscribe(h->s, TEMPO_EVENT_ALL, h_on_event, h, &h->sub, &err), TEMPO_OK);
}

static inline void h_init(harness_t *h)
{
    h_init_opts(h, h_t0(), NULL);
}

static inline void h_free(harness_t *h)
{
    tempo_scheduler_free(h->s);
    for (int i = 0; i < h->n_held; i++)
        if (h->held[i])
            tempo_job_complete(h->held[i], NULL); /* ECANCELLED; frees the handle */
    tempo_vloop_free(h->vloop);
}

static inline void h_task(tempo_job_t *job, void *ud)
{
    harness_t *h = ud;
    if (h->n_runs < H_MAX) {
        h_run_t *r = &h->runs[h->n_runs++];
        snprintf(r->job_id, sizeof r->job_id, "%s", tempo_job_id(job));
        snprintf(r->schedule_id, sizeof r->schedule_id, "%s",
                 tempo_job_schedule_id(job) ? tempo_job_schedule_id(job) : "");
        r->scheduled = tempo_job_scheduled_fire_time(job);
        r->started = tempo_vloop_now(h->vloop);
    }
    if (h->hold && h->n_held < H_MAX) {
        h->held[h->n_held++] = job;
        return;
    }
    assert_int_equal(tempo_job_complete(job, NULL), TEMPO_OK);
}

static inline void h_add_task(harness_t *h, const char *id, int max_running, tempo_duration_t grace)
{
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = id;
    t.fn = h_task;
    t.userdata = h;
    t.max_running_jobs = max_running;
    t.misfire_grace_time = grace;
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_add_task(h->s, &t, &err), TEMPO_OK);
}

static inline void h_answer_id(void *ud, tempo_status_t st, const tempo_error_t *err, const char *id)
{
    harness_t *h = ud;
    h->answers++;
    h->last_status = st;
    snprintf(h->last_id, sizeof h->last_id, "%s", id ? id : "");
    snprintf(h->last_message, sizeof h->last_message, "%s", err ? err->message : "");
}

static inline void h_answer_done(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    h_answer_id(ud, st, err, NULL);
}

static inline tempo_trigger_t *h_interval(tempo_time_t start, tempo_duration_t period)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.start = start;
    o.period = period;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_interval_new(&o, &t, NULL), TEMPO_OK);
    return t;
}

/* Options for schedule `id` of task `task` on `trigger`, defaults otherwise. */
static inline tempo_schedule_options_t h_sched_opts(const char *id, const char *task, tempo_trigger_t *trigger)
{
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = id;
    o.task_id = task;
    o.trigger = trigger;
    return o;
}

/* Add a schedule and run the loop until the store answered. */
static inline tempo_status_t h_add_schedule(harness_t *h, const tempo_schedule_options_t *o)
{
    int before = h->answers;
    tempo_error_t err = {0};
    tempo_status_t rc = tempo_scheduler_add_schedule(h->s, o, h_answer_id, h, &err);
    if (rc != TEMPO_OK) {
        snprintf(h->last_message, sizeof h->last_message, "%s", err.message);
        return rc;
    }
    assert_int_equal(h->answers, before); /* never inside the call */
    tempo_vloop_run(h->vloop);
    assert_int_equal(h->answers, before + 1);
    return h->last_status;
}

static inline void h_start(harness_t *h)
{
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_start(h->s, &err), TEMPO_OK);
    tempo_vloop_run(h->vloop);
}

static inline int h_count_events(const harness_t *h, tempo_event_type_t type)
{
    int n = 0;
    for (int i = 0; i < h->n_events; i++)
        n += h->events[i].type == type;
    return n;
}

static inline int h_count_outcome(const harness_t *h, tempo_outcome_t outcome)
{
    int n = 0;
    for (int i = 0; i < h->n_events; i++)
        n += h->events[i].type == TEMPO_EVENT_JOB_RELEASED && h->events[i].outcome == outcome;
    return n;
}

#endif
