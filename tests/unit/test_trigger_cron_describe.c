/* Normalised text and plain-English descriptions of cron expressions
 * (cron_format.c, cron_describe.c). Each case is also reparsed from its
 * normalised text: normalising must never change what an expression means
 * (including the DST policy and the day/weekday OR), and must be idempotent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <tempo/trigger.h>

#include "trigger/cron.h"

static const struct {
    const char *expr;
    bool named;
    const char *normalized;
    const char *description;
} cases[] = {
    /* The examples of DESIGN.md and the brief. */
    {"30 9 * * mon-fri", false, "30 9 * * 1-5", "at 09:30 on Monday through Friday"},
    {"*/15 * * * *", false, "*/15 * * * *", "every 15 minutes"},
    {"0 0 L * *", false, "0 0 L * *", "at 00:00 on the last day of the month"},
    {"0 0 13 * 5", false, "0 0 13 * 5", "at 00:00 on day 13 of the month or on Friday"},
    {"0 9 * * 1#2", false, "0 9 * * 1#2", "at 09:00 on the second Monday of the month"},
    /* Macros print as their expansion. */
    {"@yearly", false, "0 0 1 1 *", "at 00:00 on January 1"},
    {"@monthly", false, "0 0 1 * *", "at 00:00 on day 1 of the month"},
    {"@weekly", false, "0 0 * * 0", "at 00:00 on Sunday"},
    {"@daily", false, "0 0 * * *", "at 00:00 every day"},
    {"@hourly", false, "0 * * * *", "at minute 0 of every hour"},
    /* Times of day. */
    {"0 9,17 * * *", false, "0 9,17 * * *", "at 09:00 and 17:00 every day"},
    {"*/15 9-17 * * mon-fri", false, "*/15 9-17 * * 1-5",
     "every 15 minutes from 09:00 through 17:45 on Monday through Friday"},
    {"0 9-17 * * *", false, "0 9-17 * * *", "every hour from 09:00 through 17:00"},
    {"30 */2 * * *", false, "30 */2 * * *", "every 2 hours from 00:30 through 22:30"},
    {"0 */6 * * *", false, "0 */6 * * *", "at 00:00, 06:00, 12:00 and 18:00 every day"},
    {"0,30 * * * *", false, "0,30 * * * *", "every 30 minutes"},
    {"0-59/30 * * * *", false, "*/30 * * * *", "every 30 minutes"},
    {"5/15 * * * *", false, "5-50/15 * * * *", "at minutes 5, 20, 35 and 50 of every hour"},
    /* 7 does not divide 60: no "every 7 minutes" (the gap at :56 -> :00 is 4). */
    {"*/7 * * * *", false, "*/7 * * * *", "at every 7th minute from 0 through 56 of every hour"},
    {"* * * * *", false, "* * * * *", "every minute"},
    {"0 0-5,7,9-23 * * *", false, "0 0-5,7,9-23 * * *",
     "at minute 0 of hours 0 through 5, 7 and 9 through 23"},
    {"0 1,2,3,*/6 * * *", false, "0 */6,1-3 * * *",
     "at minute 0 of hours 0 through 3, 6, 12 and 18"},
    /* Seconds: mentioned only when not 0. */
    {"*/10 * * * * *", false, "*/10 * * * * *", "every 10 seconds"},
    {"30 */5 * * * *", false, "30 */5 * * * *", "every 5 minutes at second 30"},
    {"15 30 9 * * *", false, "15 30 9 * * *", "at 09:30:15 every day"},
    {"0 30 9 * * *", false, "0 30 9 * * *", "at 09:30 every day"},
    {"0-10 * * * * *", false, "0-10 * * * * *", "at seconds 0 through 10 of every minute"},
    {"*/20 5 9 * * *", false, "*/20 5 9 * * *", "every 20 seconds during minute 5 of hour 9"},
    {"* * 9 * * *", false, "* * 9 * * *", "every second from 09:00:00 through 09:59:59"},
    {"15 30 * * * *", false, "15 30 * * * *", "at minute 30, second 15 of every hour"},
    {"15 30 0-5,7,9-23 * * *", false, "15 30 0-5,7,9-23 * * *",
     "at minute 30, second 15 of hours 0 through 5, 7 and 9 through 23"},
    /* Months and years. */
    {"0 0 0 1 1 * 2027", false, "0 0 0 1 1 * 2027", "at 00:00 on January 1, 2027"},
    {"0 0 0 1 jan,jul * 2027", false, "0 0 0 1 1,7 * 2027",
     "at 00:00 on day 1 of the month in January and July, in 2027"},
    {"0 0 * jan,JUL *", false, "0 0 * 1,7 *", "at 00:00 every day in January and July"},
    {"0 12 * feb-apr sun", false, "0 12 * 2-4 0", "at 12:00 on Sunday in February through April"},
    {"0 15 10 ? * 6L 2022-2025", false, "0 15 10 * * 6L 2022-2025",
     "at 10:15 on the last Saturday of the month in 2022 through 2025"},
    {"0 0 0 * * ? 2000/100", false, "0 0 0 * * * 2000-2900/100",
     "at 00:00 every day in every 100th year from 2000 through 2900"},
    {"0 0 0 * * ? 1900-2999", false, "0 0 0 * * * *", "at 00:00 every day"},
    /* Day specials. */
    {"0 0 0 1W * ?", false, "0 0 0 1W * *",
     "at 00:00 on the weekday (Monday to Friday) nearest day 1 of the month"},
    {"0 0 lw * *", false, "0 0 LW * *",
     "at 00:00 on the last weekday (Monday to Friday) of the month"},
    {"0 0 L-1 * *", false, "0 0 L-1 * *", "at 00:00 on the second-to-last day of the month"},
    {"0 0 L-10 * *", false, "0 0 L-10 * *", "at 00:00 on the 11th-to-last day of the month"},
    {"0 0 L,15,1,L * *", false, "0 0 1,15,L * *",
     "at 00:00 on days 1 and 15 and the last day of the month"},
    /* Weekdays. */
    {"0 0 * * friL", false, "0 0 * * 5L", "at 00:00 on the last Friday of the month"},
    {"0 0 * * 6#5,1", false, "0 0 * * 1,6#5",
     "at 00:00 on Monday and the fifth Saturday of the month"},
    {"0 0 * * 5-7", false, "0 0 * * 0,5,6", "at 00:00 on Friday through Sunday"},
    {"0 0 * * sun,sat", false, "0 0 * * 0,6", "at 00:00 on Saturday and Sunday"},
    {"0 12 * * 1-5/2", false, "0 12 * * 1,3,5", "at 12:00 on Monday, Wednesday and Friday"},
    {"0 0 1-7 * 1", false, "0 0 1-7 * 1", "at 00:00 on days 1 through 7 of the month or on Monday"},
    /* Restricted-ness survives normalisation: "1-31" must not become '*'
     * (it would stop ORing with the weekday), nor hour "0-23" (DST policy). */
    {"0 0 */1 * mon", false, "0 0 1-31 * 1",
     "at 00:00 on days 1 through 31 of the month or on Monday"},
    {"0 0-23 * * *", false, "0 0-23 * * *", "at minute 0 of every hour"},
    {"0 */1 * * *", false, "0 */1 * * *", "at minute 0 of every hour"},
    {"0-59 * * * *", false, "* * * * *", "every minute"},
    /* Impossible. */
    {"0 0 30 2 *", false, "0 0 30 2 *", "at 00:00 on February 30 (no date ever matches)"},
    /* The named form: APScheduler numbering, fields in order, AND of day and weekday. */
    {"hour=9", true, "hour=9", "at 09:00 every day"},
    {"hour=9 minute=30 day_of_week=mon-fri", true, "day_of_week=0-4 hour=9 minute=30",
     "at 09:30 on Monday through Friday"},
    {"day_of_week=sun", true, "day_of_week=6", "at 00:00 on Sunday"},
    {"day=13 day_of_week=fri", true, "day=13 day_of_week=4",
     "at 00:00 on day 13 of the month, if it falls on Friday"},
    {"day=last fri hour=9", true, "day=last fri hour=9",
     "at 09:00 on the last Friday of the month"},
    {"day=3rd  FRI,1st mon hour=8", true, "day=1st mon,3rd fri hour=8",
     "at 08:00 on the first Monday and the third Friday of the month"},
    {"day=last", true, "day=L", "at 00:00 on the last day of the month"},
    {"day_of_week=fri#2,6L", true, "day_of_week=4#2,6L",
     "at 00:00 on the second Friday and the last Sunday of the month"},
    {"week=1-10/2 day_of_week=sun,sat hour=9", true, "week=1-9/2 day_of_week=5,6 hour=9",
     "at 09:00 on Saturday and Sunday in every 2nd ISO week from 1 through 9"},
    {"week=5", true, "week=5", "at 00:00 every day in ISO week 5"},
    {"year=2027", true, "year=2027", "at 00:00 on January 1, 2027"},
    {"second=*/5 minute=0-10", true, "minute=0-10 second=*/5",
     "every 5 seconds during minutes 0 through 10 of every hour"},
    {"month=jan,jul day=1-7 day_of_week=mon", true, "month=1,7 day=1-7 day_of_week=0",
     "at 00:00 on days 1 through 7 of the month, if it falls on Monday, in January and July"},
};

