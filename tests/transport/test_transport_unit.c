/* transport/ without a network: retry decisions, the spool, the encoding. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "retry.h"
#include "spool.h"
#include "support/scratch.h"
#include "support/support.h"
#include "transport.h"

/* ---- retry --------------------------------------------------------------- */

Test(retry, network_errors_and_the_listed_statuses_are_retried_config_errors_kept_other_4xx_dropped)
{
    static const int retry[] = {0, 408, 429, 500, 502, 503, 504, 507};
    static const int config[] = {401, 403, 404, 405};
    static const int drop[] = {400, 413, 415, 422, 501, 505, 302};
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        cr_expect(eq(int, memgauge__tr_classify(retry[i]), MEMGAUGE__TR_RETRY), "%d", retry[i]);
    for (size_t i = 0; i < sizeof config / sizeof *config; i++)
        cr_expect(eq(int, memgauge__tr_classify(config[i]), MEMGAUGE__TR_CONFIG), "%d", config[i]);
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        cr_expect(eq(int, memgauge__tr_classify(drop[i]), MEMGAUGE__TR_DROP), "%d", drop[i]);
    cr_expect(eq(int, memgauge__tr_classify(200), MEMGAUGE__TR_DONE));
    cr_expect(eq(int, memgauge__tr_classify(204), MEMGAUGE__TR_DONE));
}

Test(url, a_base_url_gets_the_reports_path_and_a_url_with_a_path_is_used_as_given)
{
    static const char *const cases[][2] = {
        {"https://host:8443", "https://host:8443/v1/reports"},
        {"https://host:8443/", "https://host:8443/v1/reports"},
        {"http://127.0.0.1:8080?tenant=a", "http://127.0.0.1:8080/v1/reports?tenant=a"},
        {"http://127.0.0.1:8080/?tenant=a", "http://127.0.0.1:8080/v1/reports?tenant=a"},
        {"https://host/v1/reports", "https://host/v1/reports"},
        {"https://host/ingest/memgauge", "https://host/ingest/memgauge"},
        {"https://host/custom/", "https://host/custom/"},
        {"http://[::1]:9000", "http://[::1]:9000/v1/reports"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert(eq(int, memgauge__tr_resolve_url(cases[i][0], out, sizeof out), 0), "%s",
                  cases[i][0]);
        cr_expect(eq(str, out, (char *)cases[i][1]), "%s", cases[i][0]);
    }
    char small[24];
    cr_expect(eq(int, memgauge__tr_resolve_url("https://host:8443", small, sizeof small), -1),
              "what does not fit is refused, never cut");
}

Test(retry, backoff_doubles_with_jitter_between_half_and_whole_step_up_to_the_cap)
{
    cr_expect(eq(u32, memgauge__tr_backoff_ms(1, 1000, 60000, 0.0), 500));
    cr_expect(eq(u32, memgauge__tr_backoff_ms(1, 1000, 60000, 0.999999), 999));
    cr_expect(eq(u32, memgauge__tr_backoff_ms(2, 1000, 60000, 0.0), 1000));
    cr_expect(eq(u32, memgauge__tr_backoff_ms(4, 1000, 60000, 0.0), 4000));
    cr_expect(eq(u32, memgauge__tr_backoff_ms(30, 1000, 60000, 0.0), 30000));
    cr_expect(le(u32, memgauge__tr_backoff_ms(1000, 1000, 60000, 0.99), 60000));
}

Test(retry, retry_after_reads_seconds_and_http_dates_and_caps_them)
{
    uint64_t now = 1445412480000ull; /* Wed, 21 Oct 2015 07:28:00 GMT */
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("120", now, 600000), 120000));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms(" 7 ", now, 600000), 7000));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("99999999999", now, 600000), 600000));
    cr_expect(
        eq(i64, memgauge__tr_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now, 600000), 30000));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now, 600000),
                 0)); /* in the past: now */
    cr_expect(
        eq(i64, memgauge__tr_retry_after_ms("Thu, 22 Oct 2015 07:28:00 GMT", now, 60000), 60000));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("", now, 1000), -1));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("soon", now, 1000), -1));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("12abc", now, 1000), -1));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms("Wed, 21 Foo 2015 07:28:30 GMT", now, 1000), -1));
    cr_expect(eq(i64, memgauge__tr_retry_after_ms(NULL, now, 1000), -1));
}

