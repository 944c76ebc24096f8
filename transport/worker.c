/*
 * The transport worker: a single-producer queue from the sampler, batching
 * into the spool, and sending the spool oldest first with retries.
 *
 * Every batch is written to the spool before its first send and removed
 * only after a 2xx or a drop, so a kill at any moment loses no built batch
 * and a batch whose answer was lost is re-sent with the same id and bytes
 * (the collector stores it once). The batch being assembled is on disk too:
 * each window close that does not make it due writes the batch so far as a
 * new version of one pending spool file (one batch id for all versions);
 * when it is due, its last version is written and renamed into a batch
 * file. Only one version of an id is ever sent: the live process's last,
 * or, after a kill, the one the next start finds.
 *
 * Locks: t->lock guards stop/kick/exited/orphaned and the stats. The queue
 * is lock-free (one producer, one consumer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "retry.h"
#include "spool.h"
#include "transport.h"

#define IDLE_WAIT_MS 1000         /* the worker re-checks the queue at least this often */
#define STOP_GRACE_MS 200         /* how long stop waits past its deadline for an abort */
#define MAX_PENDING_WINDOWS 256   /* closed windows not yet in a batch */
#define MAX_PENDING_EVENTS 1000   /* events not yet in a batch */
#define MAX_WINDOW_SAMPLES 100000 /* the format's cap per window */
#define MAX_HEADERS 24
#define MEMGAUGE__TR_URL_MAX 2100 /* options' 2048 bytes and "/v1/reports" */
#define MAX_FULL_IDS 64           /* full batches of this session remembered until one is acked */

enum { ITEM_SAMPLE = 1, ITEM_WINDOW = 2, ITEM_EVENT = 3 };

typedef struct item_s {
    int kind;
    union {
        memgauge__tr_sample_t sample;
        memgauge__tr_window_t window;
        memgauge__tr_event_t event;
    } u;
} item_t;

typedef struct pending_window_s {
    memgauge__tr_window_t w;
    memgauge__tr_sample_t *series; /* owned; NULL when samples were lost */
} pending_window_t;

struct memgauge__tr_s {
    memgauge__tr_config_t cfg; /* strings below are owned copies */
    char *headers[MAX_HEADERS];
    size_t header_count;
    memgauge__tr_meta_t meta;
    memgauge__tr_send_fn send;
    void *send_ctx;

    /* the queue: the producer writes tail, the worker head */
    item_t *q;
    uint32_t q_cap;
    _Atomic uint64_t q_head, q_tail;
    atomic_ullong dropped_samples, dropped_events; /* queue full */
    atomic_int kick;
    atomic_int abort_flag;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int stop;
    uint64_t deadline_ns;
    int exited;
    int orphaned;
    memgauge__tr_stats_t stats;

    /* worker only */
    memgauge__tr_sample_t *samples; /* of the window in progress */
    size_t sample_count;
    pending_window_t wins[MAX_PENDING_WINDOWS];
    size_t win_count;
    memgauge__tr_event_t *events; /* MAX_PENDING_EVENTS */
    size_t event_count;
    memgauge__tr_previous_t previous;
    memgauge__tr_sample_t *previous_trail;
    int previous_pending;
    int hurry; /* the last pressure event was not "normal": every window goes at once */
    memgauge__tr_dropped_t lost;     /* totals */
    memgauge__tr_dropped_t reported; /* totals already carried by a batch */
    uint64_t last_flush_ns;
    /* the pending batch on disk ("" name: none) and what its last version holds */
    char pend_name[MEMGAUGE__SPOOL_NAME_MAX];
    char pend_id[37];
    uint64_t pend_created;
    size_t pend_wins, pend_events;
    int pend_previous;
    memgauge__tr_dropped_t pend_total; /* `reported` once that version is sent */
    int wins_added;                    /* a window closed since the last version */
    int pend_end;                      /* that version carries the clean end */
    int ending;                        /* stopping after memgauge__tr_end_clean */
    int end_written;                   /* a spooled batch carries the clean end */
    uint64_t end_ms;                   /* worker only: copied from end_ms_set */
    uint64_t end_ms_set;               /* guarded by lock */
    int end_set;                       /* guarded by lock */
    int config_attempt;                /* consecutive configuration errors */
    memgauge__spool_t spool;
    uint32_t attempt;     /* failed attempts of the oldest file */
    uint64_t next_try_ns; /* 0: now */
    int gzip_refused;
    /* Schema 2: batches carry the session's description (sdk, app, device)
     * until the collector has acknowledged one that did; later ones are
     * short. full_ids: the ids of the full batches this process built. */
    int meta_acked;
    char full_ids[MAX_FULL_IDS][37];
    size_t full_next;
};

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* ---- producer ------------------------------------------------------------ */

