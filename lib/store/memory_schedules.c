/* Schedule records in the memory store, and their place in its indexes.
 *
 * A schedule is one allocation (its id at the end) plus what cannot be
 * shared: its stored documents when non-empty. Its task id is interned, its
 * trigger is a reference to the caller's immutable trigger. Where it sits —
 * due heap, leased heap, finished bag, or nowhere when paused — follows from
 * its fields alone (place()), so every change is "unplace, edit, place". */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

const char *tempo__mem_schedule_key(const void *item)
{
    return ((const mem_schedule_t *)item)->id;
}

int tempo__mem_schedule_tie(const void *a, const void *b)
{
    return strcmp(((const mem_schedule_t *)a)->id, ((const mem_schedule_t *)b)->id);
}

void tempo__mem_schedule_moved(void *item, size_t index)
{
    ((mem_schedule_t *)item)->pos = (uint32_t)index;
}

tempo_status_t tempo__mem_schedules_reserve(mem_store_t *st, size_t added, size_t moved, tempo_error_t *err)
{
    size_t n = st->schedules.count;
    if (added > MEM_MAX_RECORDS - n)
        return tempo__error_set(err, TEMPO_ERANGE, "the store holds %zu schedules, its limit", n);
    bool ok = tempo__hmap_reserve(&st->schedules, n + added) && tempo__heap_reserve(&st->due, n + added) &&
              tempo__heap_reserve(&st->leased, st->leased.count + moved) &&
              tempo__heap_reserve(&st->finished, st->finished.count + moved);
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
}

/* The first instant acquire_schedules may hand out a leased schedule. */
static int64_t leased_key(const mem_schedule_t *s)
{
    return s->next_fire_time > s->until ? s->next_fire_time : s->until;
}

void tempo__mem_schedule_place(mem_store_t *st, mem_schedule_t *s)
{
    if (s->next_fire_time == TEMPO_TIME_NONE) {
        s->where = MEM_FINISHED;
        tempo__heap_push(&st->finished, 0, s);
    } else if (s->paused) {
        s->where = MEM_NOWHERE;
        s->pos = MEM_NPOS;
    } else if (s->owner) {
        s->where = MEM_LEASED;
        tempo__heap_push(&st->leased, leased_key(s), s);
    } else {
        s->where = MEM_DUE;
        tempo__heap_push(&st->due, s->next_fire_time, s);
    }
}

void tempo__mem_schedule_unplace(mem_store_t *st, mem_schedule_t *s)
{
    switch (s->where) {
    case MEM_DUE: tempo__heap_remove(&st->due, s->pos); break;
    case MEM_LEASED: tempo__heap_remove(&st->leased, s->pos); break;
    case MEM_FINISHED: tempo__heap_remove(&st->finished, s->pos); break;
    default: break;
    }
    s->where = MEM_NOWHERE;
    s->pos = MEM_NPOS;
}

void tempo__mem_schedule_retime(mem_store_t *st, mem_schedule_t *s, tempo_time_t next, tempo_time_t last)
{
    s->last_fire_time = last;
    /* The common case of a step: a due schedule stays due, later. One sift
     * instead of a removal and an insertion. */
    if (s->where == MEM_DUE && next != TEMPO_TIME_NONE && !s->paused && !s->owner) {
        s->next_fire_time = next;
        tempo__heap_update(&st->due, s->pos, next);
        return;
    }
    tempo__mem_schedule_unplace(st, s);
    s->next_fire_time = next;
    tempo__mem_schedule_place(st, s);
}

static void set_fields(mem_schedule_t *s, const tempo_schedule_record_t *rec)
{
    s->next_fire_time = rec->next_fire_time;
    s->last_fire_time = rec->last_fire_time;
    s->misfire_grace_time = rec->misfire_grace_time;
    s->max_jitter = rec->max_jitter;
    s->job_result_expiration = rec->job_result_expiration;
    s->coalesce = (uint8_t)rec->coalesce;
    s->paused = rec->paused;
    s->jitter_deterministic = rec->jitter_deterministic;
}

/* Everything a schedule owns, for one not (or no longer) in any index. */
static void schedule_free(mem_store_t *st, mem_schedule_t *s)
{
    if (s->task)
        tempo__mem_task_unref(st, s->task);
    if (s->owner)
        tempo__mem_name_unref(&st->owners, s->owner);
    free(s->args);
    free(s->metadata);
    tempo_trigger_free(s->trigger);
    free(s);
}

/* A schedule made from a record, in no index, not leased, fence 0. */
static mem_schedule_t *schedule_new(mem_store_t *st, const tempo_schedule_record_t *rec)
{
    size_t len = strlen(rec->id) + 1;
    mem_schedule_t *s = malloc(sizeof *s + len);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    memcpy(s->id, rec->id, len);
    s->until = TEMPO_TIME_NONE;
    s->pos = MEM_NPOS;
    s->task = tempo__mem_task_ref(st, rec->task_id);
    if (!s->task || !tempo__mem_doc_dup(rec->args, &s->args) ||
        !tempo__mem_doc_dup(rec->metadata, &s->metadata)) {
        schedule_free(st, s);
        return NULL;
    }
    s->trigger = tempo_trigger_ref(rec->trigger);
    set_fields(s, rec);
    return s;
}

