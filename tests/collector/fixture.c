#include "fixture.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define PAGE 16384u

const char *fixture_uuid(char buf[37], uint64_t n)
{
    snprintf(buf, 37, "00000000-0000-4000-8000-%012llx", (unsigned long long)n);
    return buf;
}

static void add_series_column(cJSON *series, const char *name, const int64_t *v, size_t n,
                              int delta)
{
    cJSON *a = cJSON_AddArrayToObject(series, name);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(delta && i ? v[i] - v[i - 1] : v[i])));
}

cJSON *fixture_batch(const fixture_batch_t *f)
{
    size_t nw = f->windows ? f->windows : 1;
    size_t per = f->samples_per_window ? f->samples_per_window : 10;
    uint64_t interval = f->interval_ms ? f->interval_ms : 1000;
    uint64_t base = f->base_pages ? f->base_pages : 11520;
    int64_t step = f->step_pages ? f->step_pages : 16;
    uint64_t limit = f->limit_bytes == 0 ? 2147483648ull : f->limit_bytes;
    if (f->limit_bytes == 1)
        limit = 0; /* 1 means "unknown" */

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "schema", f->short_meta ? 2 : 1);
    cJSON_AddStringToObject(root, "batch_id", f->batch_id);
    cJSON_AddNumberToObject(root, "sent_unix_ms", 1718000012000.0);
    if (!f->short_meta) {
        cJSON *sdk = cJSON_AddObjectToObject(root, "sdk");
        cJSON_AddStringToObject(sdk, "name", "memgauge");
        cJSON_AddStringToObject(sdk, "version", "0.1.0");
    }
    cJSON *app = cJSON_AddObjectToObject(root, "app");
    cJSON_AddStringToObject(app, "id", f->app_id ? f->app_id : "com.example.photos");
    if (!f->short_meta) {
        cJSON_AddStringToObject(app, "version", f->app_version ? f->app_version : "2.4.0");
        cJSON_AddStringToObject(app, "build", "2401");
        cJSON *dev = cJSON_AddObjectToObject(root, "device");
        cJSON_AddStringToObject(dev, "model", f->device_model ? f->device_model : "iPhone15,2");
        cJSON_AddStringToObject(dev, "os_name", "iOS");
        cJSON_AddStringToObject(dev, "os_version", f->os_version ? f->os_version : "17.5.1");
        if (f->os_build)
            cJSON_AddStringToObject(dev, "os_build", f->os_build);
    }
    cJSON *ses = cJSON_AddObjectToObject(root, "session");
    cJSON_AddStringToObject(ses, "id", f->session_id);
    cJSON_AddNumberToObject(ses, "start_unix_ms",
                            f->start_unix_ms ? (double)f->start_unix_ms : 1718000000000.0);
    if (!f->short_meta)
        cJSON_AddNumberToObject(ses, "interval_ms", (double)interval);
    if (f->clean_stop_ms) {
        cJSON_AddStringToObject(ses, "end", "clean_stop");
        cJSON_AddNumberToObject(ses, "end_ms", (double)f->clean_stop_ms);
    }
    cJSON_AddStringToObject(root, "metric", "phys_footprint");
    cJSON *windows = cJSON_AddArrayToObject(root, "windows");
    int64_t *t = malloc(per * sizeof *t), *fp = malloc(per * sizeof *fp);
    int64_t *ex = calloc(per, sizeof *ex);
    for (size_t w = 0; w < nw; w++) {
        uint64_t mn = UINT64_MAX, mx = 0, pk = 0, sum = 0;
        for (size_t i = 0; i < per; i++) {
            size_t k = w * per + i;
            t[i] = (int64_t)(f->first_t_ms + k * interval);
            int64_t tri = (int64_t)(k % 50 <= 25 ? k % 50 : 50 - k % 50); /* rises, then falls */
            fp[i] = (int64_t)base + step * tri;
            ex[i] = (f->spike_at && k == f->spike_at) ? (int64_t)f->spike_pages : 0;
            uint64_t b = (uint64_t)fp[i] * PAGE;
            mn = b < mn ? b : mn;
            mx = b > mx ? b : mx;
            uint64_t p = b + (uint64_t)ex[i] * PAGE;
            pk = p > pk ? p : pk;
            sum += b;
        }
        cJSON *win = cJSON_CreateObject();
        cJSON_AddNumberToObject(win, "start_ms", (double)t[0]);
        cJSON_AddNumberToObject(win, "end_ms", (double)t[per - 1]);
        cJSON_AddNumberToObject(win, "samples", (double)per);
        cJSON_AddNumberToObject(win, "first", (double)((uint64_t)fp[0] * PAGE));
        cJSON_AddNumberToObject(win, "last", (double)((uint64_t)fp[per - 1] * PAGE));
        cJSON_AddNumberToObject(win, "min", (double)mn);
        cJSON_AddNumberToObject(win, "max", (double)mx);
        cJSON_AddNumberToObject(win, "mean", (double)(sum / per));
        cJSON_AddNumberToObject(win, "peak", (double)pk);
        cJSON_AddNumberToObject(win, "kernel_peak", (double)pk);
        cJSON_AddNumberToObject(win, "limit", (double)limit);
        cJSON_AddNumberToObject(win, "headroom", limit ? (double)(limit - mx) : 0);
        cJSON *series = cJSON_AddObjectToObject(win, "series");
        cJSON_AddNumberToObject(series, "unit_bytes", PAGE);
        add_series_column(series, "t", t, per, 1);
        add_series_column(series, "footprint", fp, per, 1);
        add_series_column(series, "resident", fp, per, 1);
        add_series_column(series, "peak_excess", ex, per, 0);
        cJSON_AddItemToArray(windows, win);
    }
    cJSON *events = cJSON_AddArrayToObject(root, "events");
    if (f->verdict) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", "previous_session");
        cJSON_AddNumberToObject(e, "t_ms", 0);
        cJSON_AddStringToObject(e, "session_id", f->prev_session);
        cJSON_AddStringToObject(e, "verdict", f->verdict);
        if (!f->grade || f->grade[0])
            cJSON_AddStringToObject(e, "grade", f->grade ? f->grade : "high");
        cJSON_AddNumberToObject(e, "last_footprint", 2080374784.0);
        cJSON_AddNumberToObject(e, "limit", 2147483648.0);
        cJSON_AddStringToObject(e, "pressure", "critical");
        if (!f->no_trail) {
            cJSON *trail = cJSON_AddObjectToObject(e, "trail");
            cJSON_AddNumberToObject(trail, "unit_bytes", PAGE);
            int64_t tt[3] = {55000, 56000, 57000}, tf[3] = {124928, 125952, 126976};
            add_series_column(trail, "t", tt, 3, 1);
            add_series_column(trail, "footprint", tf, 3, 1);
        }
        cJSON_AddItemToArray(events, e);
    }
    if (f->threshold) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", "threshold");
        cJSON_AddNumberToObject(e, "t_ms", (double)(f->first_t_ms + interval));
        cJSON_AddNumberToObject(e, "id", 7);
        cJSON_AddStringToObject(e, "direction", "up");
        cJSON_AddBoolToObject(e, "urgent", 1);
        cJSON_AddNumberToObject(e, "level", 150000000);
        cJSON_AddNumberToObject(e, "footprint", 189005824);
        cJSON_AddNumberToObject(e, "limit", (double)limit);
        cJSON_AddItemToArray(events, e);
    }
    if (f->pressure) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", "pressure");
        cJSON_AddNumberToObject(e, "t_ms", (double)(f->first_t_ms + 2 * interval));
        cJSON_AddStringToObject(e, "level", "critical");
        cJSON_AddItemToArray(events, e);
    }
    cJSON *dropped = cJSON_AddObjectToObject(root, "dropped");
    cJSON_AddNumberToObject(dropped, "samples", 2);
    cJSON_AddNumberToObject(dropped, "spool_evicted", 1);
    free(t);
    free(fp);
    free(ex);
    return root;
}

