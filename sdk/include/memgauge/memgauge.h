/*
 * memgauge — how much memory an app really costs.
 *
 * The number is the task's physical footprint: `phys_footprint` from
 * task_info(TASK_VM_INFO) on Darwin (what Xcode's memory gauge shows and what
 * jetsam compares against the app's limit), and the same definition on
 * Linux (and Android, where it is untested: nothing here builds for it):
 * anonymous resident memory plus swap, as Chromium computes its "private
 * memory footprint".
 *
 * Conventions of this header
 * - Every function that can fail returns an int error code: 0 (MEMGAUGE_OK)
 *   on success, a negative MEMGAUGE_E_* value otherwise; memgauge_strerror()
 *   names the problem (for an option, the field). NULL pointer arguments are
 *   answered with MEMGAUGE_E_NULL_ARGUMENT, never a crash. The others cannot
 *   fail: the *_name functions, memgauge_strerror and memgauge_version return
 *   a static string (never NULL), and the lock-free notes (memgauge_note_*,
 *   memgauge_hang_*) return nothing.
 * - Structs that cross the API carry `struct_size` as their first field:
 *   memgauge_options_init sets it for the options, the caller sets it to
 *   sizeof(the struct it was compiled with) for the others. The library reads
 *   and writes only the bytes the caller declared, so an app built against an
 *   older header keeps working with a newer library and vice versa.
 * - Byte quantities are bytes (uint64_t, except the uint32_t
 *   options.max_batch_bytes). Times (time_ns, start_ns...) are nanoseconds of
 *   the monotonic clock (clock_gettime(CLOCK_MONOTONIC)); a name with `wall`
 *   in it is CLOCK_REALTIME, and durations end in their unit (_ms, _s).
 * - Every option's default, range and error code: docs/options.md.
 */
#ifndef MEMGAUGE_MEMGAUGE_H
#define MEMGAUGE_MEMGAUGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MEMGAUGE_API
#elif defined(__GNUC__) || defined(__clang__)
#define MEMGAUGE_API __attribute__((visibility("default")))
#else
#define MEMGAUGE_API
#endif

#define MEMGAUGE_VERSION_MAJOR 0
#define MEMGAUGE_VERSION_MINOR 5
#define MEMGAUGE_VERSION_PATCH 0
#define MEMGAUGE_VERSION_STRING "0.5.0"

/* ------------------------------------------------------------------------ */
/* Error codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum memgauge_error_e {
    MEMGAUGE_OK = 0,
    MEMGAUGE_E_NULL_ARGUMENT = -1, /* a required pointer argument is NULL */
    MEMGAUGE_E_STRUCT_SIZE = -2,   /* struct_size below the first version, or unknown fields set */
    MEMGAUGE_E_INTERVAL = -3,      /* options.interval_ms out of range */
    MEMGAUGE_E_RING_CAPACITY = -4, /* options.ring_capacity out of range */
    MEMGAUGE_E_WINDOW = -5,        /* options.window_ms out of range or below interval_ms */
    MEMGAUGE_E_THRESHOLD_COUNT = -6, /* options.threshold_count too large, or thresholds NULL */
    MEMGAUGE_E_THRESHOLD_LEVEL = -7, /* a threshold has neither or both of bytes/limit_fraction */
    MEMGAUGE_E_THRESHOLD_FRACTION = -8, /* a threshold's limit_fraction is not in (0, 1] */
    MEMGAUGE_E_HYSTERESIS = -9,         /* options.hysteresis_fraction not in [0, 0.5] */
    MEMGAUGE_E_ALREADY_STARTED = -10,   /* a sampler is already running in this process */
    MEMGAUGE_E_NOT_RUNNING = -11,       /* the handle is not a running sampler (stopped twice?) */
    MEMGAUGE_E_TIMEOUT = -12,           /* the sampler did not exit within timeout_ms */
    MEMGAUGE_E_PLATFORM = -13,          /* the OS refused every way to read memory */
    MEMGAUGE_E_NO_MEMORY = -14,         /* allocation failed at start */
    MEMGAUGE_E_THREAD = -15,            /* the sampler thread could not be created */
    MEMGAUGE_E_ARGUMENT = -16,          /* another argument is out of range (see the function) */
    MEMGAUGE_E_UNSUPPORTED = -17,       /* the platform has no implementation */
    MEMGAUGE_E_STORAGE_DIR = -18,       /* options.storage_dir unusable (or no default exists) */
    MEMGAUGE_E_APP_ID = -19,            /* options.app_id empty, too long or not [A-Za-z0-9._-] */
    MEMGAUGE_E_APP_VERSION = -20,       /* options.app_version or app_build too long */
    MEMGAUGE_E_TRAIL = -21,             /* options.trail_seconds out of range */
    MEMGAUGE_E_PRESSURE_FRACTION = -22, /* pressure fractions not 0 < critical < warning < 1 */
    MEMGAUGE_E_FAST_INTERVAL = -23,     /* options.fast_interval_ms not in 10 .. 86400000 */
    MEMGAUGE_E_FAST_TRIGGER = -24,      /* options.fast_headroom_fraction not in [0, 1) */
    MEMGAUGE_E_RECORD = -25,            /* no longer returned by start: see options.record */
    MEMGAUGE_E_APP_STATE = -26,         /* not a memgauge_app_state_t value */
    /* reporting (since 0.3.0) */
    MEMGAUGE_E_ENDPOINT = -27, /* options.endpoint_url not http(s)://, too long, or no sender */
    MEMGAUGE_E_API_KEY = -28,  /* options.api_key empty, too long or not printable ASCII */
    MEMGAUGE_E_REPORT_INTERVAL = -29, /* options.report_interval_ms out of range */
    MEMGAUGE_E_BATCH_SIZE = -30,      /* options.max_batch_bytes out of range */
    MEMGAUGE_E_CONNECT_TIMEOUT = -31, /* options.connect_timeout_ms out of range */
    MEMGAUGE_E_TOTAL_TIMEOUT = -32,   /* options.total_timeout_ms out of range or below connect */
    MEMGAUGE_E_HEADERS = -33,         /* options.extra_headers: too many, NULL or malformed */
    MEMGAUGE_E_RETRY_BASE = -34,      /* options.retry_base_ms out of range */
    MEMGAUGE_E_RETRY_MAX = -35,       /* options.retry_max_ms out of range or below the base */
    MEMGAUGE_E_QUEUE_CAPACITY = -36,  /* options.queue_capacity out of range */
    MEMGAUGE_E_SPOOL_BYTES = -37,     /* options.spool_max_bytes out of range */
    MEMGAUGE_E_SPOOL_FILES = -38,     /* options.spool_max_files out of range */
    MEMGAUGE_E_SPOOL_AGE = -39,       /* options.spool_max_age_s out of range */
    MEMGAUGE_E_TLS_VERIFY = -40,      /* options.tls_verify not 0 or 1 */
    MEMGAUGE_E_GZIP = -41,            /* options.gzip not 0 or 1 */
    MEMGAUGE_E_CA_FILE = -42,         /* options.ca_file empty or too long */
    MEMGAUGE_E_PROXY = -43,           /* options.proxy empty or too long */
    MEMGAUGE_E_TRANSPORT = -44,       /* the spool directory or the transport thread failed */
    MEMGAUGE_E_THERMAL_STATE = -45,   /* memgauge_set_thermal_state: not a memgauge_thermal_t */
    MEMGAUGE_E_LAUNCH_FLAGS = -46     /* memgauge_set_launch_flags: an unknown bit */
} memgauge_error_t;

