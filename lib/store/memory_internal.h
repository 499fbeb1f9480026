/* The memory store's private layout, shared by its files:
 *
 *   memory_store.c        constructor, ops table, start / stop / destroy
 *   memory_ops.c          the life of one operation: begin, defer, complete
 *   memory_intern.c       what is kept once: interned names, stored documents
 *   memory_tasks.c        task records
 *   memory_schedules.c    schedule records and their place in the indexes
 *   memory_acquire.c      acquire schedules, next_schedule_time
 *   memory_release.c      release schedules, and step_schedules (the fused step)
 *   memory_jobs.c         job records, their queues, lease expiry
 *   memory_job_acquire.c  acquire / release jobs, next_job_time, reaping
 *   memory_leases.c       extend_leases, cleanup, results (one, or a list)
 *
 * Everything runs on the loop thread; no locks. docs/stores.md describes the
 * indexes and what each operation costs.
 *
 * Where a schedule lives (mem_schedule_t.where) — exactly one place:
 *   MEM_DUE       in st->due, keyed by next_fire_time: not paused, not
 *                 finished, and either never leased, released, or its lease
 *                 was seen expired by an acquisition (it keeps the expired
 *                 lease on record until someone takes it over);
 *   MEM_LEASED    in st->leased, keyed by max(next_fire_time, lease until):
 *                 the first instant acquire_schedules could hand it out;
 *   MEM_FINISHED  in st->finished (a bag): next_fire_time is NONE; removed
 *                 when no job names it any more;
 *   MEM_NOWHERE   paused: in no index, so paused schedules cost nothing to
 *                 acquisition or next_schedule_time.
 * Invariant that makes moves infallible: st->due has room for every schedule
 * in the store (reserved when one is added); room in st->leased and
 * st->finished is reserved by each operation before it changes anything.
 *
 * Where a job lives (mem_job_t.where):
 *   MEM_QUEUED    in its task's queue, keyed by its effective fire time
 *                 (scheduled_fire_time; created_at when that is NONE), ties by
 *                 created_at then id;
 *   MEM_RUNNING   in st->job_leases, keyed by lease expiry, counted in its
 *                 task's `running` (the max_running_jobs slots);
 *   (direct)      taken direct (memory_release.c): no mem_job_t at all —
 *                 only its task's `running` and a reference to the task,
 *                 which is its token, until release_direct;
 *   MEM_LAPSED    its lease expired: on st->lapsed (reap_abandoned's
 *                 worklist) with the lease still on record, in no queue —
 *                 not acquirable (store.h: a dead worker's job is reported
 *                 abandoned, not silently run again) — and no longer counted
 *                 in `running`, so its slot is free.
 * Invariant: a task's queue has room for all of that task's jobs, so a job
 * taken out of it can always go back. */
#ifndef TEMPO_STORE_MEMORY_INTERNAL_H
#define TEMPO_STORE_MEMORY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <tempo/store.h>

#include "loop/loop_internal.h"
#include "util/hashmap.h"
#include "util/heap.h"

#define MEM_NPOS UINT32_MAX
/* Records per index: positions are 32-bit to keep records small. */
#define MEM_MAX_RECORDS (UINT32_MAX - 1u)

/* ------------------------------------------------------------ interned */

/* An owner name, or a schedule id that jobs name (refs = those jobs). */
typedef struct mem_name {
    uint32_t refs;
    char str[];
} mem_name_t;

/* A task id as schedules and jobs name it, with that task's job queue. */
typedef struct mem_task {
    uint32_t refs;      /* schedules and jobs naming it, and direct tokens */
    uint32_t jobs;      /* its job records, queued or running */
    uint32_t running;   /* its jobs with a lease not seen expired, and direct ones */
    uint32_t batch;     /* jobs prepared but not inserted (within one operation) */
    uint32_t top_pos;   /* index in st->task_tops; MEM_NPOS when the queue is empty */
    uint32_t merge_pos; /* acquire_jobs: index in its merge heap */
    uint32_t merge_max; /* acquire_jobs: max_running_jobs as listed (0 = unlimited) */
    uint32_t taken;     /* acquire_jobs: jobs picked from it so far */
    uint64_t stamp;     /* acquire_jobs: last acquisition that listed it */
    tempo__heap_t queue;
    char id[];
} mem_task_t;

