/*
 * The SDK reporting to the real memgauge-collector on 127.0.0.1, counted in
 * the collector's SQLite database: a collector that is down for a whole run
 * and then up receives every batch exactly once, and so it does after 50
 * SIGKILLs of a reporting child at random moments, with several windows per
 * batch: every window a killed child had closed is stored exactly once
 * (but the one whose close raced the kill), because the batch being
 * assembled is on disk; a batch re-sent after it was acknowledged (a kill
 * before its file was removed) is stored once.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "report.h"
#include "support/scratch.h"
#include "support/support.h"

#define KEY "transport-e2e-key"
#define KILLS 50

TestSuite(transport_collector, .init = mg_scratch_init, .fini = mg_scratch_fini, .timeout = 240);

/* ---- the collector ------------------------------------------------------- */

typedef struct port_wait_s {
    const char *file;
    int *port;
} port_wait_t;

/* The collector writes the port it bound once it listens. */
static int port_written(void *arg)
{
    port_wait_t *w = arg;
    char text[32];
    return mg_read_text(w->file, text, sizeof text) == 0 && sscanf(text, "%d", w->port) == 1;
}

static pid_t collector_start(int port, int *bound)
{
    char listen[64], port_file[200], db[200];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(port_file, sizeof port_file, "%s/port", mg_scratch);
    snprintf(db, sizeof db, "%s/collector.db", mg_scratch);
    unlink(port_file);
    pid_t pid = fork();
    if (pid == 0) {
        execl(MEMGAUGE_COLLECTOR_BIN, MEMGAUGE_COLLECTOR_BIN, "--listen", listen, "--db", db,
              "--api-key", KEY, "--port-file", port_file, "--quiet", (char *)NULL);
        _exit(127);
    }
    port_wait_t w = {port_file, bound};
    cr_assert(mg_wait_until(port_written, &w, 10000), "the collector did not start");
    return pid;
}

static void collector_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
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
    snprintf(db, sizeof db, "%s/collector.db", mg_scratch);
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
    uint64_t pages = 25000 + atomic_fetch_add(&g_pages, 3) % 5000;
    memset(out, 0, sizeof *out);
    out->time_ns = mg_mono_ns();
    out->footprint_bytes = pages * 4096;
    out->resident_bytes = (pages + 1000) * 4096;
    out->limit_bytes = 1ull << 31;
    out->available_bytes = out->limit_bytes - out->footprint_bytes;
    out->valid = MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_LIMIT |
                 MEMGAUGE_FIELD_AVAILABLE;
    out->footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
    return MEMGAUGE_OK;
}

/* The child's index, its closed windows (one line each, from the sampler)
 * and its durable batches ("<child> <batch id> <windows>", -1: a final
 * batch, which holds at least its last pending version's windows). */
static int g_child = -1;
static int g_closed_fd = -1;
static int g_durable_fd = -1;

static void log_durable(const char *batch_id, long windows)
{
    char line[80];
    int n = snprintf(line, sizeof line, "%d %.36s %ld\n", g_child, batch_id, windows);
    if (n <= 0 || write(g_durable_fd, line, (size_t)n) != n)
        _exit(3);
}

static void log_pending(const char *batch_id, size_t windows, void *ctx)
{
    (void)ctx;
    log_durable(batch_id, (long)windows);
}

/* Links every batch file into backup/ while the run sends and removes them:
 * they stand for files a kill left between the 2xx and the removal. */
static int g_backup;

static void back_up_batches(void)
{
    char spool[200], backup[200], from[600], to[600];
    snprintf(spool, sizeof spool, "%s/store/spool", mg_scratch);
    snprintf(backup, sizeof backup, "%s/backup", mg_scratch);
    mkdir(backup, 0700);
    DIR *d = opendir(spool);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "b-", 2) != 0)
            continue;
        snprintf(from, sizeof from, "%s/%s", spool, e->d_name);
        snprintf(to, sizeof to, "%s/%s", backup, e->d_name);
        link(from, to); /* EEXIST: already kept */
    }
    if (d != NULL)
        closedir(d);
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
    if (g_durable_fd >= 0)
        log_durable(batch_id, -1);
    if (g_backup)
        back_up_batches();
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
    if (g_closed_fd >= 0 && write(g_closed_fd, "w\n", 2) != 2)
        _exit(3);
}

/* Runs the SDK in a child: for run_ms then a stop with stop_ms, or until
 * killed (run_ms 0). A batch every report_ms (0: every 50 ms window).
 * child >= 0 logs closed windows and durable batches under that index. */
