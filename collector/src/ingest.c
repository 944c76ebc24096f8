/* POST /v1/reports once its body has arrived. */
#include "ingest.h"

#include "auth.h"
#include "gunzip.h"
#include "json_scan.h"
#include "wire_parse.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* what a client should wait before retrying when memory ran short */
#define BUSY_RETRY_AFTER_S 2

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Short of memory is never the sender's fault: 503, retry later. */
static void busy(memgauge__ingest_stats_t *stats, memgauge__reply_t *out, const char *what)
{
    count(&stats->busy, 1);
    memgauge__reply_error(out, 503, "busy", NULL, what);
    out->retry_after_s = BUSY_RETRY_AFTER_S;
    snprintf(out->note, sizeof out->note, "busy: %s", what);
}

static int take(memgauge__budget_t *b, size_t n)
{
    return b ? memgauge__budget_take(b, n) : 0;
}

static void give(memgauge__budget_t *b, size_t n)
{
    if (b)
        memgauge__budget_give(b, n);
}

static const char *const scan_reasons[] = {
    [1] = "more JSON values than a v1 batch can hold",
    [2] = "nested deeper than a v1 batch can be",
    [3] = "an array longer than any in a v1 batch",
};

void memgauge__ingest(memgauge__store_t *st, memgauge__ingest_request_t *req,
                      memgauge__ingest_stats_t *stats, memgauge__reply_t *out)
{
    memgauge__budget_t *bud = req->budget;
    char *text = req->body;
    size_t len = req->len, text_held = req->body_held;
    req->body = NULL;
    if (req->gzip) {
        char *inflated;
        size_t n, held;
        int rc = memgauge__gunzip_budget((const unsigned char *)text, len, req->cap, bud, &inflated,
                                         &n, &held);
        free(text); /* the compressed body is no longer needed, whatever the outcome */
        give(bud, text_held);
        text = NULL;
        if (rc == MEMGAUGE__GUNZIP_TOO_LARGE) {
            count(&stats->too_large, 1);
            memgauge__reply_error(out, 413, "body too large", "body",
                                  "the decompressed body exceeds the collector's cap");
            return;
        }
        if (rc == MEMGAUGE__GUNZIP_NO_MEMORY) {
            busy(stats, out, "no memory to decompress the body");
            return;
        }
        if (rc) {
            count(&stats->invalid, 1);
            count(&stats->invalid_gzip, 1);
            memgauge__reply_error(out, 400, "invalid", "body", "not a valid gzip stream");
            return;
        }
        text = inflated;
        len = n;
        text_held = held;
    }

    memgauge__json_scan_t scan;
    int sc = memgauge__json_scan(text ? text : "", len, &scan);
    if (sc) {
        free(text);
        give(bud, text_held);
        count(&stats->invalid, 1);
        count(&stats->invalid_limits, 1);
        memgauge__reply_error(out, 400, "invalid", "body", scan_reasons[-sc]);
        return;
    }
    /* the tree while it lives, then the decoded batch: every value becomes
     * at most one 8-byte column entry, every object at most one window or
     * event record */
    size_t tree = memgauge__json_scan_tree_bytes(&scan);
    size_t decoded = scan.values * sizeof(uint64_t) +
                     scan.objects * (sizeof(memgauge__window_t) + sizeof(memgauge__event_t));
    if (bud && bud->held + tree + decoded > bud->pool->limit) {
        /* more than the whole pool: waiting would never help */
        free(text);
        give(bud, text_held);
        count(&stats->too_large, 1);
        memgauge__reply_error(out, 413, "body too large", "body",
                              "parsing it would take more memory than the collector allows "
                              "(--max-memory)");
        return;
    }
    if (take(bud, tree + decoded)) {
        free(text);
        give(bud, text_held);
        busy(stats, out, "no memory to parse the body");
        return;
    }
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    if (tree >= MEMGAUGE__JSON_LIMIT_MIN)
        memgauge__json_limit_begin(tree);
    else
        memgauge__json_watch_begin();
    int rc = memgauge__wire_parse(text, len, &b, &err);
    int short_of_memory = memgauge__json_limit_end();
    free(text);
    give(bud, text_held + tree);
    if (rc == MEMGAUGE__WIRE_NO_MEMORY || (rc && short_of_memory)) {
        give(bud, decoded);
        busy(stats, out, "no memory to parse the body");
        return;
    }
    if (rc) {
        give(bud, decoded);
        count(&stats->invalid, 1);
        /* UTF-8 and JSON faults name the body; the format's name a field */
        count(strcmp(err.field, "body") ? &stats->invalid_format : &stats->invalid_json, 1);
        memgauge__reply_error(out, 400, "invalid", err.field, err.reason);
        return;
    }
    if (req->apps && !memgauge__auth_app_allowed(req->apps, b.app_id)) {
        count(&stats->forbidden, 1);
        char reason[200];
        snprintf(reason, sizeof reason, "this API key may not write app '%s'", b.app_id);
        memgauge__reply_error(out, 403, "forbidden", "app.id", reason);
        memgauge__batch_clear(&b);
        give(bud, decoded);
        return;
    }
    memgauge__put_result_t res;
    uint64_t t0 = memgauge__mono_ns();
    rc = st->ops->put_batch(st, &b, memgauge__now_unix_ms(), &res);
    memgauge__histogram_observe(&stats->store_latency, memgauge__mono_ns() - t0);
    int duplicate = res.duplicate;
    if (rc == MEMGAUGE__STORE_CONFLICT) {
        count(&stats->invalid, 1);
        count(&stats->conflicts, 1);
        memgauge__reply_error(out, 409, "conflict", "session.id",
                              res.error[0] ? res.error : memgauge__store_error(st));
        memgauge__batch_clear(&b);
        give(bud, decoded);
        return;
    }
    if (rc == MEMGAUGE__STORE_BUSY) {
        count(&stats->store_errors, 1);
        memgauge__reply_error(out, 503, "storage busy", NULL,
                              "the database is locked by another writer; retry");
        out->retry_after_s = 1;
        memgauge__batch_clear(&b);
        give(bud, decoded);
        return;
    }
    if (rc) {
        count(&stats->store_errors, 1);
        fprintf(stderr, "memgauge-collector: storing batch %s: %s\n", b.batch_id,
                memgauge__store_error(st));
        memgauge__reply_error(out, 500, "storage failure", NULL, "the batch was not stored; retry");
        memgauge__batch_clear(&b);
        give(bud, decoded);
        return;
    }
    count(duplicate ? &stats->duplicates : &stats->stored, 1);
    if (!duplicate) {
        count(&stats->samples, b.total_samples);
        /* a short batch is exported with its session's stored description;
         * encodes and queues; never reads the store, never waits on the receiver */
        memgauge__put_result_describe(&res, &b);
        memgauge__otlp_batch(req->otlp, &b);
    }
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
    give(bud, decoded);
}
