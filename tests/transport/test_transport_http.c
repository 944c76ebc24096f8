/*
 * The transport against a real HTTP server on 127.0.0.1 that injects
 * faults (fault_server.c): what arrives, and how each failure is retried.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "fault_server.h"
#include "support/scratch.h"
#include "support/support.h"
#include "transport.h"

TestSuite(transport_http, .init = mg_scratch_init, .fini = mg_scratch_fini, .timeout = 60);

static double now_s(void)
{
    return (double)mg_mono_ns() / 1e9;
}

typedef struct spooled_wait_s {
    memgauge__tr_t *t;
    uint64_t n;
} spooled_wait_t;

static int spooled(void *arg)
{
    spooled_wait_t *w = arg;
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(w->t, &st);
    return st.spooled >= w->n;
}

/* The transport has read a configuration error's answer. */
static int config_error_seen(void *t)
{
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    return st.config_error_status != 0;
}

/* The transport has counted a batch as sent (the server's answer is read
 * after the server has seen the request). */
static int batch_sent(void *t)
{
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    return st.batches_sent > 0;
}

static size_t spool_files(void)
{
    char path[200];
    snprintf(path, sizeof path, "%s/spool", mg_scratch);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "b-", 2) == 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static memgauge__tr_meta_t meta(void)
{
    memgauge__tr_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.sdk_version, sizeof m.sdk_version, "0.2.0");
    snprintf(m.app_id, sizeof m.app_id, "com.example.test");
    snprintf(m.app_version, sizeof m.app_version, "1.0");
    snprintf(m.device_model, sizeof m.device_model, "x86_64");
    snprintf(m.os_name, sizeof m.os_name, "Linux");
    snprintf(m.os_version, sizeof m.os_version, "6.1");
    memgauge__uuid_new(m.session_id);
    m.session_start_unix_ms = 1718000000000ull;
    m.interval_ms = 100;
    snprintf(m.metric, sizeof m.metric, "linux_private_footprint");
    return m;
}

static char g_url[64];
static char g_spool[200];
static const char *const g_extra[] = {"X-Test: hello"};

static memgauge__tr_config_t config(fault_server_t *s)
{
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d/v1/reports", fault_server_port(s));
    snprintf(g_spool, sizeof g_spool, "%s/spool", mg_scratch);
    memgauge__tr_config_t c = {.url = g_url,
                               .api_key = "k-123",
                               .extra_headers = g_extra,
                               .extra_header_count = 1,
                               .verify_tls = 1,
                               .gzip = 1,
                               .connect_timeout_ms = 1000,
                               .total_timeout_ms = 2000,
                               .retry_base_ms = 20,
                               .retry_max_ms = 5000,
                               .queue_capacity = 1024,
                               .max_batch_bytes = 1u << 20,
                               .report_interval_ms = 0,
                               .spool_dir = g_spool,
                               .spool_max_bytes = 1u << 24,
                               .spool_max_files = 100,
                               .spool_max_age_s = 3600};
    return c;
}

/* n samples 100 ms apart from t0, a 4 KiB step each, then their window. */
static void push_window(memgauge__tr_t *t, uint64_t t0, size_t n)
{
    memgauge__tr_window_t w = {.start_ms = t0, .end_ms = t0 + 100 * (n - 1), .samples = n};
    for (size_t i = 0; i < n; i++) {
        memgauge__tr_sample_t s = {
            .t_ms = t0 + 100 * i, .footprint = (1000 + i) * 4096, .resident = (2000 + i) * 4096};
        memgauge__tr_push_sample(t, &s);
    }
    w.first = w.min = 1000 * 4096;
    w.last = w.max = w.peak = (1000 + n - 1) * 4096;
    w.mean = (w.first + w.last) / 2;
    memgauge__tr_push_window(t, &w);
}

static cJSON *body_json(fault_server_t *s, size_t i)
{
    fault_request_t r = fault_server_request(s, i);
    cJSON *j = cJSON_Parse(r.body);
    free(r.body);
    cr_assert(ne(ptr, j, NULL), "request %zu is not JSON", i);
    return j;
}

static char *batch_id(fault_server_t *s, size_t i, char out[37])
{
    cJSON *j = body_json(s, i);
    snprintf(out, 37, "%s", cJSON_GetObjectItem(j, "batch_id")->valuestring);
    cJSON_Delete(j);
    return out;
}

