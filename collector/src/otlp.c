/* The OTLP exporter's thread: oldest request first, one at a time. */
#include "otlp.h"

#include "clock.h"
#include "otlp_encode.h"
#include "otlp_queue.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

/* Verdicts handed from ingest to the exporter thread, which reads the
 * judged sessions' rows: a read may wait behind a dashboard query on the
 * store's read connection, and ingest must not. */
#define PENDING_MAX 256

typedef struct pending_s {
    memgauge__batch_t meta; /* the batch's strings only: no windows, no events */
    size_t n;
    memgauge__event_t events[MEMGAUGE__OTLP_JUDGED_MAX]; /* trails trimmed and owned */
    uint64_t trail_total[MEMGAUGE__OTLP_JUDGED_MAX];     /* their length before */
} pending_t;

struct memgauge__otlp_s {
    memgauge__otlp_queue_t queue;
    memgauge__store_t *store;
    pending_t *pending[PENDING_MAX]; /* a ring, under lock */
    size_t pending_head, pending_count;
    char *metrics_url, *logs_url;
    struct curl_slist *headers;
    pthread_t thread;
    pthread_mutex_t lock; /* with wake: new work or stop */
    pthread_cond_t wake;
    atomic_int stop;
    _Atomic uint64_t queued, sent, retried, rejected, encode_failed, judged_skipped;
};

uint64_t memgauge__otlp_backoff_ms(unsigned attempt, double r)
{
    uint64_t ms = MEMGAUGE__OTLP_BACKOFF_MIN_MS;
    for (unsigned i = 0; i < attempt && ms < MEMGAUGE__OTLP_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > MEMGAUGE__OTLP_BACKOFF_MAX_MS)
        ms = MEMGAUGE__OTLP_BACKOFF_MAX_MS;
    return (uint64_t)((double)ms * (0.5 + r / 2));
}

int memgauge__otlp_retryable(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static double random_unit(void)
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = (uint32_t)time(NULL) * 2654435761u;
    return (double)v / 4294967296.0;
}

