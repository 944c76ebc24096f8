/* Wire format v2 (docs/wire-format.md): the batch written front to back with
 * the SDK's own JSON writer (json_out.h), gzip with zlib. The SDK links no
 * JSON library, so none can clash with an app's own copy (issue 14). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "json_out.h"
#include "transport.h"

/* JSON integers are exact only up to 2^53; the format refuses larger. */
#define MAX_EXACT (UINT64_C(1) << 53)

/* No bound of the encoder's own: the worker bounds what goes into a batch
 * (windows, samples, events) and halves a batch whose length passes
 * max_batch_bytes, so it needs that length, however long. */
#define ENCODE_MAX_BYTES (SIZE_MAX / 2)
#define ENCODE_FIRST_BYTES 4096 /* a default batch (6 windows of 10 samples) is about 2 KB */

static uint64_t count(uint64_t v)
{
    return v > MAX_EXACT ? MAX_EXACT : v;
}

static int64_t delta(uint64_t a, uint64_t b) /* b - a */
{
    if (b >= a)
        return (int64_t)count(b - a);
    return -(int64_t)count(a - b);
}

/* The largest power of two up to 65536 dividing every value (1 if none). */
static uint64_t unit_of(const memgauge__tr_sample_t *s, size_t n, int with_resident)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        bits |= s[i].footprint | s[i].peak_excess;
        if (with_resident)
            bits |= s[i].resident;
    }
    if (bits == 0)
        return 1;
    uint64_t unit = bits & (~bits + 1); /* lowest set bit */
    return unit > 65536 ? 65536 : unit;
}

static void put_count(memgauge__json_t *w, const char *name, uint64_t v)
{
    memgauge__json_key(w, name);
    memgauge__json_uint(w, count(v));
}

static void put_string(memgauge__json_t *w, const char *name, const char *s)
{
    memgauge__json_key(w, name);
    memgauge__json_string(w, s);
}

/* One column: first absolute, then differences (or absolute values when
 * `plain`). */
static void put_column(memgauge__json_t *w, const char *name, const memgauge__tr_sample_t *s,
                       size_t n, size_t field, uint64_t unit, int plain, int clamp_negative)
{
    memgauge__json_key(w, name);
    memgauge__json_array_begin(w);
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = *(const uint64_t *)((const char *)&s[i] + field) / unit;
        if (clamp_negative && i > 0 && v < prev)
            v = prev; /* times never go back: a wall-clock step in a trail */
        if (i == 0 || plain)
            memgauge__json_uint(w, count(v));
        else
            memgauge__json_int(w, delta(prev, v));
        prev = v;
    }
    memgauge__json_array_end(w);
}

static void put_series(memgauge__json_t *w, const char *name, const memgauge__tr_sample_t *s,
                       size_t n, int with_resident, int with_peak)
{
    uint64_t unit = unit_of(s, n, with_resident);
    memgauge__json_key(w, name);
    memgauge__json_object_begin(w);
    put_count(w, "unit_bytes", unit);
    put_column(w, "t", s, n, offsetof(memgauge__tr_sample_t, t_ms), 1, 0, 1);
    put_column(w, "footprint", s, n, offsetof(memgauge__tr_sample_t, footprint), unit, 0, 0);
    if (with_resident)
        put_column(w, "resident", s, n, offsetof(memgauge__tr_sample_t, resident), unit, 0, 0);
    if (with_peak) {
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = s[i].peak_excess != 0;
        if (any) /* almost always all zero: leave the column out */
            put_column(w, "peak_excess", s, n, offsetof(memgauge__tr_sample_t, peak_excess), unit,
                       1, 0);
    }
    memgauge__json_object_end(w);
}

/* What a collector derives from a window's series when an aggregate is left
 * out (docs/wire-format.md, "window"): computed from the values exactly as
 * encoded, so a field is omitted only when the collector gets it back bit
 * for bit. Returns 0 when the series cannot stand in (a value beyond 2^53). */
typedef struct derived_s {
    uint64_t start_ms, end_ms, samples, first, last, min, max, mean, peak;
} derived_t;

static int derive(const memgauge__tr_sample_t *s, size_t n, derived_t *d)
{
    memset(d, 0, sizeof *d);
    if (n == 0)
        return 0;
    uint64_t t = s[0].t_ms, q = 0, r = 0; /* mean = q + r / n, exact without overflow */
    d->start_ms = t;
    d->samples = n;
    d->first = d->min = d->max = s[0].footprint;
    d->last = s[n - 1].footprint;
    for (size_t i = 0; i < n; i++) {
        uint64_t f = s[i].footprint, p = f + s[i].peak_excess;
        if (f > MAX_EXACT || p < f || p > MAX_EXACT || s[i].resident > MAX_EXACT ||
            s[i].t_ms > MAX_EXACT)
            return 0;
        t = s[i].t_ms > t ? s[i].t_ms : t; /* put_column keeps times from going back */
        d->min = f < d->min ? f : d->min;
        d->max = f > d->max ? f : d->max;
        d->peak = p > d->peak ? p : d->peak;
        q += f / n;
        r += f % n;
        if (r >= n) {
            q += r / n;
            r %= n;
        }
    }
    d->end_ms = t;
    d->mean = q;
    return 1;
}

