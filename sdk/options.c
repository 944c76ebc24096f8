/* Options: defaults, validation, error text, version. */
#include <stddef.h>
#include <string.h>

#include "internal.h"

enum {
    DEFAULT_INTERVAL_MS = 1000,
    MIN_INTERVAL_MS = 10,
    MAX_INTERVAL_MS = 86400000,
    DEFAULT_RING = 600,
    MAX_RING = 1048576,
    DEFAULT_WINDOW_MS = 10000,
};
#define DEFAULT_HYSTERESIS 0.05
#define MAX_HYSTERESIS 0.5
#define DEFAULT_TRAIL_SECONDS 60
#define MAX_TRAIL_SECONDS 3600
#define DEFAULT_PRESSURE_WARNING 0.15
#define DEFAULT_PRESSURE_CRITICAL 0.05
#define DEFAULT_FAST_INTERVAL_MS 100
#define DEFAULT_FAST_HEADROOM 0.25
#define DEFAULT_FAST_GROWTH (UINT64_C(64) << 20)
#define DEFAULT_REPORT_INTERVAL_MS 60000u
#define DEFAULT_MAX_BATCH_BYTES (1u << 20)
#define MIN_MAX_BATCH_BYTES (16u << 10)
#define MAX_MAX_BATCH_BYTES (16u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define DEFAULT_TOTAL_TIMEOUT_MS 30000u
#define MAX_NET_TIMEOUT_MS 600000u
#define DEFAULT_RETRY_BASE_MS 1000u
#define MIN_RETRY_BASE_MS 10u
#define MAX_RETRY_BASE_MS 3600000u
#define DEFAULT_RETRY_MAX_MS 300000u
#define DEFAULT_QUEUE_CAPACITY 4096u
#define MIN_QUEUE_CAPACITY 16u
#define MAX_QUEUE_CAPACITY 1048576u
#define DEFAULT_SPOOL_BYTES (UINT64_C(16) << 20)
#define MIN_SPOOL_BYTES (UINT64_C(64) << 10)
#define MAX_SPOOL_BYTES (UINT64_C(4) << 30)
#define DEFAULT_SPOOL_FILES 1000u
#define MAX_SPOOL_FILES 100000u
#define DEFAULT_SPOOL_AGE_S (7u * 86400u)
#define MIN_SPOOL_AGE_S 60u
#define MAX_SPOOL_AGE_S 31536000u

const char *memgauge_version(void)
{
    return MEMGAUGE_VERSION_STRING;
}

static int unknown_tail_is_zero(const memgauge_options_t *opts);

