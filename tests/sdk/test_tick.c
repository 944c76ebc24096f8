/* The sampler's tick grid (sdk/tick.h): overruns are the sampler's own
 * lateness; a suspension of the whole process restarts the grid. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "tick.h"

#define MS UINT64_C(1000000)
#define S (1000 * MS)

Test(tick, on_time_sample_moves_one_interval)
{
    uint64_t overruns = 0;
    cr_assert(eq(u64, memgauge__tick_after_sample(10 * S, 10 * S + 2 * MS, S, &overruns), 11 * S));
    cr_assert(eq(u64, overruns, 0));
}

Test(tick, long_callback_skips_and_counts_the_ticks_it_covered)
{
    uint64_t overruns = 0;
    /* the sample of the 10 s tick ran until 12.5 s: 11 s and 12 s are gone */
    cr_assert(
        eq(u64, memgauge__tick_after_sample(10 * S, 12 * S + 500 * MS, S, &overruns), 13 * S));
    cr_assert(eq(u64, overruns, 2));
}

Test(tick, sample_ending_exactly_on_the_next_tick_skips_it)
{
    uint64_t overruns = 0;
    cr_assert(eq(u64, memgauge__tick_after_sample(10 * S, 11 * S, S, &overruns), 12 * S));
    cr_assert(eq(u64, overruns, 1));
}

Test(tick, wait_ending_on_time_keeps_the_grid)
{
    uint64_t resumes = 0;
    cr_assert(eq(u64, memgauge__tick_after_wait(11 * S, 11 * S + 3 * MS, S, &resumes), 11 * S));
    cr_assert(eq(u64, memgauge__tick_after_wait(11 * S, 11 * S + 999 * MS, S, &resumes), 11 * S));
    cr_assert(eq(u64, resumes, 0));
}

/* An iOS app suspended for ten minutes: Darwin's monotonic clock ran on. */
Test(tick, resume_after_suspension_restarts_the_grid_without_overruns)
{
    uint64_t resumes = 0, overruns = 0;
    uint64_t woke = 11 * S + 600 * S + 250 * MS;
    uint64_t tick = memgauge__tick_after_wait(11 * S, woke, S, &resumes);
    cr_assert(eq(u64, tick, woke));
    cr_assert(eq(u64, resumes, 1));

    uint64_t next = memgauge__tick_after_sample(tick, woke + 2 * MS, S, &overruns);
    cr_assert(eq(u64, next, woke + S));
    cr_assert(eq(u64, overruns, 0));
}

Test(tick, early_wake_keeps_the_tick)
{
    uint64_t resumes = 0;
    cr_assert(eq(u64, memgauge__tick_after_wait(11 * S, 10 * S, S, &resumes), 11 * S));
    cr_assert(eq(u64, resumes, 0));
}
