/* collector/bench/ingest: load generator for memgauge-collector. Starts the real
 * collector on a fresh SQLite database (or on --db), has N client threads
 * (default 32) post realistic gzip'd wire-format v1 batches over keep-alive
 * connections, then prints samples stored per second, batches per second and
 * latency percentiles, and checks that what the database holds equals what
 * was sent and that the rollups count every new session once. Bounded in
 * batches and in seconds.
 *
 * --collectors 1,2 (PostgreSQL only) runs the same batches once per count,
 * each time on a new database of the --db server (its role must be allowed
 * to create databases; one whose checks pass is dropped after): N collector
 * processes, the clients spreading their batches over them round robin as a
 * load balancer would, 1 batch in --resend-every sent to two collectors at
 * once (a retry through another collector), then the figures per collector
 * and against the first count, and PASS/MISS for: every batch stored once,
 * every duplicate answered as one, the rollups exact. Exits 1 on a MISS.
 *
 *   build/collector/bench/ingest [--clients 32] [--batches 20000] [--seconds 60]
 *       [--windows 10] [--per-window 100] [--no-gzip] [--db PATH|URL] [--quick]
 *       [--threads 2]   (the collector's HTTP threads, and its PostgreSQL connections)
 *       [--collectors N[,N...] --db postgres://... [--resend-every 10]]
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
#define MAX_COLLECTORS 8
#define MAX_PHASES 8
#define APP_ID "com.example.photos" /* every batch's app */
/* a 503 (another collector held a lock past the write wait) is retried as
 * the SDK would, through the next collector */
#define BUSY_TRIES 50
#define BUSY_WAIT_US 20000
#define ANSWER_MAX 512 /* what is kept of an answer's body */

typedef struct body_s {
    unsigned char *data;
    size_t len;
} body_t;

/* one keep-alive exchange with one collector */
typedef struct slot_s {
    CURL *h;
    int at; /* which collector */
    int rc; /* the CURLcode, -1 while under way */
    char answer[ANSWER_MAX];
    size_t len;
} slot_t;

typedef struct latency_s {
    float ms;
    int at; /* which collector answered */
} latency_t;

typedef struct client_s {
    pthread_t thread;
    int id;
    size_t count; /* batches this client sends */
    body_t *bodies;
    latency_t *latency; /* 2 * count: the first exchange of each send */
    size_t nlatency;
    size_t sent, ok, failed;                /* batches */
    size_t requests, resends, busy_retries; /* exchanges */
    size_t answered_stored, answered_duplicate;
    size_t answered_busy, answered_other; /* 503; anything else but 200, or no answer */
    size_t ok_at[MAX_COLLECTORS];         /* 200 answers per collector */
    double deadline;                      /* monotonic seconds */
} client_t;

static struct {
    int clients, windows, per_window, gzip, threads;
    size_t batches;
    double seconds;
    const char *db;
    int phases, collectors[MAX_PHASES]; /* --collectors; phases 0 = one collector on db */
    size_t resend_every;
} opt = {32, 10, 100, 1, 2, 20000, 60, NULL, 0, {0}, 10};

/* the collectors of the phase under way */
static int ports[MAX_COLLECTORS], ncollectors;
static pid_t pids[MAX_COLLECTORS];
static size_t resend_every; /* 0 = none */

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

static size_t keep_answer(char *p, size_t size, size_t n, void *u)
{
    slot_t *s = u;
    size_t k = size * n, room = sizeof s->answer - 1 - s->len;
    memcpy(s->answer + s->len, p, k < room ? k : room);
    s->len += k < room ? k : room;
    s->answer[s->len] = 0;
    return size * n;
}

/* Posts body through the n slots at the same time and fills status[i]
 * (0 when the exchange failed). */
static void exchange(CURLM *m, slot_t **s, int n, const body_t *body, long *status)
{
    for (int i = 0; i < n; i++) {
        s[i]->len = 0;
        s[i]->answer[0] = 0;
        s[i]->rc = -1;
        curl_easy_setopt(s[i]->h, CURLOPT_POSTFIELDS, body->data);
        curl_easy_setopt(s[i]->h, CURLOPT_POSTFIELDSIZE, (long)body->len);
        curl_multi_add_handle(m, s[i]->h);
    }
    int running = n;
    while (running > 0) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
        for (int i = 0; i < n; i++)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s[i]->h)
                s[i]->rc = (int)msg->data.result;
    for (int i = 0; i < n; i++) {
        status[i] = 0;
        if (s[i]->rc == CURLE_OK)
            curl_easy_getinfo(s[i]->h, CURLINFO_RESPONSE_CODE, &status[i]);
        curl_multi_remove_handle(m, s[i]->h);
    }
}

