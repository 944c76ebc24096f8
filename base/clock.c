/* Clocks and waits on the monotonic clock. See mg_base.h. */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <time.h>

#include "mg_base.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t memgauge__now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t memgauge__wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

uint64_t memgauge__wall_ms(void)
{
    return memgauge__wall_ns() / 1000000u;
}

#if defined(__APPLE__)
/* Darwin has no pthread_condattr_setclock: its absolute waits follow the
 * wall clock, so wait for the remaining time instead (the relative wait is
 * monotonic). */
int memgauge__cond_init(pthread_cond_t *cond)
{
    return pthread_cond_init(cond, NULL);
}

int memgauge__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t deadline_ns)
{
    uint64_t now = memgauge__now_ns();
    if (now >= deadline_ns)
        return ETIMEDOUT;
    uint64_t left = deadline_ns - now;
    struct timespec rel = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
    int rc = pthread_cond_timedwait_relative_np(cond, mutex, &rel);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}
#else
int memgauge__cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

int memgauge__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
    int rc = pthread_cond_timedwait(cond, mutex, &ts);
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}
#endif
