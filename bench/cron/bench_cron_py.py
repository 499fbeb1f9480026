#!/usr/bin/python3
"""The cron benchmark's workload (mix.txt) run with croniter and with
APScheduler 3.9's CronTrigger, printing lines in bench_cron's format:

    croniter.next zone=UTC expr="*/5 * * * *" ops=2000 ns_per_op=41234.5
    croniter.next.total schedules=14 ops=28000 ns_per_op=...
    apscheduler.next.total schedules=14 ops=28000 ns_per_op=...

Same work as bench_cron.c: each schedule chains next() from
2026-01-01T00:00:00Z and starts over there when it runs past 2999; the best of
--repeat rounds counts. Run with Debian's /usr/bin/python3 (the Debian
packages python3-croniter and python3-apscheduler).

usage: bench_cron_py.py [--mix FILE] [--ops N] [--repeat R]
"""

import argparse
import datetime as dt
import os
import sys
import time

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
END_YEAR = 2999


def load_mix(path):
    entries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            zone, crontab, fields = (p.strip() for p in line.split("|"))
            entries.append((zone, crontab, fields))
    return entries


def croniter_text(crontab):
    """croniter wants seconds last in the 6-field form; tempo has them first."""
    parts = crontab.split()
    return " ".join(parts[1:] + parts[:1]) if len(parts) == 6 else crontab


def bench_croniter(zone, crontab, ops):
    from croniter import croniter
    from zoneinfo import ZoneInfo
    start = START.astimezone(ZoneInfo(zone))
    it = croniter(croniter_text(crontab), start)
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        t = it.get_next(dt.datetime)
        if t.year > END_YEAR:
            it = croniter(croniter_text(crontab), start)
    return (time.perf_counter_ns() - t0) / ops


def bench_apscheduler(zone, fields, ops):
    import pytz
    from apscheduler.triggers.cron import CronTrigger
    kwargs = {}
    key = None
    for word in fields.split():
        if "=" in word:
            key, value = word.split("=", 1)
            kwargs[key] = value
        else:  # "day=3rd fri": the value goes on past the space
            kwargs[key] += " " + word
    trig = CronTrigger(timezone=pytz.timezone(zone), **kwargs)
    prev, now = None, START
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        t = trig.get_next_fire_time(prev, now if prev is None else prev)
        prev = t
        if t is None or t.year > END_YEAR:
            prev = None
    return (time.perf_counter_ns() - t0) / ops


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", default=os.path.join(here, "mix.txt"))
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    entries = load_mix(args.mix)
    from importlib.metadata import version
    versions = {"croniter": version("croniter"), "apscheduler": version("APScheduler")}
    for name, run, text_of in (("croniter", bench_croniter, lambda e: e[1]),
                               ("apscheduler", bench_apscheduler, lambda e: e[2])):
        total = 0.0
        for e in entries:
            ns = min(run(e[0], text_of(e), args.ops) for _ in range(args.repeat))
            total += ns * args.ops
            print('%s.next zone=%s expr="%s" ops=%d ns_per_op=%.1f' %
                  (name, e[0], text_of(e), args.ops, ns), flush=True)
        print("%s.next.total version=%s schedules=%d ops=%d ns_per_op=%.1f" %
              (name, versions[name], len(entries), args.ops * len(entries),
               total / (args.ops * len(entries))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
