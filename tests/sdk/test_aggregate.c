/* Session and window aggregates (aggregate.c), fed with synthetic readings
 * whose statistics are known in advance. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "aggregate.h"

#define MIB (UINT64_C(1) << 20)
#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

enum { RING_CAP = 16 };

typedef struct {
    memgauge__session_t s;
    memgauge_sample_t ring[RING_CAP];
} session_t;

static void session_init(session_t *f, uint32_t ring_capacity, uint64_t window_ns)
{
    cr_assert(ring_capacity <= RING_CAP);
    memset(f->ring, 0, sizeof f->ring);
    memgauge__session_init(&f->s, f->ring, ring_capacity, window_ns);
}

/* A reading that only knows its footprint. */
static memgauge_reading_t footprint_at(uint64_t time_ns, uint64_t footprint)
{
    memgauge_reading_t r;
    memset(&r, 0, sizeof r);
    r.time_ns = time_ns;
    r.footprint_bytes = footprint;
    r.valid = MEMGAUGE_FIELD_FOOTPRINT;
    r.footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
    return r;
}

/* A Linux reading: the peak is VmHWM, a resident high-water mark. */
static memgauge_reading_t linux_at(uint64_t time_ns, uint64_t footprint, uint64_t resident,
                                   uint64_t peak)
{
    memgauge_reading_t r = footprint_at(time_ns, footprint);
    r.resident_bytes = resident;
    r.peak_bytes = peak;
    r.valid |= MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_PEAK | MEMGAUGE_FIELD_SWAPPED;
    return r;
}

/* A Darwin reading: the peak is ledger_phys_footprint_peak, a footprint peak. */
static memgauge_reading_t darwin_at(uint64_t time_ns, uint64_t footprint, uint64_t resident,
                                    uint64_t peak)
{
    memgauge_reading_t r = linux_at(time_ns, footprint, resident, peak);
    r.footprint_source = MEMGAUGE_SOURCE_PHYS_FOOTPRINT;
    return r;
}

/* Adds a reading that must not close a window; returns the sample. */
static memgauge_sample_t add(session_t *f, memgauge_reading_t r)
{
    memgauge_sample_t smp;
    memgauge_window_t closed;
    memset(&closed, 0xab, sizeof closed);
    cr_assert(eq(int, memgauge__session_add(&f->s, &r, &smp, &closed), 0),
              "reading at %llu ns closed a window", (unsigned long long)r.time_ns);
    return smp;
}

/* Adds a reading that must close a window; returns the closed window. */
static memgauge_window_t add_closing(session_t *f, memgauge_reading_t r)
{
    memgauge_sample_t smp;
    memgauge_window_t closed;
    memset(&closed, 0xab, sizeof closed);
    cr_assert(eq(int, memgauge__session_add(&f->s, &r, &smp, &closed), 1),
              "reading at %llu ns closed no window", (unsigned long long)r.time_ns);
    return closed;
}

static memgauge_stats_t stats_of(const session_t *f)
{
    memgauge_stats_t st;
    memset(&st, 0xab, sizeof st);
    memgauge__session_stats(&f->s, &st);
    return st;
}

/* ------------------------------------------------------------------------ */
/* 128-bit arithmetic                                                        */
/* ------------------------------------------------------------------------ */

Test(u128, add_without_carry)
{
    memgauge__u128_t acc = {.hi = 7, .lo = 40};

    memgauge__u128_add(&acc, 2);

    cr_assert(eq(u64, acc.hi, 7));
    cr_assert(eq(u64, acc.lo, 42));
}

Test(u128, add_carries_into_the_high_word)
{
    memgauge__u128_t edge = {.hi = 0, .lo = UINT64_MAX};
    memgauge__u128_t past = {.hi = 5, .lo = UINT64_MAX - 1};
    memgauge__u128_t largest = {.hi = 0, .lo = UINT64_MAX};

    memgauge__u128_add(&edge, 1);
    memgauge__u128_add(&past, 3);
    memgauge__u128_add(&largest, UINT64_MAX);

    cr_assert(eq(u64, edge.hi, 1));
    cr_assert(eq(u64, edge.lo, 0));
    cr_assert(eq(u64, past.hi, 6));
    cr_assert(eq(u64, past.lo, 1));
    /* (2^64 - 1) * 2 = 2^65 - 2 */
    cr_assert(eq(u64, largest.hi, 1));
    cr_assert(eq(u64, largest.lo, UINT64_MAX - 1));
}

