/*
 * The transport's worker: the producer's side of the queue, the worker
 * loop that moves the queue into the batch being assembled (batch.c) and
 * sends the spool oldest first with retries, and the lifecycle (create,
 * stop, stats). A batch file leaves the spool only after a 2xx or a drop,
 * so a kill at any moment loses no built batch (batch.h).
 *
 * Locks: t->lock guards stop, exited, orphaned, the clean end and the stats
 * (worker.h). The queue and `kick` are lock-free (one producer, one
 * consumer).
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

#include "retry.h"
#include "spool.h"
#include "transport.h"
#include "worker.h"

#define IDLE_WAIT_MS 1000         /* the worker re-checks the queue at least this often */
#define STOP_GRACE_MS 200         /* how long stop waits past its deadline for an abort */
#define MEMGAUGE__TR_URL_MAX 2100 /* options' 2048 bytes and "/v1/reports" */

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

void memgauge__tr_push_sample(memgauge__tr_t *t, const memgauge__tr_sample_t *s)
{
    memgauge__tr_item_t it = {.kind = MEMGAUGE__TR_ITEM_SAMPLE, .u.sample = *s};
    if (!memgauge__tr_queue_push(&t->queue, &it))
        atomic_fetch_add_explicit(&t->dropped_samples, 1, memory_order_relaxed);
}

void memgauge__tr_push_window(memgauge__tr_t *t, const memgauge__tr_window_t *w)
{
    memgauge__tr_item_t it = {.kind = MEMGAUGE__TR_ITEM_WINDOW, .u.window = *w};
    it.u.window.series = NULL;
    it.u.window.series_count = 0;
    if (!memgauge__tr_queue_push(&t->queue, &it))
        atomic_fetch_add_explicit(&t->dropped_samples, w->samples, memory_order_relaxed);
    wake(t);
}

void memgauge__tr_push_event(memgauge__tr_t *t, const memgauge__tr_event_t *e)
{
    memgauge__tr_item_t it = {.kind = MEMGAUGE__TR_ITEM_EVENT, .u.event = *e};
    if (!memgauge__tr_queue_push(&t->queue, &it))
        atomic_fetch_add_explicit(&t->dropped_events, 1, memory_order_relaxed);
    if (e->urgent)
        wake(t);
}

void memgauge__tr_add_stat(memgauge__tr_t *t, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&t->lock);
    *field += n;
    pthread_mutex_unlock(&t->lock);
}

void memgauge__tr_say(memgauge__tr_t *t, int kind, int level, const char *fmt, ...)
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
    const char *hdrs[MEMGAUGE__TR_MAX_HEADERS + 1];
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
        memgauge__tr_say(
            t, MEMGAUGE__TR_LOG_CONFIG, 0,
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
        memgauge__tr_batch_acknowledged(t, e.batch_id);
    if (out == MEMGAUGE__TR_DONE && was_config_error)
        memgauge__tr_say(t, MEMGAUGE__TR_LOG_RECOVERED, 2,
                         "memgauge: the collector at %s accepts batches again (after %d)",
                         t->cfg.url, was_config_error);
    if (out == MEMGAUGE__TR_DROP)
        memgauge__tr_say(
            t, MEMGAUGE__TR_LOG_REJECTED, 1,
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
            t->batch.lost.batches++;
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
    t->stats.dropped_samples = atomic_load(&t->dropped_samples) + t->batch.lost.samples;
    t->stats.dropped_events = atomic_load(&t->dropped_events) + t->batch.lost.events;
    t->stats.dropped_windows = t->batch.lost.windows;
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
            t->batch.ending = 1;
            t->batch.end_ms = t->end_ms_set;
        }
        pthread_mutex_unlock(&t->lock);

        if (memgauge__tr_batch_drain(t) || stopping)
            memgauge__tr_batch_flush(t);
        else
            memgauge__tr_batch_keep_pending(t);
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
        memgauge__spool_rescan(&t->spool);
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

/* Frees the contexts the transport owns from the moment create is called. */
static void free_contexts(const memgauge__tr_config_t *cfg)
{
    if (cfg->send_ctx_free != NULL)
        cfg->send_ctx_free(cfg->send_ctx);
    if (cfg->log_ctx_free != NULL)
        cfg->log_ctx_free(cfg->log_ctx);
}

/* Frees everything create made; `synced` when the lock and the condition
 * were initialised. */
static void destroy_with(memgauge__tr_t *t, int synced)
{
    free_contexts(&t->cfg);
    memgauge__tr_batch_free(&t->batch);
    for (size_t i = 0; i < t->header_count; i++)
        free(t->headers[i]);
    free((char *)t->cfg.url);
    free((char *)t->cfg.ca_file);
    free((char *)t->cfg.proxy);
    free((char *)t->cfg.spool_dir);
    memgauge__tr_queue_free(&t->queue);
    if (synced) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
    }
    free(t);
}

