/*
 * How often is the next launch right about how a session ended?
 *
 * Every way a session can end that this machine can produce, N times each,
 * on the real kernel: the kernel's OOM kill in a memory cgroup (a fast leak,
 * a slow leak, a spike between two samples), SIGKILL with plenty left,
 * SIGKILL while memory is tight but not at the limit, SIGTERM, abort() and
 * SIGSEGV with the crash note, exit(), memgauge_stop, a kill in the
 * background, a kill while hung, and an app upgrade. A session is a forked
 * child running the SDK as an app would; the judge is the next launch (a
 * second child in the same cgroup and state directory) reading
 * memgauge_previous_session.
 *
 * Prints the confusion matrix (true end x verdict) and the precision and
 * recall of suspected_oom, counting only medium and high confidence as the
 * headline does: precision over every end, recall over the kernel's OOM
 * kills. Targets: precision 1.0, recall >= 0.95.
 *
 *   bench/verdicts [--runs N] [--quick] [--only NAME]
 *
 * Needs root and a memory cgroup (v1 or v2) for the OOM and tight cases;
 * without one they are reported as not run, never replaced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "support/kernel.h"
#include "support/support.h"

#define MIB (UINT64_C(1) << 20)
#define INTERVAL_MS 50u
#define CGROUP_LIMIT (128 * MIB)
#define CHILD_TIMEOUT_MS 30000u

typedef enum end_e {
    OOM_FAST,
    OOM_SLOW,
    OOM_SPIKE,
    KILL_PLENTY,
    KILL_TIGHT,
    TERM,
    ABORT,
    SEGV,
    EXIT,
    STOP,
    BACKGROUND,
    HANG,
    UPGRADE,
    END_COUNT
} end_t;

typedef struct scenario_s {
    const char *name;
    const char *what;
    int kernel_oom; /* the kernel's OOM killer ends it: a true OOM */
    int cgroup;     /* runs in a CGROUP_LIMIT memory cgroup */
    uint64_t hold;  /* bytes held from before start */
} scenario_t;

static const scenario_t scenarios[END_COUNT] = {
    [OOM_FAST] = {"oom_fast_leak", "kernel OOM kill, 64 MiB/s leak", 1, 1, 32 * MIB},
    [OOM_SLOW] = {"oom_slow_leak", "kernel OOM kill, 4 MiB/s leak", 1, 1, 96 * MIB},
    [OOM_SPIKE] = {"oom_spike", "kernel OOM kill, 256 MiB spike between samples", 1, 1, 32 * MIB},
    [KILL_PLENTY] = {"sigkill_plenty", "SIGKILL with plenty left (no cgroup)", 0, 0, 32 * MIB},
    [KILL_TIGHT] = {"sigkill_tight", "SIGKILL at 80 % of the cgroup limit, flat", 0, 1, 102 * MIB},
    [TERM] = {"sigterm", "SIGTERM, default action", 0, 0, 32 * MIB},
    [ABORT] = {"abort", "abort() with the crash note", 0, 0, 32 * MIB},
    [SEGV] = {"sigsegv", "SIGSEGV with the crash note", 0, 0, 32 * MIB},
    [EXIT] = {"exit", "exit() without memgauge_stop", 0, 0, 32 * MIB},
    [STOP] = {"clean_stop", "memgauge_stop", 0, 0, 32 * MIB},
    [BACKGROUND] = {"background_kill", "SIGKILL in the background", 0, 0, 32 * MIB},
    [HANG] = {"hang_kill", "SIGKILL while hung", 0, 0, 32 * MIB},
    [UPGRADE] = {"app_upgrade", "SIGKILL, next launch is a new version", 0, 0, 32 * MIB},
};

/* Columns of the matrix. */
enum { V_OOM_STRONG, V_OOM_LOW, V_UNEXPLAINED, V_OTHER_BASE };
#define VERDICTS 16

static char *touch(uint64_t bytes)
{
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(90);
    for (uint64_t off = 0; off < bytes; off += 4096)
        p[off] = 1;
    return p;
}

static void join_cgroup(const mg_cgroup_t *cg)
{
    if (cg == NULL)
        return;
    int fd = open(cg->procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1)
        _exit(91);
    close(fd);
}

static memgauge_t *start(const char *dir, const char *version)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = INTERVAL_MS;
    o.window_ms = INTERVAL_MS * 20;
    o.fast_interval_ms = INTERVAL_MS;
    o.storage_dir = dir;
    o.app_id = "memgauge-verdicts";
    o.app_version = version;
    o.app_build = "1";
    o.trail_seconds = 10;
    memgauge_t *h = NULL;
    if (memgauge_start(&o, &h) != MEMGAUGE_OK)
        _exit(92);
    return h;
}

