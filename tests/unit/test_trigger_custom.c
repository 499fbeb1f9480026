/* Custom trigger types: registration rules, wrapping a state, the guard
 * against a next() that does not move forward, storing and loading through
 * the registry, and concurrent registration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

/* ---- a well-behaved type: every `period` from `origin` ---- */

typedef struct every {
    int64_t period, origin;
} every_t;

static int frees; /* states freed so far */

static tempo_time_t every_next(const void *state, tempo_time_t after)
{
    const every_t *e = state;
    if (after < e->origin)
        return e->origin;
    return e->origin + ((after - e->origin) / e->period + 1) * e->period;
}

static tempo_status_t every_serialize(const void *state, bson_t *doc, tempo_error_t *err)
{
    (void)err;
    const every_t *e = state;
    BSON_APPEND_INT64(doc, "period", e->period);
    BSON_APPEND_INT64(doc, "origin", e->origin);
    return TEMPO_OK;
}

static tempo_status_t every_deserialize(const bson_t *doc, void **state, tempo_error_t *err)
{
    bson_iter_t it;
    every_t e = {0, 0};
    if (bson_iter_init_find(&it, doc, "period") && BSON_ITER_HOLDS_INT64(&it))
        e.period = bson_iter_int64(&it);
    if (bson_iter_init_find(&it, doc, "origin") && BSON_ITER_HOLDS_INT64(&it))
        e.origin = bson_iter_int64(&it);
    if (e.period <= 0) {
        if (err) {
            err->code = TEMPO_EFORMAT;
            snprintf(err->message, sizeof err->message, "period must be > 0");
        }
        return TEMPO_EFORMAT;
    }
    every_t *copy = malloc(sizeof *copy);
    if (!copy)
        return TEMPO_ENOMEM;
    *copy = e;
    *state = copy;
    return TEMPO_OK;
}

static void every_free(void *state)
{
    frees++;
    free(state);
}

static int every_describe(const void *state, char *buf, size_t size)
{
    const every_t *e = state;
    return snprintf(buf, size, "every %lld us", (long long)e->period);
}

static const tempo_trigger_type_t every_type = {
    .size = sizeof(tempo_trigger_type_t),
    .name = "test.every",
    .next = every_next,
    .serialize = every_serialize,
    .deserialize = every_deserialize,
    .free = every_free,
    .describe = every_describe,
};

/* ---- a buggy type: answers `after + delta` ---- */

static tempo_time_t stuck_next(const void *state, tempo_time_t after)
{
    return after + *(const int64_t *)state;
}

static tempo_status_t failing_serialize(const void *state, bson_t *doc, tempo_error_t *err)
{
    (void)state, (void)doc, (void)err;
    return TEMPO_EIO; /* and leaves no message */
}

static tempo_status_t failing_deserialize(const bson_t *doc, void **state, tempo_error_t *err)
{
    (void)doc, (void)state, (void)err;
    return TEMPO_EIO;
}

static void no_free(void *state)
{
    (void)state;
}

static const tempo_trigger_type_t stuck_type = {
    .size = sizeof(tempo_trigger_type_t),
    .name = "test.stuck",
    .next = stuck_next,
    .serialize = failing_serialize,
    .deserialize = failing_deserialize,
    .free = no_free,
};

static int setup(void **state)
{
    (void)state;
    tempo_error_t err;
    if (tempo_trigger_type_register(&every_type, &err) != TEMPO_OK ||
        tempo_trigger_type_register(&stuck_type, &err) != TEMPO_OK)
        fail_msg("register: %s", err.message);
    return 0;
}

static tempo_trigger_t *make_every(int64_t period, int64_t origin)
{
    every_t *e = malloc(sizeof *e);
    assert_non_null(e);
    *e = (every_t){period, origin};
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    if (tempo_trigger_custom_new("test.every", e, &t, &err) != TEMPO_OK)
        fail_msg("custom_new: %s", err.message);
    return t;
}

static void test_next_and_free(void **state)
{
    (void)state;
    int before = frees;
    tempo_trigger_t *t = make_every(10, 5);
    assert_string_equal(tempo_trigger_type_name(t), "test.every");
    assert_int_equal(tempo_trigger_next(t, 0), 5);
    assert_int_equal(tempo_trigger_next(t, 5), 15);
    assert_int_equal(tempo_trigger_next(t, 14), 15);
    tempo_trigger_ref(t);
    tempo_trigger_free(t);
    assert_int_equal(frees, before); /* one reference left */
    tempo_trigger_free(t);
    assert_int_equal(frees, before + 1); /* the state is freed with the last one */
}

