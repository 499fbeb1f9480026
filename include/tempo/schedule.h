/* tempo — schedules: a trigger bound to a task, with its policies. */
#ifndef TEMPO_SCHEDULE_H
#define TEMPO_SCHEDULE_H

#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_schedule_options {
    size_t size;                 /* sizeof(tempo_schedule_options_t) */
    const char *id;              /* NULL: a new UUID */
    const char *task_id;         /* required: a registered task */
    tempo_trigger_t *trigger;    /* required; referenced */
    const bson_t *args;          /* copied; NULL = {} */
    tempo_coalesce_t coalesce;   /* default LATEST */
    tempo_duration_t misfire_grace_time; /* >= 0; NONE (default) = the task's */
    tempo_duration_t max_jitter; /* >= 0; default 0 */
    bool jitter_deterministic;   /* jitter from a hash of (id, fire time) */
    bool paused;                 /* add it paused */
    tempo_conflict_t conflict;   /* when the id exists; default DO_NOTHING */
    tempo_duration_t job_result_expiration; /* >= 0; default 0 = keep no result */
    const bson_t *metadata;      /* copied; NULL = none */
} tempo_schedule_options_t;
#define TEMPO_SCHEDULE_OPTIONS_INIT                                                           \
    { sizeof(tempo_schedule_options_t), NULL, NULL, NULL, NULL, TEMPO_COALESCE_LATEST,        \
      TEMPO_DURATION_NONE, 0, false, false, TEMPO_CONFLICT_DO_NOTHING, 0, NULL }

/* Changes to an existing schedule: set a flag bit for each field to change. */
enum {
    TEMPO_CHANGE_ARGS = 1u << 0,
    TEMPO_CHANGE_COALESCE = 1u << 1,
    TEMPO_CHANGE_MISFIRE_GRACE_TIME = 1u << 2,
    TEMPO_CHANGE_MAX_JITTER = 1u << 3,
    TEMPO_CHANGE_JOB_RESULT_EXPIRATION = 1u << 4,
    TEMPO_CHANGE_METADATA = 1u << 5,
    TEMPO_CHANGE_TRIGGER = 1u << 6 /* next fire time recomputed from now */
};

typedef struct tempo_schedule_changes {
    size_t size;      /* sizeof(tempo_schedule_changes_t) */
    unsigned fields;  /* TEMPO_CHANGE_* */
    const bson_t *args;
    tempo_coalesce_t coalesce;
    tempo_duration_t misfire_grace_time;
    tempo_duration_t max_jitter;
    bool jitter_deterministic;
    tempo_duration_t job_result_expiration;
    const bson_t *metadata;
    tempo_trigger_t *trigger;
} tempo_schedule_changes_t;
#define TEMPO_SCHEDULE_CHANGES_INIT \
    { sizeof(tempo_schedule_changes_t), 0, NULL, TEMPO_COALESCE_LATEST, TEMPO_DURATION_NONE, 0, false, 0, NULL, NULL }

/* ---- jobs queued directly (no schedule) ---- */
typedef struct tempo_job_options {
    size_t size;                 /* sizeof(tempo_job_options_t) */
    const char *task_id;         /* required */
    const bson_t *args;          /* copied; NULL = {} */
    tempo_time_t at;             /* NONE (default) = now */
    tempo_duration_t misfire_grace_time; /* start deadline = at + this; NONE (default) = the task's */
    tempo_duration_t result_expiration;    /* default 0 = keep no result */
    /* NULL (default): none. A schedule the job belongs to, e.g. an extra run
     * of it: the job and its result carry this id (its result is listed
     * with the schedule's, tempo_scheduler_list_results), and a finished
     * schedule is kept until the job is gone. Copied; need not exist. */
    const char *schedule_id;
} tempo_job_options_t;
#define TEMPO_JOB_OPTIONS_INIT \
    { sizeof(tempo_job_options_t), NULL, NULL, TEMPO_TIME_NONE, TEMPO_DURATION_NONE, 0, NULL }

#ifdef __cplusplus
}
#endif
#endif