/* Static text naming what went wrong; for option errors it names the field,
 * e.g. "options.interval_ms must be between 10 and 86400000". Never NULL; an
 * unknown code gives "unknown memgauge error". Any thread, never blocks. */
MEMGAUGE_API const char *memgauge_strerror(int code);

/* "0.4.0": the library's version, which may differ from the header's
 * MEMGAUGE_VERSION_STRING when linked dynamically. Static string. */
MEMGAUGE_API const char *memgauge_version(void);

/* ------------------------------------------------------------------------ */
/* One-shot reading                                                         */
/* ------------------------------------------------------------------------ */

/* How the footprint in a reading was obtained. Reports carry it so that a
 * fallback is never mistaken for the real figure. */
typedef enum memgauge_footprint_source_e {
    MEMGAUGE_SOURCE_NONE = 0,
    MEMGAUGE_SOURCE_PHYS_FOOTPRINT = 1,         /* Darwin TASK_VM_INFO >= REV1 */
    MEMGAUGE_SOURCE_INTERNAL_COMPRESSED = 2,    /* Darwin below REV1: internal + compressed */
    MEMGAUGE_SOURCE_RESIDENT_FALLBACK = 3,      /* Darwin TASK_VM_INFO failed: resident_size */
    MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT = 4 /* (statm resident - shared) * page + VmSwap */
} memgauge_footprint_source_t;

/* Bits of memgauge_reading_t.valid: which fields hold a real value. */
#define MEMGAUGE_FIELD_FOOTPRINT (1u << 0)
#define MEMGAUGE_FIELD_RESIDENT (1u << 1)
#define MEMGAUGE_FIELD_PEAK (1u << 2)
#define MEMGAUGE_FIELD_LIMIT (1u << 3)
#define MEMGAUGE_FIELD_AVAILABLE (1u << 4)
#define MEMGAUGE_FIELD_SWAPPED (1u << 5)

typedef struct memgauge_reading_s {
    uint64_t time_ns;         /* monotonic time of the reading */
    uint64_t footprint_bytes; /* physical footprint, see footprint_source */
    uint64_t resident_bytes;  /* resident set size (includes clean file-backed pages) */
    /* Kernel-tracked high-water mark. Darwin: ledger_phys_footprint_peak (a
     * footprint peak). Linux: VmHWM, the peak *resident* size, which bounds
     * the footprint peak from above. Catches spikes between two readings. */
    uint64_t peak_bytes;
    /* The limit the kernel kills at, 0 when unknown: Darwin's jetsam limit
     * (footprint + limit_bytes_remaining; unknown on macOS and the simulator),
     * Linux's cgroup memory limit (the tightest of the process's cgroup and
     * its ancestors; unknown when none is below physical memory). */
    uint64_t limit_bytes;
    /* Headroom before that limit or before the system runs out: Darwin
     * limit_bytes_remaining / os_proc_available_memory(); Linux the smaller
     * of the cgroup headroom (limit - usage + inactive file cache) and
     * MemAvailable. 0 with the bit clear when unknown. On Linux it is
     * re-read from the kernel at least every two seconds and carried forward by
     * the process's own footprint change in between. */
    uint64_t available_bytes;
    uint64_t swapped_bytes;   /* Darwin: compressed; Linux: VmSwap */
    uint32_t valid;           /* MEMGAUGE_FIELD_* bits */
    int32_t footprint_source; /* memgauge_footprint_source_t */
} memgauge_reading_t;

