/* The string-keyed hash table (hashmap.h). */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

void tempo__hmap_init(tempo__hmap_t *m, tempo__hmap_key_fn key)
{
    m->hashes = NULL;
    m->items = NULL;
    m->cap = 0;
    m->count = 0;
    m->key = key;
}

void tempo__hmap_destroy(tempo__hmap_t *m)
{
    free(m->hashes);
    free(m->items);
    tempo__hmap_init(m, m->key);
}

/* Eight bytes at a time (ids are mostly 36-character UUIDs, hashed several
 * times per fire: a byte-at-a-time hash was a tenth of dispatch), each word
 * multiplied in, then a 64-bit finaliser so that the low bits of sequential
 * ids ("job-000017", "job-000018") differ as much as the high ones. The top
 * half of the mixed value is the hash. */
uint32_t tempo__hmap_hash(const char *key)
{
    size_t n = strlen(key);
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    h = (h ^ tail) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    uint32_t out = (uint32_t)(h >> 32);
    return out ? out : 1;
}

static size_t find_slot(const tempo__hmap_t *m, const char *key, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (m->hashes[i] == 0)
            return SIZE_MAX;
        if (m->hashes[i] == h && strcmp(m->key(m->items[i]), key) == 0)
            return i;
    }
}

void *tempo__hmap_get_hashed(const tempo__hmap_t *m, const char *key, uint32_t hash)
{
    if (m->count == 0)
        return NULL;
    size_t i = find_slot(m, key, hash);
    return i == SIZE_MAX ? NULL : m->items[i];
}

void *tempo__hmap_get(const tempo__hmap_t *m, const char *key)
{
    return m->count == 0 ? NULL : tempo__hmap_get_hashed(m, key, tempo__hmap_hash(key));
}

/* Place without checking for the key (it is known to be absent). */
static void place(uint32_t *hashes, void **items, size_t cap, uint32_t h, void *item)
{
    size_t mask = cap - 1, i = h & mask;
    while (hashes[i] != 0)
        i = (i + 1) & mask;
    hashes[i] = h;
    items[i] = item;
}

bool tempo__hmap_reserve(tempo__hmap_t *m, size_t count)
{
    if (count <= m->cap - m->cap / 4 && m->cap != 0)
        return true;
    if (count > SIZE_MAX / 8 / sizeof(void *))
        return false;
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while (count > cap - cap / 4)
        cap *= 2;
    uint32_t *hashes = calloc(cap, sizeof *hashes);
    void **items = malloc(cap * sizeof *items);
    if (!hashes || !items) {
        free(hashes);
        free(items);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->hashes[i] != 0)
            place(hashes, items, cap, m->hashes[i], m->items[i]);
    free(m->hashes);
    free(m->items);
    m->hashes = hashes;
    m->items = items;
    m->cap = cap;
    return true;
}

void tempo__hmap_insert_hashed(tempo__hmap_t *m, void *item, uint32_t hash)
{
    place(m->hashes, m->items, m->cap, hash, item);
    m->count++;
}

void tempo__hmap_insert(tempo__hmap_t *m, void *item)
{
    tempo__hmap_insert_hashed(m, item, tempo__hmap_hash(m->key(item)));
}

/* Backward-shift deletion: after emptying slot `hole`, walk the run that
 * follows it and pull back every entry whose home slot is not between the
 * hole and its current slot (cyclically) — those entries could only have
 * been placed past the hole because the hole was full. Every entry thus stays
 * reachable from its home slot without crossing an empty slot. */
void *tempo__hmap_remove(tempo__hmap_t *m, const char *key)
{
    return m->count == 0 ? NULL : tempo__hmap_remove_hashed(m, key, tempo__hmap_hash(key));
}

void *tempo__hmap_remove_hashed(tempo__hmap_t *m, const char *key, uint32_t hash)
{
    if (m->count == 0)
        return NULL;
    size_t hole = find_slot(m, key, hash);
    if (hole == SIZE_MAX)
        return NULL;
    void *item = m->items[hole];
    size_t mask = m->cap - 1;
    for (size_t j = (hole + 1) & mask; m->hashes[j] != 0; j = (j + 1) & mask) {
        size_t home = m->hashes[j] & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->hashes[hole] = m->hashes[j];
            m->items[hole] = m->items[j];
            hole = j;
        }
    }
    m->hashes[hole] = 0;
    m->count--;
    return item;
}

void *tempo__hmap_next(const tempo__hmap_t *m, size_t *pos)
{
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->hashes[i] != 0) {
            *pos = i + 1;
            return m->items[i];
        }
    }
    *pos = m->cap;
    return NULL;
}
