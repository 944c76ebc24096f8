/* The storage suite. The same tests run on SQLite and, when MEMGAUGE_TEST_PG
 * names a server, on PostgreSQL (scripts/collector-test.sh runs both). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "schema.h"
#include "wire_parse.h"

#include <libpq-fe.h>
#include <sqlite3.h>

static memgauge__store_t *st;
static char url[512];

static void setup(void)
{
    st = fixture_store(url);
}

static void teardown(void)
{
    if (st)
        st->ops->close(st);
    st = NULL;
    if (!fixture_backend_is_pg()) {
        char path[600];
        unlink(url);
        snprintf(path, sizeof path, "%s-wal", url);
        unlink(path);
        snprintf(path, sizeof path, "%s-shm", url);
        unlink(path);
    }
}

TestSuite(store, .init = setup, .fini = teardown);

/* Parses a fixture batch and stores it; returns *duplicate. */
static int put(const fixture_batch_t *f)
{
    char *json = fixture_batch_json(f);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s: %s", err.field,
                 err.reason);
    memgauge__put_result_t res;
    int rc = st->ops->put_batch(st, &b, 1718000020000ull, &res);
    cr_assert_eq(rc, 0, "put_batch: %s", memgauge__store_error(st));
    memgauge__batch_clear(&b);
    free(json);
    return res.duplicate;
}

static memgauge__store_counts_t counts(void)
{
    memgauge__store_counts_t c = {0};
    cr_assert_eq(st->ops->counts(st, &c), 0, "%s", memgauge__store_error(st));
    return c;
}

static memgauge__session_row_t one_session(const char *id)
{
    memgauge__session_filter_t f = {.session_id = id};
    memgauge__session_row_t *rows = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->sessions(st, &f, &rows, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 1, "session %s: %zu rows", id, n);
    memgauge__session_row_t r = rows[0];
    free(rows);
    return r;
}

Test(store, new_database_is_at_the_latest_schema_version)
{
    int v = -1;
    cr_assert_eq(st->ops->schema_version(st, &v), 0);
    cr_expect_eq(v, MEMGAUGE__SCHEMA_VERSION);
    memgauge__store_counts_t c = counts();
    cr_expect_eq(c.batches + c.sessions + c.windows + c.events + c.terminations, 0);
}

Test(store, batch_is_stored_with_every_row)
{
    char b[37], s[37], p[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 100),
                         .windows = 3,
                         .samples_per_window = 10,
                         .threshold = 1,
                         .pressure = 1,
                         .verdict = "oom_suspected",
                         .prev_session = fixture_uuid(p, 99),
                         .no_trail = 1};
    cr_expect_eq(put(&f), 0);
    memgauge__store_counts_t c = counts();
    cr_expect_eq(c.batches, 1);
    cr_expect_eq(c.sessions, 1);
    cr_expect_eq(c.windows, 3);
    cr_expect_eq(c.samples, 30);
    cr_expect_eq(c.events, 3);
    cr_expect_eq(c.terminations, 1);
}

Test(store, replayed_batch_is_a_duplicate_and_stored_once)
{
    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 100),
                         .windows = 2,
                         .threshold = 1};
    cr_expect_eq(put(&f), 0);
    cr_expect_eq(put(&f), 1);
    cr_expect_eq(put(&f), 1);
    memgauge__store_counts_t c = counts();
    cr_expect_eq(c.batches, 1);
    cr_expect_eq(c.windows, 2);
    cr_expect_eq(c.samples, 20);
    cr_expect_eq(c.events, 1);
    cr_expect_eq(one_session(s).batches, 1);
}

Test(store, session_aggregates_span_batches)
{
    char b[37], s[37];
    /* 16 KiB pages: the fixture rises 16 pages per sample, 50-sample triangle */
    fixture_batch_t f1 = {.batch_id = fixture_uuid(b, 1),
                          .session_id = fixture_uuid(s, 7),
                          .windows = 1,
                          .samples_per_window = 10};
    put(&f1);
    fixture_batch_t f2 = {.batch_id = fixture_uuid(b, 2),
                          .session_id = s,
                          .windows = 1,
                          .samples_per_window = 10,
                          .first_t_ms = 10000,
                          .spike_at = 3,
                          .spike_pages = 1000};
    put(&f2);
    memgauge__session_row_t r = one_session(s);
    cr_expect_eq(r.batches, 2);
    cr_expect_eq(r.windows, 2);
    cr_expect_eq(r.samples, 20);
    cr_expect_eq(r.last_ms, 19000);
    /* second batch restarts the triangle at k = 0 (samples 0..9): max at k = 9 */
    cr_expect_eq(r.max_bytes, (11520ull + 16 * 9) * 16384);
    cr_expect_eq(r.peak_bytes, (11520ull + 16 * 3 + 1000) * 16384, "spike between samples");
    cr_expect_eq(r.limit_bytes, 2147483648ull);
    cr_expect_float_eq(r.peak_fraction, (double)((11520ull + 16 * 3 + 1000) * 16384) / 2147483648.0,
                       1e-9);
    cr_expect_eq(r.dropped, 6, "two batches of samples=2 + spool_evicted=1");
    cr_expect_str_eq(r.device_model, "iPhone15,2");
    cr_expect_str_eq(r.metric, "phys_footprint");
    cr_expect_str_eq(r.verdict, "");
}

/* Schema 2: once a session is described, its batches may leave the
 * description out; the stored one stays. */