static pid_t reporting_child_as(int port, unsigned run_ms, unsigned stop_ms, unsigned report_ms,
                                int child)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (child >= 0) {
        char path[200];
        g_child = child;
        snprintf(path, sizeof path, "%s/closed-%d.log", mg_scratch, child);
        g_closed_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        snprintf(path, sizeof path, "%s/durable.log", mg_scratch);
        g_durable_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        memgauge__report_on_pending(log_pending, NULL);
    }
    char log[200], store[200], url[100];
    snprintf(log, sizeof log, "%s/spooled.log", mg_scratch);
    snprintf(store, sizeof store, "%s/store", mg_scratch);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/reports", port);
    g_log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    memgauge__report_on_spooled(log_spooled, NULL);
    snprintf(log, sizeof log, "%s/windows.log", mg_scratch);
    g_windows_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.on_window = log_window;
    o.interval_ms = 10;
    o.fast_interval_ms = 10;
    o.window_ms = 50;
    o.report_interval_ms = report_ms;
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
            mg_sleep_ms(1000);
    mg_sleep_ms(run_ms);
    _exit(memgauge_stop(h, stop_ms) == MEMGAUGE_OK ? 0 : 4);
}

static pid_t reporting_child(int port, unsigned run_ms, unsigned stop_ms)
{
    return reporting_child_as(port, run_ms, stop_ms, 0, -1);
}