Test(u128, div_of_a_64_bit_value_is_plain_division)
{
    memgauge__u128_t acc = {.hi = 0, .lo = 1051};

    cr_assert(eq(u64, memgauge__u128_div(acc, 5), 210));
    cr_assert(eq(u64, memgauge__u128_div(acc, 1), 1051));
    cr_assert(eq(u64, memgauge__u128_div(acc, 2000), 0));
}

Test(u128, div_floors_values_above_2_to_the_64)
{
    memgauge__u128_t two_64 = {.hi = 1, .lo = 0};
    memgauge__u128_t two_64_plus_5 = {.hi = 1, .lo = 5};
    memgauge__u128_t mixed = {.hi = UINT64_C(0x123456789abcdef0),
                              .lo = UINT64_C(0xfedcba9876543210)};

    /* floor(18446744073709551616 / 3) */
    cr_assert(eq(u64, memgauge__u128_div(two_64, 3), UINT64_C(6148914691236517205)));
    /* floor(18446744073709551621 / 7) */
    cr_assert(eq(u64, memgauge__u128_div(two_64_plus_5, 7), UINT64_C(2635249153387078803)));
    /* 0x123456789abcdef0fedcba9876543210 / 0xfedcba9876543211 */
    cr_assert(eq(u64, memgauge__u128_div(mixed, UINT64_C(0xfedcba9876543211)),
                 UINT64_C(1317624576693539384)));
}

Test(u128, div_by_a_divisor_above_2_to_the_63_keeps_the_top_remainder_bit)
{
    /* ((2^64 - 2) * 2^64 + 2^64 - 1) / (2^64 - 1) = 2^64 - 1/(2^64 - 1): the
     * floor is the largest 64-bit number. */
    memgauge__u128_t acc = {.hi = UINT64_MAX - 1, .lo = UINT64_MAX};

    cr_assert(eq(u64, memgauge__u128_div(acc, UINT64_MAX), UINT64_MAX));
}

/* ------------------------------------------------------------------------ */
/* Session statistics                                                        */
/* ------------------------------------------------------------------------ */

Test(aggregate, an_empty_session_reports_zeros)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);

    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, st.samples, 0));
    cr_assert(eq(u64, st.mean_bytes, 0));
    cr_assert(eq(u64, st.max_bytes, 0));
    cr_assert(eq(u64, st.windows, 0));
    cr_assert(eq(u64, st.current_window.samples, 0));
    cr_assert(eq(u64, st.current_window.mean_bytes, 0));
    cr_assert(eq(u64, st.last_window.samples, 0));
    cr_assert(eq(sz, memgauge__session_recent(&f.s, f.ring, RING_CAP), 0));
}

