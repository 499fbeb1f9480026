/* Shared by both per-loop benchmarks: the workload's offsets and the
 * --loop option. */
#include <string.h>

#include "loops.h"

int64_t fire_offset(const fire_cfg_t *cfg, long i)
{
    if (cfg->aligned)
        return 0;
    /* Evenly spread: the i-th of count slots in one period. */
    return (int64_t)((double)cfg->period_us * (double)i / (double)cfg->count);
}

int hosts_select(const char *name, const host_ops_t **hosts)
{
    static const struct {
        const char *name;
        const host_ops_t *ops;
    } known[] = {{"ev", &host_ev}, {"uv", &host_uv}, {"glib", &host_glib}};
    int n = 0;
    for (size_t i = 0; name && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, "all") || !strcmp(name, known[i].name))
            hosts[n++] = known[i].ops;
    return n ? n : -1;
}
