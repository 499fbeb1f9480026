/* The string-keyed hash table the stores index by (lib/util/hashmap.h):
 * random inserts and removals checked against a plain array, growth,
 * backward-shift deletion across the table's wrap-around, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hashmap.h"

typedef struct item {
    char key[16];
    bool in;
} item_t;

static const char *key_of(const void *p)
{
    return ((const item_t *)p)->key;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Every item is found exactly when it is in; the count and an iteration
 * agree with the reference. */
static void check_all(const tempo__hmap_t *m, item_t *items, size_t n)
{
    size_t in = 0;
    for (size_t i = 0; i < n; i++) {
        void *got = tempo__hmap_get(m, items[i].key);
        if (items[i].in) {
            assert_ptr_equal(got, &items[i]);
            in++;
        } else {
            assert_null(got);
        }
    }
    assert_int_equal(m->count, in);
    size_t pos = 0, seen = 0;
    item_t *it;
    while ((it = tempo__hmap_next(m, &pos)) != NULL) {
        assert_true(it->in);
        seen++;
    }
    assert_int_equal(seen, in);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 3000 };
    item_t *items = calloc(N, sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < N; i++)
        snprintf(items[i].key, sizeof items[i].key, "job-%06d", i);
    tempo__hmap_t m;
    tempo__hmap_init(&m, key_of);
    assert_null(tempo__hmap_get(&m, "job-000001")); /* empty, no table yet */
    assert_null(tempo__hmap_remove(&m, "job-000001"));
    for (int round = 0; round < 40000; round++) {
        item_t *it = &items[next_random() % N];
        if (it->in) {
            assert_ptr_equal(tempo__hmap_remove(&m, it->key), it);
            it->in = false;
        } else {
            assert_true(tempo__hmap_reserve(&m, m.count + 1));
            tempo__hmap_insert(&m, it);
            it->in = true;
        }
        if (round % 5000 == 0)
            check_all(&m, items, N);
    }
    check_all(&m, items, N);
    /* Load stays at or under 3/4. */
    assert_true(m.count <= m.cap - m.cap / 4);
    tempo__hmap_destroy(&m);
    assert_int_equal(m.count, 0);
    assert_null(tempo__hmap_get(&m, items[0].key));
    free(items);
}

/* Keys that collide on their home slot, placed across the end of the table,
 * then removed in every order: the run must stay reachable. */
static void test_removal_keeps_runs_reachable(void **state)
{
    (void)state;
    tempo__hmap_t m;
    tempo__hmap_init(&m, key_of);
    assert_true(tempo__hmap_reserve(&m, 8));
    size_t mask = m.cap - 1;
    /* Find keys whose home is the last two slots, so runs wrap to slot 0. */
    enum { K = 6 };
    item_t items[K];
    int found = 0;
    for (int i = 0; found < K && i < 1000000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        size_t home = tempo__hmap_hash(key) & mask;
        if (home >= mask - 1) {
            snprintf(items[found].key, sizeof items[found].key, "%s", key);
            items[found].in = false;
            found++;
        }
    }
    assert_int_equal(found, K);
    for (int order = 0; order < K; order++) {
        for (int i = 0; i < K; i++) {
            assert_true(tempo__hmap_reserve(&m, m.count + 1));
            tempo__hmap_insert(&m, &items[i]);
            items[i].in = true;
        }
        assert_int_equal(m.cap, mask + 1); /* no growth: the wrap is exercised */
        for (int k = 0; k < K; k++) {
            int i = (order + k * 5) % K;
            assert_ptr_equal(tempo__hmap_remove(&m, items[i].key), &items[i]);
            items[i].in = false;
            check_all(&m, items, K);
        }
    }
    tempo__hmap_destroy(&m);
}

static void test_hash_and_limits(void **state)
{
    (void)state;
    assert_int_not_equal(tempo__hmap_hash(""), 0);
    assert_int_not_equal(tempo__hmap_hash("a"), tempo__hmap_hash("b"));
    assert_int_equal(tempo__hmap_hash("same"), tempo__hmap_hash("same"));
    tempo__hmap_t m;
    tempo__hmap_init(&m, key_of);
    assert_false(tempo__hmap_reserve(&m, SIZE_MAX / 2)); /* refused, unchanged */
    assert_int_equal(m.cap, 0);
    assert_true(tempo__hmap_reserve(&m, 100));
    size_t cap = m.cap;
    assert_true(cap >= 134); /* 100 at <= 3/4 */
    assert_true(tempo__hmap_reserve(&m, 50));
    assert_int_equal(m.cap, cap); /* never shrinks */
    tempo__hmap_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_removal_keeps_runs_reachable),
        cmocka_unit_test(test_hash_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
