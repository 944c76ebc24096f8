/* Pure numeric pieces of the query API: percentiles and min-max
 * decimation. */
#ifndef MEMGAUGE_COLLECTOR_STATS_H
#define MEMGAUGE_COLLECTOR_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Nearest-rank percentile (p in (0, 100]) of n values sorted ascending:
 * the smallest value with at least p% of the values at or below it. 0 when
 * n == 0. */
double memgauge__percentile(const double *sorted, size_t n, double p);

/* Sorts ascending in place. */
void memgauge__sort_doubles(double *v, size_t n);

/* Min-max decimation of n samples to at most `points` (>= 2): the samples
 * are cut into points / 2 buckets of consecutive samples, and each bucket
 * keeps its lowest footprint and its highest peak (peak may be NULL: then
 * the footprint), in time order. The highest peak of every bucket -- hence
 * every peak that stands out at this resolution, and the global maximum --
 * survives. Writes the kept sample indices into out_idx (capacity `points`)
 * and returns how many. When n <= points every index is kept. */
size_t memgauge__decimate(const uint64_t *footprint, const uint64_t *peak, size_t n, size_t points,
                          size_t *out_idx);

#endif