Test(transport_http, a_batch_arrives_gzipped_with_its_headers_and_samples_decode_back)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 10);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));

    fault_request_t r = fault_server_request(s, 0);
    cr_expect(eq(int, r.gzip, 1));
    cr_expect(eq(str, r.authorization, "Bearer k-123"));
    cr_expect(eq(str, r.user_agent, "memgauge/0.2.0"));
    cr_expect(eq(str, r.content_type, "application/json"));
    cr_expect(eq(str, r.extra, "hello"));
    free(r.body);
    cJSON *j = body_json(s, 0);
    cr_expect(eq(int, cJSON_GetObjectItem(j, "schema")->valueint, 2));
    cr_expect(eq(str, cJSON_GetObjectItem(j, "metric")->valuestring, "linux_private_footprint"));
    cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), 0);
    cr_assert(ne(ptr, w, NULL));
    /* what the series says is left for the collector to derive */
    cr_expect(eq(ptr, cJSON_GetObjectItem(w, "samples"), NULL));
    cr_expect(eq(ptr, cJSON_GetObjectItem(w, "first"), NULL));
    cr_expect(eq(ptr, cJSON_GetObjectItem(w, "peak"), NULL));
    cr_expect(eq(ptr, cJSON_GetObjectItem(j, "dropped"), NULL), "nothing dropped, nothing said");
    cJSON *series = cJSON_GetObjectItem(w, "series");
    cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(series, "t")), 10));
    double unit = cJSON_GetObjectItem(series, "unit_bytes")->valuedouble;
    cr_expect(eq(dbl, unit, 4096));
    cJSON *fp = cJSON_GetObjectItem(series, "footprint");
    double v = 0;
    for (int i = 0; i < 10; i++) {
        v += cJSON_GetArrayItem(fp, i)->valuedouble;
        cr_expect(eq(dbl, v * unit, (1000.0 + i) * 4096), "sample %d", i);
    }
    cJSON_Delete(j);
    cr_expect(eq(sz, spool_files(), 0));
    fault_server_stop(s);
}

static void retried_then_stored(const fault_step_t *steps, size_t n)
{
    fault_server_t *s = fault_server_start(steps, n, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, n + 1, 15000), n + 1));
    mg_wait_until(batch_sent, t, 5000);
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.batches_sent, 1));
    cr_expect(eq(u64, st.batches_retried, n));
    cr_expect(eq(u64, st.batches_failed, 0));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    /* every attempt is the same batch: the collector stores it once */
    char first[37], other[37];
    batch_id(s, 0, first);
    for (size_t i = 1; i <= n; i++)
        cr_expect(eq(str, batch_id(s, i, other), first), "attempt %zu", i);
    cr_expect(eq(sz, fault_server_count(s), n + 1));
    cr_expect(eq(sz, spool_files(), 0));
    fault_server_stop(s);
}

Test(transport_http, answers_500_502_503_504_507_408_are_retried_with_the_same_batch)
{
    fault_step_t steps[] = {{.status = 500}, {.status = 502}, {.status = 503},
                            {.status = 504}, {.status = 507}, {.status = 408}};
    retried_then_stored(steps, 6);
}

Test(transport_http, a_connection_reset_is_retried)
{
    fault_step_t steps[] = {{.kind = FAULT_RESET}, {.kind = FAULT_RESET}};
    retried_then_stored(steps, 2);
}

Test(transport_http, a_hang_past_the_total_timeout_is_retried)
{
    fault_step_t steps[] = {{.kind = FAULT_HANG}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    c.total_timeout_ms = 300;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 2, 10000), 2));
    fault_request_t a = fault_server_request(s, 0), b = fault_server_request(s, 1);
    cr_expect(ge(dbl, b.at_s - a.at_s, 0.29), "retry came %.3f s after the hang", b.at_s - a.at_s);
    free(a.body);
    free(b.body);
    mg_wait_until(batch_sent, t, 5000);
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.batches_sent, 1));
    cr_expect(eq(u64, st.batches_retried, 1));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

Test(transport_http, a_slow_server_within_the_timeout_is_one_request)
{
    fault_step_t steps[] = {{.status = 200, .delay_ms = 700}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    usleep(1200000);
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.batches_sent, 1));
    cr_expect(eq(u64, st.batches_retried, 0));
    cr_expect(eq(sz, fault_server_count(s), 1));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

