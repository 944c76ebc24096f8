/* SQLite backend: one connection in WAL mode behind a mutex. Ingest is
 * serialised anyway by SQLite's single writer; queries are rare. With
 * synchronous=NORMAL a committed batch survives a kill of the process (the
 * WAL is written before COMMIT returns) but the last commits may roll back
 * on power loss; --sync full trades throughput for that (docs/collector.md). */
#include "series_codec.h"
#include "schema.h"
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_BATCH, S_SESSION, S_WINDOW, S_EVENT, S_TERMINATION, S_DROPPED, S_COUNT };

static const char *const statements[S_COUNT] = {
    [S_BATCH] = "INSERT INTO batches VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                "ON CONFLICT DO NOTHING",
    [S_SESSION] =
        "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, "
        "?14, ?15, ?16, ?17, ?18) ON CONFLICT (session_id) DO UPDATE SET "
        "last_ms = max(last_ms, excluded.last_ms), samples = samples + excluded.samples, "
        "windows = windows + excluded.windows, batches = batches + 1, "
        "peak_bytes = max(peak_bytes, excluded.peak_bytes), "
        "max_bytes = max(max_bytes, excluded.max_bytes), "
        "limit_bytes = CASE WHEN excluded.limit_bytes > 0 THEN excluded.limit_bytes "
        "ELSE limit_bytes END, "
        "peak_fraction = CASE WHEN peak_fraction IS NULL THEN excluded.peak_fraction "
        "WHEN excluded.peak_fraction IS NULL THEN peak_fraction "
        "ELSE max(peak_fraction, excluded.peak_fraction) END, "
        "dropped = dropped + excluded.dropped",
    [S_WINDOW] = "INSERT INTO windows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                 "?13, ?14, ?15, ?16)",
    [S_EVENT] = "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_TERMINATION] = "INSERT INTO terminations VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                      "?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING",
    [S_DROPPED] = "INSERT INTO dropped VALUES (?1, ?2, ?3) ON CONFLICT (session_id, name) "
                  "DO UPDATE SET count = count + excluded.count",
};

typedef struct sqlite_store_s {
    memgauge__store_t base;
    pthread_mutex_t lock;
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
} sqlite_store_t;

static int db_fail(sqlite_store_t *s, const char *what)
{
    snprintf(s->base.error, sizeof s->base.error, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
    return MEMGAUGE__STORE_ERROR;
}

static int exec(sqlite_store_t *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "sqlite: %.60s: %s", sql,
                 msg ? msg : "error");
        sqlite3_free(msg);
        return MEMGAUGE__STORE_ERROR;
    }
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static int step_done(sqlite_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, what);
}

