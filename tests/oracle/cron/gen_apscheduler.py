#!/usr/bin/python3
"""Differential oracle data for tempo's named-field cron form, from APScheduler 3.9.

Writes random APScheduler-style CronTrigger field sets (year, month, day, week,
day_of_week, hour, minute, second) as tempo text ("hour=9 minute=30 ...") with
the fire times APScheduler's CronTrigger.get_next_fire_time computes, for
test_cron_differential. Deterministic: the same seed gives the same file.

Checked against Debian 12's python3-apscheduler 3.9.1 (read
apscheduler/triggers/cron/ before changing the exclusions). Same numbering as
tempo's named form: day_of_week 0 = Monday. Fields left out follow
APScheduler's rule (more significant than the least significant given field:
'*'; less significant: their default, month/day 1, hour/minute/second 0, week
and day_of_week '*'), which is what tempo_trigger_cron_fields_new promises.
Not written, and why:

  * '*/N' in the year field: APScheduler counts the step from 1970 (its minimum
    year), tempo from its own minimum; there is no common meaning.
  * Steps on name ranges ("mon-fri/2", "jan-jun/2"): APScheduler's name-range
    pattern is not anchored at the end and silently drops the "/2"; tempo
    honours it.
  * Ranges mixing a name and a number ("mar-9"): the same unanchored pattern
    reads just "mar".
  * Name ranges that wrap ("fri-mon") and ranges with first > last: APScheduler
    refuses them.
  * Steps larger than their range ("5-7/3"): APScheduler refuses them.
  * Spaces around list commas (APScheduler accepts "1 , 2"): tempo separates
    named fields with spaces.
  * Quartz syntax (L, W, #) and the crontab '?': not APScheduler syntax.
  * Zones with DST: APScheduler 3.9's DST handling is not tempo's policy
    (DESIGN.md §3); only UTC and zones with a fixed offset over the tested
    years are used.
  * Start instants before 1971: APScheduler's year field starts at 1970.
  * Expressions APScheduler needs more than ITERATION_BUDGET field increments
    to answer (it walks day by day for week/day_of_week, and month by month up
    to year 9999 for "day=30 month=2"): dropped to keep generation fast; the
    count is written to the file's banner. tempo's "never" is still covered by
    year fields that have passed (APScheduler answers None at once).
  * Times past 2999: tempo answers "never" there (lib/trigger/cron.h); an
    APScheduler answer past 2999 is written as "N".

Usage: gen_apscheduler.py --out FILE [--seed N] [--count N] [--selfcheck]
--selfcheck also checks every APScheduler answer against a tiny independent
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
ITERATION_BUDGET = 5000

FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
RANGES = {"year": (1971, 2200), "month": (1, 12), "day": (1, 31), "week": (1, 53),
          "day_of_week": (0, 6), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}
DEFAULTS = {"year": None, "month": {1}, "day": {1}, "week": None, "day_of_week": None,
            "hour": {0}, "minute": {0}, "second": {0}}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ORDINALS = ["1st", "2nd", "3rd", "4th", "5th"]
# How often each field is given at all.
P_GIVEN = {"year": 0.12, "month": 0.3, "day": 0.3, "week": 0.12, "day_of_week": 0.3,
           "hour": 0.6, "minute": 0.6, "second": 0.4}


class Budget(Exception):
    pass


class Field:
    """Text plus meaning: `values` (None = any), and for the day field the
    specials 'last', (weekday, n) for "n-th weekday" and weekdays for "last x"."""

    def __init__(self, text, values, last=False, nth=(), lastdow=()):
        self.text = text
        self.values = values
        self.last = last
        self.nth = set(nth)
        self.lastdow = set(lastdow)


def name_or_num(rng, v, names, base):
    if names and rng.random() < 0.4:
        n = names[v - base]
        return n.upper() if rng.random() < 0.15 else n
    return str(v)


def gen_atom(rng, name):
    lo, hi = RANGES[name]
    names = MONTHS if name == "month" else WEEKDAYS if name == "day_of_week" else None
    kinds = ["num", "num", "range", "range_step", "start_step"]
    if name != "year":
        kinds.append("star_step")
    kind = rng.choice(kinds)
    if kind == "num":
        v = rng.randint(lo, hi)
        return name_or_num(rng, v, names, lo), {v}
    if kind == "star_step":
        n = rng.randint(2, min(hi - lo, 20))
        base = 1 if name in ("month", "day", "week") else 0
        return "*/%d" % n, set(range(base, hi + 1, n))
    a = rng.randint(lo, hi - 1)
    b = rng.randint(a + 1, hi)
    if kind == "range":
        if names and rng.random() < 0.5:
            return "%s-%s" % (names[a - lo], names[b - lo]), set(range(a, b + 1))
        return "%d-%d" % (a, b), set(range(a, b + 1))
    if kind == "range_step":
        n = rng.randint(1, b - a)
        return "%d-%d/%d" % (a, b, n), set(range(a, b + 1, n))
    top = 9999 if name == "year" else hi
    n = rng.randint(1, min(hi, top) - a)
    return "%d/%d" % (a, n), set(range(a, top + 1, n))


def gen_field(rng, name):
    if rng.random() < 0.08:
        return Field("*", None)
    parts, values, last, nth, lastdow = [], set(), False, set(), set()
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if name == "day" and rng.random() < 0.3:
            r = rng.random()
            wd = rng.randint(0, 6)
            if r < 0.3:
                parts.append("last")
                last = True
            elif r < 0.6:
                parts.append("last %s" % WEEKDAYS[wd])
                lastdow.add(wd)
            else:
                k = rng.randint(1, 5)
                parts.append("%s %s" % (ORDINALS[k - 1], WEEKDAYS[wd]))
                nth.add((wd, k))
            continue
        text, vals = gen_atom(rng, name)
        parts.append(text)
        values |= vals
    return Field(",".join(parts), values, last, nth, lastdow)


class Expr:
    def __init__(self, rng):
        while True:
            given = [f for f in FIELDS if rng.random() < P_GIVEN[f]]
            if given:
                break
        self.given = {f: gen_field(rng, f) for f in given}
        order = list(given)
        if rng.random() < 0.3:
            rng.shuffle(order)
        self.tempo = " ".join("%s=%s" % (f, self.given[f].text) for f in order)
        # APScheduler's defaulting rule, spelled out independently.
        self.eff = {}
        remaining = set(given)
        defaults = False
        for f in FIELDS:
            if f in self.given:
                self.eff[f] = self.given[f]
                remaining.discard(f)
                defaults = not remaining
            elif defaults:
                self.eff[f] = Field("default", DEFAULTS[f])
            else:
                self.eff[f] = Field("*", None)

    def aps_kwargs(self):
        return {f: self.given[f].text for f in self.given}

    # ---- --selfcheck: an independent matcher ----
    def _plain(self, f, v):
        vals = self.eff[f].values
        return vals is None or v in vals

    def date_ok(self, d):
        if not (self._plain("year", d.year) and self._plain("month", d.month) and
                self._plain("week", d.isocalendar()[1]) and
                self._plain("day_of_week", d.weekday())):
            return False
        day = self.eff["day"]
        if day.values is None:
            return True
        dim = calendar.monthrange(d.year, d.month)[1]
        wd = d.weekday()
        return (d.day in day.values or (day.last and d.day == dim) or
                (wd, (d.day - 1) // 7 + 1) in day.nth or
                (wd in day.lastdow and d.day + 7 > dim))

    def reference_next(self, wall):
        def allowed(f, lo, hi):
            vals = self.eff[f].values
            return sorted(range(lo, hi + 1)) if vals is None else sorted(v for v in vals
                                                                        if lo <= v <= hi)
        times = [dt.time(h, m, s) for h in allowed("hour", 0, 23)
                 for m in allowed("minute", 0, 59) for s in allowed("second", 0, 59)]
        d = wall.date()
        for _ in range(366 * 40):
            if not self._plain("year", d.year):
                years = self.eff["year"].values
                later = [y for y in years if y > d.year]
                if not later or min(later) > common.TEMPO_YEAR_MAX:
                    return None
                d = dt.date(min(later), 1, 1)
            if self.date_ok(d):
                for t in times:
                    c = dt.datetime.combine(d, t)
                    if c > wall:
                        return c
            if d.year >= dt.MAXYEAR:
                return None
            d += dt.timedelta(days=1)
        return None


def counting_trigger_class(base):
    """CronTrigger that gives up after ITERATION_BUDGET field increments."""
    class Counting(base):
        __slots__ = ("increments",)

        def _increment_field_value(self, dateval, fieldnum):
            self.increments += 1
            if self.increments > ITERATION_BUDGET:
                raise Budget()
            return base._increment_field_value(self, dateval, fieldnum)
    return Counting


def aps_times(trigger_cls, expr, zone, after_us):
    import pytz
    trig = trigger_cls(timezone=pytz.timezone(zone), **expr.aps_kwargs())
    trig.increments = 0

    # get_next_fire_time answers >= its start: start one microsecond after
    # `after` and then one microsecond after each fire (as APScheduler does).
    now = dt.datetime.fromtimestamp(after_us // 1000000, dt.timezone.utc) + \
        dt.timedelta(microseconds=after_us % 1000000 + 1)
    prev = None
    times = []
    for _ in range(TIMES_PER_CASE):
        t = trig.get_next_fire_time(prev, now if prev is None else prev)
        if t is None or t.year > common.TEMPO_YEAR_MAX:
            return times, True
        times.append(int(t.timestamp()))
        prev = t
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
        return "APScheduler said never, reference %d" % want[-1]
    if want[:len(times)] != times:
        return "APScheduler %s reference %s" % (times, want)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20260416)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--selfcheck", action="store_true")
    args = ap.parse_args()

    common.remove_stale(args.out)
    try:
        import apscheduler
        import pytz  # noqa: F401  (APScheduler 3.9's time zones)
        from apscheduler.triggers.cron import CronTrigger
    except ImportError as e:
        common.write_skip(args.out, "python3-apscheduler is not installed for %s (%s)"
                          % (sys.executable, e))
        return 77
    version = apscheduler.__version__
    if not version.startswith("3."):
        common.write_skip(args.out, "APScheduler %s is not 3.x; this oracle reads 3.9's "
                          "CronTrigger" % version)
        return 77

    zones = [(z, max(y, 1971)) for z, y in common.ZONES]
    for name, min_year in zones:
        common.check_zone_fixed(name, min_year)

    counting = counting_trigger_class(CronTrigger)
    rng = common.make_rng(args.seed)
    dropped = invalid = bad = 0
    cases = []
    eid = 0
    while eid < args.count:
        expr = Expr(rng)
        try:
            CronTrigger(timezone="UTC", **expr.aps_kwargs())
        except ValueError:
            invalid += 1   # e.g. a step larger than its range: not written
            continue
        zone, min_year = rng.choice(zones)
        starts = [common.random_after_us(rng, min_year) for _ in range(STARTS_PER_EXPR)]
        try:
            results = [aps_times(counting, expr, zone, a) for a in starts]
        except Budget:
            dropped += 1
            continue
        for after_us, (times, never) in zip(starts, results):
            if args.selfcheck:
                why = selfcheck(expr, zone, after_us, times, never)
                if why:
                    bad += 1
                    print("SELFCHECK %r %s after %d: %s" % (expr.tempo, zone, after_us, why))
            cases.append((eid, zone, expr.tempo, after_us, times, never))
        eid += 1

    out = common.Writer(args.out, "apscheduler", [
        "generated by tests/oracle/cron/gen_apscheduler.py --seed %d --count %d" %
        (args.seed, args.count),
        "APScheduler %s, python %s" % (version, sys.version.split()[0]),
        "not written: %d refused by APScheduler, %d over the iteration budget"
        % (invalid, dropped)])
    for eid_, zone, text, after_us, times, never in cases:
        out.add(eid_, "f", zone, text, after_us, times, never)
    out.write()
    print("APScheduler %s: %d expressions, %d cases, %d times -> %s (%d refused, %d over "
          "budget)" % (version, len(out.expr_ids), len(out.lines), out.times, args.out,
                       invalid, dropped))
    if args.selfcheck:
        print("selfcheck: %d disagreements" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
