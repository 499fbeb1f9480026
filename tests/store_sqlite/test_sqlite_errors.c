/* The SQLite store when the file is not what it should be (issue 5).
 *
 * A path that cannot be opened or created, a file that is not a database,
 * a directory, another application's database, a lock held too long: each
 * fails the operation — never the loop thread, never start() — with a
 * message naming the file and SQLite's reason, and the store keeps working
 * once the cause goes away (the next operation opens the file again). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_test.h"
#include "store/records.h"

static void expect_failure(store_h_t *h, tempo_status_t code, const char *const *parts)
{
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), code);
    print_message("  %s\n", r.message);
    for (size_t i = 0; parts[i]; i++)
        if (!strstr(r.message, parts[i]))
            fail_msg("message lacks '%s': %s", parts[i], r.message);
    sh_result_free(&r);
}

static void expect_working(store_h_t *h)
{
    tempo_task_record_t task = sh_task("task-a", 1);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
    sh_result_t r;
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
}

/* ---- the constructor refuses bad arguments at once ---- */

static void test_bad_arguments(void **state)
{
    (void)state;
    tempo_store_t *store = (tempo_store_t *)1;
    tempo_error_t err;
    assert_int_equal(tempo_sqlite_store_new(NULL, NULL, &store, &err), TEMPO_EINVAL);
    assert_null(store);
    assert_int_equal(tempo_sqlite_store_new("", NULL, &store, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_sqlite_store_new(":memory:", NULL, &store, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "memory store"));
    assert_int_equal(tempo_sqlite_store_new("x.db", NULL, NULL, &err), TEMPO_EINVAL);
    tempo_sqlite_options_t o = TEMPO_SQLITE_OPTIONS_INIT;
    o.busy_timeout = -1;
    assert_int_equal(tempo_sqlite_store_new("x.db", &o, &store, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "busy_timeout"));
    o = (tempo_sqlite_options_t)TEMPO_SQLITE_OPTIONS_INIT;
    o.size = sizeof o + 8; /* a newer header than this library */
    assert_int_equal(tempo_sqlite_store_new("x.db", &o, &store, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "options.size"));
    assert_int_equal(tempo_sqlite_schema_version(), 2);
    /* An older caller's smaller options keep the defaults of the rest. */
    o.size = offsetof(tempo_sqlite_options_t, create);
    assert_int_equal(tempo_sqlite_store_new("x.db", &o, &store, &err), TEMPO_OK);
    tempo_store_free(store);
}

/* ---- the file ---- */

static void test_missing_directory(void **state)
{
    store_h_t *h = *state;
    char missing[512];
    sqt_file("later", missing, sizeof missing);
    assert_false(access(missing, F_OK) == 0);
    expect_failure(h, TEMPO_EIO,
                   (const char *[]){"store 'sqlite': get_tasks", sqt.path, "unable to open", NULL});
    /* Still failing, still answering: no operation waits for the file. */
    tempo_task_record_t task = sh_task("task-a", 1);
    assert_int_equal(sh_add_task(h, &task), TEMPO_EIO);
    /* The cause goes away: the next operation opens the file. */
    assert_int_equal(mkdir(missing, 0700), 0);
    expect_working(h);
}

static int setup_missing_directory(void **state)
{
    sqt_use("later/store.db");
    return sh_setup(state);
}

static void test_not_a_database(void **state)
{
    store_h_t *h = *state;
    expect_failure(h, TEMPO_EIO, (const char *[]){sqt.path, "not a database", NULL});
    /* Emptied, the file is a database again (an empty one). */
    sqt_write_file(sqt.path, "");
    expect_working(h);
    assert_int_equal(sqt_int(sqt.path, "PRAGMA user_version"), tempo_sqlite_schema_version());
}

static int setup_not_a_database(void **state)
{
    sqt_use("text.db");
    char text[8192];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    sqt_write_file(sqt.path, text);
    return sh_setup(state);
}

static void test_directory(void **state)
{
    store_h_t *h = *state;
    expect_failure(h, TEMPO_EIO, (const char *[]){sqt.path, NULL});
}

static int setup_directory(void **state)
{
    sqt_use("a-directory");
    assert_int_equal(mkdir(sqt.path, 0700), 0);
    return sh_setup(state);
}

/* create = false: a missing file is an error, until someone creates it. */
static void test_no_create(void **state)
{
    store_h_t *h = *state;
    expect_failure(h, TEMPO_EIO, (const char *[]){sqt.path, "cannot open it", NULL});
    assert_false(access(sqt.path, F_OK) == 0); /* not created behind our back */
    sqt.options.create = true;
    tempo_store_t *creator = sqt_make(NULL);
    assert_non_null(creator);
    tempo_error_t err;
    assert_int_equal(creator->ops->start(creator->self, h->loop, &err), TEMPO_OK);
    sh_result_t r = {0};
    creator->ops->get_tasks(creator->self, NULL, NULL); /* opens (and creates) the file */
    creator->ops->stop(creator->self, sh_status_cb, &r);
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    tempo_store_free(creator);
    expect_working(h);
}

static int setup_no_create(void **state)
{
    sqt_use("not-yet.db");
    sqt.options.create = false;
    return sh_setup(state);
}

static int teardown_options(void **state)
{
    sqt.options = (tempo_sqlite_options_t)TEMPO_SQLITE_OPTIONS_INIT;
    return sh_teardown(state);
}

/* Another program's database is never written to. */
static void test_foreign_database(void **state)
{
    store_h_t *h = *state;
    expect_failure(h, TEMPO_ESTORE, (const char *[]){sqt.path, "not a tempo database", NULL});
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM sqlite_schema"), 1);
    assert_int_equal(sqt_int(sqt.path, "SELECT count(*) FROM photos"), 1);
}

static int setup_foreign_database(void **state)
{
    sqt_use("photos.db");
    assert_true(sqt_exec(sqt.path, "CREATE TABLE photos(name TEXT); INSERT INTO photos VALUES('cat.jpg')"));
    return sh_setup(state);
}

static void test_foreign_application_id(void **state)
{
    store_h_t *h = *state;
    expect_failure(h, TEMPO_ESTORE, (const char *[]){sqt.path, "application_id 0x12345678", NULL});
}

static int setup_foreign_application_id(void **state)
{
    sqt_use("other-app.db");
    assert_true(sqt_exec(sqt.path, "PRAGMA application_id = 305419896")); /* 0x12345678 */
    return sh_setup(state);
}

/* A write lock held longer than busy_timeout: TEMPO_ETIMEOUT after
 * waiting that long on the store's thread (the call itself returned at
 * once); readers are not blocked meanwhile (WAL); and once the lock is
 * gone, writing works. */
static void test_busy(void **state)
{
    store_h_t *h = *state;
    expect_working(h);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(sqt.path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    tempo_task_record_t task = sh_task("task-b", 2);
    sh_result_t r = {0};
    sh_in_call = true;
    h->store->ops->add_task(h->store->self, &task, sh_status_cb, &r);
    sh_in_call = false;
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    assert_int_equal(r.status, TEMPO_ETIMEOUT);
    assert_non_null(strstr(r.message, "busy_timeout"));
    assert_non_null(strstr(r.message, sqt.path));
    assert_int_equal(sh_get_tasks(h, &r), TEMPO_OK); /* a reader beside the writer */
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* destroy() while an operation waits for another connection's lock: the
 * wait is cut short (it would last busy_timeout, 20 s here), the callback
 * never runs, nothing is left on the loop (sh_teardown checks). */
static void test_destroy_while_waiting(void **state)
{
    store_h_t *h = *state;
    expect_working(h);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(sqt.path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    tempo_task_record_t task = sh_task("task-b", 2);
    sh_result_t r = {0};
    h->store->ops->add_task(h->store->self, &task, sh_status_cb, &r);
    int64_t t0 = mono_ms();
    tempo_store_free(h->store);
    h->store = NULL;
    int64_t took = mono_ms() - t0;
    print_message("  destroy took %lld ms (busy_timeout 20000 ms)\n", (long long)took);
    assert_true(took < 5000);
    tempo_vloop_advance(h->vloop, SH_SEC(60));
    assert_int_equal(r.calls, 0);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
}

static int setup_slow_busy(void **state)
{
    sqt_use("slow-busy.db");
    sqt.options.busy_timeout = TEMPO_SECONDS(20);
    return sh_setup(state);
}

static int setup_busy(void **state)
{
    sqt_use("busy.db");
    sqt.options.busy_timeout = TEMPO_MILLISECONDS(50);
    return sh_setup(state);
}

/* Not writable: EIO naming the file; writable again: working. (root
 * writes to read-only files anyway: then only the second half runs.) */
static void test_read_only(void **state)
{
    store_h_t *h = *state;
    expect_working(h);
    assert_int_equal(chmod(sqt.path, 0400), 0);
    sqt_reopen(h); /* a fresh connection, which finds the file read-only */
    tempo_task_record_t task = sh_task("task-c", 1);
    tempo_status_t rc = sh_add_task(h, &task);
    if (geteuid() != 0)
        assert_int_equal(rc, TEMPO_EIO);
    else
        print_message("(running as root: read-only files are writable, the refusal is not checked)\n");
    assert_int_equal(chmod(sqt.path, 0600), 0);
    assert_int_equal(sh_add_task(h, &task), TEMPO_OK);
}

static int setup_read_only(void **state)
{
    sqt_use("read-only.db");
    return sh_setup(state);
}

int main(void)
{
    sqt_init("sqlite-errors");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test_setup_teardown(test_missing_directory, setup_missing_directory, sh_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup_not_a_database, sh_teardown),
        cmocka_unit_test_setup_teardown(test_directory, setup_directory, sh_teardown),
        cmocka_unit_test_setup_teardown(test_no_create, setup_no_create, teardown_options),
        cmocka_unit_test_setup_teardown(test_foreign_database, setup_foreign_database, sh_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_application_id, setup_foreign_application_id,
                                        sh_teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup_busy, teardown_options),
        cmocka_unit_test_setup_teardown(test_destroy_while_waiting, setup_slow_busy, teardown_options),
        cmocka_unit_test_setup_teardown(test_read_only, setup_read_only, sh_teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite store: errors", tests, NULL, NULL);
    sqt_fini();
    return failed;
}