/* Reads the calling process's memory now, without a sampler. Fills *out
 * completely (fields not known are 0 with their bit clear in out->valid).
 * Thread-safe; no heap allocation; a few system calls (Linux: one pread of
 * /proc/self/statm and one getrusage in the common case). Never blocks
 * beyond those calls. Returns MEMGAUGE_E_PLATFORM if nothing could be read. */
MEMGAUGE_API int memgauge_read(memgauge_reading_t *out);

/* Human-readable name of a footprint source ("phys_footprint",
 * "internal_compressed", "resident_fallback", "linux_private_footprint",
 * "none"). These are the names reports use. Static string. */
MEMGAUGE_API const char *memgauge_source_name(int footprint_source);

/* Memory pressure, from the headroom and from the OS (Darwin's memory
 * pressure source, Linux PSI and cgroup pressure events). */
typedef enum memgauge_pressure_e {
    MEMGAUGE_PRESSURE_NORMAL = 0,
    MEMGAUGE_PRESSURE_WARNING = 1,
    MEMGAUGE_PRESSURE_CRITICAL = 2
} memgauge_pressure_t;

/* ------------------------------------------------------------------------ */
/* Sampler                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct memgauge_s memgauge_t;

/* One sample as the sampler recorded it. */
typedef struct memgauge_sample_s {
    uint64_t seq; /* 1 for the first sample of the session */
    uint64_t time_ns;
    uint64_t footprint_bytes;
    uint64_t resident_bytes;
    uint64_t kernel_peak_bytes; /* reading.peak_bytes, 0 if unknown */
    /* Best estimate of the highest footprint since the previous sample: the
     * larger of the two sampled footprints and, when the kernel's high-water
     * mark rose in between, the footprint that mark implies. */
    uint64_t interval_peak_bytes;
    uint64_t limit_bytes;
    uint64_t available_bytes;
    int64_t delta_bytes; /* footprint minus the previous sample's; 0 for the first */
    uint32_t valid;      /* reading.valid */
    int32_t footprint_source;
} memgauge_sample_t;

/* Aggregates over one report window (options.window_ms). */
typedef struct memgauge_window_s {
    uint64_t start_ns; /* time of the window's first sample */
    uint64_t end_ns;   /* time of the window's last sample */
    uint64_t samples;  /* 0: the window is empty and the rest is 0 */
    uint64_t first_bytes;
    uint64_t last_bytes;
    uint64_t min_bytes;
    uint64_t max_bytes;           /* highest sampled footprint */
    uint64_t mean_bytes;          /* exact floor of the sum over the count */
    uint64_t peak_bytes;          /* highest interval_peak_bytes (includes kernel-seen spikes) */
    uint64_t kernel_peak_bytes;   /* kernel high-water mark at the window's end, 0 if unknown */
    uint64_t limit_bytes;         /* at the window's end, 0 if unknown */
    uint64_t min_available_bytes; /* lowest headroom seen, 0 if unknown */
} memgauge_window_t;

typedef enum memgauge_direction_e {
    MEMGAUGE_CROSSED_UP = 1,  /* footprint reached the level */
    MEMGAUGE_CROSSED_DOWN = 2 /* footprint fell below level minus hysteresis */
} memgauge_direction_t;

/* A footprint level to watch. Set exactly one of the two. */
typedef struct memgauge_threshold_s {
    uint64_t bytes;        /* absolute level, or 0 */
    double limit_fraction; /* level as a fraction of limit_bytes in (0, 1], or 0;
                              inactive while the limit is unknown */
    int urgent;            /* non-zero: reports send the crossing at once */
    int id;                /* the caller's tag, echoed in events */
} memgauge_threshold_t;

typedef struct memgauge_threshold_event_s {
    int id;        /* memgauge_threshold_t.id */
    int index;     /* position in options.thresholds */
    int direction; /* memgauge_direction_t */
    int urgent;
    uint64_t level_bytes; /* the level in bytes when it was crossed */
    uint64_t footprint_bytes;
    uint64_t limit_bytes;
    uint64_t time_ns;
} memgauge_threshold_event_t;

/* Callbacks run on the sampler thread, without any memgauge lock held, so
 * they may call memgauge_get_stats(). They must not call memgauge_stop() on
 * their own handle (it would wait for itself; it returns MEMGAUGE_E_ARGUMENT).
 * Pointers passed to them are borrowed for the duration of the call. */
/* A change of memory pressure level (memgauge_pressure_t). */
typedef struct memgauge_pressure_event_s {
    int previous;      /* level before */
    int level;         /* level now */
    int from_headroom; /* the headroom fraction alone gives this level */
    int from_os;       /* the OS alone gives this level (Darwin pressure source, PSI, cgroup) */
    uint64_t footprint_bytes;
    uint64_t limit_bytes;     /* 0 if unknown */
    uint64_t available_bytes; /* 0 if unknown */
    uint64_t time_ns;
} memgauge_pressure_event_t;

typedef void (*memgauge_sample_cb)(const memgauge_sample_t *sample, void *user_data);
typedef void (*memgauge_pressure_cb)(const memgauge_pressure_event_t *event, void *user_data);
typedef void (*memgauge_threshold_cb)(const memgauge_threshold_event_t *event, void *user_data);
typedef void (*memgauge_window_cb)(const memgauge_window_t *window, void *user_data);

#define MEMGAUGE_MAX_THRESHOLDS 16

/* One HTTP request the transport wants sent. Everything is borrowed for
 * the duration of the send call. */
typedef struct memgauge_http_request_s {
    const char *url;
    const char *const *headers; /* "Name: value" each, header_count of them */
    size_t header_count;
    const void *body; /* the batch (gzip'd when a Content-Encoding header says so) */
    size_t body_len;
    uint32_t connect_timeout_ms;
    uint32_t total_timeout_ms; /* the hook must return within this */
} memgauge_http_request_t;

