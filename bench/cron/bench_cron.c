/* Cron next() benchmark: chains next() over the fixed mix in mix.txt and
 * prints one machine-readable line per schedule and form, then totals:
 *
 *   cron.next form=crontab zone=UTC expr="*\/5 * * * *" ops=200000 ns_per_op=41.2
 *   cron.next.total form=crontab schedules=14 ops=2800000 ns_per_op=88.0
 *   cron.next.total form=all ...
 *
 * usage: bench_cron [--mix FILE] [--ops N] [--repeat R]
 * Each schedule runs R rounds of N calls and reports its fastest round (the
 * least disturbed by the machine's other work). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tempo/trigger.h>

#define MAX_ENTRIES 64
#define START INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define END INT64_C(32503680000000000)  /* 3000-01-01T00:00:00Z */

typedef struct entry {
    char zone[64];
    char crontab[128];
    char fields[192];
} entry_t;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int load_mix(const char *path, entry_t *out, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_cron: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        char *s = trim(line);
        if (*s == '#' || *s == '\0')
            continue;
        char *bar1 = strchr(s, '|'), *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (!bar2) {
            fprintf(stderr, "bench_cron: %s: bad line '%s'\n", path, s);
            fclose(f);
            return -1;
        }
        *bar1 = *bar2 = '\0';
        snprintf(out[n].zone, sizeof out[n].zone, "%s", trim(s));
        snprintf(out[n].crontab, sizeof out[n].crontab, "%s", trim(bar1 + 1));
        snprintf(out[n].fields, sizeof out[n].fields, "%s", trim(bar2 + 1));
        n++;
    }
    fclose(f);
    return n;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The fastest of `repeat` rounds of `ops` chained calls, in ns per call. */
static double run_chain(const tempo_trigger_t *t, long ops, int repeat, tempo_time_t *sink)
{
    double best = 0;
    for (int r = 0; r < repeat; r++) {
        tempo_time_t at = START;
        double t0 = now_ns();
        for (long i = 0; i < ops; i++) {
            at = tempo_trigger_next(t, at);
            if (at == TEMPO_TIME_NONE || at >= END)
                at = START;
        }
        double ns = (now_ns() - t0) / (double)ops;
        if (r == 0 || ns < best)
            best = ns;
        *sink += at;
    }
    return best;
}

static tempo_trigger_t *make(const entry_t *e, int fields)
{
    tempo_cron_options_t o = TEMPO_CRON_OPTIONS_INIT;
    o.zone = e->zone;
    tempo_trigger_t *t = NULL;
    tempo_error_t err;
    tempo_status_t rc = fields ? tempo_trigger_cron_fields_new(e->fields, &o, &t, &err)
                               : tempo_trigger_cron_new(e->crontab, &o, &t, &err);
    if (rc != TEMPO_OK) {
        fprintf(stderr, "bench_cron: '%s' in %s: %s\n", fields ? e->fields : e->crontab, e->zone,
                err.message);
        return NULL;
    }
    return t;
}

int main(int argc, char **argv)
{
    const char *mix = "mix.txt";
    long ops = 200000;
    int repeat = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--mix") == 0)
            mix = argv[i + 1];
        else if (strcmp(argv[i], "--ops") == 0)
            ops = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = atoi(argv[i + 1]);
    }
    if (ops <= 0 || repeat <= 0) {
        fprintf(stderr, "usage: bench_cron [--mix FILE] [--ops N] [--repeat R]\n");
        return 2;
    }
    static entry_t entries[MAX_ENTRIES];
    int n = load_mix(mix, entries, MAX_ENTRIES);
    if (n <= 0)
        return 1;

    static const char *const FORMS[] = {"crontab", "fields"};
    double total_ns[2] = {0, 0};
    tempo_time_t sink = 0;
    for (int form = 0; form < 2; form++) {
        for (int i = 0; i < n; i++) {
            tempo_trigger_t *t = make(&entries[i], form);
            if (!t)
                return 1;
            double ns = run_chain(t, ops, repeat, &sink);
            total_ns[form] += ns * (double)ops;
            printf("cron.next form=%s zone=%s expr=\"%s\" ops=%ld ns_per_op=%.1f\n", FORMS[form],
                   entries[i].zone, form ? entries[i].fields : entries[i].crontab, ops, ns);
            tempo_trigger_free(t);
        }
    }
    for (int form = 0; form < 2; form++)
        printf("cron.next.total form=%s schedules=%d ops=%ld ns_per_op=%.1f\n", FORMS[form], n,
               ops * n, total_ns[form] / (double)(ops * n));
    printf("cron.next.total form=all schedules=%d ops=%ld ns_per_op=%.1f\n", 2 * n, 2 * ops * n,
           (total_ns[0] + total_ns[1]) / (double)(2 * ops * n));
    /* Keeps the chains from being optimised away. */
    fprintf(stderr, "bench_cron: checksum %llx\n", (unsigned long long)sink);
    return 0;
}
