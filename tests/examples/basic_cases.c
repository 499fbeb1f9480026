/* basic_cases.h. The examples run on the real clock, so the checks are about
 * what must happen in any run of that length, not exact times or counts:
 * with --seconds 3 the queued job, the interval schedule (first fire at
 * +1 s) and the 2-second cron schedule (first fire at most 2 s in) each
 * finish at least once, the graceful stop lets running jobs finish, and the
 * summary agrees with the lines printed. The SIGINT case sends the signal
 * when the program says it queued its job: it waits on output, not on a
 * sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "basic_cases.h"
#include "example_run.h"

basic_example_t basic_example;

/* Generous: a 3 s run under ASan on a loaded 2-core machine. */
#define TIMEOUT_S 60

static void run_basic(example_run_t *r, const char *interrupt_on, const char *a, const char *b)
{
    const char *argv[] = {basic_example.path, a, b, NULL};
    example_spawn_t how = {argv, NULL, interrupt_on, TIMEOUT_S};
    example_run(r, &how);
}

/* The summary line's total agrees with the "job done" lines, and it is the
 * last line. */
static void expect_summary(const example_run_t *r)
{
    const char *summary = strstr(r->out, "stopped: ");
    if (!summary)
        fail_msg("no summary line in:\n%s", r->out);
    int total = -1, success = -1, error = -1, missed = -1, cancelled = -1;
    assert_int_equal(sscanf(summary, "stopped: %d jobs finished (%d success, %d error, %d missed, %d cancelled)",
                            &total, &success, &error, &missed, &cancelled),
                     5);
    assert_int_equal(total, example_count_lines(r->out, "job done:", NULL));
    assert_int_equal(success, example_count_lines(r->out, "job done:", " success "));
    assert_int_equal(error + missed + cancelled, 0);
    assert_ptr_equal(strchr(summary, '\n'), r->out + r->out_len - 1);
}

void basic_runs_schedules_and_stops(void **state)
{
    (void)state;
    example_run_t r;
    run_basic(&r, NULL, "--seconds", "3");
    if (r.code != 0 || r.err_len != 0)
        example_fail_run(&r);
    char running[128];
    snprintf(running, sizeof running, "%s for 3 s\n", basic_example.running);
    example_expect_in(r.out, running);
    example_expect_in(r.out, "schedule 'every-2s' added, first fire at ");
    example_expect_in(r.out, "schedule 'every-3s' added, first fire at ");
    example_expect_in(r.out, "schedule 'in-5s' added, first fire at ");
    /* The blocking task's return value, through wait_job_result. */
    example_expect_in(r.out, "result of the queued job: success { \"n\" : 100, \"sum\" : 5050 }\n");
    /* Each kind of job finished at least once: queued directly, interval
     * (blocking task), cron (in-loop task completing later from a timer of
     * the example's own loop). */
    assert_int_equal(example_count_lines(r.out, "job done: schedule -         task checksum success", NULL), 1);
    assert_true(example_count_lines(r.out, "job done: schedule every-3s  task checksum success", NULL) >= 1);
    assert_true(example_count_lines(r.out, "job done: schedule every-2s  task ping     success", NULL) >= 1);
    /* The date schedule is 5 s out: it never fires in a 3 s run. */
    assert_int_equal(example_count_lines(r.out, "schedule in-5s", NULL), 0);
    /* A graceful stop lets running jobs finish, so "job done" lines may come
     * between the two; the order is what matters. */
    example_expect_in(r.out, "stopping (time is up)\n");
    const char *stopping = strstr(r.out, "stopping (time is up)\n");
    assert_non_null(strstr(stopping, "\nstopped: "));
    expect_summary(&r);
    example_run_free(&r);
}

void basic_sigint_stops_gracefully(void **state)
{
    (void)state;
    example_run_t r;
    run_basic(&r, " queued\n", "--seconds", "600");
    if (r.code != 0 || r.err_len != 0)
        example_fail_run(&r);
    example_expect_in(r.out, "stopping (interrupted)\n");
    expect_summary(&r);
    example_run_free(&r);
}

void basic_bad_arguments(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"--seconds", "0", "--seconds '0' is not a whole number of seconds from 1 to 86400"},
        {"--seconds", "12x", "--seconds '12x' is not a whole number"},
        {"--seconds", NULL, "--seconds needs a value"},
        {"--bogus", NULL, "unknown argument '--bogus'"},
    };
    char usage[128];
    snprintf(usage, sizeof usage, "usage: %s [--seconds N]", basic_example.name);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        example_run_t r;
        run_basic(&r, NULL, cases[i][0], cases[i][1]);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        example_expect_in(r.err, cases[i][2]);
        example_expect_in(r.err, usage);
        example_run_free(&r);
    }
    example_run_t r;
    run_basic(&r, NULL, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    example_expect_in(r.out, usage);
    example_run_free(&r);
}
