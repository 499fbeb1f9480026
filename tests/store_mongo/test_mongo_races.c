/* What the MongoDB store's exactly-once rests on, against the server the
 * tests run on (FerretDB in ctest):
 *
 *   server_guarantees   the only atomic primitives the store uses — an insert
 *                       of an existing _id fails; of concurrent deletes of one
 *                       document exactly one reports it — hold under
 *                       concurrent clients. Conditional updates are also
 *                       raced and what the server did is printed: FerretDB
 *                       lets several "win" (mongo_lease.c avoids them).
 *   release_vs_takeover a holder releasing a lapsed schedule lease while
 *                       another process takes it over: one of them, never
 *                       both, for every schedule.
 *   release_vs_reap     a worker releasing jobs whose leases lapsed while
 *                       another process reaps them: each job ends once.
 *   second_copy         a job id that ran, made again (a stale release):
 *                       never run again, the copy deleted.
 *   stuck_claim         a claim whose maker died before writing its move is
 *                       made by the next acquirer that finds it stuck.
 *   stuck_claims_many   a whole batch of them (more than a store used to
 *                       remember): all made, none left stuck.
 *
 * Two store instances (two "processes": own offload threads and clients) on
 * one database, driven from one virtual loop; "at once" means both
 * operations are submitted before either answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop_internal.h"
#include "mongo_pair.h"
#include "mongo_test.h"
#include "store/records.h"
#include "store_harness.h"

#define NSTORES MT_PAIR_STORES
#define N 40
#define THREADS 8

static const char *uri;

typedef mt_pair_t pair_t;

static const char *const owners[NSTORES] = {"proc-a", "proc-b"};

static int setup(void **state)
{
    return mt_pair_setup(state, uri, "races");
}

static int teardown(void **state)
{
    return mt_pair_teardown(state);
}

/* ---- the server's guarantees ---- */

typedef struct racer {
    char db[64];
    int what; /* 0 insert, 1 delete, 2 conditional update */
    int round;
    bool won;
    pthread_barrier_t *go;
} racer_t;

/* A count of a write's reply (0 when absent); no cmocka asserts off the
 * main thread. */
static int64_t reply_count(const bson_t *reply, const char *field)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, reply, field) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
}

static void *race_one(void *arg)
{
    racer_t *r = arg;
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, r->db, "race");
    char id[32];
    snprintf(id, sizeof id, "doc%d", r->round);
    bson_t doc = BSON_INITIALIZER, reply;
    BSON_APPEND_UTF8(&doc, "_id", id);
    bson_error_t e;
    pthread_barrier_wait(r->go);
    if (r->what == 0) {
        BSON_APPEND_INT32(&doc, "fence", 0);
        r->won = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &e);
    } else if (r->what == 1) {
        r->won = mongoc_collection_delete_one(coll, &doc, NULL, &reply, &e) &&
                 reply_count(&reply, "deletedCount") == 1;
        bson_destroy(&reply);
    } else {
        bson_t update = BSON_INITIALIZER, set;
        BSON_APPEND_INT32(&doc, "fence", 0);
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        BSON_APPEND_INT32(&set, "fence", 1);
        bson_append_document_end(&update, &set);
        r->won = mongoc_collection_update_one(coll, &doc, &update, NULL, &reply, &e) &&
                 reply_count(&reply, "modifiedCount") == 1;
        bson_destroy(&reply);
        bson_destroy(&update);
    }
    bson_destroy(&doc);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    return NULL;
}

/* THREADS clients do `what` to one document at once; how many won. */
static int race(const char *db, int what, int round)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS);
    racer_t r[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer_t){.what = what, .round = round, .go = &go};
        snprintf(r[i].db, sizeof r[i].db, "%s", db);
        assert_int_equal(pthread_create(&t[i], NULL, race_one, &r[i]), 0);
    }
    int won = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        won += r[i].won;
    }
    pthread_barrier_destroy(&go);
    return won;
}

