/* Prometheus text exposition 0.0.4 for the collector's own counters. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double memgauge__hist_bounds[MEMGAUGE__HIST_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static const int status_codes[MEMGAUGE__STATUS_SLOTS - 2] = {200, 400, 401, 403, 404, 405,
                                                             409, 413, 415, 429, 500, 503};
#define SLOT_OTHER (MEMGAUGE__STATUS_SLOTS - 2)
#define SLOT_CLOSED (MEMGAUGE__STATUS_SLOTS - 1)

static const char *const endpoint_names[MEMGAUGE__EP_COUNT] = {"reports", "query", "healthz",
                                                               "metrics", "dashboard"};

void memgauge__histogram_observe(memgauge__histogram_t *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t i = 0;
    while (i < MEMGAUGE__HIST_BUCKETS && s > memgauge__hist_bounds[i])
        i++;
    if (i < MEMGAUGE__HIST_BUCKETS)
        atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
    /* count last: a scrape that sees it sees the bucket too (on this CPU) */
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

memgauge__endpoint_t memgauge__endpoint_of(const char *path)
{
    if (!strcmp(path, "/v1/reports"))
        return MEMGAUGE__EP_REPORTS;
    if (!strncmp(path, "/v1/", 4))
        return MEMGAUGE__EP_QUERY;
    if (!strcmp(path, "/healthz"))
        return MEMGAUGE__EP_HEALTHZ;
    if (!strcmp(path, "/metrics"))
        return MEMGAUGE__EP_METRICS;
    return MEMGAUGE__EP_DASHBOARD;
}

void memgauge__http_metrics_count(memgauge__http_metrics_t *m, memgauge__endpoint_t ep, int status,
                                  uint64_t latency_ns, uint64_t bytes_in)
{
    if ((unsigned)ep >= MEMGAUGE__EP_COUNT)
        ep = MEMGAUGE__EP_DASHBOARD;
    size_t slot = status ? SLOT_OTHER : SLOT_CLOSED;
    for (size_t i = 0; status && i < SLOT_OTHER; i++)
        if (status_codes[i] == status)
            slot = i;
    atomic_fetch_add_explicit(&m->requests[ep][slot], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes_in[ep], bytes_in, memory_order_relaxed);
    memgauge__histogram_observe(&m->latency[ep], latency_ns);
}

void memgauge__text_printf(memgauge__text_t *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

void memgauge__metric_header(memgauge__text_t *t, const char *name, const char *type,
                             const char *help)
{
    memgauge__text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

void memgauge__histogram_write(memgauge__text_t *t, const char *name, const char *labels,
                               const memgauge__histogram_t *h)
{
    /* read count first: the buckets read after it add up to at least it,
     * and +Inf is written as the count so that the series stays coherent */
    uint64_t count = load(&h->count), cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (size_t i = 0; i < MEMGAUGE__HIST_BUCKETS; i++) {
        cum += load(&h->bucket[i]);
        if (cum > count)
            cum = count;
        memgauge__text_printf(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                              memgauge__hist_bounds[i], (unsigned long long)cum);
    }
    memgauge__text_printf(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                          (unsigned long long)count);
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    memgauge__text_printf(t, "%s_sum%s%s%s %.9f\n", name, open, labels, close,
                          (double)load(&h->sum_ns) / 1e9);
    memgauge__text_printf(t, "%s_count%s%s%s %llu\n", name, open, labels, close,
                          (unsigned long long)count);
}

void memgauge__http_metrics_write(memgauge__text_t *t, const memgauge__http_metrics_t *m)
{
    const char *name = "memgauge_collector_http_requests_total";
    memgauge__metric_header(t, name, "counter",
                            "HTTP requests answered (or closed without an answer), by endpoint "
                            "and status.");
    for (size_t e = 0; e < MEMGAUGE__EP_COUNT; e++)
        for (size_t s = 0; s < MEMGAUGE__STATUS_SLOTS; s++) {
            uint64_t v = load(&m->requests[e][s]);
            if (!v && s != 0)
                continue; /* an empty slot says nothing; 200 is always there */
            char status[8];
            if (s == SLOT_OTHER)
                snprintf(status, sizeof status, "other");
            else if (s == SLOT_CLOSED)
                snprintf(status, sizeof status, "closed");
            else
                snprintf(status, sizeof status, "%d", status_codes[s]);
            memgauge__text_printf(t, "%s{endpoint=\"%s\",status=\"%s\"} %llu\n", name,
                                  endpoint_names[e], status, (unsigned long long)v);
        }
    name = "memgauge_collector_http_request_bytes_total";
    memgauge__metric_header(t, name, "counter",
                            "Request body bytes received, as sent (compressed when gzip).");
    for (size_t e = 0; e < MEMGAUGE__EP_COUNT; e++)
        memgauge__text_printf(t, "%s{endpoint=\"%s\"} %llu\n", name, endpoint_names[e],
                              (unsigned long long)load(&m->bytes_in[e]));
    name = "memgauge_collector_http_request_duration_seconds";
    memgauge__metric_header(t, name, "histogram",
                            "From the request line to the end of the answer, by endpoint.");
    for (size_t e = 0; e < MEMGAUGE__EP_COUNT; e++) {
        char labels[40];
        snprintf(labels, sizeof labels, "endpoint=\"%s\"", endpoint_names[e]);
        memgauge__histogram_write(t, name, labels, &m->latency[e]);
    }
}
