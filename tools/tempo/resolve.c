/* From parsed options to library objects: the zone, the start time, the
 * trigger. Shared by `next` and `explain` so both read --tz, --after and the
 * expression identically.
 *
 * Order matters: the zone comes first because --after without an offset is a
 * wall time in that zone, and the trigger gets the same zone name, so that
 * "fire at 09:30" and "print in ZONE" can never disagree. */
#include "cli.h"

/* "local" is also what the library takes for a NULL zone; naming it here
 * keeps the lookup and the trigger visibly on the same zone. */
static const char *zone_name(const tempo__cli_options_t *opts)
{
    return opts->tz ? opts->tz : "local";
}

static int lookup_zone(const tempo__cli_options_t *opts, const tempo_zone_t **zone)
{
    tempo_error_t err = {0};
    tempo_status_t st = tempo_zone_get(zone_name(opts), zone, &err);
    if (st == TEMPO_OK)
        return TEMPO__CLI_OK;
    /* The library's message already names the zone and where it looked. */
    tempo__cli_usage_error("%s", tempo__cli_error_text(&err));
    return tempo__cli_exit_code(st);
}

static int read_after(const tempo__cli_options_t *opts, const tempo_zone_t *zone,
                      tempo_time_t *after)
{
    if (!opts->after) {
        *after = tempo_time_now();
        return TEMPO__CLI_OK;
    }
    tempo_error_t err = {0};
    tempo_status_t st = tempo_time_parse(opts->after, zone, after, &err);
    if (st == TEMPO_OK)
        return TEMPO__CLI_OK;
    tempo__cli_usage_error("--after: %s", tempo__cli_error_text(&err));
    return tempo__cli_exit_code(st);
}

static int build_trigger(const tempo__cli_options_t *opts, tempo_trigger_t **trigger)
{
    tempo_cron_options_t cron = TEMPO_CRON_OPTIONS_INIT;
    cron.zone = zone_name(opts);
    cron.dst_gap = opts->dst_gap;

    tempo_error_t err = {0};
    tempo_status_t st = opts->fields
        ? tempo_trigger_cron_fields_new(opts->fields, &cron, trigger, &err)
        : tempo_trigger_cron_new(opts->expression, &cron, trigger, &err);
    if (st == TEMPO_OK)
        return TEMPO__CLI_OK;
    /* Cron messages start with "cron: " and name field, column and text. */
    tempo__cli_usage_error("%s", tempo__cli_error_text(&err));
    return tempo__cli_exit_code(st);
}

int tempo__cli_setup(const tempo__cli_options_t *opts, tempo__cli_setup_t *out)
{
    *out = (tempo__cli_setup_t){0};
    int rc = lookup_zone(opts, &out->zone);
    if (rc == TEMPO__CLI_OK)
        rc = read_after(opts, out->zone, &out->after);
    if (rc == TEMPO__CLI_OK)
        rc = build_trigger(opts, &out->trigger);
    if (rc != TEMPO__CLI_OK)
        tempo__cli_setup_free(out);
    return rc;
}

void tempo__cli_setup_free(tempo__cli_setup_t *setup)
{
    tempo_trigger_free(setup->trigger);
    setup->trigger = NULL;
}
