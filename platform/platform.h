/*
 * The platform layer: one interface, one implementation file per OS
 * (platform_linux.c, platform_darwin.c). It knows nothing of the sampler.
 * memgauge_read() and memgauge_source_name() in the public header are
 * implemented here; the functions below are internal (memgauge__ prefix).
 */
#ifndef MEMGAUGE_PLATFORM_H
#define MEMGAUGE_PLATFORM_H

#include <pthread.h>
#include <stdint.h>

#include <memgauge/memgauge.h>

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t memgauge__now_ns(void);

/* CPU time consumed so far by another (running) thread of this process, in
 * nanoseconds; 0 if the OS will not say. Lets the SDK show its own cost
 * without the sampler paying for a clock read on every tick. */
uint64_t memgauge__thread_cpu_ns(pthread_t thread);

/* A condition variable whose timed waits follow the monotonic clock, so
 * that a change of wall-clock time never stretches or cuts a wait. */
int memgauge__cond_init(pthread_cond_t *cond);

/* Waits on cond until memgauge__now_ns() reaches deadline_ns. Returns 0 when
 * woken (possibly spuriously) and ETIMEDOUT at the deadline. */
int memgauge__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t deadline_ns);

/* Takes one reading of the calling process. Same contract as memgauge_read():
 * thread-safe, no heap allocation, no stdio. */
int memgauge__platform_read(memgauge_reading_t *out);

/* Forces the slow-changing values (limit, headroom, whether swap is
 * configured) to be re-read from the kernel by the next reading instead of
 * waiting for their refresh period. Thread-safe. */
void memgauge__platform_invalidate(void);

#endif