static double retry_gap(const char *retry_after)
{
    fault_step_t steps[] = {{.status = 429, .retry_after = retry_after}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 2, 10000), 2));
    fault_request_t a = fault_server_request(s, 0), b = fault_server_request(s, 1);
    free(a.body);
    free(b.body);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
    return b.at_s - a.at_s;
}

Test(transport_http, a_429_waits_for_retry_after_in_seconds)
{
    double gap = retry_gap("1");
    cr_expect(ge(dbl, gap, 0.95), "gap %.3f s", gap);
    cr_expect(le(dbl, gap, 2.5), "gap %.3f s", gap);
}

Test(transport_http, a_429_waits_for_retry_after_as_an_http_date)
{
    char date[64];
    time_t at = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    double gap = retry_gap(date);
    cr_expect(ge(dbl, gap, 0.9), "gap %.3f s", gap); /* whole seconds: 1 to 2 s */
    cr_expect(le(dbl, gap, 3.5), "gap %.3f s", gap);
}

Test(transport_http, a_400_is_dropped_counted_and_never_retried)
{
    fault_step_t steps[] = {{.status = 400}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    usleep(500000);
    cr_expect(eq(sz, fault_server_count(s), 1));
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.batches_failed, 1));
    cr_expect(eq(u64, st.batches_retried, 0));
    cr_expect(eq(sz, spool_files(), 0));
    /* the next batch says so */
    push_window(t, 1000, 5);
    cr_assert(eq(sz, fault_server_wait(s, 2, 5000), 2));
    cJSON *j = body_json(s, 1);
    cJSON *d = cJSON_GetObjectItem(j, "dropped");
    cr_assert(ne(ptr, d, NULL));
    cr_expect(eq(dbl, cJSON_GetObjectItem(d, "batches")->valuedouble, 1));
    cJSON_Delete(j);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

Test(transport_http, stop_with_a_hanging_server_returns_within_its_bound_and_keeps_the_batch)
{
    fault_step_t hang = {.kind = FAULT_HANG};
    fault_server_t *s = fault_server_start(NULL, 0, &hang);
    memgauge__tr_config_t c = config(s);
    c.total_timeout_ms = 30000;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    double t0 = now_s();
    cr_expect(eq(int, memgauge__tr_stop(t, 300), 0));
    double took = now_s() - t0;
    cr_expect(le(dbl, took, 0.300 + 0.250), "stop took %.3f s", took);
    cr_expect(eq(sz, spool_files(), 1), "the unacknowledged batch stays spooled");
    fault_server_stop(s);
}

Test(transport_http, an_urgent_event_is_sent_without_waiting_for_the_window)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    c.report_interval_ms = 3600000;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    memgauge__tr_event_t e = {
        .type = MEMGAUGE__TR_EVENT_PRESSURE, .t_ms = 1234, .urgent = 1, .level_name = "critical"};
    memgauge__tr_push_event(t, &e);
    cr_assert(eq(sz, fault_server_wait(s, 1, 3000), 1));
    cJSON *j = body_json(s, 0);
    cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "events"), 0);
    cr_expect(eq(str, cJSON_GetObjectItem(ev, "type")->valuestring, "pressure"));
    cr_expect(eq(str, cJSON_GetObjectItem(ev, "level")->valuestring, "critical"));
    cr_expect(eq(dbl, cJSON_GetObjectItem(ev, "t_ms")->valuedouble, 1234));
    cJSON_Delete(j);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

static void push_pressure(memgauge__tr_t *t, uint64_t t_ms, const char *level)
{
    memgauge__tr_event_t e = {
        .type = MEMGAUGE__TR_EVENT_PRESSURE, .t_ms = t_ms, .level_name = level};
    memgauge__tr_push_event(t, &e);
}

static int windows_in(fault_server_t *s, size_t i)
{
    cJSON *j = body_json(s, i);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows"));
    cJSON_Delete(j);
    return n;
}

/* The session's first window goes at once (the collector learns the
 * session); later closed windows wait for report_interval_ms, unless an
 * event is pending or pressure is above normal: then each window close
 * sends. */
