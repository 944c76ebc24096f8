/*
 * memgauge — how much memory an app really costs.
 *
 * The number is the task's physical footprint: `phys_footprint` from
 * task_info(TASK_VM_INFO) on Darwin (what Xcode's memory gauge shows and what
 * jetsam compares against the app's limit), and the same definition on
 * Linux/Android: anonymous resident memory plus swap, as Chromium computes its
 * "private memory footprint".
 *
 * Conventions of this header
 * - Every function returns an int error code: 0 (MEMGAUGE_OK) on success, a
 *   negative MEMGAUGE_E_* value otherwise; memgauge_strerror() names the
 *   problem (for an option, the field). NULL arguments are answered with
 *   MEMGAUGE_E_NULL_ARGUMENT, never a crash.
 * - Structs that cross the API carry `struct_size` as their first field, set
 *   by the matching *_init() function or by the caller to sizeof(the struct it
 *   was compiled with). The library reads and writes only the bytes the caller
 *   declared, so an app built against an older header keeps working with a
 *   newer library and vice versa.
 * - All byte quantities are uint64_t bytes; all times are nanoseconds of the
 *   monotonic clock (clock_gettime(CLOCK_MONOTONIC))
 *   unless a name ends in _ms.
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
#define MEMGAUGE_VERSION_MINOR 1
#define MEMGAUGE_VERSION_PATCH 0
#define MEMGAUGE_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Error codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum memgauge_error_e {
    MEMGAUGE_OK = 0,
    MEMGAUGE_E_NULL_ARGUMENT = -1,   /* a required pointer argument is NULL */
    MEMGAUGE_E_STRUCT_SIZE = -2,     /* struct_size is 0 or smaller than the first version */
    MEMGAUGE_E_INTERVAL = -3,        /* options.interval_ms out of range */
    MEMGAUGE_E_RING_CAPACITY = -4,   /* options.ring_capacity out of range */
    MEMGAUGE_E_WINDOW = -5,          /* options.window_ms out of range or below interval_ms */
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
    MEMGAUGE_E_UNSUPPORTED = -17        /* the platform has no implementation */
} memgauge_error_t;

/* Static text naming what went wrong; for option errors it names the field,
 * e.g. "options.interval_ms must be between 10 and 86400000". Never NULL; an
 * unknown code gives "unknown memgauge error". Any thread, never blocks. */
MEMGAUGE_API const char *memgauge_strerror(int code);

/* "0.1.0": the library's version, which may differ from the header's
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
typedef void (*memgauge_sample_cb)(const memgauge_sample_t *sample, void *user_data);
typedef void (*memgauge_threshold_cb)(const memgauge_threshold_event_t *event, void *user_data);
typedef void (*memgauge_window_cb)(const memgauge_window_t *window, void *user_data);

#define MEMGAUGE_MAX_THRESHOLDS 16

typedef struct memgauge_options_s {
    size_t struct_size;       /* sizeof(memgauge_options_t); set by memgauge_options_init */
    uint32_t interval_ms;     /* sampling interval; default 1000, range 10 .. 86400000 */
    uint32_t ring_capacity;   /* recent samples kept in memory; default 600, range 1 .. 1048576 */
    uint32_t window_ms;       /* report window; default 10000, >= interval_ms, <= 86400000 */
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
} memgauge_options_t;

/* Fills *opts with the documented defaults (and struct_size). Any thread. */
MEMGAUGE_API int memgauge_options_init(memgauge_options_t *opts);

/* Validates every field of *opts (the first invalid field decides the error
 * code), copies it, takes a first reading and starts the sampler thread,
 * which takes its first sample at once and then every interval_ms.
 * Copies everything in `opts`, including the thresholds array; the caller may
 * free it as soon as this returns. One sampler per process: a second start
 * before memgauge_stop returns MEMGAUGE_E_ALREADY_STARTED. On success *out
 * owns the sampler until memgauge_stop; it is written before the thread
 * starts, so callbacks may read the variable it points to. Any thread;
 * blocks only for thread creation and one reading. */
MEMGAUGE_API int memgauge_start(const memgauge_options_t *opts, memgauge_t **out);

/* Stops the sampler, waiting up to timeout_ms for its thread to exit (it
 * wakes at once; only a callback still running can delay it), then frees the
 * handle. Returns MEMGAUGE_E_TIMEOUT if the thread has not exited by then;
 * the handle is then released by the thread itself when the callback
 * returns, and must not be used again either way. A handle that is not
 * running (already stopped) gives MEMGAUGE_E_NOT_RUNNING. In a child process
 * after fork() the sampler thread does not exist: stop just frees the handle.
 * Any thread except the sampler's own (from a callback: MEMGAUGE_E_ARGUMENT).
 * Blocks up to timeout_ms. */
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
} memgauge_stats_t;

/* Copies a consistent snapshot of the session's aggregates into *out (up to
 * out->struct_size bytes). Any thread, including callbacks; blocks only for
 * the few hundred nanoseconds the sampler holds its lock per sample. */
MEMGAUGE_API int memgauge_get_stats(memgauge_t *handle, memgauge_stats_t *out);

/* Copies the most recent samples from the ring, oldest first: at most `cap`
 * of them into out[0 .. *count). Any thread; same blocking as get_stats. */
MEMGAUGE_API int memgauge_get_samples(memgauge_t *handle, memgauge_sample_t *out, size_t cap,
                                      size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* MEMGAUGE_MEMGAUGE_H */
