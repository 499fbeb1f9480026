/* Many threads looking up zones at once, released together so that they race
 * on the same cache misses, then converting with what they got. Every thread
 * must see one pointer per name and the same answers. Meant to run under
 * -DTEMPO_SANITIZE=thread as well. (cmocka's assertions are not thread-safe:
 * threads only record, the main thread asserts.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>

#include "test_support.h"
#include "tz/tz.h"

#define THREADS 8
#define ROUNDS 20

static const char *names[] = {
    "Europe/Berlin", "America/New_York", "Asia/Tokyo",        "Australia/Lord_Howe",
    "Europe/Dublin", "America/Santiago", "Pacific/Chatham",   "Asia/Kathmandu",
    "Africa/Casablanca", "America/Nuuk", "Pacific/Apia",      "Europe/Moscow",
    "+05:30",        "UTC-03:30",        "UTC",               "local",
    "Etc/GMT+5",     "Asia/Tehran",      "America/St_Johns",  "Antarctica/Troll",
};
#define NAMES (sizeof names / sizeof names[0])

typedef struct worker {
    int id;
    const tempo_zone_t *got[NAMES];
    uint64_t checksum; /* unsigned: it wraps */
    int errors;
} worker_t;

static pthread_barrier_t start;

static uint64_t probe(const tempo_zone_t *z)
{
    uint64_t sum = 0;
    for (int64_t t = -2000000000; t < 7000000000; t += 86400 * 97) {
        tempo__tz_span_t sp;
        tempo__zone_span(z, t, &sp);
        tempo_civil_t c;
        tempo_local_t l;
        tempo_zone_to_civil(z, t * TEMPO_USEC_PER_SEC, &c, NULL);
        tempo_zone_from_civil(z, &c, &l, NULL);
        sum = sum * 31 + (uint64_t)(sp.offset + sp.prev_offset + c.hour) +
              (l.earlier / TEMPO_USEC_PER_SEC == t);
    }
    return sum;
}

static void *run(void *arg)
{
    worker_t *w = arg;
    pthread_barrier_wait(&start);
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t k = 0; k < NAMES; k++) {
            size_t i = (k + (size_t)w->id * 3) % NAMES; /* each thread its own order */
            const tempo_zone_t *z = NULL;
            if (tempo_zone_get(names[i], &z, NULL) != TEMPO_OK || !z) {
                w->errors++;
                continue;
            }
            if (r == 0)
                w->got[i] = z;
            else if (w->got[i] != z)
                w->errors++;
        }
    }
    for (size_t i = 0; i < NAMES; i++)
        if (w->got[i])
            w->checksum = w->checksum * 7 + probe(w->got[i]);
    return NULL;
}

static void test_concurrent_lookups(void **state)
{
    (void)state;
    setenv("TZ", ":Europe/Paris", 1); /* before any thread reads it */
    pthread_t threads[THREADS];
    worker_t *workers = calloc(THREADS, sizeof *workers);
    assert_non_null(workers);
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        workers[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, run, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(workers[i].errors, 0);
        for (size_t k = 0; k < NAMES; k++)
            assert_ptr_equal(workers[i].got[k], workers[0].got[k]);
        assert_int_equal(workers[i].checksum, workers[0].checksum);
    }
    const tempo_zone_t *paris = NULL;
    assert_int_equal(tempo_zone_get("Europe/Paris", &paris, NULL), TEMPO_OK);
    assert_ptr_equal(workers[0].got[15], paris); /* "local" */
    free(workers);
}

int main(void)
{
    unsetenv("TZDIR");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