int memgauge_options_init(memgauge_options_t *opts)
{
    if (opts == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->interval_ms = DEFAULT_INTERVAL_MS;
    opts->ring_capacity = DEFAULT_RING;
    opts->window_ms = DEFAULT_WINDOW_MS;
    opts->hysteresis_fraction = DEFAULT_HYSTERESIS;
    opts->record = 1;
    opts->trail_seconds = DEFAULT_TRAIL_SECONDS;
    opts->pressure_warning_fraction = DEFAULT_PRESSURE_WARNING;
    opts->pressure_critical_fraction = DEFAULT_PRESSURE_CRITICAL;
    opts->fast_interval_ms = DEFAULT_FAST_INTERVAL_MS;
    opts->fast_headroom_fraction = DEFAULT_FAST_HEADROOM;
    opts->fast_growth_bytes_per_s = DEFAULT_FAST_GROWTH;
    opts->report_interval_ms = DEFAULT_REPORT_INTERVAL_MS;
    opts->max_batch_bytes = DEFAULT_MAX_BATCH_BYTES;
    opts->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    opts->total_timeout_ms = DEFAULT_TOTAL_TIMEOUT_MS;
    opts->tls_verify = 1;
    opts->gzip = 1;
    opts->retry_base_ms = DEFAULT_RETRY_BASE_MS;
    opts->retry_max_ms = DEFAULT_RETRY_MAX_MS;
    opts->queue_capacity = DEFAULT_QUEUE_CAPACITY;
    opts->spool_max_bytes = DEFAULT_SPOOL_BYTES;
    opts->spool_max_files = DEFAULT_SPOOL_FILES;
    opts->spool_max_age_s = DEFAULT_SPOOL_AGE_S;
    return MEMGAUGE_OK;
}

int memgauge__options_normalize(const memgauge_options_t *in, memgauge_options_t *out)
{
    if (in == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (in->struct_size < MEMGAUGE__OPTIONS_V1_SIZE || !unknown_tail_is_zero(in))
        return MEMGAUGE_E_STRUCT_SIZE;
    memgauge_options_init(out);
    size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
    memcpy(out, in, n);
    out->struct_size = sizeof *out;
    return MEMGAUGE_OK;
}

/* A caller built against a newer header may pass a larger struct; that is
 * fine as long as every field this library does not know is zero (it asked
 * for nothing we cannot do). */
static int unknown_tail_is_zero(const memgauge_options_t *opts)
{
    const unsigned char *p = (const unsigned char *)opts;
    for (size_t i = sizeof *opts; i < opts->struct_size; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int validate_threshold(const memgauge_threshold_t *t)
{
    int has_bytes = t->bytes != 0;
    int has_fraction = t->limit_fraction != 0.0;
    if (has_bytes == has_fraction)
        return MEMGAUGE_E_THRESHOLD_LEVEL;
    if (has_fraction && !(t->limit_fraction > 0.0 && t->limit_fraction <= 1.0))
        return MEMGAUGE_E_THRESHOLD_FRACTION;
    return MEMGAUGE_OK;
}

/* app ids name a directory: keep them to a safe, portable alphabet */
static int valid_app_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MEMGAUGE__APP_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int validate_record(const memgauge_options_t *opts)
{
    if (opts->record != 0 && opts->record != 1)
        return MEMGAUGE_E_ARGUMENT;
    if (opts->storage_dir != NULL &&
        (opts->storage_dir[0] == '\0' || strlen(opts->storage_dir) > MEMGAUGE__STORAGE_DIR_MAX))
        return MEMGAUGE_E_STORAGE_DIR;
    if (opts->app_id != NULL && !valid_app_id(opts->app_id))
        return MEMGAUGE_E_APP_ID;
    if ((opts->app_version != NULL && strlen(opts->app_version) > MEMGAUGE__APP_VERSION_MAX) ||
        (opts->app_build != NULL && strlen(opts->app_build) > MEMGAUGE__APP_VERSION_MAX))
        return MEMGAUGE_E_APP_VERSION;
    if (opts->trail_seconds > MAX_TRAIL_SECONDS)
        return MEMGAUGE_E_TRAIL;
    return MEMGAUGE_OK;
}

/* Header values and keys go into HTTP headers: no CR, LF or other control
 * character may smuggle in another header. */
static int printable(const char *s, size_t max, int allow_space)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (!allow_space && c == ' '))
            return 0;
    }
    return 1;
}

static int valid_header(const char *h)
{
    if (h == NULL || !printable(h, MEMGAUGE__HEADER_MAX, 1))
        return 0;
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return 0;
    for (const char *p = h; p < colon; p++)
        if (*p == ' ' || *p == '\t')
            return 0;
    return 1;
}

static int valid_url(const char *u)
{
    if (!printable(u, MEMGAUGE__URL_MAX, 0))
        return 0;
    return (strncmp(u, "http://", 7) == 0 && u[7] != '\0') ||
           (strncmp(u, "https://", 8) == 0 && u[8] != '\0');
}

static int validate_transport(const memgauge_options_t *o)
{
    if (o->endpoint_url == NULL)
        return MEMGAUGE_OK;
    if (!valid_url(o->endpoint_url) || (o->send == NULL && !memgauge__have_curl()))
        return MEMGAUGE_E_ENDPOINT;
    if (o->api_key != NULL && !printable(o->api_key, MEMGAUGE__API_KEY_MAX, 0))
        return MEMGAUGE_E_API_KEY;
    if (o->report_interval_ms > MAX_INTERVAL_MS)
        return MEMGAUGE_E_REPORT_INTERVAL;
    if (o->max_batch_bytes < MIN_MAX_BATCH_BYTES || o->max_batch_bytes > MAX_MAX_BATCH_BYTES)
        return MEMGAUGE_E_BATCH_SIZE;
    if (o->connect_timeout_ms < 1 || o->connect_timeout_ms > MAX_NET_TIMEOUT_MS)
        return MEMGAUGE_E_CONNECT_TIMEOUT;
    if (o->total_timeout_ms < o->connect_timeout_ms || o->total_timeout_ms > MAX_NET_TIMEOUT_MS)
        return MEMGAUGE_E_TOTAL_TIMEOUT;
    if (o->ca_file != NULL && (o->ca_file[0] == '\0' || strlen(o->ca_file) > MEMGAUGE__PATH_MAX))
        return MEMGAUGE_E_CA_FILE;
    if (o->proxy != NULL && !printable(o->proxy, MEMGAUGE__URL_MAX, 0))
        return MEMGAUGE_E_PROXY;
    if (o->extra_header_count > MEMGAUGE__EXTRA_HEADERS_MAX ||
        (o->extra_header_count != 0 && o->extra_headers == NULL))
        return MEMGAUGE_E_HEADERS;
    for (uint32_t i = 0; i < o->extra_header_count; i++)
        if (!valid_header(o->extra_headers[i]))
            return MEMGAUGE_E_HEADERS;
    if (o->tls_verify != 0 && o->tls_verify != 1)
        return MEMGAUGE_E_TLS_VERIFY;
    if (o->gzip != 0 && o->gzip != 1)
        return MEMGAUGE_E_GZIP;
    if (o->retry_base_ms < MIN_RETRY_BASE_MS || o->retry_base_ms > MAX_RETRY_BASE_MS)
        return MEMGAUGE_E_RETRY_BASE;
    if (o->retry_max_ms < o->retry_base_ms || o->retry_max_ms > MAX_INTERVAL_MS)
        return MEMGAUGE_E_RETRY_MAX;
    if (o->queue_capacity < MIN_QUEUE_CAPACITY || o->queue_capacity > MAX_QUEUE_CAPACITY)
        return MEMGAUGE_E_QUEUE_CAPACITY;
    if (o->spool_max_bytes < MIN_SPOOL_BYTES || o->spool_max_bytes > MAX_SPOOL_BYTES)
        return MEMGAUGE_E_SPOOL_BYTES;
    if (o->spool_max_files < 1 || o->spool_max_files > MAX_SPOOL_FILES)
        return MEMGAUGE_E_SPOOL_FILES;
    if (o->spool_max_age_s < MIN_SPOOL_AGE_S || o->spool_max_age_s > MAX_SPOOL_AGE_S)
        return MEMGAUGE_E_SPOOL_AGE;
    return MEMGAUGE_OK;
}

int memgauge__options_validate(const memgauge_options_t *opts)
{
    if (opts == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (opts->struct_size < MEMGAUGE__OPTIONS_V1_SIZE || !unknown_tail_is_zero(opts))
        return MEMGAUGE_E_STRUCT_SIZE;
    if (opts->interval_ms < MIN_INTERVAL_MS || opts->interval_ms > MAX_INTERVAL_MS)
        return MEMGAUGE_E_INTERVAL;
    if (opts->ring_capacity < 1 || opts->ring_capacity > MAX_RING)
        return MEMGAUGE_E_RING_CAPACITY;
    if (opts->window_ms < opts->interval_ms || opts->window_ms > MAX_INTERVAL_MS)
        return MEMGAUGE_E_WINDOW;
    if (opts->threshold_count > MEMGAUGE_MAX_THRESHOLDS ||
        (opts->threshold_count != 0 && opts->thresholds == NULL))
        return MEMGAUGE_E_THRESHOLD_COUNT;
    for (uint32_t i = 0; i < opts->threshold_count; i++) {
        int rc = validate_threshold(&opts->thresholds[i]);
        if (rc != MEMGAUGE_OK)
            return rc;
    }
    if (!(opts->hysteresis_fraction >= 0.0 && opts->hysteresis_fraction <= MAX_HYSTERESIS))
        return MEMGAUGE_E_HYSTERESIS; /* also refuses NaN */
    if (opts->struct_size < sizeof *opts)
        return MEMGAUGE_OK; /* the rest is checked after memgauge__options_normalize */
    int rc = validate_record(opts);
    if (rc != MEMGAUGE_OK)
        return rc;
    double warn = opts->pressure_warning_fraction, crit = opts->pressure_critical_fraction;
    if (!(crit > 0.0 && crit < warn && warn < 1.0))
        return MEMGAUGE_E_PRESSURE_FRACTION;
    if (opts->fast_interval_ms < MIN_INTERVAL_MS || opts->fast_interval_ms > MAX_INTERVAL_MS)
        return MEMGAUGE_E_FAST_INTERVAL;
    if (!(opts->fast_headroom_fraction >= 0.0 && opts->fast_headroom_fraction < 1.0))
        return MEMGAUGE_E_FAST_TRIGGER;
    return validate_transport(opts);
}

const char *memgauge_strerror(int code)
{
    switch (code) {
    case MEMGAUGE_OK:
        return "success";
    case MEMGAUGE_E_NULL_ARGUMENT:
        return "a required pointer argument is NULL";
    case MEMGAUGE_E_STRUCT_SIZE:
        return "struct_size is smaller than this library's first version of the struct, or "
               "the caller's newer struct sets fields this library does not know (use "
               "memgauge_options_init)";
    case MEMGAUGE_E_INTERVAL:
        return "options.interval_ms must be between 10 and 86400000";
    case MEMGAUGE_E_RING_CAPACITY:
        return "options.ring_capacity must be between 1 and 1048576";
    case MEMGAUGE_E_WINDOW:
        return "options.window_ms must be at least options.interval_ms and at most 86400000";
    case MEMGAUGE_E_THRESHOLD_COUNT:
        return "options.threshold_count must be at most 16, with options.thresholds non-NULL "
               "when it is not 0";
    case MEMGAUGE_E_THRESHOLD_LEVEL:
        return "options.thresholds[i] must set exactly one of bytes and limit_fraction";
    case MEMGAUGE_E_THRESHOLD_FRACTION:
        return "options.thresholds[i].limit_fraction must be in (0, 1]";
    case MEMGAUGE_E_HYSTERESIS:
        return "options.hysteresis_fraction must be between 0 and 0.5";
    case MEMGAUGE_E_ALREADY_STARTED:
        return "a memgauge sampler is already running in this process";
    case MEMGAUGE_E_NOT_RUNNING:
        return "the handle is not a running memgauge sampler (already stopped?)";
    case MEMGAUGE_E_TIMEOUT:
        return "the sampler thread did not exit within timeout_ms (a callback is still running)";
    case MEMGAUGE_E_PLATFORM:
        return "the operating system refused every way to read the process's memory";
    case MEMGAUGE_E_NO_MEMORY:
        return "out of memory while starting the sampler";
    case MEMGAUGE_E_THREAD:
        return "the sampler thread could not be created";
    case MEMGAUGE_E_ARGUMENT:
        return "an argument is out of range (options.record must be 0 or 1; memgauge_stop "
               "cannot be called from the sampler's own callbacks)";
    case MEMGAUGE_E_UNSUPPORTED:
        return "memgauge has no implementation for this platform";
    case MEMGAUGE_E_STORAGE_DIR:
        return "options.storage_dir is empty, longer than 400 bytes, or cannot be created or "
               "written (or, when NULL, there is no default: set it or turn options.record off)";
    case MEMGAUGE_E_APP_ID:
        return "options.app_id must be 1 to 63 characters of A-Z a-z 0-9 . _ - (not . or ..)";
    case MEMGAUGE_E_APP_VERSION:
        return "options.app_version and options.app_build must be at most 31 bytes";
    case MEMGAUGE_E_TRAIL:
        return "options.trail_seconds must be between 0 and 3600";
    case MEMGAUGE_E_PRESSURE_FRACTION:
        return "options.pressure_critical_fraction and options.pressure_warning_fraction must "
               "satisfy 0 < critical < warning < 1";
    case MEMGAUGE_E_FAST_INTERVAL:
        return "options.fast_interval_ms must be between 10 and 86400000";
    case MEMGAUGE_E_FAST_TRIGGER:
        return "options.fast_headroom_fraction must be at least 0 and below 1";
    case MEMGAUGE_E_RECORD:
        return "the session record file in options.storage_dir could not be created or mapped";
    case MEMGAUGE_E_APP_STATE:
        return "the app state must be one of the memgauge_app_state_t values";
    case MEMGAUGE_E_THERMAL_STATE:
        return "the thermal state must be one of the memgauge_thermal_t values";
    case MEMGAUGE_E_LAUNCH_FLAGS:
        return "the launch flags may hold only MEMGAUGE_LAUNCH_PREWARMED and "
               "MEMGAUGE_LAUNCH_EXTENSION";
    case MEMGAUGE_E_ENDPOINT:
        return "options.endpoint_url must be an http:// or https:// URL of at most 2048 printable "
               "bytes, and needs options.send when the library was built without libcurl";
    case MEMGAUGE_E_API_KEY:
        return "options.api_key must be 1 to 512 printable ASCII bytes without spaces";
    case MEMGAUGE_E_REPORT_INTERVAL:
        return "options.report_interval_ms must be between 0 and 86400000";
    case MEMGAUGE_E_BATCH_SIZE:
        return "options.max_batch_bytes must be between 16384 and 16777216";
    case MEMGAUGE_E_CONNECT_TIMEOUT:
        return "options.connect_timeout_ms must be between 1 and 600000";
    case MEMGAUGE_E_TOTAL_TIMEOUT:
        return "options.total_timeout_ms must be at least options.connect_timeout_ms and at most "
               "600000";
    case MEMGAUGE_E_HEADERS:
        return "options.extra_headers must hold options.extra_header_count (at most 16) "
               "\"Name: value\" strings of at most 1024 printable bytes";
    case MEMGAUGE_E_RETRY_BASE:
        return "options.retry_base_ms must be between 10 and 3600000";
    case MEMGAUGE_E_RETRY_MAX:
        return "options.retry_max_ms must be at least options.retry_base_ms and at most 86400000";
    case MEMGAUGE_E_QUEUE_CAPACITY:
        return "options.queue_capacity must be between 16 and 1048576";
    case MEMGAUGE_E_SPOOL_BYTES:
        return "options.spool_max_bytes must be between 65536 and 4294967296";
    case MEMGAUGE_E_SPOOL_FILES:
        return "options.spool_max_files must be between 1 and 100000";
    case MEMGAUGE_E_SPOOL_AGE:
        return "options.spool_max_age_s must be between 60 and 31536000";
    case MEMGAUGE_E_TLS_VERIFY:
        return "options.tls_verify must be 0 or 1";
    case MEMGAUGE_E_GZIP:
        return "options.gzip must be 0 or 1";
    case MEMGAUGE_E_CA_FILE:
        return "options.ca_file must be a non-empty path of at most 400 bytes";
    case MEMGAUGE_E_PROXY:
        return "options.proxy must be 1 to 2048 printable bytes without spaces";
    case MEMGAUGE_E_TRANSPORT:
        return "the report spool (<storage dir>/spool) could not be created, or the transport "
               "thread could not start";
    default:
        return "unknown memgauge error";
    }
}

const char *memgauge_pressure_name(int level)
{
    switch (level) {
    case MEMGAUGE_PRESSURE_NORMAL:
        return "normal";
    case MEMGAUGE_PRESSURE_WARNING:
        return "warning";
    case MEMGAUGE_PRESSURE_CRITICAL:
        return "critical";
    default:
        return "unknown";
    }
}
