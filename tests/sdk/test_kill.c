/*
 * How a session ended, told by the next start, on the real kernel: a real
 * OOM kill in a memory cgroup of the real sample app, hundreds of SIGKILLs
 * at random moments of a sampling child, and every elimination signal end
 * to end through memgauge_start in forked children. Plus the reader's side
 * of a torn write: a record torn at every byte of an update is never read
 * as whole.
 *
 * Every test uses its own fresh state directory under /var/tmp (a real
 * disk file system, as an app's state directory would be).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "journal.h"
#include "record.h"
#include "support/kernel.h"

#define MIB (UINT64_C(1) << 20)
#define NS_PER_MS UINT64_C(1000000)

#define APP_ID "memgauge-killtest"
/* Trail points a diagnosing child sends back. */
#define TRAIL_BACK 64
/* A child that neither ends nor is killed within this is stuck. */
#define CHILD_TIMEOUT_MS 20000u

/* ---- time, files, children ------------------------------------------------ */

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The test's state directory and cgroup, removed after the test whatever its
 * outcome (the suites' .fini). */
static char g_dir[128];
static char g_cgroup[512];

/* A fresh, empty state directory for one test. */
static void fresh_dir(char *dir, size_t cap, const char *tag)
{
    snprintf(dir, cap, "/var/tmp/memgauge-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
    snprintf(g_dir, sizeof g_dir, "%s", dir);
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    cr_assert_lt(snprintf(out, cap, "%s/%s", dir, name), (int)cap);
}

/* Removes every file the SDK (record, previous record, lock, a temporary
 * record a kill left behind) and these tests put in a state directory. */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[600];
        path_in(p, sizeof p, dir, e->d_name);
        cr_assert_eq(unlink(p), 0, "%s: %s", p, strerror(errno));
    }
    closedir(d);
}

static void cleanup(void)
{
    DIR *d = g_dir[0] ? opendir(g_dir) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char p[600];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name) < (int)sizeof p)
            unlink(p);
    }
    if (d != NULL)
        closedir(d);
    if (g_dir[0])
        rmdir(g_dir);
    if (g_cgroup[0])
        rmdir(g_cgroup);
    g_dir[0] = g_cgroup[0] = '\0';
}

TestSuite(oom_kill, .fini = cleanup);
TestSuite(session_end, .fini = cleanup);
TestSuite(random_kill, .fini = cleanup);
TestSuite(record_tear, .fini = cleanup);

/* The whole file in a heap buffer, NUL-terminated (NULL with errno set if it
 * cannot be opened). Reads to EOF: /proc and cgroup files report size 0. */
static unsigned char *read_all(const char *path, size_t *len)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, got = 0;
    unsigned char *buf = malloc(cap);
    cr_assert_not_null(buf);
    for (;;) {
        if (got + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* A text file into buf (truncated to cap - 1 bytes; "" if unreadable). */
static void read_text(const char *path, char *buf, size_t cap)
{
    size_t len;
    unsigned char *all = read_all(path, &len);
    size_t n = all == NULL ? 0 : len < cap - 1 ? len : cap - 1;
    if (n > 0)
        memcpy(buf, all, n);
    buf[n] = '\0';
    free(all);
}

/* Waits for a child, SIGKILLing it (and failing the test) after timeout_ms. */
static int wait_child(pid_t pid, uint32_t timeout_ms)
{
    int status = 0;
    for (uint32_t waited_us = 0;; waited_us += 1000) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        cr_assert_eq(r, 0, "waitpid: %s", strerror(errno));
        if (waited_us >= timeout_ms * 1000u) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("child %d did not end within %u ms", (int)pid, timeout_ms);
        }
        sleep_us(1000);
    }
}

static void write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(120);
        p += n;
        len -= (size_t)n;
    }
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- the SDK in a child ----------------------------------------------------- */

typedef struct session_opts_s {
    const char *dir;
    const char *version;
    const char *build;
    uint32_t interval_ms;
    uint32_t trail_seconds;
} session_opts_t;

/* Child side: memgauge_start as an app would; exits the child on failure. */
static memgauge_t *child_start(const session_opts_t *s)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = s->interval_ms;
    o.window_ms = s->interval_ms;
    o.fast_interval_ms = s->interval_ms;
    o.storage_dir = s->dir;
    o.app_id = APP_ID;
    o.app_version = s->version;
    o.app_build = s->build;
    o.trail_seconds = s->trail_seconds;
    memgauge_t *h = NULL;
    int rc = memgauge_start(&o, &h);
    if (rc != MEMGAUGE_OK)
        _exit(100 - rc); /* 101 .. 126: the MEMGAUGE_E_* code */
    return h;
}

static uint64_t child_samples(memgauge_t *h)
{
    memgauge_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (memgauge_get_stats(h, &st) != MEMGAUGE_OK)
        _exit(119);
    return st.samples;
}

static void child_wait_samples(memgauge_t *h, uint64_t n)
{
    for (int i = 0; i < 2000 && child_samples(h) < n; i++)
        sleep_us(2000);
    if (child_samples(h) < n)
        _exit(118);
}

/* What a start in a fresh child says about the previous session. */
typedef struct diagnosis_s {
    memgauge_previous_session_t p; /* trail pointer cleared: see `trail` */
    size_t trail_count;            /* the last min(p.trail_count, TRAIL_BACK) points */
    memgauge_trail_point_t trail[TRAIL_BACK];
} diagnosis_t;

