/* The MongoDB store's private layout, shared by its files:
 *
 *   mongo_store.c        constructor (URI, options), ops table, start / stop / destroy
 *   mongo_ops.c          the life of one operation: made on the loop thread, run on
 *                        the offload thread, answered on the loop thread
 *   mongo_input.c        argument checks and the copies an operation keeps
 *   mongo_conn.c         mongoc_init, the client of one operation, indexes, errors
 *   mongo_codec.c        records -> BSON documents
 *   mongo_decode.c       BSON documents -> records (every fault names its field)
 *   mongo_query.c        builders for filters and find options
 *   mongo_read.c         running a query and decoding what it returns
 *   mongo_quarantine.c   setting undecodable records aside
 *   mongo_lease.c        lease moves: claims of lease states, writes by _id
 *   mongo_tasks.c        task operations
 *   mongo_schedules.c    add / get / update / remove schedules
 *   mongo_acquire.c      acquire / release schedules, next_schedule_time
 *   mongo_jobs.c         add / get / release jobs, next_job_time, reaping
 *   mongo_take.c         jobs taken at their schedule's release; a job id's first claim
 *   mongo_job_acquire.c  acquire_jobs and max_running_jobs across processes
 *   mongo_leases.c       extend_leases, cleanup, results (one, or a list)
 *
 * Threads. libmongoc has no asynchronous API, so every server call runs on
 * the store's one offload thread (lib/exec/pool.h, one thread): operations
 * are queued there in the order they were issued and run one at a time, so
 * each takes effect in issue order (a get issued before an acquire sees the
 * state before it). The exceptions are a worker's operations on the jobs
 * it runs — extend_leases, release_job, acquire_jobs, next_job_time,
 * get_job_result — which run on a second thread of their own, in their
 * issue order (the lease lane): a backlog of slow operations (a step
 * releasing a hundred schedules, polls, cleanup, on a slow server) must not
 * hold a job's lease renewal, or the release of a job that has finished —
 * whose lease nobody renews any more — until the lease lapses and the job
 * is reaped as abandoned although it ran; nor an acquisition, whose leases
 * run from the `now` it was called with (queued behind a step, a job came
 * out with its lease half gone), and while it waits, its worker holds no
 * free slots for the step to take jobs into at their release (store.h). A
 * result asked for after a release is read behind it. Every lease change
 * is decided by a claim (mongo_lease.c), so one racing an operation of the
 * other thread is ordered by the server like one from another process.
 * Answers come back on the loop thread through the pools' completions.
 * The mongoc_client_pool_t is made by the first operation of either thread
 * (under conn_mu) and destroyed on the offload thread once the lease lane
 * is idle: its destruction can talk to the server (endSessions) and join
 * the driver's monitor threads, which must not block the loop. Fields of
 * mg_store_t are marked with the thread that owns them; what the loop
 * thread hands to an operation before submitting it, and what the
 * operation leaves for its answer, cross threads through the pool's mutex.
 *
 * Memory: operations and their copies use libbson's allocator, which aborts
 * when memory runs out — as libmongoc itself does on every call — so this
 * store has no out-of-memory answers (the memory store has them). */
#ifndef TEMPO_STORE_MONGO_INTERNAL_H
#define TEMPO_STORE_MONGO_INTERNAL_H

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <tempo/mongo.h>

#include "exec/pool.h"
#include "loop/loop_internal.h"

/* The store's name in messages ("store 'mongodb': acquire_jobs: ..."). */
#define MG_NAME "mongodb"
/* Stored documents carry this format version; a newer one is quarantined. */
#define MG_FORMAT 1
/* Lease writes per bulk command (mongo_lease.c): FerretDB looks each _id up
 * by reading its collection, so a command of many keeps within
 * socketTimeoutMS only in chunks. */
#define MG_WRITE_CHUNK 32
/* Deletions by one {_id: {$in}} command (mongo_lease.c), and from how many
 * on that beats deleting each by _id on FerretDB. */