Test(store, a_short_batch_of_a_known_session_keeps_its_description)
{
    char b[37], s[37];
    fixture_batch_t f1 = {
        .batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 7), .os_build = "21F90"};
    put(&f1);
    fixture_batch_t f2 = {
        .batch_id = fixture_uuid(b, 2), .session_id = s, .first_t_ms = 10000, .short_meta = 1};
    cr_expect_eq(put(&f2), 0);
    memgauge__session_row_t r = one_session(s);
    cr_expect_eq(r.batches, 2);
    cr_expect_eq(r.samples, 20);
    cr_expect_str_eq(r.app_version, "2.4.0");
    cr_expect_str_eq(r.app_build, "2401");
    cr_expect_str_eq(r.device_model, "iPhone15,2");
    cr_expect_str_eq(r.os_name, "iOS");
    cr_expect_str_eq(r.os_version, "17.5.1");
    cr_expect_str_eq(r.os_build, "21F90");
    cr_expect_eq(r.interval_ms, 1000);
    cr_expect_eq(r.limit_bytes, 2147483648ull);
    /* the export gets the description the batch left out */
    fixture_batch_t f3 = {
        .batch_id = fixture_uuid(b, 3), .session_id = s, .first_t_ms = 20000, .short_meta = 1};
    char *json = fixture_batch_json(&f3);
    memgauge__batch_t batch;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &batch, &err), 0);
    memgauge__put_result_t res;
    cr_assert_eq(st->ops->put_batch(st, &batch, 1718000020000ull, &res), 0);
    memgauge__put_result_describe(&res, &batch);
    cr_expect_str_eq(batch.app_version, "2.4.0");
    cr_expect_str_eq(batch.device_model, "iPhone15,2");
    cr_expect_str_eq(batch.os_build, "21F90");
    memgauge__batch_clear(&batch);
    free(json);
}

/* The session's first batch was lost: its short batches are stored with an
 * unknown ('') description, which the first batch that carries one fills. */
Test(store, a_short_batch_of_an_unknown_session_is_stored_and_described_later)
{
    char b[37], s[37];
    fixture_batch_t f2 = {.batch_id = fixture_uuid(b, 2),
                          .session_id = fixture_uuid(s, 8),
                          .first_t_ms = 10000,
                          .short_meta = 1};
    cr_expect_eq(put(&f2), 0);
    memgauge__session_row_t r = one_session(s);
    cr_expect_eq(r.batches, 1);
    cr_expect_eq(r.samples, 10);
    cr_expect_str_eq(r.app_id, "com.example.photos");
    cr_expect_str_eq(r.app_version, "");
    cr_expect_str_eq(r.device_model, "");
    cr_expect_eq(r.interval_ms, 0);
    fixture_batch_t f1 = {.batch_id = fixture_uuid(b, 1), .session_id = s};
    cr_expect_eq(put(&f1), 0);
    r = one_session(s);
    cr_expect_eq(r.batches, 2);
    cr_expect_eq(r.samples, 20);
    cr_expect_str_eq(r.app_version, "2.4.0");
    cr_expect_str_eq(r.app_build, "2401");
    cr_expect_str_eq(r.device_model, "iPhone15,2");
    cr_expect_str_eq(r.os_version, "17.5.1");
    cr_expect_eq(r.interval_ms, 1000);
    /* a later full batch with another description does not rewrite it */
    fixture_batch_t f3 = {
        .batch_id = fixture_uuid(b, 3), .session_id = s, .first_t_ms = 20000, .app_version = "9.9"};
    put(&f3);
    cr_expect_str_eq(one_session(s).app_version, "2.4.0");
}

Test(store, a_short_batch_of_another_apps_session_is_a_conflict)
{
    char b[37], s[37];
    fixture_batch_t f1 = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 9)};
    put(&f1);
    fixture_batch_t f2 = {.batch_id = fixture_uuid(b, 2),
                          .session_id = s,
                          .app_id = "com.example.other",
                          .first_t_ms = 10000,
                          .short_meta = 1};
    char *json = fixture_batch_json(&f2);
    memgauge__batch_t batch;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &batch, &err), 0);
    memgauge__put_result_t res;
    cr_expect_eq(st->ops->put_batch(st, &batch, 1718000020000ull, &res), MEMGAUGE__STORE_CONFLICT);
    memgauge__batch_clear(&batch);
    free(json);
}

Test(store, unknown_limit_leaves_peak_fraction_unknown)
{
    char b[37], s[37];
    fixture_batch_t f = {
        .batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 7), .limit_bytes = 1};
    put(&f);
    memgauge__session_row_t r = one_session(s);
    cr_expect_eq(r.limit_bytes, 0);
    cr_expect_lt(r.peak_fraction, 0);
}

Test(store, windows_return_every_sample_exactly)
{
    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 7),
                         .windows = 2,
                         .samples_per_window = 30,
                         .spike_at = 40,
                         .spike_pages = 64};
    put(&f);
    memgauge__window_row_t *w = NULL;
    size_t n = 0;
    memgauge__window_query_t q = {
        .session_id = s, .to_ms = UINT64_MAX, .blob_budget = MEMGAUGE__MAX_SESSION_SAMPLES};
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 2);
    cr_expect_eq(q.series_total, 60);
    cr_assert_eq(memgauge__window_row_decode(&w[1]), 0);
    cr_expect_eq(w[1].start_ms, 30000);
    cr_expect_eq(w[1].end_ms, 59000);
    cr_expect_str_eq(w[1].metric, "phys_footprint");
    cr_assert(w[1].has_series);
    cr_assert_eq(w[1].series.n, 30);
    cr_expect_eq(w[1].series.t_ms[10], 40000);
    cr_expect_eq(w[1].series.footprint[10], (11520ull + 16 * 10) * 16384); /* k = 40: 50 - 40 */
    cr_expect_eq(w[1].series.peak[10], (11520ull + 16 * 10 + 64) * 16384);
    cr_expect_eq(w[1].series.resident[29], (11520ull + 16 * 9) * 16384); /* k = 59: 50 - 41 */
    cr_expect_eq(w[1].peak, (11520ull + 16 * 20) * 16384, "highest at k = 30, above the spike");
    memgauge__window_rows_free(w, n);
}

