/* Acquiring and releasing schedules in the memory store.
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
static void schedules_expire(mem_store_t *st, tempo_time_t now)
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
    schedules_expire(st, now);
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

/* ---- release ---- */

static tempo_status_t check_take(tempo_job_take_t *t, tempo_error_t *err)
{
    t->fence = 0; /* not taken, unless the release takes it */
    if (t->until == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "take.until is TEMPO_TIME_NONE");
    if (t->max_running < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "take.max_running must be >= 0, got %d", t->max_running);
    return TEMPO_OK;
}

static tempo_status_t check_releases(const char *owner, tempo_schedule_release_t *rel, size_t count,
                                     size_t *total, tempo_error_t *err)
{
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (count > 0 && !rel)
        return tempo__error_set(err, TEMPO_EINVAL, "releases is NULL but its count is %zu", count);
    *total = 0;
    for (size_t i = 0; i < count; i++) {
        if (!tempo__id_ok(rel[i].id))
            return tempo__error_set(err, TEMPO_EINVAL, "releases[%zu].id is %s", i,
                                    rel[i].id ? "empty" : "NULL");
        if (rel[i].job_count > 0 && !rel[i].jobs)
            return tempo__error_set(err, TEMPO_EINVAL,
                                    "releases[%zu] ('%s'): jobs is NULL but job_count is %zu", i, rel[i].id,
                                    rel[i].job_count);
        for (size_t k = 0; k < rel[i].job_count; k++) {
            tempo_status_t rc = tempo__job_record_check(&rel[i].jobs[k], err);
            if (rc == TEMPO_OK && rel[i].take)
                rc = check_take(&rel[i].take[k], err);
            if (rc != TEMPO_OK)
                return tempo__error_prefix(err, rc, "releases[%zu] ('%s') jobs[%zu]", i, rel[i].id, k);
        }
        if (__builtin_add_overflow(*total, rel[i].job_count, total))
            return tempo__error_set(err, TEMPO_ERANGE, "too many jobs in one release");
    }
    return TEMPO_OK;
}

/* The new jobs of a release: in st->jobs (so that a batch repeating an id
 * finds it there), in no other index yet. */
typedef struct prepared {
    mem_job_t **jobs;
    tempo_job_take_t **takes; /* per job: the scheduler's request to take it, or NULL */
    size_t n;
    mem_name_t *owner;        /* one reference, for the jobs taken (NULL: none asked) */
} prepared_t;

static void prepared_discard(mem_store_t *st, prepared_t *p)
{
    while (p->n > 0) {
        mem_job_t *j = p->jobs[--p->n];
        tempo__hmap_remove(&st->jobs, j->id);
        tempo__mem_job_discard(st, j);
    }
    if (p->owner)
        tempo__mem_name_unref(&st->owners, p->owner);
    free(p->jobs);
    free(p->takes);
}

static size_t takes_asked(const tempo_schedule_release_t *rel, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (rel[i].take)
            n += rel[i].job_count;
    return n;
}

/* Room for everything the release may add, before anything changes. */
static tempo_status_t prepare_room(mem_store_t *st, const char *owner, size_t total, size_t takes,
                                   prepared_t *p, tempo_error_t *err)
{
    *p = (prepared_t){0};
    if (total > MEM_MAX_RECORDS - st->jobs.count)
        return tempo__error_set(err, TEMPO_ERANGE, "the store holds %zu jobs, its limit", st->jobs.count);
    p->jobs = total ? malloc(total * sizeof *p->jobs) : NULL;
    p->takes = total ? malloc(total * sizeof *p->takes) : NULL;
    bool ok = !total || (p->jobs && p->takes);
    ok = ok && tempo__hmap_reserve(&st->jobs, st->jobs.count + total);
    ok = ok && (!takes || tempo__heap_reserve(&st->job_leases, st->job_leases.count + takes));
    ok = ok && (!takes || (p->owner = tempo__mem_owner_ref(st, owner)) != NULL);
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
}

