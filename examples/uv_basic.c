/* A scheduler inside a libuv program.
 *
 * The same program as examples/ev_basic.c, on libuv's default loop: two
 * tasks — one that runs on the loop and finishes later, one that blocks and
 * so runs on the thread pool — three schedules (cron, interval, date) and
 * one job queued directly. Every finished job is printed as it happens;
 * after N seconds (or Ctrl-C) the scheduler stops gracefully and the program
 * frees everything, closes the loop and exits. docs/guide.md explains each
 * step; docs/adapters.md the libuv adapter.
 *
 *   $ build/default/bin/example_uv_basic              # runs for 10 s
 *   $ build/default/bin/example_uv_basic --seconds 3
 *
 * The one rule to keep in mind reading it: every tempo call happens on the
 * loop's thread, and every asynchronous call answers through a callback that
 * runs later, from the loop — never inside the call. What libuv adds: a
 * handle is freed only in its close callback, so the program runs the loop
 * once more after freeing the scheduler, and uv_loop_close() tells whether
 * anything was left open. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tempo/tempo.h>
#include <tempo/uv.h>

#define PROG "example_uv_basic"
#define STOP_TIMEOUT TEMPO_SECONDS(5) /* how long running jobs get to finish */

typedef struct app {
    uv_loop_t *uv;
    tempo_scheduler_t *scheduler;
    const tempo_zone_t *zone;    /* times are printed in the local zone */
    uv_timer_t run_for;          /* ends the run after --seconds */
    uv_signal_t sigint, sigterm; /* end it early, gracefully */
    bool clock_watched;          /* the three handles above are initialised */
    bool stopping;
    int finished[TEMPO_OUTCOME_DESERIALIZATION_FAILED + 1]; /* jobs per outcome */
    int exit_code;
} app_t;

/* "14:03:07.250" in the local zone. */
static const char *clock_text(const app_t *app, tempo_time_t t, char *buf, size_t size)
{
    tempo_civil_t c;
    if (t == TEMPO_TIME_NONE || tempo_zone_to_civil(app->zone, t, &c, NULL) != TEMPO_OK)
        return "--:--:--.---";
    snprintf(buf, size, "%02d:%02d:%02d.%03d", c.hour, c.minute, c.second, (int)(c.usec / 1000));
    return buf;
}

static const char *message_of(tempo_status_t status, const tempo_error_t *err)
{
    return err && err->message[0] ? err->message : tempo_strerror(status);
}

static void begin_stop(app_t *app, const char *why);

/* An asynchronous call failed: say so, and end the run with exit code 1. */
static void give_up(app_t *app, const char *what, tempo_status_t status, const tempo_error_t *err)
{
    fprintf(stderr, "%s: %s: %s\n", PROG, what, message_of(status, err));
    app->exit_code = 1;
    begin_stop(app, "after an error");
}

/* ---- the tasks ---- */

/* The in-loop task. It is called on the loop thread and must not block, so
 * it starts something asynchronous — a 200 ms libuv timer stands in for a
 * network request — and finishes the job from that timer's callback. The
 * job handle stays valid until tempo_job_complete() or tempo_job_fail(). */
typedef struct pending_ping {
    uv_timer_t timer; /* timer.data points back here */
    tempo_job_t *job;
} pending_ping_t;

static void ping_freed(uv_handle_t *handle)
{
    free(handle->data);
}

static void ping_answered(uv_timer_t *timer)
{
    pending_ping_t *p = timer->data;
    bson_t *value = BCON_NEW("rtt_ms", BCON_INT32(200));
    /* TEMPO_ECANCELLED means the scheduler gave up on the job meanwhile (a
     * stop that timed out, or the scheduler was freed): nothing is recorded,
     * and the handle is gone either way. */
    tempo_job_complete(p->job, value);
    bson_destroy(value);
    /* libuv still holds the handle: free it in the close callback. */
    uv_close((uv_handle_t *)&p->timer, ping_freed);
}

static void ping_task(tempo_job_t *job, void *userdata)
{
    app_t *app = userdata;
    pending_ping_t *p = malloc(sizeof *p);
    if (!p) {
        tempo_job_fail(job, "out of memory");
        return;
    }
    p->job = job;
    uv_timer_init(app->uv, &p->timer); /* cannot fail for a valid loop */
    p->timer.data = p;
    uv_timer_start(&p->timer, ping_answered, 200, 0);
}

/* The blocking task. It runs on the scheduler's thread pool, so it may block
 * (a 100 ms sleep stands in for disk or database work); it must not touch
 * the scheduler or the libuv loop. Its result is the document it fills; a
 * status other than TEMPO_OK makes the job fail with err->message. */