static uint64_t now_unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* gzip (RFC 1952) with zlib: deflate with windowBits 15 + 16 */
static int gzip(const char *in, size_t n, unsigned char **out, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

static void enqueue(memgauge__otlp_t *x, memgauge__otlp_kind_t kind, char *json)
{
    unsigned char *gz;
    size_t n;
    int rc = gzip(json, strlen(json), &gz, &n);
    free(json);
    if (rc) {
        atomic_fetch_add(&x->encode_failed, 1);
        return;
    }
    if (memgauge__otlp_queue_put(&x->queue, kind, gz, n) == 0)
        atomic_fetch_add(&x->queued, 1);
    free(gz);
    pthread_mutex_lock(&x->lock);
    pthread_cond_signal(&x->wake);
    pthread_mutex_unlock(&x->lock);
}

/* The row of a judged session, as stored after the batch. */
static int session_row(memgauge__store_t *st, const char *id, memgauge__session_row_t *out)
{
    if (!st)
        return 0;
    memgauge__session_filter_t f = {.session_id = id, .limit = 1};
    memgauge__session_row_t *rows = NULL;
    size_t n = 0;
    int found = st->ops->sessions(st, &f, &rows, &n) == 0 && n == 1;
    if (found)
        *out = rows[0];
    free(rows);
    return found;
}

static void pending_free(pending_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        memgauge__series_clear(&p->events[i].trail);
    free(p);
}

/* A copy of what the exporter thread needs of b's verdicts, or NULL when b
 * has none (or no memory: counted). */
static pending_t *pending_make(memgauge__otlp_t *x, const memgauge__batch_t *b)
{
    size_t verdicts = 0;
    for (size_t i = 0; i < b->event_count; i++)
        verdicts += b->events[i].kind == MEMGAUGE__EVENT_PREVIOUS_SESSION;
    if (!verdicts)
        return NULL;
    pending_t *p = calloc(1, sizeof *p);
    if (!p) {
        atomic_fetch_add(&x->judged_skipped, verdicts);
        return NULL;
    }
    p->meta = *b; /* strings are arrays: copied */
    p->meta.windows = NULL;
    p->meta.window_count = 0;
    p->meta.events = NULL;
    p->meta.event_count = 0;
    for (size_t i = 0; i < b->event_count; i++) {
        const memgauge__event_t *e = &b->events[i];
        if (e->kind != MEMGAUGE__EVENT_PREVIOUS_SESSION)
            continue;
        if (p->n == MEMGAUGE__OTLP_JUDGED_MAX) {
            atomic_fetch_add(&x->judged_skipped, 1);
            continue;
        }
        size_t k = p->n++;
        memgauge__event_t *c = &p->events[k];
        *c = *e;
        memset(&c->trail, 0, sizeof c->trail);
        c->has_trail = 0;
        if (e->has_trail && e->trail.n) {
            size_t n =
                e->trail.n < MEMGAUGE__OTLP_TRAIL_MAX ? e->trail.n : MEMGAUGE__OTLP_TRAIL_MAX;
            size_t from = e->trail.n - n;
            if (memgauge__series_alloc(&c->trail, n, 0, 0) == 0) {
                memcpy(c->trail.t_ms, e->trail.t_ms + from, n * sizeof *c->trail.t_ms);
                memcpy(c->trail.footprint, e->trail.footprint + from,
                       n * sizeof *c->trail.footprint);
                c->trail.unit_bytes = e->trail.unit_bytes;
                c->has_trail = 1;
                /* the record says how long the whole trail was */
                p->trail_total[k] = e->trail.n;
            }
        }
    }
    return p;
}

void memgauge__otlp_batch(memgauge__otlp_t *x, const memgauge__batch_t *b)
{
    if (!x || !b)
        return;
    char *json;
    if (memgauge__otlp_encode_metrics(b, NULL, 0, now_unix_ns(), &json))
        atomic_fetch_add(&x->encode_failed, 1);
    else if (json)
        enqueue(x, MEMGAUGE__OTLP_METRICS, json);
    pending_t *p = pending_make(x, b);
    if (!p)
        return;
    pthread_mutex_lock(&x->lock);
    int full = x->pending_count == PENDING_MAX;
    if (!full) {
        x->pending[(x->pending_head + x->pending_count) % PENDING_MAX] = p;
        x->pending_count++;
        pthread_cond_signal(&x->wake);
    }
    pthread_mutex_unlock(&x->lock);
    if (full) { /* the thread is far behind: never make ingest wait for it */
        atomic_fetch_add(&x->judged_skipped, p->n);
        pending_free(p);
    }
}

/* Under x->lock. */
static pending_t *pending_pop(memgauge__otlp_t *x)
{
    if (!x->pending_count)
        return NULL;
    pending_t *p = x->pending[x->pending_head];
    x->pending_head = (x->pending_head + 1) % PENDING_MAX;
    x->pending_count--;
    return p;
}

/* On the exporter thread: read the judged sessions' rows, queue their
 * metrics and OOM log records. */
static void pending_export(memgauge__otlp_t *x, pending_t *p)
{
    memgauge__otlp_judged_t *judged = calloc(p->n, sizeof *judged);
    if (!judged) {
        atomic_fetch_add(&x->encode_failed, 1);
        pending_free(p);
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        judged[i].event = &p->events[i];
        judged[i].trail_samples = p->trail_total[i];
        judged[i].found = session_row(x->store, p->events[i].session_id, &judged[i].row);
    }
    uint64_t now = now_unix_ns();
    char *json;
    if (memgauge__otlp_encode_metrics(NULL, judged, p->n, now, &json))
        atomic_fetch_add(&x->encode_failed, 1);
    else if (json)
        enqueue(x, MEMGAUGE__OTLP_METRICS, json);
    if (memgauge__otlp_encode_logs(&p->meta, judged, p->n, now, &json))
        atomic_fetch_add(&x->encode_failed, 1);
    else if (json)
        enqueue(x, MEMGAUGE__OTLP_LOGS, json);
    free(judged);
    pending_free(p);
}

/* Exports every verdict handed over so far. Returns how many batches. */
static size_t pending_drain(memgauge__otlp_t *x)
{
    size_t done = 0;
    for (;;) {
        pthread_mutex_lock(&x->lock);
        pending_t *p = pending_pop(x);
        pthread_mutex_unlock(&x->lock);
        if (!p)
            return done;
        pending_export(x, p);
        done++;
    }
}

typedef struct exchange_s {
    memgauge__otlp_t *x;
    long retry_after_s; /* -1 = none */
} exchange_t;

static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
    exchange_t *ex = cls;
    size_t len = size * n;
    if (len > 12 && !strncasecmp(line, "Retry-After:", 12)) {
        char v[128];
        size_t vl = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
        memcpy(v, line + 12, vl);
        v[vl] = '\0';
        v[strcspn(v, "\r\n")] = '\0';
        char *s = v + strspn(v, " \t");
        char *end;
        long secs = strtol(s, &end, 10);
        if (end != s && *end == '\0') {
            ex->retry_after_s = secs < 0 ? 0 : secs;
        } else {
            time_t when = curl_getdate(s, NULL); /* an HTTP date */
            if (when != -1)
                ex->retry_after_s = when > time(NULL) ? (long)(when - time(NULL)) : 0;
        }
    }
    return len;
}

