/* A scripted adapter for the lib/loop unit tests: it records every op the
 * core calls, and the test plays the host loop by calling tempo_loop_on_*
 * itself — so early fires, spurious wake-ups and exact timer_set arguments
 * can be checked, which neither the virtual loop nor a real one exposes. */
#ifndef TEST_LOOP_MOCK_H
#define TEST_LOOP_MOCK_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "loop/loop_internal.h"

#define MOCK_WATCHES 16

typedef struct mock_watch {
    int fd;
    int events;
    void *token;
    bool live;
} mock_watch_t;

typedef struct mock {
    tempo_time_t now;
    int timer_sets;
    tempo_duration_t last_delay;
    bool armed;
    int timer_clears;
    int wakes;
    int detaches;
    int watch_stops;
    int watch_updates;
    int fail_start_errno; /* watch_start fails with this when non-zero */
    mock_watch_t watches[MOCK_WATCHES];
} mock_t;

static inline void *mock_watch_start(void *adapter, int fd, int events, void *token)
{
    mock_t *m = adapter;
    if (m->fail_start_errno) {
        errno = m->fail_start_errno;
        return NULL;
    }
    for (int i = 0; i < MOCK_WATCHES; i++) {
        if (!m->watches[i].live) {
            m->watches[i] = (mock_watch_t){fd, events, token, true};
            return &m->watches[i];
        }
    }
    errno = EMFILE;
    return NULL;
}

static inline int mock_watch_update(void *adapter, void *watch, int events)
{
    mock_t *m = adapter;
    mock_watch_t *w = watch;
    m->watch_updates++;
    w->events = events;
    return 0;
}

static inline void mock_watch_stop(void *adapter, void *watch)
{
    mock_t *m = adapter;
    mock_watch_t *w = watch;
    m->watch_stops++;
    w->live = false;
}

static inline void mock_timer_set(void *adapter, tempo_duration_t delay)
{
    mock_t *m = adapter;
    m->timer_sets++;
    m->last_delay = delay;
    m->armed = true;
}

static inline void mock_timer_clear(void *adapter)
{
    mock_t *m = adapter;
    m->timer_clears++;
    m->armed = false;
}

static inline void mock_wake(void *adapter)
{
    mock_t *m = adapter;
    m->wakes++;
}

static inline tempo_time_t mock_now(void *adapter)
{
    mock_t *m = adapter;
    return m->now;
}

static inline void mock_detach(void *adapter)
{
    mock_t *m = adapter;
    m->detaches++;
    m->armed = false;
}

static const tempo_loop_ops_t mock_ops = {
    .size = sizeof(tempo_loop_ops_t),
    .name = "mock",
    .watch_start = mock_watch_start,
    .watch_update = mock_watch_update,
    .watch_stop = mock_watch_stop,
    .timer_set = mock_timer_set,
    .timer_clear = mock_timer_clear,
    .wake = mock_wake,
    .now = mock_now,
    .detach = mock_detach,
};

static inline tempo_loop_t *mock_loop(mock_t *m, tempo_time_t now)
{
    memset(m, 0, sizeof *m);
    m->now = now;
    tempo_loop_t *loop = NULL;
    if (tempo_loop_new(&mock_ops, m, &loop, NULL) != TEMPO_OK)
        return NULL;
    return loop;
}

/* Play the host loop's timer: fire it (it is one-shot) if armed. */
static inline bool mock_fire(mock_t *m, tempo_loop_t *loop)
{
    if (!m->armed)
        return false;
    m->armed = false;
    tempo_loop_on_timer(loop);
    return true;
}

#endif
