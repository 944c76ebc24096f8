/* The query API through the real binary: the numbers the dashboard reads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

static collector_t srv;
static const char *const AUTH[] = {"Authorization: Bearer " TEST_READ_TOKEN, NULL};

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
                             .prev_session = fixture_uuid(prev, (uint64_t)i + 99),
                             .no_trail = 1};
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
    /* percentiles come from the rollups' sketches: within 1 % of exact */
    EXPECT_WITHIN_1PC(num(j, "overall.peak_bytes.p50"), 140 * MIB + pad);
    EXPECT_WITHIN_1PC(num(j, "overall.peak_bytes.p90"), 180 * MIB + pad);
    EXPECT_WITHIN_1PC(num(j, "overall.peak_bytes.p99"), 190 * MIB + pad);
    EXPECT_WITHIN_1PC(num(j, "overall.peak_fraction_of_limit.p90"), (180 * MIB + pad) / 2048 / MIB);
    cr_expect_null(cJSON_GetObjectItem(j, "truncated"), "rollups have no session cap");
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
        EXPECT_WITHIN_1PC(num(o, "peak_bytes.p50"),
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

/* The long session of samples_are_decimated_keeping_the_peak (20 windows of
 * 500 samples at 100 ms, spike at sample 7777) with its own resident:
 * footprint + (100 + k % 13) pages at sample k, and no resident at all in
 * window 3 (samples 1500 .. 1999). */
#define LONG_WINDOWS 20
#define LONG_PER 500
#define LONG_INTERVAL 100
#define NO_RESIDENT_WINDOW 3
#define PAGE 16384.0

static double long_footprint(int k)
{
    int tri = k % 50 <= 25 ? k % 50 : 50 - k % 50;
    return (11520.0 + 16 * tri) * PAGE;
}

static double long_resident(int k)
{
    return long_footprint(k) + (100 + k % 13) * PAGE;
}

static int long_has_resident(int k)
{
    return k / LONG_PER != NO_RESIDENT_WINDOW;
}

static const char *post_long_session(char s[37])
{
    char b[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 1),
                         .windows = LONG_WINDOWS,
                         .samples_per_window = LONG_PER,
                         .interval_ms = LONG_INTERVAL,
                         .spike_at = 7777,
                         .spike_pages = 5000};
    cJSON *root = fixture_batch(&f);
    cJSON *windows = cJSON_GetObjectItem(root, "windows");
    for (int w = 0; w < LONG_WINDOWS; w++) {
        cJSON *series = cJSON_GetObjectItem(cJSON_GetArrayItem(windows, w), "series");
        cJSON_DeleteItemFromObject(series, "resident");
        if (w == NO_RESIDENT_WINDOW)
            continue;
        cJSON *rs = cJSON_AddArrayToObject(series, "resident"); /* deltas, in pages */
        for (int i = 0; i < LONG_PER; i++) {
            int k = w * LONG_PER + i;
            double d = long_resident(k) - (i ? long_resident(k - 1) : 0);
            cJSON_AddItemToArray(rs, cJSON_CreateNumber(d / PAGE));
        }
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    http_result_t r = http_post_json(srv.port, json);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    free(json);
    return s;
}

static cJSON *get_samples(const char *s, const char *query, long want_status)
{
    char path[300];
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?%s", s, query);
    return get(path, want_status);
}

/* Every point of the answer is the posted sample at its time: footprint,
 * peak and resident (null where the window had none). Returns the points. */
static int expect_posted_samples(const cJSON *j)
{
    const cJSON *t = cJSON_GetObjectItem(j, "t_ms"), *fp = cJSON_GetObjectItem(j, "footprint");
    const cJSON *pk = cJSON_GetObjectItem(j, "peak"), *rs = cJSON_GetObjectItem(j, "resident");
    int n = (int)num(j, "points");
    cr_assert_eq(cJSON_GetArraySize(t), n);
    cr_assert_eq(cJSON_GetArraySize(fp), n);
    cr_assert_eq(cJSON_GetArraySize(rs), n, "one resident value per kept point");
    for (int i = 0; i < n; i++) {
        double tm = cJSON_GetArrayItem(t, i)->valuedouble;
        int k = (int)(tm / LONG_INTERVAL);
        cr_assert_eq(tm, (double)k * LONG_INTERVAL);
        cr_assert_eq(cJSON_GetArrayItem(fp, i)->valuedouble, long_footprint(k), "footprint %d", k);
        cr_assert_eq(cJSON_GetArrayItem(pk, i)->valuedouble,
                     long_footprint(k) + (k == 7777 ? 5000 * PAGE : 0), "peak %d", k);
        const cJSON *r = cJSON_GetArrayItem(rs, i);
        if (long_has_resident(k))
            cr_assert_eq(r->valuedouble, long_resident(k), "resident of sample %d", k);
        else
            cr_assert(cJSON_IsNull(r), "sample %d: its window had no resident", k);
    }
    return n;
}

Test(query, resident_is_returned_at_the_points_decimation_kept)
{
    collector_start(&srv, NULL, NULL);
    char s[37];
    post_long_session(s);
    /* decimated: 50 buckets, each keeps its lowest footprint and highest peak */
    cJSON *j = get_samples(s, "points=100", 200);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "decimated")));
    int n = expect_posted_samples(j);
    cr_expect_geq(n, 50);
    cr_expect_leq(n, 100);
    cJSON_Delete(j);
    /* not decimated: every sample, 500 of them without resident */
    j = get_samples(s, "points=100000", 200);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(j, "decimated")));
    cr_assert_eq(expect_posted_samples(j), 10000);
    int nulls = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "resident")) nulls += cJSON_IsNull(r);
    cr_expect_eq(nulls, LONG_PER);
    cr_expect_eq(num(j, "resident.1499"), long_resident(1499));
    cr_expect_eq(num(j, "resident.2000"), long_resident(2000));
    cJSON_Delete(j);
    /* a range inside the window without resident: no resident array at all */
    j = get_samples(s, "from_ms=150000&to_ms=199900", 200);
    cr_expect_eq(num(j, "points"), 500);
    cr_expect_null(cJSON_GetObjectItem(j, "resident"));
    cJSON_Delete(j);
}

