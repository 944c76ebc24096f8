/*
 * Linux and Android: Chromium's "private memory footprint".
 *
 *   footprint = (statm.resident - statm.shared) * page_size + VmSwap
 *
 * Hot path (every reading): one pread of a held /proc/self/statm fd and one
 * getrusage() for the kernel's resident high-water mark (the same number as
 * VmHWM). When swap is configured (VmSwap is only in status), or while
 * getrusage still reports a peak inherited across exec(), one pread of a
 * held /proc/self/status fd replaces both: RssAnon, VmRSS, VmSwap, VmHWM.
 *
 * Slow path (at most every MEMGAUGE__REFRESH_LIMITS_NS = 2 s, or when
 * invalidated): whether swap is configured, the cgroup limit (the tightest
 * of the process's memory cgroup and its ancestors), the cgroup's usage and
 * inactive file cache, and MemAvailable. Between refreshes the headroom is
 * carried forward by the process's own footprint change. What is kept, and
 * what fork() does to it: refresh.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_linux.h"
#include "linux_parse.h"
#include "platform.h"
#include "refresh.h"

enum {
    PATH_CAP = MEMGAUGE__CGROUP_PATH_MAX,
    MAX_LEVELS = 32, /* cgroup ancestors examined for a tighter limit */
    STATM_BUF = 256,
    STATUS_BUF = 4096,
    FILE_BUF = 8192,
};

static struct {
    pthread_once_t once;
    pthread_mutex_t lock; /* guards (re)opening and refreshing */
    uint64_t page_size;
    uint64_t mem_total;
    _Atomic int statm_fd;
    _Atomic int status_fd;
    _Atomic int stale; /* set in a forked child: the fds describe the parent */
    /* getrusage's ru_maxrss includes the peak of the image before exec();
     * while it still equals that value the real VmHWM comes from status. */
    _Atomic uint64_t inherited_maxrss_kb;

    int cgroup_version; /* 0 when no memory cgroup was found */
    char cgroup_dir[PATH_CAP];
    char cgroup_root[PATH_CAP]; /* the mount point: never walk above it */

    _Atomic uint64_t refreshed_ns;
    _Atomic int swap_configured;
    _Atomic uint64_t limit;          /* 0 = unknown */
    _Atomic uint64_t base_available; /* headroom at the last refresh, 0 = unknown */
    _Atomic uint64_t base_footprint; /* footprint at the last refresh */
} g = {
    .once = PTHREAD_ONCE_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .statm_fd = -1,
    .status_fd = -1,
};

