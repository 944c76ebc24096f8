/* The small pure pieces: UTF-8 validation, bounded gunzip, the sample blob. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gunzip.h"
#include "series_codec.h"
#include "utf8.h"

Test(utf8, accepts_text_and_names_the_first_bad_byte)
{
    const char *ok = "memgauge \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1";
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)ok, strlen(ok)), strlen(ok));
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)"ab\xc0\xaf", 4), 2, "overlong");
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)"\xed\xa0\x80", 3), 0, "surrogate");
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)"x\xf4\x90\x80\x80", 5), 1,
                 "above U+10FFFF");
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)"abc\xe2\x82", 5), 3, "truncated");
    cr_expect_eq(memgauge__utf8_check((const unsigned char *)"\x80", 1), 0, "lone continuation");
}

Test(gunzip, round_trips_a_body)
{
    const char *text = "{\"schema\":1,\"windows\":[]}";
    size_t zlen;
    unsigned char *z = fixture_gzip(text, strlen(text), &zlen);
    char *out;
    size_t len;
    cr_assert_eq(memgauge__gunzip(z, zlen, 1024, &out, &len), MEMGAUGE__GUNZIP_OK);
    cr_expect_eq(len, strlen(text));
    cr_expect_str_eq(out, text);
    free(out);
    free(z);
}

Test(gunzip, bomb_stops_at_the_cap_without_inflating_it)
{
    size_t big = 64u << 20; /* 64 MiB of zeros compresses to ~64 KiB */
    char *zeros = calloc(1, big);
    size_t zlen;
    unsigned char *z = fixture_gzip(zeros, big, &zlen);
    free(zeros);
    cr_expect_lt(zlen, 200000);
    char *out = (char *)1;
    size_t len = 99;
    cr_expect_eq(memgauge__gunzip(z, zlen, 1u << 20, &out, &len), MEMGAUGE__GUNZIP_TOO_LARGE);
    cr_expect_null(out);
    cr_expect_eq(len, 0);
    free(z);
}

Test(gunzip, exactly_the_cap_is_allowed)
{
    char body[4096];
    memset(body, 'a', sizeof body);
    size_t zlen;
    unsigned char *z = fixture_gzip(body, sizeof body, &zlen);
    char *out;
    size_t len;
    cr_expect_eq(memgauge__gunzip(z, zlen, sizeof body, &out, &len), MEMGAUGE__GUNZIP_OK);
    cr_expect_eq(len, sizeof body);
    free(out);
    cr_expect_eq(memgauge__gunzip(z, zlen, sizeof body - 1, &out, &len),
                 MEMGAUGE__GUNZIP_TOO_LARGE);
    free(z);
}

Test(gunzip, truncated_and_garbage_are_corrupt)
{
    const char *text = "{\"schema\":1,\"windows\":[1,2,3,4,5,6,7,8,9]}";
    size_t zlen;
    unsigned char *z = fixture_gzip(text, strlen(text), &zlen);
    char *out;
    size_t len;
    cr_expect_eq(memgauge__gunzip(z, zlen - 6, 1024, &out, &len), MEMGAUGE__GUNZIP_CORRUPT);
    cr_expect_eq(memgauge__gunzip((const unsigned char *)text, strlen(text), 1024, &out, &len),
                 MEMGAUGE__GUNZIP_CORRUPT);
    z[zlen - 5] ^= 0xff; /* length/CRC trailer */
    cr_expect_eq(memgauge__gunzip(z, zlen, 1024, &out, &len), MEMGAUGE__GUNZIP_CORRUPT);
    free(z);
}

Test(series_codec, round_trip_is_exact_and_about_three_bytes_a_sample)
{
    memgauge__series_t s;
    size_t n = 3600;
    cr_assert_eq(memgauge__series_alloc(&s, n, 1, 1), 0);
    s.unit_bytes = 16384;
    for (size_t i = 0; i < n; i++) {
        s.t_ms[i] = 1000 * i + (i % 7 == 0); /* a little jitter */
        s.footprint[i] = (11520 + (i * 37 % 101) - 50) * 16384ull;
        s.resident[i] = s.footprint[i] + 4096 * 16384ull;
        s.peak[i] = s.footprint[i] + (i == 1234 ? 640 * 16384ull : 0);
    }
    unsigned char *blob;
    size_t len;
    cr_assert_eq(memgauge__series_encode(&s, &blob, &len), 0);
    cr_expect_leq(len, n * 6, "%zu bytes for %zu samples", len, n);
    memgauge__series_t d;
    cr_assert_eq(memgauge__series_decode(blob, len, n, &d), 0);
    cr_assert_eq(d.n, n);
    cr_expect_eq(d.unit_bytes, 16384);
    cr_expect_arr_eq(d.t_ms, s.t_ms, n * sizeof *d.t_ms);
    cr_expect_arr_eq(d.footprint, s.footprint, n * sizeof *d.footprint);
    cr_expect_arr_eq(d.resident, s.resident, n * sizeof *d.resident);
    cr_expect_arr_eq(d.peak, s.peak, n * sizeof *d.peak);
    memgauge__series_clear(&d);
    cr_expect_eq(memgauge__series_decode(blob, len, n - 1, &d), -1, "above max_samples");
    for (size_t cut = 0; cut < len; cut += 97)
        cr_expect_eq(memgauge__series_decode(blob, cut, n, &d), -1, "truncated at %zu", cut);
    free(blob);
    memgauge__series_clear(&s);
}
