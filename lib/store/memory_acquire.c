/* Acquiring schedules in the memory store (releasing them, and the fused
 * step: memory_release.c).
 *
 * acquire_schedules pops the due heap: O(k log n) for k schedules out of n,
 * whatever the number of paused, finished or leased schedules (they are not
 * in that heap). A leased schedule waits in the leased heap under
 * max(next_fire_time, lease until), the first instant it could be handed out
 * again; an acquisition at `now` first moves the ones whose instant came
 * (lease expired AND due) to the due heap, so a crashed owner's schedules
 * come back, each move paid once. next_schedule_time reads the two heap tops:
 * O(1), and it never reports a paused schedule or a held lease as due (the
 * APScheduler "spin" where it counted them). */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

/* The due heap always has room for every schedule (memory_internal.h). */
void tempo__mem_schedules_expire(mem_store_t *st, tempo_time_t now)
{
    const tempo__heap_node_t *top;
    while ((top = tempo__heap_top(&st->leased)) != NULL && top->key <= now) {
        mem_schedule_t *s = tempo__heap_pop(&st->leased);
        s->where = MEM_DUE;
        tempo__heap_push(&st->due, s->next_fire_time, s);
    }
}

/* Snapshots of the picked schedules as they will be once leased. */
static tempo_status_t snapshot_leased(mem_schedule_t **picked, size_t n, const char *owner,
                                      tempo_time_t until, tempo_schedule_record_t *recs, tempo_error_t *err)
{
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < n && rc == TEMPO_OK; i++) {
        tempo_lease_t lease = {owner, until, picked[i]->fence + 1};
        rc = tempo__mem_schedule_snapshot(picked[i], &lease, &recs[i], err);
    }
    return rc;
}

static void lease_picked(mem_store_t *st, mem_schedule_t **picked, size_t n, mem_name_t *owner,
                         tempo_time_t until)
{
    owner->refs += (uint32_t)(n - 1); /* one reference was taken already */
    for (size_t i = 0; i < n; i++) {
        mem_schedule_t *s = picked[i];
        if (s->owner) /* an expired lease, taken over */
            tempo__mem_name_unref(&st->owners, s->owner);
        s->owner = owner;
        s->until = until;
        s->fence++;
        s->where = MEM_NOWHERE; /* popped from the due heap */
        tempo__mem_schedule_place(st, s);
    }
}

/* Back where they came from: the due heap has room for every schedule. */
static void unpick(mem_store_t *st, mem_schedule_t **picked, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tempo__heap_push(&st->due, picked[i]->next_fire_time, picked[i]);
}

/* Pop up to `limit` due schedules, earliest first, into a new array that
 * grows as it fills (a huge limit with few schedules due costs little).
 * Out of memory: nothing popped, NULL. */
static mem_schedule_t **pick_due(mem_store_t *st, tempo_time_t now, size_t limit, size_t *n)
{
    mem_schedule_t **picked = NULL;
    size_t cap = 0;
    const tempo__heap_node_t *top;
    *n = 0;
    while (*n < limit && (top = tempo__heap_top(&st->due)) != NULL && top->key <= now) {
        if (*n == cap) {
            size_t want = cap ? cap * 2 : 64;
            cap = want < limit ? want : limit;
            mem_schedule_t **grown = realloc(picked, cap * sizeof *grown);
            if (!grown) {
                unpick(st, picked, *n);
                free(picked);
                *n = 0;
                return NULL;
            }
            picked = grown;
        }
        picked[(*n)++] = tempo__heap_pop(&st->due);
    }
    return picked;
}

static tempo_status_t acquire(mem_store_t *st, const char *owner, tempo_time_t now, tempo_duration_t lease,
                              size_t limit, mem_op_t *op)
{
    tempo_status_t rc = tempo__mem_check_lease_args(owner, now, lease, &op->err);
    if (rc != TEMPO_OK)
        return rc;
    tempo__mem_schedules_expire(st, now);
    const tempo__heap_node_t *top = tempo__heap_top(&st->due);
    if (limit == 0 || !top || top->key > now)
        return TEMPO_OK;
    size_t n;
    mem_schedule_t **picked = pick_due(st, now, limit, &n);
    tempo_schedule_record_t *recs = picked ? calloc(n, sizeof *recs) : NULL;
    mem_name_t *name = recs && tempo__heap_reserve(&st->leased, st->leased.count + n)
                           ? tempo__mem_owner_ref(st, owner)
                           : NULL;
    rc = name ? snapshot_leased(picked, n, owner, now + lease, recs, &op->err)
              : tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    if (rc == TEMPO_OK) {
        lease_picked(st, picked, n, name, now + lease);
        op->out.list.recs = recs;
        op->out.list.count = n;
    } else {
        unpick(st, picked, n);
        if (name)
            tempo__mem_name_unref(&st->owners, name);
        tempo__schedule_records_free(recs, n);
    }
    free(picked);
    return rc;
}

void tempo__mem_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                  size_t limit, tempo_store_schedules_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_SCHEDULES, "acquire_schedules",
                                       (mem_cb_t){.schedules = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = acquire(self, owner, now, lease, limit, op);
    tempo__mem_op_end(op);
}

/* ---- next time ---- */

void tempo__mem_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud)
{
    mem_store_t *st = self;
    mem_op_t *op = tempo__mem_op_begin(st, MEM_OP_TIME, "next_schedule_time", (mem_cb_t){.time = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK) {
        const tempo__heap_node_t *due = tempo__heap_top(&st->due), *leased = tempo__heap_top(&st->leased);
        tempo_time_t when = due ? due->key : TEMPO_TIME_NONE;
        if (leased && (when == TEMPO_TIME_NONE || leased->key < when))
            when = leased->key;
        op->out.when = when;
    }
    tempo__mem_op_end(op);
}
