/* Linux: files whose blocks must exist before they are mapped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>

#include "platform.h"

int memgauge__platform_preallocate(int fd, uint64_t size)
{
    int rc;
    do
        rc = posix_fallocate(fd, 0, (off_t)size);
    while (rc == EINTR);
    /* glibc emulates it where the file system cannot; other libcs say so */
    if (rc == EOPNOTSUPP || rc == EINVAL)
        rc = memgauge__write_zeros(fd, size);
    return rc;
}

int memgauge__platform_protect_file(int fd)
{
    (void)fd; /* Linux has no per-file protection classes */
    return 0;
}
