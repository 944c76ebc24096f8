/*
 * Bytes on the wire per sample: an hour of a realistic footprint curve at
 * 1 Hz and at 10 Hz, encoded the way the transport sends it (wire format v1,
 * columnar deltas, aggregates the series implies left out, gzip) beside a
 * naive encoding (the same batch metadata, then one JSON object per sample,
 * also gzip'd), for several window and report intervals. Request bodies
 * only; HTTP headers add about 250 bytes per request.
 *
 * The "default" rows take their windows and batches from
 * memgauge_options_init, so they follow the library's defaults.
 *
 * Usage: bench/wire_size [--quick] [--breakdown] [--dump]
 *   --breakdown  where the bytes of one batch go (the default windows and
 *                batches at 1 Hz and at 10 Hz)
 *   --dump       print those batches' JSON
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memgauge/memgauge.h"
#include "transport.h"

#define PAGE 16384u
#define TARGET 4.0 /* bytes per sample: the wire-size target of docs/performance.md */

/* The curve: a 180 MB app that mostly drifts by a few pages, allocates in
 * bursts (a screen, an image) and frees some of it later. Sample times carry
 * the sampler's wake-up latency (tens to hundreds of µs, now and then a few
 * ms late), as the SDK's t_ms do. xorshift: the same curve every run. */
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
    uint64_t late0 = 0;
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
        /* wake-up latency in µs: 50 .. 450, 1 in 100 ticks 1 .. 20 ms late */
        uint64_t late = 50 + next_rand() % 400;
        if (next_rand() % 100 == 0)
            late += 1000 + next_rand() % 19000;
        if (i == 0)
            late0 = late;
        s[i].t_ms = (i * step_ms * 1000u + late - late0) / 1000u; /* since the first sample */
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
    memgauge__uuid_new(m.session_id);
    m.session_start_unix_ms = 1718000000000ull;
    m.interval_ms = 1000;
    snprintf(m.metric, sizeof m.metric, "phys_footprint");
    return m;
}

static void window_of(const memgauge__tr_sample_t *s, size_t n, memgauge__tr_window_t *w,
                      uint64_t *high_water)
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
    /* the kernel's mark is the process's high-water mark so far */
    *high_water = w->peak > *high_water ? w->peak : *high_water;
    w->kernel_peak = *high_water;
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

/* One naive batch: the same batch metadata as ours (the transport's own
 * envelope: schema, ids, times, sdk, app, device, session, metric), then
 * "samples": [{"t_unix_ms","footprint","resident","peak"}, ...]. */
