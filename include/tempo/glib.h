/* tempo — GLib adapter (libtempo-glib). */
#ifndef TEMPO_GLIB_H
#define TEMPO_GLIB_H

#include <glib.h>
#include <tempo/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An adapter on `context`: one custom GSource, attached there at
 * G_PRIORITY_DEFAULT, carrying the watched fds, the timer (a ready time) and
 * the wake-ups. NULL means the calling thread's thread-default context
 * (g_main_context_ref_thread_default: the one pushed with
 * g_main_context_push_thread_default, else the global default context); pass
 * g_main_context_default() to name the global one whatever the thread.
 *
 * The adapter keeps a reference on the context until the returned
 * tempo_loop_t is freed (by its scheduler, or tempo_loop_free), so the
 * application may drop its own reference first; whoever runs the context
 * must of course hold one while it does. Everything happens on the thread
 * that runs the context (create the adapter there too, or before that thread
 * starts), except wake-ups, which are thread-safe.
 *
 * Keep-alive does not apply: GLib has no notion of it (g_main_loop_run runs
 * until g_main_loop_quit). An idle adapter is never ready, so
 * g_main_context_iteration(context, FALSE) returns FALSE for it.
 * The clock is g_get_real_time() (UTC), read afresh on every call; timers
 * are kept on GLib's monotonic clock, rounded so they never fire early.
 *
 * Fills *out and returns TEMPO_OK; TEMPO_EINVAL when `out` is NULL,
 * TEMPO_ENOMEM when the core's end cannot be made (then *out is NULL and the
 * context is untouched). GLib's own allocations abort on out-of-memory, as
 * GLib always does. */
TEMPO_API tempo_status_t tempo_glib_loop_new(GMainContext *context, tempo_loop_t **out,
                                             tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
