/* GET /metrics against the real binary, and the OTLP exporter's pure
 * pieces: the queue's budget, the retry policy, the encoding of a batch.
 * (The exporter end to end, decoded independently: tests/otlp.) */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "metrics.h"
#include "otlp.h"
#include "otlp_encode.h"
#include "otlp_queue.h"
#include "wire_parse.h"

static collector_t srv;

static void stop_and_clean(void)
{
    collector_cleanup(&srv);
}

static const char *const READ[] = {"Authorization: Bearer " TEST_READ_TOKEN, NULL};

/* The value of the sample line `name` ("family{labels}" exactly); -1 when absent. */
static double sample(const char *page, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = page; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* GET /metrics once every request before it has been counted: a request is
 * counted when libmicrohttpd reports it complete, just after its answer
 * went out, so the client may ask again first. Waits (up to 5 s) until
 * `name` reads `value` and this page is the only request in flight. */
static http_result_t metrics_when(const char *name, double value)
{
    for (int i = 0;; i++) {
        http_result_t m = http_request(srv.port, "GET", "/metrics", READ, NULL, 0);
        cr_assert_eq(m.status, 200);
        if ((sample(m.body, name) == value &&
             sample(m.body, "memgauge_collector_http_requests_in_flight") == 1) ||
            i == 500)
            return m;
        http_result_free(&m);
        usleep(10 * 1000);
    }
}

TestSuite(metrics, .fini = stop_and_clean, .timeout = 60);

Test(metrics, page_needs_the_read_token_never_an_api_key)
{
    collector_start(&srv, NULL, NULL);
    http_result_t none = http_request(srv.port, "GET", "/metrics", NULL, NULL, 0);
    cr_expect_eq(none.status, 401);
    const char *key[] = {"Authorization: Bearer " TEST_KEY, NULL};
    http_result_t api = http_request(srv.port, "GET", "/metrics", key, NULL, 0);
    cr_expect_eq(api.status, 401, "API keys ship inside apps: they never read");
    http_result_t ok = http_request(srv.port, "GET", "/metrics", READ, NULL, 0);
    cr_expect_eq(ok.status, 200);
    cr_expect(strstr(ok.body, "memgauge_collector_build_info{version=\"" MEMGAUGE_COLLECTOR_VERSION
                              "\"") != NULL);
    cr_expect_str_eq(MEMGAUGE_COLLECTOR_VERSION, "0.5.0", "released with the SDK");
    http_result_t post = http_request(srv.port, "POST", "/metrics", READ, "x", 1);
    cr_expect_eq(post.status, 405);
    http_result_free(&none);
    http_result_free(&api);
    http_result_free(&ok);
    http_result_free(&post);
}

Test(metrics, counts_outcomes_requests_and_samples)
{
    collector_start(&srv, NULL, NULL);
    for (unsigned long i = 1; i <= 3; i++)
        cr_assert_eq(post_valid(srv.port, i), 200);
    cr_assert_eq(post_valid(srv.port, 1), 200); /* a replay: duplicate */
    http_result_t bad_json = http_post_json(srv.port, "{\"schema\":1,");
    http_result_t bad_format = http_post_json(srv.port, "{\"schema\":2}");
    cr_expect_eq(bad_json.status, 400);
    cr_expect_eq(bad_format.status, 400);
    http_result_t m = metrics_when(
        "memgauge_collector_http_request_duration_seconds_count{endpoint=\"reports\"}", 6);
    const char *p = m.body;
    cr_expect_eq(sample(p, "memgauge_collector_ingest_batches_total{outcome=\"stored\"}"), 3);
    cr_expect_eq(sample(p, "memgauge_collector_ingest_batches_total{outcome=\"duplicate\"}"), 1);
    cr_expect_eq(
        sample(p, "memgauge_collector_ingest_batches_total{outcome=\"invalid\",reason=\"json\"}"),
        1);
    cr_expect_eq(
        sample(p, "memgauge_collector_ingest_batches_total{outcome=\"invalid\",reason=\"format\"}"),
        1);
    cr_expect_eq(sample(p, "memgauge_collector_ingest_samples_stored_total"), 30);
    cr_expect_eq(
        sample(p, "memgauge_collector_http_requests_total{endpoint=\"reports\",status=\"200\"}"),
        4);
    cr_expect_eq(
        sample(p, "memgauge_collector_http_requests_total{endpoint=\"reports\",status=\"400\"}"),
        2);
    cr_expect_eq(
        sample(p, "memgauge_collector_http_request_duration_seconds_count{endpoint=\"reports\"}"),
        6);
    cr_expect_eq(sample(p, "memgauge_collector_http_request_duration_seconds_bucket{endpoint="
                           "\"reports\",le=\"+Inf\"}"),
                 6);
    cr_expect_eq(sample(p, "memgauge_collector_store_write_duration_seconds_count"), 4,
                 "three stored and one replay reached the store");
    cr_expect_eq(sample(p, "memgauge_collector_http_requests_in_flight"), 1, "this request");
    cr_expect_gt(sample(p, "memgauge_collector_database_size_bytes"), 4096);
    cr_expect_eq(sample(p, "memgauge_collector_otlp_queue_bytes"), -1, "no exporter, no lines");
    http_result_free(&bad_json);
    http_result_free(&bad_format);
    http_result_free(&m);
}

/* Every sample belongs to a family announced by HELP and TYPE, and every
 * histogram's buckets rise to +Inf = _count (exposition format 0.0.4). */
Test(metrics, every_family_has_help_and_type_and_histograms_are_cumulative)
{
    collector_start(&srv, NULL, NULL);
    cr_assert_eq(post_valid(srv.port, 1), 200);
    http_result_t m = http_request(srv.port, "GET", "/metrics", READ, NULL, 0);
    cr_assert_eq(m.status, 200);
    char family[200] = "", type[32] = "";
    double last_bucket = 0;
    int help_seen = 0, lines = 0;
    for (char *line = strtok(m.body, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "# HELP ", 7)) {
            help_seen = 1;
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            cr_assert(help_seen, "TYPE without HELP: %s", line);
            sscanf(line + 7, "%199s %31s", family, type);
            help_seen = 0;
            last_bucket = 0;
            continue;
        }
        lines++;
        cr_assert(!strncmp(line, "memgauge_collector_", 19), "prefix: %s", line);
        cr_assert(!strncmp(line, family, strlen(family)), "%s outside family %s", line, family);
        if (!strcmp(type, "counter"))
            cr_expect(strstr(family, "_total") != NULL, "counter %s without _total", family);
        double v = strtod(strrchr(line, ' ') + 1, NULL);
        if (strstr(line, "_bucket{")) {
            if (strstr(line, "le=\"0.0005\""))
                last_bucket = 0;
            cr_expect_geq(v, last_bucket, "buckets must be cumulative: %s", line);
            last_bucket = v;
        }
    }
    cr_expect_gt(lines, 50);
    http_result_free(&m);
}

