/* bench_loops_fire: N timers firing every period on libev, libuv and GLib —
 * each loop's own raw timers, then tempo interval schedules on the same
 * loop, in one run — and the ratios.
 *
 * usage: bench_loops_fire [--loop ev|uv|glib|all] [--name LABEL] [--count N]
 *                         [--seconds S] [--period-ms P] [--aligned]
 *                         [--impl both|tempo|raw]
 *
 * Defaults: all three loops, 100 000 timers, every 1 000 ms, 10 periods,
 * fires spread evenly over the period. Per loop, one line per side, then
 * the ratio (tempo / that loop's raw timers):
 *
 *   loops.fire name=dispatch loop=libuv impl=uv_timer count=100000 ... cpu_ns_per_fire=...
 *   loops.fire name=dispatch loop=libuv impl=tempo count=100000 ... cpu_ns_per_fire=...
 *   loops.fire.ratio name=dispatch loop=libuv cpu_per_fire=... fires_per_s=... lag_p50=... lag_p99=...
 *
 * A ratio whose baseline is 0 prints as "n/a". docs/performance.md
 * ("Scheduler on each loop") says what each field means and how each
 * loop's raw timers define "due". Exit status 1 when a side could not run,
 * or ran but saw no fire. */
#include <stdio.h>
#include <string.h>

#include "loops_fire.h"

typedef struct opts {
    fire_cfg_t cfg;
    const host_ops_t *hosts[3];
    int n_hosts;
    int run_raw, run_tempo;
} opts_t;

static void usage(void)
{
    fprintf(stderr, "usage: bench_loops_fire [--loop ev|uv|glib|all] [--name LABEL] [--count N] [--seconds S]\n"
                    "                        [--period-ms P] [--aligned] [--impl both|tempo|raw]\n");
}

static int set_impl(opts_t *o, const char *impl)
{
    o->run_raw = impl && (!strcmp(impl, "both") || !strcmp(impl, "raw"));
    o->run_tempo = impl && (!strcmp(impl, "both") || !strcmp(impl, "tempo"));
    return o->run_raw || o->run_tempo ? 0 : -1;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.cfg = {"dispatch", 100000, 10, 1000000, 0}, .run_raw = 1, .run_tempo = 1};
    o->n_hosts = hosts_select("all", o->hosts);
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
        else if (!strcmp(a, "--loop") && (o->n_hosts = hosts_select(v, o->hosts)) > 0)
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

static double fires_per_s(const fire_result_t *r)
{
    return r->window_us > 0 ? (double)r->lags.count * 1e6 / (double)r->window_us : 0;
}

static void print_result(const host_ops_t *ops, const fire_cfg_t *cfg, fire_result_t *r)
{
    bench_lags_sort(&r->lags);
    printf("loops.fire name=%s loop=%s impl=%s count=%ld seconds=%ld period_ms=%lld offsets=%s fires=%llu "
           "window_s=%.3f fires_per_s=%.1f cpu_s=%.3f cpu_ns_per_fire=%.1f lag_p50_us=%lld lag_p99_us=%lld "
           "lag_max_us=%lld setup_s=%.3f\n",
           cfg->name, ops->loop, r->impl, cfg->count, cfg->seconds, (long long)(cfg->period_us / 1000),
           cfg->aligned ? "aligned" : "spread", (unsigned long long)r->lags.count, (double)r->window_us / 1e6,
           fires_per_s(r), (double)r->cpu_ns / 1e9, per_fire_ns(r), (long long)bench_lags_pct(&r->lags, 50),
           (long long)bench_lags_pct(&r->lags, 99), (long long)bench_lags_max(&r->lags),
           (double)r->setup_ns / 1e9);
    fflush(stdout);
}

/* "a/b" with two decimals, or "n/a" when b is not positive. */
static const char *ratio(char *buf, size_t size, double a, double b)
{
    if (b > 0)
        snprintf(buf, size, "%.2f", a / b);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

static int run_side(const host_ops_t *ops, const fire_cfg_t *cfg,
                    int (*fn)(const host_ops_t *, const fire_cfg_t *, fire_result_t *), fire_result_t *r)
{
    /* Room for every fire of the window plus two periods of slack. */
    size_t cap = (size_t)cfg->count * (size_t)(cfg->seconds + 2);
    if (!bench_lags_init(&r->lags, cap)) {
        fprintf(stderr, "bench_loops_fire: out of memory for %zu lag samples\n", cap);
        return -1;
    }
    if (fn(ops, cfg, r) != 0)
        return -1;
    print_result(ops, cfg, r);
    if (r->lags.count == 0) {
        fprintf(stderr, "bench_loops_fire: %s on %s: no fire in the window\n", r->impl, ops->loop);
        return -1;
    }
    return 0;
}

static int run_loop(const opts_t *o, const host_ops_t *ops)
{
    fire_result_t raw = {0}, tp = {0};
    int bad = 0;
    if (o->run_raw)
        bad |= run_side(ops, &o->cfg, fire_run_raw, &raw) != 0;
    if (o->run_tempo)
        bad |= run_side(ops, &o->cfg, fire_run_tempo, &tp) != 0;
    if (!bad && o->run_raw && o->run_tempo) {
        char a[32], b[32], c[32], d[32];
        printf("loops.fire.ratio name=%s loop=%s cpu_per_fire=%s fires_per_s=%s lag_p50=%s lag_p99=%s\n",
               o->cfg.name, ops->loop, ratio(a, sizeof a, per_fire_ns(&tp), per_fire_ns(&raw)),
               ratio(b, sizeof b, fires_per_s(&tp), fires_per_s(&raw)),
               ratio(c, sizeof c, (double)bench_lags_pct(&tp.lags, 50), (double)bench_lags_pct(&raw.lags, 50)),
               ratio(d, sizeof d, (double)bench_lags_pct(&tp.lags, 99), (double)bench_lags_pct(&raw.lags, 99)));
        fflush(stdout);
    }
    bench_lags_free(&raw.lags);
    bench_lags_free(&tp.lags);
    return bad;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    int bad = 0;
    for (int i = 0; i < o.n_hosts; i++)
        bad |= run_loop(&o, o.hosts[i]);
    return bad ? 1 : 0;
}
