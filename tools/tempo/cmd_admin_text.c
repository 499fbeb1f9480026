/* What the administration commands print for people (admin.h): aligned
 * tables, and times, durations, outcomes and triggers in short words.
 *
 * Cells may hold text from the store (commands, output, error messages),
 * which must not break the table or the terminal: control characters
 * become '?', and columns are measured in characters, not bytes, so names
 * and output in any language line up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

/* ---- tables ---- */

void tempo__table_init(tempo__table_t *t, int cols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
}

static char *clean_copy(const char *s)
{
    char *c = strdup(s ? s : "");
    for (unsigned char *p = (unsigned char *)c; c && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    return c;
}

void tempo__table_row(tempo__table_t *t, const char *const *cells)
{
    if (t->failed)
        return;
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * (size_t)t->cols * sizeof *grown);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->rows * (size_t)t->cols;
    for (int c = 0; c < t->cols; c++) {
        if (!(row[c] = clean_copy(cells[c]))) {
            while (c-- > 0)
                free(row[c]);
            t->failed = true;
            return;
        }
    }
    t->rows++;
}

/* Characters of UTF-8 text: every byte but continuation bytes. */
static size_t width(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

int tempo__table_print(tempo__table_t *t, const char *indent)
{
    if (t->failed)
        return tempo__cli_failure("out of memory");
    size_t w[16] = {0};
    int cols = t->cols < 16 ? t->cols : 16;
    for (size_t r = 0; r < t->rows; r++)
        for (int c = 0; c < cols; c++) {
            size_t n = width(t->cells[r * (size_t)t->cols + c]);
            w[c] = n > w[c] ? n : w[c];
        }
    for (size_t r = 0; r < t->rows; r++) {
        fputs(indent, stdout);
        for (int c = 0; c < cols; c++) {
            const char *cell = t->cells[r * (size_t)t->cols + c];
            fputs(cell, stdout);
            if (c + 1 < cols)
                printf("%*s", (int)(w[c] - width(cell) + 2), "");
        }
        fputc('\n', stdout);
    }
    return tempo__cli_finish_output();
}

void tempo__table_free(tempo__table_t *t)
{
    for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* ---- values ---- */

const char *tempo__admin_time(const tempo__admin_t *a, tempo_time_t t, char *buf)
{
    if (t == TEMPO_TIME_NONE)
        return "-";
    /* Whole seconds (rounded down, also before 1970): a table has no room
     * for microseconds, and the log of tempo run shows seconds too. */
    tempo_time_t s = t / TEMPO_USEC_PER_SEC * TEMPO_USEC_PER_SEC;
    if (s > t)
        s -= TEMPO_USEC_PER_SEC;
    if (tempo_time_format(s, a->zone, buf, TEMPO__ADMIN_TEXT_MAX) < 0)
        snprintf(buf, TEMPO__ADMIN_TEXT_MAX, "%lld us", (long long)t);
    return buf;
}

const char *tempo__admin_duration(tempo_duration_t d, const char *none, char *buf)
{
    if (d == TEMPO_DURATION_NONE)
        return none;
    if (d == 0)
        return "0";
    if (d < 0 || d % TEMPO_USEC_PER_SEC != 0) {
        snprintf(buf, TEMPO__ADMIN_TEXT_MAX, "%.3fs", (double)d / (double)TEMPO_USEC_PER_SEC);
        return buf;
    }
    static const struct {
        int64_t seconds;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    int64_t s = d / TEMPO_USEC_PER_SEC;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (s >= units[i].seconds) {
            used += (size_t)snprintf(buf + used, TEMPO__ADMIN_TEXT_MAX - used, "%lld%c",
                                     (long long)(s / units[i].seconds), units[i].unit);
            s %= units[i].seconds;
        }
    }
    return buf;
}

const char *tempo__admin_took(const tempo__admin_result_t *r, char *buf)
{
    if (r->started_at == TEMPO_TIME_NONE || r->finished_at < r->started_at)
        return "-";
    snprintf(buf, TEMPO__ADMIN_TEXT_MAX, "%.2f s", (double)(r->finished_at - r->started_at) / 1e6);
    return buf;
}

const char *tempo__admin_outcome_word(tempo_outcome_t outcome)
{
    switch (outcome) {
    case TEMPO_OUTCOME_SUCCESS: return "ok";
    case TEMPO_OUTCOME_ERROR: return "failed";
    case TEMPO_OUTCOME_MISSED_START_DEADLINE: return "missed";
    case TEMPO_OUTCOME_CANCELLED: return "cancelled";
    case TEMPO_OUTCOME_ABANDONED: return "abandoned";
    case TEMPO_OUTCOME_DESERIALIZATION_FAILED: return "unreadable";
    }
    return "?";
}

const char *tempo__admin_coalesce_word(tempo_coalesce_t coalesce)
{
    switch (coalesce) {
    case TEMPO_COALESCE_LATEST: return "latest";
    case TEMPO_COALESCE_EARLIEST: return "earliest";
    case TEMPO_COALESCE_ALL: return "all";
    }
    return "?";
}

const char *tempo__admin_trigger_text(const tempo__admin_schedule_t *s, char *buf)
{
    const char *written = tempo__admin_meta(s, "trigger");
    if (written)
        return written;
    if (!s->trigger)
        return "?";
    int n = tempo_trigger_cron_normalized(s->trigger, buf, TEMPO__ADMIN_TEXT_MAX);
    if (n < 0)
        n = tempo_trigger_describe(s->trigger, buf, TEMPO__ADMIN_TEXT_MAX);
    return n >= 0 ? buf : tempo_trigger_type_name(s->trigger);
}

/* The first non-blank line of `text`, at most 100 bytes (cut at a
 * character's start, marked "..."). */
static const char *first_line(const char *text, char *buf)
{
    while (*text == '\n' || *text == '\r' || *text == ' ' || *text == '\t')
        text++;
    size_t len = strcspn(text, "\r\n");
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len > 100) {
        len = 100;
        while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
            len--;
        snprintf(buf, TEMPO__ADMIN_TEXT_MAX, "%.*s...", (int)len, text);
    } else {
        snprintf(buf, TEMPO__ADMIN_TEXT_MAX, "%.*s", (int)len, text);
    }
    return buf;
}

static const char *output_of(const bson_t *value, const char *key)
{
    bson_iter_t it;
    if (value && bson_iter_init_find(&it, value, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

const char *tempo__admin_result_line(const tempo__admin_result_t *r, char *buf)
{
    if (r->error && r->error[0])
        return first_line(r->error, buf);
    const char *keys[] = {"stdout", "stderr"};
    for (size_t i = 0; i < 2; i++) {
        const char *out = output_of(r->return_value, keys[i]);
        if (out && first_line(out, buf)[0])
            return buf;
    }
    buf[0] = '\0';
    return buf;
}
