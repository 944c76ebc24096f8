/*
 * The session record through the public API: what the sampler writes is
 * what the next start reads, a second live process is told apart, a bad
 * storage directory is an error, and pressure and the adaptive interval
 * work through the sampler thread.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "internal.h"
#include "journal.h"
#include "platform.h"
#include "record.h"
#include "samples_wait.h"
#include "support/scratch.h"
#include "support/support.h"

#define MIB (UINT64_C(1) << 20)

TestSuite(journal, .init = mg_scratch_init, .fini = mg_scratch_fini);

static memgauge_options_t options(void)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 10;
    o.window_ms = 10;
    o.storage_dir = mg_scratch;
    o.app_id = "journal-test";
    o.app_version = "1.0";
    return o;
}

static memgauge_stats_t stats_of(memgauge_t *h)
{
    memgauge_stats_t s = {.struct_size = sizeof s};
    cr_assert_eq(memgauge_get_stats(h, &s), MEMGAUGE_OK);
    return s;
}

static memgauge_stats_t wait_samples(memgauge_t *h, uint64_t n)
{
    memgauge_stats_t s = mg_wait_samples(h, n, 10000);
    cr_assert_geq(s.samples, n);
    return s;
}

typedef struct stat_wait_s {
    memgauge_t *h;
    uint32_t value;
} stat_wait_t;

static int interval_is(void *arg)
{
    const stat_wait_t *w = arg;
    return mg_stats_of(w->h).interval_ms == w->value;
}

static int pressure_is(void *arg)
{
    const stat_wait_t *w = arg;
    return (uint32_t)mg_stats_of(w->h).pressure == w->value;
}

static memgauge_previous_session_t previous_of(memgauge_t *h)
{
    memgauge_previous_session_t p = {.struct_size = sizeof p};
    cr_assert_eq(memgauge_previous_session(h, &p), MEMGAUGE_OK);
    return p;
}

Test(journal, first_launch_then_a_clean_stop_is_seen_by_the_next_start)
{
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(previous_of(h).verdict, MEMGAUGE_END_NONE);
    wait_samples(h, 3);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);

    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t p = previous_of(h);
    cr_assert_eq(p.verdict, MEMGAUGE_END_CLEAN_STOP, "verdict %s", memgauge_end_name(p.verdict));
    cr_assert_geq(p.samples, 3);
    cr_assert_str_eq(p.app_version, "1.0");
    cr_assert_eq(p.pid, (uint64_t)getpid());
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(journal, the_previous_session_keeps_the_os_build_it_ran_on)
{
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t p = previous_of(h);
    memgauge__identity_t id;
    memgauge__platform_identity(&id);
    cr_assert_str_eq(p.os_version, id.os_version);
    cr_assert_str_eq(p.os_build, id.os_build);
    cr_assert_neq(p.os_build[0], '\0', "uname -v is never empty");
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static atomic_int g_logs;
static char g_first_log[512];

static void count_log(int level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    if (atomic_fetch_add(&g_logs, 1) == 0)
        snprintf(g_first_log, sizeof g_first_log, "%s", message);
}

static int no_space(int fd, uint64_t size)
{
    (void)fd;
    (void)size;
    return ENOSPC;
}

Test(journal, a_record_the_disk_cannot_hold_leaves_the_session_measuring_without_one)
{
    memgauge_options_t o = options();
    o.on_log = count_log;
    atomic_store(&g_logs, 0);
    memgauge__record_set_preallocate(no_space);
    memgauge_t *h = NULL;
    int rc = memgauge_start(&o, &h);
    memgauge__record_set_preallocate(NULL);
    cr_assert_eq(rc, MEMGAUGE_OK, "%s", memgauge_strerror(rc));
    memgauge_stats_t s = wait_samples(h, 3);
    cr_assert_eq(s.record_active, 0);
    cr_assert_eq(s.record_errno, ENOSPC);
    cr_assert_eq(s.record_writes, 0);
    cr_assert_eq(atomic_load(&g_logs), 1);
    cr_assert_not_null(strstr(g_first_log, "no session record"), "%s", g_first_log);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    char file[128];
    snprintf(file, sizeof file, "%s/session.mgrec", mg_scratch);
    cr_assert_neq(access(file, F_OK), 0, "nothing half-made is left");

    /* the next start, with room, finds no record of it and keeps one again */
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(previous_of(h).verdict, MEMGAUGE_END_NONE);
    cr_assert_eq(stats_of(h).record_active, 1);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

/* A child samples, then dies without a word (SIGKILL): the next start reads
 * the samples it took. */
/* What a child that may not read the record saw, for the parent. */
enum { DENIED_OK = 0, DENIED_START = 40, DENIED_VERDICT, DENIED_STATS, DENIED_SETUID };

