/* One child on a real loop (lib/exec/process_run.c and below), without a
 * scheduler: spawn, output capture and its limit, exit status and signals,
 * timeout and kill grace on the whole process group, strays killed at exit,
 * the polling fallback for kernels without pidfd, what the child inherits
 * (signal mask and dispositions, stdin, fds), and freeing a running child.
 * Real processes (/bin/sh) on libev. Every test also checks that no fd and
 * no child (not even a zombie) is left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <tempo/ev.h>
#include <tempo/store.h>
#include <unistd.h>

#include "exec/process_internal.h"
#include "process_fixture.h"

extern char **environ;

typedef struct fx {
    pf_host_t host;
    tempo_loop_t *loop;
    int fds_before;
    bool no_pidfd; /* run every case a second time on the polling fallback */
} fx_t;

typedef struct result {
    bool done;
    int calls;
    tempo__process_report_t rep; /* a copy, outputs NUL-terminated */
    char out[1 << 16], err[4096];
    size_t out_len;
    bool free_in_done;
} result_t;

static int setup_common(void **state, bool no_pidfd)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->no_pidfd = no_pidfd;
    fx->fds_before = pf_fd_count();
    pf_host_init(&fx->host);
    tempo_error_t err = {0};
    assert_int_equal(tempo_ev_loop_new(fx->host.evloop, &fx->loop, &err), TEMPO_OK);
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, false);
}

static int setup_polling(void **state)
{
    return setup_common(state, true);
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(tempo__loop_pending(fx->loop), 0); /* no watch, timer or call left */
    tempo_loop_free(fx->loop);
    pf_host_destroy(&fx->host);
    assert_int_equal(pf_fd_count(), fx->fds_before);
    assert_true(pf_no_children());
    free(fx);
    return 0;
}

static void on_done(tempo__process_t *p, void *arg)
{
    result_t *r = arg;
    r->calls++;
    r->done = true;
    const tempo__process_report_t *rep = tempo__process_report(p);
    assert_non_null(rep);
    r->rep = *rep;
    r->out_len = rep->out.len;
    size_t n = rep->out.len < sizeof r->out - 1 ? rep->out.len : sizeof r->out - 1;
    memcpy(r->out, rep->out.data ? rep->out.data : "", n);
    r->out[n] = '\0';
    n = rep->err.len < sizeof r->err - 1 ? rep->err.len : sizeof r->err - 1;
    memcpy(r->err, rep->err.data ? rep->err.data : "", n);
    r->err[n] = '\0';
    r->rep.out.data = r->out; /* the copies stand in for what free takes */
    r->rep.err.data = r->err;
    tempo__process_free(p);                   /* from inside done: allowed */
}

typedef struct run_opts {
    size_t limit;
    tempo_duration_t timeout, grace;
    const char *cwd;
} run_opts_t;

static tempo_status_t start_argv(fx_t *fx, char **argv, const run_opts_t *ro, result_t *r,
                                 tempo__process_t **p, tempo_error_t *err)
{
    tempo__process_cmd_t cmd = {.argv = argv, .envp = environ};
    tempo__process_spec_t spec = {
        .cmd = &cmd,
        .cwd = ro ? ro->cwd : NULL,
        .output_limit = ro && ro->limit ? ro->limit : 4096,
        .timeout = ro && ro->timeout ? ro->timeout : TEMPO_DURATION_NONE,
        .kill_grace = ro ? ro->grace : 0,
        .no_pidfd = fx->no_pidfd,
    };
    return tempo__process_start(fx->loop, &spec, on_done, r, p, err);
}

/* Run `sh -c line` to the end. */
static void run_sh(fx_t *fx, const char *line, const run_opts_t *ro, result_t *r)
{
    memset(r, 0, sizeof *r);
    char *argv[] = {"/bin/sh", "-c", (char *)line, NULL};
    tempo__process_t *p = NULL;
    tempo_error_t err = {0};
    assert_int_equal(start_argv(fx, argv, ro, r, &p, &err), TEMPO_OK);
    assert_non_null(p);
    assert_false(r->done); /* never inside start */
    assert_true(pf_run_until(&fx->host, &r->done, PF_WAIT_MS));
    assert_int_equal(r->calls, 1);
}

/* ---- output and exit ---- */

