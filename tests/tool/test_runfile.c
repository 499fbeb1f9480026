/* Schedule files of `tempo run` (docs/run-file.md, tools/tempo/runfile.h).
 *
 * Every trigger form is parsed and its trigger asked for fire times, which
 * are compared, formatted in the schedule's zone, with instants worked out by
 * hand (the DST ones are DESIGN.md §3's worked examples, the same that
 * tests/tool/test_tool_cli.c checks through `tempo next`). Then settings and
 * [defaults], every error message with its exact FILE:LINE:COLUMN, the reload
 * diff, reading files, and a loop over mutated files that must never crash
 * and must always end in either a list or one positioned error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runfile.h"
#include "test_support.h"

#define PATH "f.tempo"

/* ---- helpers ---- */

static tempo__runfile_t parse_ok(const char *text)
{
    tempo__runfile_t rf;
    char err[512];
    tempo_status_t st = tempo__runfile_parse(PATH, text, strlen(text), &rf, err, sizeof err);
    if (st != TEMPO_OK)
        fail_msg("parse failed (%d): %s\n--- text:\n%s", (int)st, err, text);
    return rf;
}

static const tempo__runfile_entry_t *entry(const tempo__runfile_t *rf, const char *name)
{
    const tempo__runfile_entry_t *e = tempo__runfile_find(rf, name);
    if (!e)
        fail_msg("no schedule named '%s'", name);
    return e;
}

/* The first fire times of `e` after `after` (ISO 8601 with offset), each
 * formatted in the schedule's zone; NULL-terminated `want`. */
static void check_fires(const tempo__runfile_entry_t *e, const char *after, const char *const *want)
{
    const tempo_zone_t *zone;
    tempo_error_t err = {0};
    assert_int_equal(tempo_zone_get(e->zone, &zone, &err), TEMPO_OK);
    tempo_time_t t;
    assert_int_equal(tempo_time_parse(after, zone, &t, &err), TEMPO_OK);
    for (size_t i = 0; want[i]; i++) {
        t = tempo_trigger_next(e->trigger, t);
        char got[64];
        assert_true(tempo_time_format(t, zone, got, sizeof got) > 0);
        if (strcmp(got, want[i]) != 0)
            fail_msg("%s (%s): fire %zu after %s: got %s, want %s", e->name, e->trigger_text, i,
                     after, got, want[i]);
    }
}

#define FIRES(e, after, ...) check_fires((e), (after), (const char *const[]){__VA_ARGS__, NULL})

static void check_cron(const tempo__runfile_entry_t *e, const char *normalized)
{
    char buf[128];
    assert_string_equal(tempo_trigger_type_name(e->trigger), "cron");
    assert_true(tempo_trigger_cron_normalized(e->trigger, buf, sizeof buf) > 0);
    assert_string_equal(buf, normalized);
}

/* ---- triggers ---- */

static void test_crontab_and_macros(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("[defaults]\n"
                                   "zone = Europe/Berlin\n"
                                   "\n"
                                   "backup:  30 2 * * *   /usr/local/bin/backup --quick\n"
                                   "wk:30 9 * * mon-fri echo weekdays\n"
                                   "nightly: @daily  make -C /src nightly\n"
                                   "hourly:\t@HOURLY\techo  'issue #5'  # a shell comment  \n"
                                   "never: 0 0 30 2 * echo never\n");
    assert_int_equal(rf.count, 5);
    const tempo__runfile_entry_t *b = entry(&rf, "backup");
    assert_string_equal(b->trigger_text, "30 2 * * *");
    assert_string_equal(b->command, "/usr/local/bin/backup --quick");
    assert_string_equal(b->zone, "Europe/Berlin");
    assert_int_equal(b->line, 4);
    check_cron(b, "30 2 * * *");
    FIRES(b, "2027-03-26T12:00:00+01:00", "2027-03-27T02:30:00+01:00",
          "2027-03-28T03:00:00+02:00", /* inside the gap: at its end */
          "2027-03-29T02:30:00+02:00");
    const tempo__runfile_entry_t *w = entry(&rf, "wk");
    assert_string_equal(w->command, "echo weekdays");
    FIRES(w, "2027-03-26T10:00:00+01:00", "2027-03-29T09:30:00+02:00", "2027-03-30T09:30:00+02:00");
    const tempo__runfile_entry_t *n = entry(&rf, "nightly");
    check_cron(n, "0 0 * * *");
    FIRES(n, "2027-01-01T12:00:00+01:00", "2027-01-02T00:00:00+01:00");
    const tempo__runfile_entry_t *h = entry(&rf, "hourly");
    assert_string_equal(h->trigger_text, "@HOURLY");
    /* '#' belongs to the command; only trailing blanks are cut. */
    assert_string_equal(h->command, "echo  'issue #5'  # a shell comment");
    FIRES(entry(&rf, "never"), "2027-01-01T00:00:00+01:00", "none");
    tempo__runfile_free(&rf);
}

static void test_quoted(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("[defaults]\nzone = UTC\n"
                                   "tick: \"*/10 * * * * *\" echo tick\n"
                                   "seven: '0 0 12 1 1 * 2027-2028'  echo noon\n"
                                   "named: \"hour=9 minute=30 day_of_week=mon-fri\" echo named\n"
                                   "lastfri: \"day=last fri hour=18\" echo weekend\n"
                                   "phrase: \"every 15m\" echo quoted phrase\n"
                                   "five: \"  30 9 * * *  \" echo spaced\n");
    const tempo__runfile_entry_t *t = entry(&rf, "tick");
    assert_string_equal(t->trigger_text, "*/10 * * * * *");
    assert_string_equal(t->command, "echo tick");
    FIRES(t, "2027-01-01T00:00:05+00:00", "2027-01-01T00:00:10+00:00", "2027-01-01T00:00:20+00:00");
    FIRES(entry(&rf, "seven"), "2027-06-01T00:00:00+00:00", "2028-01-01T12:00:00+00:00", "none");
    const tempo__runfile_entry_t *nm = entry(&rf, "named");
    check_cron(nm, "day_of_week=0-4 hour=9 minute=30");
    FIRES(nm, "2027-01-01T10:00:00+00:00", "2027-01-04T09:30:00+00:00");
    FIRES(entry(&rf, "lastfri"), "2027-01-01T00:00:00+00:00", "2027-01-29T18:00:00+00:00",
          "2027-02-26T18:00:00+00:00");
    assert_string_equal(tempo_trigger_type_name(entry(&rf, "phrase")->trigger), "interval");
    const tempo__runfile_entry_t *f = entry(&rf, "five");
    assert_string_equal(f->trigger_text, "30 9 * * *");
    FIRES(f, "2027-01-01T00:00:00+00:00", "2027-01-01T09:30:00+00:00");
    tempo__runfile_free(&rf);
}

