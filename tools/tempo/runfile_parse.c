/* Schedule files: the walk over the lines (docs/run-file.md, "Lines").
 *
 *   blank, # comment            skipped
 *   [defaults]                  opens the defaults (once, before any schedule)
 *   NAME: TRIGGER COMMAND       at column 1: a schedule
 *   KEY = VALUE                 indented: a setting of the schedule above;
 *                               in [defaults], indented or not
 *
 * A schedule is "pending" from its line until the next schedule line or the
 * end of the file, since settings below it (its zone) change its trigger.
 * Its trigger is checked on its own line all the same (runfile_build.c), so
 * that mistakes are reported in the order of the file.
 *
 * The walk stops at the first mistake and frees everything it made: the
 * caller gets all schedules or none. */
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

typedef struct pending {
    bool active;
    int line;
    char *name, *command;
    tempo__rf_trigger_t trigger;
    tempo__rf_settings_t settings;
} pending_t;

typedef struct walk {
    tempo__rf_ctx_t *ctx;
    tempo__runfile_t *out;
    tempo__rf_index_t names;  /* name -> line; keys are the entries' names */
    tempo__rf_settings_t defaults;
    int defaults_line;        /* 0: no [defaults] */
    int first_schedule_line;  /* 0: none yet */
    bool in_defaults;         /* after [defaults], before the first schedule */
    pending_t pending;
} walk_t;

