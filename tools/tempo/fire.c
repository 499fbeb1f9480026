/* Stepping through a trigger's fire times.
 *
 * tempo_trigger_next() promises a time strictly after its input or NONE.
 * The tool relies on that for termination only loosely (the count bounds the
 * loop anyway), but it would print a wrong schedule if the promise broke, so
 * the promise is checked here and a breach is an error, never output. */
#include "cli.h"

int tempo__cli_next_fire(const tempo__cli_setup_t *setup, tempo_time_t *t, char *line)
{
    tempo_time_t prev = *t, next = tempo_trigger_next(setup->trigger, prev);
    if (next != TEMPO_TIME_NONE && next <= prev) {
        char was[TEMPO__CLI_TIME_MAX], got[TEMPO__CLI_TIME_MAX];
        if (tempo__cli_format_time(prev, setup->zone, was) != TEMPO__CLI_OK ||
            tempo__cli_format_time(next, setup->zone, got) != TEMPO__CLI_OK)
            return TEMPO__CLI_FAILURE;
        return tempo__cli_failure("internal error: the trigger answered %s, which is not after %s",
                                  got, was);
    }
    *t = next;
    return next == TEMPO_TIME_NONE ? TEMPO__CLI_OK : tempo__cli_format_time(next, setup->zone, line);
}
