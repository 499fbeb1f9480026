/* The indexed min-heap the stores order by (lib/util/heap.h): random
 * pushes, pops, removals at any position and re-keying, checked against a
 * brute-force minimum; positions reported through `moved` stay exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "util/heap.h"

typedef struct item {
    int64_t key;
    int id;     /* tie-break */
    size_t pos; /* SIZE_MAX when out */
} item_t;

static int tie(const void *a, const void *b)
{
    return ((const item_t *)a)->id - ((const item_t *)b)->id;
}

static void moved(void *p, size_t index)
{
    ((item_t *)p)->pos = index;
}

static uint64_t rng = 0x2545f4914f6cdd1du;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static bool before(const item_t *a, const item_t *b)
{
    return a->key != b->key ? a->key < b->key : a->id < b->id;
}

/* The heap's top is the least item in; every in-item sits where it says. */
static void check(const tempo__heap_t *h, item_t *items, size_t n)
{
    const item_t *least = NULL;
    size_t in = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].pos == SIZE_MAX)
            continue;
        in++;
        assert_true(items[i].pos < h->count);
        assert_ptr_equal(h->nodes[items[i].pos].item, &items[i]);
        assert_int_equal(h->nodes[items[i].pos].key, items[i].key);
        if (!least || before(&items[i], least))
            least = &items[i];
    }
    assert_int_equal(h->count, in);
    if (least)
        assert_ptr_equal(tempo__heap_top(h)->item, least);
    else
        assert_null(tempo__heap_top(h));
}

static void test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 500 };
    item_t items[N];
    for (int i = 0; i < N; i++)
        items[i] = (item_t){0, i, SIZE_MAX};
    tempo__heap_t h;
    tempo__heap_init(&h, tie, moved);
    assert_null(tempo__heap_pop(&h));
    for (int round = 0; round < 50000; round++) {
        item_t *it = &items[next_random() % N];
        int64_t key = (int64_t)(next_random() % 64); /* many ties */
        switch (next_random() % 4) {
        case 0:
        case 1:
            if (it->pos == SIZE_MAX) {
                assert_true(tempo__heap_reserve(&h, h.count + 1));
                it->key = key;
                tempo__heap_push(&h, key, it);
            } else {
                assert_ptr_equal(tempo__heap_remove(&h, it->pos), it);
                it->pos = SIZE_MAX;
            }
            break;
        case 2:
            if (it->pos != SIZE_MAX) {
                it->key = key;
                tempo__heap_update(&h, it->pos, key);
            }
            break;
        default:
            if (h.count) {
                item_t *top = (item_t *)tempo__heap_top(&h)->item;
                assert_ptr_equal(tempo__heap_pop(&h), top);
                top->pos = SIZE_MAX;
            }
        }
        if (round % 97 == 0)
            check(&h, items, N);
    }
    check(&h, items, N);
    /* Draining pops in order. */
    item_t *prev = NULL;
    while (h.count) {
        item_t *top = tempo__heap_pop(&h);
        top->pos = SIZE_MAX;
        if (prev)
            assert_false(before(top, prev));
        prev = top;
    }
    tempo__heap_destroy(&h);
}

/* Equal keys and no tie-break: a bag where nothing moves but the last node
 * into a hole. */
static void test_bag(void **state)
{
    (void)state;
    item_t items[5];
    tempo__heap_t h;
    tempo__heap_init(&h, NULL, moved);
    assert_true(tempo__heap_reserve(&h, 5));
    for (int i = 0; i < 5; i++) {
        items[i] = (item_t){0, i, SIZE_MAX};
        tempo__heap_push(&h, 0, &items[i]);
        assert_int_equal(items[i].pos, (size_t)i);
    }
    assert_ptr_equal(tempo__heap_remove(&h, 1), &items[1]);
    assert_int_equal(items[4].pos, 1); /* the last filled the hole */
    assert_int_equal(items[2].pos, 2);
    assert_int_equal(h.count, 4);
    assert_false(tempo__heap_reserve(&h, SIZE_MAX / 2));
    assert_int_equal(h.cap, 16);
    tempo__heap_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_bag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
