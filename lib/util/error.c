/* Status codes and error messages. */
#include "error_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *tempo_strerror(tempo_status_t code)
{
    switch (code) {
    case TEMPO_OK: return "ok";
    case TEMPO_EINVAL: return "invalid argument";
    case TEMPO_EPARSE: return "parse error";
    case TEMPO_ENOTFOUND: return "not found";
    case TEMPO_EEXIST: return "already exists";
    case TEMPO_ENOMEM: return "out of memory";
    case TEMPO_EIO: return "input/output error";
    case TEMPO_EFORMAT: return "malformed data";
    case TEMPO_EVERSION: return "unsupported version";
    case TEMPO_ERANGE: return "out of range";
    case TEMPO_ESTATE: return "not allowed in this state";
    case TEMPO_ECANCELLED: return "cancelled";
    case TEMPO_ETIMEOUT: return "timed out";
    case TEMPO_ESTORE: return "store error";
    case TEMPO_ELEASE: return "lease lost";
    case TEMPO_EUNSUPPORTED: return "not supported";
    }
    return "unknown error";
}

tempo_status_t tempo__error_set(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

tempo_status_t tempo__error_prefix(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
{
    if (!err)
        return code;
    char old[TEMPO_ERROR_MESSAGE_MAX];
    va_list ap;
    memcpy(old, err->message, sizeof old);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* Append ": old", truncating at the buffer's end. */
    size_t used = strlen(err->message);
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++) {
        size_t room = sizeof err->message - 1 - used;
        size_t len = strlen(parts[i]);
        if (len > room)
            len = room;
        memcpy(err->message + used, parts[i], len);
        used += len;
    }
    err->message[used] = '\0';
    err->code = code;
    return code;
}

void tempo__error_clear(tempo_error_t *err)
{
    if (err) {
        err->code = TEMPO_OK;
        err->message[0] = '\0';
    }
}
