/*
 * Threshold crossings with hysteresis, pure: one call per sample decides
 * which levels were crossed. No clock, no threads, no allocation.
 */
#ifndef MEMGAUGE_THRESHOLDS_H
#define MEMGAUGE_THRESHOLDS_H

#include <stdint.h>

#include <memgauge/memgauge.h>

typedef struct memgauge__thresholds_s {
    memgauge_threshold_t defs[MEMGAUGE_MAX_THRESHOLDS];
    uint8_t above[MEMGAUGE_MAX_THRESHOLDS]; /* 1 after an upward crossing */
    uint32_t count;
    double hysteresis;
} memgauge__thresholds_t;

void memgauge__thresholds_init(memgauge__thresholds_t *t, const memgauge_threshold_t *defs,
                               uint32_t count, double hysteresis);

/* Level of threshold i in bytes for the given limit, or 0 when it cannot be
 * known (a fraction of an unknown limit). */
uint64_t memgauge__threshold_level(const memgauge_threshold_t *def, uint64_t limit_bytes);

/* Evaluates one sample. An upward crossing is judged on the interval's peak
 * (a spike between samples that reaches a level counts), a downward one on
 * the sampled footprint. Writes at most 2 * count events; returns how many. */
uint32_t memgauge__thresholds_eval(memgauge__thresholds_t *t, const memgauge_sample_t *sample,
                                   memgauge_threshold_event_t *events);

#endif
