/* Placeholder until the MongoDB store lands. */
#include <tempo/mongo.h>

#include "util/error_internal.h"

tempo_status_t tempo_mongo_store_new(const char *uri, const tempo_mongo_options_t *options,
                                     tempo_store_t **out, tempo_error_t *err)
{
    (void)uri, (void)options, (void)out;
    return tempo__error_set(err, TEMPO_EUNSUPPORTED, "the MongoDB store is not built yet");
}
