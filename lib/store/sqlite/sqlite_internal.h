/* The SQLite store's private layout, shared by its files:
 *
 *   sqlite_store.c        tempo_sqlite_store_new, the ops table
 *   sqlite_queue.c        the life of one operation (begin, run on the
 *                         writer thread, answer on the loop) and of the store
 *                         (start, stop, destroy)
 *   sqlite_db.c           the connection: open, pragmas, cached statements,
 *                         transactions, SQLite errors as tempo errors
 *   sqlite_schema.c       schema versions and the migrations between them
 *   sqlite_codec.c        records <-> rows: binding, and decoding that names
 *                         the field when a stored value is bad
 *   sqlite_rows.c         reading rows: into an answer, one by id, get_*,
 *                         next_*_time
 *   sqlite_quarantine.c   setting undecodable rows aside
 *   sqlite_tasks.c        add / get / remove tasks
 *   sqlite_schedules.c    add / get / update / remove schedules
 *   sqlite_take.c         the acquisition rounds both kinds share
 *   sqlite_acquire.c      acquire / release schedules, next_schedule_time
 *   sqlite_jobs.c         add / get jobs, next_job_time
 *   sqlite_job_acquire.c  acquire / release jobs
 *   sqlite_leases.c       extend_leases, reap_abandoned, cleanup, results (one, or a list)
 *
 * Threads. The store has one writer thread (a tempo__pool of one thread):
 * every SQL statement runs there, in the order the operations were issued
 * (the pool's queue is FIFO and has one consumer). Everything else — the
 * store's state, its lists of answers, the callbacks — belongs to the loop
 * thread. An operation (sq_op_t) is the loop thread's until it is submitted,
 * the writer's while it runs (it fills op->status, op->err, op->out and the
 * quarantine reports), and the loop thread's again in its done(); the pool's
 * mutex orders those hand-overs. `st->db` is the writer's alone (and the
 * loop thread's in destroy, after the writer was joined).
 *
 * docs/stores.md ("SQLite") describes the tables, the indexes and how
 * several processes share one file. */
#ifndef TEMPO_STORE_SQLITE_INTERNAL_H
#define TEMPO_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <tempo/sqlite.h>
#include <tempo/store.h>

#include "exec/pool.h"
#include "loop/loop_internal.h"

/* ------------------------------------------------------------ the file */

/* The schema this build writes, and the file's application_id ("tmpo"):
 * a file with another application_id is some other program's database. */
#define TEMPO__SQ_SCHEMA_VERSION 2
#define TEMPO__SQ_APPLICATION_ID 0x746d706f

#define SQ_STMTS_MAX 96 /* distinct statements of the store: about 55 */

typedef struct sq_stmt_slot {
    const char *sql; /* the address of a static SQL text is its key */
    sqlite3_stmt *stmt;
} sq_stmt_slot_t;

/* The connection (sqlite_db.c). Writer thread only. */
typedef struct sq_db {
    sqlite3 *handle;  /* NULL until opened; NULL again after an error that closed it */
    const char *path; /* the store's copy */
    int busy_ms;      /* how long a statement waits for another connection's lock */
    int busy_waited;  /* ms waited so far for the current lock */
    tempo__pool_t *pool; /* the store's (its shutdown cuts waits short); NULL in tests */
    bool create;
    bool broken;      /* the last error means the connection must be reopened */
    int version;      /* the schema version it was opened (and migrated) at */
    size_t nstmts;
    sq_stmt_slot_t stmts[SQ_STMTS_MAX];
} sq_db_t;

/* One schema step: from version to - 1 to version `to` (steps[i].to == i + 1).
 * Runs inside the migration's IMMEDIATE transaction. */
typedef struct sq_migration {
    int to;
    const char *what;
    tempo_status_t (*apply)(sq_db_t *db, tempo_error_t *err);
} sq_migration_t;

/* sqlite_schema.c: this build's steps. */
extern const sq_migration_t tempo__sq_migrations[];
extern const size_t tempo__sq_migration_count;

/* Open the file if it is not open: connect, WAL, synchronous=NORMAL,
 * busy_timeout, then bring the schema to this build's version. */
tempo_status_t tempo__sq_db_ready(sq_db_t *db, tempo_error_t *err);
/* The same with a given list of steps (tests: a version 2 that does not
 * exist yet). */
tempo_status_t tempo__sq_db_open(sq_db_t *db, const sq_migration_t *steps, size_t count,
                                 tempo_error_t *err);