Test(store, events_come_back_in_time_order)
{
    char b[37], s[37], p[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 7),
                         .threshold = 1,
                         .pressure = 1,
                         .verdict = "clean_exit",
                         .prev_session = fixture_uuid(p, 6)};
    put(&f);
    memgauge__event_row_t *e = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->events(st, s, &e, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 3);
    cr_expect_str_eq(e[0].kind, "previous_session");
    cr_expect_str_eq(e[1].kind, "threshold");
    cr_expect_eq(e[1].t_ms, 1000);
    cr_expect_eq(e[1].threshold_id, 7);
    cr_expect_str_eq(e[1].direction, "up");
    cr_expect_eq(e[1].urgent, 1);
    cr_expect_eq(e[1].level, 150000000);
    cr_expect_eq(e[1].footprint, 189005824);
    cr_expect_str_eq(e[2].kind, "pressure");
    cr_expect_str_eq(e[2].pressure, "critical");
    free(e);
}

Test(store, verdict_from_the_next_session_judges_the_previous_one)
{
    char b[37], s1[37], s2[37], s3[37];
    fixture_batch_t first = {.batch_id = fixture_uuid(b, 1),
                             .session_id = fixture_uuid(s1, 1),
                             .device_model = "iPhone12,1"};
    put(&first);
    fixture_batch_t second = {.batch_id = fixture_uuid(b, 2),
                              .session_id = fixture_uuid(s2, 2),
                              .verdict = "oom_suspected",
                              .prev_session = s1};
    put(&second);
    fixture_batch_t third = {.batch_id = fixture_uuid(b, 3),
                             .session_id = fixture_uuid(s3, 3),
                             .verdict = "clean_exit",
                             .prev_session = s2};
    put(&third);
    cr_expect_str_eq(one_session(s1).verdict, "oom_suspected");
    cr_expect_str_eq(one_session(s1).grade, "high");
    cr_expect_str_eq(one_session(s2).verdict, "clean_exit");
    cr_expect_str_eq(one_session(s3).verdict, "");

    memgauge__session_filter_t oom = {.verdict = "oom"};
    memgauge__termination_row_t *t = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->terminations(st, &oom, &t, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 1);
    cr_expect_str_eq(t[0].session_id, s1);
    cr_expect_str_eq(t[0].reported_by, s2);
    cr_expect_str_eq(t[0].device_model, "iPhone12,1", "the judged session's own device");
    cr_expect_eq(t[0].limit, 2147483648ull);
    cr_expect_str_eq(t[0].pressure, "critical");
    cr_assert(t[0].has_trail);
    cr_assert_eq(t[0].trail.n, 3);
    cr_expect_eq(t[0].trail.t_ms[2], 57000);
    cr_expect_eq(t[0].trail.footprint[2], 126976ull * 16384);
    memgauge__termination_rows_free(t, n);

    memgauge__session_filter_t pending = {.verdict = "pending"};
    memgauge__session_row_t *rows = NULL;
    cr_assert_eq(st->ops->sessions(st, &pending, &rows, &n), 0);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(rows[0].session_id, s3);
    free(rows);
}

Test(store, sessions_filter_and_paginate)
{
    char b[37], s[37];
    const char *devices[] = {"iPhone15,2", "iPhone12,1", "iPhone15,2", "iPhone15,2", "Pixel 8"};
    for (int i = 0; i < 5; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, (uint64_t)i + 1),
                             .session_id = fixture_uuid(s, (uint64_t)i + 100),
                             .device_model = devices[i],
                             .app_version = i < 4 ? "2.4.0" : "2.5.0"};
        put(&f);
    }
    memgauge__session_filter_t f = {
        .app_id = "com.example.photos", .app_version = "2.4.0", .device_model = "iPhone15,2"};
    memgauge__session_row_t *rows = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->sessions(st, &f, &rows, &n), 0);
    cr_expect_eq(n, 3);
    free(rows);
    f.limit = 2;
    cr_assert_eq(st->ops->sessions(st, &f, &rows, &n), 0);
    cr_expect_eq(n, 2);
    free(rows);
    f.offset = 2;
    cr_assert_eq(st->ops->sessions(st, &f, &rows, &n), 0);
    cr_expect_eq(n, 1);
    free(rows);

    memgauge__app_row_t *apps = NULL;
    cr_assert_eq(st->ops->apps(st, &apps, &n), 0);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(apps[0].app_id, "com.example.photos");
    uint64_t total = apps[0].sessions + apps[1].sessions;
    cr_expect_eq(total, 5);
    free(apps);
}

Test(store, reopening_keeps_data_and_reapplies_no_migration)
{
    char b[37], s[37], err[256];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 7)};
    put(&f);
    st->ops->close(st);
    st = memgauge__store_open(url, NULL, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    int v = 0;
    cr_assert_eq(st->ops->schema_version(st, &v), 0);
    cr_expect_eq(v, MEMGAUGE__SCHEMA_VERSION);
    cr_expect_eq(counts().samples, 10);
    cr_expect_eq(put(&f), 1, "the idempotency key survives a restart");
}

Test(store, only_the_windows_overlapping_a_range_are_read)
{
    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1),
                         .session_id = fixture_uuid(s, 7),
                         .windows = 10,
                         .samples_per_window = 10}; /* window k: 10 k .. 10 k + 9 s */
    put(&f);
    memgauge__window_query_t q = {
        .session_id = s, .from_ms = 25000, .to_ms = 44000, .blob_budget = UINT64_MAX};
    memgauge__window_row_t *w = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 3);
    cr_expect_eq(w[0].start_ms, 20000);
    cr_expect_eq(w[2].end_ms, 49000);
    cr_expect_eq(q.series_total, 100, "the whole session's series, for samples_total");
    cr_expect(!q.over_budget);
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(w[i].blob);
    memgauge__window_rows_free(w, n);
    /* a budget of 15 samples copies the first window's series only */
    q.blob_budget = 15;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 3);
    cr_expect_not_null(w[0].blob);
    cr_expect_null(w[1].blob);
    cr_expect(w[1].has_series);
    cr_expect(q.over_budget);
    memgauge__window_rows_free(w, n);
}

