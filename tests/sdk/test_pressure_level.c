/*
 * Pressure level from headroom and the OS, and the adaptive interval.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pressure.h"

#define MIB (UINT64_C(1) << 20)

static memgauge__pressure_t p;

static void setup(void)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    memgauge__pressure_init(&p, &o); /* warning 15 %, critical 5 %, fast below 25 % */
}

TestSuite(pressure, .init = setup);

static memgauge_sample_t at(uint64_t available, uint64_t limit)
{
    memgauge_sample_t s;
    memset(&s, 0, sizeof s);
    s.seq = 2;
    s.time_ns = 5;
    s.footprint_bytes = limit > available ? limit - available : 0;
    s.limit_bytes = limit;
    s.available_bytes = available;
    s.valid =
        MEMGAUGE_FIELD_FOOTPRINT | (limit ? MEMGAUGE_FIELD_LIMIT : 0) | MEMGAUGE_FIELD_AVAILABLE;
    return s;
}

static int feed(uint64_t available, int os_level, memgauge_pressure_event_t *e)
{
    memgauge_sample_t s = at(available, 1000 * MIB);
    return memgauge__pressure_update(&p, &s, os_level, e);
}

Test(pressure, headroom_fractions_give_warning_then_critical_with_one_event_each)
{
    memgauge_pressure_event_t e;
    cr_assert_eq(feed(500 * MIB, 0, &e), 0);
    cr_assert_eq(feed(140 * MIB, 0, &e), 1);
    cr_assert_eq(e.previous, MEMGAUGE_PRESSURE_NORMAL);
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_WARNING);
    cr_assert(e.from_headroom);
    cr_assert_not(e.from_os);
    cr_assert_eq(e.available_bytes, 140 * MIB);
    cr_assert_eq(feed(130 * MIB, 0, &e), 0);
    cr_assert_eq(feed(40 * MIB, 0, &e), 1);
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_CRITICAL);
    cr_assert_str_eq(memgauge_pressure_name(e.level), "critical");
}

Test(pressure, hovering_at_a_boundary_does_not_flap)
{
    memgauge_pressure_event_t e;
    cr_assert_eq(feed(149 * MIB, 0, &e), 1);
    int changes = 0;
    for (int i = 0; i < 50; i++)
        changes += feed(i % 2 ? 149 * MIB : 160 * MIB, 0, &e);
    cr_assert_eq(changes, 0, "hovering between 14.9 %% and 16 %% flapped %d times", changes);
    cr_assert_eq(feed(171 * MIB, 0, &e), 1); /* above 15 % + 2 %: back to normal */
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_NORMAL);
}

Test(pressure, the_os_level_raises_the_combined_level)
{
    memgauge_pressure_event_t e;
    cr_assert_eq(feed(500 * MIB, MEMGAUGE_PRESSURE_CRITICAL, &e), 1);
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_CRITICAL);
    cr_assert(e.from_os);
    cr_assert_not(e.from_headroom);
    cr_assert_eq(feed(500 * MIB, MEMGAUGE_PRESSURE_NORMAL, &e), 1);
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_NORMAL);
}

Test(pressure, an_unknown_limit_leaves_only_the_os_level)
{
    memgauge_pressure_event_t e;
    memgauge_sample_t s = at(1 * MIB, 0);
    cr_assert_eq(memgauge__pressure_update(&p, &s, 0, &e), 0);
    cr_assert_eq(memgauge__pressure_update(&p, &s, MEMGAUGE_PRESSURE_WARNING, &e), 1);
    cr_assert_eq(e.level, MEMGAUGE_PRESSURE_WARNING);
}

Test(pressure, low_headroom_or_fast_growth_samples_fast_until_five_calm_samples)
{
    memgauge_sample_t calm = at(500 * MIB, 1000 * MIB);
    memgauge_sample_t low = at(200 * MIB, 1000 * MIB); /* 20 % < 25 % */
    cr_assert_eq(memgauge__pressure_adapt(&p, &calm, 0), 0);
    cr_assert_eq(memgauge__pressure_adapt(&p, &low, 0), 1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(memgauge__pressure_adapt(&p, &calm, 0), 1, "calm sample %d", i + 1);
    cr_assert_eq(memgauge__pressure_adapt(&p, &calm, 0), 0);
    /* 64 MiB/s growth is the default trigger */
    cr_assert_eq(memgauge__pressure_adapt(&p, &calm, (int64_t)(63 * MIB)), 0);
    cr_assert_eq(memgauge__pressure_adapt(&p, &calm, (int64_t)(64 * MIB)), 1);
}

Test(pressure, triggers_set_to_zero_are_off)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.fast_headroom_fraction = 0;
    o.fast_growth_bytes_per_s = 0;
    memgauge__pressure_init(&p, &o);
    memgauge_sample_t low = at(200 * MIB, 1000 * MIB);
    cr_assert_eq(memgauge__pressure_adapt(&p, &low, (int64_t)(1000 * MIB)), 0);
}