Test(query, a_range_returns_only_its_samples_and_keeps_its_spike)
{
    collector_start(&srv, NULL, NULL);
    char s[37];
    post_long_session(s);
    /* 700.0 s .. 800.0 s inclusive: samples 7000 .. 8000 */
    cJSON *j = get_samples(s, "from_ms=700000&to_ms=800000&points=100000", 200);
    cr_expect_eq(num(j, "samples_total"), 10000);
    cr_expect_eq(num(j, "samples_in_range"), 1001);
    cr_expect_eq(num(j, "from_ms"), 700000);
    cr_expect_eq(num(j, "to_ms"), 800000);
    cr_assert_eq(expect_posted_samples(j), 1001);
    cr_expect_eq(num(j, "t_ms.0"), 700000);
    cr_expect_eq(num(j, "t_ms.1000"), 800000);
    /* windows 14, 15 and 16 (800.0 .. 849.9 s) touch the range */
    cJSON *w = cJSON_GetObjectItem(j, "windows");
    cr_assert_eq(cJSON_GetArraySize(w), 3);
    cr_expect_eq(num(w, "0.start_ms"), 700000);
    cr_expect_eq(num(w, "2.start_ms"), 800000);
    cJSON_Delete(j);

    /* decimated over the range: 50 buckets of about 20 samples, all inside,
     * and the spike at 777.7 s among them */
    j = get_samples(s, "from_ms=700000&to_ms=800000&points=100", 200);
    cr_expect_eq(num(j, "samples_in_range"), 1001);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "decimated")));
    int n = expect_posted_samples(j), spike = 0;
    cr_expect_geq(n, 50);
    cr_expect_leq(n, 100);
    for (int i = 0; i < n; i++) {
        double t = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "t_ms"), i)->valuedouble;
        cr_expect(t >= 700000 && t <= 800000, "t = %.0f is outside the range", t);
        spike += t == 777700;
    }
    cr_expect_eq(spike, 1, "the spike at 777.7 s survived decimation over the range");
    cJSON_Delete(j);

    /* one bucket: its lowest footprint and its highest peak, the spike */
    j = get_samples(s, "from_ms=700000&to_ms=800000&points=2", 200);
    cr_assert_eq(expect_posted_samples(j), 2);
    cr_expect_eq(num(j, "t_ms.1"), 777700);
    cr_expect_eq(num(j, "peak.1"), (11520.0 + 16 * 23 + 5000) * PAGE);
    cJSON_Delete(j);

    /* inclusive ends, ends between samples, one end only */
    j = get_samples(s, "from_ms=700000&to_ms=700000", 200);
    cr_expect_eq(num(j, "points"), 1);
    cr_expect_eq(num(j, "t_ms.0"), 700000);
    cJSON_Delete(j);
    j = get_samples(s, "from_ms=700050&to_ms=700150", 200);
    cr_expect_eq(num(j, "points"), 1);
    cr_expect_eq(num(j, "t_ms.0"), 700100);
    cJSON_Delete(j);
    j = get_samples(s, "from_ms=700001&to_ms=700099", 200);
    cr_expect_eq(num(j, "points"), 0);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 1);
    cJSON_Delete(j);
    j = get_samples(s, "from_ms=990000", 200);
    cr_expect_eq(num(j, "samples_in_range"), 100);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "to_ms")));
    cJSON_Delete(j);
    j = get_samples(s, "to_ms=999", 200);
    cr_expect_eq(num(j, "samples_in_range"), 10);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "from_ms")));
    cJSON_Delete(j);
    j = get_samples(s, "from_ms=5000000", 200);
    cr_expect_eq(num(j, "points"), 0);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 0);
    cJSON_Delete(j);
}

