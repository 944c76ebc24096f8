/* What a client with or without an API key can make the real
 * memgauge-collector spend: connection slots, memory, log lines, secrets,
 * files. Every case runs the real binary (harness.h) and prints what it
 * measured as "abuse: ..." lines; docs/collector.md quotes them. */
#include "fixture.h"
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static collector_t srv;

static void teardown(void)
{
    collector_cleanup(&srv);
}

TestSuite(abuse, .fini = teardown, .timeout = 120);

/* A TCP connection to the collector from `ip` (any 127.x.y.z). -1 when the
 * connection is refused. */
static int connect_from(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &src.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof src), 0, "bind %s: %s", ip,
                 strerror(errno));
    struct sockaddr_in dst = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(0x7f000001)};
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends `req` from `ip` and reads the answer until the peer closes or
 * timeout_ms pass. Returns the HTTP status (0 when none came); the answer
 * is copied into resp. *secs: from connect to the status line. */
static int exchange(const char *ip, int port, const char *req, size_t len, char *resp, size_t cap,
                    int timeout_ms, double *secs)
{
    double t0 = now_s();
    int fd = connect_from(ip, port);
    resp[0] = '\0';
    if (fd < 0)
        return 0;
    raw_send(fd, req, len);
    int closed = 0;
    long n = raw_read(fd, resp, cap - 1, timeout_ms, &closed);
    close(fd);
    if (secs)
        *secs = now_s() - t0;
    resp[n > 0 ? n : 0] = '\0';
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    return status;
}

static int healthz_from(const char *ip, double *secs)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char resp[4096];
    return exchange(ip, srv.port, req, sizeof req - 1, resp, sizeof resp, 20000, secs);
}

/* kB of a /proc/PID/status field (VmHWM, VmRSS). */
static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s: %s", path, strerror(errno));
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* Peak RSS back to the current RSS (proc(5), clear_refs "5"). */
static void reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, "5", 1), 1);
    close(fd);
}

/* Open file descriptors of a process (its sockets among them). */
static int open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* `arrays` arrays of `per` zeros: [[0,0,…],[0,…],…], or one flat array when
 * arrays is 0. */