static void test_every(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("[defaults]\nzone = Europe/Berlin\n"
                                   "q: every 15m  echo q\n"
                                   "s: every 90s  echo s\n"
                                   "hm: EVERY 1h30m echo hm\n"
                                   "d: every 1d echo d\n"
                                   "from: every 2d from 2027-01-04T09:00 echo from\n"
                                   "from2: every 12h from 2027-03-27 21:00 echo from2\n"
                                   "fromz: every 5s from 2027-01-01T00:00:00Z echo z\n");
    const tempo__runfile_entry_t *q = entry(&rf, "q");
    assert_string_equal(tempo_trigger_type_name(q->trigger), "interval");
    /* From the epoch: round UTC times, whatever the zone. */
    FIRES(q, "2027-01-01T00:07:00+00:00", "2027-01-01T01:15:00+01:00", "2027-01-01T01:30:00+01:00");
    FIRES(entry(&rf, "s"), "2027-01-01T00:00:00+00:00", "2027-01-01T01:01:30+01:00",
          "2027-01-01T01:03:00+01:00");
    /* 2027-01-01T00:00Z is 16 * 90 min after a midnight UTC: on the grid. */
    FIRES(entry(&rf, "hm"), "2027-01-01T00:00:00+00:00", "2027-01-01T02:30:00+01:00",
          "2027-01-01T04:00:00+01:00");
    FIRES(entry(&rf, "d"), "2027-01-01T00:00:00+00:00", "2027-01-02T01:00:00+01:00");
    FIRES(entry(&rf, "from"), "2020-01-01T00:00:00+00:00", "2027-01-04T09:00:00+01:00",
          "2027-01-06T09:00:00+01:00");
    /* Elapsed time across the spring-forward gap: 21:00 CET + 12 h = 10:00 CEST. */
    FIRES(entry(&rf, "from2"), "2027-03-27T12:00:00+01:00", "2027-03-27T21:00:00+01:00",
          "2027-03-28T10:00:00+02:00");
    FIRES(entry(&rf, "fromz"), "2026-12-31T00:00:00+00:00", "2027-01-01T01:00:00+01:00",
          "2027-01-01T01:00:05+01:00");
    tempo__runfile_free(&rf);
}

static void test_at(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("newyear: at 2027-01-01T00:00   echo happy\n"
                                   "  zone = Europe/Berlin\n"
                                   "two: at 2027-01-01 12:30:15 echo two words\n"
                                   "  zone = Asia/Tokyo\n"
                                   "off: at 2027-01-01T00:00+05:00 echo offset\n"
                                   "  zone = UTC\n"
                                   "day: at 2027-06-01 echo midnight\n"
                                   "  zone = UTC\n"
                                   "gap: at 2027-03-28T02:30 echo gap\n"
                                   "  zone = Europe/Berlin\n");
    const tempo__runfile_entry_t *ny = entry(&rf, "newyear");
    assert_string_equal(tempo_trigger_type_name(ny->trigger), "date");
    assert_string_equal(ny->command, "echo happy");
    FIRES(ny, "2026-06-01T00:00:00+00:00", "2027-01-01T00:00:00+01:00", "none");
    const tempo__runfile_entry_t *two = entry(&rf, "two");
    assert_string_equal(two->trigger_text, "at 2027-01-01 12:30:15");
    assert_string_equal(two->command, "echo two words");
    FIRES(two, "2026-06-01T00:00:00+00:00", "2027-01-01T12:30:15+09:00");
    FIRES(entry(&rf, "off"), "2026-06-01T00:00:00+00:00", "2026-12-31T19:00:00+00:00");
    FIRES(entry(&rf, "day"), "2026-06-01T00:00:00+00:00", "2027-06-01T00:00:00+00:00");
    /* A wall time in the gap means the first instant after it. */
    FIRES(entry(&rf, "gap"), "2026-06-01T00:00:00+00:00", "2027-03-28T03:00:00+02:00");
    tempo__runfile_free(&rf);
}

static void test_wall_clock_phrases(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("[defaults]\nzone = America/New_York\n"
                                   "daily: daily at 2:30 echo d\n"
                                   "skip: daily at 02:30 echo s\n"
                                   "  dst_gap = skip\n"
                                   "secs: Daily At 09:30:15 echo secs\n"
                                   "fold: daily at 01:30 echo fold\n"
                                   "wk: weekly on mon-fri at 08:00 echo wk\n"
                                   "we: weekly on Saturday,sun at 10:00 echo we\n"
                                   "wrap: weekly on fri-mon at 07:00 echo wrap\n"
                                   "rent: monthly on day 31 at 09:00 ./pay-rent.sh\n"
                                   "twice: monthly on day 1,15 at 09:00 echo twice\n"
                                   "last: monthly on last day at 18:00 echo last\n"
                                   "xmas: yearly on dec 24 at 18:00 echo xmas\n"
                                   "leap: yearly on 29 FEB at 12:00 echo leap\n");
    const tempo__runfile_entry_t *d = entry(&rf, "daily");
    check_cron(d, "30 2 * * *");
    /* DESIGN.md §3: 02:30 in the 2016-03-13 gap fires at 03:00 EDT... */
    FIRES(d, "2016-03-13T01:59:59-05:00", "2016-03-13T03:00:00-04:00", "2016-03-14T02:30:00-04:00");
    /* ...or not at all under skip. */
    FIRES(entry(&rf, "skip"), "2016-03-13T01:59:59-05:00", "2016-03-14T02:30:00-04:00");
    check_cron(entry(&rf, "secs"), "15 30 9 * * *");
    /* A fixed time in the fold fires once, at its first occurrence. */
    FIRES(entry(&rf, "fold"), "2016-11-06T00:00:00-04:00", "2016-11-06T01:30:00-04:00",
          "2016-11-07T01:30:00-05:00");
    const tempo__runfile_entry_t *wk = entry(&rf, "wk");
    check_cron(wk, "0 8 * * 1-5");
    FIRES(wk, "2027-01-01T09:00:00-05:00", "2027-01-04T08:00:00-05:00", "2027-01-05T08:00:00-05:00");
    check_cron(entry(&rf, "we"), "0 10 * * 0,6");
    FIRES(entry(&rf, "we"), "2027-01-01T00:00:00-05:00", "2027-01-02T10:00:00-05:00",
          "2027-01-03T10:00:00-05:00", "2027-01-09T10:00:00-05:00");
    /* fri-mon wraps over the weekend: Fri, Sat, Sun, Mon. */
    FIRES(entry(&rf, "wrap"), "2027-01-01T00:00:00-05:00", "2027-01-01T07:00:00-05:00",
          "2027-01-02T07:00:00-05:00", "2027-01-03T07:00:00-05:00", "2027-01-04T07:00:00-05:00",
          "2027-01-08T07:00:00-05:00");
    /* Day 31: months without one are skipped, not clamped. */
    const tempo__runfile_entry_t *rent = entry(&rf, "rent");
    assert_string_equal(rent->command, "./pay-rent.sh");
    FIRES(rent, "2027-01-01T00:00:00-05:00", "2027-01-31T09:00:00-05:00", "2027-03-31T09:00:00-04:00",
          "2027-05-31T09:00:00-04:00", "2027-07-31T09:00:00-04:00", "2027-08-31T09:00:00-04:00",
          "2027-10-31T09:00:00-04:00", "2027-12-31T09:00:00-05:00");
    FIRES(entry(&rf, "twice"), "2027-01-01T12:00:00-05:00", "2027-01-15T09:00:00-05:00",
          "2027-02-01T09:00:00-05:00");
    FIRES(entry(&rf, "last"), "2027-01-01T00:00:00-05:00", "2027-01-31T18:00:00-05:00",
          "2027-02-28T18:00:00-05:00", "2027-03-31T18:00:00-04:00", "2027-04-30T18:00:00-04:00");
    check_cron(entry(&rf, "xmas"), "0 18 24 12 *");
    FIRES(entry(&rf, "xmas"), "2027-01-01T00:00:00-05:00", "2027-12-24T18:00:00-05:00");
    FIRES(entry(&rf, "leap"), "2027-01-01T00:00:00-05:00", "2028-02-29T12:00:00-05:00",
          "2032-02-29T12:00:00-05:00");
    tempo__runfile_free(&rf);
}

