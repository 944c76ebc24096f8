/* The decoded form of one wire-format v1 batch (docs/wire-format.md): what
 * wire_parse.c produces from a request body and what a store writes. Series
 * are decoded to absolute values, in bytes and ms since session start. */
#ifndef MEMGAUGE_COLLECTOR_BATCH_H
#define MEMGAUGE_COLLECTOR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__UUID_LEN 36
#define MEMGAUGE__TEXT_MAX 128
#define MEMGAUGE__WORD_MAX 32
#define MEMGAUGE__MAX_WINDOWS 10000
#define MEMGAUGE__MAX_EVENTS 10000
#define MEMGAUGE__MAX_WINDOW_SAMPLES 100000
#define MEMGAUGE__MAX_BATCH_SAMPLES 1000000
#define MEMGAUGE__MAX_TRAIL_SAMPLES 10000
#define MEMGAUGE__MAX_DROPPED 32
#define MEMGAUGE__MAX_NUMBER 9007199254740992.0 /* 2^53: every integer below is exact */

typedef enum memgauge__metric_e {
    MEMGAUGE__METRIC_NONE = 0,
    MEMGAUGE__METRIC_PHYS_FOOTPRINT = 1, /* the values of memgauge_footprint_source_t */
    MEMGAUGE__METRIC_INTERNAL_COMPRESSED = 2,
    MEMGAUGE__METRIC_RESIDENT_FALLBACK = 3,
    MEMGAUGE__METRIC_LINUX_PRIVATE_FOOTPRINT = 4
} memgauge__metric_t;

typedef enum memgauge__event_kind_e {
    MEMGAUGE__EVENT_THRESHOLD = 1,
    MEMGAUGE__EVENT_PRESSURE = 2,
    MEMGAUGE__EVENT_PREVIOUS_SESSION = 3
} memgauge__event_kind_t;

/* 0 = not given */
typedef enum memgauge__pressure_e {
    MEMGAUGE__PRESSURE_NORMAL = 1,
    MEMGAUGE__PRESSURE_WARNING = 2,
    MEMGAUGE__PRESSURE_CRITICAL = 3
} memgauge__pressure_t;

/* Samples, decoded: n values in each column. resident and peak are NULL when
 * the sender left them out; peak is footprint + peak_excess. One allocation
 * (t_ms) holds every column. */
typedef struct memgauge__series_s {
    size_t n;
    uint64_t unit_bytes;
    uint64_t *t_ms;
    uint64_t *footprint;
    uint64_t *resident;
    uint64_t *peak;
} memgauge__series_t;

typedef struct memgauge__window_s {
    uint64_t start_ms, end_ms, samples;
    uint64_t first, last, min, max, mean, peak, kernel_peak, limit, headroom;
    int metric; /* memgauge__metric_t: the batch's unless the window says otherwise */
    int has_series;
    memgauge__series_t series;
} memgauge__window_t;

typedef struct memgauge__event_s {
    int kind; /* memgauge__event_kind_t */
    uint64_t t_ms;
    /* threshold */
    int32_t threshold_id;
    int direction_up; /* 1 up, 0 down */
    int urgent;
    uint64_t level, footprint;
    uint64_t limit; /* threshold and previous_session; 0 = unknown */
    int pressure;   /* pressure level, or previous_session's; 0 = not given */
    /* previous_session */
    char session_id[MEMGAUGE__UUID_LEN + 1];
    char verdict[MEMGAUGE__WORD_MAX + 1];
    char grade[8]; /* "" when not given */
    uint64_t start_unix_ms, ended_ms, last_footprint;
    int has_trail;
    memgauge__series_t trail;
} memgauge__event_t;

typedef struct memgauge__counter_s {
    char name[MEMGAUGE__WORD_MAX + 1];
    uint64_t count;
} memgauge__counter_t;

typedef struct memgauge__batch_s {
    char batch_id[MEMGAUGE__UUID_LEN + 1]; /* lower case */
    int schema;                            /* 1 or 2 */
    uint64_t sent_unix_ms;
    /* schema 2 may leave out sdk, app.version/build and device: "" below
     * (the store keeps what an earlier batch of the session said) */
    char sdk_name[MEMGAUGE__TEXT_MAX + 1], sdk_version[MEMGAUGE__TEXT_MAX + 1];
    char app_id[MEMGAUGE__TEXT_MAX + 1], app_version[MEMGAUGE__TEXT_MAX + 1];
    char app_build[MEMGAUGE__TEXT_MAX + 1]; /* "" when not given */
    char device_model[MEMGAUGE__TEXT_MAX + 1], os_name[MEMGAUGE__TEXT_MAX + 1];
    char os_version[MEMGAUGE__TEXT_MAX + 1];
    char os_build[MEMGAUGE__TEXT_MAX + 1];   /* "" when not given */
    char session_id[MEMGAUGE__UUID_LEN + 1]; /* lower case */
    uint64_t session_start_unix_ms;
    uint32_t interval_ms; /* 0 = not given */
    int clean_stop;       /* session.end = "clean_stop": the session's final batch */
    uint64_t end_ms;      /* session.end_ms: its last sample, ms since start */
    int metric;
    size_t window_count;
    memgauge__window_t *windows;
    size_t event_count;
    memgauge__event_t *events;
    size_t dropped_count;
    memgauge__counter_t dropped[MEMGAUGE__MAX_DROPPED];
    uint64_t total_samples; /* sum of windows' samples */
} memgauge__batch_t;

/* Frees what a batch owns (not the struct itself) and zeroes it. NULL-safe. */
void memgauge__batch_clear(memgauge__batch_t *b);
void memgauge__series_clear(memgauge__series_t *s);
/* Allocates the columns of a series of n samples (resident/peak only when
 * asked). Returns 0, or -1 when out of memory. */
int memgauge__series_alloc(memgauge__series_t *s, size_t n, int with_resident, int with_peak);

/* "phys_footprint" ... for a memgauge__metric_t; NULL for an unknown value. */
const char *memgauge__metric_name(int metric);
int memgauge__metric_from_name(const char *name);  /* 0 when unknown */
const char *memgauge__pressure_name(int pressure); /* NULL for 0/unknown */
/* 1 for the verdicts that count as out-of-memory terminations. */
int memgauge__verdict_is_oom(const char *verdict);

#endif
