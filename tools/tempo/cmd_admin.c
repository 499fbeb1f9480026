/* The store administration commands: their table, their options, and the
 * one entry point main.c calls (admin.h).
 *
 * Every command takes --store URI, --json and --help; some take more (the
 * table says which). Options may come before or after the positional words
 * — except for add, whose COMMAND runs to the end of the line: from its
 * first word on, nothing is an option (so `tempo add x @daily ls -l` runs
 * `ls -l`). "--" ends the options anywhere. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

typedef struct admin_cmd {
    const char *name;
    unsigned options; /* TEMPO__ADMIN_OPT_* */
    int min_pos, max_pos;
    bool command_words; /* add: COMMAND... after the positional words */
    const char *usage;
    int (*run)(tempo__admin_t *a, const tempo__admin_args_t *args);
} admin_cmd_t;

static const admin_cmd_t commands[] = {
    {"ls", 0, 0, 0, false, tempo__admin_usage_ls, tempo__admin_ls},
    {"show", 0, 1, 1, false, tempo__admin_usage_show, tempo__admin_show},
    {"add", TEMPO__ADMIN_OPT_ADD, 2, 2, true, tempo__admin_usage_add, tempo__admin_add},
    {"pause", 0, 1, 1, false, tempo__admin_usage_pause, tempo__admin_pause},
    {"resume", 0, 1, 1, false, tempo__admin_usage_resume, tempo__admin_resume},
    {"rm", 0, 1, 1, false, tempo__admin_usage_rm, tempo__admin_rm},
    {"run-now", 0, 1, 1, false, tempo__admin_usage_run_now, tempo__admin_run_now},
    {"results", TEMPO__ADMIN_OPT_COUNT, 0, 1, false, tempo__admin_usage_results, tempo__admin_results},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const admin_cmd_t *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool tempo__admin_is_command(const char *name)
{
    return find(name) != NULL;
}

const char *tempo__admin_usage(const char *name)
{
    const admin_cmd_t *c = find(name);
    return c ? c->usage : NULL;
}

/* The slot of an option that takes a value, or NULL. */
static const char **value_slot(const admin_cmd_t *c, tempo__admin_args_t *a, const char *arg)
{
    if (strcmp(arg, "--store") == 0)
        return &a->store;
    if (!(c->options & TEMPO__ADMIN_OPT_ADD))
        return NULL;
    if (strcmp(arg, "--zone") == 0)
        return &a->zone;
    if (strcmp(arg, "--dst-gap") == 0)
        return &a->dst_gap;
    if (strcmp(arg, "--coalesce") == 0)
        return &a->coalesce;
    if (strcmp(arg, "--misfire-grace") == 0)
        return &a->misfire_grace;
    if (strcmp(arg, "--jitter") == 0)
        return &a->jitter;
    return NULL;
}

static int parse_count(const char *cmd, const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < TEMPO__CLI_COUNT_MIN || v > TEMPO__CLI_COUNT_MAX)
        return tempo__cli_usage_error("%s: -n '%s': give a count from %d to %d", cmd, text, TEMPO__CLI_COUNT_MIN,
                                      TEMPO__CLI_COUNT_MAX);
    *out = (int)v;
    return TEMPO__CLI_OK;
}

/* A word that is not an option: a positional one, or the COMMAND's first. */
static int positional(const admin_cmd_t *c, tempo__admin_args_t *a, int argc, char **argv, int *i)
{
    if (a->npos < c->max_pos) {
        a->pos[a->npos++] = argv[*i];
        return TEMPO__CLI_OK;
    }
    if (c->command_words) {
        a->words = argv + *i;
        a->nwords = argc - *i;
        *i = argc;
        return TEMPO__CLI_OK;
    }
    return tempo__cli_usage_error("%s: unexpected '%s' (see 'tempo %s --help')", c->name, argv[*i], c->name);
}

/* One option at argv[*i]; moves *i past its value. */
static int option(const admin_cmd_t *c, tempo__admin_args_t *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--json") == 0) {
        a->json = true;
        return TEMPO__CLI_OK;
    }
    bool count = (c->options & TEMPO__ADMIN_OPT_COUNT) && (strcmp(arg, "-n") == 0 || strcmp(arg, "--count") == 0);
    const char **slot = count ? NULL : value_slot(c, a, arg);
    if (!count && !slot)
        return tempo__cli_usage_error("%s: unknown option '%s' (see 'tempo %s --help')", c->name, arg, c->name);
    if (*i + 1 >= argc)
        return tempo__cli_usage_error("%s: %s needs a value", c->name, arg);
    const char *value = argv[++*i];
    if (count)
        return a->count ? tempo__cli_usage_error("%s: %s given twice", c->name, arg)
                        : parse_count(c->name, value, &a->count);
    if (*slot)
        return tempo__cli_usage_error("%s: %s given twice", c->name, arg);
    *slot = value;
    return TEMPO__CLI_OK;
}

static int parse(const admin_cmd_t *c, int argc, char **argv, tempo__admin_args_t *a)
{
    memset(a, 0, sizeof *a);
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_end && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            a->help = true;
            return TEMPO__CLI_OK;
        }
        int rc;
        if (!options_end && strcmp(arg, "--") == 0) {
            options_end = true;
            continue;
        }
        if (!options_end && arg[0] == '-' && arg[1] != '\0')
            rc = option(c, a, argc, argv, &i);
        else
            rc = positional(c, a, argc, argv, &i);
        if (rc != TEMPO__CLI_OK)
            return rc;
    }
    if (a->npos < c->min_pos || (c->command_words && a->nwords == 0))
        return tempo__cli_usage_error("%s: missing %s (see 'tempo %s --help')", c->name,
                                      a->npos == 0 ? "NAME" : a->npos == 1 ? "TRIGGER" : "COMMAND", c->name);
    return TEMPO__CLI_OK;
}

int tempo__admin_main(int argc, char **argv)
{
    const admin_cmd_t *c = find(argv[0]);
    if (!c)
        return tempo__cli_usage_error("unknown command '%s' (see 'tempo --help')", argv[0]);
    tempo__admin_args_t args;
    int rc = parse(c, argc, argv, &args);
    if (rc != TEMPO__CLI_OK)
        return rc;
    if (args.help) {
        fputs(c->usage, stdout);
        return tempo__cli_finish_output();
    }
    tempo__admin_t a;
    tempo__admin_init(&a, c->name, &args);
    rc = c->run(&a, &args);
    tempo__admin_close(&a);
    return rc;
}
