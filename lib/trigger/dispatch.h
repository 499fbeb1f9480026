/* Private glue between the trigger dispatcher (trigger.c) and the types that
 * contain other triggers (combine.c) or are looked up by name (custom.c).
 *
 * Nesting is bounded: a trigger tree is at most TEMPO__TRIGGER_MAX_DEPTH
 * levels high (a leaf is 1 level, and(leaf) is 2). The constructors refuse
 * deeper trees and the loader refuses deeper documents, with the same limit,
 * so every trigger that can be built can be stored and loaded again, and
 * next()/describe()/to_bson() recurse at most that deep. */
#ifndef TEMPO_TRIGGER_DISPATCH_H
#define TEMPO_TRIGGER_DISPATCH_H

#include <stdbool.h>

#include "trigger_internal.h"

#define TEMPO__TRIGGER_MAX_DEPTH 32

/* The stored version written for (and the newest read for) custom types:
 * the type's own fields are the type's business, the envelope is ours. */
#define TEMPO__CUSTOM_VERSION 1

/* Load a document found at nesting level `level` (the top document is 1). */
tempo_status_t tempo__trigger_load(const bson_t *doc, int level, tempo_trigger_t **out,
                                   tempo_error_t *err);

/* Append "type", "v" and the type's fields of `t` to `doc` (already
 * initialised; possibly a child document being built). */
tempo_status_t tempo__trigger_append(const tempo_trigger_t *t, bson_t *doc, tempo_error_t *err);

/* custom.c: whether a custom type of that name is registered. */
bool tempo__custom_registered(const char *name);

/* combine.c: load an "and"/"or" document at nesting level `level`. */
tempo_status_t tempo__combine_load_at(const bson_t *doc, int v, int level, tempo_trigger_t **out,
                                      tempo_error_t *err);

/* combine.c: levels in the tree rooted at `t` (1 for every non-combining type). */
int tempo__trigger_depth(const tempo_trigger_t *t);

#endif
