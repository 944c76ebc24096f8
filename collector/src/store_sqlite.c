/* SQLite backend in WAL mode: one connection for writes behind a mutex
 * (SQLite has one writer anyway) and one for reads behind its own, so that
 * a query never waits for a batch and a write held up by another process
 * holds up only ingest. A write waits at most WRITE_WAIT_MS for the
 * database (or for the other writers of this process) and then answers
 * MEMGAUGE__STORE_BUSY: ingest answers 503 with Retry-After. With
 * synchronous=NORMAL a committed batch survives a kill of the process (the
 * WAL is written before COMMIT returns) but the last commits may roll back
 * on power loss; --sync full trades throughput for that (docs/collector.md). */
#include "clock.h"
#include "series_codec.h"
#include "schema.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WRITE_WAIT_MS 250   /* for another process's write lock (busy_timeout) */
#define WRITER_WAIT_MS 1000 /* for this process's other writers (the mutex) */
#define READ_WAIT_MS 2000   /* WAL readers wait only for recovery or a truncating checkpoint */

enum {
    S_BATCH,
    S_SESSION,
    S_SESSION_GET,
    S_SESSION_SET,
    S_SESSION_NEW,
    S_TRIMMED,
    S_WINDOW,
    S_EVENT,
    S_TERMINATION,
    S_TERMINATION_SELF,
    S_DROPPED,
    S_CONTRIB,
    S_ROLLUP_GET,
    S_ROLLUP_PUT,
    S_COUNT
};

#define CONTRIB_SELECT                                                                             \
    "SELECT s.app_id, s.app_version, s.device_model, s.os_version, s.start_unix_ms, s.samples, "   \
    "s.peak_bytes, s.peak_fraction, coalesce(t.verdict, ''), coalesce(t.grade, '') "               \
    "FROM sessions s LEFT JOIN terminations t ON t.session_id = s.session_id "
#define ROLLUP_PUT                                                                                 \
    "INSERT INTO rollups VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "    \
    "ON CONFLICT (app_id, app_version, device_model, os_version, day) DO UPDATE SET "              \
    "sessions = excluded.sessions, with_data = excluded.with_data, "                               \
    "with_limit = excluded.with_limit, judged = excluded.judged, oom = excluded.oom, "             \
    "oom_weak = excluded.oom_weak, last_start_unix_ms = excluded.last_start_unix_ms, "             \
    "peaks = excluded.peaks, fractions = excluded.fractions"

#define TERMINATION_INSERT                                                                         \
    "INSERT INTO terminations VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "    \
    "?14, ?15) "

/* A batch's description of its app (app.version, app.build) or device
 * (model, OS) is taken when the stored row has none: a row made from a
 * verdict alone (batches = 0), or from short batches only ('': unknown,
 * docs/wire-format.md "Schema 2"). A short batch's '' never overwrites. */
#define APP_KNOWN_NOW "excluded.app_version <> '' AND (batches = 0 OR app_version = '')"
#define DEVICE_KNOWN_NOW "excluded.device_model <> '' AND (batches = 0 OR device_model = '')"

