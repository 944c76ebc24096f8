/* The SDK's streaming JSON writer (transport/json_out.c): what it writes,
 * how it escapes, and how it fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "json_out.h"

#define BIG (1u << 20)

static memgauge__json_t w;

static void setup(void)
{
    memgauge__json_init(&w, 0, BIG);
}

static void teardown(void)
{
    memgauge__json_free(&w);
}

TestSuite(json_out, .init = setup, .fini = teardown);

static const char *done(void)
{
    size_t len = 0;
    const char *out = memgauge__json_finish(&w, &len);
    cr_assert(ne(ptr, (void *)out, NULL), "error %d", memgauge__json_error(&w));
    cr_assert(eq(sz, len, strlen(out)));
    return out;
}

static const char *string_doc(const char *s, size_t len)
{
    memgauge__json_string_n(&w, s, len);
    return done();
}

Test(json_out, nested_document_has_commas_only_between_members)
{
    memgauge__json_object_begin(&w);
    memgauge__json_key(&w, "v");
    memgauge__json_uint(&w, 1);
    memgauge__json_key(&w, "windows");
    memgauge__json_array_begin(&w);
    memgauge__json_object_begin(&w);
    memgauge__json_object_end(&w);
    memgauge__json_array_begin(&w);
    memgauge__json_array_end(&w);
    memgauge__json_int(&w, -3);
    memgauge__json_array_end(&w);
    memgauge__json_key(&w, "ok");
    memgauge__json_bool(&w, true);
    memgauge__json_key(&w, "no");
    memgauge__json_bool(&w, false);
    memgauge__json_key(&w, "none");
    memgauge__json_string(&w, NULL);
    memgauge__json_object_end(&w);

    cr_assert(eq(str, (char *)done(),
                 "{\"v\":1,\"windows\":[{},[],-3],\"ok\":true,\"no\":false,\"none\":null}"));
}

Test(json_out, integers_cover_the_whole_64_bit_ranges)
{
    memgauge__json_array_begin(&w);
    memgauge__json_int(&w, INT64_MIN);
    memgauge__json_int(&w, INT64_MAX);
    memgauge__json_int(&w, 0);
    memgauge__json_uint(&w, UINT64_MAX);
    memgauge__json_uint(&w, 0);
    memgauge__json_array_end(&w);

    cr_assert(eq(str, (char *)done(),
                 "[-9223372036854775808,9223372036854775807,0,18446744073709551615,0]"));
}

Test(json_out, quotes_backslashes_and_control_characters_are_escaped)
{
    cr_assert(eq(str, (char *)string_doc("a\"b\\c\b\f\n\r\t\x01\x1f", 12),
                 "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\""));
}

Test(json_out, nul_inside_a_counted_string_is_escaped)
{
    cr_assert(eq(str, (char *)string_doc("a\0b", 3), "\"a\\u0000b\""));
}

Test(json_out, del_slash_and_well_formed_utf8_pass_unchanged)
{
    const char *s = "/\x7f"
                    "\xc3\xa9"
                    "\xe2\x82\xac"
                    "\xf0\x9f\x98\x80"
                    "\xe2\x80\xa8";
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", s);
    cr_assert(eq(str, (char *)string_doc(s, strlen(s)), want));
}

Test(json_out, each_byte_that_starts_no_sequence_becomes_a_replacement_character)
{
    /* stray continuation, truncated 3-byte sequence, overlong '/',
     * a surrogate, above U+10FFFF, 0xFF */
    const char *s = "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xff";
    const char *want = "\"\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\"";
    cr_assert(eq(str, (char *)string_doc(s, strlen(s)), (char *)want));
}

Test(json_out, sequence_cut_by_the_end_of_the_string_is_replaced)
{
    cr_assert(eq(str, (char *)string_doc("ok\xf0\x9f\x98", 5),
                 "\"ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
}

Test(json_out, keys_are_escaped_like_strings)
{
    memgauge__json_object_begin(&w);
    memgauge__json_key(&w, "a\"\n");
    memgauge__json_uint(&w, 7);
    memgauge__json_object_end(&w);
    cr_assert(eq(str, (char *)done(), "{\"a\\\"\\n\":7}"));
}

Test(json_out, value_without_key_in_an_object_is_an_error)
{
    memgauge__json_object_begin(&w);
    memgauge__json_uint(&w, 1);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));
    cr_assert(eq(ptr, (void *)memgauge__json_finish(&w, NULL), NULL));
}

