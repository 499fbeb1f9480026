/* Brute-force fire times: walk real time forward and decide, instant by
 * instant, which ones fire under DESIGN.md §3's DST policy. Written for the
 * test; it asks tempo only to convert between instants and wall clocks
 * (tempo_zone_to_civil / tempo_zone_from_civil), never what an expression means. */
#ifndef TEMPO_TEST_CRON_SCAN_H
#define TEMPO_TEST_CRON_SCAN_H

#include <stdbool.h>
#include <tempo/clock.h>

#include "cron_model.h"

#define SCAN_MAX_FIRES 16

typedef struct scan_result {
    tempo_time_t fires[SCAN_MAX_FIRES];
    int n;
    /* Why the walk stopped: found `want` fires, reached the end of year 2999
     * (nothing more can fire: `never`), or ran out of steps (`horizon` is the
     * first instant not examined: nothing in (last fire, horizon) fires). */
    bool never;
    tempo_time_t horizon;
    long steps;
    /* For the summary: gaps crossed, fires placed at a gap's end (SHIFT),
     * second occurrences of folded wall times fired (hours following real
     * time) and not fired (fixed hours). */
    long gaps, gap_fires, fold_repeats, fold_skips;
} scan_result_t;

/* The first `want` (<= SCAN_MAX_FIRES) fire times strictly after `after`.
 * `skip` is the TEMPO_DST_GAP_SKIP policy. Fails the test (cmocka) if the
 * zone conversions contradict each other. */
void scan_fires(const cron_model_t *m, const tempo_zone_t *zone, bool skip, tempo_time_t after,
                int want, long max_steps, scan_result_t *out);

#endif
