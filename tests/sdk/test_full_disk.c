/*
 * A full disk never kills the app (issue 13). The storage directory is a
 * real 48 KiB tmpfs; a forked child runs the real SDK at 50 Hz with
 * reporting on, to a collector that is not there, so that the spool grows
 * until the file system is full. The child must live, keep measuring, and
 * count what it could not keep.
 *
 * Before the record's blocks were allocated at creation, the child of
 * spool_fills_the_disk_during_the_run died of SIGBUS: the trail's pages of
 * the sparse record were first stored to after the spool had taken the
 * last free page.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "journal.h"
#include "record.h"
#include "support/support.h"

#define TMPFS_SIZE "48k"
#define RUN_SECONDS 8      /* > trail_seconds: every page of the trail is stored to */
#define CHILD_TIMEOUT_S 60 /* a child that has not ended by then is stuck */
#define INTERVAL_MS 20     /* 50 Hz */
#define TRAIL_SECONDS 5    /* a record of about 20 KiB: it fits, with room for the spool */
#define FIRST_LOG_MAX 256

static char g_mount[64];
static int g_mounted;

static void unmount_small(void)
{
    if (g_mounted) {
        umount2(g_mount, MNT_DETACH);
        g_mounted = 0;
    }
    if (g_mount[0] != '\0')
        rmdir(g_mount);
}

/* A fresh 48 KiB tmpfs, or the test is skipped (mounting needs root or
 * CAP_SYS_ADMIN). */
static void mount_small(void)
{
    snprintf(g_mount, sizeof g_mount, "/tmp/memgauge-full-XXXXXX");
    cr_assert_not_null(mkdtemp(g_mount), "mkdtemp: %s", strerror(errno));
    if (mount("tmpfs", g_mount, "tmpfs", MS_NOSUID | MS_NODEV, "size=" TMPFS_SIZE) != 0) {
        int err = errno;
        rmdir(g_mount);
        g_mount[0] = '\0';
        cr_skip_test("cannot mount a %s tmpfs here (%s): the test needs root or CAP_SYS_ADMIN",
                     TMPFS_SIZE, strerror(err));
    }
    g_mounted = 1;
}

TestSuite(full_disk, .fini = unmount_small, .timeout = 120);

/* Fills the file system under dir with one file until it refuses. Returns
 * the bytes written. */
static size_t fill(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    static const char block[4096];
    size_t total = 0;
    for (;;) {
        ssize_t w = write(fd, block, sizeof block);
        if (w <= 0)
            break;
        total += (size_t)w;
    }
    cr_assert_eq(errno, ENOSPC, "the filler stopped with %s", strerror(errno));
    close(fd);
    return total;
}

/* A loopback port nobody listens on: every send is refused at once. */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* What the child sends back before it stops. */
typedef struct child_report_s {
    int start_rc;
    int stop_rc;
    memgauge_stats_t stats;
    int logs;
    int first_level;
    char first_log[FIRST_LOG_MAX];
} child_report_t;

static atomic_int g_logs;
static int g_first_level;
static char g_first_log[FIRST_LOG_MAX];

static void on_log(int level, const char *message, void *user_data)
{
    (void)user_data;
    if (atomic_fetch_add(&g_logs, 1) == 0) {
        g_first_level = level;
        snprintf(g_first_log, sizeof g_first_log, "%s", message);
    }
}

/* The child: the real SDK at 50 Hz for RUN_SECONDS with reporting on, then
 * its stats through the pipe. Never returns. */
static void child_main(int out_fd, const char *state_dir, int port, uint32_t report_interval_ms)
{
    child_report_t r;
    memset(&r, 0, sizeof r);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = INTERVAL_MS;
    o.fast_interval_ms = INTERVAL_MS;
    o.window_ms = 200;
    o.report_interval_ms = report_interval_ms;
    o.trail_seconds = TRAIL_SECONDS;
    o.storage_dir = state_dir;
    o.app_id = "full-disk";
    o.endpoint_url = url;
    o.connect_timeout_ms = 200;
    o.total_timeout_ms = 500;
    o.retry_base_ms = 100;
    o.retry_max_ms = 500;
    o.on_log = on_log;
    memgauge_t *h = NULL;
    r.start_rc = memgauge_start(&o, &h);
    if (r.start_rc == MEMGAUGE_OK) {
        mg_sleep_ms(RUN_SECONDS * 1000u); /* the run: sampling onto the full disk */
        r.stats.struct_size = sizeof r.stats;
        memgauge_get_stats(h, &r.stats);
        r.stop_rc = memgauge_stop(h, 200);
    }
    r.logs = atomic_load(&g_logs);
    r.first_level = g_first_level;
    memcpy(r.first_log, g_first_log, sizeof r.first_log);
    ssize_t w = write(out_fd, &r, sizeof r);
    _exit(w == (ssize_t)sizeof r ? 0 : 3);
}

/* Runs the child and waits for it (bounded). Returns how it ended and what
 * it said; *lived_s is how long it ran. */
static int run_child(const char *state_dir, uint32_t report_interval_ms, child_report_t *r,
                     double *lived_s)
{
    int port = closed_port();
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    uint64_t t0 = mg_mono_ns();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        child_main(p[1], state_dir, port, report_interval_ms);
    }
    close(p[1]);
    int status = 0;
    mg_wait_child(pid, CHILD_TIMEOUT_S * 1000u, &status); /* killed at the deadline */
    *lived_s = (double)(mg_mono_ns() - t0) / 1e9;
    memset(r, 0, sizeof *r);
    ssize_t got = read(p[0], r, sizeof *r);
    close(p[0]);
    if (got != (ssize_t)sizeof *r)
        memset(r, 0, sizeof *r);
    return status;
}