Test(transport_http, windows_wait_for_the_report_interval_unless_something_should_not)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    c.report_interval_ms = 3600000;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 3);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1), "the session's first window goes at once");
    cr_expect(eq(int, windows_in(s, 0), 1));
    push_window(t, 1000, 3);
    push_window(t, 2000, 3);
    usleep(1500000);
    cr_expect(eq(sz, fault_server_count(s), 1), "the next two windows wait for the interval");
    push_pressure(t, 2500, "warning"); /* not urgent: goes with the next window */
    usleep(1500000);
    cr_expect(eq(sz, fault_server_count(s), 1));
    push_window(t, 3000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 2, 5000), 2));
    cr_expect(eq(int, windows_in(s, 1), 3), "the waiting windows go with the event");
    push_window(t, 4000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 3, 5000), 3), "under pressure every window goes");
    cr_expect(eq(int, windows_in(s, 2), 1));
    push_pressure(t, 4500, "normal");
    push_window(t, 5000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 4, 5000), 4), "the event back to normal goes too");
    push_window(t, 6000, 3);
    usleep(1500000);
    cr_expect(eq(sz, fault_server_count(s), 4), "then windows wait again");
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    cr_assert(eq(sz, fault_server_wait(s, 5, 5000), 5), "stop sends what waited");
    cr_expect(eq(int, windows_in(s, 4), 1));
    fault_server_stop(s);
}

Test(transport_http, the_previous_session_goes_in_the_first_batch_only)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_sample_t trail[3] = {{.t_ms = 55000, .footprint = 1u << 30},
                                      {.t_ms = 56000, .footprint = (1u << 30) + (1u << 24)},
                                      {.t_ms = 57000, .footprint = (1u << 30) + (2u << 24)}};
    memgauge__tr_previous_t p = {.verdict = "oom_suspected",
                                 .grade = "high",
                                 .last_footprint = (1u << 30) + (2u << 24),
                                 .limit = 2u << 30,
                                 .pressure = "critical",
                                 .trail = trail,
                                 .trail_count = 3};
    memgauge__uuid_new(p.session_id);
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, &p, &t), 0));
    push_window(t, 0, 3);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    push_window(t, 1000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 2, 5000), 2));
    cJSON *j = body_json(s, 0);
    cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "events"), 0);
    cr_expect(eq(str, cJSON_GetObjectItem(ev, "type")->valuestring, "previous_session"));
    cr_expect(eq(str, cJSON_GetObjectItem(ev, "verdict")->valuestring, "oom_suspected"));
    cr_expect(eq(str, cJSON_GetObjectItem(ev, "session_id")->valuestring, p.session_id));
    cJSON *fp = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "trail"), "footprint");
    cr_expect(eq(int, cJSON_GetArraySize(fp), 3));
    cJSON_Delete(j);
    j = body_json(s, 1);
    cr_expect(eq(ptr, cJSON_GetObjectItem(j, "events"), NULL));
    cJSON_Delete(j);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

/* 1: request i carries the session's description (sdk, device, app.version). */
static int is_full(fault_server_t *s, size_t i)
{
    cJSON *j = body_json(s, i);
    cJSON *app = cJSON_GetObjectItem(j, "app");
    cJSON *session = cJSON_GetObjectItem(j, "session");
    int sdk = cJSON_GetObjectItem(j, "sdk") != NULL, dev = cJSON_GetObjectItem(j, "device") != NULL;
    int version = cJSON_GetObjectItem(app, "version") != NULL;
    /* what identifies a batch is always there */
    cr_expect(eq(int, cJSON_GetObjectItem(j, "schema")->valueint, 2));
    cr_expect(ne(ptr, cJSON_GetObjectItem(app, "id"), NULL), "request %zu: app.id", i);
    cr_expect(ne(ptr, cJSON_GetObjectItem(session, "id"), NULL), "request %zu", i);
    cr_expect(ne(ptr, cJSON_GetObjectItem(session, "start_unix_ms"), NULL), "request %zu", i);
    cr_expect(ne(ptr, cJSON_GetObjectItem(j, "metric"), NULL), "request %zu", i);
    cr_expect(sdk == dev && dev == version, "request %zu: all of the description or none", i);
    cJSON_Delete(j);
    return sdk;
}

