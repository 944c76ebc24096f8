/* Options (options.c, options_table.h): documented defaults, one error
 * code per bad field, error text that names the field, ranges the table
 * declares and validation enforces, and the version and source names. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "internal.h"
#include "options_table.h"

static memgauge_options_t defaults(void)
{
    memgauge_options_t o;
    memset(&o, 0xab, sizeof o);
    cr_assert(eq(int, memgauge_options_init(&o), MEMGAUGE_OK));
    return o;
}

static memgauge_threshold_t absolute(uint64_t bytes)
{
    memgauge_threshold_t t;
    memset(&t, 0, sizeof t);
    t.bytes = bytes;
    return t;
}

static memgauge_threshold_t of_limit(double fraction)
{
    memgauge_threshold_t t;
    memset(&t, 0, sizeof t);
    t.limit_fraction = fraction;
    return t;
}

static int validate_with_threshold(memgauge_threshold_t t)
{
    memgauge_options_t o = defaults();
    o.threshold_count = 1;
    o.thresholds = &t;
    return memgauge__options_validate(&o);
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                  */
/* ------------------------------------------------------------------------ */

Test(options_init, fills_the_documented_defaults)
{
    memgauge_options_t o = defaults();

    cr_assert(eq(sz, o.struct_size, sizeof(memgauge_options_t)));
    cr_assert(eq(u32, o.interval_ms, 1000));
    cr_assert(eq(u32, o.ring_capacity, 600));
    cr_assert(eq(u32, o.window_ms, 60000));
    cr_assert(eq(u32, o.report_interval_ms, 300000));
    cr_assert(eq(dbl, o.hysteresis_fraction, 0.05));
    cr_assert(eq(u32, o.threshold_count, 0));
    cr_assert(eq(ptr, (void *)o.thresholds, NULL));
    cr_assert(eq(ptr, (void *)o.on_sample, NULL));
    cr_assert(eq(ptr, (void *)o.on_threshold, NULL));
    cr_assert(eq(ptr, (void *)o.on_window, NULL));
    cr_assert(eq(ptr, o.user_data, NULL));
}

Test(options_init, defaults_are_valid)
{
    memgauge_options_t o = defaults();

    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_init, null_is_an_error)
{
    cr_assert(eq(int, memgauge_options_init(NULL), MEMGAUGE_E_NULL_ARGUMENT));
}

/* ------------------------------------------------------------------------ */
/* Validation: one code per bad field                                        */
/* ------------------------------------------------------------------------ */

Test(options_validate, null_is_an_error)
{
    cr_assert(eq(int, memgauge__options_validate(NULL), MEMGAUGE_E_NULL_ARGUMENT));
}

Test(options_validate, interval_range_is_10_to_86400000_ms)
{
    memgauge_options_t o = defaults();
    o.window_ms = 86400000;

    o.interval_ms = 9;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_INTERVAL));
    o.interval_ms = 0;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_INTERVAL));
    o.interval_ms = 86400001;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_INTERVAL));
    o.interval_ms = 10;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
    o.interval_ms = 86400000;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, ring_capacity_range_is_1_to_1048576)
{
    memgauge_options_t o = defaults();

    o.ring_capacity = 0;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_RING_CAPACITY));
    o.ring_capacity = 1048577;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_RING_CAPACITY));
    o.ring_capacity = 1;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
    o.ring_capacity = 1048576;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, window_must_not_be_below_the_interval)
{
    memgauge_options_t o = defaults();
    o.interval_ms = 5000;

    o.window_ms = 4999;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_WINDOW));
    o.window_ms = 5000;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, window_must_not_exceed_a_day)
{
    memgauge_options_t o = defaults();

    o.window_ms = 86400001;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_WINDOW));
    o.window_ms = 86400000;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, at_most_16_thresholds)
{
    memgauge_threshold_t t[MEMGAUGE_MAX_THRESHOLDS + 1];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        t[i] = absolute((i + 1) * 1000);
    memgauge_options_t o = defaults();
    o.thresholds = t;

    o.threshold_count = 17;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_THRESHOLD_COUNT));
    o.threshold_count = 16;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, thresholds_null_with_a_count_is_an_error)
{
    memgauge_options_t o = defaults();
    o.threshold_count = 1;
    o.thresholds = NULL;

    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_THRESHOLD_COUNT));
}

