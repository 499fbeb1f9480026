/* tempo — libuv adapter (libtempo-uv). */
#ifndef TEMPO_UV_H
#define TEMPO_UV_H

#include <tempo/loop.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An adapter on `uvloop` (one uv_poll per watched fd, one uv_timer, one
 * uv_async). On success *out is the new loop, owned by the caller until a
 * scheduler takes it over; on error *out is NULL, nothing is left on
 * `uvloop`, and `err` (may be NULL) says why: TEMPO_EINVAL for a NULL
 * argument, TEMPO_ENOMEM, or TEMPO_EIO when libuv refuses the uv_async
 * (e.g. out of file descriptors).
 *
 * Threads: call this, and run `uvloop`, on one thread; only the wake-ups that
 * other threads cause (posted calls) cross threads, and they are safe.
 *
 * Lifetime: freeing the tempo_loop_t (tempo_scheduler_free, tempo_loop_free)
 * closes the adapter's handles; libuv frees them in close callbacks, so run
 * `uvloop` once more (uv_run, any mode) before uv_loop_close, as for any
 * libuv handle. The libuv loop must outlive the returned loop.
 *
 * Keep-alive: an idle adapter does not keep uv_run(UV_RUN_DEFAULT) from
 * returning (its uv_async is uv_unref'd); while the scheduler has a timer
 * armed or a watch started, those keep it running like any other handle.
 *
 * Clock: the system's real-time clock (UTC), read afresh on every call, not
 * uv_now() (monotonic, in ms, and cached for the iteration).
 *
 * File descriptors: libuv allows one poll handle per fd per loop, so the
 * adapter shares one uv_poll among the scheduler's watches of an fd; an fd
 * that something else on `uvloop` already polls is refused with EEXIST.
 * libuv makes a watched fd non-blocking. */
TEMPO_API tempo_status_t tempo_uv_loop_new(uv_loop_t *uvloop, tempo_loop_t **out,
                                           tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
