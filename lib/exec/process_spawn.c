/* Spawning a command: posix_spawn, never fork.
 *
 * posix_spawn keeps every piece of child-side code inside libc (glibc runs
 * it on a vfork-style clone and reports exec errors as its return value),
 * so there is no async-signal-safety to get wrong here and no copy of a big
 * address space. What the child gets:
 *   - its own process group (POSIX_SPAWN_SETPGROUP, pgid = pid), set before
 *     exec, so a group signal reaches it and everything it starts;
 *   - stdin from /dev/null, stdout and stderr to pipes whose read ends are
 *     ours (O_NONBLOCK, O_CLOEXEC); its write ends stay blocking — a child
 *     must not see EAGAIN on its stdout;
 *   - an empty signal mask and default dispositions for every signal: a
 *     loop thread often blocks signals (tempo's own runner thread blocks
 *     all), and a host often ignores SIGPIPE; both would be inherited
 *     across exec and leave the child deaf to our SIGTERM or to a closed
 *     pipe;
 *   - no other descriptor of ours: every fd we create is O_CLOEXEC, and
 *     where glibc can (2.34+) the child closes everything from 3 up, so
 *     a host's fds without O_CLOEXEC do not leak into commands either. */
/* pipe2 and posix_spawn_file_actions_add{chdir,closefrom}_np are GNU extensions. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process_internal.h"
#include "util/error_internal.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1
#endif

/* Keep our pipe ends off 0-2: if the host closed its stdout, pipe2() may
 * hand out fd 1, and dup2(1, 1) in the child would keep O_CLOEXEC on it. */
static int above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return moved;
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    p[0] = p[1] = -1;
}

/* A pipe: [0] ours (non-blocking), [1] the child's. 0 or an errno. */
static int make_pipe(int p[2])
{
    p[0] = p[1] = -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    p[0] = above_stdio(fds[0]);
    p[1] = above_stdio(fds[1]);
    if (p[0] < 0 || p[1] < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) {
        int e = errno;
        close_pair(p);
        return e;
    }
    return 0;
}

static int set_attrs(posix_spawnattr_t *attr)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    int rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawnattr_setpgroup(attr, 0);
    if (!rc)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(attr, &all);
    return rc;
}

static int set_actions(posix_spawn_file_actions_t *fa, int out_w, int err_w, const char *cwd)
{
    int rc = 0;
    if (cwd)
        rc = posix_spawn_file_actions_addchdir_np(fa, cwd);
    if (!rc)
        rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(fa, out_w, 1);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(fa, err_w, 2);
#ifdef HAVE_ADDCLOSEFROM
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
    return rc;
}

/* Why `cwd` would refuse a chdir: 0 when it would not. */
static int dir_problem(const char *cwd)
{
    struct stat st;
    if (stat(cwd, &st) != 0)
        return errno;
    if (!S_ISDIR(st.st_mode))
        return ENOTDIR;
    return access(cwd, X_OK) != 0 ? errno : 0;
}

/* posix_spawn reports a failed chdir and a failed exec alike; a message
 * blaming the wrong one sends its reader the wrong way, so look. */
static tempo_status_t spawn_error(const char *prog, const char *cwd, int e, tempo_error_t *err)
{
    int ce = cwd ? dir_problem(cwd) : 0;
    if (ce)
        return tempo__error_set(err, TEMPO_EIO, "cannot change to directory '%s': %s", cwd, strerror(ce));
    return tempo__error_set(err, TEMPO_EIO, "cannot run '%s': %s", prog, strerror(e));
}

tempo_status_t tempo__process_spawn(const tempo__process_cmd_t *cmd, const char *cwd, tempo__spawned_t *out,
                                    tempo_error_t *err)
{
    const char *prog = cmd->argv[0];
    int po[2], pe[2] = {-1, -1};
    int e = make_pipe(po);
    if (!e && (e = make_pipe(pe)) != 0)
        close_pair(po);
    if (e)
        return tempo__error_set(err, e == ENOMEM ? TEMPO_ENOMEM : TEMPO_EIO,
                                "cannot run '%s': no pipe for its output: %s", prog, strerror(e));
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    bool have_attr = (e = posix_spawnattr_init(&attr)) == 0;
    bool have_fa = have_attr && (e = posix_spawn_file_actions_init(&fa)) == 0;
    if (have_fa && (e = set_attrs(&attr)) == 0 && (e = set_actions(&fa, po[1], pe[1], cwd)) == 0) {
        pid_t pid = -1;
        e = strchr(prog, '/') ? posix_spawn(&pid, prog, &fa, &attr, cmd->argv, cmd->envp)
                              : posix_spawnp(&pid, prog, &fa, &attr, cmd->argv, cmd->envp);
        out->pid = pid;
    }
    if (have_fa)
        posix_spawn_file_actions_destroy(&fa);
    if (have_attr)
        posix_spawnattr_destroy(&attr);
    close(po[1]);
    close(pe[1]);
    if (e) {
        close(po[0]);
        close(pe[0]);
        if (e == ENOMEM)
            return tempo__error_set(err, TEMPO_ENOMEM, "cannot run '%s': out of memory", prog);
        return spawn_error(prog, cwd, e, err);
    }
    out->out_fd = po[0];
    out->err_fd = pe[0];
    return TEMPO_OK;
}
