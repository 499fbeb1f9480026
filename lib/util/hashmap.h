/* A hash table of items that carry their own string key.
 *
 * Written here because libtempo depends on nothing but libbson. The table
 * stores pointers to the caller's items, never copies; the key is read from
 * an item through `key`, so an item costs one pointer and one 32-bit hash in
 * the table and its key is stored once, in the item.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones: a table that sees millions of removals keeps short probes).
 * Capacity is a power of two and the load stays at or under 3/4. The hash of
 * each slot is kept beside it (0 marks an empty slot), so a probe compares
 * strings only when the full 32-bit hashes agree, and growing never reads
 * the items.
 *
 * Allocation happens only in tempo__hmap_reserve(); tempo__hmap_insert()
 * then cannot fail. That lets a caller reserve first and change several
 * structures afterwards without a failure half way (a failed call changes
 * nothing). The table never shrinks. Not thread-safe. */
#ifndef TEMPO_UTIL_HASHMAP_H
#define TEMPO_UTIL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*tempo__hmap_key_fn)(const void *item);

typedef struct tempo__hmap {
    uint32_t *hashes; /* 0 = empty slot */
    void **items;
    size_t cap;       /* 0 or a power of two */
    size_t count;
    tempo__hmap_key_fn key;
} tempo__hmap_t;

void tempo__hmap_init(tempo__hmap_t *m, tempo__hmap_key_fn key);
/* Free the table (not the items). The map is empty and usable afterwards. */
void tempo__hmap_destroy(tempo__hmap_t *m);

/* The hash of a key as the table uses it; never 0. */
uint32_t tempo__hmap_hash(const char *key);

void *tempo__hmap_get(const tempo__hmap_t *m, const char *key);
/* The same with the key's hash (tempo__hmap_hash) known: a caller that
 * looks a key up and then inserts or removes it hashes it once. */
void *tempo__hmap_get_hashed(const tempo__hmap_t *m, const char *key, uint32_t hash);
void tempo__hmap_insert_hashed(tempo__hmap_t *m, void *item, uint32_t hash);
void *tempo__hmap_remove_hashed(tempo__hmap_t *m, const char *key, uint32_t hash);

/* Make room for `count` items in all (not `count` more). False when out of
 * memory or `count` is beyond what a table can index; the map is unchanged. */
bool tempo__hmap_reserve(tempo__hmap_t *m, size_t count);

/* Insert an item whose key is not in the map. The caller has reserved room
 * for count + 1 items. */
void tempo__hmap_insert(tempo__hmap_t *m, void *item);

/* Remove and return the item with this key, or NULL. */
void *tempo__hmap_remove(tempo__hmap_t *m, const char *key);

/* Iterate: `*pos` starts at 0; returns the next item or NULL at the end. The
 * map must not change during an iteration. */
void *tempo__hmap_next(const tempo__hmap_t *m, size_t *pos);

#endif
