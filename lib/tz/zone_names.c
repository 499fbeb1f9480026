/* Zone names: fixed offsets written ISO style, and what may reach the
 * zoneinfo directory.
 *
 * Fixed offsets use ISO 8601's sign: "+05:30" and "UTC+2" are EAST of UTC.
 * That is the opposite of POSIX TZ strings ("UTC-2" there means two hours
 * east), which is why tempo_zone_get never reads its argument as a POSIX TZ
 * string; only the TZ variable behind "local" is read that way. */
#include <string.h>

#include "zone_internal.h"

static int digits(const char *p)
{
    int n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    return n;
}

static int two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* ":MM" or ":MM:SS" after the hours (extended format). */
static bool extended(const char *p, int *m, int *s)
{
    if (*p == '\0')
        return true;
    if (p[0] != ':' || digits(p + 1) != 2)
        return false;
    *m = two(p + 1);
    p += 3;
    if (*p == '\0')
        return true;
    if (p[0] != ':' || digits(p + 1) != 2 || p[3] != '\0')
        return false;
    *s = two(p + 1);
    return true;
}

int tempo__zone_fixed_offset(const char *name, int32_t *offset, const char **why)
{
    const char *p = name;
    if (strncmp(p, "UTC", 3) == 0 && (p[3] == '+' || p[3] == '-'))
        p += 3;
    if (*p != '+' && *p != '-')
        return 0;
    int32_t sign = *p++ == '-' ? -1 : 1;
    int n = digits(p), h, m = 0, s = 0;
    bool ok;
    if (n == 1 || n == 2) { /* h, hh, hh:mm, hh:mm:ss */
        h = n == 1 ? p[0] - '0' : two(p);
        ok = extended(p + n, &m, &s);
    } else if ((n == 4 || n == 6) && p[n] == '\0') { /* hhmm, hhmmss */
        h = two(p);
        m = two(p + 2);
        s = n == 6 ? two(p + 4) : 0;
        ok = true;
    } else {
        ok = false;
    }
    if (!ok) {
        *why = "a fixed offset is [UTC]+hh[:mm[:ss]] or [UTC]+hhmm[ss] (or '-')";
        return -1;
    }
    if (h > 23 || m > 59 || s > 59) {
        *why = "offset out of range (hours 0-23, minutes and seconds 0-59)";
        return -1;
    }
    *offset = sign * (h * 3600 + m * 60 + s);
    return 1;
}

bool tempo__zone_name_ok(const char *name, const char **why)
{
    size_t len = strlen(name);
    if (len == 0) {
        *why = "the name is empty";
        return false;
    }
    if (len > TEMPO__TZ_NAME_MAX) {
        *why = "the name is longer than 255 bytes";
        return false;
    }
    if (name[0] == '/') {
        *why = "absolute paths are not zone names";
        return false;
    }
    for (const char *c = name; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *why = "control characters are not allowed";
            return false;
        }
    }
    for (const char *part = name;;) {
        size_t n = strcspn(part, "/");
        if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.')) {
            *why = "empty, '.' and '..' path components are not allowed (they could leave the "
                   "zoneinfo directory)";
            return false;
        }
        if (part[n] == '\0')
            return true;
        part += n + 1;
    }
}
