/* What `tempo run` says while it runs: one line per job start and end, with
 * its outcome and duration, and the scheduler's own troubles. Also where a
 * failed run is retried (the `retries` setting): the process that ran the
 * job is the one that sees it fail, so exactly one retry is queued. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

void tempo__run_log(tempo__run_t *run, const char *fmt, ...)
{
    /* Whole seconds in local time with its offset, as a log reader wants. */
    char when[64];
    tempo_time_t now = tempo_time_now() / TEMPO_USEC_PER_SEC * TEMPO_USEC_PER_SEC;
    if (tempo_time_format(now, run->zone, when, sizeof when) < 0)
        snprintf(when, sizeof when, "?");
    fprintf(run->log, "%s ", when);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(run->log, fmt, ap);
    va_end(ap);
    fputc('\n', run->log);
    fflush(run->log);
}

/* The schedule's name: its id, or for a job queued without one (by a
 * program, or by an older tempo's retry) its task's id without the prefix. */
static const char *name_of(const tempo_event_t *ev)
{
    if (ev->schedule_id)
        return ev->schedule_id;
    const char *t = ev->task_id ? ev->task_id : "?";
    size_t n = strlen(TEMPO__RUN_TASK_PREFIX);
    return strncmp(t, TEMPO__RUN_TASK_PREFIX, n) == 0 ? t + n : t;
}

static void started_add(tempo__run_t *run, const char *job_id, tempo_time_t at)
{
    tempo__run_started_t *st = calloc(1, sizeof *st);
    if (!st)
        return; /* the end line goes without its duration */
    snprintf(st->job_id, sizeof st->job_id, "%s", job_id);
    st->at = at;
    st->next = run->started;
    run->started = st;
}

/* Remove and return when the job started here, or NONE. */
static tempo_time_t started_take(tempo__run_t *run, const char *job_id)
{
    for (tempo__run_started_t **p = &run->started; *p; p = &(*p)->next) {
        if (strcmp((*p)->job_id, job_id) == 0) {
            tempo__run_started_t *st = *p;
            tempo_time_t at = st->at;
            *p = st->next;
            free(st);
            return at;
        }
    }
    return TEMPO_TIME_NONE;
}

/* The retry number of a job (0: not a retry), forgetting it. */
static int attempt_take(tempo__run_t *run, const char *job_id)
{
    for (tempo__run_retry_t **p = &run->retries; *p; p = &(*p)->next) {
        if (strcmp((*p)->job_id, job_id) == 0) {
            tempo__run_retry_t *r = *p;
            int attempt = r->attempt;
            *p = r->next;
            free(r);
            return attempt;
        }
    }
    return 0;
}

typedef struct retry_ctx {
    tempo__run_t *run;
    int attempt;
    char name[TEMPO__RUNFILE_NAME_MAX + 1];
} retry_ctx_t;

static void retry_queued(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    retry_ctx_t *c = ud;
    if (status == TEMPO_OK) {
        tempo__run_retry_t *r = calloc(1, sizeof *r);
        if (r) {
            snprintf(r->job_id, sizeof r->job_id, "%s", id);
            r->attempt = c->attempt;
            r->next = c->run->retries;
            c->run->retries = r;
        }
    } else if (status != TEMPO_ECANCELLED) {
        tempo__run_log(c->run, "%s: could not queue retry %d: %s", c->name, c->attempt,
                       err && err->message[0] ? err->message : tempo_strerror(status));
    }
    free(c);
}

/* 10 s before the first retry, doubling, at most 10 min. */
static tempo_duration_t retry_delay(int attempt)
{
    tempo_duration_t d = TEMPO_SECONDS(10);
    for (int i = 1; i < attempt && d < TEMPO_MINUTES(10); i++)
        d *= 2;
    return d < TEMPO_MINUTES(10) ? d : TEMPO_MINUTES(10);
}

static void maybe_retry(tempo__run_t *run, const tempo_event_t *ev, const char *name, int attempt)
{
    const tempo__runfile_entry_t *e = tempo__runfile_find(&run->file, name);
    if (!e || attempt >= e->retries || run->stopping)
        return;
    retry_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->run = run;
    c->attempt = attempt + 1;
    snprintf(c->name, sizeof c->name, "%s", name);
    bson_t args = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&args, "command", e->command);
    tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT;
    o.task_id = ev->task_id;
    o.schedule_id = name; /* a retry is the schedule's: `tempo results NAME` lists it */
    o.args = &args;
    tempo_duration_t delay = retry_delay(c->attempt);
    o.at = tempo_time_now() + delay;
    o.result_expiration = TEMPO__RUN_RESULT_KEEP;
    tempo_error_t err;
    if (tempo_scheduler_add_job(run->s, &o, retry_queued, c, &err) == TEMPO_OK) {
        tempo__run_log(run, "%s retry %d/%d in %lld s", name, c->attempt, e->retries,
                       (long long)(delay / TEMPO_USEC_PER_SEC));
    } else {
        tempo__run_log(run, "%s: could not queue retry: %s", name, err.message);
        free(c);
    }
    bson_destroy(&args);
}

