/* One child process on the loop, from spawn to reaped.
 *
 *   spawn -> RUNNING: stdout/stderr watched and read as they come;
 *            the exit seen by a pidfd watch, or a polling timer
 *            (timeout timer -> SIGTERM to the group, kill timer -> SIGKILL)
 *         -> the exit path (one call, never re-entered):
 *            read what the pipes hold; SIGKILL what is left of the group
 *            (only while the child is an unreaped zombie, so the group id
 *            is still ours); reap; close; done()
 *
 * Why the job ends at the child's exit and not at the pipes' end of file: a
 * command that leaves something running in the background (`sleep 100 &`)
 * hands it our pipes, and waiting for their EOF would make the job last as
 * long as its stray. Everything the child itself wrote is in the pipes when
 * it exits (its writes completed), so nothing of its own is lost; strays are
 * killed with the group, like systemd's KillMode=control-group.
 *
 * Without a pidfd (kernels before 5.3, seccomp filters that refuse it) the
 * exit is polled with waitid(WNOWAIT) on a timer: first after 1 ms, the delay
 * doubling up to POLL_MAX, so a long job costs a few checks a second and an
 * exit is noticed at most POLL_MAX late; the pipes' EOF (usually the exit)
 * triggers a check at once. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/store.h>
#include <time.h>
#include <unistd.h>

#include "process_internal.h"
#include "util/error_internal.h"

#define POLL_FIRST ((tempo_duration_t)1000)
#define POLL_MAX ((tempo_duration_t)200000)
/* Reads per readiness callback: a child writing flat out must not hold the
 * loop thread (level-triggered watches bring us back). */
#define READS_PER_WAKE 16
/* Reads when draining at exit: what the pipes hold is bounded by their
 * capacity, strays still writing are about to be killed. */
#define READS_AT_EXIT 64
/* How long freeing a running child waits for it to die after SIGKILL. */
#define FREE_WAIT_MS 1000

typedef struct stream {
    tempo__process_t *p;
    int fd;                 /* -1 once closed */
    tempo__watch_t *watch;
    tempo__output_t *out;
} stream_t;

struct tempo__process {
    tempo_loop_t *loop;
    tempo__process_report_t rep;
    stream_t streams[2];
    int pidfd;                   /* -1: polling */
    tempo__watch_t *exit_watch;
    tempo__timer_t poll_timer;
    tempo_duration_t poll_delay;
    tempo__timer_t timeout_timer;
    tempo__timer_t kill_timer;
    tempo_duration_t kill_grace;
    struct timespec started;
    bool killing;                /* SIGTERM sent, SIGKILL pending or sent */
    bool reaped;                 /* by us, or known gone: no more signals */
    bool done;
    tempo__process_done_fn done_fn;
    void *done_arg;
};

static int64_t elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000000 + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* ---- output ---- */

static void stream_close(stream_t *st)
{
    if (st->fd < 0)
        return;
    tempo__watch_stop(st->p->loop, st->watch);
    st->watch = NULL;
    close(st->fd);
    st->fd = -1;
}

static bool streams_closed(const tempo__process_t *p)
{
    return p->streams[0].fd < 0 && p->streams[1].fd < 0;
}

static void check_exit_soon(tempo__process_t *p);

static void on_output(void *arg, int events)
{
    (void)events;
    stream_t *st = arg;
    if (tempo__output_read(st->out, st->fd, READS_PER_WAKE) == 1) {
        stream_close(st);
        if (streams_closed(st->p))
            check_exit_soon(st->p);
    }
}

static void drain(tempo__process_t *p)
{
    for (int i = 0; i < 2; i++)
        if (p->streams[i].fd >= 0 && tempo__output_read(p->streams[i].out, p->streams[i].fd, READS_AT_EXIT) == 1)
            stream_close(&p->streams[i]);
}

/* ---- the exit path ---- */

static void stop_exit_watch(tempo__process_t *p)
{
    tempo__watch_stop(p->loop, p->exit_watch);
    p->exit_watch = NULL;
    tempo__timer_stop(p->loop, &p->poll_timer);
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }
}

static void stop_timers(tempo__process_t *p)
{
    tempo__timer_stop(p->loop, &p->timeout_timer);
    tempo__timer_stop(p->loop, &p->kill_timer);
    tempo__timer_stop(p->loop, &p->poll_timer);
}

