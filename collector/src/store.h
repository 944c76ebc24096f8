/* One storage interface, two backends: SQLite (store_sqlite.c, the embedded
 * default) and PostgreSQL (store_pg.c, several collectors sharing one
 * database). Both keep the schema in versioned migrations (schema_*.c) and
 * pass the same test suite (tests/collector/test_store.c). */
#ifndef MEMGAUGE_COLLECTOR_STORE_H
#define MEMGAUGE_COLLECTOR_STORE_H

#include "batch.h"
#include "rollup.h"

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__STORE_OK 0
#define MEMGAUGE__STORE_ERROR (-1) /* the database refused; memgauge__store_error() says why */
#define MEMGAUGE__STORE_NO_MEMORY (-2)
#define MEMGAUGE__STORE_NOT_FOUND (-3)
#define MEMGAUGE__STORE_CORRUPT (-4) /* a stored blob does not decode */
/* another writer holds the database longer than the short write wait: retry later (503) */
#define MEMGAUGE__STORE_BUSY (-5)
/* the batch's session (or the session a verdict judges) belongs to another app (409) */
#define MEMGAUGE__STORE_CONFLICT (-6)

/* Samples one session may store as series. A window that would take its
 * session beyond is stored with its aggregates only (the session's peak,
 * limit and statistics stay exact) and counted in samples_trimmed; at 10 Hz
 * this is 27 hours of samples, at 1 Hz 11 days. It bounds what a samples
 * query decodes (docs/collector.md "Cost of each query"). */
#define MEMGAUGE__MAX_SESSION_SAMPLES 1000000

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
    char os_build[MEMGAUGE__TEXT_MAX + 1]; /* "" when not reported */
    char metric[MEMGAUGE__WORD_MAX + 1];
    uint64_t start_unix_ms, last_ms, interval_ms;
    uint64_t samples, windows, batches;
    uint64_t trail_samples;   /* of samples: those only a verdict's trail carried */
    uint64_t samples_trimmed; /* samples kept as aggregates only (session cap) */
    uint64_t peak_bytes, max_bytes, limit_bytes;
    double peak_fraction;                 /* < 0 when no window knew the limit */
    uint64_t dropped;                     /* sum of every dropped counter */
    char verdict[MEMGAUGE__WORD_MAX + 1]; /* "" until a later session judged this one */
    char grade[8];
    int self_reported; /* the verdict is the session's own clean stop, not yet confirmed */
} memgauge__session_row_t;

typedef struct memgauge__session_filter_s {
    const char *app_id, *app_version, *device_model, *os_version; /* NULL = any */
    const char
        *verdict; /* a verdict word, "pending" (not judged yet), "oom" (either OOM verdict) */
    const char *session_id;
    size_t offset, limit; /* limit 0 = store's maximum */
    /* keyset paging: rows after this one in the list's order -- sessions:
     * start_unix_ms descending, then session_id descending; terminations:
     * reported_unix_ms (given in after_start_unix_ms) descending, then
     * session_id descending */
    int has_after;
    uint64_t after_start_unix_ms;
    char after_session_id[MEMGAUGE__UUID_LEN + 1];
} memgauge__session_filter_t;

/* Which rollups a rollups() call merges from: one app, one version or every
 * one, the days [from_day, to_day] (days since 1970-01-01 UTC). */
typedef struct memgauge__rollup_filter_s {
    const char *app_id;      /* required */
    const char *app_version; /* NULL = every version */
    int64_t from_day, to_day;
} memgauge__rollup_filter_t;

typedef struct memgauge__window_row_s {
    uint64_t start_ms, end_ms, samples;
    uint64_t first, last, min, max, mean, peak, kernel_peak, limit, headroom;
    char metric[MEMGAUGE__WORD_MAX + 1];
    int has_series;      /* a series is stored */
    unsigned char *blob; /* its encoded copy; NULL when left out (budget) */
    size_t blob_len;
    memgauge__series_t series; /* decoded by memgauge__window_row_decode */
} memgauge__window_row_t;