/* One window of `n` samples at 1 ms from t0, built directly (a JSON body of
 * a million samples would only slow the test). */
static void big_batch(memgauge__batch_t *b, uint64_t batch, const char *session, size_t windows,
                      size_t per, uint64_t t0)
{
    memset(b, 0, sizeof *b);
    fixture_uuid(b->batch_id, batch);
    snprintf(b->session_id, sizeof b->session_id, "%s", session);
    snprintf(b->sdk_name, sizeof b->sdk_name, "memgauge");
    snprintf(b->sdk_version, sizeof b->sdk_version, "0.1.0");
    snprintf(b->app_id, sizeof b->app_id, "com.example.photos");
    snprintf(b->app_version, sizeof b->app_version, "2.4.0");
    snprintf(b->device_model, sizeof b->device_model, "x86_64");
    snprintf(b->os_name, sizeof b->os_name, "Linux");
    snprintf(b->os_version, sizeof b->os_version, "6.1");
    b->session_start_unix_ms = 1718000000000ull;
    b->metric = MEMGAUGE__METRIC_LINUX_PRIVATE_FOOTPRINT;
    b->window_count = windows;
    b->windows = calloc(windows, sizeof *b->windows);
    cr_assert_not_null(b->windows);
    for (size_t k = 0; k < windows; k++) {
        memgauge__window_t *w = &b->windows[k];
        cr_assert_eq(memgauge__series_alloc(&w->series, per, 0, 0), 0);
        w->series.unit_bytes = 4096;
        for (size_t i = 0; i < per; i++) {
            w->series.t_ms[i] = t0 + k * per + i;
            w->series.footprint[i] = 4096ull * (1000 + i % 100);
        }
        w->has_series = 1;
        w->metric = b->metric;
        w->samples = per;
        w->start_ms = w->series.t_ms[0];
        w->end_ms = w->series.t_ms[per - 1];
        w->first = w->series.footprint[0];
        w->last = w->series.footprint[per - 1];
        w->min = 4096ull * 1000;
        w->max = w->peak = 4096ull * 1099;
        w->mean = w->min;
        b->total_samples += per;
    }
}

Test(store, a_session_keeps_at_most_its_cap_of_samples_as_series, .timeout = 120)
{
    char s[37];
    fixture_uuid(s, 7);
    memgauge__batch_t b;
    memgauge__put_result_t res;
    big_batch(&b, 1, s, 10, MEMGAUGE__MAX_SESSION_SAMPLES / 10, 0);
    cr_assert_eq(st->ops->put_batch(st, &b, 1718000020000ull, &res), 0, "%s",
                 memgauge__store_error(st));
    cr_expect_eq(res.samples_trimmed, 0, "exactly the cap is kept");
    memgauge__batch_clear(&b);
    big_batch(&b, 2, s, 2, 10, MEMGAUGE__MAX_SESSION_SAMPLES);
    cr_assert_eq(st->ops->put_batch(st, &b, 1718000020000ull, &res), 0, "%s",
                 memgauge__store_error(st));
    cr_expect_eq(res.samples_trimmed, 20, "beyond the cap: aggregates only, counted");
    memgauge__batch_clear(&b);
    memgauge__session_row_t r = one_session(s);
    cr_expect_eq(r.samples, MEMGAUGE__MAX_SESSION_SAMPLES + 20);
    cr_expect_eq(r.samples_trimmed, 20);
    cr_expect_eq(r.windows, 12);
    cr_expect_eq(r.last_ms, MEMGAUGE__MAX_SESSION_SAMPLES + 19, "the aggregates still count");
    memgauge__window_query_t q = {.session_id = s,
                                  .from_ms = MEMGAUGE__MAX_SESSION_SAMPLES,
                                  .to_ms = UINT64_MAX,
                                  .blob_budget = MEMGAUGE__MAX_SESSION_SAMPLES};
    memgauge__window_row_t *w = NULL;
    size_t n = 0;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_assert_eq(n, 2);
    cr_expect(!w[0].has_series && !w[1].has_series);
    cr_expect_eq(w[1].peak, 4096ull * 1099);
    cr_expect_eq(q.series_total, MEMGAUGE__MAX_SESSION_SAMPLES);
    memgauge__window_rows_free(w, n);
}

static int64_t rollup_sessions(void)
{
    memgauge__rollup_filter_t f = {
        .app_id = "com.example.photos", .from_day = INT64_MIN, .to_day = INT64_MAX};
    memgauge__rollup_t *rows;
    size_t n;
    cr_assert_eq(st->ops->rollups(st, &f, &rows, &n), 0, "%s", memgauge__store_error(st));
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rows[i].sessions;
    memgauge__rollup_rows_free(rows, n);
    return total;
}

Test(store, expiry_deletes_old_sessions_in_bounded_steps_and_keeps_rollups)
{
    char b[37], s[37], prev[37];
    const uint64_t day = 86400000ull, old = 1718000000000ull, recent = old + 40 * day;
    for (uint64_t i = 0; i < 7; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, i + 1),
                             .session_id = fixture_uuid(s, i + 100),
                             .start_unix_ms = i < 5 ? old + i : recent + i,
                             .windows = 2,
                             .threshold = 1,
                             .verdict = i ? "oom_suspected" : NULL,
                             .prev_session = fixture_uuid(prev, i + 99)};
        put(&f);
    }
    memgauge__store_counts_t c = counts();
    cr_assert_eq(c.sessions, 7);
    cr_assert_eq(c.terminations, 6);
    size_t deleted, steps = 0, total = 0;
    do {
        cr_assert_eq(st->ops->expire(st, old + 10 * day, 2, &deleted), 0, "%s",
                     memgauge__store_error(st));
        cr_assert_leq(deleted, 2, "a step deletes at most what it was given");
        total += deleted;
        steps++;
    } while (deleted == 2);
    cr_expect_eq(total, 5);
    cr_expect_eq(steps, 3);
    c = counts();
    cr_expect_eq(c.sessions, 2);
    cr_expect_eq(c.batches, 2);
    cr_expect_eq(c.windows, 4, "the recent sessions' windows only");
    cr_expect_eq(c.events, 4, "a threshold and a verdict of each recent session");
    cr_expect_eq(c.terminations, 1, "the verdict on the recent 105 (by 106)");
    cr_expect_eq(rollup_sessions(), 7, "rollups keep the expired sessions");
    cr_assert_eq(st->ops->expire(st, old + 10 * day, 2, &deleted), 0);
    cr_expect_eq(deleted, 0);
}