/* ------------------------------------------------------------- records */

enum { MEM_NOWHERE = 0, MEM_DUE, MEM_LEASED, MEM_FINISHED };
enum { MEM_QUEUED = 1, MEM_RUNNING, MEM_LAPSED };

typedef struct mem_schedule {
    tempo_time_t next_fire_time;
    tempo_time_t last_fire_time;
    tempo_duration_t misfire_grace_time;
    tempo_duration_t max_jitter;
    tempo_duration_t job_result_expiration;
    tempo_trigger_t *trigger;
    mem_task_t *task;
    uint8_t *args;     /* stored document or NULL (memory_intern.c) */
    uint8_t *metadata;
    mem_name_t *owner; /* the lease: NULL when not held */
    tempo_time_t until;
    int64_t fence;
    uint32_t pos;      /* index in the index `where` names */
    uint8_t where;
    uint8_t coalesce;
    bool paused;
    bool jitter_deterministic;
    char id[];
} mem_schedule_t;

typedef struct mem_job {
    tempo_time_t scheduled_fire_time;
    tempo_time_t original_fire_time;
    tempo_time_t start_deadline;
    tempo_time_t created_at;
    tempo_duration_t result_expiration;
    mem_task_t *task;
    mem_name_t *schedule; /* NULL for a job queued directly */
    uint8_t *args;
    mem_name_t *owner;
    tempo_time_t until;
    int64_t fence;
    struct mem_job *lapsed_prev, *lapsed_next;
    uint32_t pos;
    uint32_t hash;  /* of id, as st->jobs uses it: hashed once per job */
    uint8_t where;
    bool lapsed;
    char id[];
} mem_job_t;

typedef struct mem_result {
    tempo_job_result_t rec; /* a records.h copy */
    uint32_t pos;           /* in st->result_expiry */
} mem_result_t;

/* --------------------------------------------------------- operations */

typedef enum mem_op_kind {
    MEM_OP_STATUS,
    MEM_OP_RELEASE, /* status callback; entry statuses written first */
    MEM_OP_ADD,
    MEM_OP_TASKS,
    MEM_OP_SCHEDULES,
    MEM_OP_JOBS,
    MEM_OP_RESULT,
    MEM_OP_TIME,
    MEM_OP_STOP,
    MEM_OP_RESULTS /* out.list of tempo_job_result_t copies */
} mem_op_kind_t;

typedef union mem_cb {
    tempo_store_status_cb status;
    tempo_store_add_cb add;
    tempo_store_tasks_cb tasks;
    tempo_store_schedules_cb schedules;
    tempo_store_jobs_cb jobs;
    tempo_store_result_cb result;
    tempo_store_time_cb time;
    tempo_store_results_cb results;
} mem_cb_t;

typedef struct mem_store mem_store_t;

/* One call's completion: its answer is computed during the call, and
 * delivered by a deferred call on the loop. */
typedef struct mem_op {
    tempo__call_t call;
    struct mem_op *next; /* on st->flying or st->held */
    struct mem_op *prev; /* on st->flying */
    mem_store_t *st;
    mem_op_kind_t kind;
    const char *name;    /* the operation, for messages */
    bool emergency;      /* one of st->emergency */
    bool stop_slot;      /* st->stop_slot */
    mem_cb_t cb;
    void *ud;
    tempo_status_t status;
    tempo_error_t err;
    union {
        tempo_store_added_t added;
        tempo_time_t when;
        struct {
            void *recs;
            size_t count;
        } list;
        tempo_job_result_t result; /* a copy; job_id NULL when none */
        struct {
            tempo_schedule_release_t *entries;
            tempo_status_t *statuses; /* NULL: every entry gets `status` */
            size_t count;
        } release;
    } out;
} mem_op_t;

