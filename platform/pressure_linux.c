/*
 * Linux and Android: what the kernel says about memory pressure on the
 * process's memory cgroup.
 *
 * - PSI (Linux 4.20+): the avg10 figures of the cgroup v2 memory.pressure of
 *   the process's cgroup, else the system-wide /proc/pressure/memory.
 *   memgauge__psi_level() turns them into a level.
 * - cgroup v1 memory.pressure_level (vmpressure): two eventfds registered
 *   through cgroup.event_control for "medium" and "critical". The kernel
 *   signals them on reclaim forced by this cgroup's limit (reclaim on behalf
 *   of an ancestor's limit or of the whole machine is signalled there, not
 *   here: PSI covers those). Each event holds its level for
 *   MEMGAUGE__EVENT_LATCH_NS, then decays.
 * - OOM kills so far in the cgroup: "oom_kill" of v2 memory.events or v1
 *   memory.oom_control (Linux 4.13+).
 *
 * The cgroup is found the way platform_linux.c finds it (the v1 memory
 * hierarchy when there is one, else v2). Files are re-read at most every
 * MEMGAUGE__REFRESH_PRESSURE_NS by one thread at a time (trylock: nobody
 * waits); the eventfds are read, non-blocking, at every call. After fork()
 * the child's first call rediscovers its cgroup and registers its own
 * eventfds: the inherited ones share their counter with the parent
 * (refresh.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_linux.h"
#include "linux_parse.h"
#include "mg_base.h"
#include "platform.h"
#include "pressure_parse.h"
#include "refresh.h"

enum {
    PATH_CAP = MEMGAUGE__CGROUP_PATH_MAX,
    FILE_BUF = 4096,
};

/* "medium" and "critical" of memory.pressure_level; "low" is ordinary
 * reclaim, no sign of trouble. */
enum { EV_WARNING, EV_CRITICAL, EV_COUNT };
static const char *const event_level_name[EV_COUNT] = {"medium", "critical"};

/* PSI figures in one word, so that readers never see halves of two
 * refreshes: bit 63 set when valid, some avg10 in bits 32..62, full in 0..31. */
#define PSI_VALID (UINT64_C(1) << 63)

static struct {
    pthread_once_t once;
    pthread_mutex_t lock; /* guards discovery and refresh */
    _Atomic int stale;    /* the cgroup is to be (re)discovered: at start and after fork */

    /* Written and read under lock. */
    char psi_path[PATH_CAP]; /* cgroup v2 memory.pressure, "" = system-wide only */
    char oom_path[PATH_CAP]; /* memory.events or memory.oom_control, "" = none */

    /* Published to lock-free readers. */
    _Atomic uint64_t refreshed_ns;   /* 0 = refresh at the next call */
    _Atomic uint64_t psi;            /* PSI_VALID | some << 32 | full, 0 = unknown */
    _Atomic uint64_t oom_kills_plus; /* OOM kills + 1, 0 = unknown */
    _Atomic int event_fd[EV_COUNT];  /* -1 = not registered */
    _Atomic uint64_t event_ns[EV_COUNT];
} g = {
    .once = PTHREAD_ONCE_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .stale = 1,
    .event_fd = {-1, -1},
};

/* dir + "/" + name into out. Returns 0 or -1 when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + 1 + nl + 1 > cap)
        return -1;
    memcpy(out, dir, dl);
    out[dl] = '/';
    memcpy(out + dl + 1, name, nl + 1);
    return 0;
}

static int readable(const char *path)
{
    char buf[FILE_BUF];
    return memgauge__read_small_file(path, buf, sizeof buf) >= 0;
}

/* Registers one eventfd for a memory.pressure_level level. Returns the fd or -1. */
static int register_event(const char *dir, const char *level)
{
    char path[PATH_CAP + 32], line[64];
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return -1;
    int lfd = -1, cfd = -1, ok = 0;
    if (join(path, sizeof path, dir, "memory.pressure_level") == 0)
        lfd = open(path, O_RDONLY | O_CLOEXEC);
    if (join(path, sizeof path, dir, "cgroup.event_control") == 0)
        cfd = open(path, O_WRONLY | O_CLOEXEC);
    int n = memgauge__format_event_control(line, sizeof line, efd, lfd, level);
    if (cfd >= 0 && n > 0)
        ok = write(cfd, line, (size_t)n) == n;
    /* The kernel keeps what it needs: the registration lives as long as the
     * eventfd (mm/memcontrol-v1.c, memcg_event_wake on EPOLLHUP). */
    if (lfd >= 0)
        close(lfd);
    if (cfd >= 0)
        close(cfd);
    if (!ok) {
        close(efd);
        return -1;
    }
    return efd;
}

/* Finds the cgroup, chooses the files and registers the events. The
 * eventfds are -1 here: never registered, or closed by forked_child. */
static void discover_locked(void)
{
    memgauge__cgroups_t cg;
    g.psi_path[0] = '\0';
    g.oom_path[0] = '\0';
    if (memgauge__linux_cgroups(&cg) != 0)
        return;
    const char *dir1 = cg.v1_dir, *dir2 = cg.v2_dir;
    char path[PATH_CAP];
    int have_v1 =
        dir1[0] && join(path, sizeof path, dir1, "memory.limit_in_bytes") == 0 && readable(path);
    int have_v2 = dir2[0] != '\0';

    /* PSI is accounted on the v2 hierarchy even where memory is a v1
     * controller (hybrid mounts), so the v2 cgroup's file is the process's
     * own view whenever it exists. */
    if (have_v2 && join(path, sizeof path, dir2, "memory.pressure") == 0 && readable(path))
        memcpy(g.psi_path, path, sizeof path);

    if (have_v1) {
        if (join(path, sizeof path, dir1, "memory.oom_control") == 0)
            memcpy(g.oom_path, path, sizeof path);
        for (int i = 0; i < EV_COUNT; i++)
            atomic_store(&g.event_fd[i], register_event(dir1, event_level_name[i]));
    } else if (have_v2 && join(path, sizeof path, dir2, "memory.events") == 0) {
        memcpy(g.oom_path, path, sizeof path);
    }
}

