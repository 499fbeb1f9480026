/* bench_sched_scale: the memory store with many schedules, on virtual time.
 *
 * usage: bench_sched_scale [--schedules N] [--small M] [--steps K] [--due D]
 *                          [--due-steps J] [--rounds R] [--shared-trigger]
 *
 * For N (default 10^6) and then, as the baseline, M (default 1 000) idle
 * schedules (none due for a day), in one process run:
 *   - add them: µs per add (making its trigger, the call, and its answer),
 *     resident memory and C-heap bytes per schedule (after minus before,
 *     over N);
 *   - time one idle scheduling step (nothing due), K steps per round;
 *   - add D schedules due every second and time one step that finds them
 *     (it makes D jobs), J steps per round. Nothing runs those jobs (role
 *     SCHEDULER), so they pile up in the store: J is kept small enough
 *     (R x J x D = 60 000 by default) that the pile stays modest.
 * Each timing is the fastest of R rounds (the least disturbed by the
 * machine's other work). Then the ratios N vs M, which should stay near 1:
 * a step's cost must not grow with the number of idle schedules.
 *
 *   sched.scale.add schedules=1000000 trigger=own us_per_add=... rss_bytes_per_schedule=...
 *   sched.scale.idle_step schedules=1000000 steps=1000 us_per_step=...
 *   sched.scale.due_step schedules=1000000 due=100 steps=200 us_per_step=... us_per_due_schedule=...
 *   ... the same for 1000 ...
 *   sched.scale.idle_step.ratio big=1000000 small=1000 big_vs_small=...
 *   sched.scale.due_step.ratio big=1000000 small=1000 due=100 big_vs_small=...
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "scale.h"

typedef struct opts {
    long big, small, steps, due, due_steps, rounds;
    bool shared_trigger;
} opts_t;

typedef struct timings {
    double idle_us, due_us;
} timings_t;

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){1000000, 1000, 1000, 100, 200, 3, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--shared-trigger")) {
            o->shared_trigger = true;
            continue;
        }
        const char *v = argv[++i]; /* argv[argc] is NULL: checked by bench_arg_long */
        if (!strcmp(a, "--schedules"))
            o->big = bench_arg_long(a, v, 1, 100000000);
        else if (!strcmp(a, "--small"))
            o->small = bench_arg_long(a, v, 1, 100000000);
        else if (!strcmp(a, "--steps"))
            o->steps = bench_arg_long(a, v, 1, 100000);
        else if (!strcmp(a, "--due"))
            o->due = bench_arg_long(a, v, 1, 100000);
        else if (!strcmp(a, "--due-steps"))
            o->due_steps = bench_arg_long(a, v, 1, 100000);
        else if (!strcmp(a, "--rounds"))
            o->rounds = bench_arg_long(a, v, 1, 100);
        else {
            fprintf(stderr, "usage: bench_sched_scale [--schedules N] [--small M] [--steps K] [--due D]\n"
                            "                         [--due-steps J] [--rounds R] [--shared-trigger]\n");
            return -1;
        }
    }
    return 0;
}

/* The fastest of `rounds` rounds of `steps` steps, in µs per step. Each
 * step jumps to the next timer deadline and runs everything due there. The
 * caller checks what the steps did. */
static double time_steps(scale_env_t *e, long steps, long rounds)
{
    double best = -1;
    for (long r = 0; r < rounds; r++) {
        int64_t t0 = bench_mono_ns();
        for (long k = 0; k < steps; k++)
            tempo_vloop_step(e->vloop, INT64_MAX);
        double us = (double)(bench_mono_ns() - t0) / 1e3 / (double)steps;
        if (best < 0 || us < best)
            best = us;
    }
    return best;
}