static void test_calendar_interval(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("[defaults]\nzone = Europe/Berlin\n"
                                   "biweekly: every 2 weeks at 09:00 from 2027-01-04 echo b\n"
                                   "monthly31: every 1 month at 09:00 from 2027-01-31 echo m\n"
                                   "days: every 3 days at 02:30 from 2027-03-25 echo d\n"
                                   "years: every 1 year at 12:00 from 2024-02-29 echo y\n");
    const tempo__runfile_entry_t *b = entry(&rf, "biweekly");
    assert_string_equal(tempo_trigger_type_name(b->trigger), "calendar");
    FIRES(b, "2027-01-01T00:00:00+01:00", "2027-01-04T09:00:00+01:00", "2027-01-18T09:00:00+01:00",
          "2027-02-01T09:00:00+01:00");
    FIRES(entry(&rf, "monthly31"), "2027-01-01T00:00:00+01:00", "2027-01-31T09:00:00+01:00",
          "2027-03-31T09:00:00+02:00", "2027-05-31T09:00:00+02:00");
    /* 2027-03-28 02:30 is in Berlin's gap: shifted to its end. */
    FIRES(entry(&rf, "days"), "2027-03-25T12:00:00+01:00", "2027-03-28T03:00:00+02:00",
          "2027-03-31T02:30:00+02:00");
    FIRES(entry(&rf, "years"), "2024-03-01T00:00:00+01:00", "2028-02-29T12:00:00+01:00");
    tempo__runfile_free(&rf);
}

/* ---- settings ---- */

static void test_settings_values(void **state)
{
    (void)state;
    tempo__runfile_t rf = parse_ok("# comment\n"
                                   "\n"
                                   "[defaults]   # the defaults\n"
                                   "zone = Europe/Berlin\n"
                                   "  timeout = 10m   # indented is fine here\n"
                                   "retries=3\n"
                                   "\n"
                                   "plain: @hourly ./a.sh\n"
                                   "all: @hourly ./b.sh\n"
                                   "\n"
                                   "  # comments and blank lines inside the block\n"
                                   "\tzone = America/New_York\n"
                                   "  dst_gap = SKIP\n"
                                   "  coalesce = all\n"
                                   "  misfire_grace = 5m\n"
                                   "  jitter = 30s\n"
                                   "  max_running = 4\n"
                                   "  timeout = 1h\n"
                                   "  retries = 0\n"
                                   "unl: @hourly ./c.sh\n"
                                   "  misfire_grace = unlimited\n"
                                   "  max_running = UNLIMITED\n"
                                   "  timeout = unlimited\n"
                                   "  coalesce = earliest\n"
                                   "  jitter = 0\n"
                                   "bare: every 1d12h echo bare\n"
                                   "  zone = +05:30\n");
    assert_int_equal(rf.count, 4);
    const tempo__runfile_entry_t *p = entry(&rf, "plain");
    assert_string_equal(p->zone, "Europe/Berlin");
    assert_int_equal(p->dst_gap, TEMPO_DST_GAP_SHIFT);
    assert_int_equal(p->coalesce, TEMPO_COALESCE_LATEST);
    assert_true(p->misfire_grace == TEMPO_DURATION_NONE);
    assert_true(p->jitter == 0);
    assert_int_equal(p->max_running, 1);
    assert_true(p->timeout == TEMPO_MINUTES(10));
    assert_int_equal(p->retries, 3);
    assert_int_equal(p->line, 8);

    const tempo__runfile_entry_t *a = entry(&rf, "all");
    assert_string_equal(a->zone, "America/New_York");
    assert_int_equal(a->dst_gap, TEMPO_DST_GAP_SKIP);
    assert_int_equal(a->coalesce, TEMPO_COALESCE_ALL);
    assert_true(a->misfire_grace == TEMPO_MINUTES(5));
    assert_true(a->jitter == TEMPO_SECONDS(30));
    assert_int_equal(a->max_running, 4);
    assert_true(a->timeout == TEMPO_HOURS(1));
    assert_int_equal(a->retries, 0);
    /* The zone reaches the trigger. */
    FIRES(a, "2027-01-01T00:30:00-05:00", "2027-01-01T01:00:00-05:00");

    const tempo__runfile_entry_t *u = entry(&rf, "unl");
    assert_string_equal(u->zone, "Europe/Berlin");
    assert_true(u->misfire_grace == TEMPO_DURATION_NONE);
    assert_int_equal(u->max_running, 0);
    assert_true(u->timeout == TEMPO_DURATION_NONE);
    assert_int_equal(u->coalesce, TEMPO_COALESCE_EARLIEST);
    assert_int_equal(u->retries, 3);

    const tempo__runfile_entry_t *b = entry(&rf, "bare");
    assert_string_equal(b->zone, "+05:30");
    /* 1d12h = 36 h from the epoch: 1970-01-01 + 36 h * k. */
    FIRES(b, "1970-01-01T00:00:00+00:00", "1970-01-02T17:30:00+05:30", "1970-01-04T05:30:00+05:30");
    tempo__runfile_free(&rf);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        tempo_duration_t want;
    } ok[] = {
        {"0", 0},
        {"0s", 0},
        {"90s", TEMPO_SECONDS(90)},
        {"15m", TEMPO_MINUTES(15)},
        {"1h30m", TEMPO_MINUTES(90)},
        {"2d", TEMPO_DAYS(2)},
        {"1d12h", TEMPO_HOURS(36)},
        {"1h0m30s", TEMPO_SECONDS(3630)},
        {"36500d", TEMPO_DAYS(36500)},
        {"2H", TEMPO_HOURS(2)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "a: @daily x\n  jitter = %s\n", ok[i].text);
        tempo__runfile_t rf = parse_ok(text);
        if (rf.entries[0].jitter != ok[i].want)
            fail_msg("%s: got %lld", ok[i].text, (long long)rf.entries[0].jitter);
        tempo__runfile_free(&rf);
    }
}

