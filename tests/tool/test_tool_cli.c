/* The `tempo` command, run as a user runs it: the built binary (its path is
 * argv[1], from $<TARGET_FILE:tempo_cli>) is spawned without a shell, and its
 * stdout, stderr and exit code are compared exactly.
 *
 * Every run gets TZ=Asia/Tokyo unless a test says otherwise, so "local" is
 * the same zone on every machine; fixed --after values make the output
 * deterministic. The DST expectations are DESIGN.md §3's worked examples and
 * were cross-checked with Python's zoneinfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tempo/version.h>

#include "test_support.h"

extern char **environ;

static const char *tempo_bin;

typedef struct run {
    char *out, *err; /* NUL-terminated captures */
    size_t out_len, err_len;
    int code;        /* exit code; 128 + signal when killed */
} run_t;

/* ---- spawning ---- */

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer_t;

static void buffer_append(buffer_t *b, const char *src, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* The parent's environment with TZ replaced (or removed when tz is NULL). */
static char **child_env(const char *tz, char *tz_entry, size_t size)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    assert_non_null(env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "TZ=", 3) != 0)
            env[k++] = environ[i];
    }
    if (tz) {
        snprintf(tz_entry, size, "TZ=%s", tz);
        env[k++] = tz_entry;
    }
    env[k] = NULL;
    return env;
}

static void set_cloexec(int fd)
{
    assert_int_equal(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
}

/* Read both pipes until both are closed. Polling both matters: a child that
 * fills one pipe while we block on the other would never finish. */
static void drain(int out_fd, int err_fd, buffer_t *out, buffer_t *err)
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
            } else {
                buffer_append(dst[i], chunk, (size_t)got);
            }
        }
    }
}

/* Run tempo with `args`, TZ=`tz`; stdout goes to the file `stdout_path`
 * instead of being captured when that is not NULL. */
