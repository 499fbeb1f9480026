/* Reading the multi-process tests' shared log (mp_node.c writes it): one
 * entry per line, "<what> <schedule> <scheduled_us> <job_id> <node>". */
#ifndef TEMPO_TEST_MP_LOG_H
#define TEMPO_TEST_MP_LOG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mp_entry {
    char what[16];
    char schedule[32];
    int64_t at;
    char job[40];
    char node[16];
} mp_entry_t;

typedef struct mp_log {
    mp_entry_t *v;
    size_t n, cap;
} mp_log_t;

static inline void mp_log_free(mp_log_t *log)
{
    free(log->v);
    memset(log, 0, sizeof *log);
}

/* Read the whole file again (it only grows). A last line without its
 * newline (being written) is left for the next read. */
static inline int mp_log_read(const char *path, mp_log_t *log)
{
    mp_log_free(log);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n'))
            break;
        if (log->n == log->cap) {
            log->cap = log->cap ? 2 * log->cap : 1024;
            log->v = realloc(log->v, log->cap * sizeof *log->v);
            if (!log->v)
                abort(); /* a test's own allocation */
        }
        mp_entry_t *e = &log->v[log->n];
        long long at;
        if (sscanf(line, "%15s %31s %lld %39s %15s", e->what, e->schedule, &at, e->job, e->node) == 5) {
            e->at = at;
            log->n++;
        }
    }
    fclose(f);
    return (int)log->n;
}

/* How many entries of `what` for (schedule, at); NULL schedule: any. */
static inline int mp_count(const mp_log_t *log, const char *what, const char *schedule, int64_t at)
{
    int n = 0;
    for (size_t i = 0; i < log->n; i++)
        if (strcmp(log->v[i].what, what) == 0 && (!schedule || strcmp(log->v[i].schedule, schedule) == 0) &&
            (at == INT64_MIN || log->v[i].at == at))
            n++;
    return n;
}

#endif
