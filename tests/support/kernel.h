/*
 * Real-kernel test support: memory cgroups (v1 or v2) made for one test,
 * the kernel's OOM kill count, and skips that say what did not run.
 *
 * A test that needs the kernel and cannot have it calls MG_KERNEL_SKIP: the
 * check is named in $MEMGAUGE_SKIP_LOG (scripts/test.sh prints the list) and
 * Criterion reports it skipped. No fixture or self-kill stands in for it.
 *
 * Environment switches, to show what a host without them runs:
 *   MEMGAUGE_TEST_HIDE_CGROUP_V1=1  the v1 memory hierarchy is not used
 *   MEMGAUGE_TEST_NO_CGROUP=1       no cgroup is used at all
 */
#ifndef MEMGAUGE_TEST_KERNEL_H
#define MEMGAUGE_TEST_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* The files a memory cgroup's test needs, by hierarchy: they differ only in
 * name (v1 counts memory+swap in memsw, v2 swap alone). */
typedef struct mg_cgroup_files_s {
    const char *limit;      /* memory.limit_in_bytes | memory.max */
    const char *swap_limit; /* memory.memsw.limit_in_bytes | memory.swap.max */
    const char *events;     /* memory.oom_control | memory.events: "oom_kill N" */
} mg_cgroup_files_t;

typedef struct mg_cgroup_s {
    int version;      /* 1 or 2 */
    char dir[512];    /* the test's cgroup */
    char procs[600];  /* its cgroup.procs */
    char events[600]; /* the file with the oom_kill count */
    char leaf[512];   /* v2: where this process was moved to enable the controller, or "" */
} mg_cgroup_t;

const mg_cgroup_files_t *mg_cgroup_files(int version);

/* Makes a child memory cgroup named `name` (suffixed with this pid) with
 * `limit` bytes and no swap to escape to, in this process's own cgroup when
 * the kernel allows, else at the hierarchy's root. v1 first, then v2. On
 * failure returns -1 and says why in `why`. */
int mg_cgroup_make(mg_cgroup_t *cg, const char *name, uint64_t limit, char *why, size_t why_cap);

/* The v2 steps on a hierarchy mounted at `root`, for a process whose cgroup
 * is `self` ("" for the root): if the memory controller is not yet enabled
 * below `self`, move `pid` into a leaf `self/memgauge-leaf-PID` (a cgroup
 * with processes cannot enable controllers for its children) and write
 * "+memory" to `self`'s cgroup.subtree_control; then make `self/name-PID`
 * with memory.max = limit and memory.swap.max = 0. Plain files: the same
 * code runs on a fixture tree. */
int mg_cgroup_make_v2_at(mg_cgroup_t *cg, const char *root, const char *self, const char *name,
                         uint64_t limit, int pid, char *why, size_t why_cap);

/* Removes the test's cgroup (not the v2 leaf, which this process lives in). */
void mg_cgroup_remove(mg_cgroup_t *cg);

/* The kernel's OOM kill count from the events file, -1 if it does not say. */
int64_t mg_cgroup_oom_kills(const mg_cgroup_t *cg);

/* Pure: the "oom_kill N" count in an events file's text, -1 if absent. */
int64_t mg_parse_oom_kill(const char *text);

/* This process's cgroup path in the v1 memory hierarchy (version 1) or the
 * v2 unified one (version 2), "" for the root, from /proc/self/cgroup's text. */
int mg_own_cgroup(const char *proc_self_cgroup, int version, char *out, size_t cap);

/* Appends "check<TAB>why" to $MEMGAUGE_SKIP_LOG and to stderr. */
void mg_kernel_skip_note(const char *check, const char *why);

/* Skips the calling Criterion test, naming it in the skip log. */
#define MG_KERNEL_SKIP(check, why)                                                                 \
    do {                                                                                           \
        mg_kernel_skip_note((check), (why));                                                       \
        cr_skip_test("real-kernel check not run: %s", (why));                                      \
    } while (0)

/* Whether the v1 memory hierarchy may be used (root, writable, not hidden). */
int mg_cgroup_v1_usable(void);

#endif
