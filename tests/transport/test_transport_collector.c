/*
 * The SDK reporting to the real memgauge-collector on 127.0.0.1, counted in
 * the collector's SQLite database: a collector that is down for a whole run
 * and then up receives every batch exactly once, and so it does after 50
 * SIGKILLs of a reporting child at random moments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "report.h"

#define KEY "transport-e2e-key"
#define KILLS 50

static char g_dir[128];

static void make_dir(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/mg-tr-e2e-XXXXXX");
    cr_assert(ne(ptr, mkdtemp(g_dir), NULL));
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    cr_assert(eq(int, system(cmd), 0));
}

TestSuite(transport_collector, .init = make_dir, .fini = remove_dir, .timeout = 240);

static void sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

/* ---- the collector ------------------------------------------------------- */

static pid_t collector_start(int port, int *bound)
{
    char listen[64], port_file[200], db[200];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(port_file, sizeof port_file, "%s/port", g_dir);
    snprintf(db, sizeof db, "%s/collector.db", g_dir);
    unlink(port_file);
    pid_t pid = fork();
    if (pid == 0) {
        execl(MEMGAUGE_COLLECTOR_BIN, MEMGAUGE_COLLECTOR_BIN, "--listen", listen, "--db", db,
              "--api-key", KEY, "--port-file", port_file, "--quiet", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", bound) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        sleep_ms(10);
    }
    cr_assert(false, "the collector did not start");
    return -1;
}

static void collector_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    cr_expect(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0));
}

/* A port nothing listens on: bound, then released. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(eq(int, bind(fd, (struct sockaddr *)&a, sizeof a), 0));
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static long long query_int(const char *sql)
{
    char db[200];
    snprintf(db, sizeof db, "%s/collector.db", g_dir);
    sqlite3 *h;
    cr_assert(eq(int, sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK));
    sqlite3_stmt *st;
    cr_assert(eq(int, sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK), "%s", sql);
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static int stored(const char *batch_id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM batches WHERE batch_id = '%s'", batch_id);
    return (int)query_int(sql);
}

/* ---- a reporting child --------------------------------------------------- */

static atomic_ullong g_pages;

static int growing_read(memgauge_reading_t *out, void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t pages = 25000 + atomic_fetch_add(&g_pages, 3) % 5000;
    memset(out, 0, sizeof *out);
    out->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    out->footprint_bytes = pages * 4096;
    out->resident_bytes = (pages + 1000) * 4096;
    out->limit_bytes = 1ull << 31;
    out->available_bytes = out->limit_bytes - out->footprint_bytes;
    out->valid = MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_LIMIT |
                 MEMGAUGE_FIELD_AVAILABLE;
    out->footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
    return MEMGAUGE_OK;
}

static int g_log_fd = -1;

/* One line per durably spooled batch: what the collector must end up with. */
static void log_spooled(const char *batch_id, void *ctx)
{
    (void)ctx;
    char line[40];
    snprintf(line, sizeof line, "%.36s\n", batch_id);
    if (write(g_log_fd, line, 37) != 37)
        _exit(3);
}

/* The child's windows as the SDK computed them, one line each: what the
 * collector must store whether the batch said it or the series implied it. */
static int g_windows_fd = -1;

static void log_window(const memgauge_window_t *w, void *ctx)
{
    (void)ctx;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                     " %" PRIu64 "\n",
                     w->samples, w->first_bytes, w->last_bytes, w->min_bytes, w->max_bytes,
                     w->mean_bytes, w->peak_bytes);
    if (n <= 0 || write(g_windows_fd, line, (size_t)n) != n)
        _exit(3);
}

/* Runs the SDK in a child: for run_ms then a stop with stop_ms, or until
 * killed (run_ms 0). */
static pid_t reporting_child(int port, unsigned run_ms, unsigned stop_ms)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char log[200], store[200], url[100];
    snprintf(log, sizeof log, "%s/spooled.log", g_dir);
    snprintf(store, sizeof store, "%s/store", g_dir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/reports", port);
    g_log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    memgauge__report_on_spooled(log_spooled, NULL);
    snprintf(log, sizeof log, "%s/windows.log", g_dir);
    g_windows_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.on_window = log_window;
    o.interval_ms = 10;
    o.fast_interval_ms = 10;
    o.window_ms = 50;
    o.report_interval_ms = 0;
    o.storage_dir = store;
    o.app_id = "e2e.app";
    o.app_version = "1.0";
    o.endpoint_url = url;
    o.api_key = KEY;
    o.retry_base_ms = 20;
    o.retry_max_ms = 200;
    o.connect_timeout_ms = 500;
    o.total_timeout_ms = 2000;
    memgauge__hooks_t hooks = {.read = growing_read};
    memgauge_t *h;
    if (memgauge__start_with(&o, &hooks, &h) != MEMGAUGE_OK)
        _exit(2);
    if (run_ms == 0)
        for (;;)
            sleep_ms(1000);
    sleep_ms(run_ms);
    _exit(memgauge_stop(h, stop_ms) == MEMGAUGE_OK ? 0 : 4);
}

