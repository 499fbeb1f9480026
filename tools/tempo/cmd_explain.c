/* `tempo explain`: what an expression means, in a fixed layout (documented
 * in docs/cli.md; scripts and tests match it, so change it only with both):
 *
 *   at 09:30 on Monday through Friday (Europe/Berlin)
 *   normalized: 30 9 * * 1-5
 *   next: 2027-03-29T09:30:00+02:00
 *   next: 2027-03-30T09:30:00+02:00
 *   next: 2027-03-31T09:30:00+02:00
 *
 * Line 1 is the library's description as it is (tempo_trigger_describe()
 * ends it with the zone, and the DST policy when it is "skip"), line 2 the
 * normalised expression, then up to EXPLAIN_FIRES fire times after
 * --after. When there are fewer, a last line says so: "next: never fires" when
 * there is none at all (an impossible expression such as "0 0 30 2 *"),
 * "next: no more" after a trigger's last fire time. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define EXPLAIN_FIRES 3

/* Both text functions answer like snprintf (the length they needed), so a
 * too-small first buffer is retried once at the exact size. */
typedef int (*text_fn)(const tempo_trigger_t *t, char *buf, size_t size);

static int print_text(const char *label, text_fn fn, const tempo_trigger_t *trigger)
{
    char small[256];
    char *buf = small;
    int n = fn(trigger, small, sizeof small);
    if (n < 0)
        return TEMPO__CLI_OK; /* not a cron trigger: nothing to say */
    if ((size_t)n >= sizeof small) {
        buf = malloc((size_t)n + 1);
        if (!buf)
            return tempo__cli_failure("out of memory");
        fn(trigger, buf, (size_t)n + 1);
    }
    printf("%s%s\n", label, buf);
    if (buf != small)
        free(buf);
    return TEMPO__CLI_OK;
}

static int print_fires(const tempo__cli_setup_t *setup)
{
    tempo_time_t t = setup->after;
    int found = 0;
    for (; found < EXPLAIN_FIRES; found++) {
        char line[TEMPO__CLI_TIME_MAX];
        int rc = tempo__cli_next_fire(setup, &t, line);
        if (rc != TEMPO__CLI_OK)
            return rc;
        if (t == TEMPO_TIME_NONE)
            break;
        printf("next: %s\n", line);
    }
    if (found == 0)
        puts("next: never fires");
    else if (found < EXPLAIN_FIRES)
        puts("next: no more");
    return TEMPO__CLI_OK;
}

int tempo__cli_run_explain(const tempo__cli_options_t *opts, const tempo__cli_setup_t *setup)
{
    (void)opts;
    int rc = print_text("", tempo_trigger_describe, setup->trigger);
    if (rc == TEMPO__CLI_OK)
        rc = print_text("normalized: ", tempo_trigger_cron_normalized, setup->trigger);
    if (rc == TEMPO__CLI_OK)
        rc = print_fires(setup);
    return rc == TEMPO__CLI_OK ? tempo__cli_finish_output() : rc;
}