void tempo__mem_schedule_remove(mem_store_t *st, mem_schedule_t *s)
{
    tempo__mem_schedule_unplace(st, s);
    tempo__hmap_remove(&st->schedules, s->id);
    schedule_free(st, s);
}

void tempo__mem_schedule_collect(mem_store_t *st, mem_schedule_t *s)
{
    if (s->where == MEM_FINISHED && !tempo__hmap_get(&st->schedule_refs, s->id))
        tempo__mem_schedule_remove(st, s);
}

void tempo__mem_schedule_view(const mem_schedule_t *s, tempo_schedule_record_t *out, bson_t *args,
                              bson_t *metadata)
{
    *out = (tempo_schedule_record_t){
        .id = s->id,
        .task_id = s->task->id,
        .trigger = s->trigger,
        .args = tempo__mem_doc_view(s->args, args),
        .coalesce = (tempo_coalesce_t)s->coalesce,
        .misfire_grace_time = s->misfire_grace_time,
        .max_jitter = s->max_jitter,
        .jitter_deterministic = s->jitter_deterministic,
        .paused = s->paused,
        .job_result_expiration = s->job_result_expiration,
        .next_fire_time = s->next_fire_time,
        .last_fire_time = s->last_fire_time,
        .metadata = tempo__mem_doc_view(s->metadata, metadata),
        .lease = {s->owner ? s->owner->str : NULL, s->until, s->fence},
    };
}

tempo_status_t tempo__mem_schedule_snapshot(const mem_schedule_t *s, const tempo_lease_t *lease,
                                            tempo_schedule_record_t *out, tempo_error_t *err)
{
    bson_t args, metadata;
    tempo_schedule_record_t view;
    tempo__mem_schedule_view(s, &view, &args, &metadata);
    if (lease)
        view.lease = *lease;
    return tempo__schedule_record_copy(out, &view, err);
}

tempo_status_t tempo__mem_check_ids(const char *const *ids, size_t count, const char *what,
                                    tempo_error_t *err)
{
    if (count > 0 && !ids)
        return tempo__error_set(err, TEMPO_EINVAL, "%s is NULL but its count is %zu", what, count);
    for (size_t i = 0; i < count; i++)
        if (!tempo__id_ok(ids[i]))
            return tempo__error_set(err, TEMPO_EINVAL, "%s[%zu] is %s", what, i, ids[i] ? "empty" : "NULL");
    return TEMPO_OK;
}

tempo_status_t tempo__mem_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                           tempo_error_t *err)
{
    tempo_time_t until;
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    if (lease <= 0)
        return tempo__error_set(err, TEMPO_EINVAL, "lease must be > 0 microseconds, got %lld",
                                (long long)lease);
    if (__builtin_add_overflow(now, lease, &until))
        return tempo__error_set(err, TEMPO_ERANGE, "now + lease (%lld + %lld) is past the end of time",
                                (long long)now, (long long)lease);
    return TEMPO_OK;
}

/* ---- add ---- */

static tempo_status_t add_schedule(mem_store_t *st, const tempo_schedule_record_t *rec,
                                   tempo_conflict_t conflict, tempo_store_added_t *added,
                                   tempo_error_t *err)
{
    tempo_status_t rc = tempo__schedule_record_check(rec, err);
    if (rc != TEMPO_OK)
        return rc;
    if (conflict != TEMPO_CONFLICT_DO_NOTHING && conflict != TEMPO_CONFLICT_REPLACE &&
        conflict != TEMPO_CONFLICT_ERROR)
        return tempo__error_set(err, TEMPO_EINVAL, "schedule '%s': conflict %d is not a tempo_conflict_t",
                                rec->id, (int)conflict);
    mem_schedule_t *old = tempo__hmap_get(&st->schedules, rec->id);
    if (old && conflict != TEMPO_CONFLICT_REPLACE) {
        *added = TEMPO_STORE_KEPT;
        if (conflict == TEMPO_CONFLICT_ERROR)
            return tempo__error_set(err, TEMPO_EEXIST, "schedule '%s' already exists", rec->id);
        return TEMPO_OK;
    }
    rc = tempo__mem_schedules_reserve(st, old ? 0 : 1, 1, err);
    if (rc != TEMPO_OK)
        return rc;
    mem_schedule_t *s = schedule_new(st, rec);
    if (!s)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory adding schedule '%s'", rec->id);
    *added = TEMPO_STORE_ADDED;
    if (old) {
        /* A replacement is a new schedule: whoever leased the old one loses
         * its lease (its release would write times computed from the old
         * trigger), but the fence keeps counting so that no later
         * acquisition can reuse a fence the old holder knows. */
        s->fence = old->fence;
        tempo__mem_schedule_remove(st, old);
        *added = TEMPO_STORE_REPLACED;
    }
    tempo__hmap_insert(&st->schedules, s);
    tempo__mem_schedule_place(st, s);
    return TEMPO_OK;
}

