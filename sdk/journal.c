/* The session journal. See journal.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "journal.h"

#define DEBUGGER_CHECK_NS (5ull * 1000000000ull)

/* ---- process-wide markers ------------------------------------------------ */

/* The running session's marker words (in the mapped record), or NULL. The
 * in-flight count lets close() wait for a marker store from another thread
 * before it unmaps; a signal handler on the closing thread itself runs
 * either wholly before the pointer is cleared or sees NULL. */
static _Atomic(_Atomic(uint32_t) *) g_markers;
static atomic_int g_in_flight;
static atomic_int g_app_state;
static atomic_int g_hang_depth;
static atomic_int g_launch_flags;
static atomic_int g_thermal;
static atomic_int g_memory_warnings; /* saturates at 0xFFFF in the record */
static _Atomic uint64_t g_memory_warnings_total;
static atomic_int g_atexit_registered;

static void mark(int which, uint32_t payload)
{
    atomic_fetch_add(&g_in_flight, 1);
    _Atomic(uint32_t) *m = atomic_load(&g_markers);
    if (m != NULL)
        memgauge__record_mark(m, which, payload);
    atomic_fetch_sub(&g_in_flight, 1);
}

/* Writes the marker from `source` until what was written is still the
 * current value: two threads changing the source at once may write in
 * either order, and the one that wrote a stale value writes again. */
static void mark_current(int which, atomic_int *source)
{
    int value;
    do {
        value = atomic_load(source);
        mark(which, (uint32_t)value);
    } while (atomic_load(source) != value);
}

int memgauge_set_app_state(int state)
{
    if (state < MEMGAUGE_APP_UNKNOWN || state > MEMGAUGE_APP_BACKGROUND)
        return MEMGAUGE_E_APP_STATE;
    atomic_store(&g_app_state, state);
    mark_current(MEMGAUGE__MARK_APP_STATE, &g_app_state);
    return MEMGAUGE_OK;
}

int memgauge_set_thermal_state(int state)
{
    if (state < MEMGAUGE_THERMAL_NOMINAL || state > MEMGAUGE_THERMAL_CRITICAL)
        return MEMGAUGE_E_THERMAL_STATE;
    atomic_store(&g_thermal, state);
    mark_current(MEMGAUGE__MARK_THERMAL, &g_thermal);
    return MEMGAUGE_OK;
}

int memgauge_set_launch_flags(uint32_t flags)
{
    if (flags & ~(uint32_t)(MEMGAUGE_LAUNCH_PREWARMED | MEMGAUGE_LAUNCH_EXTENSION))
        return MEMGAUGE_E_LAUNCH_FLAGS;
    atomic_store(&g_launch_flags, (int)flags);
    mark_current(MEMGAUGE__MARK_LAUNCH, &g_launch_flags);
    return MEMGAUGE_OK;
}

void memgauge_note_memory_warning(void)
{
    atomic_fetch_add(&g_memory_warnings_total, 1);
    int n = atomic_load(&g_memory_warnings);
    while (n < 0xFFFF && !atomic_compare_exchange_weak(&g_memory_warnings, &n, n + 1))
        ;
    mark_current(MEMGAUGE__MARK_MEMORY_WARNINGS, &g_memory_warnings);
}

uint64_t memgauge__journal_memory_warnings(void)
{
    return atomic_load(&g_memory_warnings_total);
}

void memgauge__journal_platform_facts(uint64_t *memory_warnings, int32_t *thermal,
                                      uint32_t *launch_flags)
{
    *memory_warnings = atomic_load(&g_memory_warnings_total);
    *thermal = atomic_load(&g_thermal);
    *launch_flags = (uint32_t)atomic_load(&g_launch_flags);
}

void memgauge_note_crash(int signal_number)
{
    mark(MEMGAUGE__MARK_CRASH, (uint32_t)(signal_number < 0 ? 0 : signal_number));
}

void memgauge_hang_begin(void)
{
    atomic_fetch_add(&g_hang_depth, 1);
    mark_current(MEMGAUGE__MARK_HANG, &g_hang_depth);
}

