/* The SDK in forked children, for the session-ending suites. See session_child.h. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "samples_wait.h"
#include "session_child.h"
#include "support/support.h"

static char g_dir[128];
char g_cgroup[512];

void fresh_dir(char *dir, size_t cap, const char *tag)
{
    cr_assert_eq(mg_temp_dir(dir, cap, "/var/tmp", tag), 0, "mkdtemp %s: %s", dir, strerror(errno));
    snprintf(g_dir, sizeof g_dir, "%s", dir);
}

void session_cleanup(void)
{
    if (g_dir[0])
        mg_remove_tree(g_dir);
    if (g_cgroup[0])
        rmdir(g_cgroup);
    g_dir[0] = g_cgroup[0] = '\0';
}

void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    cr_assert_lt(snprintf(out, cap, "%s/%s", dir, name), (int)cap);
}

int wait_child(pid_t pid, uint32_t timeout_ms)
{
    int status;
    int rc = mg_wait_child(pid, timeout_ms, &status);
    cr_assert_geq(rc, 0, "waitpid: %s", strerror(errno));
    if (rc > 0)
        cr_assert_fail("child %d did not end within %u ms", (int)pid, timeout_ms);
    return status;
}

pid_t fork_piped(int *fd)
{
    int fds[2];
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    close(fds[pid == 0 ? 0 : 1]);
    *fd = fds[pid == 0 ? 1 : 0];
    return pid;
}

memgauge_t *child_start(const session_opts_t *s)
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

void child_wait_samples(memgauge_t *h, uint64_t n)
{
    mg_samples_wait_t w = {h, n};
    if (!mg_wait_until(mg_has_samples, &w, 5000))
        _exit(118);
}

void diagnose_in_child(const session_opts_t *s, diagnosis_t *out)
{
    int fd;
    pid_t pid = fork_piped(&fd);
    if (pid == 0) {
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
        if (mg_write_full(fd, &d, sizeof d) != 0)
            _exit(120);
        memgauge_stop(h, 2000);
        _exit(0);
    }
    int got = mg_read_full(fd, out, sizeof *out);
    close(fd);
    int status = wait_child(pid, CHILD_TIMEOUT_MS);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "diagnosing child failed: status 0x%x (exit 101..126 is MEMGAUGE_E_* 1..26)", status);
    cr_assert_eq(got, 0, "diagnosing child sent no diagnosis");
}

int parse_record(const char *dir, memgauge__record_view_t *v, memgauge__trail_entry_t *trail,
                 size_t cap, size_t *file_len)
{
    char path[600];
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    size_t len;
    unsigned char *buf = mg_read_all(path, &len);
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

void assert_killed_verdict(const diagnosis_t *d)
{
    /* nothing eliminates it: an OOM suspect, or unexplained with memory to spare */
    cr_assert(d->p.verdict == MEMGAUGE_END_SUSPECTED_OOM ||
                  d->p.verdict == MEMGAUGE_END_UNEXPLAINED,
              "a plain kill read as %s", memgauge_end_name(d->p.verdict));
}
