/* Schedule files for `tempo run FILE` (docs/run-file.md): parsing a file into
 * a list of schedules, and comparing two lists for a reload.
 *
 *   runfile_load.c      reading the file from disk
 *   runfile_parse.c     the walk over the lines: sections, schedules, settings
 *   runfile_line.c      words and columns within one line
 *   runfile_trigger.c   where a trigger ends: quotes, macros, 5 cron fields
 *   runfile_phrase.c    the phrases daily, weekly, monthly, yearly
 *   runfile_every.c     the phrases every and at
 *   runfile_value.c     durations, counts, times of day, names of days
 *   runfile_settings.c  KEY = VALUE lines
 *   runfile_build.c     from a parsed trigger to a tempo_trigger_t
 *   runfile_entry.c     the list of schedules and the names in it
 *   runfile_error.c     "FILE:LINE:COLUMN: message"
 *   runfile_internal.h  what the runfile_*.c files share
 *   runfile_diff.c      old list vs new list
 *
 * Only the public API of libtempo is used: the code is linked into the
 * `tempo` binary, which uses nothing else.
 *
 * Errors: a parse returns TEMPO_OK, or TEMPO_EPARSE for a mistake in the
 * text, TEMPO_EIO for a file that cannot be read, TEMPO_ENOMEM; errbuf then
 * holds one line "FILE:LINE:COLUMN: message" (or "FILE: message" when no
 * line is at fault), truncated to errlen. On any error the list is left
 * empty: a file is taken whole or not at all. */
#ifndef TEMPO_TOOLS_RUNFILE_H
#define TEMPO_TOOLS_RUNFILE_H

#include <stddef.h>
#include <stdint.h>
#include <tempo/tempo.h>

/* Largest file tempo run reads: a schedule file is written by hand; a bigger
 * one is a mistake (the wrong file), not a workload. */
#define TEMPO__RUNFILE_SIZE_MAX ((size_t)4 << 20)
/* Longest schedule name. */
#define TEMPO__RUNFILE_NAME_MAX 64
/* Bounds of the count settings and of durations. */
#define TEMPO__RUNFILE_MAX_RUNNING_MAX 10000
#define TEMPO__RUNFILE_RETRIES_MAX 1000
#define TEMPO__RUNFILE_DURATION_MAX TEMPO_DAYS(36500)

/* One schedule, with the [defaults] already applied. Strings are owned. */
typedef struct tempo__runfile_entry {
    char *name;                /* unique in the list; [A-Za-z0-9_.-]{1,64} */
    tempo_trigger_t *trigger;  /* one reference, owned */
    char *trigger_text;        /* as written, quotes removed: for messages */
    char *command;             /* for /bin/sh -c; never empty */
    char *zone;                /* as written in the file; "local" by default */
    tempo_dst_gap_t dst_gap;   /* default SHIFT */
    tempo_coalesce_t coalesce; /* default LATEST */
    tempo_duration_t misfire_grace; /* >= 0; TEMPO_DURATION_NONE = unlimited (default) */
    tempo_duration_t jitter;   /* >= 0; default 0 */
    int max_running;           /* 1..MAX_RUNNING_MAX; 0 = unlimited (as the library); default 1 */
    tempo_duration_t timeout;  /* > 0; TEMPO_DURATION_NONE = unlimited (default) */
    int retries;               /* 0..RETRIES_MAX; default 0 */
    int line;                  /* 1-based line of "NAME:" */
    /* The trigger as stored (tempo_trigger_to_bson), kept to compare two
     * parses of a schedule: the same bytes are the same trigger. */
    uint8_t *trigger_doc;
    size_t trigger_doc_len;
} tempo__runfile_entry_t;

/* The schedules of one file, in file order. */
typedef struct tempo__runfile {
    tempo__runfile_entry_t *entries;
    size_t count;
} tempo__runfile_t;

/* Parse `len` bytes of `text` (not NUL-terminated necessarily; a NUL byte in
 * it is an error). `path` is only used in messages. *out is always
 * initialised: the schedules on success, empty on error. */
tempo_status_t tempo__runfile_parse(const char *path, const char *text, size_t len,
                                    tempo__runfile_t *out, char *errbuf, size_t errlen);

/* Read the file at `path` (at most TEMPO__RUNFILE_SIZE_MAX bytes) and parse it. */
tempo_status_t tempo__runfile_load(const char *path, tempo__runfile_t *out, char *errbuf,
                                   size_t errlen);

/* Free the entries and their triggers; leaves an empty list. NULL is fine. */
void tempo__runfile_free(tempo__runfile_t *file);

/* The entry named `name`, or NULL. */
const tempo__runfile_entry_t *tempo__runfile_find(const tempo__runfile_t *file, const char *name);

/* ---- reload: what changed between two parses ---- */

/* What differs between two entries of the same name (a bit set). */
enum {
    TEMPO__RUNFILE_F_TRIGGER = 1u << 0, /* the stored trigger (trigger_doc) */
    TEMPO__RUNFILE_F_COMMAND = 1u << 1,
    TEMPO__RUNFILE_F_ZONE = 1u << 2,    /* the setting; the trigger may be the same */
    TEMPO__RUNFILE_F_DST_GAP = 1u << 3,
    TEMPO__RUNFILE_F_COALESCE = 1u << 4,
    TEMPO__RUNFILE_F_MISFIRE_GRACE = 1u << 5,
    TEMPO__RUNFILE_F_JITTER = 1u << 6,
    TEMPO__RUNFILE_F_MAX_RUNNING = 1u << 7,
    TEMPO__RUNFILE_F_TIMEOUT = 1u << 8,
    TEMPO__RUNFILE_F_RETRIES = 1u << 9
};

/* The fields in which two entries differ (0: the same schedule). Names, the
 * trigger's spelling and line numbers are not compared. */
unsigned tempo__runfile_entry_compare(const tempo__runfile_entry_t *a,
                                      const tempo__runfile_entry_t *b);

typedef enum tempo__runfile_change_kind {
    TEMPO__RUNFILE_ADDED,    /* only in the new list */
    TEMPO__RUNFILE_REMOVED,  /* only in the old list */
    TEMPO__RUNFILE_CHANGED,  /* in both; `fields` says what differs */
    TEMPO__RUNFILE_UNCHANGED /* in both, equal */
} tempo__runfile_change_kind_t;

typedef struct tempo__runfile_change {
    tempo__runfile_change_kind_t kind;
    unsigned fields;                         /* CHANGED: TEMPO__RUNFILE_F_*; else 0 */
    const tempo__runfile_entry_t *old_entry; /* NULL when ADDED */
    const tempo__runfile_entry_t *new_entry; /* NULL when REMOVED */
} tempo__runfile_change_t;

/* Every name of both lists once: first the removed ones in the old file's
 * order, then the new file's entries in its order. The entries point into
 * the two lists, which must outlive the diff. */
typedef struct tempo__runfile_diff {
    tempo__runfile_change_t *changes;
    size_t count;
    size_t added, removed, changed, unchanged;
} tempo__runfile_diff_t;

/* Compare `old_file` (running) with `new_file` (just read). Only ENOMEM can
 * fail it; *out is always initialised (empty on failure). */
tempo_status_t tempo__runfile_diff(const tempo__runfile_t *old_file,
                                   const tempo__runfile_t *new_file, tempo__runfile_diff_t *out);
void tempo__runfile_diff_free(tempo__runfile_diff_t *diff);

#endif
