/* `tempo ls|show|add|pause|resume|rm|run-now|results`: the schedules of a
 * store, from the command line (docs/cli.md, "Managing schedules").
 *
 *   cmd_admin.c          the table of commands, their options, the entry point
 *   cmd_admin_session.c  a scheduler (never started) on a private libev loop
 *                        against the store; waiting for its answers; copies of
 *                        what it answered
 *   cmd_admin_json.c     a small JSON writer (one document on stdout)
 *   cmd_admin_text.c     tables, and times, durations, outcomes and triggers
 *                        as people read them
 *   cmd_admin_ls.c       ls
 *   cmd_admin_show.c     show
 *   cmd_admin_add.c      add (the trigger read by the schedule file parser)
 *   cmd_admin_state.c    pause, resume, rm
 *   cmd_admin_run_now.c  run-now
 *   cmd_admin_results.c  results
 *   cmd_admin_usage.c    their help texts
 *
 * The commands talk to the store through a scheduler of their own, which
 * they never start: it only relays calls, and it runs no job (a job queued
 * by run-now runs in a `tempo run` daemon on the same store). Every store
 * call is asynchronous; a command makes its calls, then runs its loop until
 * each was answered (tempo__admin_wait) — bounded by the store's own
 * timeouts, since every call is answered, with an error at worst.
 *
 * Failures are one line "tempo: CMD: ..." on stderr (diag.c); exit status 2
 * for what the user got wrong (usage, an unknown name, a bad trigger, a name
 * taken), 1 when the store or the system failed. */
#ifndef TEMPO_TOOLS_ADMIN_H
#define TEMPO_TOOLS_ADMIN_H

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <tempo/tempo.h>

/* ---- the command line (cmd_admin.c) ---- */

/* Options a command accepts besides --store, --json and --help. */
enum {
    TEMPO__ADMIN_OPT_COUNT = 1 << 0, /* -n COUNT */
    TEMPO__ADMIN_OPT_ADD = 1 << 1    /* --zone, --dst-gap, --coalesce, --misfire-grace, --jitter */
};

/* How many results `tempo results` shows by default, and `show` always. */
#define TEMPO__ADMIN_RESULTS_DEFAULT 20
#define TEMPO__ADMIN_SHOW_RESULTS 5
#define TEMPO__ADMIN_SHOW_UPCOMING 5

typedef struct tempo__admin_args {
    const char *store;  /* --store; NULL: tempo run's default */
    bool json;
    bool help;
    int count;          /* -n; 0 when not given */
    /* add */
    const char *zone, *dst_gap, *coalesce, *misfire_grace, *jitter;
    /* the positional words (NAME, TRIGGER) */
    const char *pos[2];
    int npos;
    /* add: the COMMAND, every word from its first on */
    char **words;
    int nwords;
} tempo__admin_args_t;

/* ---- a session with the store (cmd_admin_session.c) ---- */

typedef struct tempo__admin {
    const char *cmd;           /* "ls": for messages */
    bool json;
    struct ev_loop *evloop;
    tempo_scheduler_t *s;      /* never started */
    const tempo_zone_t *zone;  /* local: times shown to people */
    const char *store_arg;     /* --store, or NULL */
    char *store_uri;           /* what was opened: --store or the default */
    int pending;               /* store calls not answered yet */
} tempo__admin_t;

/* A session that has not opened anything yet: a command checks its input
 * first, so a mistake never touches the store. */
void tempo__admin_init(tempo__admin_t *a, const char *cmd, const tempo__admin_args_t *args);
/* Open the store and a scheduler on it, unless done already (the calls
 * below do it themselves). Prints a failure; returns an exit code. */
int tempo__admin_connect(tempo__admin_t *a);
void tempo__admin_close(tempo__admin_t *a);
/* Run the loop until every call made so far was answered. */
void tempo__admin_wait(tempo__admin_t *a);

/* Print "tempo: CMD: <what>: <message>"; returns the exit code of `status`:
 * 2 for what the user can fix (no such name, a name taken, bad input), 1
 * for the store's and the system's failures. */
int tempo__admin_fail(const tempo__admin_t *a, tempo_status_t status, const tempo_error_t *err,
                      const char *what);
