/* OTLP/HTTP JSON encoding of a batch with cJSON. JSON rather than protobuf:
 * the collector already links cJSON, an OpenTelemetry Collector's otlphttp
 * receiver takes both, and the test decodes it with the project's own
 * generated message types all the same (tests/otlp). */
#include "otlp_encode.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { TEMPORALITY_DELTA = 1, SEVERITY_WARN = 13, SEVERITY_INFO = 9 };

static cJSON *add_u64(cJSON *o, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return cJSON_AddStringToObject(o, name, s);
}

static void attr_str(cJSON *attrs, const char *key, const char *v)
{
    if (!v || !v[0])
        return;
    cJSON *kv = cJSON_CreateObject();
    cJSON_AddStringToObject(kv, "key", key);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(kv, "value"), "stringValue", v);
    cJSON_AddItemToArray(attrs, kv);
}

static void attr_int(cJSON *attrs, const char *key, uint64_t v)
{
    cJSON *kv = cJSON_CreateObject();
    cJSON_AddStringToObject(kv, "key", key);
    add_u64(cJSON_AddObjectToObject(kv, "value"), "intValue", v);
    cJSON_AddItemToArray(attrs, kv);
}

static void attr_bool(cJSON *attrs, const char *key, int v)
{
    cJSON *kv = cJSON_CreateObject();
    cJSON_AddStringToObject(kv, "key", key);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(kv, "value"), "boolValue", v);
    cJSON_AddItemToArray(attrs, kv);
}

static void attr_int_array(cJSON *attrs, const char *key, const uint64_t *v, size_t n)
{
    cJSON *kv = cJSON_CreateObject();
    cJSON_AddStringToObject(kv, "key", key);
    cJSON *values = cJSON_AddArrayToObject(
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(kv, "value"), "arrayValue"), "values");
    for (size_t i = 0; i < n; i++) {
        cJSON *one = cJSON_CreateObject();
        add_u64(one, "intValue", v[i]);
        cJSON_AddItemToArray(values, one);
    }
    cJSON_AddItemToArray(attrs, kv);
}

/* service.* and the OpenTelemetry semantic conventions' device.* / os.*
 * names; the session id stays out (one time series per session would be
 * unbounded) and goes on log records only. sdk_* may be NULL. */
static cJSON *resource_of(const char *app_id, const char *app_version, const char *app_build,
                          const char *device_model, const char *os_name, const char *os_version,
                          const char *os_build, const char *sdk_name, const char *sdk_version)
{
    cJSON *res = cJSON_CreateObject();
    cJSON *attrs = cJSON_AddArrayToObject(res, "attributes");
    attr_str(attrs, "service.name", app_id);
    attr_str(attrs, "service.version", app_version);
    attr_str(attrs, "device.model.identifier", device_model);
    attr_str(attrs, "os.name", os_name);
    attr_str(attrs, "os.version", os_version);
    attr_str(attrs, "os.build_id", os_build);
    attr_str(attrs, "memgauge.app.build", app_build);
    attr_str(attrs, "telemetry.sdk.name", sdk_name);
    attr_str(attrs, "telemetry.sdk.version", sdk_version);
    return res;
}

static cJSON *resource(const memgauge__batch_t *b)
{
    return resource_of(b->app_id, b->app_version, b->app_build, b->device_model, b->os_name,
                       b->os_version, b->os_build, b->sdk_name, b->sdk_version);
}

/* a judged session's own resource: it may have run another app version
 * than the launch that judged it */
static cJSON *session_resource(const memgauge__session_row_t *r)
{
    return resource_of(r->app_id, r->app_version, r->app_build, r->device_model, r->os_name,
                       r->os_version, r->os_build, NULL, NULL);
}

static cJSON *scope(void)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", "memgauge-collector");
    cJSON_AddStringToObject(s, "version", MEMGAUGE_COLLECTOR_VERSION);
    return s;
}

/* the wall-clock span of the batch's windows, ns */
static void span(const memgauge__batch_t *b, uint64_t now_ns, uint64_t *start, uint64_t *end)
{
    uint64_t base = b->session_start_unix_ms;
    if (!b->window_count) {
        *start = *end = b->sent_unix_ms ? b->sent_unix_ms * 1000000u : now_ns;
        return;
    }
    *start = (base + b->windows[0].start_ms) * 1000000u;
    *end = (base + b->windows[b->window_count - 1].end_ms) * 1000000u;
    if (*end < *start)
        *end = *start;
}