static void diagnose_in_child(const session_opts_t *s, diagnosis_t *out)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        memgauge_t *h = child_start(s);
        diagnosis_t d;
        memset(&d, 0, sizeof d);
        d.p.struct_size = sizeof d.p;
        if (memgauge_previous_session(h, &d.p) != MEMGAUGE_OK)
            _exit(117);
        size_t n = d.p.trail_count < TRAIL_BACK ? d.p.trail_count : TRAIL_BACK;
        if (n > 0)
            memcpy(d.trail, d.p.trail + (d.p.trail_count - n), n * sizeof d.trail[0]);
        d.trail_count = n;
        d.p.trail = NULL;
        write_full(fds[1], &d, sizeof d);
        memgauge_stop(h, 2000);
        _exit(0);
    }
    close(fds[1]);
    int got = read_full(fds[0], out, sizeof *out);
    close(fds[0]);
    int status = wait_child(pid, CHILD_TIMEOUT_MS);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "diagnosing child failed: status 0x%x (exit 101..126 is MEMGAUGE_E_* 1..26)", status);
    cr_assert_eq(got, 0, "diagnosing child sent no diagnosis");
}

/* The newest session record in `dir`, parsed. Returns the parse status, or
 * -1 when there is no record file. */
static int parse_record(const char *dir, memgauge__record_view_t *v, memgauge__trail_entry_t *trail,
                        size_t cap, size_t *file_len)
{
    char path[600];
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    size_t len;
    unsigned char *buf = read_all(path, &len);
    if (buf == NULL) {
        cr_assert_eq(errno, ENOENT, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = memgauge__record_parse(buf, len, v, trail, cap);
    free(buf);
    if (file_len != NULL)
        *file_len = len;
    return rc;
}

static void uuid_text(const uint8_t id[16], char out[40])
{
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0],
             id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12],
             id[13], id[14], id[15]);
}

/* ---- a real OOM kill ---------------------------------------------------------- */

#ifdef MEMGAUGE_SAMPLE_APP
#define OOM_LIMIT (192 * MIB)
#define OOM_INTERVAL_MS 100u
/* The kill may come up to one interval after the last sample; the kill
 * time is taken after waitpid, which adds scheduling delay. */
#define OOM_SLACK_MS 250u
#define OOM_NEAR_FRACTION 0.15

/* Starts the real sample app with stdout to `out_path`, in the cgroup when
 * `procs` is not NULL (the child moves itself there before exec). */
static pid_t spawn_sample(const char *procs, const char *out_path, char *const argv[])
{
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(out, 0, "%s: %s", out_path, strerror(errno));
    int pfd = procs ? open(procs, O_WRONLY | O_CLOEXEC) : -1;
    cr_assert(procs == NULL || pfd >= 0, "%s: %s", procs, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* only async-signal-safe calls between fork and exec; "0" is this process */
        if (pfd >= 0 && write(pfd, "0", 1) != 1)
            _exit(125);
        if (dup2(out, 1) < 0)
            _exit(126);
        execv(MEMGAUGE_SAMPLE_APP, argv);
        _exit(127);
    }
    close(out);
    if (pfd >= 0)
        close(pfd);
    return pid;
}

/* The line of `text` that starts with `prefix` (the last one if `last`). */
static const char *find_line(const char *text, const char *prefix, int last)
{
    const char *found = NULL;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            found = p;
            if (!last)
                break;
        }
    }
    cr_assert_not_null(found, "no line starting with '%s' in:\n%s", prefix, text);
    return found;
}

/* The value of " key=" in one line, as text. */
static void field(const char *line, const char *key, char *out, size_t cap)
{
    const char *end = strchr(line, '\n');
    size_t line_len = end ? (size_t)(end - line) : strlen(line);
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *k = NULL;
    for (const char *p = line; (p = strstr(p, pat)) != NULL && p < line + line_len; p++)
        k = p;
    cr_assert_not_null(k, "no %s= in: %.*s", key, (int)line_len, line);
    k += strlen(pat);
    size_t n = strcspn(k, " \n");
    cr_assert_lt(n, cap);
    memcpy(out, k, n);
    out[n] = '\0';
}

static uint64_t field_u64(const char *line, const char *key)
{
    char v[64];
    field(line, key, v, sizeof v);
    return strtoull(v, NULL, 10);
}

