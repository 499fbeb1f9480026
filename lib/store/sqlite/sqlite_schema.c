/* Schema versions and migrations of the SQLite store.
 *
 * The version lives in the file header (PRAGMA user_version), beside
 * PRAGMA application_id = "tmpo", which tells a tempo file from some other
 * program's database. tempo__sq_migrations[i] takes a file from version i to
 * i + 1; a later version is one more function appended to the table. A
 * migration runs in one IMMEDIATE transaction together with the version
 * bump, so a file is always at exactly one version: a failed step (or a
 * crash) leaves it where it was, and two processes opening an old file at
 * once migrate it once (the second finds the new version under the lock).
 *
 * A file at a newer version than this build knows is refused with
 * TEMPO_EVERSION, naming the file and both versions: an old tempo must not
 * guess at columns it does not know.
 *
 * Version 1 (docs/stores.md, "SQLite", has the why of each index):
 *   tasks        one row per task
 *   schedules    one row per schedule; due_at (generated) is the first
 *                instant acquire_schedules may hand it out
 *   jobs         one row per job; run_at (generated) is its effective
 *                fire time
 *   job_results  kept results
 *   quarantine   rows that could not be decoded, set aside whole
 * Version 2: two indexes on job_results for list_results (newest first, of
 * every job or of one schedule), which `tempo ls` asks once per schedule:
 * without them each listing reads and sorts the whole table. */
#include <stdio.h>
#include <string.h>

#include "sqlite_internal.h"
#include "util/error_internal.h"

static const char V1[] =
    "CREATE TABLE tasks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " executor INTEGER NOT NULL,"
    " max_running_jobs INTEGER NOT NULL,"
    " misfire_grace_time INTEGER," /* NULL: no limit */
    " metadata BLOB);"             /* BSON; NULL: none */
    "CREATE TABLE schedules ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " task_id TEXT NOT NULL,"
    " trigger_doc BLOB NOT NULL," /* tempo_trigger_to_bson */
    " args BLOB,"
    " coalesce_policy INTEGER NOT NULL,"
    " misfire_grace_time INTEGER,"
    " max_jitter INTEGER NOT NULL,"
    " jitter_deterministic INTEGER NOT NULL,"
    " paused INTEGER NOT NULL,"
    " job_result_expiration INTEGER NOT NULL,"
    " next_fire_time INTEGER," /* NULL: finished */
    " last_fire_time INTEGER," /* NULL: never fired */
    " metadata BLOB,"
    " lease_owner TEXT,"       /* NULL: not held */
    " lease_until INTEGER,"
    " fence INTEGER NOT NULL DEFAULT 0,"
    " due_at INTEGER GENERATED ALWAYS AS ("
    "  CASE WHEN paused <> 0 OR next_fire_time IS NULL THEN NULL"
    "       WHEN lease_owner IS NULL OR lease_until IS NULL THEN next_fire_time"
    "       ELSE max(next_fire_time, lease_until) END) VIRTUAL);"
    "CREATE INDEX schedules_next ON schedules(next_fire_time, id, due_at) WHERE due_at IS NOT NULL;"
    "CREATE INDEX schedules_due ON schedules(due_at) WHERE due_at IS NOT NULL;"
    "CREATE INDEX schedules_finished ON schedules(id) WHERE next_fire_time IS NULL;"
    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " task_id TEXT NOT NULL,"
    " schedule_id TEXT,"
    " args BLOB,"
    " scheduled_fire_time INTEGER," /* NULL: now (run_at = created_at) */
    " original_fire_time INTEGER,"
    " start_deadline INTEGER,"
    " result_expiration INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " fence INTEGER NOT NULL DEFAULT 0,"
    " run_at INTEGER GENERATED ALWAYS AS (coalesce(scheduled_fire_time, created_at)) VIRTUAL);"
    "CREATE INDEX jobs_queue ON jobs(task_id, run_at, created_at, id) WHERE lease_owner IS NULL;"
    "CREATE INDEX jobs_due ON jobs(run_at) WHERE lease_owner IS NULL;"
    "CREATE INDEX jobs_running ON jobs(task_id, lease_until) WHERE lease_owner IS NOT NULL;"
    "CREATE INDEX jobs_leases ON jobs(lease_until, id) WHERE lease_owner IS NOT NULL;"
    "CREATE INDEX jobs_schedule ON jobs(schedule_id) WHERE schedule_id IS NOT NULL;"
    "CREATE TABLE job_results ("
    " job_id TEXT PRIMARY KEY NOT NULL,"
    " task_id TEXT NOT NULL,"
    " schedule_id TEXT,"
    " outcome INTEGER NOT NULL,"
    " scheduled_fire_time INTEGER,"
    " started_at INTEGER,"
    " finished_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " return_value BLOB,"
    " error TEXT);"
    "CREATE INDEX job_results_expiry ON job_results(expires_at);"
    "CREATE TABLE quarantine ("
    " seq INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL,"            /* task, schedule, job */
    " id TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " quarantined_at INTEGER NOT NULL," /* wall clock, microseconds */
    " record BLOB NOT NULL);"          /* the row as it was, one BSON field per column */
    "CREATE INDEX quarantine_record ON quarantine(kind, id);";

/* Scripts run once per file: sqlite3_exec, not the statement cache. */
static tempo_status_t run_script(sq_db_t *db, const char *sql, tempo_error_t *err)
{
    int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TEMPO_OK : tempo__sq_fail(db, rc, err, "creating the schema");
}

/* Both orders are finished_at DESC then job_id ASC, exactly the listing's
 * ORDER BY (an index read backwards would give job_id DESC on ties). A
 * result without a schedule is only ever listed with all of them. */
