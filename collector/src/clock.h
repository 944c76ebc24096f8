/* The collector's clocks and timed waits, written once. The collector
 * never links the SDK, so it does not use the SDK's base/ leaf; this is its
 * own, for the same reason (docs/design.md). Any thread. */
#ifndef MEMGAUGE_COLLECTOR_CLOCK_H
#define MEMGAUGE_COLLECTOR_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds and milliseconds on CLOCK_MONOTONIC. */
uint64_t memgauge__mono_ns(void);
uint64_t memgauge__mono_ms(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t memgauge__now_unix_ms(void);

/* CLOCK_MONOTONIC ms from now, for pthread_cond_timedwait on a condition
 * variable made by memgauge__cond_init_mono. */
struct timespec memgauge__mono_deadline(uint64_t ms);

/* A condition variable whose timed waits use CLOCK_MONOTONIC, so that a
 * wall clock set back does not stretch them. pthread_cond_init's result. */
int memgauge__cond_init_mono(pthread_cond_t *cond);

#endif