static tempo_status_t checksum_task(const bson_t *args, bson_t *result, tempo_error_t *err, void *userdata)
{
    (void)userdata;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, args, "n") || !BSON_ITER_HOLDS_INT32(&it) || bson_iter_int32(&it) < 0) {
        err->code = TEMPO_EINVAL;
        snprintf(err->message, sizeof err->message, "checksum: argument 'n' must be a non-negative int32");
        return TEMPO_EINVAL;
    }
    int32_t n = bson_iter_int32(&it);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    BSON_APPEND_INT32(result, "n", n);
    BSON_APPEND_INT64(result, "sum", (int64_t)n * (n + 1) / 2);
    return TEMPO_OK;
}

static tempo_status_t add_tasks(app_t *app, tempo_error_t *err)
{
    tempo_task_options_t ping = TEMPO_TASK_OPTIONS_INIT;
    ping.id = "ping";
    ping.fn = ping_task;
    ping.userdata = app;
    ping.max_running_jobs = 0; /* no limit: schedules may overlap */
    tempo_status_t rc = tempo_scheduler_add_task(app->scheduler, &ping, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_task_options_t checksum = TEMPO_TASK_OPTIONS_INIT;
    checksum.id = "checksum";
    checksum.blocking_fn = checksum_task; /* default max_running_jobs 1: one at a time */
    return tempo_scheduler_add_task(app->scheduler, &checksum, err);
}

/* ---- events ---- */

static void on_event(const tempo_event_t *ev, void *userdata)
{
    app_t *app = userdata;
    char at[32], fire[32];
    switch (ev->type) {
    case TEMPO_EVENT_SCHEDULE_ADDED:
        printf("%s  schedule '%s' added, first fire at %s\n", clock_text(app, ev->timestamp, at, sizeof at),
               ev->schedule_id, clock_text(app, ev->next_fire_time, fire, sizeof fire));
        break;
    case TEMPO_EVENT_JOB_RELEASED:
        if ((unsigned)ev->outcome < sizeof app->finished / sizeof *app->finished)
            app->finished[ev->outcome]++;
        printf("%s  job done: schedule %-9s task %-8s %-8s (fire time %s)%s%s\n",
               clock_text(app, ev->timestamp, at, sizeof at), ev->schedule_id ? ev->schedule_id : "-",
               ev->task_id, tempo_outcome_name(ev->outcome), clock_text(app, ev->scheduled_fire_time, fire, sizeof fire),
               ev->message ? ": " : "", ev->message ? ev->message : "");
        break;
    case TEMPO_EVENT_STORE_ERROR: /* the scheduler retries; worth a log line */
        fprintf(stderr, "%s: store error: %s\n", PROG, ev->message ? ev->message : "?");
        break;
    default:
        break;
    }
}

/* ---- schedules ---- */

static void schedule_added(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)id; /* NULL on failure; the message names the schedule */
    if (status != TEMPO_OK && status != TEMPO_ECANCELLED)
        give_up(userdata, "adding a schedule", status, err);
}

/* Add a schedule of `task` on `trigger`, then drop our reference to the
 * trigger: the scheduler took its own. */
static tempo_status_t add_schedule(app_t *app, const char *id, const char *task, tempo_trigger_t *trigger,
                                   const bson_t *args, tempo_error_t *err)
{
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = id;
    o.task_id = task;
    o.trigger = trigger;
    o.args = args;
    /* A fire that cannot start within 10 s of its time (the program was
     * suspended, say) is reported as missed_start_deadline, not run late. */
    o.misfire_grace_time = TEMPO_SECONDS(10);
    tempo_status_t rc = tempo_scheduler_add_schedule(app->scheduler, &o, schedule_added, app, err);
    tempo_trigger_free(trigger);
    return rc;
}

static tempo_status_t add_schedules(app_t *app, tempo_error_t *err)
{
    tempo_time_t now = tempo_time_now(); /* the libuv adapter's clock is the real-time clock */
    tempo_trigger_t *t;
    tempo_status_t rc;

    /* Cron with a seconds field (6 fields): every 2 seconds, local time. */
    tempo_cron_options_t cron = TEMPO_CRON_OPTIONS_INIT;
    if ((rc = tempo_trigger_cron_new("*/2 * * * * *", &cron, &t, err)) != TEMPO_OK ||
        (rc = add_schedule(app, "every-2s", "ping", t, NULL, err)) != TEMPO_OK)
        return rc;

    /* Every 3 seconds of elapsed time, the first fire 1 s from now. */
    tempo_interval_options_t every = TEMPO_INTERVAL_OPTIONS_INIT;
    every.period = TEMPO_SECONDS(3);
    every.start = now + TEMPO_SECONDS(1);
    bson_t *args = BCON_NEW("n", BCON_INT32(1000));
    if ((rc = tempo_trigger_interval_new(&every, &t, err)) == TEMPO_OK)
        rc = add_schedule(app, "every-3s", "checksum", t, args, err); /* args are copied */
    bson_destroy(args);
    if (rc != TEMPO_OK)
        return rc;

    /* Once, 5 seconds from now. Its schedule is removed after it fired. */
    if ((rc = tempo_trigger_date_new(now + TEMPO_SECONDS(5), &t, err)) != TEMPO_OK)
        return rc;
    return add_schedule(app, "in-5s", "ping", t, NULL, err);
}

