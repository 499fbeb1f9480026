/* Scheduler internals shared by the files of lib/core.
 *
 * The scheduler is a set of small state machines driven by loop callbacks:
 *
 *   scheduling step (step.c)  timer/kick -> acquire due schedules -> make jobs
 *                             -> release schedules -> kick the worker -> re-arm
 *   worker (worker.c)         timer/kick -> acquire jobs up to free capacity ->
 *                             run (in-loop or pool) -> release with a result
 *   housekeeping (house.c)    lease renewal for running jobs, cleanup, reaping
 *
 * Each machine has at most one store call in flight (a "busy" flag); a kick
 * while busy sets "again" so the machine runs once more when the call ends.
 * Nothing here blocks; every store call completes later on the loop thread.
 *
 * Public API calls that touch the store become `op`s kept on a list, so that
 * stopping or freeing the scheduler can answer every pending callback exactly
 * once with TEMPO_ECANCELLED. */
#ifndef TEMPO_CORE_SCHED_INTERNAL_H
#define TEMPO_CORE_SCHED_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <tempo/scheduler.h>

#include "exec/pool.h"
#include "loop/loop_internal.h"

typedef enum sched_state {
    SCHED_STOPPED = 0,
    SCHED_STARTING,
    SCHED_RUNNING,
    SCHED_STOPPING,
    SCHED_FREED /* freed from inside a callback; memory lives until the round unwinds */
} sched_state_t;

/* A registration's hooks (task.h: cancel, free_userdata), apart from the
 * registry entry because they can outlive it: a task replaced while jobs of
 * it run keeps its hooks until the last of those jobs is done with, and
 * only then is its free_userdata called. So the hooks are counted: one
 * reference for the registry entry (while it is current) and one per
 * running job started under them (tempo__running_new takes it,
 * tempo__running_free drops it: for an in-loop job after its cancel, for a
 * blocking job when its thread returned). Tasks with neither hook have none
 * (NULL): they need no counting. */
typedef struct tempo__hooks tempo__hooks_t;
struct tempo__hooks {
    tempo__hooks_t *next, *prev; /* on s->retired while replaced but still held */
    tempo_scheduler_t *s;        /* NULL once the scheduler is freed (see tasks.c) */
    void *userdata;
    void (*cancel)(tempo_job_t *job, void *userdata);
    void (*free_userdata)(void *userdata); /* NULL once called or handed over */
    int refs;
    tempo__call_t end_call; /* the deferred end of a retired (replaced) registration */
    bool end_queued;
};

typedef struct tempo__task {
    char *id;
    tempo_task_fn fn;
    tempo_task_blocking_fn blocking_fn;
    void *userdata;
    int max_running_jobs;
    tempo_duration_t misfire_grace_time;
    bson_t *metadata; /* NULL = none */
    bool retry_abandoned;
    tempo__hooks_t *hooks; /* NULL when the task has neither hook */
} tempo__task_t;

typedef struct tempo__sub {
    uint64_t id;
    uint32_t mask;
    tempo_event_cb cb;
    void *userdata;
    bool removed; /* unsubscribed while events were being delivered */
} tempo__sub_t;

/* A running job (worker side). The public tempo_job_t handle points here
 * while the job runs; see job.c for the handle's life. */
typedef struct tempo__running tempo__running_t;

/* A pending public call waiting for the store. */
typedef struct tempo__op tempo__op_t;

/* A job release waiting for the store's answer (worker.c). */
typedef struct tempo__release tempo__release_t;

/* A tempo_scheduler_call_threadsafe() call (threadsafe.c). */
typedef struct tempo__tcall tempo__tcall_t;

/* A wait_job_result() waiter. */
typedef struct tempo__waiter tempo__waiter_t;

struct tempo_scheduler {
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_scheduler_options_t opts;
    char *identity;
    sched_state_t state;
    tempo__call_t start_call;
    uint64_t rng; /* splitmix64 state: jitter, ids */

    /* tasks (few; linear scans are fine and keep order stable) */
    tempo__task_t *tasks;
    size_t n_tasks, cap_tasks;
    tempo_task_record_t *task_records; /* mirror for acquire_jobs */
    tempo__hooks_t *retired; /* replaced registrations whose jobs still run */

    /* events */
    tempo__sub_t *subs;
    size_t n_subs, cap_subs;
    uint64_t next_sub_id;
    int delivering; /* depth of event delivery, to defer compaction */
    uint32_t sub_mask; /* OR of the live subscriptions' masks */

    /* scheduling step */
    tempo__timer_t step_timer;
    tempo__call_t step_call;
    bool step_busy, step_again, step_queued;
    bool step_progress; /* the last acquisition returned schedules */
    /* The plan whose release (or fused step) the store has not answered:
     * freed here if the store is destroyed first, dropping the answer. */
    struct tempo__plan *step_plan;

