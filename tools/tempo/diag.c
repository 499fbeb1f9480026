/* Error reporting and output checks for the `tempo` command.
 *
 * The contract with scripts (docs/cli.md): a failure prints exactly one line
 * on stderr, starting with "tempo: ". Messages often quote what the user typed
 * (an option name, a zone, an expression) and library messages are not ours,
 * so the line is sanitised here, in the one place every error goes through:
 * any control character (a newline in a quoted argument, say) becomes '?'. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Long enough for a library message (TEMPO_ERROR_MESSAGE_MAX) plus our
 * prefix; an absurdly long quoted argument is cut, still on one line. */
#define DIAG_LINE_MAX 1024

static void print_line(const char *fmt, va_list ap)
{
    char line[DIAG_LINE_MAX];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        snprintf(line, sizeof line, "(unprintable error message)");
    for (unsigned char *p = (unsigned char *)line; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    fprintf(stderr, "tempo: %s\n", line);
    fflush(stderr);
}

int tempo__cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_line(fmt, ap);
    va_end(ap);
    return TEMPO__CLI_USAGE;
}

int tempo__cli_failure(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_line(fmt, ap);
    va_end(ap);
    return TEMPO__CLI_FAILURE;
}

int tempo__cli_exit_code(tempo_status_t status)
{
    switch (status) {
    case TEMPO_OK:
        return TEMPO__CLI_OK;
    case TEMPO_ENOMEM:
    case TEMPO_EIO:
        return TEMPO__CLI_FAILURE;
    default:
        return TEMPO__CLI_USAGE;
    }
}

const char *tempo__cli_error_text(const tempo_error_t *err)
{
    return err->message[0] ? err->message : tempo_strerror(err->code);
}

int tempo__cli_finish_output(void)
{
    /* fflush() reports a failed write; ferror() one that failed earlier
     * inside a buffered printf, whose errno may be long gone by now. Either
     * way the output is incomplete. */
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return TEMPO__CLI_OK;
    if (errno == 0)
        return tempo__cli_failure("cannot write the output");
    return tempo__cli_failure("cannot write the output: %s", strerror(errno));
}

int tempo__cli_format_time(tempo_time_t t, const tempo_zone_t *zone, char *buf)
{
    if (tempo_time_format(t, zone, buf, TEMPO__CLI_TIME_MAX) < 0)
        return tempo__cli_failure("cannot format the instant %lld (microseconds since the epoch)",
                                  (long long)t);
    return TEMPO__CLI_OK;
}