Test(query, bad_ranges_are_refused_naming_the_parameter)
{
    collector_start(&srv, NULL, NULL);
    char s[37];
    post_long_session(s);
    static const struct {
        const char *query, *field, *reason;
    } bad[] = {
        {"from_ms=abc", "from_ms", "must be an integer 0 .. 9007199254740991"},
        {"from_ms=", "from_ms", "must be an integer 0 .. 9007199254740991"},
        {"from_ms=1.5", "from_ms", "must be an integer 0 .. 9007199254740991"},
        {"from_ms=%2B5", "from_ms", "must be an integer 0 .. 9007199254740991"},
        {"from_ms=%205", "from_ms", "must be an integer 0 .. 9007199254740991"},
        {"to_ms=-1", "to_ms", "must be an integer 0 .. 9007199254740991"},
        {"to_ms=1e6", "to_ms", "must be an integer 0 .. 9007199254740991"},
        {"to_ms=9007199254740992", "to_ms", "must be an integer 0 .. 9007199254740991"},
        {"to_ms=99999999999999999999999", "to_ms", "must be an integer 0 .. 9007199254740991"},
        {"from_ms=800000&to_ms=700000", "from_ms", "must be at most to_ms"},
        {"from_ms=1&to_ms=0", "from_ms", "must be at most to_ms"},
        {"from_ms=0&to_ms=1000&points=1", "points", "must be an integer 2 .. 100000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = get_samples(s, bad[i].query, 400);
        cr_expect_str_eq(cJSON_GetObjectItem(j, "field")->valuestring, bad[i].field, "%s",
                         bad[i].query);
        cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, bad[i].reason, "%s",
                         bad[i].query);
        cJSON_Delete(j);
    }
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

#define DAY_MS 86400000ull
#define START0 1718000000000ull /* 2024-06-10 06:13:20 UTC */

/* Exact nearest-rank percentile of n values (sorts them). */
static double exact_pct(double *v, size_t n, double p)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    double rank = ceil(p / 100.0 * (double)n);
    return v[(rank < 1 ? 1 : (size_t)rank) - 1];
}

