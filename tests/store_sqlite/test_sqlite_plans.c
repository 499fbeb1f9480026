/* The SQLite store's hot queries use their indexes (issue 5), and the
 * listings of results theirs (issue 6: schema version 2).
 *
 * EXPLAIN QUERY PLAN of each query on the due-schedule and job-acquisition
 * paths must search the index it was built for — never scan a table, and
 * never sort for an ORDER BY the index already gives. Checked on a file
 * with a realistic mix (paused, finished, held and due schedules; queued,
 * running and lapsed jobs of several tasks), first without statistics and
 * again after ANALYZE: the planner must not change its mind once it knows
 * the row counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_test.h"
#include "store/sqlite/sqlite_internal.h"

typedef struct plan_case {
    const char *name;
    const char *sql;
    const char *index;  /* must appear as "USING [COVERING ]INDEX <index>" */
    bool ordered;       /* the index gives the order: no temporary B-tree */
} plan_case_t;

static const plan_case_t cases[] = {
    {"acquire_schedules: due schedules", tempo__sq_sql_due_schedules, "schedules_next", true},
    {"next_schedule_time", tempo__sq_sql_next_schedule_time, "schedules_due", true},
    {"acquire_jobs: a task's queue", tempo__sq_sql_queued_jobs, "jobs_queue", true},
    {"acquire_jobs: a task's running jobs", tempo__sq_sql_running_jobs, "jobs_running", true},
    {"next_job_time", tempo__sq_sql_next_job_time, "jobs_due", true},
    {"reap_abandoned: lapsed leases", tempo__sq_sql_lapsed_jobs, "jobs_leases", true},
    {"release: a finished schedule's last job", tempo__sq_sql_collect_schedule, "jobs_schedule", true},
    {"cleanup: expired results", tempo__sq_sql_expired_results, "job_results_expiry", true},
    {"list_results: every job's, newest first", tempo__sq_sql_recent_results, "job_results_recent", true},
    {"list_results: one schedule's, newest first", tempo__sq_sql_schedule_results, "job_results_schedule", true},
};

/* 3000 schedules: a third paused, a sixth finished, a sixth held, the rest
 * due at spread times; 3000 jobs over 10 tasks, half of them leased (some
 * lapsed), with results for a few (two thirds of them of 40 schedules). */
static const char POPULATE[] =
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999) "
    "INSERT INTO schedules(id, task_id, trigger_doc, coalesce_policy, max_jitter, jitter_deterministic, paused, "
    " job_result_expiration, next_fire_time, lease_owner, lease_until, fence) "
    "SELECT printf('s%05d', i), 'task-' || (i % 10), x'0500000000', 0, 0, 0, i % 3 = 0, 0, "
    " CASE WHEN i % 6 = 1 THEN NULL ELSE 1000000 + i * 1000 END, "
    " CASE WHEN i % 6 = 2 THEN 'w1' END, CASE WHEN i % 6 = 2 THEN 5000000 END, i % 7 FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999) "
    "INSERT INTO jobs(id, task_id, schedule_id, scheduled_fire_time, result_expiration, created_at, lease_owner, "
    " lease_until, fence) "
    "SELECT printf('j%05d', i), 'task-' || (i % 10), printf('s%05d', i % 3000), 1000000 + i * 500, 60000000, "
    " 900000 + i, CASE WHEN i % 2 = 0 THEN 'w' || (i % 3) END, CASE WHEN i % 2 = 0 THEN 1000000 + i * 700 END, "
    " i % 2 = 0 FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499) "
    "INSERT INTO job_results(job_id, task_id, schedule_id, outcome, finished_at, expires_at) "
    "SELECT printf('r%05d', i), 'task-1', CASE WHEN i % 3 <> 0 THEN printf('s%05d', i % 40) END, 0, i, "
    " 1000000 + i * 10000 FROM n;";

/* The plan as lines of text. */
static void explain(sq_db_t *db, const char *sql, char *out, size_t size)
{
    char query[2048];
    snprintf(query, sizeof query, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db->handle, query, -1, &stmt, NULL), SQLITE_OK);
    size_t used = 0;
    out[0] = '\0';
    while (sqlite3_step(stmt) == SQLITE_ROW && used < size)
        used += (size_t)snprintf(out + used, size - used, "%s\n", (const char *)sqlite3_column_text(stmt, 3));
    sqlite3_finalize(stmt);
}

/* A table visited without an index: "SCAN <table>" not followed by
 * "USING" on its line. */
