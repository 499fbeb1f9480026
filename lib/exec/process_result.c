/* A finished run as what the scheduler stores: a return value for success,
 * a one-line message for failure.
 *
 * The core keeps only a message for a failed job, so the message carries the
 * essentials a log line needs: how it ended, whether the timeout did it, and
 * the first line of stderr (where commands say what went wrong). */
/* sigabbrev_np is a GNU extension. */
#define _GNU_SOURCE 1

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_internal.h"

bool tempo__process_succeeded(const tempo__process_report_t *r)
{
    return r->how == TEMPO__EXIT_CODE && r->code == 0 && !r->timed_out;
}

static bool append_stream(bson_t *doc, const char *key, const char *flag_key, const tempo__output_t *o)
{
    size_t len;
    char *text = tempo__utf8_clean(o->data ? o->data : "", o->len, o->truncated, &len);
    if (!text)
        return false;
    bool ok = len <= INT_MAX && bson_append_utf8(doc, key, -1, text, (int)len) &&
              bson_append_bool(doc, flag_key, -1, o->truncated);
    free(text);
    return ok;
}

tempo_status_t tempo__process_result_bson(const tempo__process_report_t *r, bson_t *out)
{
    bool ok = bson_append_int32(out, "exit_code", -1, r->how == TEMPO__EXIT_CODE ? r->code : -1) &&
              append_stream(out, "stdout", "stdout_truncated", &r->out) &&
              append_stream(out, "stderr", "stderr_truncated", &r->err) &&
              bson_append_int64(out, "duration_us", -1, r->duration_us) &&
              bson_append_int32(out, "pid", -1, (int32_t)r->pid);
    return ok ? TEMPO_OK : TEMPO_ENOMEM;
}

static const char *signal_name(int sig)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    return sigabbrev_np(sig); /* "TERM"; NULL for an unknown number */
#else
    (void)sig;
    return NULL;
#endif
}

/* "exit status 3", "killed by signal 9 (SIGKILL)", ... */
static void how_text(const tempo__process_report_t *r, char *out, size_t cap)
{
    if (r->how == TEMPO__EXIT_UNKNOWN) {
        snprintf(out, cap, "exit status unknown (someone else reaped the child: SIGCHLD ignored, or a "
                           "waitpid(-1) elsewhere in the process)");
        return;
    }
    if (r->how == TEMPO__EXIT_CODE) {
        snprintf(out, cap, "exit status %d", r->code);
        return;
    }
    const char *name = signal_name(r->code);
    if (name)
        snprintf(out, cap, "killed by signal %d (SIG%s)", r->code, name);
    else
        snprintf(out, cap, "killed by signal %d", r->code);
}

void tempo__process_failure(const tempo__process_report_t *r, char *out, size_t cap)
{
    char how[160], line[200] = "", after[64] = "";
    how_text(r, how, sizeof how);
    if (r->timed_out) {
        char secs[32];
        tempo__seconds_text(r->timeout, secs, sizeof secs);
        snprintf(after, sizeof after, "timed out after %s; ", secs);
    }
    tempo__first_line(r->err.data, r->err.len, line, sizeof line);
    snprintf(out, cap, "%s%s%s%s", after, how, line[0] ? ": " : "", line);
}
