/* Capturing one output stream of a child, up to a limit.
 *
 * The pipe must keep flowing whatever we keep: a child blocked on a full
 * pipe would never exit, and its timeout would be blamed on it. So bytes
 * past the limit are read and dropped, and so is what we cannot store for
 * lack of memory (marked truncated: the result says something is missing). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "process_internal.h"

/* One read's size: a default Linux pipe's capacity. */
#define CHUNK ((size_t)64 << 10)

void tempo__output_init(tempo__output_t *o, size_t limit)
{
    *o = (tempo__output_t){.limit = limit};
}

void tempo__output_free(tempo__output_t *o)
{
    free(o->data);
    o->data = NULL;
    o->len = o->cap = 0;
}

/* Room for `want` more bytes (the caller caps want at limit - len); false
 * when the buffer cannot grow. Doubling, so a stream costs O(len) copies. */
static bool reserve(tempo__output_t *o, size_t want)
{
    if (o->cap - o->len >= want)
        return true;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < want)
        cap *= 2;
    if (cap > o->limit)
        cap = o->limit;
    char *data = realloc(o->data, cap);
    if (!data)
        return false;
    o->data = data;
    o->cap = cap;
    return true;
}

int tempo__output_read(tempo__output_t *o, int fd, int max_reads)
{
    char scratch[16384];
    for (int i = 0; i < max_reads; i++) {
        size_t room = o->limit - o->len;
        if (room > CHUNK)
            room = CHUNK;
        char *dst = scratch;
        size_t size = sizeof scratch;
        if (room > 0 && reserve(o, room)) {
            dst = o->data + o->len;
            size = room;
        }
        ssize_t n = read(fd, dst, size);
        if (n > 0) {
            if (dst == scratch)
                o->truncated = true;
            else
                o->len += (size_t)n;
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return 1; /* EIO and the like: nothing more will come */
    }
    return 0;
}