/* Finalize the statements and close. `checkpoint` false: leave the WAL as it
 * is (a close on the loop thread must not do a checkpoint's I/O). */
void tempo__sq_db_close(sq_db_t *db, bool checkpoint);
/* sqlite_schema.c: migrate to the last of `steps`; a newer file is
 * TEMPO_EVERSION naming the file and both versions; another application's
 * database is TEMPO_ESTORE. */
tempo_status_t tempo__sq_migrate(sq_db_t *db, const sq_migration_t *steps, size_t count,
                                 tempo_error_t *err);
/* Before each operation: is the file still at db->version? A newer tempo
 * in another process may have migrated it meanwhile: then TEMPO_EVERSION
 * (and the connection is closed, so a later operation looks again). */
tempo_status_t tempo__sq_schema_check(sq_db_t *db, tempo_error_t *err);

/* A cached statement for the static text `sql`, reset, bindings cleared;
 * NULL on failure (err filled). */
sqlite3_stmt *tempo__sq_stmt(sq_db_t *db, const char *sql, tempo_error_t *err);
/* Run `sql` (static text, no rows expected). */
tempo_status_t tempo__sq_exec(sq_db_t *db, const char *sql, tempo_error_t *err);
/* Step a statement that returns no row (SQLITE_DONE), then reset it. */
tempo_status_t tempo__sq_done(sq_db_t *db, sqlite3_stmt *stmt, const char *what, tempo_error_t *err);
/* Transactions: `write` takes the write lock at once (BEGIN IMMEDIATE), so
 * the read-then-update of an acquisition cannot interleave with another
 * connection's; it waits up to busy_timeout for it. */
tempo_status_t tempo__sq_begin(sq_db_t *db, bool write, tempo_error_t *err);
tempo_status_t tempo__sq_commit(sq_db_t *db, tempo_error_t *err);
/* Roll back an open transaction, if any (error paths; safe when closed). */
void tempo__sq_rollback(sq_db_t *db);
/* An SQLite failure `rc` as a tempo error: "'<path>': <what>: <SQLite's
 * message>". Busy → TEMPO_ETIMEOUT, out of memory → TEMPO_ENOMEM, the file
 * (cannot open, not a database, I/O, full, read-only) → TEMPO_EIO, the rest
 * → TEMPO_ESTORE; EIO and ESTORE mark the connection broken: it is closed
 * after the operation and the next one opens the file again. */
tempo_status_t tempo__sq_fail(sq_db_t *db, int rc, tempo_error_t *err, const char *what, ...)
    __attribute__((format(printf, 4, 5)));
/* A time (or duration) as a bound value: NONE (INT64_MIN) is NULL. */
int tempo__sq_bind_time(sqlite3_stmt *stmt, int idx, int64_t t);
/* A size_t limit as an SQL LIMIT (capped at INT64_MAX). */
int tempo__sq_bind_limit(sqlite3_stmt *stmt, int idx, size_t limit);

/* ---------------------------------------------------------- operations */

typedef enum sq_answer {
    SQ_STATUS,
    SQ_RELEASE, /* a status callback; entry statuses written just before it */
    SQ_ADD,
    SQ_TASKS,
    SQ_SCHEDULES,
    SQ_JOBS,
    SQ_RESULT,
    SQ_TIME,
    SQ_RESULTS /* out.recs: tempo_job_result_t copies */
} sq_answer_t;

typedef union sq_cb {
    tempo_store_status_cb status;
    tempo_store_add_cb add;
    tempo_store_tasks_cb tasks;
    tempo_store_schedules_cb schedules;
    tempo_store_jobs_cb jobs;
    tempo_store_result_cb result;
    tempo_store_time_cb time;
    tempo_store_results_cb results;
} sq_cb_t;

/* A list of ids copied from the caller. */
typedef struct sq_ids {
    char **ids;
    size_t count;
} sq_ids_t;

/* acquire_jobs: a task the worker runs, with its max_running_jobs. */
typedef struct sq_task_slot {
    char *id;
    int max_running_jobs;
} sq_task_slot_t;

/* release_schedules: one entry, copied. */
typedef struct sq_release {
    char *id;
    int64_t fence;
    tempo_time_t next_fire_time;
    tempo_time_t last_fire_time;
    tempo_job_record_t *jobs;
    size_t job_count;
} sq_release_t;

/* What an operation was given, copied during the call (store.h: records
 * handed to an operation are read during the call only). Zeroed fields are
 * unused; sq_in_free frees whatever is set. */
