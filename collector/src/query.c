/* The query API for the dashboard (docs/collector.md "Query API"). Every
 * answer is JSON; every list is bounded (MEMGAUGE__STORE_PAGE_MAX,
 * MEMGAUGE__STORE_MAX_ROWS). */
#include "query.h"

#include "stats.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 100
/* /v1/oom: a page holds at most this many trails (10000 samples each at
 * most), so that one answer stays within about 2 M JSON numbers */
#define OOM_PAGE_MAX 100
#define OOM_DEFAULT_PAGE 50
#define DEFAULT_POINTS 1000
#define MAX_POINTS 100000
#define MAX_MS 9007199254740991ull /* 2^53 - 1: exact in JSON */

static int is_uuid(const char *s, size_t n);

static void store_failed(memgauge__store_t *st, memgauge__reply_t *out)
{
    fprintf(stderr, "memgauge-collector: query: %s\n", memgauge__store_error(st));
    memgauge__reply_error(out, 500, "storage failure", NULL, NULL);
}

static int bad_arg(memgauge__reply_t *out, const char *name, const char *reason)
{
    memgauge__reply_error(out, 400, "invalid argument", name, reason);
    return -1;
}

/* Optional integer argument in [lo, hi]: decimal digits only (no sign,
 * space, fraction or exponent). *given (may be NULL) says whether it was
 * there. */
static int uint_arg(memgauge__arg_fn arg, void *cls, const char *name, uint64_t lo, uint64_t hi,
                    uint64_t dflt, uint64_t *out, int *given, memgauge__reply_t *rep)
{
    const char *v = arg(cls, name);
    *out = dflt;
    if (given)
        *given = v != NULL;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!isdigit((unsigned char)v[0]) || *end || errno || n < lo || n > hi) {
        char reason[96];
        snprintf(reason, sizeof reason, "must be an integer %llu .. %llu", (unsigned long long)lo,
                 (unsigned long long)hi);
        return bad_arg(rep, name, reason);
    }
    *out = (uint64_t)n;
    return 0;
}

static int int_arg(memgauge__arg_fn arg, void *cls, const char *name, size_t lo, size_t hi,
                   size_t dflt, size_t *out, memgauge__reply_t *rep)
{
    uint64_t v;
    int rc = uint_arg(arg, cls, name, lo, hi, dflt, &v, NULL, rep);
    *out = (size_t)v;
    return rc;
}

static int text_arg(memgauge__arg_fn arg, void *cls, const char *name, int required,
                    const char **out, memgauge__reply_t *rep)
{
    const char *v = arg(cls, name);
    *out = v && v[0] ? v : NULL;
    if (*out && strlen(*out) > MEMGAUGE__TEXT_MAX)
        return bad_arg(rep, name, "too long");
    if (required && !*out)
        return bad_arg(rep, name, "is required");
    return 0;
}

static void add_u64(cJSON *o, const char *name, uint64_t v)
{
    cJSON_AddNumberToObject(o, name, (double)v);
}

static cJSON *session_json(const memgauge__session_row_t *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", r->session_id);
    cJSON_AddStringToObject(o, "app_id", r->app_id);
    cJSON_AddStringToObject(o, "app_version", r->app_version);
    cJSON_AddStringToObject(o, "app_build", r->app_build);
    cJSON_AddStringToObject(o, "device_model", r->device_model);
    cJSON_AddStringToObject(o, "os_name", r->os_name);
    cJSON_AddStringToObject(o, "os_version", r->os_version);
    cJSON_AddStringToObject(o, "metric", r->metric);
    add_u64(o, "start_unix_ms", r->start_unix_ms);
    add_u64(o, "last_ms", r->last_ms);
    add_u64(o, "interval_ms", r->interval_ms);
    if (r->os_build[0])
        cJSON_AddStringToObject(o, "os_build", r->os_build);
    else
        cJSON_AddNullToObject(o, "os_build");
    add_u64(o, "samples", r->samples);
    add_u64(o, "trail_samples", r->trail_samples);
    add_u64(o, "samples_trimmed", r->samples_trimmed);
    cJSON_AddBoolToObject(o, "has_data", r->samples > 0);
    add_u64(o, "windows", r->windows);
    add_u64(o, "batches", r->batches);
    add_u64(o, "peak_bytes", r->peak_bytes);
    add_u64(o, "max_bytes", r->max_bytes);
    add_u64(o, "limit_bytes", r->limit_bytes);
    if (r->peak_fraction >= 0)
        cJSON_AddNumberToObject(o, "peak_fraction", r->peak_fraction);
    else
        cJSON_AddNullToObject(o, "peak_fraction");
    add_u64(o, "dropped", r->dropped);
    if (r->verdict[0])
        cJSON_AddStringToObject(o, "verdict", r->verdict);
    else
        cJSON_AddNullToObject(o, "verdict");
    if (r->grade[0])
        cJSON_AddStringToObject(o, "grade", r->grade);
    /* "session": the session's own clean stop, until the next launch confirms
     * or overrides it; "next_session": the next launch's verdict */
    if (r->verdict[0])
        cJSON_AddStringToObject(o, "verdict_source", r->self_reported ? "session" : "next_session");
    else
        cJSON_AddNullToObject(o, "verdict_source");
    return o;
}

