/* GET /metrics: the page. */
#include "exposition.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PREFIX "memgauge_collector_"

static uint64_t get(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void single(memgauge__text_t *t, const char *name, const char *type, const char *help,
                   double v)
{
    memgauge__metric_header(t, name, type, help);
    memgauge__text_printf(t, "%s %.17g\n", name, v);
}

/* SQLite: the main file plus its write-ahead log, which holds recent
 * batches until a checkpoint moves them in. */
static int sqlite_bytes(const char *db, uint64_t *out)
{
    struct stat st;
    char wal[4200];
    if (!db || stat(db, &st) != 0)
        return -1;
    *out = (uint64_t)st.st_size;
    snprintf(wal, sizeof wal, "%s-wal", db);
    if (stat(wal, &st) == 0)
        *out += (uint64_t)st.st_size;
    return 0;
}

void memgauge__exposition(const memgauge__exposition_src_t *src, memgauge__text_t *t)
{
    memgauge__metric_header(t, PREFIX "build_info", "gauge",
                            "Always 1; the labels say which collector this is.");
    memgauge__text_printf(t, PREFIX "build_info{version=\"%s\",wire_format=\"1\",store=\"%s\"} 1\n",
                          MEMGAUGE_COLLECTOR_VERSION, src->store_name);

    memgauge__http_metrics_write(t, src->http);
    single(t, PREFIX "http_requests_in_flight", "gauge",
           "Requests between their first line and their answer.", src->in_flight);
    single(t, PREFIX "http_bad_framing_total", "counter",
           "Requests refused for a body framed two ways (request smuggling).",
           (double)src->bad_framing);
    single(t, PREFIX "http_header_timeouts_total", "counter",
           "Connections cut because their headers did not arrive in time.",
           (double)src->header_timeouts);

    const memgauge__ingest_stats_t *s = src->ingest;
    const char *name = PREFIX "ingest_batches_total";
    memgauge__metric_header(t, name, "counter",
                            "POST /v1/reports bodies by outcome; invalid ones by reason.");
    struct {
        const char *outcome, *reason;
        const _Atomic uint64_t *v;
    } outcomes[] = {
        {"stored", "", &s->stored},
        {"duplicate", "", &s->duplicates},
        {"invalid", "gzip", &s->invalid_gzip},
        {"invalid", "limits", &s->invalid_limits},
        {"invalid", "json", &s->invalid_json},
        {"invalid", "format", &s->invalid_format},
        {"invalid", "conflict", &s->conflicts},
        {"too_large", "", &s->too_large},
        {"forbidden", "", &s->forbidden},
        {"busy", "", &s->busy},
        {"store_error", "", &s->store_errors},
    };
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++) {
        if (outcomes[i].reason[0])
            memgauge__text_printf(t, "%s{outcome=\"%s\",reason=\"%s\"} %llu\n", name,
                                  outcomes[i].outcome, outcomes[i].reason,
                                  (unsigned long long)get(outcomes[i].v));
        else
            memgauge__text_printf(t, "%s{outcome=\"%s\"} %llu\n", name, outcomes[i].outcome,
                                  (unsigned long long)get(outcomes[i].v));
    }
    single(t, PREFIX "ingest_samples_stored_total", "counter",
           "Footprint samples in stored batches (duplicates not counted).",
           (double)get(&s->samples));
    memgauge__metric_header(t, PREFIX "store_write_duration_seconds", "histogram",
                            "Time to write one batch in one transaction, until COMMIT returned.");
    memgauge__histogram_write(t, PREFIX "store_write_duration_seconds", "", &s->store_latency);

    const memgauge__mempool_t *m = src->memory;
    single(t, PREFIX "memory_limit_bytes", "gauge",
           "What requests in flight may hold together (--max-memory).", (double)m->limit);
    single(t, PREFIX "memory_in_use_bytes", "gauge",
           "What requests in flight hold now: bodies, inflated bodies, trees.",
           (double)atomic_load_explicit(&m->used, memory_order_relaxed));
    single(t, PREFIX "memory_refused_total", "counter",
           "Reservations refused because the pool was full.",
           (double)atomic_load_explicit(&m->refused, memory_order_relaxed));

    uint64_t db_bytes;
    if (!strcmp(src->store_name, "sqlite") && sqlite_bytes(src->db, &db_bytes) == 0)
        single(t, PREFIX "database_size_bytes", "gauge",
               "The SQLite database file plus its write-ahead log.", (double)db_bytes);

    if (!src->otlp)
        return;
    memgauge__otlp_stats_t o;
    memgauge__otlp_stats(src->otlp, &o);
    single(t, PREFIX "otlp_requests_queued_total", "counter",
           "OTLP export requests put in the on-disk queue.", (double)o.queued);
    single(t, PREFIX "otlp_requests_sent_total", "counter",
           "OTLP export requests the receiver accepted (2xx).", (double)o.sent);
    single(t, PREFIX "otlp_retries_total", "counter",
           "OTLP export attempts answered 429/502/503/504 or not answered, to be retried.",
           (double)o.retried);
    single(t, PREFIX "otlp_requests_dropped_total", "counter",
           "OTLP export requests deleted unsent: oldest first past the queue's byte budget, "
           "or unreadable.",
           (double)o.dropped);
    single(t, PREFIX "otlp_requests_rejected_total", "counter",
           "OTLP export requests refused with a status that must not be retried.",
           (double)o.rejected);
    single(t, PREFIX "otlp_encode_failures_total", "counter",
           "Stored batches that could not be encoded for export (out of memory).",
           (double)o.encode_failed);
    single(t, PREFIX "otlp_verdicts_skipped_total", "counter",
           "previous_session verdicts past the 8 a batch exports as sessions.",
           (double)o.judged_skipped);
    single(t, PREFIX "otlp_queue_bytes", "gauge", "Bytes in the OTLP export queue on disk.",
           (double)o.queue_bytes);
    single(t, PREFIX "otlp_queue_requests", "gauge", "Requests in the OTLP export queue on disk.",
           (double)o.queue_files);
}
