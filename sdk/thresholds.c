/* Threshold crossings with hysteresis. See thresholds.h. */
#include <string.h>

#include "thresholds.h"

void memgauge__thresholds_init(memgauge__thresholds_t *t, const memgauge_threshold_t *defs,
                               uint32_t count, double hysteresis)
{
    memset(t, 0, sizeof *t);
    if (count > MEMGAUGE_MAX_THRESHOLDS)
        count = MEMGAUGE_MAX_THRESHOLDS;
    if (count != 0)
        memcpy(t->defs, defs, count * sizeof *defs);
    t->count = count;
    t->hysteresis = hysteresis;
}

uint64_t memgauge__threshold_level(const memgauge_threshold_t *def, uint64_t limit_bytes)
{
    if (def->bytes != 0)
        return def->bytes;
    if (limit_bytes == 0)
        return 0;
    return (uint64_t)(def->limit_fraction * (double)limit_bytes);
}

static void fill(memgauge_threshold_event_t *e, const memgauge__thresholds_t *t, uint32_t i,
                 int direction, uint64_t level, uint64_t footprint, const memgauge_sample_t *s)
{
    memset(e, 0, sizeof *e);
    e->id = t->defs[i].id;
    e->index = (int)i;
    e->direction = direction;
    e->urgent = t->defs[i].urgent;
    e->level_bytes = level;
    e->footprint_bytes = footprint;
    e->limit_bytes = s->limit_bytes;
    e->time_ns = s->time_ns;
}

uint32_t memgauge__thresholds_eval(memgauge__thresholds_t *t, const memgauge_sample_t *s,
                                   memgauge_threshold_event_t *events)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        uint64_t level = memgauge__threshold_level(&t->defs[i], s->limit_bytes);
        if (level == 0)
            continue;
        uint64_t down_level = level - (uint64_t)((double)level * t->hysteresis);
        if (!t->above[i] && s->interval_peak_bytes >= level) {
            t->above[i] = 1;
            fill(&events[n++], t, i, MEMGAUGE_CROSSED_UP, level, s->interval_peak_bytes, s);
        }
        if (t->above[i] && s->footprint_bytes < down_level) {
            t->above[i] = 0;
            fill(&events[n++], t, i, MEMGAUGE_CROSSED_DOWN, level, s->footprint_bytes, s);
        }
    }
    return n;
}
