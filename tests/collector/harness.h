/* Integration-test harness: runs the real memgauge-collector binary on a
 * free 127.0.0.1 port and talks HTTP to it, with libcurl or raw sockets. */
#ifndef MEMGAUGE_TESTS_COLLECTOR_HARNESS_H
#define MEMGAUGE_TESTS_COLLECTOR_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define TEST_KEY "test-key-0123456789"
#define TEST_READ_TOKEN "test-read-token-0123456789" /* API keys never read */

typedef struct collector_s {
    pid_t pid;
    int port;
    char dir[256]; /* private temp directory: port file, log, SQLite file */
    char db[512];  /* what --db was given */
    char log[300];
} collector_t;

/* Starts the collector with --listen 127.0.0.1:0 --retention-days 0 (the
 * fixtures start in 2024) --api-key TEST_KEY
 * --read-token TEST_READ_TOKEN, a
 * database (db_url, or a fresh SQLite file under dir when NULL) and the
 * given extra arguments (NULL-terminated list). With db_url NULL the
 * backend under test is used (fixture_store). Waits until it listens. */
void collector_start(collector_t *c, const char *db_url, const char *const *extra);
/* Restarts a stopped collector on the same database (a new port). */
void collector_restart(collector_t *c, const char *const *extra);
/* SIGTERM and wait: returns the exit status (or 128 + signal). */
int collector_stop(collector_t *c);
/* SIGKILL and reap. */
void collector_kill9(collector_t *c);
/* Removes the temp directory. */
void collector_cleanup(collector_t *c);
/* 1 while the process is alive (not exited). */
int collector_alive(collector_t *c);
/* The whole file, NUL-terminated (malloc'd); NULL when it cannot be
 * opened. */
char *read_text(const char *path);
/* The whole log file (malloc'd), as read_text. */
char *collector_log(const collector_t *c);

/* Seconds on the monotonic clock (tests/support's mg_mono_ns). */
double now_s(void);
/* Sleeps ms milliseconds (waiting between checks of a condition). */
void sleep_ms(int ms);
/* Removes dir and everything below it (mg_remove_tree). 0 on success. */
int remove_dir(const char *dir);

/* Runs the binary with argv and returns its exit status; stderr into err. */
int collector_run_args(const char *const *argv, char *err, size_t errlen);

typedef struct http_result_s {
    long status; /* 0 when no response arrived */
    int curl_rc; /* CURLcode */
    char *body;  /* NUL-terminated, malloc'd */
    size_t len;
    double seconds;
} http_result_t;

/* One request. headers: NULL-terminated list of "Name: value". */
http_result_t http_request(int port, const char *method, const char *path,
                           const char *const *headers, const void *body, size_t len);
/* POST /v1/reports with the test key and application/json. */
http_result_t http_post_json(int port, const char *json);
void http_result_free(http_result_t *r);

/* A valid fixture batch (batch id n, session id n + 1000000) posted; returns
 * the status. */
long post_valid(int port, unsigned long n);

/* Raw sockets for what libcurl will not do. */
int raw_connect(int port);
int raw_send(int fd, const void *buf, size_t len); /* 0, or -1 when the peer closed */
/* Reads what arrives within timeout_ms (until close or timeout). Returns
 * bytes read, -1 on reset. *closed = 1 when the peer closed. */
long raw_read(int fd, char *buf, size_t cap, int timeout_ms, int *closed);

#endif