static bool scans_a_table(const char *plan)
{
    for (const char *line = plan; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        if (strncmp(buf, "SCAN ", 5) == 0 && !strstr(buf, " USING "))
            return true;
        line += len + (end != NULL);
    }
    return false;
}

static void check_plans(sq_db_t *db, const char *when)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char plan[2048], want[128], want_covering[128];
        explain(db, cases[i].sql, plan, sizeof plan);
        snprintf(want, sizeof want, "USING INDEX %s", cases[i].index);
        snprintf(want_covering, sizeof want_covering, "USING COVERING INDEX %s", cases[i].index);
        print_message("  %s (%s):\n%s", cases[i].name, when, plan);
        if (!strstr(plan, want) && !strstr(plan, want_covering))
            fail_msg("%s (%s): the plan does not use %s:\n%s", cases[i].name, when, cases[i].index, plan);
        if (scans_a_table(plan))
            fail_msg("%s (%s): the plan scans a table:\n%s", cases[i].name, when, plan);
        if (cases[i].ordered && strstr(plan, "TEMP B-TREE"))
            fail_msg("%s (%s): the plan sorts what the index should give in order:\n%s", cases[i].name, when,
                     plan);
    }
}

static void test_plans(void **state)
{
    (void)state;
    sq_db_t db = {.path = sqt.path, .busy_ms = 5000, .create = true};
    tempo_error_t err;
    if (tempo__sq_db_ready(&db, &err) != TEMPO_OK)
        fail_msg("%s", err.message);
    assert_int_equal(sqlite3_exec(db.handle, POPULATE, NULL, NULL, NULL), SQLITE_OK);
    check_plans(&db, "no statistics");
    assert_int_equal(sqlite3_exec(db.handle, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
    tempo__sq_db_close(&db, true);
    assert_int_equal(tempo__sq_db_ready(&db, &err), TEMPO_OK); /* plans made with the statistics */
    check_plans(&db, "after ANALYZE");
    tempo__sq_db_close(&db, true);
}

/* A file of schema version 1 (before list_results) is brought to version
 * 2 when opened: the listing indexes appear, no row is lost, and the
 * listings use them at once. */
static void test_version_1_file_migrated(void **state)
{
    (void)state;
    char path[512];
    sqt_file("version-1.db", path, sizeof path);
    sq_db_t db = {.path = path, .busy_ms = 5000, .create = true};
    tempo_error_t err;
    if (tempo__sq_db_open(&db, tempo__sq_migrations, 1, &err) != TEMPO_OK)
        fail_msg("%s", err.message);
    assert_int_equal(sqlite3_exec(db.handle, POPULATE, NULL, NULL, NULL), SQLITE_OK);
    tempo__sq_db_close(&db, true);
    assert_int_equal(sqt_int(path, "PRAGMA user_version"), 1);
    assert_int_equal(sqt_int(path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'job_results_%'"), 1);

    db = (sq_db_t){.path = path, .busy_ms = 5000, .create = true};
    if (tempo__sq_db_ready(&db, &err) != TEMPO_OK)
        fail_msg("%s", err.message);
    assert_int_equal(db.version, 2);
    check_plans(&db, "migrated from version 1");
    tempo__sq_db_close(&db, true);
    assert_int_equal(sqt_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(sqt_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                   "('job_results_recent', 'job_results_schedule')"),
                     2);
    assert_int_equal(sqt_int(path, "SELECT count(*) FROM job_results"), 500);
    assert_int_equal(sqt_int(path, "SELECT count(*) FROM schedules"), 3000);
}

/* The check itself must be able to fail: a query on a column without an
 * index is caught. */
static void test_check_catches_a_scan(void **state)
{
    (void)state;
    sq_db_t db = {.path = sqt.path, .busy_ms = 5000, .create = true};
    tempo_error_t err;
    assert_int_equal(tempo__sq_db_ready(&db, &err), TEMPO_OK);
    char plan[2048];
    explain(&db, "SELECT id FROM schedules WHERE max_jitter > 5", plan, sizeof plan);
    assert_true(scans_a_table(plan));
    explain(&db, "SELECT id FROM jobs WHERE task_id = 'x' ORDER BY created_at", plan, sizeof plan);
    assert_non_null(strstr(plan, "TEMP B-TREE"));
    tempo__sq_db_close(&db, true);
}

int main(void)
{
    sqt_init("sqlite-plans");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_version_1_file_migrated),
        cmocka_unit_test(test_check_catches_a_scan),
    };
    int failed = cmocka_run_group_tests_name("sqlite store: query plans", tests, NULL, NULL);
    sqt_fini();
    return failed;
}
