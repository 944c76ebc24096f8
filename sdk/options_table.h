/* Every option of memgauge_options_t, declared once: its default, its range,
 * the error code that refuses it and one line of documentation. Defaults
 * (memgauge_options_init), validation, memgauge_strerror's option texts,
 * memgauge_option_range and the table in docs/options.md are all made from
 * it; the header's comments say the same in prose.
 *
 * Rows are in the struct's order, which is the order validation reports the
 * first bad field in. The kinds:
 *   RANGE(group, field, type, default, min, max, code, doc)
 *       a number in [min, max]
 *   ABOVE(group, field, type, default, min_field, max, code, doc)
 *       a number in [options.min_field, max] (min_field is an earlier row)
 *   FLAG(group, field, default, code, doc)
 *       an int that is 0 or 1
 *   CHECK(group, field, type, default, check, code, range, error, doc)
 *       anything else: `check` is a function of options.c (NULL: any value
 *       is accepted), `range` says in words what it accepts and `error` is
 *       memgauge_strerror's text
 *   FREE(group, field, type, doc)
 *       not validated (callbacks, user data); default 0 or NULL
 * Groups: CORE (the 0.1 struct: always validated), MORE (since 0.2.0:
 * validated once the caller's struct is complete), REPORT (validated only
 * with an endpoint_url). Types: U32, U64, DBL, INT, PTR.
 *
 * min and max are written as plain numbers (or the MEMGAUGE__DAY_MS kind of
 * macro below), since the error texts are made by stringifying them. */
#ifndef MEMGAUGE_OPTIONS_TABLE_H
#define MEMGAUGE_OPTIONS_TABLE_H

#include <stddef.h>

#include <memgauge/memgauge.h>

#define MEMGAUGE__DAY_MS 86400000
#define MEMGAUGE__NET_TIMEOUT_MAX_MS 600000

