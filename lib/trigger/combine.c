/* The "and" and "or" triggers: combinations of other triggers.
 *
 * OR fires at the earliest of its children's next times (equal times are one
 * fire). AND fires when every child fires within `threshold` of the others,
 * at the latest of those agreeing times, so next(that time) is past the whole
 * group. APScheduler 4 answers the earliest of the group instead; tempo takes
 * the latest because next() is stateless here: answering the earliest, the
 * next call would find the rest of the same group again.
 *
 * Children are referenced (never copied); the tree is at most
 * TEMPO__TRIGGER_MAX_DEPTH levels high (dispatch.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bson_read.h"
#include "dispatch.h"
#include "text.h"
#include "util/error_internal.h"
#include "util/options.h"

typedef struct combine_trigger {
    struct tempo_trigger base;
    tempo_duration_t threshold; /* >= 0 */
    int max_iterations;         /* >= 1 */
    int depth;                  /* levels of the tree rooted here */
    size_t count;               /* >= 1 */
    tempo_trigger_t *children[];
} combine_trigger_t;

static tempo_time_t or_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const combine_trigger_t *c = (const combine_trigger_t *)t;
    tempo_time_t best = TEMPO_TIME_NONE;
    for (size_t i = 0; i < c->count; i++) {
        tempo_time_t n = tempo_trigger_next(c->children[i], after);
        if (n != TEMPO_TIME_NONE && (best == TEMPO_TIME_NONE || n < best))
            best = n;
    }
    return best;
}

/* Each round asks every child for its first time after one common bound L
 * (first `after`). When they span no more than the threshold, the latest is
 * the answer. Otherwise no agreeing group can hold a time before
 * max - threshold (its latest member is at least the current max), so
 * L = max - threshold - 1. A child already at or past max - threshold keeps
 * its time (its first time after the old L is also its first after the new
 * one), so this is "advance the children that are behind" without keeping
 * per-child state, which keeps next() allocation-free for any child count.
 * L grows strictly every round (the new L >= the old min > the old L), and
 * the rounds are capped by max_iterations. */
static tempo_time_t and_next(const tempo_trigger_t *t, tempo_time_t after)
{
    const combine_trigger_t *c = (const combine_trigger_t *)t;
    tempo_time_t bound = after;
    for (int round = 0; round < c->max_iterations; round++) {
        tempo_time_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t i = 0; i < c->count; i++) {
            tempo_time_t n = tempo_trigger_next(c->children[i], bound);
            if (n == TEMPO_TIME_NONE)
                return TEMPO_TIME_NONE; /* that child never fires again */
            lo = n < lo ? n : lo;
            hi = n > hi ? n : hi;
        }
        /* The span in uint64: hi - lo may exceed INT64_MAX. */
        if ((uint64_t)hi - (uint64_t)lo <= (uint64_t)c->threshold)
            return hi;
        /* hi - threshold > lo > INT64_MIN here, so neither step overflows. */
        bound = hi - c->threshold - 1;
    }
    return TEMPO_TIME_NONE; /* no agreement within max_iterations rounds */
}

/* ---- serialize ---- */

static tempo_status_t too_large(const tempo_trigger_t *t, tempo_error_t *err)
{
    return tempo__error_set(err, TEMPO_ERANGE, "trigger '%s': document too large", t->ops->name);
}

static tempo_status_t append_children(const combine_trigger_t *c, bson_t *doc, tempo_error_t *err)
{
    bson_t array;
    if (!BSON_APPEND_ARRAY_BEGIN(doc, "triggers", &array))
        return too_large(&c->base, err);
    tempo_status_t rc = TEMPO_OK;
    for (size_t i = 0; i < c->count && rc == TEMPO_OK; i++) {
        char keybuf[16];
        const char *key;
        size_t keylen = bson_uint32_to_string((uint32_t)i, &key, keybuf, sizeof keybuf);
        bson_t child;
        if (!bson_append_document_begin(&array, key, (int)keylen, &child)) {
            rc = too_large(&c->base, err);
            break;
        }
        rc = tempo__trigger_append(c->children[i], &child, err);
        /* Close the child even on error: the parent stays well-formed and
         * the caller can destroy it. */
        if (!bson_append_document_end(&array, &child) && rc == TEMPO_OK)
            rc = too_large(&c->base, err);
    }
    if (!bson_append_array_end(doc, &array) && rc == TEMPO_OK)
        rc = too_large(&c->base, err);
    return rc;
}

static tempo_status_t combine_serialize(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err)
{
    const combine_trigger_t *c = (const combine_trigger_t *)t;
    if (c->count > UINT32_MAX)
        return too_large(t, err);
    if (!BSON_APPEND_INT64(doc, "threshold", c->threshold) ||
        !BSON_APPEND_INT32(doc, "max_iterations", c->max_iterations))
        return too_large(t, err);
    return append_children(c, doc, err);
}

/* ---- describe ---- */