typedef struct sq_in {
    char *owner;
    char *id;
    tempo_time_t now;     /* acquire, reap, cleanup, get_job_result; extend: until */
    tempo_duration_t lease;
    size_t limit;
    int64_t fence;
    tempo_conflict_t conflict;
    sq_ids_t ids;         /* get / remove; extend: the schedules */
    sq_ids_t ids2;        /* extend: the jobs */
    tempo_task_record_t task;
    tempo_schedule_record_t schedule;
    bson_t trigger_doc;   /* the schedule's trigger, serialized on the loop thread */
    bool has_trigger_doc;
    tempo_job_record_t job;
    sq_task_slot_t *tasks;
    size_t task_count;
    sq_release_t *releases;
    size_t release_count;
    tempo_schedule_release_t *caller_releases; /* statuses go there, before the callback */
    size_t caller_count;
    /* release_job: the caller's part of the result */
    tempo_outcome_t outcome;
    tempo_time_t started_at;
    tempo_time_t finished_at;
    bson_t *return_value; /* bson_copy */
    char *error;
} sq_in_t;

typedef struct sq_out {
    tempo_store_added_t added;
    tempo_time_t when;
    void *recs;           /* records.h copies of the answer's kind */
    size_t count;
    tempo_job_result_t result;
    bool has_result;
    tempo_status_t *statuses; /* release: one per entry */
} sq_out_t;

/* A record set aside while the operation ran, reported before its callback. */
typedef struct sq_report {
    const char *kind;
    char *id;
    char *reason;
} sq_report_t;

typedef struct sq_store sq_store_t;
typedef struct sq_op sq_op_t;

/* The SQL part of an operation (writer thread). The file is open; no
 * transaction is. Returns the status; on failure the runner rolls back
 * whatever transaction is still open. */
typedef tempo_status_t (*sq_run_fn)(sq_op_t *op, sq_db_t *db);

struct sq_op {
    tempo__work_t work;   /* first: the pool hands it back */
    tempo__call_t call;   /* answers that need no SQL */
    sq_op_t *next, *prev; /* on st->deferred or st->held */
    sq_store_t *st;
    sq_answer_t answer;
    const char *name;     /* the operation, for messages */
    bool emergency;       /* one of st->emergency */
    sq_run_fn run;
    sq_cb_t cb;
    void *ud;
    tempo_status_t status;
    tempo_error_t err;
    sq_in_t in;
    sq_out_t out;
    sq_report_t *reports;
    size_t report_count;
    size_t report_cap;
};

typedef enum sq_state {
    SQ_NEW = 0,
    SQ_STARTED,
    SQ_STOPPING,
    SQ_STOPPED
} sq_state_t;

#define SQ_EMERGENCY_OPS 8

struct sq_store {
    sq_state_t state;
    tempo_loop_t *loop;
    tempo__pool_t *pool;  /* the writer thread */
    char *path;
    sq_db_t db;           /* the writer's */
    size_t in_flight;     /* answers not delivered yet (submitted or deferred) */
    sq_op_t *deferred;    /* answered without SQL, queued on the loop */
    sq_op_t *held;        /* answers waiting for a loop (before start, after stop) */
    sq_op_t **held_tail;
    tempo__work_t open_work; /* start: open the file before the first operation asks */
    tempo__work_t stop_work; /* stop: close the file once nothing is in flight */
    tempo__call_t stop_call; /* the same when the writer could not be started */
    bool stop_queued;
    bool stop_call_queued;
    tempo_store_status_cb stop_cb;
    void *stop_ud;
    bool in_callback;     /* one of our callbacks is running */
    bool destroyed;       /* destroy() came (inside that callback) */
    tempo_store_quarantine_cb quarantine_cb;
    void *quarantine_ud;
    sq_op_t emergency[SQ_EMERGENCY_OPS];
};

/* ---- sqlite_queue.c ----
 * Every operation: op = begin(); if (op->status == OK) copy and check the
 * input into op->in; submit(op, run). begin() returns NULL only when it
 * already answered (no memory even for the answer). submit() sends the op to
 * the writer when the store is started (also when it failed already, so
 * answers keep the call order), else answers it without SQL. Failures are
 * prefixed "store 'sqlite': <op>: " when delivered. */
