/*
 * How a session ended, told by the next start, end to end through
 * memgauge_start in forked children: every elimination signal (a clean
 * stop, exit, a noted crash, background, a hang, an upgrade, a debugger, a
 * reboot) and a plain kill that nothing explains.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "journal.h"
#include "record.h"
#include "session_child.h"
#include "support/support.h"

TestSuite(session_end, .fini = session_cleanup);

static void uuid_text(const uint8_t id[16], char out[40])
{
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0],
             id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12],
             id[13], id[14], id[15]);
}

/* How a session child ends. */
typedef enum ending_e {
    END_BY_STOP,           /* memgauge_stop, then _exit */
    END_BY_EXIT,           /* exit(): the atexit marker */
    END_BY_CRASH,          /* a real SIGSEGV whose handler calls memgauge_note_crash */
    END_KILLED,            /* SIGKILL, nothing else */
    END_KILLED_AFTER_NOTE, /* memgauge_note_crash(SIGABRT), then SIGKILL */
    END_KILLED_IN_BG,      /* memgauge_set_app_state(BACKGROUND), then SIGKILL */
    END_KILLED_HUNG,       /* memgauge_hang_begin, then SIGKILL */
    END_KILLED_AFTER_HANG, /* hang_begin, hang_end, then SIGKILL */
    END_KILLED_TRACED,     /* traced from before start (PTRACE_TRACEME), then SIGKILL */
    END_KILLED_SEIZED      /* traced from mid-session (PTRACE_SEIZE by the parent), then SIGKILL */
} ending_t;

static void on_crash(int signo)
{
    memgauge_note_crash(signo);
    /* SA_RESETHAND | SA_NODEFER: this raise ends the process at once */
    raise(signo);
}

static void session_child(const session_opts_t *s, ending_t how, int ready_fd)
{
    if (how == END_KILLED_TRACED && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
        _exit(116);
    memgauge_t *h = child_start(s);
    child_wait_samples(h, 3);
    switch (how) {
    case END_BY_STOP:
        _exit(memgauge_stop(h, 2000) == MEMGAUGE_OK ? 0 : 115);
    case END_BY_EXIT:
        exit(0);
    case END_BY_CRASH: {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        raise(SIGSEGV);
        _exit(114);
    }
    case END_KILLED_IN_BG:
        if (memgauge_set_app_state(MEMGAUGE_APP_BACKGROUND) != MEMGAUGE_OK)
            _exit(113);
        break;
    case END_KILLED_AFTER_NOTE:
        memgauge_note_crash(SIGABRT);
        break;
    case END_KILLED_HUNG:
        memgauge_hang_begin();
        break;
    case END_KILLED_AFTER_HANG:
        memgauge_hang_begin();
        memgauge_hang_end();
        break;
    case END_KILLED:
    case END_KILLED_TRACED:
    case END_KILLED_SEIZED:
        break;
    }
    char ok = 'R';
    if (mg_write_full(ready_fd, &ok, 1) != 0)
        _exit(120);
    for (;;)
        pause(); /* the parent's SIGKILL ends it */
}

static int record_shows_debugger(void *dir)
{
    memgauge__record_view_t v;
    return parse_record(dir, &v, NULL, 0, NULL) == MEMGAUGE__RECORD_OK && v.body.debugger == 1;
}

/* Runs one session to the given end; returns the child's pid. */
static pid_t run_session(const session_opts_t *s, ending_t how)
{
    int fd;
    pid_t pid = fork_piped(&fd);
    if (pid == 0) {
        session_child(s, how, fd);
        _exit(112);
    }
    int status;
    if (how == END_BY_STOP || how == END_BY_EXIT || how == END_BY_CRASH) {
        status = wait_child(pid, CHILD_TIMEOUT_MS);
        close(fd);
        if (how == END_BY_CRASH)
            cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                      "the crashing child did not die of SIGSEGV: status 0x%x", status);
        else
            cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "session child failed: status 0x%x", status);
        return pid;
    }
    char ready;
    int got = mg_read_full(fd, &ready, 1);
    close(fd);
    if (got != 0) {
        status = wait_child(pid, CHILD_TIMEOUT_MS);
        cr_assert_fail("session child ended before it was ready: status 0x%x", status);
    }
    if (how == END_KILLED_SEIZED) {
        /* a real tracer, attached mid-session: the sampler's periodic check
         * (every 5 s, journal.c DEBUGGER_CHECK_NS) must see it */
        cr_assert_eq(ptrace(PTRACE_SEIZE, pid, NULL, NULL), 0, "PTRACE_SEIZE: %s", strerror(errno));
        if (!mg_wait_until(record_shows_debugger, (void *)s->dir, 10000)) {
            kill(pid, SIGKILL);
            wait_child(pid, CHILD_TIMEOUT_MS);
            cr_assert_fail("the record never showed the tracer within 10 s");
        }
    }
    cr_assert_eq(kill(pid, SIGKILL), 0);
    status = wait_child(pid, CHILD_TIMEOUT_MS);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child was not SIGKILLed: status 0x%x", status);
    return pid;
}

