/* What a job runs: the program and arguments, and the environment.
 *
 * The task gives defaults (a shell line or an argv, extra NAME=value
 * entries); a job's args may replace the command and set or unset
 * variables. Args are strict: an unknown key or a value of the wrong type
 * fails the job with a message naming it, since running something other
 * than what the schedule's author meant is worse than not running. */
#include <stdlib.h>
#include <string.h>

#include "process_internal.h"
#include "util/error_internal.h"

extern char **environ;

/* ---- string vectors ---- */

size_t tempo__strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void tempo__strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

char **tempo__strv_dup(const char *const *v)
{
    size_t n = tempo__strv_len(v);
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = strdup(v[i]))) {
            tempo__strv_free(out);
            return NULL;
        }
    }
    return out;
}

/* A growable vector under construction (NULL-terminated at all times). */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv_t;

static bool strv_push(strv_t *s, char *item)
{
    if (!item)
        return false;
    if (s->n + 1 >= s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            free(item);
            return false;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = item;
    s->v[s->n] = NULL;
    return true;
}

static void strv_clear(strv_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (strv_t){0};
}

/* ---- the environment ---- */

/* The index of NAME= in env, or n. */
static size_t env_find(const strv_t *env, const char *name, size_t name_len)
{
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], name, name_len) == 0 && env->v[i][name_len] == '=')
            return i;
    return env->n;
}

/* Set NAME=value (entry is "NAME=value", taken) or, with value NULL and
 * entry NULL, unset NAME. */
static bool env_put(strv_t *env, const char *name, size_t name_len, char *entry)
{
    size_t i = env_find(env, name, name_len);
    if (i < env->n) {
        free(env->v[i]);
        if (entry) {
            env->v[i] = entry;
            return true;
        }
        memmove(&env->v[i], &env->v[i + 1], (env->n - i) * sizeof env->v[0]); /* with the NULL */
        env->n--;
        return true;
    }
    return entry ? strv_push(env, entry) : true;
}

static char *env_entry(const char *name, size_t name_len, const char *value, size_t value_len)
{
    char *e = malloc(name_len + value_len + 2);
    if (e) {
        memcpy(e, name, name_len);
        e[name_len] = '=';
        memcpy(e + name_len + 1, value, value_len);
        e[name_len + 1 + value_len] = '\0';
    }
    return e;
}

static bool env_base(strv_t *env, char *const *task_env)
{
    for (char **e = environ; e && *e; e++)
        if (!strv_push(env, strdup(*e)))
            return false;
    for (size_t i = 0; task_env && task_env[i]; i++) {
        const char *eq = strchr(task_env[i], '=');
        if (!env_put(env, task_env[i], (size_t)(eq - task_env[i]), strdup(task_env[i])))
            return false;
    }
    return true;
}

/* args.env: {NAME: "value" | null, ...} */
static tempo_status_t env_apply(strv_t *env, const bson_iter_t *doc_it, tempo_error_t *err)
{
    bson_iter_t it;
    if (!BSON_ITER_HOLDS_DOCUMENT(doc_it) || !bson_iter_recurse(doc_it, &it))
        return tempo__error_set(err, TEMPO_EINVAL, "args.env must be a document of NAME: \"value\" (or null)");
    while (bson_iter_next(&it)) {
        const char *name = bson_iter_key(&it);
        size_t name_len = strlen(name);
        if (name_len == 0 || strchr(name, '='))
            return tempo__error_set(err, TEMPO_EINVAL, "args.env: '%s' is not a variable name", name);
        if (BSON_ITER_HOLDS_NULL(&it)) {
            env_put(env, name, name_len, NULL);
            continue;
        }
        uint32_t len = 0;
        const char *value = BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, &len) : NULL;
        if (!value)
            return tempo__error_set(err, TEMPO_EINVAL, "args.env.%s must be a string or null", name);
        if (memchr(value, '\0', len))
            return tempo__error_set(err, TEMPO_EINVAL, "args.env.%s contains a NUL byte", name);
        if (!env_put(env, name, name_len, env_entry(name, name_len, value, len)))
            return tempo__error_set(err, TEMPO_ENOMEM, "args.env.%s: out of memory", name);
    }
    return TEMPO_OK;
}

/* ---- the command ---- */

static tempo_status_t shell_argv(strv_t *argv, const char *line, tempo_error_t *err)
{
    if (!strv_push(argv, strdup("/bin/sh")) || !strv_push(argv, strdup("-c")) || !strv_push(argv, strdup(line)))
        return tempo__error_set(err, TEMPO_ENOMEM, "command: out of memory");
    return TEMPO_OK;
}

/* args.command: a non-empty string. */
static tempo_status_t args_command(strv_t *argv, const bson_iter_t *it, tempo_error_t *err)
{
    uint32_t len = 0;
    const char *line = BSON_ITER_HOLDS_UTF8(it) ? bson_iter_utf8(it, &len) : NULL;
    if (!line || len == 0)
        return tempo__error_set(err, TEMPO_EINVAL, "args.command must be a non-empty string");
    if (memchr(line, '\0', len))
        return tempo__error_set(err, TEMPO_EINVAL, "args.command contains a NUL byte");
    return shell_argv(argv, line, err);
}

