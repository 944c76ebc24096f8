/* PostgreSQL backend (libpq): a small pool of connections, so that several
 * HTTP threads -- and several collectors on one database -- store batches
 * concurrently. The batch id's primary key makes a replay a no-op even when
 * two collectors receive it at the same time (the second INSERT waits for the
 * first transaction and then does nothing). */
#include "clock.h"
#include "schema.h"
#include "series_codec.h"
#include "store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APP_KNOWN_NOW                                                                              \
    "excluded.app_version <> '' AND (sessions.batches = 0 OR sessions.app_version = '')"
#define DEVICE_KNOWN_NOW                                                                           \
    "excluded.device_model <> '' AND (sessions.batches = 0 OR sessions.device_model = '')"
#define MAX_CONNS 64
/* Statements prepared per connection: every literal run() is given (about
 * 40); past this many, the rest are parsed each time. */
#define MAX_PREPARED 64
#define MIGRATION_LOCK "7361617" /* pg_advisory_xact_lock key: one migrator at a time */
#define PARTITION_LOCK "7361618" /* one collector at a time adds or drops partitions */
/* Internal: an INSERT found no partition for its day (check_violation, the
 * only check the schema has); put_batch adds the partition and retries. */
#define NO_PARTITION (-100)
/* Dropping a partition waits this long at most for the queries and writes
 * under way, which wait behind it meanwhile; the next step tries again. */
#define DROP_LOCK_TIMEOUT "'200ms'"
/* The days a batch can add partitions for: from this many days before today
 * to tomorrow. A session whose clock says otherwise has its rows in the
 * partition at the bound, so that no start time, however wrong, adds more
 * partitions than this. */
#define PARTITION_PAST_DAYS 3660
#define PARTITION_ATTEMPTS 3 /* of a batch whose day had no partition */

/* The statements a connection has prepared, named "s<index>". Used only by
 * the thread holding the connection. */
typedef struct prepared_s {
    const char *sql[MAX_PREPARED]; /* string literals: the address is the key */
    int n;
} prepared_t;

typedef struct pg_store_s {
    memgauge__store_t base;
    pthread_mutex_t lock; /* guards busy[] and base.error */
    pthread_cond_t free_conn;
    unsigned count;
    PGconn *conn[MAX_CONNS];
    int busy[MAX_CONNS];
    prepared_t prepared[MAX_CONNS];
    _Atomic int last_write_busy; /* the latest write gave up on another writer's lock */
    _Atomic int64_t ahead_day;   /* the day whose partitions, and the next day's, were last made */
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

/* A write held up by another transaction's lock gives up after lock_timeout
 * (MEMGAUGE__STORE_BUSY, answered 503) instead of holding an HTTP thread.
 * Set after migrating: collectors starting together wait for each other's
 * migration as long as it takes. */
static void session_settings(PGconn *c)
{
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PQclear(PQexec(c, "SET lock_timeout = '1s'"));
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
                if (PQstatus(c) != CONNECTION_OK) {
                    PQreset(c); /* the server restarted or the link broke */
                    session_settings(c);
                    s->prepared[i].n = 0; /* a new session has none */
                }
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

/* check_violation: no partition holds the row's day. lock_not_available
 * (lock_timeout ran out waiting for another writer), deadlock_detected and
 * serialization_failure: another transaction was in the way, and the same
 * request can succeed later (503 with Retry-After, not a failure). */
static int failure(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strcmp(state, "23514"))
        return NO_PARTITION;
    if (state && (!strcmp(state, "55P03") || !strcmp(state, "40P01") || !strcmp(state, "40001")))
        return MEMGAUGE__STORE_BUSY;
    return MEMGAUGE__STORE_ERROR;
}

/* Checks r: hands it to the caller (*out, PQclear it) or clears it; returns
 * 0 when the command succeeded (rows or not). */
static int result(pg_store_t *s, PGconn *c, const char *sql, PGresult *r, PGresult **out)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = failure(r);
        set_error(s, sql, c);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/* A command whose text is built at run time: parsed and planned each time. */
static int run_text(pg_store_t *s, PGconn *c, const char *sql, int n, const char *const *v,
                    PGresult **out)
{
    return result(s, c, sql, PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0), out);
}

/* The name of sql's prepared statement on c, preparing it on first use;
 * NULL when it cannot be (the table is full: run it as text). Parsing and
 * planning every statement of every batch was the largest part of the
 * server's CPU in a profile of ingest. */
static const char *prepared_name(pg_store_t *s, PGconn *c, const char *sql, int n, char name[16],
                                 int *rc)
{
    prepared_t *p = NULL;
    for (unsigned i = 0; i < s->count && !p; i++)
        if (s->conn[i] == c)
            p = &s->prepared[i];
    *rc = 0;
    if (!p)
        return NULL;
    int k = 0;
    while (k < p->n && p->sql[k] != sql)
        k++;
    snprintf(name, 16, "s%d", k);
    if (k < p->n)
        return name;
    if (k == MAX_PREPARED)
        return NULL;
    PGresult *r = PQprepare(c, name, sql, n, NULL);
    if ((*rc = result(s, c, sql, r, NULL)))
        return NULL;
    p->sql[p->n++] = sql;
    return name;
}

/* Runs a command and hands its result to the caller (*out, PQclear it) or
 * clears it; returns 0 when it succeeded (rows or not). sql must be a string
 * literal: its address names its prepared statement on the connection. */
static int run(pg_store_t *s, PGconn *c, const char *sql, int n, const char *const *v,
               const int *len, const int *fmt, PGresult **out)
{
    char name[16];
    int rc;
    const char *prepared = prepared_name(s, c, sql, n, name, &rc);
    if (rc)
        return rc;
    PGresult *r = prepared ? PQexecPrepared(c, prepared, n, v, len, fmt, 0)
                           : PQexecParams(c, sql, n, NULL, v, len, fmt, 0);
    return result(s, c, sql, r, out);
}

/* Runs a command; returns 0 when it succeeded (rows or not). */
static int cmd(pg_store_t *s, PGconn *c, const char *sql, int n, const char *const *v,
               const int *len, const int *fmt, char *tuples, size_t tcap)
{
    PGresult *r = NULL;
    int rc = run(s, c, sql, n, v, len, fmt, &r);
    if (!rc && tuples)
        snprintf(tuples, tcap, "%s", PQcmdTuples(r));
    PQclear(r);
    return rc;
}

static int simple(pg_store_t *s, PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = failure(r);
        set_error(s, sql, c);
    }
    PQclear(r);
    return rc;
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

/* Appends v to an array literal under way ("{" first, "}" last). */
static char *put_u64(char *p, uint64_t v, int first)
{
    return p + sprintf(p, "%s%llu", first ? "" : ",", (unsigned long long)v);
}

/* The batch's windows in one INSERT of arrays (one round trip, one
 * statement to execute, whatever the number of windows), each with its
 * series while the session stays within MEMGAUGE__MAX_SESSION_SAMPLES
 * (running: the session's samples before the batch). *trimmed counts the
 * samples of the windows stored as aggregates only. */
