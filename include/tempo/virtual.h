/* tempo — a virtual-time loop: an adapter whose clock moves only when told.
 *
 * For tests, and for users who want to check what their schedules will do:
 * a year of cron fires runs in milliseconds, deterministically. The clock
 * starts at `start` and moves only in tempo_vloop_advance*(); it stops at every
 * timer deadline on the way, in order, and runs everything due there before
 * moving on, exactly as a real loop would if its host were infinitely fast.
 *
 * Work from other threads (blocking tasks finishing, tempo_*_threadsafe
 * calls) arrives as wake-ups; tempo_vloop_wait() blocks in real time until one
 * comes. Everything else is single-threaded: call these on one thread. */
#ifndef TEMPO_VIRTUAL_H
#define TEMPO_VIRTUAL_H

#include <stdbool.h>
#include <tempo/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_vloop tempo_vloop_t;

/* A virtual clock at `start`, and the tempo_loop_t to give a scheduler. The
 * vloop outlives the loop: free the scheduler (which detaches the loop) first,
 * then the vloop. A loop still attached when the vloop is freed (never handed
 * to anyone) is freed with it — so never free the vloop before the scheduler
 * that holds its loop. File-descriptor watches are not supported in virtual
 * time: they fail with errno ENOTSUP. */
TEMPO_API tempo_status_t tempo_vloop_new(tempo_time_t start, tempo_vloop_t **vloop,
                                         tempo_loop_t **loop, tempo_error_t *err);
TEMPO_API void tempo_vloop_free(tempo_vloop_t *vloop);

TEMPO_API tempo_time_t tempo_vloop_now(const tempo_vloop_t *vloop);

/* Run what is due now (pending wake-ups, a timer at or before now) until
 * nothing is. Returns the number of core callbacks made (rounds: wake-ups
 * and timer fires delivered to the loop). Bounded: stops after 1,000,000
 * rounds at one instant (a runaway zero-delay timer) and says so on stderr;
 * advance/step then stay at that instant instead of moving on. */
TEMPO_API int tempo_vloop_run(tempo_vloop_t *vloop);

/* Move the clock forward to `until`, stopping at each timer deadline on the
 * way and running what is due there. `until` in the past: just run(). */
TEMPO_API void tempo_vloop_advance_to(tempo_vloop_t *vloop, tempo_time_t until);
TEMPO_API void tempo_vloop_advance(tempo_vloop_t *vloop, tempo_duration_t by);

/* Jump to the next timer deadline (if any, and no later than `limit`) and run
 * it. Returns false when no timer is armed at or before `limit`. What is due
 * at the current instant runs first, in either case. */
TEMPO_API bool tempo_vloop_step(tempo_vloop_t *vloop, tempo_time_t limit);

/* Block, in real time, up to `timeout_ms` for a wake-up from another thread,
 * then run(). Returns true when one came (also one that came before the
 * call). The virtual clock does not move. 0 only checks; a negative timeout
 * waits without limit. */
TEMPO_API bool tempo_vloop_wait(tempo_vloop_t *vloop, int timeout_ms);

/* The armed timer's deadline, or TEMPO_TIME_NONE. */
TEMPO_API tempo_time_t tempo_vloop_next_deadline(const tempo_vloop_t *vloop);

#ifdef __cplusplus
}
#endif
#endif
