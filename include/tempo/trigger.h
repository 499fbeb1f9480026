/* tempo — triggers: when a schedule fires.
 *
 * A trigger is an immutable value. tempo_trigger_next(t, after) answers the
 * first fire time strictly after `after`, or TEMPO_TIME_NONE when there is none;
 * it is pure, thread-safe, allocation-free and bounded (it never loops).
 *
 * Ownership: triggers are reference-counted. Every call that takes a trigger
 * (tempo_trigger_and_new, a schedule, ...) takes its own reference; the caller
 * still owns, and must tempo_trigger_free(), the one it holds. BSON documents
 * passed in are only read; BSON documents passed out are initialised by tempo
 * and owned by the caller (bson_destroy).
 *
 * Serialized form: a BSON document {"type": "cron", "v": 1, ...}; see
 * docs/triggers.md. Deserializing refuses unknown types and newer versions with
 * a clear error, never guesses. */
#ifndef TEMPO_TRIGGER_H
#define TEMPO_TRIGGER_H

#include <bson/bson.h>
#include <stdbool.h>
#include <tempo/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tempo_trigger tempo_trigger_t;

/* What to do with a wall-clock time that falls into a DST gap (docs/dst.md). */
typedef enum tempo_dst_gap {
    /* Default. Fixed hours: fire once at the first instant after the gap.
     * Wildcard or stepped hours: follow real time (the gap's times never occur). */
    TEMPO_DST_GAP_SHIFT = 0,
    /* Drop wall times inside a gap, for every schedule. */
    TEMPO_DST_GAP_SKIP = 1
} tempo_dst_gap_t;

/* ---- date: once, at an instant ---- */
TEMPO_API tempo_status_t tempo_trigger_date_new(tempo_time_t at, tempo_trigger_t **out,
                                                tempo_error_t *err);

/* ---- interval: every `period` of elapsed time from `start` ---- */
typedef struct tempo_interval_options {
    size_t size;             /* sizeof(tempo_interval_options_t) */
    tempo_duration_t period; /* > 0 */
    tempo_time_t start;      /* first fire time; TEMPO_TIME_NONE = required */
    tempo_time_t end;        /* last allowed fire time (inclusive); NONE = no end */
} tempo_interval_options_t;
#define TEMPO_INTERVAL_OPTIONS_INIT \
    { sizeof(tempo_interval_options_t), 0, TEMPO_TIME_NONE, TEMPO_TIME_NONE }
TEMPO_API tempo_status_t tempo_trigger_interval_new(const tempo_interval_options_t *opts,
                                                    tempo_trigger_t **out, tempo_error_t *err);

/* ---- cron ---- */
typedef struct tempo_cron_options {
    size_t size;           /* sizeof(tempo_cron_options_t) */
    const char *zone;      /* zone name; NULL = "local" */
    tempo_time_t start;    /* no fire before this; NONE = no bound */
    tempo_time_t end;      /* no fire after this (inclusive); NONE = no bound */
    tempo_dst_gap_t dst_gap;
} tempo_cron_options_t;
#define TEMPO_CRON_OPTIONS_INIT \
    { sizeof(tempo_cron_options_t), NULL, TEMPO_TIME_NONE, TEMPO_TIME_NONE, TEMPO_DST_GAP_SHIFT }

/* A crontab expression: 5 fields (minute hour day month day_of_week), 6 (second
 * first), 7 (second first, year last), or @yearly/@annually, @monthly, @weekly,
 * @daily/@midnight, @hourly. Day and weekday are ORed when both are restricted
 * (POSIX). Errors name the field, the offending text and its column. */
TEMPO_API tempo_status_t tempo_trigger_cron_new(const char *expr, const tempo_cron_options_t *opts,
                                                tempo_trigger_t **out, tempo_error_t *err);

/* The named-field form, as APScheduler's CronTrigger:
 * "hour=9 minute=30 day_of_week=mon-fri". Fields: year, month, day, week,
 * day_of_week (0 = Monday, as APScheduler), hour, minute, second. Day and
 * weekday are ANDed. Fields left out that are more significant than the least
 * significant given field are '*', the others take their minimum. */
TEMPO_API tempo_status_t tempo_trigger_cron_fields_new(const char *fields,
                                                       const tempo_cron_options_t *opts,
                                                       tempo_trigger_t **out, tempo_error_t *err);

/* ---- calendar interval: every N years/months/weeks/days at a wall time ---- */
typedef struct tempo_calendar_options {
    size_t size;          /* sizeof(tempo_calendar_options_t) */
    int years, months, weeks, days; /* >= 0, not all zero */
    int hour, minute, second;       /* wall-clock time of day */
    int32_t start_year;   /* start date (required): the first candidate day */
    int start_month, start_day;
    tempo_time_t end;     /* no fire after this (inclusive); NONE = no end */
    const char *zone;     /* NULL = "local" */
    tempo_dst_gap_t dst_gap;
} tempo_calendar_options_t;
#define TEMPO_CALENDAR_OPTIONS_INIT \
    { sizeof(tempo_calendar_options_t), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, TEMPO_TIME_NONE, NULL, \
      TEMPO_DST_GAP_SHIFT }