/* ---- a job queued directly, and its result ---- */

static void job_result(void *userdata, tempo_status_t status, const tempo_error_t *err,
                       const tempo_job_result_t *result)
{
    app_t *app = userdata;
    if (status == TEMPO_ECANCELLED)
        return; /* the scheduler went away first (this may run inside tempo_scheduler_free) */
    if (status != TEMPO_OK) {
        give_up(app, "waiting for the queued job's result", status, err);
        return;
    }
    char at[32];
    char *json = result->return_value ? bson_as_relaxed_extended_json(result->return_value, NULL) : NULL;
    printf("%s  result of the queued job: %s %s\n", clock_text(app, result->finished_at, at, sizeof at),
           tempo_outcome_name(result->outcome), json ? json : result->error ? result->error : "");
    bson_free(json);
}

static void job_queued(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *job_id)
{
    app_t *app = userdata;
    if (status != TEMPO_OK) {
        if (status != TEMPO_ECANCELLED)
            give_up(app, "queueing a job", status, err);
        return;
    }
    printf("job %s queued\n", job_id);
    tempo_error_t e;
    tempo_status_t rc = tempo_scheduler_wait_job_result(app->scheduler, job_id, TEMPO_SECONDS(30), job_result, app, &e);
    if (rc != TEMPO_OK)
        give_up(app, "waiting for the queued job's result", rc, &e);
}

static tempo_status_t queue_job(app_t *app, tempo_error_t *err)
{
    tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT; /* at = NONE: run now */
    o.task_id = "checksum";
    bson_t *args = BCON_NEW("n", BCON_INT32(100));
    o.args = args;
    o.result_expiration = TEMPO_MINUTES(1); /* keep the result a minute, for get_job_result */
    tempo_status_t rc = tempo_scheduler_add_job(app->scheduler, &o, job_queued, app, err);
    bson_destroy(args);
    return rc;
}

/* ---- stopping ---- */

static void on_stopped(void *userdata, tempo_status_t status, const tempo_error_t *err)
{
    app_t *app = userdata;
    if (status != TEMPO_OK)
        fprintf(stderr, "%s: stop: %s\n", PROG, message_of(status, err));
    int total = 0;
    for (size_t i = 0; i < sizeof app->finished / sizeof *app->finished; i++)
        total += app->finished[i];
    printf("stopped: %d jobs finished (%d success, %d error, %d missed, %d cancelled)\n", total,
           app->finished[TEMPO_OUTCOME_SUCCESS], app->finished[TEMPO_OUTCOME_ERROR],
           app->finished[TEMPO_OUTCOME_MISSED_START_DEADLINE], app->finished[TEMPO_OUTCOME_CANCELLED]);
    uv_stop(app->uv);
}

/* Graceful: no new work, running jobs get STOP_TIMEOUT to finish, then
 * on_stopped runs (from the loop). Called once, whatever asks first. */
static void begin_stop(app_t *app, const char *why)
{
    if (app->stopping)
        return;
    app->stopping = true;
    if (app->clock_watched) { /* embedded in app, which outlives the loop: no close callback needed */
        uv_close((uv_handle_t *)&app->run_for, NULL);
        uv_close((uv_handle_t *)&app->sigint, NULL);
        uv_close((uv_handle_t *)&app->sigterm, NULL);
    }
    printf("stopping (%s)\n", why);
    tempo_status_t rc = tempo_scheduler_stop(app->scheduler, STOP_TIMEOUT, on_stopped, app);
    if (rc != TEMPO_OK) { /* never started: nothing to wait for */
        fprintf(stderr, "%s: stop: %s\n", PROG, tempo_strerror(rc));
        uv_stop(app->uv);
    }
}

static void time_is_up(uv_timer_t *timer)
{
    begin_stop(timer->data, "time is up");
}

static void got_signal(uv_signal_t *handle, int signum)
{
    begin_stop(handle->data, signum == SIGINT ? "interrupted" : "terminated");
}

/* ---- main ---- */

/* Everything before the loop runs: tasks, events, schedules, the queued job,
 * start. Schedules and jobs may be added before start(); they are answered
 * (and run) once the loop runs. */
