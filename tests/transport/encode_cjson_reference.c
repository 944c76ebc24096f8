/*
 * The report encoder as it was when it built its JSON with cJSON, kept
 * unchanged (but for its name, and an entry point to the tree it built) as
 * the reference that test_transport_encode_differential.c holds
 * transport/encode.c to. Test code only: the SDK links no cJSON.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "encode_cjson_reference.h"

/* JSON integers are exact only up to 2^53; the format refuses larger. */
#define MAX_EXACT (UINT64_C(1) << 53)

static double count(uint64_t v)
{
    return (double)(v > MAX_EXACT ? MAX_EXACT : v);
}

static double delta(uint64_t a, uint64_t b) /* b - a */
{
    if (b >= a)
        return count(b - a);
    return -count(a - b);
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

static int add_number(cJSON *o, const char *name, double v)
{
    return cJSON_AddNumberToObject(o, name, v) != NULL;
}

/* One column: first absolute, then differences (or absolute values when
 * `plain`). */
static int add_column(cJSON *series, const char *name, const memgauge__tr_sample_t *s, size_t n,
                      size_t field, uint64_t unit, int plain, int clamp_negative)
{
    cJSON *a = cJSON_AddArrayToObject(series, name);
    if (a == NULL)
        return 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = *(const uint64_t *)((const char *)&s[i] + field) / unit;
        if (clamp_negative && i > 0 && v < prev)
            v = prev; /* times never go back: a wall-clock step in a trail */
        double x = (i == 0 || plain) ? count(v) : delta(prev, v);
        prev = v;
        cJSON *item = cJSON_CreateNumber(x);
        if (item == NULL || !cJSON_AddItemToArray(a, item)) {
            cJSON_Delete(item);
            return 0;
        }
    }
    return 1;
}

