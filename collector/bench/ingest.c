/* collector/bench/ingest: load generator for memgauge-collector. Starts the real
 * collector on a fresh SQLite database (or uses --url), has N client threads
 * (default 32) post realistic gzip'd wire-format v1 batches over keep-alive
 * connections, then prints samples stored per second, batches per second and
 * latency percentiles, and checks that what the database holds equals what
 * was sent. Bounded in batches and in seconds.
 *
 *   build/collector/bench/ingest [--clients 32] [--batches 20000] [--seconds 60]
 *       [--windows 10] [--per-window 100] [--no-gzip] [--db PATH|URL] [--quick]
 *       [--threads 2]   (the collector's HTTP threads, and its PostgreSQL connections)
 */
#include "bench_harness.h"
#include "store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PAGE 16384u

typedef struct body_s {
    unsigned char *data;
    size_t len;
} body_t;

typedef struct client_s {
    pthread_t thread;
    int id, port;
    size_t count; /* batches this client sends */
    body_t *bodies;
    double *latency_ms;
    size_t sent, ok, failed;
    double deadline; /* monotonic seconds */
} client_t;

static struct {
    int clients, windows, per_window, gzip, threads;
    size_t batches;
    double seconds;
    const char *db;
} opt = {32, 10, 100, 1, 2, 20000, 60, NULL};

typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

static void put(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n;
        b->p = realloc(b->p, b->cap);
    }
}

/* One batch: a session of a 10 Hz sampler, `windows` windows of
 * `per_window` samples, the footprint a random walk of a few 16 KiB pages
 * per sample, as the SDK's transport would encode it. */
static body_t make_batch(int client, size_t n)
{
    uint64_t rnd = 0x9E3779B97F4A7C15ull ^ ((uint64_t)client << 32) ^ n;
    sbuf_t b = {malloc(65536), 0, 65536};
    put(&b,
        "{\"schema\":1,\"batch_id\":\"%08x-0000-4000-8000-%012llx\",\"sent_unix_ms\":1718000012000,"
        "\"sdk\":{\"name\":\"memgauge\",\"version\":\"0.1.0\"},"
        "\"app\":{\"id\":\"com.example.photos\",\"version\":\"2.%d.0\",\"build\":\"2401\"},"
        "\"device\":{\"model\":\"iPhone1%d,2\",\"os_name\":\"iOS\",\"os_version\":\"17.%d\"},"
        "\"session\":{\"id\":\"%08x-0000-4000-8000-%012llx\",\"start_unix_ms\":1718000000000,"
        "\"interval_ms\":100},\"metric\":\"phys_footprint\",\"windows\":[",
        client, (unsigned long long)n, client % 4, client % 6, client % 5, client,
        (unsigned long long)n);
    int64_t fp = 11520 + (int64_t)(bench_next_rand(&rnd) % 4096);
    uint64_t t = 0;
    for (int w = 0; w < opt.windows; w++) {
        int64_t *v = malloc(sizeof *v * (size_t)opt.per_window);
        int64_t mn = INT64_MAX, mx = 0, sum = 0;
        for (int i = 0; i < opt.per_window; i++) {
            fp += (int64_t)(bench_next_rand(&rnd) % 9) - 4;
            v[i] = fp;
            mn = fp < mn ? fp : mn;
            mx = fp > mx ? fp : mx;
            sum += fp;
        }
        uint64_t start = t, end = t + (uint64_t)(opt.per_window - 1) * 100;
        put(&b,
            "%s{\"start_ms\":%llu,\"end_ms\":%llu,\"samples\":%d,\"first\":%llu,\"last\":%llu,"
            "\"min\":%llu,\"max\":%llu,\"mean\":%llu,\"peak\":%llu,\"kernel_peak\":%llu,"
            "\"limit\":3221225472,\"headroom\":%llu,\"series\":{\"unit_bytes\":16384,\"t\":[%llu",
            w ? "," : "", (unsigned long long)start, (unsigned long long)end, opt.per_window,
            (unsigned long long)v[0] * PAGE, (unsigned long long)v[opt.per_window - 1] * PAGE,
            (unsigned long long)mn * PAGE, (unsigned long long)mx * PAGE,
            (unsigned long long)(sum / opt.per_window) * PAGE, (unsigned long long)mx * PAGE,
            (unsigned long long)mx * PAGE, 3221225472ull - (unsigned long long)mx * PAGE,
            (unsigned long long)start);
        for (int i = 1; i < opt.per_window; i++)
            put(&b, ",100");
        put(&b, "],\"footprint\":[%lld", (long long)v[0]);
        for (int i = 1; i < opt.per_window; i++)
            put(&b, ",%lld", (long long)(v[i] - v[i - 1]));
        put(&b, "]}}");
        t = end + 100;
        free(v);
    }
    put(&b, "],\"events\":[],\"dropped\":{\"samples\":0}}");
    body_t out = {(unsigned char *)b.p, b.len};
    if (opt.gzip) {
        z_stream z = {0};
        deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        out.data = malloc(deflateBound(&z, b.len));
        z.next_in = (unsigned char *)b.p;
        z.avail_in = (uInt)b.len;
        z.next_out = out.data;
        z.avail_out = (uInt)deflateBound(&z, b.len);
        deflate(&z, Z_FINISH);
        out.len = z.total_out;
        deflateEnd(&z);
        free(b.p);
    }
    return out;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    CURL *h = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/reports", c->port);
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Authorization: Bearer " BENCH_KEY);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    if (opt.gzip)
        hd = curl_slist_append(hd, "Content-Encoding: gzip");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    for (size_t i = 0; i < c->count && bench_now_s() < c->deadline; i++) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->bodies[i].data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->bodies[i].len);
        double t0 = bench_now_s();
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        c->latency_ms[c->sent++] = (bench_now_s() - t0) * 1e3;
        if (rc == CURLE_OK && status == 200)
            c->ok++;
        else
            c->failed++;
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