static int put_windows(pg_store_t *s, PGconn *c, const memgauge__batch_t *b, uint64_t running,
                       const char *day, uint64_t *trimmed)
{
    enum { NUMS = 12 };
    size_t count = b->window_count, series_cap = 3;
    unsigned char **blobs = calloc(count ? count : 1, sizeof *blobs);
    size_t *lens = calloc(count ? count : 1, sizeof *lens);
    char *nums[NUMS] = {NULL}, *metrics = NULL, *series = NULL;
    int rc = blobs && lens ? 0 : MEMGAUGE__STORE_NO_MEMORY;
    *trimmed = 0;
    for (size_t i = 0; !rc && i < count; i++) {
        const memgauge__window_t *w = &b->windows[i];
        int keep = running + w->samples <= MEMGAUGE__MAX_SESSION_SAMPLES;
        running += w->samples;
        if (w->has_series && !keep)
            *trimmed += w->samples;
        if (keep && w->has_series && memgauge__series_encode(&w->series, &blobs[i], &lens[i]))
            rc = MEMGAUGE__STORE_NO_MEMORY;
        series_cap += blobs[i] ? 2 * lens[i] + 8 : 5; /* ,"\\x<hex>" or ,NULL */
    }
    for (int k = 0; !rc && k < NUMS; k++)
        if (!(nums[k] = malloc(count * 21 + 3)))
            rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc && (!(metrics = malloc(count * (MEMGAUGE__WORD_MAX + 2) + 3)) ||
                !(series = malloc(series_cap))))
        rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc) {
        char *np[NUMS], *mp = metrics, *sp = series;
        for (int k = 0; k < NUMS; k++)
            *(np[k] = nums[k]) = '{', np[k]++;
        *mp++ = '{';
        *sp++ = '{';
        for (size_t i = 0; i < count; i++) {
            const memgauge__window_t *w = &b->windows[i];
            const uint64_t v[NUMS] = {w->start_ms, w->end_ms,      w->samples, w->first,
                                      w->last,     w->min,         w->max,     w->mean,
                                      w->peak,     w->kernel_peak, w->limit,   w->headroom};
            for (int k = 0; k < NUMS; k++)
                np[k] = put_u64(np[k], v[k], i == 0);
            mp += sprintf(mp, "%s%s", i ? "," : "", memgauge__metric_name(w->metric));
            if (i)
                *sp++ = ',';
            if (!blobs[i]) {
                memcpy(sp, "NULL", 4);
                sp += 4;
                continue;
            }
            memcpy(sp, "\"\\\\x", 4); /* "\\x: the array's escape, then bytea's hex form */
            sp += 4;
            for (size_t j = 0; j < lens[i]; j++) {
                *sp++ = "0123456789abcdef"[blobs[i][j] >> 4];
                *sp++ = "0123456789abcdef"[blobs[i][j] & 15];
            }
            *sp++ = '"';
        }
        for (int k = 0; k < NUMS; k++)
            memcpy(np[k], "}", 2);
        memcpy(mp, "}", 2);
        memcpy(sp, "}", 2);
        const char *v[17] = {b->session_id, b->batch_id, day,      nums[0], nums[1], nums[2],
                             nums[3],       nums[4],     nums[5],  nums[6], nums[7], nums[8],
                             nums[9],       nums[10],    nums[11], metrics, series};
        rc = cmd(s, c,
                 "INSERT INTO windows SELECT $1, w.*, $2, $3 FROM unnest($4::bigint[], "
                 "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], "
                 "$10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], "
                 "$15::bigint[], $16::text[], $17::bytea[]) AS w",
                 17, v, NULL, NULL, NULL, 0);
    }
    for (size_t i = 0; blobs && i < count; i++)
        free(blobs[i]);
    for (int k = 0; k < NUMS; k++)
        free(nums[k]);
    free(blobs);
    free(lens);
    free(metrics);
    free(series);
    return rc;
}

/* The running values of a session row, locked for this transaction, and
 * its trail part (decoded). *found = 0 when the row does not exist. */
static int session_get(pg_store_t *s, PGconn *c, const char *session_id, char *app_id,
                       size_t app_cap, memgauge__session_values_t *v, memgauge__series_t *tail,
                       int *found)
{
    memset(v, 0, sizeof *v);
    memset(tail, 0, sizeof *tail);
    const char *p[1] = {session_id};
    PGresult *r = NULL;
    int rc = run(s, c,
                 "SELECT app_id, samples, trail_samples, last_ms, window_last_ms, peak_bytes, "
                 "max_bytes, limit_bytes, peak_fraction, trail FROM sessions "
                 "WHERE session_id = $1 FOR UPDATE",
                 1, p, NULL, NULL, &r);
    if (rc)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found) {
        snprintf(app_id, app_cap, "%s", PQgetvalue(r, 0, 0));
        uint64_t *dst[] = {&v->samples,    &v->trail_samples, &v->last_ms,    &v->window_last_ms,
                           &v->peak_bytes, &v->max_bytes,     &v->limit_bytes};
        for (int i = 0; i < 7; i++)
            *dst[i] = strtoull(PQgetvalue(r, 0, 1 + i), NULL, 10);
        v->peak_fraction = PQgetisnull(r, 0, 8) ? -1.0 : strtod(PQgetvalue(r, 0, 8), NULL);
        if (!PQgetisnull(r, 0, 9)) {
            size_t len;
            unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 9), &len);
            int d = raw ? memgauge__series_decode(raw, len, MEMGAUGE__MAX_TRAIL_SAMPLES, tail) : -2;
            PQfreemem(raw);
            if (d)
                rc = d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
        }
    }
    PQclear(r);
    return rc;
}

static int session_set(pg_store_t *s, PGconn *c, const char *session_id,
                       const memgauge__session_values_t *v, const memgauge__series_t *tail)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    if (tail->n && memgauge__series_encode(tail, &blob, &len))
        return MEMGAUGE__STORE_NO_MEMORY;
    nums_t n = {0};
    char fraction[32];
    snprintf(fraction, sizeof fraction, "%.17g", v->peak_fraction);
    const char *p[9] = {session_id,
                        u64(&n, v->samples),
                        u64(&n, v->trail_samples),
                        u64(&n, v->last_ms),
                        u64(&n, v->peak_bytes),
                        u64(&n, v->max_bytes),
                        u64(&n, v->limit_bytes),
                        v->peak_fraction >= 0 ? fraction : NULL,
                        (const char *)blob};
    int lens[9] = {0}, fmts[9] = {0};
    lens[8] = (int)len;
    fmts[8] = 1;
    int rc = run(s, c,
                 "UPDATE sessions SET samples = $2, trail_samples = $3, last_ms = $4, "
                 "peak_bytes = $5, max_bytes = $6, limit_bytes = $7, peak_fraction = $8, "
                 "trail = $9 WHERE session_id = $1",
                 9, p, lens, fmts, NULL);
    free(blob);
    return rc;
}

/* A batch refused (MEMGAUGE__STORE_CONFLICT): the reason goes into its result
 * and the handle's error. */