Test(oom_kill, kernel_oom_kill_reads_as_suspected_oom_with_a_trail_ending_at_the_limit,
     .timeout = 180)
{
    char dir[128], out1[600], out2[600];
    fresh_dir(dir, sizeof dir, "oom");
    path_in(out1, sizeof out1, dir, "run1.out");
    path_in(out2, sizeof out2, dir, "run2.out");
    mg_cgroup_t cg;
    char why[700];
    if (mg_cgroup_make(&cg, "memgauge-oom", OOM_LIMIT, why, sizeof why) != 0)
        MG_KERNEL_SKIP("oom_kill.kernel_oom_kill_reads_as_suspected_oom_with_a_trail_ending_at_"
                       "the_limit",
                       why);
    snprintf(g_cgroup, sizeof g_cgroup, "%s", cg.dir);
    int64_t kills_before = mg_cgroup_oom_kills(&cg);

    char *leak[] = {"memgauge-sample",
                    "--scenario",
                    "leak",
                    "--leak-mb-per-s",
                    "64",
                    "--interval-ms",
                    "100",
                    "--duration",
                    "60",
                    "--state-dir",
                    dir,
                    NULL};
    uint64_t t0 = wall_ns();
    pid_t pid = spawn_sample(cg.procs, out1, leak);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    uint64_t kill_ns = wall_ns();
    static char text[65536];
    read_text(out1, text, sizeof text);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the leaking app was not SIGKILLed: status 0x%x after %.1f s; output:\n%s", status,
              (double)(kill_ns - t0) / 1e9, text);
    int64_t kills_after = mg_cgroup_oom_kills(&cg);
    if (kills_before >= 0)
        cr_assert_eq(kills_after, kills_before + 1, "the kernel counted %lld OOM kills, not 1",
                     (long long)(kills_after - kills_before));

    char *again[] = {"memgauge-sample", "--scenario", "steady",      "--duration", "1",
                     "--interval-ms",   "100",        "--state-dir", dir,          NULL};
    pid = spawn_sample(cg.procs, out2, again);
    status = wait_child(pid, 60000);
    read_text(out2, text, sizeof text);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second run failed (0x%x):\n%s",
              status, text);
    cr_assert_eq(rmdir(cg.dir), 0, "%s: %s", cg.dir, strerror(errno));

    const char *prev = find_line(text, "previous ", 0);
    char verdict[32], confidence[16], evidence[128];
    field(prev, "verdict", verdict, sizeof verdict);
    field(prev, "confidence", confidence, sizeof confidence);
    field(prev, "evidence", evidence, sizeof evidence);
    cr_assert_str_eq(verdict, "suspected_oom", "output:\n%s", text);
    uint64_t trail = field_u64(prev, "trail");
    cr_assert_gt(trail, 0, "no trail");
    cr_assert_geq(field_u64(prev, "samples"), 10, "3 s of leak at 100 ms took fewer samples");

    /* the trail ends within one interval of the kill, at the limit */
    const char *last = find_line(text, "trail ", 1);
    uint64_t last_ns = field_u64(last, "wall_ns");
    uint64_t window_ns = (uint64_t)(OOM_INTERVAL_MS + OOM_SLACK_MS) * NS_PER_MS;
    cr_assert(last_ns <= kill_ns && kill_ns - last_ns <= window_ns,
              "the trail ends %.0f ms before the kill, not within %u ms",
              ((double)kill_ns - (double)last_ns) / 1e6, OOM_INTERVAL_MS + OOM_SLACK_MS);
    cr_assert_eq(field_u64(prev, "last_wall_ns"), last_ns);
    uint64_t footprint = field_u64(last, "footprint_bytes");
    fprintf(stderr,
            "oom_kill: kernel kill (cgroup v%d) after %.2f s; the trail ends %.0f ms before it "
            "at %.1f MiB of %llu MiB; %.*s\n",
            cg.version, (double)(kill_ns - t0) / 1e9, ((double)kill_ns - (double)last_ns) / 1e6,
            (double)footprint / (double)MIB, (unsigned long long)(OOM_LIMIT / MIB),
            (int)strcspn(prev, "\n"), prev);
    uint64_t near = (uint64_t)((double)OOM_LIMIT * OOM_NEAR_FRACTION);
    cr_assert(footprint + near >= OOM_LIMIT && footprint <= OOM_LIMIT + near,
              "last footprint %llu MiB is not within 15 %% of the %llu MiB limit",
              (unsigned long long)(footprint / MIB), (unsigned long long)(OOM_LIMIT / MIB));
    {
        /* the SDK knew the limit, so the evidence is positive, not elimination */
        cr_assert_str_eq(confidence, "high", "evidence %s", evidence);
        cr_assert_eq(field_u64(prev, "limit_bytes"), OOM_LIMIT);
        cr_assert_eq(field_u64(last, "limit_bytes"), OOM_LIMIT);
        cr_assert_lt(field_u64(last, "available_bytes"), near, "%llu bytes still available",
                     (unsigned long long)field_u64(last, "available_bytes"));
        cr_assert(strstr(evidence, "near_limit") != NULL, "evidence %s", evidence);
        if (kills_before >= 0)
            cr_assert(strstr(evidence, "kernel_oom_kill") != NULL,
                      "the cgroup counted the OOM kill, the evidence does not: %s", evidence);
    }
}
#endif

/* ---- elimination signals, end to end --------------------------------------- */

/* How a session child ends. */
typedef enum ending_e {
    END_BY_STOP,           /* memgauge_stop, then _exit */
    END_BY_EXIT,           /* exit(): the atexit marker */
    END_BY_CRASH,          /* a real SIGSEGV whose handler calls memgauge_note_crash */
    END_KILLED,            /* SIGKILL, nothing else */
    END_KILLED_AFTER_NOTE, /* memgauge_note_crash(SIGABRT), then SIGKILL */
    END_KILLED_IN_BG,      /* memgauge_set_app_state(BACKGROUND), then SIGKILL */
    END_KILLED_HUNG,       /* memgauge_hang_begin, then SIGKILL */
    END_KILLED_AFTER_HANG, /* hang_begin, hang_end, then SIGKILL */
    END_KILLED_TRACED,     /* traced from before start (PTRACE_TRACEME), then SIGKILL */
    END_KILLED_SEIZED      /* traced from mid-session (PTRACE_SEIZE by the parent), then SIGKILL */
} ending_t;

static void on_crash(int signo)
{
    memgauge_note_crash(signo);
    /* SA_RESETHAND | SA_NODEFER: this raise ends the process at once */
    raise(signo);
}