int tempo__admin_nomem(const tempo__admin_t *a);

/* A schedule as the store answered it, copied (the store's records are
 * only lent to the callback). */
typedef struct tempo__admin_schedule {
    char *id;
    char *task_id;
    tempo_trigger_t *trigger; /* a reference */
    bson_t *args;             /* NULL: none */
    bson_t *metadata;         /* NULL: none */
    tempo_coalesce_t coalesce;
    tempo_duration_t misfire_grace_time;
    tempo_duration_t max_jitter;
    tempo_duration_t job_result_expiration;
    bool paused;
    tempo_time_t next_fire_time;
    tempo_time_t last_fire_time;
    char *lease_owner;        /* NULL: not held */
    tempo_time_t lease_until;
    int64_t fence;
} tempo__admin_schedule_t;

/* A result, copied. */
typedef struct tempo__admin_result {
    char *job_id;
    char *task_id;
    char *schedule_id; /* NULL: a job queued directly (run-now, a retry) */
    tempo_outcome_t outcome;
    tempo_time_t scheduled_fire_time;
    tempo_time_t started_at;
    tempo_time_t finished_at;
    tempo_time_t expires_at;
    bson_t *return_value; /* NULL: none */
    char *error;          /* NULL: none */
} tempo__admin_result_t;

/* One schedule (id) or all of them (id NULL, ordered by id). An unknown id
 * is reported "no schedule 'ID' in the store" (exit 2). On success the
 * caller frees *out with tempo__admin_schedules_free. Waits. */
int tempo__admin_get_schedules(tempo__admin_t *a, const char *id, tempo__admin_schedule_t **out, size_t *n);
void tempo__admin_schedules_free(tempo__admin_schedule_t *list, size_t n);

/* A listing of results in flight: start it, wait (with others), then look
 * at status/err and the list. */
typedef struct tempo__admin_results {
    tempo__admin_t *a;
    tempo_status_t status;
    tempo_error_t err;
    tempo__admin_result_t *list;
    size_t count;
    bool answered;
} tempo__admin_results_t;

/* Start listing the results of schedule `id` (NULL: all), newest first, at
 * most `limit` (0: all). Returns an exit code (a refused call is printed). */
int tempo__admin_results_start(tempo__admin_t *a, const char *id, size_t limit, tempo__admin_results_t *req);
void tempo__admin_results_free(tempo__admin_results_t *req);

/* The schedule's shell command: args.command, or NULL. */
const char *tempo__admin_command_of(const bson_t *args);
/* A string field of the schedule's metadata, or NULL. */
const char *tempo__admin_meta(const tempo__admin_schedule_t *s, const char *key);
/* The name a result is shown under: its schedule, else its task's name
 * (a `tempo run` task "run:NAME" is NAME). */
const char *tempo__admin_result_name(const tempo__admin_result_t *r);

/* ---- JSON (cmd_admin_json.c) ----
 * Values are written in order; inside an object each value has a key (in
 * an array, or at the top, the key is NULL). Nesting is at most
 * TEMPO__JSON_DEPTH deep. Strings are escaped; invalid UTF-8 becomes
 * U+FFFD, so the output is always valid JSON. */
#define TEMPO__JSON_DEPTH 8

typedef struct tempo__json {
    FILE *out;
    int depth;
    bool has_items[TEMPO__JSON_DEPTH + 1];
} tempo__json_t;

void tempo__json_init(tempo__json_t *j, FILE *out);
void tempo__json_object_begin(tempo__json_t *j, const char *key);
void tempo__json_object_end(tempo__json_t *j);
void tempo__json_array_begin(tempo__json_t *j, const char *key);
void tempo__json_array_end(tempo__json_t *j);
void tempo__json_string(tempo__json_t *j, const char *key, const char *value); /* NULL: null */
void tempo__json_int(tempo__json_t *j, const char *key, int64_t value);
void tempo__json_double(tempo__json_t *j, const char *key, double value);
void tempo__json_bool(tempo__json_t *j, const char *key, bool value);
void tempo__json_null(tempo__json_t *j, const char *key);
/* An instant as ISO 8601 in UTC-offset form (full precision), NONE: null. */
void tempo__json_time(tempo__json_t *j, const char *key, tempo_time_t t, const tempo_zone_t *zone);
/* A duration in seconds (a number), NONE: null. */
void tempo__json_duration(tempo__json_t *j, const char *key, tempo_duration_t d);
/* A BSON document as (relaxed extended) JSON; NULL: null. */
void tempo__json_bson(tempo__json_t *j, const char *key, const bson_t *doc);
/* End the document: a final newline. */
void tempo__json_finish(tempo__json_t *j);