static cJSON *series_json(const memgauge__series_t *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *t = cJSON_AddArrayToObject(o, "t_ms");
    cJSON *fp = cJSON_AddArrayToObject(o, "footprint");
    for (size_t i = 0; i < s->n; i++) {
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)s->t_ms[i]));
        cJSON_AddItemToArray(fp, cJSON_CreateNumber((double)s->footprint[i]));
    }
    return o;
}

/* GET /v1/apps */
static void serve_apps(memgauge__store_t *st, memgauge__reply_t *out)
{
    memgauge__app_row_t *rows;
    size_t n;
    if (st->ops->apps(st, &rows, &n)) {
        store_failed(st, out);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(j, "apps");
    cJSON *app = NULL, *versions = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!app || strcmp(rows[i].app_id, rows[i - 1].app_id)) {
            app = cJSON_CreateObject();
            cJSON_AddStringToObject(app, "app_id", rows[i].app_id);
            versions = cJSON_AddArrayToObject(app, "versions");
            cJSON_AddItemToArray(list, app);
        }
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "version", rows[i].app_version);
        add_u64(v, "sessions", rows[i].sessions);
        add_u64(v, "last_start_unix_ms", rows[i].last_start_unix_ms);
        cJSON_AddItemToArray(versions, v);
    }
    free(rows);
    memgauge__reply_json(out, 200, j);
}

/* Percentiles and out-of-memory rate of a merged rollup. Percentiles come
 * from the rollups' sketches: within MEMGAUGE__SKETCH_ALPHA (under 1 %) of
 * the exact nearest-rank percentile of the same sessions. */
static cJSON *group_stats(const memgauge__rollup_t *r)
{
    uint64_t count = (uint64_t)r->sessions, with_data = (uint64_t)r->with_data;
    uint64_t with_limit = (uint64_t)r->with_limit, oom = (uint64_t)r->oom;
    uint64_t oom_weak = (uint64_t)r->oom_weak;
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "sessions", count);
    add_u64(o, "sessions_with_data", with_data);
    add_u64(o, "sessions_without_data", count - with_data);
    cJSON *p = cJSON_AddObjectToObject(o, "peak_bytes");
    cJSON *f = cJSON_AddObjectToObject(o, "peak_fraction_of_limit");
    static const double ps[] = {50, 90, 99};
    static const char *const names[] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        if (with_data)
            cJSON_AddNumberToObject(p, names[i],
                                    llround(memgauge__sketch_quantile(&r->peaks, ps[i])));
        else
            cJSON_AddNullToObject(p, names[i]);
        if (with_limit)
            cJSON_AddNumberToObject(f, names[i], memgauge__sketch_quantile(&r->fractions, ps[i]));
        else
            cJSON_AddNullToObject(f, names[i]);
    }
    add_u64(f, "sessions", with_limit);
    add_u64(o, "judged_sessions", (uint64_t)r->judged);
    add_u64(o, "oom_sessions", oom);
    add_u64(o, "oom_low_confidence_sessions", oom_weak);
    /* sessions not judged yet (no later session reported) count as not OOM;
     * low-confidence verdicts are counted apart, never in the rate */
    if (count) {
        cJSON_AddNumberToObject(o, "oom_free_rate", (double)(count - oom) / (double)count);
        cJSON_AddNumberToObject(o, "oom_low_confidence_rate", (double)oom_weak / (double)count);
    } else {
        cJSON_AddNullToObject(o, "oom_free_rate");
        cJSON_AddNullToObject(o, "oom_low_confidence_rate");
    }
    return o;
}

