/* `tempo add NAME TRIGGER COMMAND...`: a schedule in the store, run by the
 * `tempo run` daemons on it (under their generic task "run", run.h).
 *
 * TRIGGER is any trigger a schedule file accepts, and the options are the
 * file's settings; rather than a second reading of the same grammar, the
 * command line is written as a one-schedule file and read by the file's
 * parser (runfile.h):
 *
 *     NAME: "TRIGGER" COMMAND
 *       zone = ZONE                 (one line per option given)
 *
 * Quoted, the trigger may take every form (docs/run-file.md, "Inside
 * quotes"), and the parser's checks and messages are the file's. Its
 * "FILE:LINE:COLUMN: message" is then told in the command line's terms:
 * which argument, and the column within TRIGGER. Nothing reaches the store
 * before all of it was read without a mistake. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "run.h"
#include "runfile.h"

#define ADD_PATH "tempo-add" /* the file's name in the parser's messages */

/* The options that become setting lines, in this order. */
typedef struct add_setting {
    const char *flag; /* --zone */
    const char *key;  /* zone */
    const char *value;
} add_setting_t;

/* Where the parts of line 1 are, for messages (1-based columns). */
typedef struct add_text {
    char *text;
    size_t len;
    size_t trigger_open;  /* column of the opening quote */
    size_t trigger_len;
    add_setting_t settings[5];
    int nsettings;        /* line 2 + i is settings[i] */
} add_text_t;

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TEMPO__RUNFILE_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.' || *p == '-'))
            return false;
    return true;
}

/* Every argument ends up on one line of the file. */
static int one_line(const char *what, const char *value)
{
    if (strpbrk(value, "\r\n"))
        return tempo__cli_usage_error("add: %s must be one line", what);
    return TEMPO__CLI_OK;
}

static int check_args(const tempo__admin_args_t *args, char **command)
{
    *command = NULL;
    if (!name_ok(args->pos[0]))
        return tempo__cli_usage_error("add: NAME '%s': 1 to %d characters from A-Z a-z 0-9 _ . -", args->pos[0],
                                      TEMPO__RUNFILE_NAME_MAX);
    int rc = one_line("TRIGGER", args->pos[1]);
    size_t len = 0;
    for (int i = 0; i < args->nwords && rc == TEMPO__CLI_OK; i++) {
        rc = one_line("COMMAND", args->words[i]);
        len += strlen(args->words[i]) + 1;
    }
    if (rc != TEMPO__CLI_OK)
        return rc;
    /* The words joined by spaces, as a shell would see them (quote a
     * COMMAND whose spacing or quoting matters: it is one argument then). */
    if (!(*command = malloc(len)))
        return tempo__cli_failure("add: out of memory");
    (*command)[0] = '\0';
    for (int i = 0; i < args->nwords; i++) {
        if (i)
            strcat(*command, " ");
        strcat(*command, args->words[i]);
    }
    return TEMPO__CLI_OK;
}

static int build_text(const tempo__admin_args_t *args, const char *command, add_text_t *t)
{
    memset(t, 0, sizeof *t);
    const char *trigger = args->pos[1];
    char q = !strchr(trigger, '"') ? '"' : !strchr(trigger, '\'') ? '\'' : 0;
    if (!q)
        return tempo__cli_usage_error("add: TRIGGER '%s' holds both kinds of quotes", trigger);
    const add_setting_t all[] = {{"--zone", "zone", args->zone},
                                 {"--dst-gap", "dst_gap", args->dst_gap},
                                 {"--coalesce", "coalesce", args->coalesce},
                                 {"--misfire-grace", "misfire_grace", args->misfire_grace},
                                 {"--jitter", "jitter", args->jitter}};
    size_t size = strlen(args->pos[0]) + strlen(trigger) + strlen(command) + 16;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (!all[i].value)
            continue;
        int rc = one_line(all[i].flag, all[i].value);
        if (rc != TEMPO__CLI_OK)
            return rc;
        t->settings[t->nsettings++] = all[i];
        size += strlen(all[i].key) + strlen(all[i].value) + 8;
    }
    if (!(t->text = malloc(size)))
        return tempo__cli_failure("add: out of memory");
    int n = snprintf(t->text, size, "%s: %c%s%c %s\n", args->pos[0], q, trigger, q, command);
    t->trigger_open = strlen(args->pos[0]) + 3;
    t->trigger_len = strlen(trigger);
    for (int i = 0; i < t->nsettings && n > 0; i++)
        n += snprintf(t->text + n, size - (size_t)n, "  %s = %s\n", t->settings[i].key, t->settings[i].value);
    t->len = strlen(t->text);
    return TEMPO__CLI_OK;
}

