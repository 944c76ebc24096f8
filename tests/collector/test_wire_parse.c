/* Wire format v1 validation: what is accepted, decoded to which numbers, and
 * which field a refusal names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "wire_parse.h"

static char *read_corpus(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MEMGAUGE_TEST_CORPUS, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Parses `json` and expects a refusal naming `field`. */
static void expect_bad(const char *json, const char *field)
{
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    int rc = memgauge__wire_parse(json, strlen(json), &b, &err);
    cr_assert_eq(rc, MEMGAUGE__WIRE_INVALID, "accepted a document with a bad %s", field);
    cr_expect_str_eq(err.field, field, "reason: %s", err.reason);
}

/* A valid fixture batch with one member replaced (path "a.b" or "a.b[2]"). */
static char *mutate(const char *path, cJSON *value)
{
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 1),
                         .session_id = fixture_uuid(sid, 2),
                         .threshold = 1,
                         .pressure = 1,
                         .verdict = "oom_suspected",
                         .prev_session = fixture_uuid(sid + 0, 2)};
    cJSON *root = fixture_batch(&f);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *node = root;
    char *save = NULL;
    char *tok = strtok_r(buf, ".", &save);
    while (tok) {
        char *next = strtok_r(NULL, ".", &save);
        char *br = strchr(tok, '[');
        int index = -1;
        if (br) {
            index = atoi(br + 1);
            *br = '\0';
        }
        if (!next && index < 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(node, tok);
            if (value)
                cJSON_AddItemToObject(node, tok, value);
            break;
        }
        node = cJSON_GetObjectItemCaseSensitive(node, tok);
        cr_assert_not_null(node, "fixture has no %s", tok);
        if (index >= 0) {
            if (!next) {
                if (value)
                    cJSON_ReplaceItemInArray(node, index, value);
                else
                    cJSON_DeleteItemFromArray(node, index);
                break;
            }
            node = cJSON_GetArrayItem(node, index);
        }
        tok = next;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static void expect_mutation_refused(const char *path, cJSON *value, const char *field)
{
    char *json = mutate(path, value);
    expect_bad(json, field);
    free(json);
}

Test(wire_parse, documented_example_decodes_to_its_numbers)
{
    size_t len;
    char *json = read_corpus("valid_example.json", &len);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, len, &b, &err), 0, "%s: %s", err.field, err.reason);
    cr_expect_str_eq(b.batch_id, "6f1c2a4e-8d3b-4c1e-9a7f-2b5d8e0c1f34");
    cr_expect_str_eq(b.device_model, "iPhone15,2");
    cr_expect_eq(b.metric, MEMGAUGE__METRIC_PHYS_FOOTPRINT);
    cr_assert_eq(b.window_count, 1);
    const memgauge__window_t *w = &b.windows[0];
    cr_expect_eq(w->max, 192937984u);
    cr_expect_eq(w->peak, 193986560u);
    cr_assert_eq(w->series.n, 10);
    cr_expect_eq(w->series.unit_bytes, 16384);
    cr_expect_eq(w->series.t_ms[9], 9000);
    cr_expect_eq(w->series.footprint[0], 188743680u);
    cr_expect_eq(w->series.footprint[5], 192937984u);
    cr_expect_eq(w->series.footprint[9], 190840832u);
    cr_expect_null(w->series.resident);
    cr_expect_eq(w->series.peak[6], 193986560u, "the spike between samples survives decoding");
    cr_assert_eq(b.event_count, 3);
    cr_expect_eq(b.events[0].kind, MEMGAUGE__EVENT_PREVIOUS_SESSION);
    cr_expect_str_eq(b.events[0].verdict, "oom_suspected");
    cr_expect_eq(b.events[0].trail.footprint[2], (124928u + 2048u) * 16384u);
    cr_expect_eq(b.events[1].threshold_id, 1);
    cr_expect_eq(b.events[2].pressure, MEMGAUGE__PRESSURE_WARNING);
    cr_expect_eq(b.dropped_count, 2);
    cr_expect_eq(b.total_samples, 10);
    memgauge__batch_clear(&b);
    free(json);
}

/* A window with a series may leave out what its samples say; the collector
 * derives the same numbers the sender would have sent. */