Test(transport_http, the_description_goes_until_a_batch_is_acknowledged_then_batches_are_short)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 3);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    push_window(t, 1000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 2, 5000), 2));
    push_window(t, 2000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 3, 5000), 3));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    cr_expect(is_full(s, 0), "the first batch describes the session");
    cr_expect(not(is_full(s, 1)), "the collector has acknowledged it: short");
    cr_expect(not(is_full(s, 2)));
    fault_server_stop(s);
}

Test(transport_http, batches_spooled_before_the_acknowledgement_are_sent_as_they_were_built)
{
    fault_step_t steps[] = {{.status = 503, .retry_after = "1"}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 3);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1), "answered 503: waits a second");
    push_window(t, 1000, 3); /* built and spooled before any acknowledgement */
    cr_assert(eq(sz, fault_server_wait(s, 3, 5000), 3), "the retry, then the second batch");
    push_window(t, 2000, 3);
    cr_assert(eq(sz, fault_server_wait(s, 4, 5000), 4));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    char first[37], retry[37];
    cr_expect(eq(str, batch_id(s, 1, retry), batch_id(s, 0, first)));
    cr_expect(is_full(s, 0));
    cr_expect(is_full(s, 1), "a retry is the same bytes");
    cr_expect(is_full(s, 2), "spooled before the acknowledgement: keeps its description");
    cr_expect(not(is_full(s, 3)), "built after it: short");
    fault_server_stop(s);
}

Test(transport_http, a_415_to_gzip_switches_to_plain_json)
{
    fault_step_t steps[] = {{.status = 415}};
    fault_server_t *s = fault_server_start(steps, 1, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 2, 5000), 2));
    fault_request_t a = fault_server_request(s, 0), b = fault_server_request(s, 1);
    cr_expect(eq(int, a.gzip, 1));
    cr_expect(eq(int, b.gzip, 0));
    cr_expect(eq(str, a.body, b.body), "the same document, unzipped");
    free(a.body);
    free(b.body);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

/* ---- configuration errors, the base URL and the clean end ------------------ */

static char g_logs[8][512];
static int g_log_kinds[8];
static int g_log_count;

static void collect_log(void *ctx, int kind, int level, const char *message)
{
    (void)ctx;
    (void)level;
    if (g_log_count < 8) {
        g_log_kinds[g_log_count] = kind;
        snprintf(g_logs[g_log_count], sizeof g_logs[0], "%s", message);
    }
    g_log_count++;
}

static cJSON *session_of(cJSON *j)
{
    return cJSON_GetObjectItem(j, "session");
}

Test(transport_http, a_base_url_posts_to_v1_reports_and_a_url_with_a_path_is_used_as_given)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    char url[80];
    const char *given[] = {"", "/", "/ingest/memgauge"};
    const char *want[] = {"/v1/reports", "/v1/reports", "/ingest/memgauge"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", fault_server_port(s), given[i]);
        c.url = url;
        memgauge__tr_meta_t m = meta();
        memgauge__tr_t *t;
        cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
        push_window(t, 0, 3);
        cr_assert(eq(sz, fault_server_wait(s, i + 1, 5000), i + 1));
        cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
        fault_request_t r = fault_server_request(s, i);
        cr_expect(eq(str, r.path, (char *)want[i]), "%s", url);
        free(r.body);
    }
    fault_server_stop(s);
}

/* Answered `status` twice, then 200: the batch waits in the spool through
 * both, is sent again after the long backoff, and arrives once. */