#define BAD_HEADERS "/tmp/memgauge-bad-otlp-headers"

Test(metrics, otlp_options_are_checked)
{
    FILE *f = fopen(BAD_HEADERS, "w");
    cr_assert_not_null(f);
    fputs("# ok so far\nX-Key: v\nno colon here\n", f);
    fclose(f);
    struct {
        const char *argv[10];
        const char *says;
    } cases[] = {
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-endpoint", "ftp://x", NULL},
         "--otlp-endpoint"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-header", "X-Key: v", NULL},
         "need --otlp-endpoint"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-endpoint", "http://127.0.0.1:1",
          "--otlp-header", "no colon", NULL},
         "--otlp-header"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-endpoint", "http://127.0.0.1:1",
          "--otlp-headers", "/nonexistent/otlp-headers", NULL},
         "--otlp-headers: cannot read /nonexistent/otlp-headers"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-endpoint", "http://127.0.0.1:1",
          "--otlp-headers", BAD_HEADERS, NULL},
         "--otlp-headers: line 3: expected 'Name: value'"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--otlp-endpoint", "http://127.0.0.1:1",
          "--otlp-queue-bytes", "1K", NULL},
         "--otlp-queue-bytes"},
        {{"memgauge-collector", "--api-key", TEST_KEY, "--db", "postgres://u@127.0.0.1/db",
          "--otlp-endpoint", "http://127.0.0.1:1", NULL},
         "--otlp-queue"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[2048];
        int rc = collector_run_args(cases[i].argv, out, sizeof out);
        cr_expect_eq(rc, 2, "case %zu exited %d: %s", i, rc, out);
        cr_expect(strstr(out, cases[i].says) != NULL, "case %zu: '%s' not in %s", i, cases[i].says,
                  out);
    }
    unlink(BAD_HEADERS);
}

