#include "log_escape.h"

#include <stdio.h>
#include <string.h>

void memgauge__log_escape(char *dst, size_t dstlen, const char *src, int spaces)
{
    if (!dstlen)
        return;
    size_t at = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[5];
        if (*p == '\n')
            memcpy(esc, "\\n", 3);
        else if (*p == '\r')
            memcpy(esc, "\\r", 3);
        else if (*p == '\t')
            memcpy(esc, "\\t", 3);
        else if (*p == '\\')
            memcpy(esc, "\\\\", 3);
        else if (*p < 0x20 || *p >= 0x7f || (spaces && *p == ' '))
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        else
            esc[0] = (char)*p, esc[1] = '\0';
        size_t n = strlen(esc);
        if (at + n >= dstlen)
            break;
        memcpy(dst + at, esc, n);
        at += n;
    }
    dst[at] = '\0';
}
