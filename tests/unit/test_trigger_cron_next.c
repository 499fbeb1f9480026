/* The zone-free cron search (cron_next.c) on hand-built specs, so that these
 * cases test the evaluator alone, independent of the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trigger/cron.h"
#include "util/civil.h"

#define ALL64 ((UINT64_C(1) << 60) - 1)

/* Every field '*', seconds 0 (a 5-field "* * * * *"). */
static tempo__cron_spec_t star(void)
{
    tempo__cron_spec_t s;
    memset(&s, 0, sizeof s);
    s.seconds = 1;
    s.minutes = ALL64;
    s.hours = (UINT32_C(1) << 24) - 1;
    s.days = ~UINT32_C(1); /* 1..31 */
    s.months = 0x1FFE;     /* 1..12 */
    s.dows = 0x7F;
    s.weeks = ~UINT64_C(1);
    memset(s.years, 0xFF, sizeof s.years);
    s.hours_follow_real_time = true;
    s.possible = true;
    return s;
}

/* Recompute the per-first-weekday masks after changing dows. */
static void set_dows(tempo__cron_spec_t *s, uint8_t dows)
{
    s->dows = dows;
    for (int w = 0; w < 7; w++) {
        s->dow_month_mask[w] = 0;
        for (int d = 1; d <= 31; d++)
            if ((dows >> ((w + d - 1) % 7)) & 1)
                s->dow_month_mask[w] |= UINT32_C(1) << d;
    }
}

static int64_t wall(int y, int m, int d, int H, int M, int S)
{
    return tempo__days_from_civil(y, m, d) * 86400 + H * 3600 + M * 60 + S;
}

static void assert_next(const tempo__cron_spec_t *s, int64_t from, int64_t expect)
{
    int64_t got = tempo__cron_next_wall(s, from, INT64_MAX);
    if (got != expect) {
        int64_t y;
        int m, d;
        tempo__civil_from_days(tempo__floor_div(got, 86400), &y, &m, &d);
        print_error("got %04d-%02d-%02d +%ds\n", (int)y, m, d, (int)tempo__floor_mod(got, 86400));
    }
    assert_int_equal(got, expect);
}

static void test_every_minute_carries(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    assert_next(&s, wall(2026, 12, 31, 23, 59, 1), wall(2027, 1, 1, 0, 0, 0));
    assert_next(&s, wall(2026, 5, 5, 10, 0, 0), wall(2026, 5, 5, 10, 0, 0)); /* inclusive */
}

static void test_feb_29_and_2100(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.minutes = 1, s.hours = 1, s.days = UINT32_C(1) << 29, s.months = 1 << 2;
    s.day_restricted = true;
    s.hours_follow_real_time = false;
    assert_next(&s, wall(2025, 1, 1, 0, 0, 0), wall(2028, 2, 29, 0, 0, 0));
    assert_next(&s, wall(2096, 3, 1, 0, 0, 0), wall(2104, 2, 29, 0, 0, 0)); /* 2100 not leap */
}

static void test_last_day_specials(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.days = 0;
    s.day_restricted = true;
    s.n_day_specials = 1;
    s.day_specials[0] = (tempo__cron_special_t){TEMPO__CRON_LAST_DAY, 0, 0};
    assert_int_equal(tempo__cron_month_days(&s, 2027, 2), UINT32_C(1) << 28);
    assert_int_equal(tempo__cron_month_days(&s, 2028, 2), UINT32_C(1) << 29);
    assert_int_equal(tempo__cron_month_days(&s, 2100, 2), UINT32_C(1) << 28);
    s.day_specials[0].arg = 3; /* L-3 */
    assert_int_equal(tempo__cron_month_days(&s, 2027, 4), UINT32_C(1) << 27);
    s.day_specials[0] = (tempo__cron_special_t){TEMPO__CRON_LAST_WEEKDAY, 0, 0};
    /* 2027-10-31 is a Sunday: LW is Friday the 29th. */
    assert_int_equal(tempo__cron_month_days(&s, 2027, 10), UINT32_C(1) << 29);
}

