/* Streaming JSON writer. See json_out.h for the rules it keeps. */
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

static void fail(memgauge__json_t *w, int error)
{
    if (w->error == MEMGAUGE__JSON_OK)
        w->error = error;
}

/* Room for n more bytes and the NUL, growing by doubling up to the bound. */
static bool reserve(memgauge__json_t *w, size_t n)
{
    if (w->error != MEMGAUGE__JSON_OK)
        return false;
    if (n > w->max_bytes - w->len) {
        fail(w, MEMGAUGE__JSON_E_LIMIT);
        return false;
    }
    size_t need = w->len + n + 1;
    if (need <= w->cap)
        return true;
    size_t cap = w->cap != 0 ? w->cap : w->initial_cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > w->max_bytes + 1)
        cap = w->max_bytes + 1 > need ? w->max_bytes + 1 : need;
    char *buf = w->realloc_fn(w->buf, cap);
    if (buf == NULL) {
        fail(w, MEMGAUGE__JSON_E_NOMEM);
        return false;
    }
    w->buf = buf;
    w->cap = cap;
    return true;
}

static void put(memgauge__json_t *w, const char *bytes, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, bytes, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put_char(memgauge__json_t *w, char c)
{
    put(w, &c, 1);
}

void memgauge__json_init(memgauge__json_t *w, size_t initial_cap, size_t max_bytes)
{
    memset(w, 0, sizeof *w);
    w->max_bytes = max_bytes;
    w->initial_cap = initial_cap != 0 ? initial_cap : 256;
    w->realloc_fn = realloc;
}

void memgauge__json_free(memgauge__json_t *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* Before any value (or key): the separator it needs, and whether it may
 * stand here at all. */
static bool begin_value(memgauge__json_t *w, bool is_key)
{
    if (w->error != MEMGAUGE__JSON_OK)
        return false;
    if (w->depth == 0) {
        if (is_key || w->done) {
            fail(w, MEMGAUGE__JSON_E_STATE);
            return false;
        }
        return true;
    }
    uint32_t top = w->depth - 1;
    if (w->kind[top] == 'o') {
        if (is_key == w->after_key[top]) { /* a key after a key, or a value without one */
            fail(w, MEMGAUGE__JSON_E_STATE);
            return false;
        }
        if (!is_key) {
            w->after_key[top] = false;
            return true;
        }
    } else if (is_key) {
        fail(w, MEMGAUGE__JSON_E_STATE);
        return false;
    }
    if (w->has_member[top])
        put_char(w, ',');
    w->has_member[top] = true;
    if (is_key)
        w->after_key[top] = true;
    return w->error == MEMGAUGE__JSON_OK;
}

static void end_value(memgauge__json_t *w)
{
    if (w->depth == 0 && w->error == MEMGAUGE__JSON_OK)
        w->done = true;
}

static void open_container(memgauge__json_t *w, char kind)
{
    if (!begin_value(w, false))
        return;
    if (w->depth == MEMGAUGE__JSON_MAX_DEPTH) {
        fail(w, MEMGAUGE__JSON_E_DEPTH);
        return;
    }
    put_char(w, kind == 'o' ? '{' : '[');
    w->kind[w->depth] = kind;
    w->has_member[w->depth] = false;
    w->after_key[w->depth] = false;
    w->depth++;
}

static void close_container(memgauge__json_t *w, char kind)
{
    if (w->error != MEMGAUGE__JSON_OK)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != kind || w->after_key[w->depth - 1]) {
        fail(w, MEMGAUGE__JSON_E_STATE);
        return;
    }
    put_char(w, kind == 'o' ? '}' : ']');
    w->depth--;
    end_value(w);
}

void memgauge__json_object_begin(memgauge__json_t *w)
{
    open_container(w, 'o');
}

void memgauge__json_object_end(memgauge__json_t *w)
{
    close_container(w, 'o');
}

void memgauge__json_array_begin(memgauge__json_t *w)
{
    open_container(w, 'a');
}

void memgauge__json_array_end(memgauge__json_t *w)
{
    close_container(w, 'a');
}

/* Length of the well-formed UTF-8 sequence at s (Unicode 15, table 3-7),
 * or 0 when s[0] cannot start one within n bytes. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static void put_escaped(memgauge__json_t *w, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    put_char(w, '"');
    size_t run = 0; /* bytes at s[i - run .. i) that need no escaping */
    for (size_t i = 0; i < len && w->error == MEMGAUGE__JSON_OK;) {
        unsigned char c = s[i];
        size_t seq = (c >= 0x20 && c != '"' && c != '\\') ? utf8_sequence(s + i, len - i) : 0;
        if (seq != 0) {
            i += seq;
            run += seq;
            continue;
        }
        put(w, (const char *)s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c < 0x20) {
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            } else { /* a byte that starts no well-formed sequence */
                memcpy(esc, "\xEF\xBF\xBD", 3);
                n = 3;
            }
        }
        put(w, esc, n);
        i++;
    }
    put(w, (const char *)s + len - run, run);
    put_char(w, '"');
}