/* An aggregate: left out when the collector derives the same value from the
 * series, or (`zero_default`) when it is 0, which the format's default says. */
static void put_aggregate(memgauge__json_t *w, const char *name, uint64_t v,
                          const uint64_t *derived, int zero_default)
{
    if ((derived != NULL && *derived == v) || (zero_default && v == 0))
        return;
    put_count(w, name, v);
}

/* Schema 2: kernel_peak, limit and headroom left out of a window mean the
 * previous window's values in the batch (0 before the first window). */
typedef struct carried_s {
    uint64_t kernel_peak, limit, headroom;
} carried_t;

static void put_carried(memgauge__json_t *w, const char *name, uint64_t v, uint64_t *prev)
{
    if (v != *prev)
        put_count(w, name, v);
    *prev = v;
}

static void put_window(memgauge__json_t *w, const memgauge__tr_window_t *win, carried_t *c)
{
    uint64_t max = win->max, peak = win->peak < win->max ? win->max : win->peak;
    uint64_t end = win->end_ms < win->start_ms ? win->start_ms : win->end_ms;
    int with_series = win->series != NULL && win->series_count == win->samples && win->samples > 0;
    derived_t d;
    int have = with_series && derive(win->series, win->series_count, &d);
#define DERIVED(field) (have ? &d.field : NULL)
    memgauge__json_object_begin(w);
    put_aggregate(w, "start_ms", win->start_ms, DERIVED(start_ms), 0);
    put_aggregate(w, "end_ms", end, DERIVED(end_ms), 0);
    put_aggregate(w, "samples", win->samples, DERIVED(samples), 0);
    put_aggregate(w, "first", win->first, DERIVED(first), 0);
    put_aggregate(w, "last", win->last, DERIVED(last), 0);
    put_aggregate(w, "min", win->min, DERIVED(min), 0);
    put_aggregate(w, "max", max, DERIVED(max), 0);
    put_aggregate(w, "mean", win->mean, DERIVED(mean), 0);
    put_aggregate(w, "peak", peak, DERIVED(peak), 0);
    put_carried(w, "kernel_peak", win->kernel_peak, &c->kernel_peak);
    put_carried(w, "limit", win->limit, &c->limit);
    put_carried(w, "headroom", win->headroom, &c->headroom);
#undef DERIVED
    if (win->metric != NULL)
        put_string(w, "metric", win->metric);
    if (with_series)
        put_series(w, "series", win->series, win->series_count, 1, 1);
    memgauge__json_object_end(w);
}

static void put_event(memgauge__json_t *w, const memgauge__tr_event_t *e)
{
    memgauge__json_object_begin(w);
    if (e->type == MEMGAUGE__TR_EVENT_THRESHOLD) {
        put_string(w, "type", "threshold");
        put_count(w, "t_ms", e->t_ms);
        memgauge__json_key(w, "id");
        memgauge__json_int(w, e->id);
        put_string(w, "direction", e->up ? "up" : "down");
        memgauge__json_key(w, "urgent");
        memgauge__json_bool(w, e->urgent != 0);
        put_count(w, "level", e->level);
        put_count(w, "footprint", e->footprint);
        put_count(w, "limit", e->limit);
    } else {
        put_string(w, "type", "pressure");
        put_count(w, "t_ms", e->t_ms);
        put_string(w, "level", e->level_name ? e->level_name : "normal");
        if (e->source != NULL)
            put_string(w, "source", e->source);
    }
    memgauge__json_object_end(w);
}

static void put_previous(memgauge__json_t *w, const memgauge__tr_previous_t *p)
{
    memgauge__json_object_begin(w);
    put_string(w, "type", "previous_session");
    put_count(w, "t_ms", 0);
    put_string(w, "session_id", p->session_id);
    put_string(w, "verdict", p->verdict);
    put_count(w, "last_footprint", p->last_footprint);
    put_count(w, "limit", p->limit);
    if (p->grade != NULL)
        put_string(w, "grade", p->grade);
    if (p->start_unix_ms != 0)
        put_count(w, "start_unix_ms", p->start_unix_ms);
    if (p->has_ended)
        put_count(w, "ended_ms", p->ended_ms);
    if (p->pressure != NULL)
        put_string(w, "pressure", p->pressure);
    if (p->trail != NULL && p->trail_count > 0) {
        size_t n = p->trail_count > 10000 ? 10000 : p->trail_count; /* the format's cap */
        put_series(w, "trail", p->trail + (p->trail_count - n), n, 0, 0);
    }
    memgauge__json_object_end(w);
}

/* Counters of what was dropped; a zero counter is left out (the collector
 * sums them per session, so absent and 0 mean the same), and the object
 * with it when every counter is 0. */
