/* collector/bench/scale: the collector at fleet scale. Loads N one-minute sessions
 * (default 1,000,000) into a fresh SQLite file and/or PostgreSQL database --
 * straight through the store layer (ops->put_batch, the code ingest runs
 * after parsing, one transaction per batch) because HTTP would make loading
 * a million sessions take an hour -- then starts the real memgauge-collector
 * on it and measures over HTTP what the dashboard asks:
 *   /v1/stats of the biggest version (p99 target <= 50 ms),
 *   the overview's requests together (/v1/apps + /v1/stats per version,
 *     sequentially; <= 200 ms),
 *   /v1/sessions pages at any depth by cursor (<= 50 ms; OFFSET for comparison),
 *   storage bytes per session,
 * and then runs bench/ingest against the loaded database (default shape 6
 * windows of 10 samples, 32 clients; goal >= 10,000 batches/s).
 * Prints PASS or MISS per target. Not a test: it takes minutes.
 *
 *   build/collector/bench/scale [--sessions N] [--sqlite-only | --pg URL [--pg-only]]
 *       [--dir DIR] [--ingest-batches N] [--reps N] [--keep] [--loaded DB]
 * (--reps: requests per measured query, default 50; --loaded: measure a SQLite file a
 * --keep run loaded, or a PostgreSQL database a run loaded, with the same --sessions)
 */
#include "bench_harness.h"
#include "store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS 86400000ull
#define VERSIONS 4
#define DEVICES 24
#define OSES 6
#define DAYS 30

static struct {
    size_t sessions, ingest_batches;
    const char *pg, *dir, *loaded;
    int sqlite, keep, reps;
} opt = {1000000, 20000, NULL, "/tmp", NULL, 1, 0, 50};

/* Version weights: the newest release holds half the fleet. */
static const char *const versions[VERSIONS] = {"1.8.0", "1.9.0", "2.0.0", "2.1.0"};
static int version_of(uint64_t r)
{
    unsigned p = (unsigned)(r % 100);
    return p < 10 ? 0 : p < 25 ? 1 : p < 50 ? 2 : 3;
}

static uint64_t start0;

/* Session i: one batch of 6 windows of 10 samples at 1 Hz (a one-minute
 * session); every 50th judges the session before it out of memory. */
