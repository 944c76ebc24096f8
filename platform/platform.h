/*
 * The platform layer: one interface, one implementation file per OS
 * (platform_linux.c, platform_darwin.c). It knows nothing of the sampler:
 * it sees only the public header's types and the leaf (base/mg_base.h).
 * The public memgauge_read() and memgauge_source_name() are sdk/reading.c's,
 * over memgauge__platform_read(); everything here is internal.
 */
#ifndef MEMGAUGE_PLATFORM_H
#define MEMGAUGE_PLATFORM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <memgauge/memgauge.h>

#include "mg_base.h" /* memgauge__now_ns(), the clock readings are timed on */

/* CPU time consumed so far by another (running) thread of this process, in
 * nanoseconds; 0 if the OS will not say. Lets the SDK show its own cost
 * without the sampler paying for a clock read on every tick. */
uint64_t memgauge__thread_cpu_ns(pthread_t thread);

/* Takes one reading of the calling process. Same contract as memgauge_read():
 * thread-safe, no heap allocation, no stdio. */
int memgauge__platform_read(memgauge_reading_t *out);

/* Forces the slow-changing values (limit, headroom, whether swap is
 * configured) to be re-read from the kernel by the next reading instead of
 * waiting for their refresh period. Thread-safe. */
void memgauge__platform_invalidate(void);

/* ---- files ----------------------------------------------------------------- */

/* Gives the open file `fd` a length of `size` bytes with every block
 * allocated on disk, so that stores through a shared mapping of it can never
 * fault (SIGBUS) when the file system fills later: a sparse file's page is
 * backed only when it is first touched. Linux: posix_fallocate; Darwin:
 * fcntl(F_PREALLOCATE) then ftruncate; either falls back to writing the
 * zeros out where the file system cannot preallocate. Returns 0 or an errno
 * value (ENOSPC when the disk cannot hold it). */
int memgauge__platform_preallocate(int fd, uint64_t size);

/* Lets the file `fd` be read and written while the device is locked: Darwin
 * data protection class D (PROTECTION_CLASS_D = 4, xnu
 * bsd/sys/content_protection.h), set before anything is written, so that a
 * locked iPhone cannot make the sampler's mapping fault. A no-op returning
 * 0 on Linux. Returns 0 or an errno value; ENOTSUP (a volume without data
 * protection, the simulator, most Macs) is not a failure for the caller. */
int memgauge__platform_protect_file(int fd);

/* The portable fallback of memgauge__platform_preallocate: writes `size`
 * zero bytes from offset 0 (the blocks exist once written). 0 or an errno. */
int memgauge__write_zeros(int fd, uint64_t size);

/* ---- pressure ------------------------------------------------------------ */

/* What the OS itself says about memory pressure. Levels are the public
 * MEMGAUGE_PRESSURE_* values. */
typedef struct memgauge__os_pressure_s {
    int level;                     /* MEMGAUGE_PRESSURE_NORMAL when the OS says nothing */
    int has_psi;                   /* Linux PSI was readable */
    uint32_t psi_some_avg10_centi; /* "some avg10" x 100 (percent x 100) */
    uint32_t psi_full_avg10_centi; /* "full avg10" x 100 */
    int has_oom_kills;             /* the counter below is real */
    uint64_t oom_kills;            /* kernel OOM kills in the process's memory cgroup so far */
} memgauge__os_pressure_t;

/* Non-blocking, no heap, thread-safe; cheap enough to call every sample
 * (re-reads files at most about once a second, event fds every call). */
int memgauge__platform_pressure(memgauge__os_pressure_t *out);

/* ---- identity ------------------------------------------------------------- */

/* Facts about this boot, OS, binary and device, for telling at the next
 * launch what changed. Strings are NUL-terminated, "" when unknown. */
typedef struct memgauge__identity_s {
    char boot_id[64];      /* Linux: kernel boot_id; Darwin: kern.bootsessionuuid */
    char os_version[128];  /* OS name and release: "Linux 6.1.0-18-amd64", "iOS 17.5.1" */
    char os_build[128];    /* the build of that release: uname -v ("#1 SMP PREEMPT_DYNAMIC
                              ..."), Darwin kern.osversion ("21F90"), Android ro.build.id */
    char build_id[80];     /* hex GNU build-id / Mach-O LC_UUID of the main executable */
    char device_model[64]; /* DMI product name or machine; Darwin hw.machine */
    char exe_name[64];     /* basename of the main executable: the default app id */
} memgauge__identity_t;

/* Fills *out. Reads a few small files; call at start, not per sample. */
int memgauge__platform_identity(memgauge__identity_t *out);

/* 1 when a debugger or tracer is attached to this process, else 0. */
int memgauge__platform_debugger_attached(void);

/* The default per-app storage directory: Linux $XDG_STATE_HOME/memgauge/<app>
 * or $HOME/.local/state/memgauge/<app>; Darwin $HOME/Library/Caches/memgauge/<app>.
 * Returns 0, or -1 when it cannot be formed (no absolute HOME, an app id
 * that is not a single path component) or does not fit. */
int memgauge__platform_default_state_dir(const char *app_id, char *out, size_t cap);

#endif