static void wake(memgauge__tr_t *t)
{
    atomic_store(&t->kick, 1);
    /* never wait for the worker: if it holds the lock it is awake, and it
     * reads `kick` before it sleeps again */
    if (pthread_mutex_trylock(&t->lock) == 0) {
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->lock);
    }
}

static int push(memgauge__tr_t *t, const item_t *it)
{
    uint64_t tail = atomic_load_explicit(&t->q_tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&t->q_head, memory_order_acquire);
    if (tail - head >= t->q_cap)
        return 0;
    t->q[tail % t->q_cap] = *it;
    atomic_store_explicit(&t->q_tail, tail + 1, memory_order_release);
    return 1;
}

void memgauge__tr_push_sample(memgauge__tr_t *t, const memgauge__tr_sample_t *s)
{
    item_t it = {.kind = ITEM_SAMPLE, .u.sample = *s};
    if (!push(t, &it))
        atomic_fetch_add_explicit(&t->dropped_samples, 1, memory_order_relaxed);
}

void memgauge__tr_push_window(memgauge__tr_t *t, const memgauge__tr_window_t *w)
{
    item_t it = {.kind = ITEM_WINDOW, .u.window = *w};
    it.u.window.series = NULL;
    it.u.window.series_count = 0;
    if (!push(t, &it))
        atomic_fetch_add_explicit(&t->dropped_samples, w->samples, memory_order_relaxed);
    wake(t);
}

void memgauge__tr_push_event(memgauge__tr_t *t, const memgauge__tr_event_t *e)
{
    item_t it = {.kind = ITEM_EVENT, .u.event = *e};
    if (!push(t, &it))
        atomic_fetch_add_explicit(&t->dropped_events, 1, memory_order_relaxed);
    if (e->urgent)
        wake(t);
}

/* ---- batching ------------------------------------------------------------ */

static void close_window(memgauge__tr_t *t, const memgauge__tr_window_t *w)
{
    /* samples before the window belong to one the queue dropped */
    size_t skip = 0;
    while (skip < t->sample_count && t->samples[skip].t_ms < w->start_ms)
        skip++;
    size_t n = 0;
    while (skip + n < t->sample_count && t->samples[skip + n].t_ms <= w->end_ms)
        n++;
    memgauge__tr_sample_t *series = NULL;
    if (n == w->samples && n > 0) {
        series = malloc(n * sizeof *series);
        if (series != NULL)
            memcpy(series, t->samples + skip, n * sizeof *series);
    }
    memmove(t->samples, t->samples + skip + n, (t->sample_count - skip - n) * sizeof *t->samples);
    t->sample_count -= skip + n;
    if (w->samples == 0 || t->win_count == MAX_PENDING_WINDOWS) { /* drain() flushed: never */
        free(series);
        return;
    }
    pending_window_t *p = &t->wins[t->win_count++];
    t->wins_added = 1;
    p->w = *w;
    p->series = series;
    p->w.series = series;
    p->w.series_count = series != NULL ? n : 0;
}

/* Moves the queue into the pending state. Returns 1 when a batch is due
 * now: an urgent event, or a window closed and report_interval_ms has
 * passed since the last batch, or something should not wait for it (an
 * event or the previous session's verdict is pending, or memory pressure is
 * above normal, when a kill may come before the next batch would). */
static void flush(memgauge__tr_t *t);

static int drain(memgauge__tr_t *t)
{
    int due = 0;
    uint64_t head = atomic_load_explicit(&t->q_head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&t->q_tail, memory_order_acquire);
    for (; head != tail; head++) {
        const item_t *it = &t->q[head % t->q_cap];
        if (it->kind == ITEM_SAMPLE) {
            if (t->sample_count < MAX_WINDOW_SAMPLES)
                t->samples[t->sample_count++] = it->u.sample;
            else
                t->lost.samples++;
        } else if (it->kind == ITEM_WINDOW) {
            if (t->win_count == MAX_PENDING_WINDOWS) /* a batch holds at most this many */
                flush(t);
            close_window(t, &it->u.window);
            if (memgauge__now_ns() - t->last_flush_ns >=
                    (uint64_t)t->cfg.report_interval_ms * 1000000u ||
                t->event_count > 0 || t->previous_pending || t->hurry)
                due = 1;
        } else if (it->kind == ITEM_EVENT) {
            if (t->event_count < MAX_PENDING_EVENTS)
                t->events[t->event_count++] = it->u.event;
            else
                t->lost.events++;
            due |= it->u.event.urgent;
            if (it->u.event.type == MEMGAUGE__TR_EVENT_PRESSURE)
                t->hurry =
                    it->u.event.level_name != NULL && strcmp(it->u.event.level_name, "normal") != 0;
        }
    }
    atomic_store_explicit(&t->q_head, head, memory_order_release);
    return due;
}

