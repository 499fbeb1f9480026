#!/usr/bin/python3
"""Run the scheduler benchmarks (docs/performance.md, "Scheduler"), print
every line they print, then a summary table: tempo, its baseline from the
same run, the ratio, the target and whether it is met.

  1. dispatch   bench_sched_fire: 100 000 interval schedules every second
                for 10 s on libev vs 100 000 raw ev_timers; first with their
                fires spread over the second, then all on the same instant
  2. scale      bench_sched_scale: 10^6 schedules, memory store, virtual loop
  3. latency    bench_sched_fire: 10 000 schedules vs 10 000 ev_timers, on
                libev's default backend (epoll), then on select (epoll waits
                in whole milliseconds, select in microseconds)
  4. aps        bench_sched_aps.py: 1 000 jobs on APScheduler 3.9 vs tempo
                (spread, then aligned)

usage: run.py [--bin DIR] [--quick] [--only NAME[,NAME...]]
DIR holds bench_sched_fire and bench_sched_scale (default build/bench/bin:
a RelWithDebInfo or Release build, never a sanitizer one). --quick runs
every benchmark 10x smaller for 2 s (to check the driver, not to quote).
Run with Debian's /usr/bin/python3 (APScheduler comes from its packages).
Exit status: 0 when everything ran, whether or not targets were met.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TARGET_DISPATCH_RATIO = 2.0   # tempo CPU per fire <= 2x a raw ev_timer's
TARGET_RSS_BYTES = 400        # resident memory per schedule
TARGET_STEP_GROWTH = 2.0      # 10^6 vs 10^3: log2 ratio is 2; linear would be 1000
TARGET_LAG_P99_US = 1000      # fire latency p99
KEEP_UP = 0.99                # tempo fires at least this share of what ev_timers fire


def run(cmd):
    print("$ " + " ".join(cmd))
    sys.stdout.flush()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    sys.stdout.write(out)
    sys.stdout.flush()
    return out


def parse(out):
    """Every 'key value...' line as (key, {field: value}), in order."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if not parts or "=" in parts[0]:
            continue
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        rows.append((parts[0], fields))
    return rows


def find(rows, key, **match):
    for k, f in rows:
        if k == key and all(f.get(a) == str(b) for a, b in match.items()):
            return f
    sys.exit("run.py: no '%s' line with %s in the output" % (key, match))


def num(f, name):
    return float(f[name])


class Table:
    def __init__(self):
        self.rows = []

    def add(self, what, tempo, base, ratio, target, met):
        verdict = "" if met is None else ("met" if met else "MISSED")
        self.rows.append((what, tempo, base, ratio, target, verdict))

    def show(self):
        head = ("benchmark", "tempo", "baseline (same run)", "ratio", "target", "")
        widths = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(6)]
        for r in [head] + self.rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def us(ns):
    return "%.2f µs" % (ns / 1000.0)


