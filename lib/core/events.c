/* Event subscriptions and delivery.
 *
 * Subscribers may unsubscribe (themselves or others) and subscribe while an
 * event is being delivered. Removal during delivery only marks the entry;
 * the array is compacted when the outermost delivery ends, so indices stay
 * valid under the loop. New subscribers do not see the event in progress. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"
#include "util/error_internal.h"

const char *tempo_event_type_name(tempo_event_type_t type)
{
    switch (type) {
    case TEMPO_EVENT_SCHEDULER_STARTED: return "scheduler_started";
    case TEMPO_EVENT_SCHEDULER_STOPPED: return "scheduler_stopped";
    case TEMPO_EVENT_TASK_ADDED: return "task_added";
    case TEMPO_EVENT_TASK_REMOVED: return "task_removed";
    case TEMPO_EVENT_SCHEDULE_ADDED: return "schedule_added";
    case TEMPO_EVENT_SCHEDULE_UPDATED: return "schedule_updated";
    case TEMPO_EVENT_SCHEDULE_REMOVED: return "schedule_removed";
    case TEMPO_EVENT_JOB_ADDED: return "job_added";
    case TEMPO_EVENT_JOB_ACQUIRED: return "job_acquired";
    case TEMPO_EVENT_JOB_RELEASED: return "job_released";
    case TEMPO_EVENT_STORE_ERROR: return "store_error";
    case TEMPO_EVENT_RECORD_QUARANTINED: return "record_quarantined";
    case TEMPO_EVENT_ALL: break;
    }
    return "unknown";
}

const char *tempo_outcome_name(tempo_outcome_t outcome)
{
    switch (outcome) {
    case TEMPO_OUTCOME_SUCCESS: return "success";
    case TEMPO_OUTCOME_ERROR: return "error";
    case TEMPO_OUTCOME_MISSED_START_DEADLINE: return "missed_start_deadline";
    case TEMPO_OUTCOME_CANCELLED: return "cancelled";
    case TEMPO_OUTCOME_ABANDONED: return "abandoned";
    case TEMPO_OUTCOME_DESERIALIZATION_FAILED: return "deserialization_failed";
    }
    return "unknown";
}

void tempo__event_init(tempo_scheduler_t *s, tempo_event_t *ev, tempo_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->timestamp = tempo_loop_now(s->loop);
    ev->scheduled_fire_time = TEMPO_TIME_NONE;
    ev->next_fire_time = TEMPO_TIME_NONE;
}

static void compact(tempo_scheduler_t *s)
{
    size_t j = 0;
    uint32_t mask = 0;
    for (size_t i = 0; i < s->n_subs; i++)
        if (!s->subs[i].removed) {
            mask |= s->subs[i].mask;
            s->subs[j++] = s->subs[i];
        }
    s->n_subs = j;
    s->sub_mask = mask;
}

void tempo__emit(tempo_scheduler_t *s, const tempo_event_t *ev)
{
    if (!tempo__wants(s, ev->type))
        return;
    size_t n = s->n_subs; /* subscribers added during delivery wait for the next event */
    s->delivering++;
    /* `i < s->n_subs` too: a callback that frees the scheduler empties it. */
    for (size_t i = 0; i < n && i < s->n_subs; i++) {
        tempo__sub_t sub = s->subs[i]; /* copy: the array may grow under us */
        if (!sub.removed && (sub.mask & ev->type))
            sub.cb(ev, sub.userdata);
    }
    if (--s->delivering == 0)
        compact(s);
}

void tempo__emit_store_error(tempo_scheduler_t *s, tempo_status_t status, const tempo_error_t *err,
                             const char *what)
{
    tempo_event_t ev;
    tempo__event_init(s, &ev, TEMPO_EVENT_STORE_ERROR);
    char msg[TEMPO_ERROR_MESSAGE_MAX + 64];
    snprintf(msg, sizeof msg, "%s: %s", what, err && err->message[0] ? err->message : tempo_strerror(status));
    ev.status = status;
    ev.message = msg;
    tempo__emit(s, &ev);
}

void tempo__on_quarantine(void *userdata, const char *kind, const char *id, const char *reason)
{
    tempo_scheduler_t *s = userdata;
    tempo_event_t ev;
    tempo__event_init(s, &ev, TEMPO_EVENT_RECORD_QUARANTINED);
    if (strcmp(kind, "task") == 0)
        ev.task_id = id;
    else if (strcmp(kind, "schedule") == 0)
        ev.schedule_id = id;
    else
        ev.job_id = id;
    ev.status = TEMPO_EFORMAT;
    ev.message = reason;
    tempo__emit(s, &ev);
}

static tempo_status_t scheduler_subscribe_unlocked(tempo_scheduler_t *s, uint32_t mask, tempo_event_cb cb,
                                         void *userdata, uint64_t *id, tempo_error_t *err)
{
    if (!s || !cb)
        return tempo__error_set(err, TEMPO_EINVAL, "subscribe: scheduler and callback are required");
    if ((mask & TEMPO_EVENT_ALL) == 0)
        return tempo__error_set(err, TEMPO_EINVAL, "subscribe: mask 0x%x selects no event", mask);
    if (s->n_subs == s->cap_subs) {
        size_t cap = s->cap_subs ? 2 * s->cap_subs : 8;
        tempo__sub_t *subs = realloc(s->subs, cap * sizeof *subs);
        if (!subs)
            return tempo__error_set(err, TEMPO_ENOMEM, "subscribe: out of memory");
        s->subs = subs;
        s->cap_subs = cap;
    }
    uint64_t sid = ++s->next_sub_id;
    s->subs[s->n_subs++] = (tempo__sub_t){sid, mask, cb, userdata, false};
    s->sub_mask |= mask;
    if (id)
        *id = sid;
    return TEMPO_OK;
}

static void scheduler_unsubscribe_unlocked(tempo_scheduler_t *s, uint64_t id)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_subs; i++)
        if (s->subs[i].id == id)
            s->subs[i].removed = true;
    if (s->delivering == 0)
        compact(s);
}

void tempo__subs_free(tempo_scheduler_t *s)
{
    free(s->subs);
    s->subs = NULL;
    s->n_subs = s->cap_subs = 0;
}

/* The public entry: under the loop's big lock when a runner set one. */
tempo_status_t tempo_scheduler_subscribe(tempo_scheduler_t *s, uint32_t mask, tempo_event_cb cb,
                                         void *userdata, uint64_t *id, tempo_error_t *err)
{
    if (!s)
        return scheduler_subscribe_unlocked(s, mask, cb, userdata, id, err);
    tempo__loop_lock(s->loop);
    tempo_status_t rc_ = scheduler_subscribe_unlocked(s, mask, cb, userdata, id, err);
    tempo__loop_unlock(s->loop);
    return rc_;
}

/* The public entry: under the loop's big lock when a runner set one. */
void tempo_scheduler_unsubscribe(tempo_scheduler_t *s, uint64_t id)
{
    if (!s) {
        scheduler_unsubscribe_unlocked(s, id);
        return;
    }
    tempo__loop_lock(s->loop);
    scheduler_unsubscribe_unlocked(s, id);
    tempo__loop_unlock(s->loop);
}
