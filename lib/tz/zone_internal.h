/* Time-zone internals shared by the files of lib/tz.
 *
 * A zone is built once (zone_build.c) from a TZif file (tzif.c), a POSIX TZ
 * rule (tz_rule_parse.c, tz_rule.c) or a fixed offset, then published through
 * the cache (zone_get.c) and never changed again: every lookup (zone.c) is a
 * read of immutable memory, so readers need no lock.
 *
 * Two sorted tables describe the instants the zone's table covers:
 *   - the full table: every change of (UTC offset, is_dst), for to_civil;
 *   - the span table: only the changes of UTC offset, for tempo__zone_span
 *     (tz.h: triggers care about offsets, not about DST flags).
 * Both include transitions generated from the footer rule up to
 * TEMPO__TZ_TABLE_YEAR_END, so nearly every lookup is one binary search.
 * Outside [rule_before, rule_after) the rule is evaluated directly. */
#ifndef TEMPO_TZ_ZONE_INTERNAL_H
#define TEMPO_TZ_ZONE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* UTC offsets tempo accepts anywhere: -24:59:59 .. +25:59:59, the range RFC
 * 8536 recommends. Keeping |offset| under 26 h lets from_civil look for the
 * instants of a wall time in a window of about two days. */
#define TEMPO__TZ_OFFSET_MIN (-89999)
#define TEMPO__TZ_OFFSET_MAX 93599

/* Seconds of the instants tempo_time_t can hold (µs in an int64), so that
 * t * 1e6 + usec never overflows. INT64_MIN µs (TEMPO_TIME_NONE) is outside. */
#define TEMPO__TZ_SEC_MIN (INT64_MIN / 1000000)     /* -9223372036854 */
#define TEMPO__TZ_SEC_MAX (INT64_MAX / 1000000 - 1) /* 9223372036853 */

/* Instants further out than this (about ±1.1 million years, far beyond any
 * tempo_time_t) are clamped before a rule is evaluated, which keeps the
 * rule's calendar arithmetic far from int64 overflow. Transitions in a file
 * beyond it are ignored: they can never be reached. */
#define TEMPO__TZ_SEC_LIMIT (INT64_C(1) << 45)

/* Footer rules are expanded into the tables through this year. The cron
 * hot path then costs one binary search for every date up to 2400 (several
 * hundred years past anything a deployed schedule will plausibly reach);
 * later instants are computed from the rule directly (a few tens of ns more).
 * Memory: two entries per year of DST rule, about 20 kB per zone. */
#define TEMPO__TZ_TABLE_YEAR_END 2400

/* What the zone's rules say at one instant. */
typedef struct tempo__tz_state {
    int32_t offset; /* seconds east of UTC */
    int32_t is_dst; /* 0 or 1 */
} tempo__tz_state_t;

static inline bool tempo__tz_state_eq(tempo__tz_state_t a, tempo__tz_state_t b)
{
    return a.offset == b.offset && a.is_dst == b.is_dst;
}

/* ---- POSIX TZ rules (the TZif footer, or a TZ variable) ---- */

typedef enum tempo__tz_date_kind {
    TEMPO__TZ_DATE_JULIAN = 1, /* Jn: day 1..365, February 29 never counted */
    TEMPO__TZ_DATE_ZERO,       /* n: day 0..365, February 29 counted */
    TEMPO__TZ_DATE_MONTH       /* Mm.w.d: weekday d of week w (5 = last) of month m */
} tempo__tz_date_kind_t;

typedef struct tempo__tz_date {
    uint8_t kind;  /* tempo__tz_date_kind_t */
    uint8_t month; /* M: 1..12 */
    uint8_t week;  /* M: 1..5 */
    uint8_t wday;  /* M: 0 = Sunday .. 6 */
    int16_t day;   /* J: 1..365, n: 0..365 */
    int32_t time;  /* local seconds after midnight: -167 h .. +167 h (RFC 8536 v3) */
} tempo__tz_date_t;

typedef enum tempo__tz_rule_kind {
    TEMPO__TZ_RULE_FIXED = 1, /* one state for ever: no DST, or DST all year */
    TEMPO__TZ_RULE_ALTERNATING /* two transitions a year, strictly alternating */
} tempo__tz_rule_kind_t;

typedef struct tempo__tz_rule {
    /* As parsed. Offsets are east of UTC (the TZ string writes them west). */
    int32_t std_offset, dst_offset;
    bool has_dst;
    tempo__tz_date_t start, end; /* DST starts / ends (has_dst only) */

    /* Filled by tempo__tz_rule_prepare(). */
    uint8_t kind;             /* tempo__tz_rule_kind_t */
    bool start_first;         /* in each year, the start comes before the end */
    tempo__tz_state_t fixed;  /* FIXED: the state */
    tempo__tz_state_t std, dst;
} tempo__tz_rule_t;

/* Parse a POSIX TZ string of `len` bytes ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0330>-3:30", v3 times "-1" .. "167"). A DST name without a rule gets the
 * US rule ",M3.2.0,M11.1.0", as tzcode does. On failure returns false with a
 * static reason and the 1-based column it refers to. */
bool tempo__tz_rule_parse(const char *text, size_t len, tempo__tz_rule_t *rule, size_t *column,
                          const char **why);

/* Classify a parsed rule (FIXED or ALTERNATING) and check that its DST start
 * and end alternate in every year (one 400-year Gregorian cycle is checked:
 * rule dates repeat with that period). False with a reason when they do not. */
bool tempo__tz_rule_prepare(tempo__tz_rule_t *rule, const char **why);