static void test_file_shapes(void **state)
{
    (void)state;
    /* Empty and comment-only files hold no schedules and are fine. */
    const char *empty[] = {"", "\n\n", "# nothing\n   # here\n", "[defaults]\nzone = UTC\n"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        tempo__runfile_t rf = parse_ok(empty[i]);
        assert_int_equal(rf.count, 0);
        tempo__runfile_free(&rf);
    }
    /* CRLF line ends, a byte-order mark, no final newline. */
    tempo__runfile_t rf = parse_ok("\xef\xbb\xbf" "a: @daily echo a\r\n  zone = UTC\r\nb: @daily echo b");
    assert_int_equal(rf.count, 2);
    assert_string_equal(rf.entries[0].command, "echo a");
    assert_string_equal(rf.entries[0].zone, "UTC");
    assert_string_equal(rf.entries[1].command, "echo b");
    assert_int_equal(rf.entries[1].line, 3);
    tempo__runfile_free(&rf);
    /* Names: every allowed character, and the longest. */
    rf = parse_ok("A-z_0.9: @daily x\n"
                  "a234567890123456789012345678901234567890123456789012345678901234: @daily y\n"
                  "UTF8: @daily echo 'héllo wörld ✓'\n");
    assert_string_equal(rf.entries[0].name, "A-z_0.9");
    assert_int_equal(strlen(rf.entries[1].name), 64);
    assert_string_equal(rf.entries[2].command, "echo 'héllo wörld ✓'");
    tempo__runfile_free(&rf);
    /* Without [defaults] the zone is local, as for `tempo next`. */
    rf = parse_ok("a: @daily x\n");
    assert_string_equal(rf.entries[0].zone, "local");
    tempo__runfile_free(&rf);
}

/* ---- errors ---- */

typedef struct bad {
    const char *text;
    const char *message; /* the whole error line */
} bad_t;

