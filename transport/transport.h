/*
 * The transport: report model, wire-format v2 encoding, spool, retry and
 * senders, driven by one worker thread. It knows neither sdk/ nor platform/
 * (the build gives it only its own headers and base/): the SDK
 * (sdk/report.c) hands it plain numbers and strings.
 *
 * Threads: the memgauge__tr_push_* functions are called by exactly one
 * producer (the sampler) and never block or allocate; everything else in
 * the transport runs on its worker, except create, end_clean, stop and
 * stats, which any one thread may call.
 */
#ifndef MEMGAUGE_TRANSPORT_H
#define MEMGAUGE_TRANSPORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mg_base.h" /* clocks and UUIDs: memgauge__wall_ms(), memgauge__uuid_new() */

/* ---- the report model (wire format v2, docs/wire-format.md) ------------- */

typedef struct memgauge__tr_sample_s {
    uint64_t t_ms; /* since the session's first sample */
    uint64_t footprint;
    uint64_t resident;
    uint64_t peak_excess; /* interval peak minus footprint, bytes */
} memgauge__tr_sample_t;

typedef struct memgauge__tr_window_s {
    uint64_t start_ms, end_ms, samples;
    uint64_t first, last, min, max, mean, peak, kernel_peak, limit, headroom;
    const char *metric;                  /* NULL, or the metric when it differs from the batch's */
    const memgauge__tr_sample_t *series; /* NULL: no series (borrowed) */
    size_t series_count;                 /* == samples when series is set */
} memgauge__tr_window_t;

enum {
    MEMGAUGE__TR_EVENT_THRESHOLD = 1,
    MEMGAUGE__TR_EVENT_PRESSURE = 2,
    MEMGAUGE__TR_EVENT_PREVIOUS = 3
};

typedef struct memgauge__tr_previous_s {
    char session_id[37];
    char verdict[33];       /* lower-case snake_case word */
    const char *grade;      /* "high", "medium", "low" or NULL (static strings) */
    uint64_t start_unix_ms; /* 0: not sent */
    uint64_t ended_ms;
    int has_ended;
    uint64_t last_footprint, limit;
    const char *pressure;               /* NULL: not sent */
    const memgauge__tr_sample_t *trail; /* t_ms since the previous session's start */
    size_t trail_count;
} memgauge__tr_previous_t;

typedef struct memgauge__tr_event_s {
    int type; /* MEMGAUGE__TR_EVENT_* */
    uint64_t t_ms;
    int urgent; /* send without waiting for the window to close */
    /* threshold */
    int id;
    int up;
    uint64_t level, footprint, limit;
    /* pressure: "normal", "warning", "critical" (static strings) */
    const char *level_name;
    /* pressure: what said so when it is not a change of the level, e.g.
     * "memory_warning" (static string), else NULL */
    const char *source;
} memgauge__tr_event_t;

/* What the SDK dropped since the previous batch that carried the counters. */
typedef struct memgauge__tr_dropped_s {
    uint64_t samples;       /* transport queue full */
    uint64_t events;        /* transport queue full, or over a batch's event limit */
    uint64_t windows;       /* not spooled (the disk refused them, encoding failed) */
    uint64_t batches;       /* answered with a 4xx that is not retried */
    uint64_t spool_evicted; /* over the spool's bytes/count/age budget */
    uint64_t spool_corrupt; /* spool files that could not be read back */
} memgauge__tr_dropped_t;

/* Facts that are the same in every batch of a session. */
typedef struct memgauge__tr_meta_s {
    char sdk_version[32];
    char app_id[129], app_version[129], app_build[129];
    char device_model[129], os_name[129], os_version[129];
    char os_build[129]; /* "": not sent */
    char session_id[37];
    uint64_t session_start_unix_ms;
    uint32_t interval_ms;
    char metric[32];
} memgauge__tr_meta_t;

typedef struct memgauge__tr_batch_s {
    const memgauge__tr_meta_t *meta;
    char batch_id[37];
    uint64_t sent_unix_ms;
    const memgauge__tr_window_t *windows;
    size_t window_count;
    const memgauge__tr_event_t *events;
    size_t event_count;
    const memgauge__tr_previous_t *previous; /* NULL: none in this batch */
    const memgauge__tr_dropped_t *dropped;   /* NULL: not sent */
    /* the final batch of a clean stop: session.end "clean_stop" and
     * session.end_ms, the last sample's time since the session's start */
    int clean_end;
    uint64_t end_ms;
    /* 1: the short form (no sdk, device, app.version/build, interval), once
     * the collector has acknowledged a batch of this session */
    int short_meta;
} memgauge__tr_batch_t;

