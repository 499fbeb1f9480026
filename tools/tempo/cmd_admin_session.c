/* A session of an administration command with its store (admin.h).
 *
 * The scheduler is created as `tempo run` creates its own — on a private
 * libev loop, never libev's default one — but never started: it turns no
 * schedule into jobs and runs nothing; it only relays the command's calls
 * to the store. What the store answers is lent to the callback, so the
 * callbacks copy what the commands print later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/ev.h>

#include "admin.h"
#include "cli.h"
#include "run.h"

void tempo__admin_init(tempo__admin_t *a, const char *cmd, const tempo__admin_args_t *args)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->json = args->json;
    a->store_arg = args->store;
    tempo_error_t err;
    if (tempo_zone_get("local", &a->zone, &err) != TEMPO_OK)
        a->zone = tempo_zone_utc();
}

int tempo__admin_connect(tempo__admin_t *a)
{
    if (a->s)
        return TEMPO__CLI_OK;
    a->store_uri = a->store_arg ? strdup(a->store_arg) : tempo__run_default_store();
    if (!a->store_uri) /* the default store's failure is reported already */
        return a->store_arg ? tempo__admin_nomem(a) : TEMPO__CLI_FAILURE;
    tempo_error_t err;
    tempo_store_t *store = NULL;
    tempo_status_t rc = tempo_store_open(a->store_uri, &store, &err);
    if (rc != TEMPO_OK) {
        tempo__cli_usage_error("%s: --store %s: %s", a->cmd, a->store_uri, tempo__cli_error_text(&err));
        return tempo__cli_exit_code(rc);
    }
    tempo_loop_t *loop = NULL;
    a->evloop = ev_loop_new(EVFLAG_AUTO);
    if (!a->evloop || (rc = tempo_ev_loop_new(a->evloop, &loop, &err)) != TEMPO_OK) {
        tempo_store_free(store);
        return a->evloop ? tempo__cli_failure("%s: %s", a->cmd, tempo__cli_error_text(&err))
                         : tempo__cli_failure("%s: cannot create an event loop", a->cmd);
    }
    if ((rc = tempo_scheduler_new(loop, store, NULL, &a->s, &err)) != TEMPO_OK) {
        tempo_store_free(store);
        tempo_loop_free(loop);
        return tempo__admin_fail(a, rc, &err, "cannot create a scheduler");
    }
    return TEMPO__CLI_OK;
}

void tempo__admin_close(tempo__admin_t *a)
{
    tempo_scheduler_free(a->s); /* every call was answered: nothing is cut short */
    if (a->evloop)
        ev_loop_destroy(a->evloop);
    free(a->store_uri);
    a->s = NULL;
    a->evloop = NULL;
    a->store_uri = NULL;
}

void tempo__admin_wait(tempo__admin_t *a)
{
    while (a->pending > 0)
        ev_run(a->evloop, EVRUN_ONCE);
}

int tempo__admin_fail(const tempo__admin_t *a, tempo_status_t status, const tempo_error_t *err, const char *what)
{
    const char *msg = err && err->message[0] ? err->message : tempo_strerror(status);
    switch (status) {
    case TEMPO_EINVAL:
    case TEMPO_EPARSE:
    case TEMPO_ENOTFOUND:
    case TEMPO_EEXIST:
        return tempo__cli_usage_error("%s: %s: %s", a->cmd, what, msg);
    default:
        return tempo__cli_failure("%s: %s: %s", a->cmd, what, msg);
    }
}

int tempo__admin_nomem(const tempo__admin_t *a)
{
    return tempo__cli_failure("%s: out of memory", a->cmd);
}

/* ---- copies ---- */

