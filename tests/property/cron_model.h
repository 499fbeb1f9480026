/* A random cron expression together with its meaning, written independently
 * of tempo's parser: the generator decides the sets first and prints text
 * that should mean exactly them, so the property test never asks the code
 * under test what an expression means.
 *
 * Weekdays are 0 = Sunday .. 6 = Saturday here whatever the form's own
 * numbering (the named form numbers Monday 0, as APScheduler). */
#ifndef TEMPO_TEST_CRON_MODEL_H
#define TEMPO_TEST_CRON_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define MODEL_YEAR_MIN 1900
#define MODEL_YEAR_MAX 2999
#define MODEL_TEXT_MAX 640
#define MODEL_MAX_W 4

typedef struct model_rng {
    uint64_t s;
} model_rng_t;

/* A calendar position as the matcher sees it. */
typedef struct model_date {
    int64_t year;
    int month, day;  /* 1-based */
    int wday;        /* 0 = Sunday */
    int yday;        /* 0-based */
} model_date_t;

typedef struct cron_model {
    bool named; /* the named-field form; else crontab (nfields 5, 6, 7) */
    int nfields;
    char text[MODEL_TEXT_MAX];

    bool sec[60], min[60], hour[24], month[13], week[54];
    bool years[MODEL_YEAR_MAX - MODEL_YEAR_MIN + 1];

    /* Day field: plain days plus specials. */
    bool day[32];
    bool day_last;        /* L, last */
    int day_last_minus;   /* L-n: n (0 = none) */
    bool day_last_wkday;  /* LW */
    int n_nearest;        /* nW */
    int nearest[MODEL_MAX_W];

    /* Weekday field: plain weekdays plus specials (also the named form's day
     * field "3rd fri" / "last fri", which AND with day_of_week like any day). */
    bool dow[7];
    bool nth[7][6];   /* [weekday][1..5] */
    bool last_dow[7];

    /* Crontab forms: restricted = anything but a lone '*' or '?'; when both
     * are, a day matching either fires (POSIX). The named form ANDs. */
    bool day_restricted, dow_restricted;
    /* The named form's day field holds nth/last-weekday specials in nth[] and
     * last_dow[]; they are part of the DAY condition there, not the weekday. */
    bool day_specials_in_day;
    bool dow_plain_any; /* named form: day_of_week is '*' */

    /* Hour field '*' or a step: the schedule follows real time across DST. */
    bool follow_real;
} cron_model_t;

void model_rng_seed(model_rng_t *r, uint64_t seed);
uint64_t model_rng_next(model_rng_t *r);
/* Uniform in [0, n). */
int model_rnd(model_rng_t *r, int n);

/* A random expression in a random form. */
void model_generate(model_rng_t *r, cron_model_t *m);

/* Does the date (year, month, day, weekday) match? */
bool model_date_ok(const cron_model_t *m, const model_date_t *d);
bool model_year_ok(const cron_model_t *m, int64_t year);

/* Calendar helpers written for the test (not tempo's). */
bool model_is_leap(int64_t y);
int model_days_in_month(int64_t y, int month);
int model_iso_week(int64_t year, int yday, int wday);

#endif
