/* tempo — tasks: the code a job runs, registered in-process under an id.
 *
 * Code never comes from the store (DESIGN.md §4): a stored job names a task
 * id, and a worker runs it only if it registered that id. */
#ifndef TEMPO_TASK_H
#define TEMPO_TASK_H

#include <bson/bson.h>
#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_job tempo_job_t;

/* An in-loop task: called on the loop thread. It must not block; it finishes
 * the job by calling tempo_job_complete() or tempo_job_fail(), now or from any
 * later callback on the loop thread. */
typedef void (*tempo_task_fn)(tempo_job_t *job, void *userdata);

/* A blocking task: runs on the scheduler's thread pool. `result` is an empty
 * document it may fill. Return TEMPO_OK for success; any other status is a
 * failure, described by err->message. */
typedef tempo_status_t (*tempo_task_blocking_fn)(const bson_t *args, bson_t *result,
                                                 tempo_error_t *err, void *userdata);

typedef struct tempo_task_options {
    size_t size;                        /* sizeof(tempo_task_options_t) */
    const char *id;                     /* required, copied */
    tempo_task_fn fn;                   /* exactly one of fn and blocking_fn */
    tempo_task_blocking_fn blocking_fn;
    void *userdata;
    int max_running_jobs;               /* >= 0; 0 = unlimited; default 1 */
    tempo_duration_t misfire_grace_time; /* >= 0, or NONE (default) = unlimited */
    const bson_t *metadata;             /* copied; NULL = none */
    /* A job of this task whose worker died (its lease expired: reported
     * ABANDONED) is queued again, for the same fire time and start deadline,
     * by the scheduler that reaps it — when that scheduler has this task
     * registered with this flag. Default false: at most once. */
    bool retry_abandoned;
    /* In-loop tasks only (EINVAL with blocking_fn), optional: the scheduler
     * gave up on a job whose function ran and that has not finished —
     * tempo_scheduler_stop_now, a graceful stop's timeout, or
     * tempo_scheduler_free. Called inside that call (or the stop's timer),
     * once per such job, never for a job that finished (complete/fail) nor
     * for one that was never started, with the job's handle and the
     * userdata of the registration the job started under. The handle
     * already answers TEMPO_ECANCELLED: calling tempo_job_complete/fail on
     * it, here or later, records nothing and frees it. It is the task's cue
     * to abandon the work (close the request, kill the child); the loop
     * still exists, also inside tempo_scheduler_free. It must not stop or
     * free the scheduler. */
    void (*cancel)(tempo_job_t *job, void *userdata);
    /* Optional: this registration ended, so `userdata` may go. Called once
     * per successful add_task that set it, when no function, blocking
     * function or cancel of this registration can be called any more (its
     * cancels all came first):
     *   - replaced (add_task again with the same id) while none of its jobs
     *     runs: inside that add_task;
     *   - replaced while jobs of it run (they finish under the registration
     *     they started with): from the loop, soon after the last of them
     *     finished or was cancelled — never inside the task's own
     *     complete/fail;
     *   - tempo_scheduler_free: inside it, after every cancel, for each
     *     registration not yet ended. The scheduler's loop still exists.
     * A registration that replaces one with the same userdata and the same
     * free_userdata takes the userdata over: the old one's is not called.
     * Handles of cancelled jobs the task still holds should be finished
     * here (they answer ECANCELLED). Must not call tempo_scheduler_*
     * functions (finishing handles is fine). Not called when add_task
     * fails: the caller still owns userdata then.
     * Both hooks run on the loop thread (with a background runner, under
     * the scheduler's lock; tempo_scheduler_free from another thread runs
     * them on that thread, once the loop thread has stopped). */
    void (*free_userdata)(void *userdata);
} tempo_task_options_t;
#define TEMPO_TASK_OPTIONS_INIT                                                            \
    { sizeof(tempo_task_options_t), NULL, NULL, NULL, NULL, 1, TEMPO_DURATION_NONE, NULL, false, \
      NULL, NULL }

/* ---- the job handle an in-loop task gets ---- */

TEMPO_API const char *tempo_job_id(const tempo_job_t *job);
TEMPO_API const char *tempo_job_task_id(const tempo_job_t *job);
TEMPO_API const char *tempo_job_schedule_id(const tempo_job_t *job); /* NULL if queued directly */
TEMPO_API const bson_t *tempo_job_args(const tempo_job_t *job);      /* never NULL */
TEMPO_API tempo_time_t tempo_job_scheduled_fire_time(const tempo_job_t *job);

/* Finish the job. `return_value` is copied (NULL = none). After either call
 * the handle is gone. The handle stays valid until one of them is called, even
 * if the job was cancelled or the scheduler freed meanwhile; then the call
 * returns TEMPO_ECANCELLED and records nothing. */
TEMPO_API tempo_status_t tempo_job_complete(tempo_job_t *job, const bson_t *return_value);
TEMPO_API tempo_status_t tempo_job_fail(tempo_job_t *job, const char *message);

#ifdef __cplusplus
}
#endif
#endif