typedef struct hist_s {
    size_t nb;
    const double *bounds;
    uint64_t counts[16];
    uint64_t count;
    double sum, min, max;
} hist_t;

static void hist_add(hist_t *h, double v)
{
    size_t i = 0;
    while (i < h->nb && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->min = h->count ? (v < h->min ? v : h->min) : v;
    h->max = h->count ? (v > h->max ? v : h->max) : v;
    h->count++;
    h->sum += v;
}

static cJSON *metric(cJSON *metrics, const char *name, const char *unit, const char *desc)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "description", desc);
    cJSON_AddStringToObject(m, "unit", unit);
    cJSON_AddItemToArray(metrics, m);
    return m;
}

static void histogram(cJSON *metrics, const char *name, const char *unit, const char *desc,
                      const hist_t *h, const char *metric_name, uint64_t t0, uint64_t t1)
{
    if (!h->count)
        return;
    cJSON *hj = cJSON_AddObjectToObject(metric(metrics, name, unit, desc), "histogram");
    cJSON_AddNumberToObject(hj, "aggregationTemporality", TEMPORALITY_DELTA);
    cJSON *dp = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(hj, "dataPoints"), dp);
    attr_str(cJSON_AddArrayToObject(dp, "attributes"), "memgauge.metric", metric_name);
    add_u64(dp, "startTimeUnixNano", t0);
    add_u64(dp, "timeUnixNano", t1);
    add_u64(dp, "count", h->count);
    cJSON_AddNumberToObject(dp, "sum", h->sum);
    cJSON_AddNumberToObject(dp, "min", h->min);
    cJSON_AddNumberToObject(dp, "max", h->max);
    cJSON *counts = cJSON_AddArrayToObject(dp, "bucketCounts");
    cJSON *bounds = cJSON_AddArrayToObject(dp, "explicitBounds");
    for (size_t i = 0; i <= h->nb; i++) {
        char s[24];
        snprintf(s, sizeof s, "%" PRIu64, h->counts[i]);
        cJSON_AddItemToArray(counts, cJSON_CreateString(s));
        if (i < h->nb)
            cJSON_AddItemToArray(bounds, cJSON_CreateNumber(h->bounds[i]));
    }
}

/* a monotonic delta sum; returns its dataPoints array */
static cJSON *sum_metric(cJSON *metrics, const char *name, const char *unit, const char *desc)
{
    cJSON *s = cJSON_AddObjectToObject(metric(metrics, name, unit, desc), "sum");
    cJSON_AddNumberToObject(s, "aggregationTemporality", TEMPORALITY_DELTA);
    cJSON_AddBoolToObject(s, "isMonotonic", 1);
    return cJSON_AddArrayToObject(s, "dataPoints");
}

static cJSON *int_point(cJSON *points, uint64_t v, uint64_t t0, uint64_t t1)
{
    cJSON *dp = cJSON_CreateObject();
    add_u64(dp, "startTimeUnixNano", t0);
    add_u64(dp, "timeUnixNano", t1);
    add_u64(dp, "asInt", v);
    cJSON_AddItemToArray(points, dp);
    return cJSON_AddArrayToObject(dp, "attributes");
}

static const char *grade_of(const memgauge__event_t *e)
{
    return e->grade[0] ? e->grade : "none";
}

static int finish(cJSON *root, char **out)
{
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *out ? 0 : -1;
}

static const double peak_bounds[MEMGAUGE__OTLP_PEAK_BOUNDS] = {
    16777216.0,  33554432.0,   67108864.0,   134217728.0,  268435456.0,
    536870912.0, 1073741824.0, 2147483648.0, 4294967296.0, 8589934592.0};
static const double fraction_bounds[MEMGAUGE__OTLP_FRACTION_BOUNDS] = {0.1, 0.2, 0.3, 0.4, 0.5,
                                                                       0.6, 0.7, 0.8, 0.9, 1.0};

