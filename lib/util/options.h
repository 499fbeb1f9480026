/* Versioned option structs (DESIGN.md §10): every options struct starts with
 * `size_t size`. A caller built against an older header passes a smaller size;
 * the fields it does not know keep their defaults. A size larger than this
 * build knows means a newer header than the library: refused, because its
 * extra fields would be silently ignored. */
#ifndef TEMPO_UTIL_OPTIONS_H
#define TEMPO_UTIL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Copy `src` (may be NULL: keep defaults) over `dst`, which holds the defaults.
 * Returns false when src->size is impossible (too small to hold the size
 * field, or bigger than dst). */
static inline bool tempo__options_copy(void *dst, size_t dst_size, const void *src)
{
    if (!src)
        return true;
    size_t src_size;
    memcpy(&src_size, src, sizeof src_size);
    if (src_size < sizeof(size_t) || src_size > dst_size)
        return false;
    memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
           src_size - sizeof(size_t));
    return true;
}

#endif