static int put_window(sqlite_store_t *s, const memgauge__batch_t *b, const memgauge__window_t *w)
{
    sqlite3_stmt *st = s->stmt[S_WINDOW];
    unsigned char *blob = NULL;
    size_t len = 0;
    if (w->has_series && memgauge__series_encode(&w->series, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    bind_text(st, 1, b->session_id);
    const uint64_t v[] = {w->start_ms, w->end_ms,      w->samples, w->first,
                          w->last,     w->min,         w->max,     w->mean,
                          w->peak,     w->kernel_peak, w->limit,   w->headroom};
    for (int i = 0; i < 12; i++)
        bind_u64(st, 2 + i, v[i]);
    bind_text(st, 14, memgauge__metric_name(w->metric));
    if (blob)
        sqlite3_bind_blob(st, 15, blob, (int)len, free);
    bind_text(st, 16, b->batch_id);
    return step_done(s, st, "insert window");
}

static int put_event(sqlite_store_t *s, const memgauge__batch_t *b, const memgauge__event_t *e,
                     uint64_t received)
{
    sqlite3_stmt *st = s->stmt[S_EVENT];
    bind_text(st, 1, b->session_id);
    bind_u64(st, 2, e->t_ms);
    const char *pressure = memgauge__pressure_name(e->pressure);
    if (e->kind == MEMGAUGE__EVENT_THRESHOLD) {
        bind_text(st, 3, "threshold");
        sqlite3_bind_int(st, 4, e->threshold_id);
        bind_text(st, 5, e->direction_up ? "up" : "down");
        sqlite3_bind_int(st, 6, e->urgent);
        bind_u64(st, 7, e->level);
        bind_u64(st, 8, e->footprint);
        bind_u64(st, 9, e->limit);
    } else {
        bind_text(st, 3, e->kind == MEMGAUGE__EVENT_PRESSURE ? "pressure" : "previous_session");
    }
    if (pressure)
        bind_text(st, 10, pressure);
    bind_text(st, 11, b->batch_id);
    int rc = step_done(s, st, "insert event");
    if (rc || e->kind != MEMGAUGE__EVENT_PREVIOUS_SESSION)
        return rc;

    st = s->stmt[S_TERMINATION];
    unsigned char *blob = NULL;
    size_t len = 0;
    if (e->has_trail && memgauge__series_encode(&e->trail, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    bind_text(st, 1, e->session_id);
    bind_text(st, 2, b->session_id);
    bind_u64(st, 3, received);
    bind_text(st, 4, b->app_id);
    bind_text(st, 5, b->app_version);
    bind_text(st, 6, b->device_model);
    bind_text(st, 7, b->os_version);
    bind_text(st, 8, e->verdict);
    bind_text(st, 9, e->grade);
    bind_u64(st, 10, e->start_unix_ms);
    bind_u64(st, 11, e->ended_ms);
    bind_u64(st, 12, e->last_footprint);
    bind_u64(st, 13, e->limit);
    bind_text(st, 14, pressure ? pressure : "");
    if (blob)
        sqlite3_bind_blob(st, 15, blob, (int)len, free);
    return step_done(s, st, "insert termination");
}

static int put_all(sqlite_store_t *s, const memgauge__batch_t *b, uint64_t received, int *duplicate)
{
    sqlite3_stmt *st = s->stmt[S_BATCH];
    bind_text(st, 1, b->batch_id);
    bind_text(st, 2, b->session_id);
    bind_u64(st, 3, received);
    bind_u64(st, 4, b->sent_unix_ms);
    bind_text(st, 5, b->sdk_name);
    bind_text(st, 6, b->sdk_version);
    bind_u64(st, 7, b->window_count);
    bind_u64(st, 8, b->total_samples);
    bind_u64(st, 9, b->event_count);
    int rc = step_done(s, st, "insert batch");
    if (rc)
        return rc;
    if (sqlite3_changes(s->db) == 0) {
        *duplicate = 1;
        return 0;
    }
    memgauge__session_delta_t d;
    memgauge__session_delta(b, &d);
    st = s->stmt[S_SESSION];
    const char *text[] = {
        b->session_id,   b->app_id,  b->app_version, b->app_build,
        b->device_model, b->os_name, b->os_version,  memgauge__metric_name(b->metric)};
    for (int i = 0; i < 8; i++)
        bind_text(st, 1 + i, text[i]);
    bind_u64(st, 9, b->session_start_unix_ms);
    bind_u64(st, 10, b->interval_ms);
    bind_u64(st, 11, d.last_ms);
    bind_u64(st, 12, d.samples);
    bind_u64(st, 13, b->window_count);
    bind_u64(st, 14, d.peak_bytes);
    bind_u64(st, 15, d.max_bytes);
    bind_u64(st, 16, d.limit_bytes);
    if (d.peak_fraction >= 0)
        sqlite3_bind_double(st, 17, d.peak_fraction);
    bind_u64(st, 18, d.dropped);
    if ((rc = step_done(s, st, "upsert session")))
        return rc;
    for (size_t i = 0; i < b->window_count; i++)
        if ((rc = put_window(s, b, &b->windows[i])))
            return rc;
    for (size_t i = 0; i < b->event_count; i++)
        if ((rc = put_event(s, b, &b->events[i], received)))
            return rc;
    st = s->stmt[S_DROPPED];
    for (size_t i = 0; i < b->dropped_count; i++) {
        bind_text(st, 1, b->session_id);
        bind_text(st, 2, b->dropped[i].name);
        bind_u64(st, 3, b->dropped[i].count);
        if ((rc = step_done(s, st, "upsert dropped")))
            return rc;
    }
    return 0;
}

static int sq_put_batch(memgauge__store_t *base, const memgauge__batch_t *b, uint64_t received,
                        int *duplicate)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    *duplicate = 0;
    pthread_mutex_lock(&s->lock);
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc) {
        rc = put_all(s, b, received, duplicate);
        if (rc || *duplicate)
            exec(s, "ROLLBACK");
        else
            rc = exec(s, "COMMIT");
        if (rc)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* no-op when none is open */
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- queries -------------------------------------------------------- */

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
    return (uint64_t)sqlite3_column_int64(st, i);
}

/* Runs a prepared query, calling row() for each result into a growing array. */
typedef int (*row_fn)(sqlite3_stmt *st, void *row);

/* Frees what a decoded row owns (its series) when a later row fails. */
static void clear_window(void *row)
{
    memgauge__series_clear(&((memgauge__window_row_t *)row)->series);
}

static void clear_termination(void *row)
{
    memgauge__series_clear(&((memgauge__termination_row_t *)row)->trail);
}

static int collect(sqlite_store_t *s, sqlite3_stmt *st, size_t size, size_t max, row_fn row,
                   void (*clear)(void *row), void **out, size_t *n)
{
    size_t cap = 16, count = 0;
    char *rows = calloc(cap, size);
    int rc = rows ? 0 : MEMGAUGE__STORE_NO_MEMORY;
    int step;
    while (!rc && count < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            char *more = realloc(rows, cap * 2 * size);
            if (!more) {
                rc = MEMGAUGE__STORE_NO_MEMORY;
                break;
            }
            rows = more;
            memset(rows + cap * size, 0, cap * size);
            cap *= 2;
        }
        rc = row(st, rows + count * size);
        count++;
    }
    if (!rc && count < max && step != SQLITE_DONE)
        rc = db_fail(s, "query");
    sqlite3_finalize(st);
    if (rc) {
        for (size_t i = 0; clear && i < count; i++)
            clear(rows + i * size);
        free(rows);
        return rc;
    }
    *out = rows;
    *n = count;
    return 0;
}

static int prepare(sqlite_store_t *s, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(s, "prepare");
    return 0;
}

static int app_row(sqlite3_stmt *st, void *p)
{
    memgauge__app_row_t *r = p;
    col_text(st, 0, r->app_id, sizeof r->app_id);
    col_text(st, 1, r->app_version, sizeof r->app_version);
    r->sessions = col_u64(st, 2);
    r->last_start_unix_ms = col_u64(st, 3);
    return 0;
}

static int sq_apps(memgauge__store_t *base, memgauge__app_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    int rc = prepare(s,
                     "SELECT app_id, app_version, count(*), max(start_unix_ms) FROM sessions "
                     "GROUP BY app_id, app_version ORDER BY app_id, max(start_unix_ms) DESC",
                     &st);
    if (!rc)
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, app_row, NULL, (void **)rows,
                     n);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

#define SESSION_COLUMNS                                                                            \
    "s.session_id, s.app_id, s.app_version, s.app_build, s.device_model, s.os_name, "              \
    "s.os_version, s.metric, s.start_unix_ms, s.last_ms, s.interval_ms, s.samples, s.windows, "    \
    "s.batches, s.peak_bytes, s.max_bytes, s.limit_bytes, s.peak_fraction, s.dropped, "            \
    "coalesce(t.verdict, ''), coalesce(t.grade, '')"

/* ?1 app ?2 version ?3 device ?4 os ?5 verdict ?6 session ?7 limit ?8 offset */
#define FILTER                                                                                     \
    " WHERE (?1 IS NULL OR s.app_id = ?1) AND (?2 IS NULL OR s.app_version = ?2)"                  \
    " AND (?3 IS NULL OR s.device_model = ?3) AND (?4 IS NULL OR s.os_version = ?4)"               \
    " AND (?5 IS NULL OR (?5 = 'pending' AND t.verdict IS NULL)"                                   \
    "  OR (?5 = 'oom' AND t.verdict IN ('oom_suspected', 'background_oom_suspected'))"             \
    "  OR t.verdict = ?5)"                                                                         \
    " AND (?6 IS NULL OR s.session_id = ?6)"

static int session_row(sqlite3_stmt *st, void *p)
{
    memgauge__session_row_t *r = p;
    col_text(st, 0, r->session_id, sizeof r->session_id);
    col_text(st, 1, r->app_id, sizeof r->app_id);
    col_text(st, 2, r->app_version, sizeof r->app_version);
    col_text(st, 3, r->app_build, sizeof r->app_build);
    col_text(st, 4, r->device_model, sizeof r->device_model);
    col_text(st, 5, r->os_name, sizeof r->os_name);
    col_text(st, 6, r->os_version, sizeof r->os_version);
    col_text(st, 7, r->metric, sizeof r->metric);
    r->start_unix_ms = col_u64(st, 8);
    r->last_ms = col_u64(st, 9);
    r->interval_ms = col_u64(st, 10);
    r->samples = col_u64(st, 11);
    r->windows = col_u64(st, 12);
    r->batches = col_u64(st, 13);
    r->peak_bytes = col_u64(st, 14);
    r->max_bytes = col_u64(st, 15);
    r->limit_bytes = col_u64(st, 16);
    r->peak_fraction =
        sqlite3_column_type(st, 17) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, 17);
    r->dropped = col_u64(st, 18);
    col_text(st, 19, r->verdict, sizeof r->verdict);
    col_text(st, 20, r->grade, sizeof r->grade);
    return 0;
}

static void bind_filter(sqlite3_stmt *st, const memgauge__session_filter_t *f, size_t max)
{
    const char *v[] = {f->app_id,     f->app_version, f->device_model,
                       f->os_version, f->verdict,     f->session_id};
    for (int i = 0; i < 6; i++)
        if (v[i])
            bind_text(st, 1 + i, v[i]);
    size_t limit = f->limit && f->limit < max ? f->limit : max;
    bind_u64(st, 7, limit);
    bind_u64(st, 8, f->offset);
}

static int sq_sessions(memgauge__store_t *base, const memgauge__session_filter_t *f,
                       memgauge__session_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    int rc = prepare(s,
                     "SELECT " SESSION_COLUMNS " FROM sessions s LEFT JOIN terminations t "
                     "ON t.session_id = s.session_id" FILTER
                     " ORDER BY s.start_unix_ms DESC, s.session_id LIMIT ?7 OFFSET ?8",
                     &st);
    if (!rc) {
        bind_filter(st, f, MEMGAUGE__STORE_MAX_ROWS);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, session_row, NULL,
                     (void **)rows, n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int decode_blob(sqlite3_stmt *st, int i, size_t max, memgauge__series_t *out, int *has)
{
    *has = 0;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return 0;
    const void *p = sqlite3_column_blob(st, i);
    int len = sqlite3_column_bytes(st, i);
    int rc = memgauge__series_decode(p, (size_t)len, max, out);
    if (rc)
        return rc == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    *has = 1;
    return 0;
}

static int window_row(sqlite3_stmt *st, void *p)
{
    memgauge__window_row_t *r = p;
    uint64_t *v[] = {&r->start_ms, &r->end_ms,      &r->samples, &r->first,
                     &r->last,     &r->min,         &r->max,     &r->mean,
                     &r->peak,     &r->kernel_peak, &r->limit,   &r->headroom};
    for (int i = 0; i < 12; i++)
        *v[i] = col_u64(st, i);
    col_text(st, 12, r->metric, sizeof r->metric);
    return decode_blob(st, 13, MEMGAUGE__MAX_WINDOW_SAMPLES, &r->series, &r->has_series);
}

static int sq_windows(memgauge__store_t *base, const char *session_id,
                      memgauge__window_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    int rc = prepare(s,
                     "SELECT start_ms, end_ms, samples, first_bytes, last_bytes, min_bytes, "
                     "max_bytes, mean_bytes, peak_bytes, kernel_peak_bytes, limit_bytes, "
                     "headroom_bytes, metric, series FROM windows WHERE session_id = ?1 "
                     "ORDER BY start_ms, end_ms",
                     &st);
    if (!rc) {
        bind_text(st, 1, session_id);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, window_row, clear_window,
                     (void **)rows, n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int event_row(sqlite3_stmt *st, void *p)
{
    memgauge__event_row_t *r = p;
    col_text(st, 0, r->kind, sizeof r->kind);
    r->t_ms = col_u64(st, 1);
    r->threshold_id = sqlite3_column_int(st, 2);
    col_text(st, 3, r->direction, sizeof r->direction);
    r->urgent = sqlite3_column_int(st, 4);
    r->level = col_u64(st, 5);
    r->footprint = col_u64(st, 6);
    r->limit = col_u64(st, 7);
    col_text(st, 8, r->pressure, sizeof r->pressure);
    return 0;
}

static int sq_events(memgauge__store_t *base, const char *session_id, memgauge__event_row_t **rows,
                     size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    int rc = prepare(s,
                     "SELECT kind, t_ms, threshold_id, direction, urgent, level_bytes, "
                     "footprint_bytes, limit_bytes, pressure FROM events WHERE session_id = ?1 "
                     "ORDER BY t_ms, rowid",
                     &st);
    if (!rc) {
        bind_text(st, 1, session_id);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, event_row, NULL, (void **)rows,
                     n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int termination_row(sqlite3_stmt *st, void *p)
{
    memgauge__termination_row_t *r = p;
    col_text(st, 0, r->session_id, sizeof r->session_id);
    col_text(st, 1, r->reported_by, sizeof r->reported_by);
    col_text(st, 2, r->app_id, sizeof r->app_id);
    col_text(st, 3, r->app_version, sizeof r->app_version);
    col_text(st, 4, r->device_model, sizeof r->device_model);
    col_text(st, 5, r->os_version, sizeof r->os_version);
    col_text(st, 6, r->verdict, sizeof r->verdict);
    col_text(st, 7, r->grade, sizeof r->grade);
    col_text(st, 8, r->pressure, sizeof r->pressure);
    r->reported_unix_ms = col_u64(st, 9);
    r->start_unix_ms = col_u64(st, 10);
    r->ended_ms = col_u64(st, 11);
    r->last_footprint = col_u64(st, 12);
    r->limit = col_u64(st, 13);
    return decode_blob(st, 14, MEMGAUGE__MAX_TRAIL_SAMPLES, &r->trail, &r->has_trail);
}

static int sq_terminations(memgauge__store_t *base, const memgauge__session_filter_t *f,
                           memgauge__termination_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    /* the judged session's own row when the collector has it, else the reporter's */
    int rc = prepare(
        s,
        "SELECT t.session_id, t.reported_by, t.app_id, coalesce(s.app_version, t.app_version), "
        "coalesce(s.device_model, t.device_model), coalesce(s.os_version, t.os_version), "
        "t.verdict, t.grade, t.pressure, t.reported_unix_ms, t.start_unix_ms, t.ended_ms, "
        "t.last_footprint_bytes, t.limit_bytes, t.trail FROM terminations t "
        "LEFT JOIN sessions s ON s.session_id = t.session_id"
        " WHERE (?1 IS NULL OR t.app_id = ?1)"
        " AND (?2 IS NULL OR coalesce(s.app_version, t.app_version) = ?2)"
        " AND (?3 IS NULL OR coalesce(s.device_model, t.device_model) = ?3)"
        " AND (?4 IS NULL OR coalesce(s.os_version, t.os_version) = ?4)"
        " AND (?5 IS NULL OR (?5 = 'oom' AND t.verdict IN ('oom_suspected', "
        "'background_oom_suspected')) OR t.verdict = ?5)"
        " AND (?6 IS NULL OR t.session_id = ?6)"
        " ORDER BY t.reported_unix_ms DESC, t.session_id LIMIT ?7 OFFSET ?8",
        &st);
    if (!rc) {
        bind_filter(st, f, MEMGAUGE__STORE_PAGE_MAX);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_PAGE_MAX, termination_row,
                     clear_termination, (void **)rows, n);
        if (rc == MEMGAUGE__STORE_CORRUPT)
            snprintf(s->base.error, sizeof s->base.error, "sqlite: a stored trail is corrupt");
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_counts(memgauge__store_t *base, memgauge__store_counts_t *out)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    static const char *const sql[] = {
        "SELECT count(*) FROM batches", "SELECT count(*) FROM sessions",
        "SELECT count(*) FROM windows", "SELECT coalesce(sum(samples), 0) FROM windows",
        "SELECT count(*) FROM events",  "SELECT count(*) FROM terminations"};
    uint64_t *dst[] = {&out->batches, &out->sessions, &out->windows,
                       &out->samples, &out->events,   &out->terminations};
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < 6 && !rc; i++) {
        sqlite3_stmt *st;
        if ((rc = prepare(s, sql[i], &st)))
            break;
        if (sqlite3_step(st) == SQLITE_ROW)
            *dst[i] = col_u64(st, 0);
        else
            rc = db_fail(s, "count");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int read_version(sqlite_store_t *s, int *version)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st);
    if (rc)
        return rc;
    *version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int sq_schema_version(memgauge__store_t *base, int *version)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    pthread_mutex_lock(&s->lock);
    int rc = read_version(s, version);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void sq_close(memgauge__store_t *base)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db) {
        /* fold the WAL back into the database so the file stands alone */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->db);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const memgauge__store_ops_t sqlite_ops = {
    .name = "sqlite",
    .put_batch = sq_put_batch,
    .apps = sq_apps,
    .sessions = sq_sessions,
    .windows = sq_windows,
    .events = sq_events,
    .terminations = sq_terminations,
    .counts = sq_counts,
    .schema_version = sq_schema_version,
    .close = sq_close,
};

static int record_migration(sqlite_store_t *s, const memgauge__migration_t *m)
{
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "INSERT INTO schema_migrations VALUES (?1, ?2, "
                     "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                     &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, m->version);
    bind_text(st, 2, m->what);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, "record migration");
    sqlite3_finalize(st);
    return rc;
}

static int migrate(sqlite_store_t *s)
{
    int rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "what TEXT NOT NULL, applied_unix_ms INTEGER NOT NULL)");
    int current = 0;
    if (rc || (rc = read_version(s, &current)))
        return rc;
    if (current > MEMGAUGE__SCHEMA_VERSION) {
        snprintf(s->base.error, sizeof s->base.error,
                 "sqlite: the database is at schema version %d, newer than this collector (%d)",
                 current, MEMGAUGE__SCHEMA_VERSION);
        return MEMGAUGE__STORE_ERROR;
    }
    for (int i = 0; i < memgauge__sqlite_migration_count; i++) {
        const memgauge__migration_t *m = &memgauge__sqlite_migrations[i];
        if (m->version <= current)
            continue;
        if ((rc = exec(s, "BEGIN IMMEDIATE")))
            return rc;
        if (!(rc = exec(s, m->sql)))
            rc = record_migration(s, m);
        if (rc || (rc = exec(s, "COMMIT"))) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return 0;
}

memgauge__store_t *memgauge__store_sqlite_open(const char *path,
                                               const memgauge__store_options_t *opts, char *err,
                                               size_t errlen)
{
    sqlite_store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "sqlite: out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    int rc = 0;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "sqlite: cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        rc = MEMGAUGE__STORE_ERROR;
    }
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA busy_timeout=5000;"
             "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
             opts && opts->sync_full ? "FULL" : "NORMAL");
    if (!rc)
        rc = exec(s, pragmas);
    if (!rc)
        rc = migrate(s);
    for (int i = 0; !rc && i < S_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK)
            rc = db_fail(s, "prepare");
    if (rc) {
        snprintf(err, errlen, "%s", s->base.error);
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