static void spawn_to(run_t *r, const char *tz, const char *stdout_path, const char *const *args)
{
    int out_pipe[2], err_pipe[2];
    assert_int_equal(pipe(out_pipe), 0);
    assert_int_equal(pipe(err_pipe), 0);
    for (int i = 0; i < 2; i++) {
        set_cloexec(out_pipe[i]);
        set_cloexec(err_pipe[i]);
    }

    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = (char *)tempo_bin;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];

    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    /* dup2 clears FD_CLOEXEC on the copy; the originals close at exec. */
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2), 0);
    if (stdout_path) /* replaces the pipe as fd 1 */
        assert_int_equal(
            posix_spawn_file_actions_addopen(&fa, 1, stdout_path, O_WRONLY | O_TRUNC, 0), 0);

    char tz_entry[256];
    char **env = child_env(tz, tz_entry, sizeof tz_entry);
    pid_t pid;
    int rc = posix_spawn(&pid, tempo_bin, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    free(argv);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0)
        fail_msg("cannot run %s: %s", tempo_bin, strerror(rc));

    buffer_t out = {0}, err = {0};
    buffer_append(&out, "", 0);
    buffer_append(&err, "", 0);
    drain(out_pipe[0], err_pipe[0], &out, &err);

    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    *r = (run_t){out.data, err.data, out.len, err.len,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

static void spawn_tempo(run_t *r, const char *tz, const char *const *args)
{
    spawn_to(r, tz, NULL, args);
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* TEMPO(&r, "next", "...") runs with TZ=Asia/Tokyo; TEMPO_TZ picks the TZ. */
#define TEMPO(r, ...) spawn_tempo((r), "Asia/Tokyo", (const char *const[]){__VA_ARGS__, NULL})
#define TEMPO_TZ(r, tz, ...) spawn_tempo((r), (tz), (const char *const[]){__VA_ARGS__, NULL})

/* ---- checks ---- */

/* Success with exactly this stdout and nothing on stderr. */
static void expect_output(run_t *r, const char *expected)
{
    assert_string_equal(r->err, "");
    assert_string_equal(r->out, expected);
    assert_int_equal(r->code, 0);
    run_free(r);
}

/* A usage error: exit 2, nothing on stdout, exactly one line on stderr that
 * starts with `prefix` (which begins "tempo: "); `exact` demands the whole
 * line. */
static void check_error(run_t *r, const char *prefix, int exact)
{
    assert_string_equal(r->out, "");
    assert_true(r->err_len > 0);
    assert_int_equal(r->err[r->err_len - 1], '\n');
    if (strchr(r->err, '\n') != r->err + r->err_len - 1)
        fail_msg("more than one line on stderr:\n%s", r->err);
    if (exact) {
        char line[1024];
        snprintf(line, sizeof line, "%s\n", prefix);
        assert_string_equal(r->err, line);
    } else if (strncmp(r->err, prefix, strlen(prefix)) != 0) {
        fail_msg("stderr '%s' does not start with '%s'", r->err, prefix);
    }
    assert_int_equal(r->code, 2);
    run_free(r);
}

static void expect_error(run_t *r, const char *line)
{
    check_error(r, line, 1);
}

static void expect_error_prefix(run_t *r, const char *prefix)
{
    check_error(r, prefix, 0);
}

/* ---- tempo next: DST ---- */

static void next_new_york_gap_shift(void **state)
{
    (void)state;
    run_t r;
    /* A daily 02:30 falls in the 2016-03-13 gap: it fires once at 03:00. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T01:59:59-05:00", "-n", "3",
          "30 2 * * *");
    expect_output(&r, "2016-03-13T03:00:00-04:00\n"
                      "2016-03-14T02:30:00-04:00\n"
                      "2016-03-15T02:30:00-04:00\n");
    /* The same instant as UTC, as in DESIGN.md §3. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T06:59:59Z", "-n", "1",
          "30 2 * * *");
    expect_output(&r, "2016-03-13T03:00:00-04:00\n");
    /* Without an offset, --after is a wall time in --tz... */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T01:59:59", "-n", "1",
          "30 2 * * *");
    expect_output(&r, "2016-03-13T03:00:00-04:00\n");
    /* ...and one inside the gap means the end of the gap (07:00Z), which is
     * already past today's shifted fire time. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T02:45", "-n", "1",
          "30 2 * * *");
    expect_output(&r, "2016-03-14T02:30:00-04:00\n");
    /* shift is the default; naming it changes nothing. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T01:59:59-05:00", "-n", "1",
          "--dst-gap", "shift", "30 2 * * *");
    expect_output(&r, "2016-03-13T03:00:00-04:00\n");
}

static void next_new_york_gap_skip(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-03-13T01:59:59-05:00", "-n", "3",
          "--dst-gap", "skip", "30 2 * * *");
    expect_output(&r, "2016-03-14T02:30:00-04:00\n"
                      "2016-03-15T02:30:00-04:00\n"
                      "2016-03-16T02:30:00-04:00\n");
}

static void next_new_york_fold(void **state)
{
    (void)state;
    run_t r;
    /* Wildcard hour: 01:30 happens twice on 2016-11-06 and fires twice. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-11-06T00:45:00-04:00", "-n", "3",
          "30 * * * *");
    expect_output(&r, "2016-11-06T01:30:00-04:00\n"
                      "2016-11-06T01:30:00-05:00\n"
                      "2016-11-06T02:30:00-05:00\n");
    /* Fixed hour: once, at the first occurrence. */
    TEMPO(&r, "next", "--tz", "America/New_York", "--after", "2016-11-06T00:45:00-04:00", "-n", "2",
          "30 1 * * *");
    expect_output(&r, "2016-11-06T01:30:00-04:00\n"
                      "2016-11-07T01:30:00-05:00\n");
}

static void next_berlin_spring(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-27T12:00:00+01:00", "-n", "2",
          "0 * * * *");
    expect_output(&r, "2027-03-27T13:00:00+01:00\n"
                      "2027-03-27T14:00:00+01:00\n");
    /* Hourly across the change: 02:00 never happens, real time goes on. */
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-28T00:30:00+01:00", "-n", "3",
          "0 * * * *");
    expect_output(&r, "2027-03-28T01:00:00+01:00\n"
                      "2027-03-28T03:00:00+02:00\n"
                      "2027-03-28T04:00:00+02:00\n");
    /* A fixed 02:30 shifts to the end of the gap. */
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-27T12:00:00+01:00", "-n", "2",
          "30 2 * * *");
    expect_output(&r, "2027-03-28T03:00:00+02:00\n"
                      "2027-03-29T02:30:00+02:00\n");
}

