/* The `tempo` command: picks the subcommand and runs it.
 *
 *   tempo next [OPTIONS] EXPRESSION      tempo explain [OPTIONS] EXPRESSION
 *   tempo run [OPTIONS] FILE             tempo ls|show|add|pause|resume|rm|run-now|results
 *   tempo help [COMMAND]                 tempo --help | --version
 *
 * Usage errors are one line on stderr with exit code 2 (cli.h); help goes to
 * stdout with exit code 0, and only when asked for. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "run.h"

static const tempo__cli_command_t commands[] = {
    {"next",
     TEMPO__CLI_OPT_COUNT | TEMPO__CLI_OPT_TZ | TEMPO__CLI_OPT_AFTER | TEMPO__CLI_OPT_DST_GAP |
         TEMPO__CLI_OPT_FIELDS,
     tempo__cli_usage_next, tempo__cli_run_next},
    {"explain",
     TEMPO__CLI_OPT_TZ | TEMPO__CLI_OPT_AFTER | TEMPO__CLI_OPT_DST_GAP | TEMPO__CLI_OPT_FIELDS,
     tempo__cli_usage_explain, tempo__cli_run_explain},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const tempo__cli_command_t *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static int print_usage(const char *text)
{
    fputs(text, stdout);
    return tempo__cli_finish_output();
}

static int unknown_command(const char *name)
{
    if (name[0] == '-')
        return tempo__cli_usage_error("unknown option '%s' before the COMMAND (see 'tempo --help')",
                                      name);
    return tempo__cli_usage_error("unknown command '%s' (see 'tempo --help')", name);
}

/* argv[0] is the command's name. */
static int run_command(const tempo__cli_command_t *cmd, int argc, char **argv)
{
    tempo__cli_options_t opts;
    int rc = tempo__cli_options_parse(cmd, argc, argv, &opts);
    if (rc != TEMPO__CLI_OK)
        return rc;
    if (opts.help) {
        rc = print_usage(cmd->usage);
    } else {
        tempo__cli_setup_t setup;
        rc = tempo__cli_setup(&opts, &setup);
        if (rc == TEMPO__CLI_OK)
            rc = cmd->run(&opts, &setup);
        tempo__cli_setup_free(&setup);
    }
    tempo__cli_options_free(&opts);
    return rc;
}

/* "tempo help" and "tempo help COMMAND"; argv[0] is "help". */
static int run_help(int argc, char **argv)
{
    if (argc > 2)
        return tempo__cli_usage_error("help takes at most one COMMAND (see 'tempo --help')");
    if (argc == 1 || strcmp(argv[1], "help") == 0)
        return print_usage(tempo__cli_usage_main);
    if (strcmp(argv[1], "run") == 0)
        return print_usage(tempo__cli_usage_run);
    if (tempo__admin_is_command(argv[1]))
        return print_usage(tempo__admin_usage(argv[1]));
    const tempo__cli_command_t *cmd = find_command(argv[1]);
    return cmd ? print_usage(cmd->usage) : unknown_command(argv[1]);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tempo__cli_usage_error("missing COMMAND (see 'tempo --help')");
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0)
        return print_usage(tempo__cli_usage_main);
    if (strcmp(first, "--version") == 0) {
        printf("tempo %s\n", TEMPO_VERSION_STRING);
        return tempo__cli_finish_output();
    }
    if (strcmp(first, "help") == 0)
        return run_help(argc - 1, argv + 1);
    if (strcmp(first, "run") == 0)
        return tempo__cli_cmd_run(argc - 1, argv + 1);
    if (tempo__admin_is_command(first))
        return tempo__admin_main(argc - 1, argv + 1);
    const tempo__cli_command_t *cmd = find_command(first);
    return cmd ? run_command(cmd, argc - 1, argv + 1) : unknown_command(first);
}