static void wait_samples(memgauge_t *h, uint64_t n)
{
    for (int i = 0; i < 2000; i++) {
        memgauge_stats_t st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        if (memgauge_get_stats(h, &st) == MEMGAUGE_OK && st.samples >= n)
            return;
        mg_sleep_ms(5);
    }
    _exit(93);
}

static void on_crash(int signo)
{
    memgauge_note_crash(signo);
    raise(signo); /* SA_RESETHAND: the default action ends the process */
}

static void crash_handler(int signo)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
    sigaction(signo, &sa, NULL);
}

/* The session: runs as an app would and ends as `e` says. Tells the parent
 * through `ready_fd` when it is ready to be killed. */
static void session(end_t e, const char *dir, const mg_cgroup_t *cg, int ready_fd)
{
    join_cgroup(cg);
    touch(scenarios[e].hold);
    memgauge_t *h = start(dir, "1.0");
    if (e == BACKGROUND)
        memgauge_set_app_state(MEMGAUGE_APP_BACKGROUND);
    else
        memgauge_set_app_state(MEMGAUGE_APP_ACTIVE);
    wait_samples(h, 20); /* a second of a flat trail */
    switch (e) {
    case OOM_FAST:
        for (;;) {
            touch(4 * MIB);
            mg_sleep_ms(62);
        }
    case OOM_SLOW:
        for (;;) {
            touch(MIB);
            mg_sleep_ms(250);
        }
    case OOM_SPIKE:
        /* within one interval: the samples never see it */
        touch(256 * MIB);
        _exit(94);
    case ABORT:
        crash_handler(SIGABRT);
        abort();
    case SEGV:
        crash_handler(SIGSEGV);
        raise(SIGSEGV); /* as a bad access would, through the handler */
        _exit(95);
    case EXIT:
        exit(0);
    case STOP:
        memgauge_stop(h, 2000);
        _exit(0);
    case HANG:
        memgauge_hang_begin();
        break;
    default:
        break;
    }
    char ok = 'R';
    if (write(ready_fd, &ok, 1) != 1)
        _exit(96);
    for (;;)
        pause();
}

typedef struct judged_s {
    int32_t verdict, confidence;
    uint32_t evidence;
} judged_t;

/* The next launch, in the same cgroup: what does it say? */
static void judge(end_t e, const char *dir, const mg_cgroup_t *cg, int out_fd)
{
    join_cgroup(cg);
    memgauge_t *h = start(dir, e == UPGRADE ? "1.1" : "1.0");
    memgauge_previous_session_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    memgauge_previous_session(h, &p);
    judged_t j = {p.verdict, p.confidence, p.evidence};
    memgauge_stop(h, 1000);
    if (write(out_fd, &j, sizeof j) != (ssize_t)sizeof j)
        _exit(97);
    _exit(0);
}

