/* Schedule files: what the runfile_*.c files share (runfile.h is the
 * interface for the rest of the tool).
 *
 * The parser reads one line at a time through a cursor, and stops at the
 * first mistake: tempo__rf_fail() writes "FILE:LINE:COLUMN: message" and
 * returns TEMPO_EPARSE, and every caller passes a non-OK status straight up.
 * Columns are 1-based byte offsets in the line. */
#ifndef TEMPO_TOOLS_RUNFILE_INTERNAL_H
#define TEMPO_TOOLS_RUNFILE_INTERNAL_H

#include <stdbool.h>

#include "runfile.h"

/* ---- errors (runfile_error.c) ---- */

typedef struct tempo__rf_ctx {
    const char *path; /* for messages */
    int line;         /* the line being read; the schedule's line while building it */
    char *errbuf;
    size_t errlen;
} tempo__rf_ctx_t;

/* Report a mistake at `col` of the current line; returns TEMPO_EPARSE. */
tempo_status_t tempo__rf_fail(tempo__rf_ctx_t *ctx, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report a failure that no line caused ("FILE: message") with `status`. */
tempo_status_t tempo__rf_fail_file(tempo__rf_ctx_t *ctx, tempo_status_t status, const char *fmt,
                                   ...) __attribute__((format(printf, 3, 4)));
tempo_status_t tempo__rf_nomem(tempo__rf_ctx_t *ctx);

/* Library messages name a column of the text they were given ("cron: field
 * 'hour' column 3: ..."). Finds it: returns true with *column set and the
 * message without it in `out`; false (out = the message) when there is none. */
bool tempo__rf_lib_column(const char *message, size_t *column, char *out, size_t size);

/* Report a library error about text that starts at `col` of the line: at
 * the column the library names, counted from there (or at `col` itself).
 * ENOMEM is reported as such. */
tempo_status_t tempo__rf_fail_lib(tempo__rf_ctx_t *ctx, size_t col, tempo_status_t status,
                                  const tempo_error_t *err);

/* User text for a message: at most 40 bytes, then "...". `buf` holds 48. */
#define TEMPO__RF_QUOTE_MAX 48
const char *tempo__rf_quote(const char *p, size_t len, char *buf);

/* ---- one line (runfile_line.c) ---- */

/* A cursor over a piece of a line: the whole line, or the inside of quotes. */
typedef struct tempo__rf_cursor {
    const char *text;
    size_t len;
    size_t pos;
    size_t col0; /* column of text[0] */
} tempo__rf_cursor_t;

typedef struct tempo__rf_word {
    const char *p;
    size_t len;
    size_t col;
} tempo__rf_word_t;

static inline size_t tempo__rf_col(const tempo__rf_cursor_t *c)
{
    return c->col0 + c->pos;
}

void tempo__rf_skip_blanks(tempo__rf_cursor_t *c);
/* Skip blanks; true at the end of the text. */
bool tempo__rf_at_end(tempo__rf_cursor_t *c);
/* Skip blanks and take the next word (a run of non-blanks); false at the end. */
bool tempo__rf_next_word(tempo__rf_cursor_t *c, tempo__rf_word_t *w);
/* The same without moving. */
bool tempo__rf_peek_word(const tempo__rf_cursor_t *c, tempo__rf_word_t *w);
/* Case-insensitive equality of a word with a lower-case keyword. */
bool tempo__rf_word_is(const tempo__rf_word_t *w, const char *keyword);

/* Check a line's bytes: no control character but tab, valid UTF-8. */
tempo_status_t tempo__rf_check_bytes(tempo__rf_ctx_t *ctx, const char *p, size_t len);

/* ---- values (runfile_value.c) ---- */

/* "90s", "1h30m", "2d", "0" -> µs; a mistake is reported at the word. */
tempo_status_t tempo__rf_read_duration(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w,
                                       tempo_duration_t *out);
/* Decimal digits only, value <= max. */
bool tempo__rf_count(const char *p, size_t len, long max, long *out);
/* "9:30", "09:30", "09:30:15". */
bool tempo__rf_time_of_day(const char *p, size_t len, int *hour, int *minute, int *second);
/* Weekday name, 3 letters or in full, any case: 1 = Monday .. 7 = Sunday; 0 if not one. */
int tempo__rf_weekday(const char *p, size_t len);
/* Month name likewise: 1..12; 0 if not one. */
int tempo__rf_month(const char *p, size_t len);
/* Could the word be a crontab field ("*", "*\/5", "1-5", "mon-fri", "L", "5#3")? */
bool tempo__rf_cron_field_like(const char *p, size_t len);
bool tempo__rf_name_char(char c);

/* ---- the parsed trigger (runfile_trigger.c, runfile_phrase.c, runfile_every.c) ---- */

typedef enum tempo__rf_kind {
    TEMPO__RF_CRON,     /* crontab form: 5/6/7 fields or a macro */
    TEMPO__RF_FIELDS,   /* named-field form */
    TEMPO__RF_INTERVAL, /* every DURATION [from INSTANT] */
    TEMPO__RF_DATE,     /* at INSTANT */
    TEMPO__RF_CALENDAR  /* every N UNIT at TIME from DATE */
} tempo__rf_kind_t;

/* An ISO 8601 instant written as one word or as a date and a time. The
 * library reads `text`; a column it names is mapped back to the words. */
#define TEMPO__RF_INSTANT_MAX 64
typedef struct tempo__rf_instant {
    char text[TEMPO__RF_INSTANT_MAX]; /* the words joined by 'T' */
    size_t len1;                      /* bytes of the first word */
    size_t col1, col2;                /* their columns; col2 = 0 for one word */
} tempo__rf_instant_t;

typedef struct tempo__rf_trigger {
    tempo__rf_kind_t kind;
    size_t col;          /* column of the trigger (of its opening quote) */
    char *text;          /* as written, quotes removed; owned */
    /* CRON, FIELDS: the expression for the cron parser, owned. expr_col is
     * the column of its first byte when it is the file's text, 0 when a
     * phrase generated it (its errors are then reported at `col`). */
    char *expr;
    size_t expr_col;
    tempo_duration_t period;     /* INTERVAL */
    bool has_instant;            /* INTERVAL "from", DATE */
    tempo__rf_instant_t instant;
    int years, months, weeks, days; /* CALENDAR */
    int hour, minute, second;
    int32_t start_year;
    int start_month, start_day;
    size_t date_col;
} tempo__rf_trigger_t;

/* Read the trigger at the cursor (after "NAME:"), leaving the cursor at the
 * command. On error nothing is left allocated. */
tempo_status_t tempo__rf_trigger_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                       tempo__rf_trigger_t *out);
/* A phrase (first word `first`, already taken: every, at, daily, ...). */
tempo_status_t tempo__rf_phrase_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                      const tempo__rf_word_t *first, tempo__rf_trigger_t *out);
bool tempo__rf_phrase_keyword(const tempo__rf_word_t *w);
/* `every ...` and `at ...` (runfile_every.c), after their first word. */
tempo_status_t tempo__rf_every_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                     tempo__rf_word_t *prev, tempo__rf_trigger_t *out);
tempo_status_t tempo__rf_at_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                  tempo__rf_word_t *prev, tempo__rf_trigger_t *out);
/* Grammar steps shared by the phrases; `prev` is the word before, for
 * messages, and moves to the last word taken. The next word, or "expected
 * WHAT after 'PREV'": */