static const char *const statements[S_COUNT] = {
    [S_BATCH] = "INSERT INTO batches VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                "ON CONFLICT DO NOTHING",
    /* a session is matched on its id *and* app: no row comes back when the id
     * belongs to another app (the batch is refused). A row made from a verdict
     * alone (batches = 0) takes the session's own description. */
    [S_SESSION] =
        "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, os_name, "
        "os_version, os_build, metric, start_unix_ms, interval_ms, last_ms, window_last_ms, "
        "samples, windows, batches, peak_bytes, max_bytes, limit_bytes, peak_fraction, dropped) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1, ?16, ?17, "
        "?18, ?19, ?20) ON CONFLICT (session_id) DO UPDATE SET "
        "app_version = CASE WHEN " APP_KNOWN_NOW " THEN excluded.app_version ELSE app_version END, "
        "app_build = CASE WHEN " APP_KNOWN_NOW " THEN excluded.app_build ELSE app_build END, "
        "device_model = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.device_model "
        "ELSE device_model END, "
        "os_name = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.os_name ELSE os_name END, "
        "os_version = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.os_version ELSE os_version END, "
        "metric = CASE WHEN batches = 0 THEN excluded.metric ELSE metric END, "
        "start_unix_ms = CASE WHEN batches = 0 THEN excluded.start_unix_ms ELSE start_unix_ms END, "
        "interval_ms = CASE WHEN excluded.interval_ms > 0 AND (batches = 0 OR interval_ms = 0) "
        "THEN excluded.interval_ms ELSE interval_ms END, "
        "os_build = CASE WHEN excluded.os_build <> '' THEN excluded.os_build ELSE os_build END, "
        "last_ms = max(last_ms, excluded.last_ms), "
        "window_last_ms = max(window_last_ms, excluded.window_last_ms), "
        "samples = samples + excluded.samples, "
        "windows = windows + excluded.windows, batches = batches + 1, "
        "peak_bytes = max(peak_bytes, excluded.peak_bytes), "
        "max_bytes = max(max_bytes, excluded.max_bytes), "
        "limit_bytes = CASE WHEN excluded.limit_bytes > 0 THEN excluded.limit_bytes "
        "ELSE limit_bytes END, "
        "peak_fraction = CASE WHEN peak_fraction IS NULL THEN excluded.peak_fraction "
        "WHEN excluded.peak_fraction IS NULL THEN peak_fraction "
        "ELSE max(peak_fraction, excluded.peak_fraction) END, "
        "dropped = dropped + excluded.dropped WHERE app_id = excluded.app_id "
        "RETURNING samples, trail_samples, app_version, app_build, device_model, os_name, "
        "os_version, os_build",
    [S_SESSION_GET] = "SELECT app_id, samples, trail_samples, last_ms, window_last_ms, peak_bytes, "
                      "max_bytes, limit_bytes, peak_fraction, trail FROM sessions "
                      "WHERE session_id = ?1",
    [S_SESSION_SET] = "UPDATE sessions SET samples = ?2, trail_samples = ?3, last_ms = ?4, "
                      "peak_bytes = ?5, max_bytes = ?6, limit_bytes = ?7, peak_fraction = ?8, "
                      "trail = ?9 WHERE session_id = ?1",
    /* a killed session none of whose batches arrived: described by its judge */
    [S_SESSION_NEW] =
        "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, os_name, "
        "os_version, os_build, metric, start_unix_ms, interval_ms, last_ms, window_last_ms, "
        "samples, windows, batches, peak_bytes, max_bytes, limit_bytes, peak_fraction, dropped) "
        "VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0)",
    [S_TRIMMED] = "UPDATE sessions SET samples_trimmed = samples_trimmed + ?2 "
                  "WHERE session_id = ?1",
    [S_WINDOW] = "INSERT INTO windows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                 "?13, ?14, ?15, ?16)",
    [S_EVENT] = "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    /* the next launch's verdict overrides the session's own clean stop */
    [S_TERMINATION] = TERMINATION_INSERT
    "ON CONFLICT (session_id) DO UPDATE SET reported_by = excluded.reported_by, "
    "reported_unix_ms = excluded.reported_unix_ms, app_id = excluded.app_id, "
    "app_version = excluded.app_version, device_model = excluded.device_model, "
    "os_version = excluded.os_version, verdict = excluded.verdict, grade = excluded.grade, "
    "start_unix_ms = excluded.start_unix_ms, ended_ms = excluded.ended_ms, "
    "last_footprint_bytes = excluded.last_footprint_bytes, limit_bytes = excluded.limit_bytes, "
    "pressure = excluded.pressure, trail = excluded.trail "
    "WHERE terminations.reported_by = terminations.session_id",
    [S_TERMINATION_SELF] = TERMINATION_INSERT "ON CONFLICT DO NOTHING",
    [S_DROPPED] = "INSERT INTO dropped VALUES (?1, ?2, ?3) ON CONFLICT (session_id, name) "
                  "DO UPDATE SET count = count + excluded.count",
    [S_CONTRIB] = CONTRIB_SELECT "WHERE s.session_id = ?1",
    [S_ROLLUP_GET] = "SELECT sessions, with_data, with_limit, judged, oom, oom_weak, "
                     "last_start_unix_ms, peaks, fractions FROM rollups WHERE app_id = ?1 "
                     "AND app_version = ?2 AND device_model = ?3 AND os_version = ?4 AND day = ?5",
    [S_ROLLUP_PUT] = ROLLUP_PUT,
};

typedef struct sqlite_store_s {
    memgauge__store_t base;
    pthread_mutex_t lock; /* the write connection */
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    pthread_mutex_t rlock; /* the read connection */
    sqlite3 *rdb;
    _Atomic int last_write_busy; /* the latest write found the database held (under lock) */
    /* The batch being written's own reason for a refusal (its result's
     * error), under lock: base.error is shared with the readers. */
    char *refusal;
    size_t refusal_len;
} sqlite_store_t;

static int db_fail_on(sqlite_store_t *s, sqlite3 *db, const char *what)
{
    int code = sqlite3_extended_errcode(db) & 0xff;
    snprintf(s->base.error, sizeof s->base.error, "sqlite: %s: %s", what, sqlite3_errmsg(db));
    return code == SQLITE_BUSY || code == SQLITE_LOCKED ? MEMGAUGE__STORE_BUSY
                                                        : MEMGAUGE__STORE_ERROR;
}

static int db_fail(sqlite_store_t *s, const char *what)
{
    return db_fail_on(s, s->db, what);
}

static int exec_on(sqlite_store_t *s, sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "sqlite: %.60s: %s", sql,
                 msg ? msg : "error");
        sqlite3_free(msg);
        rc &= 0xff;
        return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? MEMGAUGE__STORE_BUSY
                                                        : MEMGAUGE__STORE_ERROR;
    }
    return 0;
}

