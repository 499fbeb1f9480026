/* The stored form: every trigger type survives to_bson -> from_bson with the
 * same fire times and the same bytes; the documents have the documented shape
 * (int64 microseconds, int32 "v"); and every kind of bad document is refused
 * with the expected code and a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

#define T0 INT64_C(1798761600000000) /* 2027-01-01T00:00:00Z */
#define HOUR TEMPO_HOURS(1)

/* ---- a small custom type (stateless: on the hour) for the mixed tree ---- */

static tempo_time_t hourly_next(const void *state, tempo_time_t after)
{
    (void)state;
    if (after > INT64_MAX - HOUR)
        return TEMPO_TIME_NONE;
    return after - (((after % HOUR) + HOUR) % HOUR) + HOUR;
}

static tempo_status_t hourly_serialize(const void *state, bson_t *doc, tempo_error_t *err)
{
    (void)state, (void)err;
    BSON_APPEND_UTF8(doc, "note", "on the hour");
    return TEMPO_OK;
}

static tempo_status_t hourly_deserialize(const bson_t *doc, void **state, tempo_error_t *err)
{
    (void)doc, (void)err;
    *state = NULL;
    return TEMPO_OK;
}

static void hourly_free(void *state)
{
    (void)state;
}

static int setup(void **state)
{
    (void)state;
    static const tempo_trigger_type_t hourly = {
        .size = sizeof(tempo_trigger_type_t),
        .name = "test.hourly",
        .next = hourly_next,
        .serialize = hourly_serialize,
        .deserialize = hourly_deserialize,
        .free = hourly_free,
    };
    tempo_error_t err;
    if (tempo_trigger_type_register(&hourly, &err) != TEMPO_OK)
        fail_msg("register: %s", err.message);
    const tempo_zone_t *z;
    if (tempo_zone_get("Europe/Berlin", &z, &err) != TEMPO_OK ||
        tempo_zone_get("America/New_York", &z, &err) != TEMPO_OK) {
        char why[300];
        snprintf(why, sizeof why, "time zone data missing: %s", err.message);
        tempo_test_skip(why);
    }
    return 0;
}

/* ---- builders ---- */

/* Call with the status already computed: the trigger is read afterwards. */
static tempo_trigger_t *check(tempo_status_t rc, tempo_trigger_t *const *t, const tempo_error_t *err)
{
    if (rc != TEMPO_OK)
        fail_msg("building a trigger: %s", err->message);
    return *t;
}

static tempo_trigger_t *date(tempo_time_t at)
{
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_date_new(at, &t, &err);
    return check(rc, &t, &err);
}

static tempo_trigger_t *interval(tempo_duration_t period, tempo_time_t start, tempo_time_t end)
{
    tempo_interval_options_t o = TEMPO_INTERVAL_OPTIONS_INIT;
    o.period = period;
    o.start = start;
    o.end = end;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_interval_new(&o, &t, &err);
    return check(rc, &t, &err);
}

static tempo_trigger_t *calendar(int months, int days, const char *zone, tempo_dst_gap_t gap,
                                 tempo_time_t end)
{
    tempo_calendar_options_t o = TEMPO_CALENDAR_OPTIONS_INIT;
    o.months = months;
    o.days = days;
    o.hour = 2;
    o.minute = 30;
    o.start_year = 2027;
    o.start_month = 1;
    o.start_day = 31;
    o.zone = zone;
    o.dst_gap = gap;
    o.end = end;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_calendar_new(&o, &t, &err);
    return check(rc, &t, &err);
}

static tempo_trigger_t *cron(const char *expr, bool fields, const char *zone, tempo_time_t start,
                             tempo_time_t end)
{
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = zone;
    o.start = start;
    o.end = end;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = fields ? tempo_trigger_cron_fields_new(expr, &o, &t, &err)
                               : tempo_trigger_cron_new(expr, &o, &t, &err);
    return check(rc, &t, &err);
}

static tempo_trigger_t *custom_hourly(void)
{
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_custom_new("test.hourly", NULL, &t, &err);
    return check(rc, &t, &err);
}

