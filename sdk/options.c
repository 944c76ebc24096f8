/* Options: defaults, validation, error text, version. */
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

const char *memgauge_version(void)
{
    return MEMGAUGE_VERSION_STRING;
}

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
        return "an argument is out of range (memgauge_stop cannot be called from the "
               "sampler's own callbacks)";
    case MEMGAUGE_E_UNSUPPORTED:
        return "memgauge has no implementation for this platform";
    default:
        return "unknown memgauge error";
    }
}
