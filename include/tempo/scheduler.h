/* tempo — the scheduler: turns due schedules into jobs and runs them.
 *
 * Single-threaded: every function here is called on the loop's thread (the
 * thread running the event loop the scheduler's tempo_loop_t adapts), unless
 * it says otherwise. Nothing blocks: operations that touch the store are
 * asynchronous and report through a callback.
 *
 * Asynchronous calls follow one rule (as libuv's): if the call returns an
 * error, nothing happened and the callback will not run; if it returns
 * TEMPO_OK, the callback runs exactly once, later, on the loop thread — never
 * inside the call — also when the operation fails. Stopping the scheduler
 * does not cancel these calls (the store still answers them); freeing it
 * answers every pending one with TEMPO_ECANCELLED, from inside
 * tempo_scheduler_free. The callback may be NULL. */
#ifndef TEMPO_SCHEDULER_H
#define TEMPO_SCHEDULER_H

#include <tempo/event.h>
#include <tempo/loop.h>
#include <tempo/schedule.h>
#include <tempo/store.h>
#include <tempo/task.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_scheduler tempo_scheduler_t;

typedef enum tempo_role {
    TEMPO_ROLE_BOTH = 0,  /* default */
    TEMPO_ROLE_SCHEDULER, /* turns schedules into jobs, runs none */
    TEMPO_ROLE_WORKER     /* runs jobs, processes no schedules */
} tempo_role_t;

typedef struct tempo_scheduler_options {
    size_t size;                     /* sizeof(tempo_scheduler_options_t) */
    const char *identity;            /* lease owner name; NULL: host-pid-random */
    tempo_role_t role;
    int max_concurrent_jobs;         /* >= 1; default 100 */
    int thread_pool_size;            /* >= 1; default 4 (started on first blocking task) */
    tempo_duration_t lease_duration; /* > 0; default 30 s, renewed at half */
    int batch_size;                  /* schedules per acquisition; default 100 */
    tempo_duration_t poll_interval;  /* > 0; upper bound on sleeping; default 10 s */
    tempo_duration_t cleanup_interval; /* > 0; default 5 min */
    uint64_t seed;                   /* random jitter and ids; 0 = from the OS */
} tempo_scheduler_options_t;
#define TEMPO_SCHEDULER_OPTIONS_INIT                                                         \
    { sizeof(tempo_scheduler_options_t), NULL, TEMPO_ROLE_BOTH, 100, 4, TEMPO_SECONDS(30), 100, \
      TEMPO_SECONDS(10), TEMPO_MINUTES(5), 0 }

typedef void (*tempo_done_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err);
typedef void (*tempo_id_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                            const char *id);
typedef void (*tempo_schedules_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                   const tempo_schedule_record_t *schedules, size_t count);
typedef void (*tempo_result_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                const tempo_job_result_t *result);
/* Results, newest first; borrowed until the callback returns. */
typedef void (*tempo_results_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                 const tempo_job_result_t *results, size_t count);

/* Create a scheduler on `loop` with `store` (NULL: a new memory store). On
 * success it owns both; on failure the caller still does. opts may be NULL. */
TEMPO_API tempo_status_t tempo_scheduler_new(tempo_loop_t *loop, tempo_store_t *store,
                                             const tempo_scheduler_options_t *opts,
                                             tempo_scheduler_t **out, tempo_error_t *err);

/* Free: stops at once if running (as tempo_scheduler_stop_now, but nothing
 * more is stored), answers every pending callback with TEMPO_ECANCELLED,
 * detaches the loop. NULL is fine. Allowed from inside the scheduler's own
 * callbacks (a job, an event, an operation's answer): nothing of the user's
 * is called after it returns, and the memory goes once the callback
 * returns. From another thread only in background mode (tempo/ev.h). */
TEMPO_API void tempo_scheduler_free(tempo_scheduler_t *scheduler);

TEMPO_API const char *tempo_scheduler_identity(const tempo_scheduler_t *scheduler);

/* The loop the scheduler runs on: the one given to tempo_scheduler_new (or
 * made by tempo_ev_scheduler_new), owned by the scheduler and freed with
 * it. For code beside the scheduler on its loop thread: its clock
 * (tempo_loop_now), an executor's timers and watches. NULL for NULL. */
TEMPO_API tempo_loop_t *tempo_scheduler_loop(const tempo_scheduler_t *scheduler);

/* Start processing schedules and jobs. SCHEDULER_STARTED is emitted once the
 * store is ready. ESTATE when already started. */
TEMPO_API tempo_status_t tempo_scheduler_start(tempo_scheduler_t *scheduler, tempo_error_t *err);

/* Graceful stop: take no new work, let running jobs finish (at most `timeout`,
 * then as stop_now), release leases, then call cb and emit SCHEDULER_STOPPED. */
TEMPO_API tempo_status_t tempo_scheduler_stop(tempo_scheduler_t *scheduler, tempo_duration_t timeout,
                                              tempo_done_cb cb, void *userdata);
/* Stop now: running in-loop jobs are released as CANCELLED (their handles
 * answer ECANCELLED); blocking jobs are released as CANCELLED and their
 * results ignored when the threads return. */