static void make_session(size_t i, memgauge__batch_t *b, memgauge__window_t w[6],
                         memgauge__event_t *e)
{
    uint64_t rnd = 0x9E3779B97F4A7C15ull ^ (i * 0x100000001b3ull);
    bench_next_rand(&rnd);
    memset(b, 0, sizeof *b);
    snprintf(b->batch_id, sizeof b->batch_id, "5ca1e000-0000-4000-8000-%012llx",
             (unsigned long long)(i & 0xffffffffffffull));
    snprintf(b->session_id, sizeof b->session_id, "5e5510e0-0000-4000-8000-%012llx",
             (unsigned long long)(i & 0xffffffffffffull));
    snprintf(b->sdk_name, sizeof b->sdk_name, "memgauge");
    snprintf(b->sdk_version, sizeof b->sdk_version, "0.3.0");
    snprintf(b->app_id, sizeof b->app_id, "com.example.fleet");
    snprintf(b->app_version, sizeof b->app_version, "%s",
             versions[version_of(bench_next_rand(&rnd))]);
    snprintf(b->app_build, sizeof b->app_build, "1");
    snprintf(b->device_model, sizeof b->device_model, "iPhone%u,%u",
             10 + (unsigned)(bench_next_rand(&rnd) % (DEVICES / 2)), 1 + (unsigned)(i % 2));
    snprintf(b->os_name, sizeof b->os_name, "iOS");
    snprintf(b->os_version, sizeof b->os_version, "17.%u",
             (unsigned)(bench_next_rand(&rnd) % OSES));
    /* spread over the last DAYS days, in order of i */
    b->session_start_unix_ms =
        start0 + (uint64_t)((double)i / (double)opt.sessions * (double)(DAYS * DAY_MS));
    b->sent_unix_ms = b->session_start_unix_ms + 60000;
    b->interval_ms = 1000;
    b->metric = MEMGAUGE__METRIC_PHYS_FOOTPRINT;
    uint64_t limit = (2ull + bench_next_rand(&rnd) % 5) << 30;
    /* log-uniform-ish peaks, 80 MB .. 1.5 GB */
    uint64_t fp =
        80000000ull + (bench_next_rand(&rnd) % 1000) * (bench_next_rand(&rnd) % 1420) * 1000;
    for (int k = 0; k < 6; k++) {
        memgauge__window_t *x = &w[k];
        memset(x, 0, sizeof *x);
        memgauge__series_alloc(&x->series, 10, 0, 0);
        x->series.unit_bytes = 16384;
        uint64_t mn = UINT64_MAX, mx = 0, sum = 0;
        for (int s = 0; s < 10; s++) {
            fp += (bench_next_rand(&rnd) % 9) * 16384;
            fp -= (bench_next_rand(&rnd) % 8) * 16384;
            fp -= fp % 16384;
            x->series.t_ms[s] = (uint64_t)(k * 10 + s) * 1000;
            x->series.footprint[s] = fp;
            mn = fp < mn ? fp : mn;
            mx = fp > mx ? fp : mx;
            sum += fp;
        }
        x->series.n = 10;
        x->has_series = 1;
        x->start_ms = (uint64_t)k * 10000;
        x->end_ms = x->start_ms + 9000;
        x->samples = 10;
        x->first = x->series.footprint[0];
        x->last = x->series.footprint[9];
        x->min = mn;
        x->max = x->peak = x->kernel_peak = mx;
        x->mean = sum / 10;
        x->limit = limit;
        x->headroom = limit - mx;
        x->metric = b->metric;
        b->total_samples += 10;
    }
    b->window_count = 6;
    b->windows = w;
    if (i % 50 == 1) {
        memset(e, 0, sizeof *e);
        e->kind = MEMGAUGE__EVENT_PREVIOUS_SESSION;
        snprintf(e->session_id, sizeof e->session_id, "5e5510e0-0000-4000-8000-%012llx",
                 (unsigned long long)((i - 1) & 0xffffffffffffull));
        snprintf(e->verdict, sizeof e->verdict, "oom_suspected");
        snprintf(e->grade, sizeof e->grade, i % 100 == 1 ? "high" : "low");
        e->start_unix_ms = b->session_start_unix_ms - 60000;
        e->ended_ms = 59000;
        e->limit = limit;
        b->events = e;
        b->event_count = 1;
    }
}

typedef struct loader_s {
    memgauge__store_t *st;
    size_t first, step;
    _Atomic size_t done;
    int failed;
    pthread_t thread;
} loader_t;

static void *load_part(void *arg)
{
    loader_t *l = arg;
    for (size_t i = l->first; i < opt.sessions && !l->failed; i += l->step) {
        memgauge__batch_t b;
        memgauge__window_t w[6];
        memgauge__event_t e;
        make_session(i, &b, w, &e);
        memgauge__put_result_t res;
        int rc;
        while ((rc = l->st->ops->put_batch(l->st, &b, b.sent_unix_ms, &res)) ==
               MEMGAUGE__STORE_BUSY)
            ; /* another loader held a lock past the write wait: as an SDK would, retry */
        for (int k = 0; k < 6; k++)
            memgauge__series_clear(&w[k].series);
        if (rc) {
            fprintf(stderr, "scale: session %zu: %s\n", i, memgauge__store_error(l->st));
            l->failed = 1;
        }
        atomic_fetch_add_explicit(&l->done, 1, memory_order_relaxed);
    }
    return NULL;
}

