/* Derived job ids (lib/core/ids.c) never change between versions: stores
 * shared by processes of different versions rely on (schedule id, fire
 * time) giving the same job id everywhere, so that a fire is one job. The
 * expected ids were computed by the first implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/sched_internal.h"

static void test_fire_ids_are_pinned(void **state)
{
    (void)state;
    char id[37];
    tempo__uuid_for_fire("a", INT64_C(1798761600000000), id);
    assert_string_equal(id, "488609cd-7680-82bf-8a76-e9ce1e304e78");
    tempo__uuid_for_fire("nightly-report", 0, id);
    assert_string_equal(id, "3aec8384-8df1-8feb-ba99-4bb5ea06fec1");
}

/* Version 8 (derived), RFC 4122 variant, lowercase 8-4-4-4-12. */
static void test_fire_id_shape(void **state)
{
    (void)state;
    char id[37];
    tempo__uuid_for_fire("s", -1, id);
    assert_int_equal(strlen(id), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(id[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", id[i]));
    }
    assert_int_equal(id[14], '8');
    assert_non_null(strchr("89ab", id[19]));
    char other[37];
    tempo__uuid_for_fire("s", 0, other);
    assert_string_not_equal(id, other);
}

static void test_random_ids_differ(void **state)
{
    (void)state;
    uint64_t rng = 7;
    char a[37], b[37];
    tempo__uuid_random(&rng, a);
    tempo__uuid_random(&rng, b);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fire_ids_are_pinned),
        cmocka_unit_test(test_fire_id_shape),
        cmocka_unit_test(test_random_ids_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
