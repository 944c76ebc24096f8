/*
 * Pressure level and the adaptive interval, pure: one call per sample.
 */
#ifndef MEMGAUGE_PRESSURE_H
#define MEMGAUGE_PRESSURE_H

#include <stdint.h>

#include <memgauge/memgauge.h>

/* Leaving a headroom level needs this much more headroom than entering it,
 * so that a footprint hovering at a boundary does not flap. */
#define MEMGAUGE__PRESSURE_HYSTERESIS 0.02
/* Fast samples without a trigger before the normal interval returns. */
#define MEMGAUGE__CALM_SAMPLES 5

typedef struct memgauge__pressure_s {
    double warning, critical; /* headroom fractions */
    double fast_headroom;     /* 0: off */
    uint64_t fast_growth;     /* bytes/s, 0: off */
    int headroom_level;       /* level from headroom alone, with hysteresis */
    int level;                /* combined level */
    int fast;                 /* sampling at the fast interval */
    int calm;                 /* fast samples in a row without a trigger */
} memgauge__pressure_t;

void memgauge__pressure_init(memgauge__pressure_t *p, const memgauge_options_t *opts);

/* Updates the levels from one sample and the OS's level. Returns 1 and
 * fills *event when the combined level changed. */
int memgauge__pressure_update(memgauge__pressure_t *p, const memgauge_sample_t *s, int os_level,
                              memgauge_pressure_event_t *event);

/* Decides fast or normal sampling after a sample; returns 1 for fast.
 * `growth` is the footprint's change per second since the previous sample. */
int memgauge__pressure_adapt(memgauge__pressure_t *p, const memgauge_sample_t *s,
                             int64_t growth_bytes_per_s);

#endif