/* What /v1/stats must say, computed from the session rows themselves. */
typedef struct exact_s {
    double peaks[400], fractions[400];
    size_t sessions, with_data, with_limit, oom;
} exact_t;

static void expect_matches(const cJSON *group, exact_t *e)
{
    cr_expect_eq(num(group, "sessions"), e->sessions);
    cr_expect_eq(num(group, "sessions_with_data"), e->with_data);
    cr_expect_eq(num(group, "oom_sessions"), e->oom);
    static const double ps[] = {50, 90, 99};
    static const char *const names[] = {"peak_bytes.p50", "peak_bytes.p90", "peak_bytes.p99"};
    static const char *const fnames[] = {"peak_fraction_of_limit.p50", "peak_fraction_of_limit.p90",
                                         "peak_fraction_of_limit.p99"};
    for (int i = 0; i < 3; i++) {
        EXPECT_WITHIN_1PC(num(group, names[i]), exact_pct(e->peaks, e->with_data, ps[i]));
        EXPECT_WITHIN_1PC(num(group, fnames[i]), exact_pct(e->fractions, e->with_limit, ps[i]));
    }
}

/* 300 sessions over 3 days and 3 devices; half get a second batch that
 * raises their peak, some are judged OOM (graded high or low) by a later
 * batch carrying the trail, which raises the judged session's peak again.
 * The statistics must match exact percentiles of the stored session rows,
 * read back page by page with the keyset cursor. */
Test(query, stats_match_exact_percentiles_on_generated_sessions)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37], prev[37];
    uint64_t batch = 1;
    for (int i = 0; i < 300; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, batch++),
                             .session_id = fixture_uuid(s, (uint64_t)i + 1000),
                             .device_model = i % 3 == 0   ? "iPhone15,2"
                                             : i % 3 == 1 ? "iPhone12,1"
                                                          : "SM-S918B",
                             .start_unix_ms = START0 + (uint64_t)(i % 3) * DAY_MS + (uint64_t)i,
                             .base_pages = 6000 + (uint64_t)((i * 7919) % 300) * 97,
                             .limit_bytes = i % 7 == 0 ? 1 : 0};
        post(&f);
    }
    for (int i = 0; i < 300; i += 2) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, batch++),
                             .session_id = fixture_uuid(s, (uint64_t)i + 1000),
                             .device_model = i % 3 == 0   ? "iPhone15,2"
                                             : i % 3 == 1 ? "iPhone12,1"
                                                          : "SM-S918B",
                             .start_unix_ms = START0 + (uint64_t)(i % 3) * DAY_MS + (uint64_t)i,
                             .first_t_ms = 10000,
                             .base_pages = 9000 + (uint64_t)((i * 104729) % 500) * 61,
                             .verdict = i % 10 == 0 ? "oom_suspected" : NULL,
                             .grade = i % 20 == 0 ? "high" : "low",
                             .prev_session = fixture_uuid(prev, (uint64_t)i + 1001)};
        post(&f);
    }
    /* every session row, by keyset pages */
    exact_t all = {0}, day1 = {0};
    char path[256], cursor[80] = "";
    size_t seen = 0;
    for (int page = 0; page < 10; page++) {
        snprintf(path, sizeof path, "/v1/sessions?app=com.example.photos&limit=128%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        cJSON *j = get(path, 200);
        cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(j, "sessions"))
        {
            seen++;
            int on_day1 = num(row, "start_unix_ms") >= START0 + DAY_MS &&
                          num(row, "start_unix_ms") < START0 + 2 * DAY_MS;
            exact_t *dst[2] = {&all, on_day1 ? &day1 : NULL};
            for (int d = 0; d < 2 && dst[d]; d++) {
                exact_t *e = dst[d];
                e->sessions++;
                const cJSON *v = cJSON_GetObjectItem(row, "verdict");
                const cJSON *g = cJSON_GetObjectItem(row, "grade");
                if (cJSON_IsString(v) && !strcmp(v->valuestring, "oom_suspected") && g &&
                    !strcmp(g->valuestring, "high"))
                    e->oom++;
                if (num(row, "samples") == 0)
                    continue;
                e->peaks[e->with_data++] = num(row, "peak_bytes");
                const cJSON *fr = cJSON_GetObjectItem(row, "peak_fraction");
                if (cJSON_IsNumber(fr))
                    e->fractions[e->with_limit++] = fr->valuedouble;
            }
        }
        const cJSON *next = cJSON_GetObjectItem(j, "next_cursor");
        int more = cJSON_IsString(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", next->valuestring);
        cJSON_Delete(j);
        if (!more)
            break;
    }
    cr_assert_eq(seen, 300, "every session once across the keyset pages");
    cr_assert_eq(all.oom, 15, "judged by i = 0, 20, .., 280: graded high; by 10, 30, ..: low");

    cJSON *j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    expect_matches(cJSON_GetObjectItem(j, "overall"), &all);
    cr_expect_eq(num(j, "overall.oom_low_confidence_sessions"), 15);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "by_device")), 3);
    cJSON_Delete(j);
    /* the second day alone: 2024-06-11 */
    j = get("/v1/stats?app=com.example.photos&version=2.4.0&from_day=2024-06-11&to_day=2024-06-11",
            200);
    cr_assert_eq(day1.sessions, 100);
    expect_matches(cJSON_GetObjectItem(j, "overall"), &day1);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "by_device")), 1);
    cJSON_Delete(j);
    j = get("/v1/stats?app=com.example.photos&version=2.4.0&from_day=2024-06-12&to_day=2024-06-11",
            400);
    cJSON_Delete(j);
    j = get("/v1/stats?app=com.example.photos&version=2.4.0&from_day=June", 400);
    cJSON_Delete(j);
}

