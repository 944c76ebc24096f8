/* Threshold crossings with hysteresis (thresholds.c), fed with samples whose
 * footprint, interval peak and limit are set by hand. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "thresholds.h"

#define MIB (UINT64_C(1) << 20)
#define SEC UINT64_C(1000000000)

enum { MAX_EVENTS = 2 * MEMGAUGE_MAX_THRESHOLDS };

static memgauge_threshold_t absolute(uint64_t bytes, int id)
{
    memgauge_threshold_t t;
    memset(&t, 0, sizeof t);
    t.bytes = bytes;
    t.id = id;
    return t;
}

static memgauge_threshold_t of_limit(double fraction, int id)
{
    memgauge_threshold_t t;
    memset(&t, 0, sizeof t);
    t.limit_fraction = fraction;
    t.id = id;
    return t;
}

/* A sample whose interval peak is its footprint (no spike in between). */
static memgauge_sample_t at(uint64_t time_ns, uint64_t footprint, uint64_t limit)
{
    memgauge_sample_t s;
    memset(&s, 0, sizeof s);
    s.time_ns = time_ns;
    s.footprint_bytes = footprint;
    s.interval_peak_bytes = footprint;
    s.limit_bytes = limit;
    s.valid = MEMGAUGE_FIELD_FOOTPRINT | (limit ? MEMGAUGE_FIELD_LIMIT : 0);
    return s;
}

/* A sample after a spike between readings: the interval peak is higher. */
static memgauge_sample_t spike_at(uint64_t time_ns, uint64_t footprint, uint64_t peak,
                                  uint64_t limit)
{
    memgauge_sample_t s = at(time_ns, footprint, limit);
    s.interval_peak_bytes = peak;
    return s;
}

typedef struct {
    uint32_t n;
    memgauge_threshold_event_t e[MAX_EVENTS];
} events_t;

static events_t eval(memgauge__thresholds_t *t, memgauge_sample_t s)
{
    events_t ev;
    memset(&ev, 0xab, sizeof ev);
    ev.n = memgauge__thresholds_eval(t, &s, ev.e);
    return ev;
}

/* Total events over a run of footprints, one sample per second. */
static uint32_t events_over(memgauge__thresholds_t *t, const uint64_t *fp, size_t count,
                            uint64_t limit)
{
    uint32_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += eval(t, at(i * SEC, fp[i], limit)).n;
    return total;
}

/* ------------------------------------------------------------------------ */
/* Levels                                                                    */
/* ------------------------------------------------------------------------ */

Test(threshold_level, absolute_level_ignores_the_limit)
{
    memgauge_threshold_t t = absolute(300 * MIB, 1);

    cr_assert(eq(u64, memgauge__threshold_level(&t, 0), 300 * MIB));
    cr_assert(eq(u64, memgauge__threshold_level(&t, 1000 * MIB), 300 * MIB));
}

Test(threshold_level, fraction_is_a_share_of_the_limit_rounded_down)
{
    memgauge_threshold_t three_quarters = of_limit(0.75, 1);
    memgauge_threshold_t half = of_limit(0.5, 2);
    memgauge_threshold_t all = of_limit(1.0, 3);

    cr_assert(eq(u64, memgauge__threshold_level(&three_quarters, 1000 * MIB), 750 * MIB));
    cr_assert(eq(u64, memgauge__threshold_level(&half, 1001), 500));
    cr_assert(eq(u64, memgauge__threshold_level(&all, 2048 * MIB), 2048 * MIB));
}

Test(threshold_level, fraction_of_an_unknown_limit_is_no_level)
{
    memgauge_threshold_t t = of_limit(0.75, 1);

    cr_assert(eq(u64, memgauge__threshold_level(&t, 0), 0));
}

/* ------------------------------------------------------------------------ */
/* Crossings                                                                 */
/* ------------------------------------------------------------------------ */