Test(aggregate, first_sample_sets_every_statistic)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);
    memgauge_reading_t r = linux_at(5 * SEC, 120 * MIB, 180 * MIB, 900 * MIB);
    r.limit_bytes = 2048 * MIB;
    r.available_bytes = 1500 * MIB;
    r.valid |= MEMGAUGE_FIELD_LIMIT | MEMGAUGE_FIELD_AVAILABLE;

    memgauge_sample_t smp = add(&f, r);
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, smp.seq, 1));
    cr_assert(eq(u64, smp.time_ns, 5 * SEC));
    cr_assert(eq(u64, smp.footprint_bytes, 120 * MIB));
    cr_assert(eq(u64, smp.resident_bytes, 180 * MIB));
    cr_assert(eq(u64, smp.kernel_peak_bytes, 900 * MIB));
    /* The kernel's mark may predate the session: the first interval is the
     * sample itself. */
    cr_assert(eq(u64, smp.interval_peak_bytes, 120 * MIB));
    cr_assert(eq(u64, smp.limit_bytes, 2048 * MIB));
    cr_assert(eq(u64, smp.available_bytes, 1500 * MIB));
    cr_assert(eq(i64, smp.delta_bytes, 0));
    cr_assert(eq(u32, smp.valid, r.valid));
    cr_assert(eq(i32, smp.footprint_source, MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT));

    cr_assert(eq(u64, st.samples, 1));
    cr_assert(eq(i32, st.footprint_source, MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT));
    cr_assert(eq(u64, st.start_ns, 5 * SEC));
    cr_assert(eq(u64, st.last_ns, 5 * SEC));
    cr_assert(eq(u64, st.first_bytes, 120 * MIB));
    cr_assert(eq(u64, st.last_bytes, 120 * MIB));
    cr_assert(eq(u64, st.min_bytes, 120 * MIB));
    cr_assert(eq(u64, st.max_bytes, 120 * MIB));
    cr_assert(eq(u64, st.peak_bytes, 120 * MIB));
    cr_assert(eq(u64, st.mean_bytes, 120 * MIB));
    cr_assert(eq(i64, st.last_delta_bytes, 0));
    cr_assert(eq(i64, st.delta_since_start_bytes, 0));
    cr_assert(eq(u64, st.kernel_peak_bytes, 900 * MIB));
    cr_assert(eq(u64, st.last_resident_bytes, 180 * MIB));
    cr_assert(eq(u64, st.limit_bytes, 2048 * MIB));
    cr_assert(eq(u64, st.available_bytes, 1500 * MIB));
    cr_assert(eq(u64, st.windows, 0));
    cr_assert(eq(u64, st.current_window.samples, 1));
    cr_assert(eq(u64, st.last_window.samples, 0));
}

Test(aggregate, fields_without_their_valid_bit_are_recorded_as_zero)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);
    memgauge_reading_t r = footprint_at(SEC, 64 * MIB);
    r.peak_bytes = 99 * MIB;      /* PEAK bit clear */
    r.limit_bytes = 999 * MIB;    /* LIMIT bit clear */
    r.available_bytes = 77 * MIB; /* AVAILABLE bit clear */

    memgauge_sample_t smp = add(&f, r);
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, smp.kernel_peak_bytes, 0));
    cr_assert(eq(u64, smp.limit_bytes, 0));
    cr_assert(eq(u64, smp.available_bytes, 0));
    cr_assert(eq(u64, st.kernel_peak_bytes, 0));
    cr_assert(eq(u64, st.limit_bytes, 0));
    cr_assert(eq(u64, st.available_bytes, 0));
    cr_assert(eq(u64, st.current_window.min_available_bytes, 0));
}

Test(aggregate, first_last_min_max_and_floor_mean_over_a_sequence)
{
    static const uint64_t fp[] = {100, 301, 200, 50, 400};
    session_t f;
    session_init(&f, 8, 60 * SEC);

    for (size_t i = 0; i < sizeof fp / sizeof fp[0]; i++) {
        memgauge_sample_t smp = add(&f, footprint_at(SEC + i * SEC, fp[i]));
        cr_assert(eq(u64, smp.seq, i + 1));
    }
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, st.samples, 5));
    cr_assert(eq(u64, st.start_ns, 1 * SEC));
    cr_assert(eq(u64, st.last_ns, 5 * SEC));
    cr_assert(eq(u64, st.first_bytes, 100));
    cr_assert(eq(u64, st.last_bytes, 400));
    cr_assert(eq(u64, st.min_bytes, 50));
    cr_assert(eq(u64, st.max_bytes, 400));
    /* 1051 / 5 = 210.2 */
    cr_assert(eq(u64, st.mean_bytes, 210));
    cr_assert(eq(u64, st.current_window.mean_bytes, 210));
}

