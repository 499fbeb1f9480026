/* The process executor's parts (include/tempo/process.h is the public face).
 *
 *   process_cmd.c     what to run: argv and environment from the task's
 *                     defaults and a job's args
 *   process_spawn.c   posix_spawn into a new process group, pipes for output
 *   process_output.c  capturing one stream up to a limit
 *   process_reap.c    seeing the exit (pidfd / waitid), signalling the group
 *   process_run.c     one child on the loop: watches, timers, the exit path
 *   process_text.c    UTF-8 cleaning, the first line of a stream
 *   process_result.c  a finished run as a job result or a failure message
 *   process_task.c    tempo_scheduler_add_process_task: the task and its jobs
 *
 * Everything but process_task.c is independent of the scheduler: a run needs
 * only a tempo_loop_t, so it can be tested (and reused) on its own.
 *
 * The one invariant every part keeps: a signal goes to the child's process
 * group only while the child is not reaped. Until then its pid — which is
 * also the group id — cannot be reused, so the signal cannot reach a
 * stranger. Hence the exit path looks at the exit with WNOWAIT first, kills
 * what is left of the group, and reaps last. */
#ifndef TEMPO_EXEC_PROCESS_INTERNAL_H
#define TEMPO_EXEC_PROCESS_INTERNAL_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <tempo/error.h>
#include <tempo/store.h> /* TEMPO_DURATION_NONE */

#include "loop/loop_internal.h"

/* ---- process_cmd.c ---- */

/* A NULL-terminated array of strings, each malloc'd, as the array. */
char **tempo__strv_dup(const char *const *v);
void tempo__strv_free(char **v);
size_t tempo__strv_len(const char *const *v);

typedef struct tempo__process_cmd {
    char **argv; /* NULL-terminated; argv[0] is the program */
    char **envp; /* NULL-terminated: the child's whole environment */
} tempo__process_cmd_t;

/* Check the task's defaults at registration: `env` entries are NAME=value
 * with a non-empty NAME; argv, when given, is not empty. */
tempo_status_t tempo__process_defaults_check(const char *command, const char *const *argv,
                                             const char *const *env, tempo_error_t *err);

/* What a job runs: the task's command (a shell line or an argv; either may
 * be NULL) unless args override it, in this process's environment plus the
 * task's `env` plus args' "env". On bad args: EINVAL naming the key, and
 * *out is left empty. */
tempo_status_t tempo__process_cmd_build(const char *command, char *const *argv, char *const *env,
                                        const bson_t *args, tempo__process_cmd_t *out, tempo_error_t *err);
void tempo__process_cmd_clear(tempo__process_cmd_t *cmd);

/* ---- process_output.c ---- */

typedef struct tempo__output {
    char *data;      /* the first `limit` bytes read (not NUL-terminated) */
    size_t len, cap, limit;
    bool truncated;  /* more than `limit` bytes came; the rest was dropped */
} tempo__output_t;

void tempo__output_init(tempo__output_t *o, size_t limit);
/* Read what `fd` (non-blocking) has now, at most `max_reads` reads. Returns
 * 1 at end of file (or a read error, which ends the stream just the same),
 * 0 when it would block or the read budget is spent. Bytes past the limit
 * are read and dropped, so a chatty child never blocks on a full pipe; out
 * of memory also drops (and marks truncated) rather than stalling it. */
int tempo__output_read(tempo__output_t *o, int fd, int max_reads);
void tempo__output_free(tempo__output_t *o);

/* ---- process_spawn.c ---- */

typedef struct tempo__spawned {
    pid_t pid;  /* also its process group id */
    int out_fd; /* read ends, O_NONBLOCK | O_CLOEXEC */
    int err_fd;
} tempo__spawned_t;

/* Start cmd in a new process group, in `cwd` (NULL: ours), stdin from
 * /dev/null, stdout and stderr to pipes, signal mask empty and every signal
 * at its default disposition. Blocks only for the spawn itself (glibc's
 * posix_spawn returns once the child has exec'd or failed). On failure:
 * EIO with "cannot run 'prog': <strerror>" (or "cannot change to directory
 * ..."), nothing left open. */
tempo_status_t tempo__process_spawn(const tempo__process_cmd_t *cmd, const char *cwd, tempo__spawned_t *out,
                                    tempo_error_t *err);

/* ---- process_reap.c ---- */

typedef enum tempo__exit_how {
    TEMPO__EXIT_CODE,    /* exited; code is its status */
    TEMPO__EXIT_SIGNAL,  /* killed; code is the signal */
    TEMPO__EXIT_UNKNOWN  /* someone else reaped it (SIGCHLD ignored, a waitpid(-1) elsewhere) */
} tempo__exit_how_t;

