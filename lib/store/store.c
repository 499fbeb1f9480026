/* The store handle: an ops table and its private state (store_internal.h). */
#include <stdlib.h>

#include "store_internal.h"

tempo_store_t *tempo__store_wrap(const tempo_store_ops_t *ops, void *self)
{
    tempo_store_t *store = malloc(sizeof *store);
    if (store) {
        store->ops = ops;
        store->self = self;
    }
    return store;
}

void tempo_store_free(tempo_store_t *store)
{
    if (!store)
        return;
    store->ops->destroy(store->self);
    free(store);
}
