/* Seeing a child's exit without a SIGCHLD handler, and signalling its group.
 *
 * A library must not take the host's SIGCHLD, so exits are observed per
 * child: a pidfd (readable once the child has exited) where the kernel has
 * pidfd_open (Linux 5.3), else waitid(WNOHANG) on a timer (process_run.c).
 * Both leave the child a zombie until we choose to reap it: see the
 * invariant in process_internal.h.
 *
 * A host that reaps every child (SIGCHLD set to SIG_IGN, a waitpid(-1) in
 * its handler — libev's default loop has one) takes the exit status from
 * us: waitid answers ECHILD, and the run reports the status as unknown. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process_internal.h"

int tempo__pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    /* syscall(), not glibc's wrapper (2.36+): older glibcs lack it. The fd
     * is O_CLOEXEC by the kernel's definition. */
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int tempo__child_exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si); /* si_pid stays 0 when it has not exited */
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
            return si.si_pid != 0;
        if (errno != EINTR)
            return -1;
    }
}

int tempo__child_reap(pid_t pid, tempo__exit_how_t *how, int *code)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) == 0)
            break;
        if (errno != EINTR)
            return -1;
    }
    if (si.si_pid == 0) {
        errno = EAGAIN; /* not exited: a caller's mistake */
        return -1;
    }
    *how = si.si_code == CLD_EXITED ? TEMPO__EXIT_CODE : TEMPO__EXIT_SIGNAL;
    *code = si.si_status;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tempo__child_wait_bounded(pid_t pid, int pidfd, int ms)
{
    int64_t deadline = mono_ms() + ms;
    for (;;) {
        int r = tempo__child_exited(pid);
        if (r != 0)
            return true; /* exited, or not ours to wait for any more */
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return false;
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            (void)poll(&pfd, 1, (int)left);
        } else {
            /* No pidfd: check every millisecond. A SIGKILLed child is
             * normally gone within one. */
            struct timespec one = {0, 1000000};
            nanosleep(&one, NULL);
        }
    }
}

void tempo__group_signal(pid_t pid, int sig)
{
    /* Errors are expected and harmless: ESRCH when nothing is left to
     * signal, e.g. the child left its group and the group is empty. */
    (void)kill(-pid, sig);
    (void)kill(pid, sig);
}