/* and/or over `kids`, dropping the caller's references. */
static tempo_trigger_t *combine(bool is_and, tempo_trigger_t **kids, size_t n, tempo_duration_t thr)
{
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    o.threshold = thr;
    o.max_iterations = 500;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = is_and ? tempo_trigger_and_new(kids, n, &o, &t, &err)
                               : tempo_trigger_or_new(kids, n, &o, &t, &err);
    for (size_t i = 0; i < n; i++)
        tempo_trigger_free(kids[i]);
    return check(rc, &t, &err);
}

/* ---- round trips ---- */

static uint64_t rng_state = 0xD1B54A32D192ED03u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void round_trip(tempo_trigger_t *t)
{
    bson_t doc, again;
    tempo_error_t err;
    tempo_trigger_t *back = NULL;
    if (tempo_trigger_to_bson(t, &doc, &err) != TEMPO_OK)
        fail_msg("%s: to_bson: %s", tempo_trigger_type_name(t), err.message);
    if (tempo_trigger_from_bson(&doc, &back, &err) != TEMPO_OK) {
        char *json = bson_as_canonical_extended_json(&doc, NULL);
        fail_msg("%s: from_bson: %s\n%s", tempo_trigger_type_name(t), err.message, json);
    }
    assert_string_equal(tempo_trigger_type_name(back), tempo_trigger_type_name(t));

    /* Same fire times: a chain from before the start, and random points. */
    tempo_time_t a = T0 - TEMPO_DAYS(40), b = a;
    for (int i = 0; i < 60 && a != TEMPO_TIME_NONE; i++) {
        a = tempo_trigger_next(t, a);
        b = tempo_trigger_next(back, b);
        assert_int_equal(a, b);
    }
    for (int i = 0; i < 400; i++) {
        tempo_time_t p = T0 - TEMPO_DAYS(400) + (tempo_time_t)(rnd() % (uint64_t)TEMPO_DAYS(1500));
        assert_int_equal(tempo_trigger_next(t, p), tempo_trigger_next(back, p));
    }
    /* Same description and the same bytes when stored again. */
    char d1[1024], d2[1024];
    tempo_trigger_describe(t, d1, sizeof d1);
    tempo_trigger_describe(back, d2, sizeof d2);
    assert_string_equal(d1, d2);
    assert_int_equal(tempo_trigger_to_bson(back, &again, &err), TEMPO_OK);
    assert_int_equal(doc.len, again.len);
    assert_memory_equal(bson_get_data(&doc), bson_get_data(&again), doc.len);
    bson_destroy(&again);
    bson_destroy(&doc);
    tempo_trigger_free(back);
    tempo_trigger_free(t);
}

static void test_round_trip_each_type(void **state)
{
    (void)state;
    round_trip(date(T0 + 12345));
    round_trip(interval(TEMPO_MINUTES(15), T0, TEMPO_TIME_NONE));
    round_trip(interval(7, T0 - 3, T0 + TEMPO_DAYS(30)));
    round_trip(calendar(2, 0, "Europe/Berlin", TEMPO_DST_GAP_SHIFT, TEMPO_TIME_NONE));
    round_trip(calendar(0, 1, "America/New_York", TEMPO_DST_GAP_SKIP, T0 + TEMPO_DAYS(400)));
    round_trip(calendar(1, 3, "UTC", TEMPO_DST_GAP_SHIFT, TEMPO_TIME_NONE));
    round_trip(cron("30 9 * * mon-fri", false, "Europe/Berlin", TEMPO_TIME_NONE, TEMPO_TIME_NONE));
    round_trip(cron("0 */2 * * *", false, "America/New_York", T0, T0 + TEMPO_DAYS(90)));
    round_trip(cron("hour=9 minute=30 day_of_week=mon-fri", true, "UTC", TEMPO_TIME_NONE,
                    TEMPO_TIME_NONE));
    round_trip(custom_hourly());
}