static bool dup_str(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

/* NULL and empty documents are both "none". */
static bool dup_doc(bson_t **dst, const bson_t *src)
{
    *dst = src && !bson_empty(src) ? bson_copy(src) : NULL;
    return true; /* libbson aborts when it runs out of memory */
}

static void schedule_clear(tempo__admin_schedule_t *s)
{
    free(s->id);
    free(s->task_id);
    free(s->lease_owner);
    tempo_trigger_free(s->trigger);
    if (s->args)
        bson_destroy(s->args);
    if (s->metadata)
        bson_destroy(s->metadata);
}

static bool schedule_copy(tempo__admin_schedule_t *d, const tempo_schedule_record_t *r)
{
    memset(d, 0, sizeof *d);
    d->trigger = r->trigger ? tempo_trigger_ref(r->trigger) : NULL;
    d->coalesce = r->coalesce;
    d->misfire_grace_time = r->misfire_grace_time;
    d->max_jitter = r->max_jitter;
    d->job_result_expiration = r->job_result_expiration;
    d->paused = r->paused;
    d->next_fire_time = r->next_fire_time;
    d->last_fire_time = r->last_fire_time;
    d->lease_until = r->lease.until;
    d->fence = r->lease.fence;
    return dup_str(&d->id, r->id) && dup_str(&d->task_id, r->task_id) && dup_str(&d->lease_owner, r->lease.owner) &&
           dup_doc(&d->args, r->args) && dup_doc(&d->metadata, r->metadata);
}

void tempo__admin_schedules_free(tempo__admin_schedule_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        schedule_clear(&list[i]);
    free(list);
}

static void result_clear(tempo__admin_result_t *r)
{
    free(r->job_id);
    free(r->task_id);
    free(r->schedule_id);
    free(r->error);
    if (r->return_value)
        bson_destroy(r->return_value);
}

static bool result_copy(tempo__admin_result_t *d, const tempo_job_result_t *r)
{
    memset(d, 0, sizeof *d);
    d->outcome = r->outcome;
    d->scheduled_fire_time = r->scheduled_fire_time;
    d->started_at = r->started_at;
    d->finished_at = r->finished_at;
    d->expires_at = r->expires_at;
    return dup_str(&d->job_id, r->job_id) && dup_str(&d->task_id, r->task_id) &&
           dup_str(&d->schedule_id, r->schedule_id) && dup_str(&d->error, r->error) &&
           dup_doc(&d->return_value, r->return_value);
}

/* ---- schedules ---- */

typedef struct get_req {
    tempo__admin_t *a;
    tempo_status_t status;
    tempo_error_t err;
    tempo__admin_schedule_t *list;
    size_t count;
} get_req_t;

static void got_schedules(void *ud, tempo_status_t status, const tempo_error_t *err,
                          const tempo_schedule_record_t *recs, size_t n)
{
    get_req_t *q = ud;
    q->a->pending--;
    q->status = status;
    if (status != TEMPO_OK) {
        q->err = *err;
        return;
    }
    q->list = n ? calloc(n, sizeof *q->list) : NULL;
    if (n && !q->list) {
        q->status = TEMPO_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++, q->count++) {
        if (!schedule_copy(&q->list[i], &recs[i])) {
            schedule_clear(&q->list[i]);
            q->status = TEMPO_ENOMEM;
            return;
        }
    }
}

int tempo__admin_get_schedules(tempo__admin_t *a, const char *id, tempo__admin_schedule_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = tempo__admin_connect(a);
    if (rc != TEMPO__CLI_OK)
        return rc;
    get_req_t q = {.a = a};
    tempo_error_t err;
    tempo_status_t st = id ? tempo_scheduler_get_schedule(a->s, id, got_schedules, &q, &err)
                           : tempo_scheduler_list_schedules(a->s, got_schedules, &q, &err);
    if (st != TEMPO_OK)
        return tempo__admin_fail(a, st, &err, id ? id : "listing the schedules");
    a->pending++;
    tempo__admin_wait(a);
    if (q.status == TEMPO_OK) {
        *out = q.list;
        *n = q.count;
        return TEMPO__CLI_OK;
    }
    tempo__admin_schedules_free(q.list, q.count);
    if (q.status == TEMPO_ENOMEM)
        return tempo__admin_nomem(a);
    if (q.status == TEMPO_ENOTFOUND)
        return tempo__cli_usage_error("%s: no schedule '%s' in the store (see 'tempo ls')", a->cmd, id);
    return tempo__admin_fail(a, q.status, &q.err, id ? id : "listing the schedules");
}

/* ---- results ---- */

static void results_nomem(tempo__admin_results_t *q)
{
    q->status = q->err.code = TEMPO_ENOMEM;
    snprintf(q->err.message, sizeof q->err.message, "out of memory");
}

static void got_results(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res,
                        size_t n)
{
    tempo__admin_results_t *q = ud;
    q->a->pending--;
    q->answered = true;
    q->status = status;
    if (status != TEMPO_OK) {
        q->err = *err;
        return;
    }
    q->list = n ? calloc(n, sizeof *q->list) : NULL;
    if (n && !q->list) {
        results_nomem(q);
        return;
    }
    for (size_t i = 0; i < n; i++, q->count++) {
        if (!result_copy(&q->list[i], &res[i])) {
            result_clear(&q->list[i]);
            results_nomem(q);
            return;
        }
    }
}

int tempo__admin_results_start(tempo__admin_t *a, const char *id, size_t limit, tempo__admin_results_t *req)
{
    memset(req, 0, sizeof *req);
    req->a = a;
    int rc = tempo__admin_connect(a);
    if (rc != TEMPO__CLI_OK)
        return rc;
    tempo_error_t err;
    tempo_status_t st = tempo_scheduler_list_results(a->s, id, limit, got_results, req, &err);
    if (st != TEMPO_OK)
        return tempo__admin_fail(a, st, &err, "listing results");
    a->pending++;
    return TEMPO__CLI_OK;
}

void tempo__admin_results_free(tempo__admin_results_t *req)
{
    for (size_t i = 0; i < req->count; i++)
        result_clear(&req->list[i]);
    free(req->list);
    req->list = NULL;
    req->count = 0;
}

/* ---- fields ---- */

static const char *utf8_field(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (doc && bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

const char *tempo__admin_command_of(const bson_t *args)
{
    return utf8_field(args, "command");
}

const char *tempo__admin_meta(const tempo__admin_schedule_t *s, const char *key)
{
    return utf8_field(s->metadata, key);
}

const char *tempo__admin_result_name(const tempo__admin_result_t *r)
{
    if (r->schedule_id)
        return r->schedule_id;
    const char *t = r->task_id ? r->task_id : "?";
    size_t n = strlen(TEMPO__RUN_TASK_PREFIX);
    return strncmp(t, TEMPO__RUN_TASK_PREFIX, n) == 0 && t[n] ? t + n : t;
}
