/* tempo_scheduler_add_process_task: an in-loop task whose jobs are child
 * processes (include/tempo/process.h).
 *
 * An executor (one per registration: the task's userdata) holds the task's
 * options and its runs (one per job whose child is not reaped yet). Each run
 * holds its job's handle until the child is reaped, then completes or fails
 * the job.
 *
 * The scheduler's task hooks (task.h) bring the rest:
 *   - cancel: the scheduler gave the job up (stop_now, a stop's timeout,
 *     free). The group gets SIGTERM, then SIGKILL after kill_grace; the run
 *     goes on until the child is reaped, and its fail then answers
 *     ECANCELLED (nothing is recorded: the job was released as cancelled).
 *   - free_userdata: the registration ended (the scheduler is being freed,
 *     or the task was replaced and its last job is done with). Any child
 *     still alive — only ever a cancelled job's — is killed and reaped right
 *     there, while the loop still exists; the handles are let go; the
 *     executor is freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/process.h>

#include "process_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

typedef struct executor executor_t;

typedef struct run {
    struct run *next, *prev;
    executor_t *ex;
    tempo_job_t *job;
    tempo__process_t *p;
    bool cancelled; /* the scheduler gave the job up: its handle only answers ECANCELLED */
} run_t;

struct executor {
    tempo_loop_t *loop; /* the scheduler's: our watches and timers go on it */
    char *command, *cwd;
    char **argv, **env;
    size_t output_limit;
    tempo_duration_t timeout, kill_grace;
    run_t *runs;
};

/* ---- runs ---- */

static void run_link(executor_t *ex, run_t *run)
{
    run->next = ex->runs;
    if (ex->runs)
        ex->runs->prev = run;
    ex->runs = run;
}

static void run_unlink(run_t *run)
{
    executor_t *ex = run->ex;
    if (run->prev)
        run->prev->next = run->next;
    else
        ex->runs = run->next;
    if (run->next)
        run->next->prev = run->prev;
    run->next = run->prev = NULL;
}

/* The child is reaped. Everything of ours goes before the job is finished:
 * finishing is the last thing, whatever it sets off. */
static void run_done(tempo__process_t *p, void *arg)
{
    run_t *run = arg;
    tempo_job_t *job = run->job;
    const tempo__process_report_t *r = tempo__process_report(p);
    bool cancelled = run->cancelled;
    bool ok = !cancelled && tempo__process_succeeded(r);
    bson_t value = BSON_INITIALIZER;
    char message[512] = "cancelled";
    if (ok && tempo__process_result_bson(r, &value) != TEMPO_OK) {
        ok = false;
        snprintf(message, sizeof message, "exit status 0, but out of memory building the result");
    } else if (!ok && !cancelled) {
        tempo__process_failure(r, message, sizeof message);
    }
    run_unlink(run);
    tempo__process_free(p);
    free(run);
    if (ok)
        (void)tempo_job_complete(job, &value);
    else
        (void)tempo_job_fail(job, message); /* ECANCELLED when given up: nothing is stored */
    bson_destroy(&value);
}

/* The task function: build the command, spawn, keep the handle. */
static void run_job(tempo_job_t *job, void *userdata)
{
    executor_t *ex = userdata;
    tempo_error_t err = {0};
    tempo__process_cmd_t cmd;
    if (tempo__process_cmd_build(ex->command, ex->argv, ex->env, tempo_job_args(job), &cmd, &err) != TEMPO_OK) {
        (void)tempo_job_fail(job, err.message);
        return;
    }
    run_t *run = calloc(1, sizeof *run);
    if (!run) {
        tempo__process_cmd_clear(&cmd);
        (void)tempo_job_fail(job, "out of memory starting the command");
        return;
    }
    run->ex = ex;
    run->job = job;
    tempo__process_spec_t spec = {
        .cmd = &cmd,
        .cwd = ex->cwd,
        .output_limit = ex->output_limit,
        .timeout = ex->timeout,
        .kill_grace = ex->kill_grace,
    };
    tempo_status_t rc = tempo__process_start(ex->loop, &spec, run_done, run, &run->p, &err);
    tempo__process_cmd_clear(&cmd);
    if (rc != TEMPO_OK) {
        free(run);
        (void)tempo_job_fail(job, err.message);
        return;
    }
    run_link(ex, run);
}

/* ---- the scheduler's hooks ---- */

/* Its cancel. A linear search: runs are at most the scheduler's
 * max_concurrent_jobs, and this is a shutdown path. */
