/* POSIX TZ strings, as found in TZif footers (RFC 8536 §3.3) and in TZ:
 *
 *   std offset [dst [offset] [,start[/time],end[/time]]]
 *
 * Names are 3+ letters or <quoted> (letters, digits, '+', '-'). Offsets are
 * [+-]hh[:mm[:ss]] WEST of UTC (so "CET-1" is one hour east); we store them
 * east of UTC like everything else. Dates are Jn, n or Mm.w.d; times are
 * [+-]hhh[:mm[:ss]] with the v3 extension (-167..167 hours).
 *
 * The parser reads exactly `len` bytes (a footer is not NUL-terminated and a
 * hostile file may hold NUL bytes, which are simply invalid characters). */
#include "zone_internal.h"

/* ASCII only: <ctype.h> would follow the caller's locale. */
static bool is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}
static bool is_quoted_char(int ch)
{
    return is_alpha(ch) || (ch >= '0' && ch <= '9') || ch == '+' || ch == '-';
}

typedef struct cursor {
    const char *s;
    size_t len, pos;
    const char *why; /* first error; NULL while all is well */
    size_t why_pos;
} cursor_t;

static int peek(const cursor_t *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static bool fail(cursor_t *c, const char *why)
{
    if (!c->why) {
        c->why = why;
        c->why_pos = c->pos;
    }
    return false;
}

static bool accept(cursor_t *c, int ch)
{
    if (peek(c) != ch)
        return false;
    c->pos++;
    return true;
}

/* An unsigned number of 1..max_digits digits. */
static bool number(cursor_t *c, int max_digits, int32_t *out, const char *why)
{
    int32_t v = 0;
    int n = 0;
    while (n < max_digits && peek(c) >= '0' && peek(c) <= '9') {
        v = v * 10 + (peek(c) - '0');
        c->pos++;
        n++;
    }
    if (n == 0)
        return fail(c, why);
    *out = v;
    return true;
}

static bool name(cursor_t *c)
{
    size_t begin = c->pos;
    if (accept(c, '<')) {
        while (is_quoted_char(peek(c)))
            c->pos++;
        if (c->pos - begin - 1 < 3)
            return fail(c, "a <quoted> zone abbreviation needs 3 or more letters, digits or signs");
        if (!accept(c, '>'))
            return fail(c, "expected '>' closing the zone abbreviation");
        return true;
    }
    while (is_alpha(peek(c)))
        c->pos++;
    if (c->pos - begin < 3) {
        c->pos = begin; /* point at the name, not past it */
        return fail(c, "expected a zone abbreviation (3 or more letters, or <quoted>)");
    }
    return true;
}

/* [+-]h[:mm[:ss]] with hours up to max_hours; returns seconds, sign applied. */
static bool hms(cursor_t *c, int hour_digits, int32_t max_hours, int32_t *out, const char *what)
{
    int32_t sign = 1, h, m = 0, s = 0;
    if (accept(c, '-'))
        sign = -1;
    else
        accept(c, '+');
    size_t at = c->pos;
    if (!number(c, hour_digits, &h, what))
        return false;
    if (h > max_hours) {
        c->pos = at;
        return fail(c, max_hours == 24 ? "offset hours out of range (0-24)"
                                       : "transition time hours out of range (-167..167)");
    }
    if (accept(c, ':')) {
        at = c->pos;
        if (!number(c, 2, &m, "expected minutes after ':'"))
            return false;
        if (m > 59) {
            c->pos = at;
            return fail(c, "minutes out of range (0-59)");
        }
        if (accept(c, ':')) {
            at = c->pos;
            if (!number(c, 2, &s, "expected seconds after ':'"))
                return false;
            if (s > 59) {
                c->pos = at;
                return fail(c, "seconds out of range (0-59)");
            }
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool ranged(cursor_t *c, int digits, int32_t lo, int32_t hi, int32_t *out, const char *why)
{
    size_t at = c->pos;
    if (!number(c, digits, out, why))
        return false;
    if (*out < lo || *out > hi) {
        c->pos = at;
        return fail(c, why);
    }
    return true;
}

static bool date(cursor_t *c, tempo__tz_date_t *d)
{
    int32_t a, b, e;
    if (accept(c, 'J')) {
        if (!ranged(c, 3, 1, 365, &a, "Julian day must be J1..J365"))
            return false;
        d->kind = TEMPO__TZ_DATE_JULIAN;
        d->day = (int16_t)a;
    } else if (accept(c, 'M')) {
        if (!ranged(c, 2, 1, 12, &a, "month must be 1..12 in Mm.w.d"))
            return false;
        if (!accept(c, '.'))
            return fail(c, "expected '.' in Mm.w.d");
        if (!ranged(c, 1, 1, 5, &b, "week must be 1..5 in Mm.w.d"))
            return false;
        if (!accept(c, '.'))
            return fail(c, "expected '.' in Mm.w.d");
        if (!ranged(c, 1, 0, 6, &e, "weekday must be 0..6 in Mm.w.d"))
            return false;
        d->kind = TEMPO__TZ_DATE_MONTH;
        d->month = (uint8_t)a;
        d->week = (uint8_t)b;
        d->wday = (uint8_t)e;
    } else {
        if (!ranged(c, 3, 0, 365, &a, "expected a date: Jn, n (0..365) or Mm.w.d"))
            return false;
        d->kind = TEMPO__TZ_DATE_ZERO;
        d->day = (int16_t)a;
    }
    d->time = 2 * 3600; /* POSIX default: 02:00 */
    if (accept(c, '/'))
        return hms(c, 3, 167, &d->time, "expected a transition time after '/'");
    return true;
}

/* The rule tzcode applies to "EST5EDT" without one: second Sunday of March
 * to first Sunday of November, 02:00 (the US rule since 2007). */
static void default_rule(tempo__tz_rule_t *r)
{
    r->start = (tempo__tz_date_t){.kind = TEMPO__TZ_DATE_MONTH, .month = 3, .week = 2, .wday = 0,
                                  .time = 7200};
    r->end = (tempo__tz_date_t){.kind = TEMPO__TZ_DATE_MONTH, .month = 11, .week = 1, .wday = 0,
                                .time = 7200};
}

static bool parse(cursor_t *c, tempo__tz_rule_t *r)
{
    int32_t off;
    if (!name(c) || !hms(c, 2, 24, &off, "expected the standard offset (hh[:mm[:ss]])"))
        return false;
    r->std_offset = -off;
    if (peek(c) < 0)
        return true;
    if (!name(c))
        return false;
    r->has_dst = true;
    r->dst_offset = r->std_offset + 3600;
    int ch = peek(c);
    if (ch == '+' || ch == '-' || (ch >= '0' && ch <= '9')) {
        if (!hms(c, 2, 24, &off, "expected the daylight offset (hh[:mm[:ss]])"))
            return false;
        r->dst_offset = -off;
    }
    if (peek(c) < 0) {
        default_rule(r);
        return true;
    }
    if (!accept(c, ','))
        return fail(c, "expected ',' before the DST start date");
    if (!date(c, &r->start))
        return false;
    if (!accept(c, ','))
        return fail(c, "expected ',' before the DST end date");
    return date(c, &r->end);
}

bool tempo__tz_rule_parse(const char *text, size_t len, tempo__tz_rule_t *rule, size_t *column,
                          const char **why)
{
    cursor_t c = {.s = text, .len = len};
    tempo__tz_rule_t r = {0};
    if (parse(&c, &r) && c.pos != c.len)
        fail(&c, "unexpected character after the rule");
    if (c.why) {
        *why = c.why;
        *column = c.why_pos + 1;
        return false;
    }
    *rule = r;
    return true;
}