static uint64_t read_psi(const char *path)
{
    char buf[FILE_BUF];
    memgauge__psi_t psi;
    if (memgauge__read_small_file(path, buf, sizeof buf) <= 0 ||
        memgauge__parse_psi(buf, strlen(buf), &psi) != 0)
        return 0;
    return PSI_VALID | (uint64_t)psi.some_avg10_centi << 32 | psi.full_avg10_centi;
}

static void refresh_locked(uint64_t now)
{
    uint64_t psi = 0;
    if (g.psi_path[0] != '\0')
        psi = read_psi(g.psi_path);
    if (psi == 0) /* no cgroup file, or PSI switched off for cgroups */
        psi = read_psi("/proc/pressure/memory");
    atomic_store(&g.psi, psi);

    char buf[FILE_BUF];
    uint64_t kills;
    uint64_t plus = 0;
    if (g.oom_path[0] != '\0' && memgauge__read_small_file(g.oom_path, buf, sizeof buf) > 0 &&
        memgauge__parse_oom_kill(buf, strlen(buf), &kills) == 0 && kills != UINT64_MAX)
        plus = kills + 1;
    atomic_store(&g.oom_kills_plus, plus);
    atomic_store_explicit(&g.refreshed_ns, now == 0 ? 1 : now, memory_order_release);
}

/* One thread (re)discovers or refreshes; the others go on with the values
 * they find, possibly none yet. */
static void maybe_refresh(uint64_t now)
{
    uint64_t last = atomic_load_explicit(&g.refreshed_ns, memory_order_acquire);
    if (!atomic_load(&g.stale) && !memgauge__refresh_due(last, now, MEMGAUGE__REFRESH_PRESSURE_NS))
        return;
    if (pthread_mutex_trylock(&g.lock) != 0)
        return;
    if (atomic_load(&g.stale)) {
        discover_locked();
        atomic_store(&g.stale, 0);
        atomic_store(&g.refreshed_ns, 0);
    }
    last = atomic_load(&g.refreshed_ns);
    if (memgauge__refresh_due(last, now, MEMGAUGE__REFRESH_PRESSURE_NS))
        refresh_locked(now);
    pthread_mutex_unlock(&g.lock);
}

/* In a forked child (refresh.h). It is single-threaded here, so nobody is
 * reading these fds. */
static void forked_child(void)
{
    for (int i = 0; i < EV_COUNT; i++) {
        int fd = atomic_exchange(&g.event_fd[i], -1);
        if (fd >= 0)
            close(fd);
        atomic_store(&g.event_ns[i], 0);
    }
    atomic_store(&g.psi, 0);
    atomic_store(&g.oom_kills_plus, 0);
    atomic_store(&g.refreshed_ns, 0);
    atomic_store(&g.stale, 1);
}

static memgauge__cache_t g_cache = {.lock = &g.lock, .child = forked_child};

static void init_once(void)
{
    memgauge__cache_register(&g_cache);
}

/* Keeps the later of two event times. */
static void store_max(_Atomic uint64_t *slot, uint64_t value)
{
    uint64_t cur = atomic_load(slot);
    while (cur < value && !atomic_compare_exchange_weak(slot, &cur, value)) {
    }
}

static void read_events(uint64_t now)
{
    for (int i = 0; i < EV_COUNT; i++) {
        int fd = atomic_load_explicit(&g.event_fd[i], memory_order_acquire);
        uint64_t count;
        if (fd >= 0 && read(fd, &count, sizeof count) == (ssize_t)sizeof count && count != 0)
            store_max(&g.event_ns[i], now == 0 ? 1 : now);
    }
}

int memgauge__platform_pressure(memgauge__os_pressure_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(out, 0, sizeof *out);
    pthread_once(&g.once, init_once);
    uint64_t now = memgauge__now_ns();
    maybe_refresh(now);
    read_events(now);

    int level = MEMGAUGE_PRESSURE_NORMAL;
    uint64_t psi = atomic_load_explicit(&g.psi, memory_order_relaxed);
    if (psi & PSI_VALID) {
        memgauge__psi_t p = {
            .some_avg10_centi = (uint32_t)((psi & ~PSI_VALID) >> 32),
            .full_avg10_centi = (uint32_t)psi,
        };
        out->has_psi = 1;
        out->psi_some_avg10_centi = p.some_avg10_centi;
        out->psi_full_avg10_centi = p.full_avg10_centi;
        level = memgauge__psi_level(&p);
    }
    uint64_t plus = atomic_load_explicit(&g.oom_kills_plus, memory_order_relaxed);
    if (plus != 0) {
        out->has_oom_kills = 1;
        out->oom_kills = plus - 1;
    }
    int event =
        memgauge__event_level(now, atomic_load(&g.event_ns[EV_WARNING]),
                              atomic_load(&g.event_ns[EV_CRITICAL]), MEMGAUGE__EVENT_LATCH_NS);
    out->level = event > level ? event : level;
    return MEMGAUGE_OK;
}
