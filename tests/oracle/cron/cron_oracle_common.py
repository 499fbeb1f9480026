"""Shared pieces of the cron oracle generators (croniter, APScheduler 3.9).

Each generator writes one text file that the C program test_cron_differential
reads. Format, one case per line, fields separated by TABs:

    <expr id> <form> <zone> <expression> <after µs> <expected fire times>

form is "c" (crontab: tempo_trigger_cron_new) or "f" (named fields:
tempo_trigger_cron_fields_new). The expected times are whole seconds since the
epoch separated by spaces; "N" means "never again" and ends the list. Lines
starting with '#' are comments; the line "H <oracle> <expressions> <cases>
<times>" is the header the C side checks its own counts against; a file whose
only content is "SKIP <reason>" tells the test to skip (oracle not installed).
"""

import os
import random
import sys
from datetime import datetime, timezone

# Zones without any UTC-offset change after `min_year` (checked against the
# system's zoneinfo by check_zone_fixed below), so that both oracles and tempo
# agree without any DST policy coming into play. Kathmandu's +05:45 and Kolkata's
# +05:30 keep wall minutes and UTC minutes apart.
ZONES = (
    ("UTC", 1971),
    ("Asia/Kolkata", 1955),
    ("Asia/Tokyo", 1955),
    ("Asia/Kathmandu", 1987),
)

LAST_START_YEAR = 2150

# tempo answers "never" past the end of this year (lib/trigger/cron.h).
TEMPO_YEAR_MAX = 2999


def epoch_seconds(year, month=1, day=1):
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp())


def check_zone_fixed(name, min_year):
    """Fail loudly if a zone listed as fixed has an offset change in range:
    the generator's premise would be false and mismatches would be noise."""
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(name)
    offsets = set()
    t = epoch_seconds(min_year)
    end = epoch_seconds(LAST_START_YEAR + 60)
    while t < end:
        offsets.add(datetime.fromtimestamp(t, zone).utcoffset())
        t += 86400 * 7
    if len(offsets) != 1:
        sys.exit("zone %s is not fixed after %d: offsets %s" % (name, min_year, offsets))


def random_after_us(rng, min_year):
    """A start instant: whole seconds mostly, sometimes with a fraction (the
    answer must still be the first fire strictly after it)."""
    lo = epoch_seconds(min_year)
    hi = epoch_seconds(LAST_START_YEAR)
    sec = rng.randrange(lo, hi)
    kind = rng.random()
    if kind < 0.15:
        sec -= sec % 60          # exactly on a minute: likely a match itself
    elif kind < 0.25:
        sec -= sec % 86400       # exactly on a UTC midnight
    frac = rng.randrange(1, 1000000) if rng.random() < 0.2 else 0
    return sec * 1000000 + frac


class Writer:
    """Collects cases, then writes the file atomically with its header, so a
    crash half-way never leaves a plausible-looking short file behind."""

    def __init__(self, path, oracle, banner):
        self.path = path
        self.oracle = oracle
        self.banner = banner
        self.lines = []
        self.expr_ids = set()
        self.times = 0

    def add(self, eid, form, zone, expr, after_us, times, never):
        assert "\t" not in expr and "\n" not in expr
        self.expr_ids.add(eid)
        self.times += len(times)
        words = [str(t) for t in times] + (["N"] if never else [])
        self.lines.append("%d\t%s\t%s\t%s\t%d\t%s" % (eid, form, zone, expr, after_us,
                                                     " ".join(words)))

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            for b in self.banner:
                f.write("# %s\n" % b)
            f.write("H %s %d %d %d\n" % (self.oracle, len(self.expr_ids), len(self.lines),
                                         self.times))
            for line in self.lines:
                f.write(line + "\n")
        os.replace(tmp, self.path)


def write_skip(path, reason):
    with open(path, "w") as f:
        f.write("SKIP %s\n" % reason)
    print("SKIP: %s" % reason)


def remove_stale(path):
    """A failed run must not leave the previous run's data for the test to read."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def make_rng(seed):
    return random.Random(seed)
