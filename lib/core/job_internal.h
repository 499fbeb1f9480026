/* A job running in this process, and the handle an in-loop task holds. */
#ifndef TEMPO_CORE_JOB_INTERNAL_H
#define TEMPO_CORE_JOB_INTERNAL_H

#include "sched_internal.h"

/* The handle an in-loop task holds: it lives inside its running record. */
struct tempo_job {
    tempo__running_t *r;
};

/* What only a blocking job needs — its thread's output — kept out of the
 * record every in-loop job (one per fire) allocates. */
typedef struct tempo__blocking {
    tempo__work_t work;
    tempo__running_t *r;
    bool value_ready;
    bson_t value;
    tempo_error_t error;
    tempo_status_t status;
} tempo__blocking_t;

struct tempo__running {
    tempo__running_t *next, *prev;
    tempo_scheduler_t *s;
    char *id, *task_id, *schedule_id; /* in the same allocation; schedule_id may be NULL */
    bson_t *args;                     /* an own copy; NULL when empty (tempo__running_args) */
    tempo_time_t scheduled_fire_time, started_at;
    tempo_duration_t result_expiration;
    int64_t fence;
    void *direct; /* the store's token for a job taken direct (store.h), else NULL */
    /* Set once the job was released as CANCELLED or the scheduler is going
     * away: from then on nothing may touch `s`. */
    bool cancelled;
    /* An in-loop task's handle; while set, the handle owns the lifetime:
     * tempo__running_free only marks the entry orphaned. */
    tempo_job_t *handle;
    tempo_job_t handle_storage;
    bool orphaned;
    /* The hooks of the registration the job started under (NULL: none),
     * held until tempo__running_free: its cancel is the one called for
     * this job, and its free_userdata waits for the job. */
    tempo__hooks_t *hooks;
    /* Blocking jobs: `blocking` is owned by the pool thread while in_pool. */
    bool in_pool;
    tempo__blocking_t *blocking;
    tempo_task_blocking_fn blocking_fn;
    void *userdata;
};

/* The job's arguments: never NULL. */
const bson_t *tempo__running_args(const tempo__running_t *r);
tempo__running_t *tempo__running_new(tempo_scheduler_t *s, const tempo_job_record_t *job,
                                     const tempo__task_t *task);
/* The scheduler is done with the job: lets go of its hooks, and frees it
 * unless a handle still holds it (then the handle's last call does). For a
 * blocking job only once its thread returned. */
void tempo__running_free(tempo__running_t *r);

/* Unlink, release with this outcome, free (worker.c). */
void tempo__job_finish(tempo__running_t *r, tempo_outcome_t outcome, const bson_t *value, const char *error);

/* Cannot fail: the handle is part of r. */
tempo_job_t *tempo__job_handle_new(tempo__running_t *r);
/* The scheduler gave up on the job: the handle's calls answer ECANCELLED. */
void tempo__job_handle_cancel(tempo__running_t *r);

#endif
