/* `tempo next`: the next COUNT fire times, one ISO 8601 line each.
 *
 * The output is meant for scripts and for diffing, so it holds nothing but
 * the times: no header, no "no more" line. A trigger that ends (a 7-field
 * expression whose years run out) or never fires simply prints fewer lines,
 * and that is still success: the question had an answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int tempo__cli_run_next(const tempo__cli_options_t *opts, const tempo__cli_setup_t *setup)
{
    tempo_time_t t = setup->after;
    for (int i = 0; i < opts->count; i++) {
        char line[TEMPO__CLI_TIME_MAX];
        int rc = tempo__cli_next_fire(setup, &t, line);
        if (rc != TEMPO__CLI_OK)
            return rc;
        if (t == TEMPO_TIME_NONE)
            break;
        /* Up to 10000 lines overflow stdio's buffer, so a write can fail
         * here, with errno still telling why. */
        if (puts(line) == EOF)
            return tempo__cli_failure("cannot write the output: %s", strerror(errno));
    }
    return tempo__cli_finish_output();
}
