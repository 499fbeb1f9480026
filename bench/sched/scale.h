/* The scale benchmark (bench_sched_scale): many schedules in the memory
 * store on the virtual loop, where time moves only when told, so the cost
 * of adding and of one scheduling step can be timed alone.
 *
 * The scheduler runs with role SCHEDULER: a step turns due schedules into
 * jobs and nothing runs them, so a timed step is the scheduling step and
 * nothing else. Its poll interval is 1 s (an idle scheduler then steps once
 * per virtual second: that idle step is what is timed), and its lease and
 * cleanup intervals are long enough that no other timer fires inside a
 * measurement. */
#ifndef BENCH_SCHED_SCALE_H
#define BENCH_SCHED_SCALE_H

#include <stdbool.h>
#include <stdint.h>
#include <tempo/scheduler.h>
#include <tempo/virtual.h>

typedef struct scale_env {
    tempo_vloop_t *vloop;
    tempo_scheduler_t *s;
    bool shared_trigger;     /* one trigger for all idle schedules (else one each) */
    tempo_trigger_t *shared; /* that trigger */
    long answered, failed;   /* add_schedule answers */
    tempo_error_t first_err;
    uint64_t jobs_added;     /* JOB_ADDED events seen */
} scale_env_t;

/* A scheduler on a new virtual loop at a fixed instant, with task "noop". */
int scale_env_new(scale_env_t *e, bool shared_trigger);
void scale_env_free(scale_env_t *e);

/* Add n schedules none of which is due for a day (interval 1 day, first
 * fires spread over the day after tomorrow), driving the loop as it goes.
 * 0, or -1 with a message on stderr. */
int scale_add_idle(scale_env_t *e, long n);
/* Add n schedules firing every second from the next second on. */
int scale_add_hot(scale_env_t *e, long n);

#endif
