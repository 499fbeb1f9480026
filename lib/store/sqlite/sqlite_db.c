/* The SQLite store's connection: open, statements, transactions, errors.
 *
 * Writer thread only. The connection is opened lazily by the first
 * operation that needs it (and by the open work queued at start), so a file
 * that cannot be opened now fails that operation — naming the file and
 * SQLite's reason — and the next operation simply tries again: a store
 * recovers when a directory appears, a disk is remounted, a damaged file is
 * replaced. Any error about the file itself (EIO, ESTORE) marks the
 * connection broken, and the operation's runner closes it afterwards for the
 * same reason: the next operation starts from a fresh open.
 *
 * The connection is opened with SQLITE_OPEN_NOMUTEX: only one thread at a
 * time ever uses it (the writer; destroy only after joining it), so
 * SQLite's own mutexes would be pure cost. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

static tempo_status_t status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return TEMPO_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return TEMPO_ETIMEOUT;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL: return TEMPO_EIO;
    default: return TEMPO_ESTORE;
    }
}

tempo_status_t tempo__sq_fail(sq_db_t *db, int rc, tempo_error_t *err, const char *what, ...)
{
    char doing[96];
    va_list ap;
    va_start(ap, what);
    vsnprintf(doing, sizeof doing, what, ap);
    va_end(ap);
    tempo_status_t status = status_of(rc);
    const char *msg = db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc);
    int sys = db->handle && status == TEMPO_EIO ? sqlite3_system_errno(db->handle) : 0;
    if (status == TEMPO_EIO || status == TEMPO_ESTORE)
        db->broken = true;
    if (status == TEMPO_ETIMEOUT)
        return tempo__error_set(err, status, "'%s': %s: %s (another connection held the lock for longer "
                                "than busy_timeout, %d ms)", db->path, doing, msg, db->busy_ms);
    if (sys != 0)
        return tempo__error_set(err, status, "'%s': %s: %s (%s)", db->path, doing, msg, strerror(sys));
    return tempo__error_set(err, status, "'%s': %s: %s", db->path, doing, msg);
}

int tempo__sq_bind_time(sqlite3_stmt *stmt, int idx, int64_t t)
{
    return t == INT64_MIN ? sqlite3_bind_null(stmt, idx) : sqlite3_bind_int64(stmt, idx, t);
}

int tempo__sq_bind_limit(sqlite3_stmt *stmt, int idx, size_t limit)
{
    return sqlite3_bind_int64(stmt, idx, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
}

/* ---- statements ---- */

sqlite3_stmt *tempo__sq_stmt(sq_db_t *db, const char *sql, tempo_error_t *err)
{
    for (size_t i = 0; i < db->nstmts; i++) {
        if (db->stmts[i].sql == sql) {
            sqlite3_stmt *stmt = db->stmts[i].stmt;
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            return stmt;
        }
    }
    if (db->nstmts == SQ_STMTS_MAX) {
        tempo__error_set(err, TEMPO_ESTORE, "'%s': more than %d distinct statements (raise SQ_STMTS_MAX)",
                         db->path, SQ_STMTS_MAX);
        return NULL;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        tempo__sq_fail(db, rc, err, "preparing \"%.40s...\"", sql);
        return NULL;
    }
    db->stmts[db->nstmts++] = (sq_stmt_slot_t){sql, stmt};
    return stmt;
}

tempo_status_t tempo__sq_done(sq_db_t *db, sqlite3_stmt *stmt, const char *what, tempo_error_t *err)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return TEMPO_OK;
    return tempo__sq_fail(db, rc, err, "%s", what);
}

tempo_status_t tempo__sq_exec(sq_db_t *db, const char *sql, tempo_error_t *err)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, err);
    return stmt ? tempo__sq_done(db, stmt, sql, err) : err->code;
}

/* A statement stepped to a row and not to its end keeps a read snapshot
 * open even outside a transaction; every transaction ends by letting go of
 * all of them, so the next BEGIN IMMEDIATE starts from the newest data. */
static void reset_all(sq_db_t *db)
{
    for (size_t i = 0; i < db->nstmts; i++)
        sqlite3_reset(db->stmts[i].stmt);
}

/* ---- transactions ---- */

static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

tempo_status_t tempo__sq_begin(sq_db_t *db, bool write, tempo_error_t *err)
{
    reset_all(db);
    return tempo__sq_exec(db, write ? SQL_BEGIN_IMMEDIATE : SQL_BEGIN, err);
}

tempo_status_t tempo__sq_commit(sq_db_t *db, tempo_error_t *err)
{
    reset_all(db);
    return tempo__sq_exec(db, SQL_COMMIT, err);
}

void tempo__sq_rollback(sq_db_t *db)
{
    if (!db->handle || sqlite3_get_autocommit(db->handle))
        return;
    reset_all(db);
    /* ROLLBACK has no statement of ours left to wait for; if it still
     * fails, closing the connection (broken) rolls back. */
    if (sqlite3_exec(db->handle, SQL_ROLLBACK, NULL, NULL, NULL) != SQLITE_OK)
        db->broken = true;
}

/* ---- waiting for another connection ---- */

/* Pause `ms` on the writer thread; true when the store is being destroyed
 * meanwhile (tempo__pool_wait_stop wakes up then): the wait is over. */
static bool pause_ms(sq_db_t *db, int ms)
{
    if (db->pool)
        return tempo__pool_wait_stop(db->pool, TEMPO_MILLISECONDS(ms));
    sqlite3_sleep(ms);
    return false;
}