static void test_stuck_next_is_never(void **state)
{
    (void)state;
    static int64_t zero = 0, back = -5, ahead = 1;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_custom_new("test.stuck", &zero, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 100), TEMPO_TIME_NONE); /* answered `after` */
    tempo_trigger_free(t);
    assert_int_equal(tempo_trigger_custom_new("test.stuck", &back, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 100), TEMPO_TIME_NONE); /* went back */
    tempo_trigger_free(t);
    assert_int_equal(tempo_trigger_custom_new("test.stuck", &ahead, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 100), 101);
    char buf[32];
    assert_int_equal(tempo_trigger_describe(t, buf, sizeof buf), 10); /* no describe(): the name */
    assert_string_equal(buf, "test.stuck");
    tempo_trigger_free(t);
}

static void expect_register_error(const tempo_trigger_type_t *type, tempo_status_t code,
                                  const char *needle)
{
    tempo_error_t err;
    assert_int_equal(tempo_trigger_type_register(type, &err), code);
    assert_int_equal(err.code, code);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_registration_rules(void **state)
{
    (void)state;
    expect_register_error(&every_type, TEMPO_EEXIST, "trigger type 'test.every' is already registered");
    tempo_trigger_type_t t = every_type;
    t.name = "cron";
    expect_register_error(&t, TEMPO_EEXIST, "trigger type 'cron' is built in");
    t.name = "and";
    expect_register_error(&t, TEMPO_EEXIST, "is built in");
    t.name = "";
    expect_register_error(&t, TEMPO_EINVAL, "name must be 1 to 64 characters");
    t.name = "has space";
    expect_register_error(&t, TEMPO_EINVAL, "character 4 is not allowed");
    t.name = NULL;
    expect_register_error(&t, TEMPO_EINVAL, "name is NULL");
    t = every_type;
    t.name = "test.incomplete";
    t.deserialize = NULL;
    expect_register_error(&t, TEMPO_EINVAL, "trigger type 'test.incomplete': deserialize() is required");
    t = every_type;
    t.name = "test.incomplete";
    t.free = NULL;
    expect_register_error(&t, TEMPO_EINVAL, "free() is required");
    t = every_type;
    t.name = "test.incomplete";
    t.size = 8;
    expect_register_error(&t, TEMPO_EINVAL, "size is 8");
    expect_register_error(NULL, TEMPO_EINVAL, "type is NULL");

    /* The registry copies the name: a caller's buffer may change afterwards. */
    char name[32] = "test.copied";
    t = every_type;
    t.name = name;
    assert_int_equal(tempo_trigger_type_register(&t, NULL), TEMPO_OK);
    strcpy(name, "garbage");
    every_t *e = malloc(sizeof *e);
    *e = (every_t){1, 0};
    tempo_trigger_t *tr = NULL;
    assert_int_equal(tempo_trigger_custom_new("test.copied", e, &tr, NULL), TEMPO_OK);
    assert_string_equal(tempo_trigger_type_name(tr), "test.copied");
    tempo_trigger_free(tr);
}

static void test_custom_new_errors(void **state)
{
    (void)state;
    every_t e = {1, 0};
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_custom_new("test.nope", &e, &t, &err), TEMPO_ENOTFOUND);
    assert_non_null(strstr(err.message, "type 'test.nope' is not registered"));
    assert_null(t); /* and the caller still owns e (on the stack here) */
    assert_int_equal(tempo_trigger_custom_new(NULL, &e, &t, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_trigger_custom_new("test.every", &e, NULL, &err), TEMPO_EINVAL);
}

static void test_store_and_load(void **state)
{
    (void)state;
    tempo_trigger_t *t = make_every(1000, 7);
    bson_t doc;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_to_bson(t, &doc, &err), TEMPO_OK);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, &doc, "type"));
    assert_string_equal(bson_iter_utf8(&it, NULL), "test.every");
    assert_true(bson_iter_init_find(&it, &doc, "v") && BSON_ITER_HOLDS_INT32(&it));
    assert_int_equal(bson_iter_int32(&it), 1);
    assert_true(bson_iter_init_find(&it, &doc, "period"));

    tempo_trigger_t *back = NULL;
    assert_int_equal(tempo_trigger_from_bson(&doc, &back, &err), TEMPO_OK);
    for (tempo_time_t a = -3000; a < 3000; a += 97)
        assert_int_equal(tempo_trigger_next(back, a), tempo_trigger_next(t, a));
    char buf[64];
    tempo_trigger_describe(back, buf, sizeof buf);
    assert_string_equal(buf, "every 1000 us");
    bson_t again;
    assert_int_equal(tempo_trigger_to_bson(back, &again, &err), TEMPO_OK);
    assert_int_equal(doc.len, again.len);
    assert_memory_equal(bson_get_data(&doc), bson_get_data(&again), doc.len);
    bson_destroy(&again);
    bson_destroy(&doc);
    tempo_trigger_free(back);
    tempo_trigger_free(t);

    /* The type's deserialize() refusing a document: its code and message. */
    bson_t bad = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&bad, "type", "test.every");
    BSON_APPEND_INT32(&bad, "v", 1);
    BSON_APPEND_INT64(&bad, "period", 0);
    assert_int_equal(tempo_trigger_from_bson(&bad, &back, &err), TEMPO_EFORMAT);
    assert_string_equal(err.message, "trigger 'test.every': deserialize(): period must be > 0");
    bson_destroy(&bad);
}