Test(thresholds, absolute_level_fires_up_when_the_footprint_reaches_it)
{
    memgauge_threshold_t defs[] = {absolute(100 * MIB, 7)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    events_t below = eval(&t, at(1 * SEC, 100 * MIB - 1, 0));
    events_t reached = eval(&t, at(2 * SEC, 100 * MIB, 0));

    cr_assert(eq(u32, below.n, 0));
    cr_assert(eq(u32, reached.n, 1));
    cr_assert(eq(int, reached.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u64, reached.e[0].level_bytes, 100 * MIB));
    cr_assert(eq(u64, reached.e[0].footprint_bytes, 100 * MIB));
}

Test(thresholds, up_event_carries_every_field)
{
    memgauge_threshold_t defs[] = {absolute(500 * MIB, 11), of_limit(0.8, 42)};
    defs[1].urgent = 1;
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 2, 0.05);

    /* 0.8 of 1000 MiB = 800 MiB; 820 MiB crosses both levels. */
    events_t ev = eval(&t, at(37 * SEC, 820 * MIB, 1000 * MIB));

    cr_assert(eq(u32, ev.n, 2));
    cr_assert(eq(int, ev.e[1].id, 42));
    cr_assert(eq(int, ev.e[1].index, 1));
    cr_assert(eq(int, ev.e[1].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(int, ev.e[1].urgent, 1));
    cr_assert(eq(u64, ev.e[1].level_bytes, 800 * MIB));
    cr_assert(eq(u64, ev.e[1].footprint_bytes, 820 * MIB));
    cr_assert(eq(u64, ev.e[1].limit_bytes, 1000 * MIB));
    cr_assert(eq(u64, ev.e[1].time_ns, 37 * SEC));

    cr_assert(eq(int, ev.e[0].id, 11));
    cr_assert(eq(int, ev.e[0].index, 0));
    cr_assert(eq(int, ev.e[0].urgent, 0));
    cr_assert(eq(u64, ev.e[0].level_bytes, 500 * MIB));
}

Test(thresholds, down_event_carries_every_field)
{
    memgauge_threshold_t defs[] = {of_limit(0.5, 9)};
    defs[0].urgent = 1;
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.1);

    eval(&t, at(1 * SEC, 600 * MIB, 1000 * MIB));
    /* Level 500 MiB, down level 450 MiB. */
    events_t ev = eval(&t, at(9 * SEC, 449 * MIB, 1000 * MIB));

    cr_assert(eq(u32, ev.n, 1));
    cr_assert(eq(int, ev.e[0].id, 9));
    cr_assert(eq(int, ev.e[0].index, 0));
    cr_assert(eq(int, ev.e[0].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(int, ev.e[0].urgent, 1));
    cr_assert(eq(u64, ev.e[0].level_bytes, 500 * MIB));
    cr_assert(eq(u64, ev.e[0].footprint_bytes, 449 * MIB));
    cr_assert(eq(u64, ev.e[0].limit_bytes, 1000 * MIB));
    cr_assert(eq(u64, ev.e[0].time_ns, 9 * SEC));
}

Test(thresholds, fraction_is_inactive_while_the_limit_is_unknown)
{
    memgauge_threshold_t defs[] = {of_limit(0.5, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    events_t unknown = eval(&t, at(1 * SEC, UINT64_C(64) << 30, 0));
    events_t known = eval(&t, at(2 * SEC, 600 * MIB, 1000 * MIB));

    cr_assert(eq(u32, unknown.n, 0));
    cr_assert(eq(u32, known.n, 1));
    cr_assert(eq(int, known.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u64, known.e[0].level_bytes, 500 * MIB));
}

Test(thresholds, fraction_level_follows_a_changing_limit)
{
    memgauge_threshold_t defs[] = {of_limit(0.8, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    /* 790 MiB is below 0.8 of 1000 MiB but above 0.8 of 900 MiB. */
    events_t roomy = eval(&t, at(1 * SEC, 790 * MIB, 1000 * MIB));
    events_t tighter = eval(&t, at(2 * SEC, 790 * MIB, 900 * MIB));

    cr_assert(eq(u32, roomy.n, 0));
    cr_assert(eq(u32, tighter.n, 1));
    cr_assert(eq(u64, tighter.e[0].level_bytes, 720 * MIB));
    cr_assert(eq(u64, tighter.e[0].limit_bytes, 900 * MIB));
}

Test(thresholds, upward_fires_once_while_the_footprint_stays_above)
{
    static const uint64_t fp[] = {90, 100, 120, 101, 150, 1000, 100, 100};
    memgauge_threshold_t defs[] = {absolute(100, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    cr_assert(eq(u32, events_over(&t, fp, sizeof fp / sizeof fp[0], 0), 1));
}

Test(thresholds, no_flapping_between_the_level_and_the_down_level)
{
    /* Level 1000, hysteresis 5%: down level 950. */
    static const uint64_t fp[] = {1000, 950, 1000, 950, 999, 951, 1000, 950, 1200, 950};
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    cr_assert(eq(u32, events_over(&t, fp, sizeof fp / sizeof fp[0], 0), 1));
}

Test(thresholds, downward_fires_only_below_the_level_minus_hysteresis)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    eval(&t, at(1 * SEC, 1000, 0));
    events_t at_down_level = eval(&t, at(2 * SEC, 950, 0));
    events_t below = eval(&t, at(3 * SEC, 949, 0));
    events_t further = eval(&t, at(4 * SEC, 10, 0));

    cr_assert(eq(u32, at_down_level.n, 0));
    cr_assert(eq(u32, below.n, 1));
    cr_assert(eq(int, below.e[0].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(u64, below.e[0].footprint_bytes, 949));
    cr_assert(eq(u32, further.n, 0));
}

Test(thresholds, downward_without_a_prior_upward_never_fires)
{
    static const uint64_t fp[] = {10, 5, 1, 0, 900};
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    cr_assert(eq(u32, events_over(&t, fp, sizeof fp / sizeof fp[0], 0), 0));
}

Test(thresholds, zero_hysteresis_goes_down_just_below_the_level)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.0);

    eval(&t, at(1 * SEC, 1000, 0));
    events_t at_level = eval(&t, at(2 * SEC, 1000, 0));
    events_t below = eval(&t, at(3 * SEC, 999, 0));

    cr_assert(eq(u32, at_level.n, 0));
    cr_assert(eq(u32, below.n, 1));
    cr_assert(eq(int, below.e[0].direction, MEMGAUGE_CROSSED_DOWN));
}

Test(thresholds, rearms_after_going_down)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    events_t up1 = eval(&t, at(1 * SEC, 1100, 0));
    events_t down1 = eval(&t, at(2 * SEC, 900, 0));
    events_t quiet = eval(&t, at(3 * SEC, 990, 0));
    events_t up2 = eval(&t, at(4 * SEC, 1000, 0));
    events_t down2 = eval(&t, at(5 * SEC, 100, 0));

    cr_assert(eq(u32, up1.n, 1));
    cr_assert(eq(int, up1.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u32, down1.n, 1));
    cr_assert(eq(int, down1.e[0].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(u32, quiet.n, 0));
    cr_assert(eq(u32, up2.n, 1));
    cr_assert(eq(int, up2.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u64, up2.e[0].time_ns, 4 * SEC));
    cr_assert(eq(u32, down2.n, 1));
    cr_assert(eq(int, down2.e[0].direction, MEMGAUGE_CROSSED_DOWN));
}

Test(thresholds, upward_is_judged_on_the_interval_peak)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    /* Sampled 980 (above the down level), spiked to 1300 in between. */
    events_t ev = eval(&t, spike_at(1 * SEC, 980, 1300, 0));

    cr_assert(eq(u32, ev.n, 1));
    cr_assert(eq(int, ev.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u64, ev.e[0].footprint_bytes, 1300));
}

Test(thresholds, a_spike_between_samples_gives_up_then_down_in_one_evaluation)
{
    memgauge_threshold_t defs[] = {absolute(1000, 5)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    events_t ev = eval(&t, spike_at(3 * SEC, 900, 1200, 0));
    events_t after = eval(&t, at(4 * SEC, 900, 0));

    cr_assert(eq(u32, ev.n, 2));
    cr_assert(eq(int, ev.e[0].direction, MEMGAUGE_CROSSED_UP));
    cr_assert(eq(u64, ev.e[0].footprint_bytes, 1200));
    cr_assert(eq(u64, ev.e[0].level_bytes, 1000));
    cr_assert(eq(u64, ev.e[0].time_ns, 3 * SEC));
    cr_assert(eq(int, ev.e[1].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(u64, ev.e[1].footprint_bytes, 900));
    cr_assert(eq(u64, ev.e[1].level_bytes, 1000));
    cr_assert(eq(u64, ev.e[1].time_ns, 3 * SEC));
    cr_assert(eq(u32, after.n, 0));
}

Test(thresholds, downward_is_judged_on_the_sampled_footprint)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);

    eval(&t, at(1 * SEC, 1100, 0));
    /* The interval peak is still the previous 1100, the footprint fell. */
    events_t ev = eval(&t, spike_at(2 * SEC, 900, 1100, 0));

    cr_assert(eq(u32, ev.n, 1));
    cr_assert(eq(int, ev.e[0].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(u64, ev.e[0].footprint_bytes, 900));
}

Test(thresholds, several_thresholds_fire_independently_in_index_order)
{
    memgauge_threshold_t defs[] = {absolute(500, 10), of_limit(0.9, 20), absolute(2000, 30)};
    defs[1].urgent = 1;
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 3, 0.05);
    const uint64_t limit = 1000;

    events_t first = eval(&t, at(1 * SEC, 950, limit));
    events_t second = eval(&t, at(2 * SEC, 2100, limit));
    /* Down levels: 475, 855 (0.9 of 1000 = 900), 1900. */
    events_t third = eval(&t, at(3 * SEC, 600, limit));
    events_t fourth = eval(&t, at(4 * SEC, 400, limit));

    cr_assert(eq(u32, first.n, 2));
    cr_assert(eq(int, first.e[0].id, 10));
    cr_assert(eq(int, first.e[0].index, 0));
    cr_assert(eq(u64, first.e[0].level_bytes, 500));
    cr_assert(eq(int, first.e[1].id, 20));
    cr_assert(eq(int, first.e[1].index, 1));
    cr_assert(eq(int, first.e[1].urgent, 1));
    cr_assert(eq(u64, first.e[1].level_bytes, 900));

    cr_assert(eq(u32, second.n, 1));
    cr_assert(eq(int, second.e[0].id, 30));
    cr_assert(eq(int, second.e[0].index, 2));
    cr_assert(eq(int, second.e[0].direction, MEMGAUGE_CROSSED_UP));

    cr_assert(eq(u32, third.n, 2));
    cr_assert(eq(int, third.e[0].index, 1));
    cr_assert(eq(int, third.e[0].direction, MEMGAUGE_CROSSED_DOWN));
    cr_assert(eq(int, third.e[1].index, 2));
    cr_assert(eq(int, third.e[1].direction, MEMGAUGE_CROSSED_DOWN));

    cr_assert(eq(u32, fourth.n, 1));
    cr_assert(eq(int, fourth.e[0].index, 0));
    cr_assert(eq(int, fourth.e[0].direction, MEMGAUGE_CROSSED_DOWN));
}

Test(thresholds, a_spike_over_every_level_can_fill_two_events_per_threshold)
{
    memgauge_threshold_t defs[MEMGAUGE_MAX_THRESHOLDS];
    for (int i = 0; i < MEMGAUGE_MAX_THRESHOLDS; i++)
        defs[i] = absolute((uint64_t)(i + 1) * 100, i);
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, MEMGAUGE_MAX_THRESHOLDS, 0.05);

    events_t ev = eval(&t, spike_at(1 * SEC, 10, 5000, 0));

    cr_assert(eq(u32, ev.n, 2 * MEMGAUGE_MAX_THRESHOLDS));
    for (int i = 0; i < MEMGAUGE_MAX_THRESHOLDS; i++) {
        cr_assert(eq(int, ev.e[2 * i].index, i));
        cr_assert(eq(int, ev.e[2 * i].direction, MEMGAUGE_CROSSED_UP));
        cr_assert(eq(int, ev.e[2 * i + 1].index, i));
        cr_assert(eq(int, ev.e[2 * i + 1].direction, MEMGAUGE_CROSSED_DOWN));
    }
}

Test(thresholds, init_copies_the_definitions)
{
    memgauge_threshold_t defs[] = {absolute(1000, 1)};
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, defs, 1, 0.05);
    defs[0].bytes = 1;
    defs[0].id = 99;

    events_t low = eval(&t, at(1 * SEC, 500, 0));
    events_t high = eval(&t, at(2 * SEC, 1000, 0));

    cr_assert(eq(u32, low.n, 0));
    cr_assert(eq(u32, high.n, 1));
    cr_assert(eq(int, high.e[0].id, 1));
}

Test(thresholds, no_thresholds_no_events)
{
    memgauge__thresholds_t t;
    memgauge__thresholds_init(&t, NULL, 0, 0.05);

    cr_assert(eq(u32, eval(&t, spike_at(1 * SEC, 10, UINT64_MAX, 1000)).n, 0));
}
