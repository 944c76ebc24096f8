/* PostgreSQL backend (libpq): a small pool of connections, so that several
 * HTTP threads -- and several collectors on one database -- store batches
 * concurrently. The batch id's primary key makes a replay a no-op even when
 * two collectors receive it at the same time (the second INSERT waits for the
 * first transaction and then does nothing). */
#include "schema.h"
#include "series_codec.h"
#include "store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS 64
#define MIGRATION_LOCK "7361617" /* pg_advisory_xact_lock key: one migrator at a time */

typedef struct pg_store_s {
    memgauge__store_t base;
    pthread_mutex_t lock; /* guards busy[] and base.error */
    pthread_cond_t free_conn;
    unsigned count;
    PGconn *conn[MAX_CONNS];
    int busy[MAX_CONNS];
} pg_store_t;

static void set_error(pg_store_t *s, const char *what, PGconn *c)
{
    pthread_mutex_lock(&s->lock);
    snprintf(s->base.error, sizeof s->base.error, "postgres: %s: %s", what,
             c ? PQerrorMessage(c) : "out of memory");
    size_t n = strlen(s->base.error);
    if (n && s->base.error[n - 1] == '\n')
        s->base.error[n - 1] = '\0';
    pthread_mutex_unlock(&s->lock);
}

static PGconn *acquire(pg_store_t *s, unsigned *slot)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (unsigned i = 0; i < s->count; i++)
            if (!s->busy[i]) {
                s->busy[i] = 1;
                *slot = i;
                pthread_mutex_unlock(&s->lock);
                PGconn *c = s->conn[i];
                if (PQstatus(c) != CONNECTION_OK)
                    PQreset(c); /* the server restarted or the link broke */
                return c;
            }
        pthread_cond_wait(&s->free_conn, &s->lock);
    }
}

static void release(pg_store_t *s, unsigned slot)
{
    pthread_mutex_lock(&s->lock);
    s->busy[slot] = 0;
    pthread_cond_signal(&s->free_conn);
    pthread_mutex_unlock(&s->lock);
}

/* Runs a command; returns 0 when it succeeded (rows or not). */
static int cmd(pg_store_t *s, PGconn *c, const char *sql, int n, const char *const *v,
               const int *len, const int *fmt, char *tuples, size_t tcap)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, v, len, fmt, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (ok && tuples)
        snprintf(tuples, tcap, "%s", PQcmdTuples(r));
    PQclear(r);
    if (!ok) {
        set_error(s, sql, c);
        return MEMGAUGE__STORE_ERROR;
    }
    return 0;
}

static int simple(pg_store_t *s, PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_error(s, sql, c);
        return MEMGAUGE__STORE_ERROR;
    }
    return 0;
}

typedef struct {
    char buf[20][24];
    int used;
} nums_t;

static const char *u64(nums_t *n, uint64_t v)
{
    char *b = n->buf[n->used++ % 20];
    snprintf(b, 24, "%llu", (unsigned long long)v);
    return b;
}

static int put_window(pg_store_t *s, PGconn *c, const memgauge__batch_t *b,
                      const memgauge__window_t *w)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    if (w->has_series && memgauge__series_encode(&w->series, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    nums_t n = {0};
    const char *v[16] = {b->session_id,           u64(&n, w->start_ms),
                         u64(&n, w->end_ms),      u64(&n, w->samples),
                         u64(&n, w->first),       u64(&n, w->last),
                         u64(&n, w->min),         u64(&n, w->max),
                         u64(&n, w->mean),        u64(&n, w->peak),
                         u64(&n, w->kernel_peak), u64(&n, w->limit),
                         u64(&n, w->headroom),    memgauge__metric_name(w->metric),
                         (const char *)blob,      b->batch_id};
    int lens[16] = {0};
    int fmts[16] = {0};
    lens[14] = (int)len;
    fmts[14] = 1; /* the blob goes binary */
    int rc = cmd(s, c,
                 "INSERT INTO windows VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                 "$13, $14, $15, $16)",
                 16, v, lens, fmts, NULL, 0);
    free(blob);
    return rc;
}

