/* example_run.h: spawn an example, capture its output, bound its time. */
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
#include <time.h>
#include <unistd.h>

#include "example_run.h"

extern char **environ;

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

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This process's environment with `env`'s entries set or replaced ("NAME=
 * VALUE") or removed (a bare "NAME"). The strings are borrowed; only the
 * array is new. */
static char **merged_environment(const char *const *env)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (env && env[m])
        m++;
    char **out = calloc(n + m + 1, sizeof *out);
    assert_non_null(out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < m && !replaced; j++) {
            size_t name_len = strcspn(env[j], "=");
            replaced = strncmp(environ[i], env[j], name_len) == 0 && environ[i][name_len] == '=';
        }
        if (!replaced)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(env[j], '='))
            out[k++] = (char *)env[j];
    return out;
}

static pid_t spawn(const example_spawn_t *how, int out_fd, int err_fd)
{
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, out_fd, 1), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, err_fd, 2), 0);
    char **envp = merged_environment(how->env);
    pid_t pid;
    int rc = posix_spawn(&pid, how->argv[0], &fa, NULL, (char *const *)how->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (rc != 0)
        fail_msg("cannot run %s: %s", how->argv[0], strerror(rc));
    return pid;
}

/* Read both pipes until both close or the deadline passes; returns false on
 * the deadline. */
static int drain(pid_t pid, const int fds[2], buffer_t *out, buffer_t *err, const example_spawn_t *how)
{
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    buffer_t *dst[2] = {out, err};
    const char *interrupt_on = how->interrupt_on;
    int64_t deadline = monotonic_ms() + (int64_t)how->timeout_s * 1000;
    int open_fds = 2;
    while (open_fds > 0) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return 0;
        int n = poll(p, 2, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
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
    return 1;
}

void example_run(example_run_t *r, const example_spawn_t *how)
{
    int out_pipe[2], err_pipe[2];
    assert_int_equal(pipe(out_pipe), 0);
    assert_int_equal(pipe(err_pipe), 0);
    for (int i = 0; i < 2; i++) { /* the child gets only its dup2'd copies */
        assert_int_equal(fcntl(out_pipe[i], F_SETFD, FD_CLOEXEC), 0);
        assert_int_equal(fcntl(err_pipe[i], F_SETFD, FD_CLOEXEC), 0);
    }
    pid_t pid = spawn(how, out_pipe[1], err_pipe[1]);
    close(out_pipe[1]);
    close(err_pipe[1]);

    buffer_t out = {0}, err = {0};
    buffer_append(&out, "", 0);
    buffer_append(&err, "", 0);
    const int fds[2] = {out_pipe[0], err_pipe[0]};
    int finished = drain(pid, fds, &out, &err, how);
    if (!finished) /* a hung example must not hang the test until ctest's timeout */
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!finished) {
        fail_msg("%s did not finish within %d s; killed. stderr so far:\n%s\nstdout so far:\n%s", how->argv[0],
                 how->timeout_s, err.data, out.data);
    }
    *r = (example_run_t){out.data, err.data, out.len, err.len,
                         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

void example_run_free(example_run_t *r)
{
    free(r->out);
    free(r->err);
}

int example_count_lines(const char *text, const char *a, const char *b)
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

void example_expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("expected '%s' in the output:\n%s", needle, text);
}

void example_fail_run(const example_run_t *r)
{
    fail_msg("exit %d, stderr:\n%s\nstdout:\n%s", r->code, r->err, r->out);
}

const char *example_env_append(const char *name, const char *extra, char sep)
{
    static char buf[4096];
    const char *now = getenv(name);
    if (now && *now)
        snprintf(buf, sizeof buf, "%s=%s%c%s", name, now, sep, extra);
    else
        snprintf(buf, sizeof buf, "%s=%s", name, extra);
    return buf;
}