static void test_round_trip_nested(void **state)
{
    (void)state;
    tempo_trigger_t *inner[] = {date(T0 + 5 * HOUR), interval(3 * HOUR, T0, TEMPO_TIME_NONE),
                                cron("0 0 * * *", false, "Europe/Berlin", TEMPO_TIME_NONE,
                                     TEMPO_TIME_NONE)};
    tempo_trigger_t *or1 = combine(false, inner, 3, TEMPO_SECONDS(1));
    tempo_trigger_t *outer[] = {or1, custom_hourly(),
                                calendar(0, 2, "America/New_York", TEMPO_DST_GAP_SHIFT,
                                         TEMPO_TIME_NONE)};
    tempo_trigger_t *and1 = combine(true, outer, 3, TEMPO_MINUTES(45));
    tempo_trigger_t *top[] = {and1, date(T0 + 1)};
    round_trip(combine(false, top, 2, 0));
}

/* The documented shape, exactly (canonical extended JSON shows BSON types). */
static void expect_json(tempo_trigger_t *t, const char *want)
{
    bson_t doc;
    assert_int_equal(tempo_trigger_to_bson(t, &doc, NULL), TEMPO_OK);
    char *json = bson_as_canonical_extended_json(&doc, NULL);
    if (strcmp(json, want) != 0)
        fail_msg("got  %s\nwant %s", json, want);
    bson_free(json);
    bson_destroy(&doc);
    tempo_trigger_free(t);
}

static void test_stored_shape(void **state)
{
    (void)state;
    expect_json(date(T0),
                "{ \"type\" : \"date\", \"v\" : { \"$numberInt\" : \"1\" }, "
                "\"at\" : { \"$numberLong\" : \"1798761600000000\" } }");
    expect_json(interval(TEMPO_MINUTES(15), T0, T0 + HOUR),
                "{ \"type\" : \"interval\", \"v\" : { \"$numberInt\" : \"1\" }, "
                "\"period\" : { \"$numberLong\" : \"900000000\" }, "
                "\"start\" : { \"$numberLong\" : \"1798761600000000\" }, "
                "\"end\" : { \"$numberLong\" : \"1798765200000000\" } }");
    expect_json(calendar(2, 0, "Europe/Berlin", TEMPO_DST_GAP_SKIP, TEMPO_TIME_NONE),
                "{ \"type\" : \"calendar\", \"v\" : { \"$numberInt\" : \"1\" }, "
                "\"years\" : { \"$numberInt\" : \"0\" }, \"months\" : { \"$numberInt\" : \"2\" }, "
                "\"weeks\" : { \"$numberInt\" : \"0\" }, \"days\" : { \"$numberInt\" : \"0\" }, "
                "\"hour\" : { \"$numberInt\" : \"2\" }, \"minute\" : { \"$numberInt\" : \"30\" }, "
                "\"second\" : { \"$numberInt\" : \"0\" }, \"start_date\" : \"2027-01-31\", "
                "\"zone\" : \"Europe/Berlin\", \"dst_gap\" : \"skip\" }");
    tempo_trigger_t *kids[] = {date(T0)};
    expect_json(combine(true, kids, 1, TEMPO_SECONDS(1)),
                "{ \"type\" : \"and\", \"v\" : { \"$numberInt\" : \"1\" }, "
                "\"threshold\" : { \"$numberLong\" : \"1000000\" }, "
                "\"max_iterations\" : { \"$numberInt\" : \"500\" }, \"triggers\" : [ "
                "{ \"type\" : \"date\", \"v\" : { \"$numberInt\" : \"1\" }, "
                "\"at\" : { \"$numberLong\" : \"1798761600000000\" } } ] }");
}

static void test_lenient_reading(void **state)
{
    (void)state;
    /* int32 where int64 is written, null for an absent optional field, and
     * unknown extra fields are all accepted. */
    bson_t *doc = BCON_NEW("type", BCON_UTF8("interval"), "v", BCON_INT64(1), "period", BCON_INT32(10),
                           "start", BCON_INT32(5), "end", BCON_NULL, "comment", BCON_UTF8("hi"));
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_from_bson(doc, &t, &err), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 5), 15);
    assert_int_equal(tempo_trigger_next(t, INT64_MAX - 20), INT64_MAX - 12); /* no end */
    tempo_trigger_free(t);
    bson_destroy(doc);
}

/* ---- refusals ---- */