static int put_event(pg_store_t *s, PGconn *c, const memgauge__batch_t *b,
                     const memgauge__event_t *e, uint64_t received)
{
    nums_t n = {0};
    const char *pressure = memgauge__pressure_name(e->pressure);
    char id[16];
    snprintf(id, sizeof id, "%d", (int)e->threshold_id);
    int th = e->kind == MEMGAUGE__EVENT_THRESHOLD;
    const char *kind = th                                    ? "threshold"
                       : e->kind == MEMGAUGE__EVENT_PRESSURE ? "pressure"
                                                             : "previous_session";
    const char *v[11] = {b->session_id,
                         u64(&n, e->t_ms),
                         kind,
                         th ? id : NULL,
                         th ? (e->direction_up ? "up" : "down") : NULL,
                         th ? (e->urgent ? "1" : "0") : NULL,
                         th ? u64(&n, e->level) : NULL,
                         th ? u64(&n, e->footprint) : NULL,
                         th ? u64(&n, e->limit) : NULL,
                         pressure,
                         b->batch_id};
    int rc = cmd(s, c, "INSERT INTO events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                 11, v, NULL, NULL, NULL, 0);
    if (rc || e->kind != MEMGAUGE__EVENT_PREVIOUS_SESSION)
        return rc;
    unsigned char *blob = NULL;
    size_t len = 0;
    if (e->has_trail && memgauge__series_encode(&e->trail, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    const char *t[15] = {e->session_id,
                         b->session_id,
                         u64(&n, received),
                         b->app_id,
                         b->app_version,
                         b->device_model,
                         b->os_version,
                         e->verdict,
                         e->grade,
                         u64(&n, e->start_unix_ms),
                         u64(&n, e->ended_ms),
                         u64(&n, e->last_footprint),
                         u64(&n, e->limit),
                         pressure ? pressure : "",
                         (const char *)blob};
    int lens[15] = {0}, fmts[15] = {0};
    lens[14] = (int)len;
    fmts[14] = 1;
    rc = cmd(s, c,
             "INSERT INTO terminations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
             "$13, $14, $15) ON CONFLICT DO NOTHING",
             15, t, lens, fmts, NULL, 0);
    free(blob);
    return rc;
}

static int put_all(pg_store_t *s, PGconn *c, const memgauge__batch_t *b, uint64_t received,
                   int *duplicate)
{
    nums_t n = {0};
    char tuples[24];
    const char *bv[9] = {b->batch_id,
                         b->session_id,
                         u64(&n, received),
                         u64(&n, b->sent_unix_ms),
                         b->sdk_name,
                         b->sdk_version,
                         u64(&n, b->window_count),
                         u64(&n, b->total_samples),
                         u64(&n, b->event_count)};
    int rc = cmd(s, c,
                 "INSERT INTO batches VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                 "ON CONFLICT DO NOTHING",
                 9, bv, NULL, NULL, tuples, sizeof tuples);
    if (rc)
        return rc;
    if (strcmp(tuples, "0") == 0) {
        *duplicate = 1;
        return 0;
    }
    memgauge__session_delta_t d;
    memgauge__session_delta(b, &d);
    char fraction[32];
    snprintf(fraction, sizeof fraction, "%.17g", d.peak_fraction);
    const char *sv[18] = {b->session_id,
                          b->app_id,
                          b->app_version,
                          b->app_build,
                          b->device_model,
                          b->os_name,
                          b->os_version,
                          memgauge__metric_name(b->metric),
                          u64(&n, b->session_start_unix_ms),
                          u64(&n, b->interval_ms),
                          u64(&n, d.last_ms),
                          u64(&n, d.samples),
                          u64(&n, b->window_count),
                          u64(&n, d.peak_bytes),
                          u64(&n, d.max_bytes),
                          u64(&n, d.limit_bytes),
                          d.peak_fraction >= 0 ? fraction : NULL,
                          u64(&n, d.dropped)};
    rc = cmd(s, c,
             "INSERT INTO sessions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
             "$13, 1, $14, $15, $16, $17, $18) ON CONFLICT (session_id) DO UPDATE SET "
             "last_ms = GREATEST(sessions.last_ms, excluded.last_ms), "
             "samples = sessions.samples + excluded.samples, "
             "windows = sessions.windows + excluded.windows, batches = sessions.batches + 1, "
             "peak_bytes = GREATEST(sessions.peak_bytes, excluded.peak_bytes), "
             "max_bytes = GREATEST(sessions.max_bytes, excluded.max_bytes), "
             "limit_bytes = CASE WHEN excluded.limit_bytes > 0 THEN excluded.limit_bytes "
             "ELSE sessions.limit_bytes END, "
             "peak_fraction = GREATEST(sessions.peak_fraction, excluded.peak_fraction), "
             "dropped = sessions.dropped + excluded.dropped",
             18, sv, NULL, NULL, NULL, 0);
    for (size_t i = 0; !rc && i < b->window_count; i++)
        rc = put_window(s, c, b, &b->windows[i]);
    for (size_t i = 0; !rc && i < b->event_count; i++)
        rc = put_event(s, c, b, &b->events[i], received);
    for (size_t i = 0; !rc && i < b->dropped_count; i++) {
        const char *dv[3] = {b->session_id, b->dropped[i].name, u64(&n, b->dropped[i].count)};
        rc = cmd(s, c,
                 "INSERT INTO dropped VALUES ($1, $2, $3) ON CONFLICT (session_id, name) "
                 "DO UPDATE SET count = dropped.count + excluded.count",
                 3, dv, NULL, NULL, NULL, 0);
    }
    return rc;
}

static int pg_put_batch(memgauge__store_t *base, const memgauge__batch_t *b, uint64_t received,
                        int *duplicate)
{
    pg_store_t *s = (pg_store_t *)base;
    *duplicate = 0;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    int rc = simple(s, c, "BEGIN");
    if (!rc) {
        rc = put_all(s, c, b, received, duplicate);
        if (rc || *duplicate)
            PQclear(PQexec(c, "ROLLBACK"));
        else
            rc = simple(s, c, "COMMIT");
    }
    release(s, slot);
    return rc;
}

/* ---- queries -------------------------------------------------------- */

static void text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", PQgetvalue(r, row, col));
}

static uint64_t num(const PGresult *r, int row, int col)
{
    return strtoull(PQgetvalue(r, row, col), NULL, 10);
}

typedef int (*row_fn)(const PGresult *r, int row, void *out);

static void clear_window(void *row)
{
    memgauge__series_clear(&((memgauge__window_row_t *)row)->series);
}

static void clear_termination(void *row)
{
    memgauge__series_clear(&((memgauge__termination_row_t *)row)->trail);
}

/* Runs a query and decodes every row with fn; on failure frees what the rows
 * decoded so far own (clear) and the array. */
static int query(pg_store_t *s, const char *sql, int n, const char *const *v, size_t size,
                 row_fn fn, void (*clear)(void *row), void **out, size_t *count)
{
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_error(s, "query", c);
        rc = MEMGAUGE__STORE_ERROR;
    }
    release(s, slot);
    size_t rows = rc ? 0 : (size_t)PQntuples(r);
    char *buf = rc ? NULL : calloc(rows ? rows : 1, size);
    if (!rc && !buf)
        rc = MEMGAUGE__STORE_NO_MEMORY;
    size_t done = 0;
    for (; !rc && done < rows; done++)
        rc = fn(r, (int)done, buf + done * size);
    PQclear(r);
    if (rc) {
        for (size_t i = 0; clear && buf && i < done; i++)
            clear(buf + i * size);
        free(buf);
        return rc;
    }
    *out = buf;
    *count = rows;
    return 0;
}

static int app_row(const PGresult *r, int i, void *p)
{
    memgauge__app_row_t *a = p;
    text(r, i, 0, a->app_id, sizeof a->app_id);
    text(r, i, 1, a->app_version, sizeof a->app_version);
    a->sessions = num(r, i, 2);
    a->last_start_unix_ms = num(r, i, 3);
    return 0;
}

static int pg_apps(memgauge__store_t *base, memgauge__app_row_t **rows, size_t *n)
{
    return query(
        (pg_store_t *)base,
        "SELECT app_id, app_version, count(*), max(start_unix_ms) FROM sessions "
        "GROUP BY app_id, app_version ORDER BY app_id, max(start_unix_ms) DESC LIMIT 50000",
        0, NULL, sizeof **rows, app_row, NULL, (void **)rows, n);
}

static int session_row(const PGresult *r, int i, void *p)
{
    memgauge__session_row_t *s = p;
    text(r, i, 0, s->session_id, sizeof s->session_id);
    text(r, i, 1, s->app_id, sizeof s->app_id);
    text(r, i, 2, s->app_version, sizeof s->app_version);
    text(r, i, 3, s->app_build, sizeof s->app_build);
    text(r, i, 4, s->device_model, sizeof s->device_model);
    text(r, i, 5, s->os_name, sizeof s->os_name);
    text(r, i, 6, s->os_version, sizeof s->os_version);
    text(r, i, 7, s->metric, sizeof s->metric);
    s->start_unix_ms = num(r, i, 8);
    s->last_ms = num(r, i, 9);
    s->interval_ms = num(r, i, 10);
    s->samples = num(r, i, 11);
    s->windows = num(r, i, 12);
    s->batches = num(r, i, 13);
    s->peak_bytes = num(r, i, 14);
    s->max_bytes = num(r, i, 15);
    s->limit_bytes = num(r, i, 16);
    s->peak_fraction = PQgetisnull(r, i, 17) ? -1.0 : strtod(PQgetvalue(r, i, 17), NULL);
    s->dropped = num(r, i, 18);
    text(r, i, 19, s->verdict, sizeof s->verdict);
    text(r, i, 20, s->grade, sizeof s->grade);
    return 0;
}

static void filter_values(const memgauge__session_filter_t *f, size_t max, nums_t *n,
                          const char *v[8])
{
    v[0] = f->app_id;
    v[1] = f->app_version;
    v[2] = f->device_model;
    v[3] = f->os_version;
    v[4] = f->verdict;
    v[5] = f->session_id;
    v[6] = u64(n, f->limit && f->limit < max ? f->limit : max);
    v[7] = u64(n, f->offset);
}

static int pg_sessions(memgauge__store_t *base, const memgauge__session_filter_t *f,
                       memgauge__session_row_t **rows, size_t *n)
{
    nums_t nb = {0};
    const char *v[8];
    filter_values(f, MEMGAUGE__STORE_MAX_ROWS, &nb, v);
    return query(
        (pg_store_t *)base,
        "SELECT s.session_id, s.app_id, s.app_version, s.app_build, s.device_model, s.os_name, "
        "s.os_version, s.metric, s.start_unix_ms, s.last_ms, s.interval_ms, s.samples, "
        "s.windows, s.batches, s.peak_bytes, s.max_bytes, s.limit_bytes, s.peak_fraction, "
        "s.dropped, coalesce(t.verdict, ''), coalesce(t.grade, '') FROM sessions s "
        "LEFT JOIN terminations t ON t.session_id = s.session_id"
        " WHERE ($1::text IS NULL OR s.app_id = $1) AND ($2::text IS NULL OR s.app_version = $2)"
        " AND ($3::text IS NULL OR s.device_model = $3) AND ($4::text IS NULL OR s.os_version = $4)"
        " AND ($5::text IS NULL OR ($5 = 'pending' AND t.verdict IS NULL)"
        "  OR ($5 = 'oom' AND t.verdict IN ('oom_suspected', 'background_oom_suspected'))"
        "  OR t.verdict = $5)"
        " AND ($6::text IS NULL OR s.session_id = $6)"
        " ORDER BY s.start_unix_ms DESC, s.session_id LIMIT $7 OFFSET $8",
        8, v, sizeof **rows, session_row, NULL, (void **)rows, n);
}

static int blob(const PGresult *r, int i, int col, size_t max, memgauge__series_t *out, int *has)
{
    *has = 0;
    if (PQgetisnull(r, i, col))
        return 0;
    size_t len;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, col), &len);
    if (!raw)
        return MEMGAUGE__STORE_NO_MEMORY;
    int rc = memgauge__series_decode(raw, len, max, out);
    PQfreemem(raw);
    if (rc)
        return rc == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    *has = 1;
    return 0;
}

