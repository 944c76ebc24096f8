/* Real-kernel test support. See kernel.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"
#include "support.h"

/* Paths here are a few dozen bytes; a truncated one fails at open(). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define CG_V1_ROOT "/sys/fs/cgroup/memory"
#define CG_V2_ROOT "/sys/fs/cgroup"

static const mg_cgroup_files_t files_v1 = {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                                           "memory.oom_control"};
static const mg_cgroup_files_t files_v2 = {"memory.max", "memory.swap.max", "memory.events"};

const mg_cgroup_files_t *mg_cgroup_files(int version)
{
    return version == 2 ? &files_v2 : &files_v1;
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    return snprintf(out, cap, "%s/%s", a, b) < (int)cap ? 0 : -1;
}

/* Says why a step failed, into the caller's `why` (NULL: nowhere). */
#define SAY(...)                                                                                   \
    do {                                                                                           \
        if (why != NULL && why_cap > 0)                                                            \
            snprintf(why, why_cap, __VA_ARGS__);                                                   \
    } while (0)

int mg_own_cgroup(const char *text, int version, char *out, size_t cap)
{
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *c1 = strchr(line, ':'), *eol = strchr(line, '\n');
        if (eol == NULL)
            eol = line + strlen(line);
        const char *c2 = c1 && c1 < eol ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
        if (c2 == NULL)
            continue;
        int match = 0;
        if (version == 2) {
            match = c2 == c1 + 1;
        } else {
            for (const char *p = c1 + 1; p < c2;) {
                const char *comma = memchr(p, ',', (size_t)(c2 - p));
                const char *end = comma ? comma : c2;
                match |= end - p == 6 && strncmp(p, "memory", 6) == 0;
                p = end + 1;
            }
        }
        if (!match)
            continue;
        size_t n = (size_t)(eol - (c2 + 1));
        if (n == 1 && c2[1] == '/')
            n = 0;
        if (n + 1 > cap)
            return -1;
        memcpy(out, c2 + 1, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

static int own_cgroup(int version, char *out, size_t cap)
{
    char text[4096];
    if (mg_read_text("/proc/self/cgroup", text, sizeof text) != 0)
        return -1;
    return mg_own_cgroup(text, version, out, cap);
}

int64_t mg_parse_oom_kill(const char *text)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "oom_kill ", 9) == 0)
            return (int64_t)strtoll(p + 9, NULL, 10);
    return -1;
}

int64_t mg_cgroup_oom_kills(const mg_cgroup_t *cg)
{
    char text[1024];
    if (mg_read_text(cg->events, text, sizeof text) != 0)
        return -1;
    return mg_parse_oom_kill(text);
}

/* Limit and swap in a fresh cgroup directory; the same for both versions. */
static int set_limits(mg_cgroup_t *cg, uint64_t limit, char *why, size_t why_cap)
{
    const mg_cgroup_files_t *f = mg_cgroup_files(cg->version);
    char path[600], text[32];
    snprintf(text, sizeof text, "%" PRIu64, limit);
    if (join(path, sizeof path, cg->dir, f->limit) != 0 || mg_write_text(path, text) != 0) {
        SAY("%s: %s", path, strerror(errno));
        return -1;
    }
    /* v1 counts memory+swap together, v2 swap alone */
    if (join(path, sizeof path, cg->dir, f->swap_limit) == 0 &&
        (cg->version == 2 || access(path, F_OK) == 0) &&
        mg_write_text(path, cg->version == 2 ? "0" : text) != 0)
        fprintf(stderr, "note: %s not writable (%s): swap could delay the kill\n", path,
                strerror(errno));
    join(cg->procs, sizeof cg->procs, cg->dir, "cgroup.procs");
    join(cg->events, sizeof cg->events, cg->dir, f->events);
    return 0;
}

static int make_v1(mg_cgroup_t *cg, const char *name, uint64_t limit, char *why, size_t why_cap)
{
    char self[400];
    if (own_cgroup(1, self, sizeof self) != 0) {
        SAY("this process is in no v1 memory cgroup");
        return -1;
    }
    const char *bases[2] = {self, ""};
    for (int i = 0; i < 2; i++) {
        memset(cg, 0, sizeof *cg);
        cg->version = 1;
        snprintf(cg->dir, sizeof cg->dir, CG_V1_ROOT "%s/%s-%d", bases[i], name, (int)getpid());
        if (mkdir(cg->dir, 0755) != 0) {
            SAY("mkdir %s: %s", cg->dir, strerror(errno));
            continue;
        }
        if (set_limits(cg, limit, why, why_cap) == 0)
            return 0;
        rmdir(cg->dir);
    }
    return -1;
}