static const bad_t bad_files[] = {
    /* lines and structure */
    {"30 2 * * * backup\n",
     PATH ":1:1: expected a schedule, NAME: TRIGGER COMMAND (every schedule needs a name), found '30'"},
    {"a: @daily x\n  b: @daily y\n",
     PATH ":2:3: a schedule line must start at column 1 (indented lines are settings of the schedule above)"},
    {"  zone = UTC\n", PATH ":1:3: an indented line is a setting, but no schedule or [defaults] is above it"},
    {"a: @daily x\nzone = UTC\n",
     PATH ":2:1: a setting must be indented under its schedule (defaults go in [defaults], before the first schedule)"},
    {"zone = UTC\n",
     PATH ":1:1: a setting must be indented under its schedule (defaults go in [defaults], before the first schedule)"},
    {"[default]\n", PATH ":1:1: unknown section '[default]' (the only section is [defaults])"},
    {"[defaults] x\n", PATH ":1:12: unexpected 'x' after [defaults]"},
    {"[defaults]\n[defaults]\n", PATH ":2:1: [defaults] is given twice (first on line 1)"},
    {"a: @daily x\n[defaults]\n",
     PATH ":2:1: [defaults] must come before the first schedule (line 1), so that it applies to all"},
    {"my job: @daily x\n",
     PATH ":1:1: expected a schedule, NAME: TRIGGER COMMAND (every schedule needs a name), found 'my'"},
    {"my/job: @daily x\n", PATH ":1:3: a name is made of A-Z a-z 0-9 _ . - only"},
    {": @daily x\n", PATH ":1:1: missing name before ':'"},
    {"a2345678901234567890123456789012345678901234567890123456789012345: @daily x\n",
     PATH ":1:1: the name 'a234567890123456789012345678901234567890...' is longer than 64 characters"},
    {"backup: @daily x\n\nother: @daily y\nbackup: @hourly z\n",
     PATH ":4:1: duplicate name 'backup' (first on line 1)"},
    {"a: @daily x\n\tb\x1b[0m\n", PATH ":2:3: control character 0x1b (only tabs may appear in a line)"},
    {"a: @daily echo \xff\n", PATH ":1:16: byte 0xff is not valid UTF-8"},
    {"a: @daily echo \xc3\n", PATH ":1:16: byte 0xc3 is not valid UTF-8"},
    {"a: @daily x\rb\n", PATH ":1:12: control character 0x0d (only tabs may appear in a line)"},
    /* triggers */
    {"a:\n", PATH ":1:3: missing trigger and command after the name"},
    {"a: 30 2 * *\n",
     PATH ":1:12: a crontab expression has 5 fields, found 4 (then comes the command; 6 or 7 fields must be quoted)"},
    {"a: 30 2 * * *\n", PATH ":1:14: missing command after the trigger"},
    {"a: 30 2 * * *    # nightly\n", PATH ":1:18: missing command after the trigger (this is a comment)"},
    {"a: 0 24 * * * x\n", PATH ":1:6: cron: field 'hour': '24' is out of range 0-23"},
    {"a:  0 0 * * fry x\n", PATH ":1:13: cron: field 'day_of_week': 'fry' is not a weekday name"},
    {"a: 0 30 9 * * * echo\n",
     PATH ":1:15: '*' looks like a sixth cron field; a 6- or 7-field expression must be quoted: \"0 30 9 * * *\""},
    {"a: 0 30 9 * * mon-fri 2027 echo\n",
     PATH ":1:15: 'mon-fri' looks like a sixth cron field; a 6- or 7-field expression must be quoted: \"0 30 9 * * mon-fri 2027\""},
    {"a: hour=9 minute=30 make\n",
     PATH ":1:4: the named-field form must be quoted (\"hour=9 minute=30\"), so that it ends before the command"},
    {"a: @reboot x\n",
     PATH ":1:4: cron: '@reboot' is not supported (a trigger fires at times of day, not when a system starts)"},
    {"a: \"0 0 0 * * * 3000\" x\n", PATH ":1:17: cron: field 'year': '3000' is out of range 1900-2999"},
    {"a: \"* * * *\" x\n", PATH ":1:5: cron: expected 5, 6 or 7 fields, found 4"},
    {"a: \"hour=9 hour=10\" x\n", PATH ":1:12: cron: field 'hour': 'hour' is given twice"},
    {"a: \"30 2 * * * x\n", PATH ":1:4: the quote \" opened here is not closed"},
    {"a: '  ' x\n", PATH ":1:4: the quotes hold no trigger"},
    {"a: \"@daily\"x\n", PATH ":1:12: expected a blank after the closing quote"},
    {"a: \"every 5m x\" y\n", PATH ":1:14: unexpected 'x' at the end of the trigger"},
    /* phrases */
    {"a: every\n", PATH ":1:9: expected a period (15m) or 'N days|weeks|months|years' after 'every'"},
    {"a: every 5x echo\n", PATH ":1:10: '5x' is not a duration (e.g. 90s, 15m, 1h30m, 2d)"},
    {"a: every 30m1h echo\n", PATH ":1:10: '30m1h' is not a duration (e.g. 90s, 15m, 1h30m, 2d)"},
    {"a: every 36501d echo\n", PATH ":1:10: '36501d' is too long (at most 36500d)"},
    {"a: every 0s echo\n", PATH ":1:10: the period must be longer than 0"},
    {"a: every 15 minutes echo\n",
     PATH ":1:10: '15 minutes': write an elapsed period as one word (15m, 2h, 1d12h), or a calendar interval as 'every N days|weeks|months|years at HH:MM from DATE'"},
    {"a: every 5m from 2027-13-01 x\n",
     PATH ":1:23: time '2027-13-01': month 13 is out of range (01-12)"},
    {"a: every 5m from 2027-01-01 25:00 x\n",
     PATH ":1:29: time '2027-01-01T25:00': hour 25 is out of range (00-23)"},
    {"a: every 5m from\n", PATH ":1:17: expected a date and time (2027-01-01T00:00) after 'from'"},
    {"a: at 2027-02-30T00:00 x\n",
     PATH ":1:15: time '2027-02-30T00:00': day 30 is out of range for 2027-02 (01-28)"},
    {"a: at tomorrow x\n", PATH ":1:7: time 'tomorrow': expected a four-digit year (or a sign and 4 to 6 digits)"},
    {"a: every 2 weeks at 09:00 x\n",
     PATH ":1:27: expected 'from DATE' after '09:00': 'every N weeks' needs its first day (e.g. from 2027-01-04)"},
    {"a: every 2 weeks at 09:00\n",
     PATH ":1:26: expected 'from DATE' after '09:00': 'every N weeks' needs its first day (e.g. from 2027-01-04)"},
    {"a: every 2 weeks at 09:00 from 2027-1-4 x\n", PATH ":1:32: '2027-1-4' is not a date (YYYY-MM-DD)"},
    {"a: every 1 month at 09:00 from 2027-02-30 x\n",
     PATH ":1:32: calendar: start date 2027-02-30 does not exist"},
    {"a: every 1 month at 09:00 from 1800-01-01 x\n",
     PATH ":1:32: calendar: start year 1800 is outside 1900..2999"},
    {"a: every 0 days at 09:00 from 2027-01-01 x\n", PATH ":1:10: '0' is not a count (1-1000)"},
    {"a: every 2 weeks on 09:00 from 2027-01-01 x\n",
     PATH ":1:18: expected 'at' after 'weeks', found 'on'"},
    {"a: daily 09:00 x\n", PATH ":1:10: expected 'at' after 'daily', found '09:00'"},
    {"a: daily at\n", PATH ":1:12: expected a time of day (HH:MM) after 'at'"},
    {"a: daily at 24:00 x\n",
     PATH ":1:13: '24:00' is not a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59:59)"},
    {"a: daily at 9.30 x\n",
     PATH ":1:13: '9.30' is not a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59:59)"},
    {"a: weekly at 09:00 x\n", PATH ":1:11: expected 'on' after 'weekly', found 'at'"},
    {"a: weekly on 1-5 at 09:00 x\n",
     PATH ":1:14: '1' is not a weekday name (mon..sun, or in full; numbers are not accepted)"},
    {"a: weekly on mon-fry at 09:00 x\n",
     PATH ":1:18: 'fry' is not a weekday name (mon..sun, or in full; numbers are not accepted)"},
    {"a: weekly on mon,,fri at 09:00 x\n", PATH ":1:18: empty item in the list of days 'mon,,fri'"},
    {"a: monthly on 31 at 09:00 x\n",
     PATH ":1:15: expected 'day N' or 'last day' after 'on', found '31'"},
    {"a: monthly on day 32 at 09:00 x\n", PATH ":1:19: '32' is not a day of the month (1-31)"},
    {"a: monthly on day 1,0 at 09:00 x\n", PATH ":1:21: '0' is not a day of the month (1-31)"},
    {"a: monthly on last week at 09:00 x\n",
     PATH ":1:20: expected 'day' after 'last', found 'week'"},
    {"a: yearly on feb 30 at 09:00 x\n", PATH ":1:18: February has no day 30"},
    {"a: yearly on 31 apr at 09:00 x\n", PATH ":1:14: April has no day 31"},
    {"a: yearly on 12 24 at 09:00 x\n",
     PATH ":1:14: expected a month and a day after 'on' (dec 24), found '12'"},
    {"a: yearly on dec x at 09:00 x\n", PATH ":1:18: 'x' is not a day of the month"},
    /* settings */
    {"a: @daily x\n  zome = UTC\n",
     PATH ":2:3: unknown setting 'zome' (zone, dst_gap, coalesce, misfire_grace, jitter, max_running, timeout, retries)"},
    {"a: @daily x\n  zone UTC\n", PATH ":2:8: expected '=' after 'zone'"},
    {"a: @daily x\n  zone =\n", PATH ":2:9: missing value after 'zone ='"},
    {"a: @daily x\n  zone = # none\n", PATH ":2:10: missing value after 'zone ='"},
    {"a: @daily x\n  = UTC\n", PATH ":2:3: expected a setting, KEY = VALUE"},
    {"a: @daily x\n  zone = Europe/Berlin Paris\n",
     PATH ":2:24: unexpected 'Paris' after the value (a value is one word; comments start with #)"},
    {"a: @daily x\n  zone = Mars/Olympus\n",
     PATH ":2:10: time zone 'Mars/Olympus' not found (looked in /usr/share/zoneinfo)"},
    {"a: @daily x\n  zone = UTC\n  zone = UTC\n",
     PATH ":3:3: 'zone' is given twice for this schedule (first on line 2)"},
    {"[defaults]\ntimeout = 1m\n  timeout = 2m\n",
     PATH ":3:3: 'timeout' is given twice in [defaults] (first on line 2)"},
    {"a: @daily x\n  dst_gap = later\n", PATH ":2:13: 'later' is not a dst_gap policy (shift or skip)"},
    {"a: @daily x\n  coalesce = first\n",
     PATH ":2:14: 'first' is not a coalesce policy (latest, earliest or all)"},
    {"a: @daily x\n  misfire_grace = 5x\n",
     PATH ":2:19: '5x' is not a duration (e.g. 90s, 15m, 1h30m, 2d)"},
    {"a: @daily x\n  jitter = unlimited\n",
     PATH ":2:12: 'unlimited' is not a duration (e.g. 90s, 15m, 1h30m, 2d)"},
    {"a: @daily x\n  timeout = 0s\n", PATH ":2:13: must be more than 0 (or unlimited)"},
    {"a: @daily x\n  max_running = 0\n",
     PATH ":2:17: max_running must be at least 1 (for no limit, write unlimited)"},
    {"a: @daily x\n  max_running = 10001\n", PATH ":2:17: '10001' is not a count (1-10000)"},
    {"a: @daily x\n  retries = -1\n", PATH ":2:13: '-1' is not a count (0-1000)"},
    {"a: @daily x\n  retries = 1001\n", PATH ":2:13: '1001' is not a count (0-1000)"},
    /* errors come in file order: the bad trigger on line 1 before the bad setting on line 2 */
    {"a: 0 24 * * * x\n  zome = 1\n", PATH ":1:6: cron: field 'hour': '24' is out of range 0-23"},
    /* a bad file after good schedules still yields nothing */
    {"a: @daily x\nb: @daily y\nc: @dailyy z\n",
     PATH ":3:4: cron: '@dailyy' is not a macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_t *b = &bad_files[i];
        tempo__runfile_t rf = {(tempo__runfile_entry_t *)1, 99};
        char err[512];
        tempo_status_t st = tempo__runfile_parse(PATH, b->text, strlen(b->text), &rf, err, sizeof err);
        if (st != TEMPO_EPARSE || strcmp(err, b->message) != 0)
            fail_msg("case %zu:\n%s\n  status %d\n  got  '%s'\n  want '%s'", i, b->text, (int)st,
                     err, b->message);
        /* Nothing at all is kept from a bad file. */
        assert_null(rf.entries);
        assert_int_equal(rf.count, 0);
    }
}