#define MG_DELETE_CHUNK 256
#define MG_DELETE_IN_MIN 8
/* Claims older than this are deleted by cleanup (mongo_lease.c). */
#define MG_CLAIM_KEEP TEMPO_HOURS(1)
/* A claim whose move is not written this long after it is found taken is
 * made by whoever finds it (mongo_lease.c). */
#define MG_STUCK TEMPO_SECONDS(10)
/* Most job releases made together (mongo_jobs.c). */
#define MG_RELEASE_BATCH 64
/* Claims found taken that a store remembers (mongo_lease.c): several
 * acquisitions' worth of candidates. */
#define MG_SEEN_SLOTS 1024

/* Collections, named <prefix><name>. */
enum {
    MG_TASKS = 0,
    MG_SCHEDULES,
    MG_JOBS,
    MG_RESULTS,
    MG_CLAIMS,
    MG_QUARANTINE,
    MG_NCOLL
};

/* ------------------------------------------------------------ the store */

typedef enum mg_state {
    MG_NEW = 0, /* before start(): calls are answered ESTATE once started */
    MG_STARTED,
    MG_STOPPING, /* stop() called: new calls answered ECANCELLED */
    MG_STOPPED   /* stop's callback ran: calls are never answered */
} mg_state_t;

typedef struct mg_op mg_op_t;
typedef struct mg_store mg_store_t;

/* A claim found taken: the hash of its _id, and when (mongo_lease.c). */
typedef struct mg_seen {
    uint64_t hash; /* 0: a free slot */
    tempo_time_t first;
} mg_seen_t;

struct mg_store {
    /* Set by tempo_mongo_store_new, read-only afterwards (any thread). */
    mongoc_uri_t *uri;
    char *db;
    char *coll_names[MG_NCOLL];
    char *where; /* "database 'x' on 127.0.0.1:27017", for messages */

    /* Offload threads, under conn_mu; destroyed by the offload thread when
     * the lease lane is idle. */
    pthread_mutex_t conn_mu;
    mongoc_client_pool_t *clients; /* made by the first operation */
    bool ready;                    /* indexes exist */
    bool scans;                    /* the server is FerretDB: it reads a whole
                                    * collection for every query but one by _id */

    /* Offload thread only (the lease lane never rescues stuck claims nor
     * cleans up). */
    mg_seen_t seen[MG_SEEN_SLOTS]; /* claims found taken (mongo_lease.c) */
    tempo_time_t claims_cleaned;   /* `now` of the last claims cleanup; 0: none */

    /* Loop thread only. */
    mg_state_t state;
    tempo_loop_t *loop;
    tempo__pool_t *pool;  /* from start() until stop finished or destroy */
    tempo__pool_t *lane;  /* the lease lane (same life) */

    /* Releases queued on the lease lane and not run yet, in issue order
     * (mongo_jobs.c batches them), under batch_mu: pushed by the loop
     * thread, taken by the lease lane. */
    pthread_mutex_t batch_mu;
    mg_op_t *batch_head, *batch_tail;
    size_t in_flight;     /* answers not delivered yet (pooled or deferred) */
    mg_op_t *running;     /* submitted to the pool, not answered (for destroy) */
    mg_op_t *deferred;    /* answered through tempo__loop_defer */
    mg_op_t *held;        /* answers waiting for a loop (before start, after stop) */
    mg_op_t **held_tail;
    tempo_store_status_cb stop_cb;
    void *stop_ud;
    tempo__call_t stop_call; /* finishes a stop whose close could not be queued */
    bool stop_call_queued;
    tempo__work_t close_work; /* destroys the client pool on the offload thread */
    bool close_queued;
    bool close_done;      /* its completion came */
    int busy;             /* our callbacks (or destroy) on the stack */
    bool destroyed;
    tempo_store_quarantine_cb quarantine_cb;
    void *quarantine_ud;

