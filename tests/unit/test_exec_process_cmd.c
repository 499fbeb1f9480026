/* What a process job runs (lib/exec/process_cmd.c): the task's command or
 * argv unless a job's args override it, and the environment built from this
 * process's, the task's entries and the job's "env" (set or unset). Bad
 * args fail with a message naming the key, and build nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exec/process_internal.h"

static bson_t *json(const char *text)
{
    bson_error_t berr;
    bson_t *b = bson_new_from_json((const uint8_t *)text, -1, &berr);
    if (!b)
        fail_msg("bad test JSON %s: %s", text, berr.message);
    return b;
}

/* The value of NAME in envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

static int env_count(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    int c = 0;
    for (size_t i = 0; envp[i]; i++)
        c += strncmp(envp[i], name, n) == 0 && envp[i][n] == '=';
    return c;
}

static void check_argv(char *const *argv, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
}

/* Build with args from JSON (NULL: none); expect success. */
static void build_ok(const char *command, char *const *argv, char *const *env, const char *args_json,
                     tempo__process_cmd_t *out)
{
    bson_t *args = args_json ? json(args_json) : NULL;
    tempo_error_t err = {0};
    tempo_status_t rc = tempo__process_cmd_build(command, argv, env, args, out, &err);
    if (rc != TEMPO_OK)
        fail_msg("build: %s", err.message);
    if (args)
        bson_destroy(args);
}