/* A send hook: sends the request (POST) and returns the HTTP status of the
 * answer, or 0 when none came (no connection, reset, timeout). It may copy
 * the answer's Retry-After header value (NUL-terminated) into retry_after
 * (retry_after_cap bytes). Runs on the transport thread; must not call
 * memgauge_stop. The same batch may be offered again after a failure: send
 * the same bytes. */
typedef int (*memgauge_send_fn)(const memgauge_http_request_t *request, char *retry_after,
                                size_t retry_after_cap, void *user_data);

/* Levels of memgauge_log_fn messages. */
typedef enum memgauge_log_level_e {
    MEMGAUGE_LOG_ERROR = 0,   /* data is being lost or cannot be delivered */
    MEMGAUGE_LOG_WARNING = 1, /* the SDK runs with less than it was asked for */
    MEMGAUGE_LOG_INFO = 2     /* a problem reported earlier has cleared */
} memgauge_log_level_t;

/* A diagnostic log hook. `message` is one line of text without a newline,
 * borrowed for the duration of the call. Runs on the SDK's own threads (the
 * sampler or the transport thread), one call at a time, never after
 * memgauge_stop has returned. It must return quickly: it must not block
 * (no network, no waiting for locks the app holds for long) and must not
 * call memgauge_stop. Rate-limited: each kind of problem is told at most
 * once a minute (the next message says how many were held back), so the
 * hook cannot be flooded. */
typedef void (*memgauge_log_fn)(int level, const char *message, void *user_data);