/* Rollups merged by one part of their key (device model or OS version). */
typedef struct groups_s {
    size_t n, cap;
    memgauge__rollup_t *g;
} groups_t;

static int group_add(groups_t *gs, const char *name, int device, const memgauge__rollup_t *r)
{
    size_t i = 0;
    for (; i < gs->n; i++)
        if (!strcmp(device ? gs->g[i].key.device_model : gs->g[i].key.os_version, name))
            break;
    if (i == gs->n) {
        if (gs->n == gs->cap) {
            size_t cap = gs->cap ? gs->cap * 2 : 16;
            memgauge__rollup_t *more = realloc(gs->g, cap * sizeof *more);
            if (!more)
                return -1;
            gs->g = more;
            gs->cap = cap;
        }
        memset(&gs->g[i], 0, sizeof gs->g[i]);
        snprintf(device ? gs->g[i].key.device_model : gs->g[i].key.os_version,
                 sizeof gs->g[i].key.device_model, "%s", name);
        gs->n++;
    }
    return memgauge__rollup_merge(&gs->g[i], r) ? -1 : 0;
}

static int by_sessions(const void *a, const void *b)
{
    const memgauge__rollup_t *x = a, *y = b;
    if (x->sessions != y->sessions)
        return x->sessions > y->sessions ? -1 : 1;
    int d = strcmp(x->key.device_model, y->key.device_model);
    return d ? d : strcmp(x->key.os_version, y->key.os_version);
}

static void groups_free(groups_t *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        memgauge__rollup_clear(&gs->g[i]);
    free(gs->g);
}

/* Days since 1970-01-01 of a "YYYY-MM-DD" date (Howard Hinnant's
 * days_from_civil). */
static int day_arg(memgauge__arg_fn arg, void *cls, const char *name, int64_t dflt, int64_t *out,
                   int *given, memgauge__reply_t *rep)
{
    const char *v = arg(cls, name);
    *out = dflt;
    *given = v != NULL;
    if (!v)
        return 0;
    int y, m, d, used = 0;
    if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return bad_arg(rep, name, "must be a date YYYY-MM-DD (UTC)");
    y -= m <= 2;
    int64_t era = y / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *out = era * 146097 + doe - 719468;
    return 0;
}