void memgauge_hang_end(void)
{
    int depth = atomic_load(&g_hang_depth);
    while (depth > 0 && !atomic_compare_exchange_weak(&g_hang_depth, &depth, depth - 1))
        ;
    mark_current(MEMGAUGE__MARK_HANG, &g_hang_depth);
}

static void on_exit_mark(void)
{
    mark(MEMGAUGE__MARK_EXIT, 0);
}

static void publish(memgauge__record_t *rec)
{
    atomic_store(&g_markers, rec->markers);
    /* after publishing, so that a change racing with it is written again */
    mark_current(MEMGAUGE__MARK_APP_STATE, &g_app_state);
    mark_current(MEMGAUGE__MARK_HANG, &g_hang_depth);
    mark_current(MEMGAUGE__MARK_LAUNCH, &g_launch_flags);
    mark_current(MEMGAUGE__MARK_THERMAL, &g_thermal);
    /* a new session counts its own warnings */
    atomic_store(&g_memory_warnings, 0);
    mark_current(MEMGAUGE__MARK_MEMORY_WARNINGS, &g_memory_warnings);
    if (atomic_exchange(&g_atexit_registered, 1) == 0)
        atexit(on_exit_mark);
}

static void unpublish(void)
{
    atomic_store(&g_markers, NULL);
    while (atomic_load(&g_in_flight) != 0)
        sched_yield();
}

void memgauge__journal_forget_after_fork(void)
{
    /* the child must never write into its parent's record */
    atomic_store(&g_markers, NULL);
    atomic_store(&g_in_flight, 0);
}

/* ---- start --------------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void memgauge__default_app_id(const memgauge__identity_t *id, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = id->exe_name; *p && n + 1 < cap && n < MEMGAUGE__APP_ID_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        copy_str(out, cap, "app");
}

/* mkdir -p with 0700 for what it creates. */
static int make_dirs(const char *dir)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return access(path, W_OK | X_OK);
}

/* Reads the previous record if there is one. Sets *absent, *busy or
 * *denied (the system refuses it to us for now), or returns a heap image of
 * the file in *buf. */
static int load_previous(const char *path, unsigned char **buf, size_t *len, int *absent, int *busy,
                         int *denied)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        /* Before the first unlock after a reboot, iOS refuses a protected
         * file with EPERM: the record is there, just not to be read yet */
        *denied = errno == EPERM || errno == EACCES;
        *absent = errno == ENOENT;
        return *absent || *denied ? 0 : -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        *busy = 1;
        return 0;
    }
    struct stat st;
    size_t cap = memgauge__record_size(MEMGAUGE__RECORD_MAX_TRAIL);
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        close(fd);
        return -1;
    }
    /* an oversized file is read only in part: the parser calls it BAD_SIZE */
    size_t want = (size_t)st.st_size < cap ? (size_t)st.st_size : cap + 1;
    unsigned char *b = malloc(want ? want : 1);
    ssize_t got = 0;
    while (b != NULL && (size_t)got < want) {
        ssize_t n = pread(fd, b + got, want - (size_t)got, got);
        if (n <= 0)
            break;
        got += n;
    }
    close(fd);
    if (b == NULL)
        return -1;
    *buf = b;
    *len = (size_t)got;
    return 0;
}

static void to_points(memgauge__journal_t *j, const memgauge__trail_entry_t *t, size_t n)
{
    j->previous_trail = n ? calloc(n, sizeof *j->previous_trail) : NULL;
    if (j->previous_trail == NULL)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        memgauge_trail_point_t *p = &j->previous_trail[i];
        p->seq = t[i].seq;
        p->wall_ns = t[i].wall_ns;
        p->footprint_bytes = t[i].footprint;
        p->resident_bytes = t[i].resident;
        p->available_bytes = t[i].available;
        p->limit_bytes = t[i].limit;
        p->kernel_peak_bytes = t[i].kernel_peak;
        p->pressure = (int32_t)t[i].pressure;
    }
    j->previous.trail = j->previous_trail;
    j->previous.trail_count = n;
}

/* Returns 0, or the errno that keeps the previous record from us for now
 * (it is then left for a later launch, and this one runs without). */
