#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/util/civil.h"

_Noreturn void tempo_test_skip(const char *reason)
{
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        fprintf(stderr, "FAIL (would skip, but CI=true): %s\n", reason);
        exit(1);
    }
    fprintf(stderr, "SKIP: %s\n", reason);
    exit(77);
}

tempo_time_t tempo_test_utc(const char *iso)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) < 3) {
        fprintf(stderr, "tempo_test_utc: bad time '%s'\n", iso);
        abort();
    }
    int64_t days = tempo__days_from_civil(y, mo, d);
    return ((days * 86400) + h * 3600 + mi * 60 + s) * TEMPO_USEC_PER_SEC;
}

static const char *join(const char *var, const char *rel, char *buf, size_t size)
{
    const char *base = getenv(var);
    snprintf(buf, size, "%s/%s", base ? base : ".", rel);
    return buf;
}

const char *tempo_test_source_path(const char *relative, char *buf, size_t size)
{
    return join("TEMPO_SOURCE_DIR", relative, buf, size);
}

const char *tempo_test_binary_path(const char *relative, char *buf, size_t size)
{
    return join("TEMPO_BINARY_DIR", relative, buf, size);
}