    /* destroy() waits for the close on the offload thread. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool closed; /* under mu */
};

/* ----------------------------------------------------------- operations */

typedef enum mg_cb_kind {
    MG_CB_STATUS,
    MG_CB_RELEASE, /* status callback; entry statuses written first */
    MG_CB_ADD,
    MG_CB_TASKS,
    MG_CB_SCHEDULES,
    MG_CB_JOBS,
    MG_CB_RESULT,
    MG_CB_TIME,
    MG_CB_RESULTS /* out.recs: tempo_job_result_t copies */
} mg_cb_kind_t;

typedef union mg_cb {
    tempo_store_status_cb status;
    tempo_store_add_cb add;
    tempo_store_tasks_cb tasks;
    tempo_store_schedules_cb schedules;
    tempo_store_jobs_cb jobs;
    tempo_store_result_cb result;
    tempo_store_time_cb time;
    tempo_store_results_cb results;
} mg_cb_t;

/* A connection for one operation (offload thread). */
typedef struct mg_conn {
    mg_store_t *st;
    mongoc_client_t *client;
    mongoc_collection_t *coll[MG_NCOLL];
} mg_conn_t;

/* The server-side work of an operation (offload thread). Fills op->out, or
 * returns a status with op->err set. */
typedef tempo_status_t (*mg_run_fn)(mg_op_t *op, mg_conn_t *c);

/* A quarantine report, delivered before the operation's callback. */
typedef struct mg_report {
    char *kind;
    char *id;
    char *reason;
} mg_report_t;

/* A task as acquire_jobs was given it (deduplicated: first limit wins). */
typedef struct mg_task_limit {
    char *id;
    int max; /* 0 = unlimited */
} mg_task_limit_t;

/* A job of release_schedules its caller asks to take (store.h,
 * tempo_job_take_t), by where its request is in the caller's array. */
typedef struct mg_take {
    bool asked;         /* and its task is unlimited: mongo_take.c */
    size_t entry, k;    /* releases[entry].take[k] */
    tempo_time_t until;
} mg_take_t;

/* One entry of release_schedules, copied. */
typedef struct mg_release {
    char *id;
    int64_t fence;
    tempo_time_t next_fire_time;
    tempo_time_t last_fire_time;
    bool named; /* one of its jobs names it: a finished one stays (for now) */
} mg_release_t;

/* What an operation was called with: copies it owns (mongo_input.c). */
typedef struct mg_in {
    char *owner;
    char *id;
    char **ids; /* NULL-free array of `count` strings; schedule ids for extend */
    size_t count;
    char **ids2; /* extend: job ids */
    size_t count2;
    bson_t *doc; /* the encoded record of an add or update */
    tempo_conflict_t conflict;
    tempo_time_t now;
    tempo_time_t until;
    tempo_duration_t lease;
    size_t limit;
    int64_t fence;
    mg_task_limit_t *tasks;
    size_t task_count;
    mg_release_t *releases;
    size_t release_count;
    bson_t **jobs; /* release_schedules: the new jobs, encoded, first of each id */
    size_t job_count;
    mg_take_t *takes; /* one per job; NULL when none is asked */
    tempo_job_result_t result; /* release_job: the caller's part, a copy */
    bool has_result;
} mg_in_t;

/* What an operation answers. */
typedef struct mg_out {
    tempo_store_added_t added;
    tempo_time_t when;
    void *recs; /* records.h copies: tasks, schedules, jobs or results by the op's kind */
    size_t count;
    tempo_job_result_t result;
    bool has_result;
    tempo_status_t *statuses;           /* release_schedules: one per entry */
    tempo_schedule_release_t *entries;  /* the caller's array, written before cb */
    size_t entry_count;
    bool *took;                         /* per in.jobs: taken (its take's fence is 1) */
} mg_out_t;