static int exec(sqlite_store_t *s, const char *sql)
{
    return exec_on(s, s->db, sql);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static uint64_t clamp_ms(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : v;
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void finish(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int step_done(sqlite_store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    finish(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, what);
}

static int put_window(sqlite_store_t *s, const memgauge__batch_t *b, const memgauge__window_t *w,
                      int with_series)
{
    sqlite3_stmt *st = s->stmt[S_WINDOW];
    unsigned char *blob = NULL;
    size_t len = 0;
    if (with_series && w->has_series && memgauge__series_encode(&w->series, &blob, &len))
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

/* The running values of a session row and its trail part (decoded). *found = 0
 * when the row does not exist. */
static int session_get(sqlite_store_t *s, const char *session_id, char *app_id, size_t app_cap,
                       memgauge__session_values_t *v, memgauge__series_t *tail, int *found)
{
    sqlite3_stmt *st = s->stmt[S_SESSION_GET];
    memset(v, 0, sizeof *v);
    memset(tail, 0, sizeof *tail);
    bind_text(st, 1, session_id);
    int step = sqlite3_step(st), rc = 0;
    *found = step == SQLITE_ROW;
    if (step == SQLITE_ROW) {
        const unsigned char *app = sqlite3_column_text(st, 0);
        snprintf(app_id, app_cap, "%s", app ? (const char *)app : "");
        uint64_t *dst[] = {&v->samples,    &v->trail_samples, &v->last_ms,    &v->window_last_ms,
                           &v->peak_bytes, &v->max_bytes,     &v->limit_bytes};
        for (int i = 0; i < 7; i++)
            *dst[i] = (uint64_t)sqlite3_column_int64(st, 1 + i);
        v->peak_fraction =
            sqlite3_column_type(st, 8) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, 8);
        if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
            int d = memgauge__series_decode(sqlite3_column_blob(st, 9),
                                            (size_t)sqlite3_column_bytes(st, 9),
                                            MEMGAUGE__MAX_TRAIL_SAMPLES, tail);
            if (d)
                rc = d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
        }
    } else if (step != SQLITE_DONE) {
        rc = db_fail(s, "read session");
    }
    finish(st);
    return rc;
}

static int session_set(sqlite_store_t *s, const char *session_id,
                       const memgauge__session_values_t *v, const memgauge__series_t *tail)
{
    sqlite3_stmt *st = s->stmt[S_SESSION_SET];
    unsigned char *blob = NULL;
    size_t len = 0;
    if (tail->n && memgauge__series_encode(tail, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    bind_text(st, 1, session_id);
    const uint64_t u[] = {v->samples,    v->trail_samples, v->last_ms,
                          v->peak_bytes, v->max_bytes,     v->limit_bytes};
    for (int i = 0; i < 6; i++)
        bind_u64(st, 2 + i, u[i]);
    if (v->peak_fraction >= 0)
        sqlite3_bind_double(st, 8, v->peak_fraction);
    if (blob)
        sqlite3_bind_blob(st, 9, blob, (int)len, free);
    return step_done(s, st, "update session");
}

/* A verdict with a trail: fold it into the session it judges, creating that
 * session's row from the verdict when none of its batches arrived. */
static int fold(sqlite_store_t *s, const memgauge__batch_t *b, const memgauge__event_t *e)
{
    char app[MEMGAUGE__TEXT_MAX + 1];
    memgauge__session_values_t v;
    memgauge__series_t tail;
    int found, rc = session_get(s, e->session_id, app, sizeof app, &v, &tail, &found);
    if (!rc && !found) {
        sqlite3_stmt *st = s->stmt[S_SESSION_NEW];
        const char *text[] = {
            e->session_id, b->app_id,     b->app_version, b->device_model,
            b->os_name,    b->os_version, b->os_build,    memgauge__metric_name(b->metric)};
        for (int i = 0; i < 8; i++)
            bind_text(st, 1 + i, text[i]);
        bind_u64(st, 9, e->start_unix_ms);
        rc = step_done(s, st, "insert session from verdict");
        v.peak_fraction = -1;
        snprintf(app, sizeof app, "%s", b->app_id);
    }
    if (!rc && strcmp(app, b->app_id) != 0) {
        snprintf(s->refusal, s->refusal_len, "events: session_id %s belongs to another app",
                 e->session_id);
        rc = MEMGAUGE__STORE_CONFLICT;
    }
    memgauge__series_clear(&tail);
    if (!rc)
        rc = memgauge__fold_trail(&v, e, &tail);
    if (!rc)
        rc = session_set(s, e->session_id, &v, &tail);
    memgauge__series_clear(&tail);
    return rc;
}

/* The batch's windows may now cover samples of the session's trail part. */
static int trim(sqlite_store_t *s, const memgauge__batch_t *b)
{
    char app[MEMGAUGE__TEXT_MAX + 1];
    memgauge__session_values_t v;
    memgauge__series_t tail;
    int found, changed = 0;
    int rc = session_get(s, b->session_id, app, sizeof app, &v, &tail, &found);
    if (!rc)
        rc = memgauge__trim_trail(&v, &tail, &changed);
    if (!rc && changed)
        rc = session_set(s, b->session_id, &v, &tail);
    memgauge__series_clear(&tail);
    return rc;
}

static int put_termination(sqlite_store_t *s, int which, const memgauge__batch_t *b,
                           const memgauge__event_t *e, uint64_t received)
{
    sqlite3_stmt *st = s->stmt[which];
    const char *pressure = memgauge__pressure_name(e->pressure);
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
    int rc = step_done(s, st, "insert termination");
    if (!rc && which == S_TERMINATION && e->has_trail && sqlite3_changes(s->db) > 0)
        rc = fold(s, b, e);
    return rc;
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
    return put_termination(s, S_TERMINATION, b, e, received);
}

/* ---- rollups (rollup.h) ------------------------------------------------ */

static const char *column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* The contribution of the row st stands on (CONTRIB_SELECT's columns). */
static void contribution_of(sqlite3_stmt *st, memgauge__contribution_t *c)
{
    double fraction =
        sqlite3_column_type(st, 7) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, 7);
    memgauge__contribution_make(
        c, column_text(st, 0), column_text(st, 1), column_text(st, 2), column_text(st, 3),
        (uint64_t)sqlite3_column_int64(st, 4), (uint64_t)sqlite3_column_int64(st, 5),
        (uint64_t)sqlite3_column_int64(st, 6), fraction, column_text(st, 8), column_text(st, 9));
}

static int contribution_read(sqlite_store_t *s, const char *session_id, memgauge__contribution_t *c)
{
    sqlite3_stmt *st = s->stmt[S_CONTRIB];
    memset(c, 0, sizeof *c);
    bind_text(st, 1, session_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        contribution_of(st, c);
    finish(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : db_fail(s, "read contribution");
}

static int bind_key(sqlite3_stmt *st, const memgauge__rollup_key_t *k)
{
    bind_text(st, 1, k->app_id);
    bind_text(st, 2, k->app_version);
    bind_text(st, 3, k->device_model);
    bind_text(st, 4, k->os_version);
    sqlite3_bind_int64(st, 5, k->day);
    return 0;
}

/* The stored sketches of a rollup row added into r. */
static int decode_sketches(sqlite3_stmt *st, int col, memgauge__rollup_t *r)
{
    memgauge__sketch_t *sk[2] = {&r->peaks, &r->fractions};
    for (int i = 0; i < 2; i++) {
        int d = memgauge__sketch_decode_add(sk[i], sqlite3_column_blob(st, col + i),
                                            (size_t)sqlite3_column_bytes(st, col + i));
        if (d)
            return d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    }
    return 0;
}

static void counts_of(sqlite3_stmt *st, int col, memgauge__rollup_t *r)
{
    int64_t *v[] = {&r->sessions, &r->with_data, &r->with_limit, &r->judged, &r->oom, &r->oom_weak};
    for (int i = 0; i < 6; i++)
        *v[i] += sqlite3_column_int64(st, col + i);
    uint64_t last = (uint64_t)sqlite3_column_int64(st, col + 6);
    if (last > r->last_start_unix_ms)
        r->last_start_unix_ms = last;
}

static int rollup_load(void *ctx, memgauge__rollup_t *r)
{
    sqlite_store_t *s = ctx;
    sqlite3_stmt *st = s->stmt[S_ROLLUP_GET];
    bind_key(st, &r->key);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        counts_of(st, 0, r);
        rc = decode_sketches(st, 7, r);
        if (rc == MEMGAUGE__STORE_CORRUPT)
            snprintf(s->base.error, sizeof s->base.error, "sqlite: a stored rollup is corrupt");
    } else if (step != SQLITE_DONE) {
        rc = db_fail(s, "read rollup");
    }
    finish(st);
    return rc;
}

static int rollup_put(sqlite_store_t *s, sqlite3_stmt *st, const memgauge__rollup_t *r)
{
    unsigned char *peaks, *fractions;
    size_t peaks_len, fractions_len;
    if (memgauge__rollup_encode(r, &peaks, &peaks_len, &fractions, &fractions_len))
        return MEMGAUGE__STORE_NO_MEMORY;
    bind_key(st, &r->key);
    const int64_t v[] = {r->sessions, r->with_data, r->with_limit, r->judged, r->oom, r->oom_weak};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(st, 6 + i, v[i]);
    bind_u64(st, 12, r->last_start_unix_ms);
    sqlite3_bind_blob(st, 13, peaks, (int)peaks_len, free);
    sqlite3_bind_blob(st, 14, fractions, (int)fractions_len, free);
    return step_done(s, st, "write rollup");
}

static int rollup_save(void *ctx, const memgauge__rollup_t *r)
{
    sqlite_store_t *s = ctx;
    return rollup_put(s, s->stmt[S_ROLLUP_PUT], r);
}

/* Moves every tracked session's contribution from t->before to its row now. */
static int rollups_update(sqlite_store_t *s, const memgauge__rollup_track_t *t)
{
    memgauge__rollup_io_t io = {.ctx = s, .load = rollup_load, .save = rollup_save};
    int rc = 0;
    for (size_t i = 0; i < t->n && !rc; i++) {
        memgauge__contribution_t after;
        if ((rc = contribution_read(s, t->ids[i], &after)))
            break;
        if (!memgauge__rollup_expired(&t->before[i], &after, s->base.retention_days,
                                      memgauge__now_unix_ms()))
            rc = memgauge__rollup_change(&io, &t->before[i], &after);
    }
    return rc;
}

/* Migration 3 on a database with sessions: their rollups, in one pass over
 * the sessions in key order. */
static int rollups_backfill(sqlite_store_t *s)
{
    sqlite3_stmt *st = NULL, *put = NULL;
    memgauge__rollup_t r;
    memset(&r, 0, sizeof r);
    int rc = 0, have = 0, step = SQLITE_DONE;
    if (sqlite3_prepare_v2(s->db,
                           CONTRIB_SELECT "ORDER BY s.app_id, s.app_version, s.device_model, "
                                          "s.os_version, s.start_unix_ms",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, ROLLUP_PUT, -1, &put, NULL) != SQLITE_OK)
        rc = db_fail(s, "prepare rollup backfill");
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        memgauge__contribution_t c;
        contribution_of(st, &c);
        if (have && memgauge__rollup_key_cmp(&r.key, &c.key)) {
            rc = rollup_put(s, put, &r);
            memgauge__rollup_clear(&r);
            memset(&r, 0, sizeof r);
            have = 0;
        }
        if (!have)
            r.key = c.key, have = 1;
        if (!rc && memgauge__rollup_apply(&r, &c, 1))
            rc = MEMGAUGE__STORE_NO_MEMORY;
    }
    if (!rc && st && step != SQLITE_DONE)
        rc = db_fail(s, "rollup backfill");
    if (!rc && have)
        rc = rollup_put(s, put, &r);
    memgauge__rollup_clear(&r);
    sqlite3_finalize(st);
    sqlite3_finalize(put);
    return rc;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap);

static int put_all(sqlite_store_t *s, const memgauge__batch_t *b, uint64_t received,
                   memgauge__put_result_t *res, memgauge__rollup_track_t *track)
{
    int *duplicate = &res->duplicate;
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
    for (size_t i = 0; i < track->n; i++)
        if ((rc = contribution_read(s, track->ids[i], &track->before[i])))
            return rc;
    memgauge__session_delta_t d;
    memgauge__session_delta(b, &d);
    st = s->stmt[S_SESSION];
    const char *text[] = {b->session_id, b->app_id,       b->app_version,
                          b->app_build,  b->device_model, b->os_name,
                          b->os_version, b->os_build,     memgauge__metric_name(b->metric)};
    for (int i = 0; i < 9; i++)
        bind_text(st, 1 + i, text[i]);
    bind_u64(st, 10, b->session_start_unix_ms);
    bind_u64(st, 11, b->interval_ms);
    bind_u64(st, 12, d.last_ms);
    bind_u64(st, 13, d.window_last_ms);
    bind_u64(st, 14, d.samples);
    bind_u64(st, 15, b->window_count);
    bind_u64(st, 16, d.peak_bytes);
    bind_u64(st, 17, d.max_bytes);
    bind_u64(st, 18, d.limit_bytes);
    if (d.peak_fraction >= 0)
        sqlite3_bind_double(st, 19, d.peak_fraction);
    bind_u64(st, 20, d.dropped);
    int step = sqlite3_step(st);
    uint64_t total = 0, trail_samples = 0;
    if (step == SQLITE_ROW) {
        total = (uint64_t)sqlite3_column_int64(st, 0);
        trail_samples = (uint64_t)sqlite3_column_int64(st, 1);
        char *described[] = {res->app_version, res->app_build,  res->device_model,
                             res->os_name,     res->os_version, res->os_build};
        for (int i = 0; i < 6; i++)
            col_text(st, 2 + i, described[i], sizeof res->app_version);
        step = sqlite3_step(st);
    }
    finish(st);
    if (step != SQLITE_DONE)
        return db_fail(s, "upsert session");
    if (sqlite3_changes(s->db) == 0) {
        snprintf(s->refusal, s->refusal_len, "session.id: session %s belongs to another app",
                 b->session_id);
        return MEMGAUGE__STORE_CONFLICT;
    }
    if (trail_samples && (rc = trim(s, b)))
        return rc;
    /* the per-session cap: windows beyond it keep their aggregates only */
    uint64_t running = total - d.samples, trimmed = 0;
    for (size_t i = 0; i < b->window_count; i++) {
        const memgauge__window_t *w = &b->windows[i];
        int keep = running + w->samples <= MEMGAUGE__MAX_SESSION_SAMPLES;
        running += w->samples;
        if (w->has_series && !keep)
            trimmed += w->samples;
        if ((rc = put_window(s, b, w, keep)))
            return rc;
    }
    res->samples_trimmed = trimmed;
    if (trimmed) {
        st = s->stmt[S_TRIMMED];
        bind_text(st, 1, b->session_id);
        bind_u64(st, 2, trimmed);
        if ((rc = step_done(s, st, "count trimmed samples")))
            return rc;
    }
    for (size_t i = 0; i < b->event_count; i++)
        if ((rc = put_event(s, b, &b->events[i], received)))
            return rc;
    if (b->clean_stop) {
        memgauge__event_t self;
        memgauge__clean_stop_event(b, &self);
        if ((rc = put_termination(s, S_TERMINATION_SELF, b, &self, received)))
            return rc;
    }
    st = s->stmt[S_DROPPED];
    for (size_t i = 0; i < b->dropped_count; i++) {
        bind_text(st, 1, b->session_id);
        bind_text(st, 2, b->dropped[i].name);
        bind_u64(st, 3, b->dropped[i].count);
        if ((rc = step_done(s, st, "upsert dropped")))
            return rc;
    }
    return rollups_update(s, track);
}

/* This process's other writers hold the write connection at most this long
 * before a write gives up (BUSY) instead of queueing every HTTP thread. */
static int lock_writer(sqlite_store_t *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(WRITER_WAIT_MS % 1000) * 1000000L;
    until.tv_sec += WRITER_WAIT_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    int rc = pthread_mutex_timedlock(&s->lock, &until);
    if (rc == ETIMEDOUT) {
        snprintf(s->base.error, sizeof s->base.error,
                 "sqlite: the database's writers are busy for more than %d ms", WRITER_WAIT_MS);
        return MEMGAUGE__STORE_BUSY;
    }
    return rc ? MEMGAUGE__STORE_ERROR : 0;
}

static int sq_put_batch(memgauge__store_t *base, const memgauge__batch_t *b, uint64_t received,
                        memgauge__put_result_t *res)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    memset(res, 0, sizeof *res);
    int *duplicate = &res->duplicate;
    memgauge__rollup_track_t track;
    int rc = memgauge__rollup_track_init(&track, b);
    if (rc)
        return rc;
    if ((rc = lock_writer(s))) {
        memgauge__rollup_track_free(&track);
        return rc;
    }
    rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc) {
        s->refusal = res->error;
        s->refusal_len = sizeof res->error;
        rc = put_all(s, b, received, res, &track);
        if (rc && rc != MEMGAUGE__STORE_CONFLICT)
            snprintf(res->error, sizeof res->error, "%s", s->base.error);
        s->refusal = NULL; /* a stray conflict outside a write formats nothing */
        s->refusal_len = 0;
        if (rc || *duplicate)
            exec(s, "ROLLBACK");
        else
            rc = exec(s, "COMMIT");
        if (rc)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* no-op when none is open */
    }
    atomic_store_explicit(&s->last_write_busy, rc == MEMGAUGE__STORE_BUSY, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    memgauge__rollup_track_free(&track);
    return rc;
}

static int sq_write_check(memgauge__store_t *base)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    if (pthread_mutex_trylock(&s->lock) != 0) /* a write is under way: judge by the last one */
        return atomic_load_explicit(&s->last_write_busy, memory_order_relaxed)
                   ? MEMGAUGE__STORE_BUSY
                   : 0;
    sqlite3_busy_timeout(s->db, 0);
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc)
        rc = exec(s, "ROLLBACK");
    sqlite3_busy_timeout(s->db, WRITE_WAIT_MS);
    atomic_store_explicit(&s->last_write_busy, rc == MEMGAUGE__STORE_BUSY, memory_order_relaxed);
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
typedef int (*row_fn)(sqlite3_stmt *st, void *row, void *ctx);

/* Frees what a decoded row owns (its series) when a later row fails. */
static void clear_termination(void *row)
{
    memgauge__series_clear(&((memgauge__termination_row_t *)row)->trail);
}

static int collect(sqlite_store_t *s, sqlite3_stmt *st, size_t size, size_t max, row_fn row,
                   void *ctx, void (*clear)(void *row), void **out, size_t *n)
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
        rc = row(st, rows + count * size, ctx);
        count++;
    }
    if (!rc && count < max && step != SQLITE_DONE)
        rc = db_fail_on(s, s->rdb, "query");
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

static int prepare_on(sqlite_store_t *s, sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail_on(s, db, "prepare");
    return 0;
}

/* queries run on the read connection */
static int prepare(sqlite_store_t *s, const char *sql, sqlite3_stmt **st)
{
    return prepare_on(s, s->rdb, sql, st);
}

static int app_row(sqlite3_stmt *st, void *p, void *ctx)
{
    (void)ctx;
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
    pthread_mutex_lock(&s->rlock);
    /* from the rollups: sessions past retention still count */
    int rc = prepare(s,
                     "SELECT app_id, app_version, sum(sessions), max(last_start_unix_ms) "
                     "FROM rollups GROUP BY app_id, app_version HAVING sum(sessions) > 0 "
                     "ORDER BY app_id, max(last_start_unix_ms) DESC",
                     &st);
    if (!rc)
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, app_row, NULL, NULL,
                     (void **)rows, n);
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static int rollup_row(sqlite3_stmt *st, void *p, void *ctx)
{
    (void)ctx;
    memgauge__rollup_t *r = p;
    col_text(st, 0, r->key.app_id, sizeof r->key.app_id);
    col_text(st, 1, r->key.app_version, sizeof r->key.app_version);
    col_text(st, 2, r->key.device_model, sizeof r->key.device_model);
    col_text(st, 3, r->key.os_version, sizeof r->key.os_version);
    r->key.day = sqlite3_column_int64(st, 4);
    counts_of(st, 5, r);
    return decode_sketches(st, 12, r);
}

static void clear_rollup(void *row)
{
    memgauge__rollup_clear(row);
}

static int sq_rollups(memgauge__store_t *base, const memgauge__rollup_filter_t *f,
                      memgauge__rollup_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->rlock);
    int rc = prepare(s,
                     f->app_version
                         ? "SELECT * FROM rollups WHERE app_id = ?1 AND app_version = ?2 "
                           "AND day BETWEEN ?3 AND ?4"
                         : "SELECT * FROM rollups WHERE app_id = ?1 AND day BETWEEN ?3 AND ?4",
                     &st);
    if (!rc) {
        bind_text(st, 1, f->app_id);
        if (f->app_version)
            bind_text(st, 2, f->app_version);
        sqlite3_bind_int64(st, 3, f->from_day);
        sqlite3_bind_int64(st, 4, f->to_day);
        /* rows are (device, OS, day) cells: bounded by the fleet's variety, not its size */
        rc = collect(s, st, sizeof **rows, SIZE_MAX, rollup_row, NULL, clear_rollup, (void **)rows,
                     n);
        if (rc == MEMGAUGE__STORE_CORRUPT)
            snprintf(s->base.error, sizeof s->base.error, "sqlite: a stored rollup is corrupt");
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static int sq_expire(memgauge__store_t *base, uint64_t cutoff, size_t max_sessions, size_t *deleted)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    static const char *const del[] = {"DELETE FROM windows WHERE session_id = ?1",
                                      "DELETE FROM events WHERE session_id = ?1",
                                      "DELETE FROM dropped WHERE session_id = ?1",
                                      "DELETE FROM terminations WHERE session_id = ?1",
                                      "DELETE FROM batches WHERE session_id = ?1",
                                      "DELETE FROM sessions WHERE session_id = ?1"};
    enum { NDEL = sizeof del / sizeof del[0] };
    sqlite3_stmt *pick = NULL, *d[NDEL] = {0};
    *deleted = 0;
    int rc = lock_writer(s);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT session_id FROM sessions WHERE start_unix_ms < ?1 "
                           "ORDER BY start_unix_ms LIMIT ?2",
                           -1, &pick, NULL) != SQLITE_OK)
        rc = db_fail(s, "prepare expire");
    for (size_t i = 0; !rc && i < NDEL; i++)
        if (sqlite3_prepare_v2(s->db, del[i], -1, &d[i], NULL) != SQLITE_OK)
            rc = db_fail(s, "prepare expire");
    char(*ids)[MEMGAUGE__UUID_LEN + 1] = NULL;
    if (!rc && !(ids = malloc((max_sessions ? max_sessions : 1) * sizeof *ids)))
        rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc)
        rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc) {
        /* the ids first: rows are not deleted under the statement that picks them */
        bind_u64(pick, 1, clamp_ms(cutoff));
        bind_u64(pick, 2, max_sessions);
        size_t n = 0;
        int step = SQLITE_DONE;
        while (n < max_sessions && (step = sqlite3_step(pick)) == SQLITE_ROW)
            col_text(pick, 0, ids[n++], sizeof ids[0]);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            rc = db_fail(s, "expire");
        sqlite3_reset(pick);
        for (size_t k = 0; !rc && k < n; k++) {
            for (size_t i = 0; !rc && i < NDEL; i++) {
                bind_text(d[i], 1, ids[k]);
                rc = step_done(s, d[i], "expire");
            }
        }
        if (!rc)
            rc = exec(s, "COMMIT");
        if (rc)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        else
            *deleted = n;
    }
    free(ids);
    sqlite3_finalize(pick);
    for (size_t i = 0; i < NDEL; i++)
        sqlite3_finalize(d[i]);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

