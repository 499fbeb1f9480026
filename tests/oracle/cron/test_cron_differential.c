/* Differential test: tempo's cron next() against another implementation.
 *
 * The data file is written at test time by tests/oracle/cron/gen_croniter.py
 * or gen_apscheduler.py (a ctest fixture) from a fixed seed; see the top of
 * those scripts for which syntax is compared and why the rest is not. Each
 * line is one start instant of one expression with the oracle's next fire
 * times; we ask tempo for the same chain (next(next(after))...) and count
 * every disagreement.
 *
 * usage: test_cron_differential FILE ORACLE MIN_EXPRESSIONS
 *
 * The test fails on any mismatch, on a file that is missing or truncated (its
 * header's counts must match what was read) and on fewer expressions than
 * MIN_EXPRESSIONS, so a generator that silently produced nothing cannot pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tempo/trigger.h>

#include "test_support.h"

#define MAX_TIMES 64
#define SHOW_MAX 8

static const char *g_path;
static const char *g_oracle;
static long g_min_exprs;

typedef struct oracle_case {
    long id;
    char form; /* 'c' crontab, 'f' named fields */
    char *zone;
    char *expr;
    tempo_time_t after;
    int64_t times[MAX_TIMES]; /* seconds */
    int ntimes;
    bool never; /* the oracle says nothing follows the last time */
} oracle_case_t;

typedef struct tally {
    long exprs, cases, times, mismatches;
    long header_exprs, header_cases, header_times;
    bool have_header;
} tally_t;

/* The trigger of the expression being checked: consecutive lines share it. */
typedef struct current {
    long id;
    tempo_trigger_t *trigger;
    const tempo_zone_t *zone;
    char error[TEMPO_ERROR_MESSAGE_MAX + 32];
} current_t;

static char *split_tab(char **cursor)
{
    char *start = *cursor;
    if (!start)
        return NULL;
    char *tab = strchr(start, '\t');
    if (tab) {
        *tab = '\0';
        *cursor = tab + 1;
    } else {
        *cursor = NULL;
    }
    return start;
}

static bool parse_case(char *line, oracle_case_t *c)
{
    char *cursor = line;
    char *id = split_tab(&cursor), *form = split_tab(&cursor), *zone = split_tab(&cursor);
    char *expr = split_tab(&cursor), *after = split_tab(&cursor), *times = split_tab(&cursor);
    if (!times || cursor || strlen(form) != 1)
        return false;
    c->id = strtol(id, NULL, 10);
    c->form = form[0];
    c->zone = zone;
    c->expr = expr;
    c->after = strtoll(after, NULL, 10);
    c->ntimes = 0;
    c->never = false;
    for (char *w = strtok(times, " \n"); w; w = strtok(NULL, " \n")) {
        if (strcmp(w, "N") == 0) {
            c->never = true;
            break;
        }
        if (c->ntimes == MAX_TIMES)
            return false;
        c->times[c->ntimes++] = strtoll(w, NULL, 10);
    }
    return c->ntimes > 0 || c->never;
}

static void show_time(const char *label, tempo_time_t t, const tempo_zone_t *zone)
{
    char local[48], utc[48];
    if (t == TEMPO_TIME_NONE) {
        fprintf(stderr, "    %-9s never\n", label);
        return;
    }
    tempo_time_format(t, zone, local, sizeof local);
    tempo_time_format(t, tempo_zone_utc(), utc, sizeof utc);
    fprintf(stderr, "    %-9s %s  (%s, %" PRId64 " us)\n", label, local, utc, t);
}

static void report(tally_t *tally, const oracle_case_t *c, const current_t *cur, int index,
                   tempo_time_t from, tempo_time_t want, tempo_time_t got)
{
    if (++tally->mismatches > SHOW_MAX)
        return;
    fprintf(stderr, "MISMATCH %s #%ld: %s '%s' zone %s\n", g_oracle, c->id,
            c->form == 'c' ? "tempo_trigger_cron_new" : "tempo_trigger_cron_fields_new",
            c->expr, c->zone);
    if (!cur->trigger) {
        fprintf(stderr, "    tempo refused it: %s\n", cur->error);
        return;
    }
    const tempo_zone_t *z = cur->zone ? cur->zone : tempo_zone_utc();
    show_time("start", c->after, z);
    fprintf(stderr, "    fire #%d after\n", index + 1);
    show_time("from", from, z);
    show_time(g_oracle, want, z);
    show_time("tempo", got, z);
}

