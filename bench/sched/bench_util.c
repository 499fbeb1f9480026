/* See bench_util.h. */
#include "bench_util.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int64_t bench_realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tv_ns(struct timeval tv)
{
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

int64_t bench_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

int64_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size, resident;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? (int64_t)resident * sysconf(_SC_PAGESIZE) : -1;
}

int64_t bench_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)(mi.uordblks + mi.hblkhd);
}

int bench_lags_init(bench_lags_t *l, size_t cap)
{
    l->v = malloc((cap ? cap : 1) * sizeof *l->v);
    l->n = 0;
    l->cap = l->v ? cap : 0;
    l->count = 0;
    l->on = 0;
    return l->v != NULL;
}

void bench_lags_free(bench_lags_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void bench_lags_sort(bench_lags_t *l)
{
    qsort(l->v, l->n, sizeof *l->v, cmp_i32);
}

int64_t bench_lags_pct(const bench_lags_t *l, double p)
{
    if (l->n == 0)
        return 0;
    /* Nearest rank: the smallest sample with at least p% at or below it. */
    size_t rank = (size_t)(p / 100.0 * (double)l->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > l->n)
        rank = l->n;
    return l->v[rank - 1];
}

int64_t bench_lags_max(const bench_lags_t *l)
{
    return l->n ? l->v[l->n - 1] : 0;
}

long bench_arg_long(const char *flag, const char *value, long min, long max)
{
    if (!value) {
        fprintf(stderr, "%s needs a value\n", flag);
        exit(2);
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || *end || end == value || v < min || v > max) {
        fprintf(stderr, "%s: '%s' is not a number in [%ld, %ld]\n", flag, value, min, max);
        exit(2);
    }
    return v;
}
