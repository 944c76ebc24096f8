/*
 * Session and window aggregates, pure: readings in, samples and statistics
 * out, no threads, no clock, no allocation after memgauge__session_init.
 * The sampler (sampler.c) owns one of these under its lock.
 */
#ifndef MEMGAUGE_AGGREGATE_H
#define MEMGAUGE_AGGREGATE_H

#include <stdint.h>

#include <memgauge/memgauge.h>

/* An unsigned 128-bit sum, so that means stay exact over any session:
 * 2^64 bytes of sum is only 16 million samples of 1 TiB. */
typedef struct memgauge__u128_s {
    uint64_t hi;
    uint64_t lo;
} memgauge__u128_t;

void memgauge__u128_add(memgauge__u128_t *acc, uint64_t v);
/* floor(acc / d) for d > 0 when it fits in 64 bits (true for a mean). */
uint64_t memgauge__u128_div(memgauge__u128_t acc, uint64_t d);

typedef struct memgauge__window_acc_s {
    memgauge_window_t w; /* mean_bytes is filled on close / snapshot */
    memgauge__u128_t sum;
    uint64_t index;     /* which window since the session start */
    int have_available; /* min_available_bytes holds a real value (0 is one) */
} memgauge__window_acc_t;

typedef struct memgauge__session_s {
    uint64_t window_ns;
    /* ring of recent samples, allocated by the caller */
    memgauge_sample_t *ring;
    uint32_t ring_capacity;
    uint32_t ring_head; /* next slot to write */
    uint32_t ring_count;

    uint64_t samples;
    uint64_t start_ns, last_ns;
    uint64_t first, last, min, max, peak;
    memgauge__u128_t sum;
    int64_t last_delta;
    uint64_t kernel_peak, last_resident, limit, available;
    uint32_t valid;
    int32_t source;
    uint64_t windows;
    memgauge__window_acc_t current;
    memgauge_window_t last_window;
} memgauge__session_t;

/* `ring` must hold `ring_capacity` samples; it is borrowed for the life of
 * the session. */
void memgauge__session_init(memgauge__session_t *s, memgauge_sample_t *ring, uint32_t ring_capacity,
                            uint64_t window_ns);

/* Records one reading. Fills *sample with what was recorded. When the
 * reading starts a new window, the completed one is copied to *closed and 1
 * is returned; otherwise 0. */
int memgauge__session_add(memgauge__session_t *s, const memgauge_reading_t *r,
                          memgauge_sample_t *sample, memgauge_window_t *closed);

/* Fills the aggregate part of *out (everything the session knows). */
void memgauge__session_stats(const memgauge__session_t *s, memgauge_stats_t *out);

/* Copies up to cap most recent samples, oldest first; returns how many. */
size_t memgauge__session_recent(const memgauge__session_t *s, memgauge_sample_t *out, size_t cap);

#endif