static void config_error_then_fixed(int status, const char *hint)
{
    fault_step_t steps[] = {{.status = status}, {.status = status}};
    fault_server_t *s = fault_server_start(steps, 2, NULL);
    memgauge__tr_config_t c = config(s);
    c.retry_max_ms = 300; /* caps the configuration backoff (60 s by default) */
    c.log = collect_log;
    g_log_count = 0;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    mg_wait_until(config_error_seen, t, 5000);
    memgauge__tr_stats_t st;
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(int, st.config_error_status, status));
    cr_expect(eq(sz, spool_files(), 1), "%d: the batch is kept", status);
    cr_assert(eq(sz, fault_server_wait(s, 3, 5000), 3));
    mg_wait_until(batch_sent, t, 5000);
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.config_errors, 2));
    cr_expect(eq(u64, st.batches_failed, 0), "%d is not the batch's fault", status);
    cr_expect(eq(u64, st.batches_sent, 1));
    cr_expect(eq(int, st.config_error_status, 0), "cleared by the 200");
    cr_expect(eq(sz, spool_files(), 0));
    char a[37], b[37];
    cr_expect(eq(str, batch_id(s, 0, a), batch_id(s, 2, b)), "the same batch, sent again");
    fault_request_t r0 = fault_server_request(s, 0), r1 = fault_server_request(s, 1);
    cr_expect(ge(dbl, r1.at_s - r0.at_s, 0.140), "%d: waited %.3f s, not the 20 ms retry base",
              status, r1.at_s - r0.at_s);
    free(r0.body);
    free(r1.body);
    cr_expect(eq(int, g_log_count, 3), "two configuration errors and the recovery told");
    cr_expect(eq(int, g_log_kinds[0], MEMGAUGE__TR_LOG_CONFIG));
    cr_expect(ne(ptr, strstr(g_logs[0], hint), NULL), "%s", g_logs[0]);
    cr_expect(eq(int, g_log_kinds[2], MEMGAUGE__TR_LOG_RECOVERED));
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

Test(transport_http, answers_401_403_404_405_keep_the_batch_and_send_it_once_fixed)
{
    config_error_then_fixed(401, "api_key");
    config_error_then_fixed(403, "api_key");
    config_error_then_fixed(404, "endpoint_url");
    config_error_then_fixed(405, "endpoint_url");
}

Test(transport_http, the_spool_budget_still_evicts_the_oldest_while_the_endpoint_is_wrong)
{
    fault_step_t not_found = {.status = 404};
    fault_server_t *s = fault_server_start(NULL, 0, &not_found);
    memgauge__tr_config_t c = config(s);
    c.spool_max_files = 2;
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    memgauge__tr_stats_t st;
    for (uint64_t i = 0; i < 5; i++) {
        push_window(t, 1000 * i, 3);
        spooled_wait_t w = {t, i + 1}; /* each window is its own batch */
        mg_wait_until(spooled, &w, 1000);
    }
    memgauge__tr_get_stats(t, &st);
    cr_expect(eq(u64, st.spooled, 5));
    cr_expect(le(sz, spool_files(), 2), "the budget holds");
    cr_expect(ge(u64, st.spool_evicted, 3), "and what it evicts is counted");
    cr_expect(eq(u64, st.batches_failed, 0));
    cr_assert(eq(int, memgauge__tr_stop(t, 300), 0));
    fault_server_stop(s);
}

Test(transport_http, a_clean_end_rides_in_the_final_batch_with_the_last_windows)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    c.report_interval_ms = 60000; /* the windows wait for the stop */
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1), "the session's first window goes at once");
    push_window(t, 1000, 5);
    push_window(t, 2000, 5);
    memgauge__tr_end_clean(t, 2400);
    cr_assert(eq(int, memgauge__tr_stop(t, 2000), 0));
    cr_assert(eq(sz, fault_server_count(s), 2));
    cJSON *j = body_json(s, 1);
    cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 2));
    cr_expect(eq(str, cJSON_GetObjectItem(session_of(j), "end")->valuestring, "clean_stop"));
    cr_expect(eq(dbl, cJSON_GetObjectItem(session_of(j), "end_ms")->valuedouble, 2400));
    cJSON_Delete(j);
    fault_server_stop(s);
}

Test(transport_http, a_clean_end_with_nothing_left_is_a_batch_of_its_own)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(s);
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    cr_assert(eq(sz, fault_server_wait(s, 1, 5000), 1));
    memgauge__tr_end_clean(t, 400);
    cr_assert(eq(int, memgauge__tr_stop(t, 2000), 0));
    cr_assert(eq(sz, fault_server_count(s), 2));
    cJSON *j = body_json(s, 0);
    cr_expect(eq(ptr, cJSON_GetObjectItem(session_of(j), "end"), NULL), "only the final batch");
    cJSON_Delete(j);
    j = body_json(s, 1);
    cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 0));
    cr_expect(eq(str, cJSON_GetObjectItem(session_of(j), "end")->valuestring, "clean_stop"));
    cr_expect(eq(dbl, cJSON_GetObjectItem(session_of(j), "end_ms")->valuedouble, 400));
    cJSON_Delete(j);
    fault_server_stop(s);
}

