/* tempo — libev adapter (libtempo-ev). */
#ifndef TEMPO_EV_H
#define TEMPO_EV_H

#include <ev.h>
#include <tempo/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An adapter on `evloop` (ev_io per watch, one ev_timer, one ev_async). The
 * libev loop must outlive the returned tempo_loop_t's scheduler. Loop thread
 * only, except that wake-ups are thread-safe.
 * Keep-alive: an idle adapter does not keep ev_run() from returning (its
 * ev_async is ev_unref'd); while the scheduler has a timer armed or a watch
 * started, those keep it running like any other watcher. The clock is the
 * system's real-time clock (UTC), read afresh on every call, not ev_now(). */
TEMPO_API tempo_status_t tempo_ev_loop_new(struct ev_loop *evloop, tempo_loop_t **out,
                                           tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