Test(aggregate, mean_is_exact_floor_over_millions_of_samples)
{
    /* 3,000,000 samples of about 7 TB: the sum is 21001498504495500000,
     * past 2^64 = 18446744073709551616. */
    enum { N = 3000000 };
    const uint64_t base = UINT64_C(7000000000000);
    const uint64_t step = UINT64_C(1000003);
    session_t f;
    session_init(&f, 4, 3600 * SEC);

    memgauge_sample_t smp;
    memgauge_window_t closed;
    int closes = 0;
    for (uint32_t i = 0; i < N; i++) {
        memgauge_reading_t r = footprint_at((uint64_t)i * MS, base + (i % 1000) * step);
        closes += memgauge__session_add(&f.s, &r, &smp, &closed);
    }
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(int, closes, 0));
    cr_assert(eq(u64, f.s.sum.hi, 1));
    cr_assert(eq(u64, f.s.sum.lo, UINT64_C(2554754430785948384)));
    cr_assert(eq(u64, st.samples, N));
    cr_assert(eq(u64, st.min_bytes, base));
    cr_assert(eq(u64, st.max_bytes, base + 999 * step));
    /* 21001498504495500000 / 3000000 = 7000499501498.5 */
    cr_assert(eq(u64, st.mean_bytes, UINT64_C(7000499501498)));
    cr_assert(eq(u64, st.current_window.samples, N));
    cr_assert(eq(u64, st.current_window.mean_bytes, UINT64_C(7000499501498)));
}

Test(aggregate, delta_per_sample_and_since_start_are_signed)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    memgauge_sample_t s1 = add(&f, footprint_at(1 * SEC, 500 * MIB));
    memgauge_sample_t s2 = add(&f, footprint_at(2 * SEC, 300 * MIB));
    memgauge_stats_t after_drop = stats_of(&f);
    memgauge_sample_t s3 = add(&f, footprint_at(3 * SEC, 450 * MIB));
    memgauge_stats_t after_rise = stats_of(&f);

    cr_assert(eq(i64, s1.delta_bytes, 0));
    cr_assert(eq(i64, s2.delta_bytes, -200 * (int64_t)MIB));
    cr_assert(eq(i64, s3.delta_bytes, 150 * (int64_t)MIB));
    cr_assert(eq(i64, after_drop.last_delta_bytes, -200 * (int64_t)MIB));
    cr_assert(eq(i64, after_drop.delta_since_start_bytes, -200 * (int64_t)MIB));
    cr_assert(eq(i64, after_rise.last_delta_bytes, 150 * (int64_t)MIB));
    cr_assert(eq(i64, after_rise.delta_since_start_bytes, -50 * (int64_t)MIB));
}

Test(aggregate, delta_of_a_drop_to_zero_from_many_gigabytes)
{
    const uint64_t big = UINT64_C(48) << 30; /* 48 GiB */
    session_t f;
    session_init(&f, 4, 60 * SEC);

    add(&f, footprint_at(1 * SEC, big));
    memgauge_sample_t smp = add(&f, footprint_at(2 * SEC, 0));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(i64, smp.delta_bytes, -(int64_t)big));
    cr_assert(eq(i64, st.delta_since_start_bytes, -(int64_t)big));
    cr_assert(eq(u64, st.min_bytes, 0));
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                   */
/* ------------------------------------------------------------------------ */

/* A reading with a limit and headroom, for window tests. */
static memgauge_reading_t full_at(uint64_t time_ns, uint64_t footprint, uint64_t kernel_peak,
                                  uint64_t limit, uint64_t available)
{
    memgauge_reading_t r = darwin_at(time_ns, footprint, footprint, kernel_peak);
    r.limit_bytes = limit;
    r.available_bytes = available;
    r.valid |= MEMGAUGE_FIELD_LIMIT | MEMGAUGE_FIELD_AVAILABLE;
    return r;
}

Test(window, closes_when_a_sample_reaches_the_boundary_after_the_first_sample)
{
    /* Windows are aligned to the first sample (t0 = 3.5 s), not to zero. */
    const uint64_t t0 = 3500 * MS;
    session_t f;
    session_init(&f, 4, 10 * SEC);

    add(&f, footprint_at(t0, 10));
    add(&f, footprint_at(10 * SEC, 20));          /* a multiple of 10 s, not a boundary */
    add(&f, footprint_at(t0 + 10 * SEC - 1, 30)); /* 1 ns before the boundary */
    memgauge_window_t w = add_closing(&f, footprint_at(t0 + 10 * SEC, 40));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, w.samples, 3));
    cr_assert(eq(u64, w.start_ns, t0));
    cr_assert(eq(u64, w.end_ns, t0 + 10 * SEC - 1));
    cr_assert(eq(u64, w.first_bytes, 10));
    cr_assert(eq(u64, w.last_bytes, 30));
    cr_assert(eq(u64, st.windows, 1));
    cr_assert(eq(u64, st.current_window.samples, 1));
    cr_assert(eq(u64, st.current_window.start_ns, t0 + 10 * SEC));
    cr_assert(eq(u64, st.current_window.first_bytes, 40));
}

