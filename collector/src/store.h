/* One storage interface, two backends: SQLite (store_sqlite.c, the embedded
 * default) and PostgreSQL (store_pg.c, several collectors sharing one
 * database). Both keep the schema in versioned migrations (schema_*.c) and
 * pass the same test suite (tests/collector/test_store.c). */
#ifndef MEMGAUGE_COLLECTOR_STORE_H
#define MEMGAUGE_COLLECTOR_STORE_H

#include "batch.h"

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__STORE_OK 0
#define MEMGAUGE__STORE_ERROR (-1) /* the database refused; memgauge__store_error() says why */
#define MEMGAUGE__STORE_NO_MEMORY (-2)
#define MEMGAUGE__STORE_NOT_FOUND (-3)
#define MEMGAUGE__STORE_CORRUPT (-4) /* a stored blob does not decode */

typedef struct memgauge__store_s memgauge__store_t;

/* ---- rows the queries return ------------------------------------------ */

typedef struct memgauge__app_row_s {
    char app_id[MEMGAUGE__TEXT_MAX + 1];
    char app_version[MEMGAUGE__TEXT_MAX + 1];
    uint64_t sessions;
    uint64_t last_start_unix_ms;
} memgauge__app_row_t;

typedef struct memgauge__session_row_s {
    char session_id[MEMGAUGE__UUID_LEN + 1];
    char app_id[MEMGAUGE__TEXT_MAX + 1], app_version[MEMGAUGE__TEXT_MAX + 1];
    char app_build[MEMGAUGE__TEXT_MAX + 1];
    char device_model[MEMGAUGE__TEXT_MAX + 1], os_name[MEMGAUGE__TEXT_MAX + 1];
    char os_version[MEMGAUGE__TEXT_MAX + 1];
    char metric[MEMGAUGE__WORD_MAX + 1];
    uint64_t start_unix_ms, last_ms, interval_ms;
    uint64_t samples, windows, batches;
    uint64_t peak_bytes, max_bytes, limit_bytes;
    double peak_fraction;                 /* < 0 when no window knew the limit */
    uint64_t dropped;                     /* sum of every dropped counter */
    char verdict[MEMGAUGE__WORD_MAX + 1]; /* "" until a later session judged this one */
    char grade[8];
} memgauge__session_row_t;

typedef struct memgauge__session_filter_s {
    const char *app_id, *app_version, *device_model, *os_version; /* NULL = any */
    const char
        *verdict; /* a verdict word, "pending" (not judged yet), "oom" (either OOM verdict) */
    const char *session_id;
    size_t offset, limit; /* limit 0 = store's maximum */
} memgauge__session_filter_t;

typedef struct memgauge__window_row_s {
    uint64_t start_ms, end_ms, samples;
    uint64_t first, last, min, max, mean, peak, kernel_peak, limit, headroom;
    char metric[MEMGAUGE__WORD_MAX + 1];
    int has_series;
    memgauge__series_t series; /* decoded */
} memgauge__window_row_t;

typedef struct memgauge__event_row_s {
    char kind[20];
    uint64_t t_ms;
    int32_t threshold_id;
    char direction[8];
    int urgent;
    uint64_t level, footprint, limit;
    char pressure[12];
} memgauge__event_row_t;

typedef struct memgauge__termination_row_s {
    char session_id[MEMGAUGE__UUID_LEN + 1];
    char reported_by[MEMGAUGE__UUID_LEN + 1];
    char app_id[MEMGAUGE__TEXT_MAX + 1], app_version[MEMGAUGE__TEXT_MAX + 1];
    char device_model[MEMGAUGE__TEXT_MAX + 1], os_version[MEMGAUGE__TEXT_MAX + 1];
    char verdict[MEMGAUGE__WORD_MAX + 1], grade[8], pressure[12];
    uint64_t reported_unix_ms, start_unix_ms, ended_ms, last_footprint, limit;
    int has_trail;
    memgauge__series_t trail; /* decoded */
} memgauge__termination_row_t;

