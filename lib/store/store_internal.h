/* Helpers shared by the store implementations. */
#ifndef TEMPO_STORE_INTERNAL_H
#define TEMPO_STORE_INTERNAL_H

#include <tempo/store.h>

/* Wrap ops and state into a tempo_store_t (NULL on allocation failure). */
tempo_store_t *tempo__store_wrap(const tempo_store_ops_t *ops, void *self);

#endif