Test(window, closed_window_carries_its_aggregates)
{
    const uint64_t t0 = 2 * SEC;
    session_t f;
    session_init(&f, 8, 10 * SEC);

    /*           time          footprint  kernel peak limit       available */
    add(&f, full_at(t0, 300 * MIB, 310 * MIB, 2000 * MIB, 900 * MIB));
    add(&f, full_at(t0 + 3 * SEC, 250 * MIB, 600 * MIB, 2000 * MIB, 700 * MIB));
    add(&f, full_at(t0 + 6 * SEC, 401 * MIB, 600 * MIB, 1800 * MIB, 800 * MIB));
    add(&f, full_at(t0 + 9 * SEC, 350 * MIB, 650 * MIB, 1900 * MIB, 750 * MIB));
    memgauge_window_t w =
        add_closing(&f, full_at(t0 + 12 * SEC, 100 * MIB, 650 * MIB, 1000 * MIB, 50 * MIB));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, w.start_ns, t0));
    cr_assert(eq(u64, w.end_ns, t0 + 9 * SEC));
    cr_assert(eq(u64, w.samples, 4));
    cr_assert(eq(u64, w.first_bytes, 300 * MIB));
    cr_assert(eq(u64, w.last_bytes, 350 * MIB));
    cr_assert(eq(u64, w.min_bytes, 250 * MIB));
    cr_assert(eq(u64, w.max_bytes, 401 * MIB));
    /* (300 + 250 + 401 + 350) MiB / 4 = 325.25 MiB */
    cr_assert(eq(u64, w.mean_bytes, 325 * MIB + MIB / 4));
    /* The Darwin kernel peak rose to 600 MiB, then to 650 MiB, between samples. */
    cr_assert(eq(u64, w.peak_bytes, 650 * MIB));
    cr_assert(eq(u64, w.kernel_peak_bytes, 650 * MIB));
    cr_assert(eq(u64, w.limit_bytes, 1900 * MIB));
    cr_assert(eq(u64, w.min_available_bytes, 700 * MIB));

    cr_assert(eq(u64, st.windows, 1));
    cr_assert(eq(u64, st.last_window.samples, 4));
    cr_assert(eq(u64, st.last_window.mean_bytes, w.mean_bytes));
    cr_assert(eq(u64, st.last_window.min_available_bytes, 700 * MIB));
    cr_assert(eq(u64, st.current_window.samples, 1));
    cr_assert(eq(u64, st.current_window.min_available_bytes, 50 * MIB));
    cr_assert(eq(u64, st.current_window.limit_bytes, 1000 * MIB));
}

Test(window, peak_reflects_a_spike_that_max_misses)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);

    add(&f, darwin_at(0, 100 * MIB, 100 * MIB, 100 * MIB));
    add(&f, darwin_at(1 * SEC, 110 * MIB, 110 * MIB, 700 * MIB));
    memgauge_window_t w = add_closing(&f, darwin_at(10 * SEC, 120 * MIB, 120 * MIB, 700 * MIB));

    cr_assert(eq(u64, w.max_bytes, 110 * MIB));
    cr_assert(eq(u64, w.peak_bytes, 700 * MIB));
}

Test(window, min_available_ignores_samples_without_headroom)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);
    memgauge_reading_t unknown = footprint_at(1 * SEC, 100);
    memgauge_reading_t known = footprint_at(2 * SEC, 100);
    known.available_bytes = 5000;
    known.valid |= MEMGAUGE_FIELD_AVAILABLE;

    add(&f, unknown);
    add(&f, known);
    add(&f, footprint_at(3 * SEC, 100));
    memgauge_window_t w = add_closing(&f, footprint_at(20 * SEC, 100));

    cr_assert(eq(u64, w.min_available_bytes, 5000));
}