TEMPO_API tempo_status_t tempo_scheduler_stop_now(tempo_scheduler_t *scheduler, tempo_done_cb cb,
                                                  void *userdata);

/* ---- tasks (synchronous: they live in this process) ---- */
TEMPO_API tempo_status_t tempo_scheduler_add_task(tempo_scheduler_t *scheduler,
                                                  const tempo_task_options_t *opts, tempo_error_t *err);

/* ---- schedules ---- */
TEMPO_API tempo_status_t tempo_scheduler_add_schedule(tempo_scheduler_t *scheduler,
                                                      const tempo_schedule_options_t *opts,
                                                      tempo_id_cb cb, void *userdata, tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_get_schedule(tempo_scheduler_t *scheduler, const char *id,
                                                      tempo_schedules_cb cb, void *userdata,
                                                      tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_list_schedules(tempo_scheduler_t *scheduler,
                                                        tempo_schedules_cb cb, void *userdata,
                                                        tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_modify_schedule(tempo_scheduler_t *scheduler, const char *id,
                                                         const tempo_schedule_changes_t *changes,
                                                         tempo_done_cb cb, void *userdata,
                                                         tempo_error_t *err);
/* Replace the trigger; the next fire time becomes the new trigger's first at
 * or after now (as modify_schedule with TEMPO_CHANGE_TRIGGER). */
TEMPO_API tempo_status_t tempo_scheduler_reschedule(tempo_scheduler_t *scheduler, const char *id,
                                                    tempo_trigger_t *trigger, tempo_done_cb cb,
                                                    void *userdata, tempo_error_t *err);
/* Pausing keeps the schedule; fire times that pass meanwhile are treated on
 * resume like fire times missed during downtime: coalesced per the
 * schedule's policy and dropped when past the misfire grace time. */
TEMPO_API tempo_status_t tempo_scheduler_pause_schedule(tempo_scheduler_t *scheduler, const char *id,
                                                        tempo_done_cb cb, void *userdata,
                                                        tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_resume_schedule(tempo_scheduler_t *scheduler, const char *id,
                                                         tempo_done_cb cb, void *userdata,
                                                         tempo_error_t *err);
TEMPO_API tempo_status_t tempo_scheduler_remove_schedule(tempo_scheduler_t *scheduler, const char *id,
                                                         tempo_done_cb cb, void *userdata,
                                                         tempo_error_t *err);

/* ---- jobs ---- */
TEMPO_API tempo_status_t tempo_scheduler_add_job(tempo_scheduler_t *scheduler,
                                                 const tempo_job_options_t *opts, tempo_id_cb cb,
                                                 void *userdata, tempo_error_t *err);
/* The stored result (ENOTFOUND when none: unknown, unfinished or expired). */
TEMPO_API tempo_status_t tempo_scheduler_get_job_result(tempo_scheduler_t *scheduler, const char *job_id,
                                                        tempo_result_cb cb, void *userdata,
                                                        tempo_error_t *err);
/* The stored results of the jobs of `schedule_id` (NULL: of every job),
 * newest finished_at first (ties by job id), at most `limit` (0: all);
 * results expired by the loop's clock are left out. Only results kept by
 * their job's result_expiration are stored. EUNSUPPORTED (returned) for a
 * store that cannot list results; EINVAL for an empty schedule_id. */
TEMPO_API tempo_status_t tempo_scheduler_list_results(tempo_scheduler_t *scheduler, const char *schedule_id,
                                                      size_t limit, tempo_results_cb cb, void *userdata,
                                                      tempo_error_t *err);
/* Call back when the job has a result (at once if it already has one), or
 * with ETIMEOUT after `timeout` (NONE: no limit). The result is delivered
 * even when the job's result_expiration is 0. */
TEMPO_API tempo_status_t tempo_scheduler_wait_job_result(tempo_scheduler_t *scheduler,
                                                         const char *job_id, tempo_duration_t timeout,
                                                         tempo_result_cb cb, void *userdata,
                                                         tempo_error_t *err);

/* ---- from other threads ---- */
typedef void (*tempo_call_fn)(tempo_scheduler_t *scheduler, void *arg);
/* ANY THREAD, any mode: run fn(scheduler, arg) on the loop thread, soon and
 * never inside this call. Exactly once: if the scheduler is freed before it
 * ran, fn runs from inside tempo_scheduler_free with scheduler == NULL (to
 * release arg). Must not race tempo_scheduler_free itself (the caller keeps
 * the scheduler alive while calling this). ESTATE once free has begun. */
TEMPO_API tempo_status_t tempo_scheduler_call_threadsafe(tempo_scheduler_t *scheduler, tempo_call_fn fn,
                                                         void *arg);

/* ---- events ---- */
/* Subscribe `cb` to the events in `mask`; returns an id > 0 in *id. */
TEMPO_API tempo_status_t tempo_scheduler_subscribe(tempo_scheduler_t *scheduler, uint32_t mask,
                                                   tempo_event_cb cb, void *userdata, uint64_t *id,
                                                   tempo_error_t *err);
TEMPO_API void tempo_scheduler_unsubscribe(tempo_scheduler_t *scheduler, uint64_t id);

#ifdef __cplusplus
}
#endif
#endif
