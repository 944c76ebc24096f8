/* Backend selection and what both backends share. */
#include "store.h"

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
    for (size_t i = 0; rows && i < n; i++)
        memgauge__series_clear(&rows[i].series);
    free(rows);
}

void memgauge__termination_rows_free(memgauge__termination_row_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        memgauge__series_clear(&rows[i].trail);
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
    for (size_t i = 0; i < b->dropped_count; i++)
        out->dropped += b->dropped[i].count;
}
