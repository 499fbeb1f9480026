/* Uses the installed public API only: parse a cron expression, print a fire
 * time. Exits non-zero when anything is off, so the install test can tell. */
#include <stdio.h>
#include <string.h>
#include <tempo/tempo.h>

int main(void)
{
    tempo_cron_options_t opts = TEMPO_CRON_OPTIONS_INIT;
    opts.zone = "Europe/Berlin";
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    if (tempo_trigger_cron_new("30 9 * * mon-fri", &opts, &t, &err) != TEMPO_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    const tempo_zone_t *berlin;
    if (tempo_zone_get("Europe/Berlin", &berlin, &err) != TEMPO_OK)
        return 1;
    tempo_time_t after;
    if (tempo_time_parse("2027-03-26T10:00:00+01:00", berlin, &after, &err) != TEMPO_OK)
        return 1;
    char buf[64];
    tempo_time_format(tempo_trigger_next(t, after), berlin, buf, sizeof buf);
    tempo_trigger_free(t);
    printf("%s %s\n", TEMPO_VERSION_STRING, buf);
    return strcmp(buf, "2027-03-29T09:30:00+02:00") == 0 ? 0 : 1;
}
