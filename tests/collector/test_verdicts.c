/* Verdicts through the real binary: a killed session's trail folded into it,
 * sessions without data, the OOM-free rate counting only evidence, the
 * session's own clean stop and the OS build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

static collector_t srv;
static const char *const AUTH[] = {"Authorization: Bearer " TEST_READ_TOKEN, NULL};

#define PAGE 16384.0
#define TRAIL_MAX (126976.0 * PAGE) /* the fixture's trail: t 55, 56, 57 s */

static void fini(void)
{
    collector_cleanup(&srv);
}

TestSuite(verdicts, .fini = fini, .timeout = 60);

static cJSON *get(const char *path, long want_status)
{
    http_result_t r = http_request(srv.port, "GET", path, AUTH, NULL, 0);
    cr_assert_eq(r.status, want_status, "GET %s: %ld %s", path, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j, "GET %s: not JSON: %s", path, r.body);
    http_result_free(&r);
    return j;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *n = cJSON_GetObjectItem(o, name);
    cr_assert(cJSON_IsNumber(n), "%s is not a number", name);
    return n->valuedouble;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *n = cJSON_GetObjectItem(o, name);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

static void post_json(const char *json)
{
    http_result_t r = http_post_json(srv.port, json);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
}

static void post(const fixture_batch_t *f)
{
    char *json = fixture_batch_json(f);
    post_json(json);
    free(json);
}

/* A batch of this session with no windows at all (killed before its first
 * sample was reported). */
static void post_without_windows(const fixture_batch_t *f)
{
    cJSON *root = fixture_batch(f);
    cJSON_ReplaceItemInObject(root, "windows", cJSON_CreateArray());
    char *json = cJSON_PrintUnformatted(root);
    post_json(json);
    free(json);
    cJSON_Delete(root);
}

static cJSON *session(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", id);
    return get(path, 200);
}

/* No percentile of the version is 0 B: every session in it has data. */
static void expect_no_zero_peak(const cJSON *stats)
{
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(stats, "overall"), "peak_bytes");
    const char *names[] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++)
        cr_expect_gt(num(p, names[i]), 0, "%s", names[i]);
}

Test(verdicts, a_killed_sessions_trail_is_folded_into_it)
{
    collector_start(&srv, NULL, NULL);
    char b[37], killed[37], next[37];
    /* 10 s of samples near 180 MB; the window with its last seconds was lost */
    fixture_batch_t k = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(killed, 1)};
    post(&k);
    fixture_batch_t n = {.batch_id = fixture_uuid(b, 2),
                         .session_id = fixture_uuid(next, 2),
                         .verdict = "oom_suspected",
                         .prev_session = killed};
    post(&n);
    cJSON *s = session(killed);
    cr_expect_geq(num(s, "peak_bytes"), TRAIL_MAX, "the stored peak includes the trail's");
    cr_expect_eq(num(s, "samples"), 13);
    cr_expect_eq(num(s, "trail_samples"), 3);
    cr_expect_eq(num(s, "last_ms"), 57000);
    cr_expect_float_eq(num(s, "peak_fraction"), TRAIL_MAX / 2147483648.0, 1e-12);
    cJSON_Delete(s);

    char path[160];
    snprintf(path, sizeof path, "/v1/sessions/%s/samples", killed);
    cJSON *j = get(path, 200);
    cr_expect_eq(num(j, "samples_total"), 13);
    cJSON *t = cJSON_GetObjectItem(j, "t_ms"), *trail = cJSON_GetObjectItem(j, "from_trail");
    cr_assert_eq(cJSON_GetArraySize(t), 13);
    cr_assert_eq(cJSON_GetArraySize(trail), 13, "every point says where it came from");
    for (int i = 0; i < 13; i++)
        cr_expect_eq(cJSON_IsTrue(cJSON_GetArrayItem(trail, i)), i >= 10, "point %d", i);
    cr_expect_eq(cJSON_GetArrayItem(t, 10)->valuedouble, 55000);
    cJSON_Delete(j);

    /* a range inside the windows has no trail point and says nothing of it */
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?to_ms=9000", killed);
    j = get(path, 200);
    cr_expect_null(cJSON_GetObjectItem(j, "from_trail"));
    cr_expect_eq(num(j, "samples_in_range"), 10);
    cJSON_Delete(j);

    j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    EXPECT_WITHIN_1PC(
        num(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "overall"), "peak_bytes"), "p99"),
        TRAIL_MAX);
    expect_no_zero_peak(j);
    cJSON_Delete(j);
}

Test(verdicts, a_session_known_only_by_its_verdict_is_made_and_later_trimmed)
{
    collector_start(&srv, NULL, NULL);
    char b[37], killed[37], next[37];
    fixture_batch_t n = {.batch_id = fixture_uuid(b, 2),
                         .session_id = fixture_uuid(next, 2),
                         .verdict = "oom_suspected",
                         .prev_session = fixture_uuid(killed, 1)};
    post(&n);
    cJSON *s = session(killed);
    cr_expect_eq(num(s, "samples"), 3);
    cr_expect_eq(num(s, "trail_samples"), 3);
    cr_expect_eq(num(s, "peak_bytes"), TRAIL_MAX);
    cr_expect_eq(num(s, "batches"), 0);
    cr_expect_str_eq(str(s, "verdict"), "oom_suspected");
    cJSON_Delete(s);
    /* its spooled batch arrives late: samples at 0 .. 55 s, 1 s apart; the
     * trail keeps only what came after (56 and 57 s), nothing counted twice */
    fixture_batch_t k = {.batch_id = fixture_uuid(b, 1),
                         .session_id = killed,
                         .windows = 4,
                         .samples_per_window = 14,
                         .device_model = "iPhone16,1"};
    post(&k);
    s = session(killed);
    cr_expect_eq(num(s, "samples"), 58);
    cr_expect_eq(num(s, "trail_samples"), 2);
    cr_expect_eq(num(s, "batches"), 1);
    cr_expect_str_eq(str(s, "device_model"), "iPhone16,1", "its own batch describes it");
    cr_expect_eq(num(s, "peak_bytes"), TRAIL_MAX);
    cJSON_Delete(s);
}