static void test_nearest_weekday_stays_in_month(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.days = 0;
    s.day_restricted = true;
    s.n_day_specials = 1;
    s.day_specials[0] = (tempo__cron_special_t){TEMPO__CRON_NEAREST_WEEKDAY, 1, 0};
    /* 2022-01-01 is a Saturday: 1W is Monday the 3rd, not Friday Dec 31. */
    assert_int_equal(tempo__cron_month_days(&s, 2022, 1), UINT32_C(1) << 3);
    /* 2021-10-31 is a Sunday: 31W is Friday the 29th, not Monday Nov 1. */
    s.day_specials[0].arg = 31;
    assert_int_equal(tempo__cron_month_days(&s, 2021, 10), UINT32_C(1) << 29);
    /* A day the month does not have matches nothing. */
    assert_int_equal(tempo__cron_month_days(&s, 2021, 11), 0);
    /* 15W on Saturday 2022-01-15 -> Friday the 14th; on a weekday stays. */
    s.day_specials[0].arg = 15;
    assert_int_equal(tempo__cron_month_days(&s, 2022, 1), UINT32_C(1) << 14);
    assert_int_equal(tempo__cron_month_days(&s, 2022, 2), UINT32_C(1) << 15);
}

static void test_nth_and_last_weekday(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0);
    s.dow_restricted = true;
    s.n_dow_specials = 2;
    s.dow_specials[0] = (tempo__cron_special_t){TEMPO__CRON_NTH_DOW, 3, 5}; /* 3rd Friday */
    s.dow_specials[1] = (tempo__cron_special_t){TEMPO__CRON_LAST_DOW, 0, 1}; /* last Monday */
    /* November 2026: Fridays 6, 13, 20, 27; Mondays ..., 23, 30. */
    assert_int_equal(tempo__cron_month_days(&s, 2026, 11), (UINT32_C(1) << 20) | (UINT32_C(1) << 30));
    /* A 5th Friday exists only in some months. */
    s.n_dow_specials = 1;
    s.dow_specials[0].arg = 5;
    assert_int_equal(tempo__cron_month_days(&s, 2026, 11), 0);
    assert_int_equal(tempo__cron_month_days(&s, 2027, 1), UINT32_C(1) << 29);
}

static void test_posix_or_of_day_and_weekday(void **state)
{
    (void)state;
    /* "0 0 13 * 5": the 13th or any Friday. */
    tempo__cron_spec_t s = star();
    s.minutes = 1, s.hours = 1, s.days = UINT32_C(1) << 13;
    set_dows(&s, 1 << 5);
    s.day_restricted = s.dow_restricted = s.day_or_dow = true;
    s.hours_follow_real_time = false;
    assert_next(&s, wall(2026, 11, 1, 0, 0, 0), wall(2026, 11, 6, 0, 0, 0));
    assert_next(&s, wall(2026, 11, 6, 0, 0, 1), wall(2026, 11, 13, 0, 0, 0));
    assert_next(&s, wall(2026, 12, 11, 0, 0, 1), wall(2026, 12, 13, 0, 0, 0)); /* Sunday 13th */
    /* The same fields ANDed (named form): Friday the 13th only. */
    s.day_or_dow = false;
    assert_next(&s, wall(2026, 11, 1, 0, 0, 0), wall(2026, 11, 13, 0, 0, 0));
    assert_next(&s, wall(2026, 11, 13, 0, 0, 1), wall(2027, 8, 13, 0, 0, 0));
}