#define SESSION_COLUMNS                                                                            \
    "s.session_id, s.app_id, s.app_version, s.app_build, s.device_model, s.os_name, "              \
    "s.os_version, s.metric, s.start_unix_ms, s.last_ms, s.interval_ms, s.samples, s.windows, "    \
    "s.batches, s.peak_bytes, s.max_bytes, s.limit_bytes, s.peak_fraction, s.dropped, "            \
    "coalesce(t.verdict, ''), coalesce(t.grade, ''), s.os_build, s.trail_samples, "                \
    "s.samples_trimmed, coalesce(t.reported_by = t.session_id, 0)"

/* ?1 app ?2 version ?3 device ?4 os ?5 verdict ?6 session ?7 limit ?8 offset
 * ?9 ?10 the keyset cursor. Only the conditions given are written, so that
 * the planner walks an index in the list's order (sessions_by_app,
 * sessions_by_app_start) instead of sorting every row. */
static void where_clause(const memgauge__session_filter_t *f, char *sql, size_t cap)
{
    size_t k = 0;
    const char *c[] = {
        f->app_id ? "s.app_id = ?1" : NULL,
        f->app_version ? "s.app_version = ?2" : NULL,
        f->device_model ? "s.device_model = ?3" : NULL,
        f->os_version ? "s.os_version = ?4" : NULL,
        f->verdict ? "((?5 = 'pending' AND t.verdict IS NULL)"
                     " OR (?5 = 'oom' AND t.verdict IN ('oom_suspected', "
                     "'background_oom_suspected')) OR t.verdict = ?5)"
                   : NULL,
        f->session_id ? "s.session_id = ?6" : NULL,
        f->has_after ? "s.start_unix_ms <= ?9 AND (s.start_unix_ms < ?9 OR s.session_id < ?10)"
                     : NULL,
    };
    sql[0] = '\0';
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (c[i])
            k += (size_t)snprintf(sql + k, k < cap ? cap - k : 0, "%s%s", k ? " AND " : " WHERE ",
                                  c[i]);
}