static void next_sao_paulo_midnight_gap(void **state)
{
    (void)state;
    run_t r;
    /* Brazil's clocks went from 00:00 to 01:00: midnight did not exist. */
    TEMPO(&r, "next", "--tz", "America/Sao_Paulo", "--after", "2014-10-18T15:00:00Z", "-n", "1",
          "0 0 * * *");
    expect_output(&r, "2014-10-19T01:00:00-02:00\n");
}

/* ---- tempo next: forms ---- */

static void next_macros(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T10:00:00Z", "-n", "2", "@daily");
    expect_output(&r, "2027-01-02T00:00:00+00:00\n"
                      "2027-01-03T00:00:00+00:00\n");
    /* 2027-01-01 is a Friday; @weekly is Sunday midnight. */
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T10:00:00Z", "-n", "1", "@weekly");
    expect_output(&r, "2027-01-03T00:00:00+00:00\n");
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T10:00:00Z", "-n", "1", "@hourly");
    expect_output(&r, "2027-01-01T11:00:00+00:00\n");
}

static void next_six_and_seven_fields(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "-n", "2",
          "30 0 9 * * mon-fri");
    expect_output(&r, "2027-01-01T09:00:30+00:00\n"
                      "2027-01-04T09:00:30+00:00\n");
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2026-06-01T00:00:00Z", "-n", "2",
          "0 0 12 1 1 * 2027-2028");
    expect_output(&r, "2027-01-01T12:00:00+00:00\n"
                      "2028-01-01T12:00:00+00:00\n");
}

static void next_trigger_that_ends(void **state)
{
    (void)state;
    run_t r;
    /* Asked for 5, the year 2027 only has two left: two lines, success. */
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-10-15T00:00:00Z", "-n", "5",
          "0 0 0 1 * * 2027");
    expect_output(&r, "2027-11-01T00:00:00+00:00\n"
                      "2027-12-01T00:00:00+00:00\n");
    /* Years wholly in the past: nothing left at all. */
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "0 0 0 * * * 2019-2020");
    expect_output(&r, "");
}

static void next_impossible(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "0 0 30 2 *");
    expect_output(&r, "");
    TEMPO(&r, "next", "--tz", "UTC", "0 0 31 4 *");
    expect_output(&r, "");
}

static void next_fields_form(void **state)
{
    (void)state;
    run_t r;
    /* 2027-03-26 is a Friday; Berlin changes to summer time on the 28th. */
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00", "-n", "3",
          "--fields", "hour=9 minute=30 day_of_week=mon-fri");
    expect_output(&r, "2027-03-29T09:30:00+02:00\n"
                      "2027-03-30T09:30:00+02:00\n"
                      "2027-03-31T09:30:00+02:00\n");
    /* The named form numbers weekdays as APScheduler does: 0 = Monday. */
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00", "-n", "2",
          "--fields=hour=9 minute=30 day_of_week=0");
    expect_output(&r, "2027-03-29T09:30:00+02:00\n"
                      "2027-04-05T09:30:00+02:00\n");
}