/* ---- spool --------------------------------------------------------------- */

TestSuite(spool, .init = mg_scratch_init, .fini = mg_scratch_fini);

static const char ID1[] = "6f1c2a4e-8d3b-4c1e-9a7f-2b5d8e0c1f34";
static const char ID2[] = "0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

static void open_spool(memgauge__spool_t *s, uint64_t bytes, uint32_t files, uint32_t age)
{
    char dir[200];
    snprintf(dir, sizeof dir, "%s/spool", mg_scratch);
    cr_assert(eq(int, memgauge__spool_open(s, dir, bytes, files, age), 0));
}

Test(spool, a_written_batch_reads_back_whole_oldest_first)
{
    memgauge__spool_t s;
    open_spool(&s, 1u << 20, 100, 3600);
    char n1[MEMGAUGE__SPOOL_NAME_MAX], n2[MEMGAUGE__SPOOL_NAME_MAX],
        oldest[MEMGAUGE__SPOOL_NAME_MAX];
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 2000, 0, "second", 6, n2), 0));
    cr_assert(eq(int, memgauge__spool_write(&s, ID1, 1000, 1, "first", 5, n1), 0));
    cr_assert(eq(int, memgauge__spool_oldest(&s, oldest), 1));
    cr_expect(eq(str, oldest, n1));
    unsigned char *buf;
    memgauge__spool_entry_t e;
    cr_assert(eq(int, memgauge__spool_read(&s, oldest, &buf, &e), 0));
    cr_expect(eq(str, e.batch_id, (char *)ID1));
    cr_expect(eq(u64, e.created_unix_ms, 1000));
    cr_expect(eq(u32, e.flags, 1));
    cr_expect(eq(sz, e.body_len, 5));
    cr_expect(eq(int, memcmp(e.body, "first", 5), 0));
    free(buf);
    memgauge__spool_remove(&s, n1);
    cr_assert(eq(int, memgauge__spool_oldest(&s, oldest), 1));
    cr_expect(eq(str, oldest, n2));
    cr_expect(eq(u64, s.files, 1));
}

static void corrupt_file(const char *name, long offset, int truncate_to)
{
    char path[400];
    snprintf(path, sizeof path, "%s/spool/%s", mg_scratch, name);
    int fd = open(path, O_RDWR);
    cr_assert(ge(int, fd, 0));
    if (truncate_to >= 0) {
        cr_assert(eq(int, ftruncate(fd, truncate_to), 0));
    } else {
        unsigned char b;
        cr_assert(eq(sz, (size_t)pread(fd, &b, 1, offset), 1));
        b ^= 0x40;
        cr_assert(eq(sz, (size_t)pwrite(fd, &b, 1, offset), 1));
    }
    close(fd);
}

Test(spool, a_flipped_bit_or_a_truncated_file_is_set_aside_and_counted_never_read)
{
    memgauge__spool_t s;
    open_spool(&s, 1u << 20, 100, 3600);
    char a[MEMGAUGE__SPOOL_NAME_MAX], b[MEMGAUGE__SPOOL_NAME_MAX], c[MEMGAUGE__SPOOL_NAME_MAX];
    cr_assert(eq(int, memgauge__spool_write(&s, ID1, 1000, 0, "{\"a\":1}", 7, a), 0));
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 1001, 0, "{\"b\":2}", 7, b), 0));
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 1002, 0, "{\"c\":3}", 7, c), 0));
    corrupt_file(a, MEMGAUGE__SPOOL_HEADER + 3, -1); /* body */
    corrupt_file(b, 20, -1);                         /* header */
    corrupt_file(c, 0, MEMGAUGE__SPOOL_HEADER + 2);  /* torn */
    unsigned char *buf;
    memgauge__spool_entry_t e;
    cr_expect(eq(int, memgauge__spool_read(&s, a, &buf, &e), -1));
    cr_expect(eq(int, memgauge__spool_read(&s, b, &buf, &e), -1));
    cr_expect(eq(int, memgauge__spool_read(&s, c, &buf, &e), -1));
    cr_expect(eq(u64, s.corrupt, 3));
    char oldest[MEMGAUGE__SPOOL_NAME_MAX];
    cr_expect(eq(int, memgauge__spool_oldest(&s, oldest), 0), "nothing left to send");
    char kept[400];
    snprintf(kept, sizeof kept, "%s/spool/corrupt/%s", mg_scratch, a);
    cr_expect(eq(int, access(kept, F_OK), 0), "set aside for inspection");
}