static void describe_children(const combine_trigger_t *c, const char *head, const char *join,
                              tempo__text_t *text)
{
    tempo__text_printf(text, "%s", head);
    for (size_t i = 0; i < c->count; i++) {
        tempo__text_printf(text, "%s(", i ? join : "");
        tempo__text_trigger(text, c->children[i]);
        tempo__text_printf(text, ")");
    }
}

static int and_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    const combine_trigger_t *c = (const combine_trigger_t *)t;
    tempo__text_t text;
    tempo__text_init(&text, buf, size);
    describe_children(c, "when all of: ", " and ", &text);
    if (c->threshold) {
        tempo__text_printf(&text, " agree within ");
        tempo__text_duration(&text, c->threshold, true);
    } else {
        tempo__text_printf(&text, " coincide");
    }
    return tempo__text_result(&text);
}

static int or_describe(const tempo_trigger_t *t, char *buf, size_t size)
{
    tempo__text_t text;
    tempo__text_init(&text, buf, size);
    describe_children((const combine_trigger_t *)t, "at the earliest of: ", " or ", &text);
    return tempo__text_result(&text);
}

static void combine_destroy(tempo_trigger_t *t)
{
    combine_trigger_t *c = (combine_trigger_t *)t;
    for (size_t i = 0; i < c->count; i++)
        tempo_trigger_free(c->children[i]);
    free(c);
}

static const tempo__trigger_ops_t and_ops = {
    .name = "and",
    .version = 1,
    .next = and_next,
    .serialize = combine_serialize,
    .describe = and_describe,
    .destroy = combine_destroy,
};

static const tempo__trigger_ops_t or_ops = {
    .name = "or",
    .version = 1,
    .next = or_next,
    .serialize = combine_serialize,
    .describe = or_describe,
    .destroy = combine_destroy,
};

int tempo__trigger_depth(const tempo_trigger_t *t)
{
    if (t->ops == &and_ops || t->ops == &or_ops)
        return ((const combine_trigger_t *)t)->depth;
    return 1;
}

/* ---- construct ---- */

static tempo_status_t check_options(const char *name, const tempo_combine_options_t *o,
                                    tempo_error_t *err)
{
    if (o->threshold < 0)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: threshold must be >= 0 microseconds, got %lld",
                                name, (long long)o->threshold);
    /* Capped so that one next() stays bounded in time even for a stored
     * record written by someone else: at 10^6 rounds of two children a
     * next() that never agrees costs well under a second. */
    if (o->max_iterations < 1 || o->max_iterations > TEMPO_COMBINE_MAX_ITERATIONS)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: max_iterations must be 1..%d, got %d", name,
                                TEMPO_COMBINE_MAX_ITERATIONS, o->max_iterations);
    return TEMPO_OK;
}

static tempo_status_t check_children(const char *name, tempo_trigger_t *const *children, size_t count,
                                     int *depth, tempo_error_t *err)
{
    if (count == 0 || !children)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: needs at least one child trigger (got %s)",
                                name, count ? "children = NULL" : "count = 0");
    if (count > (SIZE_MAX - sizeof(combine_trigger_t)) / sizeof(tempo_trigger_t *))
        return tempo__error_set(err, TEMPO_EINVAL, "%s: %zu children is too many", name, count);
    int deepest = 0;
    for (size_t i = 0; i < count; i++) {
        if (!children[i])
            return tempo__error_set(err, TEMPO_EINVAL, "%s: child %zu is NULL", name, i);
        int d = tempo__trigger_depth(children[i]);
        deepest = d > deepest ? d : deepest;
    }
    if (deepest + 1 > TEMPO__TRIGGER_MAX_DEPTH)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: nesting %d levels deep exceeds the limit of %d",
                                name, deepest + 1, TEMPO__TRIGGER_MAX_DEPTH);
    *depth = deepest + 1;
    return TEMPO_OK;
}

static tempo_status_t combine_new(const tempo__trigger_ops_t *ops, tempo_trigger_t *const *children,
                                  size_t count, const tempo_combine_options_t *opts,
                                  tempo_trigger_t **out, tempo_error_t *err)
{
    if (!out)
        return tempo__error_set(err, TEMPO_EINVAL, "%s: out is NULL", ops->name);
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT; /* opts NULL: these defaults */
    if (!tempo__options_copy(&o, sizeof o, opts))
        return tempo__error_set(err, TEMPO_EINVAL,
                                "%s: options.size %zu is not a size this build knows (initialise the "
                                "options with TEMPO_COMBINE_OPTIONS_INIT)",
                                ops->name, opts->size);
    int depth = 0;
    tempo_status_t rc = check_options(ops->name, &o, err);
    if (rc == TEMPO_OK)
        rc = check_children(ops->name, children, count, &depth, err);
    if (rc != TEMPO_OK)
        return rc;
    combine_trigger_t *c = malloc(sizeof *c + count * sizeof c->children[0]);
    if (!c)
        return tempo__error_set(err, TEMPO_ENOMEM, "%s: out of memory", ops->name);
    tempo__trigger_init(&c->base, ops);
    c->threshold = o.threshold;
    c->max_iterations = o.max_iterations;
    c->depth = depth;
    c->count = count;
    for (size_t i = 0; i < count; i++)
        c->children[i] = tempo_trigger_ref(children[i]);
    *out = &c->base;
    return TEMPO_OK;
}