/* Make every job whose id is new (idempotent insertion: an id that exists,
 * or came earlier in the batch, is skipped). All or nothing: on failure the
 * caller discards what was made. */
static tempo_status_t prepare_jobs(mem_store_t *st, const char *owner, tempo_schedule_release_t *rel,
                                   size_t count, size_t total, prepared_t *p, tempo_error_t *err)
{
    tempo_status_t rc = prepare_room(st, owner, total, takes_asked(rel, count), p, err);
    for (size_t i = 0; i < count && rc == TEMPO_OK; i++) {
        for (size_t k = 0; k < rel[i].job_count && rc == TEMPO_OK; k++) {
            const tempo_job_record_t *rec = &rel[i].jobs[k];
            if (tempo__hmap_get(&st->jobs, rec->id))
                continue;
            rc = tempo__mem_job_new(st, rec, &p->jobs[p->n], err);
            if (rc == TEMPO_OK) {
                tempo__hmap_insert(&st->jobs, p->jobs[p->n]);
                p->takes[p->n++] = rel[i].take ? &rel[i].take[k] : NULL;
            }
        }
    }
    return rc;
}

/* Index the prepared jobs: leased to the releasing owner where it asked and
 * the task has a free slot (counting the ones taken just before), else
 * queued. */
static void insert_jobs(mem_store_t *st, prepared_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        mem_job_t *j = p->jobs[i];
        tempo_job_take_t *t = p->takes[i];
        if (t && (t->max_running == 0 || j->task->running < (uint32_t)t->max_running)) {
            p->owner->refs++;
            tempo__mem_job_lease_new(st, j, p->owner, t->until);
            t->fence = j->fence;
        } else {
            tempo__mem_job_enqueue(st, j);
        }
    }
    p->n = 0;
}

/* Update one schedule if `owner` still holds it with this fence. */
static tempo_status_t release_one(mem_store_t *st, const char *owner, const tempo_schedule_release_t *e)
{
    mem_schedule_t *s = tempo__hmap_get(&st->schedules, e->id);
    if (!s || !tempo__mem_owner_is(s->owner, owner) || s->fence != e->fence)
        return TEMPO_ELEASE;
    tempo__mem_schedule_unplace(st, s);
    s->next_fire_time = e->next_fire_time;
    s->last_fire_time = e->last_fire_time;
    tempo__mem_name_unref(&st->owners, s->owner);
    s->owner = NULL;
    s->until = TEMPO_TIME_NONE;
    tempo__mem_schedule_place(st, s);
    tempo__mem_schedule_collect(st, s);
    return TEMPO_OK;
}

static tempo_status_t release(mem_store_t *st, const char *owner, tempo_schedule_release_t *rel, size_t count,
                              mem_op_t *op)
{
    size_t total = 0;
    tempo_status_t rc = check_releases(owner, rel, count, &total, &op->err);
    if (rc != TEMPO_OK)
        return rc;
    prepared_t p;
    rc = prepare_jobs(st, owner, rel, count, total, &p, &op->err);
    tempo_status_t *statuses = NULL;
    if (rc == TEMPO_OK)
        rc = tempo__mem_schedules_reserve(st, 0, count, &op->err);
    if (rc == TEMPO_OK && count > 0 && !(statuses = malloc(count * sizeof *statuses)))
        rc = tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory");
    if (rc != TEMPO_OK) {
        prepared_discard(st, &p);
        return rc;
    }
    /* Jobs first: a finished schedule they name must survive its release. */
    insert_jobs(st, &p);
    prepared_discard(st, &p);
    for (size_t i = 0; i < count; i++)
        statuses[i] = release_one(st, owner, &rel[i]);
    op->out.release.statuses = statuses;
    return TEMPO_OK;
}

void tempo__mem_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                  size_t count, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_RELEASE, "release_schedules",
                                       (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    /* Entry statuses are written just before the callback, whatever the
     * outcome, so the array must live until then (store.h). */
    op->out.release.entries = releases;
    op->out.release.count = releases ? count : 0;
    if (op->status == TEMPO_OK)
        op->status = release(self, owner, releases, count, op);
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