Test(spool, the_budget_evicts_the_oldest_by_count_bytes_and_age)
{
    memgauge__spool_t s;
    char body[1000];
    memset(body, 'x', sizeof body);
    char n[MEMGAUGE__SPOOL_NAME_MAX], oldest[MEMGAUGE__SPOOL_NAME_MAX];
    open_spool(&s, 1u << 20, 3, 3600);
    for (int i = 0; i < 5; i++)
        cr_assert(eq(int, memgauge__spool_write(&s, ID1, 1000000 + i, 0, body, sizeof body, n), 0));
    cr_expect(eq(u64, s.files, 3));
    cr_expect(eq(u64, s.evicted, 2));
    memgauge__spool_oldest(&s, oldest);
    cr_expect(eq(int, strncmp(oldest, "b-0000001000002-", 16), 0), "%s", oldest);

    /* bytes: three files of 1088 bytes do not fit in 2500 */
    s.max_bytes = 2500;
    cr_expect(eq(u32, memgauge__spool_enforce(&s, 1000010), 1));
    cr_expect(eq(u64, s.files, 2));
    /* age: an hour after the newest, everything is too old */
    cr_expect(eq(u32, memgauge__spool_enforce(&s, 1000004 + 3600 * 1000 + 1), 2));
    cr_expect(eq(u64, s.files, 0));
    cr_expect(eq(u64, s.evicted, 5));
}

Test(spool, parse_refuses_what_is_not_a_whole_file)
{
    unsigned char img[MEMGAUGE__SPOOL_HEADER + 4];
    memgauge__spool_header(img, ID1, 5, 0, "abcd", 4);
    memcpy(img + MEMGAUGE__SPOOL_HEADER, "abcd", 4);
    memgauge__spool_entry_t e;
    cr_expect(eq(int, memgauge__spool_parse(img, sizeof img, &e), 0));
    cr_expect(eq(int, memgauge__spool_parse(img, sizeof img - 1, &e), -1));
    cr_expect(eq(int, memgauge__spool_parse(img, 10, &e), -1));
    cr_expect(eq(int, memgauge__spool_parse(NULL, 0, &e), -1));
    img[9] ^= 1; /* version, under the header checksum */
    cr_expect(eq(int, memgauge__spool_parse(img, sizeof img, &e), -1));
}

Test(spool, a_temp_file_left_by_a_dead_writer_is_removed_at_open)
{
    char dir[200], tmp[300];
    snprintf(dir, sizeof dir, "%s/spool", mg_scratch);
    cr_assert(eq(int, mkdir(dir, 0700), 0));
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-0", dir, (long)child);
    FILE *f = fopen(tmp, "w");
    fputs("torn", f);
    fclose(f);
    memgauge__spool_t s;
    open_spool(&s, 1u << 20, 10, 3600);
    cr_expect(ne(int, access(tmp, F_OK), 0));
}

/* ---- encoding ------------------------------------------------------------ */

static memgauge__tr_meta_t meta(void)
{
    memgauge__tr_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.sdk_version, sizeof m.sdk_version, "0.2.0");
    snprintf(m.app_id, sizeof m.app_id, "app");
    snprintf(m.session_id, sizeof m.session_id, "%s", ID2);
    snprintf(m.metric, sizeof m.metric, "phys_footprint");
    return m;
}

