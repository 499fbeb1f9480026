/* Small builders for the filters and options the operations send. */
#include "mongo_internal.h"

void tempo__mg_q_cmp(bson_t *doc, const char *field, const char *op, int64_t value)
{
    bson_t c;
    BSON_APPEND_DOCUMENT_BEGIN(doc, field, &c);
    BSON_APPEND_INT64(&c, op, value);
    bson_append_document_end(doc, &c);
}

void tempo__mg_q_range(bson_t *doc, const char *field, int64_t above, int64_t at_most)
{
    bson_t c;
    BSON_APPEND_DOCUMENT_BEGIN(doc, field, &c);
    BSON_APPEND_INT64(&c, "$gt", above);
    BSON_APPEND_INT64(&c, "$lte", at_most);
    bson_append_document_end(doc, &c);
}

void tempo__mg_q_in(bson_t *doc, const char *field, char *const *values, size_t count)
{
    bson_t in, list;
    BSON_APPEND_DOCUMENT_BEGIN(doc, field, &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
    for (size_t i = 0; i < count; i++) {
        char key[16];
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
        BSON_APPEND_UTF8(&list, k, values[i]);
    }
    bson_append_array_end(&in, &list);
    bson_append_document_end(doc, &in);
}

void tempo__mg_q_opts(bson_t *opts, const char *const *sort_keys, size_t limit)
{
    bson_init(opts);
    if (sort_keys && sort_keys[0]) {
        bson_t sort;
        BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
        for (size_t i = 0; sort_keys[i]; i++)
            BSON_APPEND_INT32(&sort, sort_keys[i], 1);
        bson_append_document_end(opts, &sort);
    }
    if (limit > 0 && limit <= INT32_MAX)
        BSON_APPEND_INT64(opts, "limit", (int64_t)limit);
}
