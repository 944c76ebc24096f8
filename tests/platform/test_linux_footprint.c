/*
 * The Linux platform layer against the real kernel: real mappings, real
 * /proc, real cgroups. Numbers are compared with what the kernel itself
 * reports through other files, never with constants the code chose.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "platform.h"
#include "support/kernel.h"
#include "support/support.h"

#define MIB (UINT64_C(1) << 20)

static memgauge_reading_t read_now(void)
{
    memgauge_reading_t r;
    cr_assert_eq(memgauge_read(&r), MEMGAUGE_OK);
    return r;
}

/* Private anonymous memory, every page written so that it is resident. */
static char *touch_anon(uint64_t bytes)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED, "mmap: %s", strerror(errno));
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t off = 0; off < bytes; off += (uint64_t)page)
        p[off] = (char)(off | 1);
    return p;
}

static int64_t diff(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b);
}

static void assert_near(int64_t actual, int64_t expected, double fraction, const char *what)
{
    int64_t tol = (int64_t)((double)(expected < 0 ? -expected : expected) * fraction);
    cr_assert(actual >= expected - tol && actual <= expected + tol,
              "%s: %lld bytes, expected %lld +- %lld", what, (long long)actual, (long long)expected,
              (long long)tol);
}

/* An independent reading of the same definition, from /proc/self/status
 * with stdio: RssAnon + VmSwap, and VmRSS. */
static void proc_status(uint64_t *anon_plus_swap, uint64_t *rss)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    unsigned long long anon = 0, swap = 0, vmrss = 0;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "RssAnon: %llu", &anon);
        sscanf(line, "VmSwap: %llu", &swap);
        sscanf(line, "VmRSS: %llu", &vmrss);
    }
    fclose(f);
    *anon_plus_swap = (anon + swap) * 1024u;
    *rss = vmrss * 1024u;
}

Test(linux_footprint, reading_says_which_fields_are_real)
{
    memgauge_reading_t r = read_now();
    cr_assert_eq(r.footprint_source, MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT);
    cr_assert_str_eq(memgauge_source_name(r.footprint_source), "linux_private_footprint");
    uint32_t always = MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_PEAK |
                      MEMGAUGE_FIELD_SWAPPED | MEMGAUGE_FIELD_AVAILABLE;
    cr_assert_eq(r.valid & always, always);
    cr_assert_gt(r.footprint_bytes, 0);
    cr_assert_geq(r.resident_bytes, r.footprint_bytes - r.swapped_bytes);
    cr_assert_geq(r.peak_bytes, r.resident_bytes);
    cr_assert_gt(r.time_ns, 0);
    cr_assert_eq(memgauge_read(NULL), MEMGAUGE_E_NULL_ARGUMENT);
}

Test(linux_footprint, touching_256mib_of_anonymous_memory_adds_256mib)
{
    const uint64_t size = 256 * MIB;
    memgauge_reading_t before = read_now();
    char *p = touch_anon(size);
    memgauge_reading_t during = read_now();
    assert_near(diff(during.footprint_bytes, before.footprint_bytes), (int64_t)size, 0.02,
                "footprint growth");
    assert_near(diff(during.resident_bytes, before.resident_bytes), (int64_t)size, 0.02,
                "resident growth");
    cr_assert_eq(munmap(p, size), 0);
    memgauge_reading_t after = read_now();
    int64_t back = diff(after.footprint_bytes, before.footprint_bytes);
    cr_assert(back < (int64_t)(size / 50) && back > -(int64_t)(size / 50),
              "after munmap the footprint is %lld bytes away from where it started",
              (long long)back);
}

Test(linux_footprint, file_backed_pages_raise_resident_but_not_footprint)
{
    const uint64_t size = 256 * MIB;
    char path[] = "/var/tmp/memgauge-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof chunk);
    for (uint64_t off = 0; off < size; off += sizeof chunk)
        cr_assert_eq(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);

    memgauge_reading_t before = read_now();
    const volatile char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    cr_assert_neq((void *)p, MAP_FAILED);
    unsigned sum = 0;
    for (uint64_t off = 0; off < size; off += 4096)
        sum += (unsigned char)p[off];
    cr_assert_eq(sum, 0x5au * (unsigned)(size / 4096));
    memgauge_reading_t during = read_now();

    assert_near(diff(during.resident_bytes, before.resident_bytes), (int64_t)size, 0.02,
                "resident growth from a file mapping");
    int64_t fp = diff(during.footprint_bytes, before.footprint_bytes);
    cr_assert(fp < (int64_t)(size / 50),
              "a clean file mapping must not count as footprint, but it grew by %lld bytes",
              (long long)fp);
    munmap((void *)p, size);
    close(fd);
}