static void session_child(const session_opts_t *s, ending_t how, int ready_fd)
{
    if (how == END_KILLED_TRACED && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
        _exit(116);
    memgauge_t *h = child_start(s);
    child_wait_samples(h, 3);
    switch (how) {
    case END_BY_STOP:
        _exit(memgauge_stop(h, 2000) == MEMGAUGE_OK ? 0 : 115);
    case END_BY_EXIT:
        exit(0);
    case END_BY_CRASH: {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        raise(SIGSEGV);
        _exit(114);
    }
    case END_KILLED_IN_BG:
        if (memgauge_set_app_state(MEMGAUGE_APP_BACKGROUND) != MEMGAUGE_OK)
            _exit(113);
        break;
    case END_KILLED_AFTER_NOTE:
        memgauge_note_crash(SIGABRT);
        break;
    case END_KILLED_HUNG:
        memgauge_hang_begin();
        break;
    case END_KILLED_AFTER_HANG:
        memgauge_hang_begin();
        memgauge_hang_end();
        break;
    case END_KILLED:
    case END_KILLED_TRACED:
    case END_KILLED_SEIZED:
        break;
    }
    char ok = 'R';
    write_full(ready_fd, &ok, 1);
    for (;;)
        pause(); /* the parent's SIGKILL ends it */
}

/* Runs one session to the given end; returns the child's pid. */
static pid_t run_session(const session_opts_t *s, ending_t how)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        session_child(s, how, fds[1]);
        _exit(112);
    }
    close(fds[1]);
    int status;
    if (how == END_BY_STOP || how == END_BY_EXIT || how == END_BY_CRASH) {
        status = wait_child(pid, CHILD_TIMEOUT_MS);
        close(fds[0]);
        if (how == END_BY_CRASH)
            cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                      "the crashing child did not die of SIGSEGV: status 0x%x", status);
        else
            cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "session child failed: status 0x%x", status);
        return pid;
    }
    char ready;
    int got = read_full(fds[0], &ready, 1);
    close(fds[0]);
    if (got != 0) {
        status = wait_child(pid, CHILD_TIMEOUT_MS);
        cr_assert_fail("session child ended before it was ready: status 0x%x", status);
    }
    if (how == END_KILLED_SEIZED) {
        /* a real tracer, attached mid-session: the sampler's periodic check
         * (every 5 s, journal.c DEBUGGER_CHECK_NS) must see it */
        cr_assert_eq(ptrace(PTRACE_SEIZE, pid, NULL, NULL), 0, "PTRACE_SEIZE: %s", strerror(errno));
        memgauge__record_view_t v;
        int seen = 0;
        for (int i = 0; i < 400 && !seen; i++) {
            sleep_us(25000);
            seen = parse_record(s->dir, &v, NULL, 0, NULL) == MEMGAUGE__RECORD_OK &&
                   v.body.debugger == 1;
        }
        if (!seen) {
            kill(pid, SIGKILL);
            wait_child(pid, CHILD_TIMEOUT_MS);
            cr_assert_fail("the record never showed the tracer within 10 s");
        }
    }
    cr_assert_eq(kill(pid, SIGKILL), 0);
    status = wait_child(pid, CHILD_TIMEOUT_MS);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child was not SIGKILLed: status 0x%x", status);
    return pid;
}

static session_opts_t opts_for(const char *dir, const char *version)
{
    return (session_opts_t){
        .dir = dir, .version = version, .build = "100", .interval_ms = 20, .trail_seconds = 5};
}

/* The previous session as the next start tells it, checked against the
 * record the session left (same session id, pid and sample count). */
static diagnosis_t diagnose_after(const session_opts_t *next, pid_t previous_pid)
{
    memgauge__record_view_t v;
    cr_assert_eq(parse_record(next->dir, &v, NULL, 0, NULL), MEMGAUGE__RECORD_OK,
                 "the session left no whole record");
    static diagnosis_t d;
    diagnose_in_child(next, &d);
    char id[40];
    uuid_text(v.body.session_id, id);
    cr_assert_str_eq(d.p.session_id, id, "diagnosed another session");
    cr_assert_eq(d.p.pid, (uint64_t)previous_pid);
    cr_assert_geq(d.p.samples, 3, "the session took %llu samples, at least 3 before it ended",
                  (unsigned long long)d.p.samples);
    return d;
}

static void assert_verdict(const diagnosis_t *d, int verdict)
{
    cr_assert_eq(d->p.verdict, verdict, "verdict %s (%d), expected %s (%d)",
                 memgauge_end_name(d->p.verdict), d->p.verdict, memgauge_end_name(verdict),
                 verdict);
    cr_assert_eq(d->p.confidence, MEMGAUGE_CONFIDENCE_NONE,
                 "an eliminated session has confidence none, not %s",
                 memgauge_confidence_name(d->p.confidence));
}

static void assert_killed_verdict(const diagnosis_t *d)
{
    /* nothing eliminates it: an OOM suspect, or unexplained with memory to spare */
    cr_assert(d->p.verdict == MEMGAUGE_END_SUSPECTED_OOM ||
                  d->p.verdict == MEMGAUGE_END_UNEXPLAINED,
              "a plain kill read as %s", memgauge_end_name(d->p.verdict));
}

Test(session_end, memgauge_stop_reads_as_clean_stop)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-stop");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_BY_STOP);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_CLEAN_STOP);
}

Test(session_end, exit_without_stop_reads_as_exit)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-exit");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_BY_EXIT);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_EXIT);
}

