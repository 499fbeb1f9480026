/* Typed field readers for stored triggers (see bson_read.h). */
#include "bson_read.h"

#include <string.h>

#include "util/error_internal.h"

/* "trigger 'interval'" or "trigger" (snprintf into a caller's small buffer). */
static const char *context(const char *type, char *buf, size_t size)
{
    if (!type)
        return "trigger";
    snprintf(buf, size, "trigger '%s'", type);
    return buf;
}

const char *tempo__bson_type_name(bson_type_t type)
{
    switch (type) {
    case BSON_TYPE_DOUBLE: return "double";
    case BSON_TYPE_UTF8: return "string";
    case BSON_TYPE_DOCUMENT: return "document";
    case BSON_TYPE_ARRAY: return "array";
    case BSON_TYPE_BINARY: return "binary";
    case BSON_TYPE_UNDEFINED: return "undefined";
    case BSON_TYPE_OID: return "objectId";
    case BSON_TYPE_BOOL: return "bool";
    case BSON_TYPE_DATE_TIME: return "date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_REGEX: return "regex";
    case BSON_TYPE_DBPOINTER: return "dbPointer";
    case BSON_TYPE_CODE: return "javascript";
    case BSON_TYPE_SYMBOL: return "symbol";
    case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
    case BSON_TYPE_INT32: return "int32";
    case BSON_TYPE_TIMESTAMP: return "timestamp";
    case BSON_TYPE_INT64: return "int64";
    case BSON_TYPE_DECIMAL128: return "decimal128";
    case BSON_TYPE_MAXKEY: return "maxKey";
    case BSON_TYPE_MINKEY: return "minKey";
    case BSON_TYPE_EOD: break;
    }
    return "unknown BSON type";
}

tempo_status_t tempo__bson_check_level(const bson_t *doc, const char *type, tempo_error_t *err)
{
    bson_iter_t it;
    bool ok = bson_iter_init(&it, doc);
    while (ok && bson_iter_next(&it))
        ;
    if (ok && it.err_off == 0)
        return TEMPO_OK;
    char ctx[96];
    return tempo__error_set(err, TEMPO_EFORMAT, "%s: corrupt BSON document (at byte %u)",
                            context(type, ctx, sizeof ctx), ok ? (unsigned)it.err_off : 0u);
}

/* Find `field`. Returns false when absent (or null and `null_is_absent`). */
static bool find(const bson_t *doc, const char *field, bool null_is_absent, bson_iter_t *it)
{
    if (!bson_iter_init_find(it, doc, field))
        return false;
    return !(null_is_absent && BSON_ITER_HOLDS_NULL(it));
}

static tempo_status_t missing(const char *type, const char *field, tempo_error_t *err)
{
    char ctx[96];
    return tempo__error_set(err, TEMPO_EFORMAT, "%s: missing field '%s'", context(type, ctx, sizeof ctx),
                            field);
}

static tempo_status_t wrong_type(const char *type, const char *field, const char *want,
                                 const bson_iter_t *it, tempo_error_t *err)
{
    char ctx[96];
    return tempo__error_set(err, TEMPO_EFORMAT, "%s: field '%s' must be %s, found %s",
                            context(type, ctx, sizeof ctx), field, want,
                            tempo__bson_type_name(bson_iter_type(it)));
}

tempo_status_t tempo__bson_read_int64(const bson_t *doc, const char *type, const char *field,
                                      int64_t *out, bool *present, tempo_error_t *err)
{
    bson_iter_t it;
    if (!find(doc, field, present != NULL, &it)) {
        if (!present)
            return missing(type, field, err);
        *present = false;
        return TEMPO_OK;
    }
    if (BSON_ITER_HOLDS_INT64(&it))
        *out = bson_iter_int64(&it);
    else if (BSON_ITER_HOLDS_INT32(&it))
        *out = bson_iter_int32(&it);
    else
        return wrong_type(type, field, "an integer (int64)", &it, err);
    if (present)
        *present = true;
    return TEMPO_OK;
}