static void server_guarantees(void **state)
{
    (void)state;
    char db[64];
    mt_db_name("atomic", db, sizeof db);
    int rounds = 12, updates_won = 0, rounds_with_two = 0;
    for (int round = 0; round < rounds; round++) {
        assert_int_equal(race(db, 0, round), 1); /* one insert of the _id */
        int w = race(db, 2, round);              /* {_id, fence: 0} -> fence 1 */
        updates_won += w;
        rounds_with_two += w > 1;
        assert_true(w >= 1);
        assert_int_equal(race(db, 1, round), 1); /* one delete reports it */
    }
    printf("  conditional updates of one document by %d clients at once: %d reported a change in %d rounds "
           "(%d rounds with more than one; atomic servers: 0)\n",
           THREADS, updates_won, rounds, rounds_with_two);
    mt_drop(uri, db);
}

/* ---- helpers ---- */

static void add_schedules(pair_t *p)
{
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%03d", i);
        tempo_schedule_record_t s = sh_schedule(&p->h, id, SH_T0);
        assert_int_equal(sh_add_schedule(&p->h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    }
}

static void add_jobs(pair_t *p)
{
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "j%03d", i);
        tempo_job_record_t j = sh_job(id, "task-a", NULL, SH_T0 - N + i, SH_T0 - N);
        assert_int_equal(sh_add_job(&p->h, &j), TEMPO_OK);
    }
}

static int index_of(const char *id)
{
    int i = -1;
    if (sscanf(id + 1, "%d", &i) != 1 || i < 0 || i >= N)
        fail_msg("unexpected id '%s'", id);
    return i;
}

/* ---- schedules: a late release against a takeover ---- */

static void release_vs_takeover(void **state)
{
    pair_t *p = *state;
    add_schedules(p);
    sh_result_t r;
    assert_int_equal(sh_acquire_schedules(&p->h, owners[0], SH_T0, SH_SEC(10), N, &r), TEMPO_OK);
    assert_int_equal(r.count, N);
    sh_result_free(&r);
    /* At the lease's end, A releases everything and B takes over, at once. */
    tempo_schedule_release_t rel[N];
    char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "s%03d", i);
        rel[i] = (tempo_schedule_release_t){
            .id = ids[i], .fence = 1, .next_fire_time = SH_T0 + SH_SEC(600), .last_fire_time = SH_T0};
    }
    sh_result_t released = {0}, taken = {0};
    tempo_store_t *a = p->store[0], *b = p->store[1];
    tempo_time_t lapse = SH_T0 + SH_SEC(10);
    b->ops->acquire_schedules(b->self, owners[1], lapse, SH_SEC(10), N, sh_schedules_cb, &taken);
    a->ops->release_schedules(a->self, owners[0], rel, N, sh_status_cb, &released);
    sh_wait_calls(&p->h, (int *const[]){&released.calls, &taken.calls}, 2);
    assert_int_equal(released.status, TEMPO_OK);
    assert_int_equal(taken.status, TEMPO_OK);
    bool by_b[N] = {false};
    for (size_t k = 0; k < taken.count; k++) {
        by_b[index_of(taken.schedules[k].id)] = true;
        assert_int_equal(taken.schedules[k].lease.fence, 2);
        assert_int_equal(taken.schedules[k].next_fire_time, SH_T0); /* as A left it */
    }
    int by_a = 0;
    sh_result_t all;
    assert_int_equal(sh_get_schedules(&p->h, NULL, 0, &all), TEMPO_OK);
    assert_int_equal(all.count, N);
    for (size_t k = 0; k < all.count; k++) {
        const tempo_schedule_record_t *s = &all.schedules[k];
        int i = index_of(s->id);
        bool a_won = rel[i].status == TEMPO_OK;
        if (a_won == by_b[i])
            fail_msg("schedule %s: release %s and takeover %s", s->id, a_won ? "won" : "lost",
                     by_b[i] ? "won" : "lost");
        by_a += a_won;
        if (a_won) {
            assert_null(s->lease.owner);
            assert_int_equal(s->lease.fence, 1);
            assert_int_equal(s->next_fire_time, SH_T0 + SH_SEC(600));
        } else {
            assert_int_equal(rel[i].status, TEMPO_ELEASE);
            assert_string_equal(s->lease.owner, owners[1]);
            assert_int_equal(s->lease.fence, 2);
            assert_int_equal(s->next_fire_time, SH_T0);
        }
    }
    printf("  %d released by the lapsed holder, %zu taken over\n", by_a, taken.count);
    sh_result_free(&all);
    sh_result_free(&taken);
}

/* ---- jobs: a late release against reaping ---- */

