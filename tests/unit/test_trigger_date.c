/* The date trigger: one instant, strictly-after semantics, errors, describe,
 * and the dispatcher's NULL-safety and reference counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

static tempo_trigger_t *date(tempo_time_t at)
{
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_date_new(at, &t, &err), TEMPO_OK);
    assert_non_null(t);
    return t;
}

static void test_next(void **state)
{
    (void)state;
    tempo_time_t at = tempo_test_utc("2027-01-01T00:00:00Z");
    tempo_trigger_t *t = date(at);
    assert_int_equal(tempo_trigger_next(t, at - 1), at);
    assert_int_equal(tempo_trigger_next(t, TEMPO_TIME_NONE), at); /* "after nothing": the first */
    assert_int_equal(tempo_trigger_next(t, at), TEMPO_TIME_NONE);  /* strictly after */
    assert_int_equal(tempo_trigger_next(t, at + 1), TEMPO_TIME_NONE);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX), TEMPO_TIME_NONE);
    assert_string_equal(tempo_trigger_type_name(t), "date");
    tempo_trigger_free(t);
}

static void test_extremes(void **state)
{
    (void)state;
    tempo_trigger_t *t = date(INT64_MAX);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 1), INT64_MAX);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX), TEMPO_TIME_NONE);
    tempo_trigger_free(t);
    t = date(INT64_MIN + 1); /* the earliest representable instant */
    assert_int_equal(tempo_trigger_next(t, TEMPO_TIME_NONE), INT64_MIN + 1);
    assert_int_equal(tempo_trigger_next(t, INT64_MIN + 1), TEMPO_TIME_NONE);
    tempo_trigger_free(t);
}

static void test_errors(void **state)
{
    (void)state;
    tempo_trigger_t *t = (tempo_trigger_t *)&t; /* sentinel: must stay untouched */
    tempo_trigger_t *const sentinel = t;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_date_new(TEMPO_TIME_NONE, &t, &err), TEMPO_EINVAL);
    assert_int_equal(err.code, TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "date: 'at' is TEMPO_TIME_NONE"));
    assert_ptr_equal(t, sentinel);
    assert_int_equal(tempo_trigger_date_new(0, NULL, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "out is NULL"));
    /* err may be NULL */
    assert_int_equal(tempo_trigger_date_new(TEMPO_TIME_NONE, &t, NULL), TEMPO_EINVAL);
}

static void test_describe(void **state)
{
    (void)state;
    tempo_trigger_t *t = date(tempo_test_utc("2027-01-01T00:00:00Z"));
    char buf[128];
    const char *want = "once at 2027-01-01T00:00:00+00:00";
    assert_int_equal(tempo_trigger_describe(t, buf, sizeof buf), (int)strlen(want));
    assert_string_equal(buf, want);
    /* snprintf rules: truncated, NUL-terminated, full length returned */
    char small[5];
    assert_int_equal(tempo_trigger_describe(t, small, sizeof small), (int)strlen(want));
    assert_string_equal(small, "once");
    assert_int_equal(tempo_trigger_describe(t, NULL, 0), (int)strlen(want));
    tempo_trigger_free(t);
}

static void test_null_and_refs(void **state)
{
    (void)state;
    assert_int_equal(tempo_trigger_next(NULL, 0), TEMPO_TIME_NONE);
    assert_null(tempo_trigger_ref(NULL));
    assert_null(tempo_trigger_type_name(NULL));
    tempo_trigger_free(NULL);
    char buf[16];
    assert_int_equal(tempo_trigger_describe(NULL, buf, sizeof buf), 5);
    assert_string_equal(buf, "never");

    /* Three references, three frees: the sanitizer build catches a double
     * free or a leak if the count is wrong. */
    tempo_trigger_t *t = date(42);
    assert_ptr_equal(tempo_trigger_ref(t), t);
    assert_ptr_equal(tempo_trigger_ref(t), t);
    tempo_trigger_free(t);
    tempo_trigger_free(t);
    assert_int_equal(tempo_trigger_next(t, 0), 42); /* still alive: one reference left */
    tempo_trigger_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),     cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_describe),
        cmocka_unit_test(test_null_and_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
