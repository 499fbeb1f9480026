#!/usr/bin/python3
"""Differential oracle data for tempo's crontab forms, from croniter.

Writes random 5-field and 6-field crontab expressions with the next fire
times croniter computes from random start instants, for test_cron_differential.
Deterministic: the same seed gives the same file.

Checked against Debian 12's python3-croniter 1.3.5 (read its source before
changing the exclusions). Where it differs from tempo by design or by bug, the
generator does not write that syntax:

  * croniter's 6-field form puts SECONDS LAST ("m h dom mon dow s"); tempo's puts
    them first. Both texts are written from the same random fields.
  * croniter treats a field whose values cover the whole range ("1-31", "*/1",
    "0-6", "sun-sat") as '*', which turns off the POSIX day-OR-weekday rule;
    tempo calls anything but a lone '*' "restricted" (DESIGN.md §3). Excluded:
    day fields covering all of 1-31, weekday fields covering all of 0-6, and
    '*' inside a list ("*,5"), which croniter also reads as '*'. A step that
    leaves values out ("*/2" in the day field: 1,3,...,31) is restricted for
    both, so it is kept.
  * croniter bug: when the next listed day of the month is past the month's end
    (Feb 10, days "1,30"), it adds the difference as days and lands inside the
    next month, skipping that month's early days (answers Mar 30, not Mar 1;
    "30,L" skips Feb 28). Excluded: a day field with a value above 28 together
    with a value below 4 or with 'L' (those are the only days that can be
    jumped over, since the overshoot is at most 3 days).
  * croniter bug: an n-th weekday ("5#3") with a restricted day field ignores
    the OR rule (both halves use the n-th weekday search). Excluded: '#' and
    last-weekday entries unless the day field is '*'. croniter also refuses to
    mix n-th weekdays with plain weekdays in one field, so we never do.
  * last weekday of the month: tempo writes Quartz's "5L", croniter "L5".
  * croniter 6-field form does not map weekday 7 to Sunday (its LOWMAP skip
    for shifted fields): weekday 7 and ranges ending at 7 only in 5 fields.
  * Weekday ranges ending at Sunday by name ("fri-sun": croniter reads it as
    5-7) and "A/N" in the weekday field (croniter: A-7/N, which may or may not
    include Sunday as 7) are left out as ambiguous; "*/N" is kept (0-6/N and
    0-7/N give the same days for N = 2..6).
  * 'L-n', 'W', 'LW', '?', 'H' (hash) and year fields: croniter 1.3.5 has no
    such syntax (or a different one); covered by the property test instead.
  * Steps larger than the range ("*/60"): tempo may refuse them; not written.
  * Zones with DST: croniter's DST handling is not tempo's policy (§3); only
    UTC and zones with a fixed offset over the tested years are used.
  * Times past 2999: tempo answers "never" there (lib/trigger/cron.h); a
    croniter answer past 2999 is written as "N".
  * croniter bug: with day OR weekday, it raises "failed to find next date"
    when the day half alone can never match ("31 4 2-4": April 31st) instead
    of using the weekday half. Excluded: OR expressions whose listed days fit
    in none of the listed months.
  * croniter gives up ("failed to find next date") after 50 years without a
    match; with these forms that only happens for impossible dates such as
    "0 0 30 2 *", so it is written as "N" (never).

Usage: gen_croniter.py --out FILE [--seed N] [--count N] [--selfcheck]
--selfcheck also checks every croniter answer against a tiny independent
matcher (slow; for working on the exclusions above).
"""

import argparse
import calendar
import datetime as dt
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
import cron_oracle_common as common  # noqa: E402

TIMES_PER_CASE = 10
STARTS_PER_EXPR = 2

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DOWS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


class Field:
    """One generated field: tempo's text, croniter's text, and the meaning as
    plain sets, which --selfcheck matches independently of both."""

    def __init__(self, text, values, star=False, last=False, nth=(), lastdow=()):
        self.text = text
        self.ctext = text
        self.values = set(values)
        self.star = star
        self.last = last            # day field 'L'
        self.nth = set(nth)         # weekday field: (dow, n)
        self.lastdow = set(lastdow)  # weekday field: dow


def name_or_num(rng, v, names, base):
    if names and rng.random() < 0.3:
        n = names[v - base]
        return n.upper() if rng.random() < 0.2 else n
    return str(v)


