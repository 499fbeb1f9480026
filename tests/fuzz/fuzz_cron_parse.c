/* libFuzzer target: the cron parsers and everything a parsed trigger offers.
 *
 * Arbitrary bytes go to tempo_trigger_cron_new and _fields_new (as a
 * NUL-terminated copy). When they parse, the trigger must behave: next() is
 * strictly after its input or NONE, describe and normalize follow snprintf's
 * contract, the normalized text parses again to the same schedule, and the
 * BSON round trip gives back the same schedule. A broken promise traps, so
 * the fuzzer reports it like a crash. The first byte, when there is one, also
 * picks the zone and the DST policy, so the DST paths get fuzzed too.
 *
 * Built with clang-14 -fsanitize=fuzzer,address,undefined by tests.cmake. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tempo/trigger.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static const char *const ZONES[] = {"UTC", "America/New_York", "Australia/Lord_Howe",
                                    "Europe/Dublin", "America/Santiago", "Asia/Kolkata",
                                    "Pacific/Chatham", "Africa/Casablanca"};

/* Instants around DST changes, the epoch, and the ends of tempo's range. */
static const tempo_time_t AFTERS[] = {
    INT64_C(0),
    INT64_C(1457852399000000),  /* 2016-03-13T06:59:59Z, New York's gap */
    INT64_C(1478411999500000),  /* 2016-11-06T05:59:59.5Z, New York's fold */
    INT64_C(-2208988800000000), /* 1900-01-01 */
    INT64_C(32503593600000000), /* 2999-12-31 */
    INT64_C(4102444800000000),  /* 2100-01-01 */
};
#define NAFTERS (sizeof AFTERS / sizeof AFTERS[0])
#define CHAIN 3

static tempo_status_t parse(const char *text, bool fields, const tempo_cron_options_t *o,
                            tempo_trigger_t **out)
{
    tempo_error_t err;
    memset(&err, 0x5a, sizeof err);
    *out = NULL;
    tempo_status_t rc = fields ? tempo_trigger_cron_fields_new(text, o, out, &err)
                               : tempo_trigger_cron_new(text, o, out, &err);
    if (rc != TEMPO_OK) {
        /* A refusal says why, in a terminated message, and allocates nothing. */
        CHECK(*out == NULL);
        CHECK(err.code == rc);
        CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        CHECK(err.message[0] != '\0');
    }
    return rc;
}

/* Both triggers give the same chain of fire times. */
static void same_schedule(const tempo_trigger_t *a, const tempo_trigger_t *b)
{
    for (size_t i = 0; i < NAFTERS; i++) {
        tempo_time_t ta = AFTERS[i], tb = AFTERS[i];
        for (int k = 0; k < CHAIN && ta != TEMPO_TIME_NONE; k++) {
            ta = tempo_trigger_next(a, ta);
            tb = tempo_trigger_next(b, tb);
            CHECK(ta == tb);
        }
    }
}

static void check_next(const tempo_trigger_t *t)
{
    for (size_t i = 0; i < NAFTERS; i++) {
        tempo_time_t after = AFTERS[i];
        for (int k = 0; k < CHAIN; k++) {
            tempo_time_t n = tempo_trigger_next(t, after);
            if (n == TEMPO_TIME_NONE)
                break;
            CHECK(n > after);
            after = n;
        }
    }
}

/* snprintf's contract: the full length is returned whatever the size, and
 * what fits is terminated. */
static void check_text(const tempo_trigger_t *t, bool normalized)
{
    char big[1024], small[8];
    int n = normalized ? tempo_trigger_cron_normalized(t, big, sizeof big)
                       : tempo_trigger_describe(t, big, sizeof big);
    CHECK(n >= 0);
    if ((size_t)n < sizeof big)
        CHECK(strlen(big) == (size_t)n);
    int m = normalized ? tempo_trigger_cron_normalized(t, small, sizeof small)
                       : tempo_trigger_describe(t, small, sizeof small);
    CHECK(m == n);
    CHECK(strlen(small) == ((size_t)n < sizeof small ? (size_t)n : sizeof small - 1));
}

static void check_normalized_reparses(const tempo_trigger_t *t, bool fields,
                                      const tempo_cron_options_t *o)
{
    char text[1024];
    int n = tempo_trigger_cron_normalized(t, text, sizeof text);
    if (n < 0 || (size_t)n >= sizeof text)
        return;
    tempo_trigger_t *again = NULL;
    CHECK(parse(text, fields, o, &again) == TEMPO_OK);
    same_schedule(t, again);
    tempo_trigger_free(again);
}

static void check_bson(const tempo_trigger_t *t)
{
    bson_t doc;
    tempo_error_t err;
    CHECK(tempo_trigger_to_bson(t, &doc, &err) == TEMPO_OK);
    tempo_trigger_t *back = NULL;
    CHECK(tempo_trigger_from_bson(&doc, &back, &err) == TEMPO_OK);
    same_schedule(t, back);
    bson_destroy(&doc);
    tempo_trigger_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    uint8_t pick = size ? data[0] : 0;
    o.zone = ZONES[pick % (sizeof ZONES / sizeof ZONES[0])];
    o.dst_gap = (pick & 0x80) ? TEMPO_DST_GAP_SKIP : TEMPO_DST_GAP_SHIFT;

    for (int fields = 0; fields < 2; fields++) {
        tempo_trigger_t *t;
        if (parse(text, fields, &o, &t) != TEMPO_OK)
            continue;
        check_next(t);
        check_text(t, false);
        check_text(t, true);
        check_normalized_reparses(t, fields, &o);
        check_bson(t);
        tempo_trigger_free(t);
    }
    free(text);
    return 0;
}