static void build_fails(const char *command, const char *args_json, const char *want)
{
    bson_t *args = args_json ? json(args_json) : NULL;
    tempo_error_t err = {0};
    tempo__process_cmd_t out = {(char **)1, (char **)1};
    assert_int_equal(tempo__process_cmd_build(command, NULL, NULL, args, &out, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, want);
    assert_null(out.argv);
    assert_null(out.envp);
    if (args)
        bson_destroy(args);
}

static void test_task_command_is_a_shell_line(void **state)
{
    (void)state;
    tempo__process_cmd_t c;
    build_ok("echo $HOME | wc -c", NULL, NULL, NULL, &c);
    check_argv(c.argv, (const char *const[]){"/bin/sh", "-c", "echo $HOME | wc -c", NULL});
    tempo__process_cmd_clear(&c);
    assert_null(c.argv);
}

static void test_task_argv_runs_directly(void **state)
{
    (void)state;
    char *argv[] = {"rsync", "-a", "src dir/", NULL};
    tempo__process_cmd_t c;
    build_ok(NULL, argv, NULL, "{}", &c);
    check_argv(c.argv, (const char *const[]){"rsync", "-a", "src dir/", NULL});
    tempo__process_cmd_clear(&c);
}

static void test_args_override(void **state)
{
    (void)state;
    char *argv[] = {"default", NULL};
    tempo__process_cmd_t c;
    build_ok("default line", NULL, NULL, "{\"command\": \"from args\"}", &c);
    check_argv(c.argv, (const char *const[]){"/bin/sh", "-c", "from args", NULL});
    tempo__process_cmd_clear(&c);
    build_ok(NULL, argv, NULL, "{\"argv\": [\"/bin/echo\", \"a\", \"\"]}", &c);
    check_argv(c.argv, (const char *const[]){"/bin/echo", "a", "", NULL});
    tempo__process_cmd_clear(&c);
}

static void test_environment(void **state)
{
    (void)state;
    setenv("TEMPO_TEST_INHERITED", "yes", 1);
    setenv("TEMPO_TEST_DROPPED", "x", 1);
    setenv("TEMPO_TEST_TASK", "from process", 1);
    char *env[] = {"TEMPO_TEST_TASK=from task", "TEMPO_TEST_NEW=a=b", NULL};
    tempo__process_cmd_t c;
    build_ok("true", NULL, env,
             "{\"env\": {\"TEMPO_TEST_JOB\": \"job\", \"TEMPO_TEST_DROPPED\": null, \"TEMPO_TEST_ABSENT\": null,"
             " \"TEMPO_TEST_NEW\": \"\"}}",
             &c);
    assert_string_equal(env_get(c.envp, "TEMPO_TEST_INHERITED"), "yes");
    assert_string_equal(env_get(c.envp, "TEMPO_TEST_TASK"), "from task");
    assert_int_equal(env_count(c.envp, "TEMPO_TEST_TASK"), 1);
    assert_string_equal(env_get(c.envp, "TEMPO_TEST_JOB"), "job");
    assert_string_equal(env_get(c.envp, "TEMPO_TEST_NEW"), "");
    assert_null(env_get(c.envp, "TEMPO_TEST_DROPPED"));
    assert_null(env_get(c.envp, "TEMPO_TEST_ABSENT"));
    /* The process's own environment is untouched. */
    assert_string_equal(getenv("TEMPO_TEST_DROPPED"), "x");
    assert_string_equal(getenv("TEMPO_TEST_TASK"), "from process");
    tempo__process_cmd_clear(&c);
    unsetenv("TEMPO_TEST_INHERITED");
    unsetenv("TEMPO_TEST_DROPPED");
    unsetenv("TEMPO_TEST_TASK");
}

static void test_bad_args(void **state)
{
    (void)state;
    build_fails(NULL, NULL, "no command: the task has none, and args give neither command nor argv");
    build_fails(NULL, "{\"env\": {}}", "no command: the task has none, and args give neither command nor argv");
    build_fails("x", "{\"comand\": \"typo\"}", "args: unknown key 'comand' (expected command, argv or env)");
    build_fails("x", "{\"command\": \"a\", \"argv\": [\"b\"]}", "args: give either command or argv, not both");
    build_fails("x", "{\"command\": 5}", "args.command must be a non-empty string");
    build_fails("x", "{\"command\": \"\"}", "args.command must be a non-empty string");
    build_fails("x", "{\"argv\": \"ls -l\"}", "args.argv must be an array of strings");
    build_fails("x", "{\"argv\": []}", "args.argv must start with a program name");
    build_fails("x", "{\"argv\": [\"\"]}", "args.argv must start with a program name");
    build_fails("x", "{\"argv\": [\"ls\", 1]}", "args.argv[1] is not a string");
    build_fails("x", "{\"env\": [\"A=1\"]}", "args.env must be a document of NAME: \"value\" (or null)");
    build_fails("x", "{\"env\": {\"A\": 1}}", "args.env.A must be a string or null");
    build_fails("x", "{\"env\": {\"A=B\": \"1\"}}", "args.env: 'A=B' is not a variable name");
    build_fails("x", "{\"env\": {\"\": \"1\"}}", "args.env: '' is not a variable name");
    build_fails("x", "{\"command\": \"a\\u0000b\"}", "args.command contains a NUL byte");
    build_fails("x", "{\"argv\": [\"a\\u0000b\"]}", "args.argv[0] contains a NUL byte");
    build_fails("x", "{\"env\": {\"A\": \"a\\u0000b\"}}", "args.env.A contains a NUL byte");
}

static void test_defaults_check(void **state)
{
    (void)state;
    tempo_error_t err = {0};
    const char *const argv[] = {"ls", NULL}, *const empty_argv[] = {NULL}, *const blank_argv[] = {"", NULL};
    const char *const env_ok[] = {"A=1", "B=", NULL}, *const env_bad[] = {"A=1", "NOEQUALS", NULL};
    assert_int_equal(tempo__process_defaults_check(NULL, NULL, NULL, &err), TEMPO_OK);
    assert_int_equal(tempo__process_defaults_check("ls", NULL, env_ok, &err), TEMPO_OK);
    assert_int_equal(tempo__process_defaults_check(NULL, argv, NULL, &err), TEMPO_OK);
    assert_int_equal(tempo__process_defaults_check("ls", argv, NULL, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "give at most one of command and argv");
    assert_int_equal(tempo__process_defaults_check("", NULL, NULL, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "command is empty");
    assert_int_equal(tempo__process_defaults_check(NULL, empty_argv, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo__process_defaults_check(NULL, blank_argv, NULL, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "argv must start with a program name");
    assert_int_equal(tempo__process_defaults_check(NULL, NULL, env_bad, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "env[1] 'NOEQUALS' is not NAME=value");
}

static void test_strv(void **state)
{
    (void)state;
    const char *const v[] = {"a", "bc", "", NULL};
    char **d = tempo__strv_dup(v);
    assert_non_null(d);
    assert_int_equal(tempo__strv_len((const char *const *)d), 3);
    check_argv(d, v);
    tempo__strv_free(d);
    char **e = tempo__strv_dup(NULL);
    assert_non_null(e);
    assert_null(e[0]);
    tempo__strv_free(e);
    tempo__strv_free(NULL);
    assert_int_equal(tempo__strv_len(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_command_is_a_shell_line),
        cmocka_unit_test(test_task_argv_runs_directly),
        cmocka_unit_test(test_args_override),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_defaults_check),
        cmocka_unit_test(test_strv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