/* The child has exited and is not reaped (or someone else reaped it:
 * `gone`). Clean up the group, reap, collect, report. */
static void exited(tempo__process_t *p, bool gone)
{
    p->rep.duration_us = elapsed_us(&p->started);
    stop_exit_watch(p);
    stop_timers(p);
    drain(p);
    if (gone) {
        /* The group id may already belong to someone else: no signal. */
        p->rep.how = TEMPO__EXIT_UNKNOWN;
    } else {
        tempo__group_signal(p->rep.pid, SIGKILL); /* strays */
        if (tempo__child_reap(p->rep.pid, &p->rep.how, &p->rep.code) != 0)
            p->rep.how = TEMPO__EXIT_UNKNOWN;
    }
    p->reaped = true;
    drain(p); /* what the strays wrote before dying */
    stream_close(&p->streams[0]);
    stream_close(&p->streams[1]);
    p->done = true;
    p->done_fn(p, p->done_arg); /* may free p: last */
}

/* Look at the child; take the exit path if it has exited. */
static bool check_exit(tempo__process_t *p)
{
    int r = tempo__child_exited(p->rep.pid);
    if (r == 0)
        return false;
    exited(p, r < 0);
    return true;
}

static void on_pidfd(void *arg, int events)
{
    (void)events;
    check_exit(arg); /* a spurious wake-up finds it running: nothing */
}

static void on_poll(void *arg)
{
    tempo__process_t *p = arg;
    if (check_exit(p))
        return;
    p->poll_delay = p->poll_delay * 2 > POLL_MAX ? POLL_MAX : p->poll_delay * 2;
    /* Cannot fail: the heap had room for this timer before it fired, and
     * it only ever shrinks to twice what it holds. */
    tempo__timer_start_after(p->loop, &p->poll_timer, p->poll_delay);
}

/* The pipes closed: the child has most likely exited. With a pidfd its
 * watch will say so; when polling, look again right away. */
static void check_exit_soon(tempo__process_t *p)
{
    if (p->pidfd >= 0 || p->done)
        return;
    p->poll_delay = POLL_FIRST;
    tempo__timer_start_after(p->loop, &p->poll_timer, 0);
}

/* ---- killing ---- */

static void on_kill_timer(void *arg)
{
    tempo__process_t *p = arg;
    if (!p->reaped)
        tempo__group_signal(p->rep.pid, SIGKILL);
}

static void begin_kill(tempo__process_t *p)
{
    if (p->killing || p->reaped)
        return;
    p->killing = true;
    if (p->kill_grace == 0) {
        tempo__group_signal(p->rep.pid, SIGKILL);
        return;
    }
    tempo__group_signal(p->rep.pid, SIGTERM);
    /* A stopped group gets SIGCONT so it can act on the SIGTERM. */
    tempo__group_signal(p->rep.pid, SIGCONT);
    /* Without the timer (no memory for it) nothing would follow up: the
     * grace is skipped rather than the kill. */
    if (tempo__timer_start_after(p->loop, &p->kill_timer, p->kill_grace) != TEMPO_OK)
        tempo__group_signal(p->rep.pid, SIGKILL);
}

static void on_timeout(void *arg)
{
    tempo__process_t *p = arg;
    p->rep.timed_out = true;
    begin_kill(p);
}

void tempo__process_terminate(tempo__process_t *p)
{
    if (!p || p->done)
        return;
    p->rep.terminated = true;
    begin_kill(p);
}

void tempo__process_kill_now(tempo__process_t *p)
{
    if (!p || p->reaped)
        return;
    p->killing = true;
    tempo__group_signal(p->rep.pid, SIGKILL);
}

/* ---- start and free ---- */

static tempo_status_t watch_streams(tempo__process_t *p, tempo_error_t *err)
{
    for (int i = 0; i < 2; i++) {
        stream_t *st = &p->streams[i];
        st->watch = tempo__watch_start(p->loop, st->fd, TEMPO_IO_READ, on_output, st);
        if (!st->watch) /* ENOTSUP: the virtual loop has no file descriptors */
            return tempo__error_set(err, errno == ENOMEM ? TEMPO_ENOMEM : TEMPO_EIO,
                                    "cannot watch the child's output on this loop: %s", strerror(errno));
    }
    return TEMPO_OK;
}