Test(options_validate, a_threshold_sets_exactly_one_of_bytes_and_fraction)
{
    memgauge_threshold_t both = absolute(1000);
    both.limit_fraction = 0.5;
    memgauge_threshold_t neither = absolute(0);

    cr_assert(eq(int, validate_with_threshold(both), MEMGAUGE_E_THRESHOLD_LEVEL));
    cr_assert(eq(int, validate_with_threshold(neither), MEMGAUGE_E_THRESHOLD_LEVEL));
    cr_assert(eq(int, validate_with_threshold(absolute(1000)), MEMGAUGE_OK));
    cr_assert(eq(int, validate_with_threshold(of_limit(0.5)), MEMGAUGE_OK));
}

Test(options_validate, a_fraction_must_be_in_0_exclusive_to_1_inclusive)
{
    cr_assert(eq(int, validate_with_threshold(of_limit(1.5)), MEMGAUGE_E_THRESHOLD_FRACTION));
    cr_assert(eq(int, validate_with_threshold(of_limit(-0.1)), MEMGAUGE_E_THRESHOLD_FRACTION));
    cr_assert(eq(int, validate_with_threshold(of_limit(NAN)), MEMGAUGE_E_THRESHOLD_FRACTION));
    cr_assert(eq(int, validate_with_threshold(of_limit(INFINITY)), MEMGAUGE_E_THRESHOLD_FRACTION));
    cr_assert(eq(int, validate_with_threshold(of_limit(1.0)), MEMGAUGE_OK));
    cr_assert(eq(int, validate_with_threshold(of_limit(1e-9)), MEMGAUGE_OK));
}

Test(options_validate, a_bad_threshold_after_good_ones_is_found)
{
    memgauge_threshold_t t[3] = {absolute(1000), of_limit(0.9), of_limit(2.0)};
    memgauge_options_t o = defaults();
    o.threshold_count = 3;
    o.thresholds = t;

    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_THRESHOLD_FRACTION));
    o.threshold_count = 2;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, hysteresis_range_is_0_to_one_half)
{
    memgauge_options_t o = defaults();

    o.hysteresis_fraction = 0.6;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_HYSTERESIS));
    o.hysteresis_fraction = NAN;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_HYSTERESIS));
    o.hysteresis_fraction = -0.01;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_HYSTERESIS));
    o.hysteresis_fraction = 0.0;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
    o.hysteresis_fraction = 0.5;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
}

Test(options_validate, struct_size_below_the_first_version_is_an_error)
{
    memgauge_options_t o = defaults();

    o.struct_size = 0;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_STRUCT_SIZE));
    o.struct_size = offsetof(memgauge_options_t, record) - 1;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_STRUCT_SIZE));
    o.struct_size = offsetof(memgauge_options_t, hysteresis_fraction);
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_STRUCT_SIZE));
}

/* An app built against the 0.1 header passes the 0.1 struct: accepted, and
 * every field added since keeps its default. */
Test(options_validate, the_first_version_of_the_struct_is_accepted_with_defaults_for_the_rest)
{
    memgauge_options_t o = defaults();
    o.struct_size = offsetof(memgauge_options_t, record);
    o.interval_ms = 500;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
    memgauge_options_t full;
    memset(&full, 0xee, sizeof full);
    cr_assert(eq(int, memgauge__options_normalize(&o, &full), MEMGAUGE_OK));
    cr_assert(eq(sz, full.struct_size, sizeof full));
    cr_assert(eq(u32, full.interval_ms, 500));
    cr_assert(eq(int, full.record, 1));
    cr_assert(eq(u32, full.trail_seconds, 60));
    cr_assert(eq(u32, full.fast_interval_ms, 100));
    cr_assert(eq(int, memgauge__options_validate(&full), MEMGAUGE_OK));
}

/* What an app built against a newer header passes: our fields, then more. */
typedef struct {
    memgauge_options_t known;
    unsigned char newer_fields[64];
} newer_options_t;

Test(options_validate, a_larger_struct_with_a_zero_tail_is_accepted)
{
    newer_options_t n;
    memset(&n, 0, sizeof n);
    cr_assert(eq(int, memgauge_options_init(&n.known), MEMGAUGE_OK));
    n.known.struct_size = sizeof n;

    cr_assert(eq(int, memgauge__options_validate(&n.known), MEMGAUGE_OK));
}

Test(options_validate, a_larger_struct_with_a_non_zero_unknown_field_is_an_error)
{
    newer_options_t n;
    memset(&n, 0, sizeof n);
    cr_assert(eq(int, memgauge_options_init(&n.known), MEMGAUGE_OK));
    n.known.struct_size = sizeof n;
    n.newer_fields[sizeof n.newer_fields - 1] = 1;

    cr_assert(eq(int, memgauge__options_validate(&n.known), MEMGAUGE_E_STRUCT_SIZE));
}