Test(query, keyset_cursor_and_offset_list_the_same_pages)
{
    collector_start(&srv, NULL, NULL);
    populate();
    cJSON *first = get("/v1/sessions?app=com.example.photos&limit=4", 200);
    const cJSON *next = cJSON_GetObjectItem(first, "next_cursor");
    cr_assert(cJSON_IsString(next));
    char path[256];
    snprintf(path, sizeof path, "/v1/sessions?app=com.example.photos&limit=4&cursor=%s",
             next->valuestring);
    cJSON *by_cursor = get(path, 200);
    cJSON *by_offset = get("/v1/sessions?app=com.example.photos&limit=4&offset=4", 200);
    cJSON *a = cJSON_GetObjectItem(by_cursor, "sessions"),
          *o = cJSON_GetObjectItem(by_offset, "sessions");
    cr_assert_eq(cJSON_GetArraySize(a), 4);
    for (int i = 0; i < 4; i++)
        cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, i), "session_id")->valuestring,
                         cJSON_GetObjectItem(cJSON_GetArrayItem(o, i), "session_id")->valuestring);
    cJSON_Delete(first);
    cJSON_Delete(by_cursor);
    cJSON_Delete(by_offset);
    cJSON *bad = get("/v1/sessions?app=com.example.photos&cursor=12.not-a-uuid", 400);
    cr_expect_str_eq(cJSON_GetObjectItem(bad, "field")->valuestring, "cursor");
    cJSON_Delete(bad);
}

/* /v1/oom pages by cursor as /v1/sessions does; offset paging (the
 * dashboard's) lists the same rows in the same order. Several verdicts
 * arrive within one millisecond: the session id orders them. */
