/*
 * Memory pressure on Linux: the pure parsers and decisions (pressure_parse.c)
 * fed with what the kernel writes and with malformed text, then the reader
 * (pressure_linux.c) against the real kernel: PSI, a real OOM kill in a real
 * cgroup v1 with its pressure event, fork, missing files and threads.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <memgauge/memgauge.h>

#include "platform.h"
#include "support/kernel.h"
#include "support/support.h"
#include "pressure_parse.h"

#define LIT_LEN(s) (sizeof(s) - 1)
#define MIB (UINT64_C(1) << 20)
#define SEC (UINT64_C(1000000000))
#define CG_ROOT "/sys/fs/cgroup/memory"

/* ------------------------------------------------------------------------ */
/* PSI text                                                                 */
/* ------------------------------------------------------------------------ */

Test(psi_parse, reads_some_and_full_avg10_as_hundredths_of_a_percent)
{
    static const char text[] = "some avg10=12.34 avg60=5.00 avg300=1.02 total=123456789\n"
                               "full avg10=0.07 avg60=0.00 avg300=0.00 total=98765\n";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi(text, LIT_LEN(text), &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 1234));
    cr_assert(eq(u32, psi.full_avg10_centi, 7));
    cr_assert(eq(int, psi.has_full, 1));
}

Test(psi_parse, accepts_full_first_and_no_final_newline)
{
    static const char text[] = "full avg10=3.50 avg60=0.00 avg300=0.00 total=1\n"
                               "some avg10=40.00 avg60=0.00 avg300=0.00 total=2";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi(text, LIT_LEN(text), &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 4000));
    cr_assert(eq(u32, psi.full_avg10_centi, 350));
}

Test(psi_parse, some_alone_is_enough_and_full_reads_zero)
{
    static const char text[] = "some avg10=0.20 avg60=0.12 avg300=0.03 total=179192\n";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi(text, LIT_LEN(text), &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 20));
    cr_assert(eq(u32, psi.full_avg10_centi, 0));
    cr_assert(eq(int, psi.has_full, 0));
}