typedef struct memgauge_options_s {
    size_t struct_size;       /* sizeof(memgauge_options_t); set by memgauge_options_init */
    uint32_t interval_ms;     /* sampling interval; default 1000, range 10 .. 86400000 */
    uint32_t ring_capacity;   /* recent samples kept in memory; default 600, range 1 .. 1048576 */
    uint32_t window_ms;       /* report window; default 60000, interval_ms .. 86400000 */
    uint32_t threshold_count; /* 0 .. MEMGAUGE_MAX_THRESHOLDS */
    const memgauge_threshold_t *thresholds; /* copied at start */
    /* Hysteresis for downward crossings, as a fraction of the level: after an
     * upward crossing of L, the downward event fires when the footprint falls
     * below L * (1 - hysteresis_fraction). Default 0.05, range 0 .. 0.5. */
    double hysteresis_fraction;
    memgauge_sample_cb on_sample;       /* optional */
    memgauge_threshold_cb on_threshold; /* optional */
    memgauge_window_cb on_window;       /* optional: each completed window */
    void *user_data;                    /* passed to every callback */

    /* ---- the session record and the previous session (since 0.2.0) ---- */
    /* 1 (default): keep a crash-safe record of this session on disk, updated
     * every sample, and diagnose at start how the previous session ended.
     * 0: neither (trail_seconds is then ignored; with reporting on,
     * storage_dir still holds the spool and app_id, app_version and
     * app_build still describe the app).
     * The record's disk space is allocated when it is created, so a disk
     * that fills later never faults the app. When it cannot be (a full
     * disk, a read-only directory), the session still measures and reports
     * without a record: memgauge_stats_t.record_active is 0 with
     * record_errno, on_log is told, and the next launch finds no record of
     * this session (MEMGAUGE_END_NONE). */
    int record;
    /* Directory for the record and the report spool; created with its
     * parents (mode 0700) when the record is on, and must exist when it is
     * off. NULL: the platform default per app id (Linux
     * $XDG_STATE_HOME/memgauge/<app_id> or ~/.local/state/memgauge/<app_id>;
     * Darwin ~/Library/Caches/memgauge/<app_id>). Copied. At most 400
     * bytes. */
    const char *storage_dir;
    const char *app_id;      /* NULL: the executable's name. 1..63 of [A-Za-z0-9._-]. Copied. */
    const char *app_version; /* NULL: "". At most 31 bytes. Copied. A change between two
                                sessions means the app was upgraded. */
    const char *app_build;   /* NULL: "". At most 31 bytes. Copied. */
    /* Seconds of samples kept in the record (the trail read after a kill);
     * default 60, range 0 .. 3600. Sized for the fastest interval in use. */
    uint32_t trail_seconds;

    /* ---- pressure and adaptive sampling (since 0.2.0) ---- */
    /* Headroom below these fractions of the limit gives WARNING / CRITICAL
     * pressure (the OS's own signal can raise the level further). Defaults
     * 0.15 and 0.05; 0 < critical < warning < 1. */
    double pressure_warning_fraction;
    double pressure_critical_fraction;
    /* Sample every fast_interval_ms instead of interval_ms while the headroom
     * is below fast_headroom_fraction of the limit, while the footprint grows
     * at least fast_growth_bytes_per_s, or while pressure is not NORMAL; back
     * to interval_ms after five fast samples with none of these. Defaults
     * 100 ms (10 .. 86400000; a value not below interval_ms turns it off),
     * 0.25 ([0, 1); 0 turns the headroom trigger off), 64 MiB/s (0 turns it
     * off). */
    uint32_t fast_interval_ms;
    double fast_headroom_fraction;
    uint64_t fast_growth_bytes_per_s;
    memgauge_pressure_cb on_pressure; /* optional: every change of level */

    /* ---- reporting to a collector (since 0.3.0; docs/transport.md) ---- */
    /* Where batches go (wire format v1, docs/wire-format.md): the
     * collector's base URL, "https://collector.example" (a URL whose path is
     * empty or "/" gets "/v1/reports" appended), or a URL with a path, which
     * is used as given. NULL (default): no reporting, and every field below
     * is ignored. At most 2048 bytes. Copied. */
    const char *endpoint_url;
    /* Sent as "Authorization: Bearer <api_key>". NULL: no header. 1..512
     * printable ASCII bytes without spaces. Copied. */
    const char *api_key;
    /* A batch is built at the first window close (window_ms) at least this
     * long after the previous batch, so each batch carries
     * report_interval_ms / window_ms windows. Default 300000 (five 60 s
     * windows: under 4 bytes per sample on the wire, docs/performance.md),
     * range 0 .. 86400000 (0 sends every window). What should not wait does
     * not: an urgent event goes at once, and while an event or the previous
     * session's verdict is pending or memory pressure is above normal every
     * window close sends. A session's first batch goes at its first window
     * close, so the collector knows the session early. Closed windows waiting for
     * their batch are kept in a pending spool file, rewritten at each window
     * close, so a kill loses none of them: the next start sends them. */
    uint32_t report_interval_ms;
    /* Largest uncompressed JSON body; a larger batch is split, and a single
     * window above it is sent without its samples. Default 1 MiB, range
     * 16 KiB .. 16 MiB (the collector's default cap). */
    uint32_t max_batch_bytes;
    uint32_t connect_timeout_ms; /* default 10000, range 1 .. 600000 */
    uint32_t total_timeout_ms;   /* per request; default 30000, connect_timeout_ms .. 600000 */
    const char *ca_file;         /* PEM bundle for TLS; NULL: the system's. Copied. */
    const char *proxy;           /* libcurl proxy URL; NULL: libcurl's environment rules. Copied. */
    /* Extra request headers, "Name: value" each, at most 16, each at most
     * 1024 bytes without CR or LF. The array and strings are copied. */
    const char *const *extra_headers;
    uint32_t extra_header_count;
    /* 1 (default): verify the TLS peer and host name. 0 turns both off;
     * only for test servers. */
    int tls_verify;
    /* 1 (default): gzip bodies (if the server answers 415, plain JSON for
     * the rest of the session). */
    int gzip;
    /* Retries of network errors and 408, 429, 500, 502, 503, 504, 507:
     * exponential backoff from retry_base_ms (default 1000, 10 .. 3600000)
     * up to retry_max_ms (default 300000, base .. 86400000), with jitter;
     * Retry-After is honoured up to retry_max_ms. 401, 403, 404 and 405 say
     * the endpoint_url or api_key is wrong, not the batch: the batches stay
     * in the spool and are retried with a backoff that starts at 60 s
     * (capped at retry_max_ms); see memgauge_stats_t.config_error_status
     * and on_log. Other answers (400, 413, ...) drop the batch and count it. */
    uint32_t retry_base_ms;
    uint32_t retry_max_ms;
    /* Samples and events waiting for the transport thread; a full queue
     * drops and counts (the sampler never waits). Default 4096, range
     * 16 .. 1048576. */
    uint32_t queue_capacity;
    /* Batches not yet acknowledged live in <storage dir>/spool; the oldest
     * are evicted (and counted) beyond these. Defaults 16 MiB (64 KiB ..
     * 4 GiB), 1000 files (1 .. 100000), 7 days (60 .. 31536000 s). */
    uint64_t spool_max_bytes;
    uint32_t spool_max_files;
    uint32_t spool_max_age_s;
    /* Replaces libcurl (e.g. NSURLSession on iOS); required when the
     * library was built without libcurl. Runs on the transport thread; see
     * memgauge_send_fn. */
    memgauge_send_fn send;
    void *send_user_data;

    /* ---- diagnostics (since 0.4.0) ---- */
    /* Optional: told about problems that keep the SDK from doing all of its
     * job while the app goes on (the session record could not be created,
     * the spool cannot be written, the collector refuses the endpoint or
     * the key, a batch was rejected). See memgauge_log_fn. */
    memgauge_log_fn on_log;
    void *log_user_data;
} memgauge_options_t;

/* Fills *opts with the documented defaults (and struct_size). Any thread,
 * never blocks. MEMGAUGE_E_NULL_ARGUMENT for NULL. */
MEMGAUGE_API int memgauge_options_init(memgauge_options_t *opts);

/* The range memgauge_start accepts for a numeric option, by its field name
 * ("interval_ms", "trail_seconds", "hysteresis_fraction"...), so that an
 * app's own settings can be checked without repeating the library's
 * numbers. An option bounded by another (window_ms by interval_ms) gives
 * the lowest value the other may take; 0/1 switches give 0 and 1.
 * MEMGAUGE_E_ARGUMENT for a field that is unknown or has no numeric range
 * (strings, callbacks, threshold_count...), and for the numeric options
 * checked by a rule rather than a closed range (fast_headroom_fraction,
 * [0, 1); pressure_warning_fraction and pressure_critical_fraction,
 * checked together) or not at all (fast_growth_bytes_per_s): their
 * comments above say what is accepted.
 * Any thread, never blocks.
 * Since 0.5.0. */
MEMGAUGE_API int memgauge_option_range(const char *field, double *min, double *max);

/* Validates every field of *opts (the first invalid field decides the error
 * code), copies it, takes a first reading and starts the sampler thread,
 * which takes its first sample at once and then every interval_ms.
 * Copies everything in `opts`, including the thresholds array; the caller may
 * free it as soon as this returns. One sampler per process: a second start
 * before memgauge_stop returns MEMGAUGE_E_ALREADY_STARTED. On success *out
 * owns the sampler until memgauge_stop; it is written before the thread
 * starts, so callbacks may read the variable it points to. Any thread.
 * Blocks for one reading, thread creation and, unless options.record is 0,
 * the session record's disk work (reading the previous record, creating
 * and allocating the new one) and, with an endpoint_url, creating the spool
 * directory; nothing waits for the network. */
