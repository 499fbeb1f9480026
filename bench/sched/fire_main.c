/* bench_sched_fire: N timers firing every period on libev — raw ev_timers
 * (the baseline) and tempo interval schedules, in one run — and the ratio.
 *
 * usage: bench_sched_fire [--name LABEL] [--count N] [--seconds S]
 *                         [--period-ms P] [--aligned] [--impl both|tempo|ev_timer]
 *                         [--backend auto|epoll|poll|select]
 *
 * --backend picks libev's backend for both sides (default: libev's own
 * choice, epoll on Linux). It matters for lag: epoll and poll wait in whole
 * milliseconds, select in microseconds.
 *
 * Prints one line per side, then the ratio (tempo / ev_timer):
 *
 *   sched.fire name=dispatch impl=ev_timer backend=epoll count=100000 ... cpu_ns_per_fire=310.2 ...
 *   sched.fire name=dispatch impl=tempo backend=epoll count=100000 ... cpu_ns_per_fire=...
 *   sched.fire.ratio name=dispatch cpu_per_fire=... fires_per_s=... lag_p50=... lag_p99=...
 *
 * The docs/performance.md "Scheduler" section says what each field means.
 * Exit status 1 when a side could not run, or ran but saw no fire. */
#include <stdio.h>
#include <string.h>

#include "fire.h"

typedef struct opts {
    fire_cfg_t cfg;
    int run_ev, run_tempo;
} opts_t;

static void usage(void)
{
    fprintf(stderr, "usage: bench_sched_fire [--name LABEL] [--count N] [--seconds S] [--period-ms P]\n"
                    "                        [--aligned] [--impl both|tempo|ev_timer]\n"
                    "                        [--backend auto|epoll|poll|select]\n");
}

static int set_impl(opts_t *o, const char *impl)
{
    o->run_ev = impl && (!strcmp(impl, "both") || !strcmp(impl, "ev_timer"));
    o->run_tempo = impl && (!strcmp(impl, "both") || !strcmp(impl, "tempo"));
    return o->run_ev || o->run_tempo ? 0 : -1;
}

static int set_backend(opts_t *o, const char *name)
{
    static const struct {
        const char *name;
        unsigned flags;
    } known[] = {{"auto", 0}, {"epoll", EVBACKEND_EPOLL}, {"poll", EVBACKEND_POLL}, {"select", EVBACKEND_SELECT}};
    for (size_t i = 0; name && i < sizeof known / sizeof known[0]; i++) {
        if (!strcmp(name, known[i].name)) {
            o->cfg.ev_flags = known[i].flags;
            /* Refuse a backend this libev lacks rather than measure another. */
            return known[i].flags == 0 || (ev_supported_backends() & known[i].flags) ? 0 : -1;
        }
    }
    return -1;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){{"dispatch", 100000, 10, 1000000, 0, 0}, 1, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--aligned")) {
            o->cfg.aligned = 1;
            continue;
        }
        const char *v = argv[++i]; /* argv[argc] is NULL: checked below */
        if (!strcmp(a, "--name") && v)
            o->cfg.name = v;
        else if (!strcmp(a, "--count"))
            o->cfg.count = bench_arg_long(a, v, 1, 10000000);
        else if (!strcmp(a, "--seconds"))
            o->cfg.seconds = bench_arg_long(a, v, 1, 3600);
        else if (!strcmp(a, "--period-ms"))
            o->cfg.period_us = bench_arg_long(a, v, 1, 3600000) * 1000;
        else if (!strcmp(a, "--impl") && set_impl(o, v) == 0)
            continue;
        else if (!strcmp(a, "--backend") && set_backend(o, v) == 0)
            continue;
        else
            return usage(), -1;
    }
    return 0;
}

static double per_fire_ns(const fire_result_t *r)
{
    return r->lags.count ? (double)r->cpu_ns / (double)r->lags.count : 0;
}

static void print_result(const fire_cfg_t *cfg, fire_result_t *r)
{
    bench_lags_sort(&r->lags);
    double window_s = (double)r->window_us / 1e6;
    printf("sched.fire name=%s impl=%s backend=%s count=%ld seconds=%ld period_ms=%lld offsets=%s fires=%llu "
           "window_s=%.3f fires_per_s=%.1f cpu_s=%.3f cpu_ns_per_fire=%.1f lag_p50_us=%lld "
           "lag_p99_us=%lld lag_max_us=%lld setup_s=%.3f\n",
           cfg->name, r->impl, r->backend, cfg->count, cfg->seconds, (long long)(cfg->period_us / 1000),
           cfg->aligned ? "aligned" : "staggered", (unsigned long long)r->lags.count, window_s,
           window_s > 0 ? (double)r->lags.count / window_s : 0, (double)r->cpu_ns / 1e9, per_fire_ns(r),
           (long long)bench_lags_pct(&r->lags, 50), (long long)bench_lags_pct(&r->lags, 99),
           (long long)bench_lags_max(&r->lags), (double)r->setup_ns / 1e9);
    fflush(stdout);
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static int run_side(const fire_cfg_t *cfg, int (*fn)(const fire_cfg_t *, fire_result_t *), fire_result_t *r)
{
    /* Room for every fire of the window plus a period of slack. */
    if (!bench_lags_init(&r->lags, (size_t)cfg->count * (size_t)(cfg->seconds + 2))) {
        fprintf(stderr, "bench_sched_fire: out of memory for %ld lag samples\n", cfg->count * (cfg->seconds + 2));
        return -1;
    }
    if (fn(cfg, r) != 0)
        return -1;
    print_result(cfg, r);
    if (r->lags.count == 0) {
        fprintf(stderr, "bench_sched_fire: %s: no fire in the window\n", r->impl);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    fire_result_t ev = {0}, tp = {0};
    int bad = 0;
    if (o.run_ev)
        bad |= run_side(&o.cfg, fire_run_ev, &ev) != 0;
    if (o.run_tempo)
        bad |= run_side(&o.cfg, fire_run_tempo, &tp) != 0;
    if (!bad && o.run_ev && o.run_tempo)
        printf("sched.fire.ratio name=%s cpu_per_fire=%.2f fires_per_s=%.3f lag_p50=%.2f lag_p99=%.2f\n",
               o.cfg.name, ratio(per_fire_ns(&tp), per_fire_ns(&ev)),
               ratio((double)tp.lags.count * (double)ev.window_us, (double)ev.lags.count * (double)tp.window_us),
               ratio((double)bench_lags_pct(&tp.lags, 50), (double)bench_lags_pct(&ev.lags, 50)),
               ratio((double)bench_lags_pct(&tp.lags, 99), (double)bench_lags_pct(&ev.lags, 99)));
    bench_lags_free(&ev.lags);
    bench_lags_free(&tp.lags);
    return bad ? 1 : 0;
}
