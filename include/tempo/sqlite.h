/* tempo — the SQLite store: the embedded, persistent default (DESIGN.md §7).
 *
 * One database file in WAL mode. Every SQL statement runs on the store's one
 * writer thread (never on the loop thread); completions come back on the loop
 * thread, in the order the operations were issued. Several processes on one
 * machine may share one file: acquisitions are single conditional UPDATEs
 * inside IMMEDIATE transactions, so a schedule or job is held by one owner at
 * a time, and leases with fencing tokens make a dead process's records come
 * back when its leases expire. The schema carries a version number; opening
 * an older file migrates it, a newer one is refused (TEMPO_EVERSION).
 * docs/stores.md explains the layout. */
#ifndef TEMPO_SQLITE_H
#define TEMPO_SQLITE_H

#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_sqlite_options {
    size_t size;                  /* sizeof(tempo_sqlite_options_t) */
    tempo_duration_t busy_timeout; /* how long a statement waits for another process's lock */
    bool create;                  /* create the file when missing (default true) */
} tempo_sqlite_options_t;

#define TEMPO_SQLITE_OPTIONS_INIT { sizeof(tempo_sqlite_options_t), TEMPO_SECONDS(5), true }

/* A store on the database file `path` (":memory:" is refused: use the memory
 * store). The file is opened, created and migrated when the store starts
 * (errors then come from start, naming the file). `options` may be NULL. */
TEMPO_API tempo_status_t tempo_sqlite_store_new(const char *path, const tempo_sqlite_options_t *options,
                                                tempo_store_t **out, tempo_error_t *err);

/* The schema version this build writes (files at an older version are
 * migrated on start). */
TEMPO_API int tempo_sqlite_schema_version(void);

#ifdef __cplusplus
}
#endif
#endif