Test(wire_parse, a_series_stands_in_for_the_aggregates_it_implies)
{
    size_t len;
    char *json = read_corpus("valid_example.json", &len);
    memgauge__batch_t full, compact;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, len, &full, &err), 0, "%s", err.field);
    cJSON *root = cJSON_Parse(json);
    cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "windows"), 0);
    const char *derivable[] = {"start_ms", "end_ms", "samples", "first", "last",
                               "min",      "max",    "mean",    "peak"};
    for (size_t i = 0; i < sizeof derivable / sizeof derivable[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(w, derivable[i]);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    cr_assert_eq(memgauge__wire_parse(text, strlen(text), &compact, &err), 0, "%s: %s", err.field,
                 err.reason);
    const memgauge__window_t *a = &full.windows[0], *b = &compact.windows[0];
    cr_expect_eq(b->start_ms, a->start_ms);
    cr_expect_eq(b->end_ms, a->end_ms);
    cr_expect_eq(b->samples, a->samples);
    cr_expect_eq(b->first, a->first);
    cr_expect_eq(b->last, a->last);
    cr_expect_eq(b->min, a->min);
    cr_expect_eq(b->max, a->max);
    cr_expect_eq(b->mean, a->mean);
    cr_expect_eq(b->peak, a->peak, "the spike between samples counts");
    cr_expect_eq(b->kernel_peak, a->kernel_peak);
    cr_expect_eq(compact.total_samples, 10);
    memgauge__batch_clear(&full);
    memgauge__batch_clear(&compact);
    free(text);
    free(json);

    json = read_corpus("with_compact_windows.json", &len);
    cr_assert_eq(memgauge__wire_parse(json, len, &compact, &err), 0, "%s: %s", err.field,
                 err.reason);
    cr_assert_eq(compact.window_count, 4);
    b = &compact.windows[1];
    cr_expect_eq(b->mean, 190316544u, "a given aggregate wins over the derived one");
    cr_expect_eq(b->max, 190332928u);
    cr_expect_eq(b->end_ms, 19000);
    b = &compact.windows[2];
    cr_expect_eq(b->limit, 0, "limit, headroom and kernel_peak default to 0 (unknown)");
    cr_expect_eq(b->headroom, 0);
    cr_expect_eq(b->kernel_peak, 0);
    cr_expect_eq(b->mean, 190318592u);
    cr_expect_eq(b->peak, 190320640u);
    cr_expect_eq(compact.total_samples, 10 + 10 + 2 + 8);
    cr_expect_eq(compact.dropped_count, 0);
    memgauge__batch_clear(&compact);
    free(json);
    /* a given count still has to match the series; given bounds still hold it */
    expect_mutation_refused("windows[0].samples", cJSON_CreateNumber(11), "windows[0].series.t");
    expect_mutation_refused("windows[0].first", cJSON_CreateNumber(0), "windows[0].first");
}

Test(wire_parse, fixture_batch_is_valid_and_ids_are_lower_cased)
{
    fixture_batch_t f = {.batch_id = "6F1C2A4E-8D3B-4C1E-9A7F-2B5D8E0C1F34",
                         .session_id = "00000000-0000-4000-8000-000000000002",
                         .windows = 3,
                         .samples_per_window = 100};
    char *json = fixture_batch_json(&f);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s: %s", err.field,
                 err.reason);
    cr_expect_str_eq(b.batch_id, "6f1c2a4e-8d3b-4c1e-9a7f-2b5d8e0c1f34");
    cr_expect_eq(b.total_samples, 300);
    cr_expect_eq(b.windows[2].series.t_ms[99], 299000);
    memgauge__batch_clear(&b);
    free(json);
}

Test(wire_parse, unknown_fields_are_ignored)
{
    expect_mutation_refused("app.id", NULL, "app.id");
    char *json = mutate("future_field", cJSON_CreateString("from schema 1.1"));
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_expect_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s", err.field);
    memgauge__batch_clear(&b);
    free(json);
}

Test(wire_parse, body_level_refusals_name_the_body)
{
    expect_bad("", "body");
    expect_bad("{\"schema\":1,", "body");
    expect_bad("[1,2,3]", "body");
    expect_bad("{\"schema\":1} trailing", "body");
    expect_bad("{\"schema\":1,\"batch_id\":\"\xff\xfe\"}", "body");     /* invalid UTF-8 */
    expect_bad("{\"schema\":1,\"batch_id\":\"\xed\xa0\x80\"}", "body"); /* UTF-8 surrogate */
    expect_bad("{\"a\":\"\\ud800\"}", "body");                          /* lone \u surrogate */
    char *deep = malloc(20002);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    expect_bad(deep, "body");
    free(deep);
}

Test(wire_parse, required_fields_are_named_when_missing)
{
    const char *paths[] = {"schema",     "batch_id",    "sent_unix_ms",
                           "sdk.name",   "app.version", "device.os_version",
                           "session.id", "metric",      "windows"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        expect_mutation_refused(paths[i], NULL, paths[i]);
    /* without a series the aggregates are required */
    char *json = mutate("windows[0].series", NULL);
    cJSON *root = cJSON_Parse(json);
    free(json);
    cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "windows"), 0);
    cJSON_DeleteItemFromObjectCaseSensitive(w, "peak");
    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    expect_bad(json, "windows[0].peak");
    free(json);
}