static void expect_refused(bson_t *doc, tempo_status_t code, const char *needle)
{
    tempo_trigger_t *t = (tempo_trigger_t *)&t;
    tempo_trigger_t *const sentinel = t;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_from_bson(doc, &t, &err);
    char *json = bson_as_relaxed_extended_json(doc, NULL);
    if (rc != code || err.code != code || !strstr(err.message, needle))
        fail_msg("%s\n  got %d '%s'\n  want %d with '%s'", json, (int)rc, err.message, (int)code, needle);
    assert_ptr_equal(t, sentinel); /* nothing handed out */
    bson_free(json);
    bson_destroy(doc);
}

#define DATE_AT(v) "type", BCON_UTF8("date"), "v", BCON_INT32(1), "at", v
#define INTERVAL(p) "type", BCON_UTF8("interval"), "v", BCON_INT32(1), "period", p, \
                    "start", BCON_INT64(0)

static void test_refuse_envelope(void **state)
{
    (void)state;
    expect_refused(BCON_NEW("v", BCON_INT32(1)), TEMPO_EFORMAT, "trigger: missing field 'type'");
    expect_refused(BCON_NEW("type", BCON_INT32(5)), TEMPO_EFORMAT,
                   "trigger: field 'type' must be a string, found int32");
    expect_refused(BCON_NEW("type", BCON_UTF8("foo"), "v", BCON_INT32(1)), TEMPO_ENOTFOUND,
                   "trigger: unknown type 'foo' (not built in and not registered)");
    expect_refused(BCON_NEW("type", BCON_UTF8("cron"), "v", BCON_INT32(3), "expr", BCON_UTF8("* * * * *")),
                   TEMPO_EVERSION, "trigger 'cron': stored version 3, this build reads up to 1");
    expect_refused(BCON_NEW("type", BCON_UTF8("calendar"), "v", BCON_INT64(2)), TEMPO_EVERSION,
                   "trigger 'calendar': stored version 2, this build reads up to 1");
    expect_refused(BCON_NEW("type", BCON_UTF8("date"), "at", BCON_INT64(1)), TEMPO_EFORMAT,
                   "trigger 'date': missing field 'v'");
    expect_refused(BCON_NEW("type", BCON_UTF8("date"), "v", BCON_DOUBLE(1.0), "at", BCON_INT64(1)),
                   TEMPO_EFORMAT, "trigger 'date': field 'v' must be an integer (int64), found double");
    expect_refused(BCON_NEW("type", BCON_UTF8("date"), "v", BCON_INT32(0), "at", BCON_INT64(1)),
                   TEMPO_EFORMAT, "trigger 'date': field 'v' must be >= 1, got 0");
    expect_refused(BCON_NEW("type", BCON_UTF8("date"), "v", BCON_INT64(INT64_C(1) << 40)),
                   TEMPO_EFORMAT, "field 'v' must fit 32 bits");

    tempo_error_t err;
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_from_bson(NULL, &t, &err), TEMPO_EINVAL);
    bson_t empty = BSON_INITIALIZER;
    assert_int_equal(tempo_trigger_from_bson(&empty, NULL, &err), TEMPO_EINVAL);
    assert_int_equal(tempo_trigger_to_bson(NULL, &empty, &err), TEMPO_EINVAL);
    assert_int_equal(empty.len, 5); /* initialised, empty, destroyable */
    bson_destroy(&empty);

    /* A corrupt buffer: a string claiming 1000 bytes in a 16-byte document. */
    static const uint8_t corrupt[16] = {16, 0, 0, 0, 0x02, 'a', 0, 0xe8, 0x03, 0, 0, 'x', 'x', 'x', 'x', 0};
    bson_t bad;
    assert_true(bson_init_static(&bad, corrupt, sizeof corrupt));
    assert_int_equal(tempo_trigger_from_bson(&bad, &t, &err), TEMPO_EFORMAT);
    assert_non_null(strstr(err.message, "corrupt BSON document"));
}

