#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process_fixture.h"

static void guard_cb(struct ev_loop *evloop, ev_timer *w, int revents)
{
    (void)evloop, (void)w, (void)revents;
}

void pf_host_init(pf_host_t *h)
{
    h->evloop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(h->evloop);
    ev_timer_init(&h->guard, guard_cb, 0., 0.);
}

void pf_host_destroy(pf_host_t *h)
{
    ev_timer_stop(h->evloop, &h->guard);
    ev_loop_destroy(h->evloop);
    h->evloop = NULL;
}

void pf_run_once(pf_host_t *h, int max_ms)
{
    ev_timer_stop(h->evloop, &h->guard);
    ev_now_update(h->evloop);
    ev_timer_set(&h->guard, max_ms / 1000.0, 0.);
    ev_timer_start(h->evloop, &h->guard);
    ev_run(h->evloop, EVRUN_ONCE);
    ev_timer_stop(h->evloop, &h->guard);
}

bool pf_under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload");
}

long long pf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool pf_run_until_fn(pf_host_t *h, bool (*pred)(void *arg), void *arg, int ms)
{
    long long deadline = pf_now_ms() + ms;
    while (!pred(arg)) {
        long long left = deadline - pf_now_ms();
        if (left <= 0)
            return false;
        pf_run_once(h, left > 50 ? 50 : (int)left);
    }
    return true;
}

static bool flag_set(void *arg)
{
    return *(const bool *)arg;
}

bool pf_run_until(pf_host_t *h, const bool *flag, int ms)
{
    return pf_run_until_fn(h, flag_set, (void *)flag, ms);
}

int pf_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

bool pf_pid_dead(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
    return !rp || rp[1] == '\0' || rp[2] == 'Z' || rp[2] == 'X';
}

static bool pid_dead_pred(void *arg)
{
    return pf_pid_dead(*(pid_t *)arg);
}

bool pf_wait_dead(pf_host_t *h, pid_t pid)
{
    return pf_run_until_fn(h, pid_dead_pred, &pid, PF_WAIT_MS);
}

bool pf_no_children(void)
{
    /* WNOWAIT: look without reaping — a zombie may be the executor's to
     * reap, and taking it would take its exit status too. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

void pf_temp_path(char *buf, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/tempo-process-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

long pf_read_int(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long v = 0;
    if (fscanf(f, "%ld", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}
