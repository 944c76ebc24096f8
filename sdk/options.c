/* Options: defaults, validation, error text, version, all made from the
 * table in options_table.h. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "options_table.h"

const char *memgauge_version(void)
{
    return MEMGAUGE_VERSION_STRING;
}

/* ---- the checks a range cannot say (CHECK rows) ------------------------- */

static int validate_threshold(const memgauge_threshold_t *t)
{
    int has_bytes = t->bytes != 0;
    int has_fraction = t->limit_fraction != 0.0;
    if (has_bytes == has_fraction)
        return MEMGAUGE_E_THRESHOLD_LEVEL;
    if (has_fraction && !(t->limit_fraction > 0.0 && t->limit_fraction <= 1.0))
        return MEMGAUGE_E_THRESHOLD_FRACTION;
    return MEMGAUGE_OK;
}

static int check_thresholds(const memgauge_options_t *o)
{
    if (o->threshold_count > MEMGAUGE_MAX_THRESHOLDS ||
        (o->threshold_count != 0 && o->thresholds == NULL))
        return MEMGAUGE_E_THRESHOLD_COUNT;
    for (uint32_t i = 0; i < o->threshold_count; i++) {
        int rc = validate_threshold(&o->thresholds[i]);
        if (rc != MEMGAUGE_OK)
            return rc;
    }
    return MEMGAUGE_OK;
}

static int check_storage_dir(const memgauge_options_t *o)
{
    if (o->storage_dir != NULL &&
        (o->storage_dir[0] == '\0' || strlen(o->storage_dir) > MEMGAUGE__STORAGE_DIR_MAX))
        return MEMGAUGE_E_STORAGE_DIR;
    return MEMGAUGE_OK;
}

/* app ids name a directory: keep them to a safe, portable alphabet */
static int check_app_id(const memgauge_options_t *o)
{
    const char *id = o->app_id;
    if (id == NULL)
        return MEMGAUGE_OK;
    size_t n = strlen(id);
    if (n == 0 || n > MEMGAUGE__APP_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return MEMGAUGE_E_APP_ID;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return MEMGAUGE_E_APP_ID;
    }
    return MEMGAUGE_OK;
}

static int check_app_version(const memgauge_options_t *o)
{
    if ((o->app_version != NULL && strlen(o->app_version) > MEMGAUGE__APP_VERSION_MAX) ||
        (o->app_build != NULL && strlen(o->app_build) > MEMGAUGE__APP_VERSION_MAX))
        return MEMGAUGE_E_APP_VERSION;
    return MEMGAUGE_OK;
}

static int check_pressure(const memgauge_options_t *o)
{
    double warn = o->pressure_warning_fraction, crit = o->pressure_critical_fraction;
    if (!(crit > 0.0 && crit < warn && warn < 1.0))
        return MEMGAUGE_E_PRESSURE_FRACTION;
    return MEMGAUGE_OK;
}

static int check_fast_headroom(const memgauge_options_t *o)
{
    if (!(o->fast_headroom_fraction >= 0.0 && o->fast_headroom_fraction < 1.0))
        return MEMGAUGE_E_FAST_TRIGGER;
    return MEMGAUGE_OK;
}

/* Header values and keys go into HTTP headers: no CR, LF or other control
 * character may smuggle in another header. */
static int printable(const char *s, size_t max, int allow_space)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (!allow_space && c == ' '))
            return 0;
    }
    return 1;
}

static int valid_header(const char *h)
{
    if (h == NULL || !printable(h, MEMGAUGE__HEADER_MAX, 1))
        return 0;
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return 0;
    for (const char *p = h; p < colon; p++)
        if (*p == ' ' || *p == '\t')
            return 0;
    return 1;
}

static int check_endpoint(const memgauge_options_t *o)
{
    const char *u = o->endpoint_url;
    int url_ok =
        printable(u, MEMGAUGE__URL_MAX, 0) && ((strncmp(u, "http://", 7) == 0 && u[7] != '\0') ||
                                               (strncmp(u, "https://", 8) == 0 && u[8] != '\0'));
    if (!url_ok || (o->send == NULL && !memgauge__have_curl()))
        return MEMGAUGE_E_ENDPOINT;
    return MEMGAUGE_OK;
}