/* PostgreSQL: the tables of the store's database that partition `parent`
 * ("windows", "events"), in name order, joined by spaces. */
static void partitions_of(const char *parent, char *out, size_t cap)
{
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    const char *v[1] = {parent};
    PGresult *r = PQexecParams(c,
                               "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) "
                               "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                               "WHERE i.inhparent = $1::regclass",
                               1, NULL, v, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}

static int has_partition(const char *parent, int64_t day)
{
    char all[4096], name[64];
    partitions_of(parent, all, sizeof all);
    snprintf(name, sizeof name, "%s_d%lld", parent, (long long)day);
    for (char *t = strtok(all, " "); t; t = strtok(NULL, " "))
        if (!strcmp(t, name))
            return 1;
    return 0;
}

/* Retention with sessions on several past days: on PostgreSQL the windows
 * and events of the days wholly past the cutoff go with their partitions;
 * the day the cutoff falls in keeps its partition and loses its older
 * sessions row by row, on both backends. Rollups keep every day. */
Test(store, retention_drops_whole_days_and_keeps_newer_data_and_rollups)
{
    const uint64_t day_ms = 86400000ull;
    const int64_t d0 = 1718000000000ll / (int64_t)day_ms; /* 2024-06-10 */
    const uint64_t starts[6] = {
        (uint64_t)d0 * day_ms + 1000,              /* day 0: dropped with its partition */
        (uint64_t)d0 * day_ms + 5000,              /* day 0 */
        (uint64_t)(d0 + 1) * day_ms + 1000,        /* day 1: dropped with its partition */
        (uint64_t)(d0 + 2) * day_ms + 3600000,     /* day 2, before the cutoff: deleted */
        (uint64_t)(d0 + 2) * day_ms + 3 * 3600000, /* day 2, after the cutoff: kept */
        (uint64_t)(d0 + 40) * day_ms + 1000,       /* 40 days later: kept */
    };
    char b[37], s[37], p[37];
    for (uint64_t i = 0; i < 6; i++) {
        fixture_batch_t f = {.batch_id = fixture_uuid(b, i + 1),
                             .session_id = fixture_uuid(s, i + 100),
                             .start_unix_ms = starts[i],
                             .windows = 2,
                             .threshold = 1,
                             .verdict = "oom_suspected",
                             .prev_session = fixture_uuid(p, i + 200)};
        put(&f);
    }
    if (fixture_backend_is_pg()) {
        for (int64_t d = 0; d <= 2; d++) {
            cr_assert(has_partition("windows", d0 + d), "windows of day %lld", (long long)d);
            cr_assert(has_partition("events", d0 + d), "events of day %lld", (long long)d);
        }
        cr_assert(has_partition("windows", d0 + 40));
    }
    memgauge__store_counts_t c = counts();
    cr_assert_eq(c.sessions, 12, "six sessions and the six they judged");
    cr_assert_eq(c.windows, 12);

    const uint64_t cutoff = (uint64_t)(d0 + 2) * day_ms + 2 * 3600000;
    size_t deleted, total = 0;
    do {
        cr_assert_eq(st->ops->expire(st, cutoff, 4, &deleted), 0, "%s", memgauge__store_error(st));
        total += deleted;
    } while (deleted == 4);
    /* the judged sessions have rows made from the verdicts, started when the
     * fixture's verdicts say (before d0): they go too */
    cr_expect_eq(total, 10);
    c = counts();
    cr_expect_eq(c.sessions, 2);
    cr_expect_eq(c.windows, 4, "the two kept sessions' windows only");
    cr_expect_eq(c.events, 4, "a threshold and a verdict of each kept session");
    cr_expect_eq(c.batches, 2);
    if (fixture_backend_is_pg()) {
        for (int64_t d = 0; d <= 1; d++) {
            cr_expect(!has_partition("windows", d0 + d), "windows of day %lld", (long long)d);
            cr_expect(!has_partition("events", d0 + d), "events of day %lld", (long long)d);
        }
        cr_expect(has_partition("windows", d0 + 2), "the cutoff's day stays");
        cr_expect(has_partition("events", d0 + 2));
        cr_expect(has_partition("windows", d0 + 40));
    }
    memgauge__window_query_t q = {
        .session_id = fixture_uuid(s, 104), .to_ms = UINT64_MAX, .blob_budget = UINT64_MAX};
    memgauge__window_row_t *w;
    size_t n;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_expect_eq(n, 2, "the kept session of the cutoff's day has its windows");
    memgauge__window_rows_free(w, n);
    memgauge__rollup_filter_t f = {
        .app_id = "com.example.photos", .from_day = d0, .to_day = d0 + 1};
    memgauge__rollup_t *rows;
    cr_assert_eq(st->ops->rollups(st, &f, &rows, &n), 0, "%s", memgauge__store_error(st));
    int64_t old = 0;
    for (size_t i = 0; i < n; i++)
        old += rows[i].sessions;
    memgauge__rollup_rows_free(rows, n);
    cr_expect_eq(old, 3, "the rollups of the dropped days stay");
    cr_expect_eq(rollup_sessions(), 12);
}

/* PostgreSQL: a start time far in the future or the past adds no partition
 * of its own: its rows go to the partition at the bound (tomorrow, ten years
 * ago), so that wrong clocks cannot multiply partitions. */
Test(store, a_wrong_clock_adds_no_partition_beyond_the_bounds)
{
    if (!fixture_backend_is_pg())
        cr_skip_test("PostgreSQL only");
    const int64_t today = (int64_t)time(NULL) / 86400;
    char b[37], s[37];
    fixture_batch_t ahead = {.batch_id = fixture_uuid(b, 1),
                             .session_id = fixture_uuid(s, 100),
                             .start_unix_ms = (uint64_t)(today + 100) * 86400000ull};
    put(&ahead);
    fixture_batch_t behind = {.batch_id = fixture_uuid(b, 2),
                              .session_id = fixture_uuid(s, 101),
                              .start_unix_ms = 86400000ull}; /* 1970-01-02 */
    put(&behind);
    cr_expect(!has_partition("windows", today + 100));
    cr_expect(!has_partition("windows", 1));
    cr_expect(has_partition("windows", today + 1));
    cr_expect(has_partition("windows", today - 3660));
    cr_expect_eq(counts().windows, 2);
    memgauge__window_query_t q = {
        .session_id = fixture_uuid(s, 100), .to_ms = UINT64_MAX, .blob_budget = UINT64_MAX};
    memgauge__window_row_t *w;
    size_t n;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_expect_eq(n, 1, "stored and read back");
    memgauge__window_rows_free(w, n);
}

/* PostgreSQL: a transaction still reading an old day's windows keeps that
 * day's partition (the drop gives up after its short lock wait) but not the
 * rows of the step, and the partition goes at a later step. */
Test(store, a_partition_in_use_is_dropped_at_a_later_step)
{
    if (!fixture_backend_is_pg())
        cr_skip_test("PostgreSQL only");
    const int64_t d0 = 1718000000000ll / 86400000;
    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 100)};
    put(&f);
    PGconn *reader = PQconnectdb(url);
    cr_assert_eq(PQstatus(reader), CONNECTION_OK, "%s", PQerrorMessage(reader));
    PQclear(PQexec(reader, "BEGIN"));
    PGresult *r = PQexec(reader, "SELECT count(*) FROM windows");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(reader));
    PQclear(r);
    size_t deleted;
    const uint64_t cutoff = (uint64_t)(d0 + 1) * 86400000ull;
    cr_assert_eq(st->ops->expire(st, cutoff, 10, &deleted), 0, "%s", memgauge__store_error(st));
    cr_expect_eq(deleted, 1, "the session goes although its partition stays");
    cr_expect(has_partition("windows", d0), "held by the reader");
    PQclear(PQexec(reader, "COMMIT"));
    PQfinish(reader);
    cr_assert_eq(st->ops->expire(st, cutoff, 10, &deleted), 0, "%s", memgauge__store_error(st));
    cr_expect(!has_partition("windows", d0));
    cr_expect(!has_partition("events", d0));
}