static int session_row(sqlite3_stmt *st, void *p, void *ctx)
{
    (void)ctx;
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
    col_text(st, 21, r->os_build, sizeof r->os_build);
    r->trail_samples = col_u64(st, 22);
    r->samples_trimmed = col_u64(st, 23);
    r->self_reported = sqlite3_column_int(st, 24);
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
    if (f->has_after) {
        bind_u64(st, 9, clamp_ms(f->after_start_unix_ms));
        bind_text(st, 10, f->after_session_id);
    }
}

static int sq_sessions(memgauge__store_t *base, const memgauge__session_filter_t *f,
                       memgauge__session_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    char where[800], sql[2048];
    where_clause(f, where, sizeof where);
    snprintf(sql, sizeof sql,
             "SELECT " SESSION_COLUMNS " FROM sessions s LEFT JOIN terminations t "
             "ON t.session_id = s.session_id%s"
             " ORDER BY s.start_unix_ms DESC, s.session_id DESC LIMIT ?7 OFFSET ?8",
             where);
    pthread_mutex_lock(&s->rlock);
    int rc = prepare(s, sql, &st);
    if (!rc) {
        bind_filter(st, f, MEMGAUGE__STORE_MAX_ROWS);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, session_row, NULL, NULL,
                     (void **)rows, n);
    }
    pthread_mutex_unlock(&s->rlock);
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

