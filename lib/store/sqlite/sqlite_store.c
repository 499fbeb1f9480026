/* Placeholder until the SQLite store lands. */
#include <tempo/sqlite.h>

#include "util/error_internal.h"

tempo_status_t tempo_sqlite_store_new(const char *path, const tempo_sqlite_options_t *options,
                                      tempo_store_t **out, tempo_error_t *err)
{
    (void)path, (void)options, (void)out;
    return tempo__error_set(err, TEMPO_EUNSUPPORTED, "the SQLite store is not built yet");
}

int tempo_sqlite_schema_version(void)
{
    return 0;
}