static CURL *open_slot(slot_t *s, int at, struct curl_slist *hd)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/reports", ports[at]);
    s->at = at;
    s->h = curl_easy_init();
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
    return s->h;
}

/* Counts what the n exchanges answered; 1 when one of them stored or had stored the batch. */
static int tally(client_t *c, slot_t **s, int n, const long *status, int timed)
{
    int acked = 0;
    for (int i = 0; i < n; i++) {
        c->requests++;
        if (timed) {
            curl_off_t us = 0;
            curl_easy_getinfo(s[i]->h, CURLINFO_TOTAL_TIME_T, &us);
            c->latency[c->nlatency++] = (latency_t){(float)us / 1e3f, s[i]->at};
        }
        if (status[i] != 200) {
            status[i] == 503 ? c->answered_busy++ : c->answered_other++;
            continue;
        }
        acked = 1;
        c->ok_at[s[i]->at]++;
        if (strstr(s[i]->answer, "\"duplicate\""))
            c->answered_duplicate++;
        else
            c->answered_stored++;
    }
    return acked;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    CURLM *m = curl_multi_init();
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Authorization: Bearer " BENCH_KEY);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    if (opt.gzip)
        hd = curl_slist_append(hd, "Content-Encoding: gzip");
    hd = curl_slist_append(hd, "Expect:");
    /* first sends and resends on separate handles: with one collector both go to it */
    slot_t first[MAX_COLLECTORS], again[MAX_COLLECTORS];
    for (int k = 0; k < ncollectors; k++) {
        open_slot(&first[k], k, hd);
        open_slot(&again[k], k, hd);
    }
    for (size_t i = 0; i < c->count && bench_now_s() < c->deadline; i++) {
        int at = (int)(((size_t)c->id + i) % (size_t)ncollectors); /* round robin */
        int n = resend_every && i % resend_every == resend_every - 1 ? 2 : 1;
        slot_t *s[2] = {&first[at], &again[(at + 1) % ncollectors]};
        long status[2];
        exchange(m, s, n, &c->bodies[i], status);
        c->sent++;
        c->resends += (size_t)n - 1;
        int acked = tally(c, s, n, status, 1);
        int busy = status[0] == 503 || (n == 2 && status[1] == 503);
        for (int tries = 0; !acked && busy && tries < BUSY_TRIES; tries++) {
            usleep(BUSY_WAIT_US);
            at = (at + 1) % ncollectors;
            s[0] = &first[at];
            exchange(m, s, 1, &c->bodies[i], status);
            c->busy_retries++;
            acked = tally(c, s, 1, status, 0);
            busy = status[0] == 503;
        }
        acked ? c->ok++ : c->failed++;
    }
    for (int k = 0; k < ncollectors; k++) {
        curl_easy_cleanup(first[k].h);
        curl_easy_cleanup(again[k].h);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hd);
    return NULL;
}

static void *prepare(void *arg)
{
    client_t *c = arg;
    for (size_t i = 0; i < c->count; i++)
        c->bodies[i] = make_batch(c->id, i);
    return NULL;
}

static void stop_collectors_at_exit(void)
{
    for (int k = 0; k < ncollectors; k++)
        if (pids[k] > 0)
            kill(pids[k], SIGKILL);
}

/* What the database holds: row counts and the app's rollups summed. */
typedef struct held_s {
    memgauge__store_counts_t counts;
    int64_t rollup_sessions, rollup_with_data, rollup_peaks;
} held_t;

static int read_held(const char *db, held_t *out)
{
    char err[256];
    memgauge__store_t *st = memgauge__store_open(db, NULL, err, sizeof err);
    if (!st) {
        fprintf(stderr, "ingest: cannot read the database: %s\n", err);
        return -1;
    }
    memgauge__rollup_filter_t f = {.app_id = APP_ID, .from_day = INT64_MIN, .to_day = INT64_MAX};
    memgauge__rollup_t *rows = NULL, all = {0};
    size_t n = 0;
    int rc = st->ops->counts(st, &out->counts);
    if (rc == 0)
        rc = st->ops->rollups(st, &f, &rows, &n);
    if (rc)
        fprintf(stderr, "ingest: cannot read the database: %s\n", st->error);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = memgauge__rollup_merge(&all, &rows[i]);
    memgauge__rollup_rows_free(rows, n);
    out->rollup_sessions = all.sessions;
    out->rollup_with_data = all.with_data;
    out->rollup_peaks = all.peaks.total;
    memgauge__rollup_clear(&all);
    st->ops->close(st);
    return rc ? -1 : 0;
}

