/* Two store instances ("processes": own offload threads and clients) on one
 * fresh database, driven from one virtual loop — the fixture of the tests
 * that race two stores (test_mongo_concurrent, test_mongo_races). */
#ifndef TEMPO_TEST_MONGO_PAIR_H
#define TEMPO_TEST_MONGO_PAIR_H

#include <stdlib.h>
#include <tempo/virtual.h>

#include "loop/loop_internal.h"
#include "mongo_test.h"
#include "store_harness.h"

#define MT_PAIR_STORES 2

typedef struct mt_pair {
    char db[64];
    const char *uri;
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store[MT_PAIR_STORES];
    store_h_t h; /* for the harness helpers: the first store */
} mt_pair_t;

/* cmocka setup: both stores started on a database named after `what`; the
 * harness trigger every minute from SH_T0. */
static inline int mt_pair_setup(void **state, const char *uri, const char *what)
{
    mt_pair_t *p = calloc(1, sizeof *p);
    tempo_error_t err;
    assert_non_null(p);
    p->uri = uri;
    mt_db_name(what, p->db, sizeof p->db);
    assert_int_equal(tempo_vloop_new(SH_T0, &p->vloop, &p->loop, &err), TEMPO_OK);
    for (int i = 0; i < MT_PAIR_STORES; i++) {
        p->store[i] = mt_store(uri, p->db);
        assert_int_equal(p->store[i]->ops->start(p->store[i]->self, p->loop, &err), TEMPO_OK);
    }
    p->h = (store_h_t){.vloop = p->vloop, .loop = p->loop, .store = p->store[0]};
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = SH_SEC(60);
    o.start = SH_T0;
    assert_int_equal(tempo_trigger_interval_new(&o, &p->h.trigger, &err), TEMPO_OK);
    *state = p;
    return 0;
}

/* cmocka teardown: both stopped (their last callbacks in), freed, nothing
 * left armed on the loop, the database dropped. */
static inline int mt_pair_teardown(void **state)
{
    mt_pair_t *p = *state;
    sh_result_t r[MT_PAIR_STORES] = {{0}};
    for (int i = 0; i < MT_PAIR_STORES; i++)
        p->store[i]->ops->stop(p->store[i]->self, sh_status_cb, &r[i]);
    sh_wait_calls(&p->h, (int *const[]){&r[0].calls, &r[1].calls}, MT_PAIR_STORES);
    for (int i = 0; i < MT_PAIR_STORES; i++)
        tempo_store_free(p->store[i]);
    assert_int_equal(tempo__loop_pending(p->loop), 0);
    tempo_loop_free(p->loop);
    tempo_vloop_free(p->vloop);
    tempo_trigger_free(p->h.trigger);
    mt_drop(p->uri, p->db);
    free(p);
    return 0;
}

#endif
