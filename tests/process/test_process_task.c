/* tempo_scheduler_add_process_task (include/tempo/process.h) on a real
 * scheduler on libev: jobs run real commands and their results come back
 * through tempo_scheduler_wait_job_result. Covers the result document, the
 * failure messages, timeouts on the whole process group, args overriding
 * the command and the environment, 50 children at once, and the scheduler
 * stopped or freed while children run (children killed and reaped, nothing
 * leaked: every test checks fds and children at the end, and ASan checks
 * memory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/ev.h>
#include <tempo/process.h>
#include <time.h>
#include <unistd.h>

#include "process_fixture.h"

typedef struct fx {
    pf_host_t host;
    tempo_scheduler_t *s;
    int fds_before;
} fx_t;

typedef struct job {
    tempo_scheduler_t *s;
    char id[64];
    bool done;
    tempo_status_t status; /* of the wait */
    tempo_outcome_t outcome;
    char error[512];
    bson_t *value; /* a copy of the return value, or NULL */
} job_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->fds_before = pf_fd_count();
    pf_host_init(&fx->host);
    tempo_error_t err = {0};
    tempo_loop_t *loop = NULL;
    assert_int_equal(tempo_ev_loop_new(fx->host.evloop, &loop, &err), TEMPO_OK);
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.seed = 7;
    o.identity = "process-test";
    assert_int_equal(tempo_scheduler_new(loop, NULL, &o, &fx->s, &err), TEMPO_OK);
    assert_int_equal(tempo_scheduler_start(fx->s, &err), TEMPO_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    tempo_scheduler_free(fx->s);
    pf_host_destroy(&fx->host);
    assert_int_equal(pf_fd_count(), fx->fds_before);
    assert_true(pf_no_children());
    free(fx);
    return 0;
}

/* ---- jobs ---- */

static void job_clear(job_t *j)
{
    if (j->value)
        bson_destroy(j->value);
    j->value = NULL;
}

static void got_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    job_t *j = ud;
    j->done = true;
    j->status = status;
    if (status != TEMPO_OK) {
        snprintf(j->error, sizeof j->error, "%s", err ? err->message : "");
        return;
    }
    j->outcome = res->outcome;
    snprintf(j->error, sizeof j->error, "%s", res->error ? res->error : "");
    if (res->return_value)
        j->value = bson_copy(res->return_value);
}

static void job_added(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)err;
    job_t *j = ud;
    assert_int_equal(status, TEMPO_OK);
    snprintf(j->id, sizeof j->id, "%s", id);
    /* Before the job can start: the worker acquires it in a later round. */
    assert_int_equal(tempo_scheduler_wait_job_result(j->s, id, TEMPO_DURATION_NONE, got_result, j, NULL), TEMPO_OK);
}

/* Queue a job of `task` with args from JSON (NULL: none). */
static void submit(fx_t *fx, job_t *j, const char *task, const char *args_json)
{
    memset(j, 0, sizeof *j);
    j->s = fx->s;
    bson_t *args = NULL;
    if (args_json) {
        bson_error_t berr;
        args = bson_new_from_json((const uint8_t *)args_json, -1, &berr);
        assert_non_null(args);
    }
    tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT;
    o.task_id = task;
    o.args = args;
    tempo_error_t err = {0};
    assert_int_equal(tempo_scheduler_add_job(fx->s, &o, job_added, j, &err), TEMPO_OK);
    if (args)
        bson_destroy(args);
}

static bool all_done(job_t *jobs, int n)
{
    for (int i = 0; i < n; i++)
        if (!jobs[i].done)
            return false;
    return true;
}

typedef struct jobs_arg {
    job_t *jobs;
    int n;
} jobs_arg_t;

static bool jobs_done(void *arg)
{
    jobs_arg_t *a = arg;
    return all_done(a->jobs, a->n);
}

static void wait_jobs(fx_t *fx, job_t *jobs, int n)
{
    jobs_arg_t a = {jobs, n};
    assert_true(pf_run_until_fn(&fx->host, jobs_done, &a, PF_WAIT_MS));
}

/* Run one job to its result. */
static void run_job(fx_t *fx, job_t *j, const char *task, const char *args_json)
{
    submit(fx, j, task, args_json);
    wait_jobs(fx, j, 1);
    assert_int_equal(j->status, TEMPO_OK);
}