Test(options_validate, bytes_beyond_struct_size_are_not_read)
{
    newer_options_t n;
    memset(&n, 0, sizeof n);
    cr_assert(eq(int, memgauge_options_init(&n.known), MEMGAUGE_OK));
    n.known.struct_size = sizeof n.known + 8;
    n.newer_fields[8] = 1; /* just past what the caller declared */

    cr_assert(eq(int, memgauge__options_validate(&n.known), MEMGAUGE_OK));
}

Test(options_validate, the_first_bad_field_decides_the_code)
{
    memgauge_options_t o = defaults();
    o.interval_ms = 1;
    o.ring_capacity = 0;
    o.hysteresis_fraction = 2.0;

    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_INTERVAL));
    o.interval_ms = 1000;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_RING_CAPACITY));
    o.ring_capacity = 10;
    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_E_HYSTERESIS));
}

Test(options_validate, every_option_error_has_its_own_code)
{
    static const int codes[] = {
        MEMGAUGE_E_STRUCT_SIZE,        MEMGAUGE_E_INTERVAL,
        MEMGAUGE_E_RING_CAPACITY,      MEMGAUGE_E_WINDOW,
        MEMGAUGE_E_THRESHOLD_COUNT,    MEMGAUGE_E_THRESHOLD_LEVEL,
        MEMGAUGE_E_THRESHOLD_FRACTION, MEMGAUGE_E_HYSTERESIS,
    };
    const size_t n = sizeof codes / sizeof codes[0];

    for (size_t i = 0; i < n; i++) {
        cr_assert(lt(int, codes[i], 0));
        for (size_t j = i + 1; j < n; j++)
            cr_assert(ne(int, codes[i], codes[j]));
    }
}

/* ------------------------------------------------------------------------ */
/* Error text                                                                */
/* ------------------------------------------------------------------------ */

static void assert_text_names(int code, const char *field)
{
    const char *text = memgauge_strerror(code);
    cr_assert(ne(ptr, (void *)text, NULL));
    cr_assert(ne(ptr, strstr(text, field), NULL), "strerror(%d) = \"%s\" does not name %s", code,
              text, field);
}

Test(strerror, names_the_field_of_each_option_error)
{
    assert_text_names(MEMGAUGE_E_STRUCT_SIZE, "struct_size");
    assert_text_names(MEMGAUGE_E_INTERVAL, "interval_ms");
    assert_text_names(MEMGAUGE_E_RING_CAPACITY, "ring_capacity");
    assert_text_names(MEMGAUGE_E_WINDOW, "window_ms");
    assert_text_names(MEMGAUGE_E_THRESHOLD_COUNT, "threshold_count");
    assert_text_names(MEMGAUGE_E_THRESHOLD_LEVEL, "thresholds");
    assert_text_names(MEMGAUGE_E_THRESHOLD_LEVEL, "bytes");
    assert_text_names(MEMGAUGE_E_THRESHOLD_FRACTION, "limit_fraction");
    assert_text_names(MEMGAUGE_E_HYSTERESIS, "hysteresis_fraction");
}

Test(strerror, states_the_documented_ranges)
{
    cr_assert(eq(str, (char *)memgauge_strerror(MEMGAUGE_E_INTERVAL),
                 "options.interval_ms must be between 10 and 86400000"));
    assert_text_names(MEMGAUGE_E_RING_CAPACITY, "1048576");
    assert_text_names(MEMGAUGE_E_THRESHOLD_COUNT, "16");
    assert_text_names(MEMGAUGE_E_HYSTERESIS, "0.5");
}

Test(strerror, every_code_has_text)
{
    for (int code = MEMGAUGE_E_LAUNCH_FLAGS; code <= MEMGAUGE_OK; code++) {
        const char *text = memgauge_strerror(code);
        cr_assert(ne(ptr, (void *)text, NULL), "code %d", code);
        cr_assert(gt(sz, strlen(text), 0), "code %d", code);
        cr_assert(ne(str, (char *)text, "unknown memgauge error"), "code %d", code);
    }
}

