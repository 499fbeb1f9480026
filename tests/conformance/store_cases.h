/* The store conformance suite: the definition of a store (store.h).
 *
 * Every case is written once against tempo_store_ops_t and runs on a
 * virtual-time loop, so each store (memory now, SQLite and MongoDB later)
 * plugs in with a factory and a three-line runner:
 *
 *     static tempo_store_t *make(void *ctx) { ... a new, empty, unstarted store ... }
 *     int main(void) {
 *         tempo_store_factory_t f = {"sqlite", make, cleanup, ctx};
 *         return tempo_store_conformance_run(&f);
 *     }
 *
 * A case starts the store on a fresh virtual loop, talks to it only through
 * its ops table, and ends by stopping it (its callback must be the last one)
 * and freeing it. */
#ifndef TEMPO_TEST_STORE_CASES_H
#define TEMPO_TEST_STORE_CASES_H

#include <stdbool.h>
#include <tempo/store.h>

typedef struct tempo_store_factory {
    const char *name;
    /* A new, empty store, not started. NULL fails the case. */
    tempo_store_t *(*make)(void *ctx);
    /* Optional: after each case's store was freed (drop a database...). */
    void (*cleanup)(void *ctx);
    void *ctx;
    /* Optional, for the decode-failure cases (skipped, with the reason
     * printed, when NULL — the memory store decodes nothing): make the stored
     * record `id` of `kind` ("schedule", "job") undecodable by writing to the
     * backend directly, as a newer version or a damaged file would; true
     * when done. */
    bool (*corrupt)(void *ctx, tempo_store_t *store, const char *kind, const char *id);
    /* With corrupt: true when the record `id` of `kind` is still kept in the
     * backend, set aside (quarantined), not deleted. */
    bool (*quarantined)(void *ctx, tempo_store_t *store, const char *kind, const char *id);
} tempo_store_factory_t;

/* Run every case; returns the number of failed cases (0 = conformant). */
int tempo_store_conformance_run(const tempo_store_factory_t *factory);

#endif
