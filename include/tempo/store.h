/* tempo — the store contract: where tasks, schedules, jobs and results live.
 *
 * DESIGN.md §4, §7. A store is an asynchronous vtable. Every operation takes a
 * completion callback that runs later on the loop thread — never inside the
 * call that started it — exactly once, also on failure and on shutdown
 * (TEMPO_ECANCELLED). Records handed to a callback are borrowed: valid until
 * the callback returns; copy what you keep. Records handed to an operation
 * are read during the call only; the store copies what it keeps.
 *
 * Concurrency across processes rests on leases: acquiring a schedule or job
 * sets (owner, until, fence) atomically; a release or extension by an owner
 * whose fence no longer matches is refused with TEMPO_ELEASE (a stale owner
 * cannot overwrite the work of the one that took over). A lease that expires
 * makes the record available again, so a crashed process never holds a
 * schedule, a job or a max_running_jobs slot forever.
 *
 * The conformance suite (tests/conformance/store_*) is the definition of a
 * store: every store passes the same cases. */
#ifndef TEMPO_STORE_H
#define TEMPO_STORE_H

#include <bson/bson.h>
#include <stdbool.h>
#include <tempo/loop.h>
#include <tempo/trigger.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "Not set" for durations: no misfire grace limit, etc. */
#define TEMPO_DURATION_NONE INT64_MIN

/* ---------------------------------------------------------------- records */

typedef enum tempo_coalesce {
    TEMPO_COALESCE_LATEST = 0, /* default: one job, for the latest missed fire time */
    TEMPO_COALESCE_EARLIEST,   /* one job, for the earliest */
    TEMPO_COALESCE_ALL         /* one job per fire time */
} tempo_coalesce_t;

typedef enum tempo_conflict {
    TEMPO_CONFLICT_DO_NOTHING = 0, /* default (as APScheduler 4): keep the existing one */
    TEMPO_CONFLICT_REPLACE,
    TEMPO_CONFLICT_ERROR           /* TEMPO_EEXIST */
} tempo_conflict_t;

typedef enum tempo_outcome {
    TEMPO_OUTCOME_SUCCESS = 0,
    TEMPO_OUTCOME_ERROR,
    TEMPO_OUTCOME_MISSED_START_DEADLINE,
    TEMPO_OUTCOME_CANCELLED,
    TEMPO_OUTCOME_ABANDONED,
    TEMPO_OUTCOME_DESERIALIZATION_FAILED
} tempo_outcome_t;

typedef enum tempo_executor {
    TEMPO_EXECUTOR_LOOP = 0, /* called on the loop thread; completes now or later */
    TEMPO_EXECUTOR_THREAD    /* run on the scheduler's thread pool */
} tempo_executor_t;

/* Who holds a record, until when, and the fencing token of that acquisition.
 * owner NULL: not held. The fence grows with every acquisition of the record. */
typedef struct tempo_lease {
    const char *owner;
    tempo_time_t until;
    int64_t fence;
} tempo_lease_t;

typedef struct tempo_task_record {
    const char *id;
    tempo_executor_t executor;
    int max_running_jobs;               /* >= 0; 0 = unlimited */
    tempo_duration_t misfire_grace_time; /* TEMPO_DURATION_NONE = unlimited */
    const bson_t *metadata;             /* may be NULL */
} tempo_task_record_t;

typedef struct tempo_schedule_record {
    const char *id;
    const char *task_id;
    tempo_trigger_t *trigger;
    const bson_t *args;                 /* may be NULL = empty */
    tempo_coalesce_t coalesce;
    tempo_duration_t misfire_grace_time; /* NONE = the task's */
    tempo_duration_t max_jitter;         /* 0 = none */
    bool jitter_deterministic;           /* jitter from a hash of (id, fire time) */
    bool paused;
    tempo_duration_t job_result_expiration; /* how long results of its jobs are kept */
    tempo_time_t next_fire_time;         /* NONE = finished (trigger exhausted) */
    tempo_time_t last_fire_time;         /* NONE = never fired */
    const bson_t *metadata;              /* may be NULL */
    tempo_lease_t lease;
} tempo_schedule_record_t;

typedef struct tempo_job_record {
    const char *id;                      /* UUID text, 36 chars */
    const char *task_id;
    const char *schedule_id;             /* NULL for a job queued directly */
    const bson_t *args;                  /* may be NULL = empty */
    tempo_time_t scheduled_fire_time;    /* jitter included; NONE = "now" */
    tempo_time_t original_fire_time;     /* the trigger's time, before jitter */
    tempo_time_t start_deadline;         /* NONE = no deadline */
    tempo_duration_t result_expiration;  /* 0 = keep no result */
    tempo_time_t created_at;
    tempo_lease_t lease;
} tempo_job_record_t;