tempo_status_t tempo__rf_need_word(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                   const tempo__rf_word_t *prev, const char *what,
                                   tempo__rf_word_t *w);
/* The keyword `kw` next. */
tempo_status_t tempo__rf_expect(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                tempo__rf_word_t *prev, const char *kw);
/* "at TIME" into out->hour, minute, second. */
tempo_status_t tempo__rf_at_time(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                 tempo__rf_word_t *prev, tempo__rf_trigger_t *out);
void tempo__rf_trigger_clear(tempo__rf_trigger_t *t);

/* Build it (runfile_build.c) in `zone`. */
tempo_status_t tempo__rf_trigger_build(tempo__rf_ctx_t *ctx, const tempo__rf_trigger_t *t,
                                       const char *zone, tempo_dst_gap_t dst_gap,
                                       tempo_trigger_t **out);

/* ---- settings (runfile_settings.c) ---- */

typedef enum tempo__rf_key {
    TEMPO__RF_ZONE,
    TEMPO__RF_DST_GAP,
    TEMPO__RF_COALESCE,
    TEMPO__RF_MISFIRE_GRACE,
    TEMPO__RF_JITTER,
    TEMPO__RF_MAX_RUNNING,
    TEMPO__RF_TIMEOUT,
    TEMPO__RF_RETRIES,
    TEMPO__RF_N_KEYS
} tempo__rf_key_t;

/* The settings one block (a schedule, or [defaults]) gave. */
typedef struct tempo__rf_settings {
    int line[TEMPO__RF_N_KEYS]; /* where each was given; 0 = not given */
    char *zone;                 /* owned */
    tempo_dst_gap_t dst_gap;
    tempo_coalesce_t coalesce;
    tempo_duration_t misfire_grace, jitter, timeout;
    int max_running, retries;
} tempo__rf_settings_t;

/* Parse "KEY = VALUE [# comment]" at the cursor into `s`. `where` names the
 * block for "given twice" ("for this schedule", "in [defaults]"). */
tempo_status_t tempo__rf_setting_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                       tempo__rf_settings_t *s, const char *where);
void tempo__rf_settings_clear(tempo__rf_settings_t *s);
/* Fill the entry's settings: its own, else the defaults, else the built-in
 * defaults. Only the zone is allocated. */
tempo_status_t tempo__rf_settings_apply(tempo__rf_ctx_t *ctx, const tempo__rf_settings_t *own,
                                        const tempo__rf_settings_t *defaults,
                                        tempo__runfile_entry_t *e);

/* ---- the list and its names (runfile_entry.c) ---- */

/* Name -> index, for duplicates and for the diff (open addressing). */
typedef struct tempo__rf_index {
    struct tempo__rf_slot {
        const char *name; /* not owned; NULL = empty */
        size_t value;
    } *slots;
    size_t cap, count;
} tempo__rf_index_t;

bool tempo__rf_index_get(const tempo__rf_index_t *idx, const char *name, size_t *value);
/* Add a name not yet in the index; false when out of memory. */
bool tempo__rf_index_put(tempo__rf_index_t *idx, const char *name, size_t value);
void tempo__rf_index_free(tempo__rf_index_t *idx);

/* Append (taking over the entry's allocations) or fail with ENOMEM, in which
 * case the entry is freed. */
tempo_status_t tempo__rf_append(tempo__rf_ctx_t *ctx, tempo__runfile_t *file,
                                tempo__runfile_entry_t *e);
void tempo__rf_entry_free(tempo__runfile_entry_t *e);
/* Keep the stored form of e->trigger in e->trigger_doc. */
tempo_status_t tempo__rf_entry_keep_doc(tempo__rf_ctx_t *ctx, tempo__runfile_entry_t *e);

#endif
