/* TZif files (RFC 8536), versions 1 to 4, read as hostile input.
 *
 * Layout: a 44-byte header and a data block with 32-bit times (v1); in
 * version 2+ files a second header and data block with 64-bit times follow,
 * then a footer "\n<POSIX TZ string>\n". We use the 64-bit block when there is
 * one and only step over the v1 block.
 *
 * Every size is computed in 64 bits from the 32-bit counts (at most about
 * 2^40, no overflow) and compared with the bytes that remain before anything
 * is read. Leap-second records are skipped: tempo_time_t is POSIX time, and
 * the "right/" zones that carry them are not meant for it. The isstd/isut
 * indicators only matter for POSIX rules without a footer; we check them and
 * ignore them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "zone_internal.h"

#define HEADER_SIZE 44

typedef struct header {
    int version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header_t;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static tempo_status_t bad(char *why, size_t size, tempo_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static tempo_status_t bad(char *why, size_t size, tempo_status_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return code;
}

static tempo_status_t read_header(const unsigned char *p, size_t left, const char *which,
                                  header_t *h, char *why, size_t why_size)
{
    if (left < HEADER_SIZE)
        return bad(why, why_size, TEMPO_EFORMAT, "%s header truncated (%zu of %d bytes)", which,
                   left, HEADER_SIZE);
    if (memcmp(p, "TZif", 4) != 0)
        return bad(why, why_size, TEMPO_EFORMAT, "bad magic in the %s header (not a TZif file)",
                   which);
    switch (p[4]) {
    case 0: h->version = 1; break;
    case '2': h->version = 2; break;
    case '3': h->version = 3; break;
    case '4': h->version = 4; break;
    default:
        return bad(why, why_size, p[4] >= '5' && p[4] <= '9' ? TEMPO_EVERSION : TEMPO_EFORMAT,
                   "unknown TZif version byte 0x%02x in the %s header (1-4 are supported)", p[4],
                   which);
    }
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    /* Type indices are one byte, so more than 256 types cannot be used. */
    if (h->typecnt == 0 || h->typecnt > 256)
        return bad(why, why_size, TEMPO_EFORMAT, "%s header: typecnt %u is not in 1..256", which,
                   h->typecnt);
    if (h->charcnt == 0)
        return bad(why, why_size, TEMPO_EFORMAT, "%s header: charcnt is 0", which);
    if (h->isutcnt != 0 && h->isutcnt != h->typecnt)
        return bad(why, why_size, TEMPO_EFORMAT, "%s header: isutcnt %u is neither 0 nor typecnt %u",
                   which, h->isutcnt, h->typecnt);
    if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
        return bad(why, why_size, TEMPO_EFORMAT,
                   "%s header: isstdcnt %u is neither 0 nor typecnt %u", which, h->isstdcnt,
                   h->typecnt);
    return TEMPO_OK;
}

static uint64_t block_size(const header_t *h, int time_size)
{
    return (uint64_t)h->timecnt * (uint64_t)(time_size + 1) + (uint64_t)h->typecnt * 6 +
           h->charcnt + (uint64_t)h->leapcnt * (uint64_t)(time_size + 4) + h->isstdcnt +
           h->isutcnt;
}

int64_t tempo__tzif_time(const tempo__tzif_t *f, uint32_t i)
{
    const unsigned char *p = f->times + (size_t)i * (size_t)f->time_size;
    return f->time_size == 8 ? (int64_t)be64(p) : (int64_t)(int32_t)be32(p);
}

tempo__tz_state_t tempo__tzif_state(const tempo__tzif_t *f, uint32_t type)
{
    const unsigned char *p = f->types + (size_t)type * 6;
    return (tempo__tz_state_t){(int32_t)be32(p), p[4]};
}