static void test_error_edges(void **state)
{
    (void)state;
    char err[512];
    tempo__runfile_t rf;
    /* A NUL byte is a control character like any other. */
    static const char nul[] = "a: @daily x\nb: @daily \0y\n";
    assert_int_equal(tempo__runfile_parse(PATH, nul, sizeof nul - 1, &rf, err, sizeof err),
                     TEMPO_EPARSE);
    assert_string_equal(err, PATH ":2:11: control character 0x00 (only tabs may appear in a line)");
    /* Too large, whatever it holds. */
    size_t big = TEMPO__RUNFILE_SIZE_MAX + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '\n', big);
    assert_int_equal(tempo__runfile_parse(PATH, text, big, &rf, err, sizeof err), TEMPO_EPARSE);
    assert_string_equal(err, PATH ": the file is larger than 4 MiB");
    /* ...but exactly the limit is fine. */
    assert_int_equal(tempo__runfile_parse(PATH, text, big - 1, &rf, err, sizeof err), TEMPO_OK);
    free(text);
    /* A small buffer truncates the message, still terminated. */
    char tiny[12];
    assert_int_equal(tempo__runfile_parse(PATH, "x\n", 2, &rf, tiny, sizeof tiny), TEMPO_EPARSE);
    assert_string_equal(tiny, PATH ":1:1");
    /* No buffer at all. */
    assert_int_equal(tempo__runfile_parse(PATH, "x\n", 2, &rf, NULL, 0), TEMPO_EPARSE);
    /* A NULL path is named "<text>". */
    assert_int_equal(tempo__runfile_parse(NULL, "x\n", 2, &rf, err, sizeof err), TEMPO_EPARSE);
    assert_true(strncmp(err, "<text>:1:1: ", 12) == 0);
}

/* ---- reading files ---- */

static void test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/test_runfile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "a: every 5s echo a\nb: @daily echo b\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    tempo__runfile_t rf;
    char err[512];
    assert_int_equal(tempo__runfile_load(path, &rf, err, sizeof err), TEMPO_OK);
    assert_int_equal(rf.count, 2);
    tempo__runfile_free(&rf);
    unlink(path);

    assert_int_equal(tempo__runfile_load("/nonexistent/x.tempo", &rf, err, sizeof err), TEMPO_EIO);
    assert_string_equal(err, "/nonexistent/x.tempo: cannot read: No such file or directory");
    assert_null(rf.entries);
    assert_int_equal(tempo__runfile_load("/tmp", &rf, err, sizeof err), TEMPO_EIO);
    assert_string_equal(err, "/tmp: cannot read: Is a directory");

    /* The example the README runs. */
    char example[4096];
    tempo_test_source_path("examples/crontab.tempo", example, sizeof example);
    assert_int_equal(tempo__runfile_load(example, &rf, err, sizeof err), TEMPO_OK);
    assert_true(rf.count >= 5);
    /* Something fires within 5 seconds of any instant. */
    tempo_time_t now = tempo_test_utc("2027-01-01T00:00:01Z"), first = TEMPO_TIME_NONE;
    for (size_t i = 0; i < rf.count; i++) {
        tempo_time_t t = tempo_trigger_next(rf.entries[i].trigger, now);
        if (t != TEMPO_TIME_NONE && (first == TEMPO_TIME_NONE || t < first))
            first = t;
    }
    assert_true(first - now <= TEMPO_SECONDS(5));
    tempo__runfile_free(&rf);
}

/* ---- the reload diff ---- */

static tempo__runfile_change_t find_change(const tempo__runfile_diff_t *d, const char *name)
{
    for (size_t i = 0; i < d->count; i++) {
        const tempo__runfile_change_t *c = &d->changes[i];
        const tempo__runfile_entry_t *e = c->new_entry ? c->new_entry : c->old_entry;
        if (strcmp(e->name, name) == 0)
            return *c;
    }
    fail_msg("no change for '%s'", name);
    return (tempo__runfile_change_t){0};
}

