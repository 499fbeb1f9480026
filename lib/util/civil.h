/* Proleptic Gregorian calendar arithmetic on day numbers.
 *
 * A day number counts days since 1970-01-01 (day 0), negative before. A "wall
 * second" is day_number * 86400 + seconds into that day: a civil time read as
 * if it were UTC. Triggers do their calendar arithmetic on wall seconds and map
 * to instants through the zone only at the end (never adding naive durations to
 * instants, which is how APScheduler #606 happened). All pure and branch-light:
 * these sit on the trigger hot path. */
#ifndef TEMPO_UTIL_CIVIL_H
#define TEMPO_UTIL_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

/* Floor division and modulo for possibly negative numerators (b > 0). */
static inline int64_t tempo__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t tempo__floor_mod(int64_t a, int64_t b)
{
    int64_t m = a % b;
    return m < 0 ? m + b : m;
}

static inline bool tempo__is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline int tempo__days_in_month(int64_t y, int m)
{
    static const int8_t dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && tempo__is_leap(y) ? 29 : dim[m];
}

/* Day number of y-m-d (m 1..12, d 1..31); any year. */
int64_t tempo__days_from_civil(int64_t y, int m, int d);

/* Inverse of tempo__days_from_civil. */
void tempo__civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* 0 = Sunday .. 6 = Saturday. */
static inline int tempo__weekday(int64_t days)
{
    return (int)tempo__floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

/* ISO 8601 week number (1..53) of a day number. */
int tempo__iso_week(int64_t days);

#endif
