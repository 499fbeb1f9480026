/* tempo_scheduler_call_threadsafe: run a function on the loop thread.
 *
 * The one scheduler call that any thread may make in any mode. Each call is a
 * node posted to the loop (tempo__loop_post is thread-safe). Nodes are also
 * kept on a list, under its own mutex, so that freeing the scheduler can take
 * back the ones not yet run and still call each function exactly once — with
 * a NULL scheduler, so the caller can release `arg`. */
#include <stdlib.h>

#include "sched_internal.h"
#include "util/error_internal.h"

struct tempo__tcall {
    tempo__call_t call;
    tempo__tcall_t *next, *prev;
    tempo_scheduler_t *s;
    tempo_call_fn fn;
    void *arg;
};

static void unlink_tcall(tempo_scheduler_t *s, tempo__tcall_t *c)
{
    pthread_mutex_lock(&s->tcalls_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->tcalls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->tcalls_mu);
}

static void run_tcall(void *arg)
{
    tempo__tcall_t *c = arg;
    tempo_scheduler_t *s = c->s;
    unlink_tcall(s, c);
    tempo__loop_lock(s->loop);
    c->fn(s, c->arg);
    tempo__loop_unlock(s->loop);
    free(c);
}

tempo_status_t tempo_scheduler_call_threadsafe(tempo_scheduler_t *s, tempo_call_fn fn, void *arg)
{
    if (!s || !fn)
        return TEMPO_EINVAL;
    tempo__tcall_t *c = calloc(1, sizeof *c);
    if (!c)
        return TEMPO_ENOMEM;
    c->s = s;
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&s->tcalls_mu);
    if (s->tcalls_closed) {
        pthread_mutex_unlock(&s->tcalls_mu);
        free(c);
        return TEMPO_ESTATE;
    }
    c->next = s->tcalls;
    if (s->tcalls)
        s->tcalls->prev = c;
    s->tcalls = c;
    pthread_mutex_unlock(&s->tcalls_mu);
    /* Posted outside the list mutex, so posters and the loop thread hold it
     * only for a link or an unlink. Safe because this call may not race
     * tempo_scheduler_free (scheduler.h): free cannot look at the list
     * between the link above and the post below. */
    tempo__loop_post(s->loop, &c->call, run_tcall, c);
    return TEMPO_OK;
}

void tempo__tcalls_init(tempo_scheduler_t *s)
{
    pthread_mutex_init(&s->tcalls_mu, NULL);
}

/* Free: refuse new calls, take back the queued ones, call each with NULL. */
void tempo__tcalls_free(tempo_scheduler_t *s)
{
    pthread_mutex_lock(&s->tcalls_mu);
    s->tcalls_closed = true;
    pthread_mutex_unlock(&s->tcalls_mu);
    while (s->tcalls) {
        tempo__tcall_t *c = s->tcalls;
        unlink_tcall(s, c);
        tempo__loop_cancel(s->loop, &c->call);
        c->fn(NULL, c->arg);
        free(c);
    }
    pthread_mutex_destroy(&s->tcalls_mu);
}
