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
    return MEMGAUGE_OK;
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