static int refuse(pg_store_t *s, memgauge__put_result_t *res, const char *what, const char *id)
{
    snprintf(res->error, sizeof res->error, "%s %s belongs to another app", what, id);
    pthread_mutex_lock(&s->lock);
    snprintf(s->base.error, sizeof s->base.error, "%s", res->error);
    pthread_mutex_unlock(&s->lock);
    return MEMGAUGE__STORE_CONFLICT;
}

/* A verdict with a trail: fold it into the session it judges, creating that
 * session's row from the verdict when none of its batches arrived. */
static int fold(pg_store_t *s, PGconn *c, const memgauge__batch_t *b, const memgauge__event_t *e,
                memgauge__put_result_t *res)
{
    char app[MEMGAUGE__TEXT_MAX + 1];
    memgauge__session_values_t v;
    memgauge__series_t tail;
    int found, rc = session_get(s, c, e->session_id, app, sizeof app, &v, &tail, &found);
    if (!rc && !found) {
        nums_t n = {0};
        const char *p[9] = {e->session_id,
                            b->app_id,
                            b->app_version,
                            b->device_model,
                            b->os_name,
                            b->os_version,
                            b->os_build,
                            memgauge__metric_name(b->metric),
                            u64(&n, e->start_unix_ms)};
        rc = run(s, c,
                 "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, "
                 "os_name, os_version, os_build, metric, start_unix_ms, interval_ms, last_ms, "
                 "window_last_ms, samples, windows, batches, peak_bytes, max_bytes, limit_bytes, "
                 "peak_fraction, dropped) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, 0, 0, "
                 "0, 0, 0, 0, 0, 0, 0, NULL, 0)",
                 9, p, NULL, NULL, NULL);
        v.peak_fraction = -1;
        snprintf(app, sizeof app, "%s", b->app_id);
    }
    if (!rc && strcmp(app, b->app_id) != 0)
        rc = refuse(s, res, "events: session_id", e->session_id);
    memgauge__series_clear(&tail);
    if (!rc)
        rc = memgauge__fold_trail(&v, e, &tail);
    if (!rc)
        rc = session_set(s, c, e->session_id, &v, &tail);
    memgauge__series_clear(&tail);
    return rc;
}

/* The batch's windows may now cover samples of the session's trail part. */
static int trim(pg_store_t *s, PGconn *c, const memgauge__batch_t *b)
{
    char app[MEMGAUGE__TEXT_MAX + 1];
    memgauge__session_values_t v;
    memgauge__series_t tail;
    int found, changed = 0;
    int rc = session_get(s, c, b->session_id, app, sizeof app, &v, &tail, &found);
    if (!rc)
        rc = memgauge__trim_trail(&v, &tail, &changed);
    if (!rc && changed)
        rc = session_set(s, c, b->session_id, &v, &tail);
    memgauge__series_clear(&tail);
    return rc;
}

/* self: the session's own clean stop, which a verdict already stored keeps
 * out; otherwise the next launch's verdict, which overrides a clean stop
 * the session reported itself. */
static int put_termination(pg_store_t *s, PGconn *c, const memgauge__batch_t *b,
                           const memgauge__event_t *e, uint64_t received, int self,
                           memgauge__put_result_t *res)
{
    nums_t n = {0};
    const char *pressure = memgauge__pressure_name(e->pressure);
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
    char tuples[24];
    int rc = cmd(s, c,
                 self ? "INSERT INTO terminations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                        "$11, $12, $13, $14, $15) ON CONFLICT DO NOTHING"
                      : "INSERT INTO terminations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                        "$11, $12, $13, $14, $15) ON CONFLICT (session_id) DO UPDATE SET "
                        "reported_by = excluded.reported_by, "
                        "reported_unix_ms = excluded.reported_unix_ms, app_id = excluded.app_id, "
                        "app_version = excluded.app_version, "
                        "device_model = excluded.device_model, os_version = excluded.os_version, "
                        "verdict = excluded.verdict, grade = excluded.grade, "
                        "start_unix_ms = excluded.start_unix_ms, ended_ms = excluded.ended_ms, "
                        "last_footprint_bytes = excluded.last_footprint_bytes, "
                        "limit_bytes = excluded.limit_bytes, pressure = excluded.pressure, "
                        "trail = excluded.trail "
                        "WHERE terminations.reported_by = terminations.session_id",
                 15, t, lens, fmts, tuples, sizeof tuples);
    free(blob);
    if (!rc && !self && e->has_trail && strcmp(tuples, "0") != 0)
        rc = fold(s, c, b, e, res);
    return rc;
}

static int put_event(pg_store_t *s, PGconn *c, const memgauge__batch_t *b,
                     const memgauge__event_t *e, uint64_t received, const char *day,
                     memgauge__put_result_t *res)
{
    nums_t n = {0};
    const char *pressure = memgauge__pressure_name(e->pressure);
    char id[16];
    snprintf(id, sizeof id, "%d", (int)e->threshold_id);
    int th = e->kind == MEMGAUGE__EVENT_THRESHOLD;
    const char *kind = th                                    ? "threshold"
                       : e->kind == MEMGAUGE__EVENT_PRESSURE ? "pressure"
                                                             : "previous_session";
    const char *v[12] = {b->session_id,
                         u64(&n, e->t_ms),
                         kind,
                         th ? id : NULL,
                         th ? (e->direction_up ? "up" : "down") : NULL,
                         th ? (e->urgent ? "1" : "0") : NULL,
                         th ? u64(&n, e->level) : NULL,
                         th ? u64(&n, e->footprint) : NULL,
                         th ? u64(&n, e->limit) : NULL,
                         pressure,
                         b->batch_id,
                         day};
    int rc =
        cmd(s, c, "INSERT INTO events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            12, v, NULL, NULL, NULL, 0);
    if (rc || e->kind != MEMGAUGE__EVENT_PREVIOUS_SESSION)
        return rc;
    return put_termination(s, c, b, e, received, 0, res);
}

/* ---- rollups (rollup.h) ------------------------------------------------ */

#define CONTRIB_SELECT                                                                             \
    "SELECT s.app_id, s.app_version, s.device_model, s.os_version, s.start_unix_ms, s.samples, "   \
    "s.peak_bytes, s.peak_fraction, coalesce(t.verdict, ''), coalesce(t.grade, '') "               \
    "FROM sessions s LEFT JOIN terminations t ON t.session_id = s.session_id "

static void contribution_of(const PGresult *r, int i, memgauge__contribution_t *c)
{
    double fraction = PQgetisnull(r, i, 7) ? -1.0 : strtod(PQgetvalue(r, i, 7), NULL);
    memgauge__contribution_make(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                                PQgetvalue(r, i, 3), strtoull(PQgetvalue(r, i, 4), NULL, 10),
                                strtoull(PQgetvalue(r, i, 5), NULL, 10),
                                strtoull(PQgetvalue(r, i, 6), NULL, 10), fraction,
                                PQgetvalue(r, i, 8), PQgetvalue(r, i, 9));
}

static int contribution_read(pg_store_t *s, PGconn *c, const char *session_id,
                             memgauge__contribution_t *out)
{
    PGresult *r = NULL;
    const char *v[1] = {session_id};
    memset(out, 0, sizeof *out);
    int rc = run(s, c, CONTRIB_SELECT "WHERE s.session_id = $1", 1, v, NULL, NULL, &r);
    if (!rc && PQntuples(r) == 1)
        contribution_of(r, 0, out);
    PQclear(r);
    return rc;
}

typedef struct pg_io_s {
    pg_store_t *s;
    PGconn *c;
} pg_io_t;

static void key_values(const memgauge__rollup_key_t *k, char day[24], const char *v[5])
{
    snprintf(day, 24, "%lld", (long long)k->day);
    v[0] = k->app_id;
    v[1] = k->app_version;
    v[2] = k->device_model;
    v[3] = k->os_version;
    v[4] = day;
}

/* Counts at columns col .. col + 6, sketches at col + 7, col + 8, added into r. */
static int rollup_of(const PGresult *res, int i, int col, memgauge__rollup_t *r)
{
    int64_t *v[] = {&r->sessions, &r->with_data, &r->with_limit, &r->judged, &r->oom, &r->oom_weak};
    for (int k = 0; k < 6; k++)
        *v[k] += strtoll(PQgetvalue(res, i, col + k), NULL, 10);
    uint64_t last = strtoull(PQgetvalue(res, i, col + 6), NULL, 10);
    if (last > r->last_start_unix_ms)
        r->last_start_unix_ms = last;
    memgauge__sketch_t *sk[2] = {&r->peaks, &r->fractions};
    for (int k = 0; k < 2; k++) {
        size_t len;
        unsigned char *raw =
            PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, col + 7 + k), &len);
        if (!raw)
            return MEMGAUGE__STORE_NO_MEMORY;
        int d = memgauge__sketch_decode_add(sk[k], raw, len);
        PQfreemem(raw);
        if (d)
            return d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    }
    return 0;
}