struct mg_op {
    tempo__work_t work;   /* on the offload pool */
    tempo__call_t call;   /* or deferred on the loop */
    mg_op_t *next, *prev; /* on st->running, st->deferred or st->held */
    mg_store_t *st;
    mg_cb_kind_t kind;
    const char *name;     /* the operation, for messages */
    mg_cb_t cb;
    void *ud;
    mg_run_fn run;
    bool urgent;           /* runs on the lease lane (a worker's job operations) */
    bool batchable;        /* a release_job: may be made with the ones queued after it */
    bool batched;          /* lease lane: made by an earlier one's batch already */
    bool in_batch_list;    /* under batch_mu */
    mg_op_t *bnext, *bprev; /* on st->batch_head, under batch_mu */
    tempo_status_t status; /* preset (refused, cancelled) or the run's answer */
    tempo_error_t err;
    mg_in_t in;
    mg_out_t out;
    mg_report_t *reports;
    size_t report_count;
};

/* ---- mongo_ops.c ----
 * Every operation: op = tempo__mg_op_new(); if (op->status == TEMPO_OK)
 * op->status = <check and copy the arguments into op->in>;
 * tempo__mg_op_submit(op). new() presets a refusal when the store cannot run
 * operations (before start, stopping, stopped). */
mg_op_t *tempo__mg_op_new(mg_store_t *st, mg_cb_kind_t kind, const char *name, mg_cb_t cb, void *ud,
                          mg_run_fn run);
void tempo__mg_op_submit(mg_op_t *op);
tempo_status_t tempo__mg_start(void *self, tempo_loop_t *loop, tempo_error_t *err);
void tempo__mg_stop(void *self, tempo_store_status_cb cb, void *ud);
void tempo__mg_destroy(void *self);
void tempo__mg_set_quarantine_cb(void *self, tempo_store_quarantine_cb cb, void *ud);
/* mongo_store.c: free the store itself (nothing of it is queued any more). */
void tempo__mg_store_free(mg_store_t *st);
/* Offload thread: destroy the client pool (the close work). */
void tempo__mg_close_clients(mg_store_t *st);

/* ---- mongo_input.c ---- */
tempo_status_t tempo__mg_check_ids(const char *const *ids, size_t count, const char *what,
                                   tempo_error_t *err);
char **tempo__mg_strv_dup(const char *const *ids, size_t count);
void tempo__mg_strv_free(char **v, size_t count);
tempo_status_t tempo__mg_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                          tempo_error_t *err);
tempo_status_t tempo__mg_copy_tasks(mg_in_t *in, const tempo_task_record_t *tasks, size_t count,
                                    tempo_error_t *err);
tempo_status_t tempo__mg_copy_releases(mg_in_t *in, const char *owner, const tempo_schedule_release_t *rel,
                                       size_t count, tempo_error_t *err);
void tempo__mg_in_free(mg_in_t *in);

/* ---- mongo_conn.c ---- */
void tempo__mg_init_once(void);
/* Offload thread: a client and the collections for one operation; the
 * first call also makes the client pool and the indexes. */