static void *prepare(void *arg)
{
    client_t *c = arg;
    for (size_t i = 0; i < c->count; i++)
        c->bodies[i] = make_batch(c->id, i);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            opt.batches = 1000;
            opt.seconds = 10;
        } else if (!strcmp(a, "--no-gzip")) {
            opt.gzip = 0;
        } else if (v && !strcmp(a, "--clients")) {
            opt.clients = atoi(v), i++;
        } else if (v && !strcmp(a, "--batches")) {
            opt.batches = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--seconds")) {
            opt.seconds = atof(v), i++;
        } else if (v && !strcmp(a, "--windows")) {
            opt.windows = atoi(v), i++;
        } else if (v && !strcmp(a, "--per-window")) {
            opt.per_window = atoi(v), i++;
        } else if (v && !strcmp(a, "--db")) {
            opt.db = v, i++;
        } else if (v && !strcmp(a, "--threads")) {
            opt.threads = atoi(v), i++;
        } else {
            fprintf(stderr, "usage: ingest [--clients N] [--batches N] [--seconds S] "
                            "[--windows N] [--per-window N] [--no-gzip] [--db PATH|URL] [--quick] "
                            "[--threads N]\n");
            return 2;
        }
    }
    if (opt.clients < 1 || opt.clients > 1024 || opt.windows < 1 || opt.per_window < 1 ||
        opt.threads < 1 || opt.threads > 64 || opt.batches < (size_t)opt.clients) {
        fprintf(stderr, "ingest: bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/memgauge-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char dbpath[600];
    snprintf(dbpath, sizeof dbpath, "%s/bench.db", dir);
    const char *db = opt.db ? opt.db : dbpath;

    client_t *c = calloc((size_t)opt.clients, sizeof *c);
    for (int i = 0; i < opt.clients; i++) {
        c[i].id = i + 1;
        c[i].count = opt.batches / (size_t)opt.clients;
        c[i].bodies = calloc(c[i].count, sizeof(body_t));
        c[i].latency_ms = calloc(c[i].count, sizeof(double));
        pthread_create(&c[i].thread, NULL, prepare, &c[i]);
    }
    size_t bytes = 0, planned = 0;
    for (int i = 0; i < opt.clients; i++) {
        pthread_join(c[i].thread, NULL);
        for (size_t k = 0; k < c[i].count; k++)
            bytes += c[i].bodies[k].len;
        planned += c[i].count;
    }
    size_t per_batch = (size_t)opt.windows * (size_t)opt.per_window;
    printf("ingest: %d clients, %zu batches of %zu samples (%d windows x %d), %s, %.0f bytes per "
           "batch on the wire (%.2f bytes per sample)\n",
           opt.clients, planned, per_batch, opt.windows, opt.per_window,
           opt.gzip ? "gzip" : "plain JSON", (double)bytes / (double)planned,
           (double)bytes / (double)(planned * per_batch));

    /* what the database held before: the run may add to a loaded one (bench/scale) */
    memgauge__store_counts_t before = {0};
    if (opt.db) {
        char err0[256];
        memgauge__store_t *st0 = memgauge__store_open(db, NULL, err0, sizeof err0);
        if (!st0 || st0->ops->counts(st0, &before)) {
            fprintf(stderr, "ingest: cannot read the database: %s\n", st0 ? st0->error : err0);
            return 1;
        }
        st0->ops->close(st0);
    }
    int port;
    char threads[16], conns[16];
    snprintf(threads, sizeof threads, "%d", opt.threads);
    snprintf(conns, sizeof conns, "%d", opt.threads > 4 ? opt.threads : 4);
    const char *const extra[] = {"--threads", threads, "--pg-conns", conns, NULL};
    pid_t pid = bench_start_collector("ingest", db, dir, extra, &port);
    double start = bench_now_s();
    for (int i = 0; i < opt.clients; i++) {
        c[i].port = port;
        c[i].deadline = start + opt.seconds;
        pthread_create(&c[i].thread, NULL, client_main, &c[i]);
    }
    size_t sent = 0, ok = 0, failed = 0;
    for (int i = 0; i < opt.clients; i++) {
        pthread_join(c[i].thread, NULL);
        sent += c[i].sent;
        ok += c[i].ok;
        failed += c[i].failed;
    }
    double elapsed = bench_now_s() - start;
    double *all = malloc((sent + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < opt.clients; i++)
        for (size_t j = 0; j < c[i].sent; j++)
            all[k++] = c[i].latency_ms[j];
    qsort(all, k, sizeof *all, bench_cmp_double);
    kill(pid, SIGTERM);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    double cpu_user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    double cpu_sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

    char err[256];
    memgauge__store_t *st = memgauge__store_open(db, NULL, err, sizeof err);
    memgauge__store_counts_t counts = {0};
    if (!st || st->ops->counts(st, &counts)) {
        fprintf(stderr, "ingest: cannot read the database back: %s\n", st ? st->error : err);
        return 1;
    }
    st->ops->close(st);
    uint64_t samples_sent = (uint64_t)ok * per_batch;
    printf("ingest: %zu batches acknowledged in %.2f s, %zu failed\n", ok, elapsed, failed);
    printf("ingest: %.0f batches/s, %.0f samples stored/s, %.1f MB/s on the wire\n",
           (double)ok / elapsed, (double)samples_sent / elapsed,
           (double)bytes / (double)planned * (double)sent / elapsed / 1e6);
    printf("ingest: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           all[k * 50 / 100], all[k * 90 / 100], all[k * 99 / 100], all[k - 1]);
    printf("ingest: collector CPU %.2f s user + %.2f s system = %.0f%% of one core over the run\n",
           cpu_user, cpu_sys, (cpu_user + cpu_sys) / elapsed * 100);
    counts.batches -= before.batches;
    counts.samples -= before.samples;
    int same = counts.batches == ok && counts.samples == samples_sent;
    printf("ingest: stored %llu batches / %llu samples, sent %zu / %llu: %s\n",
           (unsigned long long)counts.batches, (unsigned long long)counts.samples, ok,
           (unsigned long long)samples_sent, same ? "stored == sent" : "MISMATCH");
    for (int i = 0; i < opt.clients; i++) {
        for (size_t j = 0; j < c[i].count; j++)
            free(c[i].bodies[j].data);
        free(c[i].bodies);
        free(c[i].latency_ms);
    }
    free(c);
    free(all);
    if (!opt.db) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "ingest: could not remove %s\n", dir);
    }
    curl_global_cleanup();
    return same && failed == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