Test(otlp_queue, drops_the_oldest_past_its_budget_and_survives_a_reopen)
{
    char dir[] = "/tmp/memgauge-queue-XXXXXX";
    cr_assert(mkdtemp(dir));
    memgauge__otlp_queue_t q;
    char err[200], data[1000];
    cr_assert_eq(memgauge__otlp_queue_open(&q, dir, 4 * 1001, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 6; i++) {
        memset(data, 'a' + i, sizeof data);
        cr_assert_eq(memgauge__otlp_queue_put(&q, MEMGAUGE__OTLP_METRICS, data, sizeof data), 0);
    }
    cr_expect_eq(q.files, 4);
    cr_expect_eq(q.bytes, 4 * 1001);
    cr_expect_eq(q.dropped, 2, "the two oldest made room");
    cr_expect_eq(memgauge__otlp_queue_put(&q, MEMGAUGE__OTLP_LOGS, data, 5000), -1,
                 "larger than the whole budget");
    cr_expect_eq(q.dropped, 3);
    memgauge__otlp_queue_close(&q);

    cr_assert_eq(memgauge__otlp_queue_open(&q, dir, 4 * 1001, err, sizeof err), 0, "%s", err);
    cr_expect_eq(q.files, 4);
    uint64_t seq;
    memgauge__otlp_kind_t kind;
    char *got;
    size_t len;
    cr_assert_eq(memgauge__otlp_queue_peek(&q, &seq, &kind, &got, &len), 1);
    cr_expect_eq(seq, 2, "the oldest kept");
    cr_expect_eq(kind, MEMGAUGE__OTLP_METRICS);
    cr_expect_eq(len, 1000);
    cr_expect_eq(got[0], 'c');
    free(got);
    memgauge__otlp_queue_remove(&q, seq);
    memgauge__otlp_queue_remove(&q, seq); /* twice: no harm */
    cr_expect_eq(q.files, 3);
    cr_expect_eq(q.bytes, 3 * 1001);
    memgauge__otlp_queue_close(&q);
    cr_assert_eq(remove_dir(dir), 0);
}

Test(otlp, retry_policy_follows_the_otlp_specification)
{
    cr_expect(memgauge__otlp_retryable(429));
    cr_expect(memgauge__otlp_retryable(502));
    cr_expect(memgauge__otlp_retryable(503));
    cr_expect(memgauge__otlp_retryable(504));
    cr_expect(!memgauge__otlp_retryable(400));
    cr_expect(!memgauge__otlp_retryable(401));
    cr_expect(!memgauge__otlp_retryable(413));
    cr_expect(!memgauge__otlp_retryable(500));
    cr_expect_eq(memgauge__otlp_backoff_ms(0, 0.0), MEMGAUGE__OTLP_BACKOFF_MIN_MS / 2);
    cr_expect_lt(memgauge__otlp_backoff_ms(0, 0.999), MEMGAUGE__OTLP_BACKOFF_MIN_MS);
    cr_expect_eq(memgauge__otlp_backoff_ms(3, 0.0), MEMGAUGE__OTLP_BACKOFF_MIN_MS * 8 / 2);
    cr_expect_leq(memgauge__otlp_backoff_ms(40, 0.999), MEMGAUGE__OTLP_BACKOFF_MAX_MS);
    cr_expect_geq(memgauge__otlp_backoff_ms(40, 0.0), MEMGAUGE__OTLP_BACKOFF_MAX_MS / 2);
}

/* The metrics of resourceMetrics[i]. */
static cJSON *metrics_of(cJSON *root, int i)
{
    return cJSON_GetObjectItem(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "resourceMetrics"), i),
                                "scopeMetrics"),
            0),
        "metrics");
}

static cJSON *find_metric(cJSON *root, int i, const char *name)
{
    cJSON *m;
    cJSON_ArrayForEach(m, metrics_of(root, i))
    {
        if (!strcmp(cJSON_GetObjectItem(m, "name")->valuestring, name))
            return m;
    }
    return NULL;
}

static const char *first_point(cJSON *metric, const char *kind, const char *field)
{
    cJSON *dp =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(metric, kind), "dataPoints"), 0);
    return cJSON_GetObjectItem(dp, field)->valuestring;
}

