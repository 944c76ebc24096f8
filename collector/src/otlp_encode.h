/* One stored batch as OTLP/HTTP JSON requests (opentelemetry-proto 1.x JSON
 * mapping: lowerCamelCase names, 64-bit integers as decimal strings, enums
 * as numbers). Pure functions: no I/O, any thread. */
#ifndef MEMGAUGE_COLLECTOR_OTLP_ENCODE_H
#define MEMGAUGE_COLLECTOR_OTLP_ENCODE_H

#include "batch.h"

/* Trail samples an OOM log record carries at most: the last ones, the
 * minute before the kill at 1 Hz (the full trail stays in the database). */
#define MEMGAUGE__OTLP_TRAIL_MAX 60

/* Peak-footprint histogram bounds, bytes: 16 MiB .. 8 GiB by powers of 2. */
#define MEMGAUGE__OTLP_PEAK_BOUNDS 10
/* Peak fraction of limit histogram bounds: 0.1 .. 1.0 by tenths. */
#define MEMGAUGE__OTLP_FRACTION_BOUNDS 10

/* ExportMetricsServiceRequest for batch b: a malloc'd JSON text in *out
 * (the caller frees it). Returns 0, or -1 when out of memory. Every data
 * point has delta temporality and covers the batch's windows. */
int memgauge__otlp_encode_metrics(const memgauge__batch_t *b, uint64_t now_unix_ns, char **out);

/* ExportLogsServiceRequest with one record per suspected-OOM verdict in b;
 * *out = NULL (and 0 returned) when b carries none. */
int memgauge__otlp_encode_logs(const memgauge__batch_t *b, uint64_t now_unix_ns, char **out);

#endif
