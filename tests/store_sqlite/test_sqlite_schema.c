/* Schema versions and migrations of the SQLite store (issue 5).
 *
 * A new file gets this build's version and application_id; a file at a
 * newer version is refused with TEMPO_EVERSION naming the file and both
 * versions; migrations run as one transaction per open (a failed step
 * leaves the file where it was); two connections opening a new file at once
 * create the schema once. The migration steps are a table: a version after
 * this build's (NEXT), which does not exist yet, is passed in here to show
 * that adding one is one function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_test.h"
#include "store/sqlite/sqlite_internal.h"

/* The version a later issue would add. */
#define NEXT (TEMPO__SQ_SCHEMA_VERSION + 1)

static sq_db_t db_on(const char *path)
{
    return (sq_db_t){.path = path, .busy_ms = 10000, .create = true};
}

static void test_new_file(void **state)
{
    store_h_t *h = *state;
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK); /* opened and created by now */
    sh_result_free(&r);
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), tempo_sqlite_schema_version());
    assert_int_equal(sqt_int(sqt.path, "PRAGMA application_id"), TEMPO__SQ_APPLICATION_ID);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
                     1);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                                       "('tasks', 'schedules', 'jobs', 'job_results', 'quarantine')"),
                     5);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                       "('schedules_next', 'schedules_due', 'schedules_finished', 'jobs_queue', "
                                       "'jobs_due', 'jobs_running', 'jobs_leases', 'jobs_schedule', "
                                       "'job_results_expiry', 'quarantine_record', 'job_results_recent', "
                                       "'job_results_schedule')"),
                     12);
}

/* Newer: refused, naming the file and both versions, and nothing is
 * written; back at this version (another tempo migrated it back, say),
 * the same store works again. */
static void test_newer_version_refused(void **state)
{
    store_h_t *h = *state;
    tempo_task_record_t task = sh_task("task-a", 1);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
    sqt_reopen(h);
    assert_true(sqt_exec(sqt.path, "PRAGMA user_version = 7"));
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_EVERSION);
    assert_non_null(strstr(r.message, sqt.path));
    assert_non_null(strstr(r.message, "schema version 7"));
    char want[64], sql[64];
    snprintf(want, sizeof want, "version %d that this build", TEMPO__SQ_SCHEMA_VERSION);
    assert_non_null(strstr(r.message, want));
    sh_result_free(&r);
    assert_int_equal(sh_add_task(h, &task), TEMPO_EVERSION);
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), 7);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", TEMPO__SQ_SCHEMA_VERSION);
    assert_true(sqt_exec(sqt.path, sql));
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
}

/* ---- a version NEXT, as a later issue would add it ---- */

static tempo_status_t to_next(sq_db_t *db, tempo_error_t *err)
{
    int rc = sqlite3_exec(db->handle,
                          "ALTER TABLE tasks ADD COLUMN owner_team TEXT;"
                          "UPDATE tasks SET owner_team = 'ops';",
                          NULL, NULL, NULL);
    return rc == SQLITE_OK ? TEMPO_OK : tempo__sq_fail(db, rc, err, "adding tasks.owner_team");
}

static tempo_status_t broken_next(sq_db_t *db, tempo_error_t *err)
{
    int rc = sqlite3_exec(db->handle, "CREATE TABLE half_done(x); INSERT INTO no_such_table VALUES(1);", NULL,
                          NULL, NULL);
    return rc == SQLITE_OK ? TEMPO_OK : tempo__sq_fail(db, rc, err, "the broken step");
}

/* This build's steps, then one more. */
static sq_migration_t steps_next[NEXT], steps_broken[NEXT];

static void steps_init(void)
{
    for (size_t i = 0; i < tempo__sq_migration_count; i++)
        steps_next[i] = steps_broken[i] = tempo__sq_migrations[i];
    steps_next[NEXT - 1] = (sq_migration_t){NEXT, "tasks.owner_team", to_next};
    steps_broken[NEXT - 1] = (sq_migration_t){NEXT, "a step that fails half way", broken_next};
}

