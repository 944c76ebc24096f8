/* POST /v1/reports once its body has arrived. */
#include "ingest.h"

#include "gunzip.h"
#include "wire_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t memgauge__now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

void memgauge__ingest(memgauge__store_t *st, const char *body, size_t len, int gzip, size_t cap,
                      memgauge__ingest_stats_t *stats, memgauge__reply_t *out)
{
    char *inflated = NULL;
    if (gzip) {
        size_t n;
        int rc = memgauge__gunzip((const unsigned char *)body, len, cap, &inflated, &n);
        if (rc == MEMGAUGE__GUNZIP_TOO_LARGE) {
            count(&stats->too_large, 1);
            memgauge__reply_error(out, 413, "body too large", "body",
                                  "the decompressed body exceeds the collector's cap");
            return;
        }
        if (rc == MEMGAUGE__GUNZIP_NO_MEMORY) {
            memgauge__reply_error(out, 500, "out of memory", NULL, NULL);
            return;
        }
        if (rc) {
            count(&stats->invalid, 1);
            memgauge__reply_error(out, 400, "invalid", "body", "not a valid gzip stream");
            return;
        }
        body = inflated;
        len = n;
    }
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    int rc = memgauge__wire_parse(body, len, &b, &err);
    free(inflated);
    if (rc == MEMGAUGE__WIRE_NO_MEMORY) {
        memgauge__reply_error(out, 500, "out of memory", NULL, NULL);
        return;
    }
    if (rc) {
        count(&stats->invalid, 1);
        memgauge__reply_error(out, 400, "invalid", err.field, err.reason);
        return;
    }
    memgauge__put_result_t res;
    rc = st->ops->put_batch(st, &b, memgauge__now_unix_ms(), &res);
    int duplicate = res.duplicate;
    if (rc == MEMGAUGE__STORE_CONFLICT) {
        count(&stats->invalid, 1);
        memgauge__reply_error(out, 409, "conflict", "session.id", memgauge__store_error(st));
        memgauge__batch_clear(&b);
        return;
    }
    if (rc == MEMGAUGE__STORE_BUSY) { /* server.c adds Retry-After to a 503 */
        count(&stats->store_errors, 1);
        memgauge__reply_error(out, 503, "storage busy", NULL,
                              "the database is locked by another writer; retry");
        memgauge__batch_clear(&b);
        return;
    }
    if (rc) {
        count(&stats->store_errors, 1);
        fprintf(stderr, "memgauge-collector: storing batch %s: %s\n", b.batch_id,
                memgauge__store_error(st));
        memgauge__reply_error(out, 500, "storage failure", NULL, "the batch was not stored; retry");
        memgauge__batch_clear(&b);
        return;
    }
    count(duplicate ? &stats->duplicates : &stats->stored, 1);
    if (!duplicate)
        count(&stats->samples, b.total_samples);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", duplicate ? "duplicate" : "stored");
    cJSON_AddStringToObject(j, "batch_id", b.batch_id);
    cJSON_AddNumberToObject(j, "samples", (double)b.total_samples);
    if (res.samples_trimmed) /* beyond the per-session cap: kept as aggregates only */
        cJSON_AddNumberToObject(j, "samples_trimmed", (double)res.samples_trimmed);
    memgauge__reply_json(out, 200, j);
    snprintf(out->note, sizeof out->note, "%s %s%s", duplicate ? "duplicate" : "stored", b.batch_id,
             res.samples_trimmed ? " trimmed" : "");
    memgauge__batch_clear(&b);
}
