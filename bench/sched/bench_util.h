/* Helpers shared by the scheduler benchmarks: clocks, CPU time, resident
 * memory, lag samples and their percentiles, command-line numbers.
 *
 * Everything here is cheap enough to sit on the measured path, and the same
 * code runs on both sides of a comparison (tempo and its baseline), so the
 * measuring itself cancels out of a ratio. */
#ifndef BENCH_SCHED_UTIL_H
#define BENCH_SCHED_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_REALTIME in µs: the clock tempo's schedules and libev's ev_time()
 * use, so a lag is "callback start minus scheduled instant" on one clock. */
int64_t bench_realtime_us(void);
/* CLOCK_MONOTONIC in ns, for timing code. */
int64_t bench_mono_ns(void);
/* User + system CPU time of the whole process (every thread), in ns. */
int64_t bench_cpu_ns(void);
/* Resident set size from /proc/self/statm, in bytes; -1 if unreadable. */
int64_t bench_rss_bytes(void);
/* Bytes the C allocator has handed out and not got back (mallinfo2). */
int64_t bench_heap_bytes(void);

/* Lag samples in µs, recorded only while `on` (the measured window). The
 * array is sized up front so recording never allocates: samples past
 * `cap` are counted but not kept (then percentiles cover the first `cap`). */
typedef struct bench_lags {
    int32_t *v;
    size_t n, cap;
    uint64_t count; /* all recorded, kept or not */
    int on;
} bench_lags_t;

int bench_lags_init(bench_lags_t *l, size_t cap);
void bench_lags_free(bench_lags_t *l);
static inline void bench_lags_add(bench_lags_t *l, int64_t lag_us)
{
    if (!l->on)
        return;
    l->count++;
    if (l->n < l->cap)
        l->v[l->n++] = lag_us > INT32_MAX ? INT32_MAX : lag_us < INT32_MIN ? INT32_MIN : (int32_t)lag_us;
}
/* Sorts the samples (call once, after the window) and answers the p-th
 * percentile (0..100, nearest rank); 0 when there are none. */
void bench_lags_sort(bench_lags_t *l);
int64_t bench_lags_pct(const bench_lags_t *l, double p);
int64_t bench_lags_max(const bench_lags_t *l);

/* "--name VALUE" parsing: a positive integer, or exit(2) naming the flag. */
long bench_arg_long(const char *flag, const char *value, long min, long max);

#endif