static void next_split_expression(void **state)
{
    (void)state;
    run_t r;
    static const char expected[] = "2027-03-29T09:30:00+02:00\n"
                                   "2027-03-30T09:30:00+02:00\n";
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00", "-n", "2",
          "30 9 * * mon-fri");
    expect_output(&r, expected);
    TEMPO(&r, "next", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00", "-n", "2",
          "30", "9", "*", "*", "mon-fri");
    expect_output(&r, expected);
    /* Options may come between the words, and "--" ends the options. */
    TEMPO(&r, "next", "30", "9", "--tz", "Europe/Berlin", "*", "*", "-n2", "--after",
          "2027-03-26T10:00:00+01:00", "--", "mon-fri");
    expect_output(&r, expected);
}

static void next_option_spellings(void **state)
{
    (void)state;
    run_t r;
    static const char expected[] = "2027-01-01T01:00:00+00:00\n"
                                   "2027-01-01T02:00:00+00:00\n";
    TEMPO(&r, "next", "--tz=UTC", "--after=2027-01-01T00:00:00Z", "--count=2", "0 * * * *");
    expect_output(&r, expected);
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "--count", "2",
          "0 * * * *");
    expect_output(&r, expected);
    /* An option's value may start with '-': here a fixed offset zone. */
    TEMPO(&r, "next", "--tz", "-05", "--after", "2027-01-01T00:00:00Z", "-n", "1", "0 * * * *");
    expect_output(&r, "2026-12-31T20:00:00-05:00\n");
}

static void next_default_count_and_zone(void **state)
{
    (void)state;
    run_t r;
    /* No --tz: "local", i.e. TZ. No -n: five. --after read in Tokyo time
     * (read as UTC, 11:30 would be 20:30 in Tokyo, past the day's noon). */
    TEMPO(&r, "next", "--after", "2027-01-01T11:30:00", "0 12 * * *");
    expect_output(&r, "2027-01-01T12:00:00+09:00\n"
                      "2027-01-02T12:00:00+09:00\n"
                      "2027-01-03T12:00:00+09:00\n"
                      "2027-01-04T12:00:00+09:00\n"
                      "2027-01-05T12:00:00+09:00\n");
    TEMPO_TZ(&r, "America/New_York", "next", "--after", "2016-03-13T01:59:59", "-n", "1",
             "30 2 * * *");
    expect_output(&r, "2016-03-13T03:00:00-04:00\n");
}

static void next_maximum_count(void **state)
{
    (void)state;
    run_t r;
    /* 10000 minutes after 2027-01-01T00:00Z is 2027-01-07T22:40Z; about
     * 260 kB, more than a pipe holds, so this also checks the draining. */
    TEMPO(&r, "next", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "-n", "10000",
          "* * * * *");
    assert_string_equal(r.err, "");
    assert_int_equal(r.code, 0);
    size_t lines = 0;
    for (size_t i = 0; i < r.out_len; i++)
        lines += r.out[i] == '\n';
    assert_int_equal(lines, 10000);
    static const char last[] = "2027-01-07T22:40:00+00:00\n";
    assert_true(r.out_len >= strlen(last));
    assert_string_equal(r.out + r.out_len - strlen(last), last);
    assert_int_equal(strncmp(r.out, "2027-01-01T00:01:00+00:00\n", 26), 0);
    run_free(&r);
}

/* Seconds since the epoch from "YYYY-MM-DDTHH:MM:SS+00:00". */
static time_t utc_line(const char *line)
{
    char text[32];
    snprintf(text, sizeof text, "%.19sZ", line);
    assert_int_equal(strncmp(line + 19, "+00:00\n", 7), 0);
    return (time_t)(tempo_test_utc(text) / TEMPO_USEC_PER_SEC);
}

static void next_defaults_to_now(void **state)
{
    (void)state;
    run_t r;
    time_t before = time(NULL);
    TEMPO(&r, "next", "--tz", "UTC", "-n", "1", "* * * * *");
    time_t after = time(NULL);
    assert_string_equal(r.err, "");
    assert_int_equal(r.code, 0);
    assert_int_equal(r.out_len, 26);
    time_t fire = utc_line(r.out);
    /* The next whole minute after some instant within [before, after]. */
    assert_int_equal(fire % 60, 0);
    assert_true(fire > before);
    assert_true(fire <= after + 60);
    run_free(&r);
}