/* SQLite has one writer: one loader. PostgreSQL: four, on four connections. */
static int load(const char *db)
{
    char err[256];
    int pg = !strncmp(db, "postgres", 8), threads = pg ? 4 : 1;
    memgauge__store_options_t so = {.pg_conns = (unsigned)threads};
    memgauge__store_t *st = memgauge__store_open(db, &so, err, sizeof err);
    if (!st) {
        fprintf(stderr, "scale: %s\n", err);
        return -1;
    }
    double t0 = bench_now_s();
    loader_t l[4];
    for (int i = 0; i < threads; i++) {
        l[i] = (loader_t){.st = st, .first = (size_t)i, .step = (size_t)threads};
        pthread_create(&l[i].thread, NULL, load_part, &l[i]);
    }
    for (;;) {
        size_t done = 0;
        int running = 0;
        for (int i = 0; i < threads; i++) {
            done += atomic_load_explicit(&l[i].done, memory_order_relaxed);
            running |= !l[i].failed;
        }
        if (done >= opt.sessions || !running)
            break;
        sleep(1);
        if ((int)(bench_now_s() - t0) % 30 == 0)
            fprintf(stderr, "scale: %zu sessions loaded, %.0f/s\n", done,
                    (double)done / (bench_now_s() - t0));
    }
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(l[i].thread, NULL);
        failed |= l[i].failed;
    }
    if (failed) {
        st->ops->close(st);
        return -1;
    }
    double took = bench_now_s() - t0;
    if (strncmp(db, "postgres", 8)) { /* for --loaded: the sessions' times */
        char stamp[700];
        snprintf(stamp, sizeof stamp, "%s.start0", db);
        FILE *sf = fopen(stamp, "w");
        if (sf) {
            fprintf(sf, "%llu\n", (unsigned long long)start0);
            fclose(sf);
        }
    }
    printf("  loaded %zu sessions in %.0f s (%.0f sessions/s through the store layer, %d %s)\n",
           opt.sessions, took, (double)opt.sessions / took, threads,
           threads > 1 ? "threads" : "thread");
    st->ops->close(st);
    return 0;
}

typedef struct {
    char *p;
    size_t len;
} buf_t;

static size_t keep_body(char *p, size_t size, size_t n, void *u)
{
    buf_t *b = u;
    char *more = realloc(b->p, b->len + size * n + 1);
    if (!more)
        return 0;
    memcpy(more + b->len, p, size * n);
    b->p = more;
    b->len += size * n;
    b->p[b->len] = '\0';
    return size * n;
}

static CURL *h;
static int port;

/* One GET; returns milliseconds, the body in *body (may be NULL). */
static double get(const char *path, char **body)
{
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf_t b = {NULL, 0};
    struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer " BENCH_READ_TOKEN);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    double t0 = bench_now_s();
    CURLcode rc = curl_easy_perform(h);
    double ms = (bench_now_s() - t0) * 1000;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "scale: GET %s: %s %ld %s\n", path, curl_easy_strerror(rc), status,
                b.p ? b.p : "");
        exit(1);
    }
    if (body)
        *body = b.p;
    else
        free(b.p);
    return ms;
}

static int verdict(const char *what, double v, double target)
{
    printf("  %-46s %9.1f ms  (target <= %.0f ms)  %s\n", what, v, target,
           v <= target ? "PASS" : "MISS");
    return v <= target;
}

/* p99 of `reps` runs of one GET. */
static double p99_of(const char *path, int reps)
{
    double *t = malloc((size_t)reps * sizeof *t);
    for (int i = 0; i < reps; i++)
        t[i] = get(path, NULL);
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    double p =
        t[(size_t)reps * 99 / 100 < (size_t)reps ? (size_t)reps * 99 / 100 : (size_t)reps - 1];
    free(t);
    return p;
}