/* PostgreSQL: a database of 0.4.0 (schema 3) with windows and events opens;
 * migration 4 keeps its rows as the legacy partition (nothing rewritten),
 * new batches go to day partitions, and retention drops the legacy
 * partition once it has emptied it. */
Test(store, a_schema_3_database_is_partitioned_without_rewriting_its_rows)
{
    if (!fixture_backend_is_pg())
        cr_skip_test("PostgreSQL only");
    char admin[512], db[64], sql[128], old_url[512];
    snprintf(admin, sizeof admin, "%.400s/postgres", getenv("MEMGAUGE_TEST_PG"));
    snprintf(db, sizeof db, "mgtest_v3_%d", (int)getpid());
    PGconn *c = PQconnectdb(admin);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    PQclear(PQexec(c, sql));
    PQfinish(c);
    snprintf(old_url, sizeof old_url, "%.400s/%s", getenv("MEMGAUGE_TEST_PG"), db);
    c = PQconnectdb(old_url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    const char *setup[] = {
        "SET client_min_messages = warning",
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, what TEXT NOT NULL, "
        "applied_unix_ms BIGINT NOT NULL)",
        memgauge__pg_migrations[0].sql,
        memgauge__pg_migrations[1].sql,
        memgauge__pg_migrations[2].sql,
        "INSERT INTO schema_migrations VALUES (1, '', 0), (2, '', 0), (3, '', 0)",
        "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, "
        "os_name, os_version, metric, start_unix_ms, interval_ms, last_ms, samples, windows, "
        "batches, peak_bytes, max_bytes, limit_bytes, peak_fraction, dropped) VALUES "
        "('s1', 'a', '1', '', 'd1', 'iOS', '17', 'phys_footprint', 86400000, 1000, 2000, 2, 2, "
        "1, 100, 100, 0, NULL, 0)",
        "INSERT INTO windows VALUES ('s1', 0, 999, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, "
        "'phys_footprint', NULL, 'b1'), ('s1', 1000, 1999, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, "
        "'phys_footprint', NULL, 'b1')",
        "INSERT INTO events VALUES ('s1', 5, 'pressure', NULL, NULL, NULL, NULL, NULL, NULL, "
        "'critical', 'b1')"};
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        PGresult *r = PQexec(c, setup[i]);
        cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s: %s", setup[i], PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);

    st->ops->close(st); /* the suite's own store: this test uses the old database */
    char err[256];
    snprintf(url, sizeof url, "%s", old_url);
    st = memgauge__store_open(url, NULL, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    int v = -1;
    cr_assert_eq(st->ops->schema_version(st, &v), 0);
    cr_expect_eq(v, 4);
    char parts[4096];
    partitions_of("windows", parts, sizeof parts);
    cr_expect(strstr(parts, "windows_legacy") != NULL, "%s", parts);
    memgauge__window_query_t q = {.session_id = "s1", .to_ms = UINT64_MAX, .blob_budget = 0};
    memgauge__window_row_t *w;
    size_t n;
    cr_assert_eq(st->ops->windows(st, &q, &w, &n), 0, "%s", memgauge__store_error(st));
    cr_expect_eq(n, 2, "the rows stored before the migration");
    memgauge__window_rows_free(w, n);
    memgauge__event_row_t *e;
    cr_assert_eq(st->ops->events(st, "s1", &e, &n), 0, "%s", memgauge__store_error(st));
    cr_expect_eq(n, 1);
    free(e);

    char b[37], s[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 100)};
    put(&f);
    cr_expect(has_partition("windows", 1718000000000ll / 86400000));

    size_t deleted;
    cr_assert_eq(st->ops->expire(st, 2 * 86400000ull, 10, &deleted), 0, "%s",
                 memgauge__store_error(st));
    cr_expect_eq(deleted, 1, "the session of 1970-01-02");
    cr_assert_eq(st->ops->expire(st, 2 * 86400000ull, 10, &deleted), 0, "%s",
                 memgauge__store_error(st));
    partitions_of("windows", parts, sizeof parts);
    cr_expect(strstr(parts, "windows_legacy") == NULL, "emptied, then dropped: %s", parts);
    partitions_of("events", parts, sizeof parts);
    cr_expect(strstr(parts, "events_legacy") == NULL, "%s", parts);
    memgauge__store_counts_t cn = counts();
    cr_expect_eq(cn.sessions, 1);
    cr_expect_eq(cn.windows, 1, "the new batch's window");
}

#define WRITERS 8
#define PER_WRITER 40
#define DISTINCT (WRITERS * PER_WRITER / 2)

typedef struct writer_s {
    pthread_t thread;
    int id;
    const char *taken_session; /* a session of com.example.photos */
    int stored, duplicates, conflicts, unseen, failed, conflict_misnamed;
} writer_t;

/* Stores PER_WRITER batches, each also stored by the next writer, then one
 * of another app's session; a batch answered stored must be readable at
 * once (another connection). */
static void *writer(void *arg)
{
    writer_t *w = arg;
    char b[37], sid[37];
    for (int i = 0; i <= PER_WRITER; i++) {
        int conflict = i == PER_WRITER;
        uint64_t k = (uint64_t)(w->id * PER_WRITER / 2 + i) % DISTINCT;
        fixture_batch_t f = {.batch_id = fixture_uuid(b, conflict ? 5000 + (uint64_t)w->id : k),
                             .session_id =
                                 conflict ? w->taken_session : fixture_uuid(sid, 1000 + k),
                             .app_id = conflict ? "com.example.other" : NULL};
        char *json = fixture_batch_json(&f);
        memgauge__batch_t batch;
        memgauge__wire_error_t err;
        if (memgauge__wire_parse(json, strlen(json), &batch, &err)) {
            w->failed++;
            free(json);
            continue;
        }
        memgauge__put_result_t res;
        int rc = st->ops->put_batch(st, &batch, 1718000020000ull, &res);
        memgauge__batch_clear(&batch);
        free(json);
        if (conflict) {
            w->conflicts += rc == MEMGAUGE__STORE_CONFLICT;
            w->conflict_misnamed += !strstr(res.error, w->taken_session);
            continue;
        }
        if (rc) {
            w->failed++;
            continue;
        }
        if (res.duplicate) {
            w->duplicates++;
            continue;
        }
        w->stored++;
        memgauge__session_filter_t q = {.session_id = f.session_id};
        memgauge__session_row_t *rows = NULL;
        size_t n = 0;
        if (st->ops->sessions(st, &q, &rows, &n) || n != 1)
            w->unseen++;
        free(rows);
    }
    return NULL;
}

/* Batches arriving together from several threads: each is stored
 * once, a replay is answered duplicate, a refused one is refused alone with
 * its own reason, and a batch is readable when its writer returns. */
Test(store, concurrent_batches_are_stored_once_and_visible_when_answered)
{
    char b[37], taken[37];
    fixture_batch_t first = {.batch_id = fixture_uuid(b, 9999),
                             .session_id = fixture_uuid(taken, 9999)};
    put(&first);
    writer_t w[WRITERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < WRITERS; i++) {
        w[i].id = i;
        w[i].taken_session = taken;
        cr_assert_eq(pthread_create(&w[i].thread, NULL, writer, &w[i]), 0);
    }
    int stored = 0, duplicates = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(w[i].thread, NULL);
        cr_expect_eq(w[i].failed, 0, "writer %d: %s", i, memgauge__store_error(st));
        cr_expect_eq(w[i].unseen, 0, "writer %d: a batch answered before it was readable", i);
        cr_expect_eq(w[i].conflicts, 1, "writer %d", i);
        cr_expect_eq(w[i].conflict_misnamed, 0, "writer %d: the reason names its session", i);
        stored += w[i].stored;
        duplicates += w[i].duplicates;
    }
    cr_expect_eq(stored, DISTINCT, "each batch stored once");
    cr_expect_eq(duplicates, WRITERS * PER_WRITER - DISTINCT);
    memgauge__store_counts_t c = counts();
    cr_expect_eq(c.batches, DISTINCT + 1);
    cr_expect_eq(c.sessions, DISTINCT + 1);
    cr_expect_eq(c.windows, DISTINCT + 1);
    cr_expect_eq(rollup_sessions(), DISTINCT + 1);
}

