/*
 * The leaf under every layer of the SDK: what sdk/, platform/ and transport/
 * would otherwise each write for themselves. Depends on libc (and pthreads)
 * only and includes no header of the SDK, so any layer may include it.
 * Internal (memgauge__ prefix), never installed.
 *
 * The collector (collector/) does not link the SDK and keeps its own UUID
 * check: see docs/design.md.
 */
#ifndef MEMGAUGE_BASE_H
#define MEMGAUGE_BASE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- clocks (clock.c) ------------------------------------------------------ */

/* Monotonic nanoseconds (CLOCK_MONOTONIC); 0 if the clock cannot be read.
 * Never goes back; on Darwin it keeps running while the process is
 * suspended. Safe from any thread, never blocks. */
uint64_t memgauge__now_ns(void);

/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME); 0 if the
 * clock cannot be read. May jump when the system time is set. */
uint64_t memgauge__wall_ns(void);

/* Wall-clock milliseconds since the Unix epoch: memgauge__wall_ns() / 1e6. */
uint64_t memgauge__wall_ms(void);

/* ---- waiting on the monotonic clock (clock.c) ------------------------------ */

/* Initialises a condition variable whose timed waits follow the monotonic
 * clock, so that a change of wall-clock time never stretches or cuts a
 * wait. Returns 0 or an error number. */
int memgauge__cond_init(pthread_cond_t *cond);

/* Waits on `cond` (with `mutex` held, as pthread_cond_wait) until
 * memgauge__now_ns() reaches deadline_ns. Returns 0 when woken (possibly
 * spuriously) and ETIMEDOUT at the deadline. `cond` must come from
 * memgauge__cond_init. */
int memgauge__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t deadline_ns);

/* ---- threads (thread.c) ---------------------------------------------------- */

/* pthread_create with every signal blocked in the new thread (it inherits
 * the mask it is created with), so that the app's signal handlers never run
 * on the SDK's threads. The caller's mask is unchanged when this returns.
 * Returns 0 or pthread_create's error number. */
int memgauge__thread_start(pthread_t *thread, void *(*main_fn)(void *), void *arg);

/* ---- files (file.c) -------------------------------------------------------- */

/* Reads up to cap - 1 bytes of the small file at `path` with one read from
 * its start, and NUL-terminates them: for /proc, /sys and cgroup files,
 * which the kernel produces whole on the first read. Retries EINTR; opens
 * with O_CLOEXEC and O_NONBLOCK (a FIFO in a strange place never blocks the
 * caller). Returns the length read, or -1 with errno set (`buf` is then
 * untouched). No heap, no stdio. cap must be at least 1. */
ssize_t memgauge__read_small_file(const char *path, char *buf, size_t cap);

/* ---- UUIDs (uuid.c) -------------------------------------------------------- */

#define MEMGAUGE__UUID_TEXT 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and its NUL */

/* 16 random bytes marked as a version 4, RFC 4122 variant UUID. Uses
 * getentropy(); without a kernel random source, a mix of the clock and
 * `b`'s address still keeps the ids of one process distinct. */
void memgauge__uuid_v4(uint8_t b[16]);

/* The lower-case text form of a UUID's 16 bytes. */
void memgauge__uuid_format(const uint8_t b[16], char out[MEMGAUGE__UUID_TEXT]);

/* A new random UUID in text: memgauge__uuid_v4 then memgauge__uuid_format. */
void memgauge__uuid_new(char out[MEMGAUGE__UUID_TEXT]);

/* 1 when `s` is exactly a UUID in the text form memgauge__uuid_format
 * writes (36 characters, lower-case hex, dashes at 8, 13, 18 and 23), else 0.
 * Reads at most 37 bytes of `s`. */
int memgauge__uuid_valid(const char *s);

#endif
