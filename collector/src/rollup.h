/* Statistics kept at ingest: every session's contribution (its peak, its peak
 * as a fraction of its limit, its verdict and grade) is added to the rollup
 * of its (app, version, device model, OS version, day of its start), in the
 * same transaction as the batch that changed it. When a later batch raises
 * the peak or a verdict arrives, the old contribution is removed and the new
 * one added (the sketches remove exactly). /v1/stats merges rollups instead of
 * reading sessions (docs/collector.md "Statistics"). */
#ifndef MEMGAUGE_COLLECTOR_ROLLUP_H
#define MEMGAUGE_COLLECTOR_ROLLUP_H

#include "batch.h"
#include "sketch.h"

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__DAY_MS 86400000ull

typedef struct memgauge__rollup_key_s {
    char app_id[MEMGAUGE__TEXT_MAX + 1], app_version[MEMGAUGE__TEXT_MAX + 1];
    char device_model[MEMGAUGE__TEXT_MAX + 1], os_version[MEMGAUGE__TEXT_MAX + 1];
    int64_t day; /* days since 1970-01-01 (UTC) of the session's start */
} memgauge__rollup_key_t;

/* What one session adds to the rollup of its key. */
typedef struct memgauge__contribution_s {
    int present; /* 0: no session row, nothing counted */
    memgauge__rollup_key_t key;
    uint64_t start_unix_ms;
    int with_data; /* a sample arrived: the peak is ranked (never a 0 B peak) */
    uint64_t peak_bytes;
    int with_limit; /* with data and a known limit */
    double peak_fraction;
    int judged;   /* a verdict, the session's own clean stop included */
    int oom;      /* an OOM verdict graded medium or high */
    int oom_weak; /* an OOM verdict graded low or not graded */
} memgauge__contribution_t;

/* A session row as a contribution. peak_fraction < 0: unknown. Borrows nothing. */
void memgauge__contribution_make(memgauge__contribution_t *c, const char *app_id,
                                 const char *app_version, const char *device_model,
                                 const char *os_version, uint64_t start_unix_ms, uint64_t samples,
                                 uint64_t peak_bytes, double peak_fraction, const char *verdict,
                                 const char *grade);

typedef struct memgauge__rollup_s {
    memgauge__rollup_key_t key;
    int64_t sessions, with_data, with_limit, judged, oom, oom_weak;
    uint64_t last_start_unix_ms; /* only ever raised */
    memgauge__sketch_t peaks, fractions;
} memgauge__rollup_t;

/* Adds (sign 1) or removes (sign -1) a contribution. 0 or -2 (out of memory). */
int memgauge__rollup_apply(memgauge__rollup_t *r, const memgauge__contribution_t *c, int sign);
/* Adds src's counts and sketches to dst (not its key). 0 or -2. */
int memgauge__rollup_merge(memgauge__rollup_t *dst, const memgauge__rollup_t *src);
void memgauge__rollup_clear(memgauge__rollup_t *r);
int memgauge__rollup_key_cmp(const memgauge__rollup_key_t *a, const memgauge__rollup_key_t *b);

/* How a backend reads and writes one rollup row inside the open transaction.
 * load adds the stored row into *r (zeroed, key set by the caller; nothing
 * when there is none) and locks it until the transaction ends where the
 * backend has row locks; save writes *r whole. Both return a store code. */
typedef struct memgauge__rollup_io_s {
    void *ctx;
    int (*load)(void *ctx, memgauge__rollup_t *r);
    int (*save)(void *ctx, const memgauge__rollup_t *r);
} memgauge__rollup_io_t;

/* Moves a session from `before` to `after` (either may be absent): nothing
 * when they are equal, else removes the old contribution and adds the new,
 * rows in key order. Returns a store code. */
int memgauge__rollup_change(const memgauge__rollup_io_t *io, const memgauge__contribution_t *before,
                            const memgauge__contribution_t *after);

/* Whether a session with no row before this batch (`before` absent) started
 * before the retention cutoff: retention deleted it after counting it (or it
 * arrives past retention), so it is not counted again. retention_days 0: never. */
int memgauge__rollup_expired(const memgauge__contribution_t *before,
                             const memgauge__contribution_t *after, unsigned retention_days,
                             uint64_t now_unix_ms);

/* The sessions a batch may change the contribution of: its own and every
 * session a verdict in it judges; unique, in id order (the order locks are
 * taken in, so that concurrent batches cannot deadlock on them). */
typedef struct memgauge__rollup_track_s {
    size_t n;
    char (*ids)[MEMGAUGE__UUID_LEN + 1];
    memgauge__contribution_t *before;
} memgauge__rollup_track_t;

int memgauge__rollup_track_init(memgauge__rollup_track_t *t, const memgauge__batch_t *b);
void memgauge__rollup_track_free(memgauge__rollup_track_t *t);

/* Encodes both sketches (malloc'd; caller frees). 0 or -2. */
int memgauge__rollup_encode(const memgauge__rollup_t *r, unsigned char **peaks, size_t *peaks_len,
                            unsigned char **fractions, size_t *fractions_len);

#endif