/* The row is created empty first, so that two collectors adding to a new key
 * both find it and the second waits for the first's FOR UPDATE lock. */
static int rollup_load(void *ctx, memgauge__rollup_t *r)
{
    pg_io_t *io = ctx;
    char day[24];
    const char *v[5];
    key_values(&r->key, day, v);
    int rc = cmd(io->s, io->c,
                 "INSERT INTO rollups VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, 0, 0, 0, "
                 "'\\x00', '\\x00') ON CONFLICT DO NOTHING",
                 5, v, NULL, NULL, NULL, 0);
    PGresult *res = NULL;
    if (!rc)
        rc = run(io->s, io->c,
                 "SELECT sessions, with_data, with_limit, judged, oom, oom_weak, "
                 "last_start_unix_ms, peaks, fractions FROM rollups WHERE app_id = $1 "
                 "AND app_version = $2 AND device_model = $3 AND os_version = $4 AND day = $5 "
                 "FOR UPDATE",
                 5, v, NULL, NULL, &res);
    if (!rc && PQntuples(res) == 1)
        rc = rollup_of(res, 0, 0, r);
    PQclear(res);
    return rc;
}

static int rollup_save(void *ctx, const memgauge__rollup_t *r)
{
    pg_io_t *io = ctx;
    unsigned char *peaks, *fractions;
    size_t peaks_len, fractions_len;
    if (memgauge__rollup_encode(r, &peaks, &peaks_len, &fractions, &fractions_len))
        return MEMGAUGE__STORE_NO_MEMORY;
    char day[24];
    const char *v[14];
    key_values(&r->key, day, v);
    nums_t n = {0};
    const int64_t c[] = {r->sessions, r->with_data, r->with_limit, r->judged, r->oom, r->oom_weak};
    for (int i = 0; i < 6; i++)
        v[5 + i] = u64(&n, (uint64_t)c[i]);
    v[11] = u64(&n, r->last_start_unix_ms);
    v[12] = (const char *)peaks;
    v[13] = (const char *)fractions;
    int lens[14] = {0}, fmts[14] = {0};
    lens[12] = (int)peaks_len;
    lens[13] = (int)fractions_len;
    fmts[12] = fmts[13] = 1;
    int rc = cmd(io->s, io->c,
                 "INSERT INTO rollups VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint, "
                 "$8::bigint, $9::bigint, $10::bigint, $11::bigint, $12, $13, $14) "
                 "ON CONFLICT (app_id, app_version, device_model, os_version, day) DO UPDATE SET "
                 "sessions = excluded.sessions, with_data = excluded.with_data, "
                 "with_limit = excluded.with_limit, judged = excluded.judged, oom = excluded.oom, "
                 "oom_weak = excluded.oom_weak, last_start_unix_ms = excluded.last_start_unix_ms, "
                 "peaks = excluded.peaks, fractions = excluded.fractions",
                 14, v, lens, fmts, NULL, 0);
    free(peaks);
    free(fractions);
    return rc;
}

/* Serialises the batches that change one session's contribution, also across
 * collectors: the contribution read before the batch stays true until it
 * commits. Taken in id order (track_init sorts). */
static int rollups_lock_and_read(pg_store_t *s, PGconn *c, memgauge__rollup_track_t *t)
{
    int rc = 0;
    for (size_t i = 0; i < t->n && !rc; i++) {
        const char *v[1] = {t->ids[i]};
        rc = cmd(s, c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", 1, v, NULL, NULL,
                 NULL, 0);
        if (!rc)
            rc = contribution_read(s, c, t->ids[i], &t->before[i]);
    }
    return rc;
}

static int rollups_update(pg_store_t *s, PGconn *c, const memgauge__rollup_track_t *t)
{
    pg_io_t ctx = {s, c};
    memgauge__rollup_io_t io = {.ctx = &ctx, .load = rollup_load, .save = rollup_save};
    int rc = 0;
    for (size_t i = 0; i < t->n && !rc; i++) {
        memgauge__contribution_t after;
        if ((rc = contribution_read(s, c, t->ids[i], &after)))
            break;
        if (!memgauge__rollup_expired(&t->before[i], &after, s->base.retention_days,
                                      memgauge__now_unix_ms()))
            rc = memgauge__rollup_change(&io, &t->before[i], &after);
    }
    return rc;
}

/* Migration 3 on a database with sessions: their rollups, in one pass over
 * the sessions in key order. */
static int rollups_backfill(pg_store_t *s, PGconn *c)
{
    PGresult *res = NULL;
    int rc = run(s, c,
                 CONTRIB_SELECT "ORDER BY s.app_id, s.app_version, s.device_model, s.os_version, "
                                "s.start_unix_ms",
                 0, NULL, NULL, NULL, &res);
    pg_io_t ctx = {s, c};
    memgauge__rollup_t r;
    memset(&r, 0, sizeof r);
    int have = 0, rows = rc ? 0 : PQntuples(res);
    for (int i = 0; i < rows && !rc; i++) {
        memgauge__contribution_t con;
        contribution_of(res, i, &con);
        if (have && memgauge__rollup_key_cmp(&r.key, &con.key)) {
            rc = rollup_save(&ctx, &r);
            memgauge__rollup_clear(&r);
            memset(&r, 0, sizeof r);
            have = 0;
        }
        if (!have)
            r.key = con.key, have = 1;
        if (!rc && memgauge__rollup_apply(&r, &con, 1))
            rc = MEMGAUGE__STORE_NO_MEMORY;
    }
    if (!rc && have)
        rc = rollup_save(&ctx, &r);
    memgauge__rollup_clear(&r);
    PQclear(res);
    return rc;
}