static void test_iso_week_filter(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.minutes = 1, s.hours = 1;
    s.weeks = UINT64_C(1) << 53;
    s.week_restricted = true;
    /* 2020 has an ISO week 53: Mon Dec 28 2020 .. Sun Jan 3 2021. */
    assert_next(&s, wall(2020, 1, 1, 0, 0, 0), wall(2020, 12, 28, 0, 0, 0));
    assert_next(&s, wall(2021, 1, 1, 0, 0, 0), wall(2021, 1, 1, 0, 0, 0));
    assert_next(&s, wall(2021, 1, 4, 0, 0, 0), wall(2026, 12, 28, 0, 0, 0));
}

static void test_steps_from_feb_28(void **state)
{
    (void)state;
    /* "0 4 1-31/5 * *" from 2022-02-28: Mar 1, 6, 11 (NOTES.md). */
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.minutes = 1, s.hours = 1 << 4, s.days = 0;
    for (int d = 1; d <= 31; d += 5)
        s.days |= UINT32_C(1) << d;
    s.day_restricted = true;
    int64_t t = wall(2022, 2, 28, 0, 0, 0);
    int64_t expect[] = {wall(2022, 3, 1, 4, 0, 0), wall(2022, 3, 6, 4, 0, 0), wall(2022, 3, 11, 4, 0, 0)};
    for (int i = 0; i < 3; i++) {
        t = tempo__cron_next_wall(&s, t, INT64_MAX);
        assert_int_equal(t, expect[i]);
        t++;
    }
}

static void test_until_and_year_bounds(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    set_dows(&s, 0x7F);
    s.minutes = 1, s.hours = 1, s.days = 1 << 1, s.months = 1 << 1; /* Jan 1 */
    s.day_restricted = true;
    int64_t from = wall(2026, 6, 1, 0, 0, 0);
    assert_int_equal(tempo__cron_next_wall(&s, from, wall(2027, 1, 1, 0, 0, 0)), INT64_MAX);
    assert_int_equal(tempo__cron_next_wall(&s, from, wall(2027, 1, 1, 0, 0, 1)), wall(2027, 1, 1, 0, 0, 0));
    /* Past the last representable year: none, at once. */
    assert_int_equal(tempo__cron_next_wall(&s, wall(2999, 6, 1, 0, 0, 0), INT64_MAX), INT64_MAX);
    /* Only 2030 and 2040 allowed. */
    memset(s.years, 0, sizeof s.years);
    s.years[(2030 - TEMPO__CRON_YEAR_MIN) / 64] |= UINT64_C(1) << ((2030 - TEMPO__CRON_YEAR_MIN) % 64);
    s.years[(2040 - TEMPO__CRON_YEAR_MIN) / 64] |= UINT64_C(1) << ((2040 - TEMPO__CRON_YEAR_MIN) % 64);
    assert_next(&s, from, wall(2030, 1, 1, 0, 0, 0));
    assert_next(&s, wall(2030, 1, 1, 0, 0, 1), wall(2040, 1, 1, 0, 0, 0));
    assert_int_equal(tempo__cron_next_wall(&s, wall(2040, 1, 1, 0, 0, 1), INT64_MAX), INT64_MAX);
    /* Before 1900 the search starts at the first allowed year. */
    assert_next(&s, wall(1800, 1, 1, 0, 0, 0), wall(2030, 1, 1, 0, 0, 0));
}

static void test_impossible_answers_at_once(void **state)
{
    (void)state;
    tempo__cron_spec_t s = star();
    s.possible = false;
    assert_int_equal(tempo__cron_next_wall(&s, 0, INT64_MAX), INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_minute_carries),
        cmocka_unit_test(test_feb_29_and_2100),
        cmocka_unit_test(test_last_day_specials),
        cmocka_unit_test(test_nearest_weekday_stays_in_month),
        cmocka_unit_test(test_nth_and_last_weekday),
        cmocka_unit_test(test_posix_or_of_day_and_weekday),
        cmocka_unit_test(test_iso_week_filter),
        cmocka_unit_test(test_steps_from_feb_28),
        cmocka_unit_test(test_until_and_year_bounds),
        cmocka_unit_test(test_impossible_answers_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