int mg_cgroup_make_v2_at(mg_cgroup_t *cg, const char *root, const char *self, const char *name,
                         uint64_t limit, int pid, char *why, size_t why_cap)
{
    char parent[512], path[600], text[512];
    memset(cg, 0, sizeof *cg);
    cg->version = 2;
    if (snprintf(parent, sizeof parent, "%s%s", root, self) >= (int)sizeof parent)
        return -1;
    if (join(path, sizeof path, parent, "cgroup.controllers") != 0 ||
        mg_read_text(path, text, sizeof text) != 0) {
        SAY("%s: %s", path, strerror(errno));
        return -1;
    }
    text[strcspn(text, "\n")] = '\0';
    if (strstr(text, "memory") == NULL) {
        SAY("no memory controller in the v2 hierarchy (%s: \"%s\")", path, text);
        return -1;
    }
    join(path, sizeof path, parent, "cgroup.subtree_control");
    if (mg_read_text(path, text, sizeof text) != 0 || strstr(text, "memory") == NULL) {
        /* "no internal processes": move this process into a leaf first */
        snprintf(cg->leaf, sizeof cg->leaf, "%s/memgauge-leaf-%d", parent, pid);
        char procs[600], pid_text[16];
        snprintf(pid_text, sizeof pid_text, "%d", pid);
        if ((mkdir(cg->leaf, 0755) != 0 && errno != EEXIST) ||
            join(procs, sizeof procs, cg->leaf, "cgroup.procs") != 0 ||
            mg_write_text(procs, pid_text) != 0) {
            SAY("moving this process into %s: %s", cg->leaf, strerror(errno));
            return -1;
        }
        if (mg_write_text(path, "+memory") != 0) {
            SAY("%s: %s", path, strerror(errno));
            return -1;
        }
    }
    snprintf(cg->dir, sizeof cg->dir, "%s/%s-%d", parent, name, pid);
    if (mkdir(cg->dir, 0755) != 0) {
        SAY("mkdir %s: %s", cg->dir, strerror(errno));
        return -1;
    }
    if (set_limits(cg, limit, why, why_cap) != 0) {
        rmdir(cg->dir);
        return -1;
    }
    return 0;
}

int mg_cgroup_v1_usable(void)
{
    return getenv("MEMGAUGE_TEST_HIDE_CGROUP_V1") == NULL && getuid() == 0 &&
           access(CG_V1_ROOT "/cgroup.procs", W_OK) == 0;
}

int mg_cgroup_make(mg_cgroup_t *cg, const char *name, uint64_t limit, char *why, size_t why_cap)
{
    SAY("%s", "");
    if (getenv("MEMGAUGE_TEST_NO_CGROUP") != NULL) {
        SAY("cgroups hidden by MEMGAUGE_TEST_NO_CGROUP");
        return -1;
    }
    if (getuid() != 0) {
        SAY("making a memory cgroup needs root");
        return -1;
    }
    char v1_why[300] = "", self[400];
    if (getenv("MEMGAUGE_TEST_HIDE_CGROUP_V1") != NULL)
        snprintf(v1_why, sizeof v1_why, "v1 hidden by MEMGAUGE_TEST_HIDE_CGROUP_V1");
    else if (access(CG_V1_ROOT "/cgroup.procs", W_OK) != 0)
        snprintf(v1_why, sizeof v1_why, "no writable v1 memory hierarchy at " CG_V1_ROOT);
    else if (make_v1(cg, name, limit, v1_why, sizeof v1_why) == 0)
        return 0;
    /* a pure v2 host mounts it at the top, a hybrid one below */
    char v2_why[300] = "";
    const char *v2_root = access(CG_V2_ROOT "/cgroup.controllers", F_OK) == 0           ? CG_V2_ROOT
                          : access(CG_V2_ROOT "/unified/cgroup.controllers", F_OK) == 0 ? CG_V2_ROOT
                              "/unified"
                                                                                        : NULL;
    if (v2_root == NULL)
        snprintf(v2_why, sizeof v2_why, "no v2 hierarchy at " CG_V2_ROOT "[/unified]");
    else if (own_cgroup(2, self, sizeof self) != 0)
        snprintf(v2_why, sizeof v2_why, "this process is in no v2 cgroup");
    else if (mg_cgroup_make_v2_at(cg, v2_root, self, name, limit, (int)getpid(), v2_why,
                                  sizeof v2_why) == 0)
        return 0;
    if (why != NULL)
        snprintf(why, why_cap, "no memory cgroup: v1: %s; v2: %s", v1_why, v2_why);
    return -1;
}

void mg_cgroup_remove(mg_cgroup_t *cg)
{
    if (cg->dir[0] != '\0')
        rmdir(cg->dir);
    cg->dir[0] = '\0';
}

void mg_kernel_skip_note(const char *check, const char *why)
{
    fprintf(stderr, "SKIPPED real-kernel check %s: %s\n", check, why);
    const char *log = getenv("MEMGAUGE_SKIP_LOG");
    if (log == NULL || log[0] == '\0')
        return;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[768];
    int n = snprintf(line, sizeof line, "%s\t%s\n", check, why);
    if (n > 0)
        (void)!write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    close(fd);
}