Test(session_end, crash_noted_by_a_signal_handler_reads_as_crash_with_its_signal)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-crash");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_BY_CRASH);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_CRASH);
    cr_assert_eq(d.p.crash_signal, SIGSEGV);
}

Test(session_end, crash_noted_then_sigkill_reads_as_crash)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-note");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_AFTER_NOTE);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_CRASH);
    cr_assert_eq(d.p.crash_signal, SIGABRT);
}

Test(session_end, sigkill_with_plenty_of_memory_left_is_unexplained_never_an_oom)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-kill");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_killed_verdict(&d);
    cr_assert_gt(d.p.trail_count, 0, "a killed session leaves its trail");
    /* The child held a few MiB on a machine with gigabytes available (with
     * or without a cgroup limit): the kernel said so, and a kill then is no
     * OOM. */
    cr_assert_gt(d.p.available_bytes, 0, "the kernel reported no available memory");
    cr_assert_gt(d.p.headroom_ppm, 500000,
                 "only %u ppm headroom at the end: this test needs "
                 "memory to spare",
                 d.p.headroom_ppm);
    cr_assert_eq(d.p.verdict, MEMGAUGE_END_UNEXPLAINED,
                 "a kill with %llu bytes available (limit %llu) read as %s/%s, evidence %#x",
                 (unsigned long long)d.p.available_bytes, (unsigned long long)d.p.limit_bytes,
                 memgauge_end_name(d.p.verdict), memgauge_confidence_name(d.p.confidence),
                 d.p.evidence);
    cr_assert_eq(d.p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(session_end, sigkill_in_the_background_reads_as_background_kill)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-bg");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_IN_BG);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_BACKGROUND_KILL);
    cr_assert_eq(d.p.app_state, MEMGAUGE_APP_BACKGROUND);
}

Test(session_end, sigkill_during_a_hang_reads_as_hang_kill)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-hang");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_HUNG);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_HANG_KILL);
}

Test(session_end, sigkill_after_a_hang_ended_is_not_a_hang_kill)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-hangover");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_AFTER_HANG);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_killed_verdict(&d);
}

Test(session_end, new_app_version_reads_as_app_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-upgrade");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    session_opts_t next = opts_for(dir, "1.1");
    diagnosis_t d = diagnose_after(&next, pid);
    assert_verdict(&d, MEMGAUGE_END_APP_UPGRADED);
    cr_assert_str_eq(d.p.app_version, "1.0");
}

Test(session_end, new_app_build_reads_as_app_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-build");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    session_opts_t next = s;
    next.build = "101";
    diagnosis_t d = diagnose_after(&next, pid);
    assert_verdict(&d, MEMGAUGE_END_APP_UPGRADED);
    cr_assert_str_eq(d.p.app_build, "100");
}

Test(session_end, tracer_attached_before_start_reads_as_debugger)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-traced");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_TRACED);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_DEBUGGER);
}

Test(session_end, tracer_attached_mid_session_reads_as_debugger, .timeout = 60)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-seized");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED_SEIZED);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_DEBUGGER);
}

/* A reboot or an OS upgrade cannot be produced inside a test, so the killed
 * session's record is rewritten with the value the previous boot or OS would
 * have left: parsed, one field changed, and written back through the
 * record's own writer (same markers, same trail, a valid slot). */
static void rewrite_record(const char *dir, void (*edit)(memgauge__record_body_t *))
{
    enum { CAP = 4096 };
    static memgauge__trail_entry_t trail[CAP];
    memgauge__record_view_t v;
    size_t len = 0;
    cr_assert_eq(parse_record(dir, &v, trail, CAP, &len), MEMGAUGE__RECORD_OK);
    size_t entry = sizeof(memgauge__trail_entry_t);
    uint32_t capacity = (uint32_t)((len - memgauge__record_size(0)) / entry);
    cr_assert_eq(memgauge__record_size(capacity), len, "not a whole number of trail entries");
    edit(&v.body);
    char path[600];
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    memgauge__record_t r;
    cr_assert_eq(memgauge__record_create(&r, path, capacity, &v.body), 0, "record_create: %s",
                 strerror(errno));
    for (size_t i = 0; i < v.trail_count; i++)
        memgauge__record_update(&r, &v.body, &trail[i]);
    for (int m = 0; m < MEMGAUGE__MARK_COUNT; m++) {
        uint32_t payload;
        if (memgauge__record_marker(&v, m, &payload))
            memgauge__record_mark(r.markers, m, payload);
    }
    memgauge__record_close(&r);
}

static void other_os(memgauge__record_body_t *b)
{
    cr_assert_neq(b->os_version[0], '\0', "the platform reported no OS version");
    snprintf(b->os_version, sizeof b->os_version, "Linux 0.0.1-previous-os");
}

static void other_boot(memgauge__record_body_t *b)
{
    cr_assert_neq(b->boot_id[0], '\0', "the platform reported no boot id");
    snprintf(b->boot_id, sizeof b->boot_id, "00000000-0000-4000-8000-000000000000");
}

Test(session_end, other_os_version_in_the_record_reads_as_os_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-os");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    rewrite_record(dir, other_os);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_OS_UPGRADED);
    cr_assert_str_eq(d.p.os_version, "Linux 0.0.1-previous-os");
}

Test(session_end, other_boot_id_in_the_record_reads_as_reboot)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-boot");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    rewrite_record(dir, other_boot);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_REBOOT);
}

/* ---- SIGKILL at random moments --------------------------------------------- */

