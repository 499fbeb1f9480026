#!/usr/bin/python3
"""Oracle data for tempo's time zones, computed with Python's zoneinfo.

Usage: gen_tz_oracle.py OUTPUT

Writes a line-based file that test_tz_oracle.c reads and checks against
tempo_zone_to_civil / tempo_zone_from_civil:

    TZDIR <directory the zone files were read from>
    Z <zone>
    I <utc seconds> <utc offset> <Y> <M> <D> <h> <m> <s> <wday 0=Sun> <yday 0-based>
    W <Y> <M> <D> <h> <m> <s> <U|F|G> <earlier> <later> <transition or ->
    END <zones> <instants> <wall times>

Instants: random ones over 1900-2200 (and a few up to 2600, past tempo's
expanded table), plus one second before, at and after every change of UTC
offset in 1900-2200 and around the table's end (2395-2405).

Wall times: random ones, and both edges (and one second either side, and the
middle) of the wall-clock interval every offset change skips or repeats.
zoneinfo's answer for fold=0 and fold=1 is classified by round-tripping:
  - both folds give the same instant: U (unique);
  - both instants convert back to the wall time: F (fold), earlier = fold=0;
  - neither does: G (gap), earlier = fold=1 (offset after the gap), later =
    fold=0 (offset before), transition = the first instant with the new offset.

If zoneinfo is missing the file holds one line "SKIP <reason>" and the C test
reports a skip. Deterministic: fixed seed, and the data depends only on the
installed tzdata (regenerated at every test run so it always matches it).
"""
import os
import random
import sys
from datetime import datetime, timedelta, timezone

SEED = 20260521
RANDOM_INSTANTS = 600
FAR_INSTANTS = 60
RANDOM_WALLS = 300
SCAN_STEP = 7 * 86400  # second net under the transition list (see transitions())

