/* Private to the cron parser, normaliser and describer.
 *
 * Parsing goes in two steps. cron_parse.c splits the expression into field
 * texts (crontab columns, a macro's expansion, or the named form's key=value
 * pairs with APScheduler's defaults) and cron_field.c turns each field text
 * into a tempo__cron_parsed_t. That parsed form keeps a little more than the
 * spec needs: which values were written as stepped ranges, so the normaliser
 * (cron_format.c) can print a step back as a step rather than as the list of
 * values it stands for. */
#ifndef TEMPO_TRIGGER_CRON_PARSE_INTERNAL_H
#define TEMPO_TRIGGER_CRON_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "text.h" /* the normaliser and the describer write through tempo__text_t */
#include "util/error_internal.h"

/* Distinct stepped ranges kept per field for printing. Further ones are folded
 * into the plain values (exact, see cron_field.c), so this is no limit on
 * what can be written. */
#define TEMPO__CRON_MAX_STEPS 8

/* One field's accepted numbers, in the numbering of the form being parsed
 * (crontab weekdays 0..7 with 0 and 7 = Sunday; named-form weekdays 0..6 with
 * 0 = Monday). `star_hi` is where '*' and "A/N" end: it differs from `hi`
 * only for crontab weekdays, where 7 is an alias that '*' must not repeat. */
typedef struct tempo__cron_field_def {
    const char *name;
    int lo, hi, star_hi;
} tempo__cron_field_def_t;

const tempo__cron_field_def_t *tempo__cron_field_def(tempo__cron_field_t f, bool named);

/* A stepped range as written, canonicalised: b is the last value actually hit. */
typedef struct tempo__cron_step {
    int16_t a, b, step;
} tempo__cron_step_t;

/* Bit i of a value set stands for value lo + i (years: 1900 + i). */
typedef struct tempo__cron_parsed {
    uint64_t all[TEMPO__CRON_YEAR_WORDS];   /* every value the field allows, steps included */
    uint64_t plain[TEMPO__CRON_YEAR_WORDS]; /* the values written as N, A-B (or folded in) */
    tempo__cron_step_t steps[TEMPO__CRON_MAX_STEPS];
    tempo__cron_special_t specials[TEMPO__CRON_MAX_SPECIALS]; /* sorted, distinct */
    uint8_t n_steps, n_specials;
    bool star;      /* the whole field is a lone '*' or '?' */
    bool has_slash; /* the text holds a step ('/'): decides the hour DST policy */
} tempo__cron_parsed_t;

/* Parse the field text base[off, off + len) into `out`. Columns in messages
 * are off + 1 based, so pass the whole expression as `base`. */
tempo_status_t tempo__cron_field_parse(tempo__cron_field_t f, bool named, const char *base,
                                       size_t off, size_t len, tempo__cron_parsed_t *out,
                                       tempo_error_t *err);

/* The normalised text of a parsed field (malloc'd), or NULL when out of memory. */
char *tempo__cron_field_format(tempo__cron_field_t f, bool named, const tempo__cron_parsed_t *p);

/* Names, shared by the parser and the describer. Weekdays are 0 = Sunday. */
int tempo__cron_month_lookup(const char *s, size_t len);   /* 1..12, or -1 */
int tempo__cron_weekday_lookup(const char *s, size_t len); /* 0..6, or -1 */
const char *tempo__cron_month_name(int month);             /* "January" */
const char *tempo__cron_weekday_name(int wday);            /* "Sunday" */
const char *tempo__cron_weekday_abbr(int wday);            /* "sun" */

/* Bit tests on the multi-word sets above. */
static inline bool tempo__cron_bit(const uint64_t *set, int i)
{
    return (set[i / 64] >> (i % 64)) & 1;
}
static inline void tempo__cron_set_bit(uint64_t *set, int i)
{
    set[i / 64] |= (uint64_t)1 << (i % 64);
}

#endif
