/*
 * The platform layer's refresh policy: the one place that says what its
 * readers keep between calls, how often they refresh it, and what fork()
 * does to it.
 *
 * What is kept (each in one static struct `g` of its file):
 *
 *   platform_linux.c   held fds on /proc/self/statm and /proc/self/status,
 *                      the page size and physical memory (read once), the
 *                      memory cgroup's directory (found at the first reading),
 *                      the peak inherited across exec(): kept until fork().
 *                      Whether swap is configured, the cgroup limit and the
 *                      headroom (limit - working set, at most MemAvailable):
 *                      refreshed every MEMGAUGE__REFRESH_LIMITS_NS, or at the
 *                      next reading after memgauge__platform_invalidate();
 *                      between refreshes the headroom is carried forward by
 *                      the process's own footprint change.
 *   pressure_linux.c   the paths of the cgroup's memory.pressure and OOM
 *                      counter and the v1 pressure-level eventfds (found and
 *                      registered at the first call): kept until fork(). PSI
 *                      avg10 and the OOM kill count: refreshed every
 *                      MEMGAUGE__REFRESH_PRESSURE_NS. The eventfds are read at
 *                      every call (non-blocking).
 *   pressure_darwin.c  the level libdispatch's memory pressure source last
 *                      reported: updated by its events, never polled.
 *   platform_darwin.c, identity_*.c, file_*.c: nothing; every call asks the
 *                      kernel.
 *
 * How a refresh runs: on whichever thread reads when it is due, one thread
 * at a time under the cache's lock. A reader that finds older values never
 * waits (trylock: it goes on with them); a reading of platform_linux.c with
 * no values at all waits for the refresh in progress: the first one, and the
 * first after memgauge__platform_invalidate() or a fork (both clear them).
 * Values are published with atomics, so readers take no lock.
 *
 * fork(): one pthread_atfork registration for the whole layer (refresh.c).
 * Before the fork every registered cache's lock is taken, so the child never
 * inherits a refresh half done; the parent releases them; the child runs
 * each cache's `child` hook, then releases them. The hooks only mark state
 * stale and close what must not be shared (the v1 eventfds share their
 * counter with the parent): the child's next call rediscovers its own
 * cgroup, reopens /proc/self (the held fds still describe the parent) and
 * registers its own eventfds. On Darwin the child reports NORMAL pressure
 * from then on (libdispatch is unusable after fork()).
 */
#ifndef MEMGAUGE_PLATFORM_REFRESH_H
#define MEMGAUGE_PLATFORM_REFRESH_H

#include <pthread.h>
#include <stdint.h>

/* Limits change by administration, headroom by other processes: a
 * two-second view of both (with our own change applied at every reading)
 * costs a fraction of a microsecond per reading amortized. */
#define MEMGAUGE__REFRESH_LIMITS_NS (UINT64_C(2000) * 1000u * 1000u)

/* PSI's avg10 moves every 2 s (kernel/sched/psi.c, PSI_FREQ); counters of
 * OOM kills change rarely. A one-second view of both is fresh enough. */
#define MEMGAUGE__REFRESH_PRESSURE_NS (UINT64_C(1000) * 1000u * 1000u)

/* A refresh stamp of 0 means "never, or invalidated": due at once. */
static inline int memgauge__refresh_due(uint64_t refreshed_ns, uint64_t now_ns, uint64_t period_ns)
{
    return refreshed_ns == 0 || now_ns - refreshed_ns >= period_ns;
}

/* One cache of the platform layer, for the fork() handling above. */
typedef struct memgauge__cache_s {
    pthread_mutex_t *lock; /* held across fork(); NULL: none */
    void (*child)(void);   /* in the child, before `lock` is released; NULL: none */
    struct memgauge__cache_s *next;
} memgauge__cache_t;

/* Registers `c` (which must live as long as the process) for fork()
 * handling; call once per cache, never with a cache lock held. Thread-safe. */
void memgauge__cache_register(memgauge__cache_t *c);

#endif
