/* The pure pieces behind the abuse bounds: the cost scan, log escaping,
 * keys bound to apps, and the command line that configures them. */
#include "auth.h"
#include "budget.h"
#include "cli.h"
#include "json_scan.h"
#include "log_escape.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int scan(const char *text, memgauge__json_scan_t *s)
{
    return memgauge__json_scan(text, strlen(text), s);
}

Test(bounds, the_value_bound_is_what_v1_limits_allow)
{
    /* 4 numbers per sample for 1,000,000 samples and a 10,000-sample trail,
     * 20 values per window, 18 per event, 64 more */
    cr_expect_eq(MEMGAUGE__SCAN_MAX_VALUES, 4420064u);
}

Test(bounds, keys_are_not_values_and_strings_are_counted_with_their_bytes)
{
    memgauge__json_scan_t s;
    cr_assert_eq(scan("{\"a\": [1, 22, \"xy\"], \"b\" : {\"c\": null}}", &s), MEMGAUGE__SCAN_OK);
    cr_expect_eq(s.values, 7); /* {} [] 1 22 "xy" {} null */
    cr_expect_eq(s.strings, 4);
    cr_expect_eq(s.string_bytes, 2 + 3 + 2 + 2); /* a, xy, b, c: bytes + 1 each */
    cr_expect_eq(s.objects, 2);
    cr_expect_eq(s.depth, 2);
    cr_expect_eq(s.longest_scalar, 4); /* null */
}

Test(bounds, junk_colons_do_not_hide_values)
{
    memgauge__json_scan_t s;
    cr_assert_eq(scan("[:", &s), MEMGAUGE__SCAN_OK);
    cr_expect_eq(s.values, 1);
    cr_assert_eq(scan("{\"a\\\"b\":1}", &s), MEMGAUGE__SCAN_OK); /* an escaped quote in a key */
    cr_expect_eq(s.values, 2);
    cr_expect_eq(s.strings, 1);
}

Test(bounds, arrays_longer_than_a_series_are_refused_before_parsing)
{
    size_t n = MEMGAUGE__SCAN_MAX_ARRAY + 1;
    char *text = malloc(2 * n + 2);
    text[0] = '[';
    for (size_t i = 0; i < n; i++) {
        text[1 + 2 * i] = '0';
        text[2 + 2 * i] = i + 1 < n ? ',' : ']';
    }
    text[2 * n + 1] = '\0';
    memgauge__json_scan_t s;
    cr_expect_eq(scan(text, &s), MEMGAUGE__SCAN_ARRAY_TOO_LONG);
    text[2 * n - 1] = ']'; /* one element fewer */
    text[2 * n] = '\0';
    cr_expect_eq(scan(text, &s), MEMGAUGE__SCAN_OK);
    cr_expect_eq(s.values, MEMGAUGE__SCAN_MAX_ARRAY + 1);
    free(text);
}

Test(bounds, nesting_deeper_than_32_is_refused)
{
    char deep[2 * MEMGAUGE__SCAN_MAX_DEPTH + 3];
    memset(deep, '[', MEMGAUGE__SCAN_MAX_DEPTH);
    memset(deep + MEMGAUGE__SCAN_MAX_DEPTH, ']', MEMGAUGE__SCAN_MAX_DEPTH);
    deep[2 * MEMGAUGE__SCAN_MAX_DEPTH] = '\0';
    memgauge__json_scan_t s;
    cr_expect_eq(scan(deep, &s), MEMGAUGE__SCAN_OK);
    cr_expect_eq(s.depth, MEMGAUGE__SCAN_MAX_DEPTH);
    memmove(deep + 1, deep, sizeof deep - 2);
    deep[0] = '[';
    cr_expect_eq(scan(deep, &s), MEMGAUGE__SCAN_TOO_DEEP);
}

Test(bounds, a_parsed_tree_never_outgrows_its_reservation)
{
    static const char *const docs[] = {
        "{\"schema\":1,\"batch_id\":",
        "[1,2,3,\"abc\",{\"k\":[true,false,null]}]",
        "{\"a\":12345678901234567890123456789012345678901234567890}",
        "[\"\\u00e9\\n\",\"\",{}]",
        "[:",
        "{\"a\"",
    };
    memgauge__json_hooks_install();
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        memgauge__json_scan_t s;
        cr_assert_eq(scan(docs[i], &s), MEMGAUGE__SCAN_OK);
        memgauge__json_limit_begin(memgauge__json_scan_tree_bytes(&s));
        cJSON_Delete(cJSON_ParseWithLength(docs[i], strlen(docs[i])));
        cr_expect_eq(memgauge__json_limit_end(), 0, "%s outgrew its reservation", docs[i]);
    }
    /* and a limit below the tree fails the parse as out of memory */
    memgauge__json_limit_begin(100);
    cJSON *j = cJSON_Parse("[1,2,3,4,5]");
    cr_expect_null(j);
    cr_expect_eq(memgauge__json_limit_end(), 1);
}

