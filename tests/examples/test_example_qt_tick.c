/* examples/qt_tick.cpp, run as a user runs it. The schedule fires every
 * second from the start, so a 3 s run prints about three ticks; at least two
 * are required (a second of slack for a loaded machine), numbered 1, 2, ...
 * With QT_NO_GLIB=1 Qt dispatches without GLib, nothing would run tempo's
 * source, and the example must say so and fail rather than hang.
 *
 * argv[1] is the example's path, empty when no C++ compiler or Qt 5 Core was
 * found at configure time; the test then skips (a failure under CI=true:
 * scripts/setup.sh installs qtbase5-dev). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "example_run.h"
#include "test_support.h"

#define RUN_TIMEOUT_S 60

static const char *example_bin;

/* The example with `a` and `b` (either may be NULL); QT_NO_GLIB as given
 * ("QT_NO_GLIB" alone: unset). */
static void run_tick(example_run_t *r, const char *qt_no_glib, const char *a, const char *b)
{
    const char *argv[] = {example_bin, a, b, NULL};
    const char *env[] = {qt_no_glib, NULL};
    example_spawn_t how = {argv, env, NULL, RUN_TIMEOUT_S};
    example_run(r, &how);
}

static void ticks_in_qts_loop(void **state)
{
    (void)state;
    example_run_t r;
    run_tick(&r, "QT_NO_GLIB", "--seconds", "3");
    if (r.code != 0 || r.err_len != 0)
        example_fail_run(&r);
    example_expect_in(r.out, "running in Qt 5.");
    example_expect_in(r.out, "(QEventDispatcherGlib) for 3 s\n");
    int ticks = 0;
    for (const char *p = strstr(r.out, "\ntick "); p; p = strstr(p + 1, "\ntick ")) {
        int n = -1;
        if (sscanf(p, "\ntick %d: fire time ", &n) != 1)
            fail_msg("unreadable tick line at: %.60s", p + 1);
        assert_int_equal(n, ticks + 1);
        ticks = n;
    }
    if (ticks < 2)
        fail_msg("%d ticks in 3 s, expected at least 2:\n%s", ticks, r.out);
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

static void refuses_a_dispatcher_without_glib(void **state)
{
    (void)state;
    example_run_t r;
    run_tick(&r, "QT_NO_GLIB=1", "--seconds", "3");
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    example_expect_in(r.err, "example_qt_tick: Qt's event dispatcher is QEventDispatcherUNIX, not GLib's");
    example_run_free(&r);
}

static void bad_arguments(void **state)
{
    (void)state;
    example_run_t r;
    run_tick(&r, "QT_NO_GLIB", "--seconds", "12x");
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    example_expect_in(r.err, "--seconds '12x' is not a whole number of seconds from 1 to 86400");
    example_expect_in(r.err, "usage: example_qt_tick [--seconds N]");
    example_run_free(&r);
    run_tick(&r, "QT_NO_GLIB", "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    example_expect_in(r.out, "usage: example_qt_tick [--seconds N]");
    example_run_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-example_qt_tick (empty: not built)\n", argv[0]);
        return 1;
    }
    example_bin = argv[1];
    if (!*example_bin)
        tempo_test_skip("example_qt_tick is not built: no C++ compiler or no Qt 5 Core development files at "
                        "configure time (scripts/setup.sh installs g++ and qtbase5-dev)");
    if (access(example_bin, X_OK) != 0)
        tempo_test_skip("the example binary is not built (TEMPO_BUILD_EXAMPLES=OFF?)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ticks_in_qts_loop),
        cmocka_unit_test(refuses_a_dispatcher_without_glib),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