/* Copies the blob (decoded later, outside the lock) while the windows'
 * series stay within the budget. */
typedef struct window_ctx_s {
    memgauge__window_query_t *q;
    uint64_t used;
} window_ctx_t;

static int window_row(sqlite3_stmt *st, void *p, void *ctx)
{
    memgauge__window_row_t *r = p;
    uint64_t *v[] = {&r->start_ms, &r->end_ms,      &r->samples, &r->first,
                     &r->last,     &r->min,         &r->max,     &r->mean,
                     &r->peak,     &r->kernel_peak, &r->limit,   &r->headroom};
    for (int i = 0; i < 12; i++)
        *v[i] = col_u64(st, i);
    col_text(st, 12, r->metric, sizeof r->metric);
    if (sqlite3_column_type(st, 13) == SQLITE_NULL)
        return 0;
    r->has_series = 1;
    window_ctx_t *c = ctx;
    if (c->used + r->samples > c->q->blob_budget) {
        c->q->over_budget = 1;
        return 0;
    }
    int len = sqlite3_column_bytes(st, 13);
    if (!(r->blob = malloc(len ? (size_t)len : 1)))
        return MEMGAUGE__STORE_NO_MEMORY;
    memcpy(r->blob, sqlite3_column_blob(st, 13), (size_t)len);
    r->blob_len = (size_t)len;
    c->used += r->samples;
    return 0;
}

