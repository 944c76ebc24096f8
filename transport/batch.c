/* The batch being assembled and its pending spool file. See batch.h, whose
 * invariants the functions below keep. Worker thread only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "worker.h"

int memgauge__tr_batch_init(memgauge__tr_assembly_t *a)
{
    a->samples = malloc(MEMGAUGE__TR_MAX_WINDOW_SAMPLES * sizeof *a->samples);
    a->events = malloc(MEMGAUGE__TR_MAX_PENDING_EVENTS * sizeof *a->events);
    a->last_flush_ns = memgauge__now_ns();
    a->first_pending = 1;
    return a->samples != NULL && a->events != NULL ? 0 : -1;
}

int memgauge__tr_batch_set_previous(memgauge__tr_assembly_t *a, const memgauge__tr_previous_t *p)
{
    memgauge__tr_sample_t *trail = NULL;
    if (p->trail != NULL && p->trail_count > 0) {
        trail = malloc(p->trail_count * sizeof *trail);
        if (trail == NULL)
            return -1;
        memcpy(trail, p->trail, p->trail_count * sizeof *trail);
    }
    a->previous = *p;
    a->previous.trail = trail;
    a->previous.trail_count = trail != NULL ? p->trail_count : 0;
    a->previous_trail = trail;
    a->previous_pending = 1;
    return 0;
}

void memgauge__tr_batch_free(memgauge__tr_assembly_t *a)
{
    for (size_t i = 0; i < a->win_count; i++)
        free(a->wins[i].series);
    a->win_count = 0;
    free(a->previous_trail);
    free(a->samples);
    free(a->events);
    a->previous_trail = NULL;
    a->samples = NULL;
    a->events = NULL;
}

static void close_window(memgauge__tr_t *t, const memgauge__tr_window_t *w)
{
    /* samples before the window belong to one the queue dropped */
    size_t skip = 0;
    while (skip < t->batch.sample_count && t->batch.samples[skip].t_ms < w->start_ms)
        skip++;
    size_t n = 0;
    while (skip + n < t->batch.sample_count && t->batch.samples[skip + n].t_ms <= w->end_ms)
        n++;
    memgauge__tr_sample_t *series = NULL;
    if (n == w->samples && n > 0) {
        series = malloc(n * sizeof *series);
        if (series != NULL)
            memcpy(series, t->batch.samples + skip, n * sizeof *series);
    }
    memmove(t->batch.samples, t->batch.samples + skip + n,
            (t->batch.sample_count - skip - n) * sizeof *t->batch.samples);
    t->batch.sample_count -= skip + n;
    if (w->samples == 0 ||
        t->batch.win_count == MEMGAUGE__TR_MAX_PENDING_WINDOWS) { /* drain flushed first: never */
        free(series);
        return;
    }
    memgauge__tr_pending_window_t *p = &t->batch.wins[t->batch.win_count++];
    t->batch.pend.wins_added = 1;
    p->w = *w;
    p->series = series;
    p->w.series = series;
    p->w.series_count = series != NULL ? n : 0;
}