static int start_without_access(void)
{
    /* nobody may write the directory but not read root's 0600 record: the
     * kernel answers EACCES, as iOS answers EPERM before the first unlock */
    if (setgid(65534) != 0 || setuid(65534) != 0)
        return DENIED_SETUID;
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    if (memgauge_start(&o, &h) != MEMGAUGE_OK)
        return DENIED_START;
    memgauge_previous_session_t p = {.struct_size = sizeof p};
    memgauge_previous_session(h, &p);
    memgauge_stats_t st = mg_wait_samples(h, 3, 2000); /* measuring all the same */
    memgauge_stop(h, 1000);
    if (p.verdict != MEMGAUGE_END_NONE)
        return DENIED_VERDICT;
    if (st.record_active != 0 || st.record_errno != EPERM || st.samples == 0)
        return DENIED_STATS;
    return DENIED_OK;
}

Test(journal, a_record_the_system_will_not_open_yet_is_left_for_a_later_launch)
{
    if (getuid() != 0)
        cr_skip_test("needs root to run a child as another user");
    memgauge_options_t o = options();
    memgauge_t *h;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 3);
    cr_assert_eq(memgauge_stop(h, 1000), MEMGAUGE_OK);
    char path[128], before[8192], after[8192];
    snprintf(path, sizeof path, "%s/" MEMGAUGE__RECORD_FILE, mg_scratch);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    ssize_t n1 = read(fd, before, sizeof before);
    close(fd);
    cr_assert_eq(chmod(mg_scratch, 0777), 0);
    char lock[128];
    snprintf(lock, sizeof lock, "%s/" MEMGAUGE__LOCK_FILE, mg_scratch);
    chmod(lock, 0666);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(start_without_access());
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0,
                 "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), DENIED_OK,
                 "step %d: 40 start failed, 41 verdict not none, 42 stats, 43 setuid",
                 WEXITSTATUS(status));

    /* untouched: the next launch that may read it still can */
    fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    ssize_t n2 = read(fd, after, sizeof after);
    close(fd);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(before, after, (size_t)n1), 0, "the unreadable record was replaced");
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t p = {.struct_size = sizeof p};
    memgauge_previous_session(h, &p);
    memgauge_stop(h, 1000);
    cr_assert_eq(p.verdict, MEMGAUGE_END_CLEAN_STOP, "verdict %s", memgauge_end_name(p.verdict));
}

Test(journal, the_trail_holds_the_samples_the_killed_session_took)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        memgauge_options_t o = options();
        memgauge_t *h = NULL;
        if (memgauge_start(&o, &h) != MEMGAUGE_OK)
            _exit(1);
        if (mg_wait_samples(h, 30, 20000).samples < 30)
            _exit(4);
        /* freeze the sampler's view: report the ring, then wait to be killed */
        memgauge_sample_t ring[64];
        size_t n = 0;
        memgauge_get_samples(h, ring, 64, &n);
        if (write(pipefd[1], &n, sizeof n) != sizeof n ||
            write(pipefd[1], ring, n * sizeof ring[0]) != (ssize_t)(n * sizeof ring[0]))
            _exit(2);
        pause();
        _exit(3);
    }
    close(pipefd[1]);
    size_t n = 0;
    memgauge_sample_t ring[64];
    cr_assert_eq(read(pipefd[0], &n, sizeof n), (ssize_t)sizeof n);
    cr_assert_eq(read(pipefd[0], ring, n * sizeof ring[0]), (ssize_t)(n * sizeof ring[0]));
    close(pipefd[0]);
    kill(pid, SIGKILL);
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
    cr_assert(WIFSIGNALED(status));

    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t p = previous_of(h);
    cr_assert(p.verdict == MEMGAUGE_END_SUSPECTED_OOM || p.verdict == MEMGAUGE_END_UNEXPLAINED,
              "a silent death in the foreground, got %s", memgauge_end_name(p.verdict));
    cr_assert_eq(p.pid, (uint64_t)pid);
    cr_assert_geq(p.samples, ring[n - 1].seq);
    cr_assert_geq(p.trail_count, 30);
    /* every sample the child reported is in the trail with its footprint */
    size_t matched = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < p.trail_count; k++)
            if (p.trail[k].seq == ring[i].seq) {
                cr_assert_eq(p.trail[k].footprint_bytes, ring[i].footprint_bytes, "seq %llu",
                             (unsigned long long)ring[i].seq);
                cr_assert_eq(p.trail[k].resident_bytes, ring[i].resident_bytes);
                matched++;
            }
    cr_assert_eq(matched, n);
    for (size_t k = 1; k < p.trail_count; k++) {
        cr_assert_eq(p.trail[k].seq, p.trail[k - 1].seq + 1);
        cr_assert_geq(p.trail[k].wall_ns, p.trail[k - 1].wall_ns);
    }
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(journal, every_sample_updates_the_record)
{
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_stats_t s = wait_samples(h, 10);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    s = (memgauge_stats_t){.struct_size = sizeof s};
    /* one write at creation, one per sample */
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 5);
    s = stats_of(h);
    cr_assert_geq(s.record_writes, s.samples);
    cr_assert_leq(s.record_writes, s.samples + 2);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(journal, a_second_live_process_with_the_same_directory_is_told_apart)
{
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 2);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* the parent's sampler is gone here; start our own on the same dir */
        memgauge_t *mine = NULL;
        if (memgauge_start(&o, &mine) != MEMGAUGE_OK)
            _exit(1);
        memgauge_previous_session_t p = {.struct_size = sizeof p};
        memgauge_previous_session(mine, &p);
        memgauge_stats_t s = {.struct_size = sizeof s};
        memgauge_get_stats(mine, &s);
        int ok = p.verdict == MEMGAUGE_END_STILL_RUNNING && s.record_writes == 0;
        memgauge_stop(mine, 2000);
        _exit(ok ? 0 : 2);
    }
    int status;
    mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    /* the child neither replaced nor marked the parent's record */
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(previous_of(h).verdict, MEMGAUGE_END_CLEAN_STOP);
    cr_assert_eq(previous_of(h).pid, (uint64_t)getpid());
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(journal, an_unusable_storage_directory_is_an_error_naming_the_option)
{
    memgauge_options_t o = options();
    char file[128];
    snprintf(file, sizeof file, "%s/plain-file", mg_scratch);
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    o.storage_dir = file;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_E_STORAGE_DIR);
    cr_assert(strstr(memgauge_strerror(MEMGAUGE_E_STORAGE_DIR), "options.storage_dir"));
    o.storage_dir = "";
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_E_STORAGE_DIR);
    o.storage_dir = mg_scratch;
    o.app_id = "../escape";
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_E_APP_ID);
    o.app_id = "ok";
    o.app_version = "a version string longer than thirty-one bytes";
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_E_APP_VERSION);
}

