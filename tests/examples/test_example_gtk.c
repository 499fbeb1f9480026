/* examples/gtk_clock.c in a real X server: the test starts Xvfb on a display
 * number the server picks itself (-displayfd: no guessing, no clash with
 * another test's server), runs the example there for 3 seconds, and reads
 * the "label: <text>" lines the example prints each time it changed the
 * label — with the text read back from the widget. The label must change at
 * least twice with increasing counters and fire times (the schedule fires
 * every second, so a 3 s run has about three ticks; two leave a second of
 * slack for a loaded machine), and the window must have been mapped.
 *
 * argv[1] is the example's path, empty when GTK 3 was not found at configure
 * time. Without GTK or Xvfb the test skips (a failure under CI=true:
 * scripts/setup.sh installs both). Under ASan the example runs with leak
 * detection on, less fontconfig's caches (which it keeps until exit, by
 * design): a leak of tempo's or of the example's still fails the run. */
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

#include "example_run.h"
#include "test_support.h"

extern char **environ;

#define XVFB_START_TIMEOUT_MS 30000
#define RUN_TIMEOUT_S 60

static const char *example_bin;
static pid_t xvfb_pid = -1;
static char display[32]; /* "DISPLAY=:N" */
static char xvfb_log[4096];
static char lsan_options[4200]; /* "LSAN_OPTIONS=...suppressions=FILE" */

/* ---- the X server ---- */

/* Read Xvfb's display number from `fd` ("N\n"), for at most the timeout.
 * Returns -1 if it closed or the time ran out. */
static int read_display_number(int fd)
{
    char buf[32];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, XVFB_START_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        ssize_t got = read(fd, buf + len, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        if (buf[len] == '\n')
            break;
        len++;
    }
    buf[len] = '\0';
    char *end;
    long number = strtol(buf, &end, 10);
    return end == buf || *end || number < 0 || number > 65535 ? -1 : (int)number;
}

static void stop_xvfb(void)
{
    if (xvfb_pid <= 0)
        return;
    kill(xvfb_pid, SIGTERM);
    while (waitpid(xvfb_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    xvfb_pid = -1;
}

/* Start `Xvfb -displayfd W ...`: the server writes the number of the display
 * it took to fd W once it accepts connections. Its output goes to a log in
 * the build tree (not to our stdout, which ctest reads until every holder
 * closes it). Skips when there is no Xvfb or it does not come up. */
static void start_xvfb(void)
{
    int fds[2];
    if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0) {
        perror("pipe");
        exit(1);
    }
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", fds[1]); /* inherited: not CLOEXEC */
    char *const argv[] = {"Xvfb", "-displayfd", fd_text, "-screen", "0", "640x480x24", "-nolisten", "tcp", NULL};

    tempo_test_binary_path("test_example_gtk-xvfb.log", xvfb_log, sizeof xvfb_log);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, xvfb_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&xvfb_pid, "Xvfb", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        xvfb_pid = -1;
        if (rc == ENOENT)
            tempo_test_skip("Xvfb is not installed (scripts/setup.sh installs xvfb)");
        fprintf(stderr, "cannot run Xvfb: %s\n", strerror(rc));
        exit(1);
    }
    int number = read_display_number(fds[0]);
    close(fds[0]);
    if (number < 0) {
        stop_xvfb();
        static char reason[4200];
        snprintf(reason, sizeof reason, "Xvfb did not start within %d s (its output: %s)",
                 XVFB_START_TIMEOUT_MS / 1000, xvfb_log);
        tempo_test_skip(reason);
    }
    snprintf(display, sizeof display, "DISPLAY=:%d", number);
}

/* ---- running the example ---- */

/* LeakSanitizer's suppressions for the example (used only in an ASan
 * build): fontconfig's caches, the one thing GTK leaves allocated at exit
 * in a run of this example. Written into the build tree. */