/* The block's contents: order of times, indices, type records, strings. */
static tempo_status_t check_block(const tempo__tzif_t *f, const header_t *h,
                                  const unsigned char *chars, const unsigned char *flags,
                                  char *why, size_t why_size)
{
    for (uint32_t i = 0; i < f->timecnt; i++) {
        if (i > 0 && tempo__tzif_time(f, i) <= tempo__tzif_time(f, i - 1))
            return bad(why, why_size, TEMPO_EFORMAT,
                       "transition %u is not after transition %u (times must ascend)", i, i - 1);
        if (f->indices[i] >= f->typecnt)
            return bad(why, why_size, TEMPO_EFORMAT,
                       "transition %u uses time type %u but there are only %u", i,
                       f->indices[i], f->typecnt);
    }
    for (uint32_t i = 0; i < f->typecnt; i++) {
        const unsigned char *t = f->types + (size_t)i * 6;
        int32_t off = (int32_t)be32(t);
        if (off < TEMPO__TZ_OFFSET_MIN || off > TEMPO__TZ_OFFSET_MAX)
            return bad(why, why_size, TEMPO_EFORMAT,
                       "time type %u: UTC offset %d s is outside -24:59:59..+25:59:59", i, off);
        if (t[4] > 1)
            return bad(why, why_size, TEMPO_EFORMAT, "time type %u: isdst is %u, not 0 or 1", i,
                       t[4]);
        if (t[5] >= h->charcnt || !memchr(chars + t[5], '\0', h->charcnt - t[5]))
            return bad(why, why_size, TEMPO_EFORMAT,
                       "time type %u: abbreviation index %u is not a string in the %u-byte table",
                       i, t[5], h->charcnt);
    }
    /* The isstd then the isut indicators: each 0 or 1. */
    for (uint32_t i = 0; i < h->isstdcnt + h->isutcnt; i++)
        if (flags[i] > 1)
            return bad(why, why_size, TEMPO_EFORMAT, "%s indicator %u is %u, not 0 or 1",
                       i < h->isstdcnt ? "standard/wall" : "UT/local",
                       i < h->isstdcnt ? i : i - h->isstdcnt, flags[i]);
    return TEMPO_OK;
}

/* Point `f` into the data block at `p` (already known to fit). */
static tempo_status_t index_block(const unsigned char *p, const header_t *h, int time_size,
                                  tempo__tzif_t *f, char *why, size_t why_size)
{
    f->time_size = time_size;
    f->timecnt = h->timecnt;
    f->typecnt = h->typecnt;
    f->times = p;
    f->indices = p + (size_t)h->timecnt * (size_t)time_size;
    f->types = f->indices + h->timecnt;
    const unsigned char *chars = f->types + (size_t)h->typecnt * 6;
    const unsigned char *flags = chars + h->charcnt + (size_t)h->leapcnt * (size_t)(time_size + 4);
    return check_block(f, h, chars, flags, why, why_size);
}

static tempo_status_t read_footer(const unsigned char *p, size_t left, tempo__tzif_t *f, char *why,
                                  size_t why_size)
{
    if (left == 0 || p[0] != '\n')
        return bad(why, why_size, TEMPO_EFORMAT,
                   left == 0 ? "footer missing (file truncated after the v2+ data block)"
                             : "footer does not start with a newline");
    const unsigned char *nl = memchr(p + 1, '\n', left - 1);
    if (!nl)
        return bad(why, why_size, TEMPO_EFORMAT, "footer is not terminated by a newline");
    size_t after = left - (size_t)(nl + 1 - p);
    if (after != 0)
        return bad(why, why_size, TEMPO_EFORMAT, "%zu unexpected bytes after the footer", after);
    f->footer = (const char *)p + 1;
    f->footer_len = (size_t)(nl - p) - 1;
    return TEMPO_OK;
}

tempo_status_t tempo__tzif_parse(const unsigned char *data, size_t size, tempo__tzif_t *out,
                                 char *why, size_t why_size)
{
    tempo__tzif_t f = {0};
    header_t h1, h2;
    tempo_status_t rc = read_header(data, size, "first", &h1, why, why_size);
    if (rc != TEMPO_OK)
        return rc;
    size_t pos = HEADER_SIZE;
    uint64_t need = block_size(&h1, 4);
    if (need > size - pos)
        return bad(why, why_size, TEMPO_EFORMAT,
                   "v1 data block needs %llu bytes but only %zu remain (truncated or bad counts)",
                   (unsigned long long)need, size - pos);
    f.version = h1.version;
    if (h1.version == 1) {
        rc = index_block(data + pos, &h1, 4, &f, why, why_size);
        if (rc == TEMPO_OK && need != size - pos)
            rc = bad(why, why_size, TEMPO_EFORMAT, "%zu unexpected bytes after the v1 data block",
                     size - pos - (size_t)need);
        if (rc == TEMPO_OK)
            *out = f;
        return rc;
    }
    pos += (size_t)need;
    rc = read_header(data + pos, size - pos, "second (v2+)", &h2, why, why_size);
    if (rc != TEMPO_OK)
        return rc;
    pos += HEADER_SIZE;
    need = block_size(&h2, 8);
    if (need > size - pos)
        return bad(why, why_size, TEMPO_EFORMAT,
                   "v2+ data block needs %llu bytes but only %zu remain (truncated or bad counts)",
                   (unsigned long long)need, size - pos);
    rc = index_block(data + pos, &h2, 8, &f, why, why_size);
    if (rc != TEMPO_OK)
        return rc;
    pos += (size_t)need;
    rc = read_footer(data + pos, size - pos, &f, why, why_size);
    if (rc == TEMPO_OK)
        *out = f;
    return rc;
}
