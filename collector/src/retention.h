/* Retention: a background thread deletes sessions that started more than
 * --retention-days ago, with their windows, events, terminations, dropped
 * counts and batches, in small steps (store ops->expire: one short
 * transaction each), so that ingest never waits behind a big delete. On
 * PostgreSQL each step first drops the day partitions of windows and events
 * that are wholly past the cutoff. Rollups stay: statistics keep the whole
 * history. */
#ifndef MEMGAUGE_COLLECTOR_RETENTION_H
#define MEMGAUGE_COLLECTOR_RETENTION_H

#include "store.h"

#include <stdio.h>

/* A step aims to hold the database at most this long; the number of
 * sessions per step adapts to it (1 .. RETENTION_STEP_MAX). */
#define MEMGAUGE__RETENTION_STEP_MS 20
#define MEMGAUGE__RETENTION_STEP_MAX 512
/* Between steps while old sessions remain, and when none remain. */
#define MEMGAUGE__RETENTION_PAUSE_MS 50
#define MEMGAUGE__RETENTION_IDLE_S 60

typedef struct memgauge__retention_s memgauge__retention_t;

/* Starts the thread (the first step runs at once). Borrows st and log until
 * memgauge__retention_stop returns. days == 0: no thread, *out = NULL.
 * Returns 0 or -1 (thread not started). */
int memgauge__retention_start(memgauge__store_t *st, unsigned days, FILE *log,
                              memgauge__retention_t **out);
/* Stops and joins the thread: waits at most for the step under way. NULL is
 * a no-op. */
void memgauge__retention_stop(memgauge__retention_t *r);

/* One adaptive step of the thread, for tests and tools: deletes up to *batch
 * sessions older than cutoff, then sets *batch for the next step from how
 * long this one took. */
int memgauge__retention_step(memgauge__store_t *st, uint64_t cutoff_unix_ms, size_t *batch,
                             size_t *deleted);

#endif
