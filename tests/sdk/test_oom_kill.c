/*
 * A real OOM kill, told by the next start: the real sample app leaks in a
 * memory cgroup until the kernel kills it, and its next run reads the
 * session as a suspected OOM whose trail ends at the limit, just before the
 * kill.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "session_child.h"
#include "support/kernel.h"
#include "support/support.h"

TestSuite(oom_kill, .fini = session_cleanup);

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
    uint64_t t0 = mg_wall_ns();
    pid_t pid = spawn_sample(cg.procs, out1, leak);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    uint64_t kill_ns = mg_wall_ns();
    static char text[65536];
    mg_read_text(out1, text, sizeof text);
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
    mg_read_text(out2, text, sizeof text);
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