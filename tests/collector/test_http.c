/* Integration: the real memgauge-collector binary on a free port, spoken to
 * over HTTP. Every bad input gets the right 4xx or a closed connection, never
 * a crash, and the next request is served. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

static collector_t srv;

static void stop_and_clean(void)
{
    collector_cleanup(&srv);
}

static const char *const AUTH_JSON[] = {"Authorization: Bearer " TEST_KEY,
                                        "Content-Type: application/json", NULL};

/* The server is alive and stores the next valid batch. */
static void still_serves(unsigned long n)
{
    cr_assert(collector_alive(&srv), "the collector died");
    cr_expect_eq(post_valid(srv.port, n), 200, "the next request after a bad one");
}

static http_result_t post_raw(const char *const *headers, const void *body, size_t len)
{
    return http_request(srv.port, "POST", "/v1/reports", headers, body, len);
}

static void expect_400_naming(const char *body, const char *field)
{
    http_result_t r = http_post_json(srv.port, body);
    cr_expect_eq(r.status, 400, "body %.60s: %ld %s", body, r.status, r.body);
    char want[256];
    snprintf(want, sizeof want, "\"field\":\"%s\"", field);
    cr_expect(strstr(r.body, want) != NULL, "expected %s in %s", want, r.body);
    http_result_free(&r);
}

TestSuite(http, .fini = stop_and_clean, .timeout = 60);

Test(http, valid_batch_is_stored_then_replay_is_a_duplicate)
{
    collector_start(&srv, NULL, NULL);
    char bid[37], sid[37];
    fixture_batch_t f = {
        .batch_id = fixture_uuid(bid, 1), .session_id = fixture_uuid(sid, 2), .windows = 2};
    char *json = fixture_batch_json(&f);
    http_result_t a = http_post_json(srv.port, json);
    cr_expect_eq(a.status, 200);
    cr_expect(strstr(a.body, "\"status\":\"stored\"") != NULL, "%s", a.body);
    cr_expect(strstr(a.body, "\"samples\":20") != NULL, "%s", a.body);
    http_result_t b = http_post_json(srv.port, json);
    cr_expect_eq(b.status, 200);
    cr_expect(strstr(b.body, "\"status\":\"duplicate\"") != NULL, "%s", b.body);
    http_result_t h = http_request(srv.port, "GET", "/healthz", NULL, NULL, 0);
    cr_expect_eq(h.status, 200);
    cr_expect(strstr(h.body, "\"stored\":1,\"duplicates\":1") != NULL, "%s", h.body);
    cr_expect(strstr(h.body, "\"samples\":20") != NULL, "%s", h.body);
    http_result_free(&a);
    http_result_free(&b);
    http_result_free(&h);
    free(json);
    cr_expect_eq(collector_stop(&srv), 0, "clean exit on SIGTERM");
    char *log = collector_log(&srv);
    cr_expect(strstr(log, "POST /v1/reports 200") != NULL, "one log line per request: %s", log);
    cr_expect(strstr(log, "GET /healthz 200") != NULL);
    cr_expect(strstr(log, "stopped") != NULL);
    free(log);
}

Test(http, gzip_body_round_trips)
{
    collector_start(&srv, NULL, NULL);
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 1),
                         .session_id = fixture_uuid(sid, 2),
                         .windows = 6,
                         .samples_per_window = 100};
    char *json = fixture_batch_json(&f);
    size_t zlen;
    unsigned char *z = fixture_gzip(json, strlen(json), &zlen);
    cr_expect_lt(zlen * 3, strlen(json), "delta-encoded samples compress well");
    const char *headers[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: application/json",
                             "Content-Encoding: gzip", NULL};
    http_result_t r = post_raw(headers, z, zlen);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "\"samples\":600") != NULL, "%s", r.body);
    http_result_free(&r);
    /* not gzip at all, though it says so */
    r = post_raw(headers, json, strlen(json));
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"body\"") != NULL);
    http_result_free(&r);
    free(z);
    free(json);
    still_serves(10);
}

