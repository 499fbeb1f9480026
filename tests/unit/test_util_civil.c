/* Calendar arithmetic against hand-checked dates and a day-by-day walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/civil.h"

static void test_known_days(void **state)
{
    (void)state;
    assert_int_equal(tempo__days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tempo__days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(tempo__days_from_civil(1900, 1, 1), -25567);
    assert_int_equal(tempo__weekday(tempo__days_from_civil(2026, 11, 21)), 6); /* Saturday */
    assert_int_equal(tempo__weekday(tempo__days_from_civil(1900, 1, 1)), 1);   /* Monday */
}

static void test_leap_years(void **state)
{
    (void)state;
    assert_true(tempo__is_leap(2000));
    assert_true(tempo__is_leap(2024));
    assert_false(tempo__is_leap(1900));
    assert_false(tempo__is_leap(2100));
    assert_int_equal(tempo__days_in_month(2100, 2), 28);
    assert_int_equal(tempo__days_in_month(2400, 2), 29);
}

/* Walk every day 1600..2600 and check the round trip and that dates advance
 * by exactly one calendar day. */
static void test_round_trip_walk(void **state)
{
    (void)state;
    int64_t y = 1600;
    int m = 1, d = 1;
    for (int64_t days = tempo__days_from_civil(1600, 1, 1); y < 2600; days++) {
        int64_t y2;
        int m2, d2;
        tempo__civil_from_days(days, &y2, &m2, &d2);
        assert_int_equal(y2, y);
        assert_int_equal(m2, m);
        assert_int_equal(d2, d);
        assert_int_equal(tempo__days_from_civil(y, m, d), days);
        if (++d > tempo__days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

static void test_iso_week(void **state)
{
    (void)state;
    assert_int_equal(tempo__iso_week(tempo__days_from_civil(2021, 1, 3)), 53);  /* Sun */
    assert_int_equal(tempo__iso_week(tempo__days_from_civil(2021, 1, 4)), 1);   /* Mon */
    assert_int_equal(tempo__iso_week(tempo__days_from_civil(2024, 12, 30)), 1); /* 2025-W01 */
    assert_int_equal(tempo__iso_week(tempo__days_from_civil(2026, 11, 21)), 47);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_round_trip_walk),
        cmocka_unit_test(test_iso_week),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