void memgauge__json_key_n(memgauge__json_t *w, const char *key, size_t len)
{
    if (key == NULL) {
        fail(w, MEMGAUGE__JSON_E_STATE);
        return;
    }
    if (!begin_value(w, true))
        return;
    put_escaped(w, key, len);
    put_char(w, ':');
}

void memgauge__json_key(memgauge__json_t *w, const char *key)
{
    memgauge__json_key_n(w, key, key != NULL ? strlen(key) : 0);
}

void memgauge__json_null(memgauge__json_t *w)
{
    if (!begin_value(w, false))
        return;
    put(w, "null", 4);
    end_value(w);
}

void memgauge__json_string_n(memgauge__json_t *w, const char *s, size_t len)
{
    if (s == NULL) {
        memgauge__json_null(w);
        return;
    }
    if (!begin_value(w, false))
        return;
    put_escaped(w, s, len);
    end_value(w);
}

void memgauge__json_string(memgauge__json_t *w, const char *s)
{
    memgauge__json_string_n(w, s, s != NULL ? strlen(s) : 0);
}

static void put_digits(memgauge__json_t *w, bool negative, uint64_t magnitude)
{
    char text[21]; /* 20 digits of UINT64_MAX and a sign */
    size_t i = sizeof text;
    do {
        text[--i] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (negative)
        text[--i] = '-';
    put(w, text + i, sizeof text - i);
}

void memgauge__json_uint(memgauge__json_t *w, uint64_t v)
{
    if (!begin_value(w, false))
        return;
    put_digits(w, false, v);
    end_value(w);
}

void memgauge__json_int(memgauge__json_t *w, int64_t v)
{
    if (!begin_value(w, false))
        return;
    /* -(INT64_MIN) does not fit an int64_t; its magnitude fits a uint64_t */
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    put_digits(w, v < 0, magnitude);
    end_value(w);
}

void memgauge__json_bool(memgauge__json_t *w, bool v)
{
    if (!begin_value(w, false))
        return;
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
    end_value(w);
}

int memgauge__json_error(const memgauge__json_t *w)
{
    return w->error;
}

const char *memgauge__json_finish(memgauge__json_t *w, size_t *len)
{
    if (w->error == MEMGAUGE__JSON_OK && (w->depth != 0 || !w->done))
        fail(w, MEMGAUGE__JSON_E_STATE);
    if (w->error != MEMGAUGE__JSON_OK || w->buf == NULL) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = w->len;
    return w->buf;
}

char *memgauge__json_take(memgauge__json_t *w, size_t *len)
{
    if (memgauge__json_finish(w, len) == NULL)
        return NULL;
    char *buf = w->buf;
    w->buf = NULL;
    w->len = w->cap = 0;
    return buf;
}
