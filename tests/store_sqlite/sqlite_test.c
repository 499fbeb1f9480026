/* Helpers of the SQLite store's own tests (sqlite_test.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_test.h"
#include "store/records.h"

sqt_t sqt;

static tempo_store_factory_t factory = {.name = "sqlite", .make = sqt_make};

void sqt_init(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(sqt.dir, sizeof sqt.dir, "%s/tempo-%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
    if (!mkdtemp(sqt.dir)) {
        perror("mkdtemp");
        exit(1);
    }
    sqt_use("store.db");
    sqt.options = (tempo_sqlite_options_t)TEMPO_SQLITE_OPTIONS_INIT;
    factory.name = name;
    sh_factory = &factory;
}

/* Depth first; the tests make a few files and at most a level of
 * directories. */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d)
            closedir(d);
        chmod(path, 0700);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void sqt_fini(void)
{
    if (sqt.dir[0])
        remove_tree(sqt.dir);
    sqt.dir[0] = '\0';
}

const char *sqt_file(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", sqt.dir, name);
    return buf;
}

const char *sqt_use(const char *name)
{
    return sqt_file(name, sqt.path, sizeof sqt.path);
}

tempo_store_t *sqt_make(void *ctx)
{
    (void)ctx;
    tempo_store_t *store = NULL;
    tempo_error_t err;
    if (tempo_sqlite_store_new(sqt.path, &sqt.options, &store, &err) != TEMPO_OK) {
        fprintf(stderr, "tempo_sqlite_store_new('%s'): %s\n", sqt.path, err.message);
        return NULL;
    }
    return store;
}

void sqt_close(store_h_t *h)
{
    sh_result_t r = {0};
    h->store->ops->stop(h->store->self, sh_status_cb, &r);
    sh_wait_calls(h, (int *const[]){&r.calls}, 1);
    assert_int_equal(r.status, TEMPO_OK);
    tempo_store_free(h->store);
    h->store = NULL;
}

void sqt_open(store_h_t *h)
{
    h->store = sqt_make(NULL);
    assert_non_null(h->store);
    tempo_error_t err;
    assert_int_equal(h->store->ops->start(h->store->self, h->loop, &err), TEMPO_OK);
}

void sqt_reopen(store_h_t *h)
{
    sqt_close(h);
    sqt_open(h);
}

static sqlite3 *open_side(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "side door: cannot open '%s': %s\n", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

bool sqt_exec(const char *path, const char *sql)
{
    sqlite3 *db = open_side(path);
    char *msg = NULL;
    bool ok = db && sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
    if (db && !ok)
        fprintf(stderr, "side door: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return ok;
}

int64_t sqt_int(const char *path, const char *sql)
{
    sqlite3 *db = open_side(path);
    sqlite3_stmt *stmt = NULL;
    int64_t v = INT64_MIN;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    else if (db)
        fprintf(stderr, "side door: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

void sqt_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* ---- for forked children ---- */

static void wait_enter(sqt_wait_t *w, tempo_status_t status, const tempo_error_t *err)
{
    w->calls++;
    w->status = status;
    snprintf(w->message, sizeof w->message, "%s", status != TEMPO_OK && err ? err->message : "");
}

void sqt_wait_status_cb(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    wait_enter(ud, status, err);
}

void sqt_wait_schedules_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                           const tempo_schedule_record_t *recs, size_t count)
{
    sqt_wait_t *w = ud;
    wait_enter(w, status, err);
    if (tempo__schedule_records_dup(recs, count, &w->schedules, NULL) == TEMPO_OK)
        w->count = count;
}

void sqt_wait_jobs_cb(void *ud, tempo_status_t status, const tempo_error_t *err,
                      const tempo_job_record_t *recs, size_t count)
{
    sqt_wait_t *w = ud;
    wait_enter(w, status, err);
    if (tempo__job_records_dup(recs, count, &w->jobs, NULL) == TEMPO_OK)
        w->count = count;
}

bool sqt_wait(tempo_vloop_t *vloop, sqt_wait_t *w)
{
    tempo_vloop_run(vloop);
    for (int waited = 0; w->calls == 0 && waited < 20000; waited += 50)
        tempo_vloop_wait(vloop, 50);
    return w->calls == 1;
}

void sqt_wait_free(sqt_wait_t *w)
{
    tempo__schedule_records_free(w->schedules, w->schedules ? w->count : 0);
    tempo__job_records_free(w->jobs, w->jobs ? w->count : 0);
    memset(w, 0, sizeof *w);
}