typedef struct tempo_job_result {
    const char *job_id;
    const char *task_id;
    const char *schedule_id;             /* may be NULL */
    tempo_outcome_t outcome;
    tempo_time_t scheduled_fire_time;
    tempo_time_t started_at;             /* NONE when it never started */
    tempo_time_t finished_at;
    tempo_time_t expires_at;
    const bson_t *return_value;          /* SUCCESS: may be NULL */
    const char *error;                   /* ERROR etc.: a message; may be NULL */
} tempo_job_result_t;

/* --------------------------------------------------------------- callbacks */

/* A stored record that could not be decoded (written by a newer version,
 * damaged): the store set it aside — quarantined, never deleted — and skips
 * it from then on. `kind` is "task", "schedule" or "job". Loop thread. */
typedef void (*tempo_store_quarantine_cb)(void *userdata, const char *kind, const char *id,
                                          const char *reason);

typedef void (*tempo_store_status_cb)(void *userdata, tempo_status_t status,
                                      const tempo_error_t *err);

typedef enum tempo_store_added {
    TEMPO_STORE_ADDED = 0,
    TEMPO_STORE_REPLACED,
    TEMPO_STORE_KEPT /* conflict policy DO_NOTHING found an existing record */
} tempo_store_added_t;
typedef void (*tempo_store_add_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                   tempo_store_added_t what);

typedef void (*tempo_store_tasks_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                     const tempo_task_record_t *tasks, size_t count);
typedef void (*tempo_store_schedules_cb)(void *userdata, tempo_status_t status,
                                         const tempo_error_t *err,
                                         const tempo_schedule_record_t *schedules, size_t count);
typedef void (*tempo_store_jobs_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                    const tempo_job_record_t *jobs, size_t count);
typedef void (*tempo_store_result_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                      const tempo_job_result_t *result);
typedef void (*tempo_store_time_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                    tempo_time_t when);
/* Results, newest first; `results` is NULL when count is 0. */
typedef void (*tempo_store_results_cb)(void *userdata, tempo_status_t status, const tempo_error_t *err,
                                       const tempo_job_result_t *results, size_t count);

/* What a scheduler hands back when it releases an acquired schedule: the new
 * state, and the jobs it made from the due fire times. The store adds the jobs
 * (idempotently: a job id that exists is skipped, so a re-run of the same
 * release after a crash cannot double a job — ids are derived from the
 * schedule id and fire time) and then updates the schedule if the fence still
 * matches; a schedule whose lease was lost is left alone and reported with
 * TEMPO_ELEASE in `status` of its entry. */
typedef struct tempo_job_take {
    tempo_time_t until;  /* in: the lease to take the job with */
    int max_running;     /* in: its task's max_running_jobs (0 = no limit) */
    int64_t fence;       /* out: the fence of the lease taken; 0 = not taken */
    /* in: the scheduler can end this job with release_direct (stores that
     * have that op, in step_schedules only). */
    bool direct_ok;
    /* out: non-NULL when the store took the job "direct": it made no record
     * of it and only holds one of its task's max_running_jobs slots for it
     * (fence is still set). The job is then the scheduler's alone — not
     * listed by get_jobs, not renewed by extend_leases — until it hands
     * this token to release_direct. */
    void *direct;
} tempo_job_take_t;

typedef struct tempo_schedule_release {
    const char *id;
    int64_t fence;
    tempo_time_t next_fire_time; /* NONE: finished; removed once no job refers to it */
    tempo_time_t last_fire_time;
    const tempo_job_record_t *jobs;
    size_t job_count;
    tempo_status_t status;       /* out: per entry */
    /* Optional, NULL when unused: one per job. The releasing scheduler asks
     * to run these jobs itself at once, saving the round trip of acquiring
     * them. A store that supports it adds job k already leased to `owner`
     * until take[k].until — only when the job is new and fewer than
     * take[k].max_running jobs of its task hold an unexpired lease — and
     * writes that lease's fence to take[k].fence. Otherwise (or when the
     * store ignores `take`) take[k].fence stays 0 and the job is queued as
     * usual. Either way the entry's own status is unaffected. */
    tempo_job_take_t *take;
} tempo_schedule_release_t;

/* step_schedules' planning: fill a release for `schedule` and point
 * *release at it; false when that cannot be done (out of memory). */
