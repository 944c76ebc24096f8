/* Darwin memory pressure rules, kept free of Apple headers. See the header. */
#include "darwin_pressure_rules.h"

#include <memgauge/memgauge.h>

/* state = (time of the last elevated event in ms << 2) | level. 2^62 ms of
 * monotonic time will not run out. */
#define LEVEL_MASK UINT64_C(3)
#define NS_PER_MS UINT64_C(1000000)

int memgauge__darwin_pressure_from_flags(uintptr_t flags, bool simulator)
{
    if (simulator)
        return flags != 0 ? MEMGAUGE_PRESSURE_WARNING : MEMGAUGE_PRESSURE_NORMAL;
    if (flags & MEMGAUGE__DISPATCH_PRESSURE_NORMAL)
        return MEMGAUGE_PRESSURE_NORMAL;
    if (flags & MEMGAUGE__DISPATCH_PRESSURE_CRITICAL)
        return MEMGAUGE_PRESSURE_CRITICAL;
    if (flags & MEMGAUGE__DISPATCH_PRESSURE_WARN)
        return MEMGAUGE_PRESSURE_WARNING;
    return MEMGAUGE_PRESSURE_NORMAL;
}

memgauge__darwin_pressure_state_t
memgauge__darwin_pressure_on_event(memgauge__darwin_pressure_state_t state, uintptr_t flags,
                                   bool simulator, uint64_t now_ns)
{
    /* flags that name no level (another bit of a newer SDK) change nothing */
    const uintptr_t known = MEMGAUGE__DISPATCH_PRESSURE_NORMAL | MEMGAUGE__DISPATCH_PRESSURE_WARN |
                            MEMGAUGE__DISPATCH_PRESSURE_CRITICAL;
    if (!simulator && (flags & known) == 0)
        return state;
    int level = memgauge__darwin_pressure_from_flags(flags, simulator);
    if (level == MEMGAUGE_PRESSURE_NORMAL)
        return 0;
    uint64_t ms = now_ns / NS_PER_MS;
    if (ms == 0)
        ms = 1; /* keep "elevated at time 0" apart from the initial state */
    return (ms << 2) | (uint64_t)level;
}

int memgauge__darwin_pressure_level(memgauge__darwin_pressure_state_t state, uint64_t now_ns)
{
    int level = (int)(state & LEVEL_MASK);
    if (level == MEMGAUGE_PRESSURE_NORMAL)
        return MEMGAUGE_PRESSURE_NORMAL;
    uint64_t since_ms = state >> 2;
    uint64_t now_ms = now_ns / NS_PER_MS;
    if (now_ms > since_ms && now_ms - since_ms >= MEMGAUGE__DARWIN_PRESSURE_QUIET_NS / NS_PER_MS)
        return MEMGAUGE_PRESSURE_NORMAL;
    return level;
}