/* A success is logged with the first line of what the command printed,
 * which is in its stored result (the event does not carry it). */
typedef struct ok_line {
    tempo__run_t *run;
    char name[TEMPO__RUNFILE_NAME_MAX + 1];
    char took[32];
} ok_line_t;

static void first_line(const bson_t *doc, const char *key, char *out, size_t size)
{
    bson_iter_t it;
    out[0] = '\0';
    if (!doc || !bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
        return;
    const char *text = bson_iter_utf8(&it, NULL);
    size_t n = strcspn(text, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, text, n);
    out[n] = '\0';
    for (char *p = out; *p; p++) /* keep the log one line per entry */
        if ((unsigned char)*p < 0x20)
            *p = '?';
}

static void got_ok_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)err;
    ok_line_t *c = ud;
    char out[160] = "";
    if (status == TEMPO_OK && res) {
        first_line(res->return_value, "stdout", out, sizeof out);
        if (!out[0])
            first_line(res->return_value, "stderr", out, sizeof out);
    }
    /* Logged whatever the answer: the job succeeded, its first output line
     * is a bonus. A stop can cancel the lookup (ECANCELLED) of a job that
     * finished just before it, and that run must still be in the log. */
    tempo__run_log(c->run, "%s ok%s%s%s", c->name, c->took, out[0] ? ": " : "", out);
    free(c);
}

static void log_ok(tempo__run_t *run, const tempo_event_t *ev, const char *name, const char *took)
{
    ok_line_t *c = calloc(1, sizeof *c);
    tempo_error_t err;
    if (c) {
        c->run = run;
        snprintf(c->name, sizeof c->name, "%s", name);
        snprintf(c->took, sizeof c->took, "%s", took);
        if (tempo_scheduler_get_job_result(run->s, ev->job_id, got_ok_result, c, &err) == TEMPO_OK)
            return;
        free(c);
    }
    tempo__run_log(run, "%s ok%s", name, took);
}

static void on_released(tempo__run_t *run, const tempo_event_t *ev)
{
    const char *name = name_of(ev);
    tempo_time_t began = started_take(run, ev->job_id);
    int attempt = attempt_take(run, ev->job_id);
    char took[32] = "";
    if (began != TEMPO_TIME_NONE)
        snprintf(took, sizeof took, " %.2f s", (double)(tempo_time_now() - began) / 1e6);
    const char *msg = ev->message ? ev->message : "";
    switch (ev->outcome) {
    case TEMPO_OUTCOME_SUCCESS: log_ok(run, ev, name, took); break;
    case TEMPO_OUTCOME_ERROR:
        tempo__run_log(run, "%s failed%s: %s", name, took, msg);
        maybe_retry(run, ev, name, attempt);
        break;
    case TEMPO_OUTCOME_MISSED_START_DEADLINE: tempo__run_log(run, "%s missed its start deadline", name); break;
    case TEMPO_OUTCOME_ABANDONED: tempo__run_log(run, "%s abandoned: %s", name, msg); break;
    case TEMPO_OUTCOME_CANCELLED: tempo__run_log(run, "%s cancelled%s: %s", name, took, msg); break;
    default: tempo__run_log(run, "%s %s%s: %s", name, tempo_outcome_name(ev->outcome), took, msg); break;
    }
}

void tempo__run_on_event(const tempo_event_t *ev, void *userdata)
{
    tempo__run_t *run = userdata;
    switch (ev->type) {
    case TEMPO_EVENT_JOB_ACQUIRED:
        started_add(run, ev->job_id, tempo_time_now());
        tempo__run_log(run, "%s start (job %.8s)", name_of(ev), ev->job_id);
        break;
    case TEMPO_EVENT_JOB_RELEASED: on_released(run, ev); break;
    case TEMPO_EVENT_STORE_ERROR: tempo__run_log(run, "store error: %s", ev->message ? ev->message : "?"); break;
    case TEMPO_EVENT_RECORD_QUARANTINED:
        tempo__run_log(run, "set aside an unreadable stored record (%s): %s",
                       ev->schedule_id ? ev->schedule_id : ev->job_id ? ev->job_id : "?",
                       ev->message ? ev->message : "?");
        break;
    default: break;
    }
}

void tempo__run_log_free(tempo__run_t *run)
{
    while (run->retries) {
        tempo__run_retry_t *r = run->retries;
        run->retries = r->next;
        free(r);
    }
    while (run->started) {
        tempo__run_started_t *st = run->started;
        run->started = st->next;
        free(st);
    }
}
