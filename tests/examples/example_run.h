/* Running an example program as a user runs it, for the example tests:
 * spawned without a shell, stdin from /dev/null, stdout and stderr captured
 * whole, bounded in time. Include after <cmocka.h>'s prerequisites; failures
 * are cmocka failures of the calling test. */
#ifndef TEMPO_EXAMPLE_RUN_H
#define TEMPO_EXAMPLE_RUN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct example_run {
    char *out, *err; /* NUL-terminated captures */
    size_t out_len, err_len;
    int code;        /* exit code; 128 + signal when killed */
} example_run_t;

typedef struct example_spawn {
    const char *const *argv;  /* argv[0] is the program's path; NULL-terminated */
    const char *const *env;   /* changes to this process's environment: "NAME=VALUE"
                               * sets or replaces, a bare "NAME" removes;
                               * NULL-terminated; NULL = none */
    const char *interrupt_on; /* send SIGINT once when stdout contains this; NULL = never */
    int timeout_s;            /* the program is killed (and the test fails) after this */
} example_spawn_t;

/* Run it to the end. The caller frees the captures with example_run_free. */
void example_run(example_run_t *r, const example_spawn_t *how);
void example_run_free(example_run_t *r);

/* Lines of `text` that contain `a`, and `b` too unless b is NULL. */
int example_count_lines(const char *text, const char *a, const char *b);

/* Fails the test, showing the text, when `needle` is not in it. */
void example_expect_in(const char *text, const char *needle);

/* Fails the test, showing the whole run: exit code, stderr, stdout. */
void example_fail_run(const example_run_t *r);

/* A copy of the environment entry NAME=VALUE with `extra` appended to the
 * current value (separated by `sep`), or just NAME=extra when unset; in a
 * static buffer, valid until the next call. For ASAN_OPTIONS and the like. */
const char *example_env_append(const char *name, const char *extra, char sep);

#endif
