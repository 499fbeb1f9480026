/* Public schedule calls: add, get, list, modify, pause, resume, remove.
 *
 * Everything is checked before anything is queued, so a refused call changes
 * nothing and never calls back. Accepted calls become ops (ops.c) answered
 * when the store has answered. Changes that need the current record (modify,
 * pause, resume) read it and write it back in the read's callback; the store
 * keeps the lease on update, and a scheduling step that holds the schedule
 * only writes its fire times back, so a concurrent step does not undo them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "util/error_internal.h"
#include "util/options.h"

#define ID_MAX 255

static tempo_status_t check_duration(tempo_duration_t d, bool none_ok, const char *what, const char *name,
                                     tempo_error_t *err)
{
    if ((d == TEMPO_DURATION_NONE && none_ok) || d >= 0)
        return TEMPO_OK;
    return tempo__error_set(err, TEMPO_EINVAL, "%s: %s must be >= 0%s", what, name, none_ok ? " or NONE" : "");
}

static tempo_status_t check_id(const char *id, const char *what, tempo_error_t *err)
{
    if (!id || !id[0])
        return tempo__error_set(err, TEMPO_EINVAL, "%s: schedule id is required", what);
    if (strlen(id) > ID_MAX)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: schedule id longer than %d bytes", what, ID_MAX);
    return TEMPO_OK;
}

static tempo_status_t check_scheduler(const tempo_scheduler_t *s, const char *what, tempo_error_t *err)
{
    if (!s)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: scheduler is NULL", what);
    return TEMPO_OK;
}

/* ---- add ---- */

static void added(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_store_added_t what)
{
    tempo__op_t *op = ud;
    tempo_scheduler_t *s = op->s;
    if (status == TEMPO_OK && what != TEMPO_STORE_KEPT) {
        tempo_event_t ev;
        tempo__event_init(s, &ev, what == TEMPO_STORE_ADDED ? TEMPO_EVENT_SCHEDULE_ADDED : TEMPO_EVENT_SCHEDULE_UPDATED);
        ev.schedule_id = op->id;
        ev.task_id = op->task_id;
        ev.next_fire_time = op->when;
        tempo__emit(s, &ev);
        if (s->state == SCHED_FREED)
            return; /* a subscriber freed the scheduler; the op went with it */
        tempo__step_kick(s);
    }
    tempo__op_finish(op, status, err);
}

static tempo_status_t validate_add(const tempo_scheduler_t *s, const tempo_schedule_options_t *o,
                                   tempo_error_t *err)
{
    const char *what = "add_schedule";
    tempo_status_t rc;
    if (o->id && (rc = check_id(o->id, what, err)) != TEMPO_OK)
        return rc;
    if (!o->task_id)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: task_id is required", what);
    if (!tempo__task_find(s, o->task_id))
        return tempo__error_set(err, TEMPO_ENOTFOUND,
                                "%s: unknown task '%s' (register it with tempo_scheduler_add_task first)", what,
                                o->task_id);
    if (!o->trigger)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: trigger is required", what);
    if (o->coalesce > TEMPO_COALESCE_ALL)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: coalesce %d is not a tempo_coalesce_t", what, (int)o->coalesce);
    if (o->conflict > TEMPO_CONFLICT_ERROR)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: conflict %d is not a tempo_conflict_t", what, (int)o->conflict);
    if ((rc = check_duration(o->misfire_grace_time, true, what, "misfire_grace_time", err)) ||
        (rc = check_duration(o->max_jitter, false, what, "max_jitter", err)) ||
        (rc = check_duration(o->job_result_expiration, false, what, "job_result_expiration", err)))
        return rc;
    return TEMPO_OK;
}