/* GET /v1/stats?app=&version=&from_day=&to_day= */
static void serve_stats(memgauge__store_t *st, memgauge__arg_fn arg, void *cls,
                        memgauge__reply_t *out)
{
    const char *app, *version;
    int64_t from, to;
    int has_from, has_to;
    if (text_arg(arg, cls, "app", 1, &app, out) ||
        text_arg(arg, cls, "version", 1, &version, out) ||
        day_arg(arg, cls, "from_day", INT64_MIN, &from, &has_from, out) ||
        day_arg(arg, cls, "to_day", INT64_MAX, &to, &has_to, out))
        return;
    if (from > to) {
        bad_arg(out, "from_day", "must be at most to_day");
        return;
    }
    memgauge__rollup_filter_t f = {
        .app_id = app, .app_version = version, .from_day = from, .to_day = to};
    memgauge__rollup_t *rows;
    size_t n;
    if (st->ops->rollups(st, &f, &rows, &n)) {
        store_failed(st, out);
        return;
    }
    memgauge__rollup_t all;
    memset(&all, 0, sizeof all);
    groups_t groups[2] = {{0}};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = memgauge__rollup_merge(&all, &rows[i]) ||
             group_add(&groups[0], rows[i].key.device_model, 1, &rows[i]) ||
             group_add(&groups[1], rows[i].key.os_version, 0, &rows[i]);
    memgauge__rollup_rows_free(rows, n);
    cJSON *j = NULL;
    if (!rc) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "app_id", app);
        cJSON_AddStringToObject(j, "version", version);
        const char *const ends[2] = {"from_day", "to_day"};
        for (int e = 0; e < 2; e++)
            if (e ? has_to : has_from)
                cJSON_AddStringToObject(j, ends[e], arg(cls, ends[e]));
            else
                cJSON_AddNullToObject(j, ends[e]);
        add_u64(j, "sessions_considered", (uint64_t)all.sessions);
        cJSON_AddNumberToObject(j, "percentile_relative_error", MEMGAUGE__SKETCH_ALPHA);
        cJSON_AddItemToObject(j, "overall", group_stats(&all));
        const char *keys[] = {"by_device", "by_os"};
        for (int g = 0; g < 2; g++) {
            cJSON *list = cJSON_AddArrayToObject(j, keys[g]);
            qsort(groups[g].g, groups[g].n, sizeof *groups[g].g, by_sessions);
            for (size_t i = 0; i < groups[g].n; i++) {
                const memgauge__rollup_t *r = &groups[g].g[i];
                cJSON *o = group_stats(r);
                cJSON_AddItemToObject(
                    o, g == 0 ? "device_model" : "os_version",
                    cJSON_CreateString(g == 0 ? r->key.device_model : r->key.os_version));
                cJSON_AddItemToArray(list, o);
            }
        }
    }
    memgauge__rollup_clear(&all);
    groups_free(&groups[0]);
    groups_free(&groups[1]);
    if (rc) {
        memgauge__reply_error(out, 500, "out of memory", NULL, NULL);
        return;
    }
    memgauge__reply_json(out, 200, j);
}

/* GET /v1/sessions and GET /v1/oom */
static int filter_args(memgauge__arg_fn arg, void *cls, memgauge__session_filter_t *f,
                       size_t page_max, size_t page_default, memgauge__reply_t *out)
{
    memset(f, 0, sizeof *f);
    return text_arg(arg, cls, "app", 0, &f->app_id, out) ||
           text_arg(arg, cls, "version", 0, &f->app_version, out) ||
           text_arg(arg, cls, "device", 0, &f->device_model, out) ||
           text_arg(arg, cls, "os", 0, &f->os_version, out) ||
           text_arg(arg, cls, "verdict", 0, &f->verdict, out) ||
           int_arg(arg, cls, "limit", 1, page_max, page_default, &f->limit, out) ||
           int_arg(arg, cls, "offset", 0, 1000000000, 0, &f->offset, out);
}

/* Keyset paging, as fast at any depth as offset is not: a full page names
 * where the next one starts ("<ms>.<session id>" of its last row), a short
 * one says there is none. */
static void add_next_cursor(cJSON *j, int full, uint64_t last_ms, const char *last_id)
{
    if (!full) {
        cJSON_AddNullToObject(j, "next_cursor");
        return;
    }
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%llu.%s", (unsigned long long)last_ms, last_id);
    cJSON_AddStringToObject(j, "next_cursor", cursor);
}

static void page_info(cJSON *j, const memgauge__session_filter_t *f, size_t n)
{
    add_u64(j, "offset", f->offset);
    add_u64(j, "limit", f->limit);
    if (n == f->limit)
        add_u64(j, "next_offset", f->offset + n);
    else
        cJSON_AddNullToObject(j, "next_offset");
}

/* cursor = "<start_unix_ms>.<session_id>" of the last row of the previous page */
static int cursor_arg(memgauge__arg_fn arg, void *cls, memgauge__session_filter_t *f,
                      memgauge__reply_t *out)
{
    const char *v = arg(cls, "cursor");
    if (!v || !v[0])
        return 0;
    const char *dot = strchr(v, '.');
    char *end;
    errno = 0;
    unsigned long long start = strtoull(v, &end, 10);
    if (!dot || end != dot || !isdigit((unsigned char)v[0]) || errno || start > MAX_MS ||
        !is_uuid(dot + 1, strlen(dot + 1)))
        return bad_arg(out, "cursor", "must be a next_cursor from a previous page");
    f->has_after = 1;
    f->after_start_unix_ms = start;
    snprintf(f->after_session_id, sizeof f->after_session_id, "%s", dot + 1);
    return 0;
}