/* ---- errors ---- */

static void error_bad_expression(void **state)
{
    (void)state;
    run_t r;
    /* The library's message is passed on as it is: field, column, text. */
    TEMPO(&r, "next", "--tz", "UTC", "30 9 * * fry");
    expect_error(&r, "tempo: cron: field 'day_of_week' column 10: 'fry' is not a weekday name");
    /* Split over arguments, the column counts in the joined text. */
    TEMPO(&r, "next", "--tz", "UTC", "30", "9", "*", "*", "fry");
    expect_error(&r, "tempo: cron: field 'day_of_week' column 10: 'fry' is not a weekday name");
    TEMPO(&r, "explain", "61 * * * *");
    expect_error_prefix(&r, "tempo: cron: field 'minute' column 1: '61'");
    TEMPO(&r, "next", "1 2 3");
    expect_error_prefix(&r, "tempo: cron: ");
    TEMPO(&r, "next", "0 0 0 1 1 * 2027 9");
    expect_error_prefix(&r, "tempo: cron: ");
    TEMPO(&r, "next", "@fortnightly");
    expect_error_prefix(&r, "tempo: cron: ");
    TEMPO(&r, "next", "--fields", "hour=25");
    expect_error_prefix(&r, "tempo: cron: field 'hour'");
    TEMPO(&r, "next", "--fields", "hours=9");
    expect_error_prefix(&r, "tempo: cron: ");
    TEMPO(&r, "explain", "--fields", "hour=9 day_of_week=fry");
    expect_error_prefix(&r, "tempo: cron: field 'day_of_week'");
}

static void error_bad_options(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "--tzz", "UTC", "* * * * *");
    expect_error(&r, "tempo: unknown option '--tzz'");
    TEMPO(&r, "next", "--tzz=UTC", "* * * * *");
    expect_error(&r, "tempo: unknown option '--tzz'");
    TEMPO(&r, "next", "-x", "* * * * *");
    expect_error(&r, "tempo: unknown option '-x'");
    TEMPO(&r, "next", "-tz", "UTC", "* * * * *");
    expect_error(&r, "tempo: unknown option '-tz'");
    TEMPO(&r, "next", "--help=yes");
    expect_error(&r, "tempo: option '--help' takes no value");
    TEMPO(&r, "next", "* * * * *", "--tz");
    expect_error(&r, "tempo: option '--tz' needs a value (ZONE)");
    TEMPO(&r, "next", "* * * * *", "-n");
    expect_error(&r, "tempo: option '-n' needs a value (COUNT)");
    TEMPO(&r, "next", "--tz", "UTC", "--tz", "UTC", "* * * * *");
    expect_error(&r, "tempo: option '--tz' given twice");
    TEMPO(&r, "explain", "-n", "3", "* * * * *");
    expect_error(&r, "tempo: option '-n' does not apply to 'tempo explain'");
    /* A newline in an argument cannot break the one-line promise. */
    TEMPO(&r, "next", "--t\nz", "* * * * *");
    expect_error(&r, "tempo: unknown option '--t?z'");
}

static void error_bad_count(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next", "-n", "abc", "* * * * *");
    expect_error(&r, "tempo: -n: 'abc' is not a count (1-10000)");
    TEMPO(&r, "next", "-n", "0", "* * * * *");
    expect_error(&r, "tempo: -n: '0' is not a count (1-10000)");
    TEMPO(&r, "next", "-n", "10001", "* * * * *");
    expect_error(&r, "tempo: -n: '10001' is not a count (1-10000)");
    TEMPO(&r, "next", "-n", "99999999999999999999999", "* * * * *");
    expect_error(&r, "tempo: -n: '99999999999999999999999' is not a count (1-10000)");
    TEMPO(&r, "next", "-n", "", "* * * * *");
    expect_error(&r, "tempo: -n: '' is not a count (1-10000)");
    TEMPO(&r, "next", "-n", " 5", "* * * * *");
    expect_error(&r, "tempo: -n: ' 5' is not a count (1-10000)");
    TEMPO(&r, "next", "--count=-1", "* * * * *");
    expect_error(&r, "tempo: --count: '-1' is not a count (1-10000)");
    TEMPO(&r, "next", "-n5x", "* * * * *");
    expect_error(&r, "tempo: -n: '5x' is not a count (1-10000)");
}

