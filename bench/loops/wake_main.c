/* bench_loops_wake: calls handed from other threads to libev, libuv and
 * GLib — each loop's own cross-thread primitive, then
 * tempo_scheduler_call_threadsafe on the same loop, in one run — and the
 * ratios.
 *
 * usage: bench_loops_wake [--loop ev|uv|glib|all] [--name LABEL] [--threads M]
 *                         [--seconds S] [--inflight W] [--impl both|tempo|raw]
 *
 * Defaults: all three loops, 2 producer threads, 10 s, 4 096 calls in
 * flight per producer. Per loop, one line per side, then the ratio
 * (tempo / the loop's primitive):
 *
 *   loops.wake name=wake loop=libev impl=ev_async threads=2 ... calls_per_s=... cpu_ns_per_call=...
 *   loops.wake name=wake loop=libev impl=tempo threads=2 ... calls_per_s=... cpu_ns_per_call=...
 *   loops.wake.ratio name=wake loop=libev calls_per_s=... cpu_per_call=... loop_cpu_per_call=...
 *
 * Exit status 1 when a side could not run, delivered nothing, delivered
 * out of order or had posts refused. */
#include <stdio.h>
#include <string.h>

#include "loops_wake.h"

typedef struct opts {
    wake_cfg_t cfg;
    const host_ops_t *hosts[3];
    int n_hosts;
    int run_raw, run_tempo;
} opts_t;

static void usage(void)
{
    fprintf(stderr, "usage: bench_loops_wake [--loop ev|uv|glib|all] [--name LABEL] [--threads M] [--seconds S]\n"
                    "                        [--inflight W] [--impl both|tempo|raw]\n");
}

static int set_impl(opts_t *o, const char *impl)
{
    o->run_raw = impl && (!strcmp(impl, "both") || !strcmp(impl, "raw"));
    o->run_tempo = impl && (!strcmp(impl, "both") || !strcmp(impl, "tempo"));
    return o->run_raw || o->run_tempo ? 0 : -1;
}

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.cfg = {"wake", 2, 10, 4096}, .run_raw = 1, .run_tempo = 1};
    o->n_hosts = hosts_select("all", o->hosts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = argv[++i]; /* argv[argc] is NULL: checked below */
        if (!strcmp(a, "--name") && v)
            o->cfg.name = v;
        else if (!strcmp(a, "--threads"))
            o->cfg.threads = (int)bench_arg_long(a, v, 1, 256);
        else if (!strcmp(a, "--seconds"))
            o->cfg.seconds = bench_arg_long(a, v, 1, 3600);
        else if (!strcmp(a, "--inflight"))
            o->cfg.inflight = (int)bench_arg_long(a, v, 2, 1 << 20);
        else if (!strcmp(a, "--impl") && set_impl(o, v) == 0)
            continue;
        else if (!strcmp(a, "--loop") && (o->n_hosts = hosts_select(v, o->hosts)) > 0)
            continue;
        else
            return usage(), -1;
    }
    return 0;
}

static double per_s(const wake_result_t *r)
{
    return r->window_us > 0 ? (double)r->calls * 1e6 / (double)r->window_us : 0;
}

static double per_call(int64_t ns, const wake_result_t *r)
{
    return r->calls > 0 ? (double)ns / (double)r->calls : 0;
}

static void print_result(const host_ops_t *ops, const wake_cfg_t *cfg, const wake_result_t *r)
{
    printf("loops.wake name=%s loop=%s impl=%s threads=%d inflight=%d seconds=%ld calls=%lld window_s=%.3f "
           "calls_per_s=%.0f cpu_s=%.3f cpu_ns_per_call=%.1f loop_cpu_ns_per_call=%.1f out_of_order=%lld "
           "refused=%lld\n",
           cfg->name, ops->loop, r->impl, cfg->threads, cfg->inflight, cfg->seconds, r->calls,
           (double)r->window_us / 1e6, per_s(r), (double)r->cpu_ns / 1e9, per_call(r->cpu_ns, r),
           per_call(r->loop_cpu_ns, r), r->out_of_order, r->refused);
    fflush(stdout);
}

static const char *ratio(char *buf, size_t size, double a, double b)
{
    if (b > 0)
        snprintf(buf, size, "%.2f", a / b);
    else
        snprintf(buf, size, "n/a");
    return buf;
}

static int run_side(const host_ops_t *ops, const wake_cfg_t *cfg,
                    int (*fn)(const host_ops_t *, const wake_cfg_t *, wake_result_t *), wake_result_t *r)
{
    if (fn(ops, cfg, r) != 0)
        return -1;
    print_result(ops, cfg, r);
    if (r->calls == 0 || r->out_of_order || r->refused) {
        fprintf(stderr, "bench_loops_wake: %s on %s: %lld calls, %lld out of order, %lld refused\n", r->impl,
                ops->loop, r->calls, r->out_of_order, r->refused);
        return -1;
    }
    return 0;
}

static int run_loop(const opts_t *o, const host_ops_t *ops)
{
    wake_result_t raw = {0}, tp = {0};
    int bad = 0;
    if (o->run_raw)
        bad |= run_side(ops, &o->cfg, wake_run_raw, &raw) != 0;
    if (o->run_tempo)
        bad |= run_side(ops, &o->cfg, wake_run_tempo, &tp) != 0;
    if (!bad && o->run_raw && o->run_tempo) {
        char a[32], b[32], c[32];
        printf("loops.wake.ratio name=%s loop=%s calls_per_s=%s cpu_per_call=%s loop_cpu_per_call=%s\n",
               o->cfg.name, ops->loop, ratio(a, sizeof a, per_s(&tp), per_s(&raw)),
               ratio(b, sizeof b, per_call(tp.cpu_ns, &tp), per_call(raw.cpu_ns, &raw)),
               ratio(c, sizeof c, per_call(tp.loop_cpu_ns, &tp), per_call(raw.loop_cpu_ns, &raw)));
        fflush(stdout);
    }
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
