/* A bounded text appender for the normaliser and the describer. */
#include "cron_parse_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tempo__cron_put(tempo__cron_out_t *o, const char *s)
{
    size_t n = strlen(s);
    if (o->size > 0 && o->len < o->size - 1) {
        size_t room = o->size - 1 - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
    if (o->size > 0)
        o->buf[o->len < o->size - 1 ? o->len : o->size - 1] = '\0';
}

void tempo__cron_putf(tempo__cron_out_t *o, const char *fmt, ...)
{
    /* Pieces are short (a number, a name, a time of day). */
    char piece[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    tempo__cron_put(o, piece);
}

int tempo__cron_out_len(const tempo__cron_out_t *o)
{
    return o->len > INT_MAX ? INT_MAX : (int)o->len;
}
