/* Releasing schedules in the memory store, and step_schedules: the
 * acquisition, the scheduler's planning and the release in one call.
 *
 * A release adds its jobs first (idempotently: an id that exists is
 * skipped), leasing to the releasing owner those it asks to take, then
 * updates each schedule its owner still holds. The step does the same to
 * each due schedule in turn, straight from the due heap: it is never leased
 * (nothing else runs between taking it and releasing it, all on the loop
 * thread), never copied (the planning reads the stored record), and never
 * looked up by id.
 *
 * Jobs taken direct (store.h, tempo_job_take_t.direct) exist only in the
 * step: a job the scheduler will run at once, of a schedule that goes on,
 * gets no record — only its task's slot (`running`, with a reference that
 * keeps the task, the token, alive) until release_direct. That is most of
 * the cost of a fire saved: no allocation, no interning, no hash-table
 * insertion and removal, no lease heap. What it gives up is the record's
 * uses: nobody can list the job while it runs, and its id is not there to
 * stop a second job of the same id (only a schedule removed and added
 * again with the same id and fire times could make one while the first
 * still runs). Since the memory store belongs to one scheduler, that
 * scheduler is the only one that could look. A finishing schedule's last
 * jobs keep records: they are what keeps it listed until they end. */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

/* ---- release ---- */

/* The new jobs of a release: in st->jobs (so that a batch repeating an id
 * finds it there), in no other index yet. */
#define PREP_INLINE 4 /* a step's release makes one job (or a few): no allocation */

typedef struct prepared {
    mem_job_t **jobs;         /* NULL: the job goes direct (takes[i] is its request) */
    tempo_job_take_t **takes; /* per job: the scheduler's request to take it, or NULL */
    size_t n;
    mem_name_t *owner;        /* one reference, for the jobs taken (NULL: none asked) */
    mem_job_t *jobs_inline[PREP_INLINE];
    tempo_job_take_t *takes_inline[PREP_INLINE];
} prepared_t;

static void prepared_discard(mem_store_t *st, prepared_t *p)
{
    while (p->n > 0) {
        mem_job_t *j = p->jobs[--p->n];
        if (!j)
            continue;
        tempo__hmap_remove_hashed(&st->jobs, j->id, j->hash);
        tempo__mem_job_discard(st, j);
    }
    if (p->owner)
        tempo__mem_name_unref(&st->owners, p->owner);
    if (p->jobs != p->jobs_inline)
        free(p->jobs);
    if (p->takes != p->takes_inline)
        free(p->takes);
}

/* Room for everything the release may add, before anything changes. */
static tempo_status_t prepare_room(mem_store_t *st, size_t total, prepared_t *p, tempo_error_t *err)
{
    *p = (prepared_t){0};
    if (total > MEM_MAX_RECORDS - st->jobs.count)
        return tempo__error_set(err, TEMPO_ERANGE, "the store holds %zu jobs, its limit", st->jobs.count);
    bool small = total <= PREP_INLINE;
    p->jobs = small ? p->jobs_inline : malloc(total * sizeof *p->jobs);
    p->takes = small ? p->takes_inline : malloc(total * sizeof *p->takes);
    bool ok = p->jobs && p->takes && tempo__hmap_reserve(&st->jobs, st->jobs.count + total);
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
}

/* Room for the leases of the jobs that may be taken with a record. */
static tempo_status_t prepare_leases(mem_store_t *st, const char *owner, prepared_t *p, tempo_error_t *err)
{
    size_t takes = 0;
    for (size_t i = 0; i < p->n; i++)
        takes += p->jobs[i] && p->takes[i];
    if (takes == 0)
        return TEMPO_OK;
    bool ok = tempo__heap_reserve(&st->job_leases, st->job_leases.count + takes) &&
              (p->owner = tempo__mem_owner_ref(st, owner)) != NULL;
    return ok ? TEMPO_OK : tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
}

/* May job `rec` of the schedule `stepping` plans go direct, `direct` jobs of
 * this release having gone so far? Its task must have a slot for it now. */
static bool may_go_direct(const mem_schedule_t *stepping, const tempo_schedule_release_t *rel,
                          const tempo_job_record_t *rec, const tempo_job_take_t *t, size_t direct)
{
    if (!stepping || !t || !t->direct_ok || rel->next_fire_time == TEMPO_TIME_NONE)
        return false;
    const mem_task_t *task = stepping->task;
    if (!rec->task_id || strcmp(rec->task_id, task->id) != 0)
        return false;
    return t->max_running <= 0 || (uint64_t)task->running + direct < (uint64_t)t->max_running;
}

/* Make every job whose id is new (idempotent insertion: an id that exists,
 * or came earlier in the batch, is skipped). All or nothing: on failure the
 * caller discards what was made. `stepping`: the schedule of the fused step
 * (its jobs may go direct), NULL for release_schedules. */
