#ifndef MEMGAUGE_COLLECTOR_INGEST_H
#define MEMGAUGE_COLLECTOR_INGEST_H

#include "reply.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Counters of what ingest did, for /healthz. Updated atomically. */
typedef struct memgauge__ingest_stats_s {
    uint64_t stored, duplicates, invalid, too_large, store_errors, samples;
} memgauge__ingest_stats_t;

/* Handles one complete POST /v1/reports body: gunzip (when `gzip`) within
 * `cap` bytes, validate against wire format v1, store in one transaction.
 * Answers 200 stored/duplicate, 400 naming the first bad field, 413 when the
 * inflated body passes the cap, 500 when the store fails. Borrows body.
 * Thread-safe. */
void memgauge__ingest(memgauge__store_t *st, const char *body, size_t len, int gzip, size_t cap,
                      memgauge__ingest_stats_t *stats, memgauge__reply_t *out);

uint64_t memgauge__now_unix_ms(void);

#endif
