/* The query API through the real binary: the numbers the dashboard reads. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

static collector_t srv;
static const char *const AUTH[] = {"Authorization: Bearer " TEST_KEY, NULL};

static void fini(void)
{
    collector_cleanup(&srv);
}

TestSuite(query, .fini = fini, .timeout = 60);

static cJSON *get(const char *path, long want_status)
{
    http_result_t r = http_request(srv.port, "GET", path, AUTH, NULL, 0);
    cr_assert_eq(r.status, want_status, "GET %s: %ld %s", path, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j, "GET %s: not JSON: %s", path, r.body);
    http_result_free(&r);
    return j;
}

static double num(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *n = o;
    for (char *save, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        n = (tok[0] >= '0' && tok[0] <= '9') ? cJSON_GetArrayItem(n, atoi(tok))
                                             : cJSON_GetObjectItem(n, tok);
    cr_assert(cJSON_IsNumber(n), "%s is not a number", path);
    return n->valuedouble;
}

static void post(const fixture_batch_t *f)
{
    char *json = fixture_batch_json(f);
    http_result_t r = http_post_json(srv.port, json);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    free(json);
}

#define MIB (1024.0 * 1024.0)

/* Ten sessions of version 2.4.0: session i peaks at (100 + 10 i) MiB plus
 * the fixture's rise; two devices; session 0 and 1 judged OOM by their
 * successors, session 2 a clean exit. One session of 2.5.0. */
static void populate(void)
{
    char b[37], s[37], prev[37];
    for (int i = 0; i < 10; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, (uint64_t)i + 1),
                             .session_id = fixture_uuid(s, (uint64_t)i + 100),
                             .device_model = i % 2 ? "iPhone12,1" : "iPhone15,2",
                             .os_version = i < 5 ? "17.5.1" : "16.7",
                             .base_pages = (uint64_t)(100 + 10 * i) * 64, /* 64 pages = 1 MiB */
                             .step_pages = 1,
                             .samples_per_window = 10,
                             .verdict = i >= 1 && i <= 3 ? (i == 3 ? "clean_exit" : "oom_suspected")
                                                         : NULL,
                             .prev_session = fixture_uuid(prev, (uint64_t)i + 99)};
        post(&f);
    }
    fixture_batch_t other = {.batch_id = fixture_uuid(b, 50),
                             .session_id = fixture_uuid(s, 500),
                             .app_version = "2.5.0"};
    post(&other);
}

Test(query, apps_and_versions)
{
    collector_start(&srv, NULL, NULL);
    populate();
    cJSON *j = get("/v1/apps", 200);
    cJSON *apps = cJSON_GetObjectItem(j, "apps");
    cr_assert_eq(cJSON_GetArraySize(apps), 1);
    cJSON *versions = cJSON_GetObjectItem(cJSON_GetArrayItem(apps, 0), "versions");
    cr_assert_eq(cJSON_GetArraySize(versions), 2);
    double total = num(versions, "0.sessions") + num(versions, "1.sessions");
    cr_expect_eq(total, 11);
    cJSON_Delete(j);
}

Test(query, version_percentiles_oom_rate_and_breakdowns)
{
    collector_start(&srv, NULL, NULL);
    populate();
    cJSON *j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    /* peaks: (100 + 10 i) MiB + 9 pages (the 10th sample), i = 0..9 */
    double pad = 9 * 16384.0;
    cr_expect_eq(num(j, "overall.sessions"), 10);
    cr_expect_eq(num(j, "overall.peak_bytes.p50"), 140 * MIB + pad);
    cr_expect_eq(num(j, "overall.peak_bytes.p90"), 180 * MIB + pad);
    cr_expect_eq(num(j, "overall.peak_bytes.p99"), 190 * MIB + pad);
    cr_expect_float_eq(num(j, "overall.peak_fraction_of_limit.p90"), (180 * MIB + pad) / 2048 / MIB,
                       1e-9);
    /* sessions 100 and 101 (i = 0, 1) were judged OOM by 101 and 102 */
    cr_expect_eq(num(j, "overall.oom_sessions"), 2);
    cr_expect_eq(num(j, "overall.judged_sessions"), 3);
    cr_expect_float_eq(num(j, "overall.oom_free_rate"), 0.8, 1e-12);
    cJSON *dev = cJSON_GetObjectItem(j, "by_device");
    cr_assert_eq(cJSON_GetArraySize(dev), 2);
    for (int g = 0; g < 2; g++) {
        cJSON *o = cJSON_GetArrayItem(dev, g);
        const char *model = cJSON_GetObjectItem(o, "device_model")->valuestring;
        cr_expect_eq(num(o, "sessions"), 5);
        cr_expect_eq(num(o, "oom_sessions"), 1, "%s: one of 100 (even), 101 (odd)", model);
        /* even i: 100,120,...,180 -> p50 140; odd: 110..190 -> p50 150 */
        cr_expect_eq(num(o, "peak_bytes.p50"),
                     (strcmp(model, "iPhone15,2") == 0 ? 140 : 150) * MIB + pad);
    }
    cJSON *os = cJSON_GetObjectItem(j, "by_os");
    cr_assert_eq(cJSON_GetArraySize(os), 2);
    cJSON_Delete(j);
    cJSON *missing = get("/v1/stats?app=com.example.photos", 400);
    cr_expect_str_eq(cJSON_GetObjectItem(missing, "field")->valuestring, "version");
    cJSON_Delete(missing);
}