/* ALTERNATING: the UTC instants of the year's two transitions, in time order
 * (ev[0] < ev[1]); the state after ev[0] is rule_first_state(). */
void tempo__tz_rule_year(const tempo__tz_rule_t *rule, int64_t year, int64_t ev[2]);

static inline tempo__tz_state_t tempo__tz_rule_first_state(const tempo__tz_rule_t *rule)
{
    return rule->start_first ? rule->dst : rule->std;
}
static inline tempo__tz_state_t tempo__tz_rule_second_state(const tempo__tz_rule_t *rule)
{
    return rule->start_first ? rule->std : rule->dst;
}

/* ALTERNATING: the span (offset, bounds, previous offset) holding `t` and the
 * state at `t`, computed from the rule alone. Any t (clamped to ±SEC_LIMIT). */
void tempo__tz_rule_span(const tempo__tz_rule_t *rule, int64_t t, tempo__tz_span_t *span,
                         tempo__tz_state_t *state);

/* ---- TZif files (RFC 8536) ---- */

/* A validated view into a TZif file's bytes: the v2+ (64-bit) data block when
 * present, else the v1 block. Every count and index has been checked. */
typedef struct tempo__tzif {
    int version;     /* 1..4 */
    int time_size;   /* 4 (v1 block) or 8 */
    uint32_t timecnt, typecnt;
    const unsigned char *times;   /* timecnt big-endian times, strictly ascending */
    const unsigned char *indices; /* timecnt type indices, each < typecnt */
    const unsigned char *types;   /* typecnt 6-byte records */
    const char *footer;           /* v2+: the TZ string (not NUL-terminated); NULL for v1 */
    size_t footer_len;
} tempo__tzif_t;

/* Check and index `size` bytes. On failure: TEMPO_EFORMAT (or TEMPO_EVERSION
 * for an unknown version) with a reason in `why`; nothing is allocated. */
tempo_status_t tempo__tzif_parse(const unsigned char *data, size_t size, tempo__tzif_t *out,
                                 char *why, size_t why_size);

int64_t tempo__tzif_time(const tempo__tzif_t *f, uint32_t i);
tempo__tz_state_t tempo__tzif_state(const tempo__tzif_t *f, uint32_t type);
static inline uint8_t tempo__tzif_index(const tempo__tzif_t *f, uint32_t i)
{
    return f->indices[i];
}

/* ---- the zone ---- */

struct tempo_zone {
    const char *name;

    /* Full table: at[i] is when state[i + 1] begins; state[0] holds before
     * at[0] (or always, when n == 0). Consecutive states differ. */
    size_t n;
    const int64_t *at;
    const tempo__tz_state_t *state;

    /* Span table: the same, keeping only offset changes. */
    size_t span_n;
    const int64_t *span_at;
    const int32_t *span_offset;

    /* When has_rule: instants < rule_before or >= rule_after come from the
     * rule directly (rule_before is INT64_MIN unless the zone is only a rule). */
    bool has_rule;
    int64_t rule_before, rule_after;
    tempo__tz_rule_t rule;

    /* Smallest and largest offset ever in force: bounds the instants a wall
     * time can map to (from_civil). */
    int32_t min_offset, max_offset;

    void *storage; /* the one allocation holding the four tables */
};

/* Where a zone's data comes from: a TZif view, a rule, or just one state. */
typedef struct tempo__zone_source {
    const tempo__tzif_t *tzif;     /* may be NULL */
    const tempo__tz_rule_t *rule;  /* may be NULL; the footer or a TZ string */
    tempo__tz_state_t fixed;       /* used when both are NULL */
} tempo__zone_source_t;

/* Build an immutable zone named `name` (copied). TEMPO_ENOMEM, or
 * TEMPO_EFORMAT with a reason in `why` when the rule is unusable. */
tempo_status_t tempo__zone_build(const char *name, const tempo__zone_source_t *src,
                                 tempo_zone_t **out, char *why, size_t why_size);
void tempo__zone_free(tempo_zone_t *zone);

/* The state (offset and DST flag) in force at `t` seconds. */
tempo__tz_state_t tempo__zone_state(const tempo_zone_t *zone, int64_t t);

/* The wall-clock time of `t` in `zone`, every field filled (convert.c). */
void tempo__zone_civil(const tempo_zone_t *zone, tempo_time_t t, tempo_civil_t *out);

/* ---- names (zone_names.c) and files (zone_file.c) ---- */

/* Longest zone name accepted (the longest IANA name is about 30 bytes). */
#define TEMPO__TZ_NAME_MAX 255

/* A fixed-offset name, ISO style (sign as written = east of UTC): "+05:30",
 * "-08", "+0530", "UTC+2", "UTC-03:30", "+05:30:15". Returns 0 when `name`
 * does not have that shape, 1 with the offset when valid, -1 with a reason
 * when it has the shape but is wrong ("+25", "+5:3"). */
int tempo__zone_fixed_offset(const char *name, int32_t *offset, const char **why);

/* Whether `name` may be looked up under the zoneinfo directory: not empty,
 * not absolute, no "." / ".." / empty components (they could leave it or
 * alias other names), no control characters, at most TEMPO__TZ_NAME_MAX. */
bool tempo__zone_name_ok(const char *name, const char **why);

/* Load the TZif file at `path` as a zone called `name`. TEMPO_ENOTFOUND when
 * there is no such regular file (`err` untouched: the caller knows the words),
 * else errors name the zone and the file. */
tempo_status_t tempo__zone_load_file(const char *path, const char *name, tempo_zone_t **out,
                                     tempo_error_t *err);

#endif