static size_t discard(char *p, size_t size, size_t n, void *cls)
{
    (void)p;
    (void)cls;
    return size * n;
}

/* libcurl calls this at least once a second: a stop aborts the transfer */
static int on_progress(void *cls, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    exchange_t *ex = cls;
    return atomic_load(&ex->x->stop);
}

/* Returns the HTTP status, or 0 when no answer came (connection refused,
 * timeout, abort). */
static long post(memgauge__otlp_t *x, CURL *h, const char *url, const char *body, size_t len,
                 long *retry_after_s)
{
    exchange_t ex = {x, -1};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)MEMGAUGE__OTLP_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    *retry_after_s = ex.retry_after_s;
    return status;
}

/* Sleeps up to ms, or until stop. Returns 1 when stopping. */
static int pause_ms(memgauge__otlp_t *x, uint64_t ms)
{
    struct timespec until = memgauge__mono_deadline(ms);
    for (;;) {
        pthread_mutex_lock(&x->lock);
        int timed_out = 0;
        while (!atomic_load(&x->stop) && !x->pending_count && !timed_out)
            timed_out = pthread_cond_timedwait(&x->wake, &x->lock, &until) != 0;
        pthread_mutex_unlock(&x->lock);
        if (atomic_load(&x->stop) || timed_out)
            return atomic_load(&x->stop);
        pending_drain(x); /* verdicts keep being read and queued during a backoff */
    }
}

static void *run(void *cls)
{
    memgauge__otlp_t *x = cls;
    CURL *h = curl_easy_init();
    unsigned attempt = 0;
    int warned = 0;
    while (h && !atomic_load(&x->stop)) {
        pending_drain(x);
        uint64_t seq;
        memgauge__otlp_kind_t kind;
        char *body;
        size_t len;
        int rc = memgauge__otlp_queue_peek(&x->queue, &seq, &kind, &body, &len);
        if (rc < 0)
            continue;
        if (rc == 0) {
            pthread_mutex_lock(&x->lock);
            /* re-check under the lock: enqueue signals under it */
            if (!atomic_load(&x->stop) && !x->pending_count &&
                memgauge__otlp_queue_empty(&x->queue))
                pthread_cond_wait(&x->wake, &x->lock);
            pthread_mutex_unlock(&x->lock);
            continue;
        }
        long retry_after;
        long status = post(x, h, kind == MEMGAUGE__OTLP_LOGS ? x->logs_url : x->metrics_url, body,
                           len, &retry_after);
        free(body);
        if (status >= 200 && status < 300) {
            memgauge__otlp_queue_remove(&x->queue, seq);
            atomic_fetch_add(&x->sent, 1);
            attempt = 0;
            warned = 0;
        } else if (status == 0 || memgauge__otlp_retryable(status)) {
            if (atomic_load(&x->stop))
                break; /* aborted by the stop: it stays queued */
            atomic_fetch_add(&x->retried, 1);
            if (!warned++) { /* once per outage */
                if (status)
                    fprintf(stderr,
                            "memgauge-collector: OTLP export answered %ld; retrying (queued on "
                            "disk)\n",
                            status);
                else
                    fprintf(stderr, "memgauge-collector: OTLP export: no answer; retrying (queued "
                                    "on disk)\n");
            }
            uint64_t wait = memgauge__otlp_backoff_ms(attempt, random_unit());
            if (attempt < 32)
                attempt++;
            if (retry_after >= 0)
                wait = (uint64_t)(retry_after < MEMGAUGE__OTLP_RETRY_AFTER_MAX_S
                                      ? retry_after
                                      : MEMGAUGE__OTLP_RETRY_AFTER_MAX_S) *
                       1000u;
            pause_ms(x, wait);
        } else {
            /* 400, 401, 403, 413 ...: sending it again would be refused again */
            memgauge__otlp_queue_remove(&x->queue, seq);
            atomic_fetch_add(&x->rejected, 1);
            fprintf(stderr, "memgauge-collector: OTLP export refused with %ld; request dropped\n",
                    status);
            attempt = 0;
        }
    }
    /* the server has stopped: what was handed over is queued on disk, bounded
     * by PENDING_MAX batches of indexed reads */
    pending_drain(x);
    curl_easy_cleanup(h);
    return NULL;
}

