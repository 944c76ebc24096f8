#include "harness.h"

#include "fixture.h"
#include "support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double now_s(void)
{
    return (double)mg_mono_ns() / 1e9;
}

void sleep_ms(int ms)
{
    mg_sleep_ms(ms > 0 ? (unsigned)ms : 0u);
}

static void spawn(collector_t *c, const char *const *extra)
{
    char portfile[300];
    snprintf(portfile, sizeof portfile, "%s/port", c->dir);
    unlink(portfile);
    const char *argv[64];
    int n = 0;
    argv[n++] = MEMGAUGE_COLLECTOR_BIN;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--db";
    argv[n++] = c->db;
    argv[n++] = "--api-key";
    argv[n++] = TEST_KEY;
    argv[n++] = "--read-token";
    argv[n++] = TEST_READ_TOKEN;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--log";
    argv[n++] = c->log;
    /* fixtures start in 2024: kept unless a test asks for retention (a later
     * --retention-days wins) */
    argv[n++] = "--retention-days";
    argv[n++] = "0";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        int logfd = open(c->log, O_WRONLY | O_APPEND | O_CREAT, 0644);
        dup2(logfd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    c->pid = pid;
    for (int i = 0; i < 1000; i++) { /* up to 10 s */
        FILE *f = fopen(portfile, "r");
        if (f) {
            int port = 0;
            if (fscanf(f, "%d", &port) == 1 && port > 0) {
                fclose(f);
                c->port = port;
                return;
            }
            fclose(f);
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char *log = collector_log(c);
            cr_assert_fail("collector exited early (status %d): %s", status, log ? log : "");
        }
        sleep_ms(10);
    }
    cr_assert_fail("collector did not start listening within 10 s");
}

void collector_start(collector_t *c, const char *db_url, const char *const *extra)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/memgauge-it-XXXXXX");
    cr_assert_not_null(mkdtemp(c->dir));
    snprintf(c->log, sizeof c->log, "%s/collector.log", c->dir);
    if (db_url) {
        snprintf(c->db, sizeof c->db, "%s", db_url);
    } else if (fixture_backend_is_pg()) { /* a fresh database on the test server */
        memgauge__store_t *probe = fixture_store(c->db);
        probe->ops->close(probe);
    } else {
        snprintf(c->db, sizeof c->db, "%s/memgauge.db", c->dir);
    }
    spawn(c, extra);
}

void collector_restart(collector_t *c, const char *const *extra)
{
    spawn(c, extra);
}

int collector_stop(collector_t *c)
{
    if (c->pid <= 0)
        return -1;
    kill(c->pid, SIGTERM);
    int status = 0;
    waitpid(c->pid, &status, 0);
    c->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void collector_kill9(collector_t *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    c->pid = 0;
}

int collector_alive(collector_t *c)
{
    if (c->pid <= 0)
        return 0;
    int status;
    return waitpid(c->pid, &status, WNOHANG) == 0;
}

void collector_cleanup(collector_t *c)
{
    if (c->pid > 0)
        collector_stop(c);
    /* under ASan/UBSan the collector reports into its log */
    char *log = collector_log(c);
    if (log) {
        cr_expect(strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL,
                  "the collector reported a sanitizer error:\n%s", log);
        free(log);
    }
    if (remove_dir(c->dir) != 0)
        fprintf(stderr, "cleanup of %s failed\n", c->dir);
}

int remove_dir(const char *dir)
{
    return mg_remove_tree(dir);
}

char *read_text(const char *path)
{
    size_t len;
    return (char *)mg_read_all(path, &len);
}

char *collector_log(const collector_t *c)
{
    return read_text(c->log);
}

int collector_run_args(const char *const *argv, char *err, size_t errlen)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        execv(MEMGAUGE_COLLECTOR_BIN, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < errlen && (got = read(pipefd[0], err + n, errlen - n - 1)) > 0)
        n += (size_t)got;
    err[n] = '\0';
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t collect_body(char *data, size_t size, size_t nmemb, void *user)
{
    http_result_t *r = user;
    size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, data, n);
    r->body = b;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

http_result_t http_request(int port, const char *method, const char *path,
                           const char *const *headers, const void *body, size_t len)
{
    http_result_t r = {0};
    CURL *h = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    struct curl_slist *list = NULL;
    for (int i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    r.curl_rc = (int)curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r.seconds);
    if (!r.body)
        r.body = calloc(1, 1);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return r;
}

http_result_t http_post_json(int port, const char *json)
{
    const char *headers[] = {"Authorization: Bearer " TEST_KEY, "Content-Type: application/json",
                             NULL};
    return http_request(port, "POST", "/v1/reports", headers, json, strlen(json));
}

void http_result_free(http_result_t *r)
{
    free(r->body);
    r->body = NULL;
}

long post_valid(int port, unsigned long n)
{
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, n),
                         .session_id = fixture_uuid(sid, n + 1000000)};
    char *json = fixture_batch_json(&f);
    http_result_t r = http_post_json(port, json);
    free(json);
    long status = r.status;
    http_result_free(&r);
    return status;
}

int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(0x7f000001)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
    return fd;
}

int raw_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

long raw_read(int fd, char *buf, size_t cap, int timeout_ms, int *closed)
{
    size_t n = 0;
    *closed = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (spent >= timeout_ms || n + 1 >= cap)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(timeout_ms - spent)) <= 0)
            break;
        ssize_t got = recv(fd, buf + n, cap - n - 1, 0);
        if (got < 0) {
            buf[n] = '\0';
            return errno == ECONNRESET ? -1 : (long)n;
        }
        if (got == 0) {
            *closed = 1;
            break;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    return (long)n;
}