static void clear_window_blob(void *row)
{
    free(((memgauge__window_row_t *)row)->blob);
}

/* Samples in the session's stored series, every window (samples_total). */
static int series_total(sqlite_store_t *s, memgauge__window_query_t *q)
{
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "SELECT coalesce(sum(samples), 0) FROM windows "
                     "WHERE session_id = ?1 AND series IS NOT NULL",
                     &st);
    if (rc)
        return rc;
    bind_text(st, 1, q->session_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        q->series_total = col_u64(st, 0);
    else
        rc = db_fail_on(s, s->rdb, "count samples");
    sqlite3_finalize(st);
    return rc;
}

static int sq_windows(memgauge__store_t *base, memgauge__window_query_t *q,
                      memgauge__window_row_t **rows, size_t *n)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    window_ctx_t ctx = {.q = q};
    q->over_budget = 0;
    q->series_total = 0;
    pthread_mutex_lock(&s->rlock);
    /* windows_by_session (session_id, start_ms) bounds the scan by to_ms */
    int rc = prepare(s,
                     "SELECT start_ms, end_ms, samples, first_bytes, last_bytes, min_bytes, "
                     "max_bytes, mean_bytes, peak_bytes, kernel_peak_bytes, limit_bytes, "
                     "headroom_bytes, metric, series FROM windows WHERE session_id = ?1 "
                     "AND start_ms <= ?3 AND end_ms >= ?2 ORDER BY start_ms, end_ms",
                     &st);
    if (!rc) {
        bind_text(st, 1, q->session_id);
        bind_u64(st, 2, clamp_ms(q->from_ms));
        bind_u64(st, 3, clamp_ms(q->to_ms));
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, window_row, &ctx,
                     clear_window_blob, (void **)rows, n);
        if (!rc && (rc = series_total(s, q)))
            memgauge__window_rows_free(*rows, *n);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static int sq_trail(memgauge__store_t *base, const char *session_id, memgauge__series_t *out,
                    int *has)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    sqlite3_stmt *st;
    unsigned char *copy = NULL;
    int len = 0;
    *has = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->rlock);
    int rc = prepare(s, "SELECT trail FROM sessions WHERE session_id = ?1", &st);
    if (!rc) {
        bind_text(st, 1, session_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            len = sqlite3_column_bytes(st, 0);
            if ((copy = malloc(len ? (size_t)len : 1)))
                memcpy(copy, sqlite3_column_blob(st, 0), (size_t)len);
            else
                rc = MEMGAUGE__STORE_NO_MEMORY;
        } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = db_fail_on(s, s->rdb, "trail");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->rlock);
    if (!rc && copy) {
        int d = memgauge__series_decode(copy, (size_t)len, MEMGAUGE__MAX_TRAIL_SAMPLES, out);
        if (d)
            rc = d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
        *has = !d;
    }
    free(copy);
    return rc;
}

