/* Helpers shared by the test programs. Include after <cmocka.h>'s prerequisites. */
#ifndef TEMPO_TEST_SUPPORT_H
#define TEMPO_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <tempo/clock.h>

/* Report a skip with its reason and exit with the skip code (77). Under CI
 * (CI=true in the environment) a skip is a failure: exit 1 instead. */
_Noreturn void tempo_test_skip(const char *reason);

/* Instant from a UTC ISO text "2016-03-13T06:59:59Z"; aborts the test on a typo. */
tempo_time_t tempo_test_utc(const char *iso);

/* A file under the source tree (TEMPO_SOURCE_DIR) or build tree (TEMPO_BINARY_DIR). */
const char *tempo_test_source_path(const char *relative, char *buf, size_t size);
const char *tempo_test_binary_path(const char *relative, char *buf, size_t size);

#endif