Test(encode, columns_are_delta_encoded_in_the_largest_common_power_of_two_unit)
{
    memgauge__tr_sample_t s[4] = {{0, 16384 * 100, 16384 * 200, 0},
                                  {1000, 16384 * 103, 16384 * 200, 0},
                                  {2000, 16384 * 101, 16384 * 201, 16384 * 5},
                                  {3000, 16384 * 101, 16384 * 199, 0}};
    memgauge__tr_window_t w = {.start_ms = 0,
                               .end_ms = 3000,
                               .samples = 4,
                               .first = s[0].footprint,
                               .last = s[3].footprint,
                               .min = s[0].footprint,
                               .max = s[1].footprint,
                               .mean = s[3].footprint,
                               .peak = 16384 * 106,
                               .series = s,
                               .series_count = 4};
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m, .windows = &w, .window_count = 1};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    size_t len;
    char *text = memgauge__tr_encode(&b, &len);
    cr_assert(ne(ptr, text, NULL));
    cJSON *j = cJSON_Parse(text);
    cJSON *series =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), 0), "series");
    char *got = cJSON_PrintUnformatted(series);
    cr_expect(eq(str, got,
                 "{\"unit_bytes\":16384,\"t\":[0,1000,1000,1000],\"footprint\":[100,3,-2,0],"
                 "\"resident\":[200,0,1,-2],\"peak_excess\":[0,0,5,0]}"));
    free(got);
    cJSON_Delete(j);
    free(text);
}

/* A window with its series leaves out every aggregate the collector
 * derives from it exactly, and keeps one that differs; zero defaults and
 * zero drop counters are left out. */
Test(encode, aggregates_the_series_implies_and_zero_defaults_are_left_out)
{
    memgauge__tr_sample_t s[3] = {
        {5000, 16384 * 100, 0, 0}, {6000, 16384 * 103, 0, 16384 * 2}, {7001, 16384 * 101, 0, 0}};
    uint64_t sum = s[0].footprint + s[1].footprint + s[2].footprint;
    memgauge__tr_window_t w = {.start_ms = 5000,
                               .end_ms = 7001,
                               .samples = 3,
                               .first = s[0].footprint,
                               .last = s[2].footprint,
                               .min = s[0].footprint,
                               .max = s[1].footprint,
                               .mean = sum / 3,
                               .peak = 16384 * 105,
                               .kernel_peak = 16384 * 200,
                               .limit = 0,
                               .headroom = 0,
                               .series = s,
                               .series_count = 3};
    memgauge__tr_window_t w2 = w;
    w2.mean = sum / 3 + 1; /* not what the series says: sent */
    w2.peak = 16384 * 110; /* a spike the series does not carry: sent */
    memgauge__tr_window_t ws[2] = {w, w2};
    memgauge__tr_dropped_t d = {.batches = 2};
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m, .windows = ws, .window_count = 2, .dropped = &d};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cJSON *j = cJSON_Parse(text);
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), 0);
    cJSON *series = cJSON_DetachItemFromObject(a, "series");
    char *got = cJSON_PrintUnformatted(a);
    cr_expect(eq(str, got, "{\"kernel_peak\":3276800}"));
    free(got);
    cJSON_Delete(series);
    a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), 1);
    cJSON_Delete(cJSON_DetachItemFromObject(a, "series"));
    got = cJSON_PrintUnformatted(a);
    /* schema 2: the kernel peak equal to the window before's is carried over */
    cr_expect(eq(str, got, "{\"mean\":1660246,\"peak\":1802240}"), "%s", got);
    free(got);
    got = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "dropped"));
    cr_expect(eq(str, got, "{\"batches\":2}"));
    free(got);
    cJSON_Delete(j);
    free(text);
    memgauge__tr_dropped_t none = {0};
    b.dropped = &none;
    text = memgauge__tr_encode(&b, NULL);
    j = cJSON_Parse(text);
    cr_expect(eq(ptr, cJSON_GetObjectItem(j, "dropped"), NULL));
    cJSON_Delete(j);
    free(text);
}

/* Schema 2's short form names the batch, its app and its session and
 * leaves the rest of the description to the collector; a window leaves out
 * kernel_peak, limit and headroom equal to the window before's. */