Test(http, missing_or_wrong_key_is_401)
{
    collector_start(&srv, NULL, NULL);
    const char *none[] = {"Content-Type: application/json", NULL};
    const char *wrong[] = {"Authorization: Bearer nope", "Content-Type: application/json", NULL};
    const char *basic[] = {"Authorization: Basic dGVzdDp0ZXN0", "Content-Type: application/json",
                           NULL};
    const char *prefix[] = {"Authorization: Bearer test-key", "Content-Type: application/json",
                            NULL};
    const char *const *cases[] = {none, wrong, basic, prefix};
    for (int i = 0; i < 4; i++) {
        http_result_t r = post_raw(cases[i], "{}", 2);
        cr_expect_eq(r.status, 401, "case %d", i);
        http_result_free(&r);
    }
    http_result_t q = http_request(srv.port, "GET", "/v1/apps", none, NULL, 0);
    cr_expect_eq(q.status, 401, "the query API needs a key too");
    http_result_free(&q);
    still_serves(1);
}

Test(http, wrong_content_type_encoding_method_and_path)
{
    collector_start(&srv, NULL, NULL);
    const char *text[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: text/plain", NULL};
    const char *latin[] = {"Authorization: Bearer " TEST_KEY,
                           "Content-Type: application/json; charset=latin1", NULL};
    const char *br[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: application/json",
                        "Content-Encoding: br", NULL};
    http_result_t r = post_raw(text, "{}", 2);
    cr_expect_eq(r.status, 415);
    http_result_free(&r);
    r = post_raw(latin, "{}", 2);
    cr_expect_eq(r.status, 415);
    http_result_free(&r);
    r = post_raw(br, "{}", 2);
    cr_expect_eq(r.status, 415);
    http_result_free(&r);
    r = http_request(srv.port, "GET", "/v1/reports", AUTH_JSON, NULL, 0);
    cr_expect_eq(r.status, 405);
    http_result_free(&r);
    r = http_request(srv.port, "GET", "/nothing/here", NULL, NULL, 0);
    cr_expect_eq(r.status, 404);
    http_result_free(&r);
    still_serves(1);
}

Test(http, malformed_wrong_types_huge_numbers_deep_nesting_bad_utf8_are_400)
{
    collector_start(&srv, NULL, NULL);
    expect_400_naming("{\"schema\":1,\"batch_id\":", "body");
    expect_400_naming("", "body");
    expect_400_naming("{\"schema\":1,\"batch_id\":42}", "batch_id");
    expect_400_naming("{\"schema\":\"1\"}", "schema");
    expect_400_naming("{\"schema\":1,\"batch_id\":\"00000000-0000-4000-8000-000000000001\","
                      "\"sent_unix_ms\":1e308}",
                      "sent_unix_ms");
    expect_400_naming("{\"schema\":1,\"batch_id\":\"00000000-0000-4000-8000-000000000001\","
                      "\"sent_unix_ms\":123456789012345678901234567890}",
                      "sent_unix_ms");
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    expect_400_naming(deep, "body");
    free(deep);
    expect_400_naming("{\"schema\":1,\"batch_id\":\"\xc3\x28\"}", "body");
    /* a valid document with one wrong type deep inside */
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 1), .session_id = fixture_uuid(sid, 2)};
    cJSON *root = fixture_batch(&f);
    cJSON *fp = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "windows"), 0), "series"),
        "footprint");
    cJSON_ReplaceItemInArray(fp, 4, cJSON_CreateString("16"));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    expect_400_naming(json, "windows[0].series.footprint[4]");
    free(json);
    still_serves(1);
}

Test(http, hundred_megabyte_body_is_413_or_closed_and_not_read)
{
    collector_start(&srv, NULL, NULL);
    /* declared up front: 413 at once, without reading the body */
    int fd = raw_connect(srv.port);
    const char *head = "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                       "\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n";
    cr_assert_eq(raw_send(fd, head, strlen(head)), 0);
    char buf[4096];
    int closed;
    raw_read(fd, buf, sizeof buf, 3000, &closed);
    cr_expect(strncmp(buf, "HTTP/1.1 413", 12) == 0, "got: %.80s", buf);
    close(fd);

    /* streamed without a length (chunked): the cap is enforced while reading */
    size_t big = 100u << 20;
    char *body = malloc(big);
    memset(body, ' ', big);
    const char *chunked[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: application/json",
                             "Transfer-Encoding: chunked", NULL};
    http_result_t r = post_raw(chunked, body, big);
    cr_expect(r.status == 413 || r.status == 0, "413 or a closed connection, got %ld", r.status);
    http_result_free(&r);
    free(body);
    still_serves(1);
}