/* Compact JSON text of the batch (malloc'd, NUL-terminated; *len without
 * the NUL), or NULL when out of memory. Written with json_out.h (no JSON
 * library): strings go out as valid UTF-8, every number as an exact
 * integer. */
char *memgauge__tr_encode(const memgauge__tr_batch_t *b, size_t *len);

/* gzip (RFC 1952) of src into a malloc'd buffer; NULL on failure. */
unsigned char *memgauge__tr_gzip(const void *src, size_t len, size_t *out_len);
/* gunzip with an output cap; NULL on failure or when over the cap. */
unsigned char *memgauge__tr_gunzip(const void *src, size_t len, size_t cap, size_t *out_len);

/* The URL batches are posted to, from options.endpoint_url: a URL whose
 * path is empty or "/" is the collector's base URL and gets "/v1/reports"
 * (before any query); a URL with a path is used as given. 0, or -1 when it
 * does not fit in cap bytes. Pure. */
int memgauge__tr_resolve_url(const char *url, char *out, size_t cap);

/* ---- sending --------------------------------------------------------------- */

typedef struct memgauge__tr_request_s {
    const char *url;
    const char *const *headers; /* "Name: value" */
    size_t header_count;
    const void *body;
    size_t body_len;
    uint32_t connect_timeout_ms;
    uint32_t total_timeout_ms;
} memgauge__tr_request_t;

/* The sender's answer: an HTTP status (100..599), or 0 when no answer came
 * (connection refused or reset, timeout, aborted). retry_after holds the
 * raw Retry-After header value, "" if none. */
typedef struct memgauge__tr_response_s {
    int status;
    char retry_after[64];
} memgauge__tr_response_t;

/* A sender. `abort_flag` becomes non-zero when the transfer must stop now
 * (memgauge_stop's deadline); a sender that cannot watch it must at least
 * respect total_timeout_ms. Runs on the worker thread. */
typedef void (*memgauge__tr_send_fn)(const memgauge__tr_request_t *req,
                                     memgauge__tr_response_t *resp, const atomic_int *abort_flag,
                                     void *ctx);

/* ---- the worker ------------------------------------------------------------ */

/* Kinds of diagnostic message the worker gives its log function (each kind
 * is rate-limited on its own by the SDK). */
enum {
    MEMGAUGE__TR_LOG_SPOOL = 0,     /* the spool could not be written: data dropped */
    MEMGAUGE__TR_LOG_CONFIG = 1,    /* 401/403/404/405: the endpoint or key is wrong */
    MEMGAUGE__TR_LOG_REJECTED = 2,  /* another 4xx: a batch was dropped */
    MEMGAUGE__TR_LOG_RECOVERED = 3, /* a batch was accepted after a configuration error */
    MEMGAUGE__TR_LOG_KINDS = 4
};

typedef struct memgauge__tr_config_s {
    const char *url;                  /* copied */
    const char *api_key;              /* copied; NULL: no Authorization header */
    const char *ca_file;              /* copied; NULL: the system's */
    const char *proxy;                /* copied; NULL: libcurl's environment rules */
    const char *const *extra_headers; /* "Name: value", copied */
    size_t extra_header_count;
    int verify_tls; /* 0 turns peer and host verification off */
    int gzip;       /* 1: gzip bodies (dropped for the session after a 415) */
    uint32_t connect_timeout_ms, total_timeout_ms;
    uint32_t retry_base_ms, retry_max_ms; /* backoff base and cap (also caps Retry-After) */
    uint32_t queue_capacity;              /* producer queue entries */
    uint32_t max_batch_bytes;             /* uncompressed JSON per batch */
    uint32_t report_interval_ms;          /* a batch at the first window close after this
                                             (sooner: see memgauge__tr_batch_drain) */
    const char *spool_dir;                /* copied; created (one level) */
    uint64_t spool_max_bytes;
    uint32_t spool_max_files;
    uint32_t spool_max_age_s;
    memgauge__tr_send_fn send; /* NULL: libcurl (when built with it) */
    void *send_ctx;
    void (*send_ctx_free)(void *); /* called on send_ctx when the transport is freed */
    /* test hook: called on the worker after a batch is durably spooled (a
     * pending batch: when it is due and promoted) */
    void (*on_spooled)(const char *batch_id, void *ctx);
    void *on_spooled_ctx;
    /* test hook: called on the worker after a version of the pending batch
     * holding `windows` windows is durably spooled */
    void (*on_pending)(const char *batch_id, size_t windows, void *ctx);
    void *on_pending_ctx;
    /* diagnostics: called on the worker, without any transport lock held,
     * with a MEMGAUGE__TR_LOG_* kind and a level (0 error, 1 warning, 2
     * info); NULL: none. log_ctx is owned like send_ctx (log_ctx_free). */
    void (*log)(void *ctx, int kind, int level, const char *message);
    void *log_ctx;
    void (*log_ctx_free)(void *);
} memgauge__tr_config_t;