Test(json_out, key_in_an_array_or_at_top_level_is_an_error)
{
    memgauge__json_array_begin(&w);
    memgauge__json_key(&w, "k");
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 0, BIG);
    memgauge__json_key(&w, "k");
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));
}

Test(json_out, two_keys_in_a_row_and_a_dangling_key_are_errors)
{
    memgauge__json_object_begin(&w);
    memgauge__json_key(&w, "a");
    memgauge__json_key(&w, "b");
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 0, BIG);
    memgauge__json_object_begin(&w);
    memgauge__json_key(&w, "a");
    memgauge__json_object_end(&w);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));
}

Test(json_out, mismatched_end_unclosed_container_and_second_value_are_errors)
{
    memgauge__json_object_begin(&w);
    memgauge__json_array_end(&w);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 0, BIG);
    memgauge__json_array_begin(&w);
    cr_assert(eq(ptr, (void *)memgauge__json_finish(&w, NULL), NULL));
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 0, BIG);
    memgauge__json_uint(&w, 1);
    memgauge__json_uint(&w, 2);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 0, BIG);
    cr_assert(eq(ptr, (void *)memgauge__json_finish(&w, NULL), NULL), "nothing written");
}

Test(json_out, nesting_beyond_the_limit_is_an_error)
{
    for (int i = 0; i < MEMGAUGE__JSON_MAX_DEPTH; i++)
        memgauge__json_array_begin(&w);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_OK));
    memgauge__json_array_begin(&w);
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_DEPTH));
}

Test(json_out, document_reaching_the_bound_fits_one_byte_more_does_not)
{
    memgauge__json_free(&w);
    memgauge__json_init(&w, 1, 7);
    memgauge__json_string(&w, "abcde"); /* 7 bytes with the quotes */
    cr_assert(eq(str, (char *)done(), "\"abcde\""));

    memgauge__json_free(&w);
    memgauge__json_init(&w, 1, 7);
    memgauge__json_string(&w, "abcdef");
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_LIMIT));
    cr_assert(eq(ptr, (void *)memgauge__json_finish(&w, NULL), NULL));
}

static int allowed_reallocs;

static void *counting_realloc(void *p, size_t n)
{
    if (allowed_reallocs-- <= 0)
        return NULL;
    return realloc(p, n);
}

Test(json_out, refused_allocation_is_a_sticky_error_not_a_crash)
{
    memgauge__json_free(&w);
    memgauge__json_init(&w, 4, BIG);
    w.realloc_fn = counting_realloc;
    allowed_reallocs = 1;
    memgauge__json_array_begin(&w);
    for (int i = 0; i < 100; i++)
        memgauge__json_string(&w, "grow the buffer past its first allocation");
    memgauge__json_array_end(&w);

    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_NOMEM));
    cr_assert(eq(ptr, (void *)memgauge__json_finish(&w, NULL), NULL));
    cr_assert(eq(ptr, (void *)memgauge__json_take(&w, NULL), NULL));
}

Test(json_out, first_error_is_the_one_kept)
{
    memgauge__json_object_begin(&w);
    memgauge__json_uint(&w, 1); /* state */
    for (int i = 0; i < 40; i++)
        memgauge__json_array_begin(&w); /* would be depth */
    cr_assert(eq(int, memgauge__json_error(&w), MEMGAUGE__JSON_E_STATE));
}

Test(json_out, take_hands_over_the_buffer)
{
    memgauge__json_array_begin(&w);
    memgauge__json_array_end(&w);
    size_t len = 0;
    char *doc = memgauge__json_take(&w, &len);
    cr_assert(eq(str, doc, "[]"));
    cr_assert(eq(sz, len, 2));
    cr_assert(eq(ptr, (void *)w.buf, NULL));
    free(doc);
}

Test(json_out, growth_keeps_everything_written)
{
    memgauge__json_free(&w);
    memgauge__json_init(&w, 1, BIG);
    memgauge__json_array_begin(&w);
    for (uint64_t i = 0; i < 1000; i++)
        memgauge__json_uint(&w, i);
    memgauge__json_array_end(&w);
    const char *out = done();
    cr_assert(eq(int, strncmp(out, "[0,1,2,3,", 9), 0));
    cr_assert(eq(int, strcmp(out + strlen(out) - 9, ",998,999]"), 0));
}