static void cancel_job(tempo_job_t *job, void *userdata)
{
    executor_t *ex = userdata;
    for (run_t *run = ex->runs; run; run = run->next) {
        if (run->job == job) {
            run->cancelled = true;
            tempo__process_terminate(run->p); /* run_done still comes, on the loop */
            return;
        }
    }
}

static void executor_free(executor_t *ex)
{
    free(ex->command);
    free(ex->cwd);
    tempo__strv_free(ex->argv);
    tempo__strv_free(ex->env);
    free(ex);
}

/* Its free_userdata. SIGKILL every group first, so the children die in
 * parallel while we reap in turn. */
static void executor_end(void *userdata)
{
    executor_t *ex = userdata;
    for (run_t *run = ex->runs; run; run = run->next) {
        run->cancelled = true;
        tempo__process_kill_now(run->p);
    }
    while (ex->runs) {
        run_t *run = ex->runs;
        tempo_job_t *job = run->job;
        run_unlink(run);
        tempo__process_free(run->p); /* waits for the exit (bounded) and reaps */
        free(run);
        (void)tempo_job_fail(job, "cancelled"); /* ECANCELLED; frees the handle */
    }
    executor_free(ex);
}

/* ---- registration ---- */

static tempo_status_t validate(const tempo_process_task_options_t *o, tempo_error_t *err)
{
    if (!o->id || !o->id[0] || strlen(o->id) > 255)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task: id must be 1-255 bytes");
    if (o->max_running_jobs < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task '%s': max_running_jobs %d is negative", o->id,
                                o->max_running_jobs);
    if (o->misfire_grace_time != TEMPO_DURATION_NONE && o->misfire_grace_time < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task '%s': misfire_grace_time is negative", o->id);
    if (o->output_limit > TEMPO_PROCESS_OUTPUT_MAX)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task '%s': output_limit %zu is over %zu bytes",
                                o->id, o->output_limit, TEMPO_PROCESS_OUTPUT_MAX);
    if (o->timeout != TEMPO_DURATION_NONE && o->timeout <= 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task '%s': timeout must be > 0 or NONE", o->id);
    if (o->kill_grace < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task '%s': kill_grace is negative", o->id);
    tempo_status_t rc = tempo__process_defaults_check(o->command, o->argv, o->env, err);
    if (rc != TEMPO_OK)
        return tempo__error_prefix(err, rc, "add_process_task '%s'", o->id);
    return TEMPO_OK;
}

static executor_t *executor_new(tempo_scheduler_t *s, const tempo_process_task_options_t *o)
{
    executor_t *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->loop = tempo_scheduler_loop(s);
    ex->output_limit = o->output_limit;
    ex->timeout = o->timeout;
    ex->kill_grace = o->kill_grace;
    bool ok = (!o->command || (ex->command = strdup(o->command))) && (!o->cwd || (ex->cwd = strdup(o->cwd))) &&
              (!o->argv || (ex->argv = tempo__strv_dup(o->argv))) && (!o->env || (ex->env = tempo__strv_dup(o->env)));
    if (!ok) {
        executor_free(ex);
        return NULL;
    }
    return ex;
}

tempo_status_t tempo_scheduler_add_process_task(tempo_scheduler_t *s, const tempo_process_task_options_t *opts,
                                                tempo_error_t *err)
{
    if (!s || !opts)
        return tempo__error_set(err, TEMPO_EINVAL, "add_process_task: scheduler and options are required");
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "add_process_task: options.size %zu is not a size this build knows", opts->size);
    tempo_status_t rc = validate(&o, err);
    if (rc != TEMPO_OK)
        return rc;
    executor_t *ex = executor_new(s, &o);
    if (!ex)
        return tempo__error_set(err, TEMPO_ENOMEM, "add_process_task '%s': out of memory", o.id);
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = o.id;
    t.fn = run_job;
    t.userdata = ex;
    t.max_running_jobs = o.max_running_jobs;
    t.misfire_grace_time = o.misfire_grace_time;
    t.metadata = o.metadata;
    t.cancel = cancel_job;
    t.free_userdata = executor_end;
    /* On success the registration owns the executor (executor_end frees
     * it, maybe already inside this call: a TASK_ADDED subscriber may free
     * the scheduler), so nothing here touches it afterwards. */
    rc = tempo_scheduler_add_task(s, &t, err);
    if (rc != TEMPO_OK)
        executor_free(ex); /* validated above: only ENOMEM, which add_task's message names */
    return rc;
}