/* The whole schedule as one object (cmd_admin_show.c), and one result
 * (cmd_admin_results.c): the forms show, add and results share. */
void tempo__admin_json_schedule(const tempo__admin_t *a, tempo__json_t *j, const char *key,
                                const tempo__admin_schedule_t *s);
void tempo__admin_json_result(const tempo__admin_t *a, tempo__json_t *j, const tempo__admin_result_t *r);
/* The results as a table (TIME, [NAME,] OUTCOME, DURATION, OUTPUT), each
 * line after `indent`. */
int tempo__admin_print_results(const tempo__admin_t *a, const tempo__admin_result_t *list, size_t n, bool names,
                               const char *indent);

/* ---- text for people (cmd_admin_text.c) ---- */

#define TEMPO__ADMIN_TEXT_MAX 256

/* A table: add cells row by row, then print it with columns aligned.
 * Control characters in cells become '?'; the last column is not padded. */
typedef struct tempo__table {
    int cols;
    char **cells; /* rows * cols, owned */
    size_t rows, cap;
    bool failed;  /* out of memory: print reports it */
} tempo__table_t;

void tempo__table_init(tempo__table_t *t, int cols);
/* Append one row of `cols` cells. */
void tempo__table_row(tempo__table_t *t, const char *const *cells);
/* Print to stdout, each line after `indent`; returns an exit code. */
int tempo__table_print(tempo__table_t *t, const char *indent);
void tempo__table_free(tempo__table_t *t);

/* An instant in whole seconds, local time with its offset; "-" for NONE.
 * `buf` holds TEMPO__ADMIN_TEXT_MAX. */
const char *tempo__admin_time(const tempo__admin_t *a, tempo_time_t t, char *buf);
/* A setting's duration: "90s", "1h30m", "0"; `none` for NONE. */
const char *tempo__admin_duration(tempo_duration_t d, const char *none, char *buf);
/* How long a job ran, "1.23 s", or "-" when it never started. */
const char *tempo__admin_took(const tempo__admin_result_t *r, char *buf);
/* "ok", "failed", "missed", "cancelled", "abandoned", "unreadable". */
const char *tempo__admin_outcome_word(tempo_outcome_t outcome);
const char *tempo__admin_coalesce_word(tempo_coalesce_t coalesce);
/* The trigger as written (metadata "trigger"), else the normalised cron
 * expression, else its description. */
const char *tempo__admin_trigger_text(const tempo__admin_schedule_t *s, char *buf);
/* The first line of what a result says: its error, else the first
 * non-empty line of the command's stdout, then stderr; "" when nothing. */
const char *tempo__admin_result_line(const tempo__admin_result_t *r, char *buf);

/* ---- the commands ---- */
int tempo__admin_ls(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_show(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_add(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_pause(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_resume(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_rm(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_run_now(tempo__admin_t *a, const tempo__admin_args_t *args);
int tempo__admin_results(tempo__admin_t *a, const tempo__admin_args_t *args);

/* Help texts (cmd_admin_usage.c). */
extern const char tempo__admin_usage_ls[];
extern const char tempo__admin_usage_show[];
extern const char tempo__admin_usage_add[];
extern const char tempo__admin_usage_pause[];
extern const char tempo__admin_usage_resume[];
extern const char tempo__admin_usage_rm[];
extern const char tempo__admin_usage_run_now[];
extern const char tempo__admin_usage_results[];

/* ---- for main.c ---- */
/* Whether `name` is one of these commands. */
bool tempo__admin_is_command(const char *name);
/* Its help text, or NULL. */
const char *tempo__admin_usage(const char *name);
/* Run it: argv[0] is the command's name. Returns the exit code. */
int tempo__admin_main(int argc, char **argv);

#endif