int memgauge__tr_batch_drain(memgauge__tr_t *t)
{
    int due = 0;
    const memgauge__tr_item_t *it;
    /* at most one queue's worth per call, so that a producer that keeps
     * pushing cannot hold the worker here while sends wait */
    uint32_t left = t->queue.cap;
    for (; left > 0 && (it = memgauge__tr_queue_front(&t->queue)) != NULL;
         left--, memgauge__tr_queue_pop(&t->queue)) {
        if (it->kind == MEMGAUGE__TR_ITEM_SAMPLE) {
            if (t->batch.sample_count < MEMGAUGE__TR_MAX_WINDOW_SAMPLES)
                t->batch.samples[t->batch.sample_count++] = it->u.sample;
            else
                t->batch.lost.samples++;
        } else if (it->kind == MEMGAUGE__TR_ITEM_WINDOW) {
            if (t->batch.win_count ==
                MEMGAUGE__TR_MAX_PENDING_WINDOWS) /* a batch holds at most this many */
                memgauge__tr_batch_flush(t);
            close_window(t, &it->u.window);
            if (memgauge__now_ns() - t->batch.last_flush_ns >=
                    (uint64_t)t->cfg.report_interval_ms * 1000000u ||
                t->batch.first_pending || t->batch.event_count > 0 || t->batch.previous_pending ||
                t->batch.hurry)
                due = 1;
        } else if (it->kind == MEMGAUGE__TR_ITEM_EVENT) {
            if (t->batch.event_count < MEMGAUGE__TR_MAX_PENDING_EVENTS)
                t->batch.events[t->batch.event_count++] = it->u.event;
            else
                t->batch.lost.events++;
            due |= it->u.event.urgent;
            if (it->u.event.type == MEMGAUGE__TR_EVENT_PRESSURE)
                t->batch.hurry =
                    it->u.event.level_name != NULL && strcmp(it->u.event.level_name, "normal") != 0;
        }
    }
    return due;
}

/* A spool write the disk refused: what it held is counted as dropped by the
 * caller; the error is counted and told. */
static void spool_refused(memgauge__tr_t *t, int err, const char *what)
{
    memgauge__tr_add_stat(t, &t->stats.spool_write_errors, 1);
    memgauge__tr_say(t, MEMGAUGE__TR_LOG_SPOOL, 0,
                     "memgauge: cannot write the spool in %s (%s): %s", t->cfg.spool_dir,
                     strerror(err), what);
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
 * MEMGAUGE__TR_MAX_FULL_IDS: a later full batch's answer serves as well). */
static void choose_form(memgauge__tr_t *t, memgauge__tr_batch_t *b)
{
    b->short_meta = t->batch.meta_acked;
    if (b->short_meta)
        return;
    for (size_t i = 0; i < MEMGAUGE__TR_MAX_FULL_IDS; i++)
        if (strcmp(t->batch.full_ids[i], b->batch_id) == 0)
            return; /* a new version of the pending batch */
    memcpy(t->batch.full_ids[t->batch.full_next], b->batch_id, sizeof t->batch.full_ids[0]);
    t->batch.full_next = (t->batch.full_next + 1) % MEMGAUGE__TR_MAX_FULL_IDS;
}

/* A 2xx answered batch_id: when it was one of this session's full batches,
 * the collector has the description and later batches leave it out.
 * Batches already built keep their form (their bytes never change). */
void memgauge__tr_batch_acknowledged(memgauge__tr_t *t, const char *batch_id)
{
    for (size_t i = 0; !t->batch.meta_acked && i < MEMGAUGE__TR_MAX_FULL_IDS; i++)
        if (t->batch.full_ids[i][0] != '\0' && strcmp(t->batch.full_ids[i], batch_id) == 0)
            t->batch.meta_acked = 1;
}

/* Encodes, compresses and spools one batch of windows [from, to) (with the
 * events when `with_events`). Halves the windows while over the size cap. */
static void spool_batch(memgauge__tr_t *t, size_t from, size_t to, int with_events,
                        memgauge__tr_dropped_t *dropped, int with_end)
{
    memgauge__tr_window_t wins[MEMGAUGE__TR_MAX_PENDING_WINDOWS];
    for (size_t i = from; i < to; i++)
        wins[i - from] = t->batch.wins[i].w;
    memgauge__tr_batch_t b = {
        .meta = &t->meta,
        .sent_unix_ms = memgauge__wall_ms(),
        .windows = wins,
        .window_count = to - from,
        .events = with_events ? t->batch.events : NULL,
        .event_count = with_events ? t->batch.event_count : 0,
        .previous = with_events && t->batch.previous_pending ? &t->batch.previous : NULL,
        .dropped = dropped,
        .clean_end = with_end,
        .end_ms = t->batch.end_ms};
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
            t->batch.lost.samples += wins[0].samples;
            wins[0].series = NULL;
            json = memgauge__tr_encode(&b, &len);
        }
    }
    if (json == NULL) {
        t->batch.lost.windows += to - from;
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
        memgauge__tr_add_stat(t, &t->stats.spooled, 1);
        if (with_end)
            t->batch.end_written = 1;
        if (t->cfg.on_spooled != NULL)
            t->cfg.on_spooled(b.batch_id, t->cfg.on_spooled_ctx);
    } else {
        int err = errno;
        t->batch.lost.windows += to - from; /* the disk refused it: counted, never a crash */
        spool_refused(t, err, "a batch was dropped (counted in dropped_windows)");
    }
    memgauge__tr_add_stat(t, &t->stats.batches_built, 1);
    free(gz);
    free(json);
}