static int wait_for(pid_t pid, uint32_t timeout_ms)
{
    int status = 0;
    for (uint32_t waited = 0; waited < timeout_ms; waited += 5) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        mg_sleep_ms(5);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void remove_tree(const char *dir)
{
    if (mg_remove_tree(dir) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* One run of one end; returns the judged verdict or -1 (with a note). */
static int run_one(end_t e, const mg_cgroup_t *cg, judged_t *out)
{
    char dir[128];
    snprintf(dir, sizeof dir, "/var/tmp/memgauge-verdicts-%d", (int)getpid());
    remove_tree(dir);
    if (mkdir(dir, 0700) != 0)
        return -1;
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        session(e, dir, cg, ready[1]);
        _exit(98);
    }
    close(ready[1]);
    int status;
    if (scenarios[e].kernel_oom || e == ABORT || e == SEGV || e == EXIT || e == STOP) {
        status = wait_for(pid, CHILD_TIMEOUT_MS);
    } else {
        char c;
        ssize_t n = read(ready[0], &c, 1);
        kill(pid, n == 1 ? (e == TERM ? SIGTERM : SIGKILL) : SIGKILL);
        status = wait_for(pid, CHILD_TIMEOUT_MS);
        if (n != 1)
            status = -1;
    }
    close(ready[0]);
    int expect_sig = scenarios[e].kernel_oom || e == TERM ? (e == TERM ? SIGTERM : SIGKILL)
                     : e == ABORT                         ? SIGABRT
                     : e == SEGV                          ? SIGSEGV
                     : e == EXIT || e == STOP             ? 0
                                                          : SIGKILL;
    int as_planned =
        status != -1 && (expect_sig == 0 ? WIFEXITED(status) && !WEXITSTATUS(status)
                                         : WIFSIGNALED(status) && WTERMSIG(status) == expect_sig);
    if (!as_planned) {
        fprintf(stderr, "%s: the session did not end as planned (status %#x)\n", scenarios[e].name,
                (unsigned)status);
        remove_tree(dir);
        return -1;
    }
    int res[2];
    if (pipe(res) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        close(res[0]);
        judge(e, dir, cg, res[1]);
    }
    close(res[1]);
    ssize_t n = read(res[0], out, sizeof *out);
    close(res[0]);
    wait_for(pid, CHILD_TIMEOUT_MS);
    remove_tree(dir);
    return n == (ssize_t)sizeof *out ? 0 : -1;
}

static int column(const judged_t *j)
{
    if (j->verdict == MEMGAUGE_END_SUSPECTED_OOM)
        return j->confidence >= MEMGAUGE_CONFIDENCE_MEDIUM ? V_OOM_STRONG : V_OOM_LOW;
    if (j->verdict == MEMGAUGE_END_UNEXPLAINED)
        return V_UNEXPLAINED;
    int c = V_OTHER_BASE + j->verdict;
    return c < VERDICTS ? c : VERDICTS - 1;
}

static const char *column_name(int c)
{
    switch (c) {
    case V_OOM_STRONG:
        return "oom med/high";
    case V_OOM_LOW:
        return "oom low";
    case V_UNEXPLAINED:
        return "unexplained";
    default:
        return memgauge_end_name(c - V_OTHER_BASE);
    }
}

int main(int argc, char **argv)
{
    int runs = 20, only = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            runs = 1;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            const char *name = argv[++i];
            for (int e = 0; e < END_COUNT; e++)
                if (strcmp(scenarios[e].name, name) == 0)
                    only = e;
            if (only < 0) {
                fprintf(stderr, "verdicts: --only: no end named '%s'\n", name);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: verdicts [--runs N] [--quick] [--only NAME]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 10000) {
        fprintf(stderr, "verdicts: --runs must be 1..10000\n");
        return 2;
    }
    static int matrix[END_COUNT][VERDICTS];
    int failed[END_COUNT] = {0}, not_run[END_COUNT] = {0};
    char why[700] = "";
    int used_columns[VERDICTS] = {0};
    printf("verdicts: %d run(s) of each end, %u ms sampling, cgroup limit %llu MiB\n", runs,
           INTERVAL_MS, (unsigned long long)(CGROUP_LIMIT / MIB));
    for (int e = 0; e < END_COUNT; e++) {
        if (only >= 0 && e != only)
            continue;
        for (int r = 0; r < runs; r++) {
            mg_cgroup_t cg, *cgp = NULL;
            if (scenarios[e].cgroup) {
                if (mg_cgroup_make(&cg, "memgauge-verdicts", CGROUP_LIMIT, why, sizeof why) != 0) {
                    not_run[e] = runs;
                    break;
                }
                cgp = &cg;
            }
            judged_t j;
            if (run_one((end_t)e, cgp, &j) == 0) {
                int c = column(&j);
                matrix[e][c]++;
                used_columns[c] = 1;
            } else {
                failed[e]++;
            }
            if (cgp)
                mg_cgroup_remove(cgp);
        }
        fprintf(stderr, "  %-16s done\n", scenarios[e].name);
    }

    /* the matrix */
    printf("\n%-18s", "true end \\ verdict");
    for (int c = 0; c < VERDICTS; c++)
        if (used_columns[c])
            printf(" %13s", column_name(c));
    printf(" %8s\n", "not run");
    long tp = 0, fp = 0, fn = 0, oom_total = 0;
    for (int e = 0; e < END_COUNT; e++) {
        if (only >= 0 && e != only)
            continue;
        printf("%-18s", scenarios[e].name);
        for (int c = 0; c < VERDICTS; c++)
            if (used_columns[c])
                printf(" %13d", matrix[e][c]);
        printf(" %8d\n", failed[e] + not_run[e]);
        int strong = matrix[e][V_OOM_STRONG];
        int judged = 0;
        for (int c = 0; c < VERDICTS; c++)
            judged += matrix[e][c];
        if (scenarios[e].kernel_oom) {
            tp += strong;
            fn += judged - strong;
            oom_total += judged;
        } else {
            fp += strong;
        }
    }
    int any_not_run = 0;
    for (int e = 0; e < END_COUNT; e++)
        if (not_run[e]) {
            printf("not run: %s (%s)\n", scenarios[e].name, why);
            any_not_run = 1;
        }
    double precision = tp + fp ? (double)tp / (double)(tp + fp) : 1.0;
    double recall = oom_total ? (double)tp / (double)oom_total : 0.0;
    printf("\nsuspected_oom (medium/high): precision %.3f (%ld of %ld), target 1.0: %s\n",
           precision, tp, tp + fp, fp == 0 ? "PASS" : "MISS");
    if (oom_total)
        printf("kernel OOM kills: recall %.3f (%ld of %ld), target 0.95: %s\n", recall, tp,
               oom_total, recall >= 0.95 ? "PASS" : "MISS");
    else
        printf("kernel OOM kills: not run (%s)\n", any_not_run ? why : "none selected");
    return 0;
}
