/* SIGINT and SIGTERM for tempo_scheduler_run_with(handle_signals): the
 * handler records the signal and wakes the runner's loop with
 * ev_async_send; the loop (under the big lock) begins the graceful stop.
 *
 * Not libev's ev_signal, for two reasons: libev aborts (an assert) when two
 * loops watch the same signal, which an application's own default loop may
 * well do; and it resets the disposition to SIG_DFL when the watcher stops.
 * A plain sigaction lets us refuse cleanly and restore exactly what was
 * there before.
 *
 * Signal handlers get no argument, so whoever handles signals is a process
 * global: one run at a time (ESTATE for the others).
 *
 * The handler may run on any thread at any moment, also just as the run
 * ends and its runner is about to be freed. `busy` counts handlers inside
 * their critical part: remove clears `owner`, then waits for the count to
 * reach 0. Both sides use sequentially consistent atomics, so either the
 * handler sees NULL, or the remover sees it busy and waits for it; the
 * critical part is an atomic store and an ev_async_send, so the wait is
 * short and bounded. */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "ev_internal.h"

static const int handled[TEMPO__EV_N_SIGNALS] = {SIGINT, SIGTERM};
static const char *const names[TEMPO__EV_N_SIGNALS] = {"SIGINT", "SIGTERM"};

static _Atomic(tempo__ev_signals_t *) owner;
static atomic_int busy;

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "the signal handler needs lock-free atomics to be async-signal-safe");

static void on_signal(int signo)
{
    int saved_errno = errno; /* ev_async_send may write to a pipe */
    atomic_fetch_add(&busy, 1);
    tempo__ev_signals_t *sigs = atomic_load(&owner);
    if (sigs) {
        atomic_store(&sigs->received, signo);
        ev_async_send(sigs->evloop, sigs->wake); /* async-signal-safe (ev(3)) */
    }
    atomic_fetch_sub(&busy, 1);
    errno = saved_errno;
}

void tempo__ev_signals_remove(tempo__ev_signals_t *sigs)
{
    for (int i = 0; i < TEMPO__EV_N_SIGNALS; i++) {
        if (sigs->installed[i])
            sigaction(handled[i], &sigs->saved[i], NULL);
        sigs->installed[i] = false;
    }
    tempo__ev_signals_t *expected = sigs;
    atomic_compare_exchange_strong(&owner, &expected, NULL);
    while (atomic_load(&busy) > 0)
        sched_yield();
    /* A signal that came too late for this run must not stop the next one. */
    atomic_store(&sigs->received, 0);
}

/* A signal the process ignores (nohup, a shell's `cmd &` for SIGINT) stays
 * ignored: whoever started us decided so. */
static bool ignored(int sig)
{
    struct sigaction old;
    return sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN;
}

tempo_status_t tempo__ev_signals_install(tempo__ev_signals_t *sigs, tempo_error_t *err)
{
    tempo__ev_signals_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&owner, &expected, sigs))
        return tempo__ev_fail(err, TEMPO_ESTATE,
                              "tempo_scheduler_run: handle_signals: another run in this process "
                              "already handles SIGINT and SIGTERM");
    atomic_store(&sigs->received, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < TEMPO__EV_N_SIGNALS; i++) {
        if (ignored(handled[i]))
            continue;
        if (sigaction(handled[i], &sa, &sigs->saved[i]) != 0) {
            int e = errno;
            tempo__ev_signals_remove(sigs);
            return tempo__ev_fail(err, TEMPO_EIO, "tempo_scheduler_run: handle_signals: sigaction(%s): %s",
                                  names[i], strerror(e));
        }
        sigs->installed[i] = true;
    }
    return TEMPO_OK;
}

int tempo__ev_signals_take(tempo__ev_signals_t *sigs)
{
    return atomic_exchange(&sigs->received, 0);
}
