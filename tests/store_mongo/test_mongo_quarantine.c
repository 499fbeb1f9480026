/* Undecodable records in the MongoDB store: set aside (moved to the
 * quarantine collection, never deleted), reported once — before the
 * callback of the operation that met them — and skipped from then on by
 * every operation. Runs on the conformance harness (store_harness.h), with
 * the same corrupt/quarantined hooks as the conformance runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mongo_test.h"
#include "store/records.h"
#include "store_harness.h"

static const char *uri;
static char db[64];

static tempo_store_t *make(void *ctx)
{
    (void)ctx;
    mt_db_name("quarantine", db, sizeof db);
    return mt_store(uri, db);
}

static void cleanup(void *ctx)
{
    (void)ctx;
    mt_drop(uri, db);
}

#define IDS(...) ((const char *const[]){__VA_ARGS__})

static void add_due(store_h_t *h, const char *id)
{
    tempo_schedule_record_t s = sh_schedule(h, id, SH_T0 - SH_SEC(1));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
}

static void check_one_report(const char *kind, const char *id, const char *field, int before_seq)
{
    assert_int_equal(sh_report_count, 1);
    assert_string_equal(sh_reports[0].kind, kind);
    assert_string_equal(sh_reports[0].id, id);
    if (!strstr(sh_reports[0].reason, field))
        fail_msg("reason '%s' does not name field '%s'", sh_reports[0].reason, field);
    assert_true(sh_reports[0].seq < before_seq);
}

/* The scenario of the suite's decode-failure cases, for schedules. */
static void schedule_met_by_acquire(void **state)
{
    store_h_t *h = *state;
    add_due(h, "good");
    add_due(h, "bad");
    assert_true(mt_corrupt(uri, db, "schedule", "bad"));
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(h, "w1", SH_T0, SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "good");
    check_one_report("schedule", "bad", "trigger", r.seq);
    sh_result_free(&r);
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "good");
    sh_result_free(&r);
    /* "good" is held until T0+30; "bad" (due at T0-1) does not count. */
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(30));
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(60), SH_SEC(30), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(sh_report_count, 1); /* not reported again */
    assert_true(mt_quarantined(uri, db, "schedule", "bad"));
    /* The id is free again: adding it makes a new record, the quarantined
     * copy stays. */
    tempo_store_added_t what;
    tempo_schedule_record_t s = sh_schedule(h, "bad", SH_T0 + SH_SEC(600));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_REPLACE, &what), TEMPO_OK);
    assert_int_equal(what, TEMPO_STORE_ADDED);
    assert_true(sh_has_schedule(h, "bad"));
}

/* The first operation to read a bad record reports it, whatever it is. */
static void schedule_met_by_get(void **state)
{
    store_h_t *h = *state;
    add_due(h, "a");
    add_due(h, "b");
    add_due(h, "c");
    assert_true(mt_corrupt(uri, db, "schedule", "b"));
    sh_result_t r;
    assert_int_equal(sh_get_schedules(h, IDS("a", "b", "c"), 3, &r), TEMPO_OK);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.schedules[0].id, "a");
    assert_string_equal(r.schedules[1].id, "c");
    check_one_report("schedule", "b", "trigger", r.seq);
    sh_result_free(&r);
    assert_false(sh_has_schedule(h, "b"));
    assert_int_equal(sh_report_count, 1);
    assert_true(mt_quarantined(uri, db, "schedule", "b"));
}

/* next_schedule_time meets it too (it reads whole records). */
static void schedule_met_by_next_time(void **state)
{
    store_h_t *h = *state;
    tempo_schedule_record_t s = sh_schedule(h, "early", SH_T0);
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    s = sh_schedule(h, "late", SH_T0 + SH_SEC(5));
    assert_int_equal(sh_add_schedule(h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    assert_true(mt_corrupt(uri, db, "schedule", "early"));
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(5));
    assert_int_equal(sh_report_count, 1);
    assert_string_equal(sh_reports[0].id, "early");
}

static void add_job(const char *id, store_h_t *h)
{
    tempo_job_record_t j = sh_job(id, "task-a", NULL, SH_T0 - SH_SEC(1), SH_T0 - SH_SEC(2));
    assert_int_equal(sh_add_job(h, &j), TEMPO_OK);
}

static void job_met_by_acquire(void **state)
{
    store_h_t *h = *state;
    add_job("bad", h);
    add_job("good", h);
    assert_true(mt_corrupt(uri, db, "job", "bad"));
    tempo_task_record_t task = sh_task("task-a", 0);
    sh_result_t r;
    assert_int_equal(sh_acquire_jobs(h, "w1", SH_T0, SH_SEC(30), 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    check_one_report("job", "bad", "args", r.seq);
    sh_result_free(&r);
    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    sh_result_free(&r);
    assert_int_equal(sh_next_job_time(h), TEMPO_TIME_NONE); /* good is held */
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(60), &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    sh_result_free(&r);
    assert_int_equal(sh_report_count, 1);
    assert_true(mt_quarantined(uri, db, "job", "bad"));
}

/* A record written by a newer version: its format is refused by name. */
static void task_of_a_newer_format(void **state)
{
    store_h_t *h = *state;
    tempo_task_record_t a = sh_task("task-a", 1), b = sh_task("task-b", 2);
    assert_int_equal(sh_add_task(h, &a), TEMPO_OK);
    assert_int_equal(sh_add_task(h, &b), TEMPO_OK);
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, "tempo_tasks");
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&filter, "_id", "task-b");
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_INT32(&set, "v", 99);
    bson_append_document_end(&update, &set);
    assert_true(mongoc_collection_update_one(coll, &filter, &update, NULL, NULL, NULL));
    bson_destroy(&filter);
    bson_destroy(&update);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.tasks[0].id, "task-a");
    check_one_report("task", "task-b", "newer version", r.seq);
    sh_result_free(&r);
}

int main(void)
{
    uri = mt_uri();
    static tempo_store_factory_t factory = {.name = "mongodb quarantine", .make = make, .cleanup = cleanup};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schedule_met_by_acquire, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(schedule_met_by_get, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(schedule_met_by_next_time, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(job_met_by_acquire, sh_setup, sh_teardown),
        cmocka_unit_test_setup_teardown(task_of_a_newer_format, sh_setup, sh_teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: quarantine", tests, NULL, NULL);
}
