/* OTLP/HTTP exporter: every stored batch becomes an ExportMetricsServiceRequest
 * (and, when it carries suspected-OOM verdicts, an ExportLogsServiceRequest),
 * queued on disk (otlp_queue.h) and delivered by one thread with libcurl,
 * with the OTLP specification's retry policy. Ingest only encodes and
 * queues: a receiver that is slow or down never holds a request. */
#ifndef MEMGAUGE_COLLECTOR_OTLP_H
#define MEMGAUGE_COLLECTOR_OTLP_H

#include "batch.h"
#include "store.h"
#include "cli.h" /* MEMGAUGE__OTLP_MAX_HEADERS */

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__OTLP_BACKOFF_MIN_MS 500
#define MEMGAUGE__OTLP_BACKOFF_MAX_MS 30000
#define MEMGAUGE__OTLP_RETRY_AFTER_MAX_S 300 /* a longer Retry-After is cut to this */
#define MEMGAUGE__OTLP_TIMEOUT_S 10          /* one export request */

typedef struct memgauge__otlp_s memgauge__otlp_t;

typedef struct memgauge__otlp_options_s {
    const char *endpoint;       /* base URL: /v1/metrics and /v1/logs are appended */
    const char *const *headers; /* "Name: value" */
    size_t header_count;
    const char *queue_dir;
    uint64_t queue_bytes;
    memgauge__store_t *store; /* judged sessions' rows are read from it; borrowed */
} memgauge__otlp_options_t;

typedef struct memgauge__otlp_stats_s {
    uint64_t queued;   /* requests put in the queue */
    uint64_t sent;     /* delivered: 2xx */
    uint64_t retried;  /* attempts answered retryable (or not answered) */
    uint64_t dropped;  /* deleted unsent to stay within the budget, or unreadable */
    uint64_t rejected; /* answered with a status that must not be retried */
    uint64_t encode_failed;
    uint64_t judged_skipped; /* verdicts not exported as sessions: past
                              * MEMGAUGE__OTLP_JUDGED_MAX in one batch, or the
                              * hand-over to the thread full */
    uint64_t queue_bytes;    /* on disk now */
    uint64_t queue_files;
} memgauge__otlp_stats_t;

/* Opens the queue and starts the sending thread. Copies every string of
 * opts. Returns 0, or -1 with the reason in err. curl_global_init must have
 * run. */
int memgauge__otlp_start(const memgauge__otlp_options_t *opts, memgauge__otlp_t **out, char *err,
                         size_t errlen);

/* Encodes a stored batch's windows and queues them; copies its
 * previous_session verdicts (at most MEMGAUGE__OTLP_JUDGED_MAX, trails cut
 * to MEMGAUGE__OTLP_TRAIL_MAX) for the exporter thread, which reads each
 * judged session's row from the store and exports the session's own peak
 * under its own resource. Borrows b. Any thread; bounded cost (the batch's
 * aggregates, gzip, one small file, a copy); never reads the store, never
 * waits for the thread or the receiver (a full hand-over is counted).
 * x NULL: nothing. */
void memgauge__otlp_batch(memgauge__otlp_t *x, const memgauge__batch_t *b);

void memgauge__otlp_stats(memgauge__otlp_t *x, memgauge__otlp_stats_t *out);

/* Stops the thread: an export in flight is aborted within about a second,
 * what is queued stays on disk for the next start. Frees x. NULL-safe. */
void memgauge__otlp_stop(memgauge__otlp_t *x);

/* The wait before retry `attempt` (0-based): exponential from
 * MEMGAUGE__OTLP_BACKOFF_MIN_MS, capped at MEMGAUGE__OTLP_BACKOFF_MAX_MS,
 * times a jitter in [0.5, 1) drawn from `r` in [0, 1). */
uint64_t memgauge__otlp_backoff_ms(unsigned attempt, double r);

/* Whether an HTTP status may be retried (OTLP/HTTP: 429, 502, 503, 504). */
int memgauge__otlp_retryable(long status);

#endif
