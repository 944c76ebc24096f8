#ifndef MEMGAUGE_COLLECTOR_SERIES_CODEC_H
#define MEMGAUGE_COLLECTOR_SERIES_CODEC_H

#include "batch.h"

#include <stddef.h>

/* The stored form of a window's samples (one blob per window, see
 * docs/collector.md "Sample layout"): columnar varints — times and footprint
 * and resident as zig-zag deltas in units of unit_bytes, the interval peak as
 * its excess over the footprint. About 3 bytes per sample at 1 Hz. */

/* Encodes *s into a new malloc'd buffer (*out, *len; the caller frees).
 * Returns 0, or -1 when out of memory. */
int memgauge__series_encode(const memgauge__series_t *s, unsigned char **out, size_t *len);

/* Decodes buf[0 .. len) into *out (allocated; free with memgauge__series_clear).
 * Returns 0, -1 when the blob is corrupt or larger than max_samples, -2 when
 * out of memory. Never reads outside the buffer. */
int memgauge__series_decode(const unsigned char *buf, size_t len, size_t max_samples,
                            memgauge__series_t *out);

#endif
