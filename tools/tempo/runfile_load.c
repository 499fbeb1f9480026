/* Schedule files: reading the file.
 *
 * The file is read whole, then parsed: a reload (SIGHUP) may come while an
 * editor is writing it, and parsing a half-written file would only find a
 * mistake, never start half the schedules (the parse is all or nothing).
 * One byte more than the limit is read, to tell "too large" from "exactly
 * the limit" without trusting a size that may change while reading. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

static tempo_status_t read_all(tempo__rf_ctx_t *ctx, FILE *f, char **text, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return tempo__rf_nomem(ctx);
    for (;;) {
        if (n == cap) {
            if (cap > TEMPO__RUNFILE_SIZE_MAX) {
                free(buf);
                return tempo__rf_fail_file(ctx, TEMPO_EPARSE, "the file is larger than %zu MiB",
                                           TEMPO__RUNFILE_SIZE_MAX >> 20);
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return tempo__rf_nomem(ctx);
            }
            buf = grown, cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        return tempo__rf_fail_file(ctx, TEMPO_EIO, "cannot read: %s", strerror(e ? e : EIO));
    }
    *text = buf, *len = n;
    return TEMPO_OK;
}

tempo_status_t tempo__runfile_load(const char *path, tempo__runfile_t *out, char *errbuf,
                                   size_t errlen)
{
    tempo__rf_ctx_t ctx = {path, 0, errbuf, errlen};
    *out = (tempo__runfile_t){0};
    if (errbuf && errlen)
        errbuf[0] = '\0';
    errno = 0;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return tempo__rf_fail_file(&ctx, TEMPO_EIO, "cannot read: %s",
                                   strerror(errno ? errno : EINVAL));
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    tempo_status_t rc = read_all(&ctx, f, &text, &len);
    fclose(f);
    if (rc != TEMPO_OK)
        return rc;
    rc = tempo__runfile_parse(path, text, len, out, errbuf, errlen);
    free(text);
    return rc;
}
