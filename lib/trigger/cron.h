/* Cron internals: the compiled form of an expression (the "spec"), shared by
 * the parser (cron_parse.c), the evaluator (cron_next.c) and the describer
 * (cron_describe.c).
 *
 * A spec is a set of bitmasks plus a few calendar-relative "specials" (last
 * day, nearest weekday, n-th weekday) that can only be resolved per month. The
 * evaluator walks year -> month -> day -> hour -> minute -> second, jumping with
 * bit scans, on wall-clock seconds; the zone is consulted only to map wall
 * times to instants (see cron_next.c for the DST policy). */
#ifndef TEMPO_TRIGGER_CRON_H
#define TEMPO_TRIGGER_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <tempo/trigger.h>

#define TEMPO__CRON_YEAR_MIN 1900
#define TEMPO__CRON_YEAR_MAX 2999 /* next() answers NONE past the end of this year */
#define TEMPO__CRON_YEAR_WORDS ((TEMPO__CRON_YEAR_MAX - TEMPO__CRON_YEAR_MIN + 64) / 64)
#define TEMPO__CRON_MAX_SPECIALS 8

/* Field order used throughout (also the order of the named form). */
typedef enum tempo__cron_field {
    TEMPO__CRON_YEAR,
    TEMPO__CRON_MONTH,
    TEMPO__CRON_DAY,
    TEMPO__CRON_WEEK,
    TEMPO__CRON_DOW,
    TEMPO__CRON_HOUR,
    TEMPO__CRON_MINUTE,
    TEMPO__CRON_SECOND,
    TEMPO__CRON_NFIELDS
} tempo__cron_field_t;

/* How the expression was written; decides day/weekday combination and the
 * numbering of weekdays. */
typedef enum tempo__cron_form {
    TEMPO__CRON_FORM_5 = 5,      /* minute hour day month dow */
    TEMPO__CRON_FORM_6 = 6,      /* second minute hour day month dow */
    TEMPO__CRON_FORM_7 = 7,      /* second minute hour day month dow year */
    TEMPO__CRON_FORM_MACRO = 1,  /* @daily etc. (compiled as a 5-field form) */
    TEMPO__CRON_FORM_FIELDS = 8  /* "hour=9 minute=30" (APScheduler) */
} tempo__cron_form_t;

/* Day specials: resolved per (year, month) to at most one day of the month. */
typedef enum tempo__cron_special_kind {
    TEMPO__CRON_LAST_DAY = 1,      /* L, L-n, last: day = days_in_month - arg */
    TEMPO__CRON_LAST_WEEKDAY,      /* LW: last Monday..Friday of the month */
    TEMPO__CRON_NEAREST_WEEKDAY,   /* nW: Mon..Fri nearest day arg, same month only */
    TEMPO__CRON_NTH_DOW,           /* 3rd fri, 5#3: the arg-th (1..5) weekday dow */
    TEMPO__CRON_LAST_DOW           /* last fri, 5L: the last weekday dow */
} tempo__cron_special_kind_t;

typedef struct tempo__cron_special {
    uint8_t kind; /* tempo__cron_special_kind_t */
    uint8_t arg;  /* see kinds */
    uint8_t dow;  /* 0 = Sunday .. 6 = Saturday */
} tempo__cron_special_t;

typedef struct tempo__cron_spec {
    uint64_t seconds; /* bit s, 0..59 */
    uint64_t minutes; /* bit m, 0..59 */
    uint32_t hours;   /* bit h, 0..23 */
    uint32_t days;    /* bit d, 1..31: plain day numbers of the day field */
    uint16_t months;  /* bit m, 1..12 */
    uint8_t dows;     /* bit w, 0 = Sunday .. 6 = Saturday: plain weekdays */
    uint64_t weeks;   /* bit w, 1..53: ISO weeks */
    uint64_t years[TEMPO__CRON_YEAR_WORDS]; /* bit (y - YEAR_MIN) */

    /* Specials written in the day field and in the weekday field. They join
     * `days` resp. `dows` with OR within their own field. */
    uint8_t n_day_specials, n_dow_specials;
    tempo__cron_special_t day_specials[TEMPO__CRON_MAX_SPECIALS];
    tempo__cron_special_t dow_specials[TEMPO__CRON_MAX_SPECIALS];

    /* Restricted = anything but a lone '*' or '?'. */
    bool day_restricted, dow_restricted, week_restricted;
    /* Crontab forms with both day and dow restricted: a day matching either
     * fires (POSIX). Otherwise both must match. */
    bool day_or_dow;
    /* The hour field is '*' or has a step: the schedule follows real elapsed
     * time across DST changes (docs/dst.md). Otherwise hours are "fixed". */
    bool hours_follow_real_time;
    /* Set by the parser after checking one whole Gregorian cycle (or all the
     * allowed years): false means next() answers NONE at once. */
    bool possible;

    /* Precomputed by the parser: for a month whose day 1 is weekday w (0 =
     * Sunday), bit d (1..31) is set when day d's weekday is in `dows`. */
    uint32_t dow_month_mask[7];
} tempo__cron_spec_t;

/* Text kept for explain/normalize/serialize, not used by next(). */
typedef struct tempo__cron_text {
    tempo__cron_form_t form;
    char *source;                           /* the expression as given (owned) */
    char *fields[TEMPO__CRON_NFIELDS];      /* normalised text of each field (owned), NULL = not in this form */
} tempo__cron_text_t;

/* Parse `expr` (crontab forms or @macros when form_fields is false, the named
 * form when true) into `spec` and `text`. On error nothing is allocated and
 * `err` says "cron: field 'day_of_week' column 12: 'fry' is not a weekday name". */
tempo_status_t tempo__cron_parse(const char *expr, bool form_fields, tempo__cron_spec_t *spec,
                                 tempo__cron_text_t *text, tempo_error_t *err);
void tempo__cron_text_free(tempo__cron_text_t *text);

/* Normalised expression and plain-English description; snprintf-style returns. */
int tempo__cron_normalize(const tempo__cron_text_t *text, char *buf, size_t size);
int tempo__cron_describe(const tempo__cron_spec_t *spec, const tempo__cron_text_t *text, char *buf,
                         size_t size);

/* The day-of-month mask (bit d = day d matches day/dow/week fields) for one
 * month. Used by next() and by the parser's feasibility check. */
uint32_t tempo__cron_month_days(const tempo__cron_spec_t *spec, int64_t year, int month);

/* Whether `year` is allowed by the year field. */
static inline bool tempo__cron_year_ok(const tempo__cron_spec_t *spec, int64_t year)
{
    if (year < TEMPO__CRON_YEAR_MIN || year > TEMPO__CRON_YEAR_MAX)
        return false;
    int64_t b = year - TEMPO__CRON_YEAR_MIN;
    return (spec->years[b / 64] >> (b % 64)) & 1;
}

/* The first matching wall second >= from and < until (wall seconds: see
 * util/civil.h), or INT64_MAX. Zone-free: the DST policy lives above it. */
int64_t tempo__cron_next_wall(const tempo__cron_spec_t *spec, int64_t from, int64_t until);

#endif