static void serve_sessions(memgauge__store_t *st, memgauge__arg_fn arg, void *cls,
                           memgauge__reply_t *out)
{
    memgauge__session_filter_t f;
    if (filter_args(arg, cls, &f, MEMGAUGE__STORE_PAGE_MAX, DEFAULT_PAGE, out) ||
        cursor_arg(arg, cls, &f, out))
        return;
    memgauge__session_row_t *rows;
    size_t n;
    if (st->ops->sessions(st, &f, &rows, &n)) {
        store_failed(st, out);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(j, "sessions");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, session_json(&rows[i]));
    page_info(j, &f, n);
    add_next_cursor(j, n == f.limit, n ? rows[n - 1].start_unix_ms : 0,
                    n ? rows[n - 1].session_id : "");
    free(rows);
    memgauge__reply_json(out, 200, j);
}

static void serve_oom(memgauge__store_t *st, memgauge__arg_fn arg, void *cls,
                      memgauge__reply_t *out)
{
    memgauge__session_filter_t f;
    /* the cursor's time is the last row's reported_unix_ms */
    if (filter_args(arg, cls, &f, OOM_PAGE_MAX, OOM_DEFAULT_PAGE, out) ||
        cursor_arg(arg, cls, &f, out))
        return;
    if (!f.verdict)
        f.verdict = "oom";
    memgauge__termination_row_t *rows;
    size_t n;
    if (st->ops->terminations(st, &f, &rows, &n)) {
        store_failed(st, out);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(j, "sessions");
    for (size_t i = 0; i < n; i++) {
        const memgauge__termination_row_t *r = &rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "session_id", r->session_id);
        cJSON_AddStringToObject(o, "reported_by", r->reported_by);
        cJSON_AddStringToObject(o, "app_id", r->app_id);
        cJSON_AddStringToObject(o, "app_version", r->app_version);
        cJSON_AddStringToObject(o, "device_model", r->device_model);
        cJSON_AddStringToObject(o, "os_version", r->os_version);
        cJSON_AddStringToObject(o, "verdict", r->verdict);
        if (r->grade[0])
            cJSON_AddStringToObject(o, "grade", r->grade);
        if (r->pressure[0])
            cJSON_AddStringToObject(o, "pressure", r->pressure);
        add_u64(o, "reported_unix_ms", r->reported_unix_ms);
        add_u64(o, "start_unix_ms", r->start_unix_ms);
        add_u64(o, "ended_ms", r->ended_ms);
        add_u64(o, "last_footprint_bytes", r->last_footprint);
        add_u64(o, "limit_bytes", r->limit);
        if (r->has_trail)
            cJSON_AddItemToObject(o, "trail", series_json(&r->trail));
        else
            cJSON_AddNullToObject(o, "trail");
        cJSON_AddItemToArray(list, o);
    }
    page_info(j, &f, n);
    add_next_cursor(j, n == f.limit, n ? rows[n - 1].reported_unix_ms : 0,
                    n ? rows[n - 1].session_id : "");
    memgauge__termination_rows_free(rows, n);
    memgauge__reply_json(out, 200, j);
}

static int one_session(memgauge__store_t *st, const char *id, memgauge__session_row_t *row,
                       memgauge__reply_t *out)
{
    memgauge__session_filter_t f = {.session_id = id, .limit = 1};
    memgauge__session_row_t *rows;
    size_t n;
    if (st->ops->sessions(st, &f, &rows, &n)) {
        store_failed(st, out);
        return -1;
    }
    if (n == 0) {
        free(rows);
        memgauge__reply_error(out, 404, "not found", "session_id", "no such session");
        return -1;
    }
    *row = rows[0];
    free(rows);
    return 0;
}

/* The samples the answer is made of: every stored sample of the session in
 * [from, to], in time order; resident and has_rs only where the sample's
 * window carried resident; trail where the sample came from a verdict's
 * trail (the session's last seconds, whose window was lost). */
typedef struct picked_s {
    size_t n, cap;
    uint64_t *t, *fp, *pk, *rs;
    unsigned char *has_rs, *trail;
    int any_rs, any_trail;
} picked_t;

