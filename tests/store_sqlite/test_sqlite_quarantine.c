/* Records the SQLite store cannot decode (issue 5), beyond the conformance
 * cases (which go through acquisition): met by a read (get_*), by a task
 * list, by a release; faults of every kind (not BSON, an unknown trigger
 * type, a column of the wrong type, a value add_* would refuse); the row
 * kept whole in `quarantine`; its id free again; and a second connection
 * that meets the same row later reports nothing (the row left its table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_test.h"
#include "store/records.h"

/* ---- reports ---- */

typedef struct report {
    char kind[16], id[64], reason[TEMPO_ERROR_MESSAGE_MAX];
    int seq;
} report_t;

static report_t reports[8];
static int report_count;

static void on_quarantine(void *ud, const char *kind, const char *id, const char *reason)
{
    (void)ud;
    assert_false(sh_in_call);
    if (report_count < 8) {
        report_t *r = &reports[report_count];
        snprintf(r->kind, sizeof r->kind, "%s", kind);
        snprintf(r->id, sizeof r->id, "%s", id);
        snprintf(r->reason, sizeof r->reason, "%s", reason);
        r->seq = sh_seq;
    }
    report_count++;
}

static int setup(void **state)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "q%d.db", ++n);
    sqt_use(name);
    int rc = sh_setup(state);
    store_h_t *h = *state;
    h->store->ops->set_quarantine_cb(h->store->self, on_quarantine, NULL);
    report_count = 0;
    return rc;
}

/* One report of `kind` `id` whose reason holds `why`, before the callback
 * numbered `seq`. */
static void expect_report(const char *kind, const char *id, const char *why, int seq)
{
    assert_int_equal(report_count, 1);
    assert_string_equal(reports[0].kind, kind);
    assert_string_equal(reports[0].id, id);
    if (!strstr(reports[0].reason, why))
        fail_msg("the reason lacks '%s': %s", why, reports[0].reason);
    assert_true(reports[0].seq < seq);
    report_count = 0;
}

static void side(const char *sql)
{
    assert_true(sqt_exec(sqt.path, sql));
}

/* A blob bound as ?1 (and text as ?2) into `sql` through the side door. */
static void side_blob(const char *sql, const uint8_t *data, size_t len, const char *id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(sqt.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, data, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void add_schedules(store_h_t *h, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tempo_schedule_record_t s = sh_schedule(h, ids[i], SH_T0 - SH_SEC(1));
        assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
}

static const char *ids_of(const sh_result_t *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
                                 r->schedules ? r->schedules[i].id
                                 : r->jobs    ? r->jobs[i].id
                                              : r->tasks[i].id);
    return buf;
}

/* ---- cases ---- */

/* get_schedules meets it: answers without it, reports it first; the row
 * is in `quarantine`, whole; later reads say nothing more. */
static void test_met_by_a_read(void **state)
{
    store_h_t *h = *state;
    add_schedules(h, (const char *[]){"a", "bad", "c"}, 3);
    side("UPDATE schedules SET trigger_doc = x'0102030405' WHERE id = 'bad'");
    sh_result_t r;
    char buf[64];
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "a c");
    expect_report("schedule", "bad", "field 'trigger_doc'", r.seq);
    sh_result_free(&r);
    assert_int_equal(sh_get_schedules(h, (const char *[]){"bad", "c"}, 2, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "c");
    assert_int_equal(report_count, 0);
    sh_result_free(&r);
    /* Kept whole: every column, the damaged bytes as they were. */
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM quarantine WHERE kind = 'schedule' AND id = 'bad' "
                                       "AND reason LIKE '%trigger_doc%' AND quarantined_at > 0"),
                     1);
    assert_int_equal(sqt_int(sqt.path, "SELECT length(record) > 100 FROM quarantine"), 1);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM schedules WHERE id = 'bad'"), 0);
    /* The record document: a field per column. */
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(sqt.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT record FROM quarantine", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    bson_t doc;
    assert_true(bson_init_static(&doc, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0)));
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, &doc, "id") && BSON_ITER_HOLDS_UTF8(&it));
    assert_string_equal(bson_iter_utf8(&it, NULL), "bad");
    assert_true(bson_iter_init_find(&it, &doc, "trigger_doc") && BSON_ITER_HOLDS_BINARY(&it));
    uint32_t len = 0;
    const uint8_t *bytes = NULL;
    bson_iter_binary(&it, NULL, &len, &bytes);
    assert_int_equal(len, 5);
    assert_memory_equal(bytes, "\x01\x02\x03\x04\x05", 5);
    assert_true(bson_iter_init_find(&it, &doc, "next_fire_time") && BSON_ITER_HOLDS_INT64(&it));
    assert_int_equal(bson_iter_int64(&it), SH_T0 - SH_SEC(1));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    /* The id is free for a new record; the old one stays set aside. */
    tempo_store_added_t added;
    tempo_schedule_record_t s = sh_schedule(h, "bad", SH_T0);
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, &added), TEMPO_OK);
    assert_int_equal(added, TEMPO_STORE_ADDED);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM quarantine"), 1);
}

