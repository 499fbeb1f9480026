/* Schedule files: words and columns within one line, and the bytes a line
 * may hold.
 *
 * A line is checked before it is read: tabs are its only control
 * characters, and it is valid UTF-8. Commands go to a shell and into the
 * store as BSON strings (which must be UTF-8), so a stray escape sequence or
 * a Latin-1 byte is better refused here, pointing at it, than found later. */
#include <string.h>

#include "runfile_internal.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

void tempo__rf_skip_blanks(tempo__rf_cursor_t *c)
{
    while (c->pos < c->len && is_blank(c->text[c->pos]))
        c->pos++;
}

bool tempo__rf_at_end(tempo__rf_cursor_t *c)
{
    tempo__rf_skip_blanks(c);
    return c->pos >= c->len;
}

bool tempo__rf_next_word(tempo__rf_cursor_t *c, tempo__rf_word_t *w)
{
    if (tempo__rf_at_end(c))
        return false;
    size_t start = c->pos;
    while (c->pos < c->len && !is_blank(c->text[c->pos]))
        c->pos++;
    *w = (tempo__rf_word_t){c->text + start, c->pos - start, c->col0 + start};
    return true;
}

bool tempo__rf_peek_word(const tempo__rf_cursor_t *c, tempo__rf_word_t *w)
{
    tempo__rf_cursor_t copy = *c;
    return tempo__rf_next_word(&copy, w);
}

bool tempo__rf_word_is(const tempo__rf_word_t *w, const char *keyword)
{
    size_t n = strlen(keyword);
    if (w->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = w->p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != keyword[i])
            return false;
    }
    return true;
}

/* Length of the UTF-8 sequence at p (at most `left` bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

tempo_status_t tempo__rf_check_bytes(tempo__rf_ctx_t *ctx, const char *p, size_t len)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i < len;) {
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            return tempo__rf_fail(ctx, i + 1,
                                  "control character 0x%02x (only tabs may appear in a line)", u[i]);
        size_t n = utf8_length(u + i, len - i);
        if (n == 0)
            return tempo__rf_fail(ctx, i + 1, "byte 0x%02x is not valid UTF-8", u[i]);
        i += n;
    }
    return TEMPO_OK;
}
