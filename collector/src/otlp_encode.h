/* One stored batch as OTLP/HTTP JSON requests (opentelemetry-proto 1.x JSON
 * mapping: lowerCamelCase names, 64-bit integers as decimal strings, enums
 * as numbers). Pure functions: no I/O, any thread. */
#ifndef MEMGAUGE_COLLECTOR_OTLP_ENCODE_H
#define MEMGAUGE_COLLECTOR_OTLP_ENCODE_H

#include "batch.h"
#include "store.h"

/* Trail samples an OOM log record carries at most: the last ones, the
 * minute before the kill at 1 Hz (the full trail stays in the database). */
#define MEMGAUGE__OTLP_TRAIL_MAX 60

/* Peak-footprint histogram bounds, bytes: 16 MiB .. 8 GiB by powers of 2. */
#define MEMGAUGE__OTLP_PEAK_BOUNDS 10
/* Peak fraction of limit histogram bounds: 0.1 .. 1.0 by tenths. */
#define MEMGAUGE__OTLP_FRACTION_BOUNDS 10

/* Judged sessions one batch exports at most (a previous_session verdict
 * costs one indexed read of the session row); the rest are counted. */
#define MEMGAUGE__OTLP_JUDGED_MAX 8

/* A previous_session verdict of the batch and the judged session's row as
 * stored after the batch (the trail folded in): its own app version,
 * device and OS, and its whole peak. */
typedef struct memgauge__otlp_judged_s {
    const memgauge__event_t *event; /* borrowed from the batch */
    int found;                      /* row is valid */
    uint64_t trail_samples;         /* the whole trail's length when event->trail
                                     * holds only its end; 0 = event->trail.n */
    memgauge__session_row_t row;
} memgauge__otlp_judged_t;

/* ExportMetricsServiceRequest: a malloc'd JSON text in *out (the caller
 * frees it; NULL when there is nothing to send). Returns 0, or -1 when out
 * of memory. When b is not NULL the first resourceMetrics holds the batch's
 * window metrics (its app, device, OS); then one per judged session found,
 * under that session's own resource. Every data point has delta
 * temporality. */
int memgauge__otlp_encode_metrics(const memgauge__batch_t *b, const memgauge__otlp_judged_t *judged,
                                  size_t n_judged, uint64_t now_unix_ns, char **out);

/* ExportLogsServiceRequest with one record per suspected-OOM verdict among
 * judged (under the judged session's resource when its row was found, else
 * the batch's: b gives the resource and the reporting session, its windows
 * and events are not read); *out = NULL (and 0 returned) when there is
 * none. */
int memgauge__otlp_encode_logs(const memgauge__batch_t *b, const memgauge__otlp_judged_t *judged,
                               size_t n_judged, uint64_t now_unix_ns, char **out);

#endif
