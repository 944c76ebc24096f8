/* Bounded gzip inflation of request bodies (zlib). */
#include "gunzip.h"

#include <stdlib.h>
#include <zlib.h>

int memgauge__gunzip(const unsigned char *in, size_t in_len, size_t max_out, char **out,
                     size_t *out_len)
{
    return memgauge__gunzip_budget(in, in_len, max_out, NULL, out, out_len, NULL);
}

/* Reserves (grow) bytes for the output buffer from b; NULL b: no accounting. */
static int charge(memgauge__budget_t *b, size_t grow)
{
    return b ? memgauge__budget_take(b, grow) : 0;
}

int memgauge__gunzip_budget(const unsigned char *in, size_t in_len, size_t max_out,
                            memgauge__budget_t *b, char **out, size_t *out_len, size_t *held)
{
    *out = NULL;
    *out_len = 0;
    if (held)
        *held = 0;
    size_t cap = in_len * 4 < 65536 ? 65536 : in_len * 4;
    if (cap > max_out)
        cap = max_out;
    /* zlib's own state: about 7 KiB plus the 32 KiB window */
    size_t taken = (cap + 1) + (40u << 10);
    if (charge(b, taken))
        return MEMGAUGE__GUNZIP_NO_MEMORY;
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip wrapper only */
        if (b)
            memgauge__budget_give(b, taken);
        return MEMGAUGE__GUNZIP_NO_MEMORY;
    }
    char *buf = malloc(cap + 1);
    if (!buf) {
        inflateEnd(&z);
        if (b)
            memgauge__budget_give(b, taken);
        return MEMGAUGE__GUNZIP_NO_MEMORY;
    }
    size_t used = 0;
    int rc = MEMGAUGE__GUNZIP_CORRUPT;
    z.next_in = (unsigned char *)in;
    /* feed at most 1 GiB at a time: avail_in is 32 bits */
    for (;;) {
        if (z.avail_in == 0) {
            size_t left = in_len - (size_t)((const unsigned char *)z.next_in - in);
            z.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
        }
        if (used == cap) {
            if (cap == max_out) {
                /* full: one more byte of output means the body is over the cap */
                unsigned char probe;
                z.next_out = &probe;
                z.avail_out = 1;
                int zr = inflate(&z, Z_NO_FLUSH);
                rc = (zr == Z_STREAM_END && z.avail_out == 1) ? MEMGAUGE__GUNZIP_OK
                     : z.avail_out == 0                       ? MEMGAUGE__GUNZIP_TOO_LARGE
                                                              : MEMGAUGE__GUNZIP_CORRUPT;
                break;
            }
            size_t ncap = cap * 2 > max_out ? max_out : cap * 2;
            if (charge(b, ncap - cap)) {
                rc = MEMGAUGE__GUNZIP_NO_MEMORY;
                break;
            }
            taken += ncap - cap;
            char *nbuf = realloc(buf, ncap + 1);
            if (!nbuf) {
                rc = MEMGAUGE__GUNZIP_NO_MEMORY;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        z.next_out = (unsigned char *)buf + used;
        size_t room = cap - used;
        z.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        uInt before = z.avail_out;
        int zr = inflate(&z, Z_NO_FLUSH);
        used += before - z.avail_out;
        if (zr == Z_STREAM_END) {
            rc = MEMGAUGE__GUNZIP_OK;
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) /* truncated: no input left */
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            break;
    }
    inflateEnd(&z);
    taken -= 40u << 10; /* zlib's state is gone */
    if (b)
        memgauge__budget_give(b, 40u << 10);
    if (rc != MEMGAUGE__GUNZIP_OK) {
        free(buf);
        if (b)
            memgauge__budget_give(b, taken);
        return rc;
    }
    if (held)
        *held = taken;
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return MEMGAUGE__GUNZIP_OK;
}
