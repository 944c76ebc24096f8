/* The sampler's data as reports. See report.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "journal.h"
#include "report.h"
#include "transport.h"

#define SPOOL_SUBDIR "spool"

struct memgauge__report_s {
    memgauge__tr_t *tr;
    uint64_t start_ns; /* the session's first sample; sampler thread */
    int started;
};

/* The app's send hook; owned by the transport (it may outlive the report
 * when a hook ignores its timeout). */
typedef struct hook_s {
    memgauge_send_fn fn;
    void *user_data;
} hook_t;

const char *memgauge__report_verdict_word(int verdict)
{
    /* docs/wire-format.md's words where it has one (the collector counts
     * only "*oom_suspected" as out-of-memory), the SDK's names otherwise */
    switch (verdict) {
    case MEMGAUGE_END_UNREADABLE:
        return "unknown";
    case MEMGAUGE_END_CLEAN_STOP:
    case MEMGAUGE_END_EXIT:
        return "clean_exit";
    case MEMGAUGE_END_CRASH:
        return "crash";
    case MEMGAUGE_END_APP_UPGRADED:
        return "app_updated";
    case MEMGAUGE_END_OS_UPGRADED:
        return "os_updated";
    case MEMGAUGE_END_REBOOT:
        return "rebooted";
    case MEMGAUGE_END_DEBUGGER:
        return "debugger";
    case MEMGAUGE_END_BACKGROUND_KILL:
        return "background_kill";
    case MEMGAUGE_END_HANG_KILL:
        return "hang_kill";
    case MEMGAUGE_END_SUSPECTED_OOM:
        return "oom_suspected";
    case MEMGAUGE_END_UNEXPLAINED:
        return "unexplained";
    case MEMGAUGE_END_EXTENSION_ENDED:
        return "extension_ended";
    default:
        return NULL; /* NONE, STILL_RUNNING */
    }
}

