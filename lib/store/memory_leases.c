/* Lease extension, results and cleanup in the memory store.
 *
 * Results live in a map by job id and a heap by expiry, so cleanup pays
 * O(log n) per expired result and nothing for the others. A result is kept
 * only when its job's result_expiration is > 0 (APScheduler's default is to
 * keep none). get_job_result reads "now" from the loop's clock to hide a
 * result that expired but was not cleaned up yet. */
#include <stdlib.h>
#include <string.h>

#include "memory_internal.h"
#include "records.h"
#include "util/error_internal.h"

/* ---- results ---- */

bool tempo__mem_results_reserve(mem_store_t *st, size_t more)
{
    size_t n = st->results.count;
    return more <= MEM_MAX_RECORDS - n && tempo__hmap_reserve(&st->results, n + more) &&
           tempo__heap_reserve(&st->result_expiry, n + more);
}

tempo_status_t tempo__mem_result_prepare(const mem_job_t *j, const tempo_job_result_t *result,
                                         mem_result_t **out, tempo_error_t *err)
{
    tempo_job_result_t view = *result;
    view.job_id = j->id;
    view.task_id = j->task->id;
    view.schedule_id = j->schedule ? j->schedule->str : NULL;
    view.scheduled_fire_time = j->scheduled_fire_time;
    if (__builtin_add_overflow(result->finished_at, j->result_expiration, &view.expires_at))
        view.expires_at = INT64_MAX; /* kept "for ever" rather than refused */
    *out = malloc(sizeof **out);
    if (!*out)
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory storing the result of job '%s'", j->id);
    tempo_status_t rc = tempo__job_result_copy(&(*out)->rec, &view, err);
    if (rc != TEMPO_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

void tempo__mem_result_discard(mem_result_t *r)
{
    tempo__job_result_clear(&r->rec);
    free(r);
}

/* A job id has at most one result: a newer one replaces it. */
void tempo__mem_result_store(mem_store_t *st, mem_result_t *r)
{
    mem_result_t *old = tempo__hmap_remove(&st->results, r->rec.job_id);
    if (old) {
        tempo__heap_remove(&st->result_expiry, old->pos);
        tempo__mem_result_discard(old);
    }
    tempo__hmap_insert(&st->results, r);
    tempo__heap_push(&st->result_expiry, r->rec.expires_at, r);
}

void tempo__mem_results_free(mem_store_t *st)
{
    size_t pos = 0;
    mem_result_t *r;
    while ((r = tempo__hmap_next(&st->results, &pos)) != NULL)
        tempo__mem_result_discard(r);
    tempo__hmap_destroy(&st->results);
    tempo__heap_destroy(&st->result_expiry);
}

static tempo_status_t get_result(mem_store_t *st, const char *job_id, mem_op_t *op)
{
    if (!tempo__id_ok(job_id))
        return tempo__error_set(&op->err, TEMPO_EINVAL, "job_id is %s", job_id ? "empty" : "NULL");
    mem_result_t *r = tempo__hmap_get(&st->results, job_id);
    if (!r || r->rec.expires_at <= tempo_loop_now(st->loop))
        return tempo__error_set(&op->err, TEMPO_ENOTFOUND,
                                "no result for job '%s' (unknown, not finished, kept for no time, or "
                                "expired)",
                                job_id);
    return tempo__job_result_copy(&op->out.result, &r->rec, &op->err);
}

void tempo__mem_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_RESULT, "get_job_result", (mem_cb_t){.result = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = get_result(self, job_id, op);
    tempo__mem_op_end(op);
}

/* ---- listing results ----
 *
 * No index keeps results in order of finishing: a listing looks at every
 * kept result and sorts the ones it takes. Listings serve people and tools
 * (`tempo results`), never the scheduling path, so the store does not pay
 * for a second order on every release. */

static int newest_first(const void *a, const void *b)
{
    const tempo_job_result_t *x = *(const tempo_job_result_t *const *)a;
    const tempo_job_result_t *y = *(const tempo_job_result_t *const *)b;
    if (x->finished_at != y->finished_at)
        return x->finished_at > y->finished_at ? -1 : 1;
    return strcmp(x->job_id, y->job_id);
}

void tempo__mem_result_list_free(tempo_job_result_t *recs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        tempo__job_result_clear(&recs[i]);
    free(recs);
}

static bool listed(const tempo_job_result_t *r, const char *schedule_id, tempo_time_t now)
{
    return r->expires_at > now && (!schedule_id || (r->schedule_id && strcmp(r->schedule_id, schedule_id) == 0));
}

/* Copies of the first `n` of `found` into the op's answer: all or none. */
static tempo_status_t answer_copies(mem_op_t *op, const tempo_job_result_t *const *found, size_t n)
{
    tempo_job_result_t *out = n ? calloc(n, sizeof *out) : NULL;
    if (n && !out)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory copying %zu results", n);
    for (size_t i = 0; i < n; i++) {
        tempo_status_t rc = tempo__job_result_copy(&out[i], found[i], &op->err);
        if (rc != TEMPO_OK) {
            tempo__mem_result_list_free(out, i);
            return rc;
        }
    }
    op->out.list.recs = out;
    op->out.list.count = n;
    return TEMPO_OK;
}

static tempo_status_t list_results(mem_store_t *st, const char *schedule_id, tempo_time_t now, size_t limit,
                                   mem_op_t *op)
{
    if (schedule_id && !schedule_id[0])
        return tempo__error_set(&op->err, TEMPO_EINVAL, "schedule_id is empty (NULL lists every job's results)");
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(&op->err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    size_t cap = st->results.count, n = 0, pos = 0;
    const tempo_job_result_t **found = cap ? malloc(cap * sizeof *found) : NULL;
    if (cap && !found)
        return tempo__error_set(&op->err, TEMPO_ENOMEM, "out of memory listing %zu results", cap);
    const mem_result_t *r;
    while ((r = tempo__hmap_next(&st->results, &pos)) != NULL)
        if (listed(&r->rec, schedule_id, now))
            found[n++] = &r->rec;
    if (n > 1)
        qsort(found, n, sizeof *found, newest_first);
    tempo_status_t rc = answer_copies(op, found, limit && n > limit ? limit : n);
    free(found);
    return rc;
}

void tempo__mem_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                             tempo_store_results_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_RESULTS, "list_results", (mem_cb_t){.results = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = list_results(self, schedule_id, now, limit, op);
    tempo__mem_op_end(op);
}

/* ---- cleanup ---- */

/* The finished bag is walked from its end: removing an element moves the
 * last one (already seen) into its place. With eager removal on release and
 * on a job's deletion, what is left here was added or updated as finished. */
static tempo_status_t cleanup(mem_store_t *st, tempo_time_t now, tempo_error_t *err)
{
    if (now == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "now is TEMPO_TIME_NONE");
    const tempo__heap_node_t *top;
    while ((top = tempo__heap_top(&st->result_expiry)) != NULL && top->key <= now) {
        mem_result_t *r = tempo__heap_pop(&st->result_expiry);
        tempo__hmap_remove(&st->results, r->rec.job_id);
        tempo__mem_result_discard(r);
    }
    for (size_t i = st->finished.count; i > 0; i--)
        tempo__mem_schedule_collect(st, st->finished.nodes[i - 1].item);
    return TEMPO_OK;
}

void tempo__mem_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "cleanup", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = cleanup(self, now, &op->err);
    tempo__mem_op_end(op);
}

/* ---- extend ---- */

/* The ids that were not extended, for the message. */
typedef struct lost {
    size_t count;
    char text[160];
    size_t used;
} lost_t;

static void lost_add(lost_t *l, const char *kind, const char *id)
{
    if (l->count++ < 4 && l->used < sizeof l->text) {
        int n = snprintf(l->text + l->used, sizeof l->text - l->used, "%s%s '%s'", l->used ? ", " : "",
                         kind, id);
        l->used = n < 0 ? sizeof l->text : l->used + (size_t)n;
    }
}

static void extend_schedule(mem_store_t *st, mem_schedule_t *s, tempo_time_t until)
{
    s->until = until;
    /* Re-placing re-keys a leased one, and brings back to the leased heap
     * one whose lease was seen expired (in the due heap, owner on record). */
    if (s->where == MEM_LEASED || s->where == MEM_DUE) {
        tempo__mem_schedule_unplace(st, s);
        tempo__mem_schedule_place(st, s);
    }
}

static void extend_job(mem_store_t *st, mem_job_t *j, tempo_time_t until)
{
    j->until = until;
    if (j->where == MEM_RUNNING) {
        tempo__heap_update(&st->job_leases, j->pos, until);
        return;
    }
    /* Lapsed and not reaped yet: the owner is back in time. */
    tempo__mem_lapsed_unlink(st, j);
    j->where = MEM_RUNNING;
    tempo__heap_push(&st->job_leases, until, j);
    j->task->running++;
    tempo__mem_task_touch(st, j->task);
}

static tempo_status_t extend(mem_store_t *st, const char *owner, const char *const *sids, size_t sn,
                             const char *const *jids, size_t jn, tempo_time_t until, tempo_error_t *err)
{
    if (!tempo__id_ok(owner))
        return tempo__error_set(err, TEMPO_EINVAL, "owner is %s", owner ? "empty" : "NULL");
    if (until == TEMPO_TIME_NONE)
        return tempo__error_set(err, TEMPO_EINVAL, "until is TEMPO_TIME_NONE");
    tempo_status_t rc = tempo__mem_check_ids(sids, sn, "schedule_ids", err);
    if (rc == TEMPO_OK)
        rc = tempo__mem_check_ids(jids, jn, "job_ids", err);
    if (rc != TEMPO_OK)
        return rc;
    if (!tempo__heap_reserve(&st->leased, st->leased.count + sn) ||
        !tempo__heap_reserve(&st->job_leases, st->job_leases.count + jn))
        return tempo__error_set(err, TEMPO_ENOMEM, "out of memory");
    lost_t lost = {0};
    for (size_t i = 0; i < sn; i++) {
        mem_schedule_t *s = tempo__hmap_get(&st->schedules, sids[i]);
        if (s && tempo__mem_owner_is(s->owner, owner))
            extend_schedule(st, s, until);
        else
            lost_add(&lost, "schedule", sids[i]);
    }
    for (size_t i = 0; i < jn; i++) {
        mem_job_t *j = tempo__hmap_get(&st->jobs, jids[i]);
        if (j && tempo__mem_owner_is(j->owner, owner))
            extend_job(st, j, until);
        else
            lost_add(&lost, "job", jids[i]);
    }
    if (lost.count == 0)
        return TEMPO_OK;
    return tempo__error_set(err, TEMPO_ELEASE, "%zu of %zu leases are no longer held by '%s': %s%s",
                            lost.count, sn + jn, owner, lost.text, lost.count > 4 ? ", ..." : "");
}

void tempo__mem_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                              size_t schedule_count, const char *const *job_ids, size_t job_count,
                              tempo_time_t until, tempo_store_status_cb cb, void *ud)
{
    mem_op_t *op = tempo__mem_op_begin(self, MEM_OP_STATUS, "extend_leases", (mem_cb_t){.status = cb}, ud);
    if (!op)
        return;
    if (op->status == TEMPO_OK)
        op->status = extend(self, owner, schedule_ids, schedule_count, job_ids, job_count, until, &op->err);
    tempo__mem_op_end(op);
}