/* args.argv: a non-empty array of strings. */
static tempo_status_t args_argv(strv_t *argv, const bson_iter_t *arr_it, tempo_error_t *err)
{
    bson_iter_t it;
    if (!BSON_ITER_HOLDS_ARRAY(arr_it) || !bson_iter_recurse(arr_it, &it))
        return tempo__error_set(err, TEMPO_EINVAL, "args.argv must be an array of strings");
    for (size_t i = 0; bson_iter_next(&it); i++) {
        uint32_t len = 0;
        const char *s = BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, &len) : NULL;
        if (!s)
            return tempo__error_set(err, TEMPO_EINVAL, "args.argv[%zu] is not a string", i);
        if (memchr(s, '\0', len))
            return tempo__error_set(err, TEMPO_EINVAL, "args.argv[%zu] contains a NUL byte", i);
        if (!strv_push(argv, strdup(s)))
            return tempo__error_set(err, TEMPO_ENOMEM, "args.argv: out of memory");
    }
    if (argv->n == 0 || argv->v[0][0] == '\0')
        return tempo__error_set(err, TEMPO_EINVAL, "args.argv must start with a program name");
    return TEMPO_OK;
}

/* Find the keys first, so that conflicts and typos fail before any work. */
typedef struct args_keys {
    bson_iter_t command, argv, env;
    bool has_command, has_argv, has_env;
} args_keys_t;

static tempo_status_t args_scan(const bson_t *args, args_keys_t *k, tempo_error_t *err)
{
    *k = (args_keys_t){0};
    bson_iter_t it;
    if (!args || !bson_iter_init(&it, args))
        return TEMPO_OK;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (strcmp(key, "command") == 0) {
            k->command = it;
            k->has_command = true;
        } else if (strcmp(key, "argv") == 0) {
            k->argv = it;
            k->has_argv = true;
        } else if (strcmp(key, "env") == 0) {
            k->env = it;
            k->has_env = true;
        } else {
            return tempo__error_set(err, TEMPO_EINVAL, "args: unknown key '%s' (expected command, argv or env)",
                                    key);
        }
    }
    if (k->has_command && k->has_argv)
        return tempo__error_set(err, TEMPO_EINVAL, "args: give either command or argv, not both");
    return TEMPO_OK;
}

static tempo_status_t build_argv(strv_t *argv, const char *command, char *const *task_argv,
                                 const args_keys_t *k, tempo_error_t *err)
{
    if (k->has_command)
        return args_command(argv, &k->command, err);
    if (k->has_argv)
        return args_argv(argv, &k->argv, err);
    if (command)
        return shell_argv(argv, command, err);
    if (task_argv) {
        for (size_t i = 0; task_argv[i]; i++)
            if (!strv_push(argv, strdup(task_argv[i])))
                return tempo__error_set(err, TEMPO_ENOMEM, "argv: out of memory");
        return TEMPO_OK;
    }
    return tempo__error_set(err, TEMPO_EINVAL,
                            "no command: the task has none, and args give neither command nor argv");
}

tempo_status_t tempo__process_cmd_build(const char *command, char *const *task_argv, char *const *task_env,
                                        const bson_t *args, tempo__process_cmd_t *out, tempo_error_t *err)
{
    *out = (tempo__process_cmd_t){0};
    args_keys_t k;
    tempo_status_t rc = args_scan(args, &k, err);
    strv_t argv = {0}, env = {0};
    if (rc == TEMPO_OK)
        rc = build_argv(&argv, command, task_argv, &k, err);
    if (rc == TEMPO_OK && !env_base(&env, task_env))
        rc = tempo__error_set(err, TEMPO_ENOMEM, "environment: out of memory");
    if (rc == TEMPO_OK && k.has_env)
        rc = env_apply(&env, &k.env, err);
    /* An empty environment is still an array. */
    if (rc == TEMPO_OK && !env.v && !(env.v = calloc(1, sizeof *env.v)))
        rc = tempo__error_set(err, TEMPO_ENOMEM, "environment: out of memory");
    if (rc != TEMPO_OK) {
        strv_clear(&argv);
        strv_clear(&env);
        return rc;
    }
    out->argv = argv.v;
    out->envp = env.v;
    return TEMPO_OK;
}

void tempo__process_cmd_clear(tempo__process_cmd_t *cmd)
{
    tempo__strv_free(cmd->argv);
    tempo__strv_free(cmd->envp);
    *cmd = (tempo__process_cmd_t){0};
}

tempo_status_t tempo__process_defaults_check(const char *command, const char *const *argv,
                                             const char *const *env, tempo_error_t *err)
{
    if (command && argv)
        return tempo__error_set(err, TEMPO_EINVAL, "give at most one of command and argv");
    if (command && !command[0])
        return tempo__error_set(err, TEMPO_EINVAL, "command is empty");
    if (argv && (!argv[0] || !argv[0][0]))
        return tempo__error_set(err, TEMPO_EINVAL, "argv must start with a program name");
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || eq == env[i])
            return tempo__error_set(err, TEMPO_EINVAL, "env[%zu] '%.60s' is not NAME=value", i, env[i]);
    }
    return TEMPO_OK;
}