char *fixture_batch_json(const fixture_batch_t *f)
{
    cJSON *root = fixture_batch(f);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

unsigned char *fixture_gzip(const void *data, size_t len, size_t *out_len)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    unsigned char *out = malloc(cap);
    cr_assert_not_null(out);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

int fixture_backend_is_pg(void)
{
    const char *pg = getenv("MEMGAUGE_TEST_PG");
    return pg && pg[0];
}

memgauge__store_t *fixture_store(char *url_out)
{
    static unsigned counter;
    char url[512], err[512];
    if (fixture_backend_is_pg()) {
        const char *server = getenv("MEMGAUGE_TEST_PG");
        char admin[512], dbname[64], sql[128];
        snprintf(admin, sizeof admin, "%s/postgres", server);
        snprintf(dbname, sizeof dbname, "mgtest_%d_%u", (int)getpid(), counter++);
        PGconn *c = PQconnectdb(admin);
        if (PQstatus(c) != CONNECTION_OK) {
            fprintf(stderr, "fixture: %s: %s", admin, PQerrorMessage(c));
            abort();
        }
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "fixture: %s: %s", sql, PQerrorMessage(c));
            abort();
        }
        PQclear(r);
        PQfinish(c);
        snprintf(url, sizeof url, "%s/%s", server, dbname);
    } else {
        snprintf(url, sizeof url, "/tmp/memgauge-test-%d-%u.db", (int)getpid(), counter++);
        unlink(url);
    }
    memgauge__store_t *st = memgauge__store_open(url, NULL, err, sizeof err);
    if (!st) {
        fprintf(stderr, "fixture: cannot open %s: %s\n", url, err);
        abort();
    }
    if (url_out)
        snprintf(url_out, 512, "%s", url);
    return st;
}