Test(linux_footprint, equals_an_independent_computation_from_proc_status)
{
    char *p = touch_anon(64 * MIB);
    memgauge_reading_t r = read_now();
    uint64_t anon_swap, rss;
    proc_status(&anon_swap, &rss);
    /* statm and status can differ by the kernel's per-CPU counter slack. */
    assert_near((int64_t)r.footprint_bytes, (int64_t)anon_swap, 0.01,
                "footprint vs RssAnon+VmSwap");
    assert_near((int64_t)r.resident_bytes, (int64_t)rss, 0.01, "resident vs VmRSS");
    munmap(p, 64 * MIB);
}

Test(linux_footprint, kernel_peak_keeps_a_spike_that_is_gone_by_the_next_reading)
{
    const uint64_t spike = 200 * MIB;
    memgauge_reading_t before = read_now();
    char *p = touch_anon(spike);
    munmap(p, spike);
    memgauge_reading_t after = read_now();
    cr_assert_lt(after.footprint_bytes, before.footprint_bytes + spike / 10,
                 "the spike must be gone from the footprint");
    cr_assert_geq(after.peak_bytes, before.resident_bytes + spike - spike / 50,
                  "kernel peak %llu does not show the 200 MiB spike above resident %llu",
                  (unsigned long long)after.peak_bytes, (unsigned long long)before.resident_bytes);
}

static uint64_t meminfo_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    cr_assert_not_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024u;
}

static int in_limited_cgroup(void)
{
    memgauge_reading_t r = read_now();
    return (r.valid & MEMGAUGE_FIELD_LIMIT) != 0;
}

Test(linux_footprint, without_a_cgroup_limit_available_is_memavailable)
{
    if (in_limited_cgroup())
        cr_skip_test("this process runs under a cgroup limit; the cgroup test covers it");
    memgauge__platform_invalidate();
    memgauge_reading_t r = read_now();
    uint64_t sys = meminfo_available();
    cr_assert_eq(r.limit_bytes, 0, "no limit means unknown (0)");
    assert_near((int64_t)r.available_bytes, (int64_t)sys, 0.02, "available vs MemAvailable");
}

/* ---- cgroup v1: a child process in its own limited memory cgroup -------- */

#define CG_ROOT "/sys/fs/cgroup/memory"

static uint64_t read_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[256];
    unsigned long long v = 0;
    while (fgets(line, sizeof line, f)) {
        if (key == NULL) {
            sscanf(line, "%llu", &v);
            break;
        }
        char k[128];
        unsigned long long val;
        if (sscanf(line, "%127s %llu", k, &val) == 2 && strcmp(k, key) == 0)
            v = val;
    }
    fclose(f);
    return v;
}

/* Exit codes of the child, so that the parent can say what failed. */
enum { CHILD_OK = 0, CHILD_JOIN = 10, CHILD_LIMIT, CHILD_AVAIL, CHILD_CARRY };

static int child_in_cgroup(const mg_cgroup_t *cg, uint64_t limit)
{
    const char *dir = cg->dir;
    char path[600], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (mg_write_text(path, pid) != 0)
        return CHILD_JOIN;
    memgauge_reading_t r;
    if (memgauge_read(&r) != 0 || !(r.valid & MEMGAUGE_FIELD_LIMIT) || r.limit_bytes != limit)
        return CHILD_LIMIT;

    /* Independent headroom: limit - (usage - inactive file cache). */
    snprintf(path, sizeof path, "%s/%s", dir,
             cg->version == 2 ? "memory.current" : "memory.usage_in_bytes");
    uint64_t usage = read_number(path, NULL);
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    uint64_t inactive =
        read_number(path, cg->version == 2 ? "inactive_file" : "total_inactive_file");
    uint64_t expect = limit - (usage - inactive);
    uint64_t tol = 4 * MIB;
    if (!(r.valid & MEMGAUGE_FIELD_AVAILABLE) || r.available_bytes + tol < expect ||
        r.available_bytes > expect + tol)
        return CHILD_AVAIL;

    /* Between refreshes the headroom follows our own growth. */
    char *p = touch_anon(100 * MIB);
    memgauge_reading_t r2;
    memgauge_read(&r2);
    int64_t drop = (int64_t)(r.available_bytes - r2.available_bytes);
    munmap(p, 100 * MIB);
    if (drop < (int64_t)(98 * MIB) || drop > (int64_t)(102 * MIB))
        return CHILD_CARRY;
    return CHILD_OK;
}