static tempo_status_t prepare_jobs(mem_store_t *st, const char *owner, const mem_schedule_t *stepping,
                                   tempo_schedule_release_t *rel, size_t count, size_t total, prepared_t *p,
                                   tempo_error_t *err)
{
    tempo_status_t rc = prepare_room(st, total, p, err);
    size_t direct = 0;
    for (size_t i = 0; i < count && rc == TEMPO_OK; i++) {
        for (size_t k = 0; k < rel[i].job_count && rc == TEMPO_OK; k++) {
            const tempo_job_record_t *rec = &rel[i].jobs[k];
            tempo_job_take_t *t = rel[i].take ? &rel[i].take[k] : NULL;
            mem_job_t *j = NULL;
            uint32_t hash = tempo__hmap_hash(rec->id);
            if (tempo__hmap_get_hashed(&st->jobs, rec->id, hash))
                continue;
            if (may_go_direct(stepping, &rel[i], rec, t, direct)) {
                p->jobs[p->n] = NULL;
                p->takes[p->n++] = t;
                direct++;
                continue;
            }
            rc = tempo__mem_job_new(st, rec, hash, &j, err);
            if (rc == TEMPO_OK) {
                p->jobs[p->n] = j;
                tempo__hmap_insert_hashed(&st->jobs, j, j->hash);
                p->takes[p->n++] = t;
            }
        }
    }
    return rc == TEMPO_OK ? prepare_leases(st, owner, p, err) : rc;
}

/* Index the prepared jobs: leased to the releasing owner where it asked and
 * the task has a free slot (counting the ones taken just before), else
 * queued. */
static void insert_jobs(mem_store_t *st, const mem_schedule_t *stepping, prepared_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        mem_job_t *j = p->jobs[i];
        tempo_job_take_t *t = p->takes[i];
        if (!j) {
            mem_task_t *task = stepping->task;
            task->running++;
            task->refs++; /* the token: it outlives the schedule */
            st->direct_jobs++;
            t->direct = task;
            t->fence = 1;
            continue;
        }
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
    tempo_status_t rc = tempo__releases_check(owner, rel, count, &total, &op->err);
    if (rc != TEMPO_OK)
        return rc;
    prepared_t p;
    rc = prepare_jobs(st, owner, NULL, rel, count, total, &p, &op->err);
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
    insert_jobs(st, NULL, &p);
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


/* ---- the fused step ---- */

/* Apply the entry planned for `s` (taken from the top of the due heap, not
 * leased): its jobs, then its new times. All or nothing. `s` may be freed
 * (finished, no job naming it). */
static tempo_status_t apply_planned(mem_store_t *st, const char *owner, mem_schedule_t *s,
                                    tempo_schedule_release_t *rel, tempo_error_t *err)
{
    if (!rel->id || strcmp(rel->id, s->id) != 0)
        return tempo__error_set(err, TEMPO_EINVAL, "the plan for schedule '%s' names '%s'", s->id,
                                rel->id ? rel->id : "(null)");
    size_t total = 0;
    tempo_status_t rc = tempo__releases_check(owner, rel, 1, &total, err);
    if (rc != TEMPO_OK)
        return rc;
    prepared_t p;
    rc = prepare_jobs(st, owner, s, rel, 1, total, &p, err);
    if (rc == TEMPO_OK)
        rc = tempo__mem_schedules_reserve(st, 0, 1, err);
    if (rc != TEMPO_OK) {
        prepared_discard(st, &p);
        return rc;
    }
    insert_jobs(st, s, &p);
    prepared_discard(st, &p);
    tempo__mem_schedule_retime(st, s, rel->next_fire_time, rel->last_fire_time);
    tempo__mem_schedule_collect(st, s);
    return TEMPO_OK;
}

static tempo_status_t step(mem_store_t *st, const char *owner, tempo_time_t now, size_t limit,
                           tempo_store_plan_fn plan, void *plan_ud, tempo_error_t *err)
{
    if (!plan)
        return tempo__error_set(err, TEMPO_EINVAL, "plan is NULL");
    tempo_status_t rc = tempo__mem_check_lease_args(owner, now, 1, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo__mem_schedules_expire(st, now);
    const tempo__heap_node_t *top;
    for (size_t k = 0; k < limit && (top = tempo__heap_top(&st->due)) != NULL && top->key <= now; k++) {
        mem_schedule_t *s = top->item;
        tempo_schedule_record_t view;
        bson_t args, metadata;
        tempo__mem_schedule_view(s, &view, &args, &metadata);
        tempo_schedule_release_t *rel = NULL;
        if (!plan(plan_ud, &view, &rel) || !rel)
            return tempo__error_set(err, TEMPO_ENOMEM, "the scheduler could not plan schedule '%s'", s->id);
        /* Apply before anything else runs: the next plan may reuse rel. */
        rel->status = rc = apply_planned(st, owner, s, rel, err);
        if (rc != TEMPO_OK)
            return rc;
    }
    return TEMPO_OK;
}

void tempo__mem_step_schedules(void *self, const char *owner, tempo_time_t now, size_t limit,
                               tempo_store_plan_fn plan, void *plan_ud, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "step_schedules", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = step(self, owner, now, limit, plan, plan_ud, &op->err);
    tempo__mem_op_end(op);
}
