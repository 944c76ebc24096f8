/* Percentiles and min-max decimation. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "stats.h"

Test(percentile, nearest_rank_on_known_sets)
{
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i; /* 100 .. 1, unsorted */
    memgauge__sort_doubles(v, 100);
    cr_expect_float_eq(memgauge__percentile(v, 100, 50), 50, 0);
    cr_expect_float_eq(memgauge__percentile(v, 100, 90), 90, 0);
    cr_expect_float_eq(memgauge__percentile(v, 100, 99), 99, 0);
    double three[] = {10, 20, 30};
    cr_expect_float_eq(memgauge__percentile(three, 3, 50), 20, 0);
    cr_expect_float_eq(memgauge__percentile(three, 3, 99), 30, 0);
    cr_expect_float_eq(memgauge__percentile(three, 1, 99), 10, 0);
    cr_expect_float_eq(memgauge__percentile(three, 0, 50), 0, 0);
}

Test(decimate, short_series_is_kept_whole)
{
    uint64_t fp[5] = {5, 4, 3, 2, 1};
    size_t idx[10];
    cr_assert_eq(memgauge__decimate(fp, NULL, 5, 10, idx), 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect_eq(idx[i], i);
}

Test(decimate, one_spike_in_a_hundred_thousand_survives_ten_points)
{
    size_t n = 100000;
    uint64_t *fp = malloc(n * sizeof *fp), *pk = malloc(n * sizeof *pk);
    for (size_t i = 0; i < n; i++) {
        fp[i] = 200000000 + (i % 1000) * 4096;
        pk[i] = fp[i];
    }
    fp[31337] = 90000000;   /* a dip */
    pk[77777] = 1900000000; /* the kernel saw a spike between two samples */
    size_t idx[10];
    size_t k = memgauge__decimate(fp, pk, n, 10, idx);
    cr_expect_leq(k, 10);
    int spike = 0, dip = 0;
    for (size_t i = 0; i < k; i++) {
        spike |= idx[i] == 77777;
        dip |= idx[i] == 31337;
        if (i)
            cr_expect_lt(idx[i - 1], idx[i], "points stay in time order");
    }
    cr_expect(spike, "the spike is kept");
    cr_expect(dip, "the dip is kept");
    free(fp);
    free(pk);
}

Test(decimate, every_bucket_keeps_its_min_and_max)
{
    uint64_t fp[12] = {5, 9, 1, 7, 7, 7, 3, 8, 2, 6, 6, 6};
    size_t idx[8];
    size_t k = memgauge__decimate(fp, NULL, 12, 8, idx); /* 4 buckets of 3 */
    size_t want[] = {1, 2, 3, 7, 8, 9};                  /* 7 7 7 is flat: one point */
    cr_assert_eq(k, 6);
    for (size_t i = 0; i < k; i++)
        cr_expect_eq(idx[i], want[i], "point %zu", i);
}