static void test_migration_keeps_data(void **state)
{
    store_h_t *h = *state;
    tempo_task_record_t task = sh_task("task-a", 3);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
    tempo_schedule_record_t s = sh_schedule(h, "s1", SH_T0);
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    sqt_reopen(h); /* lets go of the file (the store opens it again on demand) */

    sq_db_t db = db_on(sqt.path);
    tempo_error_t err;
    assert_int_equal(tempo__sq_db_open(&db, steps_next, NEXT, &err), TEMPO_OK);
    tempo__sq_db_close(&db, true);
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), NEXT);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM tasks WHERE owner_team = 'ops' AND "
                                       "max_running_jobs = 3"),
                     1);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM schedules"), 1);

    /* This build (up to NEXT - 1) now refuses the file. */
    sh_result_t r;
    char want[64];
    snprintf(want, sizeof want, "schema version %d", NEXT);
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_EVERSION);
    assert_non_null(strstr(r.message, want));
    sh_result_free(&r);
    /* Opening again with the same steps is a no-op. */
    db = db_on(sqt.path);
    assert_int_equal(tempo__sq_db_open(&db, steps_next, NEXT, &err), TEMPO_OK);
    tempo__sq_db_close(&db, true);
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), NEXT);
}

/* From nothing, every step runs, in one transaction. */
static void test_migration_from_new_file(void **state)
{
    (void)state;
    char path[512];
    sqt_file("from-zero.db", path, sizeof path);
    sq_db_t db = db_on(path);
    tempo_error_t err;
    assert_int_equal(tempo__sq_db_open(&db, steps_next, NEXT, &err), TEMPO_OK);
    tempo__sq_db_close(&db, true);
    assert_int_equal(sqt_int(path, "PRAGMA user_version"), NEXT);
    assert_int_equal(
        sqt_int(path, "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'owner_team'"), 1);
}

static void test_failed_migration_changes_nothing(void **state)
{
    store_h_t *h = *state;
    tempo_task_record_t task = sh_task("task-a", 3);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
    sqt_reopen(h);
    sq_db_t db = db_on(sqt.path);
    tempo_error_t err;
    assert_int_equal(tempo__sq_db_open(&db, steps_broken, NEXT, &err), TEMPO_ESTORE);
    assert_null(db.handle);
    char want[96];
    snprintf(want, sizeof want, "migrating from schema version %d to %d (a step that fails half way)", NEXT - 1,
             NEXT);
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "no_such_table"));
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), NEXT - 1);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'"), 0);
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK); /* still a good file of this build's version */
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
}

/* ---- two connections create a new file at the same moment ---- */

#define OPENERS 4

typedef struct opener {
    pthread_barrier_t *go;
    const char *path;
    tempo_status_t status;
    tempo_error_t err;
} opener_t;

static void *open_at_once(void *arg)
{
    opener_t *o = arg;
    sq_db_t db = db_on(o->path);
    pthread_barrier_wait(o->go);
    o->status = tempo__sq_db_ready(&db, &o->err);
    tempo__sq_db_close(&db, true);
    return NULL;
}

static void test_concurrent_first_open(void **state)
{
    (void)state;
    char path[512];
    for (int round = 0; round < 5; round++) {
        char name[32];
        snprintf(name, sizeof name, "race-%d.db", round);
        sqt_file(name, path, sizeof path);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, OPENERS);
        opener_t o[OPENERS];
        pthread_t t[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
            o[i] = (opener_t){.go = &go, .path = path};
            assert_int_equal(pthread_create(&t[i], NULL, open_at_once, &o[i]), 0);
        }
        for (int i = 0; i < OPENERS; i++) {
            pthread_join(t[i], NULL);
            if (o[i].status != TEMPO_OK)
                fail_msg("opener %d: %s", i, o[i].err.message);
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(sqt_int(path, "PRAGMA user_version"), TEMPO__SQ_SCHEMA_VERSION);
        assert_int_equal(sqt_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'schedules'"), 1);
    }
}

int main(void)
{
    sqt_init("sqlite-schema");
    steps_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_migration_keeps_data, sh_setup, sh_teardown),
        cmocka_unit_test(test_migration_from_new_file),
        cmocka_unit_test_setup_teardown(test_failed_migration_changes_nothing, sh_setup, sh_teardown),
        cmocka_unit_test(test_concurrent_first_open),
    };
    int failed = 0;
    /* Each case on a file of its own. */
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        char name[64];
        snprintf(name, sizeof name, "case-%zu.db", i);
        sqt_use(name);
        failed += _cmocka_run_group_tests("sqlite store: schema", &tests[i], 1, NULL, NULL);
    }
    sqt_fini();
    return failed;
}