ZONES = [
    # required by the brief
    "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe",
    "Asia/Kolkata", "Pacific/Chatham", "Africa/Casablanca", "America/Santiago",
    "Europe/Dublin", "Asia/Kathmandu", "America/St_Johns", "Pacific/Apia", "Antarctica/Troll",
    "Europe/Moscow", "Asia/Tehran", "America/Nuuk", "America/Godthab", "Pacific/Kiritimati",
    "Australia/Adelaide",
    # more odd histories: 30/45-minute DST, negative DST, skipped days, double summer time,
    # permanent DST, LMT offsets with seconds, rules with v3 times
    "Europe/London", "Europe/Paris", "Europe/Lisbon", "Europe/Amsterdam", "Europe/Istanbul",
    "Europe/Kyiv", "Europe/Volgograd", "Europe/Minsk", "America/Chicago", "America/Denver",
    "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "America/Havana",
    "America/Caracas", "America/Mexico_City", "America/Asuncion", "America/Scoresbysund",
    "America/Metlakatla", "America/Whitehorse", "America/Argentina/San_Luis", "America/Detroit",
    "Asia/Jerusalem", "Asia/Gaza", "Asia/Beirut", "Asia/Amman", "Asia/Damascus", "Asia/Shanghai",
    "Asia/Tokyo", "Asia/Singapore", "Asia/Pyongyang", "Asia/Dhaka", "Asia/Karachi",
    "Asia/Colombo", "Asia/Chita", "Australia/Sydney", "Australia/Perth", "Australia/Eucla",
    "Pacific/Auckland", "Pacific/Norfolk", "Pacific/Fiji", "Pacific/Tongatapu",
    "Pacific/Kwajalein", "Africa/Cairo", "Africa/Windhoek", "Africa/Juba", "Africa/Monrovia",
    "Antarctica/Macquarie", "Atlantic/Azores", "Etc/GMT+5", "UTC",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NAIVE_EPOCH = datetime(1970, 1, 1)


def ts(year):
    return int((datetime(year, 1, 1, tzinfo=timezone.utc) - EPOCH).total_seconds())


WINDOWS = [(ts(1900), ts(2200)), (ts(2395), ts(2405))]


class Zone:
    def __init__(self, zoneinfo, key):
        self.key = key
        self.z = zoneinfo.ZoneInfo(key)

    def local(self, t):
        return (EPOCH + timedelta(seconds=t)).astimezone(self.z)

    def offset(self, t):
        return int(self.local(t).utcoffset().total_seconds())

    def wall_seconds(self, dt):
        return int((dt.replace(tzinfo=None) - NAIVE_EPOCH).total_seconds())

    def instant_of(self, w, fold):
        dt = (NAIVE_EPOCH + timedelta(seconds=w)).replace(tzinfo=self.z, fold=fold)
        return w - int(dt.utcoffset().total_seconds())

    def first_change(self, lo, hi):
        """The first instant in (lo, hi] whose offset differs from lo's."""
        base = self.offset(lo)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.offset(mid) != base:
                hi = mid
            else:
                lo = mid
        return hi


def transitions(zone):
    """Every instant in WINDOWS where the UTC offset changes.

    Candidates come from the pure-Python zoneinfo's own parse of the file
    (its transition list and footer rule), when that private API exists, and
    from a scan in SCAN_STEP steps refined by bisection. Each candidate is
    kept only if the public zoneinfo agrees the offset changes there."""
    cands = set()
    try:
        from zoneinfo import _zoneinfo
        pz = _zoneinfo.ZoneInfo.no_cache(zone.key)
        cands.update(pz._trans_utc)
        after = pz._tz_after
        if hasattr(after, "transitions"):
            for year in range(1899, 2406):
                start, end = after.transitions(year)
                cands.add(int(start - after.std.utcoff.total_seconds()))
                cands.add(int(end - after.dst.utcoff.total_seconds()))
    except (ImportError, AttributeError):
        pass
    for lo, hi in WINDOWS:
        t, prev = lo, zone.offset(lo)
        while t < hi:
            nxt = min(t + SCAN_STEP, hi)
            off = zone.offset(nxt)
            if off != prev:
                cands.add(zone.first_change(t, nxt))
            t, prev = nxt, off
    keep = []
    for t in sorted(cands):
        if any(lo <= t <= hi for lo, hi in WINDOWS) and zone.offset(t - 1) != zone.offset(t):
            keep.append(t)
    return keep


def instant_line(zone, t):
    d = zone.local(t)
    return "I %d %d %d %d %d %d %d %d %d %d" % (
        t, int(d.utcoffset().total_seconds()), d.year, d.month, d.day, d.hour, d.minute,
        d.second, d.isoweekday() % 7, d.timetuple().tm_yday - 1)


def wall_line(zone, w):
    u0, u1 = zone.instant_of(w, 0), zone.instant_of(w, 1)
    back0 = zone.wall_seconds(zone.local(u0)) == w
    back1 = zone.wall_seconds(zone.local(u1)) == w
    if u0 == u1:
        kind, earlier, later, trans = "U", u0, u0, "-"
    elif back0 and back1:
        kind, earlier, later, trans = "F", min(u0, u1), max(u0, u1), "-"
    elif not back0 and not back1:
        kind, earlier, later = "G", u1, u0
        trans = str(zone.first_change(earlier, later))
    else:
        return None  # zoneinfo itself is inconsistent here; nothing to compare with
    d = NAIVE_EPOCH + timedelta(seconds=w)
    return "W %d %d %d %d %d %d %s %d %d %s" % (
        d.year, d.month, d.day, d.hour, d.minute, d.second, kind, earlier, later, trans)


def zone_lines(zone, rng):
    lines, n_i, n_w = ["Z " + zone.key], 0, 0
    trans = transitions(zone)
    instants = set()
    for t in trans:
        instants.update((t - 1, t, t + 1))
    lo, hi = WINDOWS[0]
    instants.update(rng.randrange(lo, hi) for _ in range(RANDOM_INSTANTS))
    instants.update(rng.randrange(hi, ts(2600)) for _ in range(FAR_INSTANTS))
    for t in sorted(instants):
        lines.append(instant_line(zone, t))
        n_i += 1
    walls = set()
    for t in trans:
        a, b = zone.offset(t - 1), zone.offset(t)
        w_lo, w_hi = t + min(a, b), t + max(a, b)
        walls.update((w_lo - 1, w_lo, w_lo + 1, (w_lo + w_hi) // 2, w_hi - 1, w_hi, w_hi + 1))
    walls.update(rng.randrange(lo + 86400, hi - 86400) for _ in range(RANDOM_WALLS))
    for w in sorted(walls):
        line = wall_line(zone, w)
        if line:
            lines.append(line)
            n_w += 1
        else:
            print("gen_tz_oracle: %s: zoneinfo's fold=0/1 answers for wall second %d disagree "
                  "with its own conversions; left out" % (zone.key, w), file=sys.stderr)
    return lines, n_i, n_w


def main(argv):
    if len(argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    try:
        import zoneinfo
        from zoneinfo import _tzpath
    except ImportError as e:
        with open(out, "w") as f:
            f.write("SKIP Python's zoneinfo is not available (%s)\n" % e)
        return 0
    rng = random.Random(SEED)
    body, zones, n_i, n_w, tzdir = [], 0, 0, 0, None
    for key in ZONES:
        path = _tzpath.find_tzfile(key)
        if path is None:
            print("gen_tz_oracle: %s not installed, left out" % key, file=sys.stderr)
            continue
        base = path[: -len(key) - 1]
        if tzdir is None:
            tzdir = base
        elif base != tzdir:
            print("gen_tz_oracle: %s is in %s, not %s; left out" % (key, base, tzdir),
                  file=sys.stderr)
            continue
        lines, i, w = zone_lines(Zone(zoneinfo, key), rng)
        body += lines
        zones, n_i, n_w = zones + 1, n_i + i, n_w + w
    with open(out + ".tmp", "w") as f:
        f.write("TZDIR %s\n" % (tzdir or "/usr/share/zoneinfo"))
        f.write("\n".join(body))
        f.write("\nEND %d %d %d\n" % (zones, n_i, n_w))
    os.replace(out + ".tmp", out)
    print("gen_tz_oracle: %d zones, %d instants, %d wall times -> %s" % (zones, n_i, n_w, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
