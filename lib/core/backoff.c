/* Backing off from a failing store (sched_internal.h).
 *
 * Store errors never stop the scheduler (DESIGN.md §5): every failed call is
 * tried again later. The delay doubles so that a server that is down is not
 * hammered by every scheduler at once, and is capped by poll_interval so that
 * catching up after it returns takes at most that long. The step, the worker
 * and the job releases each keep their own delay: one part's retries must not
 * push back another's. */
#include "sched_internal.h"

#define BACKOFF_FIRST TEMPO_SECONDS(1)

tempo_time_t tempo__backoff_next(tempo_scheduler_t *s, tempo_duration_t *backoff)
{
    tempo_duration_t cap = s->opts.poll_interval;
    if (cap < BACKOFF_FIRST)
        cap = BACKOFF_FIRST;
    if (*backoff <= 0)
        *backoff = BACKOFF_FIRST;
    else if (*backoff < cap)
        *backoff = *backoff > cap / 2 ? cap : *backoff * 2;
    if (*backoff > cap)
        *backoff = cap;
    return tempo_loop_now(s->loop) + *backoff;
}

void tempo__backoff_reset(tempo_duration_t *backoff)
{
    *backoff = 0;
}