Test(encode, the_short_form_and_values_carried_from_the_window_before)
{
    memgauge__tr_window_t w[3] = {{.start_ms = 0,
                                   .end_ms = 0,
                                   .samples = 1,
                                   .first = 4096,
                                   .last = 4096,
                                   .min = 4096,
                                   .max = 4096,
                                   .mean = 4096,
                                   .peak = 4096,
                                   .kernel_peak = 8192,
                                   .limit = 1u << 30,
                                   .headroom = 1u << 20},
                                  {.start_ms = 1000,
                                   .end_ms = 1000,
                                   .samples = 1,
                                   .first = 4096,
                                   .last = 4096,
                                   .min = 4096,
                                   .max = 4096,
                                   .mean = 4096,
                                   .peak = 4096,
                                   .kernel_peak = 8192,
                                   .limit = 1u << 30,
                                   .headroom = 1u << 21},
                                  {.start_ms = 2000,
                                   .end_ms = 2000,
                                   .samples = 1,
                                   .first = 4096,
                                   .last = 4096,
                                   .min = 4096,
                                   .max = 4096,
                                   .mean = 4096,
                                   .peak = 4096,
                                   .kernel_peak = 8192,
                                   .limit = 0,
                                   .headroom = 1u << 21}};
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m, .windows = w, .window_count = 3, .short_meta = 1};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cJSON *j = cJSON_Parse(text);
    cr_expect(eq(int, cJSON_GetObjectItem(j, "schema")->valueint, 2));
    cr_expect(eq(ptr, cJSON_GetObjectItem(j, "sdk"), NULL));
    cr_expect(eq(ptr, cJSON_GetObjectItem(j, "device"), NULL));
    char *got = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "app"));
    cr_expect(eq(str, got, "{\"id\":\"app\"}"), "%s", got);
    free(got);
    got = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "session"));
    cr_expect(eq(str, got, "{\"id\":\"0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b\",\"start_unix_ms\":0}"),
              "%s", got);
    free(got);
    const char *want[] = {"{\"kernel_peak\":8192,\"limit\":1073741824,\"headroom\":1048576}",
                          "{\"headroom\":2097152}", "{\"limit\":0}"};
    for (int i = 0; i < 3; i++) {
        cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "windows"), i);
        cJSON *o = cJSON_CreateObject();
        const char *names[] = {"kernel_peak", "limit", "headroom"};
        for (int k = 0; k < 3; k++)
            if (cJSON_GetObjectItem(a, names[k]))
                cJSON_AddItemToObject(o, names[k],
                                      cJSON_Duplicate(cJSON_GetObjectItem(a, names[k]), 1));
        got = cJSON_PrintUnformatted(o);
        cr_expect(strcmp(got, want[i]) == 0, "window %d: %s", i, got);
        free(got);
        cJSON_Delete(o);
    }
    cJSON_Delete(j);
    free(text);
}

Test(encode, empty_windows_are_left_out_and_unknown_strings_say_unknown)
{
    memgauge__tr_window_t w = {.samples = 0};
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m, .windows = &w, .window_count = 1};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cJSON *j = cJSON_Parse(text);
    cr_expect(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 0));
    cr_expect(eq(str, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "app"), "version")->valuestring,
                 "unknown"));
    cJSON_Delete(j);
    free(text);
}

Test(encode, a_clean_end_and_the_os_build_are_sent_only_when_known)
{
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cJSON *j = cJSON_Parse(text);
    cJSON *ses = cJSON_GetObjectItem(j, "session");
    cr_expect(eq(ptr, cJSON_GetObjectItem(ses, "end"), NULL), "no end unless a clean stop");
    cr_expect(eq(ptr, cJSON_GetObjectItem(ses, "end_ms"), NULL));
    cr_expect(eq(ptr, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "device"), "os_build"), NULL),
              "an unknown build is left out, not sent as \"unknown\"");
    cJSON_Delete(j);
    free(text);

    snprintf(m.os_build, sizeof m.os_build, "#1 SMP PREEMPT_DYNAMIC @0");
    b.clean_end = 1;
    b.end_ms = 61234;
    text = memgauge__tr_encode(&b, NULL);
    j = cJSON_Parse(text);
    ses = cJSON_GetObjectItem(j, "session");
    cr_expect(eq(str, cJSON_GetObjectItem(ses, "end")->valuestring, "clean_stop"));
    cr_expect(eq(dbl, cJSON_GetObjectItem(ses, "end_ms")->valuedouble, 61234.0));
    cr_expect(eq(str,
                 cJSON_GetObjectItem(cJSON_GetObjectItem(j, "device"), "os_build")->valuestring,
                 "#1 SMP PREEMPT_DYNAMIC @0"));
    cJSON_Delete(j);
    free(text);
}