typedef enum mem_state {
    MEM_NEW = 0,
    MEM_STARTED,
    MEM_STOPPING,
    MEM_STOPPED,
    MEM_DESTROYING
} mem_state_t;

/* Delivered operations kept for the next ones: an operation per fire
 * (release_job) would otherwise cost an allocation each. */
#define MEM_SPARE_OPS 64

/* Answers that can be delivered when an operation's own allocation fails. */
#define MEM_EMERGENCY_OPS 8

struct mem_store {
    mem_state_t state;
    tempo_loop_t *loop;
    mem_op_t *flying;   /* answers deferred on the loop, not yet delivered */
    size_t in_flight;   /* their number */
    mem_op_t *held;     /* answers waiting for a loop (before start, after stop) */
    mem_op_t **held_tail;
    mem_op_t *stop_op;  /* stop() waiting for in_flight to drain: &stop_slot */
    bool stop_queued;   /* stop_op is deferred */
    bool in_callback;   /* a callback of ours is running */
    bool destroyed;     /* destroy() came inside that callback */
    mem_op_t emergency[MEM_EMERGENCY_OPS];
    mem_op_t *spare;     /* delivered operations kept for reuse (linked by next) */
    size_t spare_count;
    mem_op_t stop_slot; /* the accepted stop needs no allocation: it cannot fail */

    tempo__hmap_t task_records;  /* tempo_task_record_t copies */
    tempo__hmap_t tasks;         /* mem_task_t: interned task ids */
    tempo__hmap_t owners;        /* mem_name_t */
    tempo__hmap_t schedule_refs; /* mem_name_t: schedule ids named by jobs */

    tempo__hmap_t schedules;
    tempo__heap_t due;
    tempo__heap_t leased;
    tempo__heap_t finished;

    tempo__hmap_t jobs;
    tempo__heap_t job_leases; /* MEM_RUNNING jobs by lease expiry */
    tempo__heap_t task_tops;  /* tasks with queued jobs, by their first key */
    mem_job_t *lapsed;        /* queued jobs with an expired lease on record */
    mem_job_t *lapsed_tail;
    size_t lapsed_count;
    size_t direct_jobs;       /* taken direct, not released yet (memory_release.c) */
    uint64_t stamp;           /* acquisitions so far (mem_task_t.stamp) */

    tempo__hmap_t results;
    tempo__heap_t result_expiry;
};

/* ---- memory_ops.c ----
 * Every operation: op = begin(); if (op && op->status == OK) compute the
 * answer into op (changing the store, or nothing at all when it fails);
 * end(op). begin() refuses (status preset) when the store cannot run
 * operations; it returns NULL only when it already answered (out of memory
 * with no emergency slot left). end() prefixes a failure's message with
 * "store 'memory': <op>: ". */
mem_op_t *tempo__mem_op_begin(mem_store_t *st, mem_op_kind_t kind, const char *name, mem_cb_t cb,
                              void *ud);
void tempo__mem_op_end(mem_op_t *op);
void tempo__mem_spares_free(mem_store_t *st);
tempo_status_t tempo__mem_start(void *self, tempo_loop_t *loop, tempo_error_t *err);
/* memory_store.c: free every record and the store (no callback runs). */
void tempo__mem_store_free(mem_store_t *st);
void tempo__mem_stop(void *self, tempo_store_status_cb cb, void *ud);
void tempo__mem_destroy(void *self);

/* ---- memory_intern.c ---- */
mem_name_t *tempo__mem_name_ref(tempo__hmap_t *map, const char *str);
void tempo__mem_name_unref(tempo__hmap_t *map, mem_name_t *name);
const char *tempo__mem_name_key(const void *item);
mem_task_t *tempo__mem_task_ref(mem_store_t *st, const char *id);
void tempo__mem_task_unref(mem_store_t *st, mem_task_t *task);
void tempo__mem_task_names_free(mem_store_t *st); /* every one left, at the store's end */
const char *tempo__mem_task_key(const void *item);
/* Stored documents: the BSON bytes (their length is their first 4 bytes),
 * NULL for a NULL or empty document. */