static tempo_status_t setup(app_t *app, tempo_error_t *err)
{
    tempo_loop_t *loop;
    tempo_status_t rc = tempo_uv_loop_new(app->uv, &loop, err);
    if (rc != TEMPO_OK)
        return rc;
    /* NULL store: a new in-memory one. From here the scheduler owns the loop
     * adapter and the store; if it fails, the adapter is still ours. */
    if ((rc = tempo_scheduler_new(loop, NULL, NULL, &app->scheduler, err)) != TEMPO_OK) {
        tempo_loop_free(loop);
        return rc;
    }
    uint32_t mask = TEMPO_EVENT_JOB_RELEASED | TEMPO_EVENT_SCHEDULE_ADDED | TEMPO_EVENT_STORE_ERROR;
    if ((rc = add_tasks(app, err)) != TEMPO_OK ||
        (rc = tempo_scheduler_subscribe(app->scheduler, mask, on_event, app, NULL, err)) != TEMPO_OK ||
        (rc = add_schedules(app, err)) != TEMPO_OK || (rc = queue_job(app, err)) != TEMPO_OK)
        return rc;
    return tempo_scheduler_start(app->scheduler, err);
}

static void watch_the_clock(app_t *app, int seconds)
{
    /* None of these can fail on a valid loop with valid signal numbers. */
    uv_timer_init(app->uv, &app->run_for);
    app->run_for.data = app;
    uv_timer_start(&app->run_for, time_is_up, (uint64_t)seconds * 1000, 0);
    uv_signal_init(app->uv, &app->sigint);
    app->sigint.data = app;
    uv_signal_start(&app->sigint, got_signal, SIGINT);
    uv_signal_init(app->uv, &app->sigterm);
    app->sigterm.data = app;
    uv_signal_start(&app->sigterm, got_signal, SIGTERM);
    app->clock_watched = true;
}

static int run(app_t *app, int seconds)
{
    tempo_error_t err = {0};
    if (setup(app, &err) != TEMPO_OK) {
        fprintf(stderr, "%s: %s\n", PROG, message_of(err.code, &err));
        tempo_scheduler_free(app->scheduler); /* NULL is fine */
        app->exit_code = 1;
    } else {
        printf("scheduler '%s' running on libuv for %d s\n", tempo_scheduler_identity(app->scheduler), seconds);
        watch_the_clock(app, seconds);
        uv_run(app->uv, UV_RUN_DEFAULT);
        /* Stopped (on_stopped stopped the loop). Free the scheduler: it
         * closes the adapter's handles. */
        tempo_scheduler_free(app->scheduler);
    }
    app->scheduler = NULL;
    /* Once more, until nothing is left: the close callbacks free the
     * adapter's handles, and a ping whose job a timed-out stop cancelled
     * still has its timer pending — it fires, releases its job handle
     * (tempo_job_complete answers ECANCELLED) and closes itself. */
    uv_run(app->uv, UV_RUN_DEFAULT);
    return app->exit_code;
}

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: %s [--seconds N]   (run for N seconds, 1-86400; default 10)\n", PROG);
    return code;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, int *seconds)
{
    *seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(argv[i], "--seconds") != 0) {
            fprintf(stderr, "%s: unknown argument '%s'\n", PROG, argv[i]);
            return usage(stderr, 2);
        }
        if (++i == argc) {
            fprintf(stderr, "%s: --seconds needs a value\n", PROG);
            return usage(stderr, 2);
        }
        char *end;
        long v = strtol(argv[i], &end, 10);
        if (end == argv[i] || *end || v < 1 || v > 86400) {
            fprintf(stderr, "%s: --seconds '%s' is not a whole number of seconds from 1 to 86400\n", PROG, argv[i]);
            return usage(stderr, 2);
        }
        *seconds = (int)v;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int seconds;
    int code = parse_args(argc, argv, &seconds);
    if (code >= 0)
        return code;
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, also into a pipe */

    app_t app;
    memset(&app, 0, sizeof app);
    tempo_error_t err;
    if (tempo_zone_get("local", &app.zone, &err) != TEMPO_OK) {
        fprintf(stderr, "%s: %s; printing UTC times\n", PROG, err.message);
        app.zone = tempo_zone_utc();
    }
    app.uv = uv_default_loop();
    if (!app.uv) {
        fprintf(stderr, "%s: libuv could not initialise its default loop\n", PROG);
        return 1;
    }
    code = run(&app, seconds);
    /* UV_EBUSY here would mean a handle is still open: something leaked. */
    int rc = uv_loop_close(app.uv);
    if (rc != 0) {
        fprintf(stderr, "%s: closing the libuv loop: %s\n", PROG, uv_strerror(rc));
        return 1;
    }
    return code;
}
