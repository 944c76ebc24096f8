/* Backend selection and what both backends share. */
#include "store.h"

#include "series_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

memgauge__store_t *memgauge__store_open(const char *url, const memgauge__store_options_t *opts,
                                        char *err, size_t errlen)
{
    memgauge__store_options_t defaults = {0};
    if (!opts)
        opts = &defaults;
    if (!url || !url[0]) {
        snprintf(err, errlen, "--db: empty database location");
        return NULL;
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return memgauge__store_pg_open(url, opts, err, errlen);
    return memgauge__store_sqlite_open(url, opts, err, errlen);
}

void memgauge__window_rows_free(memgauge__window_row_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        memgauge__series_clear(&rows[i].series);
        free(rows[i].blob);
    }
    free(rows);
}

int memgauge__window_row_decode(memgauge__window_row_t *r)
{
    if (!r->blob || r->series.t_ms)
        return 0;
    int rc =
        memgauge__series_decode(r->blob, r->blob_len, MEMGAUGE__MAX_WINDOW_SAMPLES, &r->series);
    if (rc)
        return rc == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    return 0;
}

void memgauge__termination_rows_free(memgauge__termination_row_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        memgauge__series_clear(&rows[i].trail);
    free(rows);
}

void memgauge__rollup_rows_free(memgauge__rollup_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        memgauge__rollup_clear(&rows[i]);
    free(rows);
}

void memgauge__session_delta(const memgauge__batch_t *b, memgauge__session_delta_t *out)
{
    memset(out, 0, sizeof *out);
    out->peak_fraction = -1;
    for (size_t i = 0; i < b->window_count; i++) {
        const memgauge__window_t *w = &b->windows[i];
        out->samples += w->samples;
        if (w->end_ms > out->last_ms)
            out->last_ms = w->end_ms;
        if (w->end_ms > out->window_last_ms)
            out->window_last_ms = w->end_ms;
        if (w->peak > out->peak_bytes)
            out->peak_bytes = w->peak;
        if (w->max > out->max_bytes)
            out->max_bytes = w->max;
        if (w->limit) {
            out->limit_bytes = w->limit; /* the latest known limit */
            double f = (double)w->peak / (double)w->limit;
            if (f > out->peak_fraction)
                out->peak_fraction = f;
        }
    }
    if (b->clean_stop && b->end_ms > out->last_ms)
        out->last_ms = b->end_ms;
    for (size_t i = 0; i < b->dropped_count; i++)
        out->dropped += b->dropped[i].count;
}

/* Copies the samples of `in` with t > after into *out (n = 0 when none). */
static int tail_after(const memgauge__series_t *in, uint64_t after, memgauge__series_t *out)
{
    size_t first = 0;
    while (first < in->n && in->t_ms[first] <= after)
        first++;
    size_t n = in->n - first;
    memset(out, 0, sizeof *out);
    if (n == 0)
        return 0;
    if (memgauge__series_alloc(out, n, in->resident != NULL, in->peak != NULL))
        return MEMGAUGE__STORE_NO_MEMORY;
    out->unit_bytes = in->unit_bytes;
    memcpy(out->t_ms, in->t_ms + first, n * sizeof *out->t_ms);
    memcpy(out->footprint, in->footprint + first, n * sizeof *out->footprint);
    if (in->resident)
        memcpy(out->resident, in->resident + first, n * sizeof *out->resident);
    if (in->peak)
        memcpy(out->peak, in->peak + first, n * sizeof *out->peak);
    return 0;
}

int memgauge__fold_trail(memgauge__session_values_t *v, const memgauge__event_t *e,
                         memgauge__series_t *tail)
{
    const memgauge__series_t *t = &e->trail;
    memset(tail, 0, sizeof *tail);
    if (!e->has_trail || t->n == 0)
        return 0;
    if (tail_after(t, v->window_last_ms, tail))
        return MEMGAUGE__STORE_NO_MEMORY;
    v->samples = v->samples - v->trail_samples + tail->n;
    v->trail_samples = tail->n;
    uint64_t peak = 0, max = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint64_t p = t->peak ? t->peak[i] : t->footprint[i];
        peak = p > peak ? p : peak;
        max = t->footprint[i] > max ? t->footprint[i] : max;
    }
    uint64_t end = t->t_ms[t->n - 1] > e->ended_ms ? t->t_ms[t->n - 1] : e->ended_ms;
    if (end > v->last_ms)
        v->last_ms = end;
    if (peak > v->peak_bytes)
        v->peak_bytes = peak;
    if (max > v->max_bytes)
        v->max_bytes = max;
    if (e->limit)
        v->limit_bytes = e->limit; /* the last limit the session knew */
    if (v->limit_bytes) {
        double f = (double)peak / (double)v->limit_bytes;
        if (f > v->peak_fraction)
            v->peak_fraction = f;
    }
    return 0;
}

int memgauge__trim_trail(memgauge__session_values_t *v, memgauge__series_t *tail, int *changed)
{
    *changed = 0;
    if (tail->n == 0 || tail->t_ms[0] > v->window_last_ms)
        return 0;
    memgauge__series_t kept;
    if (tail_after(tail, v->window_last_ms, &kept))
        return MEMGAUGE__STORE_NO_MEMORY;
    v->samples -= tail->n - kept.n;
    v->trail_samples = kept.n;
    memgauge__series_clear(tail);
    *tail = kept;
    *changed = 1;
    return 0;
}

void memgauge__clean_stop_event(const memgauge__batch_t *b, memgauge__event_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = MEMGAUGE__EVENT_PREVIOUS_SESSION;
    out->t_ms = b->end_ms;
    snprintf(out->session_id, sizeof out->session_id, "%s", b->session_id);
    snprintf(out->verdict, sizeof out->verdict, "clean_exit");
    out->start_unix_ms = b->session_start_unix_ms;
    out->ended_ms = b->end_ms;
    if (b->window_count) { /* windows are in time order: the last one ended the session */
        out->last_footprint = b->windows[b->window_count - 1].last;
        out->limit = b->windows[b->window_count - 1].limit;
    }
}

void memgauge__put_result_describe(const memgauge__put_result_t *res, memgauge__batch_t *b)
{
    if (b->app_version[0] == '\0') {
        snprintf(b->app_version, sizeof b->app_version, "%s", res->app_version);
        snprintf(b->app_build, sizeof b->app_build, "%s", res->app_build);
    }
    if (b->device_model[0] == '\0') {
        snprintf(b->device_model, sizeof b->device_model, "%s", res->device_model);
        snprintf(b->os_name, sizeof b->os_name, "%s", res->os_name);
        snprintf(b->os_version, sizeof b->os_version, "%s", res->os_version);
    }
    if (b->os_build[0] == '\0')
        snprintf(b->os_build, sizeof b->os_build, "%s", res->os_build);
}
