/* Blob encoding of a series for storage. Layout:
 *   varint version(1) | varint n | varint log2(unit) | varint flags (1 resident, 2 peak)
 *   n x varint dt | n x zigzag dfootprint | [n x zigzag dresident] | [n x varint excess]
 * All footprint/resident/peak values are in units of unit_bytes. */
#include "series_codec.h"

#include <stdlib.h>
#include <string.h>

#define CODEC_VERSION 1

typedef struct {
    unsigned char *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        b->p[b->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (unsigned char)v;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int memgauge__series_encode(const memgauge__series_t *s, unsigned char **out, size_t *len)
{
    unsigned shift = 0;
    while (shift < 16 && (1ull << shift) < s->unit_bytes)
        shift++;
    uint64_t unit = 1ull << shift;
    buf_t b = {.cap = 4 * 10 + s->n * 4 * 10};
    if (!(b.p = malloc(b.cap)))
        return -1;
    put(&b, CODEC_VERSION);
    put(&b, s->n);
    put(&b, shift);
    put(&b, (s->resident ? 1u : 0u) | (s->peak ? 2u : 0u));
    for (size_t i = 0; i < s->n; i++)
        put(&b, i ? s->t_ms[i] - s->t_ms[i - 1] : s->t_ms[0]);
    for (size_t i = 0; i < s->n; i++)
        put(&b, zigzag((int64_t)(s->footprint[i] / unit) -
                       (int64_t)(i ? s->footprint[i - 1] / unit : 0)));
    if (s->resident)
        for (size_t i = 0; i < s->n; i++)
            put(&b, zigzag((int64_t)(s->resident[i] / unit) -
                           (int64_t)(i ? s->resident[i - 1] / unit : 0)));
    if (s->peak)
        for (size_t i = 0; i < s->n; i++)
            put(&b, s->peak[i] / unit - s->footprint[i] / unit);
    *out = b.p;
    *len = b.len;
    return 0;
}

typedef struct {
    const unsigned char *p;
    size_t len, at;
    int bad;
} reader_t;

static uint64_t get(reader_t *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->at >= r->len) {
            r->bad = 1;
            return 0;
        }
        unsigned char c = r->p[r->at++];
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

int memgauge__series_decode(const unsigned char *buf, size_t len, size_t max_samples,
                            memgauge__series_t *out)
{
    reader_t r = {.p = buf, .len = len};
    memset(out, 0, sizeof *out);
    uint64_t version = get(&r), n = get(&r), shift = get(&r), flags = get(&r);
    /* every sample needs at least two bytes, so n is bounded by the blob too */
    if (r.bad || version != CODEC_VERSION || shift > 16 || flags > 3 || n > max_samples || n > len)
        return -1;
    if (memgauge__series_alloc(out, (size_t)n, flags & 1, flags & 2))
        return -2;
    uint64_t unit = 1ull << shift;
    out->unit_bytes = unit;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        out->t_ms[i] = acc += get(&r);
    uint64_t v = 0; /* unsigned: a corrupt blob wraps instead of overflowing */
    for (size_t i = 0; i < n; i++) {
        v += (uint64_t)unzigzag(get(&r));
        out->footprint[i] = v * unit;
    }
    if (out->resident) {
        v = 0;
        for (size_t i = 0; i < n; i++) {
            v += (uint64_t)unzigzag(get(&r));
            out->resident[i] = v * unit;
        }
    }
    if (out->peak)
        for (size_t i = 0; i < n; i++)
            out->peak[i] = out->footprint[i] + get(&r) * unit;
    if (r.bad || r.at != len) {
        memgauge__series_clear(out);
        return -1;
    }
    return 0;
}
