/* Clocks, sleeping, waiting with a deadline. See support.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <time.h>

#include "support.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mg_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t mg_mono_ms(void)
{
    return clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

uint64_t mg_wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

void mg_sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void mg_sleep_ms(unsigned ms)
{
    mg_sleep_us((uint64_t)ms * 1000u);
}

int mg_wait_until(mg_pred_fn pred, void *arg, unsigned deadline_ms)
{
    uint64_t end = mg_mono_ms() + deadline_ms;
    for (;;) {
        if (pred(arg))
            return 1;
        if (mg_mono_ms() >= end)
            return pred(arg) ? 1 : 0;
        mg_sleep_ms(MG_POLL_MS);
    }
}