Test(psi_parse, one_decimal_is_tenths_and_extra_decimals_are_truncated)
{
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi("some avg10=1.5 total=0", 22, &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 150));
    cr_assert(eq(int, memgauge__parse_psi("some avg10=1.239 total=0", 24, &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 123));
    cr_assert(eq(int, memgauge__parse_psi("some avg10=7 total=0", 20, &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 700));
}

Test(psi_parse, accepts_one_hundred_percent_and_refuses_more)
{
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi("some avg10=100.00", 17, &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 10000));
    cr_assert(eq(int, memgauge__parse_psi("some avg10=100.01", 17, &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi("some avg10=101.00", 17, &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi("some avg10=99999999999999999999.00", 35, &psi), -1));
}

Test(psi_parse, refuses_text_without_a_some_line)
{
    static const char full_only[] = "full avg10=1.00 avg60=0.00 avg300=0.00 total=1\n";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi("", 0, &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi(full_only, LIT_LEN(full_only), &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi("something avg10=1.00", 20, &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi(" some avg10=1.00", 16, &psi), -1));
    cr_assert(eq(int, memgauge__parse_psi(NULL, 0, &psi), -1));
}

Test(psi_parse, refuses_malformed_avg10_values)
{
    static const char *const bad[] = {
        "some avg60=1.00 total=1", /* no avg10 */
        "some avg10= avg60=1.00",  "some avg10=abc",   "some avg10=1.",    "some avg10=.5",
        "some avg10=1.2x",         "some avg10=-1.00", "some avg100=1.00", "some avg10=1,00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memgauge__psi_t psi = {.some_avg10_centi = 77};
        cr_assert(eq(int, memgauge__parse_psi(bad[i], strlen(bad[i]), &psi), -1), "%s", bad[i]);
        cr_assert(eq(u32, psi.some_avg10_centi, 0), "%s leaves *out zeroed", bad[i]);
    }
}

Test(psi_parse, a_malformed_full_line_spoils_the_whole_text)
{
    static const char text[] = "some avg10=1.00 total=1\nfull avg10=zz total=1\n";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi(text, LIT_LEN(text), &psi), -1));
}

Test(psi_parse, reads_no_further_than_len)
{
    static const char text[] = "some avg10=12.34 avg60=0.00";
    memgauge__psi_t psi;

    /* The buffer ends after "avg10=12.3". */
    cr_assert(eq(int, memgauge__parse_psi(text, 15, &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 1230));
    cr_assert(eq(int, memgauge__parse_psi(text, 11, &psi), -1));
}

Test(psi_parse, accepts_carriage_returns)
{
    static const char text[] = "some avg10=2.00 total=1\r\nfull avg10=1.00 total=1\r\n";
    memgauge__psi_t psi;

    cr_assert(eq(int, memgauge__parse_psi(text, LIT_LEN(text), &psi), 0));
    cr_assert(eq(u32, psi.some_avg10_centi, 200));
    cr_assert(eq(u32, psi.full_avg10_centi, 100));
}

/* ------------------------------------------------------------------------ */
/* OOM kill counters                                                        */
/* ------------------------------------------------------------------------ */

Test(oom_kill_parse, reads_cgroup_v2_memory_events)
{
    static const char text[] = "low 0\nhigh 12\nmax 40\noom 3\noom_kill 2\noom_group_kill 1\n";
    uint64_t n = 0;

    cr_assert(eq(int, memgauge__parse_oom_kill(text, LIT_LEN(text), &n), 0));
    cr_assert(eq(u64, n, 2));
}

Test(oom_kill_parse, reads_cgroup_v1_oom_control_past_oom_kill_disable)
{
    static const char text[] = "oom_kill_disable 1\nunder_oom 0\noom_kill 17\n";
    uint64_t n = 0;

    cr_assert(eq(int, memgauge__parse_oom_kill(text, LIT_LEN(text), &n), 0));
    cr_assert(eq(u64, n, 17));
}

Test(oom_kill_parse, a_kernel_before_4_13_has_no_counter)
{
    static const char v1[] = "oom_kill_disable 0\nunder_oom 0\n";
    static const char v2[] = "low 0\nhigh 0\nmax 0\noom 0\noom_group_kill 0\n";
    uint64_t n = 99;

    cr_assert(eq(int, memgauge__parse_oom_kill(v1, LIT_LEN(v1), &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill(v2, LIT_LEN(v2), &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill("", 0, &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill(NULL, 0, &n), -1));
}

Test(oom_kill_parse, refuses_malformed_and_overflowing_counts)
{
    uint64_t n;

    cr_assert(eq(int, memgauge__parse_oom_kill("oom_kill x\n", 11, &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill("oom_kill \n", 10, &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill("oom_kill 99999999999999999999\n", 30, &n), -1));
    cr_assert(eq(int, memgauge__parse_oom_kill("oom_kill 18446744073709551615", 29, &n), 0));
    cr_assert(eq(u64, n, UINT64_MAX));
}

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */
/* ------------------------------------------------------------------------ */

static int level_of(uint32_t some, uint32_t full)
{
    memgauge__psi_t psi = {.some_avg10_centi = some, .full_avg10_centi = full, .has_full = 1};
    return memgauge__psi_level(&psi);
}

Test(psi_level, some_stall_from_ten_percent_is_a_warning)
{
    cr_assert(eq(int, level_of(0, 0), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, level_of(999, 0), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, level_of(1000, 0), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(eq(int, level_of(3999, 999), MEMGAUGE_PRESSURE_WARNING));
}

Test(psi_level, full_stall_from_ten_percent_or_some_from_forty_is_critical)
{
    cr_assert(eq(int, level_of(4000, 0), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, level_of(1000, 1000), MEMGAUGE_PRESSURE_CRITICAL));
    /* full never exceeds some in a real kernel, but the rule stands alone */
    cr_assert(eq(int, level_of(0, 1000), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, level_of(10000, 10000), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, memgauge__psi_level(NULL), MEMGAUGE_PRESSURE_NORMAL));
}

Test(event_level, an_event_holds_its_level_for_the_latch_then_decays)
{
    const uint64_t latch = MEMGAUGE__EVENT_LATCH_NS;
    const uint64_t t = 1000 * SEC;

    cr_assert(eq(int, memgauge__event_level(t, t, 0, latch), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(
        eq(int, memgauge__event_level(t + latch - 1, t, 0, latch), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(eq(int, memgauge__event_level(t + latch, t, 0, latch), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, memgauge__event_level(t + 2 * SEC, 0, t, latch), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, memgauge__event_level(t + latch, 0, t, latch), MEMGAUGE_PRESSURE_NORMAL));
}

Test(event_level, critical_wins_and_a_later_warning_outlives_it)
{
    const uint64_t latch = MEMGAUGE__EVENT_LATCH_NS;
    const uint64_t t = 1000 * SEC;

    cr_assert(
        eq(int, memgauge__event_level(t + SEC, t + SEC, t, latch), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, memgauge__event_level(t + latch + SEC / 2, t + SEC, t, latch),
                 MEMGAUGE_PRESSURE_WARNING));
}

Test(event_level, never_is_normal_and_a_time_ahead_of_now_is_latched)
{
    const uint64_t latch = MEMGAUGE__EVENT_LATCH_NS;

    cr_assert(eq(int, memgauge__event_level(3, 0, 0, latch), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, memgauge__event_level(10 * SEC, 0, 10 * SEC + 5, latch),
                 MEMGAUGE_PRESSURE_CRITICAL));
}

Test(event_control, formats_event_fd_level_fd_and_level)
{
    char buf[32];

    cr_assert(eq(int, memgauge__format_event_control(buf, sizeof buf, 7, 12, "medium"), 11));
    cr_assert(eq(str, buf, "7 12 medium"));
    cr_assert(
        eq(int, memgauge__format_event_control(buf, sizeof buf, 0, 2147483647, "critical"), 21));
    cr_assert(eq(str, buf, "0 2147483647 critical"));
}

Test(event_control, refuses_bad_fds_empty_levels_and_small_buffers)
{
    char buf[12];

    cr_assert(eq(int, memgauge__format_event_control(buf, sizeof buf, -1, 3, "medium"), -1));
    cr_assert(eq(int, memgauge__format_event_control(buf, sizeof buf, 3, -1, "medium"), -1));
    cr_assert(eq(int, memgauge__format_event_control(buf, sizeof buf, 3, 4, ""), -1));
    cr_assert(eq(int, memgauge__format_event_control(buf, sizeof buf, 3, 4, NULL), -1));
    /* "7 12 medium" needs 12 bytes with its NUL; 11 do not do */
    cr_assert(eq(int, memgauge__format_event_control(buf, 11, 7, 12, "medium"), -1));
    cr_assert(eq(str, buf, ""));
    cr_assert(eq(int, memgauge__format_event_control(buf, 12, 7, 12, "medium"), 11));
    cr_assert(eq(int, memgauge__format_event_control(NULL, 12, 7, 12, "medium"), -1));
}

/* ------------------------------------------------------------------------ */
/* The reader against the kernel                                            */
/* ------------------------------------------------------------------------ */

static memgauge__os_pressure_t pressure_now(void)
{
    memgauge__os_pressure_t p;
    cr_assert(eq(int, memgauge__platform_pressure(&p), MEMGAUGE_OK));
    return p;
}

/* How many eventfds this process holds. */
static int count_eventfds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[128];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strcmp(target, "anon_inode:[eventfd]") == 0)
            n++;
    }
    closedir(d);
    return n;
}

Test(pressure_kernel, null_is_refused)
{
    cr_assert(eq(int, memgauge__platform_pressure(NULL), MEMGAUGE_E_NULL_ARGUMENT));
}

Test(pressure_kernel, psi_figures_are_the_kernels)
{
    if (access("/proc/pressure/memory", R_OK) != 0)
        MG_KERNEL_SKIP("pressure_kernel.psi_figures_are_the_kernels", "no PSI on this kernel");
    memgauge__os_pressure_t p = pressure_now();
    FILE *f = fopen("/proc/pressure/memory", "r");
    cr_assert_not_null(f);
    float some = -1, full = -1;
    cr_assert(eq(int, fscanf(f, "some avg10=%f %*s %*s %*s full avg10=%f", &some, &full), 2));
    fclose(f);

    cr_assert(eq(int, p.has_psi, 1));
    /* avg10 moves every 2 s: allow a step between the two reads. The
     * process's v2 cgroup, where there is one, is at most the system. */
    cr_assert(p.psi_some_avg10_centi <= (uint32_t)(some * 100.0f) + 100, "some %u vs %.2f",
              p.psi_some_avg10_centi, (double)some);
    cr_assert(p.psi_full_avg10_centi <= (uint32_t)(full * 100.0f) + 100, "full %u vs %.2f",
              p.psi_full_avg10_centi, (double)full);
    cr_assert(p.psi_full_avg10_centi <= p.psi_some_avg10_centi);
    memgauge__psi_t psi = {p.psi_some_avg10_centi, p.psi_full_avg10_centi, 1};
    cr_assert(p.level >= memgauge__psi_level(&psi));
}

/* ---- a real OOM kill in a real cgroup v1 ------------------------------- */

static char cg_dir[128];

/* Done unless the cgroup is still busy: the killed task leaves it
 * asynchronously. */
static int cgroup_removed(void *dir)
{
    return rmdir(dir) == 0 || errno != EBUSY;
}

static void remove_cgroup(void)
{
    if (cg_dir[0] == '\0')
        return;
    mg_wait_until(cgroup_removed, cg_dir, 1000);
}

/* Exit codes of the observer, so that the parent names the step that failed. */
enum {
    OK = 0,
    JOIN = 10,
    BEFORE_NO_COUNTER,
    BEFORE_NOT_ZERO,
    BEFORE_NOT_NORMAL,
    EVENTFDS,
    NOT_KILLED,
    NO_KILL_COUNTED,
    NO_LEVEL,
    DECAYED_EARLY,
    NOT_DECAYED,
};

static const char *step_name(int code)
{
    switch (code) {
    case JOIN:
        return "joining the cgroup";
    case BEFORE_NO_COUNTER:
        return "no oom_kill counter before the kill";
    case BEFORE_NOT_ZERO:
        return "a fresh cgroup reported OOM kills (the parent's cgroup was read?)";
    case BEFORE_NOT_NORMAL:
        return "level not NORMAL before the kill";
    case EVENTFDS:
        return "the forked child did not close the inherited eventfds and register two of its own";
    case NOT_KILLED:
        return "the allocating grandchild was not SIGKILLed";
    case NO_KILL_COUNTED:
        return "the OOM kill was not counted within 3 s";
    case NO_LEVEL:
        return "no WARNING/CRITICAL from the cgroup's pressure events within 3 s";
    case DECAYED_EARLY:
        return "the event level decayed before 4.8 s";
    case NOT_DECAYED:
        return "the event level had not decayed 5.6 s after the event";
    default:
        return "?";
    }
}

/* Allocates and touches far more than the cgroup allows: the memcg OOM
 * killer takes it (oom_score_adj 1000 makes sure it is this one). */
static void allocate_until_killed(void)
{
    mg_write_text("/proc/self/oom_score_adj", "1000");
    const size_t size = 256 * MIB;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(1);
    for (size_t off = 0; off < size; off += 4096)
        p[off] = 1;
    _exit(0);
}

static int observer(int eventfds_before_fork)
{
    char path[256], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg_dir);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (mg_write_text(path, pid) != 0)
        return JOIN;
    mg_write_text("/proc/self/oom_score_adj", "-1000");

    /* The parent's registration is gone in the child ... */
    if (count_eventfds() != eventfds_before_fork - 2)
        return EVENTFDS;
    memgauge__os_pressure_t before;
    memgauge__platform_pressure(&before);
    /* ... and the child registered its own, on its new cgroup. */
    if (count_eventfds() != eventfds_before_fork)
        return EVENTFDS;
    if (!before.has_oom_kills)
        return BEFORE_NO_COUNTER;
    if (before.oom_kills != 0)
        return BEFORE_NOT_ZERO;
    if (before.level != MEMGAUGE_PRESSURE_NORMAL)
        return BEFORE_NOT_NORMAL;

    pid_t killer = fork();
    if (killer == 0)
        allocate_until_killed();
    int status;
    if (killer < 0 || mg_wait_child(killer, MG_CHILD_DEADLINE_MS, &status) != 0 ||
        !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        return NOT_KILLED;

    uint64_t start = mg_mono_ns(), raised_at = 0;
    memgauge__os_pressure_t p;
    int counted = 0;
    while (mg_mono_ns() - start < 3 * SEC && !(counted && raised_at)) {
        memgauge__platform_pressure(&p);
        counted |= p.has_oom_kills && p.oom_kills >= before.oom_kills + 1;
        if (!raised_at && p.level >= MEMGAUGE_PRESSURE_WARNING)
            raised_at = mg_mono_ns();
        usleep(50000);
    }
    if (!counted)
        return NO_KILL_COUNTED;
    if (!raised_at)
        return NO_LEVEL;
    fprintf(stderr, "pressure: OOM kill counted, level %d after the kill\n", p.level);

    /* The event was read at the call that first saw the level (within
     * 50 ms of raised_at). It holds for 5 s; then only PSI speaks. */
    for (;;) {
        usleep(100000);
        memgauge__platform_pressure(&p);
        uint64_t held = mg_mono_ns() - raised_at;
        memgauge__psi_t psi = {p.psi_some_avg10_centi, p.psi_full_avg10_centi, 1};
        int psi_level = p.has_psi ? memgauge__psi_level(&psi) : MEMGAUGE_PRESSURE_NORMAL;
        if (held < 4800 * (SEC / 1000) && p.level < MEMGAUGE_PRESSURE_WARNING)
            return DECAYED_EARLY;
        if (held >= 5600 * (SEC / 1000))
            return p.level == psi_level ? OK : NOT_DECAYED;
    }
}

Test(pressure_kernel, an_oom_kill_in_the_cgroup_is_counted_and_raises_the_level,
     .fini = remove_cgroup)
{
    snprintf(cg_dir, sizeof cg_dir, CG_ROOT "/memgauge-pressure-%d", (int)getpid());
    if (!mg_cgroup_v1_usable() || access(CG_ROOT "/cgroup.event_control", W_OK) != 0 ||
        mkdir(cg_dir, 0755) != 0) {
        cg_dir[0] = '\0';
        MG_KERNEL_SKIP("pressure_kernel.an_oom_kill_in_the_cgroup_is_counted_and_raises_the_level",
                       "needs root and the v1 memory hierarchy (cgroup.event_control)");
    }
    char path[256];
    snprintf(path, sizeof path, "%s/memory.limit_in_bytes", cg_dir);
    cr_assert(eq(int, mg_write_text(path, "67108864"), 0)); /* 64 MiB */

    /* This process registers on its own cgroup first: the observer must
     * drop that after fork and find its new cgroup. */
    int fds = count_eventfds();
    memgauge__os_pressure_t here = pressure_now();
    cr_assert(eq(int, count_eventfds(), fds + 2),
              "two eventfds registered on this process's cgroup v1");
    cr_assert(eq(int, here.has_oom_kills, 1));

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(observer(fds + 2));
    int status;
    cr_assert(eq(int, mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0),
              "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    int exited = WIFEXITED(status), signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    cr_assert(exited, "observer killed by signal %d", signal);
    cr_assert(eq(int, WEXITSTATUS(status), OK), "step %d failed: %s", WEXITSTATUS(status),
              step_name(WEXITSTATUS(status)));

    /* The parent's registration survived the child's. */
    cr_assert(eq(int, count_eventfds(), fds + 2));
}

/* ---- files that are not there ------------------------------------------ */

enum { MISSING_OK = 0, MISSING_SETUP = 20, MISSING_RC, MISSING_FIELDS };

static int without_cgroups_or_psi(void)
{
    /* A private mount namespace where the memory cgroup hierarchies and
     * /proc/pressure are gone. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return MISSING_SETUP;
    umount2(CG_ROOT, MNT_DETACH);
    umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    umount2("/sys/fs/cgroup", MNT_DETACH); /* a pure v2 host mounts it here */
    if (access("/proc/pressure/memory", F_OK) == 0 &&
        mount("none", "/proc/pressure", "tmpfs", 0, NULL) != 0)
        return MISSING_SETUP;
    int fds = count_eventfds();
    memgauge__os_pressure_t p;
    memset(&p, 0x5a, sizeof p);
    if (memgauge__platform_pressure(&p) != MEMGAUGE_OK)
        return MISSING_RC;
    if (p.level != MEMGAUGE_PRESSURE_NORMAL || p.has_psi || p.psi_some_avg10_centi ||
        p.psi_full_avg10_centi || p.has_oom_kills || p.oom_kills || count_eventfds() != fds)
        return MISSING_FIELDS;
    return MISSING_OK;
}

Test(pressure_kernel, missing_files_leave_every_field_unset_and_the_level_normal)
{
    if (getuid() != 0)
        cr_skip_test("needs root for a private mount namespace");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(without_cgroups_or_psi());
    int status;
    cr_assert(eq(int, mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0),
              "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    int exited = WIFEXITED(status);
    cr_assert(exited);
    if (WEXITSTATUS(status) == MISSING_SETUP)
        cr_skip_test("could not hide the cgroup mounts here");
    cr_assert(eq(int, WEXITSTATUS(status), MISSING_OK),
              "21: call failed, 22: a field was set or an eventfd registered");
}

/* ---- threads ------------------------------------------------------------ */

enum { THREADS = 4, CALLS = 20000 };

static void *hammer(void *arg)
{
    const memgauge__os_pressure_t *first = arg;
    uint64_t last_kills = 0;
    for (int i = 0; i < CALLS; i++) {
        memgauge__os_pressure_t p;
        if (memgauge__platform_pressure(&p) != MEMGAUGE_OK || p.has_psi != first->has_psi ||
            p.has_oom_kills != first->has_oom_kills || p.oom_kills < last_kills ||
            p.psi_some_avg10_centi > 10000 || p.psi_full_avg10_centi > 10000 ||
            p.level < MEMGAUGE_PRESSURE_NORMAL || p.level > MEMGAUGE_PRESSURE_CRITICAL)
            return (void *)1;
        last_kills = p.oom_kills;
    }
    return NULL;
}

Test(pressure_kernel, concurrent_callers_see_whole_consistent_values_cheaply)
{
    memgauge__os_pressure_t first = pressure_now();
    pthread_t t[THREADS];
    uint64_t start = mg_mono_ns();
    for (int i = 0; i < THREADS; i++)
        cr_assert(eq(int, pthread_create(&t[i], NULL, hammer, &first), 0));
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        bad += rc != NULL;
    }
    uint64_t per_call = (mg_mono_ns() - start) / (THREADS * CALLS);
    fprintf(stderr, "pressure: %llu ns per call with %d threads\n", (unsigned long long)per_call,
            THREADS);
    cr_assert(eq(int, bad, 0));
    cr_assert(per_call < 50000, "%llu ns per call", (unsigned long long)per_call);
}