/* clang-format off */
#define MEMGAUGE__OPTIONS(RANGE, ABOVE, FLAG, CHECK, FREE)                                          \
    RANGE(CORE, interval_ms, U32, 1000, 10, MEMGAUGE__DAY_MS, MEMGAUGE_E_INTERVAL,                  \
          "sampling interval")                                                                      \
    RANGE(CORE, ring_capacity, U32, 600, 1, 1048576, MEMGAUGE_E_RING_CAPACITY,                      \
          "recent samples kept in memory for memgauge_get_samples")                                 \
    ABOVE(CORE, window_ms, U32, 60000, interval_ms, MEMGAUGE__DAY_MS, MEMGAUGE_E_WINDOW,            \
          "report window: each window's aggregates (on_window, reports)")                          \
    CHECK(CORE, threshold_count, U32, 0, check_thresholds, MEMGAUGE_E_THRESHOLD_COUNT,              \
          "0 .. 16",                                                                                \
          "options.threshold_count must be at most 16, with options.thresholds non-NULL when it "   \
          "is not 0",                                                                               \
          "footprint levels to watch (MEMGAUGE_MAX_THRESHOLDS)")                                    \
    FREE(CORE, thresholds, PTR, "threshold_count levels, each one of bytes or limit_fraction; copied") \
    RANGE(CORE, hysteresis_fraction, DBL, 0.05, 0, 0.5, MEMGAUGE_E_HYSTERESIS,                      \
          "a downward crossing of L fires below L * (1 - hysteresis_fraction)")                     \
    FREE(CORE, on_sample, PTR, "called on the sampler thread with each sample")                     \
    FREE(CORE, on_threshold, PTR, "called on the sampler thread with each threshold crossing")      \
    FREE(CORE, on_window, PTR, "called on the sampler thread with each completed window")           \
    FREE(CORE, user_data, PTR, "passed to every callback")                                          \
    FLAG(MORE, record, 1, MEMGAUGE_E_ARGUMENT,                                                      \
         "keep a crash-safe record of the session and diagnose how the previous one ended")         \
    CHECK(MORE, storage_dir, PTR, 0, check_storage_dir, MEMGAUGE_E_STORAGE_DIR,                     \
          "1 .. 400 bytes",                                                                         \
          "options.storage_dir is empty, longer than 400 bytes, or cannot be created or written "   \
          "(or, when NULL, there is no default: set it or turn options.record off)",                \
          "directory of the record and the spool; NULL: the platform's default per app_id")         \
    CHECK(MORE, app_id, PTR, 0, check_app_id, MEMGAUGE_E_APP_ID,                                    \
          "1 .. 63 of A-Z a-z 0-9 . _ -",                                                           \
          "options.app_id must be 1 to 63 characters of A-Z a-z 0-9 . _ - (not . or ..)",           \
          "the app's name in reports and the default storage_dir; NULL: the executable's name")     \
    CHECK(MORE, app_version, PTR, 0, check_app_version, MEMGAUGE_E_APP_VERSION,                     \
          "0 .. 31 bytes",                                                                          \
          "options.app_version and options.app_build must be at most 31 bytes",                     \
          "a change between two sessions means the app was upgraded; NULL: \"\"")                   \
    CHECK(MORE, app_build, PTR, 0, check_app_version, MEMGAUGE_E_APP_VERSION,                       \
          "0 .. 31 bytes",                                                                          \
          "options.app_version and options.app_build must be at most 31 bytes",                     \
          "as app_version; NULL: \"\"")                                                             \
    RANGE(MORE, trail_seconds, U32, 60, 0, 3600, MEMGAUGE_E_TRAIL,                                  \
          "seconds of samples kept in the record: the trail read after a kill")                     \
    CHECK(MORE, pressure_warning_fraction, DBL, 0.15, check_pressure,                               \
          MEMGAUGE_E_PRESSURE_FRACTION, "0 < critical < warning < 1",                               \
          "options.pressure_critical_fraction and options.pressure_warning_fraction must satisfy "  \
          "0 < critical < warning < 1",                                                             \
          "headroom below this fraction of the limit is WARNING pressure")                          \
    CHECK(MORE, pressure_critical_fraction, DBL, 0.05, check_pressure,                              \
          MEMGAUGE_E_PRESSURE_FRACTION, "0 < critical < warning < 1",                               \
          "options.pressure_critical_fraction and options.pressure_warning_fraction must satisfy "  \
          "0 < critical < warning < 1",                                                             \
          "headroom below this fraction of the limit is CRITICAL pressure")                         \
    RANGE(MORE, fast_interval_ms, U32, 100, 10, MEMGAUGE__DAY_MS, MEMGAUGE_E_FAST_INTERVAL,         \
          "sampling interval while memory is tight or growing fast; not below interval_ms: off")    \
    CHECK(MORE, fast_headroom_fraction, DBL, 0.25, check_fast_headroom, MEMGAUGE_E_FAST_TRIGGER,    \
          "[0, 1)", "options.fast_headroom_fraction must be at least 0 and below 1",                \
          "sample fast while the headroom is below this fraction of the limit; 0: off")             \
    CHECK(MORE, fast_growth_bytes_per_s, U64, 67108864, NULL, 0, "any", NULL,                       \
          "sample fast while the footprint grows at least this fast; 0: off")                       \
    FREE(MORE, on_pressure, PTR, "called on the sampler thread with each change of pressure level") \
    CHECK(REPORT, endpoint_url, PTR, 0, check_endpoint, MEMGAUGE_E_ENDPOINT,                        \
          "http:// or https://, 1 .. 2048 bytes",                                                   \
          "options.endpoint_url must be an http:// or https:// URL of at most 2048 printable "      \
          "bytes, and needs options.send when the library was built without libcurl",               \
          "the collector's URL (a base URL gets /v1/reports); NULL: no reporting")                  \
    CHECK(REPORT, api_key, PTR, 0, check_api_key, MEMGAUGE_E_API_KEY,                               \
          "1 .. 512 printable bytes, no spaces",                                                    \
          "options.api_key must be 1 to 512 printable ASCII bytes without spaces",                  \
          "sent as `Authorization: Bearer <api_key>`; NULL: no header")                             \
    RANGE(REPORT, report_interval_ms, U32, 300000, 0, MEMGAUGE__DAY_MS, MEMGAUGE_E_REPORT_INTERVAL, \
          "a batch goes at the first window close this long after the last (events go sooner)")    \
    RANGE(REPORT, max_batch_bytes, U32, 1048576, 16384, 16777216, MEMGAUGE_E_BATCH_SIZE,            \
          "largest uncompressed JSON body; a larger batch is split")                                \
    RANGE(REPORT, connect_timeout_ms, U32, 10000, 1, MEMGAUGE__NET_TIMEOUT_MAX_MS,                  \
          MEMGAUGE_E_CONNECT_TIMEOUT, "per request")                                                \
    ABOVE(REPORT, total_timeout_ms, U32, 30000, connect_timeout_ms, MEMGAUGE__NET_TIMEOUT_MAX_MS,   \
          MEMGAUGE_E_TOTAL_TIMEOUT, "per request, the whole exchange")                              \
    CHECK(REPORT, ca_file, PTR, 0, check_ca_file, MEMGAUGE_E_CA_FILE, "1 .. 400 bytes",             \
          "options.ca_file must be a non-empty path of at most 400 bytes",                          \
          "PEM bundle for TLS; NULL: the system's")                                                 \
    CHECK(REPORT, proxy, PTR, 0, check_proxy, MEMGAUGE_E_PROXY,                                     \
          "1 .. 2048 printable bytes, no spaces",                                                   \
          "options.proxy must be 1 to 2048 printable bytes without spaces",                         \
          "libcurl proxy URL; NULL: libcurl's environment rules")                                   \
    CHECK(REPORT, extra_headers, PTR, 0, check_headers, MEMGAUGE_E_HEADERS,                         \
          "extra_header_count \"Name: value\", each 1 .. 1024 printable bytes",                     \
          "options.extra_headers must hold options.extra_header_count (at most 16) \"Name: "        \
          "value\" strings of at most 1024 printable bytes",                                        \
          "extra request headers; copied")                                                          \
    CHECK(REPORT, extra_header_count, U32, 0, check_headers, MEMGAUGE_E_HEADERS, "0 .. 16",         \
          "options.extra_headers must hold options.extra_header_count (at most 16) \"Name: "        \
          "value\" strings of at most 1024 printable bytes",                                        \
          "entries in extra_headers")                                                               \
    FLAG(REPORT, tls_verify, 1, MEMGAUGE_E_TLS_VERIFY,                                              \
         "verify the TLS peer and host name; 0 only for test servers")                              \
    FLAG(REPORT, gzip, 1, MEMGAUGE_E_GZIP,                                                          \
         "gzip request bodies (plain JSON for the session after a 415)")                            \
    RANGE(REPORT, retry_base_ms, U32, 1000, 10, 3600000, MEMGAUGE_E_RETRY_BASE,                     \
          "first retry delay; doubles with jitter")                                                 \
    ABOVE(REPORT, retry_max_ms, U32, 300000, retry_base_ms, MEMGAUGE__DAY_MS,                       \
          MEMGAUGE_E_RETRY_MAX, "longest retry delay; caps Retry-After too")                        \
    RANGE(REPORT, queue_capacity, U32, 4096, 16, 1048576, MEMGAUGE_E_QUEUE_CAPACITY,                \
          "samples and events waiting for the transport thread; full: dropped and counted")         \
    RANGE(REPORT, spool_max_bytes, U64, 16777216, 65536, 4294967296, MEMGAUGE_E_SPOOL_BYTES,        \
          "disk budget of the spool; the oldest batches are evicted beyond it")                     \
    RANGE(REPORT, spool_max_files, U32, 1000, 1, 100000, MEMGAUGE_E_SPOOL_FILES,                    \
          "files in the spool")                                                                     \
    RANGE(REPORT, spool_max_age_s, U32, 604800, 60, 31536000, MEMGAUGE_E_SPOOL_AGE,                 \
          "age at which a batch is evicted unsent")                                                 \
    FREE(REPORT, send, PTR, "a send hook replacing libcurl (required without it)")                  \
    FREE(REPORT, send_user_data, PTR, "passed to send")                                             \
    FREE(MORE, on_log, PTR, "told about problems that keep the SDK from doing its whole job")       \
    FREE(MORE, log_user_data, PTR, "passed to on_log")
