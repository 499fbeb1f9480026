/* Helpers of the store conformance cases (store_cases.h).
 *
 * Each sh_* wrapper makes one store call with the "inside a call" flag set,
 * checks that the callback did not run inside it, runs the virtual loop, and
 * checks that the callback then ran exactly once, on no re-entrant path.
 * What the callback got is copied into an sh_result_t (records.h copies), so
 * cases check values after the store let go of them. */
#ifndef TEMPO_TEST_STORE_HARNESS_H
#define TEMPO_TEST_STORE_HARNESS_H

#include <stdbool.h>
#include <tempo/store.h>
#include <tempo/virtual.h>

#include "store_cases.h"

/* Every case's clock starts here: 2027-01-01T00:00:00Z. */
#define SH_T0 INT64_C(1798761600000000)
#define SH_SEC(n) TEMPO_SECONDS(n)

typedef struct store_h {
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_trigger_t *trigger; /* every 1 min from SH_T0 */
    bool stopped;             /* the case stopped the store itself */
    /* (a case that destroys the store sets `store` to NULL) */
} store_h_t;

/* The factory the cases use (set by tempo_store_conformance_run). */
extern const tempo_store_factory_t *sh_factory;

/* cmocka group-less fixtures: a started store on a fresh virtual loop. */
int sh_setup(void **state);
int sh_teardown(void **state);

/* Run the loop until each counter is > 0 (a callback came), waiting up to
 * SH_WAIT_MS of real time in all for wake-ups from a store's threads. */
#define SH_WAIT_MS 120000 /* FerretDB under load: an acquisition of 1 000 takes 15-30 s */
void sh_wait_calls(store_h_t *h, int *const *calls, size_t n);

/* Quarantine reports the store made (set_quarantine_cb), reset per case. */
typedef struct sh_report {
    char kind[16];
    char id[64];
    char reason[TEMPO_ERROR_MESSAGE_MAX];
    int seq; /* sh_seq when it came: before the callback of its operation */
} sh_report_t;
#define SH_REPORTS_MAX 8
extern sh_report_t sh_reports[SH_REPORTS_MAX];
extern int sh_report_count;

/* Set around every store call; callbacks fail the case when they see it. */
extern bool sh_in_call;
/* Incremented by every callback; a callback's `seq` is its value then. */
extern int sh_seq;

typedef struct sh_result {
    int calls;
    int seq;
    tempo_status_t status;
    char message[TEMPO_ERROR_MESSAGE_MAX];
    tempo_store_added_t added;
    tempo_time_t when;
    tempo_task_record_t *tasks;
    tempo_schedule_record_t *schedules;
    tempo_job_record_t *jobs;
    size_t count;
    tempo_job_result_t result;
    bool has_result;
} sh_result_t;

void sh_result_free(sh_result_t *r);

/* Callbacks filling an sh_result_t (userdata), for cases that drive the
 * ops table themselves (several calls in flight). */
void sh_status_cb(void *ud, tempo_status_t status, const tempo_error_t *err);
void sh_add_cb(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_store_added_t what);
void sh_schedules_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                     const tempo_schedule_record_t *recs, size_t count);
void sh_jobs_cb(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_record_t *recs,
                size_t count);
void sh_time_cb(void *ud, tempo_status_t status, const tempo_error_t *err, tempo_time_t when);

/* ---- one call each; `out` may be NULL (results dropped) ---- */
tempo_status_t sh_add_task(store_h_t *h, const tempo_task_record_t *task);
tempo_status_t sh_get_tasks(store_h_t *h, sh_result_t *out);
tempo_status_t sh_remove_task(store_h_t *h, const char *id);
tempo_status_t sh_add_schedule(store_h_t *h, const tempo_schedule_record_t *rec, tempo_conflict_t conflict,
                               tempo_store_added_t *added);
tempo_status_t sh_get_schedules(store_h_t *h, const char *const *ids, size_t count, sh_result_t *out);
tempo_status_t sh_update_schedule(store_h_t *h, const tempo_schedule_record_t *rec);
tempo_status_t sh_remove_schedules(store_h_t *h, const char *const *ids, size_t count);
tempo_status_t sh_acquire_schedules(store_h_t *h, const char *owner, tempo_time_t now, tempo_duration_t lease,
                                    size_t limit, sh_result_t *out);
tempo_status_t sh_release_schedules(store_h_t *h, const char *owner, tempo_schedule_release_t *rel,
                                    size_t count);
tempo_time_t sh_next_schedule_time(store_h_t *h);
tempo_status_t sh_add_job(store_h_t *h, const tempo_job_record_t *job);
tempo_status_t sh_get_jobs(store_h_t *h, const char *const *ids, size_t count, sh_result_t *out);
tempo_status_t sh_acquire_jobs(store_h_t *h, const char *owner, tempo_time_t now, tempo_duration_t lease,
                               size_t limit, const tempo_task_record_t *tasks, size_t task_count,
                               sh_result_t *out);
tempo_status_t sh_release_job(store_h_t *h, const char *owner, const char *id, int64_t fence,
                              const tempo_job_result_t *result);
tempo_time_t sh_next_job_time(store_h_t *h);
tempo_status_t sh_get_job_result(store_h_t *h, const char *id, sh_result_t *out);
tempo_status_t sh_extend_leases(store_h_t *h, const char *owner, const char *const *sids, size_t sn,
                                const char *const *jids, size_t jn, tempo_time_t until);
tempo_status_t sh_reap_abandoned(store_h_t *h, tempo_time_t now, sh_result_t *out);
tempo_status_t sh_cleanup(store_h_t *h, tempo_time_t now);

/* ---- lookups ---- */
/* Copy of one schedule / job into *out (records.h copy; clear it), or false. */
bool sh_find_schedule(store_h_t *h, const char *id, tempo_schedule_record_t *out);
bool sh_find_job(store_h_t *h, const char *id, tempo_job_record_t *out);
bool sh_has_schedule(store_h_t *h, const char *id);
bool sh_has_job(store_h_t *h, const char *id);

/* ---- records ---- */
/* Task "task-a", h->trigger, next fire time `next`, every other field at
 * its default. */
tempo_schedule_record_t sh_schedule(const store_h_t *h, const char *id, tempo_time_t next);
tempo_job_record_t sh_job(const char *id, const char *task_id, const char *schedule_id, tempo_time_t at,
                          tempo_time_t created_at);
tempo_task_record_t sh_task(const char *id, int max_running_jobs);
tempo_job_result_t sh_outcome(tempo_outcome_t outcome, tempo_time_t finished_at);
/* {"k": value} (static storage per call site is the caller's business). */
void sh_doc(bson_t *doc, const char *key, int32_t value);
int32_t sh_doc_int(const bson_t *doc, const char *key);

#endif
