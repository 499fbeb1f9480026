/* File-descriptor watches: one allocation each, handed to the adapter as the
 * token it reports back with tempo_loop_on_io().
 *
 * Lifetime: a watch is freed by tempo__watch_stop, except while its callback
 * is on the stack (busy > 0): then it is only marked stopped, and
 * tempo__watches_dispatch frees it when the callback returns. The adapter's
 * watch_stop runs at once in both cases, so the adapter never reports a
 * stopped watch again (the contract in loop.h). */
#include <errno.h>
#include <stdlib.h>

#include "loop_private.h"

#define IO_ALL (TEMPO_IO_READ | TEMPO_IO_WRITE)

static void link_watch(tempo_loop_t *loop, tempo__watch_t *w)
{
    w->prev = NULL;
    w->next = loop->watches;
    if (loop->watches)
        loop->watches->prev = w;
    loop->watches = w;
    loop->watch_count++;
}

static void unlink_watch(tempo_loop_t *loop, tempo__watch_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        loop->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    loop->watch_count--;
}

tempo__watch_t *tempo__watch_start(tempo_loop_t *loop, int fd, int events, tempo__io_fn fn, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return NULL;
    }
    if ((events & ~IO_ALL) != 0 || !fn) {
        errno = EINVAL;
        return NULL;
    }
    tempo__watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    w->loop = loop;
    w->fn = fn;
    w->arg = arg;
    w->events = events;
    errno = 0;
    w->handle = loop->ops->watch_start(loop->adapter, fd, events, w);
    if (!w->handle) {
        int saved = errno ? errno : EIO;
        free(w);
        errno = saved;
        return NULL;
    }
    link_watch(loop, w);
    return w;
}

int tempo__watch_update(tempo_loop_t *loop, tempo__watch_t *watch, int events)
{
    if (!watch || watch->stopped || (events & ~IO_ALL) != 0)
        return EINVAL;
    if (events == watch->events)
        return 0;
    int rc = loop->ops->watch_update(loop->adapter, watch->handle, events);
    if (rc == 0)
        watch->events = events;
    return rc;
}

void tempo__watch_stop(tempo_loop_t *loop, tempo__watch_t *watch)
{
    if (!watch || watch->stopped)
        return;
    watch->stopped = true;
    loop->ops->watch_stop(loop->adapter, watch->handle);
    watch->handle = NULL;
    unlink_watch(loop, watch);
    if (watch->busy == 0)
        free(watch);
}

/* The entry's own work for on_io. Events are masked by what the watch asks
 * for now: an adapter may have collected readiness before an update paused
 * the watch. */
void tempo__watches_dispatch(tempo_loop_t *loop, tempo__watch_t *watch, int events)
{
    (void)loop;
    if (watch->stopped)
        return;
    events &= watch->events;
    if (events == 0)
        return;
    watch->busy++;
    watch->fn(watch->arg, events);
    if (--watch->busy == 0 && watch->stopped)
        free(watch);
}

void tempo__watches_stop_all(tempo_loop_t *loop)
{
    while (loop->watches)
        tempo__watch_stop(loop, loop->watches);
}
