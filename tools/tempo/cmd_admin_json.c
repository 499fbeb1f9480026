/* A small JSON writer for --json (admin.h): one document, indented by two
 * spaces, written as it is built.
 *
 * Strings are escaped per RFC 8259: quote, backslash and every control
 * character; the rest of the text is copied when it is valid UTF-8, and a
 * byte that does not start a valid sequence (overlong, surrogate, past
 * U+10FFFF, cut short) becomes U+FFFD, so no stored text can make the
 * output something a JSON parser refuses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"

void tempo__json_init(tempo__json_t *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

/* The length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            p++;
        } else if (c < 0x20) {
            const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (esc)
                fputs(esc, f);
            else
                fprintf(f, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n) {
                fwrite(p, 1, n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

static void newline(tempo__json_t *j)
{
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Before every value: the comma after the previous one, its line, its key. */
static void item(tempo__json_t *j, const char *key)
{
    if (j->depth > 0) {
        if (j->has_items[j->depth])
            fputc(',', j->out);
        newline(j);
    }
    j->has_items[j->depth] = true;
    if (key && j->depth > 0) {
        write_string(j->out, key);
        fputs(": ", j->out);
    }
}

/* Deeper than TEMPO__JSON_DEPTH is a programming error of the commands:
 * the nesting they write is fixed and shallow. */
static void open_(tempo__json_t *j, const char *key, char c)
{
    item(j, key);
    fputc(c, j->out);
    if (j->depth < TEMPO__JSON_DEPTH)
        j->depth++;
    j->has_items[j->depth] = false;
}

static void close_(tempo__json_t *j, char c)
{
    bool had = j->has_items[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had)
        newline(j);
    fputc(c, j->out);
}

void tempo__json_object_begin(tempo__json_t *j, const char *key)
{
    open_(j, key, '{');
}

void tempo__json_object_end(tempo__json_t *j)
{
    close_(j, '}');
}

void tempo__json_array_begin(tempo__json_t *j, const char *key)
{
    open_(j, key, '[');
}

void tempo__json_array_end(tempo__json_t *j)
{
    close_(j, ']');
}

void tempo__json_string(tempo__json_t *j, const char *key, const char *value)
{
    item(j, key);
    if (value)
        write_string(j->out, value);
    else
        fputs("null", j->out);
}

void tempo__json_int(tempo__json_t *j, const char *key, int64_t value)
{
    item(j, key);
    fprintf(j->out, "%lld", (long long)value);
}

/* Up to microseconds, without trailing zeros: 1.5, 90, 0.000001. */
void tempo__json_double(tempo__json_t *j, const char *key, double value)
{
    item(j, key);
    if (!isfinite(value)) {
        fputs("null", j->out);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.6f", value);
    char *end = buf + strlen(buf);
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        *--end = '\0';
    fputs(strcmp(buf, "-0") == 0 ? "0" : buf, j->out);
}

void tempo__json_bool(tempo__json_t *j, const char *key, bool value)
{
    item(j, key);
    fputs(value ? "true" : "false", j->out);
}

void tempo__json_null(tempo__json_t *j, const char *key)
{
    item(j, key);
    fputs("null", j->out);
}

void tempo__json_time(tempo__json_t *j, const char *key, tempo_time_t t, const tempo_zone_t *zone)
{
    char buf[64];
    if (t == TEMPO_TIME_NONE || tempo_time_format(t, zone, buf, sizeof buf) < 0)
        tempo__json_null(j, key);
    else
        tempo__json_string(j, key, buf);
}

void tempo__json_duration(tempo__json_t *j, const char *key, tempo_duration_t d)
{
    if (d == TEMPO_DURATION_NONE)
        tempo__json_null(j, key);
    else
        tempo__json_double(j, key, (double)d / (double)TEMPO_USEC_PER_SEC);
}

/* libbson writes relaxed extended JSON: numbers as numbers, and the BSON
 * types JSON lacks as {"$date": ...}-style objects; always valid JSON. */
void tempo__json_bson(tempo__json_t *j, const char *key, const bson_t *doc)
{
    char *text = doc ? bson_as_relaxed_extended_json(doc, NULL) : NULL;
    item(j, key);
    fputs(text ? text : "null", j->out);
    bson_free(text);
}

void tempo__json_finish(tempo__json_t *j)
{
    fputc('\n', j->out);
}
