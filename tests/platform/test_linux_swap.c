/*
 * The VmSwap half of the Linux footprint, on the real kernel: a swap file is
 * switched on for the test, and a child in a memory cgroup too small for its
 * anonymous memory is pushed into swap. Its footprint must still count every
 * byte it owns, while its resident size shrinks.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "platform.h"
#include "support/kernel.h"
#include "support/support.h"

#define MIB (UINT64_C(1) << 20)
#define CG_ROOT "/sys/fs/cgroup/memory"

static char swap_path[128];
static char cg_dir[128];

static void cleanup(void)
{
    if (swap_path[0]) {
        swapoff(swap_path);
        unlink(swap_path);
    }
    if (cg_dir[0])
        rmdir(cg_dir);
}

/* A 256 MiB swap file; returns 0 when the kernel took it. */
static int enable_swap(void)
{
    snprintf(swap_path, sizeof swap_path, "/var/tmp/memgauge-swap-%d", (int)getpid());
    int fd = open(swap_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    static char zero[1 << 20];
    for (int i = 0; i < 256; i++)
        if (write(fd, zero, sizeof zero) != (ssize_t)sizeof zero) {
            close(fd);
            return -1;
        }
    fsync(fd);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkswap %s >/dev/null 2>&1", swap_path);
    if (system(cmd) != 0)
        return -1;
    return swapon(swap_path, 0);
}

static uint64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long v = 0;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0)
            v = strtoull(line + klen, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

enum { OK = 0, JOIN = 10, NO_SWAP_SEEN, TOO_LITTLE_SWAPPED, FOOTPRINT, SWAP_FIELD, RESIDENT };

static int child(void)
{
    char path[256], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg_dir);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (mg_write_text(path, pid) != 0)
        return JOIN;
    memgauge__platform_invalidate(); /* swap was switched on after the fork */
    memgauge_reading_t before;
    memgauge_read(&before);

    const uint64_t size = 192 * MIB;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (uint64_t off = 0; off < size; off += 4096)
        p[off] = 1;

    memgauge_reading_t r;
    memgauge_read(&r);
    uint64_t vmswap = status_kb("VmSwap:") * 1024u;
    if (!(r.valid & MEMGAUGE_FIELD_SWAPPED))
        return NO_SWAP_SEEN;
    if (vmswap < 64 * MIB)
        return TOO_LITTLE_SWAPPED; /* the cgroup did not push us out: nothing to test */
    int64_t grew = (int64_t)(r.footprint_bytes - before.footprint_bytes);
    if (grew < (int64_t)(size - size / 33) || grew > (int64_t)(size + size / 33))
        return FOOTPRINT;
    int64_t d = (int64_t)(r.swapped_bytes - vmswap);
    if (d > (int64_t)(4 * MIB) || d < -(int64_t)(4 * MIB))
        return SWAP_FIELD;
    if (r.resident_bytes + 64 * MIB > r.footprint_bytes)
        return RESIDENT;
    return OK;
}

Test(linux_swap, swapped_out_anonymous_memory_stays_in_the_footprint, .fini = cleanup)
{
    snprintf(cg_dir, sizeof cg_dir, CG_ROOT "/memgauge-swap-%d", (int)getpid());
    static const char check[] = "linux_swap.swapped_out_anonymous_memory_stays_in_the_footprint";
    if (!mg_cgroup_v1_usable() || mkdir(cg_dir, 0755) != 0) {
        cg_dir[0] = '\0';
        MG_KERNEL_SKIP(check, "needs root and the v1 memory hierarchy (memory.swappiness pushes "
                              "this cgroup out to swap)");
    }
    if (enable_swap() != 0) {
        char why[128];
        snprintf(why, sizeof why, "swapon refused: %s", strerror(errno));
        MG_KERNEL_SKIP(check, why);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/memory.limit_in_bytes", cg_dir);
    cr_assert_eq(mg_write_text(path, "100663296"), 0); /* 96 MiB */
    snprintf(path, sizeof path, "%s/memory.swappiness", cg_dir);
    mg_write_text(path, "100");

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child());
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0,
                 "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    cr_assert(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
    cr_assert_eq(WEXITSTATUS(status), OK,
                 "step %d failed (10 join, 11 swap unseen, 12 too little swapped, 13 footprint, "
                 "14 swapped_bytes vs VmSwap, 15 resident not reduced)",
                 WEXITSTATUS(status));
}