Test(query, session_list_filters_and_pages)
{
    collector_start(&srv, NULL, NULL);
    populate();
    cJSON *j =
        get("/v1/sessions?app=com.example.photos&version=2.4.0&device=iPhone12,1&limit=2", 200);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions")), 2);
    cr_expect_eq(num(j, "next_offset"), 2);
    cJSON_Delete(j);
    j = get("/v1/sessions?version=2.4.0&device=iPhone12,1&limit=2&offset=4", 200);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions")), 1);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "next_offset")));
    cJSON_Delete(j);
    j = get("/v1/sessions?verdict=oom", 200);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions")), 2);
    cJSON_Delete(j);
    j = get("/v1/sessions?os=16.7&verdict=pending", 200);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions")), 5);
    cJSON_Delete(j);
    j = get("/v1/sessions?limit=0", 400);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "field")->valuestring, "limit");
    cJSON_Delete(j);
    j = get("/v1/sessions/00000000-0000-4000-8000-000000000065", 200); /* 101 */
    cr_expect_str_eq(cJSON_GetObjectItem(j, "verdict")->valuestring, "oom_suspected");
    cr_expect_eq(num(j, "samples"), 10);
    cJSON_Delete(j);
    j = get("/v1/sessions/00000000-0000-4000-8000-0000000fffff", 404);
    cJSON_Delete(j);
}

Test(query, samples_are_decimated_keeping_the_peak)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37];
    /* 20 windows of 500 samples, a spike the kernel saw at sample 7777 */
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 1),
                         .windows = 20,
                         .samples_per_window = 500,
                         .interval_ms = 100,
                         .spike_at = 7777,
                         .spike_pages = 5000};
    post(&f);
    char path[200];
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?points=100", s);
    cJSON *j = get(path, 200);
    cr_expect_eq(num(j, "samples_total"), 10000);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "decimated")));
    int points = (int)num(j, "points");
    cr_expect_leq(points, 100);
    cr_expect_geq(points, 50);
    cJSON *t = cJSON_GetObjectItem(j, "t_ms"), *pk = cJSON_GetObjectItem(j, "peak");
    int found = 0;
    for (int i = 0; i < points; i++)
        if (cJSON_GetArrayItem(t, i)->valuedouble == 777700.0) {
            found = 1;
            /* k = 7777: triangle 7777 % 50 = 27 -> 50 - 27 = 23 pages up */
            cr_expect_eq(cJSON_GetArrayItem(pk, i)->valuedouble,
                         (11520.0 + 16 * 23 + 5000) * 16384);
        }
    cr_expect(found, "the spike at t = 777.7 s survived decimation to %d points", points);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 20);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?points=1", s);
    cJSON_Delete(get(path, 400));
}

Test(query, events_and_suspected_oom_sessions_with_trails)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s1[37], s2[37];
    fixture_batch_t first = {.batch_id = fixture_uuid(b, 1),
                             .session_id = fixture_uuid(s1, 1),
                             .threshold = 1,
                             .pressure = 1,
                             .device_model = "iPad13,4"};
    post(&first);
    fixture_batch_t second = {.batch_id = fixture_uuid(b, 2),
                              .session_id = fixture_uuid(s2, 2),
                              .verdict = "oom_suspected",
                              .prev_session = s1};
    post(&second);
    char path[200];
    snprintf(path, sizeof path, "/v1/sessions/%s/events", s1);
    cJSON *j = get(path, 200);
    cJSON *ev = cJSON_GetObjectItem(j, "events");
    cr_assert_eq(cJSON_GetArraySize(ev), 2);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "type")->valuestring,
                     "threshold");
    cr_expect_eq(num(ev, "0.level"), 150000000);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 1), "level")->valuestring,
                     "critical");
    cJSON_Delete(j);
    j = get("/v1/oom?app=com.example.photos", 200);
    cJSON *list = cJSON_GetObjectItem(j, "sessions");
    cr_assert_eq(cJSON_GetArraySize(list), 1);
    cJSON *o = cJSON_GetArrayItem(list, 0);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "session_id")->valuestring, s1);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "device_model")->valuestring, "iPad13,4");
    cr_expect_eq(num(o, "limit_bytes"), 2147483648.0);
    cr_expect_eq(num(o, "trail.footprint.2"), 126976.0 * 16384);
    cr_expect_eq(num(o, "trail.t_ms.0"), 55000);
    cJSON_Delete(j);
}