Test(verdicts, sessions_without_data_are_left_out_of_peak_percentiles)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37];
    for (int i = 0; i < 3; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, (uint64_t)i + 1),
                             .session_id = fixture_uuid(s, (uint64_t)i + 1)};
        post(&f);
    }
    fixture_batch_t empty = {.batch_id = fixture_uuid(b, 9), .session_id = fixture_uuid(s, 9)};
    post_without_windows(&empty);
    cJSON *j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    cJSON *o = cJSON_GetObjectItem(j, "overall");
    cr_expect_eq(num(o, "sessions"), 4);
    cr_expect_eq(num(o, "sessions_with_data"), 3);
    cr_expect_eq(num(o, "sessions_without_data"), 1);
    expect_no_zero_peak(j);
    EXPECT_WITHIN_1PC(num(cJSON_GetObjectItem(o, "peak_bytes"), "p50"), (11520.0 + 16 * 9) * PAGE);
    cJSON_Delete(j);
    cJSON *one = session(s);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(one, "has_data")));
    cJSON_Delete(one);
}

Test(verdicts, the_oom_free_rate_counts_only_verdicts_with_evidence)
{
    collector_start(&srv, NULL, NULL);
    /* ten sessions; 1..4 judged OOM by 2..5 with grades high, medium, low, none */
    const char *grades[] = {"high", "medium", "low", ""};
    char b[37], s[37], p[37];
    for (int i = 0; i < 10; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, (uint64_t)i + 1),
                             .session_id = fixture_uuid(s, (uint64_t)i + 100),
                             .verdict = i >= 1 && i <= 4 ? "oom_suspected" : NULL,
                             .grade = i >= 1 && i <= 4 ? grades[i - 1] : NULL,
                             .prev_session = fixture_uuid(p, (uint64_t)i + 99),
                             .no_trail = 1};
        post(&f);
    }
    cJSON *j = get("/v1/stats?app=com.example.photos&version=2.4.0", 200);
    cJSON *o = cJSON_GetObjectItem(j, "overall");
    cr_expect_eq(num(o, "sessions"), 10);
    cr_expect_eq(num(o, "oom_sessions"), 2, "high and medium");
    cr_expect_eq(num(o, "oom_low_confidence_sessions"), 2, "low and ungraded, apart");
    cr_expect_float_eq(num(o, "oom_free_rate"), 0.8, 1e-12);
    cr_expect_float_eq(num(o, "oom_low_confidence_rate"), 0.2, 1e-12);
    cJSON *dev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "by_device"), 0);
    cr_expect_eq(num(dev, "oom_low_confidence_sessions"), 2);
    cJSON_Delete(j);
}

Test(verdicts, a_clean_stop_is_the_ending_until_the_next_launch_judges)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s1[37], s2[37], s3[37], s4[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s1, 1),
                         .clean_stop_ms = 9500,
                         .os_build = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1"};
    post(&f);
    cJSON *s = session(s1);
    cr_expect_str_eq(str(s, "verdict"), "clean_exit", "not pending");
    cr_expect_str_eq(str(s, "verdict_source"), "session");
    cr_expect_eq(num(s, "last_ms"), 9500);
    cr_expect_str_eq(str(s, "os_build"), "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1");
    cr_expect_str_eq(str(s, "os_version"), "17.5.1");
    cJSON_Delete(s);
    cJSON *l = get("/v1/sessions?verdict=pending", 200);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "sessions")), 0);
    cJSON_Delete(l);
    /* the next launch confirms it */
    fixture_batch_t g = {.batch_id = fixture_uuid(b, 2),
                         .session_id = fixture_uuid(s2, 2),
                         .verdict = "clean_exit",
                         .prev_session = s1,
                         .no_trail = 1,
                         .clean_stop_ms = 9000};
    post(&g);
    s = session(s1);
    cr_expect_str_eq(str(s, "verdict"), "clean_exit");
    cr_expect_str_eq(str(s, "verdict_source"), "next_session");
    cJSON_Delete(s);
    /* a later judgement overrides a session's own report */
    fixture_batch_t h = {.batch_id = fixture_uuid(b, 3),
                         .session_id = fixture_uuid(s3, 3),
                         .verdict = "oom_suspected",
                         .prev_session = s2,
                         .no_trail = 1};
    post(&h);
    s = session(s2);
    cr_expect_str_eq(str(s, "verdict"), "oom_suspected");
    cr_expect_str_eq(str(s, "verdict_source"), "next_session");
    cJSON_Delete(s);
    /* and a session's own report never overrides a verdict stored first */
    fixture_batch_t i = {.batch_id = fixture_uuid(b, 4),
                         .session_id = fixture_uuid(s4, 4),
                         .verdict = "crash",
                         .prev_session = s3,
                         .no_trail = 1};
    post(&i);
    fixture_batch_t late = {.batch_id = fixture_uuid(b, 5),
                            .session_id = s3,
                            .first_t_ms = 10000,
                            .clean_stop_ms = 19000};
    post(&late);
    s = session(s3);
    cr_expect_str_eq(str(s, "verdict"), "crash");
    cJSON_Delete(s);
}