static int diagnose_previous(memgauge__journal_t *j, const memgauge_options_t *opts,
                             const char *path, const memgauge__os_pressure_t *os)
{
    unsigned char *buf;
    size_t len;
    int absent = 0, busy = 0, denied = 0;
    memgauge__diagnosis_input_t in;
    memset(&in, 0, sizeof in);
    memgauge__record_view_t view;
    memgauge__trail_entry_t *trail = NULL;
    if (load_previous(path, &buf, &len, &absent, &busy, &denied) != 0) {
        in.parse_status = MEMGAUGE__RECORD_BAD_SIZE; /* exists but cannot be read */
    } else if (denied) {
        j->previous.struct_size = sizeof j->previous;
        j->previous.verdict = MEMGAUGE_END_NONE; /* nothing known yet: never "unreadable" */
        return EPERM;
    } else if (!absent && !busy) {
        size_t cap = len / sizeof *trail + 1;
        trail = malloc(cap * sizeof *trail);
        in.parse_status = memgauge__record_parse(buf, len, &view, trail, trail ? cap : 0);
        in.prev = &view;
        in.trail = trail;
        in.trail_count = in.parse_status == MEMGAUGE__RECORD_OK ? view.trail_count : 0;
    }
    free(buf);
    in.absent = absent;
    in.still_running = busy;
    in.identity = &j->identity;
    in.app_version = opts->app_version ? opts->app_version : "";
    in.app_build = opts->app_build ? opts->app_build : "";
    in.has_oom_kills = os->has_oom_kills;
    in.oom_kills = os->oom_kills;
    j->previous.struct_size = sizeof j->previous;
    memgauge__diagnose(&in, &j->previous);
    if (in.prev != NULL && in.parse_status == MEMGAUGE__RECORD_OK)
        copy_str(j->previous.os_build, sizeof j->previous.os_build, view.body.os_build);
    to_points(j, trail, in.trail_count);
    free(trail);
    return 0;
}

static void fill_body(memgauge__journal_t *j, const memgauge_options_t *opts, const char *app_id,
                      const memgauge__os_pressure_t *os)
{
    memgauge__record_body_t *b = &j->body;
    memset(b, 0, sizeof *b);
    memgauge__uuid_v4(b->session_id);
    b->pid = (uint64_t)getpid();
    b->start_wall_ns = b->last_wall_ns = memgauge__wall_ns();
    b->interval_ms = opts->interval_ms;
    b->has_oom_kills = (uint32_t)os->has_oom_kills;
    b->oom_kills = os->oom_kills;
    b->debugger = (uint32_t)memgauge__platform_debugger_attached();
    copy_str(b->app_id, sizeof b->app_id, app_id);
    copy_str(b->app_version, sizeof b->app_version, opts->app_version);
    copy_str(b->app_build, sizeof b->app_build, opts->app_build);
    copy_str(b->sdk_version, sizeof b->sdk_version, MEMGAUGE_VERSION_STRING);
    copy_str(b->boot_id, sizeof b->boot_id, j->identity.boot_id);
    copy_str(b->os_version, sizeof b->os_version, j->identity.os_version);
    copy_str(b->os_build, sizeof b->os_build, j->identity.os_build);
    copy_str(b->build_id, sizeof b->build_id, j->identity.build_id);
    copy_str(b->device_model, sizeof b->device_model, j->identity.device_model);
}