static int window_row(const PGresult *r, int i, void *p)
{
    memgauge__window_row_t *w = p;
    uint64_t *v[] = {&w->start_ms, &w->end_ms,      &w->samples, &w->first,
                     &w->last,     &w->min,         &w->max,     &w->mean,
                     &w->peak,     &w->kernel_peak, &w->limit,   &w->headroom};
    for (int k = 0; k < 12; k++)
        *v[k] = num(r, i, k);
    text(r, i, 12, w->metric, sizeof w->metric);
    return blob(r, i, 13, MEMGAUGE__MAX_WINDOW_SAMPLES, &w->series, &w->has_series);
}

static int pg_windows(memgauge__store_t *base, const char *session_id,
                      memgauge__window_row_t **rows, size_t *n)
{
    const char *v[1] = {session_id};
    int rc = query((pg_store_t *)base,
                   "SELECT start_ms, end_ms, samples, first_bytes, last_bytes, min_bytes, "
                   "max_bytes, mean_bytes, peak_bytes, kernel_peak_bytes, limit_bytes, "
                   "headroom_bytes, metric, series FROM windows WHERE session_id = $1 "
                   "ORDER BY start_ms, end_ms LIMIT 50000",
                   1, v, sizeof **rows, window_row, clear_window, (void **)rows, n);
    return rc;
}

