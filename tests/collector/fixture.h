/* Test fixtures: valid wire-format v1 batches built with cJSON, with
 * aggregates computed from the samples they carry, and store handles on the
 * backend under test. */
#ifndef MEMGAUGE_TESTS_COLLECTOR_FIXTURE_H
#define MEMGAUGE_TESTS_COLLECTOR_FIXTURE_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct fixture_batch_s {
    const char *batch_id;                                         /* required */
    const char *session_id;                                       /* required */
    const char *app_id, *app_version, *device_model, *os_version; /* defaults below */
    size_t windows;                                               /* default 1 */
    size_t samples_per_window;                                    /* default 10 */
    uint64_t first_t_ms;  /* time of the first sample, default 0 */
    uint64_t interval_ms; /* default 1000 */
    uint64_t base_pages;  /* footprint of the first sample in 16 KiB pages, default 11520 */
    int64_t step_pages;   /* change per sample, default 16 */
    uint64_t limit_bytes; /* default 2 GiB; 0 = unknown */
    size_t spike_at;      /* sample index (within the batch) with a peak_excess, 0 = none */
    uint64_t spike_pages;
    const char *verdict;      /* non-NULL: a previous_session event with this verdict */
    const char *prev_session; /* its session id */
    int no_trail;             /* the verdict without its trail (t 55..57 s, about 2 GB) */
    const char *grade;        /* the verdict's grade; default "high", "" for none */
    const char *os_build;     /* device.os_build, NULL = left out */
    uint64_t clean_stop_ms;   /* non-zero: session.end = clean_stop, end_ms this */
    int threshold;            /* non-zero: a threshold event */
    int pressure;             /* non-zero: a critical pressure event */
    uint64_t start_unix_ms;   /* session.start_unix_ms, default 1718000000000 */
    int short_meta;           /* schema 2's short form: no sdk, device, app.version/build */
} fixture_batch_t;

/* The batch as a cJSON tree (caller deletes) / compact JSON text (caller frees). */
cJSON *fixture_batch(const fixture_batch_t *f);
char *fixture_batch_json(const fixture_batch_t *f);

/* `data` as one gzip member (level 9), malloc'd; *out_len its size.
 * Asserts (Criterion) that zlib succeeded. */
unsigned char *fixture_gzip(const void *data, size_t len, size_t *out_len);

/* A UUID made from a number, e.g. fixture_uuid(buf, 7) = "00000000-0000-4000-8000-000000000007". */
const char *fixture_uuid(char buf[37], uint64_t n);

/* Opens a fresh, empty store on the backend under test: PostgreSQL when
 * MEMGAUGE_TEST_PG names a server ("postgres://user@127.0.0.1:port"; a new
 * database per call), else a new SQLite file under /tmp. Aborts the test on
 * failure. `url_out` (optional, 512 bytes) receives the URL. */
memgauge__store_t *fixture_store(char *url_out);
int fixture_backend_is_pg(void);

/* A percentile from the rollups' sketches is within 1 % of the exact one. */
#define EXPECT_WITHIN_1PC(actual, exact)                                                           \
    cr_expect_leq(fabs((double)(actual) - (double)(exact)), 0.01 * (double)(exact),                \
                  "%s = %.17g, exact %.17g", #actual, (double)(actual), (double)(exact))

#endif