static int in_range(const memgauge__window_row_t *w, uint64_t from, uint64_t to)
{
    /* the wire format keeps every sample inside its window's start .. end */
    return w->start_ms <= to && w->end_ms >= from;
}

static int picked_alloc(picked_t *p, size_t cap)
{
    memset(p, 0, sizeof *p);
    p->cap = cap;
    p->t = malloc((cap + 1) * sizeof *p->t);
    p->fp = malloc((cap + 1) * sizeof *p->fp);
    p->pk = malloc((cap + 1) * sizeof *p->pk);
    p->rs = malloc((cap + 1) * sizeof *p->rs);
    p->has_rs = malloc(cap + 1);
    p->trail = malloc(cap + 1);
    return p->t && p->fp && p->pk && p->rs && p->has_rs && p->trail ? 0 : -1;
}

static void pick_series(picked_t *p, const memgauge__series_t *s, uint64_t from, uint64_t to,
                        int trail)
{
    for (size_t j = 0; j < s->n && p->n < p->cap; j++) {
        if (s->t_ms[j] < from || s->t_ms[j] > to)
            continue;
        size_t k = p->n++;
        p->t[k] = s->t_ms[j];
        p->fp[k] = s->footprint[j];
        p->pk[k] = s->peak ? s->peak[j] : s->footprint[j];
        p->rs[k] = s->resident ? s->resident[j] : 0;
        p->has_rs[k] = s->resident != NULL;
        p->trail[k] = (unsigned char)trail;
        p->any_rs |= s->resident != NULL;
        p->any_trail |= trail;
    }
}

/* Decodes one window at a time (outside the store's lock) into p. */
static int pick_windows(memgauge__window_row_t *w, size_t nw, uint64_t from, uint64_t to,
                        picked_t *p)
{
    for (size_t i = 0; i < nw; i++) {
        if (!w[i].blob)
            continue;
        int rc = memgauge__window_row_decode(&w[i]);
        if (rc)
            return rc;
        pick_series(p, &w[i].series, from, to, 0);
        memgauge__series_clear(&w[i].series);
    }
    return 0;
}

/* More samples in the range than a query decodes (a session stored before
 * the per-session cap): one point per window, its lowest footprint and its
 * peak at its start. */
static void pick_aggregates(const memgauge__window_row_t *w, size_t nw, picked_t *p)
{
    for (size_t i = 0; i < nw && p->n < p->cap; i++) {
        size_t k = p->n++;
        p->t[k] = w[i].start_ms;
        p->fp[k] = w[i].min;
        p->pk[k] = w[i].peak;
        p->rs[k] = 0;
        p->has_rs[k] = 0;
        p->trail[k] = 0;
    }
}

static void picked_free(picked_t *p)
{
    free(p->t), free(p->fp), free(p->pk), free(p->rs), free(p->has_rs), free(p->trail);
}

static void add_range_end(cJSON *j, const char *name, int given, uint64_t v)
{
    if (given)
        add_u64(j, name, v);
    else
        cJSON_AddNullToObject(j, name);
}

static cJSON *window_json(const memgauge__window_row_t *w)
{
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "start_ms", w->start_ms);
    add_u64(o, "end_ms", w->end_ms);
    add_u64(o, "samples", w->samples);
    add_u64(o, "min", w->min);
    add_u64(o, "max", w->max);
    add_u64(o, "mean", w->mean);
    add_u64(o, "peak", w->peak);
    add_u64(o, "kernel_peak", w->kernel_peak);
    add_u64(o, "limit", w->limit);
    add_u64(o, "headroom", w->headroom);
    cJSON_AddStringToObject(o, "metric", w->metric);
    return o;
}

/* GET /v1/sessions/{id}/samples?points=N&from_ms=&to_ms=: the stored
 * samples of the session with from_ms <= t_ms <= to_ms (ms since the session
 * start, both optional, inclusive), min-max decimated over that range to at
 * most N points; resident taken at the kept indices. Only the windows
 * overlapping the range are read, and at most MEMGAUGE__MAX_SESSION_SAMPLES
 * samples are decoded (beyond: one point per window). */