Test(otlp, a_batch_becomes_window_metrics_and_the_judged_session_its_own)
{
    char bid[37], sid[37], prev[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 1),
                         .session_id = fixture_uuid(sid, 2),
                         .windows = 3,
                         .verdict = "oom_suspected",
                         .prev_session = fixture_uuid(prev, 3),
                         .grade = "medium"};
    char *json = fixture_batch_json(&f);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s", err.reason);
    /* the judged session ran another version: its row says so */
    memgauge__otlp_judged_t judged = {.found = 1};
    for (size_t i = 0; i < b.event_count; i++)
        if (b.events[i].kind == MEMGAUGE__EVENT_PREVIOUS_SESSION)
            judged.event = &b.events[i];
    cr_assert(judged.event);
    snprintf(judged.row.app_id, sizeof judged.row.app_id, "%s", b.app_id);
    snprintf(judged.row.app_version, sizeof judged.row.app_version, "0.9.0");
    snprintf(judged.row.metric, sizeof judged.row.metric, "phys_footprint");
    judged.row.samples = 100;
    judged.row.peak_bytes = 300u << 20;
    judged.row.peak_fraction = 0.55;
    char *text;
    cr_assert_eq(memgauge__otlp_encode_metrics(&b, &judged, 1, 1, &text), 0);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "resourceMetrics")), 2,
                 "the batch's resource, then the judged session's");
    cJSON *peak = find_metric(root, 0, "memgauge.window.peak_footprint");
    cr_assert(peak);
    cr_expect_str_eq(first_point(peak, "histogram", "count"), "3", "one per window");
    cr_expect_eq(
        cJSON_GetArraySize(cJSON_GetObjectItem(
            cJSON_GetArrayItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(peak, "histogram"), "dataPoints"), 0),
            "bucketCounts")),
        MEMGAUGE__OTLP_PEAK_BOUNDS + 1);
    cr_expect_str_eq(first_point(find_metric(root, 0, "memgauge.samples"), "sum", "asInt"), "30");
    cr_expect_null(find_metric(root, 0, "memgauge.sessions"),
                   "sessions go with their own resource");
    cJSON *speak = find_metric(root, 1, "memgauge.session.peak_footprint");
    cr_assert(speak);
    cr_expect_str_eq(first_point(speak, "histogram", "count"), "1", "one per session");
    cr_expect(find_metric(root, 1, "memgauge.session.peak_fraction") != NULL);
    cr_expect_str_eq(first_point(find_metric(root, 1, "memgauge.sessions"), "sum", "asInt"), "1");
    cr_expect(find_metric(root, 1, "memgauge.oom.suspected") != NULL);
    char *res = cJSON_PrintUnformatted(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(root, "resourceMetrics"), 1), "resource"));
    cr_expect(strstr(res, "\"0.9.0\"") != NULL, "%s", res);
    free(res);
    cJSON_Delete(root);

    cr_assert_eq(memgauge__otlp_encode_logs(&b, &judged, 1, 1, &text), 0);
    cr_assert(text);
    cr_expect(strstr(text, "\"severityText\":\"WARN\"") != NULL, "%s", text);
    cr_expect(strstr(text, prev) != NULL);
    cr_expect(strstr(text, "\"0.9.0\"") != NULL, "the judged session's resource");
    cr_expect(strstr(text, "memgauge.trail.footprint") != NULL);
    free(text);

    /* a session without data is counted, never ranked as 0 B */
    judged.row.samples = 0;
    cr_assert_eq(memgauge__otlp_encode_metrics(&b, &judged, 1, 1, &text), 0);
    root = cJSON_Parse(text);
    free(text);
    cr_expect_null(find_metric(root, 1, "memgauge.session.peak_footprint"));
    cr_expect(find_metric(root, 1, "memgauge.sessions") != NULL);
    cJSON_Delete(root);
    memgauge__batch_clear(&b);
    free(json);

    fixture_batch_t calm = {.batch_id = fixture_uuid(bid, 4), .session_id = fixture_uuid(sid, 5)};
    json = fixture_batch_json(&calm);
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s", err.reason);
    cr_assert_eq(memgauge__otlp_encode_logs(&b, NULL, 0, 1, &text), 0);
    cr_expect_null(text, "no verdict, no log request");
    cr_assert_eq(memgauge__otlp_encode_metrics(&b, NULL, 0, 1, &text), 0);
    cr_expect(strstr(text, "memgauge.sessions\"") == NULL);
    free(text);
    memgauge__batch_clear(&b);
    free(json);
}