static int event_row(const PGresult *r, int i, void *p)
{
    memgauge__event_row_t *e = p;
    text(r, i, 0, e->kind, sizeof e->kind);
    e->t_ms = num(r, i, 1);
    e->threshold_id = (int32_t)strtol(PQgetvalue(r, i, 2), NULL, 10);
    text(r, i, 3, e->direction, sizeof e->direction);
    e->urgent = (int)num(r, i, 4);
    e->level = num(r, i, 5);
    e->footprint = num(r, i, 6);
    e->limit = num(r, i, 7);
    text(r, i, 8, e->pressure, sizeof e->pressure);
    return 0;
}

static int pg_events(memgauge__store_t *base, const char *session_id, memgauge__event_row_t **rows,
                     size_t *n)
{
    const char *v[1] = {session_id};
    return query((pg_store_t *)base,
                 "SELECT kind, t_ms, threshold_id, direction, urgent, level_bytes, "
                 "footprint_bytes, limit_bytes, pressure FROM events WHERE session_id = $1 "
                 "ORDER BY t_ms, ctid LIMIT 50000",
                 1, v, sizeof **rows, event_row, NULL, (void **)rows, n);
}

static int termination_row(const PGresult *r, int i, void *p)
{
    memgauge__termination_row_t *t = p;
    text(r, i, 0, t->session_id, sizeof t->session_id);
    text(r, i, 1, t->reported_by, sizeof t->reported_by);
    text(r, i, 2, t->app_id, sizeof t->app_id);
    text(r, i, 3, t->app_version, sizeof t->app_version);
    text(r, i, 4, t->device_model, sizeof t->device_model);
    text(r, i, 5, t->os_version, sizeof t->os_version);
    text(r, i, 6, t->verdict, sizeof t->verdict);
    text(r, i, 7, t->grade, sizeof t->grade);
    text(r, i, 8, t->pressure, sizeof t->pressure);
    t->reported_unix_ms = num(r, i, 9);
    t->start_unix_ms = num(r, i, 10);
    t->ended_ms = num(r, i, 11);
    t->last_footprint = num(r, i, 12);
    t->limit = num(r, i, 13);
    return blob(r, i, 14, MEMGAUGE__MAX_TRAIL_SAMPLES, &t->trail, &t->has_trail);
}

