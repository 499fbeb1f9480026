/* Planning a scheduling step: from due schedules to the releases that hand
 * them back with their jobs (step.c runs the step around it).
 *
 * A plan grows one schedule at a time — from an acquired batch, or from
 * inside the store's step_schedules, which shows each schedule only for the
 * length of one call — so everything a release points at (ids, jobs, take
 * requests) lives in the plan's own growing arrays. Entries therefore hold
 * indexes; tempo__plan_fix points them at the arrays as they are now. */
#ifndef TEMPO_CORE_STEP_PLAN_H
#define TEMPO_CORE_STEP_PLAN_H

#include "sched_internal.h"

/* Jobs one schedule makes in one step at most (coalesce ALL after a long
 * downtime): the rest follow in the next steps, as it stays due. */
#define TEMPO__PLAN_MAX_JOBS 1000

typedef struct tempo__plan {
    tempo_scheduler_t *s;
    tempo_time_t now;
    int budget;                          /* slots that taken jobs may still fill */
    int taking;                          /* jobs asked to be taken */
    tempo_schedule_release_t *releases;
    size_t count, cap;
    size_t *first_job;                   /* per release */
    size_t *name_at;                     /* per release: its id in `names`, its task id right after */
    bool *take;                          /* per release: its jobs are asked to be taken */
    bson_t **args;                       /* per release: a copy, or NULL */
    tempo_job_record_t *jobs;
    char (*job_ids)[37];
    tempo_job_take_t *takes;             /* per job */
    size_t job_count, job_cap;
    char *names;
    size_t names_len, names_cap;
    tempo_time_t fires[TEMPO__PLAN_MAX_JOBS]; /* scratch */
} tempo__plan_t;

/* A plan at `now`; `take` says whether it may ask to take jobs (this
 * scheduler runs them itself). NULL when out of memory. */
tempo__plan_t *tempo__plan_new(tempo_scheduler_t *s, tempo_time_t now, bool take);
void tempo__plan_free(tempo__plan_t *p);
/* Plan schedule `r`: append its release, with its due jobs. False when out
 * of memory (nothing appended). *out, when given, points at the entry,
 * valid until the next call. */
bool tempo__plan_add(tempo__plan_t *p, const tempo_schedule_record_t *r, tempo_schedule_release_t **out);
/* Point every entry into the arrays as they are now. */
void tempo__plan_fix(tempo__plan_t *p);
const char *tempo__plan_task_id(const tempo__plan_t *p, size_t i);

#endif
