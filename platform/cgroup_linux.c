/* Where the process's cgroups are. See cgroup_linux.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_linux.h"
#include "linux_parse.h"
#include "mg_base.h"

/* The directory of `cg_path` in the hierarchy of `version`, and its mount. */
static void locate(const char *info, int version, const char *cg_path, char *dir, char *mount)
{
    char root[MEMGAUGE__CGROUP_PATH_MAX];
    dir[0] = mount[0] = '\0';
    if (cg_path[0] == '\0' ||
        memgauge__parse_cgroup_mount(info, strlen(info), version, mount, MEMGAUGE__CGROUP_PATH_MAX,
                                     root, sizeof root) != 0 ||
        memgauge__cgroup_dir(mount, root, cg_path, dir, MEMGAUGE__CGROUP_PATH_MAX) != 0) {
        dir[0] = mount[0] = '\0';
        return;
    }
    size_t ml = strlen(mount);
    while (ml > 1 && mount[ml - 1] == '/')
        mount[--ml] = '\0';
}

int memgauge__linux_cgroups(memgauge__cgroups_t *out)
{
    /* mountinfo can be long on busy hosts: too long for a stack, so one
     * static buffer behind a lock */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char info[1 << 16];
    char buf[8192];
    char v1[MEMGAUGE__CGROUP_PATH_MAX], v2[MEMGAUGE__CGROUP_PATH_MAX];
    memset(out, 0, sizeof *out);
    if (memgauge__read_small_file("/proc/self/cgroup", buf, sizeof buf) < 0 ||
        memgauge__parse_proc_cgroup(buf, strlen(buf), v1, sizeof v1, v2, sizeof v2) != 0)
        return -1;
    pthread_mutex_lock(&lock);
    int rc = memgauge__read_small_file("/proc/self/mountinfo", info, sizeof info) < 0 ? -1 : 0;
    if (rc == 0) {
        locate(info, MEMGAUGE__CGROUP_V1, v1, out->v1_dir, out->v1_mount);
        locate(info, MEMGAUGE__CGROUP_V2, v2, out->v2_dir, out->v2_mount);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
