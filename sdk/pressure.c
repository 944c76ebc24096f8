/* Pressure level and adaptive interval. See pressure.h. */
#include <string.h>

#include "pressure.h"

void memgauge__pressure_init(memgauge__pressure_t *p, const memgauge_options_t *opts)
{
    memset(p, 0, sizeof *p);
    p->warning = opts->pressure_warning_fraction;
    p->critical = opts->pressure_critical_fraction;
    p->fast_headroom = opts->fast_headroom_fraction;
    p->fast_growth = opts->fast_growth_bytes_per_s;
}

static int headroom_known(const memgauge_sample_t *s)
{
    return (s->valid & MEMGAUGE_FIELD_LIMIT) && (s->valid & MEMGAUGE_FIELD_AVAILABLE) &&
           s->limit_bytes != 0;
}

static double headroom_fraction(const memgauge_sample_t *s)
{
    return (double)s->available_bytes / (double)s->limit_bytes;
}

/* Enters a level below its fraction, leaves it above fraction + hysteresis. */
static int headroom_level(const memgauge__pressure_t *p, double frac)
{
    const double h = MEMGAUGE__PRESSURE_HYSTERESIS;
    int level = p->headroom_level;
    if (frac < p->critical)
        return MEMGAUGE_PRESSURE_CRITICAL;
    if (level == MEMGAUGE_PRESSURE_CRITICAL && frac < p->critical + h)
        return MEMGAUGE_PRESSURE_CRITICAL;
    if (frac < p->warning)
        return MEMGAUGE_PRESSURE_WARNING;
    if (level >= MEMGAUGE_PRESSURE_WARNING && frac < p->warning + h)
        return MEMGAUGE_PRESSURE_WARNING;
    return MEMGAUGE_PRESSURE_NORMAL;
}

int memgauge__pressure_update(memgauge__pressure_t *p, const memgauge_sample_t *s, int os_level,
                              memgauge_pressure_event_t *event)
{
    if (headroom_known(s))
        p->headroom_level = headroom_level(p, headroom_fraction(s));
    else
        p->headroom_level = MEMGAUGE_PRESSURE_NORMAL;
    int level = p->headroom_level > os_level ? p->headroom_level : os_level;
    if (level == p->level)
        return 0;
    memset(event, 0, sizeof *event);
    event->previous = p->level;
    event->level = level;
    event->from_headroom = p->headroom_level == level;
    event->from_os = os_level == level;
    event->footprint_bytes = s->footprint_bytes;
    event->limit_bytes = s->limit_bytes;
    event->available_bytes = s->available_bytes;
    event->time_ns = s->time_ns;
    p->level = level;
    return 1;
}

int memgauge__pressure_adapt(memgauge__pressure_t *p, const memgauge_sample_t *s,
                             int64_t growth_bytes_per_s)
{
    int trigger = p->level != MEMGAUGE_PRESSURE_NORMAL;
    if (p->fast_headroom > 0.0 && headroom_known(s) && headroom_fraction(s) < p->fast_headroom)
        trigger = 1;
    if (p->fast_growth != 0 && growth_bytes_per_s > 0 &&
        (uint64_t)growth_bytes_per_s >= p->fast_growth)
        trigger = 1;
    if (trigger) {
        p->fast = 1;
        p->calm = 0;
    } else if (p->fast && ++p->calm >= MEMGAUGE__CALM_SAMPLES) {
        p->fast = 0;
        p->calm = 0;
    }
    return p->fast;
}