Test(http, gzip_bomb_is_refused_without_inflating_it)
{
    collector_start(&srv, NULL, (const char *const[]){"--max-body", "1M", NULL});
    size_t big = 256u << 20; /* 256 MiB of spaces: ~250 KiB compressed */
    char *spaces = malloc(big);
    memset(spaces, ' ', big);
    size_t zlen;
    unsigned char *z = fixture_gzip(spaces, big, &zlen);
    free(spaces);
    cr_assert_lt(zlen, 1u << 20, "the bomb itself fits under the cap");
    const char *headers[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: application/json",
                             "Content-Encoding: gzip", NULL};
    http_result_t r = post_raw(headers, z, zlen);
    cr_expect_eq(r.status, 413, "%s", r.body);
    cr_expect(strstr(r.body, "decompressed") != NULL, "%s", r.body);
    http_result_free(&r);
    free(z);
    still_serves(1);
}

Test(http, slow_drip_body_is_cut_off_at_the_request_deadline)
{
    collector_start(&srv, NULL, (const char *const[]){"--request-timeout", "1", NULL});
    int fd = raw_connect(srv.port);
    const char *head = "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                       "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    cr_assert_eq(raw_send(fd, head, strlen(head)), 0);
    double start = now_s();
    int cut = 0;
    for (int i = 0; i < 60 && !cut; i++) { /* one byte every 100 ms: 6 s if never cut */
        if (raw_send(fd, " ", 1)) {
            cut = 1;
            break;
        }
        char buf[256];
        int closed;
        if (raw_read(fd, buf, sizeof buf, 100, &closed) != 0 || closed)
            cut = 1;
        if (i == 3) /* while it drips, others are served */
            cr_expect_eq(post_valid(srv.port, 1), 200);
    }
    cr_expect(cut, "the connection was never closed");
    cr_expect_lt(now_s() - start, 3.0, "closed %.1f s after the headers", now_s() - start);
    close(fd);
    still_serves(2);
}

Test(http, slow_drip_headers_and_silent_clients_do_not_block_others)
{
    collector_start(&srv, NULL, (const char *const[]){"--idle-timeout", "1", NULL});
    int drip = raw_connect(srv.port);
    int silent = raw_connect(srv.port);
    const char *head = "POST /v1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    cr_assert_eq(raw_send(drip, head, strlen(head)), 0);
    for (int i = 0; i < 5; i++) {
        raw_send(drip, "a", 1);
        double t = now_s();
        cr_expect_eq(post_valid(srv.port, (unsigned long)i + 1), 200);
        cr_expect_lt(now_s() - t, 0.5, "a valid request waited behind a slow client");
        struct timespec ts = {0, 150 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char buf[64];
    int closed = 0;
    raw_read(silent, buf, sizeof buf, 3000, &closed);
    cr_expect(closed, "a silent connection is closed after the idle timeout");
    close(drip);
    close(silent);
    still_serves(10);
}

Test(http, reset_mid_body_stores_nothing)
{
    collector_start(&srv, NULL, NULL);
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 77), .session_id = fixture_uuid(sid, 2)};
    char *json = fixture_batch_json(&f);
    int fd = raw_connect(srv.port);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
             "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(json));
    raw_send(fd, head, strlen(head));
    raw_send(fd, json, strlen(json) / 2);
    struct linger lg = {1, 0}; /* close with RST */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    still_serves(1);
    http_result_t again = http_post_json(srv.port, json);
    cr_expect(strstr(again.body, "\"status\":\"stored\"") != NULL,
              "the cut batch was not stored, so its retry is new: %s", again.body);
    http_result_free(&again);
    free(json);
}