static size_t naive_batch(const memgauge__tr_batch_t *envelope, const memgauge__tr_sample_t *s,
                          size_t n, size_t *raw)
{
    memgauge__tr_batch_t e = *envelope;
    e.windows = NULL;
    e.window_count = 0;
    char *head = memgauge__tr_encode(&e, NULL);
    cJSON *root = cJSON_Parse(head);
    free(head);
    cJSON_DeleteItemFromObject(root, "windows");
    cJSON *a = cJSON_AddArrayToObject(root, "samples");
    uint64_t start = envelope->meta->session_start_unix_ms;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t_unix_ms", (double)(start + s[i].t_ms));
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

typedef struct config_s {
    unsigned hz, window_s, report_s;
    const char *note;
} config_t;

typedef struct result_s {
    size_t batches;
    double ours, ours_raw, naive, naive_raw; /* bytes per sample */
} result_t;

/* Calls `each` on every batch of the hour (the session's first window
 * alone, then the windows of report_s, as the transport builds them when
 * nothing urgent is pending). */
static result_t run(const config_t *c, size_t seconds,
                    void (*each)(const memgauge__tr_batch_t *b, size_t index, void *ctx), void *ctx)
{
    size_t n = seconds * c->hz, per_window = c->window_s * c->hz;
    size_t windows_per_batch = c->report_s / c->window_s;
    memgauge__tr_sample_t *s = malloc(n * sizeof *s);
    memgauge__tr_window_t *w = malloc((windows_per_batch + 1) * sizeof *w);
    rng = 88172645463325252ull;
    curve(s, n, 1000u / c->hz);
    memgauge__tr_meta_t m = meta();
    m.interval_ms = 1000u / c->hz;
    size_t ours = 0, ours_raw = 0, naive = 0, naive_raw = 0, batches = 0;
    uint64_t high_water = 0;
    for (size_t start = 0; start < n;) {
        /* the session's first batch goes at its first window close */
        size_t want = batches == 0 ? 1 : windows_per_batch, nw = 0, first = start;
        for (; nw < want && first < n; nw++, first += per_window)
            window_of(s + first, first + per_window <= n ? per_window : n - first, &w[nw],
                      &high_water);
        memgauge__tr_dropped_t d = {0};
        size_t last = (first < n ? first : n) - 1;
        memgauge__tr_batch_t b = {.meta = &m,
                                  .sent_unix_ms = m.session_start_unix_ms + s[last].t_ms + 1,
                                  .windows = w,
                                  .window_count = nw,
                                  .dropped = &d,
                                  /* the first batch is acknowledged before the second
                                   * is built: every later one is short */
                                  .short_meta = batches > 0};
        memgauge__uuid_new(b.batch_id);
        size_t len;
        char *text = memgauge__tr_encode(&b, &len);
        ours_raw += len;
        ours += gz_size(text, len);
        free(text);
        if (each != NULL)
            each(&b, batches, ctx);
        size_t raw;
        naive += naive_batch(&b, s + start, last + 1 - start, &raw);
        naive_raw += raw;
        batches++;
        start = first;
    }
    free(w);
    free(s);
    result_t r = {batches, (double)ours / (double)n, (double)ours_raw / (double)n,
                  (double)naive / (double)n, (double)naive_raw / (double)n};
    return r;
}

/* ---- --breakdown: where one batch's bytes go --------------------------- */

static size_t gz_json(const cJSON *j, size_t *raw)
{
    char *text = cJSON_PrintUnformatted(j);
    size_t len = strlen(text), z = gz_size(text, len);
    if (raw != NULL)
        *raw = len;
    free(text);
    return z;
}

/* Bytes the batch saves, raw and gzip'd, when `drop` removes a part. */
static void part(const char *name, const cJSON *batch, void (*drop)(cJSON *), size_t samples)
{
    size_t raw_all, raw_without;
    size_t all = gz_json(batch, &raw_all);
    cJSON *c = cJSON_Duplicate(batch, 1);
    drop(c);
    size_t without = gz_json(c, &raw_without);
    cJSON_Delete(c);
    printf("    %-34s %10zu  %10zu  %5.2f B/sample\n", name, raw_all - raw_without, all - without,
           (double)(all - without) / (double)samples);
}

static const char *const META[] = {"schema", "batch_id", "sent_unix_ms", "sdk",
                                   "app",    "device",   "session",      "metric"};
static void drop_meta(cJSON *b)
{
    for (size_t i = 0; i < sizeof META / sizeof META[0]; i++)
        cJSON_DeleteItemFromObject(b, META[i]);
}
static void drop_dropped(cJSON *b)
{
    cJSON_DeleteItemFromObject(b, "dropped");
}
static void drop_in_windows(cJSON *b, const char *in, const char *const *names, size_t n)
{
    cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(b, "windows"))
    {
        cJSON *o = in != NULL ? cJSON_GetObjectItem(w, in) : w;
        for (size_t i = 0; o != NULL && i < n; i++)
            cJSON_DeleteItemFromObject(o, names[i]);
    }
}
static void drop_aggregates(cJSON *b)
{
    static const char *const a[] = {"start_ms", "end_ms",      "samples", "first",
                                    "last",     "min",         "max",     "mean",
                                    "peak",     "kernel_peak", "limit",   "headroom"};
    drop_in_windows(b, NULL, a, sizeof a / sizeof a[0]);
}
#define DROP_COLUMN(col)                                                                           \
    static void drop_##col(cJSON *b)                                                               \
    {                                                                                              \
        static const char *const c[] = {#col};                                                     \
        drop_in_windows(b, "series", c, 1);                                                        \
    }
DROP_COLUMN(t)
DROP_COLUMN(footprint)
DROP_COLUMN(resident)
DROP_COLUMN(peak_excess)
DROP_COLUMN(unit_bytes)
static void drop_series(cJSON *b)
{
    static const char *const c[] = {"series"};
    drop_in_windows(b, NULL, c, 1);
}

typedef struct pick_s {
    size_t index; /* which batch of the hour */
    int dump;
} pick_t;

static void breakdown(const memgauge__tr_batch_t *b, size_t index, void *ctx)
{
    const pick_t *p = ctx;
    if (index != p->index)
        return;
    char *text = memgauge__tr_encode(b, NULL);
    cJSON *j = cJSON_Parse(text);
    size_t samples = 0;
    for (size_t i = 0; i < b->window_count; i++)
        samples += b->windows[i].samples;
    size_t raw, z = gz_json(j, &raw);
    printf("  batch %zu: %zu windows, %zu samples: %zu bytes JSON, %zu gzip'd (%.2f B/sample; "
           "gzip's own header and trailer: 18)\n",
           index, b->window_count, samples, raw, z, (double)z / (double)samples);
    printf("    %-34s %10s  %10s  (what leaving the part out saves)\n", "part", "JSON", "gzip");
    part("metadata (ids, sdk, app, device...)", j, drop_meta, samples);
    part("dropped counters", j, drop_dropped, samples);
    part("window aggregates", j, drop_aggregates, samples);
    part("series.t", j, drop_t, samples);
    part("series.footprint", j, drop_footprint, samples);
    part("series.resident", j, drop_resident, samples);
    part("series.peak_excess", j, drop_peak_excess, samples);
    part("series.unit_bytes", j, drop_unit_bytes, samples);
    part("all series (samples)", j, drop_series, samples);
    if (p->dump)
        printf("%s\n", text);
    cJSON_Delete(j);
    free(text);
}

int main(int argc, char **argv)
{
    size_t seconds = 3600;
    int want_breakdown = 0, dump = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            seconds = 600;
        else if (strcmp(argv[i], "--breakdown") == 0)
            want_breakdown = 1;
        else if (strcmp(argv[i], "--dump") == 0)
            want_breakdown = dump = 1;
        else {
            fprintf(stderr, "usage: %s [--quick] [--breakdown] [--dump]\n", argv[0]);
            return 2;
        }
    }
    memgauge_options_t d;
    memgauge_options_init(&d);
    unsigned hz = 1000u / d.interval_ms, window_s = d.window_ms / 1000u,
             report_s = d.report_interval_ms / 1000u;
    if (want_breakdown) {
        const config_t picks[] = {{hz, window_s, report_s, ""}, {10 * hz, window_s, report_s, ""}};
        for (size_t i = 0; i < 2; i++) {
            printf("%u Hz, %u s windows, a batch every %u s:\n", picks[i].hz, picks[i].window_s,
                   picks[i].report_s);
            pick_t p = {5, dump};
            run(&picks[i], seconds, breakdown, &p);
        }
        return 0;
    }
    printf("wire_size: %zu s of a realistic footprint curve, gzip'd request bodies; "
           "target <= %.0f B/sample\n",
           seconds, TARGET);
    printf("rate   window  batch every  batches   ours B/sample (raw)   naive B/sample (raw)   "
           "naive/ours\n");
    const config_t configs[] = {
        {1, 10, 10, "every window at once (0.3.0's default)"},
        {1, 10, 60, "0.4.0's default"},
        {1, 10, 300, ""},
        {1, 10, 600, ""},
        {hz, window_s, report_s, "default"},
        {1, 60, 600, ""},
        {10, 10, 10, "every window at once (0.3.0's default)"},
        {10, 10, 60, "0.4.0's default"},
        {10, 10, 300, ""},
        {10 * hz, window_s, report_s, "default"},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        const config_t *c = &configs[i];
        result_t r = run(c, seconds, NULL, NULL);
        printf("%3u Hz  %4u s  %8u s  %7zu   %6.2f (%6.1f) %-5s   %6.2f (%6.1f)   %5.1fx   %s\n",
               c->hz, c->window_s, c->report_s, r.batches, r.ours, r.ours_raw,
               r.ours <= TARGET ? "meets" : "miss", r.naive, r.naive_raw, r.naive / r.ours,
               c->note);
    }
    return 0;
}
