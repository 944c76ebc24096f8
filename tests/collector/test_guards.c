/* What one client or one process can no longer do to the others, through
 * the real binary: write into another app's session, stall the server by
 * holding the database, or ask for an unbounded page of trails. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

static collector_t srv;
static const char *const AUTH[] = {"Authorization: Bearer " TEST_READ_TOKEN, NULL};

static void fini(void)
{
    collector_cleanup(&srv);
}

TestSuite(guards, .fini = fini, .timeout = 60);

static http_result_t get(const char *path)
{
    return http_request(srv.port, "GET", path, AUTH, NULL, 0);
}

static long post(const fixture_batch_t *f, char *body, size_t cap)
{
    char *json = fixture_batch_json(f);
    http_result_t r = http_post_json(srv.port, json);
    if (body)
        snprintf(body, cap, "%s", r.body ? r.body : "");
    long status = r.status;
    http_result_free(&r);
    free(json);
    return status;
}

Test(guards, a_batch_for_another_apps_session_is_refused)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37], p[37], body[512];
    fixture_batch_t mine = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 1)};
    cr_assert_eq(post(&mine, NULL, 0), 200);
    fixture_batch_t theirs = {
        .batch_id = fixture_uuid(b, 2), .session_id = s, .app_id = "com.example.other"};
    cr_expect_eq(post(&theirs, body, sizeof body), 409, "%s", body);
    cr_expect(strstr(body, "\"field\":\"session.id\"") && strstr(body, "another app"), "%s", body);
    /* nor may it judge (and fold a trail into) another app's session */
    fixture_batch_t judge = {.batch_id = fixture_uuid(b, 3),
                             .session_id = fixture_uuid(p, 3),
                             .app_id = "com.example.other",
                             .verdict = "oom_suspected",
                             .prev_session = s};
    cr_expect_eq(post(&judge, body, sizeof body), 409, "%s", body);
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", s);
    http_result_t r = get(path);
    cr_assert_eq(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    cr_expect_eq(cJSON_GetObjectItem(j, "windows")->valuedouble, 1, "nothing was added");
    cr_expect_eq(cJSON_GetObjectItem(j, "peak_bytes")->valuedouble, (11520.0 + 16 * 9) * 16384);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "verdict")));
    cJSON_Delete(j);
    http_result_free(&r);
    /* the same batch id under its own app is still welcome */
    fixture_batch_t again = {.batch_id = fixture_uuid(b, 2), .session_id = s};
    cr_expect_eq(post(&again, NULL, 0), 200);
}

/* Another process holding the write lock: SQLite BEGIN IMMEDIATE through a
 * second connection, PostgreSQL an EXCLUSIVE lock on batches. */
typedef struct holder_s {
    sqlite3 *db;
    PGconn *pg;
} holder_t;

static void hold(holder_t *h)
{
    memset(h, 0, sizeof *h);
    if (fixture_backend_is_pg()) {
        h->pg = PQconnectdb(srv.db);
        cr_assert_eq(PQstatus(h->pg), CONNECTION_OK, "%s", PQerrorMessage(h->pg));
        PGresult *r = PQexec(h->pg, "BEGIN; LOCK TABLE batches IN EXCLUSIVE MODE");
        cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(h->pg));
        PQclear(r);
        return;
    }
    cr_assert_eq(sqlite3_open(srv.db, &h->db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(h->db));
}

static void release_hold(holder_t *h)
{
    if (h->pg) {
        PQclear(PQexec(h->pg, "ROLLBACK"));
        PQfinish(h->pg);
    }
    if (h->db) {
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(h->db);
    }
}

