/* Schedule files: where the trigger of "NAME: TRIGGER COMMAND" ends.
 *
 * The first word decides, so that no command is ever read as part of a
 * trigger (docs/run-file.md, "Where the trigger ends"):
 *
 *   " or '          up to the closing quote; inside, any form
 *   @word           a cron macro, one word
 *   every, at, ...  a phrase, whose grammar fixes its length (runfile_phrase.c)
 *   anything else   exactly 5 crontab fields
 *
 * Five fields is what every crontab line has. The danger is a 6- or 7-field
 * expression written without quotes: its first 5 fields would make a valid
 * trigger and the rest would run as the command. So a command whose first
 * word could be a cron field is refused, with the quoting it needs. */
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

static char *copy(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

void tempo__rf_trigger_clear(tempo__rf_trigger_t *t)
{
    free(t->text);
    free(t->expr);
    *t = (tempo__rf_trigger_t){0};
}

/* The text from `start` (a word's first byte) to the cursor, for messages. */
static tempo_status_t keep_text(tempo__rf_ctx_t *ctx, const tempo__rf_cursor_t *c,
                                const char *start, tempo__rf_trigger_t *out)
{
    size_t len = (size_t)(c->text + c->pos - start);
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    out->text = copy(start, len);
    return out->text ? TEMPO_OK : tempo__rf_nomem(ctx);
}

/* The whole text, handed to the cron parser as it is, which counts the
 * fields itself: used for macros and for quoted expressions. */
static tempo_status_t whole_cron(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                 const tempo__rf_word_t *first, tempo__rf_trigger_t *out)
{
    tempo__rf_word_t w = *first;
    size_t end = (size_t)(first->p + first->len - c->text);
    while (tempo__rf_next_word(c, &w))
        end = c->pos;
    bool named = first->p[0] != '@' && memchr(first->p, '=', first->len);
    out->kind = named ? TEMPO__RF_FIELDS : TEMPO__RF_CRON;
    out->expr = copy(first->p, (size_t)(c->text + end - first->p));
    out->expr_col = first->col;
    return out->expr ? TEMPO_OK : tempo__rf_nomem(ctx);
}

static tempo_status_t sixth_field(tempo__rf_ctx_t *ctx, const tempo__rf_cursor_t *c,
                                  const tempo__rf_word_t *first, const tempo__rf_word_t *sixth)
{
    /* Suggest the quoted expression: with the seventh field too, if any. */
    tempo__rf_cursor_t rest = *c;
    tempo__rf_word_t w;
    tempo__rf_next_word(&rest, &w);
    const char *end = sixth->p + sixth->len;
    if (tempo__rf_next_word(&rest, &w) && tempo__rf_cron_field_like(w.p, w.len))
        end = w.p + w.len;
    char q[TEMPO__RF_QUOTE_MAX], e[TEMPO__RF_QUOTE_MAX];
    return tempo__rf_fail(ctx, sixth->col,
                          "'%s' looks like a sixth cron field; a 6- or 7-field expression must be "
                          "quoted: \"%s\"",
                          tempo__rf_quote(sixth->p, sixth->len, q),
                          tempo__rf_quote(first->p, (size_t)(end - first->p), e));
}

static tempo_status_t five_fields(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                  const tempo__rf_word_t *first, tempo__rf_trigger_t *out)
{
    tempo__rf_word_t w = *first;
    for (int n = 1; n < 5; n++) {
        if (!tempo__rf_next_word(c, &w))
            return tempo__rf_fail(ctx, tempo__rf_col(c),
                                  "a crontab expression has 5 fields, found %d (then comes the "
                                  "command; 6 or 7 fields must be quoted)",
                                  n);
    }
    tempo__rf_word_t next;
    if (tempo__rf_peek_word(c, &next) && tempo__rf_cron_field_like(next.p, next.len))
        return sixth_field(ctx, c, first, &next);
    out->kind = TEMPO__RF_CRON;
    out->expr = copy(first->p, (size_t)(w.p + w.len - first->p));
    out->expr_col = first->col;
    return out->expr ? TEMPO_OK : tempo__rf_nomem(ctx);
}

/* After the word `first`, unquoted. */
static tempo_status_t unquoted(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                               const tempo__rf_word_t *first, tempo__rf_trigger_t *out)
{
    if (first->p[0] == '@') {
        /* The macro is one word; the cron parser knows the names. */
        tempo__rf_cursor_t one = {first->p, first->len, 0, first->col};
        tempo__rf_word_t w;
        tempo__rf_next_word(&one, &w);
        return whole_cron(ctx, &one, &w, out);
    }
    if (tempo__rf_phrase_keyword(first))
        return tempo__rf_phrase_parse(ctx, c, first, out);
    /* Unquoted, "hour=9 LANG=C make" could not be split: which words are
     * fields and which the command's environment? */
    if (memchr(first->p, '=', first->len))
        return tempo__rf_fail(ctx, first->col,
                              "the named-field form must be quoted (\"hour=9 minute=30\"), so that "
                              "it ends before the command");
    return five_fields(ctx, c, first, out);
}

static tempo_status_t quoted(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_trigger_t *out)
{
    size_t open = c->pos, open_col = tempo__rf_col(c);
    char q = c->text[open];
    const char *close = memchr(c->text + open + 1, q, c->len - open - 1);
    if (!close)
        return tempo__rf_fail(ctx, open_col, "the quote %c opened here is not closed", q);
    size_t close_pos = (size_t)(close - c->text);
    tempo__rf_cursor_t in = {c->text + open + 1, close_pos - open - 1, 0, open_col + 1};
    tempo__rf_word_t first;
    if (!tempo__rf_next_word(&in, &first))
        return tempo__rf_fail(ctx, open_col, "the quotes hold no trigger");
    tempo_status_t rc;
    if (first.p[0] != '@' && tempo__rf_phrase_keyword(&first)) {
        rc = tempo__rf_phrase_parse(ctx, &in, &first, out);
        tempo__rf_word_t extra;
        if (rc == TEMPO_OK && tempo__rf_next_word(&in, &extra)) {
            char x[TEMPO__RF_QUOTE_MAX];
            rc = tempo__rf_fail(ctx, extra.col, "unexpected '%s' at the end of the trigger",
                                tempo__rf_quote(extra.p, extra.len, x));
        }
    } else {
        rc = whole_cron(ctx, &in, &first, out);
    }
    if (rc == TEMPO_OK)
        rc = keep_text(ctx, &in, first.p, out);
    c->pos = close_pos + 1;
    if (rc == TEMPO_OK && c->pos < c->len && c->text[c->pos] != ' ' && c->text[c->pos] != '\t')
        rc = tempo__rf_fail(ctx, tempo__rf_col(c), "expected a blank after the closing quote");
    return rc;
}

tempo_status_t tempo__rf_trigger_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                       tempo__rf_trigger_t *out)
{
    *out = (tempo__rf_trigger_t){0};
    if (tempo__rf_at_end(c))
        return tempo__rf_fail(ctx, tempo__rf_col(c), "missing trigger and command after the name");
    out->col = tempo__rf_col(c);
    tempo_status_t rc;
    char ch = c->text[c->pos];
    if (ch == '"' || ch == '\'') {
        rc = quoted(ctx, c, out);
    } else {
        tempo__rf_word_t first;
        tempo__rf_next_word(c, &first);
        rc = unquoted(ctx, c, &first, out);
        if (rc == TEMPO_OK)
            rc = keep_text(ctx, c, first.p, out);
    }
    if (rc != TEMPO_OK)
        tempo__rf_trigger_clear(out);
    return rc;
}
