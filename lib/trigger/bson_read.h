/* Reading the fields of a stored trigger, with errors that name the field.
 *
 * Every reader takes the trigger's type name for the message ("trigger
 * 'interval': field 'period' must be an integer (int64 microseconds), found
 * double"); NULL reads as plain "trigger". Ill-typed and missing fields are
 * TEMPO_EFORMAT. Readers write their output only on success.
 *
 * Times and durations are BSON int64 microseconds; int32 is accepted too (a
 * small integer typed by hand), doubles and BSON dates never (they would lose
 * precision or mean milliseconds). An optional field that is absent or null
 * reads as "not set". */
#ifndef TEMPO_TRIGGER_BSON_READ_H
#define TEMPO_TRIGGER_BSON_READ_H

#include <bson/bson.h>
#include <stdbool.h>
#include <tempo/trigger.h>

/* Check one level of `doc` (every element's bounds, not inside nested
 * documents): a corrupt buffer is TEMPO_EFORMAT naming the byte offset.
 * Deliberately shallow: libbson's bson_validate() recurses once per nesting
 * level without a limit, so a small hostile document (a few hundred KB of
 * nested empty documents) overflows the stack. Loaders check each level they
 * read, and never descend further than TEMPO__TRIGGER_MAX_DEPTH. */
tempo_status_t tempo__bson_check_level(const bson_t *doc, const char *type, tempo_error_t *err);

/* An integer field. `present` NULL: required. Otherwise *present says whether
 * it was there (absent or null: false, *out untouched). */
tempo_status_t tempo__bson_read_int64(const bson_t *doc, const char *type, const char *field,
                                      int64_t *out, bool *present, tempo_error_t *err);

/* A required integer field that must fit an int32. */
tempo_status_t tempo__bson_read_int(const bson_t *doc, const char *type, const char *field, int *out,
                                    tempo_error_t *err);

/* An optional time field: absent or null reads as TEMPO_TIME_NONE. */
tempo_status_t tempo__bson_read_time(const bson_t *doc, const char *type, const char *field,
                                     tempo_time_t *out, tempo_error_t *err);

/* A required time field. */
tempo_status_t tempo__bson_read_time_required(const bson_t *doc, const char *type, const char *field,
                                              tempo_time_t *out, tempo_error_t *err);

/* A UTF-8 string (pointing into `doc`). When !required and the field is
 * absent or null, *out is left as it was: preset it to the default. Strings
 * with an embedded NUL are refused. */
tempo_status_t tempo__bson_read_utf8(const bson_t *doc, const char *type, const char *field,
                                     bool required, const char **out, tempo_error_t *err);

/* A required array: `elements` is set to iterate over it. */
tempo_status_t tempo__bson_read_array(const bson_t *doc, const char *type, const char *field,
                                      bson_iter_t *elements, tempo_error_t *err);

/* A required "shift" | "skip". */
tempo_status_t tempo__bson_read_dst_gap(const bson_t *doc, const char *type, const char *field,
                                        tempo_dst_gap_t *out, tempo_error_t *err);

/* "shift" / "skip" as stored. */
const char *tempo__dst_gap_name(tempo_dst_gap_t gap);

/* "int32", "double", "string", ... for messages. */
const char *tempo__bson_type_name(bson_type_t type);

/* Constructors report bad values as TEMPO_EINVAL / EPARSE / ERANGE; coming out
 * of a stored document the same values mean the record is malformed: turn
 * those into TEMPO_EFORMAT (keeping the message). Other codes (ENOTFOUND for a
 * zone this host lacks, ENOMEM) pass through. Returns the resulting code. */
tempo_status_t tempo__bson_stored_error(tempo_status_t code, tempo_error_t *err);

#endif
