/* `tempo run FILE`: the cron-replacement daemon (docs/cli.md, docs/run-file.md).
 *
 *   cmd_run.c     options, the loop, signals, start and stop
 *   run_sync.c    making the store's schedules match the file (start, SIGHUP)
 *   run_log.c     one line per job start and end; retries of failed runs
 *   run_store.c   the default store: an SQLite file in the user's state dir
 *
 * One process runs one libev loop of its own (never libev's default loop:
 * that one reaps every child, and the process executor needs the exit
 * statuses of its commands). */
#ifndef TEMPO_TOOLS_RUN_H
#define TEMPO_TOOLS_RUN_H

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <tempo/tempo.h>

#include "runfile.h"

/* Schedules made by `tempo run` carry this in their metadata, with the file
 * they came from and a fingerprint of their definition: a restart or a
 * reload changes only what the file changed, and never touches schedules
 * that another file (or `tempo add`) made. */
#define TEMPO__RUN_SOURCE "tempo run"
/* Task ids: one task per schedule, so that its max_running and timeout are
 * its own; the command itself travels in the schedule's args. */
#define TEMPO__RUN_TASK_PREFIX "run:"
/* The task of schedules made by `tempo add` (source "tempo add"): one
 * process task for all of them, unlimited in parallel, their command in
 * their args. Every `tempo run` daemon registers it, so those schedules run
 * wherever a daemon runs on the store. */
#define TEMPO__RUN_GENERIC_TASK "run"
#define TEMPO__ADD_SOURCE "tempo add"
/* Results are kept this long (for `tempo results`). */
#define TEMPO__RUN_RESULT_KEEP TEMPO_DAYS(7)

/* A retry waiting for its job id, or a job that is a retry. */
typedef struct tempo__run_retry {
    struct tempo__run_retry *next;
    char job_id[40];
    int attempt; /* 1 = the first retry */
} tempo__run_retry_t;

/* A job running here, for its duration in the log. */
typedef struct tempo__run_started {
    struct tempo__run_started *next;
    char job_id[40];
    tempo_time_t at;
} tempo__run_started_t;

typedef struct tempo__run {
    struct ev_loop *evloop;
    tempo_scheduler_t *s;
    const char *file_path;
    char *file_key;          /* realpath of FILE: whose schedules are whose */
    tempo__runfile_t file;   /* what is running */
    FILE *log;
    const tempo_zone_t *zone; /* for the log's times: local */
    int syncs_pending;       /* store calls of a sync still to answer */
    bool sync_failed;
    bool stopping;
    int exit_code;
    tempo__run_retry_t *retries;
    tempo__run_started_t *started;
} tempo__run_t;

/* run_sync.c: register the file's tasks and make the store's schedules of
 * this file match it (add new, replace changed, remove gone; unchanged ones
 * keep their state). Asynchronous: run->syncs_pending counts down to 0. */
int tempo__run_sync(tempo__run_t *run);

/* run_log.c */
void tempo__run_log(tempo__run_t *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tempo__run_on_event(const tempo_event_t *ev, void *userdata);
void tempo__run_log_free(tempo__run_t *run);

/* run_store.c: "sqlite:<state dir>/tempo/tempo.db", creating the folder;
 * NULL (reported) when there is no usable state dir. Caller frees. */
char *tempo__run_default_store(void);

/* cmd_run.c */
int tempo__cli_cmd_run(int argc, char **argv);
extern const char tempo__cli_usage_run[];

#endif