tempo_status_t tempo__mg_conn_open(mg_store_t *st, mg_conn_t *c, tempo_error_t *err);
void tempo__mg_conn_close(mg_conn_t *c);
/* TEMPO_ESTORE with "<what>: <the driver's message>" (printf-style what). */
tempo_status_t tempo__mg_fail(tempo_error_t *err, const bson_error_t *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A duplicate-key error (E11000) of a write. */
bool tempo__mg_is_duplicate(const bson_error_t *e);
/* insert_many (unordered) of `n` documents, duplicates of _id ignored:
 * *dup_out (room for n, may be NULL) says which were duplicates. */
tempo_status_t tempo__mg_insert_unique(mongoc_collection_t *coll, const bson_t *const *docs, size_t n,
                                       bool *dup_out, const char *what, tempo_error_t *err);
/* matchedCount / deletedCount / upsertedCount of a CRUD reply (0 when absent). */
int64_t tempo__mg_reply_count(const bson_t *reply, const char *field);

/* ---- mongo_codec.c ----
 * Stored documents (docs/stores.md has the layout). Times and durations are
 * int64 microseconds; NONE (INT64_MIN) is stored as is. */
/* The fields a schedule's owner sets: all but the lease, fence, inc, rev. */
tempo_status_t tempo__mg_schedule_content(bson_t *doc, const tempo_schedule_record_t *s, tempo_error_t *err);
/* A whole new job document, a new incarnation: queued (owner NULL: not
 * leased, fence 0), or taken by `owner` until `until` (fence 1). */
tempo_status_t tempo__mg_job_doc(bson_t *doc, const tempo_job_record_t *j, const char *owner, tempo_time_t until,
                                 tempo_error_t *err);
tempo_status_t tempo__mg_task_doc(bson_t *doc, const tempo_task_record_t *t, tempo_error_t *err);
/* The stored result of job `job` (its identity comes from the job). */
void tempo__mg_result_doc(bson_t *doc, const tempo_job_record_t *job, const tempo_job_result_t *r);
/* A document or null (NULL and empty documents are stored as null). */
void tempo__mg_append_doc_or_null(bson_t *doc, const char *key, const bson_t *value);
void tempo__mg_append_str_or_null(bson_t *doc, const char *key, const char *value);
/* A fresh ObjectId (incarnations, revisions). */
void tempo__mg_append_new_oid(bson_t *doc, const char *key);
/* The effective fire time of a job: scheduled_fire_time, or created_at. */
tempo_time_t tempo__mg_job_due(const tempo_job_record_t *j);

/* ---- mongo_decode.c ----
 * Into records.h copies (clear them). TEMPO_EFORMAT with a reason naming the
 * field ("field 'trigger': unknown trigger type 'x'") when the document
 * cannot be decoded. */
tempo_status_t tempo__mg_decode_task(const bson_t *doc, tempo_task_record_t *out, tempo_error_t *err);
tempo_status_t tempo__mg_decode_schedule(const bson_t *doc, tempo_schedule_record_t *out, tempo_error_t *err);
tempo_status_t tempo__mg_decode_job(const bson_t *doc, tempo_job_record_t *out, tempo_error_t *err);
tempo_status_t tempo__mg_decode_result(const bson_t *doc, tempo_job_result_t *out, tempo_error_t *err);
/* Storage fields that records do not carry. */
tempo_status_t tempo__mg_decode_inc(const bson_t *doc, bson_oid_t *inc, tempo_error_t *err);
/* The _id as text: the string, or the value's JSON when it is not one. */
char *tempo__mg_id_text(const bson_t *doc);

/* ---- mongo_query.c ---- */
/* {field: {op: value}} */
void tempo__mg_q_cmp(bson_t *doc, const char *field, const char *op, int64_t value);
/* {field: {$gt: above, $lte: at_most}} */
void tempo__mg_q_range(bson_t *doc, const char *field, int64_t above, int64_t at_most);
/* {field: {$in: [values...]}} */
void tempo__mg_q_in(bson_t *doc, const char *field, char *const *values, size_t count);
/* Find options: ascending sort on the NULL-terminated keys (or none), and a
 * limit (0, or one too large for the server, means none). */
void tempo__mg_q_opts(bson_t *opts, const char *const *sort_keys, size_t limit);
#define MG_KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- mongo_read.c ---- */
/* A kind of record: how to decode and clear one, and its size. */
typedef struct mg_kind {
    const char *name; /* "task", "schedule", "job": quarantine reports */
    int coll;
    size_t size;
    tempo_status_t (*decode)(const bson_t *doc, void *rec, tempo_error_t *err);
    void (*clear)(void *rec);
} mg_kind_t;
extern const mg_kind_t tempo__mg_tasks_kind, tempo__mg_schedules_kind, tempo__mg_jobs_kind;

/* Decoded records with the documents they came from (owned copies). */
typedef struct mg_list {
    const mg_kind_t *kind;
    void *recs;     /* array of kind->size */
    bson_t **docs;  /* the documents, same order */
    size_t count, cap;
} mg_list_t;
void tempo__mg_list_init(mg_list_t *l, const mg_kind_t *kind);
void tempo__mg_list_free(mg_list_t *l);
void *tempo__mg_list_at(const mg_list_t *l, size_t i);
/* Remove element i, keeping the order. */
void tempo__mg_list_remove(mg_list_t *l, size_t i);
/* Hand the records to op->out (the documents are dropped). */
void tempo__mg_list_give(mg_list_t *l, mg_op_t *op);
/* Run find(filter, opts) on the kind's collection and decode each document
 * into a record; quarantine the ones that cannot be decoded (after the
 * cursor is done). `each` gets every decoded record in turn (it may take it:
 * copy it and zero *rec) and returns false to stop. */
typedef bool (*mg_each_fn)(void *ctx, void *rec, const bson_t *doc);
tempo_status_t tempo__mg_scan(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, const bson_t *filter,
                              const bson_t *opts, mg_each_fn each, void *ctx);
/* Run find(filter, opts) on the kind's collection; decode every document
 * into `l`, at most `max` of them (0 = all), quarantining the ones that
 * cannot be decoded (after the cursor is done). */
tempo_status_t tempo__mg_find(mg_op_t *op, mg_conn_t *c, const bson_t *filter, const bson_t *opts,
                              size_t max, mg_list_t *l);

/* ---- mongo_quarantine.c ---- */
/* `doc` of `kind` could not be decoded (`why`): copy it to the quarantine
 * collection, remove it from its own (only if it was not rewritten since),
 * and note a report for the op. ESTORE when that failed: the record stays. */
tempo_status_t tempo__mg_quarantine(mg_op_t *op, mg_conn_t *c, const mg_kind_t *kind, const bson_t *doc,
                                    const char *why);

/* ---- mongo_lease.c ----
 * Every change of a lease — acquire, extend, give back, release, reap — is
 * a move out of the lease state (fence, until) its maker read, decided by
 * inserting that state's claim; the one that inserts it writes the move, by
 * _id. See the file for why (FerretDB's updates are not atomic). */
typedef struct mg_move {
    const char *id;     /* the record's _id (borrowed) */
    bson_oid_t inc;     /* its incarnation */
    int64_t fence;      /* the state it leaves */
    tempo_time_t until; /* NONE: not held */
    bson_t *set;        /* what the move writes ($set), unless del; bson_new()'s: an
                         * embedded bson_t wants more alignment than malloc gives */
    bool del;           /* the move deletes the record (release_job, reap) */
    bool won;           /* out: claimed and written by this operation */
} mg_move_t;
void tempo__mg_move_init(mg_move_t *m, const char *id, const bson_oid_t *inc, int64_t fence, tempo_time_t until);
/* Add the lease fields (owner NULL: not held) to the move's set. */
void tempo__mg_move_lease(mg_move_t *m, const char *owner, tempo_time_t until, int64_t fence);
/* Destroy the moves' sets and free the array. */
void tempo__mg_moves_free(mg_move_t *moves, size_t n);
/* Claim the states the `n` moves leave and write the ones won (in `coll`).
 * `now`: the operation's clock, or NONE for one without (a release, an
 * extension: such a caller never rescues stuck claims). */
tempo_status_t tempo__mg_moves_make(mg_op_t *op, mg_conn_t *c, int coll, mg_move_t *moves, size_t n,
                                    tempo_time_t now);
/* The wall clock (µs): when a claim of a caller without `now` was made. */
tempo_time_t tempo__mg_wall_now(void);
/* The claim document of the state `m` leaves (`at`: when it was made). */
bson_t *tempo__mg_claim_doc(int coll, const mg_move_t *m, tempo_time_t at);
/* The incarnation in the claim of the state `m` leaves; *found false when
 * there is no such claim. A lookup by _id (a scan of claims on FerretDB). */
tempo_status_t tempo__mg_claim_inc(mg_op_t *op, mg_conn_t *c, int coll, const mg_move_t *m, bson_oid_t *inc,
                                   bool *found);
/* A copy of `doc` with the move's set applied (what a won move wrote). */
bson_t *tempo__mg_doc_moved(const bson_t *doc, const mg_move_t *m);
tempo_status_t tempo__mg_claims_cleanup(mg_op_t *op, mg_conn_t *c, tempo_time_t now);

/* ---- the operations (one file per group) ---- */
void tempo__mg_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud);
void tempo__mg_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud);
void tempo__mg_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud);

