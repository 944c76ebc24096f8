/*
 * Where the process's cgroups are: one discovery for the two Linux readers
 * that need it (platform_linux.c for the limit, pressure_linux.c for PSI,
 * events and OOM kills), so that they always agree.
 */
#ifndef MEMGAUGE_CGROUP_LINUX_H
#define MEMGAUGE_CGROUP_LINUX_H

#define MEMGAUGE__CGROUP_PATH_MAX 512

typedef struct memgauge__cgroups_s {
    char v1_dir[MEMGAUGE__CGROUP_PATH_MAX];   /* the v1 memory cgroup's directory, or "" */
    char v1_mount[MEMGAUGE__CGROUP_PATH_MAX]; /* its hierarchy's mount point (no trailing /) */
    char v2_dir[MEMGAUGE__CGROUP_PATH_MAX];   /* the v2 cgroup's directory, or "" */
    char v2_mount[MEMGAUGE__CGROUP_PATH_MAX];
} memgauge__cgroups_t;

/* Reads /proc/self/cgroup and /proc/self/mountinfo. Fills what it finds
 * (a hierarchy that is not mounted, or not visible, stays ""). Returns 0,
 * or -1 when neither file could be read. Thread-safe; no heap; reads a few
 * files, so call it at discovery time, never per reading. */
int memgauge__linux_cgroups(memgauge__cgroups_t *out);

#endif