static int pg_terminations(memgauge__store_t *base, const memgauge__session_filter_t *f,
                           memgauge__termination_row_t **rows, size_t *n)
{
    nums_t nb = {0};
    const char *v[8];
    filter_values(f, MEMGAUGE__STORE_PAGE_MAX, &nb, v);
    return query(
        (pg_store_t *)base,
        "SELECT t.session_id, t.reported_by, t.app_id, coalesce(s.app_version, t.app_version), "
        "coalesce(s.device_model, t.device_model), coalesce(s.os_version, t.os_version), "
        "t.verdict, t.grade, t.pressure, t.reported_unix_ms, t.start_unix_ms, t.ended_ms, "
        "t.last_footprint_bytes, t.limit_bytes, t.trail FROM terminations t "
        "LEFT JOIN sessions s ON s.session_id = t.session_id"
        " WHERE ($1::text IS NULL OR t.app_id = $1)"
        " AND ($2::text IS NULL OR coalesce(s.app_version, t.app_version) = $2)"
        " AND ($3::text IS NULL OR coalesce(s.device_model, t.device_model) = $3)"
        " AND ($4::text IS NULL OR coalesce(s.os_version, t.os_version) = $4)"
        " AND ($5::text IS NULL OR ($5 = 'oom' AND t.verdict IN ('oom_suspected', "
        "'background_oom_suspected')) OR t.verdict = $5)"
        " AND ($6::text IS NULL OR t.session_id = $6)"
        " ORDER BY t.reported_unix_ms DESC, t.session_id LIMIT $7 OFFSET $8",
        8, v, sizeof **rows, termination_row, clear_termination, (void **)rows, n);
}