sq_op_t *tempo__sq_op_begin(sq_store_t *st, sq_answer_t answer, const char *name, sq_cb_t cb, void *ud);
void tempo__sq_op_submit(sq_op_t *op, sq_run_fn run);
tempo_status_t tempo__sq_start(void *self, tempo_loop_t *loop, tempo_error_t *err);
void tempo__sq_stop(void *self, tempo_store_status_cb cb, void *ud);
void tempo__sq_destroy(void *self);
void tempo__sq_set_quarantine_cb(void *self, tempo_store_quarantine_cb cb, void *ud);
/* Copy the caller's ids (count 0 = none); EINVAL for NULL or empty ones. */
tempo_status_t tempo__sq_ids_copy(sq_ids_t *dst, const char *const *ids, size_t count, const char *what,
                                  tempo_error_t *err);
/* Free the ids and the list; it is empty after. */
void tempo__sq_ids_free(sq_ids_t *ids);
/* Sort and drop repeats (get_* answer each record once, ordered by id). */
void tempo__sq_ids_unique(sq_ids_t *ids);
/* get_schedules, get_jobs: take the ids asked for (none = all), unique,
 * and submit `run`. */
void tempo__sq_submit_get(sq_op_t *op, const char *const *ids, size_t count, sq_run_fn run);
tempo_status_t tempo__sq_strdup(char **dst, const char *src, tempo_error_t *err);
/* The lease arguments every acquisition checks (as the memory store does). */
tempo_status_t tempo__sq_check_lease_args(const char *owner, tempo_time_t now, tempo_duration_t lease,
                                          tempo_error_t *err);
/* Append `rec` to the answer list op->out.recs (of `size`-byte records),
 * taking it over. False when out of memory (rec is then the caller's). */
bool tempo__sq_out_push(sq_op_t *op, const void *rec, size_t size, size_t *cap);

/* ---- sqlite_codec.c ----
 * Columns as the read functions expect them, in this order. */
#define SQ_TASK_COLUMNS "id, executor, max_running_jobs, misfire_grace_time, metadata"
#define SQ_SCHEDULE_COLUMNS                                                                      \
    "id, task_id, trigger_doc, args, coalesce_policy, misfire_grace_time, max_jitter, "         \
    "jitter_deterministic, paused, job_result_expiration, next_fire_time, last_fire_time, "     \
    "metadata, lease_owner, lease_until, fence"
#define SQ_JOB_COLUMNS                                                                           \
    "id, task_id, schedule_id, args, scheduled_fire_time, original_fire_time, start_deadline, "  \
    "result_expiration, created_at, lease_owner, lease_until, fence"
#define SQ_RESULT_COLUMNS                                                                        \
    "job_id, task_id, schedule_id, outcome, scheduled_fire_time, started_at, finished_at, "      \
    "expires_at, return_value, error"

/* Bind a record's fields as ?1.. in the order of its columns above (the
 * lease columns are not bound: stores set leases). SQLite result codes. */
int tempo__sq_bind_task(sqlite3_stmt *stmt, const tempo_task_record_t *task);
int tempo__sq_bind_schedule(sqlite3_stmt *stmt, const tempo_schedule_record_t *s, const bson_t *trigger_doc);
int tempo__sq_bind_job(sqlite3_stmt *stmt, const tempo_job_record_t *job);
/* Decode the current row into a records.h copy. TEMPO_ENOMEM, or
 * TEMPO_EFORMAT (also for an unknown trigger type or a newer trigger
 * version) with a reason naming the record and the field: such a row is
 * quarantined by the caller. */
tempo_status_t tempo__sq_read_task(sqlite3_stmt *stmt, tempo_task_record_t *out, tempo_error_t *err);
tempo_status_t tempo__sq_read_schedule(sqlite3_stmt *stmt, tempo_schedule_record_t *out, tempo_error_t *err);
tempo_status_t tempo__sq_read_job(sqlite3_stmt *stmt, tempo_job_record_t *out, tempo_error_t *err);
tempo_status_t tempo__sq_read_result(sqlite3_stmt *stmt, tempo_job_result_t *out, tempo_error_t *err);
/* The same behind one signature, for loops over rows of any kind. */
typedef struct sq_reader {
    const char *kind;    /* "task", "schedule", "job": also the quarantine's kind */
    const char *sql_one; /* the row with id ?1, in the columns `read` expects */
    size_t size;         /* of one record */
    tempo_status_t (*read)(sqlite3_stmt *stmt, void *out, tempo_error_t *err);
    void (*clear)(void *rec);
} sq_reader_t;
/* A record on the stack big enough for any reader's kind. */
typedef union sq_any_record {
    tempo_task_record_t task;
    tempo_schedule_record_t schedule;
    tempo_job_record_t job;
} sq_any_record_t;
extern const sq_reader_t tempo__sq_task_reader;
extern const sq_reader_t tempo__sq_schedule_reader;
extern const sq_reader_t tempo__sq_job_reader;
/* The first column of the current row as text, or "?" (for messages). */
const char *tempo__sq_row_key(sqlite3_stmt *stmt);
/* The current row, every column, as a BSON document (name: value; NULL as
 * null, blobs as binary, text that is not UTF-8 as binary). */
