/* examples/ev_basic.c, run as a user runs it: the built binary (its path is
 * argv[1], from $<TARGET_FILE:example_ev_basic>) is spawned without a shell
 * and its output checked line by line.
 *
 * The example runs on the real clock, so the checks are about what must
 * happen in any run of that length, not exact times: with --seconds 3 the
 * queued job, the interval schedule (first fire at +1 s) and the 2-second
 * cron schedule (first fire at most 2 s in) each finish at least once, the
 * graceful stop lets running jobs finish, and the summary agrees with the
 * lines printed. The SIGINT case sends the signal when the program says it
 * queued its job, so it waits on output, not on a sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

extern char **environ;

static const char *example_bin;

typedef struct run {
    char *out, *err; /* NUL-terminated captures */
    size_t out_len, err_len;
    int code;        /* exit code; 128 + signal when killed */
} run_t;

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer_t;

static void buffer_append(buffer_t *b, const char *src, size_t n)
{
    if (!b->data || b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Read both pipes until both close. When `interrupt_on` appears in stdout,
 * send SIGINT to `pid` once. */
static void drain(pid_t pid, int out_fd, int err_fd, buffer_t *out, buffer_t *err, const char *interrupt_on)
{
    struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    buffer_t *dst[2] = {out, err};
    int open_fds = 2;
    while (open_fds > 0) {
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[4096];
            ssize_t got = read(p[i].fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            assert_true(got >= 0);
            if (got == 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            buffer_append(dst[i], chunk, (size_t)got);
        }
        if (interrupt_on && strstr(out->data, interrupt_on)) {
            assert_int_equal(kill(pid, SIGINT), 0);
            interrupt_on = NULL;
        }
    }
}

static void spawn_example(run_t *r, const char *interrupt_on, const char *const *args)
{
    int out_pipe[2], err_pipe[2];
    assert_int_equal(pipe(out_pipe), 0);
    assert_int_equal(pipe(err_pipe), 0);
    for (int i = 0; i < 2; i++) { /* the child gets only its dup2'd copies */
        assert_int_equal(fcntl(out_pipe[i], F_SETFD, FD_CLOEXEC), 0);
        assert_int_equal(fcntl(err_pipe[i], F_SETFD, FD_CLOEXEC), 0);
    }
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = (char *)example_bin;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];

    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2), 0);
    pid_t pid;
    int rc = posix_spawn(&pid, example_bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0)
        fail_msg("cannot run %s: %s", example_bin, strerror(rc));

    buffer_t out = {0}, err = {0};
    buffer_append(&out, "", 0);
    buffer_append(&err, "", 0);
    drain(pid, out_pipe[0], err_pipe[0], &out, &err, interrupt_on);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    *r = (run_t){out.data, err.data, out.len, err.len,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

#define RUN(r, interrupt_on, ...) spawn_example((r), (interrupt_on), (const char *const[]){__VA_ARGS__, NULL})

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* ---- reading the output ---- */

static int count_lines_with(const char *text, const char *a, const char *b)
{
    int n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        n += strstr(buf, a) && (!b || strstr(buf, b));
        line += len + (end ? 1 : 0);
    }
    return n;
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected '%s' in the output:\n%s", needle, text);
}

/* The summary line's total agrees with the "job done" lines, and it is the
 * last line. */
static void expect_summary(const run_t *r)
{
    const char *summary = strstr(r->out, "stopped: ");
    if (!summary)
        fail_msg("no summary line in:\n%s", r->out);
    int total = -1, success = -1, error = -1, missed = -1, cancelled = -1;
    assert_int_equal(sscanf(summary, "stopped: %d jobs finished (%d success, %d error, %d missed, %d cancelled)",
                            &total, &success, &error, &missed, &cancelled),
                     5);
    assert_int_equal(total, count_lines_with(r->out, "job done:", NULL));
    assert_int_equal(success, count_lines_with(r->out, "job done:", " success "));
    assert_int_equal(error + missed + cancelled, 0);
    assert_ptr_equal(strchr(summary, '\n'), r->out + r->out_len - 1);
}

/* ---- cases ---- */

static void runs_schedules_and_stops(void **state)
{
    (void)state;
    run_t r;
    RUN(&r, NULL, "--seconds", "3");
    if (r.code != 0 || r.err_len != 0)
        fail_msg("exit %d, stderr:\n%s\nstdout:\n%s", r.code, r.err, r.out);
    expect_in(r.out, "running on libev for 3 s\n");
    expect_in(r.out, "schedule 'every-2s' added, first fire at ");
    expect_in(r.out, "schedule 'every-3s' added, first fire at ");
    expect_in(r.out, "schedule 'in-5s' added, first fire at ");
    /* The blocking task's return value, through wait_job_result. */
    expect_in(r.out, "result of the queued job: success { \"n\" : 100, \"sum\" : 5050 }\n");
    /* Each kind of job finished at least once: queued directly, interval
     * (blocking task), cron (in-loop task completing later). */
    assert_int_equal(count_lines_with(r.out, "job done: schedule -         task checksum success", NULL), 1);
    assert_true(count_lines_with(r.out, "job done: schedule every-3s  task checksum success", NULL) >= 1);
    assert_true(count_lines_with(r.out, "job done: schedule every-2s  task ping     success", NULL) >= 1);
    /* The date schedule is 5 s out: it never fires in a 3 s run. */
    assert_int_equal(count_lines_with(r.out, "schedule in-5s", NULL), 0);
    /* A graceful stop lets running jobs finish, so "job done" lines may come
     * between the two; the order is what matters. */
    expect_in(r.out, "stopping (time is up)\n");
    const char *stopping = strstr(r.out, "stopping (time is up)\n");
    assert_non_null(strstr(stopping, "\nstopped: "));
    expect_summary(&r);
    run_free(&r);
}

static void sigint_stops_gracefully(void **state)
{
    (void)state;
    run_t r;
    RUN(&r, " queued\n", "--seconds", "600");
    if (r.code != 0 || r.err_len != 0)
        fail_msg("exit %d, stderr:\n%s\nstdout:\n%s", r.code, r.err, r.out);
    expect_in(r.out, "stopping (interrupted)\n");
    expect_summary(&r);
    run_free(&r);
}

static void bad_arguments(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"--seconds", "0", "--seconds '0' is not a whole number of seconds from 1 to 86400"},
        {"--seconds", "12x", "--seconds '12x' is not a whole number"},
        {"--seconds", NULL, "--seconds needs a value"},
        {"--bogus", NULL, "unknown argument '--bogus'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_t r;
        if (cases[i][1])
            RUN(&r, NULL, cases[i][0], cases[i][1]);
        else
            RUN(&r, NULL, cases[i][0]);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        expect_in(r.err, cases[i][2]);
        expect_in(r.err, "usage: example_ev_basic [--seconds N]");
        run_free(&r);
    }
    run_t r;
    RUN(&r, NULL, "--help");
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    expect_in(r.out, "usage: example_ev_basic [--seconds N]");
    run_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-example_ev_basic\n", argv[0]);
        return 1;
    }
    example_bin = argv[1];
    if (access(example_bin, X_OK) != 0)
        tempo_test_skip("the example binary is not built (TEMPO_BUILD_EXAMPLES=OFF?)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_schedules_and_stops),
        cmocka_unit_test(sigint_stops_gracefully),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
