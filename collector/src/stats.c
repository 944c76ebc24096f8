#include "stats.h"

#include <math.h>
#include <stdlib.h>

double memgauge__percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double rank = ceil(p / 100.0 * (double)n);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return sorted[i < n ? i : n - 1];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void memgauge__sort_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

size_t memgauge__decimate(const uint64_t *footprint, const uint64_t *peak, size_t n, size_t points,
                          size_t *out_idx)
{
    if (n <= points) {
        for (size_t i = 0; i < n; i++)
            out_idx[i] = i;
        return n;
    }
    size_t buckets = points / 2, k = 0;
    for (size_t b = 0; b < buckets; b++) {
        size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
        size_t imin = lo, imax = lo;
        for (size_t i = lo; i < hi; i++) {
            uint64_t top = peak ? peak[i] : footprint[i];
            uint64_t best = peak ? peak[imax] : footprint[imax];
            if (footprint[i] < footprint[imin])
                imin = i;
            if (top > best)
                imax = i;
        }
        if (imin == imax) {
            out_idx[k++] = imin;
        } else {
            out_idx[k++] = imin < imax ? imin : imax;
            out_idx[k++] = imin < imax ? imax : imin;
        }
    }
    return k;
}