bool tempo__sq_row_to_bson(sqlite3_stmt *stmt, bson_t *doc);

/* Rows a read met that could not be decoded: id and reason. */
typedef struct sq_bad {
    char *id;
    char *reason;
} sq_bad_t;
typedef struct sq_bad_list {
    sq_bad_t *items;
    size_t count, cap;
} sq_bad_list_t;

/* ---- sqlite_rows.c ----
 * Step `stmt` (inside a transaction) to its end, appending each decoded row
 * to op->out.recs (records of reader->size; *cap is the list's room).
 * Undecodable rows are skipped and listed in `bad`. Out of memory or an
 * SQLite error is the operation's failure. */
tempo_status_t tempo__sq_collect(sq_op_t *op, sq_db_t *db, sqlite3_stmt *stmt, const sq_reader_t *reader,
                                 size_t *cap, sq_bad_list_t *bad, const char *what);
/* Read row `id` (reader->sql_one) into `rec`: TEMPO_EFORMAT with the reason
 * in *why when it does not decode; *found false when it is gone. */
tempo_status_t tempo__sq_read_one(sq_op_t *op, sq_db_t *db, const sq_reader_t *reader, const char *id, void *rec,
                                  bool *found, tempo_error_t *why);
/* The SQL of get_*: every row of `sql_all` (ordered by id) when op->in.ids
 * is empty, else the rows of those ids; undecodable rows are left out of
 * the answer and set aside after the read. */
tempo_status_t tempo__sq_get(sq_op_t *op, sq_db_t *db, const sq_reader_t *reader, const char *sql_all);
/* The SQL of next_*_time: the one value of `sql` (a min(), NULL when there
 * is none) into op->out.when; `what` names it in a failure. */
tempo_status_t tempo__sq_min_time(sq_op_t *op, sq_db_t *db, const char *sql, const char *what);

/* ---- sqlite_take.c ----
 * acquire_schedules and acquire_jobs, as one loop over a kind: in one
 * IMMEDIATE transaction, rounds that each choose the due ids (in
 * acquisition order), decode each and lease it by a conditional UPDATE that
 * repeats the due test. A row that does not decode is set aside instead of
 * leased; the round then had room left, so another looks for more. Every
 * round but the last removes at least one row from the table, so this ends.
 * op->in: owner, now, lease, limit; the leased records go to op->out. */
typedef struct sq_taker {
    const sq_reader_t *reader;
    const char *sql_lease; /* ?1 id, ?2 owner, ?3 lease until, ?4 now */
    const char *leasing;   /* "leasing a schedule", for messages */
    /* Up to `room` ids of due records, in acquisition order. */
    tempo_status_t (*choose)(sq_op_t *op, sq_db_t *db, size_t room, sq_ids_t *ids);
    /* Copy `rec` into `out` as its lease now is: held by `owner` until
     * `until`, its fence one up. */
    tempo_status_t (*copy_leased)(void *out, const void *rec, const char *owner, tempo_time_t until,
                                  tempo_error_t *err);
    /* Acquisition order of two records (qsort): later rounds may take
     * records that come before earlier rounds' ones. */
    int (*order)(const void *a, const void *b);
} sq_taker_t;
tempo_status_t tempo__sq_acquire(sq_op_t *op, sq_db_t *db, const sq_taker_t *taker);

/* ---- sqlite_quarantine.c ----
 * Inside a write transaction: move the row `id` of `kind` ("task",
 * "schedule", "job") to the quarantine table — kept as it was, with the
 * reason — and add a report to the op. *moved is false when the row is gone
 * already (another process set it aside). */
tempo_status_t tempo__sq_quarantine(sq_op_t *op, sq_db_t *db, const char *kind, const char *id,
                                    const char *reason, bool *moved);
/* After a read-only operation met undecodable rows (outside any
 * transaction): set each aside that is still there and still undecodable. */