/* SQLite's busy handler: short growing pauses (1, 2, 4 ... 32 ms), up to
 * busy_timeout in all for one lock — and none once destroy() began, so a
 * destroy waits for a statement stuck behind another process's lock only
 * as long as it takes to give up, not for the whole busy_timeout. */
static int busy_wait(void *arg, int count)
{
    sq_db_t *db = arg;
    if (count == 0)
        db->busy_waited = 0;
    int left = db->busy_ms - db->busy_waited;
    if (left <= 0)
        return 0;
    int pause = count < 5 ? 1 << count : 32;
    if (pause > left)
        pause = left;
    if (pause_ms(db, pause))
        return 0;
    db->busy_waited += pause;
    return 1;
}

/* ---- open and close ---- */

void tempo__sq_db_close(sq_db_t *db, bool checkpoint)
{
    if (!db->handle)
        return;
    for (size_t i = 0; i < db->nstmts; i++)
        sqlite3_finalize(db->stmts[i].stmt);
    db->nstmts = 0;
    if (!checkpoint)
        sqlite3_db_config(db->handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_close_v2(db->handle);
    db->handle = NULL;
    db->broken = false;
}

static const char SQL_MODE[] = "PRAGMA journal_mode";
static const char SQL_WAL[] = "PRAGMA journal_mode=WAL";
static const char SQL_SYNCHRONOUS[] = "PRAGMA synchronous=NORMAL";

/* The journal mode after `sql` (a query or a change) into `mode`; *busy
 * when SQLite answered SQLITE_BUSY. */
static tempo_status_t journal_mode(sq_db_t *db, const char *sql, char *mode, size_t size, bool *busy,
                                   tempo_error_t *err)
{
    *busy = false;
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, err);
    if (!stmt)
        return err->code;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(mode, size, "%s", text ? text : "?");
        sqlite3_reset(stmt);
        return TEMPO_OK;
    }
    sqlite3_reset(stmt);
    *busy = (rc & 0xff) == SQLITE_BUSY;
    return tempo__sq_fail(db, rc, err, "setting journal_mode=WAL");
}

/* WAL lets readers run beside the one writer, across processes. A file
 * system that cannot do WAL (no shared memory: network file systems) would
 * silently keep the rollback journal: refused instead, it would not be
 * safe to share anyway.
 *
 * Switching a new file to WAL needs an exclusive lock, and SQLite does not
 * wait (no busy handler) when two connections that both read the file race
 * for it: the loser gets SQLITE_BUSY at once. So the loser tries again,
 * after short growing pauses, for up to busy_timeout — on the writer
 * thread. A file already in WAL mode (every open but the first) needs no
 * lock at all. */
static tempo_status_t use_wal(sq_db_t *db, tempo_error_t *err)
{
    char mode[16];
    bool busy = false;
    tempo_status_t rc = journal_mode(db, SQL_MODE, mode, sizeof mode, &busy, err);
    int waited = 0, pause = 1;
    while (rc == TEMPO_OK && strcmp(mode, "wal") != 0) {
        rc = journal_mode(db, SQL_WAL, mode, sizeof mode, &busy, err);
        if (!busy || waited >= db->busy_ms || pause_ms(db, pause))
            break;
        waited += pause;
        pause = pause < 32 ? pause * 2 : 32;
        rc = TEMPO_OK;
        snprintf(mode, sizeof mode, "?");
    }
    if (rc == TEMPO_OK && strcmp(mode, "wal") != 0)
        rc = tempo__error_set(err, TEMPO_EIO,
                              "'%s': cannot use WAL mode (journal_mode stays '%s'; is it on a network file "
                              "system?)",
                              db->path, mode);
    return rc;
}

static tempo_status_t db_connect(sq_db_t *db, tempo_error_t *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (db->create ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *handle = NULL;
    int rc = sqlite3_open_v2(db->path, &handle, flags, NULL);
    if (rc != SQLITE_OK) {
        const char *msg = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
        int sys = handle ? sqlite3_system_errno(handle) : 0;
        tempo__error_set(err, status_of(rc), "'%s': cannot %s it: %s%s%s%s", db->path,
                         db->create ? "open or create" : "open", msg, sys ? " (" : "",
                         sys ? strerror(sys) : "", sys ? ")" : "");
        sqlite3_close_v2(handle);
        return err->code;
    }
    sqlite3_extended_result_codes(handle, 1);
    sqlite3_busy_handler(handle, busy_wait, db);
    db->handle = handle;
    db->broken = false;
    return TEMPO_OK;
}

tempo_status_t tempo__sq_db_open(sq_db_t *db, const sq_migration_t *steps, size_t count, tempo_error_t *err)
{
    if (db->handle)
        return TEMPO_OK;
    tempo_status_t rc = db_connect(db, err);
    if (rc == TEMPO_OK)
        rc = use_wal(db, err);
    /* NORMAL is durable in WAL mode except for the last transactions
     * before a power cut (the file stays consistent). */
    if (rc == TEMPO_OK)
        rc = tempo__sq_exec(db, SQL_SYNCHRONOUS, err);
    if (rc == TEMPO_OK)
        rc = tempo__sq_migrate(db, steps, count, err);
    if (rc != TEMPO_OK) {
        tempo__sq_rollback(db);
        tempo__sq_db_close(db, false);
    }
    return rc;
}

tempo_status_t tempo__sq_db_ready(sq_db_t *db, tempo_error_t *err)
{
    return tempo__sq_db_open(db, tempo__sq_migrations, tempo__sq_migration_count, err);
}
