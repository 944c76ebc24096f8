/* The text of GET /metrics: every number the collector keeps about itself,
 * in the Prometheus text exposition format 0.0.4, names prefixed
 * memgauge_collector_ (docs/integrations.md lists them). */
#ifndef MEMGAUGE_COLLECTOR_EXPOSITION_H
#define MEMGAUGE_COLLECTOR_EXPOSITION_H

#include "budget.h"
#include "ingest.h"
#include "metrics.h"
#include "otlp.h"

/* What the page is made from; borrowed for one call. */
typedef struct memgauge__exposition_src_s {
    const memgauge__http_metrics_t *http;
    const memgauge__ingest_stats_t *ingest;
    const memgauge__mempool_t *memory;
    unsigned in_flight;
    uint64_t bad_framing, header_timeouts;
    memgauge__otlp_t *otlp; /* NULL: no exporter configured */
    const char *store_name; /* "sqlite", "postgres" */
    const char *db;         /* the SQLite path (its size is read); ignored for postgres */
} memgauge__exposition_src_t;

/* Appends the whole page to t. Reads atomics and one stat() per database
 * file; takes no lock on the request path. */
void memgauge__exposition(const memgauge__exposition_src_t *src, memgauge__text_t *t);

#endif