static void add_task(fx_t *fx, tempo_process_task_options_t *o)
{
    tempo_error_t err = {0};
    tempo_status_t rc = tempo_scheduler_add_process_task(fx->s, o, &err);
    if (rc != TEMPO_OK)
        fail_msg("add_process_task: %s", err.message);
}

/* A task "sh" with no command of its own: each job's args name one. */
static void add_sh_task(fx_t *fx)
{
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "sh";
    o.max_running_jobs = 0;
    add_task(fx, &o);
}

static const char *doc_str(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, doc, key));
    assert_true(BSON_ITER_HOLDS_UTF8(&it));
    return bson_iter_utf8(&it, NULL);
}

static bool doc_bool(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, doc, key));
    assert_true(BSON_ITER_HOLDS_BOOL(&it));
    return bson_iter_bool(&it);
}

static int64_t doc_int(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, doc, key));
    assert_true(BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it));
    return bson_iter_as_int64(&it);
}

/* ---- results ---- */

static void test_success_captures_stdout(void **state)
{
    fx_t *fx = *state;
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "hello";
    o.command = "echo hello; echo world";
    add_task(fx, &o);
    job_t j;
    run_job(fx, &j, "hello", NULL);
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_non_null(j.value);
    assert_int_equal(doc_int(j.value, "exit_code"), 0);
    assert_string_equal(doc_str(j.value, "stdout"), "hello\nworld\n");
    assert_string_equal(doc_str(j.value, "stderr"), "");
    assert_false(doc_bool(j.value, "stdout_truncated"));
    assert_false(doc_bool(j.value, "stderr_truncated"));
    assert_true(doc_int(j.value, "duration_us") > 0);
    assert_true(doc_int(j.value, "pid") > 0);
    job_clear(&j);
}