bool tempo__mem_doc_dup(const bson_t *doc, uint8_t **out);
const bson_t *tempo__mem_doc_view(const uint8_t *bytes, bson_t *storage);
mem_name_t *tempo__mem_owner_ref(mem_store_t *st, const char *owner);
bool tempo__mem_owner_is(const mem_name_t *name, const char *owner);

/* ---- memory_tasks.c ---- */
void tempo__mem_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud);
void tempo__mem_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud);
void tempo__mem_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud);
void tempo__mem_tasks_free(mem_store_t *st);

/* ---- memory_schedules.c ---- */
void tempo__mem_add_schedule(void *self, const tempo_schedule_record_t *schedule,
                             tempo_conflict_t conflict, tempo_store_add_cb cb, void *ud);
void tempo__mem_get_schedules(void *self, const char *const *ids, size_t count,
                              tempo_store_schedules_cb cb, void *ud);
void tempo__mem_update_schedule(void *self, const tempo_schedule_record_t *schedule,
                                tempo_store_status_cb cb, void *ud);
void tempo__mem_remove_schedules(void *self, const char *const *ids, size_t count,
                                 tempo_store_status_cb cb, void *ud);
const char *tempo__mem_schedule_key(const void *item);
int tempo__mem_schedule_tie(const void *a, const void *b);
void tempo__mem_schedule_moved(void *item, size_t index);
/* Room for `added` new schedules (map, and the due heap's room for all),
 * and for `moved` schedules entering the leased heap or the finished bag. */
tempo_status_t tempo__mem_schedules_reserve(mem_store_t *st, size_t added, size_t moved, tempo_error_t *err);
void tempo__mem_schedule_place(mem_store_t *st, mem_schedule_t *s);
void tempo__mem_schedule_unplace(mem_store_t *st, mem_schedule_t *s);
/* New times for a schedule: moved within st->due when it stays due, else
 * taken out of its index and placed again. */
void tempo__mem_schedule_retime(mem_store_t *st, mem_schedule_t *s, tempo_time_t next, tempo_time_t last);
void tempo__mem_schedule_remove(mem_store_t *st, mem_schedule_t *s);
/* Remove `s` if it is finished and no job names it. */
void tempo__mem_schedule_collect(mem_store_t *st, mem_schedule_t *s);
/* A view of `s` (pointing into it; args and metadata viewed through the
 * storage given), valid until the store changes. */
void tempo__mem_schedule_view(const mem_schedule_t *s, tempo_schedule_record_t *out, bson_t *args,
                              bson_t *metadata);
/* A copy of `s` for a callback, showing `lease` instead of its own when
 * `lease` is not NULL. */
tempo_status_t tempo__mem_schedule_snapshot(const mem_schedule_t *s, const tempo_lease_t *lease,
                                            tempo_schedule_record_t *out, tempo_error_t *err);
void tempo__mem_schedules_free(mem_store_t *st);
/* The records of `map` asked for by `ids` (all when count is 0), ordered by
 * id, each once, into `out` (room for count, or map->count). Returns how many,
 * or SIZE_MAX when out of memory. Shared by get_schedules and get_jobs. */
size_t tempo__mem_collect(const tempo__hmap_t *map, const char *const *ids, size_t count,
                          const char *(*id_of)(const void *rec), void **out);

tempo_status_t tempo__mem_check_ids(const char *const *ids, size_t count, const char *what,
                                    tempo_error_t *err);
tempo_status_t tempo__mem_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                           tempo_error_t *err);

/* ---- memory_acquire.c ---- */
/* Move the leased schedules whose lease expired (and that are due) back to
 * the due heap. */
void tempo__mem_schedules_expire(mem_store_t *st, tempo_time_t now);
void tempo__mem_acquire_schedules(void *self, const char *owner, tempo_time_t now,
                                  tempo_duration_t lease, size_t limit, tempo_store_schedules_cb cb,
                                  void *ud);
