/* Turning a child's bytes into text a result or a log line can hold.
 *
 * BSON strings are UTF-8 and stores check (libmongoc refuses invalid UTF-8
 * on insert), but a command may print anything, and a byte limit may cut a
 * character in half. So output is cleaned: each invalid byte becomes U+FFFD
 * (as Python's errors="replace" would show it), and a sequence cut by the
 * limit is dropped, not replaced — it was valid, we just kept too little. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_internal.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

/* The length of the valid UTF-8 sequence at s[0..n), 0 when invalid, or
 * -1 when it is a valid beginning that s ends too early to finish. Strict
 * (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static int seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int len;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0;
    }
    return len;
}

char *tempo__utf8_clean(const char *s, size_t len, bool cut, size_t *out_len)
{
    /* Worst case: every byte replaced by three. */
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        int n = seq_len(u + i, len - i);
        if (n > 0) {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
            continue;
        }
        if (n < 0 && cut)
            break; /* the limit cut a character: drop its beginning */
        memcpy(out + o, REPLACEMENT, 3);
        o += 3;
        i++;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

void tempo__first_line(const char *s, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    size_t i = 0; /* the first line with something on it */
    while (i < len && (blank(s[i]) || s[i] == '\n'))
        i++;
    if (i >= len)
        return;
    const char *nl = memchr(s + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - s) : len;
    while (end > i && blank(s[end - 1]))
        end--;
    size_t clean_len;
    char *clean = tempo__utf8_clean(s + i, end - i, false, &clean_len);
    if (!clean)
        return;
    for (size_t k = 0; k < clean_len; k++)
        if ((unsigned char)clean[k] < 0x20 || clean[k] == 0x7F)
            clean[k] = ' ';
    if (clean_len < cap) {
        memcpy(out, clean, clean_len + 1);
        free(clean);
        return;
    }
    /* Shorten at a character boundary, leaving room for "...". */
    if (cap < 4) {
        free(clean);
        return;
    }
    size_t keep = cap - 4;
    while (keep > 0 && ((unsigned char)clean[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(out, clean, keep);
    memcpy(out + keep, "...", 4);
    free(clean);
}

void tempo__seconds_text(tempo_duration_t d, char *out, size_t cap)
{
    /* Millisecond precision, trailing zeros dropped: "5 s", "0.25 s". */
    int64_t ms = (d + 500) / 1000;
    int64_t whole = ms / 1000, frac = ms % 1000;
    if (frac == 0) {
        snprintf(out, cap, "%" PRId64 " s", whole);
        return;
    }
    char digits[16];
    snprintf(digits, sizeof digits, "%03d", (int)frac);
    for (int n = 2; n > 0 && digits[n] == '0'; n--)
        digits[n] = '\0';
    snprintf(out, cap, "%" PRId64 ".%s s", whole, digits);
}