/* *day: the day (since 1970-01-01 UTC) the session started, which holds its
 * windows and events: set once the session row is written. */
static int put_all(pg_store_t *s, PGconn *c, const memgauge__batch_t *b, uint64_t received,
                   memgauge__put_result_t *res, memgauge__rollup_track_t *track, int64_t *day)
{
    int *duplicate = &res->duplicate;
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
    if ((rc = rollups_lock_and_read(s, c, track)))
        return rc;
    memgauge__session_delta_t d;
    memgauge__session_delta(b, &d);
    char fraction[32];
    snprintf(fraction, sizeof fraction, "%.17g", d.peak_fraction);
    const char *sv[20] = {b->session_id,
                          b->app_id,
                          b->app_version,
                          b->app_build,
                          b->device_model,
                          b->os_name,
                          b->os_version,
                          b->os_build,
                          memgauge__metric_name(b->metric),
                          u64(&n, b->session_start_unix_ms),
                          u64(&n, b->interval_ms),
                          u64(&n, d.last_ms),
                          u64(&n, d.window_last_ms),
                          u64(&n, d.samples),
                          u64(&n, b->window_count),
                          u64(&n, d.peak_bytes),
                          u64(&n, d.max_bytes),
                          u64(&n, d.limit_bytes),
                          d.peak_fraction >= 0 ? fraction : NULL,
                          u64(&n, d.dropped)};
    PGresult *r = NULL;
    rc = run(s, c,
             "INSERT INTO sessions (session_id, app_id, app_version, app_build, device_model, "
             "os_name, os_version, os_build, metric, start_unix_ms, interval_ms, last_ms, "
             "window_last_ms, samples, windows, batches, peak_bytes, max_bytes, limit_bytes, "
             "peak_fraction, dropped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
             "$13, $14, $15, 1, $16, $17, $18, $19, $20) ON CONFLICT (session_id) DO UPDATE SET "
             /* a description fills in a row that has none (store_sqlite.c) */
             "app_version = CASE WHEN " APP_KNOWN_NOW " THEN excluded.app_version "
             "ELSE sessions.app_version END, "
             "app_build = CASE WHEN " APP_KNOWN_NOW " THEN excluded.app_build "
             "ELSE sessions.app_build END, "
             "device_model = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.device_model "
             "ELSE sessions.device_model END, "
             "os_name = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.os_name "
             "ELSE sessions.os_name END, "
             "os_version = CASE WHEN " DEVICE_KNOWN_NOW " THEN excluded.os_version "
             "ELSE sessions.os_version END, "
             "metric = CASE WHEN sessions.batches = 0 THEN excluded.metric "
             "ELSE sessions.metric END, "
             "start_unix_ms = CASE WHEN sessions.batches = 0 THEN excluded.start_unix_ms "
             "ELSE sessions.start_unix_ms END, "
             "interval_ms = CASE WHEN excluded.interval_ms > 0 AND (sessions.batches = 0 OR "
             "sessions.interval_ms = 0) THEN excluded.interval_ms ELSE sessions.interval_ms END, "
             "os_build = CASE WHEN excluded.os_build <> '' THEN excluded.os_build "
             "ELSE sessions.os_build END, "
             "last_ms = GREATEST(sessions.last_ms, excluded.last_ms), "
             "window_last_ms = GREATEST(sessions.window_last_ms, excluded.window_last_ms), "
             "samples = sessions.samples + excluded.samples, "
             "windows = sessions.windows + excluded.windows, batches = sessions.batches + 1, "
             "peak_bytes = GREATEST(sessions.peak_bytes, excluded.peak_bytes), "
             "max_bytes = GREATEST(sessions.max_bytes, excluded.max_bytes), "
             "limit_bytes = CASE WHEN excluded.limit_bytes > 0 THEN excluded.limit_bytes "
             "ELSE sessions.limit_bytes END, "
             "peak_fraction = GREATEST(sessions.peak_fraction, excluded.peak_fraction), "
             "dropped = sessions.dropped + excluded.dropped "
             "WHERE sessions.app_id = excluded.app_id RETURNING samples, trail_samples, "
             "app_version, app_build, device_model, os_name, os_version, os_build, "
             "start_unix_ms",
             20, sv, NULL, NULL, &r);
    if (rc)
        return rc;
    int matched = PQntuples(r) == 1;
    uint64_t total = matched ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    uint64_t trail_samples = matched ? strtoull(PQgetvalue(r, 0, 1), NULL, 10) : 0;
    char *described[] = {res->app_version, res->app_build,  res->device_model,
                         res->os_name,     res->os_version, res->os_build};
    for (int i = 0; matched && i < 6; i++)
        snprintf(described[i], sizeof res->app_version, "%s", PQgetvalue(r, 0, 2 + i));
    /* the stored start, not the batch's: a row a verdict made first keeps
     * the start its first batch gives it, and never changes after */
    if (matched) {
        int64_t today = (int64_t)(memgauge__now_unix_ms() / MEMGAUGE__DAY_MS);
        *day = (int64_t)(strtoull(PQgetvalue(r, 0, 8), NULL, 10) / MEMGAUGE__DAY_MS);
        if (*day < today - PARTITION_PAST_DAYS)
            *day = today - PARTITION_PAST_DAYS;
        /* a late batch of a session past retention goes to the oldest day
         * kept (whose rows of expired sessions the next step deletes), not
         * to a partition made again only for retention to drop it */
        int64_t oldest = today - (int64_t)s->base.retention_days;
        if (s->base.retention_days > 0 && *day < oldest)
            *day = oldest;
        if (*day > today + 1)
            *day = today + 1;
    }
    char day_text[24];
    snprintf(day_text, sizeof day_text, "%lld", (long long)*day);
    PQclear(r);
    if (!matched)
        return refuse(s, res, "session.id: session", b->session_id);
    if (trail_samples && (rc = trim(s, c, b)))
        return rc;
    /* the per-session cap: windows beyond it keep their aggregates only */
    uint64_t trimmed = 0;
    if (!rc && b->window_count)
        rc = put_windows(s, c, b, total - d.samples, day_text, &trimmed);
    res->samples_trimmed = trimmed;
    if (!rc && trimmed) {
        const char *tv[2] = {b->session_id, u64(&n, trimmed)};
        rc = cmd(s, c,
                 "UPDATE sessions SET samples_trimmed = samples_trimmed + $2 "
                 "WHERE session_id = $1",
                 2, tv, NULL, NULL, NULL, 0);
    }
    for (size_t i = 0; !rc && i < b->event_count; i++)
        rc = put_event(s, c, b, &b->events[i], received, day_text, res);
    if (!rc && b->clean_stop) {
        memgauge__event_t self;
        memgauge__clean_stop_event(b, &self);
        rc = put_termination(s, c, b, &self, received, 1, res);
    }
    for (size_t i = 0; !rc && i < b->dropped_count; i++) {
        const char *dv[3] = {b->session_id, b->dropped[i].name, u64(&n, b->dropped[i].count)};
        rc = cmd(s, c,
                 "INSERT INTO dropped VALUES ($1, $2, $3) ON CONFLICT (session_id, name) "
                 "DO UPDATE SET count = dropped.count + excluded.count",
                 3, dv, NULL, NULL, NULL, 0);
    }
    if (!rc)
        rc = rollups_update(s, c, track);
    return rc;
}