static void same_spec(const tempo__cron_spec_t *a, const tempo__cron_spec_t *b, const char *what)
{
    bool same = a->seconds == b->seconds && a->minutes == b->minutes && a->hours == b->hours &&
                a->days == b->days && a->months == b->months && a->dows == b->dows &&
                a->weeks == b->weeks && memcmp(a->years, b->years, sizeof a->years) == 0 &&
                a->n_day_specials == b->n_day_specials && a->n_dow_specials == b->n_dow_specials &&
                memcmp(a->day_specials, b->day_specials,
                       a->n_day_specials * sizeof a->day_specials[0]) == 0 &&
                memcmp(a->dow_specials, b->dow_specials,
                       a->n_dow_specials * sizeof a->dow_specials[0]) == 0 &&
                a->day_restricted == b->day_restricted && a->dow_restricted == b->dow_restricted &&
                a->week_restricted == b->week_restricted && a->day_or_dow == b->day_or_dow &&
                a->hours_follow_real_time == b->hours_follow_real_time &&
                a->possible == b->possible;
    if (!same)
        fail_msg("'%s': the normalised text means something else", what);
}

static void test_normalize_and_describe(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tempo__cron_spec_t s, again;
        tempo__cron_text_t t, t2;
        tempo_error_t err;
        char norm[256], norm2[256], desc[512];
        if (tempo__cron_parse(cases[i].expr, cases[i].named, &s, &t, &err) != TEMPO_OK)
            fail_msg("'%s': %s", cases[i].expr, err.message);
        int n = tempo__cron_normalize(&t, norm, sizeof norm);
        assert_int_equal(n, strlen(norm));
        if (strcmp(norm, cases[i].normalized) != 0)
            fail_msg("'%s' normalised:\n got  %s\n want %s", cases[i].expr, norm,
                     cases[i].normalized);
        int d = tempo__cron_describe(&s, &t, desc, sizeof desc);
        assert_int_equal(d, strlen(desc));
        if (strcmp(desc, cases[i].description) != 0)
            fail_msg("'%s' described:\n got  %s\n want %s", cases[i].expr, desc,
                     cases[i].description);

        /* The normalised text parses to the same spec and normalises to itself. */
        if (tempo__cron_parse(norm, cases[i].named, &again, &t2, &err) != TEMPO_OK)
            fail_msg("'%s' does not reparse: %s", norm, err.message);
        same_spec(&s, &again, cases[i].expr);
        assert_int_equal(tempo__cron_normalize(&t2, norm2, sizeof norm2), n);
        assert_string_equal(norm2, norm);
        tempo__cron_text_free(&t);
        tempo__cron_text_free(&t2);
    }
}