void tempo__mem_add_schedule(void *self, const tempo_schedule_record_t *schedule,
                             tempo_conflict_t conflict, tempo_store_add_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_ADD, "add_schedule", (mem_cb_t){.add = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = add_schedule(self, schedule, conflict, &op->out.added, &op->err);
    tempo__mem_op_end(op);
}

/* ---- get ---- */

static const char *schedule_id(const void *rec)
{
    return ((const mem_schedule_t *)rec)->id;
}

static tempo_status_t get_schedules(mem_store_t *st, const char *const *ids, size_t count, mem_op_t *op)
{
    tempo_status_t rc = tempo__mem_check_ids(ids, count, "ids", &op->err);
    if (rc != TEMPO_OK)
        return rc;
    size_t cap = count ? count : st->schedules.count;
    if (cap == 0)
        return TEMPO_OK;
    void **found = malloc(cap * sizeof *found); /* of mem_schedule_t */
    if (!found)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    size_t n = tempo__mem_collect(&st->schedules, ids, count, schedule_id, found);
    if (n == SIZE_MAX) {
        free(found);
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    }
    tempo_schedule_record_t *recs = n ? calloc(n, sizeof *recs) : NULL;
    if (n && !recs)
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu schedules", n);
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++)
        rc = tempo__mem_schedule_snapshot(found[i], NULL, &recs[i], &op->err);
    free(found);
    if (rc != TEMPO_OK) {
        tempo__schedule_records_free(recs, n);
        return rc;
    }
    op->out.list.recs = recs;
    op->out.list.count = n;
    return TEMPO_OK;
}

void tempo__mem_get_schedules(void *self, const char *const *ids, size_t count,
                              tempo_store_schedules_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_SCHEDULES, "get_schedules",
                                       (mem_cb_t){.schedules = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = get_schedules(self, ids, count, op);
    tempo__mem_op_end(op);
}

/* ---- update ---- */

static tempo_status_t update_schedule(mem_store_t *st, const tempo_schedule_record_t *rec,
                                      tempo_error_t *err)
{
    tempo_status_t rc = tempo__schedule_record_check(rec, err);
    if (rc != TEMPO_OK)
        return rc;
    mem_schedule_t *s = tempo__hmap_get(&st->schedules, rec->id);
    if (!s)
        return tempo__error_set(err, TEMPO_ENOTFOUND, "no schedule '%s'", rec->id);
    rc = tempo__mem_schedules_reserve(st, 0, 1, err);
    if (rc != TEMPO_OK)
        return rc;
    uint8_t *args = NULL, *metadata = NULL;
    mem_task_t *task = tempo__mem_task_ref(st, rec->task_id);
    if (!task || !tempo__mem_doc_dup(rec->args, &args) || !tempo__mem_doc_dup(rec->metadata, &metadata)) {
        if (task)
            tempo__mem_task_unref(st, task);
        free(args);
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory updating schedule '%s'", rec->id);
    }
    tempo__mem_schedule_unplace(st, s);
    tempo__mem_task_unref(st, s->task);
    free(s->args);
    free(s->metadata);
    tempo_trigger_t *old_trigger = s->trigger;
    s->task = task;
    s->args = args;
    s->metadata = metadata;
    s->trigger = tempo_trigger_ref(rec->trigger);
    tempo_trigger_free(old_trigger);
    set_fields(s, rec);
    tempo__mem_schedule_place(st, s);
    return TEMPO_OK;
}

void tempo__mem_update_schedule(void *self, const tempo_schedule_record_t *schedule,
                                tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "update_schedule", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = update_schedule(self, schedule, &op->err);
    tempo__mem_op_end(op);
}

/* ---- remove ---- */

static tempo_status_t remove_schedules(mem_store_t *st, const char *const *ids, size_t count,
                                       tempo_error_t *err)
{
    tempo_status_t rc = tempo__mem_check_ids(ids, count, "ids", err);
    if (rc != TEMPO_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        mem_schedule_t *s = tempo__hmap_get(&st->schedules, ids[i]);
        if (s)
            tempo__mem_schedule_remove(st, s);
    }
    return TEMPO_OK;
}

void tempo__mem_remove_schedules(void *self, const char *const *ids, size_t count,
                                 tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "remove_schedules", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = remove_schedules(self, ids, count, &op->err);
    tempo__mem_op_end(op);
}

void tempo__mem_schedules_free(mem_store_t *st)
{
    size_t pos = 0;
    mem_schedule_t *s;
    while ((s = tempo__hmap_next(&st->schedules, &pos)) != NULL)
        schedule_free(st, s);
    tempo__hmap_destroy(&st->schedules);
    tempo__heap_destroy(&st->due);
    tempo__heap_destroy(&st->leased);
    tempo__heap_destroy(&st->finished);
}
