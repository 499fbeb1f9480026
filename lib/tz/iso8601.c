/* ISO 8601 text for instants (the extended format, as RFC 3339 profiles it).
 *
 * Formatting always writes a numeric offset ("+00:00", never "Z") so the text
 * says which wall clock it shows; seconds of offset appear only when non-zero
 * (LMT offsets such as +00:53:28), as Python's isoformat() does. Fractions are
 * written with their trailing zeros removed. Years outside 0000..9999 use the
 * expanded form ("-0001", "+10000"), which the parser reads back.
 *
 * Parsing accepts 'T', 't' or ' ' between date and time, ',' or '.' before a
 * fraction of 1..9 digits (beyond microseconds it is truncated), and offsets
 * "Z", "+hh", "+hh:mm", "+hhmm", "+hh:mm:ss". A wall time without an offset is
 * read in the given zone: in a gap it means the transition (the first instant
 * after the gap), in a fold its first occurrence. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/civil.h"
#include "util/error_internal.h"
#include "zone_internal.h"

/* ---- formatting ---- */

static int put_year(char *p, size_t size, int32_t y)
{
    if (y < 0)
        return snprintf(p, size, "-%04ld", -(long)y);
    return snprintf(p, size, y > 9999 ? "+%ld" : "%04ld", (long)y);
}

static int put_fraction(char *p, size_t size, int32_t usec)
{
    if (usec == 0) {
        p[0] = '\0';
        return 0;
    }
    int n = snprintf(p, size, ".%06ld", (long)usec);
    while (p[n - 1] == '0')
        p[--n] = '\0';
    return n;
}

static int put_offset(char *p, size_t size, int32_t off)
{
    char sign = off < 0 ? '-' : '+';
    long a = off < 0 ? -(long)off : off;
    if (a % 60)
        return snprintf(p, size, "%c%02ld:%02ld:%02ld", sign, a / 3600, a / 60 % 60, a % 60);
    return snprintf(p, size, "%c%02ld:%02ld", sign, a / 3600, a / 60 % 60);
}

int tempo_time_format(tempo_time_t t, const tempo_zone_t *zone, char *buf, size_t size)
{
    char tmp[64];
    int n;
    if (t == TEMPO_TIME_NONE) {
        n = snprintf(tmp, sizeof tmp, "none");
    } else {
        tempo_civil_t c;
        tempo__zone_civil(zone ? zone : tempo_zone_utc(), t, &c);
        n = put_year(tmp, sizeof tmp, c.year);
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "-%02d-%02dT%02d:%02d:%02d", c.month, c.day,
                      c.hour, c.minute, c.second);
        n += put_fraction(tmp + n, sizeof tmp - (size_t)n, c.usec);
        n += put_offset(tmp + n, sizeof tmp - (size_t)n, c.utc_offset);
    }
    if (!buf || (size_t)n >= size)
        return -1;
    memcpy(buf, tmp, (size_t)n + 1);
    return n;
}

/* ---- parsing ---- */

typedef struct scan {
    const char *text;
    size_t pos;
    tempo_error_t *err;
} scan_t;

static tempo_status_t fail_at(const scan_t *s, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static tempo_status_t fail_at(const scan_t *s, size_t pos, const char *fmt, ...)
{
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return tempo__error_set(s->err, TEMPO_EPARSE, "time '%.48s': column %zu: %s", s->text, pos + 1,
                            why);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits. */
static bool fixed_digits(scan_t *s, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s->text[s->pos + (size_t)i]))
            return false;
        v = v * 10 + (s->text[s->pos + (size_t)i] - '0');
    }
    s->pos += (size_t)n;
    *out = v;
    return true;
}

/* A two-digit field in lo..hi, named for the messages. */
static tempo_status_t field(scan_t *s, const char *name, long lo, long hi, long *out)
{
    size_t at = s->pos;
    if (!fixed_digits(s, 2, out))
        return fail_at(s, at, "expected a two-digit %s", name);
    if (*out < lo || *out > hi)
        return fail_at(s, at, "%s %02ld is out of range (%02ld-%02ld)", name, *out, lo, hi);
    return TEMPO_OK;
}

static tempo_status_t expect(scan_t *s, char ch, const char *what)
{
    if (s->text[s->pos] != ch)
        return fail_at(s, s->pos, "expected '%c' %s", ch, what);
    s->pos++;
    return TEMPO_OK;
}

/* YYYY, or a sign and 4..6 digits (ISO expanded years). */
static tempo_status_t year(scan_t *s, long *y)
{
    size_t at = s->pos;
    char sign = s->text[s->pos];
    if (sign == '+' || sign == '-')
        s->pos++;
    int n = 0;
    while (is_digit(s->text[s->pos + (size_t)n]) && n < 7)
        n++;
    bool ok = (sign == '+' || sign == '-') ? n >= 4 && n <= 6 : n == 4;
    if (!ok)
        return fail_at(s, at, "expected a four-digit year (or a sign and 4 to 6 digits)");
    fixed_digits(s, n, y);
    if (sign == '-')
        *y = -*y;
    return TEMPO_OK;
}

typedef struct parsed {
    long y, mo, d, h, mi, sec, usec;
    bool has_offset;
    long offset;
} parsed_t;

static tempo_status_t date_part(scan_t *s, parsed_t *p)
{
    tempo_status_t rc = year(s, &p->y);
    if (rc == TEMPO_OK)
        rc = expect(s, '-', "after the year");
    if (rc == TEMPO_OK)
        rc = field(s, "month", 1, 12, &p->mo);
    if (rc == TEMPO_OK)
        rc = expect(s, '-', "after the month");
    size_t at = s->pos;
    if (rc == TEMPO_OK)
        rc = field(s, "day", 1, 31, &p->d);
    int dim = rc == TEMPO_OK ? tempo__days_in_month(p->y, (int)p->mo) : 31;
    if (rc == TEMPO_OK && p->d > dim)
        rc = fail_at(s, at, "day %02ld is out of range for %04ld-%02ld (01-%02d)", p->d, p->y, p->mo,
                     dim);
    return rc;
}