/* What was lost in total until now (*total) and since the last batch that
 * carried the counters (*d). */
static void dropped_now(memgauge__tr_t *t, memgauge__tr_dropped_t *total, memgauge__tr_dropped_t *d)
{
    *total = t->batch.lost;
    total->samples += atomic_load(&t->dropped_samples);
    total->events += atomic_load(&t->dropped_events);
    total->spool_evicted = t->spool.evicted;
    total->spool_corrupt = t->spool.corrupt;
    *d = (memgauge__tr_dropped_t){
        .samples = total->samples - t->batch.reported.samples,
        .events = total->events - t->batch.reported.events,
        .windows = total->windows - t->batch.reported.windows,
        .batches = total->batches - t->batch.reported.batches,
        .spool_evicted = total->spool_evicted - t->batch.reported.spool_evicted,
        .spool_corrupt = total->spool_corrupt - t->batch.reported.spool_corrupt,
    };
}

/* Writes everything pending as a version of the pending batch (its first
 * version picks the id and name). 0: written; 1: it does not fit in one
 * batch (the caller flushes); -1: not written (a previous version stays). */
static int write_pending(memgauge__tr_t *t, uint64_t *written_ms)
{
    memgauge__tr_dropped_t total, d;
    dropped_now(t, &total, &d);
    memgauge__tr_window_t wins[MEMGAUGE__TR_MAX_PENDING_WINDOWS];
    for (size_t i = 0; i < t->batch.win_count; i++)
        wins[i] = t->batch.wins[i].w;
    int first = t->batch.pend.name[0] == '\0';
    memgauge__tr_batch_t b = {.meta = &t->meta,
                              .sent_unix_ms = memgauge__wall_ms(),
                              .windows = wins,
                              .window_count = t->batch.win_count,
                              .events = t->batch.events,
                              .event_count = t->batch.event_count,
                              .previous = t->batch.previous_pending ? &t->batch.previous : NULL,
                              .dropped = &d,
                              .clean_end = t->batch.ending,
                              .end_ms = t->batch.end_ms};
    if (first) {
        memgauge__uuid_new(t->batch.pend.id);
        t->batch.pend.created = b.sent_unix_ms;
    }
    memcpy(b.batch_id, t->batch.pend.id, sizeof b.batch_id);
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
    int rc = memgauge__spool_write_pending(&t->spool, t->batch.pend.id, t->batch.pend.created,
                                           flags, body, body_len, t->batch.pend.name);
    int err = errno;
    free(gz);
    free(json);
    if (rc != 0) {
        spool_refused(t, err, "the batch being assembled stays in memory until it is due");
        return -1;
    }
    t->batch.pend.wins = t->batch.win_count;
    t->batch.pend.end = t->batch.ending;
    t->batch.pend.events = t->batch.event_count;
    t->batch.pend.previous = t->batch.previous_pending;
    t->batch.pend.total = total;
    t->batch.pend.wins_added = 0;
    *written_ms = b.sent_unix_ms;
    memgauge__tr_add_stat(t, &t->stats.pending_writes, 1);
    if (t->cfg.on_pending != NULL)
        t->cfg.on_pending(t->batch.pend.id, t->batch.win_count, t->cfg.on_pending_ctx);
    return 0;
}

