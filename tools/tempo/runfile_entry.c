/* Schedule files: the list of schedules, and an index of their names.
 *
 * The index finds duplicate names while the file is read and matches old
 * and new names in a reload, in O(1) per name: a file may hold thousands of
 * schedules, and comparing every pair would make a reload quadratic. */
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

/* FNV-1a: names are short, and the table only needs an even spread. */
static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

static size_t find_slot(const tempo__rf_index_t *idx, const char *name)
{
    /* cap is a power of two and never full, so the probe ends. */
    size_t mask = idx->cap - 1, i = hash(name) & mask;
    while (idx->slots[i].name && strcmp(idx->slots[i].name, name) != 0)
        i = (i + 1) & mask;
    return i;
}

bool tempo__rf_index_get(const tempo__rf_index_t *idx, const char *name, size_t *value)
{
    if (idx->cap == 0)
        return false;
    size_t i = find_slot(idx, name);
    if (!idx->slots[i].name)
        return false;
    *value = idx->slots[i].value;
    return true;
}

static bool grow(tempo__rf_index_t *idx)
{
    size_t cap = idx->cap ? idx->cap * 2 : 16;
    struct tempo__rf_slot *old = idx->slots;
    size_t old_cap = idx->cap;
    idx->slots = calloc(cap, sizeof *idx->slots);
    if (!idx->slots) {
        idx->slots = old;
        return false;
    }
    idx->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].name)
            idx->slots[find_slot(idx, old[i].name)] = old[i];
    }
    free(old);
    return true;
}

bool tempo__rf_index_put(tempo__rf_index_t *idx, const char *name, size_t value)
{
    /* At most half full: short probes, and always an empty slot. */
    if ((idx->count + 1) * 2 > idx->cap && !grow(idx))
        return false;
    size_t i = find_slot(idx, name);
    idx->slots[i].name = name;
    idx->slots[i].value = value;
    idx->count++;
    return true;
}

void tempo__rf_index_free(tempo__rf_index_t *idx)
{
    free(idx->slots);
    *idx = (tempo__rf_index_t){0};
}

void tempo__rf_entry_free(tempo__runfile_entry_t *e)
{
    free(e->name);
    tempo_trigger_free(e->trigger);
    free(e->trigger_text);
    free(e->command);
    free(e->zone);
    free(e->trigger_doc);
    *e = (tempo__runfile_entry_t){0};
}

tempo_status_t tempo__rf_entry_keep_doc(tempo__rf_ctx_t *ctx, tempo__runfile_entry_t *e)
{
    bson_t doc;
    tempo_error_t err = {0};
    tempo_status_t st = tempo_trigger_to_bson(e->trigger, &doc, &err);
    if (st == TEMPO_OK) {
        e->trigger_doc_len = doc.len;
        e->trigger_doc = malloc(doc.len);
        if (e->trigger_doc)
            memcpy(e->trigger_doc, bson_get_data(&doc), doc.len);
        else
            st = TEMPO_ENOMEM;
    }
    bson_destroy(&doc);
    if (st == TEMPO_ENOMEM)
        return tempo__rf_nomem(ctx);
    return st == TEMPO_OK ? st : tempo__rf_fail_lib(ctx, 1, st, &err);
}

tempo_status_t tempo__rf_append(tempo__rf_ctx_t *ctx, tempo__runfile_t *file,
                                tempo__runfile_entry_t *e)
{
    /* The capacity is 8, 16, 32...: it is full when count is one of them. */
    size_t n = file->count;
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
        size_t cap = n ? n * 2 : 8;
        tempo__runfile_entry_t *grown = realloc(file->entries, cap * sizeof *grown);
        if (!grown) {
            tempo__rf_entry_free(e);
            return tempo__rf_nomem(ctx);
        }
        file->entries = grown;
    }
    file->entries[file->count++] = *e;
    *e = (tempo__runfile_entry_t){0};
    return TEMPO_OK;
}

void tempo__runfile_free(tempo__runfile_t *file)
{
    if (!file)
        return;
    for (size_t i = 0; i < file->count; i++)
        tempo__rf_entry_free(&file->entries[i]);
    free(file->entries);
    *file = (tempo__runfile_t){0};
}

const tempo__runfile_entry_t *tempo__runfile_find(const tempo__runfile_t *file, const char *name)
{
    for (size_t i = 0; i < file->count; i++) {
        if (strcmp(file->entries[i].name, name) == 0)
            return &file->entries[i];
    }
    return NULL;
}