/* ".f" or ",f": 1..9 digits, truncated to microseconds. */
static tempo_status_t fraction(scan_t *s, long *usec)
{
    s->pos++;
    size_t at = s->pos;
    long v = 0;
    int n = 0;
    while (is_digit(s->text[s->pos])) {
        if (n < 6)
            v = v * 10 + (s->text[s->pos] - '0');
        n++;
        s->pos++;
    }
    if (n == 0 || n > 9)
        return fail_at(s, at, n ? "more than 9 fraction digits" : "expected digits after '%c'",
                       s->text[at - 1]);
    for (; n < 6; n++)
        v *= 10;
    *usec = v;
    return TEMPO_OK;
}

static tempo_status_t time_part(scan_t *s, parsed_t *p)
{
    tempo_status_t rc = field(s, "hour", 0, 23, &p->h);
    if (rc == TEMPO_OK)
        rc = expect(s, ':', "after the hour");
    if (rc == TEMPO_OK)
        rc = field(s, "minute", 0, 59, &p->mi);
    if (rc != TEMPO_OK || s->text[s->pos] != ':')
        return rc;
    s->pos++;
    size_t at = s->pos;
    rc = field(s, "second", 0, 59, &p->sec);
    if (rc != TEMPO_OK && p->sec == 60)
        return fail_at(s, at, "second 60 is out of range (leap seconds have no POSIX time)");
    if (rc == TEMPO_OK && (s->text[s->pos] == '.' || s->text[s->pos] == ','))
        rc = fraction(s, &p->usec);
    return rc;
}

/* "Z", or [+-]hh[[:]mm[[:]ss]]. */
static tempo_status_t offset_part(scan_t *s, parsed_t *p)
{
    char c = s->text[s->pos];
    if (c == 'Z' || c == 'z') {
        s->pos++;
        p->has_offset = true;
        return TEMPO_OK;
    }
    if (c != '+' && c != '-')
        return TEMPO_OK;
    s->pos++;
    long h = 0, m = 0, sec = 0; /* h too: field() leaves it unset on error */
    tempo_status_t rc = field(s, "offset hour", 0, 23, &h);
    bool colon = s->text[s->pos] == ':'; /* extended (+hh:mm) or basic (+hhmm) */
    if (rc == TEMPO_OK && (colon || is_digit(s->text[s->pos]))) {
        s->pos += colon;
        rc = field(s, "offset minute", 0, 59, &m);
        bool more = colon ? s->text[s->pos] == ':' : is_digit(s->text[s->pos]);
        if (rc == TEMPO_OK && more) {
            s->pos += colon;
            rc = field(s, "offset second", 0, 59, &sec);
        }
    }
    p->has_offset = true;
    p->offset = (c == '-' ? -1 : 1) * (h * 3600 + m * 60 + sec);
    return rc;
}

static tempo_status_t parse_text(scan_t *s, parsed_t *p)
{
    tempo_status_t rc = date_part(s, p);
    if (rc != TEMPO_OK)
        return rc;
    char c = s->text[s->pos];
    if (c == 'T' || c == 't' || c == ' ') {
        s->pos++;
        rc = time_part(s, p);
        if (rc == TEMPO_OK)
            rc = offset_part(s, p);
    } else if (c != '\0') {
        return fail_at(s, s->pos, "expected 'T' or ' ' before the time, or the end");
    }
    if (rc == TEMPO_OK && s->text[s->pos] != '\0')
        rc = fail_at(s, s->pos, "unexpected '%c'", s->text[s->pos]);
    return rc;
}

static tempo_status_t to_instant(const scan_t *s, const parsed_t *p, const tempo_zone_t *zone,
                                 tempo_time_t *out)
{
    if (!p->has_offset) {
        tempo_civil_t c = {.year = (int32_t)p->y, .month = (int)p->mo, .day = (int)p->d,
                           .hour = (int)p->h, .minute = (int)p->mi, .second = (int)p->sec,
                           .usec = (int32_t)p->usec};
        tempo_local_t local;
        tempo_status_t rc = tempo_zone_from_civil(zone ? zone : tempo_zone_utc(), &c, &local,
                                                  s->err);
        if (rc == TEMPO_OK)
            *out = local.kind == TEMPO_LOCAL_GAP ? local.transition : local.earlier;
        return rc;
    }
    int64_t sec = tempo__days_from_civil(p->y, (int)p->mo, (int)p->d) * 86400 + p->h * 3600 +
                  p->mi * 60 + p->sec - p->offset;
    if (sec < TEMPO__TZ_SEC_MIN || sec > TEMPO__TZ_SEC_MAX)
        return tempo__error_set(s->err, TEMPO_ERANGE,
                                "time '%.48s' is outside what tempo_time_t holds", s->text);
    *out = sec * TEMPO_USEC_PER_SEC + p->usec;
    return TEMPO_OK;
}

tempo_status_t tempo_time_parse(const char *text, const tempo_zone_t *zone, tempo_time_t *out,
                                 tempo_error_t *err)
{
    if (!text || !out)
        return tempo__error_set(err, TEMPO_EINVAL, "tempo_time_parse: %s is NULL",
                                text ? "out" : "text");
    scan_t s = {.text = text, .err = err};
    parsed_t p = {0};
    tempo_status_t rc = parse_text(&s, &p);
    return rc == TEMPO_OK ? to_instant(&s, &p, zone, out) : rc;
}
