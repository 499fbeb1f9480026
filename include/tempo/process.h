/* tempo — a task whose jobs run commands as child processes (docs/process.md).
 *
 * The executor of `tempo run`: one task can serve many schedules, each
 * schedule naming its command in its args. Everything happens on the loop
 * thread without blocking it: the child's output is read through the loop's
 * fd watches, its exit is seen through a pidfd (Linux >= 5.3; elsewhere a
 * polling timer), its timeout is a loop timer. No SIGCHLD handler is ever
 * installed: the host's signals stay the host's.
 *
 * A job's args may override the task's command and add to its environment:
 *   {"command": "backup.sh --full"}            run with /bin/sh -c
 *   {"argv": ["/usr/bin/rsync", "-a", "a/", "b/"]}   run directly
 *   {"env": {"LANG": "C", "DEBUG": null}}      set (string) or unset (null)
 * Any other key fails the job (a typo must not run the wrong command).
 *
 * A job succeeds when its command exits with status 0, with this return value:
 *   {exit_code: 0, stdout: "...", stderr: "...", stdout_truncated: false,
 *    stderr_truncated: false, duration_us: <int64>, pid: <int32>}
 * Anything else fails it with a one-line message: "exit status 3: <first
 * line of stderr>", "killed by signal 9 (SIGKILL)", "timed out after 5 s;
 * killed by signal 15 (SIGTERM)", "cannot run 'foo': No such file or
 * directory". (A failed job's stored result holds only that message.)
 *
 * Each command runs in a process group of its own; stdin is /dev/null and
 * stdout/stderr are captured (the first output_limit bytes of each; invalid
 * UTF-8 is replaced by U+FFFD). When the command exits, whatever it left
 * running in its process group is killed (SIGKILL), so a job leaves nothing
 * behind; a command that must outlive its job leaves the group (setsid). */
#ifndef TEMPO_PROCESS_H
#define TEMPO_PROCESS_H

#include <tempo/scheduler.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest output_limit: keeps a result (two streams, each at most tripled
 * by U+FFFD replacement) well under the 16 MiB a BSON document may have. */
#define TEMPO_PROCESS_OUTPUT_MAX ((size_t)2 << 20)

typedef struct tempo_process_task_options {
    size_t size;                         /* sizeof(tempo_process_task_options_t) */
    const char *id;                      /* the task id; required, copied */
    int max_running_jobs;                /* as tempo_task_options_t: >= 0, 0 = unlimited; default 1 */
    tempo_duration_t misfire_grace_time; /* as tempo_task_options_t; default NONE */
    const bson_t *metadata;              /* as tempo_task_options_t: copied; NULL = none */
    /* The default command: at most one of these two (none: every job's
     * args must name one). Both are copied. */
    const char *command;                 /* a shell command line, run as /bin/sh -c COMMAND */
    const char *const *argv;             /* a program and its arguments, NULL-terminated; argv[0]
                                            is searched in this process's PATH when it has no '/' */
    const char *cwd;                     /* working directory; NULL = this process's; copied */
    const char *const *env;              /* "NAME=value" entries set on top of this process's
                                            environment, NULL-terminated; NULL = none; copied */
    size_t output_limit;                 /* bytes kept per stream, <= TEMPO_PROCESS_OUTPUT_MAX;
                                            0 = keep none; default 64 KiB */
    tempo_duration_t timeout;            /* > 0, or NONE (default) = no limit. On expiry the
                                            group gets SIGTERM, then SIGKILL after kill_grace,
                                            and the job fails */
    tempo_duration_t kill_grace;         /* >= 0; default 5 s (0: SIGKILL at once) */
} tempo_process_task_options_t;
#define TEMPO_PROCESS_TASK_OPTIONS_INIT                                                          \
    { sizeof(tempo_process_task_options_t), NULL, 1, TEMPO_DURATION_NONE, NULL, NULL, NULL, NULL, \
      NULL, (size_t)64 << 10, TEMPO_DURATION_NONE, TEMPO_SECONDS(5) }

/* Register an in-loop task (tempo_scheduler_add_task) whose jobs run the
 * command. Registering an id again replaces the task, as add_task does; jobs
 * already running finish under the old options.
 *
 * Stopping: a graceful stop waits for running commands (up to its timeout).
 * When the scheduler gives up on a job (stop_now, a stop's timeout), its
 * process group gets SIGTERM, then SIGKILL after kill_grace. Freeing the
 * scheduler kills every running command's group with SIGKILL and reaps it
 * (waiting at most 1 s per child; one that has not died by then, e.g. stuck
 * in the kernel, is left a zombie for the process to reap). */
TEMPO_API tempo_status_t tempo_scheduler_add_process_task(tempo_scheduler_t *scheduler,
                                                          const tempo_process_task_options_t *opts,
                                                          tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