static void test_stdout_and_exit_zero(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_sh(fx, "echo hello; echo world", NULL, &r);
    assert_string_equal(r.out, "hello\nworld\n");
    assert_string_equal(r.err, "");
    assert_int_equal(r.rep.how, TEMPO__EXIT_CODE);
    assert_int_equal(r.rep.code, 0);
    assert_false(r.rep.out.truncated);
    assert_false(r.rep.timed_out);
    assert_true(r.rep.pid > 0);
    assert_true(r.rep.duration_us > 0);
    assert_true(tempo__process_succeeded(&r.rep));
}

static void test_stderr_and_exit_code(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_sh(fx, "echo out; echo 'disk full' >&2; echo second >&2; exit 3", NULL, &r);
    assert_string_equal(r.out, "out\n");
    assert_string_equal(r.err, "disk full\nsecond\n");
    assert_int_equal(r.rep.how, TEMPO__EXIT_CODE);
    assert_int_equal(r.rep.code, 3);
    assert_false(tempo__process_succeeded(&r.rep));
    char msg[256];
    tempo__process_failure(&r.rep, msg, sizeof msg);
    assert_string_equal(msg, "exit status 3: disk full");
}

static void test_output_truncated_at_limit(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_opts_t ro = {.limit = 1000};
    /* 1 MB: far more than the limit and than a pipe holds, so the child
     * only finishes if we keep reading past the limit. */
    run_sh(fx, "head -c 1048576 /dev/zero | tr '\\0' x; echo done >&2", &ro, &r);
    assert_int_equal(r.out_len, 1000);
    assert_true(r.rep.out.truncated);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(r.out[i], 'x');
    assert_string_equal(r.err, "done\n");
    assert_false(r.rep.err.truncated);
    assert_int_equal(r.rep.code, 0);
}

static void test_output_exactly_at_limit_is_not_truncated(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_opts_t ro = {.limit = 6};
    run_sh(fx, "printf hello!", &ro, &r);
    assert_string_equal(r.out, "hello!");
    assert_false(r.rep.out.truncated);
}

static void test_killed_by_signal(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_sh(fx, "echo bye >&2; kill -9 $$", NULL, &r);
    assert_int_equal(r.rep.how, TEMPO__EXIT_SIGNAL);
    assert_int_equal(r.rep.code, SIGKILL);
    char msg[256];
    tempo__process_failure(&r.rep, msg, sizeof msg);
    assert_string_equal(msg, "killed by signal 9 (SIGKILL): bye");
}

/* ---- timeout, kill grace, the process group ---- */

/* The shell starts a background grandchild and waits; the timeout's SIGTERM
 * to the group must end both. */
static void test_timeout_kills_the_group(void **state)
{
    fx_t *fx = *state;
    char path[256];
    pf_temp_path(path, sizeof path);
    char line[512];
    snprintf(line, sizeof line, "sleep 100 & echo $! > %s; wait", path);
    run_opts_t ro = {.timeout = TEMPO_SECONDS(1) / 5, .grace = TEMPO_SECONDS(10)};
    result_t r;
    long long t0 = pf_now_ms();
    run_sh(fx, line, &ro, &r);
    assert_true(pf_now_ms() - t0 < 5000); /* the SIGTERM did it, not the SIGKILL 10 s later */
    assert_true(r.rep.timed_out);
    assert_int_equal(r.rep.how, TEMPO__EXIT_SIGNAL);
    assert_int_equal(r.rep.code, SIGTERM);
    char msg[256];
    tempo__process_failure(&r.rep, msg, sizeof msg);
    assert_string_equal(msg, "timed out after 0.2 s; killed by signal 15 (SIGTERM)");
    pid_t grandchild = (pid_t)pf_read_int(path);
    assert_true(grandchild > 0);
    assert_true(pf_wait_dead(&fx->host, grandchild)); /* SIGTERM reached it with the group */
    unlink(path);
}

/* A group that ignores SIGTERM gets SIGKILL after the grace. */
static void test_timeout_then_kill_after_grace(void **state)
{
    fx_t *fx = *state;
    run_opts_t ro = {.timeout = TEMPO_SECONDS(1) / 10, .grace = TEMPO_SECONDS(1) / 5};
    result_t r;
    long long t0 = pf_now_ms();
    run_sh(fx, "trap '' TERM; sleep 100", &ro, &r);
    assert_true(pf_now_ms() - t0 >= 250); /* 0.1 s + 0.2 s, less the clock's rounding */
    assert_true(r.rep.timed_out);
    assert_int_equal(r.rep.how, TEMPO__EXIT_SIGNAL);
    assert_int_equal(r.rep.code, SIGKILL);
    char msg[256];
    tempo__process_failure(&r.rep, msg, sizeof msg);
    assert_string_equal(msg, "timed out after 0.1 s; killed by signal 9 (SIGKILL)");
}