Test(http, sigterm_finishes_the_request_in_flight)
{
    collector_start(&srv, NULL, NULL);
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 5), .session_id = fixture_uuid(sid, 6)};
    char *json = fixture_batch_json(&f);
    int fd = raw_connect(srv.port);
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
             "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(json));
    raw_send(fd, head, strlen(head));
    raw_send(fd, json, 100);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(srv.pid, SIGTERM);
    nanosleep(&ts, NULL);
    cr_expect(collector_alive(&srv), "the collector waits for the request in flight");
    raw_send(fd, json + 100, strlen(json) - 100);
    char buf[1024];
    int closed;
    raw_read(fd, buf, sizeof buf, 3000, &closed);
    cr_expect(strncmp(buf, "HTTP/1.1 200", 12) == 0, "got %.80s", buf);
    cr_expect(strstr(buf, "\"status\":\"stored\"") != NULL, "%s", buf);
    close(fd);
    cr_expect_eq(collector_stop(&srv), 0);
    /* and it really was committed */
    collector_restart(&srv, NULL);
    http_result_t again = http_post_json(srv.port, json);
    cr_expect(strstr(again.body, "\"status\":\"duplicate\"") != NULL, "%s", again.body);
    http_result_free(&again);
    free(json);
}

Test(http, bad_command_lines_exit_2_with_a_message)
{
    struct {
        const char *argv[8];
        const char *says;
    } cases[] = {
        {{"memgauge-collector", NULL}, "no API key"},
        {{"memgauge-collector", "--api-key", "k-0123456789abcdef", "--listen", "localhost", NULL},
         "--listen"},
        {{"memgauge-collector", "--api-key", "k-0123456789abcdef", "--listen", "example.com:80",
          NULL},
         "numeric IPv4"},
        {{"memgauge-collector", "--api-key", "k-0123456789abcdef", "--max-body", "lots", NULL},
         "--max-body"},
        {{"memgauge-collector", "--api-key", "k-0123456789abcdef", "--threads", "0", NULL},
         "--threads"},
        {{"memgauge-collector", "--api-key", "k-0123456789abcdef", "--frobnicate", NULL},
         "unknown option"},
        {{"memgauge-collector", "--api-key", NULL}, "needs a value"},
        {{"memgauge-collector", "--api-keys", "/nonexistent/keys", NULL}, "--api-keys"},
        {{"memgauge-collector", "--api-key", "has space", NULL}, "printable"},
        {{"memgauge-collector", "--api-key", "short-key", NULL}, "at least 16 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[2048];
        int rc = collector_run_args(cases[i].argv, out, sizeof out);
        cr_expect_eq(rc, 2, "case %zu exited %d: %s", i, rc, out);
        cr_expect(strstr(out, cases[i].says) != NULL, "case %zu: '%s' not in %s", i, cases[i].says,
                  out);
    }
    char out[2048];
    const char *help[] = {"memgauge-collector", "--help", NULL};
    cr_expect_eq(collector_run_args(help, out, sizeof out), 0);
    cr_expect(strstr(out, "--api-keys FILE") != NULL);
}

Test(http, api_keys_file_and_busy_port)
{
    collector_start(&srv, NULL, NULL);
    char keys[400], listen[64], out[2048];
    snprintf(keys, sizeof keys, "%s/keys", srv.dir);
    FILE *f = fopen(keys, "w");
    fputs("# team keys\n\nkey-one-0123456789abc\n  key-two-0123456789abc  \n", f);
    fclose(f);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", srv.port);
    char db[400];
    snprintf(db, sizeof db, "%s/other.db", srv.dir);
    const char *busy[] = {
        "memgauge-collector", "--api-keys", keys, "--listen", listen, "--db", db, NULL};
    cr_expect_eq(collector_run_args(busy, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "cannot listen") != NULL, "%s", out);
    collector_stop(&srv);
    collector_restart(&srv, (const char *const[]){"--api-keys", keys, NULL});
    const char *two[] = {"Authorization: Bearer key-two-0123456789abc",
                         "Content-Type: application/json", NULL};
    char bid[37], sid[37];
    fixture_batch_t fb = {.batch_id = fixture_uuid(bid, 9), .session_id = fixture_uuid(sid, 9)};
    char *json = fixture_batch_json(&fb);
    http_result_t r = post_raw(two, json, strlen(json));
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    free(json);
    still_serves(3); /* TEST_KEY from the command line still works */
}
