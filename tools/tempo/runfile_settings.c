/* Schedule files: "KEY = VALUE" lines, and how a schedule's settings, the
 * [defaults] and the built-in defaults combine.
 *
 * A value is one word, checked on its line (a zone is looked up there), so
 * every mistake in a setting is reported where it was written. */
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

static const char *const key_names[TEMPO__RF_N_KEYS] = {
    "zone", "dst_gap", "coalesce", "misfire_grace", "jitter", "max_running", "timeout", "retries",
};

void tempo__rf_settings_clear(tempo__rf_settings_t *s)
{
    free(s->zone);
    *s = (tempo__rf_settings_t){0};
}

/* One of `names` (any case): its index, or -1. */
static int choice(const tempo__rf_word_t *w, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        if (tempo__rf_word_is(w, names[i]))
            return i;
    }
    return -1;
}

static tempo_status_t set_zone(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w,
                               tempo__rf_settings_t *s)
{
    char *name = malloc(w->len + 1);
    if (!name)
        return tempo__rf_nomem(ctx);
    memcpy(name, w->p, w->len);
    name[w->len] = '\0';
    const tempo_zone_t *zone;
    tempo_error_t err = {0};
    tempo_status_t st = tempo_zone_get(name, &zone, &err);
    if (st != TEMPO_OK) {
        free(name);
        /* The library's message names the zone and where it looked. */
        return tempo__rf_fail_lib(ctx, w->col, st, &err); /* ENOMEM too */
    }
    s->zone = name;
    return TEMPO_OK;
}

/* A duration, or "unlimited" (stored as TEMPO_DURATION_NONE) when allowed. */
static tempo_status_t set_duration(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w,
                                   bool unlimited_ok, bool zero_ok, tempo_duration_t *out)
{
    if (unlimited_ok && tempo__rf_word_is(w, "unlimited")) {
        *out = TEMPO_DURATION_NONE;
        return TEMPO_OK;
    }
    tempo_status_t rc = tempo__rf_read_duration(ctx, w, out);
    if (rc == TEMPO_OK && !zero_ok && *out == 0)
        return tempo__rf_fail(ctx, w->col, "must be more than 0 (or unlimited)");
    return rc;
}

static tempo_status_t set_count(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w, long min, long max,
                                int *out)
{
    long v;
    char q[TEMPO__RF_QUOTE_MAX];
    if (!tempo__rf_count(w->p, w->len, max, &v) || v < min)
        return tempo__rf_fail(ctx, w->col, "'%s' is not a count (%ld-%ld)",
                              tempo__rf_quote(w->p, w->len, q), min, max);
    *out = (int)v;
    return TEMPO_OK;
}

static tempo_status_t set_max_running(tempo__rf_ctx_t *ctx, const tempo__rf_word_t *w,
                                      tempo__rf_settings_t *s)
{
    if (tempo__rf_word_is(w, "unlimited")) {
        s->max_running = 0;
        return TEMPO_OK;
    }
    /* 0 is the library's "unlimited", but in a file it reads as "never". */
    if (w->len == 1 && w->p[0] == '0')
        return tempo__rf_fail(ctx, w->col, "max_running must be at least 1 (for no limit, write "
                                           "unlimited)");
    return set_count(ctx, w, 1, TEMPO__RUNFILE_MAX_RUNNING_MAX, &s->max_running);
}

static tempo_status_t set_value(tempo__rf_ctx_t *ctx, tempo__rf_key_t key,
                                const tempo__rf_word_t *w, tempo__rf_settings_t *s)
{
    static const char *const gaps[] = {"shift", "skip"};
    static const char *const policies[] = {"latest", "earliest", "all"};
    char q[TEMPO__RF_QUOTE_MAX];
    int i;
    switch (key) {
    case TEMPO__RF_ZONE:
        return set_zone(ctx, w, s);
    case TEMPO__RF_DST_GAP:
        if ((i = choice(w, gaps, 2)) < 0)
            return tempo__rf_fail(ctx, w->col, "'%s' is not a dst_gap policy (shift or skip)",
                                  tempo__rf_quote(w->p, w->len, q));
        s->dst_gap = i ? TEMPO_DST_GAP_SKIP : TEMPO_DST_GAP_SHIFT;
        return TEMPO_OK;
    case TEMPO__RF_COALESCE:
        if ((i = choice(w, policies, 3)) < 0)
            return tempo__rf_fail(ctx, w->col,
                                  "'%s' is not a coalesce policy (latest, earliest or all)",
                                  tempo__rf_quote(w->p, w->len, q));
        s->coalesce = i == 0 ? TEMPO_COALESCE_LATEST
                             : i == 1 ? TEMPO_COALESCE_EARLIEST : TEMPO_COALESCE_ALL;
        return TEMPO_OK;
    case TEMPO__RF_MISFIRE_GRACE:
        return set_duration(ctx, w, true, true, &s->misfire_grace);
    case TEMPO__RF_JITTER:
        return set_duration(ctx, w, false, true, &s->jitter);
    case TEMPO__RF_TIMEOUT:
        return set_duration(ctx, w, true, false, &s->timeout);
    case TEMPO__RF_MAX_RUNNING:
        return set_max_running(ctx, w, s);
    case TEMPO__RF_RETRIES:
        return set_count(ctx, w, 0, TEMPO__RUNFILE_RETRIES_MAX, &s->retries);
    case TEMPO__RF_N_KEYS:
        break;
    }
    return tempo__rf_fail(ctx, w->col, "internal error: setting %d", (int)key);
}