/* Which windows a windows() call reads and what it copies. */
typedef struct memgauge__window_query_s {
    const char *session_id;
    uint64_t from_ms, to_ms; /* the windows overlapping [from_ms, to_ms] */
    uint64_t blob_budget;    /* series are copied while their samples stay within this */
    /* answers */
    uint64_t series_total; /* samples in the session's stored series (every window) */
    int over_budget;       /* a series was left out because of blob_budget */
} memgauge__window_query_t;

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

typedef struct memgauge__put_result_s {
    int duplicate;
    uint64_t samples_trimmed;
    /* the session's description as stored after the batch ("" unknown): what
     * a short batch (schema 2) left out, for the OTLP export */
    char app_version[MEMGAUGE__TEXT_MAX + 1], app_build[MEMGAUGE__TEXT_MAX + 1];
    char device_model[MEMGAUGE__TEXT_MAX + 1], os_name[MEMGAUGE__TEXT_MAX + 1];
    char os_version[MEMGAUGE__TEXT_MAX + 1], os_build[MEMGAUGE__TEXT_MAX + 1];
    /* why the batch was refused (MEMGAUGE__STORE_CONFLICT), for the answer:
     * the handle's error may meanwhile name another writer's batch */
    char error[256];
} memgauge__put_result_t;

/* Fills what the batch left out of its description (schema 2's short form)
 * from the stored one in res. */
void memgauge__put_result_describe(const memgauge__put_result_t *res, memgauge__batch_t *b);

typedef struct memgauge__store_ops_s {
    const char *name; /* "sqlite", "postgres" */
    /* Stores the batch in one transaction and returns after it committed;
     * res->duplicate = 1 (and nothing written) when batch_id was stored
     * before; res->samples_trimmed counts the samples stored as aggregates
     * only (MEMGAUGE__MAX_SESSION_SAMPLES). MEMGAUGE__STORE_BUSY: another
     * writer held the database longer than the short write wait;
     * MEMGAUGE__STORE_CONFLICT: the session belongs to another app. */
    int (*put_batch)(memgauge__store_t *st, const memgauge__batch_t *b, uint64_t received_unix_ms,
                     memgauge__put_result_t *res);
    /* Rows are malloc'd arrays the caller frees with free() (after
     * memgauge__window_rows_free / memgauge__termination_rows_free). */
    int (*apps)(memgauge__store_t *st, memgauge__app_row_t **rows, size_t *n);
    int (*sessions)(memgauge__store_t *st, const memgauge__session_filter_t *f,
                    memgauge__session_row_t **rows, size_t *n);
    /* Only the windows overlapping the query's range are read (SQL); their
     * blobs are copied, not decoded: the caller decodes outside the store's
     * lock. */
    int (*windows)(memgauge__store_t *st, memgauge__window_query_t *q,
                   memgauge__window_row_t **rows, size_t *n);
    /* The samples of a verdict's trail that came after the session's last
     * stored window (decoded; *has = 0 when none). */
    int (*trail)(memgauge__store_t *st, const char *session_id, memgauge__series_t *out, int *has);
    int (*events)(memgauge__store_t *st, const char *session_id, memgauge__event_row_t **rows,
                  size_t *n);
    int (*terminations)(memgauge__store_t *st, const memgauge__session_filter_t *f,
                        memgauge__termination_row_t **rows, size_t *n);
    int (*counts)(memgauge__store_t *st, memgauge__store_counts_t *out);
    /* The rollup rows (decoded) matching f; free with memgauge__rollup_rows_free. */
    int (*rollups)(memgauge__store_t *st, const memgauge__rollup_filter_t *f,
                   memgauge__rollup_t **rows, size_t *n);
    /* One bounded retention step, in its own short transaction: deletes at
     * most max_sessions sessions that started before cutoff_unix_ms, with
     * their windows, events, terminations, dropped counts and batches.
     * Rollups stay. *deleted = sessions deleted (fewer than max_sessions:
     * nothing older is left). PostgreSQL first drops the day partitions of
     * windows and events whose day ended before the cutoff (a partition in
     * use is left for a later step). May answer MEMGAUGE__STORE_BUSY. */
    int (*expire)(memgauge__store_t *st, uint64_t cutoff_unix_ms, size_t max_sessions,
                  size_t *deleted);
    int (*schema_version)(memgauge__store_t *st, int *version);
    /* Whether a write could start now, without waiting: 0, MEMGAUGE__STORE_BUSY
     * (another writer holds the database) or MEMGAUGE__STORE_ERROR. */
    int (*write_check)(memgauge__store_t *st);
    void (*close)(memgauge__store_t *st);
} memgauge__store_ops_t;