typedef struct memgauge__tr_stats_s {
    uint64_t batches_built;
    uint64_t batches_sent; /* acknowledged with 2xx */
    uint64_t batches_retried;
    uint64_t batches_failed; /* dropped after a non-retryable answer */
    uint64_t bytes_sent;     /* request bodies of acknowledged batches */
    uint64_t dropped_samples, dropped_events, dropped_windows;
    uint64_t spooled;         /* batches written to the spool */
    uint64_t pending_writes;  /* versions of the batch being assembled written to the spool */
    uint64_t spool_recovered; /* pending batches of a killed run found at start, sent as batches */
    uint64_t spool_evicted, spool_corrupt;
    uint64_t spool_files, spool_bytes; /* now */
    int last_status;                   /* last HTTP status, 0: none or a network error */
    int config_error_status;           /* 401/403/404/405 until a batch is accepted, else 0 */
    uint64_t config_errors;            /* answers that said the endpoint or key is wrong */
    uint64_t spool_write_errors;       /* spool writes the disk refused */
} memgauge__tr_stats_t;

typedef struct memgauge__tr_s memgauge__tr_t;

/* Error values of create (negative errno-like, mapped by the SDK). */
enum {
    MEMGAUGE__TR_E_NO_MEMORY = -1,
    MEMGAUGE__TR_E_SPOOL = -2,
    MEMGAUGE__TR_E_THREAD = -3,
    MEMGAUGE__TR_E_NO_SENDER = -4,
    MEMGAUGE__TR_E_URL = -5
};

/* Takes ownership of cfg->send_ctx and cfg->log_ctx (when their free
 * functions are set), even on failure. Copies cfg, meta and the previous session's verdict (NULL:
 * none; sent with its trail in the first batch), opens the spool and starts the worker, which first
 * sends what earlier runs spooled (oldest first). Returns 0 or an MEMGAUGE__TR_E_*. The worker has
 * every signal blocked. */
int memgauge__tr_create(const memgauge__tr_config_t *cfg, const memgauge__tr_meta_t *meta,
                        const memgauge__tr_previous_t *previous, memgauge__tr_t **out);

/* Producer side: one sampler thread. Never blocks, never allocates; a full
 * queue drops the item and counts it. A window closes the samples pushed
 * since the previous window; an urgent event or a closed window wakes the
 * worker. */
void memgauge__tr_push_sample(memgauge__tr_t *t, const memgauge__tr_sample_t *s);
void memgauge__tr_push_window(memgauge__tr_t *t, const memgauge__tr_window_t *w);
void memgauge__tr_push_event(memgauge__tr_t *t, const memgauge__tr_event_t *e);

/* Declares the coming stop a clean end of the session whose last sample
 * was end_ms after its start: the final batch memgauge__tr_stop builds
 * carries it (one with no windows when nothing else is left). Call before
 * memgauge__tr_stop, from the thread that stops. */
void memgauge__tr_end_clean(memgauge__tr_t *t, uint64_t end_ms);

/* Flushes what was pushed, sends until timeout_ms has passed, aborts the
 * transfer in flight at that moment, leaves the rest in the spool and frees
 * the transport. Returns 0, or -1 when the worker had not exited by
 * timeout_ms + 200 ms (a send hook that ignores its timeout): the worker
 * then frees the transport itself when the hook returns. */
int memgauge__tr_stop(memgauge__tr_t *t, uint32_t timeout_ms);

/* A snapshot of the counters. Any thread. */
void memgauge__tr_get_stats(memgauge__tr_t *t, memgauge__tr_stats_t *out);

/* The libcurl sender, or NULL when built without libcurl. */
memgauge__tr_send_fn memgauge__tr_curl_sender(void);

#endif