/* A pidfd for our child, or -1 with errno (ENOSYS where neither kernel nor
 * headers have pidfd_open). */
int tempo__pidfd_open(pid_t pid);
/* Has the child exited? It stays waitable (WNOWAIT). 1 yes, 0 not yet,
 * -1 with errno (ECHILD: already reaped by someone else). */
int tempo__child_exited(pid_t pid);
/* Reap an exited child (WNOHANG). 0 and the status, or -1 with errno. */
int tempo__child_reap(pid_t pid, tempo__exit_how_t *how, int *code);
/* Block at most `ms` milliseconds for the child to exit (free paths only,
 * after a SIGKILL). True when it has exited (or is gone). */
bool tempo__child_wait_bounded(pid_t pid, int pidfd, int ms);
/* Signal the child's group and the child itself (in case it left the
 * group). Only while the child is not reaped (see the invariant above). */
void tempo__group_signal(pid_t pid, int sig);

/* ---- process_run.c ---- */

typedef struct tempo__process_report {
    pid_t pid;
    tempo__exit_how_t how;
    int code;
    bool timed_out;           /* the timeout fired */
    tempo_duration_t timeout; /* as configured */
    bool terminated;          /* tempo__process_terminate was called */
    int64_t duration_us;      /* spawn to exit, monotonic */
    tempo__output_t out, err;
} tempo__process_report_t;

typedef struct tempo__process_spec {
    const tempo__process_cmd_t *cmd; /* read during start only */
    const char *cwd;                 /* NULL: ours */
    size_t output_limit;
    tempo_duration_t timeout;        /* TEMPO_DURATION_NONE: none */
    tempo_duration_t kill_grace;     /* >= 0 */
    bool no_pidfd;                   /* tests: force the polling fallback */
} tempo__process_spec_t;

typedef struct tempo__process tempo__process_t;
/* Once per run, on the loop thread, when the child has exited, its group is
 * cleaned up, it is reaped and its output collected. The run stays until
 * tempo__process_free (which done may call). */
typedef void (*tempo__process_done_fn)(tempo__process_t *p, void *arg);

/* Spawn and watch. On failure (spawn errors as tempo__process_spawn; ENOMEM)
 * nothing is left and done will not run. Loop thread. */
tempo_status_t tempo__process_start(tempo_loop_t *loop, const tempo__process_spec_t *spec,
                                     tempo__process_done_fn done, void *arg, tempo__process_t **out,
                                     tempo_error_t *err);
/* Graceful kill: SIGTERM to the group, SIGKILL after kill_grace; done still
 * comes. Nothing once the child has exited. */
void tempo__process_terminate(tempo__process_t *p);
/* SIGKILL the group now, if the child is not reaped; done still comes (or
 * use tempo__process_free, which then waits less). */
void tempo__process_kill_now(tempo__process_t *p);
/* Free. Before done: kills the group (SIGKILL), waits at most 1 s for the
 * child and reaps it (else leaves a zombie), closes everything; done never
 * runs. The loop must still exist. NULL is fine. */
void tempo__process_free(tempo__process_t *p);
/* Valid from done until free. */
const tempo__process_report_t *tempo__process_report(const tempo__process_t *p);

/* ---- process_text.c ---- */

/* A valid UTF-8 copy of s[0..len) (NUL-terminated; length in *out_len):
 * each invalid byte becomes U+FFFD; with `cut`, an incomplete sequence at
 * the very end (a limit cut it) is dropped instead. NULL when out of memory. */
char *tempo__utf8_clean(const char *s, size_t len, bool cut, size_t *out_len);
/* The first line of s[0..len) with any non-space text, trimmed, tabs and
 * control characters as spaces, valid UTF-8, at most cap - 1 bytes (ending
 * in "..." when shortened). "" when there is none. */
void tempo__first_line(const char *s, size_t len, char *out, size_t cap);
/* "5 s", "0.25 s", "90 s": a duration for messages. */
void tempo__seconds_text(tempo_duration_t d, char *out, size_t cap);

/* ---- process_result.c ---- */

/* Exited with status 0, no timeout, nothing unknown. */
bool tempo__process_succeeded(const tempo__process_report_t *r);
/* {exit_code, stdout, stderr, stdout_truncated, stderr_truncated,
 * duration_us, pid} into an initialised `out`. ENOMEM possible. */
tempo_status_t tempo__process_result_bson(const tempo__process_report_t *r, bson_t *out);
/* "exit status 3: <first stderr line>", "timed out after 5 s; killed by
 * signal 15 (SIGTERM)", ... */
void tempo__process_failure(const tempo__process_report_t *r, char *out, size_t cap);

#endif