static void test_refuse_fields(void **state)
{
    (void)state;
    expect_refused(BCON_NEW("type", BCON_UTF8("date"), "v", BCON_INT32(1)), TEMPO_EFORMAT,
                   "trigger 'date': missing field 'at'");
    expect_refused(BCON_NEW(DATE_AT(BCON_DATE_TIME(1000))), TEMPO_EFORMAT,
                   "trigger 'date': field 'at' must be an integer (int64 microseconds), found date");
    expect_refused(BCON_NEW(DATE_AT(BCON_DOUBLE(1.5))), TEMPO_EFORMAT, "found double");
    expect_refused(BCON_NEW(INTERVAL(BCON_DOUBLE(60.0))), TEMPO_EFORMAT,
                   "trigger 'interval': field 'period' must be an integer (int64), found double");
    expect_refused(BCON_NEW(INTERVAL(BCON_INT64(0))), TEMPO_EFORMAT,
                   "interval: period must be > 0 microseconds, got 0");
    expect_refused(BCON_NEW("type", BCON_UTF8("interval"), "v", BCON_INT32(1), "period", BCON_INT64(5)),
                   TEMPO_EFORMAT, "trigger 'interval': missing field 'start'");
    expect_refused(BCON_NEW(INTERVAL(BCON_INT64(5)), "end", BCON_INT64(-1)), TEMPO_EFORMAT,
                   "interval: end (-1) is before start (0)");
}

/* A calendar document with one field replaced (or dropped when value is NULL). */
static bson_t *calendar_doc(const char *field, const bson_value_t *value)
{
    bson_t *good = NULL;
    tempo_trigger_t *t = calendar(1, 0, "Europe/Berlin", TEMPO_DST_GAP_SHIFT, TEMPO_TIME_NONE);
    bson_t stored;
    assert_int_equal(tempo_trigger_to_bson(t, &stored, NULL), TEMPO_OK);
    tempo_trigger_free(t);
    good = bson_new();
    bson_iter_t it;
    bson_iter_init(&it, &stored);
    while (bson_iter_next(&it)) {
        if (strcmp(bson_iter_key(&it), field) != 0)
            bson_append_iter(good, NULL, 0, &it);
        else if (value)
            bson_append_value(good, field, -1, value);
    }
    bson_destroy(&stored);
    return good;
}

static bson_value_t utf8(const char *s)
{
    bson_value_t v = {.value_type = BSON_TYPE_UTF8};
    v.value.v_utf8.str = (char *)s;
    v.value.v_utf8.len = (uint32_t)strlen(s);
    return v;
}

static bson_value_t int32(int32_t i)
{
    bson_value_t v = {.value_type = BSON_TYPE_INT32};
    v.value.v_int32 = i;
    return v;
}

static void test_refuse_calendar(void **state)
{
    (void)state;
    bson_value_t v = utf8("2027-1-5");
    expect_refused(calendar_doc("start_date", &v), TEMPO_EFORMAT,
                   "trigger 'calendar': field 'start_date' must be \"YYYY-MM-DD\", got \"2027-1-5\"");
    v = utf8("2023-02-29");
    expect_refused(calendar_doc("start_date", &v), TEMPO_EFORMAT, "start date 2023-02-29 does not exist");
    v = int32(25);
    expect_refused(calendar_doc("hour", &v), TEMPO_EFORMAT, "time of day 25:30:00 is not valid");
    v = int32(-2);
    expect_refused(calendar_doc("weeks", &v), TEMPO_EFORMAT, "weeks must be >= 0, got -2");
    v = int32(0);
    expect_refused(calendar_doc("months", &v), TEMPO_EFORMAT, "are all 0");
    v = int32(7);
    expect_refused(calendar_doc("zone", &v), TEMPO_EFORMAT,
                   "trigger 'calendar': field 'zone' must be a string, found int32");
    v = utf8("Mars/Olympus");
    expect_refused(calendar_doc("zone", &v), TEMPO_ENOTFOUND, "Mars/Olympus");
    v = utf8("maybe");
    expect_refused(calendar_doc("dst_gap", &v), TEMPO_EFORMAT,
                   "field 'dst_gap' must be \"shift\" or \"skip\", got \"maybe\"");
    expect_refused(calendar_doc("days", NULL), TEMPO_EFORMAT, "trigger 'calendar': missing field 'days'");
    expect_refused(calendar_doc("zone", NULL), TEMPO_EFORMAT, "trigger 'calendar': missing field 'zone'");
}