static const char V2[] =
    "CREATE INDEX job_results_recent ON job_results(finished_at DESC, job_id);"
    "CREATE INDEX job_results_schedule ON job_results(schedule_id, finished_at DESC, job_id)"
    " WHERE schedule_id IS NOT NULL;";

static tempo_status_t to_v1(sq_db_t *db, tempo_error_t *err)
{
    return run_script(db, V1, err);
}

static tempo_status_t to_v2(sq_db_t *db, tempo_error_t *err)
{
    return run_script(db, V2, err);
}

const sq_migration_t tempo__sq_migrations[] = {
    {1, "tasks, schedules, jobs, job_results, quarantine and their indexes", to_v1},
    {2, "job_results indexes for listing results newest first", to_v2},
};
const size_t tempo__sq_migration_count = sizeof tempo__sq_migrations / sizeof *tempo__sq_migrations;
/* Step i leads to version i + 1, so the last one is this build's version. */
_Static_assert(sizeof tempo__sq_migrations / sizeof *tempo__sq_migrations == TEMPO__SQ_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- the header ---- */

static const char SQL_USER_VERSION[] = "PRAGMA user_version";
static const char SQL_APPLICATION_ID[] = "PRAGMA application_id";
static const char SQL_HAS_TABLES[] = "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'";

static tempo_status_t read_int(sq_db_t *db, const char *sql, int64_t *out, tempo_error_t *err)
{
    sqlite3_stmt *stmt = tempo__sq_stmt(db, sql, err);
    if (!stmt)
        return err->code;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return tempo__sq_fail(db, rc, err, "reading %s", sql);
    }
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TEMPO_OK;
}

/* user_version and application_id cannot be bound parameters. */
static tempo_status_t write_header(sq_db_t *db, int version, tempo_error_t *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", version,
             (int)TEMPO__SQ_APPLICATION_ID);
    int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TEMPO_OK : tempo__sq_fail(db, rc, err, "writing schema version %d", version);
}

/* Is this file ours (or new and empty)? A file of another application is
 * never written to. */
static tempo_status_t check_identity(sq_db_t *db, int64_t version, tempo_error_t *err)
{
    int64_t app = 0, tables = 0;
    tempo_status_t rc = read_int(db, SQL_APPLICATION_ID, &app, err);
    if (rc != TEMPO_OK || app == TEMPO__SQ_APPLICATION_ID)
        return rc;
    if (app != 0)
        return tempo__error_set(err, TEMPO_ESTORE, "'%s' is not a tempo database (application_id 0x%08llx)",
                                db->path, (unsigned long long)(uint32_t)app);
    rc = read_int(db, SQL_HAS_TABLES, &tables, err);
    if (rc == TEMPO_OK && (tables > 0 || version != 0))
        return tempo__error_set(err, TEMPO_ESTORE, "'%s' is not a tempo database (it has %lld tables and "
                                "schema version %lld, but no tempo application_id): refusing to write to it",
                                db->path, (long long)tables, (long long)version);
    return rc;
}

static tempo_status_t too_new(sq_db_t *db, int64_t version, int known, tempo_error_t *err)
{
    return tempo__error_set(err, TEMPO_EVERSION, "'%s' has schema version %lld, newer than version %d that "
                            "this build of tempo knows: open it with a newer tempo",
                            db->path, (long long)version, known);
}

tempo_status_t tempo__sq_migrate(sq_db_t *db, const sq_migration_t *steps, size_t count, tempo_error_t *err)
{
    int target = count ? steps[count - 1].to : 0;
    int64_t version = 0;
    /* The common case, without the write lock: already at this version. */
    tempo_status_t rc = read_int(db, SQL_USER_VERSION, &version, err);
    if (rc != TEMPO_OK)
        return rc;
    if (version > target)
        return too_new(db, version, target, err);
    if (version == target && version != 0) {
        rc = check_identity(db, version, err);
        db->version = target;
        return rc;
    }
    /* Under the lock: another process may have migrated meanwhile. */
    rc = tempo__sq_begin(db, true, err);
    if (rc == TEMPO_OK)
        rc = read_int(db, SQL_USER_VERSION, &version, err);
    if (rc == TEMPO_OK && version > target)
        rc = too_new(db, version, target, err);
    if (rc == TEMPO_OK)
        rc = check_identity(db, version, err);
    if (rc == TEMPO_OK && version < 0)
        rc = tempo__error_set(err, TEMPO_ESTORE, "'%s' has schema version %lld, which no tempo ever wrote",
                              db->path, (long long)version);
    int64_t from = version;
    for (; rc == TEMPO_OK && version < target; version++) {
        const sq_migration_t *step = &steps[version];
        rc = step->apply(db, err);
        if (rc != TEMPO_OK)
            tempo__error_prefix(err, rc, "migrating from schema version %lld to %d (%s)", (long long)version,
                                step->to, step->what);
    }
    if (rc == TEMPO_OK && from < target)
        rc = write_header(db, target, err);
    if (rc == TEMPO_OK)
        rc = tempo__sq_commit(db, err);
    if (rc != TEMPO_OK)
        tempo__sq_rollback(db);
    db->version = target;
    return rc;
}

tempo_status_t tempo__sq_schema_check(sq_db_t *db, tempo_error_t *err)
{
    int64_t version = 0;
    tempo_status_t rc = read_int(db, SQL_USER_VERSION, &version, err);
    if (rc != TEMPO_OK || version == db->version)
        return rc;
    db->broken = true;
    if (version > db->version)
        return too_new(db, version, db->version, err);
    return tempo__error_set(err, TEMPO_ESTORE,
                            "'%s': its schema version went back from %d to %lld while it was open (the file "
                            "was replaced?); it is opened again by the next operation",
                            db->path, db->version, (long long)version);
}
