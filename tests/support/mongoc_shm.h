/* libmongoc (linked into libtempo) creates a shared-memory file for its
 * performance counters when a process loads it — /dev/shm/mongoc-<pid> —
 * and removes it at a normal exit. A process killed with SIGKILL leaves it
 * behind, and a later process that happens to get the same pid then logs
 * "Falling back to malloc for counters" on stderr at startup, before main:
 * an extra line that tests checking stderr exactly would trip over. Tests
 * that kill a child call this after reaping it. (Applications that kill
 * their own processes can set MONGOC_DISABLE_SHM=1; docs/stores.md.) */
#ifndef TEMPO_TEST_MONGOC_SHM_H
#define TEMPO_TEST_MONGOC_SHM_H

#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

static inline void tempo_test_forget_shm(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/mongoc-%ld", (long)pid);
    (void)unlink(path); /* usually gone already: fine */
}

#endif