static int pg_counts(memgauge__store_t *base, memgauge__store_counts_t *out)
{
    pg_store_t *s = (pg_store_t *)base;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    PGresult *r =
        PQexec(c, "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM sessions),"
                  " (SELECT count(*) FROM windows),"
                  " (SELECT coalesce(sum(samples), 0) FROM windows),"
                  " (SELECT count(*) FROM events), (SELECT count(*) FROM terminations)");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        set_error(s, "count", c);
        rc = MEMGAUGE__STORE_ERROR;
    } else {
        uint64_t *dst[] = {&out->batches, &out->sessions, &out->windows,
                           &out->samples, &out->events,   &out->terminations};
        for (int i = 0; i < 6; i++)
            *dst[i] = num(r, 0, i);
    }
    PQclear(r);
    release(s, slot);
    return rc;
}

static int read_version(pg_store_t *s, PGconn *c, int *version)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_error(s, "schema version", c);
        rc = MEMGAUGE__STORE_ERROR;
    } else {
        *version = (int)num(r, 0, 0);
    }
    PQclear(r);
    return rc;
}

static int pg_schema_version(memgauge__store_t *base, int *version)
{
    pg_store_t *s = (pg_store_t *)base;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    int rc = read_version(s, c, version);
    release(s, slot);
    return rc;
}

static void pg_close(memgauge__store_t *base)
{
    pg_store_t *s = (pg_store_t *)base;
    if (!s)
        return;
    for (unsigned i = 0; i < s->count; i++)
        PQfinish(s->conn[i]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->free_conn);
    free(s);
}

static const memgauge__store_ops_t pg_ops = {
    .name = "postgres",
    .put_batch = pg_put_batch,
    .apps = pg_apps,
    .sessions = pg_sessions,
    .windows = pg_windows,
    .events = pg_events,
    .terminations = pg_terminations,
    .counts = pg_counts,
    .schema_version = pg_schema_version,
    .close = pg_close,
};

/* Several collectors may start together on one database: the advisory lock
 * makes them migrate one after another, and the later ones find nothing to
 * do. */
static int migrate(pg_store_t *s, PGconn *c)
{
    int rc = simple(s, c, "BEGIN");
    if (!rc)
        rc = simple(s, c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")");
    if (!rc)
        rc = simple(s, c,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                    "what TEXT NOT NULL, applied_unix_ms BIGINT NOT NULL)");
    int current = 0;
    if (!rc)
        rc = read_version(s, c, &current);
    if (!rc && current > MEMGAUGE__SCHEMA_VERSION) {
        snprintf(s->base.error, sizeof s->base.error,
                 "postgres: the database is at schema version %d, newer than this collector (%d)",
                 current, MEMGAUGE__SCHEMA_VERSION);
        rc = MEMGAUGE__STORE_ERROR;
    }
    for (int i = 0; !rc && i < memgauge__pg_migration_count; i++) {
        const memgauge__migration_t *m = &memgauge__pg_migrations[i];
        if (m->version <= current)
            continue;
        rc = simple(s, c, m->sql);
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *v[2] = {version, m->what};
        if (!rc)
            rc = cmd(s, c,
                     "INSERT INTO schema_migrations VALUES ($1, $2, "
                     "(extract(epoch from now()) * 1000)::bigint)",
                     2, v, NULL, NULL, NULL, 0);
    }
    if (!rc)
        rc = simple(s, c, "COMMIT");
    else
        PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

memgauge__store_t *memgauge__store_pg_open(const char *conninfo,
                                           const memgauge__store_options_t *opts, char *err,
                                           size_t errlen)
{
    pg_store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "postgres: out of memory");
        return NULL;
    }
    s->base.ops = &pg_ops;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->free_conn, NULL);
    unsigned want = opts && opts->pg_conns ? opts->pg_conns : 4;
    if (want > MAX_CONNS)
        want = MAX_CONNS;
    int rc = 0;
    for (unsigned i = 0; i < want && !rc; i++) {
        s->conn[i] = PQconnectdb(conninfo);
        s->count = i + 1;
        if (PQstatus(s->conn[i]) != CONNECTION_OK) {
            set_error(s, "connect", s->conn[i]);
            rc = MEMGAUGE__STORE_ERROR;
        } else {
            /* notices (e.g. "relation already exists") are not errors here */
            PQclear(PQexec(s->conn[i], "SET client_min_messages = warning"));
        }
    }
    if (!rc)
        rc = migrate(s, s->conn[0]);
    if (rc) {
        snprintf(err, errlen, "%s", s->base.error);
        pg_close(&s->base);
        return NULL;
    }
    return &s->base;
}