/* A database of the previous release (schema 2) with sessions: opening it
 * runs migration 3, which builds their rollups. SQLite only: the same
 * backfill code runs on PostgreSQL. */
Test(store, migration_3_builds_the_rollups_of_stored_sessions)
{
    if (fixture_backend_is_pg())
        cr_skip_test("SQLite only");
    char path[] = "/tmp/memgauge-v2-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    const char *setup[] = {
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, what TEXT NOT NULL, "
        "applied_unix_ms INTEGER NOT NULL)",
        memgauge__sqlite_migrations[0].sql, memgauge__sqlite_migrations[1].sql,
        "INSERT INTO schema_migrations VALUES (1, '', 0), (2, '', 0)",
        /* three sessions of one cell (two with data, one judged OOM high), one of another
         * device on another day */
        "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, "
        "os_name, os_version, metric, start_unix_ms, interval_ms, last_ms, samples, windows, "
        "batches, peak_bytes, max_bytes, limit_bytes, peak_fraction, dropped) VALUES "
        "('s1', 'a', '1', '', 'd1', 'iOS', '17', 'phys_footprint', 86400000, 1000, 0, 10, 1, 1, "
        "100000000, 0, 0, 0.5, 0), "
        "('s2', 'a', '1', '', 'd1', 'iOS', '17', 'phys_footprint', 86400001, 1000, 0, 10, 1, 1, "
        "300000000, 0, 0, NULL, 0), "
        "('s3', 'a', '1', '', 'd1', 'iOS', '17', 'phys_footprint', 86400002, 1000, 0, 0, 0, 0, "
        "0, 0, 0, NULL, 0), "
        "('s4', 'a', '1', '', 'd2', 'iOS', '17', 'phys_footprint', 172800000, 1000, 0, 10, 1, "
        "1, 200000000, 0, 0, NULL, 0)",
        "INSERT INTO terminations VALUES ('s1', 's2', 0, 'a', '1', 'd1', '17', "
        "'oom_suspected', 'high', 0, 0, 0, 0, '', NULL)"};
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++)
        cr_assert_eq(sqlite3_exec(db, setup[i], NULL, NULL, &msg), SQLITE_OK, "%s", msg);
    sqlite3_close(db);

    char err[256];
    memgauge__store_t *old = memgauge__store_open(path, NULL, err, sizeof err);
    cr_assert_not_null(old, "%s", err);
    memgauge__rollup_filter_t f = {.app_id = "a", .from_day = 0, .to_day = 10};
    memgauge__rollup_t *rows;
    size_t n;
    cr_assert_eq(old->ops->rollups(old, &f, &rows, &n), 0, "%s", memgauge__store_error(old));
    cr_assert_eq(n, 2);
    memgauge__rollup_t *one = rows[0].key.day == 1 ? &rows[0] : &rows[1];
    cr_expect_str_eq(one->key.device_model, "d1");
    cr_expect_eq(one->sessions, 3);
    cr_expect_eq(one->with_data, 2);
    cr_expect_eq(one->with_limit, 1);
    cr_expect_eq(one->oom, 1);
    cr_expect_eq(one->peaks.total, 2);
    memgauge__rollup_rows_free(rows, n);
    old->ops->close(old);
    unlink(path);
}