Test(journal, nested_directories_are_created)
{
    memgauge_options_t o = options();
    char nested[128];
    snprintf(nested, sizeof nested, "%s/a/b/c", mg_scratch);
    o.storage_dir = nested;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    char file[160];
    snprintf(file, sizeof file, "%s/session.mgrec", nested);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(journal, with_the_record_off_nothing_is_written)
{
    memgauge_options_t o = options();
    o.record = 0;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 2);
    cr_assert_eq(stats_of(h).record_writes, 0);
    cr_assert_eq(previous_of(h).verdict, MEMGAUGE_END_NONE);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    char file[128];
    snprintf(file, sizeof file, "%s/session.mgrec", mg_scratch);
    cr_assert_neq(access(file, F_OK), 0);
    o.record = 2;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_E_ARGUMENT);
}

Test(journal, platform_facts_are_validated_kept_in_the_record_and_read_back)
{
    cr_assert_eq(memgauge_set_thermal_state(4), MEMGAUGE_E_THERMAL_STATE);
    cr_assert_eq(memgauge_set_thermal_state(-1), MEMGAUGE_E_THERMAL_STATE);
    cr_assert_eq(memgauge_set_launch_flags(1u << 5), MEMGAUGE_E_LAUNCH_FLAGS);
    cr_assert_not_null(strstr(memgauge_strerror(MEMGAUGE_E_LAUNCH_FLAGS), "MEMGAUGE_LAUNCH_"));
    memgauge_options_t o = options();
    memgauge_t *h;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(memgauge_set_thermal_state(MEMGAUGE_THERMAL_SERIOUS), MEMGAUGE_OK);
    cr_assert_eq(memgauge_set_launch_flags(MEMGAUGE_LAUNCH_EXTENSION), MEMGAUGE_OK);
    memgauge_stats_t before = stats_of(h);
    memgauge_note_memory_warning();
    memgauge_note_memory_warning();
    memgauge_stats_t st = wait_samples(h, 2);
    cr_assert_eq(st.memory_warnings, before.memory_warnings + 2);
    cr_assert_eq(st.thermal_state, MEMGAUGE_THERMAL_SERIOUS);
    cr_assert_eq(st.launch_flags, MEMGAUGE_LAUNCH_EXTENSION);
    cr_assert_eq(memgauge_stop(h, 1000), MEMGAUGE_OK);
    /* process-wide settings: back to defaults for the next start */
    memgauge_set_thermal_state(MEMGAUGE_THERMAL_NOMINAL);
    memgauge_set_launch_flags(0);
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t p = {.struct_size = sizeof p};
    memgauge_previous_session(h, &p);
    memgauge_stop(h, 1000);
    cr_assert_eq(p.memory_warnings, 2);
    cr_assert_eq(p.thermal_state, MEMGAUGE_THERMAL_SERIOUS);
    cr_assert_eq(p.launch_flags, MEMGAUGE_LAUNCH_EXTENSION);
}

