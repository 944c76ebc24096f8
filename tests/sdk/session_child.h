/*
 * The SDK in forked children, for the suites that end sessions for real
 * (test_oom_kill.c, test_session_end.c, test_random_kill.c): each test's
 * state directory and cgroup, a child that starts the SDK as an app would,
 * the next start's diagnosis sent back through a pipe, and the session
 * record as a later process reads it.
 */
#ifndef MEMGAUGE_TEST_SESSION_CHILD_H
#define MEMGAUGE_TEST_SESSION_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <memgauge/memgauge.h>

#include "record.h"

#define MIB (UINT64_C(1) << 20)
#define NS_PER_MS UINT64_C(1000000)

#define APP_ID "memgauge-killtest"
/* Trail points a diagnosing child sends back. */
#define TRAIL_BACK 64
/* A child that neither ends nor is killed within this is stuck. */
#define CHILD_TIMEOUT_MS 20000u

/* The test's cgroup directory, removed by session_cleanup when set. */
extern char g_cgroup[512];

/* A fresh, empty state directory under /var/tmp (a real disk file system,
 * as an app's state directory would be), removed by session_cleanup. */
void fresh_dir(char *dir, size_t cap, const char *tag);

/* The suites' .fini: removes the state directory and the cgroup whatever
 * the test's outcome. */
void session_cleanup(void);

void path_in(char *out, size_t cap, const char *dir, const char *name);

/* Waits for a child, SIGKILLing it (and failing the test) after timeout_ms. */
int wait_child(pid_t pid, uint32_t timeout_ms);

/* Forks with a pipe from the child to the parent (close-on-exec): the
 * child (0 returned) gets its write end in *fd, the parent its read end. */
pid_t fork_piped(int *fd);

typedef struct session_opts_s {
    const char *dir;
    const char *version;
    const char *build;
    uint32_t interval_ms;
    uint32_t trail_seconds;
} session_opts_t;

/* Child side: memgauge_start as an app would; exits the child on failure
 * (exit 101 .. 126 is MEMGAUGE_E_* 1 .. 26). */
memgauge_t *child_start(const session_opts_t *s);

/* Child side: waits (bounded) for the sampler's n-th sample, else exits. */
void child_wait_samples(memgauge_t *h, uint64_t n);

/* What a start in a fresh child says about the previous session. */
typedef struct diagnosis_s {
    memgauge_previous_session_t p; /* trail pointer cleared: see `trail` */
    size_t trail_count;            /* the last min(p.trail_count, TRAIL_BACK) points */
    memgauge_trail_point_t trail[TRAIL_BACK];
} diagnosis_t;

void diagnose_in_child(const session_opts_t *s, diagnosis_t *out);

/* The newest session record in `dir`, parsed. Returns the parse status, or
 * -1 when there is no record file. */
int parse_record(const char *dir, memgauge__record_view_t *v, memgauge__trail_entry_t *trail,
                 size_t cap, size_t *file_len);

/* A killed session that nothing eliminates: an OOM suspect, or unexplained
 * with memory to spare. */
void assert_killed_verdict(const diagnosis_t *d);

#endif