MEMGAUGE_API int memgauge_start(const memgauge_options_t *opts, memgauge_t **out);

/* Stops the sampler, waiting up to timeout_ms for its thread to exit (it
 * wakes at once; only a callback still running can delay it), then frees the
 * handle. With reporting on, the rest of timeout_ms sends what is pending;
 * the final batch says the session ended with a clean stop (and is spooled
 * for the next start, still saying so, when it cannot go in time). on_log
 * is not called after this returns. Returns MEMGAUGE_E_TIMEOUT if the
 * thread has not exited by then; the handle is then released by the thread
 * itself when the callback returns, and must not be used again either way.
 * A handle that is not running (already stopped) gives
 * MEMGAUGE_E_NOT_RUNNING. In a child process after fork() the sampler
 * thread does not exist: stop just frees the handle. Any thread except the
 * sampler's own (from a callback: MEMGAUGE_E_ARGUMENT). Blocks up to
 * timeout_ms. */
MEMGAUGE_API int memgauge_stop(memgauge_t *handle, uint32_t timeout_ms);

typedef struct memgauge_stats_s {
    size_t struct_size;              /* set by the caller: sizeof(memgauge_stats_t) */
    int running;                     /* 1 while the sampler thread runs */
    int32_t footprint_source;        /* of the last sample */
    uint64_t samples;                /* samples taken */
    uint64_t read_errors;            /* readings the platform refused (no sample taken) */
    uint64_t overruns;               /* ticks skipped because a sample or callback took too long */
    uint64_t start_ns;               /* time of the first sample */
    uint64_t last_ns;                /* time of the last sample */
    uint64_t first_bytes;            /* footprint of the first sample */
    uint64_t last_bytes;             /* footprint of the last sample */
    int64_t last_delta_bytes;        /* last minus the sample before */
    int64_t delta_since_start_bytes; /* last minus first */
    uint64_t min_bytes;              /* session minimum of sampled footprint */
    uint64_t max_bytes;              /* session maximum of sampled footprint */
    uint64_t peak_bytes;             /* session peak including kernel-seen spikes between samples */
    uint64_t mean_bytes;             /* exact floor of the session sum over the count */
    uint64_t kernel_peak_bytes; /* the kernel's high-water mark at the last sample, 0 if unknown */
    uint64_t last_resident_bytes;
    uint64_t limit_bytes;             /* at the last sample, 0 if unknown */
    uint64_t available_bytes;         /* at the last sample, 0 if unknown */
    uint64_t threshold_events;        /* threshold callbacks raised */
    uint64_t windows;                 /* windows completed */
    memgauge_window_t current_window; /* the window in progress */
    memgauge_window_t last_window;    /* the last completed window (samples 0 if none) */
    uint64_t sampler_cpu_ns;          /* CPU time the sampler thread has used */
    /* since 0.2.0 */
    int32_t pressure;         /* memgauge_pressure_t now */
    uint32_t interval_ms;     /* the interval in use now (fast or normal) */
    uint64_t pressure_events; /* pressure callbacks raised */
    uint64_t fast_samples;    /* samples taken at the fast interval */
    uint64_t record_writes;   /* session record updates (0 when record is off) */
    /* since 0.3.0: reporting (all 0 without an endpoint_url) */
    uint64_t batches_built;   /* batches encoded and written to the spool */
    uint64_t batches_sent;    /* acknowledged by the collector (2xx) */
    uint64_t batches_retried; /* attempts that failed and will be retried */
    uint64_t batches_failed;  /* dropped after an answer that is not retried (4xx) */
    uint64_t bytes_sent;      /* request bodies of acknowledged batches */
    uint64_t dropped_samples; /* transport queue full or a window over the batch cap */
    uint64_t dropped_events;  /* transport queue full */
    uint64_t dropped_windows; /* not spooled (disk refused) or over the pending cap */
    uint64_t spool_evicted;   /* spool files evicted by the budget */
    uint64_t spool_corrupt;   /* spool files that did not read back whole: set aside */
    uint64_t spool_files;     /* in the spool now */
    uint64_t spool_bytes;     /* in the spool now */
    int32_t last_http_status; /* of the last attempt; 0: none yet or a network error */
    /* since 0.4.0 */
    int32_t record_active; /* 1: the session record is kept; 0: off or not created */
    int32_t record_errno;  /* why the record could not be created (e.g. ENOSPC), else 0 */
    /* 401, 403, 404 or 405 while the collector keeps answering it (the
     * endpoint_url or api_key is wrong; batches wait in the spool), 0 once
     * a batch is accepted or before any answer */
    int32_t config_error_status;
    uint64_t config_errors;      /* answers 401, 403, 404, 405 (batches kept) */
    uint64_t spool_write_errors; /* spool writes the disk refused (ENOSPC, EIO...) */
    uint64_t log_suppressed;     /* on_log messages held back by the rate limit */
    uint64_t memory_warnings;    /* memgauge_note_memory_warning calls (process-wide) */
    uint64_t resumes; /* waits that ended a whole interval late (a suspended app): new tick grid */
    int32_t thermal_state; /* memgauge_thermal_t last set */
    uint32_t launch_flags; /* MEMGAUGE_LAUNCH_* last set */
} memgauge_stats_t;