/* clang-format on */

typedef enum memgauge__opt_type_e {
    MEMGAUGE__OPT_U32,
    MEMGAUGE__OPT_U64,
    MEMGAUGE__OPT_DBL,
    MEMGAUGE__OPT_INT,
    MEMGAUGE__OPT_PTR
} memgauge__opt_type_t;

typedef enum memgauge__opt_kind_e {
    MEMGAUGE__OPT_RANGE, /* [min, max] */
    MEMGAUGE__OPT_ABOVE, /* [the value of the option at min_offset, max] */
    MEMGAUGE__OPT_FLAG,  /* 0 or 1 */
    MEMGAUGE__OPT_CHECK, /* a function decides */
    MEMGAUGE__OPT_FREE   /* anything */
} memgauge__opt_kind_t;

typedef enum memgauge__opt_group_e {
    MEMGAUGE__OPT_CORE,
    MEMGAUGE__OPT_MORE,
    MEMGAUGE__OPT_REPORT
} memgauge__opt_group_t;

typedef struct memgauge__option_s {
    const char *name; /* the field's name */
    size_t offset;    /* offsetof(memgauge_options_t, field) */
    size_t size;      /* sizeof the field */
    int type;         /* memgauge__opt_type_t */
    int kind;         /* memgauge__opt_kind_t */
    int group;        /* memgauge__opt_group_t */
    double def;       /* the default (0 for FREE: NULL) */
    const char *def_text;
    double min, max;   /* RANGE; ABOVE: max only */
    size_t min_offset; /* ABOVE: the option whose value is the minimum */
    const char *min_name;
    int code; /* MEMGAUGE_E_* refusing it; 0 for FREE */
    const char *code_name;
    const char *range;                            /* in words, for the docs */
    const char *error;                            /* memgauge_strerror(code) */
    const char *doc;                              /* one line */
    int (*check)(const memgauge_options_t *opts); /* CHECK: 0 or the code */
} memgauge__option_t;

/* The table above as data, in the struct's order; *count rows. */
const memgauge__option_t *memgauge__options_table(size_t *count);

#endif
