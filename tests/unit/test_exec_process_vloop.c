/* A process run on a loop that cannot watch file descriptors (the virtual
 * loop): the start fails with a message saying why, and the child it had
 * already spawned is killed and reaped — no child, no fd, no timer left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <tempo/virtual.h>

#include "exec/process_internal.h"

extern char **environ;

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void never(tempo__process_t *p, void *arg)
{
    (void)p, (void)arg;
    fail_msg("done must not run for a run that did not start");
}

static void test_start_refused_on_virtual_loop(void **state)
{
    (void)state;
    int fds = fd_count();
    tempo_vloop_t *vloop = NULL;
    tempo_loop_t *loop = NULL;
    assert_int_equal(tempo_vloop_new(0, &vloop, &loop, NULL), TEMPO_OK);
    char *argv[] = {"/bin/sh", "-c", "exec sleep 100", NULL};
    tempo__process_cmd_t cmd = {.argv = argv, .envp = environ};
    tempo__process_spec_t spec = {.cmd = &cmd, .output_limit = 100, .timeout = TEMPO_DURATION_NONE};
    tempo__process_t *p = NULL;
    tempo_error_t err = {0};
    assert_int_equal(tempo__process_start(loop, &spec, never, NULL, &p, &err), TEMPO_EIO);
    assert_string_equal(err.message, "cannot watch the child's output on this loop: Operation not supported");
    assert_null(p);
    assert_int_equal(tempo__loop_pending(loop), 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), -1);
    assert_int_equal(errno, ECHILD);
    tempo_vloop_free(vloop);
    assert_int_equal(fd_count(), fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_refused_on_virtual_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