static char *copy(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

static void pending_clear(pending_t *p)
{
    free(p->name);
    free(p->command);
    tempo__rf_trigger_clear(&p->trigger);
    tempo__rf_settings_clear(&p->settings);
    *p = (pending_t){0};
}

/* The pending schedule becomes an entry: settings applied, trigger built
 * in its zone. Errors are reported at its line. */
static tempo_status_t finish(walk_t *w)
{
    pending_t *p = &w->pending;
    if (!p->active)
        return TEMPO_OK;
    int line = w->ctx->line;
    w->ctx->line = p->line;
    tempo__runfile_entry_t e = {.name = p->name, .command = p->command,
                                .trigger_text = p->trigger.text, .line = p->line};
    p->name = p->command = p->trigger.text = NULL;
    tempo_status_t rc = tempo__rf_settings_apply(w->ctx, &p->settings, &w->defaults, &e);
    if (rc == TEMPO_OK)
        rc = tempo__rf_trigger_build(w->ctx, &p->trigger, e.zone, e.dst_gap, &e.trigger);
    if (rc == TEMPO_OK)
        rc = tempo__rf_entry_keep_doc(w->ctx, &e);
    if (rc == TEMPO_OK)
        rc = tempo__rf_append(w->ctx, w->out, &e); /* frees e on failure */
    else
        tempo__rf_entry_free(&e);
    pending_clear(p);
    w->ctx->line = line;
    return rc;
}

static tempo_status_t section(walk_t *w, tempo__rf_cursor_t *c)
{
    tempo__rf_ctx_t *ctx = w->ctx;
    size_t col = tempo__rf_col(c);
    tempo__rf_word_t word;
    tempo__rf_next_word(c, &word);
    char q[TEMPO__RF_QUOTE_MAX];
    if (!tempo__rf_word_is(&word, "[defaults]"))
        return tempo__rf_fail(ctx, col, "unknown section '%s' (the only section is [defaults])",
                              tempo__rf_quote(word.p, word.len, q));
    tempo__rf_word_t extra;
    if (tempo__rf_next_word(c, &extra) && extra.p[0] != '#')
        return tempo__rf_fail(ctx, extra.col, "unexpected '%s' after [defaults]",
                              tempo__rf_quote(extra.p, extra.len, q));
    if (w->defaults_line)
        return tempo__rf_fail(ctx, col, "[defaults] is given twice (first on line %d)",
                              w->defaults_line);
    if (w->first_schedule_line)
        return tempo__rf_fail(ctx, col,
                              "[defaults] must come before the first schedule (line %d), so "
                              "that it applies to all",
                              w->first_schedule_line);
    w->defaults_line = ctx->line;
    w->in_defaults = true;
    return TEMPO_OK;
}

/* Bytes of a name at the cursor (possibly 0). */
static size_t name_length(const tempo__rf_cursor_t *c)
{
    size_t n = 0;
    while (c->pos + n < c->len && tempo__rf_name_char(c->text[c->pos + n]))
        n++;
    return n;
}

static bool followed_by(const tempo__rf_cursor_t *c, size_t n, char ch)
{
    tempo__rf_cursor_t rest = *c;
    rest.pos += n;
    if (ch == '=')
        tempo__rf_skip_blanks(&rest);
    return rest.pos < rest.len && rest.text[rest.pos] == ch;
}

static tempo_status_t indented(walk_t *w, tempo__rf_cursor_t *c)
{
    tempo__rf_ctx_t *ctx = w->ctx;
    size_t n = name_length(c);
    if (n > 0 && followed_by(c, n, ':'))
        return tempo__rf_fail(ctx, tempo__rf_col(c),
                              "a schedule line must start at column 1 (indented lines are settings "
                              "of the schedule above)");
    if (w->pending.active)
        return tempo__rf_setting_parse(ctx, c, &w->pending.settings, "for this schedule");
    if (w->in_defaults)
        return tempo__rf_setting_parse(ctx, c, &w->defaults, "in [defaults]");
    return tempo__rf_fail(ctx, tempo__rf_col(c),
                          "an indented line is a setting, but no schedule or [defaults] is "
                          "above it");
}

/* The text after the trigger, which must be there. */
static tempo_status_t command(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, char **out)
{
    if (tempo__rf_at_end(c))
        return tempo__rf_fail(ctx, tempo__rf_col(c), "missing command after the trigger");
    if (c->text[c->pos] == '#')
        return tempo__rf_fail(ctx, tempo__rf_col(c),
                              "missing command after the trigger (this is a comment)");
    size_t end = c->len;
    while (end > c->pos && (c->text[end - 1] == ' ' || c->text[end - 1] == '\t'))
        end--;
    *out = copy(c->text + c->pos, end - c->pos);
    return *out ? TEMPO_OK : tempo__rf_nomem(ctx);
}

static tempo_status_t check_name(walk_t *w, const char *name, size_t len)
{
    char q[TEMPO__RF_QUOTE_MAX];
    size_t first;
    if (len > TEMPO__RUNFILE_NAME_MAX)
        return tempo__rf_fail(w->ctx, 1, "the name '%s' is longer than %d characters",
                              tempo__rf_quote(name, len, q), TEMPO__RUNFILE_NAME_MAX);
    if (tempo__rf_index_get(&w->names, name, &first))
        return tempo__rf_fail(w->ctx, 1, "duplicate name '%s' (first on line %zu)", name, first);
    return TEMPO_OK;
}

/* NAME: TRIGGER COMMAND; `n` is the length of NAME. */
static tempo_status_t schedule(walk_t *w, tempo__rf_cursor_t *c, size_t n)
{
    tempo__rf_ctx_t *ctx = w->ctx;
    tempo_status_t rc = finish(w);
    if (rc != TEMPO_OK)
        return rc;
    w->in_defaults = false;
    if (!w->first_schedule_line)
        w->first_schedule_line = ctx->line;
    pending_t *p = &w->pending;
    p->line = ctx->line;
    p->name = copy(c->text, n);
    if (!p->name)
        return tempo__rf_nomem(ctx);
    rc = check_name(w, p->name, n);
    c->pos = n + 1;
    if (rc == TEMPO_OK)
        rc = tempo__rf_trigger_parse(ctx, c, &p->trigger);
    if (rc == TEMPO_OK) {
        tempo_trigger_t *check;
        rc = tempo__rf_trigger_build(ctx, &p->trigger, "UTC", TEMPO_DST_GAP_SHIFT, &check);
        tempo_trigger_free(check);
    }
    if (rc == TEMPO_OK)
        rc = command(ctx, c, &p->command);
    if (rc == TEMPO_OK && !tempo__rf_index_put(&w->names, p->name, (size_t)p->line))
        rc = tempo__rf_nomem(ctx);
    if (rc == TEMPO_OK)
        p->active = true;
    return rc;
}

/* An unindented line that is neither a section nor a comment. */
static tempo_status_t top_level(walk_t *w, tempo__rf_cursor_t *c)
{
    tempo__rf_ctx_t *ctx = w->ctx;
    size_t n = name_length(c);
    if (n > 0 && followed_by(c, n, ':'))
        return schedule(w, c, n);
    if (n > 0 && followed_by(c, n, '=')) {
        if (w->in_defaults)
            return tempo__rf_setting_parse(ctx, c, &w->defaults, "in [defaults]");
        return tempo__rf_fail(ctx, 1,
                              "a setting must be indented under its schedule (defaults go in "
                              "[defaults], before the first schedule)");
    }
    tempo__rf_word_t word;
    tempo__rf_peek_word(c, &word);
    if (memchr(word.p, ':', word.len))
        return tempo__rf_fail(ctx, 1 + n, "%s",
                              n ? "a name is made of A-Z a-z 0-9 _ . - only"
                                : "missing name before ':'");
    char q[TEMPO__RF_QUOTE_MAX];
    return tempo__rf_fail(ctx, 1,
                          "expected a schedule, NAME: TRIGGER COMMAND (every schedule needs a "
                          "name), found '%s'",
                          tempo__rf_quote(word.p, word.len, q));
}

static tempo_status_t one_line(walk_t *w, const char *text, size_t len)
{
    tempo_status_t rc = tempo__rf_check_bytes(w->ctx, text, len);
    if (rc != TEMPO_OK)
        return rc;
    tempo__rf_cursor_t c = {text, len, 0, 1};
    if (tempo__rf_at_end(&c) || text[c.pos] == '#')
        return TEMPO_OK;
    if (text[c.pos] == '[')
        return section(w, &c);
    if (c.pos > 0)
        return indented(w, &c);
    return top_level(w, &c);
}

static tempo_status_t walk_lines(walk_t *w, const char *text, size_t len)
{
    size_t pos = 0;
    for (int number = 1; pos < len; number++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t line_len = end - pos;
        /* CRLF: the \r belongs to the line ending. */
        if (line_len > 0 && text[end - 1] == '\r')
            line_len--;
        w->ctx->line = number;
        tempo_status_t rc = one_line(w, text + pos, line_len);
        if (rc != TEMPO_OK)
            return rc;
        pos = end + 1;
    }
    return finish(w);
}

tempo_status_t tempo__runfile_parse(const char *path, const char *text, size_t len,
                                    tempo__runfile_t *out, char *errbuf, size_t errlen)
{
    tempo__rf_ctx_t ctx = {path, 0, errbuf, errlen};
    *out = (tempo__runfile_t){0};
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (len > TEMPO__RUNFILE_SIZE_MAX)
        return tempo__rf_fail_file(&ctx, TEMPO_EPARSE, "the file is larger than %zu MiB",
                                   TEMPO__RUNFILE_SIZE_MAX >> 20);
    if (!text && len > 0)
        return tempo__rf_fail_file(&ctx, TEMPO_EINVAL, "no text to parse");
    /* A byte-order mark some editors write is not part of the first line. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3, len -= 3;
    walk_t w = {.ctx = &ctx, .out = out};
    tempo_status_t rc = walk_lines(&w, text, len);
    pending_clear(&w.pending);
    tempo__rf_settings_clear(&w.defaults);
    tempo__rf_index_free(&w.names);
    if (rc != TEMPO_OK)
        tempo__runfile_free(out);
    return rc;
}
