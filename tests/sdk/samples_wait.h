/*
 * Waiting for the sampler through the public API: its statistics, and its
 * n-th sample with a deadline. Header-only and Criterion-free, so the plain
 * stress programs use it as the Criterion suites do.
 */
#ifndef MEMGAUGE_TEST_SAMPLES_WAIT_H
#define MEMGAUGE_TEST_SAMPLES_WAIT_H

#include <string.h>

#include <memgauge/memgauge.h>

#include "support/support.h"

/* The handle's statistics; all zero if memgauge_get_stats fails. */
static inline memgauge_stats_t mg_stats_of(memgauge_t *h)
{
    memgauge_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (memgauge_get_stats(h, &s) != MEMGAUGE_OK) {
        memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
    }
    return s;
}

typedef struct mg_samples_wait_s {
    memgauge_t *h;
    uint64_t n;
} mg_samples_wait_t;

static inline int mg_has_samples(void *arg)
{
    const mg_samples_wait_t *w = arg;
    return mg_stats_of(w->h).samples >= w->n;
}

/* Waits up to deadline_ms for the sampler's n-th sample; returns the
 * statistics seen last, for the caller to assert on. */
static inline memgauge_stats_t mg_wait_samples(memgauge_t *h, uint64_t n, unsigned deadline_ms)
{
    mg_samples_wait_t w = {h, n};
    mg_wait_until(mg_has_samples, &w, deadline_ms);
    return mg_stats_of(h);
}

#endif
