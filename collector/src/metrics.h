/* The collector's own numbers for GET /metrics (Prometheus text exposition
 * format 0.0.4): requests by endpoint and status, latency histograms, bytes
 * in. Every field is a C11 atomic updated with relaxed order: the request
 * path takes no lock to count. */
#ifndef MEMGAUGE_COLLECTOR_METRICS_H
#define MEMGAUGE_COLLECTOR_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Latency buckets, seconds; +Inf is implied. */
#define MEMGAUGE__HIST_BUCKETS 14
extern const double memgauge__hist_bounds[MEMGAUGE__HIST_BUCKETS];

typedef struct memgauge__histogram_s {
    _Atomic uint64_t
        bucket[MEMGAUGE__HIST_BUCKETS]; /* not cumulative: one bucket per observation */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
} memgauge__histogram_t;

/* Adds one observation of `ns` nanoseconds. Any thread; never blocks. */
void memgauge__histogram_observe(memgauge__histogram_t *h, uint64_t ns);

typedef enum memgauge__endpoint_e {
    MEMGAUGE__EP_REPORTS, /* POST /v1/reports */
    MEMGAUGE__EP_QUERY,   /* GET /v1/... */
    MEMGAUGE__EP_HEALTHZ,
    MEMGAUGE__EP_METRICS,
    MEMGAUGE__EP_DASHBOARD, /* everything else: static files and 404s */
    MEMGAUGE__EP_COUNT
} memgauge__endpoint_t;

/* Answers counted one by one; any other becomes "other", a connection cut
 * before an answer "closed": the label set stays bounded. */
#define MEMGAUGE__STATUS_SLOTS 14

typedef struct memgauge__http_metrics_s {
    _Atomic uint64_t requests[MEMGAUGE__EP_COUNT][MEMGAUGE__STATUS_SLOTS];
    _Atomic uint64_t bytes_in[MEMGAUGE__EP_COUNT];
    memgauge__histogram_t latency[MEMGAUGE__EP_COUNT];
} memgauge__http_metrics_t;

/* The endpoint a request path belongs to. */
memgauge__endpoint_t memgauge__endpoint_of(const char *path);

/* Counts one finished request: status 0 = closed without an answer. */
void memgauge__http_metrics_count(memgauge__http_metrics_t *m, memgauge__endpoint_t ep, int status,
                                  uint64_t latency_ns, uint64_t bytes_in);

/* A growing text buffer for the exposition; on allocation failure `failed`
 * is set and later appends are ignored. */
typedef struct memgauge__text_s {
    char *buf;
    size_t len, cap;
    int failed;
} memgauge__text_t;

void memgauge__text_printf(memgauge__text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "# HELP name help\n# TYPE name type\n" */
void memgauge__metric_header(memgauge__text_t *t, const char *name, const char *type,
                             const char *help);

/* The _bucket{le=...}, _sum and _count lines of one histogram; `labels` is
 * "" or 'key="value"' pairs without braces. */
void memgauge__histogram_write(memgauge__text_t *t, const char *name, const char *labels,
                               const memgauge__histogram_t *h);

/* Requests, bytes in and latency, with HELP and TYPE. */
void memgauge__http_metrics_write(memgauge__text_t *t, const memgauge__http_metrics_t *m);

#endif