static uint64_t ms_since(uint64_t t_ns, uint64_t start_ns)
{
    return t_ns > start_ns ? (t_ns - start_ns) / 1000000u : 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* "Linux 6.1.0-18-amd64" → "Linux", "6.1.0-18-amd64"; "iOS 17.5.1" → "iOS", "17.5.1". */
static void split_os(const char *os, memgauge__tr_meta_t *m)
{
    const char *space = strchr(os, ' ');
    if (space == NULL) {
        copy(m->os_name, sizeof m->os_name, os);
        copy(m->os_version, sizeof m->os_version, "");
        return;
    }
    size_t n =
        (size_t)(space - os) < sizeof m->os_name - 1 ? (size_t)(space - os) : sizeof m->os_name - 1;
    memcpy(m->os_name, os, n);
    m->os_name[n] = '\0';
    copy(m->os_version, sizeof m->os_version, space + 1);
}

/* The session's identity and the storage directory: the journal's when it
 * keeps a record, else worked out the same way. */
static int fill_meta(const memgauge_options_t *o, const memgauge__journal_t *j, int source,
                     memgauge__tr_meta_t *m, char *dir, size_t dir_cap)
{
    memset(m, 0, sizeof *m);
    copy(m->sdk_version, sizeof m->sdk_version, MEMGAUGE_VERSION_STRING);
    copy(m->metric, sizeof m->metric, memgauge_source_name(source));
    m->interval_ms = o->interval_ms;
    copy(m->app_version, sizeof m->app_version, o->app_version);
    copy(m->app_build, sizeof m->app_build, o->app_build);
    if (j->enabled) {
        const memgauge__record_body_t *b = &j->body;
        copy(m->app_id, sizeof m->app_id, b->app_id);
        copy(m->device_model, sizeof m->device_model, b->device_model);
        split_os(b->os_version, m);
        copy(m->os_build, sizeof m->os_build, b->os_build);
        memgauge__uuid_format(b->session_id, m->session_id);
        m->session_start_unix_ms = b->start_wall_ns / 1000000u;
        copy(dir, dir_cap, j->dir);
        return MEMGAUGE_OK;
    }
    memgauge__identity_t id;
    memset(&id, 0, sizeof id);
    memgauge__platform_identity(&id);
    if (o->app_id != NULL)
        copy(m->app_id, sizeof m->app_id, o->app_id);
    else
        memgauge__default_app_id(&id, m->app_id, sizeof m->app_id);
    copy(m->device_model, sizeof m->device_model, id.device_model);
    split_os(id.os_version, m);
    copy(m->os_build, sizeof m->os_build, id.os_build);
    memgauge__uuid_new(m->session_id);
    m->session_start_unix_ms = memgauge__wall_ms();
    if (o->storage_dir != NULL)
        copy(dir, dir_cap, o->storage_dir);
    else if (memgauge__platform_default_state_dir(m->app_id, dir, dir_cap) != 0)
        return MEMGAUGE_E_STORAGE_DIR;
    /* the spool is created one level below; the storage directory itself
     * must exist (the journal creates it when the record is on) */
    return MEMGAUGE_OK;
}

static const char *grade_of(int confidence)
{
    switch (confidence) {
    case MEMGAUGE_CONFIDENCE_HIGH:
        return "high";
    case MEMGAUGE_CONFIDENCE_MEDIUM:
        return "medium";
    case MEMGAUGE_CONFIDENCE_LOW:
        return "low";
    default:
        return NULL;
    }
}

/* The previous session's verdict with its trail; *trail is malloc'd. */
static int fill_previous(const memgauge_previous_session_t *p, memgauge__tr_previous_t *out,
                         memgauge__tr_sample_t **trail)
{
    *trail = NULL;
    const char *word = memgauge__report_verdict_word(p->verdict);
    if (word == NULL || strlen(p->session_id) != 36)
        return 0; /* the format requires the previous session's id */
    memset(out, 0, sizeof *out);
    copy(out->session_id, sizeof out->session_id, p->session_id);
    copy(out->verdict, sizeof out->verdict, word);
    out->grade = p->verdict == MEMGAUGE_END_SUSPECTED_OOM ? grade_of(p->confidence) : NULL;
    out->start_unix_ms = p->start_wall_ns / 1000000u;
    out->has_ended = p->last_wall_ns >= p->start_wall_ns && p->start_wall_ns != 0;
    out->ended_ms = out->has_ended ? (p->last_wall_ns - p->start_wall_ns) / 1000000u : 0;
    out->last_footprint = p->last_footprint_bytes;
    out->limit = p->limit_bytes;
    out->pressure = memgauge_pressure_name(p->pressure);
    if (strcmp(out->pressure, "unknown") == 0)
        out->pressure = NULL;
    if (p->trail != NULL && p->trail_count > 0) {
        *trail = calloc(p->trail_count, sizeof **trail);
        if (*trail == NULL)
            return -1;
        for (size_t i = 0; i < p->trail_count; i++) {
            (*trail)[i].t_ms = ms_since(p->trail[i].wall_ns, p->start_wall_ns);
            (*trail)[i].footprint = p->trail[i].footprint_bytes;
        }
        out->trail = *trail;
        out->trail_count = p->trail_count;
    }
    return 1;
}

static void hook_adapter(const memgauge__tr_request_t *req, memgauge__tr_response_t *resp,
                         const atomic_int *abort_flag, void *ctx)
{
    (void)abort_flag; /* a hook cannot be interrupted: it must honour total_timeout_ms */
    const hook_t *r = ctx;
    memgauge_http_request_t q = {.url = req->url,
                                 .headers = req->headers,
                                 .header_count = req->header_count,
                                 .body = req->body,
                                 .body_len = req->body_len,
                                 .connect_timeout_ms = req->connect_timeout_ms,
                                 .total_timeout_ms = req->total_timeout_ms};
    resp->retry_after[0] = '\0';
    int status = r->fn(&q, resp->retry_after, sizeof resp->retry_after, r->user_data);
    resp->retry_after[sizeof resp->retry_after - 1] = '\0';
    resp->status = status >= 100 && status <= 599 ? status : 0;
}

static void (*g_on_spooled)(const char *batch_id, void *ctx);
static void *g_on_spooled_ctx;

void memgauge__report_on_spooled(void (*fn)(const char *batch_id, void *ctx), void *ctx)
{
    g_on_spooled = fn;
    g_on_spooled_ctx = ctx;
}

static void (*g_on_pending)(const char *batch_id, size_t windows, void *ctx);
static void *g_on_pending_ctx;

void memgauge__report_on_pending(void (*fn)(const char *batch_id, size_t windows, void *ctx),
                                 void *ctx)
{
    g_on_pending = fn;
    g_on_pending_ctx = ctx;
}

/* The transport's diagnostics into the SDK's rate-limited log. */
static void log_adapter(void *ctx, int kind, int level, const char *message)
{
    memgauge__log(ctx, MEMGAUGE__LOG_TRANSPORT + kind, level, "%s", message);
}

int memgauge__report_start(const memgauge_options_t *o, const memgauge__journal_t *j, int source,
                           memgauge__log_t *log, memgauge__report_t **out)
{
    *out = NULL;
    if (o->endpoint_url == NULL)
        return MEMGAUGE_OK;
    memgauge__report_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return MEMGAUGE_E_NO_MEMORY;
    hook_t *hook = NULL;
    if (o->send != NULL) {
        hook = malloc(sizeof *hook);
        if (hook == NULL) {
            free(r);
            return MEMGAUGE_E_NO_MEMORY;
        }
        hook->fn = o->send;
        hook->user_data = o->send_user_data;
    }

    memgauge__tr_meta_t meta;
    char dir[512], spool[600];
    int rc = fill_meta(o, j, source, &meta, dir, sizeof dir);
    if (rc != MEMGAUGE_OK) {
        free(hook);
        free(r);
        return rc;
    }
    snprintf(spool, sizeof spool, "%s/%s", dir, SPOOL_SUBDIR);
    memgauge__tr_config_t cfg = {
        .url = o->endpoint_url,
        .api_key = o->api_key,
        .ca_file = o->ca_file,
        .proxy = o->proxy,
        .extra_headers = o->extra_headers,
        .extra_header_count = o->extra_header_count,
        .verify_tls = o->tls_verify,
        .gzip = o->gzip,
        .connect_timeout_ms = o->connect_timeout_ms,
        .total_timeout_ms = o->total_timeout_ms,
        .retry_base_ms = o->retry_base_ms,
        .retry_max_ms = o->retry_max_ms,
        .queue_capacity = o->queue_capacity,
        .max_batch_bytes = o->max_batch_bytes,
        .report_interval_ms = o->report_interval_ms,
        .spool_dir = spool,
        .spool_max_bytes = o->spool_max_bytes,
        .spool_max_files = o->spool_max_files,
        .spool_max_age_s = o->spool_max_age_s,
        .send = o->send != NULL ? hook_adapter : NULL,
        .send_ctx = hook,
        .send_ctx_free = hook != NULL ? free : NULL,
        .on_spooled = g_on_spooled,
        .on_spooled_ctx = g_on_spooled_ctx,
        .on_pending = g_on_pending,
        .on_pending_ctx = g_on_pending_ctx,
        .log = log != NULL ? log_adapter : NULL,
        .log_ctx = log,
        .log_ctx_free = log != NULL ? memgauge__log_release : NULL,
    };
    memgauge__tr_previous_t previous;
    memgauge__tr_sample_t *trail = NULL;
    int has_previous = fill_previous(&j->previous, &previous, &trail);
    if (has_previous < 0) {
        free(hook);
        free(r);
        return MEMGAUGE_E_NO_MEMORY;
    }
    if (log != NULL) /* the transport's reference, released when it is freed */
        memgauge__log_retain(log);
    rc = memgauge__tr_create(&cfg, &meta, has_previous ? &previous : NULL, &r->tr);
    free(trail); /* copied */
    if (rc != 0) {
        free(r);
        return rc == MEMGAUGE__TR_E_NO_MEMORY ? MEMGAUGE_E_NO_MEMORY : MEMGAUGE_E_TRANSPORT;
    }
    *out = r;
    return MEMGAUGE_OK;
}

void memgauge__report_sample(memgauge__report_t *r, const memgauge_sample_t *s)
{
    if (!r->started) {
        r->start_ns = s->time_ns;
        r->started = 1;
    }
    memgauge__tr_sample_t t = {
        .t_ms = ms_since(s->time_ns, r->start_ns),
        .footprint = s->footprint_bytes,
        .resident = s->resident_bytes,
        .peak_excess = s->interval_peak_bytes > s->footprint_bytes
                           ? s->interval_peak_bytes - s->footprint_bytes
                           : 0,
    };
    memgauge__tr_push_sample(r->tr, &t);
}

static void to_window(const memgauge__report_t *r, const memgauge_window_t *w,
                      memgauge__tr_window_t *out)
{
    memset(out, 0, sizeof *out);
    out->start_ms = ms_since(w->start_ns, r->start_ns);
    out->end_ms = ms_since(w->end_ns, r->start_ns);
    out->samples = w->samples;
    out->first = w->first_bytes;
    out->last = w->last_bytes;
    out->min = w->min_bytes;
    out->max = w->max_bytes;
    out->mean = w->mean_bytes;
    out->peak = w->peak_bytes;
    out->kernel_peak = w->kernel_peak_bytes;
    out->limit = w->limit_bytes;
    out->headroom = w->min_available_bytes;
}

void memgauge__report_window(memgauge__report_t *r, const memgauge_window_t *w)
{
    if (w->samples == 0 || !r->started)
        return;
    memgauge__tr_window_t t;
    to_window(r, w, &t);
    memgauge__tr_push_window(r->tr, &t);
}

void memgauge__report_threshold(memgauge__report_t *r, const memgauge_threshold_event_t *e)
{
    memgauge__tr_event_t t = {.type = MEMGAUGE__TR_EVENT_THRESHOLD,
                              .t_ms = ms_since(e->time_ns, r->start_ns),
                              .urgent = e->urgent != 0,
                              .id = e->id,
                              .up = e->direction == MEMGAUGE_CROSSED_UP,
                              .level = e->level_bytes,
                              .footprint = e->footprint_bytes,
                              .limit = e->limit_bytes};
    memgauge__tr_push_event(r->tr, &t);
}

void memgauge__report_pressure(memgauge__report_t *r, const memgauge_pressure_event_t *e)
{
    memgauge__tr_event_t t = {.type = MEMGAUGE__TR_EVENT_PRESSURE,
                              .t_ms = ms_since(e->time_ns, r->start_ns),
                              .urgent = e->level == MEMGAUGE_PRESSURE_CRITICAL,
                              .level_name = memgauge_pressure_name(e->level)};
    memgauge__tr_push_event(r->tr, &t);
}

void memgauge__report_memory_warning(memgauge__report_t *r, uint64_t time_ns)
{
    /* a warning from the OS, whatever the level: sent at once, as the OS
     * sends it before it starts killing */
    memgauge__tr_event_t t = {.type = MEMGAUGE__TR_EVENT_PRESSURE,
                              .t_ms = ms_since(time_ns, r->start_ns),
                              .urgent = 1,
                              .level_name = memgauge_pressure_name(MEMGAUGE_PRESSURE_WARNING),
                              .source = "memory_warning"};
    memgauge__tr_push_event(r->tr, &t);
}

int memgauge__report_stop(memgauge__report_t *r, const memgauge_window_t *partial,
                          const uint64_t *clean_end_ns, uint32_t timeout_ms)
{
    if (partial != NULL)
        memgauge__report_window(r, partial);
    if (clean_end_ns != NULL)
        memgauge__tr_end_clean(r->tr, r->started ? ms_since(*clean_end_ns, r->start_ns) : 0);
    int rc = memgauge__tr_stop(r->tr, timeout_ms); /* an orphaned worker frees itself */
    free(r);
    return rc == 0 ? MEMGAUGE_OK : MEMGAUGE_E_TIMEOUT;
}

void memgauge__report_stats(memgauge__report_t *r, memgauge_stats_t *s)
{
    memgauge__tr_stats_t t;
    memgauge__tr_get_stats(r->tr, &t);
    s->batches_built = t.batches_built;
    s->batches_sent = t.batches_sent;
    s->batches_retried = t.batches_retried;
    s->batches_failed = t.batches_failed;
    s->bytes_sent = t.bytes_sent;
    s->dropped_samples = t.dropped_samples;
    s->dropped_events = t.dropped_events;
    s->dropped_windows = t.dropped_windows;
    s->spool_evicted = t.spool_evicted;
    s->spool_corrupt = t.spool_corrupt;
    s->spool_files = t.spool_files;
    s->spool_bytes = t.spool_bytes;
    s->last_http_status = t.last_status;
    s->config_error_status = t.config_error_status;
    s->config_errors = t.config_errors;
    s->spool_write_errors = t.spool_write_errors;
}

int memgauge__have_curl(void)
{
    return memgauge__tr_curl_sender() != NULL;
}