/* ---- partitions (docs/collector.md "Storage") ----------------------------
 * windows and events are partitioned by the day their session started:
 * windows_d<day>, events_d<day>, and *_legacy for the rows of a database
 * from before migration 4 (day -1). Retention drops a day's partitions
 * whole once every session of the day is past it. */

static const char *const partitioned[2] = {"windows", "events"};

/* Adds the day's partitions unless they exist, in their own transaction (the
 * caller holds none). A plain table attached afterwards (ATTACH PARTITION
 * takes SHARE UPDATE EXCLUSIVE on the parent) does not wait for the writes
 * under way nor hold up new ones, as CREATE TABLE ... PARTITION OF (ACCESS
 * EXCLUSIVE) would. The advisory lock orders collectors adding the same day. */
static int partition_add(pg_store_t *s, PGconn *c, int64_t day)
{
    int rc = simple(s, c, "BEGIN");
    if (!rc)
        rc = simple(s, c, "SELECT pg_advisory_xact_lock(" PARTITION_LOCK ")");
    for (int i = 0; !rc && i < 2; i++) {
        char name[64], sql[512];
        snprintf(name, sizeof name, "%s_d%lld", partitioned[i], (long long)day);
        const char *v[1] = {name};
        PGresult *r = NULL;
        rc = run(s, c, "SELECT to_regclass($1) IS NULL", 1, v, NULL, NULL, &r);
        int missing = !rc && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (!missing)
            continue;
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS);"
                 "ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%lld) TO (%lld)",
                 name, partitioned[i], partitioned[i], name, (long long)day, (long long)day + 1);
        rc = simple(s, c, sql);
    }
    if (!rc)
        rc = simple(s, c, "COMMIT");
    else
        PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

/* Drops the partitions of the days before before_day, and the legacy ones
 * once retention emptied them; *dropped counts the tables. */
static int partitions_drop(pg_store_t *s, PGconn *c, int64_t before_day, size_t *dropped)
{
    *dropped = 0;
    char bound[24];
    snprintf(bound, sizeof bound, "%lld", (long long)before_day);
    const char *v[1] = {bound};
    int rc = simple(s, c, "BEGIN");
    if (!rc)
        rc = simple(s, c, "SET LOCAL lock_timeout = " DROP_LOCK_TIMEOUT);
    if (!rc)
        rc = simple(s, c, "SELECT pg_advisory_xact_lock(" PARTITION_LOCK ")");
    PGresult *r = NULL;
    if (!rc)
        rc = run(s, c,
                 "SELECT c.relname, c.relname LIKE '%\\_legacy' FROM pg_inherits i "
                 "JOIN pg_class c ON c.oid = i.inhrelid "
                 "WHERE i.inhparent IN ('windows'::regclass, 'events'::regclass) "
                 "AND (c.relname LIKE '%\\_legacy' OR "
                 "substring(c.relname from '_d([0-9]+)$')::bigint < $1::bigint)",
                 1, v, NULL, NULL, &r);
    int n = rc ? 0 : PQntuples(r);
    for (int i = 0; !rc && i < n; i++) {
        char sql[256];
        const char *name = PQgetvalue(r, i, 0);
        if (PQgetvalue(r, i, 1)[0] == 't') {
            PGresult *e = NULL;
            snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)", name);
            rc = run_text(s, c, sql, 0, NULL, &e);
            int empty = !rc && PQgetvalue(e, 0, 0)[0] == 'f';
            PQclear(e);
            if (!empty)
                continue;
        }
        snprintf(sql, sizeof sql, "DROP TABLE %s", name);
        if (!(rc = simple(s, c, sql)))
            (*dropped)++;
    }
    PQclear(r);
    if (!rc)
        rc = simple(s, c, "COMMIT");
    else
        PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

/* Today's and tomorrow's partitions, so that the first batches of a day do
 * not wait for them: at open and from the retention thread's steps. */
static int partitions_ahead(pg_store_t *s, PGconn *c)
{
    int64_t today = (int64_t)(memgauge__now_unix_ms() / MEMGAUGE__DAY_MS);
    if (atomic_load_explicit(&s->ahead_day, memory_order_relaxed) == today)
        return 0;
    int rc = partition_add(s, c, today);
    if (!rc)
        rc = partition_add(s, c, today + 1);
    if (!rc)
        atomic_store_explicit(&s->ahead_day, today, memory_order_relaxed);
    return rc;
}

static int pg_put_batch(memgauge__store_t *base, const memgauge__batch_t *b, uint64_t received,
                        memgauge__put_result_t *res)
{
    pg_store_t *s = (pg_store_t *)base;
    memset(res, 0, sizeof *res);
    int *duplicate = &res->duplicate;
    memgauge__rollup_track_t track;
    int rc = memgauge__rollup_track_init(&track, b);
    if (rc)
        return rc;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    /* a session on a day without a partition yet (a new day before the
     * retention thread made it, an old or skewed start): add it and try
     * again; a few times, since another collector may move the session's
     * stored start (its first batch after a verdict made the row) between
     * two attempts */
    for (int attempt = 0; attempt < PARTITION_ATTEMPTS; attempt++) {
        int64_t day = -1;
        memset(res, 0, sizeof *res);
        rc = simple(s, c, "BEGIN");
        if (!rc) {
            rc = put_all(s, c, b, received, res, &track, &day);
            if (rc || *duplicate)
                PQclear(PQexec(c, "ROLLBACK"));
            else
                rc = simple(s, c, "COMMIT");
        }
        if (rc != NO_PARTITION || day < 0 || attempt == PARTITION_ATTEMPTS - 1 ||
            (rc = partition_add(s, c, day)))
            break;
    }
    if (rc == NO_PARTITION) /* transient: the client tries again later */
        rc = MEMGAUGE__STORE_BUSY;

    atomic_store_explicit(&s->last_write_busy, rc == MEMGAUGE__STORE_BUSY, memory_order_relaxed);
    release(s, slot);
    memgauge__rollup_track_free(&track);
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
    return query((pg_store_t *)base,
                 "SELECT app_id, app_version, sum(sessions), max(last_start_unix_ms) FROM rollups "
                 "GROUP BY app_id, app_version HAVING sum(sessions) > 0 "
                 "ORDER BY app_id, max(last_start_unix_ms) DESC LIMIT 50000",
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
    text(r, i, 21, s->os_build, sizeof s->os_build);
    s->trail_samples = num(r, i, 22);
    s->samples_trimmed = num(r, i, 23);
    s->self_reported = (int)num(r, i, 24);
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
    const char *all[8], *v[10];
    filter_values(f, MEMGAUGE__STORE_MAX_ROWS, &nb, all);
    /* only the conditions given, so that the planner walks an index in the
     * list's order (sessions_by_app, sessions_by_app_start) */
    static const char *const column[6] = {
        "s.app_id", "s.app_version", "s.device_model", "s.os_version", NULL, "s.session_id"};
    char where[1024] = "", part[256];
    size_t k = 0;
    int np = 0;
    for (int i = 0; i < 6; i++) {
        if (!all[i])
            continue;
        v[np++] = all[i];
        if (column[i])
            snprintf(part, sizeof part, "%s = $%d", column[i], np);
        else
            snprintf(part, sizeof part,
                     "(($%d = 'pending' AND t.verdict IS NULL) OR ($%d = 'oom' AND t.verdict IN "
                     "('oom_suspected', 'background_oom_suspected')) OR t.verdict = $%d)",
                     np, np, np);
        k += (size_t)snprintf(where + k, sizeof where - k, "%s%s", k ? " AND " : " WHERE ", part);
    }
    if (f->has_after) {
        v[np++] = u64(&nb, f->after_start_unix_ms);
        v[np++] = f->after_session_id;
        snprintf(part, sizeof part, "(s.start_unix_ms, s.session_id) < ($%d::bigint, $%d::text)",
                 np - 1, np);
        k += (size_t)snprintf(where + k, sizeof where - k, "%s%s", k ? " AND " : " WHERE ", part);
    }
    v[np++] = all[6];
    v[np++] = all[7];
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT s.session_id, s.app_id, s.app_version, s.app_build, s.device_model, "
             "s.os_name, s.os_version, s.metric, s.start_unix_ms, s.last_ms, s.interval_ms, "
             "s.samples, s.windows, s.batches, s.peak_bytes, s.max_bytes, s.limit_bytes, "
             "s.peak_fraction, s.dropped, coalesce(t.verdict, ''), coalesce(t.grade, ''), "
             "s.os_build, s.trail_samples, s.samples_trimmed, "
             "CASE WHEN t.reported_by = t.session_id THEN 1 ELSE 0 END FROM sessions s "
             "LEFT JOIN terminations t ON t.session_id = s.session_id%s"
             " ORDER BY s.start_unix_ms DESC, s.session_id DESC LIMIT $%d OFFSET $%d",
             where, np - 1, np);
    return query((pg_store_t *)base, sql, np, v, sizeof **rows, session_row, NULL, (void **)rows,
                 n);
}