static uint64_t storage_bytes(const char *db)
{
    if (strncmp(db, "postgres", 8)) {
        uint64_t total = 0;
        const char *ext[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char p[600];
            struct stat sb;
            snprintf(p, sizeof p, "%s%s", db, ext[i]);
            if (!stat(p, &sb))
                total += (uint64_t)sb.st_size;
        }
        return total;
    }
    char cmd[800];
    snprintf(cmd, sizeof cmd, "psql -qtA '%s' -c 'SELECT pg_database_size(current_database())'",
             db);
    FILE *f = popen(cmd, "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        pclose(f);
    }
    return v;
}

static int measure(const char *db, const char *dir)
{
    int passed = 0, targets = 0;
    pid_t pid = bench_start_collector("scale", db, dir, NULL, &port);
    h = curl_easy_init();
    char path[512];
    /* biggest version: 2.1.0 (half the fleet) */
    snprintf(path, sizeof path, "/v1/stats?app=com.example.fleet&version=2.1.0");
    get(path, NULL); /* warm the cache */
    targets++,
        passed += verdict("/v1/stats, biggest version, p99 of 50", p99_of(path, opt.reps), 50);
    snprintf(path, sizeof path,
             "/v1/stats?app=com.example.fleet&version=2.1.0&from_day=%s&to_day=%s", "2000-01-01",
             "2100-01-01");
    targets++,
        passed += verdict("/v1/stats with a day range, p99 of 50", p99_of(path, opt.reps), 50);
    /* the overview: /v1/apps, then /v1/stats of every version */
    int orep = opt.reps < 20 ? opt.reps : 20;
    double *ov = malloc((size_t)orep * sizeof *ov);
    for (int r = 0; r < orep; r++) {
        double t = get("/v1/apps", NULL);
        for (int v = 0; v < VERSIONS; v++) {
            snprintf(path, sizeof path, "/v1/stats?app=com.example.fleet&version=%s", versions[v]);
            t += get(path, NULL);
        }
        ov[r] = t;
    }
    qsort(ov, (size_t)orep, sizeof *ov, bench_cmp_double);
    targets++,
        passed += verdict("overview: /v1/apps + 4 x /v1/stats, worst of 20", ov[orep - 1], 200);
    free(ov);
    /* session pages: first, and by cursor at depths through the list */
    targets++, passed += verdict("/v1/sessions first page (100), p99 of 50",
                                 p99_of("/v1/sessions?app=com.example.fleet", opt.reps), 50);
    double worst = 0;
    size_t depths[] = {opt.sessions / 10, opt.sessions / 2, opt.sessions - 200};
    for (int d = 0; d < 3; d++) {
        /* the cursor of the session at this depth (newest first) */
        size_t i = opt.sessions - 1 - depths[d];
        memgauge__batch_t b;
        memgauge__window_t w[6];
        memgauge__event_t e;
        make_session(i, &b, w, &e);
        for (int k = 0; k < 6; k++)
            memgauge__series_clear(&w[k].series);
        snprintf(path, sizeof path, "/v1/sessions?app=com.example.fleet&cursor=%llu.%s",
                 (unsigned long long)b.session_start_unix_ms, b.session_id);
        double t = p99_of(path, 20);
        worst = t > worst ? t : worst;
        snprintf(
            path, sizeof path,
            "/v1/sessions?app=com.example.fleet&version=2.1.0&device=iPhone12,1&cursor=%llu.%s",
            (unsigned long long)b.session_start_unix_ms, b.session_id);
        t = p99_of(path, 20);
        worst = t > worst ? t : worst;
    }
    targets++, passed += verdict("/v1/sessions by cursor at 10/50/100 % depth", worst, 50);
    snprintf(path, sizeof path, "/v1/sessions?app=com.example.fleet&offset=%zu", opt.sessions / 5);
    printf("  %-46s %9.1f ms  (old clients; not a target)\n",
           "/v1/sessions by offset at 20 % depth", p99_of(path, 5));
    curl_easy_cleanup(h);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    uint64_t bytes = storage_bytes(db);
    printf("  storage: %.1f MB, %.0f bytes per session (60 samples each)\n", (double)bytes / 1e6,
           (double)bytes / (double)opt.sessions);

    /* ingest with the sessions already stored: bench/ingest on this database */
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s/ingest' --db '%s' --windows 6 --per-window 10 --batches %zu --clients 32 "
             "--seconds 120 2>&1",
             BENCH_DIR, db, opt.ingest_batches);
    FILE *f = popen(cmd, "r");
    char line[512];
    double rate = 0;
    while (f && fgets(line, sizeof line, f)) {
        printf("    %s", line);
        double r;
        if (sscanf(line, "ingest: %lf batches/s", &r) == 1)
            rate = r;
    }
    if (f)
        pclose(f);
    printf("  %-46s %9.0f /s  (goal >= 10000)  %s\n", "ingest batches/s, sessions stored", rate,
           rate >= 10000 ? "PASS" : "MISS");
    targets++, passed += rate >= 10000;
    printf("  %d of %d targets met\n", passed, targets);
    return passed == targets ? 0 : 1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(a, "--sessions"))
            opt.sessions = strtoull(v, NULL, 10), i++;
        else if (v && !strcmp(a, "--pg"))
            opt.pg = v, i++;
        else if (v && !strcmp(a, "--dir"))
            opt.dir = v, i++;
        else if (v && !strcmp(a, "--ingest-batches"))
            opt.ingest_batches = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--pg-only"))
            opt.sqlite = 0;
        else if (!strcmp(a, "--sqlite-only"))
            opt.pg = NULL;
        else if (v && !strcmp(a, "--loaded"))
            opt.loaded = v, i++;
        else if (v && !strcmp(a, "--reps"))
            opt.reps = atoi(v), i++;
        else if (!strcmp(a, "--keep"))
            opt.keep = 1;
        else {
            fprintf(stderr, "usage: scale [--sessions N] [--pg URL [--pg-only]] [--sqlite-only] "
                            "[--dir DIR] [--ingest-batches N] [--keep]\n");
            return 2;
        }
    }
    if (opt.sessions < 1000) {
        fprintf(stderr, "scale: --sessions: at least 1000\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* sessions end a day before now: none is past --retention-days */
    start0 = (uint64_t)time(NULL) * 1000 - (DAYS + 1) * DAY_MS;
    int rc = 0;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/memgauge-scale-XXXXXX", opt.dir);
    if (!mkdtemp(dir)) {
        perror("scale: mkdtemp");
        return 1;
    }
    if (opt.loaded) { /* a database a --keep run loaded with the same --sessions */
        unsigned long long t0 = 0;
        snprintf(dir, sizeof dir, "%s", opt.dir);
        char stamp[800];
        /* session 0 started at start0 */
        snprintf(stamp, sizeof stamp,
                 !strncmp(opt.loaded, "postgres", 8)
                     ? "psql -qtA '%s' -c \"SELECT min(start_unix_ms) FROM sessions WHERE "
                       "app_id = 'com.example.fleet'\""
                     : "cat '%s.start0'",
                 opt.loaded);
        FILE *sf = popen(stamp, "r");
        if (!sf || fscanf(sf, "%llu", &t0) != 1) {
            fprintf(stderr, "scale: --loaded: cannot read when its sessions started\n");
            return 1;
        }
        pclose(sf);
        start0 = t0;
        printf("scale: %zu sessions already in %s\n", opt.sessions, opt.loaded);
        return measure(opt.loaded, dir);
    }
    if (opt.sqlite) {
        char db[600];
        snprintf(db, sizeof db, "%s/scale.db", dir);
        printf("scale: SQLite, %zu sessions (%s)\n", opt.sessions, db);
        rc |= load(db) || measure(db, dir);
    }
    if (opt.pg) {
        printf("scale: PostgreSQL, %zu sessions (%s)\n", opt.sessions, opt.pg);
        rc |= load(opt.pg) || measure(opt.pg, dir);
    }
    if (!opt.keep) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "scale: could not remove %s\n", dir);
    }
    curl_global_cleanup();
    return rc;
}
