#!/usr/bin/env python3
"""Jobs per second through schedule -> job -> run -> result, on a persistent
store, for tempo with 1 and 3 processes and for APScheduler 3.9 (one
process: its job stores are not safe to share), in the same run.

Workload: N schedules (tempo: interval triggers with one fire; APScheduler:
date triggers), all due at the same instant T0, a few seconds ahead so that
setup is not measured; the job function does nothing but say it ran. The
clock stops when the last run is recorded (tempo: its result is stored and
the release logged; APScheduler: the function returned and its job store
removed the job). Rate = N / (done - T0).

    bench_store_jobs.py --node build/default/bin/mp_node --store sqlite --jobs 2000
    bench_store_jobs.py ... --store mongodb --mongodb-uri mongodb://127.0.0.1:PORT/

Prints one `store.jobs` line per side and `store.jobs.ratio` lines."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def now_us():
    return int(time.time() * 1_000_000)


def count_done(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if line.startswith("done "))
    except FileNotFoundError:
        return 0


def run_tempo(args, store_uri, procs, workdir):
    log = os.path.join(workdir, f"tempo-{procs}.log")
    t0 = ((now_us() + args.lead_s * 1_000_000) // 1_000_000 + 1) * 1_000_000
    nodes = []
    for i in range(procs):
        cmd = [args.node, "--store", store_uri, "--name", f"n{i}", "--log", log,
               "--schedules", str(args.jobs), "--start-us", str(t0), "--end-us", str(t0),
               "--period-ms", "3600000", "--coalesce", "all"]
        nodes.append(subprocess.Popen(cmd))
    done_at = None
    deadline = t0 + args.timeout_s * 1_000_000
    while now_us() < deadline:
        if count_done(log) >= args.jobs:
            done_at = now_us()
            break
        time.sleep(0.01)
    for p in nodes:
        p.send_signal(signal.SIGTERM)
    for p in nodes:
        p.wait(timeout=60)
    if done_at is None:
        raise SystemExit(f"tempo ({procs} processes): only {count_done(log)} of {args.jobs} jobs ran")
    return args.jobs / ((done_at - t0) / 1e6), (done_at - t0) / 1e6


# APScheduler's persistent job stores keep a job's function by reference
# ("module:name"), so it must live at module level.
STATE = {"n": 0, "done_at": None, "want": 0}
STATE_LOCK = threading.Lock()


def aps_job():
    with STATE_LOCK:
        STATE["n"] += 1
        if STATE["n"] == STATE["want"]:
            STATE["done_at"] = now_us()


def run_aps(args, kind, workdir, mongodb_uri):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    if kind == "sqlite":
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        store = SQLAlchemyJobStore(url=f"sqlite:///{workdir}/aps.sqlite")
    else:
        from apscheduler.jobstores.mongodb import MongoDBJobStore
        from pymongo import MongoClient
        client = MongoClient(mongodb_uri)
        store = MongoDBJobStore(database=f"aps_bench_{os.getpid()}", client=client)
    STATE["n"], STATE["done_at"], STATE["want"] = 0, None, args.jobs
    state = STATE
    sched = BackgroundScheduler(jobstores={"default": store},
                                executors={"default": ThreadPoolExecutor(10)})
    import datetime
    t0 = ((now_us() + args.lead_s * 1_000_000) // 1_000_000 + 1) * 1_000_000
    sched.start(paused=True)
    run_date = datetime.datetime.fromtimestamp(t0 / 1e6, tz=datetime.timezone.utc)
    for i in range(args.jobs):
        sched.add_job(aps_job, "date", run_date=run_date, id=f"j{i}", misfire_grace_time=None)
    if now_us() > t0:
        raise SystemExit("APScheduler: adding the jobs took longer than the lead time; raise --lead-s")
    sched.resume()
    deadline = t0 + args.timeout_s * 1_000_000
    while state["done_at"] is None and now_us() < deadline:
        time.sleep(0.01)
    sched.shutdown(wait=True)
    if kind == "mongodb":
        client.drop_database(f"aps_bench_{os.getpid()}")
    if state["done_at"] is None:
        raise SystemExit(f"APScheduler: only {state['n']} of {args.jobs} jobs ran")
    return args.jobs / ((state["done_at"] - t0) / 1e6), (state["done_at"] - t0) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--store", choices=["sqlite", "mongodb"], default="sqlite")
    ap.add_argument("--mongodb-uri")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--lead-s", type=int, default=4)
    ap.add_argument("--timeout-s", type=int, default=300)
    ap.add_argument("--skip-aps", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tempo-bench-store-")
    try:
        results = {}
        for procs in (1, 3):
            if args.store == "sqlite":
                uri = f"sqlite:{work}/tempo-{procs}.db"
            else:
                base = args.mongodb_uri.rstrip("/")
                uri = f"{base}/tempo_bench_{os.getpid()}_{procs}"
            rate, secs = run_tempo(args, uri, procs, work)
            results[procs] = rate
            print(f"store.jobs impl=tempo store={args.store} processes={procs} jobs={args.jobs} "
                  f"seconds={secs:.3f} jobs_per_s={rate:.1f}", flush=True)
        if not args.skip_aps:
            rate, secs = run_aps(args, args.store, work, args.mongodb_uri)
            results["aps"] = rate
            print(f"store.jobs impl=apscheduler-3.9 store={args.store} processes=1 jobs={args.jobs} "
                  f"seconds={secs:.3f} jobs_per_s={rate:.1f}", flush=True)
            print(f"store.jobs.ratio store={args.store} tempo1_over_aps={results[1] / rate:.2f} "
                  f"tempo3_over_aps={results[3] / rate:.2f} tempo3_over_tempo1={results[3] / results[1]:.2f}")
        else:
            print(f"store.jobs.ratio store={args.store} tempo3_over_tempo1={results[3] / results[1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