bool tempo__sq_bad_add(sq_bad_list_t *list, const char *id, const char *reason);
void tempo__sq_bad_free(sq_bad_list_t *list);
/* Inside the operation's write transaction: set each listed row aside. */
tempo_status_t tempo__sq_quarantine_all(sq_op_t *op, sq_db_t *db, const char *kind, const sq_bad_list_t *bad);
tempo_status_t tempo__sq_quarantine_later(sq_op_t *op, sq_db_t *db, const char *kind, sq_bad_list_t *bad);

/* ---- the operations ---- */
void tempo__sq_add_task(void *self, const tempo_task_record_t *task, tempo_store_status_cb cb, void *ud);
void tempo__sq_get_tasks(void *self, tempo_store_tasks_cb cb, void *ud);
void tempo__sq_remove_task(void *self, const char *id, tempo_store_status_cb cb, void *ud);
void tempo__sq_add_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_conflict_t conflict,
                            tempo_store_add_cb cb, void *ud);
void tempo__sq_get_schedules(void *self, const char *const *ids, size_t count, tempo_store_schedules_cb cb,
                             void *ud);
void tempo__sq_update_schedule(void *self, const tempo_schedule_record_t *schedule, tempo_store_status_cb cb,
                               void *ud);
void tempo__sq_remove_schedules(void *self, const char *const *ids, size_t count, tempo_store_status_cb cb,
                                void *ud);
void tempo__sq_acquire_schedules(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                 size_t limit, tempo_store_schedules_cb cb, void *ud);
void tempo__sq_release_schedules(void *self, const char *owner, tempo_schedule_release_t *releases,
                                 size_t count, tempo_store_status_cb cb, void *ud);
void tempo__sq_next_schedule_time(void *self, tempo_store_time_cb cb, void *ud);
void tempo__sq_add_job(void *self, const tempo_job_record_t *job, tempo_store_status_cb cb, void *ud);
void tempo__sq_get_jobs(void *self, const char *const *ids, size_t count, tempo_store_jobs_cb cb, void *ud);
void tempo__sq_acquire_jobs(void *self, const char *owner, tempo_time_t now, tempo_duration_t lease,
                            size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                            tempo_store_jobs_cb cb, void *ud);
void tempo__sq_release_job(void *self, const char *owner, const char *job_id, int64_t fence,
                           const tempo_job_result_t *result, tempo_store_status_cb cb, void *ud);
void tempo__sq_next_job_time(void *self, tempo_store_time_cb cb, void *ud);
void tempo__sq_get_job_result(void *self, const char *job_id, tempo_store_result_cb cb, void *ud);
void tempo__sq_list_results(void *self, const char *schedule_id, tempo_time_t now, size_t limit,
                            tempo_store_results_cb cb, void *ud);
void tempo__sq_extend_leases(void *self, const char *owner, const char *const *schedule_ids,
                             size_t schedule_count, const char *const *job_ids, size_t job_count,
                             tempo_time_t until, tempo_store_status_cb cb, void *ud);
void tempo__sq_reap_abandoned(void *self, tempo_time_t now, tempo_store_jobs_cb cb, void *ud);
void tempo__sq_cleanup(void *self, tempo_time_t now, tempo_store_status_cb cb, void *ud);

/* Shared by the job files: delete a finished schedule no job names any
 * more (after a job went). */
tempo_status_t tempo__sq_collect_schedule(sq_db_t *db, const char *schedule_id, tempo_error_t *err);
/* Insert (or replace) the result of job row `job` (read by
 * SQ_JOB_COLUMNS) with the caller's part `res`; expires at finished_at +
 * the job's result_expiration. */
tempo_status_t tempo__sq_store_result(sq_db_t *db, const tempo_job_record_t *job,
                                      const tempo_job_result_t *res, tempo_error_t *err);
/* Insert job row ?1.. (tempo__sq_bind_job); one of the same id is kept
 * (add_job tells by sqlite3_changes, a release's jobs are idempotent). */
extern const char tempo__sq_sql_insert_job[];

/* The queries whose plans tests/store_sqlite checks (EXPLAIN QUERY PLAN
 * must search an index, never scan a table). */
extern const char tempo__sq_sql_due_schedules[];
extern const char tempo__sq_sql_next_schedule_time[];
extern const char tempo__sq_sql_queued_jobs[];
extern const char tempo__sq_sql_running_jobs[];
extern const char tempo__sq_sql_next_job_time[];
extern const char tempo__sq_sql_lapsed_jobs[];
extern const char tempo__sq_sql_collect_schedule[];
extern const char tempo__sq_sql_expired_results[];
extern const char tempo__sq_sql_recent_results[];
extern const char tempo__sq_sql_schedule_results[];

#endif