static int child_exit(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t spool_files(void)
{
    char path[200];
    snprintf(path, sizeof path, "%s/store/spool", g_dir);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "b-", 2) == 0;
    if (d != NULL)
        closedir(d);
    return n;
}

/* Every logged batch stored exactly once; returns how many were logged. */
static size_t check_every_logged_batch_stored_once(void)
{
    char log[200], line[64];
    snprintf(log, sizeof log, "%s/spooled.log", g_dir);
    FILE *f = fopen(log, "r");
    cr_assert(ne(ptr, f, NULL));
    size_t n = 0, missing = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[36] = '\0';
        n++;
        if (stored(line) != 1) {
            missing++;
            cr_expect(eq(int, stored(line), 1), "batch %s", line);
        }
    }
    fclose(f);
    cr_expect(eq(sz, missing, 0));
    /* "once" for the data too: no window of any session stored twice */
    cr_expect(eq(i64,
                 query_int("SELECT count(*) FROM (SELECT session_id, start_ms FROM windows "
                           "GROUP BY session_id, start_ms HAVING count(*) > 1)"),
                 0));
    return n;
}

Test(transport_collector, a_collector_down_for_a_whole_run_then_up_gets_every_batch_once)
{
    int down = dead_port();
    pid_t c = reporting_child(down, 800, 300);
    cr_assert(eq(int, child_exit(c), 0));
    size_t spooled = spool_files();
    cr_assert(gt(sz, spooled, 5), "the first run spooled %zu batches", spooled);

    int port;
    pid_t col = collector_start(0, &port);
    c = reporting_child(port, 500, 5000);
    cr_assert(eq(int, child_exit(c), 0));
    collector_stop(col);

    size_t logged = check_every_logged_batch_stored_once();
    cr_expect(eq(i64, query_int("SELECT count(*) FROM batches"), (long long)logged));
    cr_expect(eq(sz, spool_files(), 0));
    cr_expect(eq(i64, query_int("SELECT count(*) FROM sessions WHERE app_id = 'e2e.app'"), 2));
    /* every closed window is stored with the SDK's own aggregates, which the
     * batches left to the collector to derive from the series */
    char path[200], line[256];
    snprintf(path, sizeof path, "%s/windows.log", g_dir);
    FILE *f = fopen(path, "r");
    cr_assert(ne(ptr, f, NULL));
    size_t windows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long v[7];
        cr_assert(eq(int,
                     sscanf(line, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                            &v[4], &v[5], &v[6]),
                     7));
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM windows WHERE samples = %llu AND first_bytes = %llu AND "
                 "last_bytes = %llu AND min_bytes = %llu AND max_bytes = %llu AND mean_bytes = "
                 "%llu AND peak_bytes = %llu AND series IS NOT NULL",
                 v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        cr_expect(ge(i64, query_int(sql), 1), "window %s not stored as computed", line);
        windows++;
    }
    fclose(f);
    cr_expect(gt(sz, windows, 10), "%zu windows", windows);
    /* the second session reported how the first ended, with its trail */
    cr_expect(eq(i64,
                 query_int("SELECT count(*) FROM terminations WHERE verdict = 'clean_exit' AND "
                           "trail IS NOT NULL"),
                 1));
}

Test(transport_collector, fifty_sigkills_of_a_reporting_child_lose_no_batch_and_store_none_twice)
{
    int port;
    pid_t col = collector_start(0, &port);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int i = 0; i < KILLS; i++) {
        pid_t c = reporting_child(port, 0, 0);
        sleep_ms(30 + (unsigned)(rand() % 250));
        kill(c, SIGKILL);
        cr_assert(eq(int, child_exit(c), 128 + SIGKILL), "kill %d (seed %u)", i, seed);
    }
    pid_t c = reporting_child(port, 300, 10000);
    cr_assert(eq(int, child_exit(c), 0));
    collector_stop(col);

    size_t logged = check_every_logged_batch_stored_once();
    cr_expect(gt(sz, logged, (size_t)KILLS), "seed %u", seed);
    cr_expect(eq(sz, spool_files(), 0));
    /* a batch spooled in the instant before a kill, not yet logged, still
     * arrives: the database may hold more than the log, never fewer */
    cr_expect(ge(i64, query_int("SELECT count(*) FROM batches"), (long long)logged));
    /* a child killed before its first window closed left nothing to send */
    cr_expect(le(i64, query_int("SELECT count(*) FROM sessions"), KILLS + 1));
    cr_expect(gt(i64, query_int("SELECT count(*) FROM sessions"), KILLS / 2));
}