int memgauge__journal_open(memgauge__journal_t *j, const memgauge_options_t *opts,
                           uint32_t trail_capacity)
{
    memset(j, 0, sizeof *j);
    j->rec.fd = -1;
    j->previous.struct_size = sizeof j->previous;
    if (!opts->record)
        return MEMGAUGE_OK;
    memgauge__platform_identity(&j->identity);
    char app_id[MEMGAUGE__APP_ID_MAX + 1];
    if (opts->app_id != NULL)
        copy_str(app_id, sizeof app_id, opts->app_id);
    else
        memgauge__default_app_id(&j->identity, app_id, sizeof app_id);
    if (opts->storage_dir != NULL)
        copy_str(j->dir, sizeof j->dir, opts->storage_dir);
    else if (memgauge__platform_default_state_dir(app_id, j->dir, sizeof j->dir) != 0)
        return MEMGAUGE_E_STORAGE_DIR;
    if (make_dirs(j->dir) != 0)
        return MEMGAUGE_E_STORAGE_DIR;

    char path[600], previous[600], lock[600];
    snprintf(path, sizeof path, "%s/%s", j->dir, MEMGAUGE__RECORD_FILE);
    snprintf(previous, sizeof previous, "%s/%s", j->dir, MEMGAUGE__PREVIOUS_FILE);
    snprintf(lock, sizeof lock, "%s/%s", j->dir, MEMGAUGE__LOCK_FILE);
    /* Two processes of the same app starting at once take turns: each reads
     * the previous record and puts its own in place as one step. */
    int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        /* a writable directory that cannot take one more (empty) file is
         * full: measure without a record rather than not at all */
        j->record_errno = errno != 0 ? errno : EIO;
        if (lock_fd >= 0)
            close(lock_fd);
        return MEMGAUGE_OK;
    }
    memgauge__os_pressure_t os;
    memset(&os, 0, sizeof os);
    memgauge__platform_pressure(&os);
    int denied = diagnose_previous(j, opts, path, &os);
    if (denied != 0) {
        j->record_errno = denied; /* the previous record waits for a later launch */
    } else if (j->previous.verdict != MEMGAUGE_END_STILL_RUNNING) {
        /* keep the last session's file for inspection; the new one replaces it */
        rename(path, previous);
        fill_body(j, opts, app_id, &os);
        if (memgauge__record_create(&j->rec, path, trail_capacity, &j->body) == 0)
            j->enabled = 1;
        else /* e.g. ENOSPC: the session goes on without a record (issue 13) */
            j->record_errno = errno != 0 ? errno : EIO;
    } /* else the other process keeps its record; this one runs without */
    close(lock_fd);
    if (!j->enabled)
        return MEMGAUGE_OK;
    j->debugger_checked_ns = memgauge__now_ns();
    publish(&j->rec);
    return MEMGAUGE_OK;
}

void memgauge__journal_sample(memgauge__journal_t *j, const memgauge_sample_t *s,
                              uint64_t session_peak, int pressure,
                              const memgauge__os_pressure_t *os, uint32_t interval_ms)
{
    if (!j->enabled)
        return;
    memgauge__record_body_t *b = &j->body;
    uint64_t wall = memgauge__wall_ns();
    if (s->time_ns - j->debugger_checked_ns >= DEBUGGER_CHECK_NS) {
        j->debugger_checked_ns = s->time_ns;
        if (memgauge__platform_debugger_attached())
            b->debugger = 1; /* once attached, the session counts as debugged */
    }
    b->last_wall_ns = wall;
    b->samples = s->seq;
    b->interval_ms = interval_ms;
    b->last_footprint = s->footprint_bytes;
    b->last_resident = s->resident_bytes;
    b->kernel_peak = s->kernel_peak_bytes;
    b->session_peak = session_peak;
    b->limit = s->limit_bytes;
    b->available = s->available_bytes;
    b->pressure = (uint32_t)pressure;
    b->footprint_source = (uint32_t)s->footprint_source;
    if (os->has_oom_kills) {
        b->has_oom_kills = 1;
        b->oom_kills = os->oom_kills;
    }
    memgauge__trail_entry_t e;
    memset(&e, 0, sizeof e);
    e.seq = s->seq;
    e.wall_ns = wall;
    e.footprint = s->footprint_bytes;
    e.resident = s->resident_bytes;
    e.available = s->available_bytes;
    e.limit = s->limit_bytes;
    e.kernel_peak = s->kernel_peak_bytes;
    e.pressure = (uint32_t)pressure;
    memgauge__record_update(&j->rec, b, &e);
}

void memgauge__journal_close(memgauge__journal_t *j, int clean)
{
    if (j->enabled) {
        if (clean)
            memgauge__record_mark(j->rec.markers, MEMGAUGE__MARK_CLEAN_STOP, 0);
        if (atomic_load(&g_markers) == j->rec.markers)
            unpublish();
        memgauge__record_close(&j->rec);
        j->enabled = 0;
    }
    free(j->previous_trail);
    j->previous_trail = NULL;
    j->previous.trail = NULL;
    j->previous.trail_count = 0;
}
