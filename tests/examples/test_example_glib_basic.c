/* examples/glib_basic.c, run as a user runs it: the built binary (its path
 * is argv[1], from $<TARGET_FILE:example_glib_basic>) is spawned without a
 * shell and its output checked line by line. It does what
 * examples/ev_basic.c does, on GLib, so it passes the same checks
 * (basic_cases.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "basic_cases.h"
#include "test_support.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-example_glib_basic\n", argv[0]);
        return 1;
    }
    basic_example = (basic_example_t){argv[1], "example_glib_basic", "running on GLib (private GMainContext)"};
    if (access(argv[1], X_OK) != 0)
        tempo_test_skip("the example binary is not built (TEMPO_BUILD_EXAMPLES=OFF?)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_runs_schedules_and_stops),
        cmocka_unit_test(basic_sigint_stops_gracefully),
        cmocka_unit_test(basic_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