static void release_vs_reap(void **state)
{
    pair_t *p = *state;
    add_jobs(p);
    tempo_task_record_t task = sh_task("task-a", 0);
    sh_result_t r;
    assert_int_equal(sh_acquire_jobs(&p->h, owners[0], SH_T0, SH_SEC(10), N, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, N);
    sh_result_free(&r);
    tempo_store_t *a = p->store[0], *b = p->store[1];
    tempo_time_t lapse = SH_T0 + SH_SEC(10);
    sh_result_t reaped = {0}, released[N];
    memset(released, 0, sizeof released);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, lapse);
    b->ops->reap_abandoned(b->self, lapse, sh_jobs_cb, &reaped);
    int *waits[N + 1];
    waits[0] = &reaped.calls;
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "j%03d", i);
        a->ops->release_job(a->self, owners[0], id, 1, &ok, sh_status_cb, &released[i]);
        waits[i + 1] = &released[i].calls;
    }
    sh_wait_calls(&p->h, waits, N + 1);
    assert_int_equal(reaped.status, TEMPO_OK);
    bool by_reaper[N] = {false};
    for (size_t k = 0; k < reaped.count; k++)
        by_reaper[index_of(reaped.jobs[k].id)] = true;
    int by_owner = 0;
    for (int i = 0; i < N; i++) {
        bool own = released[i].status == TEMPO_OK;
        if (own == by_reaper[i])
            fail_msg("job j%03d: released %s, reaped %s", i, own ? "yes" : "no", by_reaper[i] ? "yes" : "no");
        if (!own)
            assert_int_equal(released[i].status, TEMPO_ELEASE);
        by_owner += own;
    }
    printf("  %d released by their late owner, %zu reaped\n", by_owner, reaped.count);
    sh_result_free(&reaped);
    sh_result_t left;
    assert_int_equal(sh_get_jobs(&p->h, NULL, 0, &left), TEMPO_OK);
    assert_int_equal(left.count, 0);
    sh_result_free(&left);
}

/* ---- a job id made again after it ran ---- */

static void second_copy(void **state)
{
    pair_t *p = *state;
    tempo_task_record_t task = sh_task("task-a", 0);
    tempo_job_record_t j = sh_job("again", "task-a", NULL, SH_T0, SH_T0);
    assert_int_equal(sh_add_job(&p->h, &j), TEMPO_OK);
    sh_result_t r;
    assert_int_equal(sh_acquire_jobs(&p->h, owners[0], SH_T0, SH_SEC(10), 10, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    sh_result_free(&r);
    tempo_job_result_t ok = sh_outcome(TEMPO_OUTCOME_SUCCESS, SH_T0 + 1);
    assert_int_equal(sh_release_job(&p->h, owners[0], "again", 1, &ok), TEMPO_OK);
    /* The same job, made again (as a release by a lapsed schedule holder
     * does): it is never handed out again, and goes once found stuck. */
    assert_int_equal(sh_add_job(&p->h, &j), TEMPO_OK);
    tempo_time_t now = SH_T0 + SH_SEC(1);
    for (int round = 0; round < 3; round++, now += SH_SEC(6)) {
        for (int s = 0; s < NSTORES; s++) {
            store_h_t h = p->h;
            h.store = p->store[s];
            assert_int_equal(sh_acquire_jobs(&h, owners[s], now, SH_SEC(10), 10, &task, 1, &r), TEMPO_OK);
            assert_int_equal(r.count, 0);
            sh_result_free(&r);
        }
    }
    assert_false(sh_has_job(&p->h, "again"));
}

/* ---- a claim whose maker died ---- */

/* The claim of schedule `sid`'s first state by a process that died before
 * writing its lease (until T0 + 5 s). */
static void ghost_claim(pair_t *p, const char *sid)
{
    mongoc_client_t *client = mt_client(uri);
    mongoc_collection_t *scheds = mongoc_client_get_collection(client, p->db, "tempo_schedules");
    mongoc_collection_t *claims = mongoc_client_get_collection(client, p->db, "tempo_claims");
    bson_t q = BSON_INITIALIZER, claim = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&q, "_id", sid);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(scheds, &q, NULL, NULL);
    const bson_t *doc;
    assert_true(mongoc_cursor_next(cur, &doc));
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, doc, "inc"));
    char hex[25], id[80];
    bson_oid_to_string(bson_iter_oid(&it), hex);
    snprintf(id, sizeof id, "s:%s:0:%lld", hex, (long long)TEMPO_TIME_NONE);
    BSON_APPEND_UTF8(&claim, "_id", id);
    BSON_APPEND_INT64(&claim, "at", SH_T0 - SH_SEC(1));
    BSON_APPEND_OID(&claim, "inc", bson_iter_oid(&it));
    BSON_APPEND_DOCUMENT_BEGIN(&claim, "set", &set);
    BSON_APPEND_UTF8(&set, "owner", "ghost");
    BSON_APPEND_INT64(&set, "until", SH_T0 + SH_SEC(5));
    BSON_APPEND_INT64(&set, "fence", 1);
    bson_append_document_end(&claim, &set);
    bson_error_t e;
    assert_true(mongoc_collection_insert_one(claims, &claim, NULL, NULL, &e));
    mongoc_cursor_destroy(cur);
    bson_destroy(&claim);
    bson_destroy(&q);
    mongoc_collection_destroy(claims);
    mongoc_collection_destroy(scheds);
    mongoc_client_destroy(client);
}

