/*
 * The sampler's tick grid as pure functions (header-only, used by
 * sampler.c and its tests).
 *
 * Ticks fall on next = start + k * interval of the monotonic clock. Two
 * ways to be late are told apart:
 * - a sample or callback ran past the next tick: the ticks it covered are
 *   skipped and counted as overruns (the sampler's own cost);
 * - the wait itself ended a whole interval or more after its tick: the
 *   thread did not run at all, because the process was suspended (an iOS
 *   app in the background; Darwin's monotonic clock keeps running while a
 *   process is suspended) or the machine slept. That is no overrun: the
 *   grid restarts at the wake-up.
 */
#ifndef MEMGAUGE_TICK_H
#define MEMGAUGE_TICK_H

#include <stdint.h>

/* After the wait for the tick at next_ns ended at woke_ns: the tick to
 * sample now. Returns next_ns when the wait ended within one interval of
 * it, else woke_ns (a new grid) and counts one resume in *resumes. */
static inline uint64_t memgauge__tick_after_wait(uint64_t next_ns, uint64_t woke_ns,
                                                 uint64_t interval_ns, uint64_t *resumes)
{
    if (woke_ns > next_ns && woke_ns - next_ns >= interval_ns) {
        (*resumes)++;
        return woke_ns;
    }
    return next_ns;
}

/* After the sample of the tick at tick_ns finished at now_ns: the next
 * tick, skipping (and adding to *overruns) those already past. */
static inline uint64_t memgauge__tick_after_sample(uint64_t tick_ns, uint64_t now_ns,
                                                   uint64_t interval_ns, uint64_t *overruns)
{
    uint64_t next = tick_ns + interval_ns;
    if (now_ns >= next) {
        uint64_t missed = (now_ns - next) / interval_ns + 1;
        *overruns += missed;
        next += missed * interval_ns;
    }
    return next;
}

#endif