Test(linux_footprint, limit_and_headroom_come_from_the_memory_cgroup)
{
    const uint64_t limit = 512 * MIB;
    mg_cgroup_t cg;
    char why[700];
    if (mg_cgroup_make(&cg, "memgauge-test", limit, why, sizeof why) != 0)
        MG_KERNEL_SKIP("linux_footprint.limit_and_headroom_come_from_the_memory_cgroup", why);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_in_cgroup(&cg, limit));
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0,
                 "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    mg_cgroup_remove(&cg);
    cr_assert(WIFEXITED(status), "child died");
    cr_assert_eq(WEXITSTATUS(status), CHILD_OK,
                 "cgroup v%d: child failed at step %d (10 join, 11 limit, 12 headroom, 13 "
                 "carry-forward)",
                 cg.version, WEXITSTATUS(status));
}

/* After fork() the held /proc/self fds still name the parent: a child that
 * kept them would report the parent's memory. */
Test(linux_footprint, forked_child_reads_its_own_memory)
{
    read_now(); /* open the fds in the parent */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char *p = touch_anon(96 * MIB);
        memgauge_reading_t r;
        uint64_t anon_swap, rss;
        if (memgauge_read(&r) != 0)
            _exit(1);
        proc_status(&anon_swap, &rss);
        int64_t d = (int64_t)(r.footprint_bytes - anon_swap);
        munmap(p, 96 * MIB);
        _exit(d < (int64_t)MIB && d > -(int64_t)MIB ? 0 : 2);
    }
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0,
                 "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child's footprint was not its own (exit %d)", WEXITSTATUS(status));
}

static void *reader_thread(void *arg)
{
    uint64_t *bad = arg;
    for (int i = 0; i < 5000; i++) {
        memgauge_reading_t r;
        if (memgauge_read(&r) != 0 || r.footprint_bytes == 0 || r.peak_bytes < r.resident_bytes)
            (*bad)++;
        if (i % 1000 == 0)
            memgauge__platform_invalidate();
    }
    return NULL;
}

Test(linux_footprint, concurrent_reads_from_many_threads_all_succeed)
{
    pthread_t t[4];
    uint64_t bad[4] = {0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, reader_thread, &bad[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(bad[i], 0, "thread %d had %llu bad readings", i, (unsigned long long)bad[i]);
}

#ifdef MEMGAUGE_SAMPLE_APP
/* getrusage's ru_maxrss keeps the peak of the image that called exec(). A
 * process exec'd from a 300 MiB parent must still report its own peak. */
Test(linux_footprint, peak_is_not_inherited_across_exec)
{
    int out[2];
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        touch_anon(300 * MIB);
        dup2(out[1], 1);
        close(out[0]);
        execl(MEMGAUGE_SAMPLE_APP, MEMGAUGE_SAMPLE_APP, "--scenario", "steady", "--duration", "1",
              "--interval-ms", "100", "--quiet", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(out[0]);
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sample app failed: %s", buf);
    const char *k = strstr(buf, "kernel_peak_bytes=");
    cr_assert_not_null(k, "no kernel_peak_bytes in: %s", buf);
    unsigned long long peak = strtoull(k + strlen("kernel_peak_bytes="), NULL, 10);
    /* the steady scenario holds 64 MiB; the parent's 300 MiB must not show */
    cr_assert_lt(peak, 200 * MIB, "kernel peak %llu is the parent's, inherited across exec", peak);
    cr_assert_gt(peak, 60 * MIB, "kernel peak %llu misses the app's own 64 MiB", peak);
}
#endif
