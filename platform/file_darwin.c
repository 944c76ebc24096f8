/* Darwin: files whose blocks must exist before they are mapped. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "platform.h"

int memgauge__platform_preallocate(int fd, uint64_t size)
{
    /* F_PREALLOCATE reserves blocks but leaves the length; ftruncate then
     * sets it. Contiguous first, then any blocks (F_ALLOCATEALL: all or
     * nothing). */
    fstore_t st = {.fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL,
                   .fst_posmode = F_PEOFPOSMODE,
                   .fst_offset = 0,
                   .fst_length = (off_t)size};
    int rc = fcntl(fd, F_PREALLOCATE, &st);
    if (rc == -1) {
        st.fst_flags = F_ALLOCATEALL;
        rc = fcntl(fd, F_PREALLOCATE, &st);
    }
    if (rc == -1) {
        if (errno == ENOSPC)
            return ENOSPC;
        return memgauge__write_zeros(fd, size); /* a file system without it */
    }
    return ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
}

/* PROTECTION_CLASS_D from xnu's bsd/sys/content_protection.h, not in the
 * public SDK headers: "no protection", readable before first unlock. */
#define MEMGAUGE__PROTECTION_CLASS_D 4

int memgauge__platform_protect_file(int fd)
{
    return fcntl(fd, F_SETPROTECTIONCLASS, MEMGAUGE__PROTECTION_CLASS_D) == 0 ? 0 : errno;
}