    /* worker */
    tempo__timer_t work_timer;
    tempo__call_t work_call;
    bool work_busy, work_again, work_queued;
    /* The store may hold jobs queued for this worker: set by every kick,
     * cleared when it said it holds none (worker.c). On a store of its own
     * (the memory store: store_direct) a finishing job looks for more only
     * while it is set; on a shared one, other processes queue jobs without
     * telling us, so a finishing job always looks. */
    bool work_maybe;
    /* The worker wanted to look while a step was under way: it looks when
     * the step is done (step.c), since the step may hand it its jobs. It
     * waits for one step at most (`work_waited`): steps that follow each
     * other through a backlog must not starve it. */
    bool work_after_step, work_waited;
    int running_count;
    size_t work_asked; /* limit of the acquisition in flight */
    /* Slots promised to jobs the step in flight asked to take at release
     * (step.c): counted as running until its answer. */
    int step_taking;
    /* Release records kept for reuse (worker.c): one per fire otherwise. */
    tempo__release_t *spare_releases;
    int spare_release_count;
    tempo__running_t *running; /* list of running jobs */
    uint64_t cancel_epoch;     /* counts tempo__work_cancel_all calls */

    /* housekeeping */
    tempo__timer_t renew_timer;
    tempo__timer_t cleanup_timer;
    bool renew_busy, cleanup_busy;

    /* stop */
    tempo__timer_t stop_timer;
    tempo_done_cb stop_cb;
    void *stop_ud;
    tempo__call_t stop_call;
    bool stop_queued;
    int releases_in_flight; /* job releases (and give-backs) the store has not answered */
    tempo__release_t *releases;
    /* after store errors: the delays before the next attempt (backoff.c) */
    tempo_duration_t step_backoff, work_backoff, release_backoff;
    bool store_can_fail;      /* not the memory store: keep results for retries */
    bool store_direct;        /* the store takes jobs direct (store.h, release_direct) */

    tempo__pool_t *pool; /* created on the first blocking job */

    tempo__op_t *ops;         /* pending public calls */
    pthread_mutex_t tcalls_mu; /* guards the three below: other threads post */
    tempo__tcall_t *tcalls;
    bool tcalls_closed;
    tempo__waiter_t *waiters; /* wait_job_result */
};

/* ---- backoff.c ---- */
/* When to try the store again after a failed call: 1 s after the first
 * failure, doubling up to poll_interval. `backoff` is the caller's delay
 * (one of the scheduler's *_backoff fields). */
tempo_time_t tempo__backoff_next(tempo_scheduler_t *s, tempo_duration_t *backoff);
/* A store call succeeded: the next failure starts again at 1 s. */
void tempo__backoff_reset(tempo_duration_t *backoff);

/* ---- events.c ---- */
/* Whether anyone listens for `type`: the hot paths build no event (and read
 * no clock) for nobody. */
static inline bool tempo__wants(const tempo_scheduler_t *s, tempo_event_type_t type)
{
    return (s->sub_mask & (uint32_t)type) != 0;
}
void tempo__emit(tempo_scheduler_t *s, const tempo_event_t *ev);
/* Fill the common fields of an event of `type` (timestamp = now). */
void tempo__event_init(tempo_scheduler_t *s, tempo_event_t *ev, tempo_event_type_t type);
/* The store's quarantine report (tempo_store_quarantine_cb; userdata: the
 * scheduler): a RECORD_QUARANTINED event. */
void tempo__on_quarantine(void *userdata, const char *kind, const char *id, const char *reason);
void tempo__emit_store_error(tempo_scheduler_t *s, tempo_status_t status, const tempo_error_t *err,
                             const char *what);
void tempo__subs_free(tempo_scheduler_t *s);

/* ---- tasks.c ---- */
const tempo__task_t *tempo__task_find(const tempo_scheduler_t *s, const char *id);
/* Teardown, after every running job was cancelled and the pool joined:
 * ends every registration (free_userdata) and frees the registry. */
void tempo__tasks_free(tempo_scheduler_t *s);
/* A running job starts / stops holding its registration's hooks (NULL is
 * fine). Dropping the last reference of a replaced registration ends it
 * from the loop, soon after (never inside the caller). */
void tempo__hooks_ref(tempo__hooks_t *h);
void tempo__hooks_unref(tempo__hooks_t *h);

/* ---- ids.c ---- */
uint64_t tempo__rng_next(uint64_t *state);
/* A random UUID v4 into out[37]. */
void tempo__uuid_random(uint64_t *rng, char out[37]);
/* A UUID derived from (schedule id, fire time): the same inputs always give
 * the same id, so a job made twice for one fire time is one job. out[37]. */