Test(transport_http, a_clean_end_spooled_at_stop_is_sent_at_the_next_start)
{
    fault_server_t *gone = fault_server_start(NULL, 0, NULL);
    memgauge__tr_config_t c = config(gone);
    fault_server_stop(gone); /* nobody listens there now */
    memgauge__tr_meta_t m = meta();
    memgauge__tr_t *t;
    cr_assert(eq(int, memgauge__tr_create(&c, &m, NULL, &t), 0));
    push_window(t, 0, 5);
    memgauge__tr_end_clean(t, 555);
    cr_assert(eq(int, memgauge__tr_stop(t, 300), 0));
    cr_assert(ge(sz, spool_files(), 1));

    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    c = config(s);
    memgauge__tr_meta_t next = meta();
    cr_assert(eq(int, memgauge__tr_create(&c, &next, NULL, &t), 0));
    cr_assert(ge(sz, fault_server_wait(s, 1, 5000), 1));
    size_t n = fault_server_count(s);
    cJSON *j = body_json(s, n - 1);
    cr_expect(eq(str, cJSON_GetObjectItem(session_of(j), "id")->valuestring, m.session_id),
              "the previous run's batch");
    cr_expect(eq(str, cJSON_GetObjectItem(session_of(j), "end")->valuestring, "clean_stop"));
    cr_expect(eq(dbl, cJSON_GetObjectItem(session_of(j), "end_ms")->valuedouble, 555));
    cJSON_Delete(j);
    cr_assert(eq(int, memgauge__tr_stop(t, 1000), 0));
    fault_server_stop(s);
}

/* ---- the same through memgauge_start, as an app sees it -------------------- */

static atomic_int g_app_logs;
static int g_app_level;
static char g_app_log[512];

static void app_log(int level, const char *message, void *user_data)
{
    (void)user_data;
    if (atomic_fetch_add(&g_app_logs, 1) == 0) {
        g_app_level = level;
        snprintf(g_app_log, sizeof g_app_log, "%s", message);
    }
}

static memgauge_options_t app_options(const char *url)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 20;
    o.fast_interval_ms = 20;
    o.window_ms = 100;
    o.record = 0;
    o.storage_dir = mg_scratch;
    o.app_id = "transport-http";
    o.endpoint_url = url;
    o.report_interval_ms = 0;
    o.retry_base_ms = 20;
    o.retry_max_ms = 100;
    o.on_log = app_log;
    o.log_user_data = NULL;
    return o;
}

/* The SDK has read four configuration errors' answers. */
static int four_config_errors(void *h)
{
    memgauge_stats_t st = {.struct_size = sizeof st};
    return memgauge_get_stats(h, &st) == MEMGAUGE_OK && st.config_errors >= 4;
}

Test(transport_http, a_wrong_endpoint_shows_in_stats_and_once_through_on_log)
{
    fault_step_t not_found = {.status = 404};
    fault_server_t *s = fault_server_start(NULL, 0, &not_found);
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/wrong", fault_server_port(s));
    memgauge_options_t o = app_options(url);
    atomic_store(&g_app_logs, 0);
    memgauge_t *h;
    cr_assert(eq(int, memgauge_start(&o, &h), MEMGAUGE_OK));
    cr_assert(ge(sz, fault_server_wait(s, 4, 10000), 4), "retried, never dropped");
    /* the server counts a request before the SDK has read its answer */
    mg_wait_until(four_config_errors, h, 5000);
    memgauge_stats_t st = {.struct_size = sizeof st};
    cr_assert(eq(int, memgauge_get_stats(h, &st), MEMGAUGE_OK));
    cr_expect(eq(i32, st.config_error_status, 404));
    cr_expect(eq(i32, st.last_http_status, 404));
    cr_expect(ge(u64, st.config_errors, 4));
    cr_expect(eq(u64, st.batches_failed, 0));
    cr_expect(ge(u64, st.spool_files, 1), "the batches wait in the spool");
    cr_expect(eq(int, atomic_load(&g_app_logs), 1), "told once a minute: %d messages",
              atomic_load(&g_app_logs));
    cr_expect(ge(u64, st.log_suppressed, 3), "the repeats are counted");
    cr_expect(eq(int, g_app_level, MEMGAUGE_LOG_ERROR));
    cr_expect(ne(ptr, strstr(g_app_log, "404"), NULL), "%s", g_app_log);
    cr_expect(ne(ptr, strstr(g_app_log, "endpoint_url"), NULL), "%s", g_app_log);
    cr_expect(eq(int, st.record_active, 0));
    cr_expect(eq(int, st.record_errno, 0), "off by option is not an error");
    cr_assert(eq(int, memgauge_stop(h, 300), MEMGAUGE_OK));
    fault_server_stop(s);
}

