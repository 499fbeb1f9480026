/* Month and weekday names: what the parser accepts and what the describer prints.
 *
 * Accepted spellings are the three-letter abbreviations cron has always used
 * and the full English names, in any case ("mon", "Monday", "MONDAY"). */
#include "cron_parse_internal.h"

#include <string.h>
#include <strings.h>

static const char *const month_names[13] = {
    NULL,   "January", "February", "March",    "April",   "May",     "June",
    "July", "August",  "September", "October", "November", "December",
};

static const char *const weekday_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static const char *const weekday_abbrs[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A name matches its first three letters or its whole spelling, nothing between:
 * "sept" or "thur" are refused rather than guessed at. */
static bool name_matches(const char *name, const char *s, size_t len)
{
    size_t full = strlen(name);
    return (len == 3 || len == full) && strncasecmp(name, s, len) == 0;
}

int tempo__cron_month_lookup(const char *s, size_t len)
{
    for (int m = 1; m <= 12; m++)
        if (name_matches(month_names[m], s, len))
            return m;
    return -1;
}

int tempo__cron_weekday_lookup(const char *s, size_t len)
{
    for (int w = 0; w < 7; w++)
        if (name_matches(weekday_names[w], s, len))
            return w;
    return -1;
}

const char *tempo__cron_month_name(int month)
{
    return month >= 1 && month <= 12 ? month_names[month] : "?";
}

const char *tempo__cron_weekday_name(int wday)
{
    return wday >= 0 && wday <= 6 ? weekday_names[wday] : "?";
}

const char *tempo__cron_weekday_abbr(int wday)
{
    return wday >= 0 && wday <= 6 ? weekday_abbrs[wday] : "?";
}