Test(strerror, unknown_codes_have_generic_text)
{
    static const int unknown[] = {1, 42, -47, -1000, INT32_MIN, INT32_MAX};

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = memgauge_strerror(unknown[i]);
        cr_assert(ne(ptr, (void *)text, NULL));
        cr_assert(eq(str, (char *)text, "unknown memgauge error"), "code %d", unknown[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* The table: one row per field, enforced as declared                       */
/* ------------------------------------------------------------------------ */

static size_t type_size(int type)
{
    switch (type) {
    case MEMGAUGE__OPT_U32:
        return sizeof(uint32_t);
    case MEMGAUGE__OPT_U64:
        return sizeof(uint64_t);
    case MEMGAUGE__OPT_DBL:
        return sizeof(double);
    case MEMGAUGE__OPT_INT:
        return sizeof(int);
    default:
        return sizeof(void *);
    }
}

Test(options_table, has_one_row_per_field_in_the_structs_order)
{
    size_t n = 0;
    const memgauge__option_t *t = memgauge__options_table(&n);
    size_t end = sizeof(size_t); /* struct_size is not an option */

    cr_assert(gt(sz, n, 40));
    for (size_t i = 0; i < n; i++) {
        cr_assert(eq(sz, t[i].size, type_size(t[i].type)), "%s: size and type differ", t[i].name);
        /* the next field, after at most its alignment's padding */
        cr_assert(ge(sz, t[i].offset, end), "%s is out of order", t[i].name);
        cr_assert(lt(sz, t[i].offset - end, t[i].size), "a field before %s has no row", t[i].name);
        end = t[i].offset + t[i].size;
    }
    cr_assert(lt(sz, sizeof(memgauge_options_t) - end, sizeof(void *)),
              "the last fields have no row");
}

static void set_value(memgauge_options_t *o, const memgauge__option_t *row, double v)
{
    unsigned char *p = (unsigned char *)o + row->offset;
    if (row->type == MEMGAUGE__OPT_U32) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
    } else if (row->type == MEMGAUGE__OPT_U64) {
        uint64_t x = (uint64_t)v;
        memcpy(p, &x, sizeof x);
    } else if (row->type == MEMGAUGE__OPT_DBL) {
        memcpy(p, &v, sizeof v);
    } else if (row->type == MEMGAUGE__OPT_INT) {
        int x = (int)v;
        memcpy(p, &x, sizeof x);
    }
}

static int no_send(const memgauge_http_request_t *request, char *retry_after, size_t cap,
                   void *user_data)
{
    (void)request, (void)retry_after, (void)cap, (void)user_data;
    return 0;
}

/* Defaults, with reporting on (so its rows are checked too) and every option
 * that bounds another at its most permissive. */
static memgauge_options_t permissive(void)
{
    memgauge_options_t o = defaults();
    o.endpoint_url = "http://127.0.0.1:9";
    o.send = no_send;
    o.window_ms = 86400000;
    o.total_timeout_ms = 600000;
    o.retry_max_ms = 86400000;
    return o;
}

static int validate_with(const memgauge__option_t *row, double v)
{
    memgauge_options_t o = permissive();
    set_value(&o, row, v);
    return memgauge__options_validate(&o);
}

Test(options_table, the_defaults_are_inside_the_ranges)
{
    size_t n = 0;
    const memgauge__option_t *t = memgauge__options_table(&n);
    memgauge_options_t o = permissive();

    cr_assert(eq(int, memgauge__options_validate(&o), MEMGAUGE_OK));
    for (size_t i = 0; i < n; i++) {
        double min, max;
        if (memgauge_option_range(t[i].name, &min, &max) != MEMGAUGE_OK)
            continue;
        cr_assert(ge(dbl, t[i].def, min), "%s", t[i].name);
        cr_assert(le(dbl, t[i].def, max), "%s", t[i].name);
    }
}

/* Every range memgauge_option_range gives is exactly what start accepts:
 * both ends pass, one step beyond either is refused with the row's code. */
Test(options_table, each_range_is_enforced_at_both_ends)
{
    size_t n = 0, ranged = 0;
    const memgauge__option_t *t = memgauge__options_table(&n);

    for (size_t i = 0; i < n; i++) {
        const memgauge__option_t *row = &t[i];
        double min, max;
        if (memgauge_option_range(row->name, &min, &max) != MEMGAUGE_OK)
            continue;
        ranged++;
        double step = row->type == MEMGAUGE__OPT_DBL ? 0.001 : 1;
        if (row->kind == MEMGAUGE__OPT_ABOVE) { /* its floor: the option it follows, as set */
            memgauge_options_t o = permissive();
            uint32_t floor;
            memcpy(&floor, (unsigned char *)&o + row->min_offset, sizeof floor);
            min = floor;
        }
        cr_assert(eq(int, validate_with(row, min), MEMGAUGE_OK), "%s = %g", row->name, min);
        cr_assert(eq(int, validate_with(row, max), MEMGAUGE_OK), "%s = %g", row->name, max);
        if (min >= step)
            cr_assert(eq(int, validate_with(row, min - step), row->code), "%s = %g", row->name,
                      min - step);
        cr_assert(eq(int, validate_with(row, max + step), row->code), "%s = %g", row->name,
                  max + step);
    }
    cr_assert(ge(sz, ranged, 19)); /* every number, flag and bounded option */
}

static void print_number(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%.15g", v);
}

Test(strerror, each_option_code_names_its_field_and_its_range)
{
    size_t n = 0;
    const memgauge__option_t *t = memgauge__options_table(&n);

    for (size_t i = 0; i < n; i++) {
        if (t[i].code == 0)
            continue;
        char field[64];
        snprintf(field, sizeof field, "options.%s", t[i].name);
        assert_text_names(t[i].code, field);
        double min, max;
        if (t[i].kind != MEMGAUGE__OPT_RANGE ||
            memgauge_option_range(t[i].name, &min, &max) != MEMGAUGE_OK)
            continue;
        char number[32];
        print_number(number, sizeof number, min);
        assert_text_names(t[i].code, number);
        print_number(number, sizeof number, max);
        assert_text_names(t[i].code, number);
    }
}

Test(option_range, gives_the_numbers_of_the_documented_ranges)
{
    double min = -1, max = -1;

    cr_assert(eq(int, memgauge_option_range("interval_ms", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, min, 10));
    cr_assert(eq(dbl, max, 86400000));
    cr_assert(eq(int, memgauge_option_range("trail_seconds", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, min, 0));
    cr_assert(eq(dbl, max, 3600));
    cr_assert(eq(int, memgauge_option_range("hysteresis_fraction", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, max, 0.5));
    cr_assert(eq(int, memgauge_option_range("spool_max_bytes", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, max, 4294967296.0));
    /* bounded by interval_ms: the lowest interval_ms */
    cr_assert(eq(int, memgauge_option_range("window_ms", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, min, 10));
    cr_assert(eq(int, memgauge_option_range("gzip", &min, &max), MEMGAUGE_OK));
    cr_assert(eq(dbl, min, 0));
    cr_assert(eq(dbl, max, 1));
}

Test(option_range, refuses_fields_without_a_numeric_range)
{
    double min = -1, max = -1;

    cr_assert(eq(int, memgauge_option_range("app_id", &min, &max), MEMGAUGE_E_ARGUMENT));
    cr_assert(eq(int, memgauge_option_range("on_sample", &min, &max), MEMGAUGE_E_ARGUMENT));
    cr_assert(eq(int, memgauge_option_range("no_such_field", &min, &max), MEMGAUGE_E_ARGUMENT));
    cr_assert(eq(int, memgauge_option_range("", &min, &max), MEMGAUGE_E_ARGUMENT));
    cr_assert(eq(dbl, min, -1), "untouched on an error");
    cr_assert(eq(int, memgauge_option_range(NULL, &min, &max), MEMGAUGE_E_NULL_ARGUMENT));
    cr_assert(eq(int, memgauge_option_range("interval_ms", NULL, &max), MEMGAUGE_E_NULL_ARGUMENT));
    cr_assert(eq(int, memgauge_option_range("interval_ms", &min, NULL), MEMGAUGE_E_NULL_ARGUMENT));
}

/* ------------------------------------------------------------------------ */
/* Version and source names                                                  */
/* ------------------------------------------------------------------------ */

Test(version, equals_the_header_version)
{
    cr_assert(eq(str, (char *)memgauge_version(), MEMGAUGE_VERSION_STRING));
    cr_assert(eq(str, (char *)memgauge_version(), "0.5.0"));
}

Test(source_name, names_every_source_as_reports_do)
{
    cr_assert(eq(str, (char *)memgauge_source_name(MEMGAUGE_SOURCE_NONE), "none"));
    cr_assert(
        eq(str, (char *)memgauge_source_name(MEMGAUGE_SOURCE_PHYS_FOOTPRINT), "phys_footprint"));
    cr_assert(eq(str, (char *)memgauge_source_name(MEMGAUGE_SOURCE_INTERNAL_COMPRESSED),
                 "internal_compressed"));
    cr_assert(eq(str, (char *)memgauge_source_name(MEMGAUGE_SOURCE_RESIDENT_FALLBACK),
                 "resident_fallback"));
    cr_assert(eq(str, (char *)memgauge_source_name(MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT),
                 "linux_private_footprint"));
}

Test(source_name, an_unknown_source_is_none)
{
    cr_assert(eq(str, (char *)memgauge_source_name(5), "none"));
    cr_assert(eq(str, (char *)memgauge_source_name(-1), "none"));
}
