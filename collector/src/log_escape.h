/* Escaping for the request log: whatever a client sent (path, method, a
 * JSON key named in a 400) is written so that it cannot start a line of its
 * own or drive a terminal. */
#ifndef MEMGAUGE_COLLECTOR_LOG_ESCAPE_H
#define MEMGAUGE_COLLECTOR_LOG_ESCAPE_H

#include <stddef.h>

/* Copies src into dst[0 .. dstlen) with control characters (below 0x20 and
 * 0x7f), bytes above 0x7f and the backslash written as \n, \r, \t, \\ or
 * \xHH, and spaces as \x20 when `spaces` is 1 (fields that a space would
 * split). Cuts at a whole escape when dst is full; always NUL-terminates.
 * Pure. */
void memgauge__log_escape(char *dst, size_t dstlen, const char *src, int spaces);

#endif