static double cpu_seconds(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

typedef struct phase_s {
    int collectors;
    double batches_per_s, p50, p99;
    int pass;
} phase_t;

static const char *verdict(int ok)
{
    return ok ? "PASS" : "MISS";
}

/* One run of every client's batches against `collectors` collectors on db;
 * prints its figures and checks. */
static phase_t run_phase(client_t *c, const char *db, const char *dir, int collectors, size_t bytes,
                         size_t planned)
{
    phase_t ph = {collectors, 0, 0, 0, 0};
    held_t before = {0}, after = {0};
    /* what the database held before: the run may add to a loaded one (bench/scale) */
    if (opt.db && read_held(db, &before))
        exit(1);
    char threads[16], conns[16];
    snprintf(threads, sizeof threads, "%d", opt.threads);
    snprintf(conns, sizeof conns, "%d", opt.threads > 4 ? opt.threads : 4);
    const char *const extra[] = {"--threads", threads, "--pg-conns", conns, NULL};
    ncollectors = collectors;
    for (int k = 0; k < collectors; k++) {
        char sub[600];
        snprintf(sub, sizeof sub, "%s/collector-%d", dir, k + 1);
        mkdir(sub, 0700);
        pids[k] = bench_start_collector("ingest", db, sub, extra, &ports[k]);
    }
    unsigned long long busy0, total0, busy1, total1;
    int ticks = bench_machine_ticks(&busy0, &total0);
    struct rusage self0, self1;
    getrusage(RUSAGE_SELF, &self0);
    double start = bench_now_s();
    for (int i = 0; i < opt.clients; i++) {
        client_t *ci = &c[i];
        ci->deadline = start + opt.seconds;
        ci->nlatency = ci->sent = ci->ok = ci->failed = 0;
        ci->requests = ci->resends = ci->busy_retries = 0;
        ci->answered_stored = ci->answered_duplicate = ci->answered_busy = ci->answered_other = 0;
        memset(ci->ok_at, 0, sizeof ci->ok_at);
        pthread_create(&ci->thread, NULL, client_main, ci);
    }
    size_t ok = 0, failed = 0, requests = 0, resends = 0, busy = 0, stored = 0, dup = 0;
    size_t answered_busy = 0, other = 0;
    size_t ok_at[MAX_COLLECTORS] = {0}, nlat = 0;
    for (int i = 0; i < opt.clients; i++) {
        pthread_join(c[i].thread, NULL);
        ok += c[i].ok;
        failed += c[i].failed;
        requests += c[i].requests;
        resends += c[i].resends;
        busy += c[i].busy_retries;
        stored += c[i].answered_stored;
        dup += c[i].answered_duplicate;
        answered_busy += c[i].answered_busy;
        other += c[i].answered_other;
        nlat += c[i].nlatency;
        for (int k = 0; k < collectors; k++)
            ok_at[k] += c[i].ok_at[k];
    }
    double elapsed = bench_now_s() - start;
    ticks &= bench_machine_ticks(&busy1, &total1) && total1 > total0;
    getrusage(RUSAGE_SELF, &self1);
    double cpu_user = 0, cpu_sys = 0;
    int exited = 1;
    for (int k = 0; k < collectors; k++) {
        struct rusage ru;
        exited &= bench_stop_collector(pids[k], &ru);
        pids[k] = 0;
        cpu_user += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
        cpu_sys += (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    if (read_held(db, &after))
        exit(1);

    /* latencies: all of them, then per collector */
    double *all = malloc((nlat + 1) * sizeof *all), *mine = malloc((nlat + 1) * sizeof *mine);
    size_t k = 0;
    for (int i = 0; i < opt.clients; i++)
        for (size_t j = 0; j < c[i].nlatency; j++)
            all[k++] = c[i].latency[j].ms;
    all[k] = 0;
    qsort(all, k, sizeof *all, bench_cmp_double);
    size_t last = k ? k - 1 : 0;
    ph.p50 = all[k * 50 / 100];
    ph.p99 = all[k * 99 / 100];
    size_t per_batch = (size_t)opt.windows * (size_t)opt.per_window;
    uint64_t samples_sent = (uint64_t)ok * per_batch;
    ph.batches_per_s = (double)ok / elapsed;
    char resent[96] = "none sent twice";
    if (resend_every)
        snprintf(resent, sizeof resent, "1 in %zu also sent to the next collector at the same time",
                 resend_every);
    if (collectors > 1 || opt.phases)
        printf("ingest: %d collector%s on one database, batches round robin, %s\n", collectors,
               collectors > 1 ? "s" : "", resent);
    printf("ingest: %zu batches acknowledged in %.2f s, %zu failed\n", ok, elapsed, failed);
    printf("ingest: %.0f batches/s, %.0f samples stored/s, %.1f MB/s on the wire\n",
           ph.batches_per_s, (double)samples_sent / elapsed,
           (double)bytes / (double)planned * (double)requests / elapsed / 1e6);
    printf("ingest: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", ph.p50,
           all[k * 90 / 100], ph.p99, all[last]);
    for (int at = 0; collectors > 1 && at < collectors; at++) {
        size_t n = 0;
        for (int i = 0; i < opt.clients; i++)
            for (size_t j = 0; j < c[i].nlatency; j++)
                if (c[i].latency[j].at == at)
                    mine[n++] = c[i].latency[j].ms;
        mine[n] = 0;
        qsort(mine, n, sizeof *mine, bench_cmp_double);
        printf("ingest: collector %d: %zu answers, %.0f answers/s, latency p50 %.2f ms, p99 "
               "%.2f ms\n",
               at + 1, ok_at[at], (double)ok_at[at] / elapsed, mine[n * 50 / 100],
               mine[n * 99 / 100]);
    }
    printf(
        "ingest: collector%s CPU %.2f s user + %.2f s system = %.0f%% of one core over the run\n",
        collectors > 1 ? "s'" : "", cpu_user, cpu_sys, (cpu_user + cpu_sys) / elapsed * 100);
    /* what the collectors, the database and this load generator share */
    if (ticks) {
        double cores = (double)(busy1 - busy0) / (double)sysconf(_SC_CLK_TCK) / elapsed;
        double self = (cpu_seconds(&self1) - cpu_seconds(&self0)) / elapsed;
        double theirs = (cpu_user + cpu_sys) / elapsed;
        printf("ingest: machine CPU %.0f%% busy of %ld cores: %.2f cores, of which the "
               "collector%s %.2f, this load generator %.2f, the rest (PostgreSQL, other work) "
               "%.2f\n",
               (double)(busy1 - busy0) / (double)(total1 - total0) * 100,
               sysconf(_SC_NPROCESSORS_ONLN), cores, collectors > 1 ? "s" : "", theirs, self,
               cores - theirs - self);
    }

    uint64_t new_batches = after.counts.batches - before.counts.batches;
    uint64_t new_samples = after.counts.samples - before.counts.samples;
    uint64_t new_sessions = after.counts.sessions - before.counts.sessions;
    int64_t rollup_sessions = after.rollup_sessions - before.rollup_sessions;
    int64_t rollup_with_data = after.rollup_with_data - before.rollup_with_data;
    int64_t rollup_peaks = after.rollup_peaks - before.rollup_peaks;
    int same = new_batches == ok && new_samples == samples_sent;
    printf("ingest: stored %llu batches / %llu samples, sent %zu / %llu: %s\n",
           (unsigned long long)new_batches, (unsigned long long)new_samples, ok,
           (unsigned long long)samples_sent, same ? "stored == sent" : "MISMATCH");
    /* each batch is its own session: one rollup contribution each */
    int exact = (int64_t)new_sessions == (int64_t)ok && rollup_sessions == (int64_t)new_sessions &&
                rollup_with_data == rollup_sessions && rollup_peaks == rollup_sessions;
    /* one "stored" answer per batch, every other 200 a "duplicate", no error but 503 */
    int once = same && stored == ok && other == 0;
    if (collectors > 1 || opt.phases) {
        printf("ingest: %zu requests (%zu resends through a second collector, %zu retries after "
               "a 503); answered %zu \"stored\", %zu \"duplicate\", %zu 503, %zu other: each "
               "batch stored once %s\n",
               requests, resends, busy, stored, dup, answered_busy, other, verdict(once));
        printf("ingest: %llu new sessions, rollups count %lld sessions, %lld with data, %lld "
               "peaks: rollups exact %s\n",
               (unsigned long long)new_sessions, (long long)rollup_sessions,
               (long long)rollup_with_data, (long long)rollup_peaks, verdict(exact));
    } else if (!exact) {
        printf("ingest: %llu new sessions, rollups count %lld sessions, %lld peaks: MISMATCH\n",
               (unsigned long long)new_sessions, (long long)rollup_sessions,
               (long long)rollup_peaks);
    }
    ph.pass = same && once && exact && failed == 0 && exited;
    if (!exited)
        printf("ingest: a collector did not exit cleanly (see %s/collector-*/collector.log)\n",
               dir);
    free(all);
    free(mine);
    return ph;
}

static int parse_collectors(const char *v)
{
    char *end;
    opt.phases = 0;
    for (const char *p = v; *p; p = *end == ',' ? end + 1 : end) {
        long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > MAX_COLLECTORS || opt.phases == MAX_PHASES ||
            (*end && *end != ','))
            return -1;
        opt.collectors[opt.phases++] = (int)n;
    }
    return opt.phases ? 0 : -1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
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
        } else if (v && !strcmp(a, "--collectors")) {
            bad = parse_collectors(v), i++;
        } else if (v && !strcmp(a, "--resend-every")) {
            opt.resend_every = strtoull(v, NULL, 10), i++;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr,
                    "usage: ingest [--clients N] [--batches N] [--seconds S] [--windows N] "
                    "[--per-window N] [--no-gzip] [--db PATH|URL] [--quick] [--threads N] "
                    "[--collectors N[,N...] (1..%d) --db postgres://... [--resend-every N]]\n",
                    MAX_COLLECTORS);
            return 2;
        }
    }
    if (opt.clients < 1 || opt.clients > 1024 || opt.windows < 1 || opt.per_window < 1 ||
        opt.threads < 1 || opt.threads > 64 || opt.batches < (size_t)opt.clients) {
        fprintf(stderr, "ingest: bad arguments\n");
        return 2;
    }
    if (opt.phases && (!opt.db || !bench_is_pg(opt.db))) {
        fprintf(stderr, "ingest: --collectors needs --db postgres://...: several collectors share "
                        "only a PostgreSQL database (SQLite's one writer lives in one process)\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    atexit(stop_collectors_at_exit);
    char dir[] = "/tmp/memgauge-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char dbpath[600];
    snprintf(dbpath, sizeof dbpath, "%s/bench.db", dir);

    client_t *c = calloc((size_t)opt.clients, sizeof *c);
    for (int i = 0; i < opt.clients; i++) {
        c[i].id = i + 1;
        c[i].count = opt.batches / (size_t)opt.clients;
        c[i].bodies = calloc(c[i].count, sizeof(body_t));
        c[i].latency = calloc(2 * c[i].count, sizeof(latency_t));
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

    int pass = 1;
    if (!opt.phases) {
        resend_every = 0;
        pass = run_phase(c, opt.db ? opt.db : dbpath, dir, 1, bytes, planned).pass;
    } else {
        /* every count on a new database of the same server, the same batches */
        phase_t ph[MAX_PHASES];
        resend_every = opt.resend_every;
        for (int p = 0; p < opt.phases; p++) {
            char name[64];
            snprintf(name, sizeof name, "memgauge_ingest_%ld_%d", (long)getpid(), p + 1);
            char *db = bench_pg_create_db("ingest", opt.db, name);
            printf("ingest: -- %d collector%s, new database %s\n", opt.collectors[p],
                   opt.collectors[p] > 1 ? "s" : "", name);
            fflush(stdout);
            ph[p] = run_phase(c, db, dir, opt.collectors[p], bytes, planned);
            /* a database that failed a check is kept to be looked at */
            if (!ph[p].pass)
                printf("ingest: kept %s\n", db);
            else if (bench_pg_drop_db("ingest", opt.db, name))
                pass = 0;
            pass &= ph[p].pass;
            free(db);
        }
        printf("ingest: collectors  batches/s  vs first  p50 ms  p99 ms  checks\n");
        for (int p = 0; p < opt.phases; p++)
            printf("ingest: %10d %10.0f %8.2fx %7.2f %7.2f  %s\n", ph[p].collectors,
                   ph[p].batches_per_s, ph[p].batches_per_s / ph[0].batches_per_s, ph[p].p50,
                   ph[p].p99, verdict(ph[p].pass));
        printf("ingest: several collectors on one database: every batch stored once, rollups "
               "exact: %s\n",
               verdict(pass));
    }
    for (int i = 0; i < opt.clients; i++) {
        for (size_t j = 0; j < c[i].count; j++)
            free(c[i].bodies[j].data);
        free(c[i].bodies);
        free(c[i].latency);
    }
    free(c);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!pass) /* the collectors' logs */
        printf("ingest: kept %s\n", dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "ingest: could not remove %s\n", dir);
    curl_global_cleanup();
    return pass ? 0 : 1;
}