Test(window, min_available_is_zero_when_no_sample_knows_it)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);

    add(&f, footprint_at(1 * SEC, 100));
    add(&f, footprint_at(2 * SEC, 100));
    memgauge_window_t w = add_closing(&f, footprint_at(11 * SEC, 100));

    cr_assert(eq(u64, w.min_available_bytes, 0));
}

Test(window, min_available_keeps_a_headroom_of_zero)
{
    /* Linux reports headroom 0 with its bit set once the process has grown
     * past the last refresh's headroom: the lowest headroom seen is 0. */
    session_t f;
    session_init(&f, 4, 10 * SEC);
    memgauge_reading_t exhausted = footprint_at(1 * SEC, 900 * MIB);
    exhausted.available_bytes = 0;
    exhausted.valid |= MEMGAUGE_FIELD_AVAILABLE;
    memgauge_reading_t recovered = footprint_at(2 * SEC, 400 * MIB);
    recovered.available_bytes = 500 * MIB;
    recovered.valid |= MEMGAUGE_FIELD_AVAILABLE;

    add(&f, exhausted);
    add(&f, recovered);
    memgauge_window_t w = add_closing(&f, footprint_at(11 * SEC, 400 * MIB));

    cr_assert(eq(u64, w.min_available_bytes, 0));
}

Test(window, an_idle_gap_over_several_windows_closes_exactly_one)
{
    const uint64_t t0 = 1 * SEC;
    session_t f;
    session_init(&f, 4, 10 * SEC);

    add(&f, footprint_at(t0, 10));
    add(&f, footprint_at(t0 + 4 * SEC, 20));
    /* Nothing for 31 s: windows 1 and 2 saw no sample. */
    memgauge_window_t w = add_closing(&f, footprint_at(t0 + 35 * SEC, 30));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, w.samples, 2));
    cr_assert(eq(u64, w.start_ns, t0));
    cr_assert(eq(u64, w.end_ns, t0 + 4 * SEC));
    cr_assert(eq(u64, w.mean_bytes, 15));
    cr_assert(eq(u64, st.windows, 1));
    cr_assert(eq(u64, st.current_window.start_ns, t0 + 35 * SEC));

    /* The window in progress is [t0 + 30 s, t0 + 40 s): still aligned to t0. */
    add(&f, footprint_at(t0 + 40 * SEC - 1, 40));
    memgauge_window_t next = add_closing(&f, footprint_at(t0 + 40 * SEC, 50));

    cr_assert(eq(u64, next.samples, 2));
    cr_assert(eq(u64, next.start_ns, t0 + 35 * SEC));
    cr_assert(eq(u64, next.end_ns, t0 + 40 * SEC - 1));
    cr_assert(eq(u64, next.first_bytes, 30));
    cr_assert(eq(u64, next.last_bytes, 40));
    cr_assert(eq(u64, stats_of(&f).windows, 2));
}

Test(window, current_window_snapshot_has_its_mean)
{
    session_t f;
    session_init(&f, 4, 10 * SEC);

    add(&f, footprint_at(0, 7));
    add(&f, footprint_at(1 * SEC, 8));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, st.current_window.samples, 2));
    cr_assert(eq(u64, st.current_window.mean_bytes, 7));
    cr_assert(eq(u64, st.current_window.min_bytes, 7));
    cr_assert(eq(u64, st.current_window.max_bytes, 8));
}

/* ------------------------------------------------------------------------ */
/* Ring of recent samples                                                    */
/* ------------------------------------------------------------------------ */

Test(ring, capacity_4_after_10_samples_returns_the_last_4_oldest_first)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);
    for (uint64_t i = 1; i <= 10; i++)
        add(&f, footprint_at(i * SEC, i * 100));

    memgauge_sample_t out[8];
    memset(out, 0, sizeof out);
    size_t n = memgauge__session_recent(&f.s, out, 8);

    cr_assert(eq(sz, n, 4));
    for (size_t i = 0; i < 4; i++) {
        cr_assert(eq(u64, out[i].seq, 7 + i));
        cr_assert(eq(u64, out[i].time_ns, (7 + i) * SEC));
        cr_assert(eq(u64, out[i].footprint_bytes, (7 + i) * 100));
        cr_assert(eq(i64, out[i].delta_bytes, 100));
    }
}

