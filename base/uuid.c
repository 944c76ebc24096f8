/* UUIDs: random ones and their text form. See mg_base.h. */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE
#else
#define _DEFAULT_SOURCE /* getentropy */
#endif
#include <sys/types.h>
#include <sys/random.h>
#include <unistd.h>

#include "mg_base.h"

void memgauge__uuid_v4(uint8_t b[16])
{
    if (getentropy(b, 16) != 0) {
        /* getentropy only fails without a kernel random source; a time and
         * address mix still keeps ids of one process distinct */
        uint64_t x = memgauge__now_ns() ^ (memgauge__wall_ns() << 30) ^ (uintptr_t)b;
        for (int i = 0; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (uint8_t)x;
        }
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}

void memgauge__uuid_format(const uint8_t b[16], char out[MEMGAUGE__UUID_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

void memgauge__uuid_new(char out[MEMGAUGE__UUID_TEXT])
{
    uint8_t b[16];
    memgauge__uuid_v4(b);
    memgauge__uuid_format(b, out);
}

int memgauge__uuid_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}
