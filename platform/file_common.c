/* Portable part of preallocating a file: writing its zeros out. */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <unistd.h>

#include "platform.h"

int memgauge__write_zeros(int fd, uint64_t size)
{
    static const char zeros[4096];
    uint64_t done = 0;
    while (done < size) {
        size_t n = size - done < sizeof zeros ? (size_t)(size - done) : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : ENOSPC;
        done += (uint64_t)w;
    }
    return 0;
}