static int event_row(sqlite3_stmt *st, void *p, void *ctx)
{
    (void)ctx;
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
    pthread_mutex_lock(&s->rlock);
    int rc = prepare(s,
                     "SELECT kind, t_ms, threshold_id, direction, urgent, level_bytes, "
                     "footprint_bytes, limit_bytes, pressure FROM events WHERE session_id = ?1 "
                     "ORDER BY t_ms, rowid",
                     &st);
    if (!rc) {
        bind_text(st, 1, session_id);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_MAX_ROWS, event_row, NULL, NULL,
                     (void **)rows, n);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static int termination_row(sqlite3_stmt *st, void *p, void *ctx)
{
    (void)ctx;
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
    pthread_mutex_lock(&s->rlock);
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
        /* keyset paging (terminations_by_report): after ?9, ?10 */
        " AND (?9 IS NULL OR t.reported_unix_ms < ?9 OR (t.reported_unix_ms = ?9 AND "
        "t.session_id < ?10))"
        " ORDER BY t.reported_unix_ms DESC, t.session_id DESC LIMIT ?7 OFFSET ?8",
        &st);
    if (!rc) {
        bind_filter(st, f, MEMGAUGE__STORE_PAGE_MAX);
        rc = collect(s, st, sizeof **rows, MEMGAUGE__STORE_PAGE_MAX, termination_row, NULL,
                     clear_termination, (void **)rows, n);
        if (rc == MEMGAUGE__STORE_CORRUPT)
            snprintf(s->base.error, sizeof s->base.error, "sqlite: a stored trail is corrupt");
    }
    pthread_mutex_unlock(&s->rlock);
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
    pthread_mutex_lock(&s->rlock);
    for (int i = 0; i < 6 && !rc; i++) {
        sqlite3_stmt *st;
        if ((rc = prepare(s, sql[i], &st)))
            break;
        if (sqlite3_step(st) == SQLITE_ROW)
            *dst[i] = col_u64(st, 0);
        else
            rc = db_fail_on(s, s->rdb, "count");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static int read_version(sqlite_store_t *s, sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc = prepare_on(s, db, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st);
    if (rc)
        return rc;
    *version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int sq_schema_version(memgauge__store_t *base, int *version)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    pthread_mutex_lock(&s->rlock);
    int rc = read_version(s, s->rdb, version);
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

static void sq_close(memgauge__store_t *base)
{
    sqlite_store_t *s = (sqlite_store_t *)base;
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->rdb)
        sqlite3_close(s->rdb);
    if (s->db) {
        /* fold the WAL back into the database so the file stands alone */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->db);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->rlock);
    free(s);
}

static const memgauge__store_ops_t sqlite_ops = {
    .name = "sqlite",
    .put_batch = sq_put_batch,
    .apps = sq_apps,
    .sessions = sq_sessions,
    .windows = sq_windows,
    .trail = sq_trail,
    .events = sq_events,
    .terminations = sq_terminations,
    .counts = sq_counts,
    .rollups = sq_rollups,
    .expire = sq_expire,
    .schema_version = sq_schema_version,
    .write_check = sq_write_check,
    .close = sq_close,
};

static int record_migration(sqlite_store_t *s, const memgauge__migration_t *m)
{
    sqlite3_stmt *st;
    int rc = prepare_on(s, s->db,
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
    if (rc || (rc = read_version(s, s->db, &current)))
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
        if (!rc && m->version == 3)
            rc = rollups_backfill(s);
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
    s->base.retention_days = opts ? opts->retention_days : 0;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
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
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA busy_timeout=%d;"
             "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
             opts && opts->sync_full ? "FULL" : "NORMAL", WRITE_WAIT_MS);
    if (!rc)
        rc = exec(s, pragmas);
    if (!rc)
        rc = migrate(s);
    if (!rc && sqlite3_open_v2(path, &s->rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
                   SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "sqlite: cannot open %s for reading: %s",
                 path, s->rdb ? sqlite3_errmsg(s->rdb) : "out of memory");
        rc = MEMGAUGE__STORE_ERROR;
    }
    if (!rc) {
        char read_pragmas[128];
        snprintf(read_pragmas, sizeof read_pragmas,
                 "PRAGMA query_only=1; PRAGMA busy_timeout=%d; PRAGMA cache_size=-16384;",
                 READ_WAIT_MS);
        rc = exec_on(s, s->rdb, read_pragmas);
    }
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
