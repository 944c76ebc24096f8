#ifndef MEMGAUGE_COLLECTOR_GUNZIP_H
#define MEMGAUGE_COLLECTOR_GUNZIP_H

#include "budget.h"

#include <stddef.h>

#define MEMGAUGE__GUNZIP_OK 0
#define MEMGAUGE__GUNZIP_CORRUPT (-1)   /* not gzip, truncated, or bad checksum */
#define MEMGAUGE__GUNZIP_TOO_LARGE (-2) /* would inflate past max_out: stopped there */
#define MEMGAUGE__GUNZIP_NO_MEMORY (-3)

/* Inflates the gzip stream in[0 .. in_len) into a new malloc'd buffer of at
 * most max_out bytes (*out, *out_len; NUL-terminated one byte past the end;
 * the caller frees). The output buffer grows geometrically up to max_out and
 * never beyond, so a gzip bomb costs at most max_out + 1 bytes of memory.
 * Borrows `in`. Thread-safe. */
int memgauge__gunzip(const unsigned char *in, size_t in_len, size_t max_out, char **out,
                     size_t *out_len);

/* The same, charging the output buffer (and zlib's state while it lives) to
 * `b` (may be NULL) as it grows: MEMGAUGE__GUNZIP_NO_MEMORY when the pool
 * refuses. On success the buffer's bytes stay reserved and *held (may be
 * NULL) says how many, for the caller to give back when it frees *out; on
 * failure nothing stays reserved. */
int memgauge__gunzip_budget(const unsigned char *in, size_t in_len, size_t max_out,
                            memgauge__budget_t *b, char **out, size_t *out_len, size_t *held);

#endif
