/* The process executor's pure parts: UTF-8 cleaning of captured output, the
 * first line of stderr, durations in messages, the failure messages and the
 * result document (lib/exec/process_text.c, process_result.c), and output
 * capture up to a limit on a real pipe (process_output.c). No process runs
 * here; tests/process runs real ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/process_internal.h"

/* ---- UTF-8 ---- */

static void check_clean(const char *in, size_t len, bool cut, const char *want)
{
    size_t out_len = 0;
    char *out = tempo__utf8_clean(in, len, cut, &out_len);
    assert_non_null(out);
    assert_int_equal(out_len, strlen(want));
    assert_memory_equal(out, want, out_len);
    assert_int_equal(out[out_len], '\0');
    free(out);
}

#define FFFD "\xEF\xBF\xBD"

static void test_utf8_valid_kept(void **state)
{
    (void)state;
    check_clean("", 0, false, "");
    check_clean("plain ascii\n", 12, false, "plain ascii\n");
    const char *mixed = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
    check_clean(mixed, strlen(mixed), false, mixed);
    check_clean("\xF4\x8F\xBF\xBF", 4, false, "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
}

static void test_utf8_invalid_replaced(void **state)
{
    (void)state;
    check_clean("a\xFF" "b", 3, false, "a" FFFD "b");
    check_clean("\xC0\xAF", 2, false, FFFD FFFD);             /* overlong '/' */
    check_clean("\xE0\x80\xAF", 3, false, FFFD FFFD FFFD);    /* overlong, 3 bytes */
    check_clean("\xED\xA0\x80", 3, false, FFFD FFFD FFFD);    /* a surrogate */
    check_clean("\xF4\x90\x80\x80", 4, false, FFFD FFFD FFFD FFFD); /* past U+10FFFF */
    check_clean("\x80x", 2, false, FFFD "x");                 /* a lone continuation */
    check_clean("\xC3(", 2, false, FFFD "(");                  /* a broken sequence */
}

static void test_utf8_cut_at_the_end(void **state)
{
    (void)state;
    /* A limit cut a euro sign: dropped when cut, replaced when the output
     * really ended there. */
    check_clean("ab\xE2\x82", 4, true, "ab");
    check_clean("ab\xE2\x82", 4, false, "ab" FFFD FFFD);
    /* Only an incomplete sequence at the very end is the cut's. */
    check_clean("\xE2\x82z\xE2", 4, true, FFFD FFFD "z");
}

/* ---- first line ---- */

static void check_line(const char *in, size_t cap, const char *want)
{
    char out[256];
    assert_true(cap <= sizeof out);
    memset(out, 'Z', sizeof out);
    tempo__first_line(in, in ? strlen(in) : 0, out, cap);
    assert_string_equal(out, want);
}

static void test_first_line(void **state)
{
    (void)state;
    check_line(NULL, 64, "");
    check_line("", 64, "");
    check_line(" \n\t\r\n", 64, "");
    check_line("error: disk full\nmore\n", 64, "error: disk full");
    check_line("\n\n   indented problem  \r\nsecond", 64, "indented problem");
    check_line("tab\there\x1b[31m red", 64, "tab here [31m red");
    check_line("0123456789abcdef", 12, "01234567...");
    /* never cut inside a character */
    check_line("aaaaaa\xE2\x82\xAC\xE2\x82\xAC", 12, "aaaaaa...");
    check_line("abcdefgh", 3, "");
}

static void test_seconds_text(void **state)
{
    (void)state;
    char buf[32];
    tempo__seconds_text(TEMPO_SECONDS(5), buf, sizeof buf);
    assert_string_equal(buf, "5 s");
    tempo__seconds_text(250000, buf, sizeof buf);
    assert_string_equal(buf, "0.25 s");
    tempo__seconds_text(1500000, buf, sizeof buf);
    assert_string_equal(buf, "1.5 s");
    tempo__seconds_text(1999999, buf, sizeof buf);
    assert_string_equal(buf, "2 s");
    tempo__seconds_text(1234, buf, sizeof buf);
    assert_string_equal(buf, "0.001 s");
}

/* ---- results and messages ---- */

static tempo__process_report_t report(tempo__exit_how_t how, int code, const char *out, const char *err)
{
    tempo__process_report_t r = {.pid = 4242, .how = how, .code = code, .duration_us = 1500,
                                 .timeout = TEMPO_DURATION_NONE};
    r.out.data = (char *)out;
    r.out.len = out ? strlen(out) : 0;
    r.err.data = (char *)err;
    r.err.len = err ? strlen(err) : 0;
    return r;
}

static void check_failure(const tempo__process_report_t *r, const char *want)
{
    char msg[512];
    assert_false(tempo__process_succeeded(r));
    tempo__process_failure(r, msg, sizeof msg);
    assert_string_equal(msg, want);
}

static void test_failure_messages(void **state)
{
    (void)state;
    tempo__process_report_t r = report(TEMPO__EXIT_CODE, 3, "out", "\nrsync: connection refused\nmore");
    check_failure(&r, "exit status 3: rsync: connection refused");
    r = report(TEMPO__EXIT_CODE, 1, NULL, NULL);
    check_failure(&r, "exit status 1");
    r = report(TEMPO__EXIT_SIGNAL, SIGKILL, NULL, "");
    check_failure(&r, "killed by signal 9 (SIGKILL)");
    r = report(TEMPO__EXIT_SIGNAL, SIGTERM, NULL, "got TERM\n");
    r.timed_out = true;
    r.timeout = TEMPO_SECONDS(5);
    check_failure(&r, "timed out after 5 s; killed by signal 15 (SIGTERM): got TERM");
    /* A timeout fails the job even when the command then exits 0. */
    r = report(TEMPO__EXIT_CODE, 0, NULL, NULL);
    r.timed_out = true;
    r.timeout = 1500000;
    check_failure(&r, "timed out after 1.5 s; exit status 0");
    r = report(TEMPO__EXIT_UNKNOWN, 0, NULL, NULL);
    check_failure(&r, "exit status unknown (someone else reaped the child: SIGCHLD ignored, or a "
                      "waitpid(-1) elsewhere in the process)");
    /* An unnamed signal number still reads. */
    r = report(TEMPO__EXIT_SIGNAL, 200, NULL, NULL);
    char msg[512];
    tempo__process_failure(&r, msg, sizeof msg);
    assert_non_null(strstr(msg, "killed by signal 200"));
    /* A small buffer is cut, not overrun. */
    r = report(TEMPO__EXIT_CODE, 3, NULL, "a long explanation of what went wrong");
    memset(msg, 'Z', sizeof msg);
    tempo__process_failure(&r, msg, 16);
    assert_string_equal(msg, "exit status 3: ");
    assert_int_equal(msg[16], 'Z');
}

static void test_result_document(void **state)
{
    (void)state;
    tempo__process_report_t r = report(TEMPO__EXIT_CODE, 0, "hi\n", "warn \xFF\n");
    r.out.truncated = true;
    assert_true(tempo__process_succeeded(&r));
    bson_t doc = BSON_INITIALIZER;
    assert_int_equal(tempo__process_result_bson(&r, &doc), TEMPO_OK);
    char *json = bson_as_relaxed_extended_json(&doc, NULL);
    assert_string_equal(json, "{ \"exit_code\" : 0, \"stdout\" : \"hi\\n\", \"stdout_truncated\" : true, "
                              "\"stderr\" : \"warn \xEF\xBF\xBD\\n\", \"stderr_truncated\" : false, "
                              "\"duration_us\" : 1500, \"pid\" : 4242 }");
    bson_free(json);
    bson_destroy(&doc);
}

/* ---- capture on a real pipe ---- */

static void nonblocking_pipe(int p[2])
{
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

static void write_all(int fd, size_t n, char c)
{
    char buf[4096];
    memset(buf, c, sizeof buf);
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        assert_int_equal(write(fd, buf, k), (ssize_t)k);
        n -= k;
    }
}

static void test_capture_limit_and_eof(void **state)
{
    (void)state;
    int p[2];
    nonblocking_pipe(p);
    tempo__output_t o;
    tempo__output_init(&o, 10000);
    assert_int_equal(tempo__output_read(&o, p[0], 16), 0); /* nothing yet: would block */
    write_all(p[1], 6000, 'a');
    assert_int_equal(tempo__output_read(&o, p[0], 16), 0);
    assert_int_equal(o.len, 6000);
    assert_false(o.truncated);
    write_all(p[1], 6000, 'b'); /* 2000 over the limit: read and dropped */
    assert_int_equal(tempo__output_read(&o, p[0], 16), 0);
    assert_int_equal(o.len, 10000);
    assert_true(o.truncated);
    assert_int_equal(o.data[5999], 'a');
    assert_int_equal(o.data[6000], 'b');
    char probe;
    assert_int_equal(read(p[0], &probe, 1), -1); /* drained: the writer can go on */
    close(p[1]);
    assert_int_equal(tempo__output_read(&o, p[0], 16), 1); /* EOF */
    close(p[0]);
    tempo__output_free(&o);
    assert_null(o.data);
}

static void test_capture_read_budget(void **state)
{
    (void)state;
    int p[2];
    nonblocking_pipe(p);
    tempo__output_t o;
    tempo__output_init(&o, 0); /* keep nothing */
    write_all(p[1], 40000, 'x');
    /* One read takes at most 16 KiB when dropping: two reads leave some. */
    assert_int_equal(tempo__output_read(&o, p[0], 2), 0);
    assert_true(o.truncated);
    assert_int_equal(o.len, 0);
    char probe;
    assert_int_equal(read(p[0], &probe, 1), 1);
    close(p[1]);
    assert_int_equal(tempo__output_read(&o, p[0], 100), 1);
    close(p[0]);
    tempo__output_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_kept),
        cmocka_unit_test(test_utf8_invalid_replaced),
        cmocka_unit_test(test_utf8_cut_at_the_end),
        cmocka_unit_test(test_first_line),
        cmocka_unit_test(test_seconds_text),
        cmocka_unit_test(test_failure_messages),
        cmocka_unit_test(test_result_document),
        cmocka_unit_test(test_capture_limit_and_eof),
        cmocka_unit_test(test_capture_read_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
