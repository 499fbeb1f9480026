/* tempo — status codes and error details.
 *
 * Every fallible call returns tempo_status_t (TEMPO_OK == 0) and, when given a
 * non-NULL tempo_error_t, fills it with the code and a message that says what
 * failed, where and why ("cron: field 'day_of_week' column 12: 'fry' is not a
 * weekday name"). A call that fails changes nothing the caller can observe. */
#ifndef TEMPO_ERROR_H
#define TEMPO_ERROR_H

#include <tempo/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tempo_status {
    TEMPO_OK = 0,
    TEMPO_EINVAL,      /* an argument is out of range or NULL */
    TEMPO_EPARSE,      /* text (an expression, a date) could not be parsed */
    TEMPO_ENOTFOUND,   /* a named thing (zone, task, schedule, type) does not exist */
    TEMPO_EEXIST,      /* a thing with that name or id already exists */
    TEMPO_ENOMEM,      /* out of memory */
    TEMPO_EIO,         /* a file or socket operation failed */
    TEMPO_EFORMAT,     /* stored data (TZif file, BSON record) is malformed */
    TEMPO_EVERSION,    /* stored data has a version this build cannot read */
    TEMPO_ERANGE,      /* a time or count is outside what tempo can represent */
    TEMPO_ESTATE,      /* the call is not allowed in the object's current state */
    TEMPO_ECANCELLED,  /* the operation was cancelled (shutdown) */
    TEMPO_ETIMEOUT,    /* the operation timed out */
    TEMPO_ESTORE,      /* the store failed */
    TEMPO_ELEASE,      /* a lease was lost or is held by someone else */
    TEMPO_EUNSUPPORTED /* the feature is not available in this build */
} tempo_status_t;

#define TEMPO_ERROR_MESSAGE_MAX 256

typedef struct tempo_error {
    tempo_status_t code;
    char message[TEMPO_ERROR_MESSAGE_MAX];
} tempo_error_t;

/* A short, static description of a status code ("invalid argument"). Never NULL. */
TEMPO_API const char *tempo_strerror(tempo_status_t code);

#ifdef __cplusplus
}
#endif
#endif