static cJSON *series_json(const memgauge__tr_sample_t *s, size_t n, int with_resident,
                          int with_peak)
{
    cJSON *o = cJSON_CreateObject();
    uint64_t unit = unit_of(s, n, with_resident);
    int ok =
        o != NULL && add_number(o, "unit_bytes", (double)unit) &&
        add_column(o, "t", s, n, offsetof(memgauge__tr_sample_t, t_ms), 1, 0, 1) &&
        add_column(o, "footprint", s, n, offsetof(memgauge__tr_sample_t, footprint), unit, 0, 0);
    if (ok && with_resident)
        ok = add_column(o, "resident", s, n, offsetof(memgauge__tr_sample_t, resident), unit, 0, 0);
    if (ok && with_peak) {
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = s[i].peak_excess != 0;
        if (any) /* almost always all zero: leave the column out */
            ok = add_column(o, "peak_excess", s, n, offsetof(memgauge__tr_sample_t, peak_excess),
                            unit, 1, 0);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
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
        t = s[i].t_ms > t ? s[i].t_ms : t; /* add_column keeps times from going back */
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
static int add_aggregate(cJSON *o, const char *name, uint64_t v, const uint64_t *derived,
                         int zero_default)
{
    if ((derived != NULL && *derived == v) || (zero_default && v == 0))
        return 1;
    return add_number(o, name, count(v));
}

/* Schema 2: a window leaves out kernel_peak, limit and headroom equal to
 * the previous window's (0 before the first). */
static int add_carried(cJSON *o, const char *name, uint64_t v, uint64_t *prev)
{
    int ok = v == *prev || add_number(o, name, count(v));
    *prev = v;
    return ok;
}

static cJSON *window_json(const memgauge__tr_window_t *w, uint64_t carried[3])
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    uint64_t max = w->max, peak = w->peak < w->max ? w->max : w->peak;
    uint64_t end = w->end_ms < w->start_ms ? w->start_ms : w->end_ms;
    int with_series = w->series != NULL && w->series_count == w->samples && w->samples > 0;
    derived_t d;
    int have = with_series && derive(w->series, w->series_count, &d);
#define DERIVED(field) (have ? &d.field : NULL)
    int ok = add_aggregate(o, "start_ms", w->start_ms, DERIVED(start_ms), 0) &&
             add_aggregate(o, "end_ms", end, DERIVED(end_ms), 0) &&
             add_aggregate(o, "samples", w->samples, DERIVED(samples), 0) &&
             add_aggregate(o, "first", w->first, DERIVED(first), 0) &&
             add_aggregate(o, "last", w->last, DERIVED(last), 0) &&
             add_aggregate(o, "min", w->min, DERIVED(min), 0) &&
             add_aggregate(o, "max", max, DERIVED(max), 0) &&
             add_aggregate(o, "mean", w->mean, DERIVED(mean), 0) &&
             add_aggregate(o, "peak", peak, DERIVED(peak), 0) &&
             add_carried(o, "kernel_peak", w->kernel_peak, &carried[0]) &&
             add_carried(o, "limit", w->limit, &carried[1]) &&
             add_carried(o, "headroom", w->headroom, &carried[2]);
#undef DERIVED
    if (ok && w->metric != NULL)
        ok = cJSON_AddStringToObject(o, "metric", w->metric) != NULL;
    if (ok && with_series) {
        cJSON *s = series_json(w->series, w->series_count, 1, 1);
        ok = s != NULL && cJSON_AddItemToObject(o, "series", s);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *event_json(const memgauge__tr_event_t *e)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    int ok;
    if (e->type == MEMGAUGE__TR_EVENT_THRESHOLD) {
        ok = cJSON_AddStringToObject(o, "type", "threshold") &&
             add_number(o, "t_ms", count(e->t_ms)) && add_number(o, "id", (double)e->id) &&
             cJSON_AddStringToObject(o, "direction", e->up ? "up" : "down") &&
             cJSON_AddBoolToObject(o, "urgent", e->urgent != 0) &&
             add_number(o, "level", count(e->level)) &&
             add_number(o, "footprint", count(e->footprint)) &&
             add_number(o, "limit", count(e->limit));
    } else {
        ok = cJSON_AddStringToObject(o, "type", "pressure") &&
             add_number(o, "t_ms", count(e->t_ms)) &&
             cJSON_AddStringToObject(o, "level", e->level_name ? e->level_name : "normal");
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *previous_json(const memgauge__tr_previous_t *p)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    int ok = cJSON_AddStringToObject(o, "type", "previous_session") && add_number(o, "t_ms", 0) &&
             cJSON_AddStringToObject(o, "session_id", p->session_id) &&
             cJSON_AddStringToObject(o, "verdict", p->verdict) &&
             add_number(o, "last_footprint", count(p->last_footprint)) &&
             add_number(o, "limit", count(p->limit));
    if (ok && p->grade != NULL)
        ok = cJSON_AddStringToObject(o, "grade", p->grade) != NULL;
    if (ok && p->start_unix_ms != 0)
        ok = add_number(o, "start_unix_ms", count(p->start_unix_ms));
    if (ok && p->has_ended)
        ok = add_number(o, "ended_ms", count(p->ended_ms));
    if (ok && p->pressure != NULL)
        ok = cJSON_AddStringToObject(o, "pressure", p->pressure) != NULL;
    if (ok && p->trail != NULL && p->trail_count > 0) {
        size_t n = p->trail_count > 10000 ? 10000 : p->trail_count; /* the format's cap */
        cJSON *s = series_json(p->trail + (p->trail_count - n), n, 0, 0);
        ok = s != NULL && cJSON_AddItemToObject(o, "trail", s);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Counters of what was dropped; a zero counter is left out (the collector
 * sums them per session, so absent and 0 mean the same), and the object
 * with it when every counter is 0. */
static int add_dropped(cJSON *root, const memgauge__tr_dropped_t *d)
{
    const char *names[] = {"samples", "events",        "windows",
                           "batches", "spool_evicted", "spool_corrupt"};
    uint64_t values[] = {d->samples, d->events,        d->windows,
                         d->batches, d->spool_evicted, d->spool_corrupt};
    cJSON *o = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (values[i] == 0)
            continue;
        if (o == NULL && (o = cJSON_AddObjectToObject(root, "dropped")) == NULL)
            return 0;
        if (!add_number(o, names[i], count(values[i])))
            return 0;
    }
    return 1;
}

/* Strings the format requires are 1..128 bytes: an unknown value is sent
 * as "unknown" rather than refused. */
static const char *text(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "unknown";
}

static cJSON *batch_json(const memgauge__tr_batch_t *b)
{
    const memgauge__tr_meta_t *m = b->meta;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    int full = !b->short_meta; /* the short form: only what identifies the batch */
    cJSON *sdk = full ? cJSON_AddObjectToObject(root, "sdk") : root;
    cJSON *app = cJSON_AddObjectToObject(root, "app");
    cJSON *dev = full ? cJSON_AddObjectToObject(root, "device") : root;
    cJSON *ses = cJSON_AddObjectToObject(root, "session");
    int ok =
        add_number(root, "schema", 2) && cJSON_AddStringToObject(root, "batch_id", b->batch_id) &&
        add_number(root, "sent_unix_ms", count(b->sent_unix_ms)) && sdk && app && dev && ses &&
        (!full || (cJSON_AddStringToObject(sdk, "name", "memgauge") &&
                   cJSON_AddStringToObject(sdk, "version", text(m->sdk_version)))) &&
        cJSON_AddStringToObject(app, "id", text(m->app_id)) &&
        (!full ||
         (cJSON_AddStringToObject(app, "version", text(m->app_version)) &&
          (m->app_build[0] == '\0' || cJSON_AddStringToObject(app, "build", m->app_build)) &&
          cJSON_AddStringToObject(dev, "model", text(m->device_model)) &&
          cJSON_AddStringToObject(dev, "os_name", text(m->os_name)) &&
          cJSON_AddStringToObject(dev, "os_version", text(m->os_version)) &&
          (m->os_build[0] == '\0' || cJSON_AddStringToObject(dev, "os_build", m->os_build)))) &&
        cJSON_AddStringToObject(ses, "id", m->session_id) &&
        add_number(ses, "start_unix_ms", count(m->session_start_unix_ms)) &&
        (!full || m->interval_ms == 0 || add_number(ses, "interval_ms", m->interval_ms)) &&
        (!b->clean_end || (cJSON_AddStringToObject(ses, "end", "clean_stop") &&
                           add_number(ses, "end_ms", count(b->end_ms)))) &&
        cJSON_AddStringToObject(root, "metric", m->metric);
    cJSON *windows = ok ? cJSON_AddArrayToObject(root, "windows") : NULL;
    ok = windows != NULL;
    uint64_t carried[3] = {0, 0, 0};
    for (size_t i = 0; ok && i < b->window_count; i++) {
        if (b->windows[i].samples == 0)
            continue; /* the format has no empty windows */
        cJSON *w = window_json(&b->windows[i], carried);
        ok = w != NULL && cJSON_AddItemToArray(windows, w);
    }
    if (ok && (b->event_count > 0 || b->previous != NULL)) {
        cJSON *events = cJSON_AddArrayToObject(root, "events");
        ok = events != NULL;
        if (ok && b->previous != NULL) {
            cJSON *e = previous_json(b->previous);
            ok = e != NULL && cJSON_AddItemToArray(events, e);
        }
        for (size_t i = 0; ok && i < b->event_count; i++) {
            cJSON *e = event_json(&b->events[i]);
            ok = e != NULL && cJSON_AddItemToArray(events, e);
        }
    }
    if (ok && b->dropped != NULL)
        ok = add_dropped(root, b->dropped);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *reference_cjson_tree(const memgauge__tr_batch_t *b)
{
    return batch_json(b);
}

char *reference_cjson_encode(const memgauge__tr_batch_t *b, size_t *len)
{
    cJSON *root = batch_json(b);
    if (root == NULL)
        return NULL;
    char *text_out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text_out != NULL && len != NULL)
        *len = strlen(text_out);
    return text_out;
}
