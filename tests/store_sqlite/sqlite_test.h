/* Helpers of the SQLite store's own tests (tests/store_sqlite).
 *
 * A temporary directory per program, a factory for the conformance harness
 * (store_harness.h) that makes stores on sqt.path with sqt.options, and a
 * side door into the files: statements run on a connection of the test's
 * own, as another process (or a person with the sqlite3 shell) would. */
#ifndef TEMPO_TEST_SQLITE_TEST_H
#define TEMPO_TEST_SQLITE_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <tempo/sqlite.h>

#include "store_harness.h"

typedef struct sqt {
    char dir[256];                   /* the program's temporary directory */
    char path[512];                  /* the file the next store opens */
    tempo_sqlite_options_t options;  /* ... with these options */
} sqt_t;

extern sqt_t sqt;

/* mkdtemp under $TMPDIR (or /tmp); sqt.path = dir/store.db, default
 * options, and the harness's factory set to make stores from sqt. */
void sqt_init(const char *name);
/* Remove the directory and everything in it. */
void sqt_fini(void);
/* sqt.path = dir/name; returns it. */
const char *sqt_use(const char *name);
/* dir/name into buf. */
const char *sqt_file(const char *name, char *buf, size_t size);

/* The harness's factory `make`: a new store on sqt.path. */
tempo_store_t *sqt_make(void *ctx);

/* Stop the harness's store (waiting for stop's callback) and free it
 * (h->store is NULL after); put a new store on sqt.path in its place,
 * started on the same loop; or both. */
void sqt_close(store_h_t *h);
void sqt_open(store_h_t *h);
void sqt_reopen(store_h_t *h);

/* The side door: run SQL (several statements) on `path`; false with the
 * message on stderr when it fails. */
bool sqt_exec(const char *path, const char *sql);
/* The first column of the first row of `sql` as an integer; INT64_MIN on
 * error or no row. */
int64_t sqt_int(const char *path, const char *sql);

/* Write `text` as the whole content of `path`. */
void sqt_write_file(const char *path, const char *text);

/* ---- for forked children, where cmocka must not be used ----
 * One store call's answer (records copied), waited for on `vloop` in real
 * time, up to 20 s. */
typedef struct sqt_wait {
    int calls;
    tempo_status_t status;
    char message[TEMPO_ERROR_MESSAGE_MAX];
    tempo_schedule_record_t *schedules;
    tempo_job_record_t *jobs;
    size_t count;
    tempo_time_t when;
} sqt_wait_t;

void sqt_wait_status_cb(void *ud, tempo_status_t status, const tempo_error_t *err);
void sqt_wait_schedules_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                           const tempo_schedule_record_t *recs, size_t count);
void sqt_wait_jobs_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                      const tempo_job_record_t *recs, size_t count);
/* True when the answer came, once. */
bool sqt_wait(tempo_vloop_t *vloop, sqt_wait_t *w);
void sqt_wait_free(sqt_wait_t *w);

#endif
