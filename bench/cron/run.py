#!/usr/bin/python3
"""Run the cron benchmark: tempo (bench_cron) and, on the same mix, croniter
and APScheduler 3.9 (bench_cron_py.py); print every line they print, then the
ratios against the targets (docs/performance.md):

    ratio tempo_vs_croniter=274.9 tempo_vs_apscheduler=352.3
    target tempo_ns_per_op<300: ok (113.5)
    target speedup>=200: ok

usage: run.py [--bench PATH/TO/bench_cron] [--ops N] [--py-ops N] [--repeat R]
The default bench binary is build/bench/bin/bench_cron (a RelWithDebInfo or
Release build, not a sanitizer one); run with Debian's /usr/bin/python3.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET_NS = 300
TARGET_SPEEDUP = 200


def run(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    sys.stdout.write(out)
    sys.stdout.flush()
    return out


def total(out, prefix, form=None):
    for line in out.splitlines():
        if line.startswith(prefix + " ") and (form is None or " form=%s " % form in line):
            return float(re.search(r"ns_per_op=([0-9.]+)", line).group(1))
    sys.exit("run.py: no '%s' line in the output" % prefix)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "bin", "bench_cron"))
    ap.add_argument("--mix", default=os.path.join(HERE, "mix.txt"))
    ap.add_argument("--ops", type=int, default=200000, help="calls per schedule, tempo")
    ap.add_argument("--py-ops", type=int, default=2000, help="calls per schedule, Python")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.access(args.bench, os.X_OK):
        sys.exit("run.py: %s is not built (cmake --build <dir> --target bench_cron; "
                 "pass --bench)" % args.bench)

    c = run([args.bench, "--mix", args.mix, "--ops", str(args.ops), "--repeat",
             str(args.repeat)])
    py = run(["/usr/bin/python3", os.path.join(HERE, "bench_cron_py.py"), "--mix", args.mix,
              "--ops", str(args.py_ops), "--repeat", str(args.repeat)])

    tempo_crontab = total(c, "cron.next.total", "crontab")
    tempo_fields = total(c, "cron.next.total", "fields")
    tempo_all = total(c, "cron.next.total", "all")
    cron_ns = total(py, "croniter.next.total")
    aps_ns = total(py, "apscheduler.next.total")
    # croniter runs the crontab texts, APScheduler the named fields: compare
    # each with tempo running the same texts.
    r_cron = cron_ns / tempo_crontab
    r_aps = aps_ns / tempo_fields
    print("ratio tempo_vs_croniter=%.1f tempo_vs_apscheduler=%.1f" % (r_cron, r_aps))
    ok_ns = tempo_all < TARGET_NS
    ok_speed = min(r_cron, r_aps) >= TARGET_SPEEDUP
    print("target tempo_ns_per_op<%d: %s (%.1f)" % (TARGET_NS, "ok" if ok_ns else "MISSED",
                                                  tempo_all))
    print("target speedup>=%d: %s" % (TARGET_SPEEDUP, "ok" if ok_speed else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