static void test_diff(void **state)
{
    (void)state;
    tempo__runfile_t old_rf = parse_ok("[defaults]\nzone = UTC\n"
                                       "same: @daily echo same\n"
                                       "gone: @daily echo gone\n"
                                       "moved: daily at 09:00 echo moved\n"
                                       "respelled: weekly on mon-fri at 9:00 echo r\n"
                                       "cmd: @daily echo old\n"
                                       "trig: @daily echo t\n"
                                       "zone_every: every 5m echo z\n"
                                       "zone_cron: @daily echo z\n"
                                       "settings: @daily echo s\n"
                                       "gone2: @hourly echo gone2\n");
    tempo__runfile_t new_rf = parse_ok("[defaults]\nzone = UTC\n"
                                       "added: @daily echo added\n"
                                       "moved: daily at 09:00 echo moved\n"
                                       "same: @daily echo same\n"
                                       "respelled: Weekly on Monday-Friday at 09:00:00 echo r\n"
                                       "cmd: @daily echo new\n"
                                       "trig: @hourly echo t\n"
                                       "zone_every: every 5m echo z\n"
                                       "  zone = Asia/Tokyo\n"
                                       "zone_cron: @daily echo z\n"
                                       "  zone = Asia/Tokyo\n"
                                       "settings: @daily echo s\n"
                                       "  dst_gap = skip\n  coalesce = all\n  misfire_grace = 1m\n"
                                       "  jitter = 1s\n  max_running = 2\n  timeout = 1m\n"
                                       "  retries = 1\n");
    tempo__runfile_diff_t d;
    assert_int_equal(tempo__runfile_diff(&old_rf, &new_rf, &d), TEMPO_OK);
    assert_int_equal(d.count, 11);
    assert_int_equal(d.added, 1);
    assert_int_equal(d.removed, 2);
    assert_int_equal(d.changed, 5);
    assert_int_equal(d.unchanged, 3);
    /* Removed first, in the old order; then the new file's order. */
    assert_int_equal(d.changes[0].kind, TEMPO__RUNFILE_REMOVED);
    assert_string_equal(d.changes[0].old_entry->name, "gone");
    assert_null(d.changes[0].new_entry);
    assert_string_equal(d.changes[1].old_entry->name, "gone2");
    assert_int_equal(d.changes[2].kind, TEMPO__RUNFILE_ADDED);
    assert_string_equal(d.changes[2].new_entry->name, "added");
    assert_null(d.changes[2].old_entry);
    assert_string_equal(d.changes[3].new_entry->name, "moved");
    assert_int_equal(d.changes[3].kind, TEMPO__RUNFILE_UNCHANGED);

    assert_int_equal(find_change(&d, "same").kind, TEMPO__RUNFILE_UNCHANGED);
    /* Another spelling of the same trigger is no change. */
    assert_int_equal(find_change(&d, "respelled").kind, TEMPO__RUNFILE_UNCHANGED);
    tempo__runfile_change_t c = find_change(&d, "cmd");
    assert_int_equal(c.kind, TEMPO__RUNFILE_CHANGED);
    assert_int_equal(c.fields, TEMPO__RUNFILE_F_COMMAND);
    assert_int_equal(find_change(&d, "trig").fields, TEMPO__RUNFILE_F_TRIGGER);
    /* An interval does not depend on the zone; a cron trigger does. */
    assert_int_equal(find_change(&d, "zone_every").fields, TEMPO__RUNFILE_F_ZONE);
    assert_int_equal(find_change(&d, "zone_cron").fields,
                     TEMPO__RUNFILE_F_ZONE | TEMPO__RUNFILE_F_TRIGGER);
    /* dst_gap is stored in the cron trigger too. */
    assert_int_equal(find_change(&d, "settings").fields,
                     TEMPO__RUNFILE_F_TRIGGER | TEMPO__RUNFILE_F_DST_GAP |
                         TEMPO__RUNFILE_F_COALESCE | TEMPO__RUNFILE_F_MISFIRE_GRACE |
                         TEMPO__RUNFILE_F_JITTER | TEMPO__RUNFILE_F_MAX_RUNNING |
                         TEMPO__RUNFILE_F_TIMEOUT | TEMPO__RUNFILE_F_RETRIES);
    tempo__runfile_diff_free(&d);

    /* Against itself: everything unchanged; against nothing: all added or removed. */
    assert_int_equal(tempo__runfile_diff(&new_rf, &new_rf, &d), TEMPO_OK);
    assert_int_equal(d.unchanged, new_rf.count);
    assert_int_equal(d.count, new_rf.count);
    tempo__runfile_diff_free(&d);
    tempo__runfile_t none = {0};
    assert_int_equal(tempo__runfile_diff(&none, &new_rf, &d), TEMPO_OK);
    assert_int_equal(d.added, new_rf.count);
    tempo__runfile_diff_free(&d);
    assert_int_equal(tempo__runfile_diff(&old_rf, &none, &d), TEMPO_OK);
    assert_int_equal(d.removed, old_rf.count);
    tempo__runfile_diff_free(&d);
    assert_int_equal(tempo__runfile_diff(&none, &none, &d), TEMPO_OK);
    assert_int_equal(d.count, 0);
    tempo__runfile_diff_free(&d);
    tempo__runfile_diff_free(NULL);

    tempo__runfile_free(&old_rf);
    tempo__runfile_free(&new_rf);
    tempo__runfile_free(NULL);
}

/* Many schedules: the name index grows, duplicates are still found, and
 * the diff matches thousands of names. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 3000 };
    size_t cap = N * 48 + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(text + n, cap - n, "job%d: every %ds echo %d\n", i, i + 1, i);
    tempo__runfile_t a = parse_ok(text);
    assert_int_equal(a.count, N);
    /* Change every third command, then append a duplicate of job1234. */
    n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(text + n, cap - n, "job%d: every %ds echo %d\n", i, i + 1,
                              i % 3 ? i : -i);
    tempo__runfile_t b = parse_ok(text);
    tempo__runfile_diff_t d;
    assert_int_equal(tempo__runfile_diff(&a, &b, &d), TEMPO_OK);
    assert_int_equal(d.changed, N / 3 - 1); /* job0's "-0" prints as "0" */
    assert_int_equal(d.unchanged, N - N / 3 + 1);
    tempo__runfile_diff_free(&d);
    snprintf(text + n, cap - n, "job1234: @daily x\n");
    char err[512];
    tempo__runfile_t c;
    assert_int_equal(tempo__runfile_parse(PATH, text, strlen(text), &c, err, sizeof err), TEMPO_EPARSE);
    char want[128];
    snprintf(want, sizeof want, PATH ":%d:1: duplicate name 'job1234' (first on line 1235)", N + 1);
    assert_string_equal(err, want);
    tempo__runfile_free(&a);
    tempo__runfile_free(&b);
    free(text);
}