#define RANDOM_KILLS 200
#define RANDOM_KILL_MAX_US 50000u
#define KILL_INTERVAL_MS 10u
#define KILL_TRAIL_SECONDS 1u
#define KILL_ALLOC_CHUNK (256u * 1024u)
#define KILL_ALLOC_CHUNKS 128 /* 32 MiB, then freed and again */

/* A sampling app that allocates until it is killed; it says when its
 * memgauge_start has returned. */
static void allocating_child(const session_opts_t *s, int started_fd)
{
    memgauge_t *h = child_start(s);
    (void)h;
    char ok = 'S';
    write_full(started_fd, &ok, 1);
    static char *chunks[KILL_ALLOC_CHUNKS];
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < KILL_ALLOC_CHUNKS; i++) {
            chunks[i] = malloc(KILL_ALLOC_CHUNK);
            if (chunks[i] != NULL)
                memset(chunks[i], round + i, KILL_ALLOC_CHUNK);
        }
        for (int i = 0; i < KILL_ALLOC_CHUNKS; i++)
            free(chunks[i]);
    }
    _exit(111); /* never reached within the parent's 50 ms */
}

typedef struct kill_tally_s {
    int absent;         /* killed before the record existed */
    int whole;          /* a whole record */
    int with_samples;   /* ... holding at least one sample */
    int newest_in_slot; /* the trail's newest entry was the slot's sample */
    int newest_ahead;   /* the trail's newest entry was one sample ahead of the slot */
    uint64_t max_samples;
} kill_tally_t;

/* Checks one killed child's record; returns 1 when it exists. */
static int check_killed_record(const char *dir, pid_t pid, int started, uint64_t fork_ns,
                               uint64_t kill_ns, int round, kill_tally_t *t)
{
    enum { CAP = 2048 };
    static memgauge__trail_entry_t trail[CAP];
    memgauge__record_view_t v;
    size_t len = 0;
    int rc = parse_record(dir, &v, trail, CAP, &len);
    if (rc < 0) {
        cr_assert(!started, "round %d: memgauge_start returned but no record exists", round);
        t->absent++;
        return 0;
    }
    cr_assert_eq(rc, MEMGAUGE__RECORD_OK, "round %d: the record was read as torn (parse %d)", round,
                 rc);
    t->whole++;
    const memgauge__record_body_t *b = &v.body;
    uint32_t capacity =
        (uint32_t)((len - memgauge__record_size(0)) / sizeof(memgauge__trail_entry_t));
    cr_assert_eq(b->pid, (uint64_t)pid, "round %d: another process's record", round);
    cr_assert_str_eq(b->app_id, APP_ID);
    cr_assert_str_eq(b->app_version, "7.0");
    /* the slot's sequence and its body were written together */
    cr_assert_eq(v.slot_seq, b->samples + 1, "round %d: slot %llu holds samples=%llu", round,
                 (unsigned long long)v.slot_seq, (unsigned long long)b->samples);
    cr_assert(b->start_wall_ns >= fork_ns && b->start_wall_ns <= b->last_wall_ns &&
                  b->last_wall_ns <= kill_ns,
              "round %d: times out of order: fork %llu start %llu last %llu kill %llu", round,
              (unsigned long long)fork_ns, (unsigned long long)b->start_wall_ns,
              (unsigned long long)b->last_wall_ns, (unsigned long long)kill_ns);
    cr_assert(!memgauge__record_marker(&v, MEMGAUGE__MARK_CLEAN_STOP, NULL) &&
                  !memgauge__record_marker(&v, MEMGAUGE__MARK_EXIT, NULL) &&
                  !memgauge__record_marker(&v, MEMGAUGE__MARK_CRASH, NULL),
              "round %d: a killed session carries an end marker", round);
    cr_assert_leq(v.trail_count, capacity);
    uint64_t prev_seq = 0, prev_wall = b->start_wall_ns;
    for (size_t i = 0; i < v.trail_count; i++) {
        const memgauge__trail_entry_t *e = &trail[i];
        cr_assert_gt(e->seq, prev_seq, "round %d: trail seqs not strictly increasing", round);
        cr_assert_leq(e->seq, b->samples + 1,
                      "round %d: trail entry %llu is more than one ahead of samples=%llu", round,
                      (unsigned long long)e->seq, (unsigned long long)b->samples);
        cr_assert(e->wall_ns >= prev_wall && e->wall_ns <= kill_ns,
                  "round %d: trail entry %llu at %llu outside [%llu, %llu]", round,
                  (unsigned long long)e->seq, (unsigned long long)e->wall_ns,
                  (unsigned long long)prev_wall, (unsigned long long)kill_ns);
        cr_assert(e->footprint > 0 && e->footprint < 4096 * MIB && e->resident >= MIB,
                  "round %d: implausible trail entry: footprint %llu resident %llu", round,
                  (unsigned long long)e->footprint, (unsigned long long)e->resident);
        prev_seq = e->seq;
        prev_wall = e->wall_ns;
    }
    if (b->samples > 0) {
        t->with_samples++;
        /* every sample up to the slot's is in the trail; the one after it
         * only if its entry was whole when the kill came */
        uint64_t expect = b->samples < capacity - 1 ? b->samples : capacity - 1;
        cr_assert_geq(v.trail_count, expect, "round %d: %zu trail entries for %llu samples", round,
                      v.trail_count, (unsigned long long)b->samples);
        uint64_t newest = trail[v.trail_count - 1].seq;
        cr_assert(newest == b->samples || newest == b->samples + 1,
                  "round %d: newest trail entry %llu for samples=%llu", round,
                  (unsigned long long)newest, (unsigned long long)b->samples);
        if (newest == b->samples)
            t->newest_in_slot++;
        else
            t->newest_ahead++;
        if (b->samples > t->max_samples)
            t->max_samples = b->samples;
    }
    return 1;
}

