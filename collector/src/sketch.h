/* A relative-error quantile sketch (DDSketch, Masson et al., VLDB 2019):
 * every value x > 0 is counted in the log-spaced bucket
 * i = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a), and a quantile is
 * answered with the representative 2 gamma^i / (gamma + 1) of the bucket
 * holding its rank. That representative lies within a relative error a of
 * every value of its bucket, so a percentile is within a (MEMGAUGE__SKETCH_ALPHA)
 * of the exact nearest-rank percentile. Buckets are plain counts: merging
 * adds them, and removing a value added before is exact. */
#ifndef MEMGAUGE_COLLECTOR_SKETCH_H
#define MEMGAUGE_COLLECTOR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

/* Kept a little under 1 % so that a value a rounding error away from a
 * bucket boundary still lands within 1 %. Stored sketches depend on it:
 * changing it needs a migration. */
#define MEMGAUGE__SKETCH_ALPHA 0.0099
/* Indices beyond: values clamp (2^-80 .. 2^80 covers bytes and fractions). */
#define MEMGAUGE__SKETCH_INDEX_MAX 2900
/* Bound on an encoded sketch: 2 * INDEX_MAX buckets of two varints. */
#define MEMGAUGE__SKETCH_BLOB_MAX (2 * MEMGAUGE__SKETCH_INDEX_MAX * 20 + 16)

typedef struct memgauge__sketch_s {
    int32_t lo;      /* index of counts[0] */
    size_t n;        /* buckets allocated */
    int64_t *counts; /* n counts (signed: a delta sketch may hold removals) */
    int64_t zero;    /* values <= 0 */
    int64_t total;   /* sum of every count */
} memgauge__sketch_t;

/* Adds `weight` copies of x (a negative weight removes them). Returns 0 or
 * -2 (out of memory). */
int memgauge__sketch_add(memgauge__sketch_t *s, double x, int64_t weight);
/* dst += src. 0 or -2. */
int memgauge__sketch_merge(memgauge__sketch_t *dst, const memgauge__sketch_t *src);
/* The value at nearest rank ceil(p / 100 * total) (p in (0, 100]); 0 when empty. */
double memgauge__sketch_quantile(const memgauge__sketch_t *s, double p);
void memgauge__sketch_clear(memgauge__sketch_t *s);

/* Compact form: the zero count, then (index delta, count) varint pairs of the
 * non-empty buckets in index order. *out is malloc'd (caller frees). 0 or -2. */
int memgauge__sketch_encode(const memgauge__sketch_t *s, unsigned char **out, size_t *len);
/* Adds the encoded sketch to *s. 0, -1 (corrupt) or -2. */
int memgauge__sketch_decode_add(memgauge__sketch_t *s, const unsigned char *p, size_t len);

#endif
