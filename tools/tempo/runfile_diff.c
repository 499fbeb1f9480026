/* Schedule files: what a reload changes (docs/run-file.md, "Reloading").
 *
 * Schedules are matched by name. Two entries of one name are the same
 * schedule when every field a scheduler acts on is equal; the trigger is
 * compared in its stored form, so that a new spelling of the same trigger
 * ("daily at 9:00" for "daily at 09:00") does not reset its next fire time. */
#include <stdlib.h>
#include <string.h>

#include "runfile_internal.h"

unsigned tempo__runfile_entry_compare(const tempo__runfile_entry_t *a,
                                      const tempo__runfile_entry_t *b)
{
    unsigned f = 0;
    if (a->trigger_doc_len != b->trigger_doc_len ||
        memcmp(a->trigger_doc, b->trigger_doc, a->trigger_doc_len) != 0)
        f |= TEMPO__RUNFILE_F_TRIGGER;
    if (strcmp(a->command, b->command) != 0)
        f |= TEMPO__RUNFILE_F_COMMAND;
    if (strcmp(a->zone, b->zone) != 0)
        f |= TEMPO__RUNFILE_F_ZONE;
    if (a->dst_gap != b->dst_gap)
        f |= TEMPO__RUNFILE_F_DST_GAP;
    if (a->coalesce != b->coalesce)
        f |= TEMPO__RUNFILE_F_COALESCE;
    if (a->misfire_grace != b->misfire_grace)
        f |= TEMPO__RUNFILE_F_MISFIRE_GRACE;
    if (a->jitter != b->jitter)
        f |= TEMPO__RUNFILE_F_JITTER;
    if (a->max_running != b->max_running)
        f |= TEMPO__RUNFILE_F_MAX_RUNNING;
    if (a->timeout != b->timeout)
        f |= TEMPO__RUNFILE_F_TIMEOUT;
    if (a->retries != b->retries)
        f |= TEMPO__RUNFILE_F_RETRIES;
    return f;
}

static void add(tempo__runfile_diff_t *d, tempo__runfile_change_kind_t kind, unsigned fields,
                const tempo__runfile_entry_t *old_entry, const tempo__runfile_entry_t *new_entry)
{
    d->changes[d->count++] = (tempo__runfile_change_t){kind, fields, old_entry, new_entry};
    switch (kind) {
    case TEMPO__RUNFILE_ADDED:
        d->added++;
        break;
    case TEMPO__RUNFILE_REMOVED:
        d->removed++;
        break;
    case TEMPO__RUNFILE_CHANGED:
        d->changed++;
        break;
    case TEMPO__RUNFILE_UNCHANGED:
        d->unchanged++;
        break;
    }
}

/* `match[i]` is the old index of new entry i, or SIZE_MAX; `kept[j]` says
 * whether old entry j is in the new list. */
static tempo_status_t match_names(const tempo__runfile_t *old_file,
                                  const tempo__runfile_t *new_file, size_t *match, bool *kept)
{
    tempo__rf_index_t idx = {0};
    for (size_t j = 0; j < old_file->count; j++) {
        if (!tempo__rf_index_put(&idx, old_file->entries[j].name, j)) {
            tempo__rf_index_free(&idx);
            return TEMPO_ENOMEM;
        }
    }
    for (size_t i = 0; i < new_file->count; i++) {
        size_t j;
        match[i] = SIZE_MAX;
        if (tempo__rf_index_get(&idx, new_file->entries[i].name, &j)) {
            match[i] = j;
            kept[j] = true;
        }
    }
    tempo__rf_index_free(&idx);
    return TEMPO_OK;
}

tempo_status_t tempo__runfile_diff(const tempo__runfile_t *old_file,
                                   const tempo__runfile_t *new_file, tempo__runfile_diff_t *out)
{
    *out = (tempo__runfile_diff_t){0};
    size_t total = old_file->count + new_file->count;
    size_t *match = malloc((new_file->count + 1) * sizeof *match);
    bool *kept = calloc(old_file->count + 1, sizeof *kept);
    out->changes = malloc((total + 1) * sizeof *out->changes);
    tempo_status_t rc = match && kept && out->changes ? TEMPO_OK : TEMPO_ENOMEM;
    if (rc == TEMPO_OK)
        rc = match_names(old_file, new_file, match, kept);
    if (rc == TEMPO_OK) {
        for (size_t j = 0; j < old_file->count; j++) {
            if (!kept[j])
                add(out, TEMPO__RUNFILE_REMOVED, 0, &old_file->entries[j], NULL);
        }
        for (size_t i = 0; i < new_file->count; i++) {
            const tempo__runfile_entry_t *n = &new_file->entries[i];
            const tempo__runfile_entry_t *o =
                match[i] == SIZE_MAX ? NULL : &old_file->entries[match[i]];
            unsigned f = o ? tempo__runfile_entry_compare(o, n) : 0;
            tempo__runfile_change_kind_t kind = !o ? TEMPO__RUNFILE_ADDED
                                                : f ? TEMPO__RUNFILE_CHANGED
                                                    : TEMPO__RUNFILE_UNCHANGED;
            add(out, kind, f, o, n);
        }
    }
    free(match);
    free(kept);
    if (rc != TEMPO_OK)
        tempo__runfile_diff_free(out);
    return rc;
}

void tempo__runfile_diff_free(tempo__runfile_diff_t *diff)
{
    if (!diff)
        return;
    free(diff->changes);
    *diff = (tempo__runfile_diff_t){0};
}