#define COMBINE(type) "type", BCON_UTF8(type), "v", BCON_INT32(1), "threshold", BCON_INT64(0), \
                      "max_iterations", BCON_INT32(10)

static void test_refuse_combine(void **state)
{
    (void)state;
    expect_refused(BCON_NEW(COMBINE("and"), "triggers", "{", "}"), TEMPO_EFORMAT,
                   "trigger 'and': field 'triggers' must be an array, found document");
    expect_refused(BCON_NEW(COMBINE("or"), "triggers", "[", "{", DATE_AT(BCON_INT64(1)), "}",
                            BCON_INT32(4), "]"),
                   TEMPO_EFORMAT, "trigger 'or': triggers[1] must be a document, found int32");
    expect_refused(BCON_NEW(COMBINE("and"), "triggers", "[", "]"), TEMPO_EFORMAT,
                   "and: needs at least one child trigger");
    expect_refused(BCON_NEW("type", BCON_UTF8("and"), "v", BCON_INT32(1), "threshold", BCON_INT64(-1),
                            "max_iterations", BCON_INT32(10), "triggers", "[", "{",
                            DATE_AT(BCON_INT64(1)), "}", "]"),
                   TEMPO_EFORMAT, "and: threshold must be >= 0 microseconds, got -1");
    expect_refused(BCON_NEW("type", BCON_UTF8("or"), "v", BCON_INT32(1), "threshold", BCON_INT64(0),
                            "triggers", "[", "]"),
                   TEMPO_EFORMAT, "trigger 'or': missing field 'max_iterations'");
    /* A bad grandchild: the message says where it is. */
    expect_refused(BCON_NEW(COMBINE("and"), "triggers", "[", "{", DATE_AT(BCON_INT64(1)), "}", "{",
                            COMBINE("or"), "triggers", "[", "{", DATE_AT(BCON_INT64(1)), "}", "{",
                            INTERVAL(BCON_INT64(0)), "}", "]", "}", "]"),
                   TEMPO_EFORMAT,
                   "trigger 'and' triggers[1]: trigger 'or' triggers[1]: interval: period must be > 0 "
                   "microseconds, got 0");
    expect_refused(BCON_NEW(COMBINE("or"), "triggers", "[", "{", "type", BCON_UTF8("nope"), "v",
                            BCON_INT32(1), "}", "]"),
                   TEMPO_ENOTFOUND,
                   "trigger 'or' triggers[0]: trigger: unknown type 'nope' (not built in and not "
                   "registered)");
}

/* The copy of `doc` with the first byte sequence `find` (of `n` bytes)
 * changed to start with `to`: a corrupt record as a disk or a wire makes it. */
static void expect_corruption_refused(const bson_t *doc, const uint8_t *find, size_t n, uint8_t to)
{
    uint8_t *bytes = malloc(doc->len);
    assert_non_null(bytes);
    memcpy(bytes, bson_get_data(doc), doc->len);
    size_t at = 0;
    while (at + n <= doc->len && memcmp(bytes + at, find, n) != 0)
        at++;
    assert_true(at + n <= doc->len);
    bytes[at] = to;
    bson_t bad;
    assert_true(bson_init_static(&bad, bytes, doc->len));
    tempo_trigger_t *t = (tempo_trigger_t *)&t;
    tempo_trigger_t *const sentinel = t;
    tempo_error_t err;
    tempo_status_t rc = tempo_trigger_from_bson(&bad, &t, &err);
    if (rc != TEMPO_EFORMAT || !strstr(err.message, "trigger 'or': field 'triggers' is a corrupt array"))
        fail_msg("got %d '%s'", (int)rc, err.message);
    assert_ptr_equal(t, sentinel);
    free(bytes);
}

/* Only the top level of a document is checked before it is read; the
 * elements of "triggers" are checked as the loader walks them. A corrupt
 * element used to end the walk quietly, loading an "or" with fewer children
 * than were stored (a different schedule) instead of refusing the record. */
