/* The conformance suite run against the SQLite store, on real files.
 *
 * Each case gets a new file in a temporary directory (deleted with its WAL
 * and shared-memory files after the case). The decode-failure hooks reach
 * the file through a connection of their own, as a damaged disk, a newer
 * tempo or another process would: `corrupt` overwrites a stored document
 * with bytes that are not BSON, `quarantined` looks for the record in the
 * quarantine table (and no longer in its own). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/sqlite.h>
#include <unistd.h>

#include "store_cases.h"

typedef struct ctx {
    char dir[256];
    char path[320];
    int cases;
} ctx_t;

static tempo_store_t *make(void *arg)
{
    ctx_t *c = arg;
    snprintf(c->path, sizeof c->path, "%s/case-%d.db", c->dir, ++c->cases);
    tempo_store_t *store = NULL;
    tempo_error_t err;
    if (tempo_sqlite_store_new(c->path, NULL, &store, &err) != TEMPO_OK) {
        fprintf(stderr, "tempo_sqlite_store_new: %s\n", err.message);
        return NULL;
    }
    return store;
}

static void cleanup(void *arg)
{
    ctx_t *c = arg;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char file[400];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(file, sizeof file, "%s%s", c->path, suffixes[i]);
        unlink(file);
    }
}

/* One statement with the id bound as ?1; the number of rows it changed
 * (or counted, for a SELECT count(*)), -1 on error. */
static int run(const ctx_t *c, const char *sql, const char *kind, const char *id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
            sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
            if (sqlite3_bind_parameter_count(stmt) > 1)
                sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
            int rc = sqlite3_step(stmt);
            if (rc == SQLITE_ROW)
                n = sqlite3_column_int(stmt, 0);
            else if (rc == SQLITE_DONE)
                n = sqlite3_changes(db);
        }
        if (n < 0)
            fprintf(stderr, "store_sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* Bytes that are not a BSON document: their length prefix says 0x6f6e. */
#define GARBAGE "x'6e6f7420425320'"

static bool corrupt(void *arg, tempo_store_t *store, const char *kind, const char *id)
{
    (void)store;
    const char *sql = NULL;
    if (strcmp(kind, "schedule") == 0)
        sql = "UPDATE schedules SET trigger_doc = " GARBAGE " WHERE id = ?1";
    else if (strcmp(kind, "job") == 0)
        sql = "UPDATE jobs SET args = " GARBAGE " WHERE id = ?1";
    else if (strcmp(kind, "task") == 0)
        sql = "UPDATE tasks SET metadata = " GARBAGE " WHERE id = ?1";
    return sql && run(arg, sql, kind, id) == 1;
}

static bool quarantined(void *arg, tempo_store_t *store, const char *kind, const char *id)
{
    (void)store;
    const char *live = strcmp(kind, "schedule") == 0 ? "SELECT count(*) FROM schedules WHERE id = ?1"
                       : strcmp(kind, "job") == 0    ? "SELECT count(*) FROM jobs WHERE id = ?1"
                                                     : "SELECT count(*) FROM tasks WHERE id = ?1";
    return run(arg, "SELECT count(*) FROM quarantine WHERE id = ?1 AND kind = ?2", kind, id) == 1 &&
           run(arg, live, kind, id) == 0;
}

int main(void)
{
    static ctx_t c;
    const char *tmp = getenv("TMPDIR");
    snprintf(c.dir, sizeof c.dir, "%s/tempo-sqlite-conformance-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(c.dir)) {
        perror("mkdtemp");
        return 1;
    }
    tempo_store_factory_t factory = {
        .name = "store conformance: sqlite",
        .make = make,
        .cleanup = cleanup,
        .ctx = &c,
        .corrupt = corrupt,
        .quarantined = quarantined,
    };
    int failed = tempo_store_conformance_run(&factory);
    rmdir(c.dir);
    return failed;
}
