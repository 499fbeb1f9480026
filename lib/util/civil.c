/* Calendar arithmetic: the era-based algorithm (400-year cycles of 146097 days)
 * described in Howard Hinnant's "chrono-compatible low-level date algorithms". */
#include "civil.h"

int64_t tempo__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = tempo__floor_div(y, 400);
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void tempo__civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = tempo__floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ISO weeks start on Monday; week 1 is the one holding the year's first
 * Thursday. Find the Thursday of this day's week: its year owns the week. */
int tempo__iso_week(int64_t days)
{
    int wd = tempo__weekday(days);           /* 0 = Sunday */
    int64_t thursday = days + 3 - (wd + 6) % 7; /* Monday-based index */
    int64_t y;
    int m, d;
    tempo__civil_from_days(thursday, &y, &m, &d);
    int64_t jan1 = tempo__days_from_civil(y, 1, 1);
    return (int)((thursday - jan1) / 7 + 1);
}