/* ---- mutated files ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, so a failure can be replayed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

static const char *const seed_file =
    "# seed\n"
    "[defaults]\n"
    "zone = Europe/Berlin\n"
    "timeout = 1h\n"
    "\n"
    "backup:  30 2 * * *   /usr/local/bin/backup --quick\n"
    "report:  every 15m    python3 report.py\n"
    "newyear: at 2027-01-01T00:00   echo happy\n"
    "rent:    monthly on day 31 at 09:00   ./pay-rent.sh\n"
    "last:    monthly on last day at 18:00 echo last\n"
    "wk:      weekly on mon-fri at 08:00 echo wk\n"
    "xmas:    yearly on dec 24 at 18:00 echo xmas\n"
    "cal:     every 2 weeks at 09:00 from 2027-01-04 echo cal\n"
    "tick:    \"*/10 * * * * *\" echo tick\n"
    "named:   'hour=9 minute=30' echo named\n"
    "from:    every 2d from 2027-01-04 09:00 echo from\n"
    "nightly: @daily  make -C /src nightly\n"
    "  zone = America/New_York\n"
    "  coalesce = latest\n"
    "  misfire_grace = 5m\n"
    "  jitter = 30s\n"
    "  max_running = 1\n"
    "  timeout = 1h\n"
    "  retries = 2\n"
    "  dst_gap = skip\n";

/* Pieces that steer mutations towards the grammar's corners. */
static const char *const tokens[] = {
    " ", "\t", "\n", "\r\n", ":", "=", "#", "\"", "'", "[defaults]", "@daily", "@", "*", "*/5",
    "every", "at", "from", "daily", "weekly", "monthly", "yearly", "on", "day", "last", "weeks",
    "15m", "1h30m", "0", "99999999999999d", "2027-01-01", "2027-01-01T00:00", "25:00", "09:00",
    "mon-fri", "fri-mon", "feb", "31", "zone", "UTC", "Mars/Olympus", "unlimited", "\xc3\xa9",
    "\xff", "\x01", "hour=9", "L", "5#3", "  zone = UTC\n", "x: ", "name: @hourly echo\n",
};

static void mutate(char *buf, size_t *len, size_t cap)
{
    size_t n = *len;
    switch (rng() % 6) {
    case 0: /* flip a byte to a random one */
        if (n)
            buf[rng() % n] = (char)(rng() & 0xff);
        break;
    case 1: /* delete a range */
        if (n) {
            size_t at = rng() % n, k = 1 + rng() % 8;
            if (at + k > n)
                k = n - at;
            memmove(buf + at, buf + at + k, n - at - k);
            n -= k;
        }
        break;
    case 4: { /* duplicate a range (lines, names) */
        size_t at = n ? rng() % n : 0, k = n ? 1 + rng() % 40 : 0;
        if (at + k > n)
            k = n - at;
        if (n + k < cap) {
            size_t to = n ? rng() % (n + 1) : 0;
            char tmp[64];
            memcpy(tmp, buf + at, k);
            memmove(buf + to + k, buf + to, n - to);
            memcpy(buf + to, tmp, k);
            n += k;
        }
        break;
    }
    default: { /* insert a token */
        const char *t = tokens[rng() % (sizeof tokens / sizeof tokens[0])];
        size_t k = strlen(t), at = n ? rng() % (n + 1) : 0;
        if (n + k < cap) {
            memmove(buf + at + k, buf + at, n - at);
            memcpy(buf + at, t, k);
            n += k;
        }
        break;
    }
    }
    *len = n;
}

/* An error names this file, a line that exists and a column >= 1. */
static void check_error_position(const char *err, const char *text, size_t len)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    unsigned long line, col;
    int used = 0;
    if (sscanf(err, PATH ":%lu:%lu: %n", &line, &col, &used) != 2 || used == 0 || line < 1 ||
        line > lines || col < 1 || err[used] == '\0')
        fail_msg("error without a position: '%s'", err);
}

static void test_mutations(void **state)
{
    (void)state;
    const char *env = getenv("TEMPO_RUNFILE_MUTATIONS");
    long rounds = env ? strtol(env, NULL, 10) : 20000;
    size_t seed_len = strlen(seed_file), cap = seed_len * 2 + 256;
    char *buf = malloc(cap);
    assert_non_null(buf);
    tempo__runfile_t base = parse_ok(seed_file);
    long parsed = 0, refused = 0;
    for (long r = 0; r < rounds; r++) {
        memcpy(buf, seed_file, seed_len);
        size_t len = seed_len;
        int k = 1 + (int)(rng() % 4);
        for (int m = 0; m < k; m++)
            mutate(buf, &len, cap);
        tempo__runfile_t rf;
        char err[512];
        tempo_status_t st = tempo__runfile_parse(PATH, buf, len, &rf, err, sizeof err);
        if (st == TEMPO_OK) {
            parsed++;
            for (size_t i = 0; i < rf.count; i++) {
                const tempo__runfile_entry_t *e = &rf.entries[i];
                assert_non_null(e->trigger);
                assert_true(e->command[0] != '\0');
                assert_true(e->trigger_doc_len > 0);
                tempo_time_t t = tempo_trigger_next(e->trigger, 0);
                assert_true(t == TEMPO_TIME_NONE || t > 0);
            }
            tempo__runfile_diff_t d;
            assert_int_equal(tempo__runfile_diff(&base, &rf, &d), TEMPO_OK);
            assert_int_equal(d.count, d.added + d.removed + d.changed + d.unchanged);
            tempo__runfile_diff_free(&d);
            tempo__runfile_free(&rf);
        } else {
            refused++;
            assert_int_equal(st, TEMPO_EPARSE);
            assert_null(rf.entries);
            check_error_position(err, buf, len);
        }
    }
    print_message("%ld mutated files: %ld parsed, %ld refused\n", rounds, parsed, refused);
    /* The mutations must exercise both outcomes. */
    assert_true(parsed > rounds / 20);
    assert_true(refused > rounds / 4);
    tempo__runfile_free(&base);
    free(buf);
}

int main(void)
{
    /* "local" must mean the same zone everywhere the tests run. */
    setenv("TZ", "Asia/Tokyo", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crontab_and_macros),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_every),
        cmocka_unit_test(test_at),
        cmocka_unit_test(test_wall_clock_phrases),
        cmocka_unit_test(test_calendar_interval),
        cmocka_unit_test(test_settings_values),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_file_shapes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_edges),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
