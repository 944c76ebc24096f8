/*
 * The real-kernel test support's pure parts, and its cgroup v2 steps on a
 * fixture tree: this machine binds the memory controller to v1, so the v2
 * path runs for real only on a v2 host, and its file logic is checked here.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/kernel.h"

static char root[256];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void get(const char *rel, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s was not written", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A v2 hierarchy whose app.slice has the memory controller but has not
 * enabled it for its children. */
static void fixture(void)
{
    snprintf(root, sizeof root, "/tmp/memgauge-cgfix-%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(mkdir(root, 0755), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/app.slice", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    put("app.slice/cgroup.controllers", "cpuset cpu io memory pids\n");
    put("app.slice/cgroup.subtree_control", "cpu\n");
    put("app.slice/cgroup.procs", "4242\n");
}

static void remove_fixture(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    (void)!system(cmd);
}

TestSuite(cgroup_v2_fixture, .init = fixture, .fini = remove_fixture);

Test(cgroup_v2_fixture, moves_the_process_to_a_leaf_enables_memory_and_sets_the_limit)
{
    mg_cgroup_t cg;
    char why[300], text[256];
    cr_assert_eq(mg_cgroup_make_v2_at(&cg, root, "/app.slice", "memgauge-oom", 268435456, 4242, why,
                                      sizeof why),
                 0, "%s", why);
    cr_assert_eq(cg.version, 2);
    get("app.slice/memgauge-leaf-4242/cgroup.procs", text, sizeof text);
    cr_assert_str_eq(text, "4242", "the process moves into the leaf before enabling");
    get("app.slice/cgroup.subtree_control", text, sizeof text);
    cr_assert_str_eq(text, "+memory");
    get("app.slice/memgauge-oom-4242/memory.max", text, sizeof text);
    cr_assert_str_eq(text, "268435456");
    get("app.slice/memgauge-oom-4242/memory.swap.max", text, sizeof text);
    cr_assert_str_eq(text, "0", "no swap to escape to");
    char expect[600];
    snprintf(expect, sizeof expect, "%s/app.slice/memgauge-oom-4242/memory.events", root);
    cr_assert_str_eq(cg.events, expect);
    snprintf(expect, sizeof expect, "%s/app.slice/memgauge-oom-4242/cgroup.procs", root);
    cr_assert_str_eq(cg.procs, expect);
}

Test(cgroup_v2_fixture, a_subtree_with_memory_enabled_needs_no_leaf)
{
    put("app.slice/cgroup.subtree_control", "cpu memory\n");
    mg_cgroup_t cg;
    char why[300], text[256];
    cr_assert_eq(mg_cgroup_make_v2_at(&cg, root, "/app.slice", "t", 1048576, 7, why, sizeof why), 0,
                 "%s", why);
    cr_assert_str_eq(cg.leaf, "");
    char path[512];
    snprintf(path, sizeof path, "%s/app.slice/memgauge-leaf-7", root);
    cr_assert_neq(access(path, F_OK), 0, "no leaf was made");
    get("app.slice/cgroup.subtree_control", text, sizeof text);
    cr_assert_str_eq(text, "cpu memory\n", "left as it was");
}

Test(cgroup_v2_fixture, no_memory_controller_is_refused_with_the_reason)
{
    put("app.slice/cgroup.controllers", "cpu io hugetlb\n");
    mg_cgroup_t cg;
    char why[300];
    cr_assert_eq(mg_cgroup_make_v2_at(&cg, root, "/app.slice", "t", 1048576, 7, why, sizeof why),
                 -1);
    cr_assert_not_null(strstr(why, "no memory controller"), "%s", why);
}

Test(cgroup_files, v1_and_v2_differ_only_in_names)
{
    cr_assert_str_eq(mg_cgroup_files(1)->limit, "memory.limit_in_bytes");
    cr_assert_str_eq(mg_cgroup_files(2)->limit, "memory.max");
    cr_assert_str_eq(mg_cgroup_files(1)->events, "memory.oom_control");
    cr_assert_str_eq(mg_cgroup_files(2)->events, "memory.events");
}

Test(cgroup_files, oom_kill_count_from_either_events_file)
{
    cr_assert_eq(mg_parse_oom_kill("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
    cr_assert_eq(mg_parse_oom_kill("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n"), 2);
    cr_assert_eq(mg_parse_oom_kill("oom_kill_disable 0\nunder_oom 0\n"), -1,
                 "an old v1 kernel without the count");
}

Test(cgroup_files, own_cgroup_from_proc_self_cgroup)
{
    const char *v1 = "12:pids:/user.slice\n5:cpu,memory:/user.slice/x\n0::/init.scope\n";
    char out[128];
    cr_assert_eq(mg_own_cgroup(v1, 1, out, sizeof out), 0);
    cr_assert_str_eq(out, "/user.slice/x");
    cr_assert_eq(mg_own_cgroup(v1, 2, out, sizeof out), 0);
    cr_assert_str_eq(out, "/init.scope");
    cr_assert_eq(mg_own_cgroup("3:memory:/\n", 1, out, sizeof out), 0);
    cr_assert_str_eq(out, "", "the root is the empty path");
    cr_assert_eq(mg_own_cgroup("4:memoryx:/a\n", 1, out, sizeof out), -1);
}