Test(random_kill, sigkill_at_random_moments_never_leaves_a_torn_or_clean_record, .timeout = 180)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "randkill");
    session_opts_t s = {.dir = dir,
                        .version = "7.0",
                        .build = "1",
                        .interval_ms = KILL_INTERVAL_MS,
                        .trail_seconds = KILL_TRAIL_SECONDS};
    unsigned seed = (unsigned)wall_ns();
    const char *env = getenv("MEMGAUGE_KILL_SEED");
    if (env != NULL)
        seed = (unsigned)strtoul(env, NULL, 10);
    fprintf(stderr, "random_kill: seed %u (set MEMGAUGE_KILL_SEED to repeat)\n", seed);
    kill_tally_t t;
    memset(&t, 0, sizeof t);
    for (int round = 0; round < RANDOM_KILLS; round++) {
        clear_dir(dir);
        int fds[2];
        cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
        uint64_t delay_us = (uint64_t)rand_r(&seed) % (RANDOM_KILL_MAX_US + 1);
        uint64_t fork_ns = wall_ns();
        fflush(NULL);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            allocating_child(&s, fds[1]);
        }
        close(fds[1]);
        sleep_us(delay_us);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status = wait_child(pid, CHILD_TIMEOUT_MS);
        uint64_t kill_ns = wall_ns();
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "round %d: the child ended on its own before the kill: status 0x%x", round,
                  status);
        char started = 0;
        int got = (int)read(fds[0], &started, 1);
        close(fds[0]);
        int exists =
            check_killed_record(dir, pid, got == 1 && started == 'S', fork_ns, kill_ns, round, &t);

        static diagnosis_t d;
        diagnose_in_child(&s, &d);
        cr_assert(d.p.verdict != MEMGAUGE_END_CLEAN_STOP && d.p.verdict != MEMGAUGE_END_EXIT,
                  "round %d (kill after %llu us): a killed session read as %s", round,
                  (unsigned long long)delay_us, memgauge_end_name(d.p.verdict));
        if (!exists)
            cr_assert_eq(d.p.verdict, MEMGAUGE_END_NONE, "round %d: no record, yet verdict %s",
                         round, memgauge_end_name(d.p.verdict));
        else
            assert_killed_verdict(&d);
    }
    fprintf(stderr,
            "random_kill: %d kills: %d whole records (%d with samples, up to %llu; newest trail "
            "entry = slot's sample %d, one ahead %d), %d killed before the record existed\n",
            RANDOM_KILLS, t.whole, t.with_samples, (unsigned long long)t.max_samples,
            t.newest_in_slot, t.newest_ahead, t.absent);
    cr_assert_eq(t.whole + t.absent, RANDOM_KILLS);
    /* the kills must land in the sampling, not only before it */
    cr_assert_geq(t.with_samples, RANDOM_KILLS / 4, "only %d of %d kills came after a sample",
                  t.with_samples, RANDOM_KILLS);
}

/* ---- torn writes, byte by byte --------------------------------------------- */

#define TEAR_TRAIL 4u
#define TEAR_UPDATES 12u
#define TEAR_IMAGE_MAX 16384u /* bytes of a record with TEAR_TRAIL entries, and more */

/* A session body unlike the one before it in every byte. */
static void tear_body(memgauge__record_body_t *b, uint64_t k)
{
    memset(b, (int)(0x21 + 7 * k), sizeof *b);
    b->samples = k;
    b->pid = 4242;
    b->app_id[sizeof b->app_id - 1] = '\0';
    b->app_version[sizeof b->app_version - 1] = '\0';
    b->app_build[sizeof b->app_build - 1] = '\0';
    b->sdk_version[sizeof b->sdk_version - 1] = '\0';
    b->boot_id[sizeof b->boot_id - 1] = '\0';
    b->os_version[sizeof b->os_version - 1] = '\0';
    b->build_id[sizeof b->build_id - 1] = '\0';
    b->device_model[sizeof b->device_model - 1] = '\0';
    b->os_build[sizeof b->os_build - 1] = '\0';
}

static void tear_entry(memgauge__trail_entry_t *e, uint64_t k)
{
    memset(e, (int)(0x5A + 13 * k), sizeof *e);
    e->seq = k;
    e->check = 0; /* the writer computes it */
}

/* Offsets where two images differ, ascending. */
static size_t diff_offsets(const unsigned char *a, const unsigned char *b, size_t len, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            out[n++] = i;
    return n;
}

/* Parses every image between `old` and `now` that a writer killed after
 * `applied` of the changed bytes (in the given order) could leave, and checks
 * that what is read is wholly one state or wholly the other. */
