/*
 * Internal interface of sdk/: what tests and the other sdk files use that
 * is not part of the public API. Never installed.
 */
#ifndef MEMGAUGE_INTERNAL_H
#define MEMGAUGE_INTERNAL_H

#include <memgauge/memgauge.h>

/* Where the sampler gets its readings. The default is the platform layer;
 * tests inject synthetic readings or faults through memgauge__start_with. */
typedef int (*memgauge__read_fn)(memgauge_reading_t *out, void *ctx);

typedef struct memgauge__hooks_s {
    memgauge__read_fn read; /* NULL: the platform's reader */
    void *read_ctx;
} memgauge__hooks_t;

/* memgauge_start with injected hooks (NULL for the defaults). */
int memgauge__start_with(const memgauge_options_t *opts, const memgauge__hooks_t *hooks,
                         memgauge_t **out);

/* Validates options; returns 0 or the MEMGAUGE_E_* of the first bad field. */
int memgauge__options_validate(const memgauge_options_t *opts);

/* The smallest struct_size this library accepts for options and stats. */
#define MEMGAUGE__OPTIONS_V1_SIZE sizeof(memgauge_options_t)
#define MEMGAUGE__STATS_V1_SIZE sizeof(memgauge_stats_t)

#endif