Test(transport_http, memgauge_stop_sends_a_final_batch_that_says_clean_stop)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fault_server_port(s));
    memgauge_options_t o = app_options(url);
    o.report_interval_ms = 60000; /* the windows wait for the stop */
    memgauge_t *h;
    cr_assert(eq(int, memgauge_start(&o, &h), MEMGAUGE_OK));
    usleep(800000); /* about 8 windows: the first goes at once, the rest wait */
    memgauge_stats_t st = {.struct_size = sizeof st};
    cr_assert(eq(int, memgauge_get_stats(h, &st), MEMGAUGE_OK));
    cr_assert(eq(int, memgauge_stop(h, 3000), MEMGAUGE_OK));
    size_t n = fault_server_count(s);
    cr_assert(ge(sz, n, 1));
    for (size_t i = 0; i + 1 < n; i++) {
        cJSON *j = body_json(s, i);
        cr_expect(eq(ptr, cJSON_GetObjectItem(session_of(j), "end"), NULL), "batch %zu", i);
        cJSON_Delete(j);
    }
    cJSON *j = body_json(s, n - 1);
    cJSON *end = cJSON_GetObjectItem(session_of(j), "end");
    cr_assert(ne(ptr, end, NULL), "the final batch says how the session ended");
    cr_expect(eq(str, end->valuestring, "clean_stop"));
    double end_ms = cJSON_GetObjectItem(session_of(j), "end_ms")->valuedouble;
    uint64_t seen_ms = (st.last_ns - st.start_ns) / 1000000u;
    cr_expect(ge(dbl, end_ms, (double)seen_ms), "the last sample, at or after %llu ms",
              (unsigned long long)seen_ms);
    cr_expect(le(dbl, end_ms, 3000.0), "%.0f ms", end_ms);
    cr_expect(ge(int, cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 4));
    fault_request_t r = fault_server_request(s, n - 1);
    cr_expect(eq(str, r.path, "/v1/reports"), "the base URL rule");
    free(r.body);
    cJSON_Delete(j);
    fault_server_stop(s);
}

Test(transport_http, a_memory_warning_goes_out_at_once_as_a_pressure_event)
{
    fault_server_t *s = fault_server_start(NULL, 0, NULL);
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fault_server_port(s));
    memgauge_options_t o = app_options(url);
    o.report_interval_ms = 60000; /* windows wait: only the urgent event sends */
    o.window_ms = 60000;
    memgauge_t *h;
    cr_assert(eq(int, memgauge_start(&o, &h), MEMGAUGE_OK));
    memgauge_stats_t before = {.struct_size = sizeof before};
    cr_assert(eq(int, memgauge_get_stats(h, &before), MEMGAUGE_OK));
    memgauge_note_memory_warning();
    cr_assert(ge(sz, fault_server_wait(s, 1, 10000), 1), "sent without waiting for the window");
    cJSON *j = body_json(s, 0);
    cJSON *events = cJSON_GetObjectItem(j, "events"), *found = NULL, *e;
    cJSON_ArrayForEach(e, events)
    {
        cJSON *src = cJSON_GetObjectItem(e, "source");
        if (src != NULL && cJSON_IsString(src) && strcmp(src->valuestring, "memory_warning") == 0)
            found = e;
    }
    cr_assert(ne(ptr, found, NULL), "no memory_warning event in the batch");
    cr_expect(eq(str, cJSON_GetObjectItem(found, "type")->valuestring, "pressure"));
    cr_expect(eq(str, cJSON_GetObjectItem(found, "level")->valuestring, "warning"));
    memgauge_stats_t st = {.struct_size = sizeof st};
    cr_assert(eq(int, memgauge_get_stats(h, &st), MEMGAUGE_OK));
    cr_expect(eq(u64, st.memory_warnings, before.memory_warnings + 1));
    cJSON_Delete(j);
    cr_assert(eq(int, memgauge_stop(h, 1000), MEMGAUGE_OK));
    fault_server_stop(s);
}