/* The collector refuses a body with invalid UTF-8 (a 400, the batch
 * dropped): a byte that starts no well-formed sequence goes out as U+FFFD,
 * and well-formed text byte for byte. */
Test(encode, ill_formed_utf8_is_sent_as_replacement_characters)
{
    memgauge__tr_meta_t m = meta();
    snprintf(m.app_version, sizeof m.app_version, "2.4\xff");
    snprintf(m.device_model, sizeof m.device_model, "caf\xc3\xa9 \xe2\x82");
    memgauge__tr_batch_t b = {.meta = &m};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cr_assert(ne(ptr, text, NULL));
    cJSON *j = cJSON_Parse(text);
    cr_expect(eq(str, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "app"), "version")->valuestring,
                 "2.4\xef\xbf\xbd"));
    cr_expect(eq(str, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "device"), "model")->valuestring,
                 "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd"));
    cJSON_Delete(j);
    free(text);
}

/* 2^53 is the format's clamp, and it goes out as that integer (cJSON
 * printed it as 9.00719925474099e+15, which reads back 2 less). */
Test(encode, numbers_past_two_to_the_53_go_out_as_exactly_two_to_the_53)
{
    memgauge__tr_meta_t m = meta();
    memgauge__tr_batch_t b = {.meta = &m, .sent_unix_ms = UINT64_MAX};
    snprintf(b.batch_id, sizeof b.batch_id, "%s", ID1);
    char *text = memgauge__tr_encode(&b, NULL);
    cr_assert(ne(ptr, text, NULL));
    cr_expect(ne(ptr, strstr(text, "\"sent_unix_ms\":9007199254740992,"), NULL), "%s", text);
    free(text);
}

Test(encode, gzip_round_trips_and_gunzip_stops_at_its_cap)
{
    char text[5000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 7);
    size_t zlen, back_len;
    unsigned char *z = memgauge__tr_gzip(text, sizeof text, &zlen);
    cr_assert(ne(ptr, z, NULL));
    cr_expect(lt(sz, zlen, sizeof text / 10));
    unsigned char *back = memgauge__tr_gunzip(z, zlen, 1u << 20, &back_len);
    cr_assert(ne(ptr, back, NULL));
    cr_expect(eq(sz, back_len, sizeof text));
    cr_expect(eq(int, memcmp(back, text, sizeof text), 0));
    free(back);
    cr_expect(eq(ptr, memgauge__tr_gunzip(z, zlen, 1000, &back_len), NULL));
    free(z);
}

Test(report, verdicts_use_the_wire_formats_words)
{
    cr_expect(eq(str, (char *)memgauge__report_verdict_word(MEMGAUGE_END_SUSPECTED_OOM),
                 "oom_suspected"));
    cr_expect(
        eq(str, (char *)memgauge__report_verdict_word(MEMGAUGE_END_CLEAN_STOP), "clean_exit"));
    cr_expect(eq(ptr, (void *)memgauge__report_verdict_word(MEMGAUGE_END_NONE), NULL));
    cr_expect(eq(ptr, (void *)memgauge__report_verdict_word(MEMGAUGE_END_STILL_RUNNING), NULL));
}

/* ---- pending files: the batch being assembled ----------------------------- */

static void read_back(memgauge__spool_t *s, const char *name, const char *id, const char *body)
{
    unsigned char *buf;
    memgauge__spool_entry_t e;
    cr_assert(eq(int, memgauge__spool_read(s, name, &buf, &e), 0), "%s", name);
    cr_expect(eq(str, e.batch_id, (char *)id));
    cr_expect(eq(sz, e.body_len, strlen(body)));
    cr_expect(eq(int, memcmp(e.body, body, e.body_len), 0));
    free(buf);
}