static int check_api_key(const memgauge_options_t *o)
{
    if (o->api_key != NULL && !printable(o->api_key, MEMGAUGE__API_KEY_MAX, 0))
        return MEMGAUGE_E_API_KEY;
    return MEMGAUGE_OK;
}

static int check_ca_file(const memgauge_options_t *o)
{
    if (o->ca_file != NULL && (o->ca_file[0] == '\0' || strlen(o->ca_file) > MEMGAUGE__PATH_MAX))
        return MEMGAUGE_E_CA_FILE;
    return MEMGAUGE_OK;
}

static int check_proxy(const memgauge_options_t *o)
{
    if (o->proxy != NULL && !printable(o->proxy, MEMGAUGE__URL_MAX, 0))
        return MEMGAUGE_E_PROXY;
    return MEMGAUGE_OK;
}

static int check_headers(const memgauge_options_t *o)
{
    if (o->extra_header_count > MEMGAUGE__EXTRA_HEADERS_MAX ||
        (o->extra_header_count != 0 && o->extra_headers == NULL))
        return MEMGAUGE_E_HEADERS;
    for (uint32_t i = 0; i < o->extra_header_count; i++)
        if (!valid_header(o->extra_headers[i]))
            return MEMGAUGE_E_HEADERS;
    return MEMGAUGE_OK;
}

/* ---- the table as data --------------------------------------------------- */

#define STR_(x) #x
#define STR(x) STR_(x)
#define FIELD(f)                                                                                   \
    .name = #f, .offset = offsetof(memgauge_options_t, f),                                         \
    .size = sizeof(((memgauge_options_t *)0)->f)

#define ROW_RANGE(g, f, t, d, lo, hi, c, doc_)                                                     \
    {FIELD(f),                                                                                     \
     .type = MEMGAUGE__OPT_##t,                                                                    \
     .kind = MEMGAUGE__OPT_RANGE,                                                                  \
     .group = MEMGAUGE__OPT_##g,                                                                   \
     .def = d,                                                                                     \
     .def_text = STR(d),                                                                           \
     .min = lo,                                                                                    \
     .max = hi,                                                                                    \
     .code = c,                                                                                    \
     .code_name = #c,                                                                              \
     .range = STR(lo) " .. " STR(hi),                                                              \
     .error = "options." #f " must be between " STR(lo) " and " STR(hi),                           \
     .doc = doc_},
#define ROW_ABOVE(g, f, t, d, lo_field, hi, c, doc_)                                               \
    {FIELD(f),                                                                                     \
     .type = MEMGAUGE__OPT_##t,                                                                    \
     .kind = MEMGAUGE__OPT_ABOVE,                                                                  \
     .group = MEMGAUGE__OPT_##g,                                                                   \
     .def = d,                                                                                     \
     .def_text = STR(d),                                                                           \
     .max = hi,                                                                                    \
     .min_offset = offsetof(memgauge_options_t, lo_field),                                         \
     .min_name = #lo_field,                                                                        \
     .code = c,                                                                                    \
     .code_name = #c,                                                                              \
     .range = #lo_field " .. " STR(hi),                                                            \
     .error = "options." #f " must be at least options." #lo_field " and at most " STR(hi),        \
     .doc = doc_},
#define ROW_FLAG(g, f, d, c, doc_)                                                                 \
    {FIELD(f),                                                                                     \
     .type = MEMGAUGE__OPT_INT,                                                                    \
     .kind = MEMGAUGE__OPT_FLAG,                                                                   \
     .group = MEMGAUGE__OPT_##g,                                                                   \
     .def = d,                                                                                     \
     .def_text = STR(d),                                                                           \
     .min = 0,                                                                                     \
     .max = 1,                                                                                     \
     .code = c,                                                                                    \
     .code_name = #c,                                                                              \
     .range = "0 or 1",                                                                            \
     .error = "options." #f " must be 0 or 1",                                                     \
     .doc = doc_},
#define ROW_CHECK(g, f, t, d, fn, c, range_, error_, doc_)                                         \
    {FIELD(f),                                                                                     \
     .type = MEMGAUGE__OPT_##t,                                                                    \
     .kind = MEMGAUGE__OPT_CHECK,                                                                  \
     .group = MEMGAUGE__OPT_##g,                                                                   \
     .def = d,                                                                                     \
     .def_text = STR(d),                                                                           \
     .code = c,                                                                                    \
     .code_name = #c,                                                                              \
     .range = range_,                                                                              \
     .error = error_,                                                                              \
     .doc = doc_,                                                                                  \
     .check = fn},
