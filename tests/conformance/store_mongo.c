/* The conformance suite run against the MongoDB store (on FerretDB in
 * ctest; any server with TEMPO_TEST_MONGODB_URI). Each case gets a database
 * of its own, dropped afterwards. */
#include <stdio.h>
#include <tempo/mongo.h>

#include "mongo_test.h"
#include "store_cases.h"

typedef struct ctx {
    const char *uri;
    char db[64];
} ctx_t;

static tempo_store_t *make(void *arg)
{
    ctx_t *ctx = arg;
    mt_db_name("conf", ctx->db, sizeof ctx->db);
    return mt_store(ctx->uri, ctx->db);
}

static void cleanup(void *arg)
{
    ctx_t *ctx = arg;
    mt_drop(ctx->uri, ctx->db);
}

static bool corrupt(void *arg, tempo_store_t *store, const char *kind, const char *id)
{
    (void)store;
    ctx_t *ctx = arg;
    return mt_corrupt(ctx->uri, ctx->db, kind, id);
}

static bool quarantined(void *arg, tempo_store_t *store, const char *kind, const char *id)
{
    (void)store;
    ctx_t *ctx = arg;
    return mt_quarantined(ctx->uri, ctx->db, kind, id);
}

int main(void)
{
    ctx_t ctx = {.uri = mt_uri()};
    tempo_store_factory_t factory = {
        .name = "store conformance: mongodb",
        .make = make,
        .cleanup = cleanup,
        .ctx = &ctx,
        .corrupt = corrupt,
        .quarantined = quarantined,
    };
    return tempo_store_conformance_run(&factory);
}