/* The raw answer to a POST, headers included (for Retry-After). */
static void raw_post(const char *json, char *buf, size_t cap)
{
    int fd = raw_connect(srv.port);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
             "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             strlen(json));
    cr_assert_eq(raw_send(fd, head, strlen(head)), 0);
    cr_assert_eq(raw_send(fd, json, strlen(json)), 0);
    int closed = 0;
    long n = raw_read(fd, buf, cap - 1, 10000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

Test(guards, a_held_database_answers_503_and_stalls_nothing_else)
{
    collector_start(&srv, NULL, NULL);
    char b[37], s[37];
    fixture_batch_t first = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 1)};
    cr_assert_eq(post(&first, NULL, 0), 200);
    holder_t h;
    hold(&h);

    fixture_batch_t f = {.batch_id = fixture_uuid(b, 2), .session_id = fixture_uuid(s, 2)};
    char *json = fixture_batch_json(&f);
    char answer[4096];
    raw_post(json, answer, sizeof answer);
    cr_expect(!strncmp(answer, "HTTP/1.1 503", 12), "%.200s", answer);
    cr_expect(strcasestr(answer, "\r\nRetry-After: 1\r\n") != NULL, "%.400s", answer);

    http_result_t r = http_request(srv.port, "GET", "/healthz", NULL, NULL, 0);
    cr_expect_eq(r.status, 503, "%s", r.body);
    cr_expect(strstr(r.body, "\"status\":\"degraded\""), "%s", r.body);
    cr_expect_lt(r.seconds, 1.5, "/healthz answered in %.3f s", r.seconds);
    http_result_free(&r);
    r = get("/v1/apps");
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_lt(r.seconds, 0.5, "reads do not wait for the writer: %.3f s", r.seconds);
    http_result_free(&r);
    r = get("/v1/sessions?limit=5");
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_lt(r.seconds, 0.5, "%.3f s", r.seconds);
    http_result_free(&r);
    r = http_request(srv.port, "GET", "/index.html", NULL, NULL, 0);
    cr_expect(r.status == 200 || r.status == 404, "%ld", r.status); /* the files, if staged */
    cr_expect_lt(r.seconds, 0.5, "the dashboard's files do not wait: %.3f s", r.seconds);
    http_result_free(&r);

    release_hold(&h);
    http_result_t ok = http_post_json(srv.port, json);
    cr_expect_eq(ok.status, 200, "the retry is stored once the lock is gone: %s", ok.body);
    http_result_free(&ok);
    free(json);
    r = http_request(srv.port, "GET", "/healthz", NULL, NULL, 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "\"status\":\"ok\""), "%s", r.body);
    http_result_free(&r);
}

Test(guards, trail_pages_are_bounded)
{
    collector_start(&srv, NULL, NULL);
    http_result_t r = get("/v1/oom?limit=101");
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"limit\""), "%s", r.body);
    http_result_free(&r);
    r = get("/v1/oom?limit=100");
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    r = get("/v1/oom");
    cr_expect(strstr(r.body, "\"limit\":50"), "the default page: %s", r.body);
    http_result_free(&r);
}

/* A session stored before the per-session cap (or copied in by hand) may
 * hold more samples than one query decodes: it is answered from its
 * windows' aggregates, one point per window, without decoding a series. */
Test(guards, a_session_beyond_the_decode_budget_is_answered_per_window)
{
    if (fixture_backend_is_pg())
        cr_skip_test("the windows are copied with SQLite");
    collector_start(&srv, NULL, NULL);
    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 1),
                         .windows = 10,
                         .samples_per_window = 1000,
                         .interval_ms = 10}; /* 100 s in windows of 10 s */
    cr_assert_eq(post(&f, NULL, 0), 200);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(srv.db, &db), SQLITE_OK);
    /* 110 more copies of the 10 windows, each 100 s later: 1,110,000 samples */
    char *err = NULL;
    cr_assert_eq(
        sqlite3_exec(db,
                     "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k "
                     "WHERE n < 110) INSERT INTO windows SELECT w.session_id, "
                     "w.start_ms + k.n * 100000, w.end_ms + k.n * 100000, w.samples, "
                     "w.first_bytes, w.last_bytes, w.min_bytes, w.max_bytes, w.mean_bytes, "
                     "w.peak_bytes, w.kernel_peak_bytes, w.limit_bytes, w.headroom_bytes, "
                     "w.metric, w.series, w.batch_id FROM windows w, k",
                     NULL, NULL, &err),
        SQLITE_OK, "%s", err);
    sqlite3_close(db);
    char path[200];
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?points=4000", s);
    http_result_t r = get(path);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "resolution")->valuestring, "windows");
    cr_expect_eq(cJSON_GetObjectItem(j, "samples_total")->valuedouble, 1110000);
    cr_expect_eq(cJSON_GetObjectItem(j, "samples_in_range")->valuedouble, 1110000);
    cr_expect_eq(cJSON_GetObjectItem(j, "points")->valuedouble, 1110, "one per window");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "decimated")));
    cJSON_Delete(j);
    http_result_free(&r);
    /* a range within the budget is read sample by sample */
    snprintf(path, sizeof path, "/v1/sessions/%s/samples?points=4000&from_ms=0&to_ms=9990", s);
    r = get(path);
    j = cJSON_Parse(r.body);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "resolution")->valuestring, "samples");
    cr_expect_eq(cJSON_GetObjectItem(j, "samples_in_range")->valuedouble, 1000);
    cJSON_Delete(j);
    http_result_free(&r);
}