/* The child exits but leaves a stray holding our pipes: the run ends at the
 * child's exit, and the stray dies with the group. */
static void test_strays_killed_at_exit(void **state)
{
    fx_t *fx = *state;
    result_t r;
    long long t0 = pf_now_ms();
    run_sh(fx, "sleep 100 & echo $!", NULL, &r);
    assert_true(pf_now_ms() - t0 < 10000);
    assert_int_equal(r.rep.code, 0);
    pid_t stray = (pid_t)atol(r.out);
    assert_true(stray > 0);
    assert_true(pf_wait_dead(&fx->host, stray));
}

static void test_terminate(void **state)
{
    fx_t *fx = *state;
    result_t r = {0};
    char *argv[] = {"/bin/sh", "-c", "exec sleep 100", NULL};
    run_opts_t ro = {.grace = TEMPO_SECONDS(10)};
    tempo__process_t *p = NULL;
    assert_int_equal(start_argv(fx, argv, &ro, &r, &p, NULL), TEMPO_OK);
    tempo__process_terminate(p);
    tempo__process_terminate(p); /* twice is once */
    assert_true(pf_run_until(&fx->host, &r.done, PF_WAIT_MS));
    assert_true(r.rep.terminated);
    assert_false(r.rep.timed_out);
    assert_int_equal(r.rep.how, TEMPO__EXIT_SIGNAL);
    assert_int_equal(r.rep.code, SIGTERM);
}

/* ---- what the child gets ---- */

/* The host ignores SIGPIPE and blocks SIGTERM on the loop thread (as
 * tempo's runner thread blocks everything): the child must have neither. */
static void test_child_signal_state_is_clean(void **state)
{
    fx_t *fx = *state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);
    sigset_t term, old_mask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old_mask);

    result_t r;
    /* With SIGPIPE ignored, yes would report EPIPE on stderr instead of dying. */
    run_sh(fx, "yes | head -c 3; grep -E '^(SigBlk|SigIgn)' /proc/self/status", NULL, &r);
    assert_string_equal(r.err, "");
    unsigned long long blocked = 1, ignored = 1;
    const char *blk = strstr(r.out, "SigBlk:"), *igl = strstr(r.out, "SigIgn:");
    assert_true(strncmp(r.out, "y\ny", 3) == 0);
    assert_true(blk && igl);
    assert_int_equal(sscanf(blk, "SigBlk: %llx", &blocked), 1);
    assert_int_equal(sscanf(igl, "SigIgn: %llx", &ignored), 1);
    assert_int_equal(blocked, 0);
    /* Signals 1-31 at their defaults. (glibc's posix_spawn leaves its own
     * two internal real-time signals, 32 and 33, ignored; no command uses
     * those.) */
    assert_int_equal(ignored & 0x7fffffffULL, 0);

    run_opts_t ro = {.timeout = TEMPO_SECONDS(1) / 10, .grace = TEMPO_SECONDS(30)};
    run_sh(fx, "exec sleep 100", &ro, &r);
    assert_int_equal(r.rep.code, SIGTERM); /* SIGTERM was not blocked in the child */

    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
}

static void test_stdin_is_dev_null_and_no_fd_leaks_in(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_sh(fx, "cat; readlink /proc/$$/fd/0; ls /proc/$$/fd", NULL, &r);
    /* cat read EOF at once; the shell has 0, 1, 2 and nothing of ours */
    assert_string_equal(r.out, "/dev/null\n0\n1\n2\n");
}

static void test_cwd(void **state)
{
    fx_t *fx = *state;
    result_t r;
    run_opts_t ro = {.cwd = "/"};
    run_sh(fx, "pwd", &ro, &r);
    assert_string_equal(r.out, "/\n");
}

/* ---- spawn failures ---- */

/* Expect spawn to refuse argv with `message`. Under valgrind the refusal
 * turns into a child exiting 127 (pf_under_valgrind): check that instead. */