static tempo_status_t scheduler_add_schedule_unlocked(tempo_scheduler_t *s, const tempo_schedule_options_t *opts_in,
                                            tempo_id_cb cb, void *userdata, tempo_error_t *err)
{
    tempo_status_t rc = check_scheduler(s, "add_schedule", err);
    if (rc != TEMPO_OK)
        return rc;
    if (!opts_in)
        return tempo__error_set(err, TEMPO_EINVAL, "add_schedule: options are required");
    tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
    if (!tempo__options_copy(&o, sizeof o, opts_in))
        return tempo__error_set(err, TEMPO_EINVAL, "add_schedule: options.size %zu is not a size this build knows",
                                opts_in->size);
    if ((rc = validate_add(s, &o, err)) != TEMPO_OK)
        return rc;

    char id[37];
    if (!o.id)
        tempo__uuid_random(&s->rng, id);
    const char *sid = o.id ? o.id : id;
    /* The first fire is the first at or after now: a schedule never starts
     * with a backlog. A trigger with nothing left is refused. */
    tempo_time_t now = tempo_loop_now(s->loop);
    tempo_time_t first = tempo_trigger_next(o.trigger, now - 1);
    if (first == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "add_schedule '%s': the trigger has no fire time at or after now",
                                sid);

    tempo__op_t *op = tempo__op_new(s, OP_ID, (void (*)(void))cb, userdata, sid);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "add_schedule: out of memory");
    snprintf(op->task_id, sizeof op->task_id, "%s", o.task_id);
    op->when = first;
    tempo_schedule_record_t rec = {
        .id = sid,
        .task_id = o.task_id,
        .trigger = o.trigger,
        .args = o.args,
        .coalesce = o.coalesce,
        .misfire_grace_time = o.misfire_grace_time,
        .max_jitter = o.max_jitter,
        .jitter_deterministic = o.jitter_deterministic,
        .paused = o.paused,
        .job_result_expiration = o.job_result_expiration,
        .next_fire_time = first,
        .last_fire_time = TEMPO_TIME_NONE,
        .metadata = o.metadata,
    };
    s->store->ops->add_schedule(s->store->self, &rec, o.conflict, added, op);
    return TEMPO_OK;
}

/* ---- get / list ---- */

static void got(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_schedule_record_t *recs,
                size_t n)
{
    tempo__op_t *op = ud;
    if (status == TEMPO_OK && op->id[0] && n == 0) {
        tempo_error_t e;
        tempo__error_set(&e, TEMPO_ENOTFOUND, "schedule '%s' not found", op->id);
        tempo__op_finish_schedules(op, TEMPO_ENOTFOUND, &e, NULL, 0);
        return;
    }
    tempo__op_finish_schedules(op, status, err, recs, n);
}

static tempo_status_t scheduler_get_schedule_unlocked(tempo_scheduler_t *s, const char *id, tempo_schedules_cb cb,
                                            void *userdata, tempo_error_t *err)
{
    tempo_status_t rc;
    if ((rc = check_scheduler(s, "get_schedule", err)) || (rc = check_id(id, "get_schedule", err)))
        return rc;
    tempo__op_t *op = tempo__op_new(s, OP_SCHEDULES, (void (*)(void))cb, userdata, id);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "get_schedule: out of memory");
    const char *ids[1] = {op->id};
    s->store->ops->get_schedules(s->store->self, ids, 1, got, op);
    return TEMPO_OK;
}

static tempo_status_t scheduler_list_schedules_unlocked(tempo_scheduler_t *s, tempo_schedules_cb cb, void *userdata,
                                              tempo_error_t *err)
{
    tempo_status_t rc = check_scheduler(s, "list_schedules", err);
    if (rc != TEMPO_OK)
        return rc;
    tempo__op_t *op = tempo__op_new(s, OP_SCHEDULES, (void (*)(void))cb, userdata, NULL);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "list_schedules: out of memory");
    s->store->ops->get_schedules(s->store->self, NULL, 0, got, op);
    return TEMPO_OK;
}

/* ---- modify / pause / resume: read, change, write ---- */

typedef struct change {
    tempo_schedule_changes_t c; /* bson and trigger owned below */
    bson_t *args, *metadata;
    int pause; /* -1 = leave, 0 = resume, 1 = pause */
} change_t;