Test(wire_parse, wrong_types_and_values_name_the_field)
{
    expect_mutation_refused("schema", cJSON_CreateNumber(3), "schema");
    expect_mutation_refused("batch_id", cJSON_CreateString("not-a-uuid"), "batch_id");
    expect_mutation_refused("batch_id", cJSON_CreateNumber(7), "batch_id");
    expect_mutation_refused("sent_unix_ms", cJSON_CreateString("1718000012000"), "sent_unix_ms");
    expect_mutation_refused("metric", cJSON_CreateString("resident_size"), "metric");
    expect_mutation_refused("app.id", cJSON_CreateString(""), "app.id");
    expect_mutation_refused("windows[0].samples", cJSON_CreateNumber(0), "windows[0].samples");
    expect_mutation_refused("windows[0].min", cJSON_CreateNumber(1.5), "windows[0].min");
    expect_mutation_refused("windows[0].min", cJSON_CreateNumber(-1), "windows[0].min");
    expect_mutation_refused("windows[0].max", cJSON_CreateNumber(1), "windows[0].max");
    expect_mutation_refused("windows[0].peak", cJSON_CreateNumber(0), "windows[0].peak");
    expect_mutation_refused("events[1].direction", cJSON_CreateString("sideways"),
                            "events[1].direction");
    expect_mutation_refused("events[1].urgent", cJSON_CreateNumber(1), "events[1].urgent");
    expect_mutation_refused("events[2].level", cJSON_CreateString("panic"), "events[2].level");
    expect_mutation_refused("events[0].verdict", cJSON_CreateString("OOM!"), "events[0].verdict");
    expect_mutation_refused("events[0].type", cJSON_CreateString("crash"), "events[0].type");
    expect_mutation_refused("dropped.samples", cJSON_CreateNumber(-3), "dropped.samples");
}

Test(wire_parse, huge_numbers_are_refused_not_wrapped)
{
    expect_mutation_refused("windows[0].max", cJSON_CreateNumber(1e300), "windows[0].max");
    expect_mutation_refused("windows[0].limit", cJSON_CreateNumber(18446744073709551616.0),
                            "windows[0].limit");
    expect_mutation_refused("windows[0].series.footprint[0]", cJSON_CreateNumber(1e17),
                            "windows[0].series.footprint[0]");
    const char *inf = "{\"schema\":1,\"batch_id\":\"00000000-0000-4000-8000-000000000001\","
                      "\"sent_unix_ms\":1e400}";
    expect_bad(inf, "sent_unix_ms");
}

Test(wire_parse, series_rules_name_the_sample)
{
    /* a delta that takes the footprint below zero */
    expect_mutation_refused("windows[0].series.footprint[3]", cJSON_CreateNumber(-1e6),
                            "windows[0].series.footprint[3]");
    /* time going backwards */
    expect_mutation_refused("windows[0].series.t[4]", cJSON_CreateNumber(-1),
                            "windows[0].series.t[4]");
    /* a column shorter than t */
    expect_mutation_refused("windows[0].series.resident[9]", NULL, "windows[0].series.resident");
    /* fewer samples than the window claims */
    expect_mutation_refused("windows[0].samples", cJSON_CreateNumber(11), "windows[0].series.t");
    expect_mutation_refused("windows[0].series.unit_bytes", cJSON_CreateNumber(1000),
                            "windows[0].series.unit_bytes");
    /* a sample outside the window */
    expect_mutation_refused("windows[0].end_ms", cJSON_CreateNumber(8000),
                            "windows[0].series.t[9]");
    expect_mutation_refused("events[0].trail.footprint[1]", cJSON_CreateString("1"),
                            "events[0].trail.footprint[1]");
}

Test(wire_parse, batch_sample_limit_is_enforced)
{
    char bid[37], sid[37];
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, 1),
                         .session_id = fixture_uuid(sid, 2),
                         .windows = 11,
                         .samples_per_window = 100000};
    char *json = fixture_batch_json(&f);
    expect_bad(json, "windows[10].samples");
    free(json);
}

/* The corpus doubles as the fuzzer's seeds and as the schema cross-check
 * (scripts/collector-test.sh runs the same files through the JSON Schema):
 * valid_* and with_* are accepted; bad_* are refused by both; cross_* pass
 * the schema but break a cross-field rule only the collector can check. */
