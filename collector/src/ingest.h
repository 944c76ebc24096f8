#ifndef MEMGAUGE_COLLECTOR_INGEST_H
#define MEMGAUGE_COLLECTOR_INGEST_H

#include "budget.h"
#include "clock.h" /* memgauge__now_unix_ms, used with ingest */
#include "metrics.h"
#include "otlp.h"
#include "reply.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Counters of what ingest did, for /healthz and /metrics: C11 atomics,
 * updated and read with relaxed order. */
typedef struct memgauge__ingest_stats_s {
    _Atomic uint64_t stored, duplicates, invalid, too_large, store_errors, samples, forbidden, busy;
    /* what `invalid` is made of, for /metrics */
    _Atomic uint64_t invalid_gzip, invalid_limits, invalid_json, invalid_format, conflicts;
    memgauge__histogram_t store_latency; /* put_batch, committed or not */
} memgauge__ingest_stats_t;

/* One complete POST /v1/reports body and what it may cost. */
typedef struct memgauge__ingest_request_s {
    char *body;       /* malloc'd; ingest frees it (as soon as it is inflated) */
    size_t len;       /* bytes in body */
    size_t body_held; /* what body holds of budget (given back when it is freed) */
    int gzip;
    size_t cap;                 /* decompressed cap, bytes */
    const char *apps;           /* the key's app ids, comma-separated; "" = any app */
    memgauge__budget_t *budget; /* the request's; NULL = no accounting */
    memgauge__otlp_t *otlp;     /* stored batches are exported here; NULL = none */
} memgauge__ingest_request_t;

/* Handles one body: gunzip (when `gzip`) within `cap` bytes, count what
 * parsing would cost on the raw text (json_scan.h) and reserve it, parse
 * and validate against wire format v1 within that reservation, check the
 * key may write the batch's app, store in one transaction. Answers 200
 * stored/duplicate, 400 naming the first bad field, 403 naming an app the
 * key is not bound to, 413 when the inflated body passes the cap or its tree
 * would not fit the whole memory pool, 500 when the store fails, 503 with retry_after_s when memory
 * (the pool, the reservation or malloc) ran short. Takes ownership of req->body. Reserved bytes are
 * given back before it returns. Thread-safe. */
void memgauge__ingest(memgauge__store_t *st, memgauge__ingest_request_t *req,
                      memgauge__ingest_stats_t *stats, memgauge__reply_t *out);

#endif