static void test_user_failures(void **state)
{
    (void)state;
    static int64_t one = 1;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_custom_new("test.stuck", &one, &t, NULL), TEMPO_OK);
    bson_t doc;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_to_bson(t, &doc, &err), TEMPO_EIO);
    assert_string_equal(err.message, "trigger 'test.stuck': serialize() failed (input/output error)");
    assert_int_equal(doc.len, 5); /* left empty and initialised */
    bson_destroy(&doc);
    tempo_trigger_free(t);

    bson_t in = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&in, "type", "test.stuck");
    BSON_APPEND_INT32(&in, "v", 1);
    assert_int_equal(tempo_trigger_from_bson(&in, &t, &err), TEMPO_EIO);
    assert_string_equal(err.message, "trigger 'test.stuck': deserialize() failed (input/output error)");
    /* A custom type refuses stored versions newer than the envelope's. */
    bson_reinit(&in);
    BSON_APPEND_UTF8(&in, "type", "test.every");
    BSON_APPEND_INT32(&in, "v", 2);
    assert_int_equal(tempo_trigger_from_bson(&in, &t, &err), TEMPO_EVERSION);
    assert_string_equal(err.message, "trigger 'test.every': stored version 2, this build reads up to 1");
    bson_destroy(&in);
}

/* ---- concurrent registration: one name, many threads ---- */

#define RACERS 8

static void *race(void *arg)
{
    tempo_trigger_type_t t = every_type;
    t.name = arg;
    return (void *)(intptr_t)tempo_trigger_type_register(&t, NULL);
}

static void test_concurrent_registration(void **state)
{
    (void)state;
    pthread_t threads[RACERS];
    char unique[RACERS][32];
    for (int i = 0; i < RACERS; i++) {
        snprintf(unique[i], sizeof unique[i], "test.race%d", i);
        assert_int_equal(pthread_create(&threads[i], NULL, race, i % 2 ? "test.race" : unique[i]), 0);
    }
    int ok_shared = 0, exist_shared = 0;
    for (int i = 0; i < RACERS; i++) {
        void *rc;
        pthread_join(threads[i], &rc);
        tempo_status_t s = (tempo_status_t)(intptr_t)rc;
        if (i % 2 == 0) {
            assert_int_equal(s, TEMPO_OK);
        } else {
            ok_shared += s == TEMPO_OK;
            exist_shared += s == TEMPO_EEXIST;
        }
    }
    assert_int_equal(ok_shared, 1);
    assert_int_equal(exist_shared, RACERS / 2 - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_and_free),      cmocka_unit_test(test_stuck_next_is_never),
        cmocka_unit_test(test_registration_rules), cmocka_unit_test(test_custom_new_errors),
        cmocka_unit_test(test_store_and_load),     cmocka_unit_test(test_user_failures),
        cmocka_unit_test(test_concurrent_registration),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