/* KEY, blanks, '=': the key's index, or an error. */
static tempo_status_t read_key(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_key_t *key,
                               tempo__rf_word_t *kw)
{
    tempo__rf_skip_blanks(c);
    size_t start = c->pos;
    while (c->pos < c->len && tempo__rf_name_char(c->text[c->pos]))
        c->pos++;
    *kw = (tempo__rf_word_t){c->text + start, c->pos - start, c->col0 + start};
    char q[TEMPO__RF_QUOTE_MAX];
    if (kw->len == 0)
        return tempo__rf_fail(ctx, kw->col, "expected a setting, KEY = VALUE");
    int i = choice(kw, key_names, TEMPO__RF_N_KEYS);
    if (i < 0)
        return tempo__rf_fail(ctx, kw->col,
                              "unknown setting '%s' (zone, dst_gap, coalesce, misfire_grace, "
                              "jitter, max_running, timeout, retries)",
                              tempo__rf_quote(kw->p, kw->len, q));
    tempo__rf_skip_blanks(c);
    if (c->pos >= c->len || c->text[c->pos] != '=')
        return tempo__rf_fail(ctx, tempo__rf_col(c), "expected '=' after '%s'", key_names[i]);
    c->pos++;
    *key = (tempo__rf_key_t)i;
    return TEMPO_OK;
}

/* VALUE [# comment] */
static tempo_status_t read_value(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c, tempo__rf_key_t key,
                                 tempo__rf_word_t *w)
{
    if (!tempo__rf_next_word(c, w) || w->p[0] == '#')
        return tempo__rf_fail(ctx, w->p && w->p[0] == '#' ? w->col : tempo__rf_col(c),
                              "missing value after '%s ='", key_names[key]);
    tempo__rf_word_t extra;
    if (tempo__rf_next_word(c, &extra) && extra.p[0] != '#') {
        char q[TEMPO__RF_QUOTE_MAX];
        return tempo__rf_fail(ctx, extra.col,
                              "unexpected '%s' after the value (a value is one word; comments "
                              "start with #)",
                              tempo__rf_quote(extra.p, extra.len, q));
    }
    return TEMPO_OK;
}

tempo_status_t tempo__rf_setting_parse(tempo__rf_ctx_t *ctx, tempo__rf_cursor_t *c,
                                       tempo__rf_settings_t *s, const char *where)
{
    tempo__rf_key_t key = TEMPO__RF_ZONE;
    tempo__rf_word_t kw, w = {0};
    tempo_status_t rc = read_key(ctx, c, &key, &kw);
    if (rc == TEMPO_OK)
        rc = read_value(ctx, c, key, &w);
    if (rc != TEMPO_OK)
        return rc;
    if (s->line[key])
        return tempo__rf_fail(ctx, kw.col, "'%s' is given twice %s (first on line %d)",
                              key_names[key], where, s->line[key]);
    rc = set_value(ctx, key, &w, s);
    if (rc == TEMPO_OK)
        s->line[key] = ctx->line;
    return rc;
}

tempo_status_t tempo__rf_settings_apply(tempo__rf_ctx_t *ctx, const tempo__rf_settings_t *own,
                                        const tempo__rf_settings_t *defaults,
                                        tempo__runfile_entry_t *e)
{
    /* Built-in defaults first, then [defaults], then the schedule's own. */
    const tempo__rf_settings_t *layers[] = {defaults, own};
    const char *zone = "local";
    e->dst_gap = TEMPO_DST_GAP_SHIFT;
    e->coalesce = TEMPO_COALESCE_LATEST;
    e->misfire_grace = TEMPO_DURATION_NONE;
    e->jitter = 0;
    e->max_running = 1;
    e->timeout = TEMPO_DURATION_NONE;
    e->retries = 0;
    for (size_t i = 0; i < 2; i++) {
        const tempo__rf_settings_t *s = layers[i];
        if (s->line[TEMPO__RF_ZONE])
            zone = s->zone;
        if (s->line[TEMPO__RF_DST_GAP])
            e->dst_gap = s->dst_gap;
        if (s->line[TEMPO__RF_COALESCE])
            e->coalesce = s->coalesce;
        if (s->line[TEMPO__RF_MISFIRE_GRACE])
            e->misfire_grace = s->misfire_grace;
        if (s->line[TEMPO__RF_JITTER])
            e->jitter = s->jitter;
        if (s->line[TEMPO__RF_MAX_RUNNING])
            e->max_running = s->max_running;
        if (s->line[TEMPO__RF_TIMEOUT])
            e->timeout = s->timeout;
        if (s->line[TEMPO__RF_RETRIES])
            e->retries = s->retries;
    }
    e->zone = strdup(zone);
    return e->zone ? TEMPO_OK : tempo__rf_nomem(ctx);
}