tempo_status_t tempo__bson_read_int(const bson_t *doc, const char *type, const char *field, int *out,
                                    tempo_error_t *err)
{
    int64_t v;
    tempo_status_t rc = tempo__bson_read_int64(doc, type, field, &v, NULL, err);
    if (rc != TEMPO_OK)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX) {
        char ctx[96];
        return tempo__error_set(err, TEMPO_EFORMAT, "%s: field '%s' must fit 32 bits, got %lld",
                                context(type, ctx, sizeof ctx), field, (long long)v);
    }
    *out = (int)v;
    return TEMPO_OK;
}

static tempo_status_t read_time(const bson_t *doc, const char *type, const char *field, bool required,
                                tempo_time_t *out, tempo_error_t *err)
{
    bson_iter_t it;
    if (!find(doc, field, !required, &it)) {
        if (required)
            return missing(type, field, err);
        *out = TEMPO_TIME_NONE;
        return TEMPO_OK;
    }
    if (BSON_ITER_HOLDS_INT64(&it))
        *out = bson_iter_int64(&it);
    else if (BSON_ITER_HOLDS_INT32(&it))
        *out = bson_iter_int32(&it);
    else
        return wrong_type(type, field, "an integer (int64 microseconds)", &it, err);
    return TEMPO_OK;
}

tempo_status_t tempo__bson_read_time(const bson_t *doc, const char *type, const char *field,
                                     tempo_time_t *out, tempo_error_t *err)
{
    return read_time(doc, type, field, false, out, err);
}

tempo_status_t tempo__bson_read_time_required(const bson_t *doc, const char *type, const char *field,
                                              tempo_time_t *out, tempo_error_t *err)
{
    return read_time(doc, type, field, true, out, err);
}

tempo_status_t tempo__bson_read_utf8(const bson_t *doc, const char *type, const char *field,
                                     bool required, const char **out, tempo_error_t *err)
{
    bson_iter_t it;
    if (!find(doc, field, !required, &it))
        return required ? missing(type, field, err) : TEMPO_OK;
    if (!BSON_ITER_HOLDS_UTF8(&it))
        return wrong_type(type, field, "a string", &it, err);
    uint32_t len;
    const char *s = bson_iter_utf8(&it, &len);
    if (strlen(s) != len) {
        char ctx[96];
        return tempo__error_set(err, TEMPO_EFORMAT, "%s: field '%s' contains a NUL byte",
                                context(type, ctx, sizeof ctx), field);
    }
    *out = s;
    return TEMPO_OK;
}

tempo_status_t tempo__bson_read_array(const bson_t *doc, const char *type, const char *field,
                                      bson_iter_t *elements, tempo_error_t *err)
{
    bson_iter_t it;
    if (!find(doc, field, false, &it))
        return missing(type, field, err);
    if (!BSON_ITER_HOLDS_ARRAY(&it))
        return wrong_type(type, field, "an array", &it, err);
    if (!bson_iter_recurse(&it, elements)) {
        char ctx[96];
        return tempo__error_set(err, TEMPO_EFORMAT, "%s: field '%s' is a corrupt array",
                                context(type, ctx, sizeof ctx), field);
    }
    return TEMPO_OK;
}

tempo_status_t tempo__bson_read_dst_gap(const bson_t *doc, const char *type, const char *field,
                                        tempo_dst_gap_t *out, tempo_error_t *err)
{
    const char *s;
    tempo_status_t rc = tempo__bson_read_utf8(doc, type, field, true, &s, err);
    if (rc != TEMPO_OK)
        return rc;
    if (strcmp(s, "shift") == 0) {
        *out = TEMPO_DST_GAP_SHIFT;
    } else if (strcmp(s, "skip") == 0) {
        *out = TEMPO_DST_GAP_SKIP;
    } else {
        char ctx[96];
        return tempo__error_set(err, TEMPO_EFORMAT,
                                "%s: field '%s' must be \"shift\" or \"skip\", got \"%.40s\"",
                                context(type, ctx, sizeof ctx), field, s);
    }
    return TEMPO_OK;
}

const char *tempo__dst_gap_name(tempo_dst_gap_t gap)
{
    return gap == TEMPO_DST_GAP_SKIP ? "skip" : "shift";
}

tempo_status_t tempo__bson_stored_error(tempo_status_t code, tempo_error_t *err)
{
    if (code == TEMPO_EINVAL || code == TEMPO_EPARSE || code == TEMPO_ERANGE) {
        code = TEMPO_EFORMAT;
        if (err)
            err->code = code;
    }
    return code;
}