Test(wire_parse, a_clean_stop_and_the_os_build_are_read)
{
    size_t len;
    char *json = read_corpus("with_clean_stop_and_os_build.json", &len);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, len, &b, &err), 0, "%s: %s", err.field, err.reason);
    cr_expect(b.clean_stop);
    cr_expect_eq(b.end_ms, 9000);
    cr_expect_str_eq(b.os_build, "21F90");
    cr_expect_str_eq(b.os_version, "17.5.1");
    memgauge__batch_clear(&b);
    free(json);
}

Test(wire_parse, corpus_files_are_judged_by_their_names)
{
    const char *valid[] = {"valid_example.json",
                           "minimal_no_windows.json",
                           "with_resident_and_window_metric.json",
                           "with_compact_windows.json",
                           "with_clean_stop_and_os_build.json",
                           "valid_v2_short.json"};
    const char *bad[] = {"bad_batch_id.json",
                         "bad_deep_nesting.json",
                         "bad_event_direction.json",
                         "cross_negative_footprint.json",
                         "bad_truncated.json",
                         "bad_window_without_series_or_first.json",
                         "bad_session_end.json",
                         "bad_end_ms_without_end.json",
                         "bad_empty_os_build.json",
                         "cross_end_ms_before_last_window.json",
                         "bad_v2_build_without_version.json",
                         "bad_v1_without_device.json",
                         "bad_schema_3.json"};
    const char *fields[] = {"batch_id",
                            "body",
                            "events[1].direction",
                            "windows[0].series.footprint[3]",
                            "body",
                            "windows[0].first",
                            "session.end",
                            "session.end",
                            "device.os_build",
                            "session.end_ms",
                            "app.build",
                            "device",
                            "schema"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        size_t len;
        char *json = read_corpus(valid[i], &len);
        memgauge__batch_t b;
        memgauge__wire_error_t err;
        cr_expect_eq(memgauge__wire_parse(json, len, &b, &err), 0, "%s: %s: %s", valid[i],
                     err.field, err.reason);
        memgauge__batch_clear(&b);
        free(json);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        char *json = read_corpus(bad[i], &len);
        memgauge__batch_t b;
        memgauge__wire_error_t err;
        cr_expect_eq(memgauge__wire_parse(json, len, &b, &err), MEMGAUGE__WIRE_INVALID, "%s",
                     bad[i]);
        cr_expect_str_eq(err.field, fields[i], "%s", bad[i]);
        free(json);
    }
}

/* Schema 2's short form: no sdk, device or app.version, and windows that
 * leave out what the window before said. */
Test(wire_parse, a_short_batch_carries_limit_headroom_and_kernel_peak_over)
{
    size_t len;
    char *json = read_corpus("valid_v2_short.json", &len);
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, len, &b, &err), 0, "%s: %s", err.field, err.reason);
    cr_expect_eq(b.schema, 2);
    cr_expect_str_eq(b.app_id, "com.example.photos");
    cr_expect_str_eq(b.app_version, "");
    cr_expect_str_eq(b.device_model, "");
    cr_expect_str_eq(b.sdk_name, "");
    cr_assert_eq(b.window_count, 3);
    cr_expect_eq(b.windows[1].limit, 2147483648u);
    cr_expect_eq(b.windows[1].kernel_peak, 193986560u);
    cr_expect_eq(b.windows[1].headroom, 1950351360u);
    cr_expect_eq(b.windows[2].limit, 2147483648u);
    cr_expect_eq(b.windows[2].kernel_peak, 0, "a 0 given is 0, not carried");
    cr_expect_eq(b.windows[2].headroom, 1950351360u);
    memgauge__batch_clear(&b);
    free(json);
}

Test(wire_parse, schema_1_windows_default_to_zero_not_to_the_window_before)
{
    const char *json =
        "{\"schema\":1,\"batch_id\":\"3c1e5a7b-2d4f-4a6c-9e8b-7f0a1b2c3d4e\",\"sent_unix_ms\":1,"
        "\"sdk\":{\"name\":\"memgauge\",\"version\":\"0.1.0\"},\"app\":{\"id\":\"a\",\"version\":"
        "\"1\"},"
        "\"device\":{\"model\":\"m\",\"os_name\":\"o\",\"os_version\":\"1\"},"
        "\"session\":{\"id\":\"0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b\",\"start_unix_ms\":1},"
        "\"metric\":\"phys_footprint\",\"windows\":[{\"limit\":4096,\"series\":{\"t\":[0],"
        "\"footprint\":[4096]}},{\"series\":{\"t\":[1000],\"footprint\":[4096]}}]}";
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    cr_assert_eq(memgauge__wire_parse(json, strlen(json), &b, &err), 0, "%s: %s", err.field,
                 err.reason);
    cr_expect_eq(b.windows[0].limit, 4096);
    cr_expect_eq(b.windows[1].limit, 0);
    memgauge__batch_clear(&b);
}