Test(query, oom_cursor_pages_list_every_verdict_once_as_offset_pages_do)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37], p[37];
    for (uint64_t i = 0; i < 7; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, i + 1),
                             .session_id = fixture_uuid(s, i + 100),
                             .verdict = "oom_suspected",
                             .prev_session = fixture_uuid(p, i + 200)};
        post(&f);
    }
    char by_cursor[7][37], by_offset[7][37], cursor[128] = "", path[256];
    size_t seen = 0, pages = 0;
    for (;;) {
        snprintf(path, sizeof path, "/v1/oom?app=com.example.photos&limit=3%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        cJSON *j = get(path, 200);
        const cJSON *list = cJSON_GetObjectItem(j, "sessions");
        for (int i = 0; i < cJSON_GetArraySize(list); i++) {
            cr_assert_lt(seen, 7, "no verdict twice");
            snprintf(by_cursor[seen++], 37, "%s",
                     cJSON_GetObjectItem(cJSON_GetArrayItem(list, i), "session_id")->valuestring);
        }
        pages++;
        const cJSON *next = cJSON_GetObjectItem(j, "next_cursor");
        int more = cJSON_IsString(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", next->valuestring);
        cJSON_Delete(j);
        if (!more)
            break;
    }
    cr_expect_eq(pages, 3);
    cr_assert_eq(seen, 7, "every verdict once across the keyset pages");
    size_t listed = 0;
    for (size_t offset = 0; offset < 7; offset += 3) {
        snprintf(path, sizeof path, "/v1/oom?app=com.example.photos&limit=3&offset=%zu", offset);
        cJSON *j = get(path, 200);
        const cJSON *list = cJSON_GetObjectItem(j, "sessions");
        for (int i = 0; i < cJSON_GetArraySize(list) && listed < 7; i++)
            snprintf(by_offset[listed++], 37, "%s",
                     cJSON_GetObjectItem(cJSON_GetArrayItem(list, i), "session_id")->valuestring);
        cJSON_Delete(j);
    }
    cr_assert_eq(listed, 7);
    for (size_t i = 0; i < 7; i++) {
        cr_expect_str_eq(by_cursor[i], by_offset[i], "row %zu", i);
        for (size_t k = 0; k < i; k++)
            cr_expect_str_neq(by_cursor[i], by_cursor[k]);
    }
    cJSON *bad = get("/v1/oom?app=com.example.photos&cursor=12", 400);
    cr_expect_str_eq(cJSON_GetObjectItem(bad, "field")->valuestring, "cursor");
    cJSON_Delete(bad);
}

/* --retention-days: the thread's first step runs at start; statistics stay. */
Test(query, retention_deletes_old_sessions_and_statistics_stay)
{
    collector_start(&srv, NULL, NULL); /* the harness keeps everything */
    char b[37], s[37];
    uint64_t recent = (uint64_t)time(NULL) * 1000 - 86400000ull;
    for (uint64_t i = 0; i < 4; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, i + 1),
                             .session_id = fixture_uuid(s, i + 100),
                             .start_unix_ms = i < 3 ? START0 + i : recent};
        post(&f);
    }
    cr_assert_eq(collector_stop(&srv), 0);
    const char *const extra[] = {"--retention-days", "30", NULL};
    collector_restart(&srv, extra);
    size_t left = 4;
    for (int tries = 0; tries < 200 && left != 1; tries++) {
        cJSON *j = get("/v1/sessions?app=com.example.photos", 200);
        left = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(j, "sessions"));
        cJSON_Delete(j);
        if (left != 1)
            usleep(25000);
    }
    cr_assert_eq(left, 1, "only the recent session is left");
    cJSON *j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    cr_expect_eq(num(j, "overall.sessions"), 4, "the rollups keep every session");
    cJSON_Delete(j);
    /* the days past retention alone: answered from their rollups */
    j = get("/v1/stats?app=com.example.photos&version=2.4.0&from_day=2024-06-10"
            "&to_day=2024-06-10",
            200);
    cr_expect_eq(num(j, "overall.sessions"), 3, "the expired day's sessions");
    cJSON_Delete(j);
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", fixture_uuid(s, 100));
    j = get(path, 404);
    cJSON_Delete(j);
}