void tempo__mg_add_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_conflict_t conflict,
                            tempo_store_add_cb cb, void *ud);
void tempo__mg_get_schedules(void *self, const char *const *ids, size_t count, tempo_store_schedules_cb cb,
                             void *ud);
void tempo__mg_update_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_store_status_cb cb,
                               void *ud);
void tempo__mg_remove_schedules(void *self, const char *const *ids, size_t count, tempo_store_status_cb cb,
                                void *ud);
/* Offload thread: delete schedule `id` if it is finished and no job names it;
 * or each of `ids` (mongo_schedules.c: three queries for the lot). */
tempo_status_t tempo__mg_collect_finished(mg_op_t *op, mg_conn_t *c, const char *id);
tempo_status_t tempo__mg_collect_finished_many(mg_op_t *op, mg_conn_t *c, char *const *ids, size_t n);

void tempo__mg_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                 size_t limit, tempo_store_schedules_cb cb, void *ud);
void tempo__mg_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                 size_t count, tempo_store_status_cb cb, void *ud);
void tempo__mg_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud);

void tempo__mg_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud);
void tempo__mg_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud);
void tempo__mg_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                           const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud);
void tempo__mg_next_job_time(void *self, tempo_store_time_cb cb, void *ud);
void tempo__mg_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud);
/* Lease lane: take `op` and the batchable operations queued after it (at
 * most `max` in all) into ops[]; they are marked batched (their own turn
 * does nothing). Returns how many. Loop thread: forget a queued one that
 * will not run (cancelled). */