/* The parser's message in the command line's terms. */
static int parse_error(const add_text_t *t, const tempo__admin_args_t *args, tempo_status_t st, const char *msg)
{
    if (st == TEMPO_ENOMEM)
        return tempo__cli_failure("add: out of memory");
    int line = 0, off = 0;
    size_t col = 0;
    const char *rest = msg + strlen(ADD_PATH ":");
    if (strncmp(msg, ADD_PATH ":", strlen(ADD_PATH ":")) != 0)
        return tempo__cli_usage_error("add: %s", msg);
    if (sscanf(rest, "%d:%zu: %n", &line, &col, &off) < 2 || off == 0)
        return tempo__cli_usage_error("add: %s", rest[0] == ' ' ? rest + 1 : rest);
    const char *why = rest + off;
    if (line >= 2 && line - 2 < t->nsettings)
        return tempo__cli_usage_error("add: %s: %s", t->settings[line - 2].flag, why);
    if (col < t->trigger_open)
        return tempo__cli_usage_error("add: NAME '%s': %s", args->pos[0], why);
    if (col > t->trigger_open + t->trigger_len + 1)
        return tempo__cli_usage_error("add: COMMAND: %s", why);
    if (col > t->trigger_open && col <= t->trigger_open + t->trigger_len)
        return tempo__cli_usage_error("add: TRIGGER '%s': %s (column %zu)", args->pos[1], why, col - t->trigger_open);
    return tempo__cli_usage_error("add: TRIGGER '%s': %s", args->pos[1], why);
}

/* ---- the store ---- */

typedef struct added {
    tempo__admin_t *a;
    tempo_status_t status;
    tempo_error_t err;
} added_t;

static void on_added(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)id;
    added_t *q = ud;
    q->a->pending--;
    q->status = status;
    if (err)
        q->err = *err;
}

/* This scheduler registers the task too: add_schedule accepts schedules of
 * registered tasks only. It never runs it (it is never started). */
static int store_schedule(tempo__admin_t *a, const tempo__runfile_entry_t *e)
{
    int rc = tempo__admin_connect(a);
    if (rc != TEMPO__CLI_OK)
        return rc;
    tempo_error_t err;
    tempo_process_task_options_t task = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    task.id = TEMPO__RUN_GENERIC_TASK;
    task.max_running_jobs = 0;
    tempo_status_t st = tempo_scheduler_add_process_task(a->s, &task, &err);
    if (st != TEMPO_OK)
        return tempo__admin_fail(a, st, &err, "registering the task " TEMPO__RUN_GENERIC_TASK);
    bson_t args = BSON_INITIALIZER, meta = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&args, "command", e->command);
    BSON_APPEND_UTF8(&meta, "source", TEMPO__ADD_SOURCE);
    BSON_APPEND_UTF8(&meta, "trigger", e->trigger_text);
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = e->name;
    o.task_id = TEMPO__RUN_GENERIC_TASK;
    o.trigger = e->trigger;
    o.args = &args;
    o.coalesce = e->coalesce;
    o.misfire_grace_time = e->misfire_grace;
    o.max_jitter = e->jitter;
    o.conflict = TEMPO_CONFLICT_ERROR;
    o.job_result_expiration = TEMPO__RUN_RESULT_KEEP;
    o.metadata = &meta;
    added_t q = {.a = a};
    st = tempo_scheduler_add_schedule(a->s, &o, on_added, &q, &err);
    bson_destroy(&args);
    bson_destroy(&meta);
    if (st != TEMPO_OK)
        return tempo__admin_fail(a, st, &err, e->name);
    a->pending++;
    tempo__admin_wait(a);
    if (q.status == TEMPO_EEXIST)
        return tempo__cli_usage_error("add: a schedule named '%s' exists already (see 'tempo show %s'; 'tempo rm "
                                      "%s' removes it)",
                                      e->name, e->name, e->name);
    return q.status == TEMPO_OK ? TEMPO__CLI_OK : tempo__admin_fail(a, q.status, &q.err, e->name);
}

static int print(tempo__admin_t *a, const char *name)
{
    tempo__admin_schedule_t *s;
    size_t n;
    int rc = tempo__admin_get_schedules(a, name, &s, &n);
    if (rc != TEMPO__CLI_OK)
        return rc;
    char trig[TEMPO__ADMIN_TEXT_MAX], next[TEMPO__ADMIN_TEXT_MAX];
    if (a->json) {
        tempo__json_t j;
        tempo__json_init(&j, stdout);
        tempo__admin_json_schedule(a, &j, NULL, s);
        tempo__json_finish(&j);
    } else {
        printf("added %s: %s (next %s)\n", s->id, tempo__admin_trigger_text(s, trig),
               s->next_fire_time == TEMPO_TIME_NONE ? "none" : tempo__admin_time(a, s->next_fire_time, next));
    }
    tempo__admin_schedules_free(s, n);
    return tempo__cli_finish_output();
}

int tempo__admin_add(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    char *command;
    int rc = check_args(args, &command);
    add_text_t t = {0};
    if (rc == TEMPO__CLI_OK)
        rc = build_text(args, command, &t);
    tempo__runfile_t file = {0};
    if (rc == TEMPO__CLI_OK) {
        char msg[1024];
        tempo_status_t st = tempo__runfile_parse(ADD_PATH, t.text, t.len, &file, msg, sizeof msg);
        if (st != TEMPO_OK)
            rc = parse_error(&t, args, st, msg);
    }
    if (rc == TEMPO__CLI_OK)
        rc = store_schedule(a, &file.entries[0]);
    if (rc == TEMPO__CLI_OK)
        rc = print(a, args->pos[0]);
    tempo__runfile_free(&file);
    free(t.text);
    free(command);
    return rc;
}
