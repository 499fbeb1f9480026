#!/usr/bin/python3
"""The scaled-down dispatch workload on APScheduler 3.9, and tempo's run of
the same workload in the same run, with the ratio:

    sched.fire name=aps impl=apscheduler count=1000 seconds=10 ... cpu_ns_per_fire=...
    (bench_sched_fire's lines for the same workload: ev_timer, tempo, ratio)
    sched.aps.ratio name=aps count=1000 cpu_per_fire_aps_vs_tempo=... cpu_per_fire_aps_vs_ev_timer=...

APScheduler side: a BackgroundScheduler with its defaults (MemoryJobStore,
ThreadPoolExecutor with 10 threads), `count` interval jobs every period,
their first runs spread evenly over one period (as bench_sched_fire spreads
its schedules), each calling a function that only counts the call. CPU is
the whole process's user + system time (every thread) over a window of
`seconds` periods that starts 50 ms before the first run, as in the C
program. Missed runs (APScheduler's misfire_grace_time of 1 s) are counted
by a listener for EVENT_JOB_MISSED only, so the executed runs pay nothing
for it.

With --aligned every job (and every tempo schedule and ev_timer) fires at
the same instant each period instead.

usage: bench_sched_aps.py [--count N] [--seconds S] [--period-ms P] [--aligned]
                          [--name LABEL] [--tempo-bench PATH/TO/bench_sched_fire]
Run with Debian's /usr/bin/python3 (python3-apscheduler).
"""

import argparse
import datetime
import itertools
import os
import re
import resource
import subprocess
import sys
import time

LEAD = 0.05  # the window starts this long before the first run


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def sleep_until(t):
    while True:
        d = t - time.time()
        if d <= 0:
            return
        time.sleep(d)


def run_aps(name, count, seconds, period, aligned):
    import apscheduler
    from apscheduler.events import EVENT_JOB_MISSED
    from apscheduler.schedulers.background import BackgroundScheduler

    calls = itertools.count()  # next() on it is atomic under the GIL
    missed = itertools.count()

    def noop():
        next(calls)

    sched = BackgroundScheduler(timezone=datetime.timezone.utc)
    sched.add_listener(lambda ev: next(missed), EVENT_JOB_MISSED)
    base = time.time() + LEAD + 0.5 + count * 200e-6  # adding costs ~100 µs a job
    t_setup = time.monotonic()
    utc = datetime.timezone.utc
    for i in range(count):
        offset = 0 if aligned else period * i / count
        start = datetime.datetime.fromtimestamp(base + offset, utc)
        sched.add_job(noop, "interval", seconds=period, start_date=start)
    sched.start()
    setup = time.monotonic() - t_setup
    if time.time() > base - LEAD:
        sys.exit("bench_sched_aps.py: setup took %.2f s, past the first run" % setup)

    sleep_until(base - LEAD)
    c0, n0, m0, t0 = cpu_seconds(), next(calls), next(missed), time.time()
    sleep_until(base - LEAD + seconds * period)
    c1, n1, m1, t1 = cpu_seconds(), next(calls), next(missed), time.time()
    sched.shutdown(wait=True)
    # next() on the counters above advanced them once each: not fires.
    fires = n1 - n0 - 1
    window = t1 - t0
    cpu = c1 - c0
    print("sched.fire name=%s impl=apscheduler-%s count=%d seconds=%d period_ms=%d offsets=%s "
          "fires=%d window_s=%.3f fires_per_s=%.1f cpu_s=%.3f cpu_ns_per_fire=%.1f missed=%d setup_s=%.3f"
          % (name, apscheduler.__version__, count, seconds, int(period * 1000),
             "aligned" if aligned else "staggered", fires, window, fires / window, cpu,
             cpu * 1e9 / fires if fires else 0, m1 - m0 - 1, setup))
    sys.stdout.flush()
    return cpu * 1e9 / fires if fires else 0


def field(out, prefix, name):
    for line in out.splitlines():
        if line.startswith(prefix):
            m = re.search(r"\b%s=([0-9.]+)" % name, line)
            if m:
                return float(m.group(1))
    sys.exit("bench_sched_aps.py: no %s in a '%s' line" % (name, prefix))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--period-ms", type=int, default=1000)
    ap.add_argument("--aligned", action="store_true")
    ap.add_argument("--name", default="aps")
    ap.add_argument("--tempo-bench", default=os.path.join(root, "build", "bench", "bin", "bench_sched_fire"))
    args = ap.parse_args()
    if not os.access(args.tempo_bench, os.X_OK):
        sys.exit("bench_sched_aps.py: %s is not built (pass --tempo-bench)" % args.tempo_bench)

    aps = run_aps(args.name, args.count, args.seconds, args.period_ms / 1000.0, args.aligned)
    cmd = [args.tempo_bench, "--name", args.name, "--count", str(args.count), "--seconds",
           str(args.seconds), "--period-ms", str(args.period_ms)] + (["--aligned"] if args.aligned else [])
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    sys.stdout.write(out)
    tempo = field(out, "sched.fire name=%s impl=tempo " % args.name, "cpu_ns_per_fire")
    raw = field(out, "sched.fire name=%s impl=ev_timer " % args.name, "cpu_ns_per_fire")
    print("sched.aps.ratio name=%s count=%d cpu_per_fire_aps_vs_tempo=%.1f cpu_per_fire_aps_vs_ev_timer=%.1f"
          % (args.name, args.count, aps / tempo if tempo else 0, aps / raw if raw else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
