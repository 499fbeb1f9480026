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
} tempo_task_options_t;
#define TEMPO_TASK_OPTIONS_INIT \
    { sizeof(tempo_task_options_t), NULL, NULL, NULL, NULL, 1, TEMPO_DURATION_NONE, NULL, false }

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