/* Every backend's handle starts with this. */
struct memgauge__store_s {
    const memgauge__store_ops_t *ops;
    char error[256]; /* last error; per handle, written under the backend's lock */
    unsigned retention_days;
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
    /* --retention-days (0 = none): a session first seen after it started more
     * than this long ago -- a late batch or verdict of a session retention
     * already deleted -- is stored but not added to the rollups again */
    unsigned retention_days;
} memgauge__store_options_t;

/* Opens (creating and migrating) the database named by `url`: "postgres://..."
 * or "postgresql://..." selects PostgreSQL, anything else is a SQLite file
 * path. opts may be NULL (defaults). On failure returns NULL and writes the
 * reason into err[0 .. errlen). The handle is safe to use from any thread. */
memgauge__store_t *memgauge__store_open(const char *url, const memgauge__store_options_t *opts,
                                        char *err, size_t errlen);

/* Latest migration either backend knows. */
#define MEMGAUGE__SCHEMA_VERSION 4

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
/* Decodes r->blob into r->series (a no-op without a blob). */
int memgauge__window_row_decode(memgauge__window_row_t *r);
void memgauge__termination_rows_free(memgauge__termination_row_t *rows, size_t n);
void memgauge__rollup_rows_free(memgauge__rollup_t *rows, size_t n);

/* What a batch adds to its session row; both backends upsert with it. */
typedef struct memgauge__session_delta_s {
    uint64_t last_ms, window_last_ms, samples, peak_bytes, max_bytes, limit_bytes, dropped;
    double peak_fraction; /* < 0: no window knew the limit */
} memgauge__session_delta_t;
void memgauge__session_delta(const memgauge__batch_t *b, memgauge__session_delta_t *out);

/* A session row's running values that a verdict's trail changes. */
typedef struct memgauge__session_values_s {
    uint64_t samples, trail_samples, last_ms, window_last_ms;
    uint64_t peak_bytes, max_bytes, limit_bytes;
    double peak_fraction; /* < 0: unknown */
} memgauge__session_values_t;

/* Folds the trail of a verdict (e->has_trail) into a killed session's row:
 * the trail's samples after the last stored window's last sample become
 * the session's trail part (*tail; nothing is counted twice where they
 * overlap), and its peak, limit, length and end raise the row's. The trail
 * is the only copy of the seconds before a kill whose open window was lost
 * (docs/collector.md "Verdicts and trails"). Returns 0 or
 * MEMGAUGE__STORE_NO_MEMORY. */
int memgauge__fold_trail(memgauge__session_values_t *v, const memgauge__event_t *e,
                         memgauge__series_t *tail);
/* After a batch raised v->window_last_ms: drops the trail samples its windows
 * now cover. *changed = 1 when *tail was rewritten. */
int memgauge__trim_trail(memgauge__session_values_t *v, memgauge__series_t *tail, int *changed);

/* The self-reported ending of a batch with session.end = clean_stop, as a
 * previous_session event judging its own session. */
void memgauge__clean_stop_event(const memgauge__batch_t *b, memgauge__event_t *out);

#endif
