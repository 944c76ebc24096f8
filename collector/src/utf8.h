#ifndef MEMGAUGE_COLLECTOR_UTF8_H
#define MEMGAUGE_COLLECTOR_UTF8_H

#include <stddef.h>

/* Checks that buf[0 .. len) is well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). Returns the offset of the
 * first bad byte, or len when all of it is valid. Pure. */
size_t memgauge__utf8_check(const unsigned char *buf, size_t len);

#endif
