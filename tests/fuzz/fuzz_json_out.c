/*
 * libFuzzer target: the SDK's JSON writer (transport/json_out.c) against
 * cJSON's parser. The input is a little program: each step writes a key
 * and one value (a string of arbitrary bytes, an int64, a uint64, a bool,
 * or a short array) into one object, under a size bound taken from the
 * input. Whatever the writer finishes must parse with cJSON, and every
 * key and value must come back exactly:
 * - strings byte for byte when they were well-formed UTF-8, else as this
 *   file's own decoder says (each byte that starts no well-formed sequence
 *   becomes U+FFFD); NUL bytes are left out of the strings, because cJSON
 *   stops a string at \u0000 (the unit tests check its escape);
 * - integers as the same decimal text (strtoll/strtoull of a one-value
 *   document) and as cJSON's double.
 * A document the writer refused (over its bound) must come with an error
 * and no output.
 *
 * Build and run (from the repository root):
 *   clang -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
 *       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Itransport \
 *       tests/fuzz/fuzz_json_out.c transport/json_out.c -lcjson -o build/fuzz/fuzz_json_out
 *   build/fuzz/fuzz_json_out -max_total_time=30 -timeout=10 -artifact_prefix=build/fuzz/ \
 *       build/fuzz/json-work tests/fuzz/corpus/json_out
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_out.h"

#define MAX_STEPS 64
#define MAX_TEXT 256

typedef struct {
    const uint8_t *p;
    size_t left;
} input_t;

static uint8_t take_byte(input_t *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static uint64_t take_u64(input_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take_byte(in);
    return v;
}

/* Up to MAX_TEXT bytes, NULs dropped. */
static size_t take_text(input_t *in, char *out)
{
    size_t want = take_byte(in), n = 0;
    for (size_t i = 0; i < want && in->left > 0; i++) {
        char c = (char)take_byte(in);
        if (c != '\0')
            out[n++] = c;
    }
    return n;
}

/* The expected text: decodes code points and keeps those that are
 * well-formed (no overlong form, no surrogate, nothing above U+10FFFF);
 * each byte that starts none becomes U+FFFD. Written independently of the
 * writer's table. */
static size_t expected_text(const char *in, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len, cp;
        if (c < 0x80) {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            len = 0;
            cp = 0;
        }
        bool ok = len != 0 && i + len <= n;
        for (unsigned k = 1; ok && k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                ok = false;
            else
                cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (ok && (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = false;
        if (ok) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    return o;
}

typedef struct {
    int kind; /* 0 string, 1 int, 2 uint, 3 bool, 4 array of uints */
    char key[MAX_TEXT];
    size_t key_len;
    char text[MAX_TEXT];
    size_t text_len;
    int64_t i;
    uint64_t u[3];
    size_t n;
    bool b;
} step_t;

static void same_text(const char *got, const char *raw, size_t raw_len)
{
    char want[3 * MAX_TEXT + 1];
    size_t n = expected_text(raw, raw_len, want);
    want[n] = '\0';
    if (got == NULL || strlen(got) != n || memcmp(got, want, n) != 0)
        abort();
}

/* One value alone, parsed back as text: the exact decimal. */
static void exact_integer(bool is_signed, int64_t i, uint64_t u)
{
    memgauge__json_t w;
    memgauge__json_init(&w, 0, 64);
    if (is_signed)
        memgauge__json_int(&w, i);
    else
        memgauge__json_uint(&w, u);
    size_t len;
    const char *doc = memgauge__json_finish(&w, &len);
    if (doc == NULL)
        abort();
    char *end;
    errno = 0;
    if (is_signed) {
        if (strtoll(doc, &end, 10) != i)
            abort();
    } else if (doc[0] == '-' || strtoull(doc, &end, 10) != u) {
        abort();
    }
    if (errno != 0 || end != doc + len)
        abort();
    memgauge__json_free(&w);
}

static step_t steps[MAX_STEPS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input_t in = {data, size};
    /* a bound from tiny to roomy, so that the limit is reached too */
    size_t max_bytes = take_byte(&in) < 32 ? (size_t)take_byte(&in) * 8 : 1u << 20;

    memgauge__json_t w;
    memgauge__json_init(&w, take_byte(&in), max_bytes);
    memgauge__json_object_begin(&w);
    size_t n = 0;
    while (in.left > 0 && n < MAX_STEPS) {
        step_t *s = &steps[n++];
        memset(s, 0, sizeof *s);
        s->kind = take_byte(&in) % 5;
        s->key_len = take_text(&in, s->key);
        memgauge__json_key_n(&w, s->key, s->key_len);
        switch (s->kind) {
        case 0:
            s->text_len = take_text(&in, s->text);
            memgauge__json_string_n(&w, s->text, s->text_len);
            break;
        case 1:
            s->i = (int64_t)take_u64(&in);
            memgauge__json_int(&w, s->i);
            exact_integer(true, s->i, 0);
            break;
        case 2:
            s->u[0] = take_u64(&in);
            memgauge__json_uint(&w, s->u[0]);
            exact_integer(false, 0, s->u[0]);
            break;
        case 3:
            s->b = take_byte(&in) & 1;
            memgauge__json_bool(&w, s->b);
            break;
        default:
            s->n = take_byte(&in) % 4;
            memgauge__json_array_begin(&w);
            for (size_t k = 0; k < s->n; k++) {
                s->u[k] = take_u64(&in);
                memgauge__json_uint(&w, s->u[k]);
            }
            memgauge__json_array_end(&w);
            break;
        }
    }
    memgauge__json_object_end(&w);

    size_t len;
    const char *doc = memgauge__json_finish(&w, &len);
    if (doc == NULL) {
        /* only the bound may refuse this program; then nothing comes out */
        if (memgauge__json_error(&w) != MEMGAUGE__JSON_E_LIMIT)
            abort();
        memgauge__json_free(&w);
        return 0;
    }
    if (len > max_bytes || strlen(doc) != len)
        abort();

    cJSON *root = cJSON_ParseWithLength(doc, len);
    if (root == NULL || !cJSON_IsObject(root))
        abort();
    const cJSON *item = root->child;
    for (size_t k = 0; k < n; k++, item = item->next) {
        const step_t *s = &steps[k];
        if (item == NULL)
            abort();
        same_text(item->string, s->key, s->key_len);
        switch (s->kind) {
        case 0:
            if (!cJSON_IsString(item))
                abort();
            same_text(item->valuestring, s->text, s->text_len);
            break;
        case 1:
            if (!cJSON_IsNumber(item) || item->valuedouble != (double)s->i)
                abort();
            break;
        case 2:
            if (!cJSON_IsNumber(item) || item->valuedouble != (double)s->u[0])
                abort();
            break;
        case 3:
            if (s->b ? !cJSON_IsTrue(item) : !cJSON_IsFalse(item))
                abort();
            break;
        default:
            if (!cJSON_IsArray(item) || (size_t)cJSON_GetArraySize(item) != s->n)
                abort();
            for (size_t j = 0; j < s->n; j++)
                if (cJSON_GetArrayItem(item, (int)j)->valuedouble != (double)s->u[j])
                    abort();
        }
    }
    if (item != NULL)
        abort();
    cJSON_Delete(root);
    memgauge__json_free(&w);
    return 0;
}