static ssize_t pread_all(int fd, char *buf, size_t cap)
{
    ssize_t n;
    do {
        n = pread(fd, buf, cap - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static int read_cgroup_file(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[PATH_CAP + 64];
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + 1 + nl + 1 > sizeof path)
        return -1;
    memcpy(path, dir, dl);
    path[dl] = '/';
    memcpy(path + dl + 1, name, nl + 1);
    return memgauge__read_small_file(path, buf, cap) < 0 ? -1 : 0;
}

/* The memory cgroup whose limit file exists: v1's memory controller first
 * (on hybrid hosts v2 has no memory controller), then v2. */
static void discover_cgroup(void)
{
    memgauge__cgroups_t cg;
    char buf[FILE_BUF];
    g.cgroup_version = 0;
    if (memgauge__linux_cgroups(&cg) != 0)
        return;
    if (cg.v1_dir[0] &&
        read_cgroup_file(cg.v1_dir, "memory.limit_in_bytes", buf, sizeof buf) == 0) {
        g.cgroup_version = MEMGAUGE__CGROUP_V1;
        memcpy(g.cgroup_dir, cg.v1_dir, sizeof g.cgroup_dir);
        memcpy(g.cgroup_root, cg.v1_mount, sizeof g.cgroup_root);
    } else if (cg.v2_dir[0] && read_cgroup_file(cg.v2_dir, "memory.max", buf, sizeof buf) == 0) {
        g.cgroup_version = MEMGAUGE__CGROUP_V2;
        memcpy(g.cgroup_dir, cg.v2_dir, sizeof g.cgroup_dir);
        memcpy(g.cgroup_root, cg.v2_mount, sizeof g.cgroup_root);
    }
}

static uint64_t status_kb(const char *buf, const char *key)
{
    uint64_t kb = 0;
    if (memgauge__parse_kb_field(buf, strlen(buf), key, &kb) != 0)
        return 0;
    return kb;
}

static int read_status(char *buf, size_t cap)
{
    int fd = atomic_load_explicit(&g.status_fd, memory_order_acquire);
    return fd >= 0 && pread_all(fd, buf, cap) > 0 ? 0 : -1;
}

/* Opens the held fds for the current process. Called with g.lock held. */
static void open_locked(void)
{
    int old = atomic_exchange(&g.statm_fd, -1);
    if (old >= 0)
        close(old);
    old = atomic_exchange(&g.status_fd, -1);
    if (old >= 0)
        close(old);
    atomic_store(&g.statm_fd, open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
    atomic_store(&g.status_fd, open("/proc/self/status", O_RDONLY | O_CLOEXEC));

    struct rusage ru;
    char buf[STATUS_BUF];
    uint64_t inherited = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0 && read_status(buf, sizeof buf) == 0 &&
        (uint64_t)ru.ru_maxrss > status_kb(buf, "VmHWM:"))
        inherited = (uint64_t)ru.ru_maxrss;
    atomic_store(&g.inherited_maxrss_kb, inherited);
    discover_cgroup();
    atomic_store(&g.refreshed_ns, 0);
    atomic_store(&g.stale, 0);
}

/* In a forked child (refresh.h): the held fds and the cgroup are the parent's. */
static void forked_child(void)
{
    atomic_store(&g.stale, 1);
}

static memgauge__cache_t g_cache = {.lock = &g.lock, .child = forked_child};

static void init_once(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    g.page_size = ps > 0 ? (uint64_t)ps : 4096;
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        g.mem_total = (uint64_t)si.totalram * si.mem_unit;
    memgauge__cache_register(&g_cache);
    pthread_mutex_lock(&g.lock);
    open_locked();
    pthread_mutex_unlock(&g.lock);
}

/* The tightest limit over the cgroup and its ancestors, and that cgroup's
 * headroom: limit - (usage - inactive_file), as the kubelet's working set
 * counts it (inactive file cache is reclaimed before an OOM kill). */
static void cgroup_limit_locked(uint64_t *limit, uint64_t *headroom)
{
    *limit = 0;
    *headroom = 0;
    if (g.cgroup_version == 0)
        return;
    int v2 = g.cgroup_version == MEMGAUGE__CGROUP_V2;
    char dir[PATH_CAP], best[PATH_CAP], buf[FILE_BUF];
    memcpy(dir, g.cgroup_dir, sizeof dir);
    uint64_t best_limit = UINT64_MAX;
    size_t root_len = strlen(g.cgroup_root);
    for (int level = 0; level < MAX_LEVELS; level++) {
        uint64_t lim;
        if (read_cgroup_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes", buf, sizeof buf) ==
                0 &&
            memgauge__parse_cgroup_limit(buf, strlen(buf), &lim) == 0 && lim < best_limit) {
            best_limit = lim;
            memcpy(best, dir, sizeof best);
        }
        size_t len = strlen(dir);
        if (len <= root_len)
            break;
        char *slash = strrchr(dir, '/');
        if (slash == NULL || (size_t)(slash - dir) < root_len)
            break;
        *slash = '\0';
    }
    /* A limit above physical memory never triggers: the system runs out first. */
    if (best_limit == UINT64_MAX || (g.mem_total != 0 && best_limit >= g.mem_total))
        return;
    *limit = best_limit;
    uint64_t usage = 0, inactive = 0;
    if (read_cgroup_file(best, v2 ? "memory.current" : "memory.usage_in_bytes", buf, sizeof buf) !=
            0 ||
        memgauge__parse_u64(buf, strlen(buf), &usage) != 0)
        return;
    if (read_cgroup_file(best, "memory.stat", buf, sizeof buf) == 0)
        memgauge__parse_keyed_u64(buf, strlen(buf), v2 ? "inactive_file" : "total_inactive_file",
                                  &inactive);
    uint64_t working_set = usage > inactive ? usage - inactive : 0;
    *headroom = best_limit > working_set ? best_limit - working_set : 1;
}

static void refresh_locked(uint64_t now, uint64_t footprint_without_swap)
{
    struct sysinfo si;
    int swap = sysinfo(&si) == 0 && si.totalswap != 0;
    atomic_store(&g.swap_configured, swap);

    uint64_t limit, headroom;
    cgroup_limit_locked(&limit, &headroom);

    char buf[STATUS_BUF];
    uint64_t avail_kb;
    if (memgauge__read_small_file("/proc/meminfo", buf, sizeof buf) > 0 &&
        memgauge__parse_kb_field(buf, strlen(buf), "MemAvailable:", &avail_kb) == 0) {
        uint64_t sys = avail_kb * 1024u;
        if (headroom == 0 || sys < headroom)
            headroom = sys;
    }
    atomic_store(&g.limit, limit);
    atomic_store(&g.base_available, headroom);
    atomic_store(&g.base_footprint, footprint_without_swap);
    atomic_store_explicit(&g.refreshed_ns, now, memory_order_release);
}

uint64_t memgauge__thread_cpu_ns(pthread_t thread)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(thread, &id) != 0 || clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void memgauge__platform_invalidate(void)
{
    atomic_store(&g.refreshed_ns, 0);
}

static void ensure_fresh(uint64_t now, uint64_t footprint)
{
    uint64_t last = atomic_load_explicit(&g.refreshed_ns, memory_order_acquire);
    if (!memgauge__refresh_due(last, now, MEMGAUGE__REFRESH_LIMITS_NS))
        return;
    /* Never refreshed: wait for whoever is refreshing. Merely old: let one
     * thread refresh and the others go on with the previous values. */
    if (last == 0)
        pthread_mutex_lock(&g.lock);
    else if (pthread_mutex_trylock(&g.lock) != 0)
        return;
    last = atomic_load(&g.refreshed_ns);
    if (memgauge__refresh_due(last, now, MEMGAUGE__REFRESH_LIMITS_NS))
        refresh_locked(now, footprint);
    pthread_mutex_unlock(&g.lock);
}

/* Anonymous resident, resident, swap and peak, in bytes. */
typedef struct counts_s {
    uint64_t anon, resident, swap, peak;
} counts_t;

/* One read of status gives every number at once: used when swap is on
 * (VmSwap is only there) or while getrusage shows an inherited peak. */
static int counts_from_status(counts_t *c)
{
    char status[STATUS_BUF];
    uint64_t anon_kb, rss_kb;
    if (read_status(status, sizeof status) != 0 ||
        memgauge__parse_kb_field(status, strlen(status), "RssAnon:", &anon_kb) != 0 ||
        memgauge__parse_kb_field(status, strlen(status), "VmRSS:", &rss_kb) != 0)
        return -1; /* RssAnon appeared in Linux 4.5: older kernels use statm */
    c->anon = anon_kb * 1024u;
    c->resident = rss_kb * 1024u;
    c->swap = status_kb(status, "VmSwap:") * 1024u;
    c->peak = status_kb(status, "VmHWM:") * 1024u;
    return 0;
}

static int counts_from_statm(counts_t *c, uint64_t peak_kb)
{
    char buf[STATM_BUF];
    memgauge__statm_t statm;
    int fd = atomic_load_explicit(&g.statm_fd, memory_order_acquire);
    if (fd < 0 || pread_all(fd, buf, sizeof buf) <= 0 ||
        memgauge__parse_statm(buf, strlen(buf), &statm) != 0)
        return -1;
    c->anon = (statm.resident - statm.shared) * g.page_size;
    c->resident = statm.resident * g.page_size;
    c->swap = 0;
    c->peak = peak_kb * 1024u;
    return 0;
}

static int read_counts(counts_t *c)
{
    int swap = atomic_load_explicit(&g.swap_configured, memory_order_relaxed);
    struct rusage ru;
    uint64_t peak_kb = 0;
    if (!swap && getrusage(RUSAGE_SELF, &ru) == 0)
        peak_kb = (uint64_t)ru.ru_maxrss;
    uint64_t inherited = atomic_load_explicit(&g.inherited_maxrss_kb, memory_order_relaxed);
    int inherited_peak = inherited != 0 && peak_kb <= inherited;
    if ((swap || inherited_peak) && counts_from_status(c) == 0)
        return 0;
    if (counts_from_statm(c, inherited_peak ? 0 : peak_kb) != 0)
        return -1;
    if (swap) { /* a kernel without RssAnon: statm, plus VmSwap from status */
        char status[STATUS_BUF];
        if (read_status(status, sizeof status) != 0)
            return -1;
        c->swap = status_kb(status, "VmSwap:") * 1024u;
        c->peak = status_kb(status, "VmHWM:") * 1024u;
    }
    return 0;
}

int memgauge__platform_read(memgauge_reading_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_once(&g.once, init_once);
    if (atomic_load_explicit(&g.stale, memory_order_acquire)) {
        pthread_mutex_lock(&g.lock);
        if (atomic_load(&g.stale))
            open_locked();
        pthread_mutex_unlock(&g.lock);
    }

    counts_t c;
    if (read_counts(&c) != 0)
        return MEMGAUGE_E_PLATFORM;
    uint64_t now = memgauge__now_ns();
    ensure_fresh(now, c.anon);

    out->time_ns = now;
    out->resident_bytes = c.resident;
    out->swapped_bytes = c.swap;
    out->footprint_bytes = c.anon + c.swap;
    out->valid = MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_SWAPPED;
    out->footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
    if (c.peak != 0) {
        /* The kernel's high-water mark is max(recorded peak, current rss);
         * its counters are per-CPU approximations, so keep it >= resident. */
        out->peak_bytes = c.peak < c.resident ? c.resident : c.peak;
        out->valid |= MEMGAUGE_FIELD_PEAK;
    }

    uint64_t limit = atomic_load_explicit(&g.limit, memory_order_relaxed);
    if (limit != 0) {
        out->limit_bytes = limit;
        out->valid |= MEMGAUGE_FIELD_LIMIT;
    }
    uint64_t base = atomic_load_explicit(&g.base_available, memory_order_relaxed);
    if (base != 0) {
        uint64_t base_fp = atomic_load_explicit(&g.base_footprint, memory_order_relaxed);
        /* Headroom moves opposite to our own anonymous memory. */
        uint64_t avail = base + base_fp > c.anon ? base + base_fp - c.anon : 0;
        out->available_bytes = avail;
        out->valid |= MEMGAUGE_FIELD_AVAILABLE;
    }
    return MEMGAUGE_OK;
}