/* Copies a consistent snapshot of the session's aggregates into *out (up to
 * out->struct_size bytes). Any thread, including callbacks; blocks only for
 * the few hundred nanoseconds the sampler holds its lock per sample. */
MEMGAUGE_API int memgauge_get_stats(memgauge_t *handle, memgauge_stats_t *out);

/* Copies the most recent samples from the ring, oldest first: at most `cap`
 * of them into out[0 .. *count). Any thread; same blocking as get_stats. */
MEMGAUGE_API int memgauge_get_samples(memgauge_t *handle, memgauge_sample_t *out, size_t cap,
                                      size_t *count);

/* ------------------------------------------------------------------------ */
/* App state and markers for the session record                             */
/* ------------------------------------------------------------------------ */

typedef enum memgauge_app_state_e {
    MEMGAUGE_APP_UNKNOWN = 0,
    MEMGAUGE_APP_ACTIVE = 1,    /* foreground and receiving input */
    MEMGAUGE_APP_INACTIVE = 2,  /* foreground, not receiving input */
    MEMGAUGE_APP_BACKGROUND = 3 /* not visible; a kill here is a background kill */
} memgauge_app_state_t;

/* Records the app's state in the running session's record (a process-wide
 * setting; without a running sampler it is remembered for the next start).
 * Any thread; lock-free. MEMGAUGE_E_APP_STATE for an unknown value. */
MEMGAUGE_API int memgauge_set_app_state(int state);

/* For crash reporters: marks the running session as crashed (with the
 * signal number, or 0) so that the next launch does not take it for an
 * out-of-memory kill. Async-signal-safe: a few atomic operations, no locks. */
MEMGAUGE_API void memgauge_note_crash(int signal_number);

/* Brackets a hang the app's watchdog detected (main thread unresponsive):
 * a session killed between begin and end was killed while hung (by the user
 * or a watchdog), not for memory. Nests. Any thread; lock-free. */
MEMGAUGE_API void memgauge_hang_begin(void);
MEMGAUGE_API void memgauge_hang_end(void);

/* ---- what the app's platform says (since 0.4.0) ---- */
/* The Apple glue (apple/) calls these from the system's notifications; an
 * app on another platform may call them from its own. Each is process-wide,
 * kept in the running session's record like the app state, remembered for
 * the next start without one. Any thread; lock-free. */

/* A memory warning the app received (UIKit's didReceiveMemoryWarning, an
 * Android onTrimMemory): counted in stats and in the record and, with
 * reporting on, sent at once as a pressure event (at most four per sample). */
MEMGAUGE_API void memgauge_note_memory_warning(void);

typedef enum memgauge_thermal_e {
    MEMGAUGE_THERMAL_NOMINAL = 0, /* NSProcessInfoThermalStateNominal, and unknown */
    MEMGAUGE_THERMAL_FAIR = 1,
    MEMGAUGE_THERMAL_SERIOUS = 2,
    MEMGAUGE_THERMAL_CRITICAL = 3 /* the system may end apps to cool down */
} memgauge_thermal_t;

/* The device's thermal state (NSProcessInfo.thermalState's values). A
 * session that ends at CRITICAL may have been ended for heat: an OOM
 * verdict then drops one confidence grade. MEMGAUGE_E_THERMAL_STATE for
 * an unknown value. */
MEMGAUGE_API int memgauge_set_thermal_state(int state);

/* Facts about this launch that change how its end is judged. */
#define MEMGAUGE_LAUNCH_PREWARMED                                                                  \
    (1u << 0) /* iOS prewarmed the process (ActivePrewarm=1) and                                   \
                 it has not become active yet: clear the bit then */
#define MEMGAUGE_LAUNCH_EXTENSION                                                                  \
    (1u << 1) /* an app extension (widget, share, keyboard...):                                    \
                 its end is never an app OOM */
/* Replaces the launch flags. MEMGAUGE_E_LAUNCH_FLAGS for an unknown bit. */
MEMGAUGE_API int memgauge_set_launch_flags(uint32_t flags);

/* ------------------------------------------------------------------------ */
/* How the previous session ended                                           */
/* ------------------------------------------------------------------------ */

typedef enum memgauge_end_e {
    MEMGAUGE_END_NONE = 0,             /* no previous record: first launch (or record off) */
    MEMGAUGE_END_UNREADABLE = 1,       /* a previous record exists but is not valid */
    MEMGAUGE_END_STILL_RUNNING = 2,    /* another live process holds the record */
    MEMGAUGE_END_CLEAN_STOP = 3,       /* memgauge_stop ran */
    MEMGAUGE_END_EXIT = 4,             /* the process exited normally (atexit) */
    MEMGAUGE_END_CRASH = 5,            /* memgauge_note_crash was called */
    MEMGAUGE_END_APP_UPGRADED = 6,     /* app version, build or binary changed */
    MEMGAUGE_END_OS_UPGRADED = 7,      /* OS version or build changed */
    MEMGAUGE_END_REBOOT = 8,           /* the machine rebooted since */
    MEMGAUGE_END_DEBUGGER = 9,         /* a debugger was attached */
    MEMGAUGE_END_BACKGROUND_KILL = 10, /* killed while in the background */
    MEMGAUGE_END_HANG_KILL = 11,       /* killed while hung */
    MEMGAUGE_END_SUSPECTED_OOM = 12,   /* killed in the foreground, for memory (see confidence) */
    MEMGAUGE_END_UNEXPLAINED = 13,     /* killed in the foreground, nothing points at memory */
    MEMGAUGE_END_EXTENSION_ENDED = 14  /* an app extension ended without a word: the system
                                          ends extensions at will (since 0.4.0) */
} memgauge_end_t;

