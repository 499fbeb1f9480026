/* Making the store agree with the schedule file, at start and on SIGHUP.
 *
 * The store is the state (next fire times, leases, results); the file is the
 * intent. Each schedule `tempo run` writes carries, in its metadata, the file
 * it came from and a fingerprint of everything the file says about it that
 * the store keeps. So a sync can tell, for each name:
 *   in the file, not in the store         -> add it (first fire: the next one)
 *   in both, same fingerprint              -> leave it: it keeps its next fire
 *                                             time, so fires missed while no
 *                                             process ran are handled by its
 *                                             coalesce policy and grace time
 *   in both, different fingerprint         -> replace it (a new schedule)
 *   in the store (from this file) only     -> remove it
 * A schedule of the same name made otherwise (another file, `tempo add`) is
 * never touched: the entry is reported and skipped. Task settings that the
 * store does not keep (max_running, timeout, retries) are this process's
 * task registrations, redone every time; so is the registration of the
 * generic task "run" that the schedules of `tempo add` name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static void fingerprint(const tempo__runfile_entry_t *e, char out[17])
{
    uint64_t h = UINT64_C(14695981039346656037);
    int64_t nums[5] = {e->dst_gap, e->coalesce, e->misfire_grace, e->jitter, 0};
    h = fnv(h, e->trigger_doc, e->trigger_doc_len);
    h = fnv(h, e->command, strlen(e->command) + 1);
    h = fnv(h, e->zone, strlen(e->zone) + 1);
    h = fnv(h, nums, sizeof nums);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* This file's mark on a stored schedule: its fingerprint, or NULL when the
 * schedule was not made from this file. */
static const char *our_fingerprint(const tempo__run_t *run, const tempo_schedule_record_t *r)
{
    bson_iter_t it;
    if (!r->metadata)
        return NULL;
    if (!bson_iter_init_find(&it, r->metadata, "source") || !BSON_ITER_HOLDS_UTF8(&it) ||
        strcmp(bson_iter_utf8(&it, NULL), TEMPO__RUN_SOURCE) != 0)
        return NULL;
    if (!bson_iter_init_find(&it, r->metadata, "file") || !BSON_ITER_HOLDS_UTF8(&it) ||
        strcmp(bson_iter_utf8(&it, NULL), run->file_key) != 0)
        return NULL;
    if (!bson_iter_init_find(&it, r->metadata, "fingerprint") || !BSON_ITER_HOLDS_UTF8(&it))
        return "";
    return bson_iter_utf8(&it, NULL);
}

static void call_done(tempo__run_t *run, const char *what, const char *name, tempo_status_t status,
                      const tempo_error_t *err)
{
    if (status != TEMPO_OK) {
        run->sync_failed = true;
        tempo__run_log(run, "%s %s: %s", what, name, err && err->message[0] ? err->message : tempo_strerror(status));
    }
    run->syncs_pending--;
}

typedef struct sync_call {
    tempo__run_t *run;
    const char *what;
    char name[TEMPO__RUNFILE_NAME_MAX + 1];
    char fingerprint[17]; /* of the schedule being added */
} sync_call_t;

static sync_call_t *call_new(tempo__run_t *run, const char *what, const char *name)
{
    sync_call_t *c = calloc(1, sizeof *c);
    if (c) {
        c->run = run;
        c->what = what;
        snprintf(c->name, sizeof c->name, "%s", name);
        run->syncs_pending++;
    }
    return c;
}

/* The schedule another process added first: fine when it is this file's,
 * as this process would have made it. */
static void raced(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_schedule_record_t *recs,
                  size_t n)
{
    sync_call_t *c = ud;
    const char *fp = status == TEMPO_OK && n == 1 ? our_fingerprint(c->run, &recs[0]) : NULL;
    if (fp && strcmp(fp, c->fingerprint) == 0) {
        tempo__run_log(c->run, "%s: added by another process of this file meanwhile", c->name);
        call_done(c->run, c->what, c->name, TEMPO_OK, NULL);
    } else {
        tempo_error_t e = {TEMPO_EEXIST, ""};
        snprintf(e.message, sizeof e.message, "another process added a different schedule '%.64s' meanwhile%s%.120s",
                 c->name, status != TEMPO_OK ? ": " : "", status != TEMPO_OK && err ? err->message : "");
        call_done(c->run, c->what, c->name, TEMPO_EEXIST, &e);
    }
    free(c);
}

static void added(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)id;
    sync_call_t *c = ud;
    /* Several `tempo run` of one file starting together on one store race
     * to add its schedules: the loser looks at what the winner added. */
    tempo_error_t e;
    if (status == TEMPO_EEXIST && strcmp(c->what, "adding") == 0 &&
        tempo_scheduler_get_schedule(c->run->s, c->name, raced, c, &e) == TEMPO_OK)
        return;
    call_done(c->run, c->what, c->name, status, err);
    free(c);
}

static void removed(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    sync_call_t *c = ud;
    call_done(c->run, c->what, c->name, status == TEMPO_ENOTFOUND ? TEMPO_OK : status, err);
    free(c);
}