typedef bool (*tempo_store_plan_fn)(void *plan_ud, const tempo_schedule_record_t *schedule,
                                    tempo_schedule_release_t **release);

/* -------------------------------------------------------------------- ops */

typedef struct tempo_store_ops {
    size_t size;      /* sizeof(tempo_store_ops_t) */
    const char *name; /* "memory", "sqlite", "mongodb" */

    /* Bind to the loop whose thread runs the callbacks. Called once, first. */
    tempo_status_t (*start)(void *self, tempo_loop_t *loop, tempo_error_t *err);
    /* Finish every operation in flight (their callbacks run, with
     * TEMPO_ECANCELLED if they could not complete), then call cb. After cb no
     * other callback runs. */
    void (*stop)(void *self, tempo_store_status_cb cb, void *userdata);
    /* Free everything, at any time after start (or without it). Operations
     * still in flight are dropped: their callbacks never run. (Used by
     * tempo_scheduler_free, which cannot wait for stop's callback.) */
    void (*destroy)(void *self);

    /* Tasks: add replaces an existing task of the same id. */
    void (*add_task)(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud);
    void (*get_tasks)(void *self, tempo_store_tasks_cb cb, void *ud);
    void (*remove_task)(void *self, const char *id, tempo_store_status_cb cb, void *ud);

    /* Schedules. get_schedules with count 0 lists all (ordered by id). */
    void (*add_schedule)(void *self, const tempo_schedule_record_t *schedule,
                         tempo_conflict_t conflict, tempo_store_add_cb cb, void *ud);
    void (*get_schedules)(void *self, const char *const *ids, size_t count,
                          tempo_store_schedules_cb cb, void *ud);
    /* Replace every field but the lease. ENOTFOUND when missing. */
    void (*update_schedule)(void *self, const tempo_schedule_record_t *schedule,
                            tempo_store_status_cb cb, void *ud);
    /* Missing ids are ignored. */
    void (*remove_schedules)(void *self, const char *const *ids, size_t count,
                             tempo_store_status_cb cb, void *ud);
    /* Up to `limit` schedules with next_fire_time <= now, not paused, not
     * finished, not leased (or lease expired), earliest first; each gets a
     * lease (owner, now + lease, fence + 1). */
    void (*acquire_schedules)(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                              size_t limit, tempo_store_schedules_cb cb, void *ud);
    /* `releases` must stay alive until cb: each entry's status is written
     * just before it runs. */
    void (*release_schedules)(void *self, const char *owner, tempo_schedule_release_t *releases,
                              size_t count, tempo_store_status_cb cb, void *ud);
    /* The earliest next_fire_time of schedules that acquire_schedules could
     * return at that time (unpaused, unfinished; a held lease counts from its
     * expiry), or NONE. */
    void (*next_schedule_time)(void *self, tempo_store_time_cb cb, void *ud);

    /* Jobs. add_job: EEXIST when the id exists. get_jobs with count 0 lists
     * all, ordered by id; missing ids are skipped. */
    void (*add_job)(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud);
    void (*get_jobs)(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud);
    /* Up to `limit` jobs of the listed tasks (the ones this worker can run),
     * oldest scheduled_fire_time first (then created_at), whose scheduled time
     * <= now, never leased, skipping jobs of tasks at their
     * max_running_jobs as given in `tasks` (counted over unexpired job leases
     * of every owner: a dead owner's slots come back when its leases expire).
     * Skipped jobs stay queued. A job whose lease expired is NOT acquirable:
     * it waits for reap_abandoned (or its owner's late extension or
     * release), so a dead worker's job is reported ABANDONED rather than
     * silently run twice; running it again is the task's choice. Its slot
     * is free from the expiry on. */
    void (*acquire_jobs)(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                         size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                         tempo_store_jobs_cb cb, void *ud);
    /* Record the result and delete the job. The result is kept when the
     * job's result_expiration > 0, until finished_at + result_expiration
     * (computed by the store; result->expires_at is ignored). ELEASE when
     * owner/fence no longer hold it. */
    void (*release_job)(void *self, const char *owner, const char *job_id, int64_t fence,
                        const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud);
    /* The earliest scheduled_fire_time of queued (never leased) jobs, or
     * NONE. */
    void (*next_job_time)(void *self, tempo_store_time_cb cb, void *ud);
    /* ENOTFOUND when there is none (never existed, not finished, or expired). */
    void (*get_job_result)(void *self, const char *job_id, tempo_store_result_cb cb, void *ud);

    /* Extend the leases `owner` holds on these schedules and jobs to `until`.
     * Records it no longer holds are skipped and reported with ELEASE. */
    void (*extend_leases)(void *self, const char *owner, const char *const *schedule_ids,
                          size_t schedule_count, const char *const *job_ids, size_t job_count,
                          tempo_time_t until, tempo_store_status_cb cb, void *ud);
    /* Jobs whose lease expired at or before `now` (a lease is valid while
     * now < until): record an ABANDONED result for each, delete them, and
     * report them. */
    void (*reap_abandoned)(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud);
    /* Delete results expired at `now` and finished schedules that no job
     * refers to any more. */
    void (*cleanup)(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud);

    /* Optional (NULL: the store never decodes anything, as the memory
     * store). Where to report quarantined records; set once after start,
     * before any other operation. Reports run on the loop thread, each before
     * the callback of the operation that met the record. */
    void (*set_quarantine_cb)(void *self, tempo_store_quarantine_cb cb, void *userdata);

    /* Optional (NULL, or a `size` that ends before it: the store cannot list
     * results; callers answer TEMPO_EUNSUPPORTED). Added after the first
     * release, hence at the end.
     * The stored results not expired at `now` (expires_at > now, as
     * get_job_result), of the jobs of `schedule_id` (NULL: of every job,
     * with or without a schedule), newest finished_at first, ties by job id
     * (ascending); at most `limit` of them (0: all). EINVAL for an empty
     * schedule_id or now == NONE. A stored result that cannot be decoded
     * fails the call (EFORMAT naming its job), as get_job_result does. */
    void (*list_results)(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                         tempo_store_results_cb cb, void *ud);

    /* Optional (NULL, or a `size` that ends before it: the scheduler
     * acquires and releases instead). acquire_schedules, the planning and
     * release_schedules in one call, for a store that can run the planning
     * inside its operation (the memory store): no lease, no copy of the
     * schedules, one round trip per step. Takes up to `limit` schedules that
     * acquire_schedules would return at `now`, in its order, and for each
     * calls plan(plan_ud, schedule, &release): `schedule` is valid during that
     * call only, and plan points `release` at an entry (fence ignored; jobs
     * and take as in release_schedules) valid until plan is called again.
     * The store applies it before going on, as release_schedules would, and
     * writes its status (TEMPO_OK: applied; otherwise nothing of it was).
     * plan returning false stops the step there, that schedule untouched.
     * Each applied entry stays applied whatever comes after; the callback's
     * status says whether the step ran into a failure. plan must not call
     * the store. */
    void (*step_schedules)(void *self, const char *owner, tempo_time_t now, size_t limit,
                           tempo_store_plan_fn plan, void *plan_ud, tempo_store_status_cb cb, void *ud);

    /* Optional, for a store with step_schedules that takes jobs direct
     * (tempo_job_take_t.direct); called with that token, once per job.
     * With `result` and `cb`: as release_job — frees the job's slot, keeps
     * `result` when it asks to be kept (expires_at > finished_at; its ids
     * are copied) and answers later through cb. With both NULL: frees the
     * slot at once and answers nothing — it cannot fail (a job that keeps
     * no result and that nobody waits for, or one handed back after
     * add_job queued it again). A result without a callback is ignored
     * (keeping it could fail, with nobody to tell). A store may be stopped:
     * the slot is freed all the same. */
    void (*release_direct)(void *self, void *direct, const tempo_job_result_t *result, tempo_store_status_cb cb,
                           void *ud);
} tempo_store_ops_t;

/* A store: its ops and its private state. */
typedef struct tempo_store {
    const tempo_store_ops_t *ops;
    void *self;
} tempo_store_t;

/* The in-memory store (the default): O(log n) due lookups, 10^6 schedules. */
TEMPO_API tempo_status_t tempo_memory_store_new(tempo_store_t **out, tempo_error_t *err);

/* A store named by a URI: "memory:", "sqlite:PATH" (also "sqlite:///PATH"),
 * or "mongodb://..." / "mongodb+srv://..." (the database from the URI's
 * path, default "tempo"). EINVAL naming what is wrong; EUNSUPPORTED when
 * that store is not in this build. The store is not started. */
TEMPO_API tempo_status_t tempo_store_open(const char *uri, tempo_store_t **out, tempo_error_t *err);

/* Free a store that no scheduler took over. NULL is fine. */
TEMPO_API void tempo_store_free(tempo_store_t *store);

#ifdef __cplusplus
}
#endif
#endif