static void destroy(memgauge__tr_t *t)
{
    destroy_with(t, 1);
}

/* The lock and the condition, both or neither. 0 or -1. */
static int init_sync(memgauge__tr_t *t)
{
    if (pthread_mutex_init(&t->lock, NULL) != 0)
        return -1;
    if (memgauge__cond_init(&t->cond) != 0) {
        pthread_mutex_destroy(&t->lock);
        return -1;
    }
    return 0;
}

static int add_header(memgauge__tr_t *t, const char *name, const char *value)
{
    if (t->header_count + 2 >= MEMGAUGE__TR_MAX_HEADERS) /* room for Content-Encoding */
        return -1;
    char *h = NULL;
    if (asprintf(&h, "%s%s", name, value) < 0)
        return -1;
    t->headers[t->header_count++] = h;
    return 0;
}

/* The request headers every batch carries, as owned "Name: value" lines. */
static int add_headers(memgauge__tr_t *t, const memgauge__tr_config_t *cfg)
{
    char agent[64];
    snprintf(agent, sizeof agent, "%s", t->meta.sdk_version);
    if (add_header(t, "Content-Type: ", "application/json") != 0 ||
        add_header(t, "User-Agent: memgauge/", agent) != 0 ||
        (cfg->api_key != NULL && add_header(t, "Authorization: Bearer ", cfg->api_key) != 0))
        return -1;
    for (size_t i = 0; i < cfg->extra_header_count; i++)
        if (add_header(t, "", cfg->extra_headers[i]) != 0)
            return -1;
    return 0;
}

int memgauge__tr_create(const memgauge__tr_config_t *cfg, const memgauge__tr_meta_t *meta,
                        const memgauge__tr_previous_t *previous, memgauge__tr_t **out)
{
    *out = NULL;
    memgauge__tr_send_fn send = cfg->send != NULL ? cfg->send : memgauge__tr_curl_sender();
    memgauge__tr_t *t = NULL;
    int synced = 0;
    int rc = MEMGAUGE__TR_E_URL;
    if (cfg->url == NULL || cfg->spool_dir == NULL)
        goto fail;
    rc = MEMGAUGE__TR_E_NO_SENDER;
    if (send == NULL)
        goto fail;
    rc = MEMGAUGE__TR_E_NO_MEMORY;
    if ((t = calloc(1, sizeof *t)) == NULL)
        goto fail;
    /* from here on, destroy_with() frees what t->cfg points to: the
     * contexts now, the strings once they are our copies */
    t->cfg = *cfg;
    t->cfg.url = t->cfg.ca_file = t->cfg.proxy = t->cfg.spool_dir = NULL;
    t->cfg.api_key = NULL;
    t->cfg.extra_headers = NULL;
    t->meta = *meta;
    t->send = send;
    t->send_ctx = cfg->send != NULL ? cfg->send_ctx : &t->cfg;

    char url[MEMGAUGE__TR_URL_MAX];
    if (memgauge__tr_resolve_url(cfg->url, url, sizeof url) != 0 ||
        (t->cfg.url = strdup(url)) == NULL || (t->cfg.spool_dir = strdup(cfg->spool_dir)) == NULL ||
        (cfg->ca_file != NULL && (t->cfg.ca_file = strdup(cfg->ca_file)) == NULL) ||
        (cfg->proxy != NULL && (t->cfg.proxy = strdup(cfg->proxy)) == NULL))
        goto fail;
    if (memgauge__tr_queue_init(&t->queue, cfg->queue_capacity) != 0 ||
        memgauge__tr_batch_init(&t->batch) != 0 || add_headers(t, cfg) != 0 ||
        (previous != NULL && memgauge__tr_batch_set_previous(&t->batch, previous) != 0))
        goto fail;
    rc = MEMGAUGE__TR_E_SPOOL;
    if (memgauge__spool_open(&t->spool, t->cfg.spool_dir, cfg->spool_max_bytes,
                             cfg->spool_max_files, cfg->spool_max_age_s) != 0)
        goto fail;
    memgauge__spool_rescan(&t->spool);

    rc = MEMGAUGE__TR_E_NO_MEMORY;
    if (init_sync(t) != 0)
        goto fail;
    synced = 1;
    t->batch.last_flush_ns = memgauge__now_ns();
    rc = MEMGAUGE__TR_E_THREAD;
    if (memgauge__thread_start(&t->thread, worker_main, t) != 0)
        goto fail;
    *out = t;
    return 0;

fail:
    if (t != NULL)
        destroy_with(t, synced);
    else
        free_contexts(cfg); /* the contexts are ours whatever happens */
    return rc;
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