static void put_schedule(tempo__run_t *run, const tempo__runfile_entry_t *e, bool replace)
{
    char fp[17], task[TEMPO__RUNFILE_NAME_MAX + 8];
    fingerprint(e, fp);
    snprintf(task, sizeof task, "%s%s", TEMPO__RUN_TASK_PREFIX, e->name);
    bson_t args = BSON_INITIALIZER, meta = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&args, "command", e->command);
    BSON_APPEND_UTF8(&meta, "source", TEMPO__RUN_SOURCE);
    BSON_APPEND_UTF8(&meta, "file", run->file_key);
    BSON_APPEND_UTF8(&meta, "fingerprint", fp);
    BSON_APPEND_UTF8(&meta, "trigger", e->trigger_text);
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    o.id = e->name;
    o.task_id = task;
    o.trigger = e->trigger;
    o.args = &args;
    o.coalesce = e->coalesce;
    o.misfire_grace_time = e->misfire_grace;
    o.max_jitter = e->jitter;
    o.conflict = replace ? TEMPO_CONFLICT_REPLACE : TEMPO_CONFLICT_ERROR;
    o.job_result_expiration = TEMPO__RUN_RESULT_KEEP;
    o.metadata = &meta;
    sync_call_t *c = call_new(run, replace ? "replacing" : "adding", e->name);
    tempo_error_t err;
    if (c)
        memcpy(c->fingerprint, fp, sizeof fp);
    if (!c) {
        run->sync_failed = true;
    } else if (tempo_scheduler_add_schedule(run->s, &o, added, c, &err) != TEMPO_OK) {
        call_done(run, c->what, e->name, TEMPO_EINVAL, &err);
        free(c);
    } else {
        tempo__run_log(run, "%s %s: %s", replace ? "changed" : "added", e->name, e->trigger_text);
    }
    bson_destroy(&args);
    bson_destroy(&meta);
}

static void remove_schedule(tempo__run_t *run, const char *id)
{
    sync_call_t *c = call_new(run, "removing", id);
    tempo_error_t err;
    if (!c) {
        run->sync_failed = true;
    } else if (tempo_scheduler_remove_schedule(run->s, id, removed, c, &err) != TEMPO_OK) {
        call_done(run, c->what, id, TEMPO_EINVAL, &err);
        free(c);
    } else {
        tempo__run_log(run, "removed %s (no longer in %s)", id, run->file_path);
    }
}

static const tempo_schedule_record_t *stored(const tempo_schedule_record_t *recs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(recs[i].id, id) == 0)
            return &recs[i];
    return NULL;
}

static void listed(void *ud, tempo_status_t status, const tempo_error_t *err,
                   const tempo_schedule_record_t *recs, size_t n)
{
    tempo__run_t *run = ud;
    if (status != TEMPO_OK) {
        call_done(run, "listing", "the store's schedules", status, err);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (our_fingerprint(run, &recs[i]) && !tempo__runfile_find(&run->file, recs[i].id))
            remove_schedule(run, recs[i].id);
    for (size_t i = 0; i < run->file.count; i++) {
        const tempo__runfile_entry_t *e = &run->file.entries[i];
        const tempo_schedule_record_t *r = stored(recs, n, e->name);
        if (!r) {
            put_schedule(run, e, false);
            continue;
        }
        const char *fp = our_fingerprint(run, r);
        if (!fp) {
            tempo__run_log(run, "skipping %s: the store has a schedule of that name that %s did not make", e->name,
                           run->file_path);
            run->sync_failed = true;
            continue;
        }
        char want[17];
        fingerprint(e, want);
        if (strcmp(fp, want) != 0)
            put_schedule(run, e, true);
    }
    run->syncs_pending--;
}

/* One task per schedule of the file, and the one task of the schedules
 * `tempo add` made (run.h). */
static int register_tasks(tempo__run_t *run)
{
    tempo_process_task_options_t generic = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    generic.id = TEMPO__RUN_GENERIC_TASK;
    generic.max_running_jobs = 0;
    tempo_error_t gerr;
    if (tempo_scheduler_add_process_task(run->s, &generic, &gerr) != TEMPO_OK) {
        tempo__run_log(run, "task %s: %s", TEMPO__RUN_GENERIC_TASK, gerr.message);
        return -1;
    }
    for (size_t i = 0; i < run->file.count; i++) {
        const tempo__runfile_entry_t *e = &run->file.entries[i];
        char task[TEMPO__RUNFILE_NAME_MAX + 8];
        snprintf(task, sizeof task, "%s%s", TEMPO__RUN_TASK_PREFIX, e->name);
        tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
        o.id = task;
        o.max_running_jobs = e->max_running;
        o.misfire_grace_time = e->misfire_grace;
        o.timeout = e->timeout;
        tempo_error_t err;
        if (tempo_scheduler_add_process_task(run->s, &o, &err) != TEMPO_OK) {
            tempo__run_log(run, "%s: %s", e->name, err.message);
            return -1;
        }
    }
    return 0;
}

int tempo__run_sync(tempo__run_t *run)
{
    if (register_tasks(run) != 0)
        return -1;
    tempo_error_t err;
    run->syncs_pending++;
    if (tempo_scheduler_list_schedules(run->s, listed, run, &err) != TEMPO_OK) {
        run->syncs_pending--;
        tempo__run_log(run, "listing the store's schedules: %s", err.message);
        return -1;
    }
    return 0;
}