/* Binary results: the sketches arrive as bytes, not as hex text to unescape
 * (a version over 30 days is ~4,300 rows of two sketches). */
static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static int rollup_row_binary(const PGresult *r, int i, memgauge__rollup_t *o)
{
    char *keys[4] = {o->key.app_id, o->key.app_version, o->key.device_model, o->key.os_version};
    for (int k = 0; k < 4; k++) {
        int len = PQgetlength(r, i, k);
        if (len > MEMGAUGE__TEXT_MAX)
            return MEMGAUGE__STORE_CORRUPT;
        memcpy(keys[k], PQgetvalue(r, i, k), (size_t)len);
        keys[k][len] = '\0';
    }
    for (int k = 4; k < 12; k++)
        if (PQgetlength(r, i, k) != 8)
            return MEMGAUGE__STORE_CORRUPT;
    o->key.day = (int64_t)be64(PQgetvalue(r, i, 4));
    int64_t *v[] = {&o->sessions, &o->with_data, &o->with_limit, &o->judged, &o->oom, &o->oom_weak};
    for (int k = 0; k < 6; k++)
        *v[k] = (int64_t)be64(PQgetvalue(r, i, 5 + k));
    o->last_start_unix_ms = be64(PQgetvalue(r, i, 11));
    memgauge__sketch_t *sk[2] = {&o->peaks, &o->fractions};
    for (int k = 0; k < 2; k++) {
        int d = memgauge__sketch_decode_add(sk[k], (const unsigned char *)PQgetvalue(r, i, 12 + k),
                                            (size_t)PQgetlength(r, i, 12 + k));
        if (d)
            return d == -2 ? MEMGAUGE__STORE_NO_MEMORY : MEMGAUGE__STORE_CORRUPT;
    }
    return 0;
}

static int pg_rollups(memgauge__store_t *base, const memgauge__rollup_filter_t *f,
                      memgauge__rollup_t **rows, size_t *n)
{
    pg_store_t *s = (pg_store_t *)base;
    char from[24], to[24];
    snprintf(from, sizeof from, "%lld", (long long)f->from_day);
    snprintf(to, sizeof to, "%lld", (long long)f->to_day);
    const char *v[4] = {f->app_id, from, to, f->app_version};
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    PGresult *r =
        PQexecParams(c,
                     f->app_version ? "SELECT * FROM rollups WHERE app_id = $1 AND day BETWEEN $2 "
                                      "AND $3 AND app_version = $4"
                                    : "SELECT * FROM rollups WHERE app_id = $1 AND day BETWEEN $2 "
                                      "AND $3",
                     f->app_version ? 4 : 3, NULL, v, NULL, NULL, 1);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_error(s, "rollups", c);
        rc = MEMGAUGE__STORE_ERROR;
    }
    release(s, slot);
    size_t count = rc ? 0 : (size_t)PQntuples(r);
    memgauge__rollup_t *out = rc ? NULL : calloc(count ? count : 1, sizeof *out);
    if (!rc && !out)
        rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc && count && PQnfields(r) != 14)
        rc = MEMGAUGE__STORE_CORRUPT;
    size_t done = 0;
    for (; !rc && done < count; done++)
        rc = rollup_row_binary(r, (int)done, &out[done]);
    PQclear(r);
    if (rc) {
        memgauge__rollup_rows_free(out, done); /* the failed row included */
        if (rc == MEMGAUGE__STORE_CORRUPT) {
            pthread_mutex_lock(&s->lock);
            snprintf(s->base.error, sizeof s->base.error, "postgres: a stored rollup is corrupt");
            pthread_mutex_unlock(&s->lock);
        }
        return rc;
    }
    *rows = out;
    *n = count;
    return 0;
}

/* One short transaction; the sessions picked are locked (SKIP LOCKED: a
 * session a batch is writing, or another collector is expiring, waits for the
 * next step). */