static void test_stderr_captured(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    run_job(fx, &j, "sh", "{\"command\": \"echo to-err >&2; printf 'caf\\\\303\\\\251 \\\\377'\"}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_string_equal(doc_str(j.value, "stderr"), "to-err\n");
    /* valid UTF-8 kept, the invalid byte replaced */
    assert_string_equal(doc_str(j.value, "stdout"), "caf\xC3\xA9 \xEF\xBF\xBD");
    job_clear(&j);
}

static void test_output_truncated(void **state)
{
    fx_t *fx = *state;
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "big";
    o.command = "head -c 1048576 /dev/zero | tr '\\0' y";
    add_task(fx, &o); /* the default limit: 64 KiB */
    job_t j;
    run_job(fx, &j, "big", NULL);
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_int_equal(strlen(doc_str(j.value, "stdout")), 64 << 10);
    assert_true(doc_bool(j.value, "stdout_truncated"));
    assert_false(doc_bool(j.value, "stderr_truncated"));
    job_clear(&j);
}

static void test_nonzero_exit(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    run_job(fx, &j, "sh", "{\"command\": \"echo partial; echo '  ' >&2; echo 'backup: disk full' >&2; exit 3\"}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_ERROR);
    assert_string_equal(j.error, "exit status 3: backup: disk full");
    assert_null(j.value);
}

static void test_killed_by_signal(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    run_job(fx, &j, "sh", "{\"command\": \"kill -USR1 $$\"}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_ERROR);
    assert_string_equal(j.error, "killed by signal 10 (SIGUSR1)");
}

/* A shell starts a background grandchild and waits; after the timeout the
 * grandchild is gone too (the group got the signal). */
static void test_timeout_kills_process_group(void **state)
{
    fx_t *fx = *state;
    char path[256];
    pf_temp_path(path, sizeof path);
    char line[512];
    snprintf(line, sizeof line, "sleep 100 & echo $! > %s; wait", path);
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "slow";
    o.command = line;
    o.timeout = TEMPO_SECONDS(1) / 4;
    add_task(fx, &o);
    job_t j;
    long long t0 = pf_now_ms();
    run_job(fx, &j, "slow", NULL);
    assert_true(pf_now_ms() - t0 < 4000); /* by SIGTERM, not after the 5 s grace */
    assert_int_equal(j.outcome, TEMPO_OUTCOME_ERROR);
    assert_string_equal(j.error, "timed out after 0.25 s; killed by signal 15 (SIGTERM)");
    pid_t grandchild = (pid_t)pf_read_int(path);
    assert_true(grandchild > 0);
    assert_true(pf_wait_dead(&fx->host, grandchild));
    unlink(path);
}

static void test_command_not_found(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    run_job(fx, &j, "sh", "{\"argv\": [\"tempo-no-such-command\", \"--flag\"]}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_ERROR);
    if (pf_under_valgrind())
        assert_string_equal(j.error, "exit status 127");
    else
        assert_string_equal(j.error, "cannot run 'tempo-no-such-command': No such file or directory");
    /* Through the shell, the shell says it (and exits 127). */
    run_job(fx, &j, "sh", "{\"command\": \"tempo-no-such-command\"}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_ERROR);
    assert_non_null(strstr(j.error, "exit status 127: "));
    assert_non_null(strstr(j.error, "tempo-no-such-command: not found"));
}

/* ---- args ---- */

static void test_args_override_command(void **state)
{
    fx_t *fx = *state;
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "echo";
    o.command = "echo default";
    o.max_running_jobs = 0;
    add_task(fx, &o);
    job_t j[4];
    submit(fx, &j[0], "echo", NULL);
    submit(fx, &j[1], "echo", "{\"command\": \"echo from args\"}");
    submit(fx, &j[2], "echo", "{\"argv\": [\"echo\", \"one arg; not a shell\"]}");
    submit(fx, &j[3], "echo", "{\"comand\": \"echo typo\"}");
    wait_jobs(fx, j, 4);
    assert_string_equal(doc_str(j[0].value, "stdout"), "default\n");
    assert_string_equal(doc_str(j[1].value, "stdout"), "from args\n");
    assert_string_equal(doc_str(j[2].value, "stdout"), "one arg; not a shell\n");
    assert_int_equal(j[3].outcome, TEMPO_OUTCOME_ERROR);
    assert_string_equal(j[3].error, "args: unknown key 'comand' (expected command, argv or env)");
    for (int i = 0; i < 4; i++)
        job_clear(&j[i]);
}

static void test_env_passed(void **state)
{
    fx_t *fx = *state;
    static const char *const env[] = {"TEMPO_A=from task", "TEMPO_B=overridden", NULL};
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "env";
    o.command = "echo \"$TEMPO_A|$TEMPO_B|${HOME-unset}|$PATH\"";
    o.env = env;
    add_task(fx, &o);
    job_t j;
    run_job(fx, &j, "env", "{\"env\": {\"TEMPO_B\": \"from job\", \"HOME\": null}}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    char want[4096];
    snprintf(want, sizeof want, "from task|from job|unset|%s\n", getenv("PATH") ? getenv("PATH") : "");
    assert_string_equal(doc_str(j.value, "stdout"), want);
    job_clear(&j);
}

/* ---- many, and nothing left behind ---- */

static void test_fifty_concurrent_children(void **state)
{
    fx_t *fx = *state;
    enum { N = 50 };
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "many";
    o.command = "sleep 0.5; echo $N";
    o.max_running_jobs = 0;
    add_task(fx, &o);
    static job_t jobs[N];
    long long t0 = pf_now_ms();
    for (int i = 0; i < N; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"env\": {\"N\": \"%d\"}}", i);
        submit(fx, &jobs[i], "many", args);
    }
    wait_jobs(fx, jobs, N);
    /* In parallel: one after the other would take 25 s. */
    assert_true(pf_now_ms() - t0 < 12000);
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobs[i].outcome, TEMPO_OUTCOME_SUCCESS);
        char want[16];
        snprintf(want, sizeof want, "%d\n", i);
        assert_string_equal(doc_str(jobs[i].value, "stdout"), want);
        job_clear(&jobs[i]);
    }
    assert_true(pf_no_children()); /* every one reaped, before any free */
}

/* ---- the scheduler goes away while children run ---- */

/* A job whose child writes its pid to a file and then sleeps. */
static pid_t start_sleeper(fx_t *fx, job_t *j, char *path, size_t size)
{
    pf_temp_path(path, size);
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "sleeper";
    add_task(fx, &o);
    char args[512];
    snprintf(args, sizeof args, "{\"command\": \"echo $$ > %s; exec sleep 100\"}", path);
    submit(fx, j, "sleeper", args);
    long long deadline = pf_now_ms() + PF_WAIT_MS;
    while (pf_read_int(path) == 0 && pf_now_ms() < deadline)
        pf_run_once(&fx->host, 10);
    pid_t pid = (pid_t)pf_read_int(path);
    assert_true(pid > 0);
    assert_false(pf_pid_dead(pid));
    return pid;
}

static void test_scheduler_freed_while_child_runs(void **state)
{
    fx_t *fx = *state;
    job_t j;
    char path[256];
    start_sleeper(fx, &j, path, sizeof path);
    long long t0 = pf_now_ms();
    tempo_scheduler_free(fx->s);
    fx->s = NULL;
    assert_true(pf_now_ms() - t0 < 2000);
    assert_true(j.done); /* the wait was answered by the free */
    assert_int_equal(j.status, TEMPO_ECANCELLED);
    /* teardown: child reaped (no children at all), no fd left; ASan: no leak */
    unlink(path);
}

static void stopped(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    (void)err;
    assert_int_equal(status, TEMPO_OK);
    *(bool *)ud = true;
}

static bool children_gone(void *arg)
{
    (void)arg;
    return pf_no_children();
}

static bool a_child_exists(void *arg)
{
    (void)arg;
    return !pf_no_children();
}

static void test_stop_now_kills_child(void **state)
{
    fx_t *fx = *state;
    job_t j;
    char path[256];
    pid_t pid = start_sleeper(fx, &j, path, sizeof path);
    bool is_stopped = false;
    assert_int_equal(tempo_scheduler_stop_now(fx->s, stopped, &is_stopped), TEMPO_OK);
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    assert_true(pf_run_until(&fx->host, &j.done, PF_WAIT_MS));
    assert_int_equal(j.outcome, TEMPO_OUTCOME_CANCELLED);
    /* SIGTERM (then SIGKILL after the grace) and reaped, with the loop. */
    assert_true(pf_run_until_fn(&fx->host, children_gone, NULL, PF_WAIT_MS));
    assert_true(pf_pid_dead(pid));
    unlink(path);
}

/* Polls for what the loop cannot show (a signalled child dying) without
 * running the loop, bounded: so nothing the loop would do can be what
 * signalled it. */
static bool dead_without_the_loop(pid_t pid)
{
    long long until = pf_now_ms() + PF_WAIT_MS;
    while (!pf_pid_dead(pid) && pf_now_ms() < until) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return pf_pid_dead(pid);
}

/* The task's cancel hook signals the group inside tempo_scheduler_stop_now:
 * the child dies before the loop runs again, so before the stop's callback
 * (which comes from the loop). It is reaped on the loop, right after. */
static void test_stop_now_signals_child_inside_the_call(void **state)
{
    fx_t *fx = *state;
    job_t j;
    char path[256];
    pid_t pid = start_sleeper(fx, &j, path, sizeof path);
    bool is_stopped = false;
    assert_int_equal(tempo_scheduler_stop_now(fx->s, stopped, &is_stopped), TEMPO_OK);
    assert_true(dead_without_the_loop(pid)); /* SIGTERM came from inside stop_now */
    assert_false(is_stopped);
    assert_false(pf_no_children()); /* a zombie until the loop reaps it */
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    assert_true(pf_run_until(&fx->host, &j.done, PF_WAIT_MS));
    assert_int_equal(j.outcome, TEMPO_OUTCOME_CANCELLED);
    assert_true(pf_run_until_fn(&fx->host, children_gone, NULL, PF_WAIT_MS));
    unlink(path);
}

/* A graceful stop whose timeout passes gives the job up: SIGTERM then. */
static void test_stop_timeout_kills_child(void **state)
{
    fx_t *fx = *state;
    job_t j;
    char path[256];
    pid_t pid = start_sleeper(fx, &j, path, sizeof path);
    bool is_stopped = false;
    long long t0 = pf_now_ms();
    assert_int_equal(tempo_scheduler_stop(fx->s, TEMPO_SECONDS(1) / 5, stopped, &is_stopped), TEMPO_OK);
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    assert_true(pf_now_ms() - t0 >= 200);
    assert_true(pf_wait_dead(&fx->host, pid));
    assert_true(pf_run_until(&fx->host, &j.done, PF_WAIT_MS));
    assert_int_equal(j.outcome, TEMPO_OUTCOME_CANCELLED);
    assert_true(pf_run_until_fn(&fx->host, children_gone, NULL, PF_WAIT_MS));
    unlink(path);
}

/* A command that ignores SIGTERM gets SIGKILL after kill_grace — also when
 * the stop that gave it up has long completed (the run lives on the loop). */
static void test_stop_now_kill_grace_for_deaf_child(void **state)
{
    fx_t *fx = *state;
    char path[256], line[512];
    pf_temp_path(path, sizeof path);
    snprintf(line, sizeof line, "trap '' TERM; echo $$ > %s; while :; do sleep 0.05; done", path);
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "deaf";
    o.command = line;
    o.kill_grace = TEMPO_SECONDS(1) / 4;
    add_task(fx, &o);
    job_t j;
    submit(fx, &j, "deaf", NULL);
    long long deadline = pf_now_ms() + PF_WAIT_MS;
    while (pf_read_int(path) == 0 && pf_now_ms() < deadline)
        pf_run_once(&fx->host, 10);
    pid_t pid = (pid_t)pf_read_int(path);
    assert_true(pid > 0);
    bool is_stopped = false;
    long long t0 = pf_now_ms();
    assert_int_equal(tempo_scheduler_stop_now(fx->s, stopped, &is_stopped), TEMPO_OK);
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    assert_false(pf_pid_dead(pid)); /* SIGTERM ignored */
    assert_true(pf_run_until_fn(&fx->host, children_gone, NULL, PF_WAIT_MS));
    assert_true(pf_now_ms() - t0 >= 250); /* killed after the grace, not before */
    unlink(path);
}

/* Registering the id again: the running job finishes under the old
 * options (its executor goes when it is done: ASan checks the leak), new
 * jobs run the new command. */
static void test_replaced_task_finishes_running_jobs(void **state)
{
    fx_t *fx = *state;
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "r";
    o.command = "sleep 0.2; echo old";
    add_task(fx, &o);
    job_t old_job, new_job;
    submit(fx, &old_job, "r", NULL);
    assert_true(pf_run_until_fn(&fx->host, a_child_exists, NULL, PF_WAIT_MS));
    o.command = "echo new";
    add_task(fx, &o);
    submit(fx, &new_job, "r", NULL);
    wait_jobs(fx, &old_job, 1);
    wait_jobs(fx, &new_job, 1);
    assert_string_equal(doc_str(old_job.value, "stdout"), "old\n");
    assert_string_equal(doc_str(new_job.value, "stdout"), "new\n");
    job_clear(&old_job);
    job_clear(&new_job);
}

/* Replaced while its child runs, then the scheduler freed: the old
 * registration's child is killed and reaped by the free too. */
static void test_replaced_task_then_freed(void **state)
{
    fx_t *fx = *state;
    job_t j;
    char path[256];
    pid_t pid = start_sleeper(fx, &j, path, sizeof path);
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "sleeper";
    o.command = "true";
    add_task(fx, &o);
    tempo_scheduler_free(fx->s);
    fx->s = NULL;
    assert_true(pf_pid_dead(pid));
    assert_true(pf_no_children());
    assert_int_equal(j.status, TEMPO_ECANCELLED);
    unlink(path);
}

static void test_graceful_stop_waits_for_child(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    submit(fx, &j, "sh", "{\"command\": \"sleep 0.3; echo finished\"}");
    /* Let it start, then stop gracefully. */
    long long deadline = pf_now_ms() + PF_WAIT_MS;
    while (pf_no_children() && pf_now_ms() < deadline)
        pf_run_once(&fx->host, 5);
    assert_false(pf_no_children());
    bool is_stopped = false;
    assert_int_equal(tempo_scheduler_stop(fx->s, TEMPO_SECONDS(30), stopped, &is_stopped), TEMPO_OK);
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    assert_true(pf_run_until(&fx->host, &j.done, PF_WAIT_MS));
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_string_equal(doc_str(j.value, "stdout"), "finished\n");
    job_clear(&j);
}

/* A stopped scheduler with a process task arms nothing, so the host's
 * ev_run(loop, 0) returns (the executor keeps no call pending any more).
 * A 5 s guard, unref'd so it does not itself keep the loop alive, breaks
 * the run otherwise. */
static void guard_fired(struct ev_loop *evloop, ev_timer *w, int revents)
{
    (void)revents;
    *(bool *)w->data = true;
    ev_break(evloop, EVBREAK_ALL);
}

static void test_stopped_scheduler_lets_ev_run_return(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t j;
    run_job(fx, &j, "sh", "{\"command\": \"true\"}");
    assert_int_equal(j.outcome, TEMPO_OUTCOME_SUCCESS);
    job_clear(&j);
    bool is_stopped = false;
    assert_int_equal(tempo_scheduler_stop(fx->s, TEMPO_SECONDS(5), stopped, &is_stopped), TEMPO_OK);
    assert_true(pf_run_until(&fx->host, &is_stopped, PF_WAIT_MS));
    bool fired = false;
    ev_timer guard;
    ev_timer_init(&guard, guard_fired, 5., 0.);
    guard.data = &fired;
    ev_timer_start(fx->host.evloop, &guard);
    ev_unref(fx->host.evloop);
    ev_run(fx->host.evloop, 0);
    ev_ref(fx->host.evloop);
    ev_timer_stop(fx->host.evloop, &guard);
    assert_false(fired);
}

/* A subscriber frees the scheduler from inside its own callback (a job's
 * release) while another job's child runs: the free happens inside the
 * loop's dispatch, and the child is still killed and reaped before it
 * returns. */
typedef struct free_ctx {
    fx_t *fx;
    bool freed;
    bool children_left; /* seen right after the free returned */
} free_ctx_t;

static void free_on_release(const tempo_event_t *ev, void *ud)
{
    free_ctx_t *c = ud;
    if (ev->type != TEMPO_EVENT_JOB_RELEASED || c->freed)
        return;
    tempo_scheduler_free(c->fx->s);
    c->fx->s = NULL;
    c->freed = true;
    c->children_left = !pf_no_children();
}

static void test_freed_from_inside_a_callback(void **state)
{
    fx_t *fx = *state;
    add_sh_task(fx);
    job_t long_job, short_job;
    submit(fx, &long_job, "sh", "{\"command\": \"exec sleep 100\"}");
    assert_true(pf_run_until_fn(&fx->host, a_child_exists, NULL, PF_WAIT_MS));
    free_ctx_t c = {.fx = fx};
    uint64_t sub;
    assert_int_equal(tempo_scheduler_subscribe(fx->s, TEMPO_EVENT_JOB_RELEASED, free_on_release, &c, &sub, NULL),
                     TEMPO_OK);
    submit(fx, &short_job, "sh", "{\"command\": \"true\"}");
    assert_true(pf_run_until(&fx->host, &c.freed, PF_WAIT_MS));
    assert_false(c.children_left);
    assert_true(long_job.done);
    assert_int_equal(long_job.status, TEMPO_ECANCELLED);
    job_clear(&short_job);
}

/* The scheduler on tempo's own libev thread (tempo_ev_scheduler_new): the
 * task is added and jobs queued from this thread, run on the loop thread,
 * and the scheduler is freed from this thread while a child runs (the free
 * halts the loop thread first, then kills and reaps here). Under TSan this
 * checks the executor's hand-over between the threads. */
typedef struct bg {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t job;
} bg_t;

static void bg_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    bg_t *b = ud;
    pthread_mutex_lock(&b->mu);
    got_result(&b->job, status, err, res);
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void bg_added(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)err;
    bg_t *b = ud;
    assert_int_equal(status, TEMPO_OK);
    assert_int_equal(tempo_scheduler_wait_job_result(b->job.s, id, TEMPO_DURATION_NONE, bg_result, b, NULL),
                     TEMPO_OK);
}

static void test_background_runner(void **state)
{
    (void)state; /* the fixture's scheduler is not used */
    tempo_error_t err = {0};
    tempo_scheduler_t *s = NULL;
    assert_int_equal(tempo_ev_scheduler_new(NULL, NULL, &s, &err), TEMPO_OK);
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = "bg";
    o.max_running_jobs = 0;
    assert_int_equal(tempo_scheduler_add_process_task(s, &o, &err), TEMPO_OK);
    assert_int_equal(tempo_scheduler_run_background(s, &err), TEMPO_OK);

    bg_t b = {.job = {.s = s}};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    bson_t *args = BCON_NEW("command", BCON_UTF8("echo from the loop thread"));
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "bg";
    jo.args = args;
    assert_int_equal(tempo_scheduler_add_job(s, &jo, bg_added, &b, &err), TEMPO_OK);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += PF_WAIT_MS / 1000;
    pthread_mutex_lock(&b.mu);
    while (!b.job.done && pthread_cond_timedwait(&b.cv, &b.mu, &deadline) == 0)
        ;
    bool done = b.job.done;
    pthread_mutex_unlock(&b.mu);
    assert_true(done);
    assert_int_equal(b.job.outcome, TEMPO_OUTCOME_SUCCESS);
    assert_string_equal(doc_str(b.job.value, "stdout"), "from the loop thread\n");
    job_clear(&b.job);
    bson_destroy(args);

    /* A child that would run for 100 s, then the free from this thread.
     * No loop here to run: look for the child every millisecond, bounded. */
    args = BCON_NEW("command", BCON_UTF8("exec sleep 100"));
    jo.args = args;
    assert_int_equal(tempo_scheduler_add_job(s, &jo, NULL, NULL, &err), TEMPO_OK);
    long long until = pf_now_ms() + PF_WAIT_MS;
    while (pf_no_children() && pf_now_ms() < until) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_false(pf_no_children());
    tempo_scheduler_free(s);
    assert_true(pf_no_children());
    bson_destroy(args);
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
}

/* ---- options ---- */

static void test_bad_options(void **state)
{
    fx_t *fx = *state;
    tempo_error_t err = {0};
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "add_process_task: id must be 1-255 bytes");

    static const char *const argv[] = {"true", NULL};
    o.id = "bad";
    o.command = "true";
    o.argv = argv;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "add_process_task 'bad': give at most one of command and argv");

    o.argv = NULL;
    static const char *const env[] = {"OK=1", "=nope", NULL};
    o.env = env;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "add_process_task 'bad': env[1] '=nope' is not NAME=value");

    o.env = NULL;
    o.output_limit = TEMPO_PROCESS_OUTPUT_MAX + 1;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "output_limit 2097153 is over 2097152 bytes"));

    o.output_limit = 10;
    o.timeout = 0;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "add_process_task 'bad': timeout must be > 0 or NONE");

    o.timeout = TEMPO_DURATION_NONE;
    o.kill_grace = -1;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    o.kill_grace = 0;
    o.size = sizeof o + 8;
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, &o, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_scheduler_add_process_task(NULL, &o, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_scheduler_add_process_task(fx->s, NULL, &err), TEMPO_EINVAL);

    /* Nothing was registered: a job of "bad" has no task. */
    tempo_job_options_t jo = TEMPO_JOB_OPTIONS_INIT;
    jo.task_id = "bad";
    assert_int_equal(tempo_scheduler_add_job(fx->s, &jo, NULL, NULL, &err), TEMPO_ENOTFOUND);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    /* A host may ignore SIGPIPE; ours is not part of the test. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        T(test_success_captures_stdout),
        T(test_stderr_captured),
        T(test_output_truncated),
        T(test_nonzero_exit),
        T(test_killed_by_signal),
        T(test_timeout_kills_process_group),
        T(test_command_not_found),
        T(test_args_override_command),
        T(test_env_passed),
        T(test_fifty_concurrent_children),
        T(test_scheduler_freed_while_child_runs),
        T(test_stop_now_kills_child),
        T(test_stop_now_signals_child_inside_the_call),
        T(test_stop_timeout_kills_child),
        T(test_stop_now_kill_grace_for_deaf_child),
        T(test_replaced_task_finishes_running_jobs),
        T(test_replaced_task_then_freed),
        T(test_graceful_stop_waits_for_child),
        T(test_stopped_scheduler_lets_ev_run_return),
        T(test_freed_from_inside_a_callback),
        T(test_background_runner),
        T(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