static void write_lsan_suppressions(void)
{
    char path[4096];
    tempo_test_binary_path("test_example_gtk-lsan.supp", path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f || fputs("leak:libfontconfig.so\n", f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    char extra[4200];
    snprintf(extra, sizeof extra, "suppressions=%s:print_suppressions=0", path);
    snprintf(lsan_options, sizeof lsan_options, "%s", example_env_append("LSAN_OPTIONS", extra, ':'));
}

/* The example with `a` and `b` (either may be NULL) and its environment:
 * the X server, unless `with_display` is false; X11 only (not a Wayland
 * compositor the host may have); no accessibility bus (GTK would look for
 * one on D-Bus and warn); fontconfig's leaks suppressed. */
static void run_clock(example_run_t *r, int with_display, const char *a, const char *b)
{
    const char *argv[] = {example_bin, a, b, NULL};
    const char *env[] = {with_display ? display : "DISPLAY", "WAYLAND_DISPLAY", "GDK_BACKEND=x11",
                         "NO_AT_BRIDGE=1", lsan_options, NULL};
    example_spawn_t how = {argv, env, NULL, RUN_TIMEOUT_S};
    example_run(r, &how);
}

static int seconds_of_day(int h, int m, int s)
{
    return h * 3600 + m * 60 + s;
}

/* ---- cases ---- */

static void label_ticks_in_a_window(void **state)
{
    (void)state;
    example_run_t r;
    run_clock(&r, 1, "--seconds", "3");
    if (r.code != 0 || r.err_len != 0)
        example_fail_run(&r);
    example_expect_in(r.out, "label: waiting for the first tick\n");
    example_expect_in(r.out, "running on GLib's default context with GTK 3.");
    const char *shown = strstr(r.out, "window: shown\n");
    if (!shown)
        fail_msg("the window was never mapped:\n%s", r.out);

    /* Every tick line: consecutive counters from 1, fire times a second or
     * more apart (modulo midnight), none before the window was on screen. */
    int ticks = 0, last_time = -1;
    for (const char *p = strstr(r.out, "label: tick "); p; p = strstr(p + 1, "label: tick ")) {
        int n, h, m, s;
        if (sscanf(p, "label: tick %d at %d:%d:%d\n", &n, &h, &m, &s) != 4)
            fail_msg("unreadable label line at: %.60s", p);
        assert_int_equal(n, ticks + 1);
        int t = seconds_of_day(h, m, s);
        if (last_time >= 0) {
            int step = (t - last_time + 86400) % 86400;
            if (step < 1 || step > 60)
                fail_msg("tick %d's fire time is %d s after the previous one:\n%s", n, step, r.out);
        }
        last_time = t;
        ticks = n;
    }
    if (ticks < 2)
        fail_msg("the label changed %d times in 3 s, expected at least 2:\n%s", ticks, r.out);
    assert_true(strstr(r.out, "label: tick 1 ") > shown);

    /* Stopped gracefully, and the summary is the last line. */
    const char *stopping = strstr(r.out, "stopping (time is up)\n");
    assert_non_null(stopping);
    const char *stopped = strstr(stopping, "stopped: ");
    assert_non_null(stopped);
    int reported = -1;
    assert_int_equal(sscanf(stopped, "stopped: %d ticks\n", &reported), 1);
    assert_int_equal(reported, ticks);
    assert_ptr_equal(strchr(stopped, '\n'), r.out + r.out_len - 1);
    example_run_free(&r);
}

static void no_display_is_a_clear_error(void **state)
{
    (void)state;
    example_run_t r;
    run_clock(&r, 0, "--seconds", "3");
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    example_expect_in(r.err, "example_gtk_clock: cannot open a display (is DISPLAY set?)\n");
    example_run_free(&r);
}

static void bad_arguments(void **state)
{
    (void)state;
    example_run_t r;
    run_clock(&r, 0, "--seconds", "0");
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    example_expect_in(r.err, "--seconds '0' is not a whole number of seconds from 1 to 86400");
    example_expect_in(r.err, "usage: example_gtk_clock [--seconds N]");
    example_run_free(&r);
    run_clock(&r, 0, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    example_expect_in(r.out, "usage: example_gtk_clock [--seconds N]");
    example_run_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-example_gtk_clock (empty: not built)\n", argv[0]);
        return 1;
    }
    example_bin = argv[1];
    if (!*example_bin)
        tempo_test_skip("example_gtk_clock is not built: GTK 3's development files were not found at configure "
                        "time (scripts/setup.sh installs libgtk-3-dev)");
    if (access(example_bin, X_OK) != 0)
        tempo_test_skip("the example binary is not built (TEMPO_BUILD_EXAMPLES=OFF?)");
    write_lsan_suppressions();
    start_xvfb();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_ticks_in_a_window),
        cmocka_unit_test(no_display_is_a_clear_error),
        cmocka_unit_test(bad_arguments),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    stop_xvfb();
    return failed;
}