static int pg_expire(memgauge__store_t *base, uint64_t cutoff, size_t max_sessions, size_t *deleted)
{
    pg_store_t *s = (pg_store_t *)base;
    nums_t nb = {0};
    const char *v[2] = {u64(&nb, cutoff > INT64_MAX ? INT64_MAX : cutoff), u64(&nb, max_sessions)};
    *deleted = 0;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    size_t dropped;
    int rc = partitions_ahead(s, c);
    if (!rc)
        rc = partitions_drop(s, c, (int64_t)(cutoff / MEMGAUGE__DAY_MS), &dropped);
    if (rc == MEMGAUGE__STORE_BUSY)
        rc = 0; /* a partition still in use: dropped at a later step; the rows go now */
    if (!rc)
        rc = simple(s, c, "BEGIN");
    PGresult *r = NULL;
    if (!rc)
        rc = run(s, c,
                 "CREATE TEMP TABLE IF NOT EXISTS expiring (session_id TEXT) ON COMMIT DELETE ROWS",
                 0, NULL, NULL, NULL, NULL);
    if (!rc)
        rc = run(s, c,
                 "INSERT INTO expiring SELECT session_id FROM sessions WHERE start_unix_ms < $1 "
                 "ORDER BY start_unix_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
                 2, v, NULL, NULL, NULL);
    static const char *const del[] = {
        "DELETE FROM windows WHERE session_id IN (SELECT session_id FROM expiring)",
        "DELETE FROM events WHERE session_id IN (SELECT session_id FROM expiring)",
        "DELETE FROM dropped WHERE session_id IN (SELECT session_id FROM expiring)",
        "DELETE FROM terminations WHERE session_id IN (SELECT session_id FROM expiring)",
        "DELETE FROM batches WHERE session_id IN (SELECT session_id FROM expiring)",
        "DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM expiring)"};
    char tuples[24] = "0";
    for (size_t i = 0; !rc && i < sizeof del / sizeof del[0]; i++)
        rc = cmd(s, c, del[i], 0, NULL, NULL, NULL, tuples, sizeof tuples);
    if (!rc)
        rc = simple(s, c, "COMMIT");
    else
        PQclear(PQexec(c, "ROLLBACK"));
    PQclear(r);
    if (!rc)
        *deleted = (size_t)strtoull(tuples, NULL, 10);
    release(s, slot);
    return rc;
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

/* The blob's bytes, unescaped (decoded later by the caller), while the
 * windows' series stay within the budget; q is the window query. */
static int window_row_budget(const PGresult *r, int i, void *p, memgauge__window_query_t *q,
                             uint64_t *used)
{
    memgauge__window_row_t *w = p;
    uint64_t *v[] = {&w->start_ms, &w->end_ms,      &w->samples, &w->first,
                     &w->last,     &w->min,         &w->max,     &w->mean,
                     &w->peak,     &w->kernel_peak, &w->limit,   &w->headroom};
    for (int k = 0; k < 12; k++)
        *v[k] = num(r, i, k);
    text(r, i, 12, w->metric, sizeof w->metric);
    if (PQgetisnull(r, i, 13))
        return 0;
    w->has_series = 1;
    if (*used + w->samples > q->blob_budget) {
        q->over_budget = 1;
        return 0;
    }
    size_t len;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 13), &len);
    if (!raw || !(w->blob = malloc(len ? len : 1))) {
        PQfreemem(raw);
        return MEMGAUGE__STORE_NO_MEMORY;
    }
    memcpy(w->blob, raw, len);
    w->blob_len = len;
    PQfreemem(raw);
    *used += w->samples;
    return 0;
}

static int pg_windows(memgauge__store_t *base, memgauge__window_query_t *q,
                      memgauge__window_row_t **rows, size_t *n)
{
    pg_store_t *s = (pg_store_t *)base;
    nums_t nb = {0};
    q->over_budget = 0;
    q->series_total = 0;
    uint64_t from = q->from_ms > INT64_MAX ? INT64_MAX : q->from_ms;
    uint64_t to = q->to_ms > INT64_MAX ? INT64_MAX : q->to_ms;
    const char *v[3] = {q->session_id, u64(&nb, from), u64(&nb, to)};
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    PGresult *r = NULL, *t = NULL;
    int rc = run(s, c,
                 "SELECT start_ms, end_ms, samples, first_bytes, last_bytes, min_bytes, "
                 "max_bytes, mean_bytes, peak_bytes, kernel_peak_bytes, limit_bytes, "
                 "headroom_bytes, metric, series FROM windows WHERE session_id = $1 "
                 "AND start_ms <= $3 AND end_ms >= $2 ORDER BY start_ms, end_ms LIMIT 50000",
                 3, v, NULL, NULL, &r);
    if (!rc)
        rc = run(s, c,
                 "SELECT coalesce(sum(samples), 0) FROM windows WHERE session_id = $1 "
                 "AND series IS NOT NULL",
                 1, v, NULL, NULL, &t);
    release(s, slot);
    if (!rc)
        q->series_total = num(t, 0, 0);
    PQclear(t);
    size_t count = rc ? 0 : (size_t)PQntuples(r);
    memgauge__window_row_t *w = rc ? NULL : calloc(count ? count : 1, sizeof *w);
    if (!rc && !w)
        rc = MEMGAUGE__STORE_NO_MEMORY;
    uint64_t used = 0;
    for (size_t i = 0; !rc && i < count; i++)
        rc = window_row_budget(r, (int)i, &w[i], q, &used);
    PQclear(r);
    if (rc) {
        memgauge__window_rows_free(w, count);
        return rc;
    }
    *rows = w;
    *n = count;
    return 0;
}

static int pg_trail(memgauge__store_t *base, const char *session_id, memgauge__series_t *out,
                    int *has)
{
    pg_store_t *s = (pg_store_t *)base;
    const char *v[1] = {session_id};
    *has = 0;
    memset(out, 0, sizeof *out);
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    PGresult *r = NULL;
    int rc = run(s, c, "SELECT trail FROM sessions WHERE session_id = $1", 1, v, NULL, NULL, &r);
    release(s, slot);
    if (!rc && PQntuples(r) == 1)
        rc = blob(r, 0, 0, MEMGAUGE__MAX_TRAIL_SAMPLES, out, has);
    PQclear(r);
    return rc;
}

static int pg_write_check(memgauge__store_t *base)
{
    pg_store_t *s = (pg_store_t *)base;
    unsigned slot;
    PGconn *c = acquire(s, &slot);
    int rc = simple(s, c, "SELECT 1");
    release(s, slot);
    if (!rc && atomic_load_explicit(&s->last_write_busy, memory_order_relaxed))
        rc = MEMGAUGE__STORE_BUSY; /* until a write succeeds again */
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
    const char *v[10];
    filter_values(f, MEMGAUGE__STORE_PAGE_MAX, &nb, v);
    v[8] = f->has_after
               ? u64(&nb, f->after_start_unix_ms > INT64_MAX ? INT64_MAX : f->after_start_unix_ms)
               : NULL;
    v[9] = f->has_after ? f->after_session_id : NULL;
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
        /* keyset paging (terminations_by_report): after $9, $10 */
        " AND ($9::bigint IS NULL OR (t.reported_unix_ms, t.session_id) < ($9::bigint, "
        "$10::text))"
        " ORDER BY t.reported_unix_ms DESC, t.session_id DESC LIMIT $7 OFFSET $8",
        10, v, sizeof **rows, termination_row, clear_termination, (void **)rows, n);
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
    .trail = pg_trail,
    .events = pg_events,
    .terminations = pg_terminations,
    .counts = pg_counts,
    .rollups = pg_rollups,
    .expire = pg_expire,
    .schema_version = pg_schema_version,
    .write_check = pg_write_check,
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
        if (!rc && m->version == 3)
            rc = rollups_backfill(s, c);
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
    s->base.retention_days = opts ? opts->retention_days : 0;
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
    for (unsigned i = 0; !rc && i < s->count; i++)
        session_settings(s->conn[i]);
    if (!rc)
        rc = partitions_ahead(s, s->conn[0]);
    if (rc) {
        snprintf(err, errlen, "%s", s->base.error);
        pg_close(&s->base);
        return NULL;
    }
    return &s->base;
}