TEMPO_API tempo_status_t tempo_trigger_calendar_new(const tempo_calendar_options_t *opts,
                                                    tempo_trigger_t **out, tempo_error_t *err);

/* ---- combinations ---- */
typedef struct tempo_combine_options {
    size_t size;                /* sizeof(tempo_combine_options_t) */
    tempo_duration_t threshold; /* AND: children agree when within this; default 1 s */
    int max_iterations;         /* AND: give up (answer NONE) after this; 1..10^6, default 10000 */
} tempo_combine_options_t;
#define TEMPO_COMBINE_MAX_ITERATIONS 1000000
#define TEMPO_COMBINE_OPTIONS_INIT \
    { sizeof(tempo_combine_options_t), TEMPO_SECONDS(1), 10000 }

/* AND: fires when every child fires within `threshold` of each other, at the
 * latest of those times. OR: fires at the earliest time of any child; equal
 * times fire once. `children` are referenced, not taken over; opts may be NULL. */
TEMPO_API tempo_status_t tempo_trigger_and_new(tempo_trigger_t *const *children, size_t count,
                                               const tempo_combine_options_t *opts,
                                               tempo_trigger_t **out, tempo_error_t *err);
TEMPO_API tempo_status_t tempo_trigger_or_new(tempo_trigger_t *const *children, size_t count,
                                              const tempo_combine_options_t *opts,
                                              tempo_trigger_t **out, tempo_error_t *err);

/* ---- custom triggers ----
 * A type registered under a name, so stored schedules can name it and be loaded
 * again. The state is the type's own; it must be immutable once created, and
 * next() must be thread-safe and always answer a time > after, or NONE. */
typedef struct tempo_trigger_type {
    size_t size;      /* sizeof(tempo_trigger_type_t) */
    const char *name; /* unique, e.g. "myapp.sunrise"; built-in names are reserved */
    tempo_time_t (*next)(const void *state, tempo_time_t after);
    /* Append the state's fields to `doc` (type and version are added by tempo). */
    tempo_status_t (*serialize)(const void *state, bson_t *doc, tempo_error_t *err);
    /* Build a state from a document written by serialize(). */
    tempo_status_t (*deserialize)(const bson_t *doc, void **state, tempo_error_t *err);
    void (*free)(void *state);
    /* Optional: one line of English for `tempo explain`; NULL = the type name. */
    int (*describe)(const void *state, char *buf, size_t size);
} tempo_trigger_type_t;

/* Register a type (copied; `name` is copied). Duplicate name: TEMPO_EEXIST. */
TEMPO_API tempo_status_t tempo_trigger_type_register(const tempo_trigger_type_t *type,
                                                     tempo_error_t *err);
/* Wrap a state of a registered type; on success the trigger owns `state`, on
 * failure the caller still does. */
TEMPO_API tempo_status_t tempo_trigger_custom_new(const char *type_name, void *state,
                                                  tempo_trigger_t **out, tempo_error_t *err);

/* ---- every trigger ---- */

/* The first fire time strictly after `after`, or TEMPO_TIME_NONE. */
TEMPO_API tempo_time_t tempo_trigger_next(const tempo_trigger_t *trigger, tempo_time_t after);

/* Another reference to the same immutable trigger. */
TEMPO_API tempo_trigger_t *tempo_trigger_ref(tempo_trigger_t *trigger);
/* Drop a reference; NULL is fine. */
TEMPO_API void tempo_trigger_free(tempo_trigger_t *trigger);

/* "date", "interval", "cron", "calendar", "and", "or", or a custom type name. */
TEMPO_API const char *tempo_trigger_type_name(const tempo_trigger_t *trigger);

/* Serialize into a new document `doc` (initialised here; caller destroys). */
TEMPO_API tempo_status_t tempo_trigger_to_bson(const tempo_trigger_t *trigger, bson_t *doc,
                                               tempo_error_t *err);
/* Rebuild a trigger from a serialized document. Unknown type, newer version or
 * a bad field: an error naming it, nothing allocated. */
TEMPO_API tempo_status_t tempo_trigger_from_bson(const bson_t *doc, tempo_trigger_t **out,
                                                 tempo_error_t *err);

/* Plain English ("at 09:30 on Monday through Friday"). Returns the length it
 * needed (excluding NUL), like snprintf; output is truncated to `size`. */
TEMPO_API int tempo_trigger_describe(const tempo_trigger_t *trigger, char *buf, size_t size);

/* Cron triggers only: the normalised expression in the form it was given
 * (names as numbers, macros expanded, ranges compacted: "mon-fri" -> "1-5";
 * "30 9 * * mon-fri" -> "30 9 * * 1-5"; the named form as "hour=9 minute=30
 * ..."). Returns the length needed, like snprintf. Other types: -1. */
TEMPO_API int tempo_trigger_cron_normalized(const tempo_trigger_t *trigger, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