/* snprintf semantics: the length needed comes back, output is cut and
 * NUL-terminated, a zero size writes nothing. */
static void test_truncation(void **state)
{
    (void)state;
    tempo__cron_spec_t s;
    tempo__cron_text_t t;
    assert_int_equal(tempo__cron_parse("30 9 * * mon-fri", false, &s, &t, NULL), TEMPO_OK);
    char buf[8];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(tempo__cron_normalize(&t, buf, sizeof buf), 12);
    assert_string_equal(buf, "30 9 * ");
    assert_int_equal(tempo__cron_describe(&s, &t, buf, sizeof buf), 33);
    assert_string_equal(buf, "at 09:3");
    memset(buf, 'x', sizeof buf);
    assert_int_equal(tempo__cron_normalize(&t, buf, 0), 12);
    assert_int_equal(tempo__cron_describe(&s, &t, NULL, 0), 33);
    assert_int_equal(buf[0], 'x');
    assert_int_equal(tempo__cron_normalize(NULL, buf, sizeof buf), -1);
    assert_int_equal(tempo__cron_describe(NULL, &t, buf, sizeof buf), -1);
    tempo__cron_text_free(&t);
}

/* A NULL buffer only counts, whatever the size says (as the text builder of
 * the other triggers already did): the public calls used to write the
 * terminating NUL through it and crash, and "never" went to snprintf(NULL, 16). */