void tempo__uuid_for_fire(const char *schedule_id, tempo_time_t fire_time, char out[37]);
/* A hash of (id, fire time) in [0, 1): deterministic jitter. */
double tempo__unit_hash(const char *id, tempo_time_t fire_time);

/* ---- step.c ---- */
/* Ask for a scheduling step soon (coalesces). */
void tempo__step_kick(tempo_scheduler_t *s);
void tempo__step_init(tempo_scheduler_t *s); /* once, in new */
void tempo__step_start(tempo_scheduler_t *s);
void tempo__step_stop(tempo_scheduler_t *s);
/* The store was destroyed: free the plan its dropped answer would have freed. */
void tempo__step_drop(tempo_scheduler_t *s);

/* ---- worker.c ---- */
void tempo__work_kick(tempo_scheduler_t *s);
void tempo__work_init(tempo_scheduler_t *s);
void tempo__work_start(tempo_scheduler_t *s);
void tempo__work_stop(tempo_scheduler_t *s);
/* Cancel every running job now (stop_now / free). */
void tempo__work_cancel_all(tempo_scheduler_t *s, bool release);
/* Slots free for new jobs: max_concurrent_jobs less the running jobs and
 * those an acquisition or a release in flight may bring. */
int tempo__work_free_slots(const tempo_scheduler_t *s);
/* Start jobs this scheduler holds leases on (acquired, or taken at a
 * schedule release), or hand them back when it is stopping. */
void tempo__work_take(tempo_scheduler_t *s, const tempo_job_record_t *jobs, size_t n);
/* One job taken at release; `direct`: the store's token when it took the
 * job direct (no record), else NULL. */
void tempo__work_take_one(tempo_scheduler_t *s, const tempo_job_record_t *job, void *direct);
/* Free: drop the releases whose answers the destroyed store will not send. */
void tempo__releases_free(tempo_scheduler_t *s);
/* Stopping: drop the releases waiting to be tried again (their jobs' leases
 * expire and they are reported abandoned), saying so. */
void tempo__releases_give_up(tempo_scheduler_t *s);

/* ---- dead_store.c: a store that does nothing and never calls back ---- */
tempo_store_t *tempo__dead_store(void);

/* ---- scheduler.c ---- */
void tempo__maybe_finish_stop(tempo_scheduler_t *s);

/* ---- house.c ---- */
void tempo__house_init(tempo_scheduler_t *s);
void tempo__house_start(tempo_scheduler_t *s);
void tempo__house_stopping(tempo_scheduler_t *s); /* graceful: keep renewing */
void tempo__house_stop(tempo_scheduler_t *s);

/* ---- threadsafe.c ---- */
void tempo__tcalls_init(tempo_scheduler_t *s);
void tempo__tcalls_free(tempo_scheduler_t *s);

/* ---- ops.c: pending public calls ---- */
typedef enum op_kind {
    OP_ID,        /* tempo_id_cb */
    OP_DONE,      /* tempo_done_cb */
    OP_SCHEDULES, /* tempo_schedules_cb */
    OP_RESULT     /* tempo_result_cb */
} op_kind_t;

struct tempo__op {
    tempo__op_t *next, *prev;
    tempo_scheduler_t *s;
    op_kind_t kind;
    union {
        tempo_id_cb id;
        tempo_done_cb done;
        tempo_schedules_cb schedules;
        tempo_result_cb result;
    } cb;
    void *userdata;
    char id[256];      /* the schedule/job id the op is about */
    char task_id[256]; /* its task, for the op's event ("" = unknown) */
    tempo_time_t when; /* a fire time to report in the op's event */
    void *extra;       /* op-specific state, freed by its owner */
    void (*free_extra)(void *extra);
};

tempo__op_t *tempo__op_new(tempo_scheduler_t *s, op_kind_t kind, void (*cb)(void), void *userdata,
                           const char *id);
/* Unlink, answer and free. Answers with the given values (schedules/result
 * may be NULL/0 for other kinds). */
void tempo__op_finish(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err);
void tempo__op_finish_schedules(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err,
                                const tempo_schedule_record_t *recs, size_t n);
void tempo__op_finish_result(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err,
                             const tempo_job_result_t *result);
/* Unlink and free without answering: only for a call that is being refused
 * (returns an error), whose callback must never run. */
void tempo__op_discard(tempo__op_t *op);
/* Answer every pending op with ECANCELLED (stop/free). */
void tempo__ops_cancel_all(tempo_scheduler_t *s);

/* ---- waiters (jobs_api.c) ---- */
/* A job finished here: hand its result to waiters. */
void tempo__waiters_notify(tempo_scheduler_t *s, const tempo_job_result_t *result);
void tempo__waiters_cancel_all(tempo_scheduler_t *s);

#endif