static void add_stat(memgauge__tr_t *t, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&t->lock);
    *field += n;
    pthread_mutex_unlock(&t->lock);
}

/* A diagnostic message (never with t->lock held). */
static void say(memgauge__tr_t *t, int kind, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(memgauge__tr_t *t, int kind, int level, const char *fmt, ...)
{
    if (t->cfg.log == NULL)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->cfg.log(t->cfg.log_ctx, kind, level, msg);
}

/* A spool write the disk refused: what it held is counted as dropped by the
 * caller; the error is counted and told. */
static void spool_refused(memgauge__tr_t *t, int err, const char *what)
{
    add_stat(t, &t->stats.spool_write_errors, 1);
    say(t, MEMGAUGE__TR_LOG_SPOOL, 0, "memgauge: cannot write the spool in %s (%s): %s",
        t->cfg.spool_dir, strerror(err), what);
}

/* The request body of an encoded batch: gzip'd unless refused (*gz is then
 * the buffer to free). */
static void compress(memgauge__tr_t *t, const char *json, size_t len, const void **body,
                     size_t *body_len, uint32_t *flags, unsigned char **gz)
{
    *body = json;
    *body_len = len;
    *flags = 0;
    *gz = NULL;
    if (t->cfg.gzip && !t->gzip_refused) {
        size_t gz_len;
        *gz = memgauge__tr_gzip(json, len, &gz_len);
        if (*gz != NULL) {
            *body = *gz;
            *body_len = gz_len;
            *flags = MEMGAUGE__SPOOL_FLAG_GZIP;
        }
    }
}

/* The form of the next batch built; a full one is remembered so that its
 * acknowledgement is recognised (the oldest is forgotten past
 * MAX_FULL_IDS: a later full batch's answer serves as well). */
static void choose_form(memgauge__tr_t *t, memgauge__tr_batch_t *b)
{
    b->short_meta = t->meta_acked;
    if (b->short_meta)
        return;
    for (size_t i = 0; i < MAX_FULL_IDS; i++)
        if (strcmp(t->full_ids[i], b->batch_id) == 0)
            return; /* a new version of the pending batch */
    memcpy(t->full_ids[t->full_next], b->batch_id, sizeof t->full_ids[0]);
    t->full_next = (t->full_next + 1) % MAX_FULL_IDS;
}

/* A 2xx answered batch_id: when it was one of this session's full batches,
 * the collector has the description and later batches leave it out.
 * Batches already built keep their form (their bytes never change). */
static void acknowledged(memgauge__tr_t *t, const char *batch_id)
{
    for (size_t i = 0; !t->meta_acked && i < MAX_FULL_IDS; i++)
        if (t->full_ids[i][0] != '\0' && strcmp(t->full_ids[i], batch_id) == 0)
            t->meta_acked = 1;
}

/* Encodes, compresses and spools one batch of windows [from, to) (with the
 * events when `with_events`). Halves the windows while over the size cap. */
static void spool_batch(memgauge__tr_t *t, size_t from, size_t to, int with_events,
                        memgauge__tr_dropped_t *dropped, int with_end)
{
    memgauge__tr_window_t wins[MAX_PENDING_WINDOWS];
    for (size_t i = from; i < to; i++)
        wins[i - from] = t->wins[i].w;
    memgauge__tr_batch_t b = {.meta = &t->meta,
                              .sent_unix_ms = memgauge__wall_ms(),
                              .windows = wins,
                              .window_count = to - from,
                              .events = with_events ? t->events : NULL,
                              .event_count = with_events ? t->event_count : 0,
                              .previous = with_events && t->previous_pending ? &t->previous : NULL,
                              .dropped = dropped,
                              .clean_end = with_end,
                              .end_ms = t->end_ms};
    memgauge__uuid_new(b.batch_id);
    choose_form(t, &b);
    size_t len = 0;
    char *json = memgauge__tr_encode(&b, &len);
    if (json != NULL && len > t->cfg.max_batch_bytes) {
        if (to - from > 1) {
            free(json);
            size_t mid = from + (to - from) / 2;
            spool_batch(t, from, mid, with_events, dropped, 0);
            spool_batch(t, mid, to, 0, NULL, with_end); /* the end goes last */
            return;
        }
        /* one window over the cap: its aggregates go, its samples do not */
        if (to - from == 1 && wins[0].series != NULL) {
            free(json);
            t->lost.samples += wins[0].samples;
            wins[0].series = NULL;
            json = memgauge__tr_encode(&b, &len);
        }
    }
    if (json == NULL) {
        t->lost.windows += to - from;
        return;
    }
    const void *body;
    size_t body_len;
    uint32_t flags;
    unsigned char *gz;
    compress(t, json, len, &body, &body_len, &flags, &gz);
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    if (memgauge__spool_write(&t->spool, b.batch_id, b.sent_unix_ms, flags, body, body_len, name) ==
        0) {
        add_stat(t, &t->stats.spooled, 1);
        if (with_end)
            t->end_written = 1;
        if (t->cfg.on_spooled != NULL)
            t->cfg.on_spooled(b.batch_id, t->cfg.on_spooled_ctx);
    } else {
        int err = errno;
        t->lost.windows += to - from; /* the disk refused it: counted, never a crash */
        spool_refused(t, err, "a batch was dropped (counted in dropped_windows)");
    }
    add_stat(t, &t->stats.batches_built, 1);
    free(gz);
    free(json);
}

/* What was lost in total until now (*total) and since the last batch that
 * carried the counters (*d). */
static void dropped_now(memgauge__tr_t *t, memgauge__tr_dropped_t *total, memgauge__tr_dropped_t *d)
{
    *total = t->lost;
    total->samples += atomic_load(&t->dropped_samples);
    total->events += atomic_load(&t->dropped_events);
    total->spool_evicted = t->spool.evicted;
    total->spool_corrupt = t->spool.corrupt;
    *d = (memgauge__tr_dropped_t){
        .samples = total->samples - t->reported.samples,
        .events = total->events - t->reported.events,
        .windows = total->windows - t->reported.windows,
        .batches = total->batches - t->reported.batches,
        .spool_evicted = total->spool_evicted - t->reported.spool_evicted,
        .spool_corrupt = total->spool_corrupt - t->reported.spool_corrupt,
    };
}

/* Writes everything pending as a version of the pending batch (its first
 * version picks the id and name). 0: written; 1: it does not fit in one
 * batch (the caller flushes); -1: not written (a previous version stays). */
static int write_pending(memgauge__tr_t *t, uint64_t *written_ms)
{
    memgauge__tr_dropped_t total, d;
    dropped_now(t, &total, &d);
    memgauge__tr_window_t wins[MAX_PENDING_WINDOWS];
    for (size_t i = 0; i < t->win_count; i++)
        wins[i] = t->wins[i].w;
    int first = t->pend_name[0] == '\0';
    memgauge__tr_batch_t b = {.meta = &t->meta,
                              .sent_unix_ms = memgauge__wall_ms(),
                              .windows = wins,
                              .window_count = t->win_count,
                              .events = t->events,
                              .event_count = t->event_count,
                              .previous = t->previous_pending ? &t->previous : NULL,
                              .dropped = &d,
                              .clean_end = t->ending,
                              .end_ms = t->end_ms};
    if (first) {
        memgauge__uuid_new(t->pend_id);
        t->pend_created = b.sent_unix_ms;
    }
    memcpy(b.batch_id, t->pend_id, sizeof b.batch_id);
    choose_form(t, &b);
    size_t len = 0;
    char *json = memgauge__tr_encode(&b, &len);
    if (json == NULL)
        return -1;
    if (len > t->cfg.max_batch_bytes) {
        free(json);
        return 1;
    }
    const void *body;
    size_t body_len;
    uint32_t flags;
    unsigned char *gz;
    compress(t, json, len, &body, &body_len, &flags, &gz);
    int rc = memgauge__spool_write_pending(&t->spool, t->pend_id, t->pend_created, flags, body,
                                           body_len, t->pend_name);
    int err = errno;
    free(gz);
    free(json);
    if (rc != 0) {
        spool_refused(t, err, "the batch being assembled stays in memory until it is due");
        return -1;
    }
    t->pend_wins = t->win_count;
    t->pend_end = t->ending;
    t->pend_events = t->event_count;
    t->pend_previous = t->previous_pending;
    t->pend_total = total;
    t->wins_added = 0;
    *written_ms = b.sent_unix_ms;
    add_stat(t, &t->stats.pending_writes, 1);
    if (t->cfg.on_pending != NULL)
        t->cfg.on_pending(t->pend_id, t->win_count, t->cfg.on_pending_ctx);
    return 0;
}

/* The pending batch's file becomes a batch file. 0, or -1 when it is gone. */
static int promote_pending(memgauge__tr_t *t)
{
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    int rc = memgauge__spool_promote(&t->spool, t->pend_name, name);
    if (rc == 0) {
        add_stat(t, &t->stats.spooled, 1);
        add_stat(t, &t->stats.batches_built, 1);
        if (t->cfg.on_spooled != NULL)
            t->cfg.on_spooled(t->pend_id, t->cfg.on_spooled_ctx);
    }
    t->pend_name[0] = '\0';
    return rc;
}

static void forget(memgauge__tr_t *t, size_t wins, size_t events)
{
    for (size_t i = 0; i < wins; i++)
        free(t->wins[i].series);
    memmove(t->wins, t->wins + wins, (t->win_count - wins) * sizeof t->wins[0]);
    t->win_count -= wins;
    memmove(t->events, t->events + events, (t->event_count - events) * sizeof t->events[0]);
    t->event_count -= events;
}

/* A window closed and no batch is due: the batch so far goes to disk. */
static void keep_pending(memgauge__tr_t *t)
{
    if (!t->wins_added || t->win_count == 0)
        return;
    uint64_t ms;
    if (write_pending(t, &ms) == 1)
        flush(t); /* over the size cap: due now, and split */
}

static void flush(memgauge__tr_t *t)
{
    t->wins_added = 0;
    if (t->pend_name[0] != '\0') {
        /* the pending batch's last version holds everything: promote it;
         * otherwise promote the version on disk as it is and build the rest
         * as new batches (never a window in two batch ids) */
        uint64_t ms;
        int whole = (t->pend_wins == t->win_count && t->pend_events == t->event_count &&
                     t->pend_previous == t->previous_pending && t->pend_end == t->ending) ||
                    write_pending(t, &ms) == 0;
        int carries_end = whole && t->ending;
        size_t wins = t->pend_wins, events = t->pend_events;
        int previous = t->pend_previous;
        memgauge__tr_dropped_t total = t->pend_total;
        if (promote_pending(t) == 0) {
            forget(t, wins, events);
            if (previous)
                t->previous_pending = 0;
            t->reported = total;
            if (carries_end)
                t->end_written = 1;
        }
        if (whole && t->win_count == 0 && t->event_count == 0 && !t->previous_pending &&
            (!t->ending || t->end_written)) {
            t->last_flush_ns = memgauge__now_ns();
            return;
        }
    }
    /* a clean stop says so in a batch of its own when nothing else is left */
    int end_due = t->ending && !t->end_written;
    if (t->win_count == 0 && t->event_count == 0 && !t->previous_pending && !end_due)
        return;
    memgauge__tr_dropped_t total, d;
    dropped_now(t, &total, &d);
    t->reported = total;
    size_t n = t->win_count;
    spool_batch(t, 0, n, 1, &d, end_due);
    for (size_t i = 0; i < n; i++)
        free(t->wins[i].series);
    t->win_count = 0;
    t->event_count = 0;
    t->previous_pending = 0;
    t->last_flush_ns = memgauge__now_ns();
}

/* ---- sending ------------------------------------------------------------- */

static double random01(void)
{
    uint32_t r;
    if (getentropy(&r, sizeof r) != 0)
        r = (uint32_t)memgauge__now_ns();
    return (double)r / 4294967296.0;
}

/* One attempt on the oldest spool file. Returns 1 when one was attempted. */
static int send_oldest(memgauge__tr_t *t, uint64_t deadline_ns)
{
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    if (!memgauge__spool_oldest(&t->spool, name))
        return 0;
    unsigned char *buf;
    memgauge__spool_entry_t e;
    int rc = memgauge__spool_read(&t->spool, name, &buf, &e);
    if (rc != 0) {
        t->attempt = 0;
        return 1; /* corrupt (set aside and counted) or sent by another process */
    }
    const void *body = e.body;
    size_t body_len = e.body_len;
    unsigned char *plain = NULL;
    int gz = (e.flags & MEMGAUGE__SPOOL_FLAG_GZIP) != 0;
    if (gz && t->gzip_refused) {
        plain = memgauge__tr_gunzip(e.body, e.body_len, MEMGAUGE__SPOOL_MAX_BODY, &body_len);
        if (plain != NULL) {
            body = plain;
            gz = 0;
        } else {
            body_len = e.body_len;
        }
    }
    const char *hdrs[MAX_HEADERS + 1];
    size_t nh = 0;
    for (size_t i = 0; i < t->header_count; i++)
        hdrs[nh++] = t->headers[i];
    if (gz)
        hdrs[nh++] = "Content-Encoding: gzip";
    uint32_t total = t->cfg.total_timeout_ms;
    if (deadline_ns != 0) { /* stopping: never past the deadline */
        uint64_t now = memgauge__now_ns();
        uint64_t left = deadline_ns > now ? (deadline_ns - now) / 1000000u : 0;
        if (left < total)
            total = (uint32_t)(left > 0 ? left : 1);
    }
    memgauge__tr_request_t req = {.url = t->cfg.url,
                                  .headers = hdrs,
                                  .header_count = nh,
                                  .body = body,
                                  .body_len = body_len,
                                  .connect_timeout_ms = t->cfg.connect_timeout_ms,
                                  .total_timeout_ms = total};
    memgauge__tr_response_t resp;
    memset(&resp, 0, sizeof resp);
    t->send(&req, &resp, &t->abort_flag, t->send_ctx);

    if (resp.status == 415 && gz && !t->gzip_refused) {
        t->gzip_refused = 1; /* this server takes no gzip: plain JSON from now on */
        free(plain);
        free(buf);
        return 1;
    }
    memgauge__tr_outcome_t out = memgauge__tr_classify(resp.status);
    pthread_mutex_lock(&t->lock);
    t->stats.last_status = resp.status;
    int was_config_error = t->stats.config_error_status;
    if (out == MEMGAUGE__TR_DONE) {
        t->stats.batches_sent++;
        t->stats.bytes_sent += body_len;
        t->stats.config_error_status = 0;
    } else if (out == MEMGAUGE__TR_DROP) {
        t->stats.batches_failed++;
    } else if (out == MEMGAUGE__TR_CONFIG) {
        t->stats.config_errors++;
        t->stats.config_error_status = resp.status;
    } else {
        t->stats.batches_retried++;
    }
    pthread_mutex_unlock(&t->lock);
    if (out == MEMGAUGE__TR_CONFIG) {
        /* The endpoint or the key is wrong, not the batch: it stays in the
         * spool (the budget still bounds it) and is tried again after a
         * long wait, so fixing the collector's side brings it all in. */
        t->config_attempt++;
        uint64_t base = MEMGAUGE__TR_CONFIG_BACKOFF_MS < t->cfg.retry_max_ms
                            ? MEMGAUGE__TR_CONFIG_BACKOFF_MS
                            : t->cfg.retry_max_ms;
        uint64_t wait = memgauge__tr_backoff_ms(t->config_attempt, (uint32_t)base,
                                                t->cfg.retry_max_ms, random01());
        t->next_try_ns = memgauge__now_ns() + wait * 1000000u;
        say(t, MEMGAUGE__TR_LOG_CONFIG, 0,
            "memgauge: the collector answered %d to POST %s: %s; batches stay in the spool "
            "(%llu file(s)) and are tried again in %llu s",
            resp.status, t->cfg.url,
            resp.status == 401 || resp.status == 403
                ? "check options.api_key"
                : "check options.endpoint_url (a base URL gets /v1/reports appended)",
            (unsigned long long)t->spool.files, (unsigned long long)((wait + 999) / 1000));
        free(plain);
        free(buf);
        return 1;
    }
    t->config_attempt = 0;
    if (out == MEMGAUGE__TR_DONE)
        acknowledged(t, e.batch_id);
    if (out == MEMGAUGE__TR_DONE && was_config_error)
        say(t, MEMGAUGE__TR_LOG_RECOVERED, 2,
            "memgauge: the collector at %s accepts batches again (after %d)", t->cfg.url,
            was_config_error);
    if (out == MEMGAUGE__TR_DROP)
        say(t, MEMGAUGE__TR_LOG_REJECTED, 1,
            "memgauge: the collector answered %d to POST %s: the batch was dropped (counted in "
            "batches_failed)",
            resp.status, t->cfg.url);
    if (out == MEMGAUGE__TR_RETRY) {
        t->attempt++;
        uint64_t wait = memgauge__tr_backoff_ms(t->attempt, t->cfg.retry_base_ms,
                                                t->cfg.retry_max_ms, random01());
        int64_t ra =
            memgauge__tr_retry_after_ms(resp.retry_after, memgauge__wall_ms(), t->cfg.retry_max_ms);
        if (ra > (int64_t)wait)
            wait = (uint64_t)ra;
        t->next_try_ns = memgauge__now_ns() + wait * 1000000u;
    } else {
        if (out == MEMGAUGE__TR_DROP)
            t->lost.batches++;
        memgauge__spool_remove(&t->spool, name);
        t->attempt = 0;
        t->next_try_ns = 0;
    }
    free(plain);
    free(buf);
    return 1;
}

static void publish_spool_stats(memgauge__tr_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->stats.spool_files = t->spool.files;
    t->stats.spool_bytes = t->spool.bytes;
    t->stats.spool_evicted = t->spool.evicted;
    t->stats.spool_corrupt = t->spool.corrupt;
    t->stats.spool_recovered = t->spool.recovered;
    t->stats.dropped_samples = atomic_load(&t->dropped_samples) + t->lost.samples;
    t->stats.dropped_events = atomic_load(&t->dropped_events) + t->lost.events;
    t->stats.dropped_windows = t->lost.windows;
    pthread_mutex_unlock(&t->lock);
}

static void destroy(memgauge__tr_t *t);

static void *worker_main(void *arg)
{
    memgauge__tr_t *t = arg;
    memgauge__spool_enforce(&t->spool, memgauge__wall_ms());
    for (;;) {
        pthread_mutex_lock(&t->lock);
        for (;;) {
            if (t->stop || atomic_exchange(&t->kick, 0))
                break;
            uint64_t now = memgauge__now_ns();
            if (t->spool.files > 0 && now >= t->next_try_ns)
                break;
            uint64_t until = now + (uint64_t)IDLE_WAIT_MS * 1000000u;
            if (t->spool.files > 0 && t->next_try_ns < until)
                until = t->next_try_ns;
            if (memgauge__cond_wait_until(&t->cond, &t->lock, until) == ETIMEDOUT)
                break;
        }
        int stopping = t->stop;
        uint64_t deadline = t->deadline_ns;
        if (stopping && t->end_set) {
            t->ending = 1;
            t->end_ms = t->end_ms_set;
        }
        pthread_mutex_unlock(&t->lock);

        if (drain(t) || stopping)
            flush(t);
        else
            keep_pending(t);
        if (stopping) {
            /* send what the deadline allows; the rest stays spooled */
            while (memgauge__now_ns() < deadline && memgauge__now_ns() >= t->next_try_ns &&
                   !atomic_load(&t->abort_flag) && send_oldest(t, deadline))
                ;
            publish_spool_stats(t);
            break;
        }
        if (memgauge__now_ns() >= t->next_try_ns)
            send_oldest(t, 0);
        memgauge__spool_oldest(&t->spool, (char[MEMGAUGE__SPOOL_NAME_MAX]){0});
        publish_spool_stats(t);
    }
    pthread_mutex_lock(&t->lock);
    t->exited = 1;
    pthread_cond_broadcast(&t->cond);
    int orphaned = t->orphaned;
    pthread_mutex_unlock(&t->lock);
    if (orphaned)
        destroy(t);
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void destroy(memgauge__tr_t *t)
{
    if (t->cfg.send_ctx_free != NULL)
        t->cfg.send_ctx_free(t->cfg.send_ctx);
    if (t->cfg.log_ctx_free != NULL)
        t->cfg.log_ctx_free(t->cfg.log_ctx);
    for (size_t i = 0; i < t->win_count; i++)
        free(t->wins[i].series);
    for (size_t i = 0; i < t->header_count; i++)
        free(t->headers[i]);
    free((char *)t->cfg.url);
    free((char *)t->cfg.ca_file);
    free((char *)t->cfg.proxy);
    free((char *)t->cfg.spool_dir);
    free(t->previous_trail);
    free(t->samples);
    free(t->events);
    free(t->q);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static int add_header(memgauge__tr_t *t, const char *name, const char *value)
{
    if (t->header_count + 2 >= MAX_HEADERS) /* room for Content-Encoding */
        return -1;
    char *h = NULL;
    if (asprintf(&h, "%s%s", name, value) < 0)
        return -1;
    t->headers[t->header_count++] = h;
    return 0;
}

static int set_previous(memgauge__tr_t *t, const memgauge__tr_previous_t *p)
{
    memgauge__tr_sample_t *trail = NULL;
    if (p->trail != NULL && p->trail_count > 0) {
        trail = malloc(p->trail_count * sizeof *trail);
        if (trail == NULL)
            return MEMGAUGE__TR_E_NO_MEMORY;
        memcpy(trail, p->trail, p->trail_count * sizeof *trail);
    }
    t->previous = *p;
    t->previous.trail = trail;
    t->previous.trail_count = trail != NULL ? p->trail_count : 0;
    t->previous_trail = trail;
    t->previous_pending = 1;
    return 0;
}

int memgauge__tr_create(const memgauge__tr_config_t *cfg, const memgauge__tr_meta_t *meta,
                        const memgauge__tr_previous_t *previous, memgauge__tr_t **out)
{
    *out = NULL;
    memgauge__tr_send_fn send = cfg->send != NULL ? cfg->send : memgauge__tr_curl_sender();
    memgauge__tr_t *t = NULL;
    int early = cfg->url == NULL || cfg->spool_dir == NULL ? MEMGAUGE__TR_E_URL
                : send == NULL                             ? MEMGAUGE__TR_E_NO_SENDER
                : (t = calloc(1, sizeof *t)) == NULL       ? MEMGAUGE__TR_E_NO_MEMORY
                                                           : 0;
    if (early != 0 || pthread_mutex_init(&t->lock, NULL) != 0) {
        if (cfg->send_ctx_free != NULL) /* the contexts are ours whatever happens */
            cfg->send_ctx_free(cfg->send_ctx);
        if (cfg->log_ctx_free != NULL)
            cfg->log_ctx_free(cfg->log_ctx);
        free(t);
        return early != 0 ? early : MEMGAUGE__TR_E_NO_MEMORY;
    }
    /* from here on, destroy() owns send_ctx */
    int cond_rc = memgauge__cond_init(&t->cond);
    t->cfg = *cfg;
    if (cond_rc != 0) {
        if (cfg->send_ctx_free != NULL)
            cfg->send_ctx_free(cfg->send_ctx);
        if (cfg->log_ctx_free != NULL)
            cfg->log_ctx_free(cfg->log_ctx);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return MEMGAUGE__TR_E_NO_MEMORY;
    }
    char url[MEMGAUGE__TR_URL_MAX];
    t->cfg.url = memgauge__tr_resolve_url(cfg->url, url, sizeof url) == 0 ? dup_or_null(url) : NULL;
    t->cfg.ca_file = dup_or_null(cfg->ca_file);
    t->cfg.proxy = dup_or_null(cfg->proxy);
    t->cfg.spool_dir = dup_or_null(cfg->spool_dir);
    t->cfg.api_key = NULL;
    t->cfg.extra_headers = NULL;
    t->meta = *meta;
    t->send = send;
    t->send_ctx = cfg->send != NULL ? cfg->send_ctx : &t->cfg;
    t->q_cap = cfg->queue_capacity > 0 ? cfg->queue_capacity : 1;
    t->q = calloc(t->q_cap, sizeof *t->q);
    t->samples = malloc(MAX_WINDOW_SAMPLES * sizeof *t->samples);
    t->events = malloc(MAX_PENDING_EVENTS * sizeof *t->events);
    int rc = 0;
    if (t->cfg.url == NULL || t->cfg.spool_dir == NULL || t->q == NULL || t->samples == NULL ||
        t->events == NULL || (cfg->ca_file && !t->cfg.ca_file) || (cfg->proxy && !t->cfg.proxy))
        rc = MEMGAUGE__TR_E_NO_MEMORY;
    char agent[64];
    snprintf(agent, sizeof agent, "%s", meta->sdk_version);
    if (rc == 0 &&
        (add_header(t, "Content-Type: ", "application/json") != 0 ||
         add_header(t, "User-Agent: memgauge/", agent) != 0 ||
         (cfg->api_key != NULL && add_header(t, "Authorization: Bearer ", cfg->api_key) != 0)))
        rc = MEMGAUGE__TR_E_NO_MEMORY;
    for (size_t i = 0; rc == 0 && i < cfg->extra_header_count; i++)
        if (add_header(t, "", cfg->extra_headers[i]) != 0)
            rc = MEMGAUGE__TR_E_NO_MEMORY;
    if (rc == 0 && previous != NULL && set_previous(t, previous) != 0)
        rc = MEMGAUGE__TR_E_NO_MEMORY;
    if (rc == 0 && memgauge__spool_open(&t->spool, t->cfg.spool_dir, cfg->spool_max_bytes,
                                        cfg->spool_max_files, cfg->spool_max_age_s) != 0)
        rc = MEMGAUGE__TR_E_SPOOL;
    if (rc != 0) {
        destroy(t);
        return rc;
    }
    memgauge__spool_oldest(&t->spool, (char[MEMGAUGE__SPOOL_NAME_MAX]){0});
    t->last_flush_ns = memgauge__now_ns();
    if (memgauge__thread_start(&t->thread, worker_main, t) != 0) {
        destroy(t);
        return MEMGAUGE__TR_E_THREAD;
    }
    *out = t;
    return 0;
}

void memgauge__tr_end_clean(memgauge__tr_t *t, uint64_t end_ms)
{
    pthread_mutex_lock(&t->lock);
    t->end_set = 1;
    t->end_ms_set = end_ms;
    pthread_mutex_unlock(&t->lock);
}

int memgauge__tr_stop(memgauge__tr_t *t, uint32_t timeout_ms)
{
    pthread_mutex_lock(&t->lock);
    uint64_t deadline = memgauge__now_ns() + (uint64_t)timeout_ms * 1000000u;
    t->stop = 1;
    t->deadline_ns = deadline;
    pthread_cond_broadcast(&t->cond);
    int aborted = 0;
    for (;;) {
        if (t->exited)
            break;
        uint64_t until = aborted ? deadline + (uint64_t)STOP_GRACE_MS * 1000000u : deadline;
        if (memgauge__cond_wait_until(&t->cond, &t->lock, until) == ETIMEDOUT && !t->exited) {
            if (aborted)
                break;
            atomic_store(&t->abort_flag, 1); /* the transfer in flight ends now */
            aborted = 1;
        }
    }
    if (!t->exited) {
        t->orphaned = 1; /* a send hook ignores its timeout: the worker frees t */
        pthread_t th = t->thread;
        pthread_mutex_unlock(&t->lock);
        pthread_detach(th);
        return -1;
    }
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    destroy(t);
    return 0;
}

void memgauge__tr_get_stats(memgauge__tr_t *t, memgauge__tr_stats_t *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->stats;
    pthread_mutex_unlock(&t->lock);
}