/* After retention deleted a session it had counted, a late verdict with a
 * trail makes a row for it again: stored, expired again later, never counted
 * twice. */
Test(store, a_session_past_retention_is_not_counted_again)
{
    char b[37], s[37], p[37];
    fixture_batch_t first = {.batch_id = fixture_uuid(b, 1), .session_id = fixture_uuid(s, 100)};
    put(&first); /* starts 2024-06-10 */
    cr_assert_eq(rollup_sessions(), 1);
    size_t deleted;
    cr_assert_eq(st->ops->expire(st, 1718000000000ull + 1, 10, &deleted), 0);
    cr_assert_eq(deleted, 1);

    char err[256];
    memgauge__store_options_t so = {.retention_days = 30};
    memgauge__store_t *kept = memgauge__store_open(url, &so, err, sizeof err);
    cr_assert_not_null(kept, "%s", err);
    fixture_batch_t verdict = {.batch_id = fixture_uuid(b, 2),
                               .session_id = fixture_uuid(s, 101),
                               .start_unix_ms = (uint64_t)time(NULL) * 1000,
                               .verdict = "oom_suspected",
                               .prev_session = fixture_uuid(p, 100)};
    char *json = fixture_batch_json(&verdict);
    memgauge__batch_t batch;
    memgauge__wire_error_t werr;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &batch, &werr), 0);
    memgauge__put_result_t res;
    cr_assert_eq(kept->ops->put_batch(kept, &batch, 1718000020000ull, &res), 0, "%s",
                 memgauge__store_error(kept));
    memgauge__batch_clear(&batch);
    free(json);
    kept->ops->close(kept);
    cr_expect_eq(counts().sessions, 2, "the judged session's row is made again from its trail");
    cr_expect_eq(rollup_sessions(), 2, "the old one once, the new one once");
}

static int64_t sessions_of_version(const char *version)
{
    memgauge__rollup_filter_t f = {.app_id = "com.example.photos",
                                   .app_version = version,
                                   .from_day = INT64_MIN,
                                   .to_day = INT64_MAX};
    memgauge__rollup_t *rows;
    size_t n;
    cr_assert_eq(st->ops->rollups(st, &f, &rows, &n), 0, "%s", memgauge__store_error(st));
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rows[i].sessions;
    memgauge__rollup_rows_free(rows, n);
    return total;
}

/* The statistics count a session not yet described under version "" and
 * move it to its version when a batch describes it. */
Test(store, an_undescribed_session_counts_under_the_empty_version_until_described)
{
    char b[37], s[37];
    fixture_batch_t f2 = {.batch_id = fixture_uuid(b, 2),
                          .session_id = fixture_uuid(s, 11),
                          .first_t_ms = 10000,
                          .short_meta = 1};
    put(&f2);
    cr_expect_eq(sessions_of_version(""), 1);
    cr_expect_eq(sessions_of_version("2.4.0"), 0);
    fixture_batch_t f1 = {.batch_id = fixture_uuid(b, 1), .session_id = s};
    put(&f1);
    cr_expect_eq(sessions_of_version(""), 0);
    cr_expect_eq(sessions_of_version("2.4.0"), 1);
}