static void serve_samples(memgauge__store_t *st, const char *id, memgauge__arg_fn arg, void *cls,
                          memgauge__reply_t *out)
{
    size_t points;
    uint64_t from, to;
    int has_from, has_to;
    memgauge__session_row_t row;
    if (int_arg(arg, cls, "points", 2, MAX_POINTS, DEFAULT_POINTS, &points, out) ||
        uint_arg(arg, cls, "from_ms", 0, MAX_MS, 0, &from, &has_from, out) ||
        uint_arg(arg, cls, "to_ms", 0, MAX_MS, UINT64_MAX, &to, &has_to, out))
        return;
    if (from > to) {
        bad_arg(out, "from_ms", "must be at most to_ms");
        return;
    }
    if (one_session(st, id, &row, out))
        return;
    memgauge__window_query_t q = {.session_id = id,
                                  .from_ms = from,
                                  .to_ms = to,
                                  .blob_budget = MEMGAUGE__MAX_SESSION_SAMPLES};
    memgauge__window_row_t *w;
    size_t nw;
    if (st->ops->windows(st, &q, &w, &nw)) {
        store_failed(st, out);
        return;
    }
    memgauge__series_t trail = {0};
    int has_trail = 0;
    if (row.trail_samples && st->ops->trail(st, id, &trail, &has_trail)) {
        memgauge__window_rows_free(w, nw);
        store_failed(st, out);
        return;
    }
    size_t cap = trail.n + (q.over_budget ? nw : 0);
    for (size_t i = 0; !q.over_budget && i < nw; i++)
        cap += w[i].blob ? w[i].samples : 0;
    picked_t p;
    size_t *idx = malloc((points + 1) * sizeof *idx);
    int rc = picked_alloc(&p, cap) || !idx ? MEMGAUGE__STORE_NO_MEMORY : 0;
    if (!rc && q.over_budget)
        pick_aggregates(w, nw, &p);
    else if (!rc)
        rc = pick_windows(w, nw, from, to, &p);
    if (!rc && has_trail)
        pick_series(&p, &trail, from, to, 1); /* after every window: t > the last one's end */
    memgauge__series_clear(&trail);
    if (rc) {
        picked_free(&p);
        free(idx);
        memgauge__window_rows_free(w, nw);
        if (rc == MEMGAUGE__STORE_NO_MEMORY) {
            memgauge__reply_error(out, 500, "out of memory", NULL, NULL);
            return;
        }
        fprintf(stderr, "memgauge-collector: query: session %s: a stored series is corrupt\n", id);
        memgauge__reply_error(out, 500, "storage failure", NULL, NULL);
        return;
    }
    size_t kept = memgauge__decimate(p.fp, p.pk, p.n, points, idx);
    /* at window resolution: the samples of the windows the range touches */
    uint64_t range_samples = p.n;
    if (q.over_budget) {
        range_samples = p.n - nw; /* the trail's points */
        for (size_t i = 0; i < nw; i++)
            range_samples += w[i].samples;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_id", id);
    add_u64(j, "start_unix_ms", row.start_unix_ms);
    add_u64(j, "samples_total", q.series_total + row.trail_samples);
    add_u64(j, "trail_samples", row.trail_samples);
    add_range_end(j, "from_ms", has_from, from);
    add_range_end(j, "to_ms", has_to, to);
    add_u64(j, "samples_in_range", range_samples);
    add_u64(j, "points", kept);
    cJSON_AddBoolToObject(j, "decimated", kept < range_samples);
    cJSON_AddStringToObject(j, "resolution", q.over_budget ? "windows" : "samples");
    cJSON *jt = cJSON_AddArrayToObject(j, "t_ms");
    cJSON *jf = cJSON_AddArrayToObject(j, "footprint");
    cJSON *jp = cJSON_AddArrayToObject(j, "peak");
    /* absent when no window in the range reported resident; null at the
     * points whose window did not */
    cJSON *jr = p.any_rs ? cJSON_AddArrayToObject(j, "resident") : NULL;
    /* absent when no trail sample is in the range: true at the points that
     * came from a verdict's trail rather than from a window */
    cJSON *jtr = p.any_trail ? cJSON_AddArrayToObject(j, "from_trail") : NULL;
    for (size_t i = 0; i < kept; i++) {
        size_t k = idx[i];
        cJSON_AddItemToArray(jt, cJSON_CreateNumber((double)p.t[k]));
        cJSON_AddItemToArray(jf, cJSON_CreateNumber((double)p.fp[k]));
        cJSON_AddItemToArray(jp, cJSON_CreateNumber((double)p.pk[k]));
        if (jr)
            cJSON_AddItemToArray(jr, p.has_rs[k] ? cJSON_CreateNumber((double)p.rs[k])
                                                 : cJSON_CreateNull());
        if (jtr)
            cJSON_AddItemToArray(jtr, cJSON_CreateBool(p.trail[k]));
    }
    /* the aggregates of the windows the range touches carry the limit line
     * and the kernel's peaks */
    cJSON *jw = cJSON_AddArrayToObject(j, "windows");
    for (size_t i = 0; i < nw; i++)
        if (in_range(&w[i], from, to))
            cJSON_AddItemToArray(jw, window_json(&w[i]));
    picked_free(&p);
    free(idx);
    memgauge__window_rows_free(w, nw);
    memgauge__reply_json(out, 200, j);
}

static void serve_events(memgauge__store_t *st, const char *id, memgauge__reply_t *out)
{
    memgauge__session_row_t row;
    if (one_session(st, id, &row, out))
        return;
    memgauge__event_row_t *e;
    size_t n;
    if (st->ops->events(st, id, &e, &n)) {
        store_failed(st, out);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_id", id);
    cJSON *list = cJSON_AddArrayToObject(j, "events");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", e[i].kind);
        add_u64(o, "t_ms", e[i].t_ms);
        if (!strcmp(e[i].kind, "threshold")) {
            cJSON_AddNumberToObject(o, "id", e[i].threshold_id);
            cJSON_AddStringToObject(o, "direction", e[i].direction);
            cJSON_AddBoolToObject(o, "urgent", e[i].urgent);
            add_u64(o, "level", e[i].level);
            add_u64(o, "footprint", e[i].footprint);
            add_u64(o, "limit", e[i].limit);
        }
        if (e[i].pressure[0])
            cJSON_AddStringToObject(o, "level", e[i].pressure);
        cJSON_AddItemToArray(list, o);
    }
    free(e);
    memgauge__reply_json(out, 200, j);
}

static int is_uuid(const char *s, size_t n)
{
    if (n != MEMGAUGE__UUID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

void memgauge__query(memgauge__store_t *st, const char *path, memgauge__arg_fn arg, void *cls,
                     memgauge__reply_t *out)
{
    if (!strcmp(path, "/v1/apps")) {
        serve_apps(st, out);
        return;
    }
    if (!strcmp(path, "/v1/stats")) {
        serve_stats(st, arg, cls, out);
        return;
    }
    if (!strcmp(path, "/v1/sessions")) {
        serve_sessions(st, arg, cls, out);
        return;
    }
    if (!strcmp(path, "/v1/oom")) {
        serve_oom(st, arg, cls, out);
        return;
    }
    static const char prefix[] = "/v1/sessions/";
    if (!strncmp(path, prefix, sizeof prefix - 1)) {
        const char *id = path + sizeof prefix - 1;
        size_t n = strcspn(id, "/");
        char sid[MEMGAUGE__UUID_LEN + 1];
        if (!is_uuid(id, n)) {
            memgauge__reply_error(out, 404, "not found", "session_id", "not a lower-case UUID");
            return;
        }
        memcpy(sid, id, n);
        sid[n] = '\0';
        const char *rest = id + n;
        if (!rest[0]) {
            memgauge__session_row_t row;
            if (!one_session(st, sid, &row, out))
                memgauge__reply_json(out, 200, session_json(&row));
            return;
        }
        if (!strcmp(rest, "/samples")) {
            serve_samples(st, sid, arg, cls, out);
            return;
        }
        if (!strcmp(rest, "/events")) {
            serve_events(st, sid, out);
            return;
        }
    }
    memgauge__reply_error(out, 404, "not found", NULL, NULL);
}