def fire_rows(t, rows, name, label, with_target):
    ev, tp = find(rows, "sched.fire", name=name, impl="ev_timer"), find(rows, "sched.fire", name=name, impl="tempo")
    ratio = num(tp, "cpu_ns_per_fire") / num(ev, "cpu_ns_per_fire")
    t.add(label + ": CPU per fire", us(num(tp, "cpu_ns_per_fire")), us(num(ev, "cpu_ns_per_fire")) + " ev_timer",
          "%.2fx" % ratio, "<= %gx" % TARGET_DISPATCH_RATIO if with_target else "",
          ratio <= TARGET_DISPATCH_RATIO if with_target else None)
    keep = num(tp, "fires_per_s") / num(ev, "fires_per_s")
    t.add(label + ": fires/s", "%.0f" % num(tp, "fires_per_s"), "%.0f" % num(ev, "fires_per_s"),
          "%.3f" % keep, "keeps up (>= %g)" % KEEP_UP, keep >= KEEP_UP)
    for p in ("p50", "p99"):
        a, b = num(tp, "lag_%s_us" % p), num(ev, "lag_%s_us" % p)
        t.add(label + ": lag " + p, "%.0f µs" % a, "%.0f µs" % b, "%.2fx" % (a / b if b else 0), "", None)
    return tp, ev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "bin"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="dispatch,scale,latency,aps")
    args = ap.parse_args()
    fire = os.path.join(args.bin, "bench_sched_fire")
    scale = os.path.join(args.bin, "bench_sched_scale")
    for b in (fire, scale):
        if not os.access(b, os.X_OK):
            sys.exit("run.py: %s is not built (cmake --build <dir> --target bench_sched_fire "
                     "bench_sched_scale; pass --bin)" % b)
    only = set(args.only.split(","))
    k = 10 if args.quick else 1
    secs = "2" if args.quick else "10"
    out = ""
    if "dispatch" in only:
        base = [fire, "--count", str(100000 // k), "--seconds", secs]
        out += run(base + ["--name", "dispatch"])
        out += run(base + ["--name", "dispatch_aligned", "--aligned"])
    if "scale" in only:
        out += run([scale, "--schedules", str(1000000 // k), "--small", "1000"])
    if "latency" in only:
        lat = [fire, "--count", str(10000 // k), "--seconds", secs]
        out += run(lat + ["--name", "latency"])
        out += run(lat + ["--name", "latency_select", "--backend", "select"])
    if "aps" in only:
        aps = ["/usr/bin/python3", os.path.join(HERE, "bench_sched_aps.py"), "--tempo-bench", fire,
               "--count", str(1000 // k), "--seconds", secs]
        out += run(aps + ["--name", "aps"])
        out += run(aps + ["--name", "aps_aligned", "--aligned"])
    rows = parse(out)

    t = Table()
    if "dispatch" in only:
        fire_rows(t, rows, "dispatch", "1 dispatch, spread", True)
        fire_rows(t, rows, "dispatch_aligned", "1 dispatch, aligned", True)
    if "scale" in only:
        adds = [f for key, f in rows if key == "sched.scale.add"]
        big, small = adds[0], adds[1]
        t.add("2 scale: add", "%.2f µs" % num(big, "us_per_add"), "%.2f µs (%s)" % (num(small, "us_per_add"),
              small["schedules"]), "", "", None)
        rss = num(big, "rss_bytes_per_schedule")
        t.add("2 scale: memory per schedule", "%.0f B RSS, %.0f B heap" % (rss, num(big, "heap_bytes_per_schedule")),
              "", "", "<= %d B" % TARGET_RSS_BYTES, rss <= TARGET_RSS_BYTES)
        for kind, what in (("idle_step", "idle step"), ("due_step", "step, %s due" % big.get("due", ""))):
            steps = [f for key, f in rows if key == "sched.scale." + kind]
            r = find(rows, "sched.scale.%s.ratio" % kind)
            growth = num(r, "big_vs_small")
            label = "2 scale: %s" % what if kind == "idle_step" else \
                "2 scale: step finding %s due" % steps[0]["due"]
            t.add(label, "%.3f µs (%s)" % (num(steps[0], "us_per_step"), steps[0]["schedules"]),
                  "%.3f µs (%s)" % (num(steps[1], "us_per_step"), steps[1]["schedules"]), "%.2fx" % growth,
                  "<= %gx (not linear)" % TARGET_STEP_GROWTH, growth <= TARGET_STEP_GROWTH)
    if "latency" in only:
        for name in ("latency", "latency_select"):
            label = "3 latency, %s" % find(rows, "sched.fire", name=name, impl="tempo")["backend"]
            tp, ev = fire_rows(t, rows, name, label, False)
            p99 = num(tp, "lag_p99_us")
            t.add(label + ": lag max", "%.0f µs" % num(tp, "lag_max_us"), "%.0f µs" % num(ev, "lag_max_us"), "",
                  "", None)
            t.add(label + ": p99 target", "%.0f µs" % p99, "%.0f µs" % num(ev, "lag_p99_us"), "",
                  "< %d µs" % TARGET_LAG_P99_US, p99 < TARGET_LAG_P99_US)
    if "aps" in only:
        for name, label in (("aps", "spread"), ("aps_aligned", "aligned")):
            a = [f for key, f in rows if key == "sched.fire" and f.get("name") == name and
                 f.get("impl", "").startswith("apscheduler")][0]
            tp = find(rows, "sched.fire", name=name, impl="tempo")
            r = find(rows, "sched.aps.ratio", name=name)
            t.add("4 APScheduler %s: CPU per fire" % label, us(num(tp, "cpu_ns_per_fire")),
                  us(num(a, "cpu_ns_per_fire")) + " " + a["impl"],
                  "%.1fx less" % num(r, "cpu_per_fire_aps_vs_tempo"), "", None)
    print()
    t.show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