static void error_bad_values(void **state)
{
    (void)state;
    run_t r;
    /* The rest of the line says where the library looked (TZDIR). */
    TEMPO(&r, "next", "--tz", "Mars/Olympus", "* * * * *");
    expect_error_prefix(&r, "tempo: time zone 'Mars/Olympus' not found (");
    TEMPO(&r, "explain", "--tz", "Mars/Olympus", "* * * * *");
    expect_error_prefix(&r, "tempo: time zone 'Mars/Olympus' not found (");
    TEMPO(&r, "next", "--tz", "", "* * * * *");
    expect_error_prefix(&r, "tempo: time zone '' ");
    TEMPO(&r, "next", "--after", "yesterday", "* * * * *");
    expect_error_prefix(&r, "tempo: --after: ");
    TEMPO(&r, "next", "--after", "2027-02-30T00:00:00Z", "* * * * *");
    expect_error_prefix(&r, "tempo: --after: ");
    TEMPO(&r, "explain", "--after", "", "* * * * *");
    expect_error_prefix(&r, "tempo: --after: ");
    TEMPO(&r, "next", "--dst-gap", "later", "* * * * *");
    expect_error(&r, "tempo: --dst-gap: 'later' is not a policy (shift or skip)");
}

static void error_expression_missing_or_doubled(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "next");
    expect_error(&r, "tempo: missing EXPRESSION (see 'tempo next --help')");
    TEMPO(&r, "explain", "--tz", "UTC");
    expect_error(&r, "tempo: missing EXPRESSION (see 'tempo explain --help')");
    TEMPO(&r, "next", "");
    expect_error(&r, "tempo: the EXPRESSION is empty (see 'tempo next --help')");
    TEMPO(&r, "next", "  ", " ");
    expect_error(&r, "tempo: the EXPRESSION is empty (see 'tempo next --help')");
    TEMPO(&r, "next", "--fields", "hour=9", "* * * * *");
    expect_error(&r, "tempo: give either an EXPRESSION or --fields, not both");
    TEMPO(&r, "next", "--fields", " ");
    expect_error(&r, "tempo: --fields: no fields given");
}

static void error_commands(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "nxt", "* * * * *");
    expect_error(&r, "tempo: unknown command 'nxt' (see 'tempo --help')");
    TEMPO(&r, "--tz", "UTC", "next", "* * * * *");
    expect_error(&r, "tempo: unknown option '--tz' before the COMMAND (see 'tempo --help')");
    TEMPO(&r, "help", "nxt");
    expect_error(&r, "tempo: unknown command 'nxt' (see 'tempo --help')");
    TEMPO(&r, "help", "next", "explain");
    expect_error(&r, "tempo: help takes at most one COMMAND (see 'tempo --help')");
    spawn_tempo(&r, "UTC", (const char *const[]){NULL});
    expect_error(&r, "tempo: missing COMMAND (see 'tempo --help')");
}

static void error_output_fails(void **state)
{
    (void)state;
    /* Linux's device on which every write fails with ENOSPC. */
    if (access("/dev/full", W_OK) != 0)
        fail_msg("/dev/full is not writable: %s", strerror(errno));
    run_t r;
    /* More than stdio buffers, so the failure shows while printing; and a
     * short output, where it shows only at the final flush. */
    spawn_to(&r, "UTC", "/dev/full",
             (const char *const[]){"next", "-n", "10000", "* * * * *", NULL});
    assert_string_equal(r.err, "tempo: cannot write the output: No space left on device\n");
    assert_int_equal(r.code, 1);
    run_free(&r);
    spawn_to(&r, "UTC", "/dev/full", (const char *const[]){"explain", "* * * * *", NULL});
    assert_string_equal(r.err, "tempo: cannot write the output: No space left on device\n");
    assert_int_equal(r.code, 1);
    run_free(&r);
    spawn_to(&r, "UTC", "/dev/full", (const char *const[]){"--help", NULL});
    assert_string_equal(r.err, "tempo: cannot write the output: No space left on device\n");
    assert_int_equal(r.code, 1);
    run_free(&r);
}