static void load_trigger(current_t *cur, const oracle_case_t *c)
{
    tempo_trigger_free(cur->trigger);
    cur->trigger = NULL;
    cur->id = c->id;
    cur->error[0] = '\0';
    tempo_error_t err = {0};
    if (tempo_zone_get(c->zone, &cur->zone, &err) != TEMPO_OK) {
        snprintf(cur->error, sizeof cur->error, "zone: %s", err.message);
        cur->zone = NULL;
        return;
    }
    tempo_cron_options_t opts = TEMPO_CRON_OPTIONS_INIT;
    opts.zone = c->zone;
    tempo_status_t rc = c->form == 'c' ? tempo_trigger_cron_new(c->expr, &opts, &cur->trigger, &err)
                                       : tempo_trigger_cron_fields_new(c->expr, &opts,
                                                                       &cur->trigger, &err);
    if (rc != TEMPO_OK) {
        snprintf(cur->error, sizeof cur->error, "%s (%s)", err.message, tempo_strerror(rc));
        cur->trigger = NULL;
    }
}

/* Walk tempo's chain of fire times and compare it with the oracle's. */
static void check_case(tally_t *tally, current_t *cur, const oracle_case_t *c)
{
    if (c->id != cur->id || !cur->trigger)
        load_trigger(cur, c);
    tally->cases++;
    tally->times += c->ntimes;
    if (!cur->trigger) {
        report(tally, c, cur, 0, c->after, 0, 0);
        return;
    }
    tempo_time_t t = c->after;
    for (int i = 0; i <= c->ntimes; i++) {
        if (i == c->ntimes && !c->never)
            return;
        tempo_time_t want = i < c->ntimes ? c->times[i] * TEMPO_USEC_PER_SEC : TEMPO_TIME_NONE;
        tempo_time_t got = tempo_trigger_next(cur->trigger, t);
        if (got != want) {
            report(tally, c, cur, i, t, want, got);
            return;
        }
        t = got;
    }
}

static void read_header(tally_t *tally, const char *line)
{
    char name[32];
    if (sscanf(line, "H %31s %ld %ld %ld", name, &tally->header_exprs, &tally->header_cases,
               &tally->header_times) == 4 &&
        strcmp(name, g_oracle) == 0)
        tally->have_header = true;
}

static void test_against_oracle(void **state)
{
    (void)state;
    FILE *f = fopen(g_path, "r");
    if (!f) {
        fail_msg("cannot open %s (%s): the generator fixture (gen_%s.py) did not write it",
                 g_path, strerror(errno), g_oracle);
    }
    tally_t tally = {0};
    current_t cur = {.id = -1};
    oracle_case_t c;
    char line[4096];
    long last_id = -1, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "SKIP ", 5) == 0) {
            fclose(f);
            line[strcspn(line, "\n")] = '\0';
            tempo_test_skip(line + 5);
        }
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (line[0] == 'H') {
            read_header(&tally, line);
            continue;
        }
        if (!parse_case(line, &c))
            fail_msg("%s:%ld: malformed line", g_path, lineno);
        if (c.id != last_id)
            tally.exprs++;
        last_id = c.id;
        check_case(&tally, &cur, &c);
    }
    fclose(f);
    tempo_trigger_free(cur.trigger);

    printf("%s: %ld expressions, %ld cases, %ld times, %ld mismatches\n", g_oracle, tally.exprs,
           tally.cases, tally.times, tally.mismatches);
    if (tally.mismatches > SHOW_MAX)
        fprintf(stderr, "(%ld more mismatches not shown)\n", tally.mismatches - SHOW_MAX);
    assert_true(tally.have_header);
    assert_int_equal(tally.exprs, tally.header_exprs);
    assert_int_equal(tally.cases, tally.header_cases);
    assert_int_equal(tally.times, tally.header_times);
    assert_true(tally.exprs >= g_min_exprs);
    assert_int_equal(tally.mismatches, 0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FILE ORACLE MIN_EXPRESSIONS\n", argv[0]);
        return 2;
    }
    g_path = argv[1];
    g_oracle = argv[2];
    g_min_exprs = strtol(argv[3], NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_oracle),
    };
    return cmocka_run_group_tests_name(g_oracle, tests, NULL, NULL);
}