static void stuck_claim(void **state)
{
    pair_t *p = *state;
    tempo_schedule_record_t s = sh_schedule(&p->h, "s", SH_T0);
    assert_int_equal(sh_add_schedule(&p->h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    ghost_claim(p, "s");
    sh_result_t r;
    /* Found taken: skipped; still taken MG_STUCK later: made for the ghost,
     * whose lease has lapsed by then — and taken over at once after. */
    assert_int_equal(sh_acquire_schedules(&p->h, owners[0], SH_T0, SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_acquire_schedules(&p->h, owners[0], SH_T0 + SH_SEC(11), SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    tempo_schedule_record_t got;
    assert_true(sh_find_schedule(&p->h, "s", &got));
    assert_string_equal(got.lease.owner, "ghost");
    assert_int_equal(got.lease.fence, 1);
    tempo__schedule_record_clear(&got);
    assert_int_equal(sh_acquire_schedules(&p->h, owners[0], SH_T0 + SH_SEC(11), SH_SEC(10), 10, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].lease.owner, owners[0]);
    assert_int_equal(r.schedules[0].lease.fence, 2);
    sh_result_free(&r);
}

/* A maker that stalled over a whole batch leaves as many stuck claims as
 * the batch had schedules: every one is made for it MG_STUCK later, and the
 * schedules are acquired again once its leases lapse. */
static void stuck_claims_many(void **state)
{
    pair_t *p = *state;
    enum { MANY = 100 };
    for (int i = 0; i < MANY; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%03d", i);
        tempo_schedule_record_t s = sh_schedule(&p->h, id, SH_T0);
        assert_int_equal(sh_add_schedule(&p->h, &s, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
        ghost_claim(p, id);
    }
    sh_result_t r;
    /* Found taken from T0 on, made for the ghost at T0 + 10 s. */
    static const int at[] = {0, 3, 6, 9, 10};
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        tempo_time_t now = SH_T0 + SH_SEC(at[k]);
        assert_int_equal(sh_acquire_schedules(&p->h, owners[0], now, SH_SEC(10), MANY, &r), TEMPO_OK);
        assert_int_equal(r.count, 0);
        sh_result_free(&r);
    }
    assert_int_equal(sh_acquire_schedules(&p->h, owners[0], SH_T0 + SH_SEC(11), SH_SEC(10), MANY, &r), TEMPO_OK);
    assert_int_equal(r.count, MANY);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(r.schedules[i].lease.fence, 2);
    sh_result_free(&r);
}

int main(void)
{
    uri = mt_uri();
    static const tempo_store_factory_t factory = {.name = "mongodb (races)"};
    sh_factory = &factory;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_guarantees),
        cmocka_unit_test_setup_teardown(release_vs_takeover, setup, teardown),
        cmocka_unit_test_setup_teardown(release_vs_reap, setup, teardown),
        cmocka_unit_test_setup_teardown(second_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(stuck_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(stuck_claims_many, setup, teardown),
    };
    return cmocka_run_group_tests_name("mongodb store: races across processes", tests, NULL, NULL);
}
