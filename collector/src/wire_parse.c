/* JSON body -> memgauge__batch_t, refusing the first field that breaks wire
 * format v1 (docs/wire-format.md, docs/wire-format.schema.json). Unknown
 * fields are ignored. */
#include "wire_parse.h"

#include "utf8.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 192

/* Paths are built by bounded appends: a path longer than the buffer is cut,
 * which only shortens the error message. */
static void append(char *dst, size_t *at, const char *src)
{
    while (*src && *at + 1 < PATH_MAX_LEN)
        dst[(*at)++] = *src++;
    dst[*at] = '\0';
}

static int fail(memgauge__wire_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(memgauge__wire_error_t *err, const char *field, const char *fmt, ...)
{
    size_t at = 0;
    err->field[0] = '\0';
    append(err->field, &at, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return MEMGAUGE__WIRE_INVALID;
}

/* path = prefix + "." + name (or just name at the top) */
static void join(char *dst, const char *prefix, const char *name)
{
    size_t at = 0;
    dst[0] = '\0';
    if (prefix && prefix[0]) {
        append(dst, &at, prefix);
        append(dst, &at, ".");
    }
    append(dst, &at, name);
}

static void index_path(char *dst, const char *prefix, size_t i)
{
    char num[32];
    size_t at = 0;
    snprintf(num, sizeof num, "[%zu]", i);
    dst[0] = '\0';
    append(dst, &at, prefix);
    append(dst, &at, num);
}

/* A JSON number that is an integer in [lo, hi]. */
static int number_value(const cJSON *v, const char *path, double lo, double hi, double *out,
                        memgauge__wire_error_t *err)
{
    if (!cJSON_IsNumber(v))
        return fail(err, path, "must be an integer");
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return fail(err, path, "must be an integer");
    if (d < lo)
        return fail(err, path, "must be at least %.0f", lo);
    if (d > hi)
        return fail(err, path, "must be at most %.0f", hi);
    *out = d;
    return 0;
}

static int get_count(const cJSON *obj, const char *prefix, const char *name, int required,
                     uint64_t *out, memgauge__wire_error_t *err)
{
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) {
        if (required)
            return fail(err, path, "is required");
        *out = 0;
        return 0;
    }
    double d;
    if (number_value(v, path, 0, MEMGAUGE__MAX_NUMBER, &d, err))
        return MEMGAUGE__WIRE_INVALID;
    *out = (uint64_t)d;
    return 0;
}

static int get_text(const cJSON *obj, const char *prefix, const char *name, int required, char *out,
                    size_t max, memgauge__wire_error_t *err)
{
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    out[0] = '\0';
    if (!v)
        return required ? fail(err, path, "is required") : 0;
    if (!cJSON_IsString(v))
        return fail(err, path, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n == 0)
        return fail(err, path, "must not be empty");
    if (n > max)
        return fail(err, path, "must be at most %zu bytes", max);
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

static int is_word(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MEMGAUGE__WORD_MAX || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int get_word(const cJSON *obj, const char *prefix, const char *name, int required, char *out,
                    memgauge__wire_error_t *err)
{
    if (get_text(obj, prefix, name, required, out, MEMGAUGE__WORD_MAX, err))
        return MEMGAUGE__WIRE_INVALID;
    if (out[0] && !is_word(out)) {
        char path[PATH_MAX_LEN];
        join(path, prefix, name);
        return fail(err, path, "must be a lower-case snake_case word");
    }
    return 0;
}

static int get_uuid(const cJSON *obj, const char *prefix, const char *name, char *out,
                    memgauge__wire_error_t *err)
{
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return fail(err, path, "is required");
    if (!cJSON_IsString(v))
        return fail(err, path, "must be a UUID string");
    const char *s = v->valuestring;
    if (strlen(s) != MEMGAUGE__UUID_LEN)
        return fail(err, path, "must be a UUID (8-4-4-4-12 hex digits)");
    for (size_t i = 0; i < MEMGAUGE__UUID_LEN; i++) {
        char c = s[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return fail(err, path, "must be a UUID (8-4-4-4-12 hex digits)");
        out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    out[MEMGAUGE__UUID_LEN] = '\0';
    return 0;
}

static int get_object(const cJSON *obj, const char *prefix, const char *name, int required,
                      const cJSON **out, memgauge__wire_error_t *err)
{
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v)
        return required ? fail(err, path, "is required") : 0;
    if (!cJSON_IsObject(v))
        return fail(err, path, "must be an object");
    *out = v;
    return 0;
}

static int get_array(const cJSON *obj, const char *prefix, const char *name, int required,
                     size_t max, const cJSON **out, size_t *count, memgauge__wire_error_t *err)
{
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    *count = 0;
    if (!v)
        return required ? fail(err, path, "is required") : 0;
    if (!cJSON_IsArray(v))
        return fail(err, path, "must be an array");
    size_t n = 0;
    for (const cJSON *c = v->child; c; c = c->next)
        if (++n > max)
            return fail(err, path, "must have at most %zu elements", max);
    *out = v;
    *count = n;
    return 0;
}

static int get_pressure(const cJSON *obj, const char *prefix, const char *name, int required,
                        int *out, memgauge__wire_error_t *err)
{
    char word[MEMGAUGE__WORD_MAX + 1];
    *out = 0;
    if (get_text(obj, prefix, name, required, word, MEMGAUGE__WORD_MAX, err))
        return MEMGAUGE__WIRE_INVALID;
    if (!word[0])
        return 0;
    for (int p = MEMGAUGE__PRESSURE_NORMAL; p <= MEMGAUGE__PRESSURE_CRITICAL; p++)
        if (strcmp(word, memgauge__pressure_name(p)) == 0) {
            *out = p;
            return 0;
        }
    char path[PATH_MAX_LEN];
    join(path, prefix, name);
    return fail(err, path, "must be one of normal, warning, critical");
}

/* One column of a series: `n` numbers; delta-encoded columns accumulate. */
static int decode_column(const cJSON *arr, const char *path, uint64_t unit, int delta, int is_time,
                         uint64_t *out, const uint64_t *base, memgauge__wire_error_t *err)
{
    char ipath[PATH_MAX_LEN];
    double limit = MEMGAUGE__MAX_NUMBER / (double)unit;
    double acc = 0;
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        double d;
        int first = i == 0;
        double lo = (delta && !first && !is_time) ? -MEMGAUGE__MAX_NUMBER : 0;
        if (number_value(c, "", lo, MEMGAUGE__MAX_NUMBER, &d, err)) {
            index_path(ipath, path, i);
            size_t at = 0;
            append(err->field, &at, ipath);
            return MEMGAUGE__WIRE_INVALID;
        }
        acc = (delta && !first) ? acc + d : d;
        double value = base ? (double)base[i] / (double)unit + acc : acc;
        if (value < 0 || value > limit) {
            index_path(ipath, path, i);
            return fail(err, ipath, "decoded value %.0f is out of range 0 .. 2^53 bytes",
                        value * (double)unit);
        }
        out[i] = is_time ? (uint64_t)acc : (uint64_t)value * unit;
    }
    return 0;
}

/* A series object; `expected` samples (0 = any up to max). */
static int parse_series(const cJSON *s, const char *path, size_t expected, size_t max,
                        memgauge__series_t *out, memgauge__wire_error_t *err)
{
    char p[PATH_MAX_LEN];
    if (!cJSON_IsObject(s))
        return fail(err, path, "must be an object");
    uint64_t unit = 1;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, "unit_bytes");
    if (u) {
        double d;
        join(p, path, "unit_bytes");
        if (number_value(u, p, 1, 65536, &d, err))
            return MEMGAUGE__WIRE_INVALID;
        unit = (uint64_t)d;
        if (unit & (unit - 1))
            return fail(err, p, "must be a power of two");
    }
    const cJSON *t, *fp, *rs, *pk;
    size_t n, nf, nr, np;
    if (get_array(s, path, "t", 1, max, &t, &n, err))
        return MEMGAUGE__WIRE_INVALID;
    join(p, path, "t");
    if (expected && n != expected)
        return fail(err, p, "has %zu samples, the window says %zu", n, expected);
    if (n == 0)
        return fail(err, p, "must not be empty");
    if (get_array(s, path, "footprint", 1, max, &fp, &nf, err) ||
        get_array(s, path, "resident", 0, max, &rs, &nr, err) ||
        get_array(s, path, "peak_excess", 0, max, &pk, &np, err))
        return MEMGAUGE__WIRE_INVALID;
    const char *names[3] = {"footprint", "resident", "peak_excess"};
    const cJSON *cols[3] = {fp, rs, pk};
    size_t counts[3] = {nf, nr, np};
    for (int c = 0; c < 3; c++)
        if (cols[c] && counts[c] != n) {
            join(p, path, names[c]);
            return fail(err, p, "has %zu values, t has %zu", counts[c], n);
        }
    if (memgauge__series_alloc(out, n, rs != NULL, pk != NULL))
        return MEMGAUGE__WIRE_NO_MEMORY;
    out->unit_bytes = unit;
    int rc;
    join(p, path, "t");
    rc = decode_column(t, p, 1, 1, 1, out->t_ms, NULL, err);
    if (!rc) {
        join(p, path, "footprint");
        rc = decode_column(fp, p, unit, 1, 0, out->footprint, NULL, err);
    }
    if (!rc && rs) {
        join(p, path, "resident");
        rc = decode_column(rs, p, unit, 1, 0, out->resident, NULL, err);
    }
    if (!rc && pk) {
        join(p, path, "peak_excess");
        rc = decode_column(pk, p, unit, 0, 0, out->peak, out->footprint, err);
    }
    if (rc)
        memgauge__series_clear(out);
    return rc;
}

/* The aggregates a window may leave out when it carries a series, derived
 * from the decoded samples (docs/wire-format.md, "window"). */
static void derive_aggregates(const memgauge__series_t *s, uint64_t out[9])
{
    size_t n = s->n;
    uint64_t min = s->footprint[0], max = s->footprint[0], peak = 0, q = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t f = s->footprint[i], p = s->peak ? s->peak[i] : f;
        min = f < min ? f : min;
        max = f > max ? f : max;
        peak = p > peak ? p : peak;
        q += f / n; /* mean = q + r / n, exact without a 128-bit sum */
        r += f % n;
        if (r >= n) {
            q += r / n;
            r %= n;
        }
    }
    uint64_t v[9] = {
        s->t_ms[0], s->t_ms[n - 1], n, s->footprint[0], s->footprint[n - 1], min, max, q, peak};
    memcpy(out, v, sizeof v);
}

/* `prev`: the window before in a schema 2 batch, whose kernel_peak, limit
 * and headroom a window that leaves them out carries on; NULL: they default
 * to 0 (schema 1, or the batch's first window). */
static int parse_window(const cJSON *w, const char *path, int batch_metric,
                        const memgauge__window_t *prev, memgauge__window_t *out,
                        memgauge__wire_error_t *err)
{
    char p[PATH_MAX_LEN];
    if (!cJSON_IsObject(w))
        return fail(err, path, "must be an object");
    /* the first nine may be left out when a series is present (derived from
     * it); the last three default to 0 (unknown) */
    static const char *const names[] = {"start_ms", "end_ms",      "samples", "first",
                                        "last",     "min",         "max",     "mean",
                                        "peak",     "kernel_peak", "limit",   "headroom"};
    uint64_t *fields[] = {&out->start_ms, &out->end_ms,      &out->samples, &out->first,
                          &out->last,     &out->min,         &out->max,     &out->mean,
                          &out->peak,     &out->kernel_peak, &out->limit,   &out->headroom};
    enum { DERIVABLE = 9, FIELDS = sizeof names / sizeof names[0] };
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(w, "series");
    int given[FIELDS];
    for (size_t i = 0; i < FIELDS; i++) {
        given[i] = cJSON_GetObjectItemCaseSensitive(w, names[i]) != NULL;
        if (get_count(w, path, names[i], i < DERIVABLE && !s, fields[i], err))
            return MEMGAUGE__WIRE_INVALID;
    }
    uint64_t carried[] = {prev ? prev->kernel_peak : 0, prev ? prev->limit : 0,
                          prev ? prev->headroom : 0};
    for (size_t i = DERIVABLE; i < FIELDS; i++)
        if (!given[i])
            *fields[i] = carried[i - DERIVABLE];
    if (given[2] && (out->samples < 1 || out->samples > MEMGAUGE__MAX_WINDOW_SAMPLES))
        return join(p, path, "samples"),
               fail(err, p, "must be between 1 and %d", MEMGAUGE__MAX_WINDOW_SAMPLES);
    out->metric = batch_metric;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(w, "metric");
    if (m) {
        join(p, path, "metric");
        if (!cJSON_IsString(m) || !(out->metric = memgauge__metric_from_name(m->valuestring)))
            return fail(err, p,
                        "must be one of phys_footprint, internal_compressed, "
                        "resident_fallback, linux_private_footprint");
    }
    if (s) {
        join(p, path, "series");
        int rc = parse_series(s, p, given[2] ? (size_t)out->samples : 0,
                              MEMGAUGE__MAX_WINDOW_SAMPLES, &out->series, err);
        if (rc)
            return rc;
        out->has_series = 1;
        uint64_t derived[DERIVABLE];
        derive_aggregates(&out->series, derived);
        for (size_t i = 0; i < DERIVABLE; i++)
            if (!given[i])
                *fields[i] = derived[i];
    }
    if (out->end_ms < out->start_ms)
        return join(p, path, "end_ms"), fail(err, p, "is before start_ms");
    if (out->max < out->min)
        return join(p, path, "max"), fail(err, p, "is below min");
    const char *within[] = {"first", "last", "mean"};
    uint64_t vals[] = {out->first, out->last, out->mean};
    for (int i = 0; i < 3; i++)
        if (vals[i] < out->min || vals[i] > out->max)
            return join(p, path, within[i]), fail(err, p, "is outside min .. max");
    if (out->peak < out->max)
        return join(p, path, "peak"), fail(err, p, "is below max");
    for (size_t i = 0; s && i < out->series.n; i++)
        if (out->series.t_ms[i] < out->start_ms || out->series.t_ms[i] > out->end_ms) {
            char q[PATH_MAX_LEN];
            join(p, path, "series");
            join(q, p, "t");
            index_path(p, q, i);
            return fail(err, p, "time %llu ms is outside the window's start_ms .. end_ms",
                        (unsigned long long)out->series.t_ms[i]);
        }
    return 0;
}

static int parse_event(const cJSON *e, const char *path, memgauge__event_t *out,
                       memgauge__wire_error_t *err)
{
    char p[PATH_MAX_LEN];
    if (!cJSON_IsObject(e))
        return fail(err, path, "must be an object");
    char type[MEMGAUGE__WORD_MAX + 1];
    if (get_text(e, path, "type", 1, type, MEMGAUGE__WORD_MAX, err) ||
        get_count(e, path, "t_ms", 1, &out->t_ms, err))
        return MEMGAUGE__WIRE_INVALID;
    if (strcmp(type, "threshold") == 0) {
        out->kind = MEMGAUGE__EVENT_THRESHOLD;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        double d;
        join(p, path, "id");
        if (!id)
            return fail(err, p, "is required");
        if (number_value(id, p, -2147483648.0, 2147483647.0, &d, err))
            return MEMGAUGE__WIRE_INVALID;
        out->threshold_id = (int32_t)d;
        char dir[8];
        if (get_text(e, path, "direction", 1, dir, sizeof dir - 1, err))
            return MEMGAUGE__WIRE_INVALID;
        if (strcmp(dir, "up") && strcmp(dir, "down"))
            return join(p, path, "direction"), fail(err, p, "must be \"up\" or \"down\"");
        out->direction_up = strcmp(dir, "up") == 0;
        const cJSON *urgent = cJSON_GetObjectItemCaseSensitive(e, "urgent");
        join(p, path, "urgent");
        if (!urgent)
            return fail(err, p, "is required");
        if (!cJSON_IsBool(urgent))
            return fail(err, p, "must be true or false");
        out->urgent = cJSON_IsTrue(urgent);
        if (get_count(e, path, "level", 1, &out->level, err) ||
            get_count(e, path, "footprint", 1, &out->footprint, err) ||
            get_count(e, path, "limit", 1, &out->limit, err))
            return MEMGAUGE__WIRE_INVALID;
        return 0;
    }
    if (strcmp(type, "pressure") == 0) {
        out->kind = MEMGAUGE__EVENT_PRESSURE;
        return get_pressure(e, path, "level", 1, &out->pressure, err);
    }
    if (strcmp(type, "previous_session") == 0) {
        out->kind = MEMGAUGE__EVENT_PREVIOUS_SESSION;
        if (get_uuid(e, path, "session_id", out->session_id, err) ||
            get_word(e, path, "verdict", 1, out->verdict, err) ||
            get_text(e, path, "grade", 0, out->grade, sizeof out->grade - 1, err))
            return MEMGAUGE__WIRE_INVALID;
        if (out->grade[0] && strcmp(out->grade, "high") && strcmp(out->grade, "medium") &&
            strcmp(out->grade, "low"))
            return join(p, path, "grade"), fail(err, p, "must be one of high, medium, low");
        if (get_count(e, path, "start_unix_ms", 0, &out->start_unix_ms, err) ||
            get_count(e, path, "ended_ms", 0, &out->ended_ms, err) ||
            get_count(e, path, "last_footprint", 0, &out->last_footprint, err) ||
            get_count(e, path, "limit", 0, &out->limit, err) ||
            get_pressure(e, path, "pressure", 0, &out->pressure, err))
            return MEMGAUGE__WIRE_INVALID;
        const cJSON *trail = cJSON_GetObjectItemCaseSensitive(e, "trail");
        if (trail) {
            join(p, path, "trail");
            int rc = parse_series(trail, p, 0, MEMGAUGE__MAX_TRAIL_SAMPLES, &out->trail, err);
            if (rc)
                return rc;
            out->has_trail = 1;
        }
        return 0;
    }
    join(p, path, "type");
    return fail(err, p, "must be one of threshold, pressure, previous_session");
}

/* session.end and session.end_ms come together, in the final batch of a
 * clean stop only; "clean_stop" is the one ending v1 knows. */
static int parse_end(const cJSON *session, memgauge__batch_t *b, memgauge__wire_error_t *err)
{
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(session, "end");
    const cJSON *end_ms = cJSON_GetObjectItemCaseSensitive(session, "end_ms");
    if (!end && !end_ms)
        return 0;
    if (!end)
        return fail(err, "session.end", "is required with session.end_ms");
    if (!cJSON_IsString(end) || strcmp(end->valuestring, "clean_stop") != 0)
        return fail(err, "session.end", "must be clean_stop");
    if (!end_ms)
        return fail(err, "session.end_ms", "is required with session.end");
    b->clean_stop = 1;
    return get_count(session, "session", "end_ms", 1, &b->end_ms, err);
}

static int parse_root(const cJSON *root, memgauge__batch_t *b, memgauge__wire_error_t *err)
{
    char p[PATH_MAX_LEN];
    if (!cJSON_IsObject(root))
        return fail(err, "body", "must be a JSON object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!schema)
        return fail(err, "schema", "is required");
    if (!cJSON_IsNumber(schema) || (schema->valuedouble != 1.0 && schema->valuedouble != 2.0))
        return fail(err, "schema", "unsupported version (this collector speaks 1 and 2)");
    /* schema 2: sdk, device and app.version (with app.build) may be left out
     * once the collector has them from an earlier batch of the session */
    int full = schema->valuedouble == 1.0;
    b->schema = full ? 1 : 2;
    const cJSON *sdk, *app, *device, *session;
    if (get_uuid(root, "", "batch_id", b->batch_id, err) ||
        get_count(root, "", "sent_unix_ms", 1, &b->sent_unix_ms, err) ||
        get_object(root, "", "sdk", full, &sdk, err) ||
        (sdk && (get_text(sdk, "sdk", "name", 1, b->sdk_name, MEMGAUGE__TEXT_MAX, err) ||
                 get_text(sdk, "sdk", "version", 1, b->sdk_version, MEMGAUGE__TEXT_MAX, err))) ||
        get_object(root, "", "app", 1, &app, err) ||
        get_text(app, "app", "id", 1, b->app_id, MEMGAUGE__TEXT_MAX, err) ||
        get_text(app, "app", "version", full, b->app_version, MEMGAUGE__TEXT_MAX, err) ||
        get_text(app, "app", "build", 0, b->app_build, MEMGAUGE__TEXT_MAX, err) ||
        get_object(root, "", "device", full, &device, err) ||
        (device &&
         (get_text(device, "device", "model", 1, b->device_model, MEMGAUGE__TEXT_MAX, err) ||
          get_text(device, "device", "os_name", 1, b->os_name, MEMGAUGE__TEXT_MAX, err) ||
          get_text(device, "device", "os_version", 1, b->os_version, MEMGAUGE__TEXT_MAX, err) ||
          get_text(device, "device", "os_build", 0, b->os_build, MEMGAUGE__TEXT_MAX, err))) ||
        get_object(root, "", "session", 1, &session, err) ||
        get_uuid(session, "session", "id", b->session_id, err) ||
        get_count(session, "session", "start_unix_ms", 1, &b->session_start_unix_ms, err))
        return MEMGAUGE__WIRE_INVALID;
    if (b->app_version[0] == '\0' && b->app_build[0] != '\0')
        return fail(err, "app.build", "is given only with app.version");
    const cJSON *interval = cJSON_GetObjectItemCaseSensitive(session, "interval_ms");
    if (interval) {
        double d;
        if (number_value(interval, "session.interval_ms", 1, 86400000, &d, err))
            return MEMGAUGE__WIRE_INVALID;
        b->interval_ms = (uint32_t)d;
    }
    if (parse_end(session, b, err))
        return MEMGAUGE__WIRE_INVALID;
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(root, "metric");
    if (!metric)
        return fail(err, "metric", "is required");
    if (!cJSON_IsString(metric) || !(b->metric = memgauge__metric_from_name(metric->valuestring)))
        return fail(err, "metric",
                    "must be one of phys_footprint, internal_compressed, resident_fallback, "
                    "linux_private_footprint");

    const cJSON *windows, *events, *dropped;
    size_t nw, ne;
    if (get_array(root, "", "windows", 1, MEMGAUGE__MAX_WINDOWS, &windows, &nw, err) ||
        get_array(root, "", "events", 0, MEMGAUGE__MAX_EVENTS, &events, &ne, err) ||
        get_object(root, "", "dropped", 0, &dropped, err))
        return MEMGAUGE__WIRE_INVALID;
    if (nw && !(b->windows = calloc(nw, sizeof *b->windows)))
        return MEMGAUGE__WIRE_NO_MEMORY;
    size_t i = 0;
    for (const cJSON *w = windows->child; w; w = w->next, i++) {
        index_path(p, "windows", i);
        b->window_count = i + 1;
        int rc = parse_window(w, p, b->metric, b->schema == 2 && i > 0 ? &b->windows[i - 1] : NULL,
                              &b->windows[i], err);
        if (rc)
            return rc;
        b->total_samples += b->windows[i].samples;
        if (b->total_samples > MEMGAUGE__MAX_BATCH_SAMPLES) {
            char q[PATH_MAX_LEN];
            join(q, p, "samples");
            return fail(err, q, "the batch exceeds %d samples", MEMGAUGE__MAX_BATCH_SAMPLES);
        }
    }
    if (ne && !(b->events = calloc(ne, sizeof *b->events)))
        return MEMGAUGE__WIRE_NO_MEMORY;
    i = 0;
    for (const cJSON *e = events ? events->child : NULL; e; e = e->next, i++) {
        index_path(p, "events", i);
        b->event_count = i + 1;
        int rc = parse_event(e, p, &b->events[i], err);
        if (rc)
            return rc;
    }
    for (i = 0; b->clean_stop && i < b->window_count; i++)
        if (b->windows[i].end_ms > b->end_ms)
            return fail(err, "session.end_ms", "must be at least the last window's end_ms");
    for (const cJSON *c = dropped ? dropped->child : NULL; c; c = c->next) {
        join(p, "dropped", c->string);
        if (b->dropped_count == MEMGAUGE__MAX_DROPPED)
            return fail(err, p, "more than %d counters", MEMGAUGE__MAX_DROPPED);
        if (!is_word(c->string))
            return fail(err, p, "counter names must be lower-case snake_case words");
        memgauge__counter_t *k = &b->dropped[b->dropped_count];
        double d;
        if (number_value(c, p, 0, MEMGAUGE__MAX_NUMBER, &d, err))
            return MEMGAUGE__WIRE_INVALID;
        snprintf(k->name, sizeof k->name, "%s", c->string);
        k->count = (uint64_t)d;
        b->dropped_count++;
    }
    return 0;
}

int memgauge__wire_parse(const char *body, size_t len, memgauge__batch_t *out,
                         memgauge__wire_error_t *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!body)
        return fail(err, "body", "is empty");
    size_t bad = memgauge__utf8_check((const unsigned char *)body, len);
    if (bad != len)
        return fail(err, "body", "invalid UTF-8 at byte %zu", bad);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - body) : 0;
        return fail(err, "body", "malformed JSON near byte %zu", at);
    }
    size_t rest = (size_t)(end - body);
    while (rest < len &&
           (body[rest] == ' ' || body[rest] == '\n' || body[rest] == '\r' || body[rest] == '\t'))
        rest++;
    int rc = rest == len
                 ? parse_root(root, out, err)
                 : fail(err, "body", "trailing data after the JSON value at byte %zu", rest);
    cJSON_Delete(root);
    if (rc) {
        memgauge__batch_clear(out);
        if (rc == MEMGAUGE__WIRE_NO_MEMORY)
            fail(err, "body", "out of memory");
    }
    return rc;
}