Test(spool, a_pending_batch_is_replaced_whole_never_sent_and_promoted_with_its_last_version)
{
    memgauge__spool_t s;
    open_spool(&s, 1u << 20, 100, 0);
    char p[MEMGAUGE__SPOOL_NAME_MAX] = "", first[MEMGAUGE__SPOOL_NAME_MAX],
         oldest[MEMGAUGE__SPOOL_NAME_MAX], b[MEMGAUGE__SPOOL_NAME_MAX];
    cr_assert(eq(int, memgauge__spool_write_pending(&s, ID1, 5000, 0, "[1]", 3, p), 0));
    cr_expect(eq(int, memgauge__spool_name_kind(p), MEMGAUGE__SPOOL_PENDING), "%s", p);
    snprintf(first, sizeof first, "%s", p);
    cr_assert(eq(int, memgauge__spool_write_pending(&s, ID1, 5000, 0, "[1,2]", 5, p), 0));
    cr_expect(eq(str, p, first), "one name for every version");
    cr_expect(eq(u64, s.pending_writes, 2));
    /* an older batch waiting to be sent is sent; the pending one is not */
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 4000, 0, "old", 3, b), 0));
    cr_assert(eq(int, memgauge__spool_oldest(&s, oldest), 1));
    cr_expect(eq(str, oldest, b));
    cr_expect(eq(u64, s.files, 1));
    cr_expect(eq(u64, s.pending_files, 1));
    memgauge__spool_remove(&s, b);
    cr_expect(eq(int, memgauge__spool_oldest(&s, oldest), 0), "nothing to send yet");

    cr_assert(eq(int, memgauge__spool_write_pending(&s, ID1, 5000, 1, "[1,2,3]", 7, p), 0));
    cr_assert(eq(int, memgauge__spool_promote(&s, p, b), 0));
    cr_expect(eq(int, memgauge__spool_name_kind(b), MEMGAUGE__SPOOL_BATCH), "%s", b);
    cr_expect(eq(str, b + 1, p + 1), "same name but the kind");
    cr_assert(eq(int, memgauge__spool_oldest(&s, oldest), 1));
    cr_expect(eq(str, oldest, b));
    cr_expect(eq(u64, s.pending_files, 0));
    read_back(&s, b, ID1, "[1,2,3]");
    cr_expect(eq(int, memgauge__spool_promote(&s, p, b), -1), "gone once promoted");
    /* no temp file left behind by the versions */
    DIR *d = opendir(s.dir);
    struct dirent *e;
    size_t names = 0;
    while ((e = readdir(d)) != NULL)
        names += e->d_name[0] != '.';
    closedir(d);
    cr_expect(eq(sz, names, 1));
}

static pid_t dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

Test(spool, the_pending_batch_of_a_dead_writer_is_sent_at_the_next_open_oldest_first)
{
    memgauge__spool_t a, b;
    open_spool(&a, 1u << 20, 100, 0);
    char p[MEMGAUGE__SPOOL_NAME_MAX] = "", n[MEMGAUGE__SPOOL_NAME_MAX],
         oldest[MEMGAUGE__SPOOL_NAME_MAX];
    /* this process's run, killed with a pending batch (same pid as the next
     * run, as pid 1 in a container: told apart by the token) */
    cr_assert(eq(int, memgauge__spool_write(&a, ID2, 3000, 0, "older", 5, n), 0));
    cr_assert(eq(int, memgauge__spool_write_pending(&a, ID1, 3500, 0, "mine", 4, p), 0));
    /* a dead process's pending batch, a live one's, and a torn one */
    char dead[MEMGAUGE__SPOOL_NAME_MAX], live[MEMGAUGE__SPOOL_NAME_MAX],
        torn[MEMGAUGE__SPOOL_NAME_MAX], path[700];
    snprintf(dead, sizeof dead, "p-0000000004000-00000000-%08lx-0000abcd.mgs",
             (unsigned long)dead_pid());
    snprintf(live, sizeof live, "p-0000000004500-00000000-%08lx-0000abcd.mgs",
             (unsigned long)getppid());
    snprintf(torn, sizeof torn, "p-0000000004200-00000000-%08lx-0000abcd.mgs",
             (unsigned long)dead_pid());
    const char *names[] = {dead, live, torn};
    for (int i = 0; i < 3; i++) {
        unsigned char h[MEMGAUGE__SPOOL_HEADER];
        memgauge__spool_header(h, ID2, 4000, 0, "theirs", 6);
        snprintf(path, sizeof path, "%s/%s", a.dir, names[i]);
        FILE *f = fopen(path, "wb");
        cr_assert(ne(ptr, f, NULL));
        fwrite(h, 1, sizeof h, f);
        fwrite("theirs", 1, i == 2 ? 2 : 6, f);
        fclose(f);
    }
    open_spool(&b, 1u << 20, 100, 0);
    cr_expect(eq(u64, b.recovered, 3), "mine, the dead one's, the torn one");
    const char *want[] = {n, p, dead, torn};
    for (int i = 0; i < 4; i++) {
        cr_assert(eq(int, memgauge__spool_oldest(&b, oldest), 1), "file %d", i);
        cr_expect(eq(str, oldest + 1, (char *)want[i] + 1), "file %d", i);
        unsigned char *buf;
        memgauge__spool_entry_t e;
        int rc = memgauge__spool_read(&b, oldest, &buf, &e);
        cr_expect(eq(int, rc, i == 3 ? -1 : 0), "file %d", i);
        free(buf);
        if (rc == 0)
            memgauge__spool_remove(&b, oldest);
    }
    cr_expect(eq(u64, b.corrupt, 1), "the torn one is set aside and counted");
    cr_expect(eq(int, memgauge__spool_oldest(&b, oldest), 0));
    cr_expect(eq(u64, b.pending_files, 1), "a live process's pending batch is its own");
}