static char *zeros(size_t arrays, size_t per, size_t *len)
{
    size_t total = arrays ? arrays * (2 * per + 2) + 1 : 2 * per + 1;
    char *s = malloc(total + 1), *p = s;
    if (arrays)
        *p++ = '[';
    for (size_t a = 0; a < (arrays ? arrays : 1); a++) {
        *p++ = '[';
        for (size_t i = 0; i < per; i++) {
            *p++ = '0';
            *p++ = i + 1 < per ? ',' : ']';
        }
        if (arrays)
            *p++ = a + 1 < arrays ? ',' : ']';
    }
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

static const char *const GZIP_JSON[] = {"Authorization: Bearer " TEST_KEY,
                                        "Content-Type: application/json", "Content-Encoding: gzip",
                                        NULL};

typedef struct post_s {
    const void *body;
    size_t len;
    const char *const *headers;
    long status;
    char answer[256];
} post_t;

static void *post_thread(void *arg)
{
    post_t *p = arg;
    http_result_t r = http_request(srv.port, "POST", "/v1/reports", p->headers, p->body, p->len);
    p->status = r.status;
    snprintf(p->answer, sizeof p->answer, "%s", r.body ? r.body : "");
    http_result_free(&r);
    return NULL;
}

/* ---- connection slots (no key needed) ------------------------------------ */

static void burst(int count, int close_at_once, int *fds)
{
    static const char part[] = "GET / HTTP/1.1\r\nHost";
    for (int i = 0; i < count; i++) {
        fds[i] = connect_from("127.0.0.1", srv.port);
        if (fds[i] >= 0)
            send(fds[i], part, sizeof part - 1, MSG_NOSIGNAL);
        if (close_at_once && fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

Test(abuse, half_sent_headers_from_one_address_leave_room_for_others)
{
    collector_start(&srv, NULL, NULL); /* defaults: 512 connections, 64 per address */
    int fds[600];
    burst(600, 0, fds);
    sleep_ms(1000); /* the scenario: another client arrives 1 s after the burst */
    double secs;
    int status = healthz_from("127.0.0.2", &secs);
    fprintf(stderr,
            "abuse: 600 half-sent headers held open from 127.0.0.1; 127.0.0.2 answered %d "
            "after %.3f s\n",
            status, secs);
    cr_expect_eq(status, 200);
    cr_expect_lt(secs, 0.5);
    for (int i = 0; i < 600; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

Test(abuse, connections_closed_during_their_headers_are_released_at_once)
{
    /* no per-address limit: every one of them takes a slot, 600 > 512 */
    collector_start(&srv, NULL,
                    (const char *const[]){"--max-connections-per-ip", "0", "--header-timeout", "30",
                                          "--idle-timeout", "30", NULL});
    int before = open_fds(srv.pid);
    int fds[600];
    double burst_start = now_s();
    burst(600, 1, fds);
    /* released when libmicrohttpd sees the end of the stream, or when the
     * guard shuts the socket 0.2 s after seeing it; 5 s is the deadline,
     * the idle timeout (30 s) is not a release */
    double t0 = now_s();
    int after = open_fds(srv.pid);
    while (after - before > 2 && now_s() - t0 < 5.0) {
        sleep_ms(10);
        after = open_fds(srv.pid);
    }
    double waited = now_s() - t0;
    double secs;
    int status = healthz_from("127.0.0.2", &secs);
    fprintf(stderr,
            "abuse: 600 connections sent half a header and closed; the collector held %d more "
            "descriptors %.2f s after the burst, and 127.0.0.2 answered %d after %.3f s "
            "(timeouts 30 s)\n",
            after - before, waited, status, secs);
    cr_expect_leq(after - before, 2, "closed connections still held %.1f s after the burst",
                  waited);
    cr_expect_eq(status, 200);
    cr_expect_lt(secs, 1.0);
    collector_stop(&srv);
    /* libmicrohttpd's messages are rate-limited, not counted: 10 a second
     * (server.c) and one line saying how many were not logged, over every
     * second the burst touched (on a loaded machine it lasts seconds) */
    double logged_s = now_s() - burst_start;
    int cap = (int)(11 * (logged_s + 2)) + 1;
    char *log = collector_log(&srv);
    int lines = 0;
    for (const char *p = log; (p = strstr(p, "libmicrohttpd: ")); p++)
        lines++;
    fprintf(stderr,
            "abuse: libmicrohttpd: %d lines in the log for the 600 connections over %.1f s "
            "(at most %d)\n",
            lines, logged_s, cap);
    cr_expect_leq(lines, cap, "the burst flooded the log");
    free(log);
}

Test(abuse, header_drips_are_cut_at_the_header_timeout)
{
    /* 512 drips from 8 addresses (64 each) take every slot */
    collector_start(&srv, NULL, (const char *const[]){"--header-timeout", "2", NULL});
    enum { N = 512 };
    static int fds[N];
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.1.%d", 1 + i / 64);
        fds[i] = connect_from(ip, srv.port);
        cr_assert_geq(fds[i], 0);
        send(fds[i], "G", 1, MSG_NOSIGNAL);
    }
    /* keep dripping a byte every 200 ms, well inside any idle timeout */
    static const char line[] = "ET / HTTP/1.1\r\nX-Drip: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int cut = 0;
    double last_cut = 0;
    for (size_t k = 0; k < sizeof line - 1 && cut < N && now_s() - t0 < 8; k++) {
        sleep_ms(200);
        for (int i = 0; i < N; i++)
            if (fds[i] >= 0 && send(fds[i], line + k, 1, MSG_NOSIGNAL) < 0) {
                close(fds[i]);
                fds[i] = -1;
                cut++;
                last_cut = now_s() - t0;
            }
        if (k == 4) { /* 1 s in: another address asks */
            double secs;
            int status = healthz_from("127.0.0.2", &secs);
            fprintf(stderr,
                    "abuse: 512 header drips from 8 addresses; 127.0.0.2 asking 1 s in answered "
                    "%d after %.3f s (--header-timeout 2)\n",
                    status, secs);
            cr_expect_eq(status, 200);
            cr_expect_lt(secs, 2.5);
        }
    }
    /* a cut socket shows up at the second send after the shutdown */
    fprintf(stderr, "abuse: %d of 512 drips cut, the last %.2f s after they started\n", cut,
            last_cut);
    cr_expect_eq(cut, N);
    cr_expect_lt(last_cut, 4.0);
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* ---- memory (an API key, which ships inside apps, is enough) ------------- */

Test(abuse, a_gzip_of_zeros_is_refused_before_a_tree_is_built)
{
    collector_start(&srv, NULL, (const char *const[]){"--quiet", NULL});
    size_t len, zlen, len2, zlen2;
    char *flat = zeros(0, (16u << 20) / 2 - 1, &len); /* 16 MiB: [0,0,…] */
    unsigned char *z = fixture_gzip(flat, len, &zlen);
    char *nested = zeros(83, 100000, &len2); /* 8.3 M values in v1-sized arrays */
    unsigned char *z2 = fixture_gzip(nested, len2, &zlen2);
    cr_assert_leq(len, 16u << 20);
    long base = status_kb(srv.pid, "VmRSS");
    reset_peak(srv.pid);
    post_t one = {z, zlen, GZIP_JSON, 0, ""};
    post_thread(&one);
    long peak = status_kb(srv.pid, "VmHWM");
    fprintf(stderr,
            "abuse: %zu-byte gzip of %zu bytes of [0,0,...] -> %ld %s; collector peak RSS +%ld "
            "KiB\n",
            zlen, len, one.status, one.answer, peak - base);
    cr_expect_eq(one.status, 400);
    cr_expect(strstr(one.answer, "array longer") != NULL, "%s", one.answer);
    cr_expect_lt(peak - base, 64 * 1024);

    base = status_kb(srv.pid, "VmRSS");
    reset_peak(srv.pid);
    post_t two[2] = {{z2, zlen2, GZIP_JSON, 0, ""}, {z2, zlen2, GZIP_JSON, 0, ""}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, post_thread, &two[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    peak = status_kb(srv.pid, "VmHWM");
    fprintf(stderr,
            "abuse: two at once, %zu-byte gzip of 83 x 100000 zeros (%zu bytes) -> %ld, %ld; "
            "collector peak RSS +%ld KiB\n",
            zlen2, len2, two[0].status, two[1].status, peak - base);
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(two[i].status, 400);
        cr_expect(strstr(two[i].answer, "more JSON values") != NULL, "%s", two[i].answer);
    }
    cr_expect_lt(peak - base, 2 * 64 * 1024);
    cr_expect_eq(post_valid(srv.port, 1), 200);
    free(flat);
    free(z);
    free(nested);
    free(z2);
}

Test(abuse, a_tree_within_v1_bounds_costs_what_was_reserved)
{
    collector_start(&srv, NULL, (const char *const[]){"--quiet", NULL});
    size_t len, zlen;
    char *doc = zeros(10, 100000, &len); /* 1,000,000 values, every bound kept */
    unsigned char *z = fixture_gzip(doc, len, &zlen);
    long base = status_kb(srv.pid, "VmRSS");
    reset_peak(srv.pid);
    post_t p = {z, zlen, GZIP_JSON, 0, ""};
    post_thread(&p);
    long peak = status_kb(srv.pid, "VmHWM");
    fprintf(stderr,
            "abuse: %zu-byte gzip of 1,000,000 zeros in 10 arrays -> %ld; collector peak RSS "
            "+%ld KiB (%.0f bytes per value)\n",
            zlen, p.status, peak - base, (double)(peak - base) * 1024 / 1e6);
    cr_expect_eq(p.status, 400); /* not a batch: refused after parsing */
    /* 80 bytes per node in a release build; sanitizers add redzones */
    cr_expect_lt(peak - base, 400 * 1024);
    free(doc);
    free(z);
}

/* A POST of `z` with Content-Length, read raw (for Retry-After). */
static int post_gzip_raw(const unsigned char *z, size_t zlen, char *resp, size_t cap)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                     "\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     zlen);
    char *req = malloc((size_t)n + zlen);
    memcpy(req, head, (size_t)n);
    memcpy(req + n, z, zlen);
    int status = exchange("127.0.0.1", srv.port, req, (size_t)n + zlen, resp, cap, 5000, NULL);
    free(req);
    return status;
}

Test(abuse, a_tree_that_does_not_fit_the_memory_left_is_503_and_one_that_never_fits_413)
{
    collector_start(&srv, NULL,
                    (const char *const[]){"--max-memory", "128M", "--max-body", "16M", NULL});
    size_t len, zlen, len2, zlen2;
    char *doc = zeros(10, 100000, &len); /* 1 M values: its tree needs about 88 MB */
    unsigned char *z = fixture_gzip(doc, len, &zlen);
    char *big = zeros(20, 100000, &len2); /* 2 M values: about 176 MB, more than the pool */
    unsigned char *z2 = fixture_gzip(big, len2, &zlen2);
    char resp[2048];
    long base = status_kb(srv.pid, "VmRSS");
    reset_peak(srv.pid);
    double t0 = now_s();
    int status = post_gzip_raw(z2, zlen2, resp, sizeof resp);
    long peak = status_kb(srv.pid, "VmHWM");
    fprintf(stderr,
            "abuse: 2,000,000 values with --max-memory 128M -> %d in %.3f s; peak RSS +%ld KiB\n",
            status, now_s() - t0, peak - base);
    cr_expect_eq(status, 413, "%s", resp);
    cr_expect(strstr(resp, "--max-memory") != NULL, "%s", resp);
    cr_expect_lt(peak - base, 32 * 1024);

    /* three 16 MiB bodies in flight hold 48 MiB: 1 M values no longer fit */
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                     "\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n{",
                     16u << 20);
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = raw_connect(srv.port);
        raw_send(held[i], head, (size_t)n);
    }
    sleep_ms(200);
    base = status_kb(srv.pid, "VmRSS");
    reset_peak(srv.pid);
    t0 = now_s();
    status = post_gzip_raw(z, zlen, resp, sizeof resp);
    peak = status_kb(srv.pid, "VmHWM");
    fprintf(stderr,
            "abuse: 1,000,000 values while 48 MiB of bodies are in flight, --max-memory 128M -> "
            "%d in %.3f s; peak RSS +%ld KiB\n",
            status, now_s() - t0, peak - base);
    cr_expect_eq(status, 503, "%s", resp);
    cr_expect(strstr(resp, "Retry-After: 2\r\n") != NULL, "%s", resp);
    cr_expect_lt(peak - base, 32 * 1024);
    for (int i = 0; i < 3; i++)
        close(held[i]);
    sleep_ms(200);
    status = post_gzip_raw(z, zlen, resp, sizeof resp);
    cr_expect_eq(status, 400, "alone it fits, is parsed and refused as no batch: %s", resp);
    cr_expect_eq(post_valid(srv.port, 1), 200);
    free(doc);
    free(z);
    free(big);
    free(z2);
}

Test(abuse, bodies_in_flight_past_the_memory_cap_are_503_before_being_read)
{
    /* 40 MiB: two 16 MiB bodies in flight fit, a third does not */
    collector_start(&srv, NULL,
                    (const char *const[]){"--max-memory", "40M", "--max-body", "16M", NULL});
    char head[512], resp[2048];
    int n = snprintf(head, sizeof head,
                     "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                     "\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n{",
                     16u << 20);
    int held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = raw_connect(srv.port);
        raw_send(held[i], head, (size_t)n);
    }
    sleep_ms(200);
    double secs;
    int status = exchange("127.0.0.1", srv.port, head, (size_t)n, resp, sizeof resp, 5000, &secs);
    fprintf(stderr,
            "abuse: two 16 MiB bodies in flight, a third with --max-memory 40M -> %d after %.3f "
            "s\n",
            status, secs);
    cr_expect_eq(status, 503);
    cr_expect(strstr(resp, "Retry-After: 2\r\n") != NULL, "%s", resp);
    for (int i = 0; i < 2; i++)
        close(held[i]);
    sleep_ms(200);
    cr_expect_eq(post_valid(srv.port, 1), 200, "memory comes back when the bodies go");
}

/* ---- framing, keys, logs, secrets, files --------------------------------- */

Test(abuse, ambiguous_framing_is_400)
{
    collector_start(&srv, NULL, NULL);
    static const char *const cases[] = {
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}{}{\r\n0\r\n\r\n",
        "Content-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{",
        "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[1024], resp[2048];
        int n = snprintf(req, sizeof req,
                         "POST /v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TEST_KEY
                         "\r\nContent-Type: application/json\r\n%s",
                         cases[i]);
        int status = exchange("127.0.0.1", srv.port, req, (size_t)n, resp, sizeof resp, 5000, NULL);
        cr_expect_eq(status, 400, "case %zu: %s", i, resp);
    }
    cr_expect_eq(post_valid(srv.port, 1), 200);
}

Test(abuse, api_keys_never_read)
{
    collector_start(&srv, NULL, NULL); /* loopback */
    const char *key[] = {"Authorization: Bearer " TEST_KEY, NULL};
    const char *token[] = {"Authorization: Bearer " TEST_READ_TOKEN, NULL};
    http_result_t r = http_request(srv.port, "GET", "/v1/apps", key, NULL, 0);
    cr_expect_eq(r.status, 401, "an API key read on loopback: %s", r.body);
    http_result_free(&r);
    r = http_request(srv.port, "GET", "/v1/apps", token, NULL, 0);
    cr_expect_eq(r.status, 200);
    http_result_free(&r);
}

Test(abuse, keys_bound_to_apps_write_only_those_apps)
{
    collector_start(&srv, NULL, NULL);
    char keys[400];
    snprintf(keys, sizeof keys, "%s/keys", srv.dir);
    FILE *f = fopen(keys, "w");
    fputs("# bound\nbound-key-0123456789 com.example.maps,com.example.mail\n"
          "free-key-0123456789\n",
          f);
    fclose(f);
    collector_stop(&srv);
    collector_restart(&srv, (const char *const[]){"--api-keys", keys, NULL});
    const char *bound[] = {"Authorization: Bearer bound-key-0123456789",
                           "Content-Type: application/json", NULL};
    const char *free_key[] = {"Authorization: Bearer free-key-0123456789",
                              "Content-Type: application/json", NULL};
    char bid[37], sid[37];
    fixture_batch_t photos = {.batch_id = fixture_uuid(bid, 1), .session_id = fixture_uuid(sid, 2)};
    char *json = fixture_batch_json(&photos); /* app com.example.photos */
    http_result_t r = http_request(srv.port, "POST", "/v1/reports", bound, json, strlen(json));
    cr_expect_eq(r.status, 403, "%s", r.body);
    cr_expect(strstr(r.body, "\"field\":\"app.id\"") && strstr(r.body, "com.example.photos"), "%s",
              r.body);
    http_result_free(&r);
    r = http_request(srv.port, "POST", "/v1/reports", free_key, json, strlen(json));
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    free(json);
    char bid2[37], sid2[37];
    fixture_batch_t maps = {.batch_id = fixture_uuid(bid2, 3),
                            .session_id = fixture_uuid(sid2, 4),
                            .app_id = "com.example.maps"};
    json = fixture_batch_json(&maps);
    r = http_request(srv.port, "POST", "/v1/reports", bound, json, strlen(json));
    cr_expect_eq(r.status, 200, "%s", r.body);
    http_result_free(&r);
    free(json);
}

Test(abuse, a_json_key_cannot_forge_a_log_line)
{
    collector_start(&srv, NULL, NULL);
    char bid[37], sid[37];
    fixture_batch_t fb = {.batch_id = fixture_uuid(bid, 1), .session_id = fixture_uuid(sid, 2)};
    cJSON *root = fixture_batch(&fb);
    cJSON *dropped = cJSON_GetObjectItem(root, "dropped");
    if (!dropped)
        dropped = cJSON_AddObjectToObject(root, "dropped");
    cJSON_AddNumberToObject(dropped,
                            "x\n2026-01-01T00:00:00.000Z 10.0.0.1 POST /v1/reports 200 FORGED", 1);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    http_result_t r = http_post_json(srv.port, json);
    cr_expect_eq(r.status, 400, "%s", r.body);
    http_result_free(&r);
    free(json);
    collector_stop(&srv);
    char *log = collector_log(&srv);
    int forged = 0;
    for (char *line = log; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "")
        forged |= !strncmp(line, "2026-01-01T00:00:00.000Z 10.0.0.1", 33);
    cr_expect(!forged, "a forged line in the log:\n%s", log);
    cr_expect(strstr(log, "dropped.x\\n2026-01-01") != NULL, "escaped key not logged:\n%s", log);
    free(log);
}

/* Runs the collector with exactly argv (stderr into err_path) until it
 * writes port_file; returns its pid. */
static pid_t spawn_plain(const char *const *argv, const char *err_path, const char *port_file,
                         int *port)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1 && *port > 0;
            fclose(f);
            if (ok)
                return pid;
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_fail("the collector did not listen");
    return -1;
}

Test(abuse, secrets_stay_off_the_log_and_the_command_line)
{
    collector_start(&srv, NULL, NULL); /* for its temp directory */
    collector_stop(&srv);
    char keys[300], tokens[300], log[300], err[300], portf[300], db[300];
    snprintf(keys, sizeof keys, "%s/keys", srv.dir);
    snprintf(tokens, sizeof tokens, "%s/tokens", srv.dir);
    snprintf(log, sizeof log, "%s/private.log", srv.dir);
    snprintf(err, sizeof err, "%s/terminal", srv.dir);
    snprintf(portf, sizeof portf, "%s/port2", srv.dir);
    snprintf(db, sizeof db, "%s/secrets.db", srv.dir);
    FILE *f = fopen(keys, "w");
    fputs("file-key-0123456789abcdef\n", f);
    fclose(f);
    f = fopen(tokens, "w");
    fputs("# readers\nfile-token-0123456789abcdef\n", f);
    fclose(f);
    /* a made-up token: printed on the terminal, not in the 0600 log */
    const char *made_up[] = {MEMGAUGE_COLLECTOR_BIN,
                             "--listen",
                             "127.0.0.1:0",
                             "--db",
                             db,
                             "--api-keys",
                             keys,
                             "--log",
                             log,
                             "--port-file",
                             portf,
                             NULL};
    int port = 0;
    pid_t pid = spawn_plain(made_up, err, portf, &port);
    sleep_ms(100);
    struct stat st;
    cr_assert_eq(stat(log, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "--log created %o", st.st_mode & 0777);
    char *logged = read_text(log), *terminal = read_text(err);
    cr_assert(logged && terminal, "no log or no terminal output");
    cr_expect(strstr(logged, "#token=") == NULL, "the token reached the log:\n%s", logged);
    cr_expect(strstr(terminal, "#token=") != NULL, "no token on the terminal:\n%s", terminal);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(logged);
    free(terminal);
    /* --read-tokens FILE: the token reads, and no secret is on the command line */
    unlink(portf);
    const char *from_files[] = {MEMGAUGE_COLLECTOR_BIN,
                                "--listen",
                                "127.0.0.1:0",
                                "--db",
                                db,
                                "--api-keys",
                                keys,
                                "--read-tokens",
                                tokens,
                                "--log",
                                log,
                                "--port-file",
                                portf,
                                NULL};
    pid = spawn_plain(from_files, err, portf, &port);
    const char *token[] = {"Authorization: Bearer file-token-0123456789abcdef", NULL};
    http_result_t r = http_request(port, "GET", "/v1/apps", token, NULL, 0);
    cr_expect_eq(r.status, 200);
    http_result_free(&r);
    char cmdline_path[64];
    snprintf(cmdline_path, sizeof cmdline_path, "/proc/%d/cmdline", (int)pid);
    f = fopen(cmdline_path, "r");
    char cmd[4096] = {0};
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        cmd[i] = cmd[i] ? cmd[i] : ' ';
    cr_expect(!strstr(cmd, "0123456789abcdef"), "a secret in ps: %s", cmd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

Test(abuse, dashboard_files_are_never_reached_through_links_or_fifos)
{
    collector_start(&srv, NULL, NULL); /* for its temp directory */
    collector_stop(&srv);
    char dash[300], p[400];
    snprintf(dash, sizeof dash, "%s/dash", srv.dir);
    mkdir(dash, 0700);
    snprintf(p, sizeof p, "%s/index.html", dash);
    FILE *f = fopen(p, "w");
    fputs("<!doctype html>", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/outside", srv.dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/outside/secret.js", srv.dir);
    f = fopen(p, "w");
    fputs("secret", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/lib", dash); /* a symbolic link to a directory, inside */
    cr_assert_eq(symlink("../outside", p), 0);
    snprintf(p, sizeof p, "%s/pipe.js", dash);
    cr_assert_eq(mkfifo(p, 0600), 0);
    collector_restart(&srv, (const char *const[]){"--dashboard-dir", dash, NULL});
    http_result_t r = http_request(srv.port, "GET", "/", NULL, NULL, 0);
    cr_expect_eq(r.status, 200);
    http_result_free(&r);
    r = http_request(srv.port, "GET", "/lib/secret.js", NULL, NULL, 0);
    cr_expect_eq(r.status, 404, "through a linked directory: %s", r.body);
    http_result_free(&r);
    double t0 = now_s();
    r = http_request(srv.port, "GET", "/pipe.js", NULL, NULL, 0);
    cr_expect_eq(r.status, 404);
    cr_expect_lt(now_s() - t0, 1.0, "a FIFO held the request");
    http_result_free(&r);
    cr_expect_eq(post_valid(srv.port, 1), 200);
}