/* Faults of each kind, each named in the reason. */
static void test_fault_kinds(void **state)
{
    store_h_t *h = *state;
    add_schedules(h, (const char *[]){"not-bson", "unknown-type", "text-time", "bad-coalesce", "no-task", "ok"},
                  6);
    side("UPDATE schedules SET args = x'00' WHERE id = 'not-bson'");
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "type", "sunrise");
    BSON_APPEND_INT32(&doc, "v", 1);
    side_blob("UPDATE schedules SET trigger_doc = ?1 WHERE id = ?2", bson_get_data(&doc), doc.len,
              "unknown-type");
    bson_destroy(&doc);
    side("UPDATE schedules SET next_fire_time = 'soon' WHERE id = 'text-time'");
    side("UPDATE schedules SET coalesce_policy = 17 WHERE id = 'bad-coalesce'");
    side("UPDATE schedules SET task_id = '' WHERE id = 'no-task'");
    static const struct {
        const char *id, *why;
    } expected[] = {
        {"bad-coalesce", "coalesce 17"},
        {"no-task", "task_id is empty"},
        {"not-bson", "field 'args'"},
        {"text-time", "field 'next_fire_time' is text, not an integer"},
        {"unknown-type", "sunrise"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        sh_result_t r;
        assert_int_equal(sh_get_schedules(h, &expected[i].id, 1, &r), TEMPO_OK);
        assert_int_equal(r.count, 0);
        expect_report("schedule", expected[i].id, expected[i].why, r.seq);
        sh_result_free(&r);
    }
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "ok");
    assert_int_equal(report_count, 0);
    sh_result_free(&r);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM quarantine"), 5);
}

static void test_tasks_and_jobs(void **state)
{
    store_h_t *h = *state;
    tempo_task_record_t t1 = sh_task("t1", 1), t2 = sh_task("t2", 2);
    assert_int_equal(sh_add_task(h, &t1), TEMPO_OK);
    assert_int_equal(sh_add_task(h, &t2), TEMPO_OK);
    side("UPDATE tasks SET executor = 9 WHERE id = 't2'");
    sh_result_t r;
    char buf[64];
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "t1");
    expect_report("task", "t2", "executor 9", r.seq);
    sh_result_free(&r);

    tempo_job_record_t j1 = sh_job("j1", "task-a", NULL, SH_T0, SH_T0);
    tempo_job_record_t j2 = sh_job("j2", "task-a", NULL, SH_T0, SH_T0);
    assert_int_equal(sh_add_job(h, &j1), TEMPO_OK);
    assert_int_equal(sh_add_job(h, &j2), TEMPO_OK);
    side("UPDATE jobs SET created_at = 'yesterday' WHERE id = 'j2'");
    assert_int_equal(sh_get_jobs(h, (const char *[]){"j1", "j2"}, 2, &r), TEMPO_OK);
    assert_string_equal(ids_of(&r, buf, sizeof buf), "j1");
    expect_report("job", "j2", "field 'created_at' is text", r.seq);
    sh_result_free(&r);
    assert_int_equal(sh_next_job_time(h), SH_T0); /* j1 only */
}

/* A held job damaged while it runs: its release is refused (nobody holds
 * a record that cannot be read), and it is set aside, reported. */
static void test_release_of_a_damaged_job(void **state)
{
    store_h_t *h = *state;
    tempo_job_record_t j = sh_job("j", "task-a", NULL, SH_T0, SH_T0);
    j.result_expiration = SH_SEC(60);
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
    tempo_task_record_t task = sh_task("task-a", 0);
    assert_int_equal(sh_acquire_jobs(h, "w", SH_T0, SH_SEC(30), 1, &task, 1, NULL), TEMPO_OK);
    side("UPDATE jobs SET args = x'ffffffff' WHERE id = 'j'");
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + 1);
    sh_result_t r = {0};
    sh_in_call = true;
    h->store->ops->release_job(h->store->self, "w", "j", 1, &ok, sh_status_cb, &r);
    sh_in_call = false;
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    assert_int_equal(r.status, TEMPO_ELEASE);
    assert_non_null(strstr(r.message, "set aside"));
    expect_report("job", "j", "field 'args'", r.seq);
    assert_int_equal(sh_get_job_result(h, "j", NULL), TEMPO_ENOTFOUND);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM quarantine WHERE kind = 'job'"), 1);
}

static int other_reports;

static void count_report(void *ud, const char *kind, const char *id, const char *reason)
{
    (void)kind, (void)id, (void)reason;
    (*(int *)ud)++;
}

/* Two connections (as two processes): the one that meets the row first
 * sets it aside and reports it; the other finds nothing to report. */
static void test_reported_once_across_connections(void **state)
{
    store_h_t *h = *state;
    add_schedules(h, (const char *[]){"bad", "good"}, 2);
    tempo_store_t *other = sqt_make(NULL);
    assert_non_null(other);
    tempo_error_t err;
    assert_int_equal(other->ops->start(other->self, h->loop, &err), TEMPO_OK);
    other->ops->set_quarantine_cb(other->self, count_report, &other_reports);
    side("UPDATE schedules SET trigger_doc = x'00' WHERE id = 'bad'");
    sh_result_t r = {0};
    other->ops->acquire_schedules(other->self, "w-other", SH_T0, SH_SEC(30), 10, sh_schedules_cb, &r);
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    assert_int_equal(r.status, TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(other_reports, 1);
    sh_result_free(&r);
    /* Ours meets nothing left to report. */
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(report_count, 0);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM quarantine"), 1);
    memset(&r, 0, sizeof r);
    other->ops->stop(other->self, sh_status_cb, &r);
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    tempo_store_free(other);
}

int main(void)
{
    sqt_init("sqlite-quarantine");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_met_by_a_read, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_fault_kinds, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_tasks_and_jobs, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_release_of_a_damaged_job, setup, sh_teardown),
        cmocka_unit_test_setup_teardown(test_reported_once_across_connections, setup, sh_teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite store: quarantine", tests, NULL, NULL);
    sqt_fini();
    return failed;
}
