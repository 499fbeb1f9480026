/* Reading a TZif file into a zone. The file is read whole (they are a few kB)
 * and its bytes are checked by tzif.c before anything uses them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_internal.h"
#include "zone_internal.h"

/* Real TZif files are under 10 kB; anything past this is not one, and the
 * cap bounds what a hostile file can make us allocate. */
#define TZIF_MAX_SIZE (1024 * 1024)

static tempo_status_t read_all(int fd, unsigned char *buf, size_t size, const char *name,
                               const char *path, tempo_error_t *err)
{
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return tempo__error_set(err, TEMPO_EIO, "time zone '%s': cannot read %s: %s", name, path,
                                    strerror(errno));
        if (r == 0)
            return tempo__error_set(err, TEMPO_EIO, "time zone '%s': %s shrank while being read",
                                    name, path);
        got += (size_t)r;
    }
    return TEMPO_OK;
}

/* Open and slurp; ENOTFOUND (err untouched) when there is no regular file. */
static tempo_status_t slurp(const char *path, const char *name, unsigned char **data, size_t *size,
                            tempo_error_t *err)
{
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever;
     * regular files (the only kind read below) ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
            return TEMPO_ENOTFOUND;
        return tempo__error_set(err, TEMPO_EIO, "time zone '%s': cannot open %s: %s", name, path,
                                strerror(errno));
    }
    struct stat st;
    tempo_status_t rc = TEMPO_OK;
    if (fstat(fd, &st) != 0)
        rc = tempo__error_set(err, TEMPO_EIO, "time zone '%s': cannot stat %s: %s", name, path,
                              strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = TEMPO_ENOTFOUND; /* "Europe" is a directory, not a zone */
    else if (st.st_size > TZIF_MAX_SIZE)
        rc = tempo__error_set(err, TEMPO_EFORMAT,
                              "time zone '%s': %s is not a TZif file (%lld bytes; the limit is %d)",
                              name, path, (long long)st.st_size, TZIF_MAX_SIZE);
    unsigned char *buf = NULL;
    if (rc == TEMPO_OK) {
        *size = (size_t)st.st_size;
        buf = malloc(*size ? *size : 1);
        rc = buf ? read_all(fd, buf, *size, name, path, err)
                 : tempo__error_set(err, TEMPO_ENOMEM, "time zone '%s': out of memory", name);
    }
    close(fd);
    if (rc != TEMPO_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    return TEMPO_OK;
}

/* A footer for a message: printable ASCII only, shortened. */
static void printable(const char *s, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size; i++)
        out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (n < len && n + 3 < size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static tempo_status_t from_bytes(const unsigned char *data, size_t size, const char *path,
                                 const char *name, tempo_zone_t **out, tempo_error_t *err)
{
    char why[160];
    tempo__tzif_t f;
    tempo_status_t rc = tempo__tzif_parse(data, size, &f, why, sizeof why);
    if (rc != TEMPO_OK)
        return tempo__error_set(err, rc, "time zone '%s': %s is not a valid TZif file: %s", name,
                                path, why);
    tempo__tz_rule_t rule;
    tempo__zone_source_t src = {.tzif = &f};
    if (f.footer_len > 0) {
        size_t column;
        const char *reason;
        if (!tempo__tz_rule_parse(f.footer, f.footer_len, &rule, &column, &reason)) {
            char text[48];
            printable(f.footer, f.footer_len, text, sizeof text);
            return tempo__error_set(err, TEMPO_EFORMAT,
                                    "time zone '%s': %s: footer TZ string '%s' column %zu: %s",
                                    name, path, text, column, reason);
        }
        src.rule = &rule;
    }
    rc = tempo__zone_build(name, &src, out, why, sizeof why);
    if (rc == TEMPO_ENOMEM)
        return tempo__error_set(err, rc, "time zone '%s': out of memory", name);
    if (rc != TEMPO_OK)
        return tempo__error_set(err, rc, "time zone '%s': %s: footer TZ rule: %s", name, path, why);
    return TEMPO_OK;
}

tempo_status_t tempo__zone_load_file(const char *path, const char *name, tempo_zone_t **out,
                                     tempo_error_t *err)
{
    unsigned char *data = NULL;
    size_t size = 0;
    tempo_status_t rc = slurp(path, name, &data, &size, err);
    if (rc != TEMPO_OK)
        return rc;
    rc = from_bytes(data, size, path, name, out, err);
    free(data);
    return rc;
}