Test(ring, a_cap_below_the_count_returns_the_newest_oldest_first)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);
    for (uint64_t i = 1; i <= 10; i++)
        add(&f, footprint_at(i * SEC, i * 100));

    memgauge_sample_t out[2];
    size_t n = memgauge__session_recent(&f.s, out, 2);

    cr_assert(eq(sz, n, 2));
    cr_assert(eq(u64, out[0].seq, 9));
    cr_assert(eq(u64, out[1].seq, 10));
}

Test(ring, a_cap_larger_than_the_count_returns_every_sample)
{
    session_t f;
    session_init(&f, 8, 60 * SEC);
    for (uint64_t i = 1; i <= 3; i++)
        add(&f, footprint_at(i * SEC, i * 100));

    memgauge_sample_t out[RING_CAP];
    size_t n = memgauge__session_recent(&f.s, out, RING_CAP);

    cr_assert(eq(sz, n, 3));
    cr_assert(eq(u64, out[0].seq, 1));
    cr_assert(eq(u64, out[1].seq, 2));
    cr_assert(eq(u64, out[2].seq, 3));
    cr_assert(eq(u64, out[2].footprint_bytes, 300));
}

Test(ring, exactly_full_returns_every_sample_in_order)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);
    for (uint64_t i = 1; i <= 4; i++)
        add(&f, footprint_at(i * SEC, i * 100));

    memgauge_sample_t out[4];
    size_t n = memgauge__session_recent(&f.s, out, 4);

    cr_assert(eq(sz, n, 4));
    for (size_t i = 0; i < 4; i++)
        cr_assert(eq(u64, out[i].seq, i + 1));
}

Test(ring, a_cap_of_0_returns_nothing)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);
    for (uint64_t i = 1; i <= 5; i++)
        add(&f, footprint_at(i * SEC, i * 100));

    memgauge_sample_t out[1];
    memset(out, 0, sizeof out);

    cr_assert(eq(sz, memgauge__session_recent(&f.s, out, 0), 0));
    cr_assert(eq(u64, out[0].seq, 0));
}

Test(ring, a_ring_of_capacity_0_keeps_nothing_but_the_statistics)
{
    memgauge__session_t s;
    memgauge__session_init(&s, NULL, 0, 60 * SEC);
    memgauge_sample_t smp;
    memgauge_window_t closed;
    for (uint64_t i = 1; i <= 3; i++) {
        memgauge_reading_t r = footprint_at(i * SEC, i * 100);
        cr_assert(eq(int, memgauge__session_add(&s, &r, &smp, &closed), 0));
    }
    memgauge_sample_t out[4];

    cr_assert(eq(sz, memgauge__session_recent(&s, out, 4), 0));
    cr_assert(eq(u64, smp.seq, 3));
    cr_assert(eq(u64, s.samples, 3));
}

/* ------------------------------------------------------------------------ */
/* Interval peak: spikes the kernel saw between two samples                  */
/* ------------------------------------------------------------------------ */

Test(interval_peak, linux_rising_kernel_peak_minus_the_larger_file_backed_part)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    /* Before: footprint 200, resident 300 (100 file-backed). After: footprint
     * 250, resident 320 (70 file-backed). VmHWM rose 300 -> 500 in between:
     * the spike's footprint was at least 500 - 100. */
    add(&f, linux_at(1 * SEC, 200 * MIB, 300 * MIB, 300 * MIB));
    memgauge_sample_t smp = add(&f, linux_at(2 * SEC, 250 * MIB, 320 * MIB, 500 * MIB));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, smp.interval_peak_bytes, 400 * MIB));
    cr_assert(eq(u64, smp.kernel_peak_bytes, 500 * MIB));
    cr_assert(eq(u64, st.peak_bytes, 400 * MIB));
    cr_assert(eq(u64, st.max_bytes, 250 * MIB));
    cr_assert(eq(u64, st.kernel_peak_bytes, 500 * MIB));
    cr_assert(eq(u64, st.current_window.peak_bytes, 400 * MIB));
    cr_assert(eq(u64, st.current_window.max_bytes, 250 * MIB));
}

