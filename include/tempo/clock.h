/* tempo — time values, civil time and time zones.
 *
 * tempo_time_t is a count of microseconds since 1970-01-01T00:00:00Z (UTC,
 * leap seconds ignored, as POSIX time). Durations are int64 microseconds too.
 *
 * Zones come from the system's TZif files (TZDIR overrides /usr/share/zoneinfo),
 * including the POSIX TZ rule in the file's footer for instants after its last
 * transition. A zone is loaded once and kept for the life of the process:
 * tempo_zone_t pointers are shared, immutable and never freed by the caller.
 * All functions here are thread-safe. */
#ifndef TEMPO_CLOCK_H
#define TEMPO_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <tempo/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t tempo_time_t;     /* µs since the Unix epoch, UTC */
typedef int64_t tempo_duration_t; /* µs */

/* "No such time": a trigger that will never fire again answers this. */
#define TEMPO_TIME_NONE INT64_MIN

#define TEMPO_USEC_PER_SEC INT64_C(1000000)
#define TEMPO_MILLISECONDS(n) ((tempo_duration_t)(n) * 1000)
#define TEMPO_SECONDS(n) ((tempo_duration_t)(n) * TEMPO_USEC_PER_SEC)
#define TEMPO_MINUTES(n) TEMPO_SECONDS((int64_t)(n) * 60)
#define TEMPO_HOURS(n) TEMPO_SECONDS((int64_t)(n) * 3600)
#define TEMPO_DAYS(n) TEMPO_SECONDS((int64_t)(n) * 86400)

/* Wall-clock (civil) time: a proleptic Gregorian date and time of day. */
typedef struct tempo_civil {
    int32_t year;       /* e.g. 2027; years before 1 are allowed (0 = 1 BC) */
    int month;          /* 1..12 */
    int day;            /* 1..31 */
    int hour;           /* 0..23 */
    int minute;         /* 0..59 */
    int second;         /* 0..59 */
    int32_t usec;       /* 0..999999 */
    /* Filled by conversions from an instant; ignored on input. */
    int wday;           /* 0 = Sunday .. 6 = Saturday */
    int yday;           /* 0..365 */
    int32_t utc_offset; /* seconds east of UTC in force at that instant */
    int is_dst;         /* 1 when the zone's rules call this daylight time */
} tempo_civil_t;

typedef struct tempo_zone tempo_zone_t;

/* Look up a zone by name: an IANA name ("Europe/Berlin"), "UTC", a fixed offset
 * ("+05:30", "-08", "UTC+2"), or "local" (the TZ variable, else /etc/localtime,
 * else UTC). The result is cached for the life of the process.
 * Unknown name: TEMPO_ENOTFOUND, "time zone 'Mars/Olympus' not found (looked in
 * /usr/share/zoneinfo)". Malformed file: TEMPO_EFORMAT naming the file. */
TEMPO_API tempo_status_t tempo_zone_get(const char *name, const tempo_zone_t **out,
                                        tempo_error_t *err);

/* The UTC zone; never fails. */
TEMPO_API const tempo_zone_t *tempo_zone_utc(void);

/* The name the zone was looked up by ("Europe/Berlin", "UTC", "+05:30"); for
 * "local" the resolved name when known, else "local". */
TEMPO_API const char *tempo_zone_name(const tempo_zone_t *zone);

/* The wall-clock time in `zone` at instant `t` (offset, is_dst, wday, yday
 * filled). t == TEMPO_TIME_NONE is TEMPO_EINVAL. */
TEMPO_API tempo_status_t tempo_zone_to_civil(const tempo_zone_t *zone, tempo_time_t t,
                                             tempo_civil_t *out, tempo_error_t *err);

/* How a wall-clock time maps to instants in a zone. */
typedef enum tempo_local_kind {
    TEMPO_LOCAL_UNIQUE = 1, /* exactly one instant: earlier == later */
    TEMPO_LOCAL_FOLD = 2,   /* happens twice (clocks went back): earlier < later */
    TEMPO_LOCAL_GAP = 0     /* never happens (clocks jumped forward) */
} tempo_local_kind_t;

typedef struct tempo_local {
    tempo_local_kind_t kind;
    /* UNIQUE: the instant (both equal). FOLD: the first and second occurrence.
     * GAP: the wall time read with the offset after the gap (earlier) and with
     * the offset before it (later), as Python's zoneinfo does with fold=1 and
     * fold=0. */
    tempo_time_t earlier;
    tempo_time_t later;
    /* GAP only: the first instant after the gap (the transition);
     * TEMPO_TIME_NONE for UNIQUE and FOLD. */
    tempo_time_t transition;
} tempo_local_t;

/* Map a wall-clock time in `zone` to instants. Fields wday, yday, utc_offset
 * and is_dst of `civil` are ignored; out-of-range fields are TEMPO_EINVAL. */
TEMPO_API tempo_status_t tempo_zone_from_civil(const tempo_zone_t *zone, const tempo_civil_t *civil,
                                               tempo_local_t *out, tempo_error_t *err);

/* The system's real-time clock. Schedulers read time through their loop
 * adapter instead; this is for programs and tools. */
TEMPO_API tempo_time_t tempo_time_now(void);

/* Format `t` in `zone` as ISO 8601 with seconds and a numeric offset
 * ("2027-03-28T03:00:00+02:00"; "Z" is never used, so the offset is always
 * explicit). Fractional seconds are printed only when non-zero. Returns the
 * length written (excluding NUL), or -1 when `size` is too small (size >= 40
 * always suffices). TEMPO_TIME_NONE is written as "none"; a NULL zone means
 * UTC. */
TEMPO_API int tempo_time_format(tempo_time_t t, const tempo_zone_t *zone, char *buf, size_t size);

/* Parse ISO 8601: "2027-03-28T03:00:00+02:00", "...Z", "2027-03-28T03:00",
 * "2027-03-28 03:00:00.5", "2027-03-28". Without an offset the text is a wall
 * time in `zone` (a time in a gap is read as the first instant after it; a time
 * in a fold as its first occurrence; a NULL zone means UTC). Fractions beyond
 * 6 digits are truncated to microseconds. Errors name the column. */
TEMPO_API tempo_status_t tempo_time_parse(const char *text, const tempo_zone_t *zone,
                                          tempo_time_t *out, tempo_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