static void put_dropped(memgauge__json_t *w, const memgauge__tr_dropped_t *d)
{
    const char *names[] = {"samples", "events",        "windows",
                           "batches", "spool_evicted", "spool_corrupt"};
    uint64_t values[] = {d->samples, d->events,        d->windows,
                         d->batches, d->spool_evicted, d->spool_corrupt};
    int open = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (values[i] == 0)
            continue;
        if (!open) {
            memgauge__json_key(w, "dropped");
            memgauge__json_object_begin(w);
            open = 1;
        }
        put_count(w, names[i], values[i]);
    }
    if (open)
        memgauge__json_object_end(w);
}

/* Strings the format requires are 1..128 bytes: an unknown value is sent
 * as "unknown" rather than refused. */
static const char *text(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "unknown";
}

/* Members in the order the encoder has always written them (sdk, app,
 * device and session first). The short form (b->short_meta, schema 2) keeps
 * only what identifies the batch and its session: the collector has the
 * rest from an earlier batch of the session (docs/wire-format.md). */
static void put_batch(memgauge__json_t *w, const memgauge__tr_batch_t *b)
{
    const memgauge__tr_meta_t *m = b->meta;
    int full = !b->short_meta;
    memgauge__json_object_begin(w);
    if (full) {
        memgauge__json_key(w, "sdk");
        memgauge__json_object_begin(w);
        put_string(w, "name", "memgauge");
        put_string(w, "version", text(m->sdk_version));
        memgauge__json_object_end(w);
    }
    memgauge__json_key(w, "app");
    memgauge__json_object_begin(w);
    put_string(w, "id", text(m->app_id));
    if (full) {
        put_string(w, "version", text(m->app_version));
        if (m->app_build[0] != '\0')
            put_string(w, "build", m->app_build);
    }
    memgauge__json_object_end(w);
    if (full) {
        memgauge__json_key(w, "device");
        memgauge__json_object_begin(w);
        put_string(w, "model", text(m->device_model));
        put_string(w, "os_name", text(m->os_name));
        put_string(w, "os_version", text(m->os_version));
        if (m->os_build[0] != '\0')
            put_string(w, "os_build", m->os_build);
        memgauge__json_object_end(w);
    }
    memgauge__json_key(w, "session");
    memgauge__json_object_begin(w);
    put_string(w, "id", m->session_id);
    put_count(w, "start_unix_ms", m->session_start_unix_ms);
    if (full && m->interval_ms != 0)
        put_count(w, "interval_ms", m->interval_ms);
    if (b->clean_end) {
        put_string(w, "end", "clean_stop");
        put_count(w, "end_ms", b->end_ms);
    }
    memgauge__json_object_end(w);
    put_count(w, "schema", 2);
    put_string(w, "batch_id", b->batch_id);
    put_count(w, "sent_unix_ms", b->sent_unix_ms);
    put_string(w, "metric", m->metric);
    memgauge__json_key(w, "windows");
    memgauge__json_array_begin(w);
    carried_t carried = {0, 0, 0};
    for (size_t i = 0; i < b->window_count; i++)
        if (b->windows[i].samples != 0) /* the format has no empty windows */
            put_window(w, &b->windows[i], &carried);
    memgauge__json_array_end(w);
    if (b->event_count > 0 || b->previous != NULL) {
        memgauge__json_key(w, "events");
        memgauge__json_array_begin(w);
        if (b->previous != NULL)
            put_previous(w, b->previous);
        for (size_t i = 0; i < b->event_count; i++)
            put_event(w, &b->events[i]);
        memgauge__json_array_end(w);
    }
    if (b->dropped != NULL)
        put_dropped(w, b->dropped);
    memgauge__json_object_end(w);
}

char *memgauge__tr_encode(const memgauge__tr_batch_t *b, size_t *len)
{
    memgauge__json_t w;
    memgauge__json_init(&w, ENCODE_FIRST_BYTES, ENCODE_MAX_BYTES);
    put_batch(&w, b);
    size_t n = 0;
    char *out = memgauge__json_take(&w, &n); /* NULL after any error of the writer */
    memgauge__json_free(&w);
    if (out != NULL && len != NULL)
        *len = n;
    return out;
}

unsigned char *memgauge__tr_gzip(const void *src, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper rather than zlib's */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    unsigned char *out = malloc(cap);
    if (out == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

unsigned char *memgauge__tr_gunzip(const void *src, size_t len, size_t cap, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return NULL;
    size_t size = len * 4 + 256 < cap ? len * 4 + 256 : cap;
    unsigned char *out = malloc(size + 1);
    int rc = Z_OK;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)len;
    while (out != NULL) {
        z.next_out = out + z.total_out;
        z.avail_out = (uInt)(size - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK || z.avail_out != 0)
            break;
        if (size >= cap) {
            rc = Z_BUF_ERROR; /* over the cap */
            break;
        }
        size = size * 2 < cap ? size * 2 : cap;
        unsigned char *bigger = realloc(out, size + 1);
        if (bigger == NULL) {
            free(out);
            out = NULL;
        }
        out = bigger;
    }
    *out_len = z.total_out;
    inflateEnd(&z);
    if (out != NULL && rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    if (out != NULL)
        out[*out_len] = '\0';
    return out;
}
