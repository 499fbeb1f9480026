/* tempo — events: every state change, delivered to subscribers by mask.
 *
 * Callbacks run on the loop thread, after the store confirmed the change, in
 * the order the changes happened. (TASK_ADDED is the exception: tasks live in
 * the process, and it is emitted inside tempo_scheduler_add_task.) An event and its strings are valid during the
 * callback only. A callback may call any scheduler function, including
 * unsubscribing itself. */
#ifndef TEMPO_EVENT_H
#define TEMPO_EVENT_H

#include <stdint.h>
#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tempo_event_type {
    TEMPO_EVENT_SCHEDULER_STARTED = 1u << 0,
    TEMPO_EVENT_SCHEDULER_STOPPED = 1u << 1,
    TEMPO_EVENT_TASK_ADDED = 1u << 2,
    TEMPO_EVENT_TASK_REMOVED = 1u << 3,
    TEMPO_EVENT_SCHEDULE_ADDED = 1u << 4,
    TEMPO_EVENT_SCHEDULE_UPDATED = 1u << 5,  /* modified, rescheduled, paused, resumed, fired */
    TEMPO_EVENT_SCHEDULE_REMOVED = 1u << 6,  /* removed by a user or finished */
    TEMPO_EVENT_JOB_ADDED = 1u << 7,
    TEMPO_EVENT_JOB_ACQUIRED = 1u << 8,      /* a worker took it; it starts now */
    TEMPO_EVENT_JOB_RELEASED = 1u << 9,      /* it finished: see outcome */
    TEMPO_EVENT_STORE_ERROR = 1u << 10,      /* a store call failed; it will be retried */
    TEMPO_EVENT_RECORD_QUARANTINED = 1u << 11, /* a stored record could not be decoded: set aside */
    TEMPO_EVENT_ALL = (1u << 12) - 1
} tempo_event_type_t;

typedef struct tempo_event {
    tempo_event_type_t type;
    tempo_time_t timestamp;            /* the loop's clock when it happened */
    const char *task_id;               /* when it concerns one; else NULL */
    const char *schedule_id;
    const char *job_id;
    tempo_time_t scheduled_fire_time;  /* JOB_*: the job's; else NONE */
    tempo_time_t next_fire_time;       /* SCHEDULE_ADDED/UPDATED: else NONE */
    tempo_outcome_t outcome;           /* JOB_RELEASED */
    tempo_status_t status;             /* STORE_ERROR, SCHEDULER_STOPPED */
    const char *message;               /* STORE_ERROR, RECORD_QUARANTINED (why), JOB_RELEASED with
                                          an error; else NULL */
} tempo_event_t;

typedef void (*tempo_event_cb)(const tempo_event_t *event, void *userdata);

/* "schedule_added", ... */
TEMPO_API const char *tempo_event_type_name(tempo_event_type_t type);
TEMPO_API const char *tempo_outcome_name(tempo_outcome_t outcome);

#ifdef __cplusplus
}
#endif
#endif