static session_opts_t opts_for(const char *dir, const char *version)
{
    return (session_opts_t){
        .dir = dir, .version = version, .build = "100", .interval_ms = 20, .trail_seconds = 5};
}

/* The previous session as the next start tells it, checked against the
 * record the session left (same session id, pid and sample count). */
static diagnosis_t diagnose_after(const session_opts_t *next, pid_t previous_pid)
{
    memgauge__record_view_t v;
    cr_assert_eq(parse_record(next->dir, &v, NULL, 0, NULL), MEMGAUGE__RECORD_OK,
                 "the session left no whole record");
    static diagnosis_t d;
    diagnose_in_child(next, &d);
    char id[40];
    uuid_text(v.body.session_id, id);
    cr_assert_str_eq(d.p.session_id, id, "diagnosed another session");
    cr_assert_eq(d.p.pid, (uint64_t)previous_pid);
    cr_assert_geq(d.p.samples, 3, "the session took %llu samples, at least 3 before it ended",
                  (unsigned long long)d.p.samples);
    return d;
}

/* A session of version 1.0 ended the given way in a fresh directory, as
 * the next start of the same version tells it. */
static diagnosis_t session_ended(const char *tag, ending_t how)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, tag);
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, how);
    return diagnose_after(&s, pid);
}

static void assert_verdict(const diagnosis_t *d, int verdict)
{
    cr_assert_eq(d->p.verdict, verdict, "verdict %s (%d), expected %s (%d)",
                 memgauge_end_name(d->p.verdict), d->p.verdict, memgauge_end_name(verdict),
                 verdict);
    cr_assert_eq(d->p.confidence, MEMGAUGE_CONFIDENCE_NONE,
                 "an eliminated session has confidence none, not %s",
                 memgauge_confidence_name(d->p.confidence));
}

Test(session_end, memgauge_stop_reads_as_clean_stop)
{
    diagnosis_t d = session_ended("end-stop", END_BY_STOP);
    assert_verdict(&d, MEMGAUGE_END_CLEAN_STOP);
}

Test(session_end, exit_without_stop_reads_as_exit)
{
    diagnosis_t d = session_ended("end-exit", END_BY_EXIT);
    assert_verdict(&d, MEMGAUGE_END_EXIT);
}

Test(session_end, crash_noted_by_a_signal_handler_reads_as_crash_with_its_signal)
{
    diagnosis_t d = session_ended("end-crash", END_BY_CRASH);
    assert_verdict(&d, MEMGAUGE_END_CRASH);
    cr_assert_eq(d.p.crash_signal, SIGSEGV);
}

Test(session_end, crash_noted_then_sigkill_reads_as_crash)
{
    diagnosis_t d = session_ended("end-note", END_KILLED_AFTER_NOTE);
    assert_verdict(&d, MEMGAUGE_END_CRASH);
    cr_assert_eq(d.p.crash_signal, SIGABRT);
}

