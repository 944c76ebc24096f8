/* Ownership and names of the decoded batch model. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

void memgauge__series_clear(memgauge__series_t *s)
{
    if (!s)
        return;
    free(s->t_ms);
    memset(s, 0, sizeof *s);
}

int memgauge__series_alloc(memgauge__series_t *s, size_t n, int with_resident, int with_peak)
{
    size_t cols = 2 + (with_resident ? 1 : 0) + (with_peak ? 1 : 0);
    memset(s, 0, sizeof *s);
    uint64_t *all = malloc((n ? n : 1) * cols * sizeof *all);
    if (!all)
        return -1;
    s->n = n;
    s->unit_bytes = 1;
    s->t_ms = all;
    s->footprint = all + n;
    size_t next = 2;
    if (with_resident)
        s->resident = all + n * next++;
    if (with_peak)
        s->peak = all + n * next++;
    return 0;
}

void memgauge__batch_clear(memgauge__batch_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->window_count; i++)
        memgauge__series_clear(&b->windows[i].series);
    for (size_t i = 0; i < b->event_count; i++)
        memgauge__series_clear(&b->events[i].trail);
    free(b->windows);
    free(b->events);
    memset(b, 0, sizeof *b);
}

static const char *const metric_names[] = {NULL, "phys_footprint", "internal_compressed",
                                           "resident_fallback", "linux_private_footprint"};

const char *memgauge__metric_name(int metric)
{
    if (metric <= 0 || metric > MEMGAUGE__METRIC_LINUX_PRIVATE_FOOTPRINT)
        return NULL;
    return metric_names[metric];
}

int memgauge__metric_from_name(const char *name)
{
    for (int i = 1; i <= MEMGAUGE__METRIC_LINUX_PRIVATE_FOOTPRINT; i++)
        if (strcmp(name, metric_names[i]) == 0)
            return i;
    return 0;
}

const char *memgauge__pressure_name(int pressure)
{
    switch (pressure) {
    case MEMGAUGE__PRESSURE_NORMAL:
        return "normal";
    case MEMGAUGE__PRESSURE_WARNING:
        return "warning";
    case MEMGAUGE__PRESSURE_CRITICAL:
        return "critical";
    default:
        return NULL;
    }
}

int memgauge__verdict_is_oom(const char *verdict)
{
    return verdict && (strcmp(verdict, "oom_suspected") == 0 ||
                       strcmp(verdict, "background_oom_suspected") == 0);
}