static void test_null_buffer(void **state)
{
    (void)state;
    tempo__cron_spec_t s;
    tempo__cron_text_t t;
    assert_int_equal(tempo__cron_parse("30 9 * * mon-fri", false, &s, &t, NULL), TEMPO_OK);
    assert_int_equal(tempo__cron_normalize(&t, NULL, 16), 12);
    assert_int_equal(tempo__cron_describe(&s, &t, NULL, 16), 33);
    tempo__cron_text_free(&t);

    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = "UTC";
    tempo_trigger_t *cron = NULL;
    assert_int_equal(tempo_trigger_cron_new("30 9 * * mon-fri", &o, &cron, NULL), TEMPO_OK);
    const char *want = "at 09:30 on Monday through Friday (UTC)";
    assert_int_equal(tempo_trigger_describe(cron, NULL, 16), (int)strlen(want));
    assert_int_equal(tempo_trigger_cron_normalized(cron, NULL, 16), 12);
    assert_int_equal(tempo_trigger_describe(NULL, NULL, 16), 5); /* "never" */
    tempo_trigger_free(cron);
}

/* Very long lists still describe and normalise in full when asked. */
static void test_long_lists(void **state)
{
    (void)state;
    tempo__cron_spec_t s;
    tempo__cron_text_t t;
    assert_int_equal(tempo__cron_parse("0 0 0 1 1 * 1900-2998/2,2999", false, &s, &t, NULL),
                     TEMPO_OK);
    char norm[64];
    assert_int_equal(tempo__cron_normalize(&t, NULL, 0), strlen("0 0 0 1 1 * */2,2999"));
    tempo__cron_normalize(&t, norm, sizeof norm);
    assert_string_equal(norm, "0 0 0 1 1 * */2,2999");
    char big[8192];
    int d = tempo__cron_describe(&s, &t, big, sizeof big);
    assert_int_equal(d, strlen(big));
    const char *head = "at 00:00 on January 1, in 1900, 1902, 1904, ";
    assert_memory_equal(big, head, strlen(head));
    const char *tail = ", 2996, 2998 and 2999";
    assert_true((size_t)d > strlen(tail));
    assert_string_equal(big + d - strlen(tail), tail);
    tempo__cron_text_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_and_describe),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_null_buffer),
        cmocka_unit_test(test_long_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