/* Row counts of every table, for tests and /healthz. */
typedef struct memgauge__store_counts_s {
    uint64_t batches, sessions, windows, samples, events, terminations;
} memgauge__store_counts_t;

/* ---- the interface ----------------------------------------------------- */

typedef struct memgauge__store_ops_s {
    const char *name; /* "sqlite", "postgres" */
    /* Stores the batch in one transaction and returns after it committed;
     * *duplicate = 1 (and nothing written) when batch_id was stored before. */
    int (*put_batch)(memgauge__store_t *st, const memgauge__batch_t *b, uint64_t received_unix_ms,
                     int *duplicate);
    /* Rows are malloc'd arrays the caller frees with free() (after
     * memgauge__window_rows_free / memgauge__termination_rows_free). */
    int (*apps)(memgauge__store_t *st, memgauge__app_row_t **rows, size_t *n);
    int (*sessions)(memgauge__store_t *st, const memgauge__session_filter_t *f,
                    memgauge__session_row_t **rows, size_t *n);
    int (*windows)(memgauge__store_t *st, const char *session_id, memgauge__window_row_t **rows,
                   size_t *n);
    int (*events)(memgauge__store_t *st, const char *session_id, memgauge__event_row_t **rows,
                  size_t *n);
    int (*terminations)(memgauge__store_t *st, const memgauge__session_filter_t *f,
                        memgauge__termination_row_t **rows, size_t *n);
    int (*counts)(memgauge__store_t *st, memgauge__store_counts_t *out);
    int (*schema_version)(memgauge__store_t *st, int *version);
    void (*close)(memgauge__store_t *st);
} memgauge__store_ops_t;

/* Every backend's handle starts with this. */
struct memgauge__store_s {
    const memgauge__store_ops_t *ops;
    char error[256]; /* last error; per handle, written under the backend's lock */
};

/* Limits on what one query returns, so that a big database cannot exhaust
 * the collector's memory. */
#define MEMGAUGE__STORE_MAX_ROWS                                                                   \
    50000                             /* sessions considered for statistics, windows per session   \
                                       */
#define MEMGAUGE__STORE_PAGE_MAX 1000 /* session / termination list page */

typedef struct memgauge__store_options_s {
    int sync_full;     /* SQLite: synchronous=FULL (survives power loss) instead of NORMAL */
    unsigned pg_conns; /* PostgreSQL: connections in the pool, 1 .. 64 (0 = 4) */
} memgauge__store_options_t;

/* Opens (creating and migrating) the database named by `url`: "postgres://..."
 * or "postgresql://..." selects PostgreSQL, anything else is a SQLite file
 * path. opts may be NULL (defaults). On failure returns NULL and writes the
 * reason into err[0 .. errlen). The handle is safe to use from any thread. */
memgauge__store_t *memgauge__store_open(const char *url, const memgauge__store_options_t *opts,
                                        char *err, size_t errlen);

/* Latest migration either backend knows. */
#define MEMGAUGE__SCHEMA_VERSION 1

memgauge__store_t *memgauge__store_sqlite_open(const char *path,
                                               const memgauge__store_options_t *opts, char *err,
                                               size_t errlen);
memgauge__store_t *memgauge__store_pg_open(const char *conninfo,
                                           const memgauge__store_options_t *opts, char *err,
                                           size_t errlen);

static inline const char *memgauge__store_error(const memgauge__store_t *st)
{
    return st->error;
}

void memgauge__window_rows_free(memgauge__window_row_t *rows, size_t n);
void memgauge__termination_rows_free(memgauge__termination_row_t *rows, size_t n);

/* What a batch adds to its session row; both backends upsert with it. */
typedef struct memgauge__session_delta_s {
    uint64_t last_ms, samples, peak_bytes, max_bytes, limit_bytes, dropped;
    double peak_fraction; /* < 0: no window knew the limit */
} memgauge__session_delta_t;
void memgauge__session_delta(const memgauge__batch_t *b, memgauge__session_delta_t *out);

#endif
