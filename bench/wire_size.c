/*
 * Bytes on the wire per sample: an hour of a realistic footprint curve at
 * 1 Hz and at 10 Hz, encoded the way the transport sends it (wire format v1,
 * columnar deltas, gzip) beside a naive encoding (one JSON object per sample,
 * also gzip'd), for several report intervals. Request bodies only; HTTP
 * headers add about 250 bytes per request.
 *
 * Usage: bench/wire_size [--quick]
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define PAGE 16384u
#define WINDOW_MS 10000u

/* The curve: a 180 MB app that mostly drifts by a few pages, allocates in
 * bursts (a screen, an image) and frees some of it later. xorshift: the same
 * curve every run. */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void curve(memgauge__tr_sample_t *s, size_t n, uint64_t step_ms)
{
    int64_t pages = 180u * 1024u * 1024u / PAGE, resident_extra = 3000;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_rand() % 1000;
        if (r < 600)
            pages += 0;
        else if (r < 900)
            pages += (int64_t)(next_rand() % 5) - 2;
        else if (r < 985)
            pages += (int64_t)(next_rand() % 40) - 15;
        else if (r < 995)
            pages += 200 + (int64_t)(next_rand() % 800); /* a burst */
        else
            pages -= (int64_t)(next_rand() % 600);
        if (pages < 8000)
            pages = 8000;
        if (next_rand() % 20 == 0)
            resident_extra += (int64_t)(next_rand() % 11) - 5;
        s[i].t_ms = i * step_ms;
        s[i].footprint = (uint64_t)pages * PAGE;
        s[i].resident = (uint64_t)(pages + resident_extra) * PAGE;
        s[i].peak_excess = next_rand() % 300 == 0 ? (next_rand() % 50) * PAGE : 0;
    }
}

static memgauge__tr_meta_t meta(void)
{
    memgauge__tr_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.sdk_version, sizeof m.sdk_version, "0.2.0");
    snprintf(m.app_id, sizeof m.app_id, "com.example.photos");
    snprintf(m.app_version, sizeof m.app_version, "2.4.0");
    snprintf(m.app_build, sizeof m.app_build, "2401");
    snprintf(m.device_model, sizeof m.device_model, "iPhone15,2");
    snprintf(m.os_name, sizeof m.os_name, "iOS");
    snprintf(m.os_version, sizeof m.os_version, "17.5.1");
    memgauge__tr_uuid(m.session_id);
    m.session_start_unix_ms = 1718000000000ull;
    m.interval_ms = 1000;
    snprintf(m.metric, sizeof m.metric, "phys_footprint");
    return m;
}

static void window_of(const memgauge__tr_sample_t *s, size_t n, memgauge__tr_window_t *w)
{
    memset(w, 0, sizeof *w);
    w->start_ms = s[0].t_ms;
    w->end_ms = s[n - 1].t_ms;
    w->samples = n;
    w->first = s[0].footprint;
    w->last = s[n - 1].footprint;
    w->min = w->max = s[0].footprint;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t f = s[i].footprint;
        w->min = f < w->min ? f : w->min;
        w->max = f > w->max ? f : w->max;
        w->peak = f + s[i].peak_excess > w->peak ? f + s[i].peak_excess : w->peak;
        sum += f;
    }
    w->mean = sum / n;
    w->kernel_peak = w->peak;
    w->limit = 3ull << 30;
    w->headroom = w->limit - w->max;
    w->series = s;
    w->series_count = n;
}

static size_t gz_size(const char *text, size_t len)
{
    size_t n = 0;
    unsigned char *z = memgauge__tr_gzip(text, len, &n);
    free(z);
    return n;
}

/* One naive batch: an array of {"t_unix_ms","footprint","resident","peak"}. */
static size_t naive_batch(const memgauge__tr_sample_t *s, size_t n, size_t *raw)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "session_id", "0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b");
    cJSON *a = cJSON_AddArrayToObject(root, "samples");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t_unix_ms", (double)(1718000000000ull + s[i].t_ms));
        cJSON_AddNumberToObject(o, "footprint", (double)s[i].footprint);
        cJSON_AddNumberToObject(o, "resident", (double)s[i].resident);
        cJSON_AddNumberToObject(o, "peak", (double)(s[i].footprint + s[i].peak_excess));
        cJSON_AddItemToArray(a, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    *raw = strlen(text);
    size_t z = gz_size(text, *raw);
    free(text);
    cJSON_Delete(root);
    return z;
}

static void run(unsigned hz, unsigned report_s, size_t seconds)
{
    size_t n = seconds * hz, per_window = WINDOW_MS / 1000u * hz;
    size_t windows_per_batch = report_s * 1000u / WINDOW_MS;
    memgauge__tr_sample_t *s = malloc(n * sizeof *s);
    memgauge__tr_window_t *w = malloc((windows_per_batch + 1) * sizeof *w);
    rng = 88172645463325252ull;
    curve(s, n, 1000u / hz);
    memgauge__tr_meta_t m = meta();
    m.interval_ms = 1000u / hz;
    size_t ours = 0, ours_raw = 0, naive = 0, naive_raw = 0, batches = 0;
    for (size_t start = 0; start < n; start += per_window * windows_per_batch) {
        size_t nw = 0, first = start;
        for (; nw < windows_per_batch && first < n; nw++, first += per_window)
            window_of(s + first, first + per_window <= n ? per_window : n - first, &w[nw]);
        memgauge__tr_dropped_t d = {0};
        memgauge__tr_batch_t b = {.meta = &m,
                                  .sent_unix_ms = 1718000000000ull + s[start].t_ms,
                                  .windows = w,
                                  .window_count = nw,
                                  .dropped = &d};
        memgauge__tr_uuid(b.batch_id);
        size_t len;
        char *text = memgauge__tr_encode(&b, &len);
        ours_raw += len;
        ours += gz_size(text, len);
        free(text);
        size_t count = first < n ? first - start : n - start, raw;
        naive += naive_batch(s + start, count, &raw);
        naive_raw += raw;
        batches++;
    }
    printf("%3u Hz  batch every %4u s  %6zu batches  ours %6.2f B/sample (%6.1f raw)   "
           "naive %6.2f B/sample (%6.1f raw)   %.1fx smaller\n",
           hz, report_s, batches, (double)ours / (double)n, (double)ours_raw / (double)n,
           (double)naive / (double)n, (double)naive_raw / (double)n, (double)naive / (double)ours);
    free(w);
    free(s);
}

int main(int argc, char **argv)
{
    size_t seconds = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 600 : 3600;
    printf("wire_size: %zu s of a realistic footprint curve, 10 s windows, gzip'd request "
           "bodies\n",
           seconds);
    static const unsigned hz[] = {1, 10};
    static const unsigned report_s[] = {10, 60, 300};
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 3; j++)
            run(hz[i], report_s[j], seconds);
    return 0;
}
