/* Memory accounting for requests: one pool for the whole server (what the
 * bodies, inflated bodies and parse trees of all requests in flight may hold
 * together) and a budget per request drawn from it. cJSON allocates through
 * hooks that charge the calling thread's budget, so a document cannot build
 * a tree larger than what was reserved for it before parsing. */
#ifndef MEMGAUGE_COLLECTOR_BUDGET_H
#define MEMGAUGE_COLLECTOR_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* At most what one heap block costs beyond the bytes asked for (glibc: an
 * 8-byte header, 16-byte granules, 32 bytes at least). */
#define MEMGAUGE__ALLOC_OVERHEAD 32u

typedef struct memgauge__mempool_s {
    size_t limit;             /* bytes; fixed after start */
    _Atomic size_t used;      /* bytes reserved now */
    _Atomic size_t peak;      /* the highest `used` seen */
    _Atomic uint64_t refused; /* reservations refused */
} memgauge__mempool_t;

typedef struct memgauge__budget_s {
    memgauge__mempool_t *pool; /* borrowed */
    size_t held;               /* bytes reserved from the pool by this request */
} memgauge__budget_t;

/* Reserves n more bytes for the request. Returns 0, or -1 (nothing
 * reserved) when the pool would pass its limit. Thread-safe for distinct
 * budgets of one pool; never blocks. */
int memgauge__budget_take(memgauge__budget_t *b, size_t n);
/* Returns n of the request's bytes to the pool (n <= held). */
void memgauge__budget_give(memgauge__budget_t *b, size_t n);
/* Returns everything the request holds. */
void memgauge__budget_release(memgauge__budget_t *b);

/* Installs cJSON's allocation hooks (once per process; thread-safe). Until
 * a thread sets a limit with memgauge__json_limit_begin, its cJSON
 * allocations are not limited. */
void memgauge__json_hooks_install(void);
/* Ingest weighs trees reserved at or above this block by block; below it
 * the raw-text scan's bound is the limit (the fuzz target checks that a
 * tree never outgrows it), which spares ~8% of a typical batch's parse. */
#define MEMGAUGE__JSON_LIMIT_MIN ((size_t)1 << 20)

/* From now on, cJSON allocations on this thread may hold `bytes` at once
 * (each block charged its usable size plus its header, credited back when
 * freed); one that would pass it fails as if out of memory. Frees of blocks
 * allocated before are credited too: begin before the parse and end after
 * the tree is deleted. */
void memgauge__json_limit_begin(size_t bytes);
/* Watches cJSON allocations on this thread for failure only (no limit). */
void memgauge__json_watch_begin(void);
/* Ends the limit or the watch on this thread. Returns 1 when an allocation failed under
 * it (over the limit, or malloc itself failed), else 0. */
int memgauge__json_limit_end(void);

#endif