/* A pidfd watch if we can, else the polling timer (see the top). Fails
 * only when the timer cannot be armed (out of memory). */
static tempo_status_t watch_exit(tempo__process_t *p, bool no_pidfd)
{
    p->pidfd = no_pidfd ? -1 : tempo__pidfd_open(p->rep.pid);
    if (p->pidfd >= 0) {
        p->exit_watch = tempo__watch_start(p->loop, p->pidfd, TEMPO_IO_READ, on_pidfd, p);
        if (p->exit_watch)
            return TEMPO_OK;
        close(p->pidfd);
        p->pidfd = -1;
    }
    p->poll_delay = POLL_FIRST;
    return tempo__timer_start_after(p->loop, &p->poll_timer, p->poll_delay);
}

tempo_status_t tempo__process_start(tempo_loop_t *loop, const tempo__process_spec_t *spec,
                                     tempo__process_done_fn done, void *arg, tempo__process_t **out,
                                     tempo_error_t *err)
{
    tempo__process_t *p = calloc(1, sizeof *p);
    if (!p)
        return tempo__error_set(err, TEMPO_ENOMEM, "cannot run '%s': out of memory", spec->cmd->argv[0]);
    p->loop = loop;
    p->done_fn = done;
    p->done_arg = arg;
    p->kill_grace = spec->kill_grace;
    p->pidfd = -1;
    p->rep.timeout = spec->timeout;
    tempo__output_init(&p->rep.out, spec->output_limit);
    tempo__output_init(&p->rep.err, spec->output_limit);
    tempo__timer_init(&p->poll_timer, on_poll, p);
    tempo__timer_init(&p->timeout_timer, on_timeout, p);
    tempo__timer_init(&p->kill_timer, on_kill_timer, p);
    tempo__spawned_t sp;
    tempo_status_t rc = tempo__process_spawn(spec->cmd, spec->cwd, &sp, err);
    if (rc != TEMPO_OK) {
        free(p);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &p->started);
    p->rep.pid = sp.pid;
    p->streams[0] = (stream_t){.p = p, .fd = sp.out_fd, .out = &p->rep.out};
    p->streams[1] = (stream_t){.p = p, .fd = sp.err_fd, .out = &p->rep.err};
    rc = watch_streams(p, err);
    if (rc == TEMPO_OK && watch_exit(p, spec->no_pidfd) != TEMPO_OK)
        rc = tempo__error_set(err, TEMPO_ENOMEM, "cannot watch for the child's exit: out of memory");
    if (rc == TEMPO_OK && spec->timeout != TEMPO_DURATION_NONE &&
        tempo__timer_start_after(loop, &p->timeout_timer, spec->timeout) != TEMPO_OK)
        rc = tempo__error_set(err, TEMPO_ENOMEM, "cannot arm the child's timeout: out of memory");
    if (rc != TEMPO_OK) {
        tempo__process_free(p); /* kills and reaps the child we just made */
        return rc;
    }
    *out = p;
    return TEMPO_OK;
}

/* Free before done: the child is still ours to kill and reap. */
static void abort_run(tempo__process_t *p)
{
    tempo__process_kill_now(p);
    if (tempo__child_wait_bounded(p->rep.pid, p->pidfd, FREE_WAIT_MS)) {
        tempo__exit_how_t how;
        int code;
        (void)tempo__child_reap(p->rep.pid, &how, &code); /* ECHILD: reaped elsewhere */
    }
    /* else: it is stuck (in the kernel, uninterruptibly); it stays a
     * zombie for the process to reap. We cannot wait without the loop. */
    p->reaped = true;
    stop_exit_watch(p);
    stop_timers(p);
    stream_close(&p->streams[0]);
    stream_close(&p->streams[1]);
}

void tempo__process_free(tempo__process_t *p)
{
    if (!p)
        return;
    if (!p->done)
        abort_run(p);
    tempo__output_free(&p->rep.out);
    tempo__output_free(&p->rep.err);
    free(p);
}

const tempo__process_report_t *tempo__process_report(const tempo__process_t *p)
{
    return p && p->done ? &p->rep : NULL;
}