Test(spool, the_budget_counts_and_evicts_pending_files_like_the_others)
{
    memgauge__spool_t s;
    open_spool(&s, 1u << 20, 2, 3600);
    char p[MEMGAUGE__SPOOL_NAME_MAX] = "", n[MEMGAUGE__SPOOL_NAME_MAX];
    cr_assert(eq(int, memgauge__spool_write_pending(&s, ID1, 1000000, 0, "p1", 2, p), 0));
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 1000001, 0, "b1", 2, n), 0));
    cr_expect(eq(u64, s.evicted, 0));
    cr_assert(eq(int, memgauge__spool_write(&s, ID2, 1000002, 0, "b2", 2, n), 0));
    cr_expect(eq(u64, s.evicted, 1), "three files over a budget of two: the oldest goes");
    char path[700];
    snprintf(path, sizeof path, "%s/%s", s.dir, p);
    cr_expect(ne(int, access(path, F_OK), 0), "the pending file was the oldest");
    p[0] = '\0';
    cr_assert(eq(int, memgauge__spool_write_pending(&s, ID1, 1000003, 0, "p2", 2, p), 0));
    cr_expect(eq(u64, s.evicted, 2));
    cr_expect(eq(u32, memgauge__spool_enforce(&s, 1000003 + 3600 * 1000 + 1), 2), "age");
    cr_expect(eq(u64, s.files + s.pending_files, 0));
}

Test(spool, names_tell_the_kind_and_the_pending_writer)
{
    unsigned long pid;
    uint32_t token;
    cr_expect(eq(int, memgauge__spool_name_kind("b-0000000001000-00000001-00000abc.mgs"),
                 MEMGAUGE__SPOOL_BATCH));
    const char *p = "p-0000000001000-00000001-00000abc-deadbeef.mgs";
    cr_expect(eq(int, memgauge__spool_name_kind(p), MEMGAUGE__SPOOL_PENDING));
    cr_assert(eq(int, memgauge__spool_pending_writer(p, &pid, &token), 0));
    cr_expect(eq(ulong, pid, 0xabc));
    cr_expect(eq(u32, token, 0xdeadbeef));
    cr_expect(eq(u64, memgauge__spool_created_of(p), 1000));
    cr_expect(eq(int, memgauge__spool_pending_writer("p-0000000001000-1-2.mgs", &pid, &token), -1));
    cr_expect(eq(int,
                 memgauge__spool_pending_writer("p-0000000001000-00000001-00000abc-deadbeef.mgsx",
                                                &pid, &token),
                 -1));
    cr_expect(eq(int, memgauge__spool_name_kind(".tmp-1-2"), 0));
    cr_expect(eq(int, memgauge__spool_name_kind("x-1.mgs"), 0));
    cr_expect(eq(int, memgauge__spool_name_kind("p-.mgs"), 0));
}