/* a scopeMetrics under a new resourceMetrics; returns its metrics array */
static cJSON *resource_metrics(cJSON *list, cJSON *res)
{
    cJSON *rm = cJSON_CreateObject();
    cJSON_AddItemToArray(list, rm);
    cJSON_AddItemToObject(rm, "resource", res);
    cJSON *sm = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(rm, "scopeMetrics"), sm);
    cJSON_AddItemToObject(sm, "scope", scope());
    return cJSON_AddArrayToObject(sm, "metrics");
}

/* One judged session: its peak and peak fraction (one observation each),
 * one count by verdict and grade, and one suspected OOM by confidence. */
static void judged_session(cJSON *list, const memgauge__otlp_judged_t *j)
{
    const memgauge__session_row_t *r = &j->row;
    const memgauge__event_t *e = j->event;
    cJSON *metrics = resource_metrics(list, session_resource(r));
    uint64_t t0 = r->start_unix_ms * 1000000u, t1 = (r->start_unix_ms + r->last_ms) * 1000000u;
    const char *mname = r->metric[0] ? r->metric : NULL;
    /* a session without data (killed before its first sample) has no peak:
     * it is counted, never ranked as 0 B */
    if (r->samples) {
        hist_t peak = {.nb = MEMGAUGE__OTLP_PEAK_BOUNDS, .bounds = peak_bounds};
        hist_add(&peak, (double)r->peak_bytes);
        histogram(metrics, "memgauge.session.peak_footprint", "By",
                  "Peak footprint of each judged session over its whole run.", &peak, mname, t0,
                  t1);
    }
    if (r->samples && r->peak_fraction >= 0) {
        hist_t fraction = {.nb = MEMGAUGE__OTLP_FRACTION_BOUNDS, .bounds = fraction_bounds};
        hist_add(&fraction, r->peak_fraction);
        histogram(metrics, "memgauge.session.peak_fraction", "1",
                  "Peak footprint / memory limit of each judged session whose limit was known.",
                  &fraction, mname, t0, t1);
    }
    cJSON *a = int_point(sum_metric(metrics, "memgauge.sessions", "{session}",
                                    "Sessions judged by the next launch, by verdict and grade."),
                         1, t0, t1);
    attr_str(a, "memgauge.verdict", e->verdict);
    attr_str(a, "memgauge.grade", grade_of(e));
    if (!memgauge__verdict_is_oom(e->verdict))
        return;
    a = int_point(sum_metric(metrics, "memgauge.oom.suspected", "{session}",
                             "Suspected out-of-memory terminations, by confidence (grade)."),
                  1, t0, t1);
    attr_str(a, "memgauge.oom.confidence", grade_of(e));
    attr_bool(a, "memgauge.oom.background", !strcmp(e->verdict, "background_oom_suspected"));
}

/* The batch's own resourceMetrics: its windows and samples. */
static void window_metrics(cJSON *list, const memgauge__batch_t *b, uint64_t now_ns)
{
    uint64_t t0, t1;
    span(b, now_ns, &t0, &t1);
    hist_t peak = {.nb = MEMGAUGE__OTLP_PEAK_BOUNDS, .bounds = peak_bounds};
    hist_t fraction = {.nb = MEMGAUGE__OTLP_FRACTION_BOUNDS, .bounds = fraction_bounds};
    for (size_t i = 0; i < b->window_count; i++) {
        const memgauge__window_t *w = &b->windows[i];
        hist_add(&peak, (double)w->peak);
        if (w->limit)
            hist_add(&fraction, (double)w->peak / (double)w->limit);
    }
    cJSON *metrics = resource_metrics(list, resource(b));
    const char *mname = memgauge__metric_name(b->metric);
    histogram(metrics, "memgauge.window.peak_footprint", "By",
              "Peak footprint of each report window (includes spikes the kernel saw between "
              "samples).",
              &peak, mname, t0, t1);
    histogram(metrics, "memgauge.window.peak_fraction", "1",
              "Peak footprint / memory limit of each report window whose limit was known.",
              &fraction, mname, t0, t1);
    int_point(sum_metric(metrics, "memgauge.samples", "{sample}", "Footprint samples reported."),
              b->total_samples, t0, t1);
    if (b->clean_stop) {
        cJSON *a = int_point(sum_metric(metrics, "memgauge.sessions.clean_stop", "{session}",
                                        "Sessions that ended with memgauge_stop."),
                             1, t0, t1);
        (void)a;
    }
}