static char *join_url(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    char *u = malloc(n + strlen(path) + 1);
    if (u) {
        memcpy(u, base, n);
        strcpy(u + n, path);
    }
    return u;
}

int memgauge__otlp_start(const memgauge__otlp_options_t *o, memgauge__otlp_t **out, char *err,
                         size_t errlen)
{
    memgauge__otlp_t *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    x->store = o->store;
    if (memgauge__otlp_queue_open(&x->queue, o->queue_dir, o->queue_bytes, err, errlen)) {
        free(x);
        return -1;
    }
    x->metrics_url = join_url(o->endpoint, "/v1/metrics");
    x->logs_url = join_url(o->endpoint, "/v1/logs");
    x->headers = curl_slist_append(NULL, "Content-Type: application/json");
    x->headers = curl_slist_append(x->headers, "Content-Encoding: gzip");
    x->headers =
        curl_slist_append(x->headers, "User-Agent: memgauge-collector/" MEMGAUGE_COLLECTOR_VERSION);
    x->headers = curl_slist_append(x->headers, "Expect:");
    for (size_t i = 0; i < o->header_count; i++)
        x->headers = curl_slist_append(x->headers, o->headers[i]);
    pthread_mutex_init(&x->lock, NULL);
    memgauge__cond_init_mono(&x->wake);
    if (!x->metrics_url || !x->logs_url || !x->headers ||
        pthread_create(&x->thread, NULL, run, x) != 0) {
        snprintf(err, errlen, "cannot start the OTLP exporter");
        pthread_cond_destroy(&x->wake);
        pthread_mutex_destroy(&x->lock);
        curl_slist_free_all(x->headers);
        free(x->metrics_url);
        free(x->logs_url);
        memgauge__otlp_queue_close(&x->queue);
        free(x);
        return -1;
    }
    *out = x;
    return 0;
}

void memgauge__otlp_stats(memgauge__otlp_t *x, memgauge__otlp_stats_t *s)
{
    memset(s, 0, sizeof *s);
    if (!x)
        return;
    s->queued = atomic_load(&x->queued);
    s->sent = atomic_load(&x->sent);
    s->retried = atomic_load(&x->retried);
    s->rejected = atomic_load(&x->rejected);
    s->encode_failed = atomic_load(&x->encode_failed);
    s->judged_skipped = atomic_load(&x->judged_skipped);
    pthread_mutex_lock(&x->queue.lock);
    s->dropped = x->queue.dropped;
    s->queue_bytes = x->queue.bytes;
    s->queue_files = x->queue.files;
    pthread_mutex_unlock(&x->queue.lock);
}

void memgauge__otlp_stop(memgauge__otlp_t *x)
{
    if (!x)
        return;
    pthread_mutex_lock(&x->lock);
    atomic_store(&x->stop, 1);
    pthread_cond_broadcast(&x->wake);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->thread, NULL);
    while (x->pending_count) /* only when the thread could not start curl */
        pending_free(pending_pop(x));
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->lock);
    curl_slist_free_all(x->headers);
    free(x->metrics_url);
    free(x->logs_url);
    memgauge__otlp_queue_close(&x->queue);
    free(x);
}
