/* The rollups' quantile sketch: relative error, exact removal, merges. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rollup.h"
#include "sketch.h"
#include "stats.h"

/* Deterministic values spread over four decades, like peaks in bytes. */
static double value(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(*state >> 11) / 9007199254740992.0;
    return 20e6 * pow(10, 2.5 * u) + (double)(*state % 4096);
}

Test(sketch, percentiles_within_one_percent_of_exact_nearest_rank)
{
    size_t n = 100000;
    double *v = malloc(n * sizeof *v);
    memgauge__sketch_t s = {0};
    uint64_t state = 42;
    for (size_t i = 0; i < n; i++) {
        v[i] = value(&state);
        cr_assert_eq(memgauge__sketch_add(&s, v[i], 1), 0);
    }
    memgauge__sort_doubles(v, n);
    for (double p = 1; p <= 100; p += 0.5) {
        double exact = memgauge__percentile(v, n, p);
        double got = memgauge__sketch_quantile(&s, p);
        cr_expect_leq(fabs(got - exact), 0.01 * exact, "p%.1f: %.17g, exact %.17g", p, got, exact);
    }
    /* and on every small count, where ranks are coarse */
    for (size_t m = 1; m <= 20; m++) {
        memgauge__sketch_t t = {0};
        for (size_t i = 0; i < m; i++)
            memgauge__sketch_add(&t, v[i * 997], 1);
        double *w = malloc(m * sizeof *w);
        for (size_t i = 0; i < m; i++)
            w[i] = v[i * 997];
        memgauge__sort_doubles(w, m);
        for (int p = 1; p <= 100; p++) {
            double exact = memgauge__percentile(w, m, p);
            cr_expect_leq(fabs(memgauge__sketch_quantile(&t, p) - exact), 0.01 * exact);
        }
        free(w);
        memgauge__sketch_clear(&t);
    }
    memgauge__sketch_clear(&s);
    free(v);
}

Test(sketch, fractions_below_one_and_zero_are_ranked)
{
    memgauge__sketch_t s = {0};
    memgauge__sketch_add(&s, 0, 1);
    memgauge__sketch_add(&s, 0.25, 1);
    memgauge__sketch_add(&s, 0.5, 1);
    memgauge__sketch_add(&s, 0.97, 1);
    cr_expect_eq(memgauge__sketch_quantile(&s, 25), 0);
    cr_expect_leq(fabs(memgauge__sketch_quantile(&s, 50) - 0.25), 0.0025);
    cr_expect_leq(fabs(memgauge__sketch_quantile(&s, 99) - 0.97), 0.0097);
    memgauge__sketch_clear(&s);
}

static int same_sketch(const memgauge__sketch_t *a, const memgauge__sketch_t *b)
{
    unsigned char *x, *y;
    size_t nx, ny;
    memgauge__sketch_encode(a, &x, &nx);
    memgauge__sketch_encode(b, &y, &ny);
    int same = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

Test(sketch, removing_what_was_added_is_exact)
{
    memgauge__sketch_t kept = {0}, all = {0};
    uint64_t state = 7;
    for (int i = 0; i < 5000; i++) {
        double x = value(&state);
        memgauge__sketch_add(&all, x, 1);
        if (i % 3)
            memgauge__sketch_add(&kept, x, 1);
    }
    state = 7;
    for (int i = 0; i < 5000; i++) {
        double x = value(&state);
        if (!(i % 3))
            memgauge__sketch_add(&all, x, -1);
    }
    cr_expect_eq(all.total, kept.total);
    cr_expect(same_sketch(&all, &kept), "the same buckets after removal");
    memgauge__sketch_clear(&kept);
    memgauge__sketch_clear(&all);
}

Test(sketch, encoded_form_round_trips_and_merges)
{
    memgauge__sketch_t a = {0}, b = {0}, both = {0}, back = {0};
    uint64_t state = 3;
    for (int i = 0; i < 3000; i++) {
        double x = value(&state);
        memgauge__sketch_add(i % 2 ? &a : &b, x, 1);
        memgauge__sketch_add(&both, x, 1);
    }
    memgauge__sketch_add(&a, 0, 2);
    memgauge__sketch_add(&both, 0, 2);
    unsigned char *blob;
    size_t len;
    cr_assert_eq(memgauge__sketch_encode(&a, &blob, &len), 0);
    cr_expect_lt(len, 1200, "3000 values in a few hundred buckets: %zu bytes", len);
    cr_assert_eq(memgauge__sketch_decode_add(&back, blob, len), 0);
    cr_expect(same_sketch(&back, &a));
    cr_assert_eq(memgauge__sketch_merge(&back, &b), 0);
    cr_expect(same_sketch(&back, &both));
    cr_expect_eq(memgauge__sketch_decode_add(&back, blob, len - 1), -1, "a cut blob is corrupt");
    free(blob);
    memgauge__sketch_clear(&a);
    memgauge__sketch_clear(&b);
    memgauge__sketch_clear(&both);
    memgauge__sketch_clear(&back);
}

Test(rollup, a_raised_peak_and_a_verdict_move_the_contribution)
{
    memgauge__rollup_t r = {0};
    memgauge__contribution_t first, raised, judged;
    memgauge__contribution_make(&first, "a", "1", "d", "o", 86400000, 10, 100e6, 0.1, "", "");
    memgauge__contribution_make(&raised, "a", "1", "d", "o", 86400000, 20, 300e6, 0.3, "", "");
    memgauge__contribution_make(&judged, "a", "1", "d", "o", 86400000, 20, 300e6, 0.3,
                                "oom_suspected", "low");
    cr_expect_eq(first.key.day, 1);
    memgauge__rollup_apply(&r, &first, 1);
    memgauge__rollup_apply(&r, &first, -1);
    memgauge__rollup_apply(&r, &raised, 1);
    memgauge__rollup_apply(&r, &raised, -1);
    memgauge__rollup_apply(&r, &judged, 1);
    cr_expect_eq(r.sessions, 1);
    cr_expect_eq(r.judged, 1);
    cr_expect_eq(r.oom, 0, "a low grade is no evidence");
    cr_expect_eq(r.oom_weak, 1);
    cr_expect_eq(r.peaks.total, 1);
    cr_expect_leq(fabs(memgauge__sketch_quantile(&r.peaks, 50) - 300e6), 3e6);
    memgauge__contribution_t empty;
    memgauge__contribution_make(&empty, "a", "1", "d", "o", 0, 0, 0, -1, "oom_suspected", "high");
    memgauge__rollup_apply(&r, &empty, 1);
    cr_expect_eq(r.sessions, 2);
    cr_expect_eq(r.with_data, 1, "no samples: counted apart, not ranked");
    cr_expect_eq(r.oom, 1);
    memgauge__rollup_clear(&r);
}