void tempo__mem_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                  size_t count, tempo_store_status_cb cb, void *ud);
void tempo__mem_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud);

/* ---- memory_release.c ---- */
void tempo__mem_step_schedules(void *self, const char *owner, tempo_time_t now, size_t limit,
                               tempo_store_plan_fn plan, void *plan_ud, tempo_store_status_cb cb, void *ud);

/* ---- memory_jobs.c ---- */
void tempo__mem_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud);
void tempo__mem_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb,
                         void *ud);
const char *tempo__mem_job_key(const void *item);
int tempo__mem_job_tie(const void *a, const void *b);
void tempo__mem_job_moved(void *item, size_t index);
int64_t tempo__mem_job_order(const mem_job_t *j);
/* A job made from a record (`hash`: tempo__hmap_hash of its id), not yet in
 * any index; its task's queue has room
 * for it. Discard (not inserted) or insert it before the operation ends. */
tempo_status_t tempo__mem_job_new(mem_store_t *st, const tempo_job_record_t *rec, uint32_t hash, mem_job_t **out,
                                  tempo_error_t *err);
void tempo__mem_job_discard(mem_store_t *st, mem_job_t *j);
/* Index a new job; the caller reserved room in st->jobs. */
void tempo__mem_job_insert(mem_store_t *st, mem_job_t *j);
/* The same for a new job already in st->jobs: queue it, or lease it to
 * `owner` (whose reference the job takes) until `until` at fence 1 (room
 * reserved in st->job_leases). */
void tempo__mem_job_enqueue(mem_store_t *st, mem_job_t *j);
void tempo__mem_job_lease_new(mem_store_t *st, mem_job_t *j, mem_name_t *owner, tempo_time_t until);
void tempo__mem_job_delete(mem_store_t *st, mem_job_t *j);
tempo_status_t tempo__mem_job_snapshot(const mem_job_t *j, const tempo_lease_t *lease,
                                       tempo_job_record_t *out, tempo_error_t *err);
/* Move every running job whose lease expired at `now` back to its queue. */
void tempo__mem_jobs_expire(mem_store_t *st, tempo_time_t now);
void tempo__mem_lapsed_unlink(mem_store_t *st, mem_job_t *j);
/* Re-key `task` in st->task_tops after its queue changed. */
void tempo__mem_task_touch(mem_store_t *st, mem_task_t *task);
void tempo__mem_jobs_free(mem_store_t *st);

/* ---- memory_job_acquire.c ---- */
void tempo__mem_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                             size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                             tempo_store_jobs_cb cb, void *ud);
void tempo__mem_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                            const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud);
void tempo__mem_release_direct(void *self, void *direct, const tempo_job_result_t *result,
                               tempo_store_status_cb cb, void *ud);
void tempo__mem_next_job_time(void *self, tempo_store_time_cb cb, void *ud);
void tempo__mem_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud);

/* ---- memory_leases.c ---- */
void tempo__mem_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                              size_t schedule_count, const char *const *job_ids, size_t job_count,
                              tempo_time_t until, tempo_store_status_cb cb, void *ud);
void tempo__mem_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud);
void tempo__mem_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud);
void tempo__mem_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                             tempo_store_results_cb cb, void *ud);
/* Free an answer of list_results: `count` records.h copies. */
void tempo__mem_result_list_free(tempo_job_result_t *recs, size_t count);
/* A result ready to store: a copy with the job's identity, expiring the
 * job's result_expiration after finished_at. */
tempo_status_t tempo__mem_result_prepare(const mem_job_t *j, const tempo_job_result_t *result,
                                         mem_result_t **out, tempo_error_t *err);
/* Keep it (replacing one of the same job id); the caller reserved room. */
void tempo__mem_result_store(mem_store_t *st, mem_result_t *r);
void tempo__mem_result_discard(mem_result_t *r);
bool tempo__mem_results_reserve(mem_store_t *st, size_t more);
void tempo__mem_results_free(mem_store_t *st);

#endif
