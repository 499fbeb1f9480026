/* Shared by the process executor's tests (tests/process): a real libev loop
 * per test, bounded waits on real time, and checks on processes and file
 * descriptors. Include after <cmocka.h>.
 *
 * No sleep stands in for synchronisation: waits run the loop (or, for what
 * the loop cannot see, such as a grandchild's death, look again after a
 * short loop iteration) until a condition holds or a deadline passes, and a
 * passed deadline fails the test. */
#ifndef TEMPO_TEST_PROCESS_FIXTURE_H
#define TEMPO_TEST_PROCESS_FIXTURE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>
#include <tempo/loop.h>

/* Generous: CI machines have 2 cores and the sanitizers slow everything. */
#define PF_WAIT_MS 20000

typedef struct pf_host {
    struct ev_loop *evloop;
    ev_timer guard;
} pf_host_t;

/* A libev loop of its own (ev_loop_new: no SIGCHLD handler). */
void pf_host_init(pf_host_t *h);
void pf_host_destroy(pf_host_t *h);
/* One loop iteration, blocking at most max_ms. */
void pf_run_once(pf_host_t *h, int max_ms);
/* Run the loop until *flag is true or ms pass; returns *flag. */
bool pf_run_until(pf_host_t *h, const bool *flag, int ms);
/* Same with a predicate. */
bool pf_run_until_fn(pf_host_t *h, bool (*pred)(void *arg), void *arg, int ms);

/* Under valgrind, posix_spawn's vfork-style clone becomes a fork, so an
 * exec failure is no longer reported by posix_spawn: the child exits 127.
 * (Valgrind also lacks pidfd_open, which exercises the polling fallback.) */
bool pf_under_valgrind(void);
/* Monotonic milliseconds. */
long long pf_now_ms(void);
/* Open file descriptors of this process (/proc/self/fd). */
int pf_fd_count(void);
/* True when `pid` is no longer running: gone, or a zombie waiting for its
 * (adoptive) parent — either way it will never run again. */
bool pf_pid_dead(pid_t pid);
/* Wait (running the loop) until pf_pid_dead(pid), at most PF_WAIT_MS. A
 * signalled process dies when the kernel gets to it, not at kill(). */
bool pf_wait_dead(pf_host_t *h, pid_t pid);
/* True when this process has no child at all, not even a zombie. */
bool pf_no_children(void);
/* A fresh temporary file path (created empty) into buf. */
void pf_temp_path(char *buf, size_t size);
/* The first integer in the file, or 0 when there is none yet. */
long pf_read_int(const char *path);

#endif
