/* Internal error helpers. */
#ifndef TEMPO_UTIL_ERROR_INTERNAL_H
#define TEMPO_UTIL_ERROR_INTERNAL_H

#include <tempo/error.h>

/* Fill `err` (may be NULL) and return `code`, so error paths read
 * `return tempo__error_set(err, TEMPO_EINVAL, "interval: period must be > 0");` */
tempo_status_t tempo__error_set(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message ("trigger 'and' child 2: <old message>"), set
 * its code to `code` and return `code` (also when err is NULL). */
tempo_status_t tempo__error_prefix(tempo_error_t *err, tempo_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void tempo__error_clear(tempo_error_t *err);

#endif