#define ROW_FREE(g, f, t, doc_)                                                                    \
    {FIELD(f),                                                                                     \
     .type = MEMGAUGE__OPT_##t,                                                                    \
     .kind = MEMGAUGE__OPT_FREE,                                                                   \
     .group = MEMGAUGE__OPT_##g,                                                                   \
     .def_text = "NULL",                                                                           \
     .range = "any",                                                                               \
     .doc = doc_},

static const memgauge__option_t options[] = {
    MEMGAUGE__OPTIONS(ROW_RANGE, ROW_ABOVE, ROW_FLAG, ROW_CHECK, ROW_FREE)};
#define N_OPTIONS (sizeof options / sizeof options[0])

const memgauge__option_t *memgauge__options_table(size_t *count)
{
    *count = N_OPTIONS;
    return options;
}

static const memgauge__option_t *find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* A numeric option's value as a double: exact for every value a range
 * compares it with (all below 2^53). */
static double value_of(const memgauge_options_t *opts, size_t offset, int type)
{
    const unsigned char *p = (const unsigned char *)opts + offset;
    switch (type) {
    case MEMGAUGE__OPT_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case MEMGAUGE__OPT_U64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case MEMGAUGE__OPT_DBL: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case MEMGAUGE__OPT_INT: {
        int v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default:
        return 0;
    }
}

static void set_default(memgauge_options_t *opts, const memgauge__option_t *o)
{
    unsigned char *p = (unsigned char *)opts + o->offset;
    if (o->type == MEMGAUGE__OPT_U32) {
        uint32_t v = (uint32_t)o->def;
        memcpy(p, &v, sizeof v);
    } else if (o->type == MEMGAUGE__OPT_U64) {
        uint64_t v = (uint64_t)o->def;
        memcpy(p, &v, sizeof v);
    } else if (o->type == MEMGAUGE__OPT_DBL) {
        memcpy(p, &o->def, sizeof o->def);
    } else if (o->type == MEMGAUGE__OPT_INT) {
        int v = (int)o->def;
        memcpy(p, &v, sizeof v);
    } /* pointers: NULL, from the memset */
}

static int validate_option(const memgauge_options_t *opts, const memgauge__option_t *o)
{
    double v = value_of(opts, o->offset, o->type);
    switch (o->kind) {
    case MEMGAUGE__OPT_RANGE:
        return v >= o->min && v <= o->max ? MEMGAUGE_OK : o->code; /* refuses NaN */
    case MEMGAUGE__OPT_ABOVE:
        return v >= value_of(opts, o->min_offset, o->type) && v <= o->max ? MEMGAUGE_OK : o->code;
    case MEMGAUGE__OPT_FLAG:
        return v == 0 || v == 1 ? MEMGAUGE_OK : o->code;
    case MEMGAUGE__OPT_CHECK:
        return o->check != NULL ? o->check(opts) : MEMGAUGE_OK;
    default:
        return MEMGAUGE_OK;
    }
}

/* ---- the API ------------------------------------------------------------- */

static int unknown_tail_is_zero(const memgauge_options_t *opts);

int memgauge_options_init(memgauge_options_t *opts)
{
    if (opts == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    for (size_t i = 0; i < N_OPTIONS; i++)
        set_default(opts, &options[i]);
    return MEMGAUGE_OK;
}

int memgauge_option_range(const char *field, double *min, double *max)
{
    if (field == NULL || min == NULL || max == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    const memgauge__option_t *o = find_option(field);
    if (o == NULL || o->kind == MEMGAUGE__OPT_CHECK || o->kind == MEMGAUGE__OPT_FREE)
        return MEMGAUGE_E_ARGUMENT;
    *min = o->min;
    if (o->kind == MEMGAUGE__OPT_ABOVE) /* the lowest the option it follows can be */
        *min = find_option(o->min_name)->min;
    *max = o->max;
    return MEMGAUGE_OK;
}

int memgauge__options_normalize(const memgauge_options_t *in, memgauge_options_t *out)
{
    if (in == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (in->struct_size < MEMGAUGE__OPTIONS_V1_SIZE || !unknown_tail_is_zero(in))
        return MEMGAUGE_E_STRUCT_SIZE;
    memgauge_options_init(out);
    size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
    memcpy(out, in, n);
    out->struct_size = sizeof *out;
    return MEMGAUGE_OK;
}

/* A caller built against a newer header may pass a larger struct; that is
 * fine as long as every field this library does not know is zero (it asked
 * for nothing we cannot do). */
static int unknown_tail_is_zero(const memgauge_options_t *opts)
{
    const unsigned char *p = (const unsigned char *)opts;
    for (size_t i = sizeof *opts; i < opts->struct_size; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int memgauge__options_validate(const memgauge_options_t *opts)
{
    if (opts == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (opts->struct_size < MEMGAUGE__OPTIONS_V1_SIZE || !unknown_tail_is_zero(opts))
        return MEMGAUGE_E_STRUCT_SIZE;
    /* a smaller (older) struct has its 0.1 fields checked here and the rest
     * after memgauge__options_normalize */
    int complete = opts->struct_size >= sizeof *opts;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const memgauge__option_t *o = &options[i];
        if (o->group != MEMGAUGE__OPT_CORE && !complete)
            continue;
        if (o->group == MEMGAUGE__OPT_REPORT && opts->endpoint_url == NULL)
            continue; /* reporting is off: its fields are ignored */
        int rc = validate_option(opts, o);
        if (rc != MEMGAUGE_OK)
            return rc;
    }
    return MEMGAUGE_OK;
}

const char *memgauge_strerror(int code)
{
    switch (code) {
    case MEMGAUGE_OK:
        return "success";
    case MEMGAUGE_E_NULL_ARGUMENT:
        return "a required pointer argument is NULL";
    case MEMGAUGE_E_STRUCT_SIZE:
        return "struct_size is smaller than this library's first version of the struct, or "
               "the caller's newer struct sets fields this library does not know (use "
               "memgauge_options_init)";
    case MEMGAUGE_E_THRESHOLD_LEVEL:
        return "options.thresholds[i] must set exactly one of bytes and limit_fraction";
    case MEMGAUGE_E_THRESHOLD_FRACTION:
        return "options.thresholds[i].limit_fraction must be in (0, 1]";
    case MEMGAUGE_E_ALREADY_STARTED:
        return "a memgauge sampler is already running in this process";
    case MEMGAUGE_E_NOT_RUNNING:
        return "the handle is not a running memgauge sampler (already stopped?)";
    case MEMGAUGE_E_TIMEOUT:
        return "the sampler thread did not exit within timeout_ms (a callback is still running)";
    case MEMGAUGE_E_PLATFORM:
        return "the operating system refused every way to read the process's memory";
    case MEMGAUGE_E_NO_MEMORY:
        return "out of memory while starting the sampler";
    case MEMGAUGE_E_THREAD:
        return "the sampler thread could not be created";
    case MEMGAUGE_E_ARGUMENT:
        return "an argument is out of range (options.record must be 0 or 1; memgauge_stop "
               "cannot be called from the sampler's own callbacks; memgauge_option_range "
               "knows no such field with a range)";
    case MEMGAUGE_E_UNSUPPORTED:
        return "memgauge has no implementation for this platform";
    case MEMGAUGE_E_RECORD:
        return "the session record file in options.storage_dir could not be created or mapped";
    case MEMGAUGE_E_APP_STATE:
        return "the app state must be one of the memgauge_app_state_t values";
    case MEMGAUGE_E_THERMAL_STATE:
        return "the thermal state must be one of the memgauge_thermal_t values";
    case MEMGAUGE_E_LAUNCH_FLAGS:
        return "the launch flags may hold only MEMGAUGE_LAUNCH_PREWARMED and "
               "MEMGAUGE_LAUNCH_EXTENSION";
    case MEMGAUGE_E_TRANSPORT:
        return "the report spool (<storage dir>/spool) could not be created, or the transport "
               "thread could not start";
    default:
        break;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) /* one option's code: its row's text */
        if (options[i].code == code && code != 0 && options[i].error != NULL)
            return options[i].error;
    return "unknown memgauge error";
}

const char *memgauge_pressure_name(int level)
{
    switch (level) {
    case MEMGAUGE_PRESSURE_NORMAL:
        return "normal";
    case MEMGAUGE_PRESSURE_WARNING:
        return "warning";
    case MEMGAUGE_PRESSURE_CRITICAL:
        return "critical";
    default:
        return "unknown";
    }
}