/* The pending batch's file becomes a batch file. 0, or -1 when it is gone. */
static int promote_pending(memgauge__tr_t *t)
{
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    int rc = memgauge__spool_promote(&t->spool, t->batch.pend.name, name);
    if (rc == 0) {
        memgauge__tr_add_stat(t, &t->stats.spooled, 1);
        memgauge__tr_add_stat(t, &t->stats.batches_built, 1);
        if (t->cfg.on_spooled != NULL)
            t->cfg.on_spooled(t->batch.pend.id, t->cfg.on_spooled_ctx);
    }
    t->batch.pend.name[0] = '\0';
    return rc;
}

static void forget(memgauge__tr_t *t, size_t wins, size_t events)
{
    for (size_t i = 0; i < wins; i++)
        free(t->batch.wins[i].series);
    memmove(t->batch.wins, t->batch.wins + wins,
            (t->batch.win_count - wins) * sizeof t->batch.wins[0]);
    t->batch.win_count -= wins;
    memmove(t->batch.events, t->batch.events + events,
            (t->batch.event_count - events) * sizeof t->batch.events[0]);
    t->batch.event_count -= events;
}

/* A window closed and no batch is due: the batch so far goes to disk. */
void memgauge__tr_batch_keep_pending(memgauge__tr_t *t)
{
    if (!t->batch.pend.wins_added || t->batch.win_count == 0)
        return;
    uint64_t ms;
    if (write_pending(t, &ms) == 1)
        memgauge__tr_batch_flush(t); /* over the size cap: due now, and split */
}

void memgauge__tr_batch_flush(memgauge__tr_t *t)
{
    t->batch.pend.wins_added = 0;
    if (t->batch.pend.name[0] != '\0') {
        /* the pending batch's last version holds everything: promote it;
         * otherwise promote the version on disk as it is and build the rest
         * as new batches (never a window in two batch ids) */
        uint64_t ms;
        int whole = (t->batch.pend.wins == t->batch.win_count &&
                     t->batch.pend.events == t->batch.event_count &&
                     t->batch.pend.previous == t->batch.previous_pending &&
                     t->batch.pend.end == t->batch.ending) ||
                    write_pending(t, &ms) == 0;
        int carries_end = whole && t->batch.ending;
        size_t wins = t->batch.pend.wins, events = t->batch.pend.events;
        int previous = t->batch.pend.previous;
        memgauge__tr_dropped_t total = t->batch.pend.total;
        if (promote_pending(t) == 0) {
            forget(t, wins, events);
            if (previous)
                t->batch.previous_pending = 0;
            t->batch.reported = total;
            if (carries_end)
                t->batch.end_written = 1;
        }
        if (whole && t->batch.win_count == 0 && t->batch.event_count == 0 &&
            !t->batch.previous_pending && (!t->batch.ending || t->batch.end_written)) {
            t->batch.last_flush_ns = memgauge__now_ns();
            t->batch.first_pending = 0;
            return;
        }
    }
    /* a clean stop says so in a batch of its own when nothing else is left */
    int end_due = t->batch.ending && !t->batch.end_written;
    if (t->batch.win_count == 0 && t->batch.event_count == 0 && !t->batch.previous_pending &&
        !end_due)
        return;
    memgauge__tr_dropped_t total, d;
    dropped_now(t, &total, &d);
    t->batch.reported = total;
    size_t n = t->batch.win_count;
    spool_batch(t, 0, n, 1, &d, end_due);
    for (size_t i = 0; i < n; i++)
        free(t->batch.wins[i].series);
    t->batch.win_count = 0;
    t->batch.event_count = 0;
    t->batch.previous_pending = 0;
    t->batch.last_flush_ns = memgauge__now_ns();
    t->batch.first_pending = 0;
}
