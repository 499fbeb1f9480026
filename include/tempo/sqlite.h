/* tempo — the SQLite store: the embedded, persistent default (DESIGN.md §7).
 *
 * One database file in WAL mode. Every SQL statement runs on the store's one
 * writer thread (never on the loop thread); completions come back on the loop
 * thread, and operations take effect in the order they were issued. Several
 * processes on one machine may share one file: acquisitions are conditional
 * UPDATEs inside IMMEDIATE transactions (the file's write lock, taken before
 * the first read), so a schedule or job is held by one owner at a time, and
 * leases with fencing tokens make a dead process's records come back when its
 * leases expire. The schema carries a version number; opening an older file
 * migrates it, a newer one is refused (TEMPO_EVERSION). Records that cannot
 * be decoded are moved to a quarantine table, never deleted, and reported
 * once (tempo_store_ops_t.set_quarantine_cb). docs/stores.md ("SQLite")
 * explains the layout. */
#ifndef TEMPO_SQLITE_H
#define TEMPO_SQLITE_H

#include <tempo/store.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_sqlite_options {
    size_t size;                   /* sizeof(tempo_sqlite_options_t) */
    tempo_duration_t busy_timeout; /* how long a statement waits for another connection's lock
                                      (rounded up to milliseconds; 0 = not at all); an operation
                                      that waited longer fails with TEMPO_ETIMEOUT */
    bool create;                   /* create the file when missing (default true); the
                                      directory must exist */
} tempo_sqlite_options_t;

#define TEMPO_SQLITE_OPTIONS_INIT { sizeof(tempo_sqlite_options_t), TEMPO_SECONDS(5), true }

/* A store on the database file `path` (":memory:" and "" are refused: use the
 * memory store). Nothing is opened here. The file is opened, created and
 * migrated on the store's thread, first thing after start(), so start()
 * never blocks on the disk; a failure there is not final: each operation
 * opens the file if it is not open, and fails — naming the file and SQLite's
 * reason — with TEMPO_EIO (cannot open or create, not a database, an I/O
 * error, disk full, read-only), TEMPO_ESTORE (another application's
 * database, a damaged one), TEMPO_EVERSION (written by a newer tempo) or
 * TEMPO_ETIMEOUT (locked by another connection for longer than
 * busy_timeout). The store keeps working once the cause goes away: the next
 * operation opens the file again. `options` may be NULL (defaults). */
TEMPO_API tempo_status_t tempo_sqlite_store_new(const char *path, const tempo_sqlite_options_t *options,
                                                tempo_store_t **out, tempo_error_t *err);

/* The schema version this build writes (files at an older version are
 * migrated when opened; newer ones are refused). */
TEMPO_API int tempo_sqlite_schema_version(void);

#ifdef __cplusplus
}
#endif
#endif