def gen_atom(rng, lo, hi, names=None, allow_start_step=True):
    """One list element of a numeric field: N, A-B, */N, A-B/N or A/N."""
    kind = rng.choice(["num", "num", "range", "star_step", "range_step", "start_step"])
    if kind == "start_step" and not allow_start_step:
        kind = "range_step"
    span = hi - lo
    if kind == "num":
        v = rng.randint(lo, hi)
        return name_or_num(rng, v, names, lo), {v}
    if kind == "star_step":
        n = rng.randint(2, max(2, min(span, 15)))
        return "*/%d" % n, set(range(lo, hi + 1, n))
    a = rng.randint(lo, hi - 1)
    b = rng.randint(a + 1, hi)
    if kind == "range":
        return "%s-%s" % (name_or_num(rng, a, names, lo), name_or_num(rng, b, names, lo)), \
            set(range(a, b + 1))
    if kind == "range_step":
        n = rng.randint(1, b - a)
        return "%s-%s/%d" % (name_or_num(rng, a, names, lo), name_or_num(rng, b, names, lo), n), \
            set(range(a, b + 1, n))
    n = rng.randint(1, hi - a)
    return "%d/%d" % (a, n), set(range(a, hi + 1, n))


def gen_numeric(rng, lo, hi, p_star, names=None):
    if rng.random() < p_star:
        return Field("*", range(lo, hi + 1), star=True)
    atoms = [gen_atom(rng, lo, hi, names) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    return Field(",".join(a[0] for a in atoms), set().union(*(a[1] for a in atoms)))


def gen_day(rng):
    while True:
        if rng.random() < 0.45:
            return Field("*", range(1, 32), star=True)
        atoms = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            if rng.random() < 0.12:
                atoms.append(("L", set()))
            else:
                atoms.append(gen_atom(rng, 1, 31))
        values = set().union(*(a[1] for a in atoms))
        last = any(a[0] == "L" for a in atoms)
        if values == set(range(1, 32)):
            continue
        if values and max(values) > 28 and (last or min(values) < 4):
            continue
        return Field(",".join(a[0] for a in atoms), values, last=last)


def gen_dow(rng, six_fields, allow_nth):
    hi = 6 if six_fields else 7
    while True:
        r = rng.random()
        if r < 0.45:
            return Field("*", range(7), star=True)
        if allow_nth and r < 0.57:
            tparts, cparts, nth, lastdow = [], [], set(), set()
            for _ in range(rng.choice([1, 1, 2])):
                d = rng.randint(0, 6)
                dtext = DOWS[d] if rng.random() < 0.3 else str(d)
                if rng.random() < 0.6:
                    k = rng.randint(1, 5)
                    tparts.append("%s#%d" % (dtext, k))
                    cparts.append("%s#%d" % (dtext, k))
                    nth.add((d, k))
                else:
                    tparts.append("%dL" % d)
                    cparts.append("L%d" % d)
                    lastdow.add(d)
            f = Field(",".join(tparts), (), nth=nth, lastdow=lastdow)
            f.ctext = ",".join(cparts)
            return f
        atoms = []
        for _ in range(rng.choice([1, 1, 2])):
            kind = rng.random()
            if kind < 0.15:
                n = rng.randint(2, 6)
                atoms.append(("*/%d" % n, set(range(0, 7, n))))
            else:
                text, vals = gen_atom(rng, 0, hi, DOWS + ["sun"], allow_start_step=False)
                if text.startswith("*"):
                    continue
                # "fri-sun" style: a range whose end is Sunday by name.
                if "-" in text and text.split("-")[1].split("/")[0].lower() == "sun":
                    continue
                atoms.append((text, vals))
        if not atoms:
            continue
        values = {v % 7 for v in set().union(*(a[1] for a in atoms))}
        if values == set(range(7)):
            continue
        return Field(",".join(a[0] for a in atoms), values)


class Expr:
    def __init__(self, rng, six_fields):
        self.six = six_fields
        self.second = gen_numeric(rng, 0, 59, 0.3) if six_fields else Field("0", {0})
        self.minute = gen_numeric(rng, 0, 59, 0.25)
        self.hour = gen_numeric(rng, 0, 23, 0.35)
        self.day = gen_day(rng)
        self.month = gen_numeric(rng, 1, 12, 0.6, MONTHS)
        while True:
            self.dow = gen_dow(rng, six_fields, allow_nth=self.day.star)
            if self.day.star or self.dow.star or self.day_half_possible():
                break
        core = [self.minute, self.hour, self.day, self.month, self.dow]
        self.tempo = " ".join(([self.second.text] if six_fields else []) +
                              [f.text for f in core])
        self.croniter = " ".join([f.ctext for f in core] +
                                 ([self.second.ctext] if six_fields else []))

    def day_half_possible(self):
        longest = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31,
                   11: 30, 12: 31}
        room = max(longest[m] for m in self.month.values)
        return self.day.last or min(self.day.values) <= room

    # ---- --selfcheck: an independent matcher on wall-clock seconds ----
    def date_ok(self, d):
        if d.month not in self.month.values:
            return False
        dim = calendar.monthrange(d.year, d.month)[1]
        dom = d.day in self.day.values or (self.day.last and d.day == dim)
        wd = d.isoweekday() % 7
        k = (d.day - 1) // 7 + 1
        dw = (wd in self.dow.values or (wd, k) in self.dow.nth or
              (wd in self.dow.lastdow and d.day + 7 > dim))
        if not self.day.star and not self.dow.star:
            return dom or dw
        return dom and dw

    def reference_next(self, wall):
        """First matching wall time (a naive datetime) strictly after `wall`."""
        d = wall.date()
        times = sorted(dt.time(h, m, s) for h in self.hour.values
                       for m in self.minute.values for s in self.second.values)
        for _ in range(366 * 60):
            if self.date_ok(d):
                for t in times:
                    c = dt.datetime.combine(d, t)
                    if c > wall:
                        return c
            d += dt.timedelta(days=1)
        return None