static void change_free(void *p)
{
    change_t *ch = p;
    if (!ch)
        return;
    if (ch->args)
        bson_destroy(ch->args);
    if (ch->metadata)
        bson_destroy(ch->metadata);
    tempo_trigger_free(ch->c.trigger);
    free(ch);
}

static void updated(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__op_t *op = ud;
    tempo_scheduler_t *s = op->s;
    if (status == TEMPO_OK) {
        tempo_event_t ev;
        tempo__event_init(s, &ev, TEMPO_EVENT_SCHEDULE_UPDATED);
        ev.schedule_id = op->id;
        ev.task_id = op->task_id;
        ev.next_fire_time = op->when;
        tempo__emit(s, &ev);
        if (s->state == SCHED_FREED)
            return; /* a subscriber freed the scheduler; the op went with it */
        tempo__step_kick(s); /* a resumed or re-timed schedule may be due */
    }
    tempo__op_finish(op, status, err);
}

/* Answer a read that found nothing (or failed). */
static void finish_not_found(tempo__op_t *op, tempo_status_t status, const tempo_error_t *err)
{
    if (status != TEMPO_OK) {
        tempo__op_finish(op, status, err);
        return;
    }
    tempo_error_t e;
    tempo__error_set(&e, TEMPO_ENOTFOUND, "schedule '%s' not found", op->id);
    tempo__op_finish(op, TEMPO_ENOTFOUND, &e);
}

static void apply_and_write(void *ud, tempo_status_t status, const tempo_error_t *err,
                            const tempo_schedule_record_t *recs, size_t n)
{
    tempo__op_t *op = ud;
    tempo_scheduler_t *s = op->s;
    if (status != TEMPO_OK || n == 0) {
        finish_not_found(op, status, err);
        return;
    }
    const change_t *ch = op->extra;
    tempo_schedule_record_t rec = recs[0];
    snprintf(op->task_id, sizeof op->task_id, "%s", rec.task_id);
    unsigned f = ch->c.fields;
    if (f & TEMPO_CHANGE_ARGS)
        rec.args = ch->args;
    if (f & TEMPO_CHANGE_COALESCE)
        rec.coalesce = ch->c.coalesce;
    if (f & TEMPO_CHANGE_MISFIRE_GRACE_TIME)
        rec.misfire_grace_time = ch->c.misfire_grace_time;
    if (f & TEMPO_CHANGE_MAX_JITTER) {
        rec.max_jitter = ch->c.max_jitter;
        rec.jitter_deterministic = ch->c.jitter_deterministic;
    }
    if (f & TEMPO_CHANGE_JOB_RESULT_EXPIRATION)
        rec.job_result_expiration = ch->c.job_result_expiration;
    if (f & TEMPO_CHANGE_METADATA)
        rec.metadata = ch->metadata;
    if (f & TEMPO_CHANGE_TRIGGER) {
        rec.trigger = ch->c.trigger;
        rec.next_fire_time = tempo_trigger_next(rec.trigger, tempo_loop_now(s->loop) - 1);
        if (rec.next_fire_time == TEMPO_TIME_NONE) {
            tempo_error_t e;
            tempo__error_set(&e, TEMPO_EINVAL, "modify_schedule '%s': the new trigger has no fire time at or after now",
                             op->id);
            tempo__op_finish(op, TEMPO_EINVAL, &e);
            return;
        }
    }
    if (ch->pause >= 0)
        rec.paused = ch->pause == 1;
    op->when = rec.next_fire_time;
    s->store->ops->update_schedule(s->store->self, &rec, updated, op);
}

static tempo_status_t start_change(tempo_scheduler_t *s, const char *id, change_t *ch, tempo_done_cb cb,
                                   void *userdata, const char *what, tempo_error_t *err)
{
    tempo__op_t *op = tempo__op_new(s, OP_DONE, (void (*)(void))cb, userdata, id);
    if (!op) {
        change_free(ch);
        return tempo__error_set(err, TEMPO_ENOMEM, "%s: out of memory", what);
    }
    op->extra = ch;
    op->free_extra = change_free;
    const char *ids[1] = {op->id};
    s->store->ops->get_schedules(s->store->self, ids, 1, apply_and_write, op);
    return TEMPO_OK;
}