static void check_tears(const unsigned char *old, const unsigned char *now, size_t len,
                        const memgauge__record_body_t *old_body,
                        const memgauge__record_body_t *new_body,
                        const memgauge__trail_entry_t *written, uint64_t update, int descending)
{
    static size_t off[TEAR_IMAGE_MAX];
    static unsigned char torn[TEAR_IMAGE_MAX];
    cr_assert_leq(len, TEAR_IMAGE_MAX);
    size_t n = diff_offsets(old, now, len, off);
    cr_assert_gt(n, sizeof *new_body / 2, "update %llu changed only %zu bytes",
                 (unsigned long long)update, n);
    /* the slots lie before the trail: memgauge__record_size(0) is where it starts */
    size_t slot_bytes = 0;
    while (slot_bytes < n && off[slot_bytes] < memgauge__record_size(0))
        slot_bytes++;
    memgauge__trail_entry_t trail[TEAR_TRAIL + 2];
    for (size_t applied = 0; applied <= n; applied++) {
        memcpy(torn, old, len);
        for (size_t i = 0; i < applied; i++) {
            size_t o = descending ? off[n - 1 - i] : off[i];
            torn[o] = now[o];
        }
        /* the new state is whole once every byte of its slot is there */
        int slot_whole = descending ? applied == n : applied >= slot_bytes;
        memgauge__record_view_t v;
        int rc = memgauge__record_parse(torn, len, &v, trail, TEAR_TRAIL + 2);
        cr_assert_eq(rc, MEMGAUGE__RECORD_OK,
                     "update %llu torn after %zu of %zu changed bytes (%s): parse %d, expected "
                     "the older whole slot",
                     (unsigned long long)update, applied, n,
                     descending ? "descending" : "ascending", rc);
        const memgauge__record_body_t *want = slot_whole ? new_body : old_body;
        cr_assert(memcmp(&v.body, want, sizeof *want) == 0,
                  "update %llu torn after %zu of %zu changed bytes (%s): read a body that is "
                  "not the %s whole state (samples=%llu)",
                  (unsigned long long)update, applied, n, descending ? "descending" : "ascending",
                  slot_whole ? "new" : "old", (unsigned long long)v.body.samples);
        uint64_t prev = 0;
        for (size_t i = 0; i < v.trail_count; i++) {
            cr_assert_gt(trail[i].seq, prev);
            cr_assert_leq(trail[i].seq, update);
            cr_assert(memcmp(&trail[i], &written[trail[i].seq],
                             offsetof(memgauge__trail_entry_t, check)) == 0,
                      "update %llu torn after %zu bytes: trail entry %llu is not as written",
                      (unsigned long long)update, applied, (unsigned long long)trail[i].seq);
            prev = trail[i].seq;
        }
    }
}

/* Drives a record through updates first_update .. last_update (the first
 * update is the record's second write) and tears each of them. */
static void tear_updates(uint64_t first_update, uint64_t last_update)
{
    char dir[128], path[600];
    fresh_dir(dir, sizeof dir, "tear");
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    static memgauge__trail_entry_t written[TEAR_UPDATES + 1];
    memgauge__record_body_t body, next;
    tear_body(&body, 0);
    memgauge__record_t r;
    cr_assert_eq(memgauge__record_create(&r, path, TEAR_TRAIL, &body), 0, "record_create: %s",
                 strerror(errno));
    cr_assert_eq(r.size, memgauge__record_size(TEAR_TRAIL));
    static unsigned char old[TEAR_IMAGE_MAX];
    cr_assert_leq(r.size, TEAR_IMAGE_MAX);
    for (uint64_t k = 1; k <= last_update; k++) {
        memcpy(old, r.map, r.size);
        tear_body(&next, k);
        tear_entry(&written[k], k);
        memgauge__record_update(&r, &next, &written[k]);
        if (k >= first_update) {
            check_tears(old, r.map, r.size, &body, &next, written, k, 0);
            check_tears(old, r.map, r.size, &body, &next, written, k, 1);
        }
        body = next;
    }
    memgauge__record_close(&r);
}

Test(record_tear, update_torn_at_any_byte_reads_as_the_older_whole_state)
{
    /* the second update onward, past the point where the 4-entry trail wraps */
    tear_updates(2, TEAR_UPDATES);
}

Test(record_tear, first_update_torn_at_any_byte_reads_as_the_created_state)
{
    /* the first sample's update must not overwrite the only whole slot */
    tear_updates(1, 1);
}

/* A whole, valid slot from a damaged or hostile writer: the reader must still
 * finish (it walks trail sequence numbers from the slot's sample count). */
Test(record_tear, parse_terminates_when_the_slot_claims_the_highest_sample_numbers, .timeout = 20)
{
    char dir[128], path[600];
    fresh_dir(dir, sizeof dir, "tear-top");
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    const uint64_t claims[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - TEAR_TRAIL};
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        memgauge__record_body_t body;
        tear_body(&body, 1);
        body.samples = claims[i];
        memgauge__record_t r;
        cr_assert_eq(memgauge__record_create(&r, path, TEAR_TRAIL, &body), 0);
        memgauge__trail_entry_t e;
        tear_entry(&e, 1);
        memgauge__record_update(&r, &body, &e); /* one real entry, seq 1 */
        memgauge__record_close(&r);
        size_t len;
        unsigned char *buf = read_all(path, &len);
        cr_assert_not_null(buf);
        memgauge__record_view_t v;
        memgauge__trail_entry_t trail[TEAR_TRAIL + 1];
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            alarm(5);
            int rc = memgauge__record_parse(buf, len, &v, trail, TEAR_TRAIL + 1);
            _exit(rc == MEMGAUGE__RECORD_OK ? 0 : 1);
        }
        int status = wait_child(pid, CHILD_TIMEOUT_MS);
        free(buf);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "memgauge__record_parse did not finish within 5 s for samples=%llu (status "
                  "0x%x: %s)",
                  (unsigned long long)claims[i], status,
                  WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
    }
}