def croniter_times(croniter_cls, expr, zone, after_us):
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(zone)
    start = dt.datetime.fromtimestamp(after_us // 1000000, tz) + \
        dt.timedelta(microseconds=after_us % 1000000)
    it = croniter_cls(expr.croniter, start)
    times = []
    for _ in range(TIMES_PER_CASE):
        try:
            t = it.get_next(dt.datetime)
        except Exception as e:  # CroniterBadDateError: nothing within 50 years
            if type(e).__name__ != "CroniterBadDateError":
                raise
            return times, True
        if t.astimezone(tz).year > common.TEMPO_YEAR_MAX:
            return times, True
        times.append(int(t.timestamp()))
    return times, False


def selfcheck(expr, zone, after_us, times, never):
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(zone)
    wall = dt.datetime.fromtimestamp(after_us / 1e6, tz).replace(tzinfo=None)
    want = []
    for _ in range(len(times) + (1 if never else 0)):
        wall = expr.reference_next(wall)
        if wall is None:
            break
        want.append(int(wall.replace(tzinfo=tz).timestamp()))
    if never and len(want) > len(times) and \
            dt.datetime.fromtimestamp(want[-1], tz).year <= common.TEMPO_YEAR_MAX:
        return "croniter said never, reference %d" % want[-1]
    if want[:len(times)] != times:
        return "croniter %s reference %s" % (times, want)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20260415)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--selfcheck", action="store_true")
    args = ap.parse_args()

    common.remove_stale(args.out)
    try:
        import croniter
        from croniter import croniter as croniter_cls
    except ImportError as e:
        common.write_skip(args.out, "python3-croniter is not installed for %s (%s)"
                          % (sys.executable, e))
        return 77
    version = getattr(croniter, "__version__", None)
    if version is None:
        from importlib.metadata import version as pkg_version
        version = pkg_version("croniter")

    for name, min_year in common.ZONES:
        common.check_zone_fixed(name, min_year)

    rng = common.make_rng(args.seed)
    out = common.Writer(args.out, "croniter", [
        "generated by tests/oracle/cron/gen_croniter.py --seed %d --count %d" %
        (args.seed, args.count),
        "croniter %s, python %s" % (version, sys.version.split()[0])])
    bad = 0
    for eid in range(args.count):
        expr = Expr(rng, six_fields=(eid % 3 == 2))
        zone, min_year = rng.choice(common.ZONES)
        for _ in range(STARTS_PER_EXPR):
            after_us = common.random_after_us(rng, min_year)
            times, never = croniter_times(croniter_cls, expr, zone, after_us)
            if args.selfcheck:
                why = selfcheck(expr, zone, after_us, times, never)
                if why:
                    bad += 1
                    print("SELFCHECK %r (croniter %r) %s after %d: %s" %
                          (expr.tempo, expr.croniter, zone, after_us, why))
            out.add(eid, "c", zone, expr.tempo, after_us, times, never)
    out.write()
    print("croniter %s: %d expressions, %d cases, %d times -> %s" %
          (version, len(out.expr_ids), len(out.lines), out.times, args.out))
    if args.selfcheck:
        print("selfcheck: %d disagreements" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
