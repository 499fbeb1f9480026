/* The `tempo` command: declarations shared by its source files.
 *
 *   main.c         picks the subcommand, handles --help / --version
 *   options.c      turns argv into a tempo__cli_options_t (syntax only)
 *   resolve.c      turns options into a zone, a start time and a trigger
 *   fire.c         steps through fire times
 *   cmd_next.c     `tempo next`
 *   cmd_explain.c  `tempo explain`
 *   usage.c        help texts
 *   diag.c         the one-line error messages and the exit codes
 *
 * Every failure is reported once, by the function that detects it, as one
 * line "tempo: ..." on stderr; callers only pass the exit code up. */
#ifndef TEMPO_TOOLS_CLI_H
#define TEMPO_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <tempo/tempo.h>

/* Exit codes (docs/cli.md). */
enum {
    TEMPO__CLI_OK = 0,
    TEMPO__CLI_FAILURE = 1, /* the system failed us: out of memory, write error */
    TEMPO__CLI_USAGE = 2    /* bad command, option, expression, zone or time */
};

/* Bounds of -n. The upper bound keeps one run quick and its output readable;
 * it is also what makes the fire-time loop trivially bounded. */
#define TEMPO__CLI_COUNT_MIN 1
#define TEMPO__CLI_COUNT_MAX 10000
#define TEMPO__CLI_COUNT_DEFAULT 5

/* Options a subcommand may accept (a bit set). */
enum {
    TEMPO__CLI_OPT_COUNT = 1 << 0,   /* -n COUNT, --count COUNT */
    TEMPO__CLI_OPT_TZ = 1 << 1,      /* --tz ZONE */
    TEMPO__CLI_OPT_AFTER = 1 << 2,   /* --after ISO8601 */
    TEMPO__CLI_OPT_DST_GAP = 1 << 3, /* --dst-gap shift|skip */
    TEMPO__CLI_OPT_FIELDS = 1 << 4   /* --fields "hour=9 ..." */
};

/* What the command line said, before any of it is checked against the
 * library. Strings point into argv, except `expression`, which is always
 * allocated (the words joined), so freeing never depends on how it came. */
typedef struct tempo__cli_options {
    bool help;              /* -h/--help seen: print usage, ignore the rest */
    int count;              /* -n; TEMPO__CLI_COUNT_DEFAULT when not given */
    const char *tz;         /* --tz; NULL = "local" */
    const char *after;      /* --after; NULL = now */
    tempo_dst_gap_t dst_gap;
    const char *fields;     /* --fields; NULL when EXPRESSION is used */
    char *expression;       /* the positional words joined by spaces; NULL if none */
} tempo__cli_options_t;

/* Options resolved against the library: everything a subcommand needs. */
typedef struct tempo__cli_setup {
    const tempo_zone_t *zone; /* for --after without offset and for output */
    tempo_time_t after;       /* fire times are strictly after this */
    tempo_trigger_t *trigger; /* owned */
} tempo__cli_setup_t;

typedef struct tempo__cli_command {
    const char *name;  /* "next" */
    unsigned accepts;  /* TEMPO__CLI_OPT_* */
    const char *usage; /* full help text, ends with a newline */
    /* Runs once options parsed and resolved; returns the exit code. */
    int (*run)(const tempo__cli_options_t *opts, const tempo__cli_setup_t *setup);
} tempo__cli_command_t;

/* Parse argv[1..argc-1] (argv[0] is the subcommand's name) for `cmd`.
 * On a usage error: prints it and returns TEMPO__CLI_USAGE. On success the
 * caller must tempo__cli_options_free(). */
int tempo__cli_options_parse(const tempo__cli_command_t *cmd, int argc, char **argv,
                             tempo__cli_options_t *out);
void tempo__cli_options_free(tempo__cli_options_t *opts);

/* Look up the zone, read --after, build the trigger. On error prints it and
 * returns its exit code, with nothing left to free. */
int tempo__cli_setup(const tempo__cli_options_t *opts, tempo__cli_setup_t *out);
void tempo__cli_setup_free(tempo__cli_setup_t *setup);

/* Advance *t to the first fire time after it (fire.c), TEMPO_TIME_NONE when
 * the trigger is done; otherwise also write it, formatted in the setup's
 * zone, to `line` (TEMPO__CLI_TIME_MAX bytes). Returns an exit code: a
 * trigger answering a time not after *t breaks the library's contract, and
 * is reported rather than printed. */
int tempo__cli_next_fire(const tempo__cli_setup_t *setup, tempo_time_t *t, char *line);

/* Print "tempo: <message>" as exactly one line on stderr (control characters
 * in the message, which may echo user input, become '?'). Returns
 * TEMPO__CLI_USAGE so error paths read `return tempo__cli_usage_error(...)`. */
int tempo__cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for failures of the system; returns TEMPO__CLI_FAILURE. */
int tempo__cli_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a library status: resource failures are 1, anything the
 * user's input caused is 2. */
int tempo__cli_exit_code(tempo_status_t status);
/* The error's message, or a generic one when the library left it empty. */
const char *tempo__cli_error_text(const tempo_error_t *err);

/* Flush stdout and report a write error (full disk, closed pipe) as a
 * failure instead of exiting 0 with output lost. */
int tempo__cli_finish_output(void);

/* Format an instant for output; `buf` must hold TEMPO__CLI_TIME_MAX bytes. */
#define TEMPO__CLI_TIME_MAX 64
int tempo__cli_format_time(tempo_time_t t, const tempo_zone_t *zone, char *buf);

/* Help texts (usage.c). */
extern const char tempo__cli_usage_main[];
extern const char tempo__cli_usage_next[];
extern const char tempo__cli_usage_explain[];

/* The subcommands (cmd_*.c). */
int tempo__cli_run_next(const tempo__cli_options_t *opts, const tempo__cli_setup_t *setup);
int tempo__cli_run_explain(const tempo__cli_options_t *opts, const tempo__cli_setup_t *setup);

#endif