tempo_status_t tempo_trigger_and_new(tempo_trigger_t *const *children, size_t count,
                                     const tempo_combine_options_t *opts, tempo_trigger_t **out,
                                     tempo_error_t *err)
{
    return combine_new(&and_ops, children, count, opts, out, err);
}

tempo_status_t tempo_trigger_or_new(tempo_trigger_t *const *children, size_t count,
                                    const tempo_combine_options_t *opts, tempo_trigger_t **out,
                                    tempo_error_t *err)
{
    return combine_new(&or_ops, children, count, opts, out, err);
}

/* ---- load ---- */

/* Say which child failed, unless that would push the reason itself out of
 * the message (deep trees: the innermost context is the useful part). */
static void prefix_child_error(tempo_error_t *err, const char *type, size_t i)
{
    if (!err)
        return;
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "trigger '%s' triggers[%zu]", type, i);
    if (n > 0 && (size_t)n + 2 + strlen(err->message) < sizeof err->message)
        tempo__error_prefix(err, err->code, "%s", prefix);
}

static tempo_status_t count_children(const char *type, bson_iter_t it, size_t *count,
                                     tempo_error_t *err)
{
    size_t n = 0;
    while (bson_iter_next(&it)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&it))
            return tempo__error_set(err, TEMPO_EFORMAT,
                                    "trigger '%s': triggers[%zu] must be a document, found %s", type, n,
                                    tempo__bson_type_name(bson_iter_type(&it)));
        n++;
    }
    /* bson_iter_next() also stops at a corrupt element, and only the top
     * level of the document was checked before (bson_read.h): without this,
     * the children after the damage would be silently dropped. */
    if (it.err_off != 0)
        return tempo__error_set(err, TEMPO_EFORMAT,
                                "trigger '%s': field 'triggers' is a corrupt array (at byte %u of it)",
                                type, (unsigned)it.err_off);
    *count = n;
    return TEMPO_OK;
}

static void free_all(tempo_trigger_t **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tempo_trigger_free(list[i]);
    free(list);
}

/* Load every element of the array `it` at nesting level `level`. */
static tempo_status_t load_children(const char *type, bson_iter_t it, int level,
                                    tempo_trigger_t ***out, size_t *count, tempo_error_t *err)
{
    size_t n = 0;
    tempo_status_t rc = count_children(type, it, &n, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_trigger_t **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return tempo__error_set(err, TEMPO_ENOMEM, "trigger '%s': out of memory", type);
    for (size_t i = 0; i < n && bson_iter_next(&it); i++) {
        const uint8_t *data;
        uint32_t len;
        bson_t child;
        bson_iter_document(&it, &len, &data);
        if (!bson_init_static(&child, data, len))
            rc = tempo__error_set(err, TEMPO_EFORMAT, "trigger '%s': triggers[%zu] is corrupt", type, i);
        else
            rc = tempo__trigger_load(&child, level, &list[i], err);
        if (rc != TEMPO_OK) {
            prefix_child_error(err, type, i);
            free_all(list, i);
            return rc;
        }
    }
    *out = list;
    *count = n;
    return TEMPO_OK;
}

tempo_status_t tempo__combine_load_at(const bson_t *doc, int v, int level, tempo_trigger_t **out,
                                      tempo_error_t *err)
{
    (void)v; /* only version 1 exists */
    const char *type;
    tempo_combine_options_t o = TEMPO_COMBINE_OPTIONS_INIT;
    bson_iter_t elements;
    tempo_status_t rc = tempo__bson_read_utf8(doc, NULL, "type", true, &type, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_int64(doc, type, "threshold", &o.threshold, NULL, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_int(doc, type, "max_iterations", &o.max_iterations, err);
    if (rc == TEMPO_OK)
        rc = tempo__bson_read_array(doc, type, "triggers", &elements, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_trigger_t **children = NULL;
    size_t count = 0;
    rc = load_children(type, elements, level + 1, &children, &count, err);
    if (rc != TEMPO_OK)
        return rc;
    const tempo__trigger_ops_t *ops = strcmp(type, "and") == 0 ? &and_ops : &or_ops;
    rc = tempo__bson_stored_error(combine_new(ops, children, count, &o, out, err), err);
    free_all(children, count); /* the new trigger holds its own references */
    return rc;
}

tempo_status_t tempo__combine_load(const bson_t *doc, int v, tempo_trigger_t **out,
                                   tempo_error_t *err)
{
    return tempo__combine_load_at(doc, v, 1, out, err);
}