static int measure_add(scale_env_t *e, long n)
{
    int64_t rss0 = bench_rss_bytes(), heap0 = bench_heap_bytes();
    int64_t t0 = bench_mono_ns();
    if (scale_add_idle(e, n) != 0)
        return -1;
    double us = (double)(bench_mono_ns() - t0) / 1e3 / (double)n;
    int64_t rss1 = bench_rss_bytes(), heap1 = bench_heap_bytes();
    printf("sched.scale.add schedules=%ld trigger=%s us_per_add=%.3f rss_bytes_per_schedule=%.1f "
           "heap_bytes_per_schedule=%.1f rss_mib=%.1f\n",
           n, e->shared_trigger ? "shared" : "own", us, (double)(rss1 - rss0) / (double)n,
           (double)(heap1 - heap0) / (double)n, (double)rss1 / 1048576.0);
    fflush(stdout);
    return 0;
}

/* Every idle step must move the clock by the poll interval, 1 s: else a
 * timer other than the step's fired, and the timing would be of something
 * else. */
static int measure_idle(scale_env_t *e, const opts_t *o, long n, timings_t *t)
{
    tempo_time_t before = tempo_vloop_now(e->vloop);
    t->idle_us = time_steps(e, o->steps, o->rounds);
    tempo_duration_t moved = tempo_vloop_now(e->vloop) - before;
    if (moved != TEMPO_SECONDS(1) * o->steps * o->rounds || e->jobs_added != 0) {
        fprintf(stderr, "bench_sched_scale: idle steps moved the clock %lld µs and made %llu jobs; "
                        "expected %ld s and none\n",
                (long long)moved, (unsigned long long)e->jobs_added, o->steps * o->rounds);
        return -1;
    }
    printf("sched.scale.idle_step schedules=%ld steps=%ld us_per_step=%.3f\n", n, o->steps, t->idle_us);
    fflush(stdout);
    return 0;
}

static int measure_due(scale_env_t *e, const opts_t *o, long n, timings_t *t)
{
    if (scale_add_hot(e, o->due) != 0)
        return -1;
    tempo_vloop_step(e->vloop, INT64_MAX); /* the first fire: warms the job queue */
    uint64_t jobs0 = e->jobs_added;
    t->due_us = time_steps(e, o->due_steps, o->rounds);
    uint64_t made = e->jobs_added - jobs0;
    if (made != (uint64_t)(o->due * o->due_steps * o->rounds)) {
        fprintf(stderr, "bench_sched_scale: %ld due steps made %llu jobs, expected %ld\n",
                o->due_steps * o->rounds, (unsigned long long)made, o->due * o->due_steps * o->rounds);
        return -1;
    }
    printf("sched.scale.due_step schedules=%ld due=%ld steps=%ld us_per_step=%.3f us_per_due_schedule=%.3f\n",
           n, o->due, o->due_steps, t->due_us, t->due_us / (double)o->due);
    fflush(stdout);
    return 0;
}

static int measure(const opts_t *o, long n, timings_t *t)
{
    scale_env_t e;
    int rc = scale_env_new(&e, o->shared_trigger);
    tempo_error_t err = {0};
    if (rc == 0)
        rc = measure_add(&e, n);
    if (rc == 0 && tempo_scheduler_start(e.s, &err) != TEMPO_OK) {
        fprintf(stderr, "bench_sched_scale: start: %s\n", err.message);
        rc = -1;
    }
    if (rc == 0) {
        tempo_vloop_run(e.vloop); /* started; its first (idle) step */
        rc = measure_idle(&e, o, n, t);
    }
    if (rc == 0)
        rc = measure_due(&e, o, n, t);
    scale_env_free(&e);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    timings_t big, small;
    /* The big set first, on a fresh heap: its memory is then what it costs,
     * not what an earlier run left behind. */
    if (measure(&o, o.big, &big) != 0 || measure(&o, o.small, &small) != 0)
        return 1;
    printf("sched.scale.idle_step.ratio big=%ld small=%ld big_vs_small=%.2f\n", o.big, o.small,
           big.idle_us / small.idle_us);
    printf("sched.scale.due_step.ratio big=%ld small=%ld due=%ld big_vs_small=%.2f\n", o.big, o.small, o.due,
           big.due_us / small.due_us);
    return 0;
}