static void test_refuse_corrupt_children(void **state)
{
    (void)state;
    bson_t *doc = BCON_NEW(COMBINE("or"), "triggers", "[", "{", DATE_AT(BCON_INT64(1)), "}", "{",
                           DATE_AT(BCON_INT64(2)), "}", "]");
    const uint8_t second[3] = {0x03, '1', 0}; /* triggers[1]: an embedded document */
    expect_corruption_refused(doc, second, 3, 0x7e); /* an unknown element type */
    expect_corruption_refused(doc, second, 3, 0x00); /* the array ends early */
    bson_destroy(doc);
}

/* `levels` levels: `levels - 1` nested "or" around a date. */
static bson_t *nested(int levels)
{
    bson_t *doc = BCON_NEW(DATE_AT(BCON_INT64(T0)));
    for (int i = 1; i < levels; i++) {
        bson_t *parent = BCON_NEW(COMBINE("or"), "triggers", "[", BCON_DOCUMENT(doc), "]");
        bson_destroy(doc);
        doc = parent;
    }
    return doc;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    bson_t *ok = nested(32);
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    if (tempo_trigger_from_bson(ok, &t, &err) != TEMPO_OK)
        fail_msg("32 levels: %s", err.message);
    assert_int_equal(tempo_trigger_next(t, 0), T0);
    tempo_trigger_free(t);
    bson_destroy(ok);
    expect_refused(nested(33), TEMPO_EFORMAT, "trigger: nested more than 32 levels deep");
    expect_refused(nested(200), TEMPO_EFORMAT, "nested more than 32 levels deep");
}

/* {"a": {"a": ... {} ...}} nested `levels` deep, as raw bytes (building it
 * with bson_append_document_begin would need one bson_t per level). */
static uint8_t *deep_bytes(int levels, size_t *len)
{
    size_t total = (size_t)levels * 8 + 5; /* per level: length, type, "a\0", terminator */
    uint8_t *buf = malloc(total);
    assert_non_null(buf);
    size_t off = 0;
    for (int i = 0; i < levels; i++) {
        uint32_t n = (uint32_t)(total - (size_t)i * 8);
        memcpy(buf + off, &n, 4); /* BSON lengths are little-endian, as is this host */
        buf[off + 4] = 0x03;      /* embedded document */
        buf[off + 5] = 'a';
        buf[off + 6] = 0;
        off += 7;
    }
    const uint8_t empty[5] = {5, 0, 0, 0, 0};
    memcpy(buf + off, empty, 5);
    off += 5;
    memset(buf + off, 0, (size_t)levels); /* each level's terminator */
    *len = off + (size_t)levels;
    assert_int_equal(*len, total);
    return buf;
}

/* libbson's bson_validate() recurses once per level and overflows the stack
 * on this document; the loader must only ever look one level down. */
static void test_deep_documents_are_not_walked(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = deep_bytes(200000, &len);
    bson_t deep;
    assert_true(bson_init_static(&deep, bytes, len));

    bson_t *doc = BCON_NEW(DATE_AT(BCON_INT64(T0)));
    assert_true(bson_append_document(doc, "junk", -1, &deep));
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    assert_int_equal(tempo_trigger_from_bson(doc, &t, &err), TEMPO_OK);
    assert_int_equal(tempo_trigger_next(t, 0), T0);
    tempo_trigger_free(t);
    bson_destroy(doc);

    expect_refused(BCON_NEW(COMBINE("or"), "triggers", "[", BCON_DOCUMENT(&deep), "]"), TEMPO_EFORMAT,
                   "trigger 'or' triggers[0]: trigger: missing field 'type'");
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_each_type), cmocka_unit_test(test_round_trip_nested),
        cmocka_unit_test(test_stored_shape),         cmocka_unit_test(test_lenient_reading),
        cmocka_unit_test(test_refuse_envelope),      cmocka_unit_test(test_refuse_fields),
        cmocka_unit_test(test_refuse_calendar),      cmocka_unit_test(test_refuse_combine),
        cmocka_unit_test(test_refuse_corrupt_children),
        cmocka_unit_test(test_nesting_limit),        cmocka_unit_test(test_deep_documents_are_not_walked),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