int memgauge__otlp_encode_metrics(const memgauge__batch_t *b, const memgauge__otlp_judged_t *judged,
                                  size_t n_judged, uint64_t now_ns, char **out)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "resourceMetrics");
    if (b)
        window_metrics(list, b, now_ns);
    for (size_t i = 0; i < n_judged; i++)
        if (judged[i].found)
            judged_session(list, &judged[i]);
    if (!cJSON_GetArraySize(list)) {
        cJSON_Delete(root);
        return 0;
    }
    return finish(root, out);
}

int memgauge__otlp_encode_logs(const memgauge__batch_t *b, const memgauge__otlp_judged_t *judged,
                               size_t n_judged, uint64_t now_ns, char **out)
{
    *out = NULL;
    cJSON *root = NULL;
    for (size_t i = 0; i < n_judged; i++) {
        const memgauge__event_t *e = judged[i].event;
        uint64_t trail_total = judged[i].trail_samples;
        if (!memgauge__verdict_is_oom(e->verdict))
            continue;
        if (!root)
            root = cJSON_CreateObject();
        cJSON *list = cJSON_GetObjectItem(root, "resourceLogs");
        if (!list)
            list = cJSON_AddArrayToObject(root, "resourceLogs");
        cJSON *rl = cJSON_CreateObject();
        cJSON_AddItemToArray(list, rl);
        cJSON_AddItemToObject(rl, "resource",
                              judged[i].found ? session_resource(&judged[i].row) : resource(b));
        cJSON *sl = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(rl, "scopeLogs"), sl);
        cJSON_AddItemToObject(sl, "scope", scope());
        cJSON *records = cJSON_AddArrayToObject(sl, "logRecords");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(records, r);
        /* when the judged session died, as far as it is known */
        uint64_t died_ms = e->start_unix_ms ? e->start_unix_ms + e->ended_ms : 0;
        add_u64(r, "timeUnixNano", died_ms * 1000000u);
        add_u64(r, "observedTimeUnixNano", now_ns);
        int strong = !strcmp(e->grade, "high") || !strcmp(e->grade, "medium");
        cJSON_AddNumberToObject(r, "severityNumber", strong ? SEVERITY_WARN : SEVERITY_INFO);
        cJSON_AddStringToObject(r, "severityText", strong ? "WARN" : "INFO");
        char body[200];
        snprintf(body, sizeof body, "suspected out-of-memory termination of session %s (%s)",
                 e->session_id, grade_of(e));
        cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "body"), "stringValue", body);
        cJSON *a = cJSON_AddArrayToObject(r, "attributes");
        attr_str(a, "event.name", "memgauge.oom_suspected");
        attr_str(a, "session.id", e->session_id);
        attr_str(a, "memgauge.reported_by", b->session_id);
        attr_str(a, "memgauge.verdict", e->verdict);
        attr_str(a, "memgauge.oom.confidence", grade_of(e));
        attr_str(a, "memgauge.pressure", memgauge__pressure_name(e->pressure));
        attr_int(a, "memgauge.last_footprint", e->last_footprint);
        if (e->limit)
            attr_int(a, "memgauge.limit", e->limit);
        if (e->start_unix_ms)
            attr_int(a, "memgauge.session.start_unix_ms", e->start_unix_ms);
        attr_int(a, "memgauge.session.ended_ms", e->ended_ms);
        if (e->has_trail && e->trail.n) {
            size_t n = e->trail.n,
                   from = n > MEMGAUGE__OTLP_TRAIL_MAX ? n - MEMGAUGE__OTLP_TRAIL_MAX : 0;
            attr_int(a, "memgauge.trail.samples", trail_total > n ? trail_total : n);
            attr_int_array(a, "memgauge.trail.t_ms", e->trail.t_ms + from, n - from);
            attr_int_array(a, "memgauge.trail.footprint", e->trail.footprint + from, n - from);
        }
    }
    if (!root)
        return 0;
    return finish(root, out);
}
