/* Triggers without a scheduler: build a few, print when they fire next, and
 * store one as BSON and load it back.
 *
 *   $ build/default/bin/example_triggers
 */
#include <stdio.h>
#include <stdlib.h>
#include <tempo/tempo.h>

static void show(const char *label, const tempo_trigger_t *t, tempo_time_t after,
                 const tempo_zone_t *zone)
{
    char what[256], when[64];
    tempo_trigger_describe(t, what, sizeof what);
    printf("%s: %s\n", label, what);
    for (int i = 0; i < 3; i++) {
        after = tempo_trigger_next(t, after);
        if (after == TEMPO_TIME_NONE) {
            printf("  (no more fire times)\n");
            break;
        }
        tempo_time_format(after, zone, when, sizeof when);
        printf("  %s\n", when);
    }
}

static void check(tempo_status_t rc, const tempo_error_t *err)
{
    if (rc != TEMPO_OK) {
        fprintf(stderr, "example: %s\n", err->message);
        exit(1);
    }
}

int main(void)
{
    tempo_error_t err;
    const tempo_zone_t *ny;
    check(tempo_zone_get("America/New_York", &ny, &err), &err);
    tempo_time_t after;
    check(tempo_time_parse("2027-03-13T12:00:00", ny, &after, &err), &err);

    /* Daily at 02:30 New York time. On 2027-03-14 the clocks jump from 02:00
     * to 03:00, so that day it runs at 03:00 (docs/dst.md). */
    tempo_cron_options_t cron_opts = TEMPO_CRON_OPTIONS_INIT;
    cron_opts.zone = "America/New_York";
    tempo_trigger_t *cron;
    check(tempo_trigger_cron_new("30 2 * * *", &cron_opts, &cron, &err), &err);
    show("cron", cron, after, ny);

    /* Every 90 minutes of real time from a fixed start. */
    tempo_interval_options_t every = TEMPO_INTERVAL_OPTIONS_INIT;
    every.period = TEMPO_MINUTES(90);
    every.start = after;
    tempo_trigger_t *interval;
    check(tempo_trigger_interval_new(&every, &interval, &err), &err);
    show("interval", interval, after, ny);

    /* The earliest of both. */
    tempo_trigger_t *both[] = {cron, interval};
    tempo_trigger_t *any;
    check(tempo_trigger_or_new(both, 2, NULL, &any, &err), &err);
    show("or", any, after, ny);

    /* Store and reload: the document is what a persistent store keeps. */
    bson_t doc;
    check(tempo_trigger_to_bson(cron, &doc, &err), &err);
    char *json = bson_as_relaxed_extended_json(&doc, NULL);
    printf("stored cron trigger: %s\n", json);
    bson_free(json);
    tempo_trigger_t *loaded;
    check(tempo_trigger_from_bson(&doc, &loaded, &err), &err);
    bson_destroy(&doc);
    show("reloaded", loaded, after, ny);

    tempo_trigger_free(loaded);
    tempo_trigger_free(any);
    tempo_trigger_free(interval);
    tempo_trigger_free(cron);
    return 0;
}