Test(session_end, sigkill_with_plenty_of_memory_left_is_unexplained_never_an_oom)
{
    diagnosis_t d = session_ended("end-kill", END_KILLED);
    assert_killed_verdict(&d);
    cr_assert_gt(d.p.trail_count, 0, "a killed session leaves its trail");
    /* The child held a few MiB on a machine with gigabytes available (with
     * or without a cgroup limit): the kernel said so, and a kill then is no
     * OOM. */
    cr_assert_gt(d.p.available_bytes, 0, "the kernel reported no available memory");
    cr_assert_gt(d.p.headroom_ppm, 500000,
                 "only %u ppm headroom at the end: this test needs "
                 "memory to spare",
                 d.p.headroom_ppm);
    cr_assert_eq(d.p.verdict, MEMGAUGE_END_UNEXPLAINED,
                 "a kill with %llu bytes available (limit %llu) read as %s/%s, evidence %#x",
                 (unsigned long long)d.p.available_bytes, (unsigned long long)d.p.limit_bytes,
                 memgauge_end_name(d.p.verdict), memgauge_confidence_name(d.p.confidence),
                 d.p.evidence);
    cr_assert_eq(d.p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(session_end, sigkill_in_the_background_reads_as_background_kill)
{
    diagnosis_t d = session_ended("end-bg", END_KILLED_IN_BG);
    assert_verdict(&d, MEMGAUGE_END_BACKGROUND_KILL);
    cr_assert_eq(d.p.app_state, MEMGAUGE_APP_BACKGROUND);
}

Test(session_end, sigkill_during_a_hang_reads_as_hang_kill)
{
    diagnosis_t d = session_ended("end-hang", END_KILLED_HUNG);
    assert_verdict(&d, MEMGAUGE_END_HANG_KILL);
}

Test(session_end, sigkill_after_a_hang_ended_is_not_a_hang_kill)
{
    diagnosis_t d = session_ended("end-hangover", END_KILLED_AFTER_HANG);
    assert_killed_verdict(&d);
}

Test(session_end, new_app_version_reads_as_app_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-upgrade");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    session_opts_t next = opts_for(dir, "1.1");
    diagnosis_t d = diagnose_after(&next, pid);
    assert_verdict(&d, MEMGAUGE_END_APP_UPGRADED);
    cr_assert_str_eq(d.p.app_version, "1.0");
}

Test(session_end, new_app_build_reads_as_app_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-build");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    session_opts_t next = s;
    next.build = "101";
    diagnosis_t d = diagnose_after(&next, pid);
    assert_verdict(&d, MEMGAUGE_END_APP_UPGRADED);
    cr_assert_str_eq(d.p.app_build, "100");
}

Test(session_end, tracer_attached_before_start_reads_as_debugger)
{
    diagnosis_t d = session_ended("end-traced", END_KILLED_TRACED);
    assert_verdict(&d, MEMGAUGE_END_DEBUGGER);
}

Test(session_end, tracer_attached_mid_session_reads_as_debugger, .timeout = 60)
{
    diagnosis_t d = session_ended("end-seized", END_KILLED_SEIZED);
    assert_verdict(&d, MEMGAUGE_END_DEBUGGER);
}

/* A reboot or an OS upgrade cannot be produced inside a test, so the killed
 * session's record is rewritten with the value the previous boot or OS would
 * have left: parsed, one field changed, and written back through the
 * record's own writer (same markers, same trail, a valid slot). */
static void rewrite_record(const char *dir, void (*edit)(memgauge__record_body_t *))
{
    enum { CAP = 4096 };
    static memgauge__trail_entry_t trail[CAP];
    memgauge__record_view_t v;
    size_t len = 0;
    cr_assert_eq(parse_record(dir, &v, trail, CAP, &len), MEMGAUGE__RECORD_OK);
    size_t entry = sizeof(memgauge__trail_entry_t);
    uint32_t capacity = (uint32_t)((len - memgauge__record_size(0)) / entry);
    cr_assert_eq(memgauge__record_size(capacity), len, "not a whole number of trail entries");
    edit(&v.body);
    char path[600];
    path_in(path, sizeof path, dir, MEMGAUGE__RECORD_FILE);
    memgauge__record_t r;
    cr_assert_eq(memgauge__record_create(&r, path, capacity, &v.body), 0, "record_create: %s",
                 strerror(errno));
    for (size_t i = 0; i < v.trail_count; i++)
        memgauge__record_update(&r, &v.body, &trail[i]);
    for (int m = 0; m < MEMGAUGE__MARK_COUNT; m++) {
        uint32_t payload;
        if (memgauge__record_marker(&v, m, &payload))
            memgauge__record_mark(r.markers, m, payload);
    }
    memgauge__record_close(&r);
}

static void other_os(memgauge__record_body_t *b)
{
    cr_assert_neq(b->os_version[0], '\0', "the platform reported no OS version");
    snprintf(b->os_version, sizeof b->os_version, "Linux 0.0.1-previous-os");
}

static void other_boot(memgauge__record_body_t *b)
{
    cr_assert_neq(b->boot_id[0], '\0', "the platform reported no boot id");
    snprintf(b->boot_id, sizeof b->boot_id, "00000000-0000-4000-8000-000000000000");
}

Test(session_end, other_os_version_in_the_record_reads_as_os_upgraded)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-os");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    rewrite_record(dir, other_os);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_OS_UPGRADED);
    cr_assert_str_eq(d.p.os_version, "Linux 0.0.1-previous-os");
}

Test(session_end, other_boot_id_in_the_record_reads_as_reboot)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "end-boot");
    session_opts_t s = opts_for(dir, "1.0");
    pid_t pid = run_session(&s, END_KILLED);
    rewrite_record(dir, other_boot);
    diagnosis_t d = diagnose_after(&s, pid);
    assert_verdict(&d, MEMGAUGE_END_REBOOT);
}
