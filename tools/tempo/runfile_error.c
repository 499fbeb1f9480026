/* Schedule files: the one error message, "FILE:LINE:COLUMN: message".
 *
 * Only the first mistake is reported, so the buffer is written once; the
 * caller's status tells whether it holds anything. Messages quote the user's
 * text shortened (tempo__rf_quote), so a long line never hides the reason. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runfile_internal.h"

static const char *path_of(const tempo__rf_ctx_t *ctx)
{
    return ctx->path ? ctx->path : "<text>";
}

static void write_message(tempo__rf_ctx_t *ctx, const char *prefix, const char *fmt, va_list ap)
{
    if (!ctx->errbuf || ctx->errlen == 0)
        return;
    int n = snprintf(ctx->errbuf, ctx->errlen, "%s", prefix);
    if (n < 0 || (size_t)n >= ctx->errlen)
        return;
    vsnprintf(ctx->errbuf + n, ctx->errlen - (size_t)n, fmt, ap);
}

tempo_status_t tempo__rf_fail(tempo__rf_ctx_t *ctx, size_t col, const char *fmt, ...)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s:%d:%zu: ", path_of(ctx), ctx->line, col);
    va_list ap;
    va_start(ap, fmt);
    write_message(ctx, prefix, fmt, ap);
    va_end(ap);
    return TEMPO_EPARSE;
}

tempo_status_t tempo__rf_fail_file(tempo__rf_ctx_t *ctx, tempo_status_t status, const char *fmt,
                                   ...)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s: ", path_of(ctx));
    va_list ap;
    va_start(ap, fmt);
    write_message(ctx, prefix, fmt, ap);
    va_end(ap);
    return status;
}

tempo_status_t tempo__rf_nomem(tempo__rf_ctx_t *ctx)
{
    return tempo__rf_fail_file(ctx, TEMPO_ENOMEM, "out of memory");
}

const char *tempo__rf_quote(const char *p, size_t len, char *buf)
{
    if (len > 40)
        snprintf(buf, TEMPO__RF_QUOTE_MAX, "%.40s...", p);
    else
        snprintf(buf, TEMPO__RF_QUOTE_MAX, "%.*s", (int)len, p);
    return buf;
}

/* The library writes "X column N: Y" (cron: "field 'hour' column 3: ...")
 * or "X: column N: Y" (cron macros, ISO 8601 times). The column moves to
 * the front of our message, so it is cut out of the text: "X: Y". */
bool tempo__rf_lib_column(const char *message, size_t *column, char *out, size_t size)
{
    for (const char *p = strstr(message, " column "); p; p = strstr(p + 1, " column ")) {
        const char *d = p + strlen(" column ");
        size_t n = 0, digits = 0;
        while (d[digits] >= '0' && d[digits] <= '9' && digits < 9)
            n = n * 10 + (size_t)(d[digits++] - '0');
        if (digits == 0 || d[digits] != ':' || n == 0)
            continue;
        /* "X: column N: Y" loses " column N:", "X column N: Y" loses " column N". */
        size_t head = (size_t)(p - message);
        const char *tail = d + digits + (head > 0 && p[-1] == ':' ? 1 : 0);
        snprintf(out, size, "%.*s%s", (int)head, message, tail);
        *column = n;
        return true;
    }
    snprintf(out, size, "%s", message);
    return false;
}

tempo_status_t tempo__rf_fail_lib(tempo__rf_ctx_t *ctx, size_t col, tempo_status_t status,
                                  const tempo_error_t *err)
{
    if (status == TEMPO_ENOMEM)
        return tempo__rf_nomem(ctx);
    const char *msg = err->message[0] ? err->message : tempo_strerror(status);
    char text[TEMPO_ERROR_MESSAGE_MAX];
    size_t n;
    if (tempo__rf_lib_column(msg, &n, text, sizeof text))
        col += n - 1;
    return tempo__rf_fail(ctx, col, "%s", text);
}