/* ---- help and version ---- */

/* Help: exit 0, stdout only, starting with `start`; returns stdout. */
static char *expect_help(run_t *r, const char *start)
{
    assert_string_equal(r->err, "");
    assert_int_equal(r->code, 0);
    if (strncmp(r->out, start, strlen(start)) != 0)
        fail_msg("help '%s' does not start with '%s'", r->out, start);
    free(r->err);
    return r->out;
}

static void help_and_version(void **state)
{
    (void)state;
    run_t r;
    const char *main_forms[][3] = {{"--help", NULL, NULL}, {"-h", NULL, NULL},
                                   {"help", NULL, NULL}, {"help", "help", NULL}};
    char *first = NULL;
    for (size_t i = 0; i < sizeof main_forms / sizeof main_forms[0]; i++) {
        spawn_tempo(&r, "UTC", main_forms[i]);
        char *text = expect_help(&r, "Usage: tempo COMMAND");
        assert_non_null(strstr(text, "next"));
        assert_non_null(strstr(text, "explain"));
        if (first) {
            assert_string_equal(text, first);
            free(text);
        } else {
            first = text;
        }
    }
    free(first);

    TEMPO(&r, "next", "--help");
    char *next_help = expect_help(&r, "Usage: tempo next");
    /* help wins over everything after it, even an invalid option. */
    TEMPO(&r, "next", "-h", "--tzz");
    char *text = expect_help(&r, "Usage: tempo next");
    assert_string_equal(text, next_help);
    free(text);
    TEMPO(&r, "help", "next");
    text = expect_help(&r, "Usage: tempo next");
    assert_string_equal(text, next_help);
    free(text);
    free(next_help);

    TEMPO(&r, "explain", "--help");
    free(expect_help(&r, "Usage: tempo explain"));

    TEMPO(&r, "--version");
    expect_output(&r, "tempo " TEMPO_VERSION_STRING "\n");
}

/* ---- tempo explain ---- */

static void explain_weekdays(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "explain", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00",
          "30 9 * * mon-fri");
    expect_output(&r, "at 09:30 on Monday through Friday (Europe/Berlin)\n"
                      "normalized: 30 9 * * 1-5\n"
                      "next: 2027-03-29T09:30:00+02:00\n"
                      "next: 2027-03-30T09:30:00+02:00\n"
                      "next: 2027-03-31T09:30:00+02:00\n");
    /* Split words and the named form explain the same schedule. */
    TEMPO(&r, "explain", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00", "30", "9",
          "*", "*", "mon-fri");
    expect_output(&r, "at 09:30 on Monday through Friday (Europe/Berlin)\n"
                      "normalized: 30 9 * * 1-5\n"
                      "next: 2027-03-29T09:30:00+02:00\n"
                      "next: 2027-03-30T09:30:00+02:00\n"
                      "next: 2027-03-31T09:30:00+02:00\n");
}