static void assert_lived(int status, double lived_s)
{
    cr_assert(!WIFSIGNALED(status), "the app died of signal %d (%s) after %.1f s",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0,
              strsignal(WIFSIGNALED(status) ? WTERMSIG(status) : 0), lived_s);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ended with status 0x%x",
              status);
}

Test(full_disk, a_disk_full_before_start_leaves_the_app_measuring_without_a_record)
{
    mount_small();
    char state[128];
    snprintf(state, sizeof state, "%s/state", g_mount);
    cr_assert_eq(mkdir(state, 0700), 0); /* the app ran here before */
    size_t filled = fill(g_mount);

    child_report_t r;
    double lived;
    /* pending versions at each window close, a batch each second: both spool paths */
    int status = run_child(state, 1000, &r, &lived);
    fprintf(stderr,
            "full before start (%zu bytes of filler): lived %.1f s, %llu samples, record %d "
            "(errno %d), spool write errors %llu, dropped windows %llu, first log: %s\n",
            filled, lived, (unsigned long long)r.stats.samples, r.stats.record_active,
            r.stats.record_errno, (unsigned long long)r.stats.spool_write_errors,
            (unsigned long long)r.stats.dropped_windows, r.first_log);
    assert_lived(status, lived);
    cr_assert_eq(r.start_rc, MEMGAUGE_OK, "memgauge_start: %s", memgauge_strerror(r.start_rc));
    cr_expect_geq(r.stats.samples, RUN_SECONDS * 1000 / INTERVAL_MS / 2,
                  "it kept measuring: %llu samples", (unsigned long long)r.stats.samples);
    cr_expect_eq(r.stats.record_active, 0);
    cr_expect_eq(r.stats.record_errno, ENOSPC, "record_errno %d (%s)", r.stats.record_errno,
                 strerror(r.stats.record_errno));
    cr_expect_eq(r.stats.record_writes, 0);
    cr_expect_gt(r.stats.spool_write_errors, 0, "the refused spool writes are counted");
    cr_expect_gt(r.stats.dropped_windows, 0, "what could not be spooled is counted");
    cr_expect_eq(r.first_level, MEMGAUGE_LOG_WARNING);
    cr_expect_not_null(strstr(r.first_log, "no session record"), "first log: %s", r.first_log);
    cr_expect_not_null(strstr(r.first_log, strerror(ENOSPC)), "first log: %s", r.first_log);
    cr_expect_leq(r.logs, 4, "rate-limited: %d messages in %d s", r.logs, RUN_SECONDS);
    cr_expect_gt(r.stats.log_suppressed, 0, "the repeats were held back and counted");

    /* nothing half-made is left: no record, no temporary record, no spool temp file */
    char path[256];
    snprintf(path, sizeof path, "%s/%s", state, MEMGAUGE__RECORD_FILE);
    cr_expect_neq(access(path, F_OK), 0, "no record where none could be made");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.tmp*' | grep -q .", state);
    cr_expect_neq(system(cmd), 0, "a temporary file was left behind");
}

Test(full_disk, spool_fills_the_disk_during_the_run_and_the_record_keeps_working)
{
    mount_small();
    char state[128];
    snprintf(state, sizeof state, "%s/state", g_mount);

    child_report_t r;
    double lived;
    /* a batch at every window close (200 ms): the spool fills the disk in about 1.5 s */
    int status = run_child(state, 0, &r, &lived);
    fprintf(stderr,
            "filled during the run: lived %.1f s, %llu samples, %llu record writes, spool %llu "
            "files / %llu bytes, spool write errors %llu, dropped windows %llu, first log: %s\n",
            lived, (unsigned long long)r.stats.samples, (unsigned long long)r.stats.record_writes,
            (unsigned long long)r.stats.spool_files, (unsigned long long)r.stats.spool_bytes,
            (unsigned long long)r.stats.spool_write_errors,
            (unsigned long long)r.stats.dropped_windows, r.first_log);
    assert_lived(status, lived);
    cr_assert_eq(r.start_rc, MEMGAUGE_OK, "memgauge_start: %s", memgauge_strerror(r.start_rc));
    cr_expect_eq(r.stats.record_active, 1, "the record fits an empty disk");
    cr_expect_geq(r.stats.samples, RUN_SECONDS * 1000 / INTERVAL_MS / 2);
    cr_expect_geq(r.stats.record_writes, r.stats.samples,
                  "every sample went into the record after the disk filled");
    cr_expect_gt(r.stats.spool_write_errors, 0, "the spool did fill the disk");
    cr_expect_gt(r.stats.dropped_windows, 0, "what could not be spooled is counted");
    cr_expect_gt(r.stats.spool_files, 0, "what was spooled before stays");
    cr_expect_eq(r.first_level, MEMGAUGE_LOG_ERROR);
    cr_expect_not_null(strstr(r.first_log, "cannot write the spool"), "first log: %s", r.first_log);

    /* the record on the full disk reads back whole, with the last samples */
    char path[256];
    snprintf(path, sizeof path, "%s/%s", state, MEMGAUGE__RECORD_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    static unsigned char buf[1 << 16];
    ssize_t len = read(fd, buf, sizeof buf);
    close(fd);
    static memgauge__trail_entry_t trail[512];
    memgauge__record_view_t v;
    cr_assert_eq(memgauge__record_parse(buf, (size_t)len, &v, trail, 512), MEMGAUGE__RECORD_OK);
    cr_expect_geq(v.body.samples, r.stats.samples);
    cr_expect_gt(v.trail_count, (size_t)(TRAIL_SECONDS * 1000 / INTERVAL_MS / 2));
    cr_expect(memgauge__record_marker(&v, MEMGAUGE__MARK_CLEAN_STOP, NULL), "a clean stop");
}