static void expect_spawn_error(fx_t *fx, char **argv, const run_opts_t *ro, const char *message)
{
    result_t r = {0};
    tempo__process_t *p = NULL;
    tempo_error_t err = {0};
    tempo_status_t rc = start_argv(fx, argv, ro, &r, &p, &err);
    if (pf_under_valgrind()) {
        assert_int_equal(rc, TEMPO_OK);
        assert_true(pf_run_until(&fx->host, &r.done, PF_WAIT_MS));
        assert_int_equal(r.rep.how, TEMPO__EXIT_CODE);
        assert_int_equal(r.rep.code, 127);
        return;
    }
    assert_int_equal(rc, TEMPO_EIO);
    assert_string_equal(err.message, message);
    assert_int_equal(r.calls, 0);
}

static void test_program_not_found(void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"tempo-no-such-program", "x", NULL};
    expect_spawn_error(fx, argv, NULL, "cannot run 'tempo-no-such-program': No such file or directory");
    char *abs_argv[] = {"/nonexistent/prog", NULL};
    expect_spawn_error(fx, abs_argv, NULL, "cannot run '/nonexistent/prog': No such file or directory");
    char *dir_argv[] = {"/", NULL};
    expect_spawn_error(fx, dir_argv, NULL, "cannot run '/': Permission denied");
}

static void test_bad_cwd(void **state)
{
    fx_t *fx = *state;
    char *argv[] = {"/bin/true", NULL};
    run_opts_t ro = {.cwd = "/nonexistent-tempo-dir"};
    expect_spawn_error(fx, argv, &ro,
                       "cannot change to directory '/nonexistent-tempo-dir': No such file or directory");
    ro.cwd = "/etc/passwd";
    expect_spawn_error(fx, argv, &ro, "cannot change to directory '/etc/passwd': Not a directory");
}

/* ---- freeing a running child ---- */

static void test_free_while_running(void **state)
{
    fx_t *fx = *state;
    result_t r = {0};
    char path[256];
    pf_temp_path(path, sizeof path);
    char line[512];
    snprintf(line, sizeof line, "sleep 100 & echo $! > %s; wait", path);
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    tempo__process_t *p = NULL;
    assert_int_equal(start_argv(fx, argv, NULL, &r, &p, NULL), TEMPO_OK);
    /* Wait until the grandchild exists (the file names it). */
    long long deadline = pf_now_ms() + PF_WAIT_MS;
    while (pf_read_int(path) == 0 && pf_now_ms() < deadline)
        pf_run_once(&fx->host, 10);
    pid_t grandchild = (pid_t)pf_read_int(path);
    assert_true(grandchild > 0);
    long long t0 = pf_now_ms();
    tempo__process_free(p);
    assert_true(pf_now_ms() - t0 < 2000);
    assert_int_equal(r.calls, 0); /* done never runs after free */
    /* The child is reaped (teardown checks); the grandchild got the
     * group's SIGKILL — its death is the kernel's business, wait for it. */
    assert_true(pf_wait_dead(&fx->host, grandchild));
    unlink(path);
}

/* ---- many at once ---- */

static void test_many_children(void **state)
{
    fx_t *fx = *state;
    enum { N = 50 };
    static result_t rs[N];
    for (int i = 0; i < N; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        char line[64];
        snprintf(line, sizeof line, "echo %d; echo e%d >&2", i, i);
        char *argv[] = {"/bin/sh", "-c", line, NULL};
        tempo__process_t *p = NULL;
        assert_int_equal(start_argv(fx, argv, NULL, &rs[i], &p, NULL), TEMPO_OK);
    }
    for (int i = 0; i < N; i++) {
        assert_true(pf_run_until(&fx->host, &rs[i].done, PF_WAIT_MS));
        char want[32];
        snprintf(want, sizeof want, "%d\n", i);
        assert_string_equal(rs[i].out, want);
        snprintf(want, sizeof want, "e%d\n", i);
        assert_string_equal(rs[i].err, want);
        assert_int_equal(rs[i].rep.code, 0);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define P(f) { #f " (polling)", f, setup_polling, teardown, NULL }
#define BOTH(f) T(f), P(f)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_stdout_and_exit_zero),
        BOTH(test_stderr_and_exit_code),
        BOTH(test_output_truncated_at_limit),
        T(test_output_exactly_at_limit_is_not_truncated),
        BOTH(test_killed_by_signal),
        BOTH(test_timeout_kills_the_group),
        BOTH(test_timeout_then_kill_after_grace),
        BOTH(test_strays_killed_at_exit),
        BOTH(test_terminate),
        T(test_child_signal_state_is_clean),
        T(test_stdin_is_dev_null_and_no_fd_leaks_in),
        T(test_cwd),
        T(test_program_not_found),
        T(test_bad_cwd),
        BOTH(test_free_while_running),
        BOTH(test_many_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