typedef enum memgauge_confidence_e {
    MEMGAUGE_CONFIDENCE_NONE = 0,
    MEMGAUGE_CONFIDENCE_LOW = 1,    /* memory was tight (headroom < 25 % or pressure warning)
                                       but flat: nothing shows the limit was reached */
    MEMGAUGE_CONFIDENCE_MEDIUM = 2, /* the trail climbed toward the limit (the rest gone within
                                       10 s, or within 60 s while tight) */
    MEMGAUGE_CONFIDENCE_HIGH = 3    /* at the limit, critical pressure or a kernel OOM kill */
} memgauge_confidence_t;

/* Bits of memgauge_previous_session_t.evidence */
/* The headroom is a fraction of the limit; with the limit unknown, of the
 * footprint plus the system's available memory (what the app could reach). */
#define MEMGAUGE_EVIDENCE_NEAR_LIMIT (1u << 0)   /* last headroom < 10 % */
#define MEMGAUGE_EVIDENCE_LOW_HEADROOM (1u << 1) /* last headroom < 25 % */
#define MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL (1u << 2)
#define MEMGAUGE_EVIDENCE_PRESSURE_WARNING (1u << 3)
#define MEMGAUGE_EVIDENCE_RISING (1u << 4)          /* the trail climbs toward the limit */
#define MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL (1u << 5) /* the cgroup's oom_kill count rose */
#define MEMGAUGE_EVIDENCE_PLENTY_LEFT (1u << 6)     /* headroom > 50 %, no pressure, flat */
/* against memory: the device was at critical thermal state at the end (the
 * system may have ended the app for heat); an OOM verdict drops one grade */
#define MEMGAUGE_EVIDENCE_THERMAL_CRITICAL (1u << 7)

/* One sample of the trail the previous session left. */
typedef struct memgauge_trail_point_s {
    uint64_t seq;
    uint64_t wall_ns; /* CLOCK_REALTIME, nanoseconds since the epoch */
    uint64_t footprint_bytes;
    uint64_t resident_bytes;
    uint64_t available_bytes;   /* 0 if unknown */
    uint64_t limit_bytes;       /* 0 if unknown */
    uint64_t kernel_peak_bytes; /* 0 if unknown */
    int32_t pressure;
    uint32_t reserved;
} memgauge_trail_point_t;

typedef struct memgauge_previous_session_s {
    size_t struct_size; /* set by the caller: sizeof(memgauge_previous_session_t) */
    int32_t verdict;    /* memgauge_end_t */
    int32_t confidence; /* memgauge_confidence_t (NONE unless SUSPECTED_OOM) */
    uint32_t evidence;  /* MEMGAUGE_EVIDENCE_* bits */
    int32_t crash_signal;
    int32_t app_state;   /* memgauge_app_state_t at the end */
    int32_t pressure;    /* memgauge_pressure_t at the end */
    char session_id[40]; /* UUID text of the previous session, "" if none */
    char app_version[32];
    char app_build[32];
    char os_version[128]; /* name and release, e.g. "Linux 6.1.0-18-amd64", "iOS 17.5.1" */
    uint64_t pid;
    uint64_t start_wall_ns;
    uint64_t last_wall_ns; /* the last record update: within one interval of the end */
    uint64_t samples;
    uint64_t last_footprint_bytes;
    uint64_t last_resident_bytes;
    uint64_t peak_bytes;       /* the session's peak */
    uint64_t limit_bytes;      /* at the end, 0 if unknown */
    uint64_t available_bytes;  /* at the end, 0 if unknown */
    uint32_t headroom_ppm;     /* available / limit in millionths (limit unknown: available /
                                  (footprint + available)); 0 when neither is known */
    int32_t unreadable_reason; /* for UNREADABLE: 1 magic, 2 version, 3 size, 4 header, 5 no whole
                                  copy */
    int64_t trend_bytes_per_s; /* footprint slope over the trail's last 10 s */
    uint64_t oom_kills_since;  /* kernel OOM kills in the cgroup since the last update */
    const memgauge_trail_point_t *trail; /* borrowed; valid until memgauge_stop */
    size_t trail_count;                  /* oldest first */
    /* since 0.4.0: the OS build the previous session ran on (Linux: uname
     * -v; Darwin: kern.osversion, e.g. "21F90"), "" if unknown */
    char os_build[128];
    uint32_t memory_warnings; /* memory warnings the previous session received */
    int32_t thermal_state;    /* memgauge_thermal_t at its end */
    uint32_t launch_flags;    /* MEMGAUGE_LAUNCH_* at its end */
    uint32_t reserved0;
} memgauge_previous_session_t;

/* How the previous session of this app (same storage directory) ended, as
 * diagnosed at memgauge_start. Copies up to out->struct_size bytes; the
 * trail pointer stays valid until memgauge_stop. Any thread; never blocks
 * beyond a lock held for a copy. */
MEMGAUGE_API int memgauge_previous_session(memgauge_t *handle, memgauge_previous_session_t *out);

/* "suspected_oom", "clean_stop", ...: the names reports use. Static. */
MEMGAUGE_API const char *memgauge_end_name(int verdict);
/* "none", "low", "medium", "high". Static. */
MEMGAUGE_API const char *memgauge_confidence_name(int confidence);
/* "normal", "warning", "critical". Static. */
MEMGAUGE_API const char *memgauge_pressure_name(int level);

#ifdef __cplusplus
}
#endif

#endif /* MEMGAUGE_MEMGAUGE_H */
