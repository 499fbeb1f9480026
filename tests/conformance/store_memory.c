/* The conformance suite run against the memory store. */
#include <stddef.h>
#include <tempo/store.h>

#include "store_cases.h"

static tempo_store_t *make(void *ctx)
{
    (void)ctx;
    tempo_store_t *store = NULL;
    return tempo_memory_store_new(&store, NULL) == TEMPO_OK ? store : NULL;
}

int main(void)
{
    tempo_store_factory_t factory = {
        .name = "store conformance: memory", .make = make, /* decodes nothing: no corrupt hook */
    };
    return tempo_store_conformance_run(&factory);
}
