#include "sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double log_gamma(void)
{
    return log((1 + MEMGAUGE__SKETCH_ALPHA) / (1 - MEMGAUGE__SKETCH_ALPHA));
}

static int32_t index_of(double x)
{
    double i = ceil(log(x) / log_gamma());
    if (i > MEMGAUGE__SKETCH_INDEX_MAX)
        i = MEMGAUGE__SKETCH_INDEX_MAX;
    if (i < -MEMGAUGE__SKETCH_INDEX_MAX)
        i = -MEMGAUGE__SKETCH_INDEX_MAX;
    return (int32_t)i;
}

static double value_of(int32_t i)
{
    double gamma = exp(log_gamma());
    return 2 * exp((double)i * log_gamma()) / (gamma + 1);
}

/* Makes room for index i. */
static int reach(memgauge__sketch_t *s, int32_t i)
{
    if (s->n && i >= s->lo && i < s->lo + (int32_t)s->n)
        return 0;
    int32_t lo = s->n ? (i < s->lo ? i : s->lo) : i;
    int32_t hi = s->n ? (i >= s->lo + (int32_t)s->n ? i : s->lo + (int32_t)s->n - 1) : i;
    /* grow by at least 32 buckets on the side that grew, to amortise */
    if (s->n && lo < s->lo)
        lo = lo - 32 < -MEMGAUGE__SKETCH_INDEX_MAX ? -MEMGAUGE__SKETCH_INDEX_MAX : lo - 32;
    if (s->n && hi >= s->lo + (int32_t)s->n)
        hi = hi + 32 > MEMGAUGE__SKETCH_INDEX_MAX ? MEMGAUGE__SKETCH_INDEX_MAX : hi + 32;
    size_t n = (size_t)(hi - lo + 1);
    int64_t *c = calloc(n, sizeof *c);
    if (!c)
        return -2;
    if (s->n)
        memcpy(c + (s->lo - lo), s->counts, s->n * sizeof *c);
    free(s->counts);
    s->counts = c;
    s->lo = lo;
    s->n = n;
    return 0;
}

static int add_index(memgauge__sketch_t *s, int32_t i, int64_t weight)
{
    if (reach(s, i))
        return -2;
    s->counts[i - s->lo] += weight;
    s->total += weight;
    return 0;
}

int memgauge__sketch_add(memgauge__sketch_t *s, double x, int64_t weight)
{
    if (!(x > 0)) {
        s->zero += weight;
        s->total += weight;
        return 0;
    }
    return add_index(s, index_of(x), weight);
}

int memgauge__sketch_merge(memgauge__sketch_t *dst, const memgauge__sketch_t *src)
{
    dst->zero += src->zero;
    dst->total += src->zero;
    size_t lo = 0, hi = src->n;
    while (lo < hi && !src->counts[lo])
        lo++;
    while (hi > lo && !src->counts[hi - 1])
        hi--;
    if (lo == hi)
        return 0;
    /* room for the whole range at once, then plain adds */
    if (reach(dst, src->lo + (int32_t)lo) || reach(dst, src->lo + (int32_t)hi - 1))
        return -2;
    int64_t *d = dst->counts + (src->lo - dst->lo);
    for (size_t k = lo; k < hi; k++) {
        d[k] += src->counts[k];
        dst->total += src->counts[k];
    }
    return 0;
}

double memgauge__sketch_quantile(const memgauge__sketch_t *s, double p)
{
    if (s->total <= 0)
        return 0;
    double r = ceil(p / 100.0 * (double)s->total);
    int64_t rank = r < 1 ? 1 : (int64_t)r;
    int64_t seen = s->zero;
    if (seen >= rank)
        return 0;
    for (size_t k = 0; k < s->n; k++) {
        seen += s->counts[k];
        if (seen >= rank)
            return value_of(s->lo + (int32_t)k);
    }
    for (size_t k = s->n; k-- > 0;) /* rank at the very top: the last bucket */
        if (s->counts[k])
            return value_of(s->lo + (int32_t)k);
    return 0;
}

void memgauge__sketch_clear(memgauge__sketch_t *s)
{
    free(s->counts);
    memset(s, 0, sizeof *s);
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        p[k++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[k++] = (unsigned char)v;
    return k;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int get_varint(const unsigned char *p, size_t len, size_t *at, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= len)
            return -1;
        unsigned char b = p[(*at)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

int memgauge__sketch_encode(const memgauge__sketch_t *s, unsigned char **out, size_t *len)
{
    size_t used = 0;
    for (size_t k = 0; k < s->n; k++)
        used += s->counts[k] != 0;
    unsigned char *p = malloc(10 + used * 20);
    if (!p)
        return -2;
    size_t at = put_varint(p, zigzag(s->zero));
    int64_t prev = 0;
    for (size_t k = 0; k < s->n; k++) {
        if (!s->counts[k])
            continue;
        int64_t i = s->lo + (int64_t)k;
        at += put_varint(p + at, zigzag(i - prev));
        at += put_varint(p + at, zigzag(s->counts[k]));
        prev = i;
    }
    *out = p;
    *len = at;
    return 0;
}

int memgauge__sketch_decode_add(memgauge__sketch_t *s, const unsigned char *p, size_t len)
{
    size_t at = 0;
    uint64_t v, c;
    if (get_varint(p, len, &at, &v))
        return -1;
    s->zero += unzigzag(v);
    s->total += unzigzag(v);
    /* a first pass finds the index range, so that the counts grow once */
    size_t body = at;
    int64_t i = 0, lo = INT64_MAX, hi = INT64_MIN;
    while (at < len) {
        if (get_varint(p, len, &at, &v) || get_varint(p, len, &at, &c))
            return -1;
        i += unzigzag(v);
        if (i < -MEMGAUGE__SKETCH_INDEX_MAX || i > MEMGAUGE__SKETCH_INDEX_MAX)
            return -1;
        lo = i < lo ? i : lo;
        hi = i > hi ? i : hi;
    }
    if (lo <= hi && (reach(s, (int32_t)lo) || reach(s, (int32_t)hi)))
        return -2;
    at = body;
    i = 0;
    while (at < len) {
        if (get_varint(p, len, &at, &v) || get_varint(p, len, &at, &c))
            return -1;
        i += unzigzag(v);
        if (i < -MEMGAUGE__SKETCH_INDEX_MAX || i > MEMGAUGE__SKETCH_INDEX_MAX)
            return -1;
        if (add_index(s, (int32_t)i, unzigzag(c)))
            return -2;
    }
    return 0;
}