Test(interval_peak, linux_subtracts_the_current_file_part_when_it_is_larger)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    /* Before: 50 file-backed. After: 120 file-backed. */
    add(&f, linux_at(1 * SEC, 200 * MIB, 250 * MIB, 260 * MIB));
    memgauge_sample_t smp = add(&f, linux_at(2 * SEC, 210 * MIB, 330 * MIB, 600 * MIB));

    cr_assert(eq(u64, smp.interval_peak_bytes, 480 * MIB));
}

Test(interval_peak, linux_without_a_rise_is_the_larger_sampled_footprint)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    add(&f, linux_at(1 * SEC, 200 * MIB, 300 * MIB, 500 * MIB));
    memgauge_sample_t down = add(&f, linux_at(2 * SEC, 150 * MIB, 250 * MIB, 500 * MIB));
    memgauge_sample_t up = add(&f, linux_at(3 * SEC, 180 * MIB, 280 * MIB, 500 * MIB));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, down.interval_peak_bytes, 200 * MIB));
    cr_assert(eq(u64, up.interval_peak_bytes, 180 * MIB));
    cr_assert(eq(u64, st.peak_bytes, 200 * MIB));
    cr_assert(eq(u64, st.max_bytes, 200 * MIB));
}

Test(interval_peak, linux_kernel_peak_that_only_follows_resident_adds_nothing)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    /* VmHWM rose to the current resident size: no spike between samples. */
    add(&f, linux_at(1 * SEC, 200 * MIB, 300 * MIB, 300 * MIB));
    memgauge_sample_t smp = add(&f, linux_at(2 * SEC, 260 * MIB, 360 * MIB, 360 * MIB));

    cr_assert(eq(u64, smp.interval_peak_bytes, 260 * MIB));
    cr_assert(eq(u64, stats_of(&f).peak_bytes, 260 * MIB));
}

Test(interval_peak, darwin_rising_kernel_peak_is_the_peak_itself)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);

    /* ledger_phys_footprint_peak is already a footprint: nothing is taken
     * off, however large resident is. */
    add(&f, darwin_at(1 * SEC, 150 * MIB, 400 * MIB, 180 * MIB));
    memgauge_sample_t smp = add(&f, darwin_at(2 * SEC, 160 * MIB, 420 * MIB, 240 * MIB));
    memgauge_sample_t flat = add(&f, darwin_at(3 * SEC, 155 * MIB, 420 * MIB, 240 * MIB));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, smp.interval_peak_bytes, 240 * MIB));
    cr_assert(eq(u64, flat.interval_peak_bytes, 160 * MIB));
    cr_assert(eq(u64, st.peak_bytes, 240 * MIB));
    cr_assert(eq(u64, st.max_bytes, 160 * MIB));
}

Test(interval_peak, a_kernel_peak_unknown_at_either_end_is_ignored)
{
    session_t f;
    session_init(&f, 4, 60 * SEC);
    memgauge_reading_t no_peak = linux_at(2 * SEC, 210 * MIB, 300 * MIB, 0);
    no_peak.valid &= ~MEMGAUGE_FIELD_PEAK;

    add(&f, linux_at(1 * SEC, 200 * MIB, 300 * MIB, 300 * MIB));
    memgauge_sample_t unknown_now = add(&f, no_peak);
    memgauge_sample_t unknown_before = add(&f, linux_at(3 * SEC, 205 * MIB, 300 * MIB, 900 * MIB));
    memgauge_stats_t st = stats_of(&f);

    cr_assert(eq(u64, unknown_now.kernel_peak_bytes, 0));
    cr_assert(eq(u64, unknown_now.interval_peak_bytes, 210 * MIB));
    cr_assert(eq(u64, unknown_before.interval_peak_bytes, 210 * MIB));
    cr_assert(eq(u64, st.peak_bytes, 210 * MIB));
}