size_t tempo__mg_batch_take(mg_op_t *op, mg_op_t **ops, size_t max);
void tempo__mg_batch_forget(mg_op_t *op);
/* ---- mongo_take.c ---- */
/* release_schedules, after inserting its jobs (dup[j]: in.jobs[j] existed):
 * claim the first acquisition of each new job taken, setting out.took. */
tempo_status_t tempo__mg_take_jobs(mg_op_t *op, mg_conn_t *c, const bool *dup);
/* A reaper of a job at fence 1: make sure the claim of its id's first
 * acquisition exists; *copy when it names another incarnation (this one is
 * a second copy that never ran). */
tempo_status_t tempo__mg_first_claim(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                     const bson_oid_t *inc, bool *copy);

/* Offload thread: store the result of `job` (replacing one of its id). */
tempo_status_t tempo__mg_store_result(mg_op_t *op, mg_conn_t *c, const tempo_job_record_t *job,
                                      const tempo_job_result_t *result);

void tempo__mg_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                            size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                            tempo_store_jobs_cb cb, void *ud);

void tempo__mg_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                             size_t schedule_count, const char *const *job_ids, size_t job_count,
                             tempo_time_t until, tempo_store_status_cb cb, void *ud);
void tempo__mg_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud);
void tempo__mg_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud);
void tempo__mg_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                            tempo_store_results_cb cb, void *ud);

#endif