static int child_exit(pid_t pid)
{
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t spool_files(void)
{
    char path[200];
    snprintf(path, sizeof path, "%s/store/spool", mg_scratch);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "b-", 2) == 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static int spool_empty(void *unused)
{
    (void)unused;
    return spool_files() == 0;
}

/* Every logged batch stored exactly once; returns how many were logged. */
static size_t check_every_logged_batch_stored_once(void)
{
    char log[200], line[64];
    snprintf(log, sizeof log, "%s/spooled.log", mg_scratch);
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
    /* the second run's batches after the first acknowledged one are short
     * (no sdk, app.version, device): both sessions keep their description */
    cr_expect(gt(i64, query_int("SELECT count(*) FROM batches WHERE sdk_name = ''"), 0));
    cr_expect(eq(i64,
                 query_int("SELECT count(*) FROM sessions WHERE app_id = 'e2e.app' AND "
                           "app_version = '1.0' AND device_model <> '' AND os_version <> ''"),
                 2));
    /* every closed window is stored with the SDK's own aggregates, which the
     * batches left to the collector to derive from the series */
    char path[200], line[256];
    snprintf(path, sizeof path, "%s/windows.log", mg_scratch);
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

static long long windows_of_batch(const char *batch_id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM windows WHERE batch_id = '%s'", batch_id);
    return query_int(sql);
}

static size_t lines_of(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    while (f != NULL && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f != NULL)
        fclose(f);
    return n;
}

/* Every window a killed child had closed is stored exactly once, but the one
 * whose close raced the kill (closed by the sampler, not yet on disk): the
 * child's session holds its closed windows, give or take that one (the
 * sampler logs a window after handing it over). Every batch a child made
 * durable, pending or final, is stored once with at least the windows it
 * held. Returns the windows lost to the kills. */
static size_t check_every_closed_window_stored_once(int children, size_t *pending_batches)
{
    char path[200], id[64];
    snprintf(path, sizeof path, "%s/durable.log", mg_scratch);
    FILE *f = fopen(path, "r");
    cr_assert(ne(ptr, f, NULL));
    char(*first)[37] = calloc((size_t)children, sizeof *first);
    cr_assert(ne(ptr, first, NULL));
    int child;
    long windows;
    *pending_batches = 0;
    while (fscanf(f, "%d %63s %ld", &child, id, &windows) == 3) {
        cr_assert(child >= 0 && child < children && strlen(id) == 36);
        if (first[child][0] == '\0')
            memcpy(first[child], id, 37);
        cr_expect(eq(int, stored(id), 1), "child %d batch %s", child, id);
        if (windows >= 0) {
            (*pending_batches)++;
            cr_expect(ge(i64, windows_of_batch(id), windows), "child %d batch %s", child, id);
        }
    }
    fclose(f);
    size_t lost = 0;
    for (int i = 0; i < children; i++) {
        snprintf(path, sizeof path, "%s/closed-%d.log", mg_scratch, i);
        long long closed = (long long)lines_of(path), have = 0;
        if (first[i][0] != '\0') {
            char sql[300];
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM windows WHERE session_id = (SELECT session_id FROM "
                     "batches WHERE batch_id = '%s')",
                     first[i]);
            have = query_int(sql);
        }
        cr_expect(ge(i64, have, closed - 1), "child %d closed %lld windows, %lld stored", i, closed,
                  have);
        cr_expect(le(i64, have, closed + 1), "child %d closed %lld windows, %lld stored", i, closed,
                  have);
        if (have < closed)
            lost += (size_t)(closed - have);
    }
    free(first);
    return lost;
}

#define REPORT_MS 300 /* six 50 ms windows per batch: most children die before their first */

Test(transport_collector, fifty_sigkills_of_a_reporting_child_lose_no_batch_and_store_none_twice)
{
    int port;
    pid_t col = collector_start(0, &port);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int i = 0; i < KILLS; i++) {
        pid_t c = reporting_child_as(port, 0, 0, REPORT_MS, i);
        mg_sleep_ms(30 + (unsigned)(rand() % 450));
        kill(c, SIGKILL);
        cr_assert(eq(int, child_exit(c), 128 + SIGKILL), "kill %d (seed %u)", i, seed);
    }
    pid_t c = reporting_child_as(port, 300, 10000, REPORT_MS, KILLS);
    cr_assert(eq(int, child_exit(c), 0));
    collector_stop(col);

    size_t logged = check_every_logged_batch_stored_once();
    cr_expect(gt(sz, logged, 0), "seed %u", seed);
    cr_expect(eq(sz, spool_files(), 0));
    /* a batch spooled in the instant before a kill, not yet logged, still
     * arrives: the database may hold more than the log, never fewer */
    cr_expect(ge(i64, query_int("SELECT count(*) FROM batches"), (long long)logged));
    size_t pending = 0;
    size_t lost = check_every_closed_window_stored_once(KILLS + 1, &pending);
    size_t closed = 0;
    for (int i = 0; i <= KILLS; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s/closed-%d.log", mg_scratch, i);
        closed += lines_of(path);
    }
    cr_log_info("seed %u: %zu windows closed, %zu lost to a kill racing their close, %zu pending "
                "versions, %lld batches",
                seed, closed, lost, pending, query_int("SELECT count(*) FROM batches"));
    cr_expect(gt(sz, closed, (size_t)KILLS * 2), "seed %u", seed);
    cr_expect(gt(sz, pending, (size_t)KILLS), "the batches being assembled went to disk");
    /* a child killed before its first window closed left nothing to send */
    cr_expect(le(i64, query_int("SELECT count(*) FROM sessions"), KILLS + 1));
    cr_expect(gt(i64, query_int("SELECT count(*) FROM sessions"), KILLS / 2));
}

Test(transport_collector, a_batch_sent_again_after_its_acknowledgement_is_stored_once)
{
    int port;
    pid_t col = collector_start(0, &port);
    g_backup = 1; /* inherited by the child */
    pid_t c = reporting_child_as(port, 1000, 5000, 200, 0);
    g_backup = 0;
    cr_assert(eq(int, child_exit(c), 0));
    cr_assert(eq(sz, spool_files(), 0));
    long long batches = query_int("SELECT count(*) FROM batches");
    long long windows = query_int("SELECT count(*) FROM windows");
    cr_assert(gt(i64, batches, 2));

    /* the files come back as a kill between the 2xx and the removal leaves them */
    char spool[200], backup[200], from[600], to[600];
    snprintf(spool, sizeof spool, "%s/store/spool", mg_scratch);
    snprintf(backup, sizeof backup, "%s/backup", mg_scratch);
    DIR *d = opendir(backup);
    cr_assert(ne(ptr, d, NULL));
    struct dirent *e;
    size_t back = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "b-", 2) != 0)
            continue;
        snprintf(from, sizeof from, "%s/%s", backup, e->d_name);
        snprintf(to, sizeof to, "%s/%s", spool, e->d_name);
        cr_assert(eq(int, link(from, to), 0));
        back++;
    }
    closedir(d);
    cr_assert(eq(i64, (long long)back, batches), "every batch, pending ones included, was a file");

    c = reporting_child_as(port, 0, 0, 200, 1);
    mg_wait_until(spool_empty, NULL, 5000);
    kill(c, SIGKILL);
    child_exit(c);
    collector_stop(col);
    cr_expect(eq(sz, spool_files(), 0), "the files were sent again");
    check_every_logged_batch_stored_once();
    /* nothing from the first run was stored a second time */
    snprintf(from, sizeof from,
             "SELECT count(*) FROM windows WHERE session_id = (SELECT session_id FROM batches "
             "ORDER BY received_unix_ms LIMIT 1)");
    cr_expect(eq(i64, query_int(from), windows));
    cr_expect(eq(i64,
                 query_int("SELECT count(*) FROM batches WHERE session_id = (SELECT session_id "
                           "FROM batches ORDER BY received_unix_ms LIMIT 1)"),
                 batches));
}