static tempo_status_t validate_changes(const tempo_schedule_changes_t *c, tempo_error_t *err)
{
    const char *what = "modify_schedule";
    tempo_status_t rc;
    if ((c->fields & TEMPO_CHANGE_TRIGGER) && !c->trigger)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: TEMPO_CHANGE_TRIGGER with a NULL trigger", what);
    if ((c->fields & TEMPO_CHANGE_COALESCE) && c->coalesce > TEMPO_COALESCE_ALL)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: coalesce %d is not a tempo_coalesce_t", what, (int)c->coalesce);
    if ((c->fields & TEMPO_CHANGE_MISFIRE_GRACE_TIME) &&
        (rc = check_duration(c->misfire_grace_time, true, what, "misfire_grace_time", err)))
        return rc;
    if ((c->fields & TEMPO_CHANGE_MAX_JITTER) && (rc = check_duration(c->max_jitter, false, what, "max_jitter", err)))
        return rc;
    if ((c->fields & TEMPO_CHANGE_JOB_RESULT_EXPIRATION) &&
        (rc = check_duration(c->job_result_expiration, false, what, "job_result_expiration", err)))
        return rc;
    if (c->fields & ~(unsigned)((TEMPO_CHANGE_TRIGGER << 1) - 1))
        return tempo__error_set(err, TEMPO_EINVAL, "%s: unknown change flags 0x%x", what, c->fields);
    return TEMPO_OK;
}

static tempo_status_t scheduler_modify_schedule_unlocked(tempo_scheduler_t *s, const char *id,
                                               const tempo_schedule_changes_t *changes, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    tempo_status_t rc;
    if ((rc = check_scheduler(s, "modify_schedule", err)) || (rc = check_id(id, "modify_schedule", err)))
        return rc;
    if (!changes)
        return tempo__error_set(err, TEMPO_EINVAL, "modify_schedule: changes are required");
    change_t *ch = calloc(1, sizeof *ch);
    if (!ch)
        return tempo__error_set(err, TEMPO_ENOMEM, "modify_schedule: out of memory");
    tempo_schedule_changes_t defaults = TEMPO_SCHEDULE_CHANGES_INIT;
    ch->c = defaults;
    if (!tempo__options_copy(&ch->c, sizeof ch->c, changes)) {
        free(ch);
        return tempo__error_set(err, TEMPO_EINVAL, "modify_schedule: changes.size %zu is not a size this build knows",
                                changes->size);
    }
    if ((rc = validate_changes(&ch->c, err)) != TEMPO_OK) {
        free(ch);
        return rc;
    }
    ch->pause = -1;
    ch->args = (ch->c.fields & TEMPO_CHANGE_ARGS) && ch->c.args ? bson_copy(ch->c.args) : NULL;
    ch->metadata = (ch->c.fields & TEMPO_CHANGE_METADATA) && ch->c.metadata ? bson_copy(ch->c.metadata) : NULL;
    ch->c.trigger = (ch->c.fields & TEMPO_CHANGE_TRIGGER) ? tempo_trigger_ref(ch->c.trigger) : NULL;
    return start_change(s, id, ch, cb, userdata, "modify_schedule", err);
}

static tempo_status_t scheduler_reschedule_unlocked(tempo_scheduler_t *s, const char *id, tempo_trigger_t *trigger,
                                          tempo_done_cb cb, void *userdata, tempo_error_t *err)
{
    tempo_schedule_changes_t c = TEMPO_SCHEDULE_CHANGES_INIT;
    c.fields = TEMPO_CHANGE_TRIGGER;
    c.trigger = trigger;
    return tempo_scheduler_modify_schedule(s, id, &c, cb, userdata, err);
}