Test(bounds, the_memory_pool_refuses_past_its_limit_and_takes_back_what_is_given)
{
    memgauge__mempool_t pool = {.limit = 1000};
    memgauge__budget_t a = {.pool = &pool}, b = {.pool = &pool};
    cr_expect_eq(memgauge__budget_take(&a, 600), 0);
    cr_expect_eq(memgauge__budget_take(&b, 401), -1);
    cr_expect_eq(memgauge__budget_take(&b, 400), 0);
    cr_expect_eq(pool.refused, 1);
    memgauge__budget_release(&a);
    cr_expect_eq(pool.used, 400);
    cr_expect_eq(pool.peak, 1000);
    memgauge__budget_give(&b, 100);
    cr_expect_eq(b.held, 300);
    memgauge__budget_release(&b);
    cr_expect_eq(pool.used, 0);
}

Test(bounds, control_characters_are_escaped_for_the_log)
{
    char out[128];
    memgauge__log_escape(out, sizeof out, "dropped.x\n2026 FORGED\r\t\\\x1b[31m\xc3\xa9", 0);
    cr_expect_str_eq(out, "dropped.x\\n2026 FORGED\\r\\t\\\\\\x1b[31m\\xc3\\xa9");
    memgauge__log_escape(out, sizeof out, "/a b", 1);
    cr_expect_str_eq(out, "/a\\x20b");
    memgauge__log_escape(out, 4, "ab\ncd", 0); /* never half an escape */
    cr_expect_str_eq(out, "ab");
}

Test(bounds, a_key_bound_to_apps_writes_only_those)
{
    cr_expect(memgauge__auth_app_allowed("", "com.example.any"));
    cr_expect(memgauge__auth_app_allowed(NULL, "com.example.any"));
    cr_expect(memgauge__auth_app_allowed("com.a,com.b", "com.b"));
    cr_expect(!memgauge__auth_app_allowed("com.a,com.b", "com"));
    cr_expect(!memgauge__auth_app_allowed("com.a,com.b", "com.a,com.b"));
    cr_expect(!memgauge__auth_app_allowed("com.ab", "com.a"));
}

static memgauge__cli_t cli;

static int parse(const char *const *argv, char *err, size_t errlen)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return memgauge__cli_parse(argc, (char **)argv, &cli, err, errlen);
}

Test(bounds, the_api_keys_file_binds_keys_to_apps_and_refuses_short_keys)
{
    char path[] = "/tmp/memgauge-keys-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# keys\nbound-key-0123456789\tcom.a,com.b\nfree-key-0123456789\n", f);
    fclose(f);
    char err[512];
    const char *argv[] = {"memgauge-collector", "--api-keys", path, NULL};
    cr_assert_eq(parse(argv, err, sizeof err), 0, "%s", err);
    cr_expect_eq(cli.key_count, 2);
    cr_expect_str_eq(cli.keys[0], "bound-key-0123456789");
    cr_expect_str_eq(cli.key_apps[0], "com.a,com.b");
    cr_expect_str_eq(cli.key_apps[1], "");
    f = fopen(path, "w");
    fputs("short-key com.a\n", f);
    fclose(f);
    cr_expect_eq(parse(argv, err, sizeof err), -1);
    cr_expect(strstr(err, "line 1") && strstr(err, "at least 16 bytes"), "%s", err);
    f = fopen(path, "w");
    fputs("bound-key-0123456789 com.a,\n", f);
    fclose(f);
    cr_expect_eq(parse(argv, err, sizeof err), -1);
    cr_expect(strstr(err, "ends with a comma"), "%s", err);
    unlink(path);
}

Test(bounds, read_tokens_come_from_a_file_and_memory_must_hold_two_bodies)
{
    char path[] = "/tmp/memgauge-tokens-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("reader-token-0123456789\n", f);
    fclose(f);
    char err[512];
    const char *ok[] = {"memgauge-collector",
                        "--api-key",
                        "a-key-0123456789ab",
                        "--read-tokens",
                        path,
                        "--max-memory",
                        "1G",
                        "--max-connections-per-ip",
                        "0",
                        NULL};
    cr_assert_eq(parse(ok, err, sizeof err), 0, "%s", err);
    cr_expect_eq(cli.read_token_count, 1);
    cr_expect_str_eq(cli.read_tokens[0], "reader-token-0123456789");
    cr_expect_eq(cli.max_memory, (size_t)1 << 30);
    cr_expect_eq(cli.max_connections_per_ip, 0);
    cr_expect_eq(cli.header_timeout_s, 5);
    const char *small[] = {"memgauge-collector", "--api-key", "a-key-0123456789ab",
                           "--max-memory",       "20M",       NULL};
    cr_expect_eq(parse(small, err, sizeof err), -1);
    cr_expect(strstr(err, "--max-memory"), "%s", err);
    unlink(path);
}