Test(journal, app_state_is_validated)
{
    cr_assert_eq(memgauge_set_app_state(7), MEMGAUGE_E_APP_STATE);
    cr_assert_eq(memgauge_set_app_state(-1), MEMGAUGE_E_APP_STATE);
    cr_assert_eq(memgauge_set_app_state(MEMGAUGE_APP_ACTIVE), MEMGAUGE_OK);
}

Test(journal, previous_session_struct_sizes_are_honoured)
{
    memgauge_options_t o = options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_previous_session_t small = {.struct_size = 4};
    cr_assert_eq(memgauge_previous_session(h, &small), MEMGAUGE_E_STRUCT_SIZE);
    cr_assert_eq(memgauge_previous_session(h, NULL), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_previous_session(NULL, &small), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    memgauge_previous_session_t p = {.struct_size = sizeof p};
    cr_assert_eq(memgauge_previous_session(h, &p), MEMGAUGE_E_NOT_RUNNING);
}

/* ---- pressure and the adaptive interval, with injected readings ---------- */

static atomic_uint_fast64_t avail_mib = 800;
static atomic_int os_level;

static int read_synthetic(memgauge_reading_t *r, void *ctx)
{
    (void)ctx;
    memset(r, 0, sizeof *r);
    r->time_ns = memgauge__now_ns();
    r->limit_bytes = 1000 * MIB;
    r->available_bytes = atomic_load(&avail_mib) * MIB;
    r->footprint_bytes = r->limit_bytes - r->available_bytes;
    r->resident_bytes = r->footprint_bytes;
    r->valid = MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_LIMIT |
               MEMGAUGE_FIELD_AVAILABLE;
    r->footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
    return MEMGAUGE_OK;
}

static int pressure_synthetic(struct memgauge__os_pressure_s *p, void *ctx)
{
    (void)ctx;
    memset(p, 0, sizeof *p);
    p->level = atomic_load(&os_level);
    return 0;
}

static memgauge_pressure_event_t events[16];
static atomic_int n_events;

static void on_pressure(const memgauge_pressure_event_t *e, void *user)
{
    (void)user;
    int i = atomic_fetch_add(&n_events, 1);
    if (i < 16)
        events[i] = *e;
}

Test(journal, pressure_events_and_the_fast_interval_follow_the_headroom)
{
    memgauge_options_t o = options();
    o.record = 0;
    o.interval_ms = 200;
    o.window_ms = 1000;
    o.fast_interval_ms = 20;
    o.fast_growth_bytes_per_s = 0;
    o.on_pressure = on_pressure;
    memgauge__hooks_t hooks = {read_synthetic, NULL, pressure_synthetic, NULL};
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge__start_with(&o, &hooks, &h), MEMGAUGE_OK);
    wait_samples(h, 1);
    cr_assert_eq(stats_of(h).interval_ms, 200);

    atomic_store(&avail_mib, 100); /* 10 %: warning, and fast */
    mg_wait_until(interval_is, &(stat_wait_t){h, 20}, 2000);
    memgauge_stats_t s = stats_of(h);
    cr_assert_eq(s.interval_ms, 20);
    cr_assert_eq(s.pressure, MEMGAUGE_PRESSURE_WARNING);
    uint64_t before = s.samples;
    mg_sleep_ms(300); /* a span to count fast samples in */
    cr_assert_geq(stats_of(h).samples, before + 8, "fast sampling took only %llu samples",
                  (unsigned long long)(stats_of(h).samples - before));

    atomic_store(&os_level, MEMGAUGE_PRESSURE_CRITICAL);
    mg_wait_until(pressure_is, &(stat_wait_t){h, MEMGAUGE_PRESSURE_CRITICAL}, 2000);
    atomic_store(&os_level, MEMGAUGE_PRESSURE_NORMAL);
    atomic_store(&avail_mib, 800);
    mg_wait_until(interval_is, &(stat_wait_t){h, 200}, 2000);
    s = stats_of(h);
    cr_assert_eq(s.interval_ms, 200);
    cr_assert_eq(s.pressure, MEMGAUGE_PRESSURE_NORMAL);
    cr_assert_geq(s.fast_samples, 5);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);

    cr_assert_eq(atomic_load(&n_events), 3);
    cr_assert_eq(events[0].level, MEMGAUGE_PRESSURE_WARNING);
    cr_assert(events[0].from_headroom);
    cr_assert_eq(events[1].level, MEMGAUGE_PRESSURE_CRITICAL);
    cr_assert(events[1].from_os);
    cr_assert_eq(events[2].level, MEMGAUGE_PRESSURE_NORMAL);
    cr_assert_eq(s.pressure_events, 3);
}