static tempo_status_t set_paused(tempo_scheduler_t *s, const char *id, bool pause, tempo_done_cb cb, void *ud,
                                 tempo_error_t *err)
{
    const char *what = pause ? "pause_schedule" : "resume_schedule";
    tempo_status_t rc;
    if ((rc = check_scheduler(s, what, err)) || (rc = check_id(id, what, err)))
        return rc;
    change_t *ch = calloc(1, sizeof *ch);
    if (!ch)
        return tempo__error_set(err, TEMPO_ENOMEM, "%s: out of memory", what);
    ch->pause = pause;
    return start_change(s, id, ch, cb, ud, what, err);
}

static tempo_status_t scheduler_pause_schedule_unlocked(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                              void *userdata, tempo_error_t *err)
{
    return set_paused(s, id, true, cb, userdata, err);
}

static tempo_status_t scheduler_resume_schedule_unlocked(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    return set_paused(s, id, false, cb, userdata, err);
}

/* ---- remove: read (to answer ENOTFOUND), then remove ---- */

static void removed(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__op_t *op = ud;
    if (status == TEMPO_OK) {
        tempo_event_t ev;
        tempo__event_init(op->s, &ev, TEMPO_EVENT_SCHEDULE_REMOVED);
        ev.schedule_id = op->id;
        ev.task_id = op->task_id;
        tempo__emit(op->s, &ev);
        if (op->s->state == SCHED_FREED)
            return; /* a subscriber freed the scheduler; the op went with it */
    }
    tempo__op_finish(op, status, err);
}

static void remove_found(void *ud, tempo_status_t status, const tempo_error_t *err,
                         const tempo_schedule_record_t *recs, size_t n)
{
    tempo__op_t *op = ud;
    if (status != TEMPO_OK || n == 0) {
        finish_not_found(op, status, err);
        return;
    }
    snprintf(op->task_id, sizeof op->task_id, "%s", recs[0].task_id);
    const char *ids[1] = {op->id};
    op->s->store->ops->remove_schedules(op->s->store->self, ids, 1, removed, op);
}

static tempo_status_t scheduler_remove_schedule_unlocked(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    tempo_status_t rc;
    if ((rc = check_scheduler(s, "remove_schedule", err)) || (rc = check_id(id, "remove_schedule", err)))
        return rc;
    tempo__op_t *op = tempo__op_new(s, OP_DONE, (void (*)(void))cb, userdata, id);
    if (!op)
        return tempo__error_set(err, TEMPO_ENOMEM, "remove_schedule: out of memory");
    const char *ids[1] = {op->id};
    s->store->ops->get_schedules(s->store->self, ids, 1, remove_found, op);
    return TEMPO_OK;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_add_schedule(tempo_scheduler_t *s, const tempo_schedule_options_t *opts_in,
                                            tempo_id_cb cb, void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_add_schedule_unlocked(s, opts_in, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_add_schedule_unlocked(s, opts_in, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_get_schedule(tempo_scheduler_t *s, const char *id, tempo_schedules_cb cb,
                                            void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_get_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_get_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_list_schedules(tempo_scheduler_t *s, tempo_schedules_cb cb, void *userdata,
                                              tempo_error_t *err)
{
    if (!s)
        return scheduler_list_schedules_unlocked(s, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_list_schedules_unlocked(s, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_modify_schedule(tempo_scheduler_t *s, const char *id,
                                               const tempo_schedule_changes_t *changes, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_modify_schedule_unlocked(s, id, changes, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_modify_schedule_unlocked(s, id, changes, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_reschedule(tempo_scheduler_t *s, const char *id, tempo_trigger_t *trigger,
                                          tempo_done_cb cb, void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_reschedule_unlocked(s, id, trigger, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_reschedule_unlocked(s, id, trigger, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_pause_schedule(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                              void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_pause_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_pause_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_resume_schedule(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_resume_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_resume_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_remove_schedule(tempo_scheduler_t *s, const char *id, tempo_done_cb cb,
                                               void *userdata, tempo_error_t *err)
{
    if (!s)
        return scheduler_remove_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_remove_schedule_unlocked(s, id, cb, userdata, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}