static void explain_other_forms(void **state)
{
    (void)state;
    run_t r;
    TEMPO(&r, "explain", "--tz", "Europe/Berlin", "--after", "2027-03-26T10:00:00+01:00",
          "--fields", "hour=9 minute=30 day_of_week=mon-fri");
    expect_output(&r, "at 09:30 on Monday through Friday (Europe/Berlin)\n"
                      "normalized: day_of_week=0-4 hour=9 minute=30\n"
                      "next: 2027-03-29T09:30:00+02:00\n"
                      "next: 2027-03-30T09:30:00+02:00\n"
                      "next: 2027-03-31T09:30:00+02:00\n");
    /* The skip policy shows in the description and in the times. */
    TEMPO(&r, "explain", "--tz", "America/New_York", "--after", "2016-03-12T12:00:00-05:00",
          "--dst-gap", "skip", "30 2 * * *");
    expect_output(&r, "at 02:30 every day (America/New_York, times in DST gaps skipped)\n"
                      "normalized: 30 2 * * *\n"
                      "next: 2016-03-14T02:30:00-04:00\n"
                      "next: 2016-03-15T02:30:00-04:00\n"
                      "next: 2016-03-16T02:30:00-04:00\n");
    /* Without --tz the zone is local, and the description says which. */
    TEMPO(&r, "explain", "--after", "2027-01-01T11:30:00", "0 12 * * *");
    expect_output(&r, "at 12:00 every day (local time, Asia/Tokyo)\n"
                      "normalized: 0 12 * * *\n"
                      "next: 2027-01-01T12:00:00+09:00\n"
                      "next: 2027-01-02T12:00:00+09:00\n"
                      "next: 2027-01-03T12:00:00+09:00\n");
    TEMPO(&r, "explain", "--tz", "UTC", "--after", "2027-01-01T10:00:00Z", "@weekly");
    expect_output(&r, "at 00:00 on Sunday (UTC)\n"
                      "normalized: 0 0 * * 0\n"
                      "next: 2027-01-03T00:00:00+00:00\n"
                      "next: 2027-01-10T00:00:00+00:00\n"
                      "next: 2027-01-17T00:00:00+00:00\n");
}

static void explain_never_and_ending(void **state)
{
    (void)state;
    run_t r;
    /* Impossible is not an error: it explains, and says it never fires. */
    TEMPO(&r, "explain", "--tz", "UTC", "--after", "2027-01-01T00:00:00Z", "0 0 30 2 *");
    expect_output(&r, "at 00:00 on February 30 (no date ever matches) (UTC)\n"
                      "normalized: 0 0 30 2 *\n"
                      "next: never fires\n");
    TEMPO(&r, "explain", "--tz", "UTC", "--after", "2027-10-15T00:00:00Z", "0 0 0 1 * * 2027");
    expect_output(&r, "at 00:00 on day 1 of the month in 2027 (UTC)\n"
                      "normalized: 0 0 0 1 * * 2027\n"
                      "next: 2027-11-01T00:00:00+00:00\n"
                      "next: 2027-12-01T00:00:00+00:00\n"
                      "next: no more\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        tempo_test_skip("usage: test_tool_cli PATH-TO-TEMPO (ctest passes it)");
    tempo_bin = argv[1];
    if (access(tempo_bin, X_OK) != 0)
        tempo_test_skip("the tempo binary was not built");

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_new_york_gap_shift),
        cmocka_unit_test(next_new_york_gap_skip),
        cmocka_unit_test(next_new_york_fold),
        cmocka_unit_test(next_berlin_spring),
        cmocka_unit_test(next_sao_paulo_midnight_gap),
        cmocka_unit_test(next_macros),
        cmocka_unit_test(next_six_and_seven_fields),
        cmocka_unit_test(next_trigger_that_ends),
        cmocka_unit_test(next_impossible),
        cmocka_unit_test(next_fields_form),
        cmocka_unit_test(next_split_expression),
        cmocka_unit_test(next_option_spellings),
        cmocka_unit_test(next_default_count_and_zone),
        cmocka_unit_test(next_maximum_count),
        cmocka_unit_test(next_defaults_to_now),
        cmocka_unit_test(error_bad_expression),
        cmocka_unit_test(error_bad_options),
        cmocka_unit_test(error_bad_count),
        cmocka_unit_test(error_bad_values),
        cmocka_unit_test(error_expression_missing_or_doubled),
        cmocka_unit_test(error_commands),
        cmocka_unit_test(error_output_fails),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(explain_weekdays),
        cmocka_unit_test(explain_other_forms),
        cmocka_unit_test(explain_never_and_ending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
