/*
 * Hundreds of SIGKILLs at random moments of a sampling, allocating child:
 * the record left behind is never torn and never carries an end marker, and
 * the next start never reads the session as ended cleanly.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "record.h"
#include "session_child.h"
#include "support/support.h"

TestSuite(random_kill, .fini = session_cleanup);

#define RANDOM_KILLS 200
#define RANDOM_KILL_MAX_US 50000u
#define KILL_INTERVAL_MS 10u
#define KILL_TRAIL_SECONDS 1u
#define KILL_ALLOC_CHUNK (256u * 1024u)
#define KILL_ALLOC_CHUNKS 128 /* 32 MiB, then freed and again */

/* A sampling app that allocates until it is killed; it says when its
 * memgauge_start has returned. */
static void allocating_child(const session_opts_t *s, int started_fd)
{
    memgauge_t *h = child_start(s);
    (void)h;
    char ok = 'S';
    if (mg_write_full(started_fd, &ok, 1) != 0)
        _exit(120);
    static char *chunks[KILL_ALLOC_CHUNKS];
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < KILL_ALLOC_CHUNKS; i++) {
            chunks[i] = malloc(KILL_ALLOC_CHUNK);
            if (chunks[i] != NULL)
                memset(chunks[i], round + i, KILL_ALLOC_CHUNK);
        }
        for (int i = 0; i < KILL_ALLOC_CHUNKS; i++)
            free(chunks[i]);
    }
    _exit(111); /* never reached within the parent's 50 ms */
}

typedef struct kill_tally_s {
    int absent;         /* killed before the record existed */
    int whole;          /* a whole record */
    int with_samples;   /* ... holding at least one sample */
    int newest_in_slot; /* the trail's newest entry was the slot's sample */
    int newest_ahead;   /* the trail's newest entry was one sample ahead of the slot */
    uint64_t max_samples;
} kill_tally_t;

/* Checks one killed child's record; returns 1 when it exists. */
static int check_killed_record(const char *dir, pid_t pid, int started, uint64_t fork_ns,
                               uint64_t kill_ns, int round, kill_tally_t *t)
{
    enum { CAP = 2048 };
    static memgauge__trail_entry_t trail[CAP];
    memgauge__record_view_t v;
    size_t len = 0;
    int rc = parse_record(dir, &v, trail, CAP, &len);
    if (rc < 0) {
        cr_assert(!started, "round %d: memgauge_start returned but no record exists", round);
        t->absent++;
        return 0;
    }
    cr_assert_eq(rc, MEMGAUGE__RECORD_OK, "round %d: the record was read as torn (parse %d)", round,
                 rc);
    t->whole++;
    const memgauge__record_body_t *b = &v.body;
    uint32_t capacity =
        (uint32_t)((len - memgauge__record_size(0)) / sizeof(memgauge__trail_entry_t));
    cr_assert_eq(b->pid, (uint64_t)pid, "round %d: another process's record", round);
    cr_assert_str_eq(b->app_id, APP_ID);
    cr_assert_str_eq(b->app_version, "7.0");
    /* the slot's sequence and its body were written together */
    cr_assert_eq(v.slot_seq, b->samples + 1, "round %d: slot %llu holds samples=%llu", round,
                 (unsigned long long)v.slot_seq, (unsigned long long)b->samples);
    cr_assert(b->start_wall_ns >= fork_ns && b->start_wall_ns <= b->last_wall_ns &&
                  b->last_wall_ns <= kill_ns,
              "round %d: times out of order: fork %llu start %llu last %llu kill %llu", round,
              (unsigned long long)fork_ns, (unsigned long long)b->start_wall_ns,
              (unsigned long long)b->last_wall_ns, (unsigned long long)kill_ns);
    cr_assert(!memgauge__record_marker(&v, MEMGAUGE__MARK_CLEAN_STOP, NULL) &&
                  !memgauge__record_marker(&v, MEMGAUGE__MARK_EXIT, NULL) &&
                  !memgauge__record_marker(&v, MEMGAUGE__MARK_CRASH, NULL),
              "round %d: a killed session carries an end marker", round);
    cr_assert_leq(v.trail_count, capacity);
    uint64_t prev_seq = 0, prev_wall = b->start_wall_ns;
    for (size_t i = 0; i < v.trail_count; i++) {
        const memgauge__trail_entry_t *e = &trail[i];
        cr_assert_gt(e->seq, prev_seq, "round %d: trail seqs not strictly increasing", round);
        cr_assert_leq(e->seq, b->samples + 1,
                      "round %d: trail entry %llu is more than one ahead of samples=%llu", round,
                      (unsigned long long)e->seq, (unsigned long long)b->samples);
        cr_assert(e->wall_ns >= prev_wall && e->wall_ns <= kill_ns,
                  "round %d: trail entry %llu at %llu outside [%llu, %llu]", round,
                  (unsigned long long)e->seq, (unsigned long long)e->wall_ns,
                  (unsigned long long)prev_wall, (unsigned long long)kill_ns);
        cr_assert(e->footprint > 0 && e->footprint < 4096 * MIB && e->resident >= MIB,
                  "round %d: implausible trail entry: footprint %llu resident %llu", round,
                  (unsigned long long)e->footprint, (unsigned long long)e->resident);
        prev_seq = e->seq;
        prev_wall = e->wall_ns;
    }
    if (b->samples > 0) {
        t->with_samples++;
        /* every sample up to the slot's is in the trail; the one after it
         * only if its entry was whole when the kill came */
        uint64_t expect = b->samples < capacity - 1 ? b->samples : capacity - 1;
        cr_assert_geq(v.trail_count, expect, "round %d: %zu trail entries for %llu samples", round,
                      v.trail_count, (unsigned long long)b->samples);
        uint64_t newest = trail[v.trail_count - 1].seq;
        cr_assert(newest == b->samples || newest == b->samples + 1,
                  "round %d: newest trail entry %llu for samples=%llu", round,
                  (unsigned long long)newest, (unsigned long long)b->samples);
        if (newest == b->samples)
            t->newest_in_slot++;
        else
            t->newest_ahead++;
        if (b->samples > t->max_samples)
            t->max_samples = b->samples;
    }
    return 1;
}

Test(random_kill, sigkill_at_random_moments_never_leaves_a_torn_or_clean_record, .timeout = 180)
{
    char dir[128];
    fresh_dir(dir, sizeof dir, "randkill");
    session_opts_t s = {.dir = dir,
                        .version = "7.0",
                        .build = "1",
                        .interval_ms = KILL_INTERVAL_MS,
                        .trail_seconds = KILL_TRAIL_SECONDS};
    unsigned seed = (unsigned)mg_wall_ns();
    const char *env = getenv("MEMGAUGE_KILL_SEED");
    if (env != NULL)
        seed = (unsigned)strtoul(env, NULL, 10);
    fprintf(stderr, "random_kill: seed %u (set MEMGAUGE_KILL_SEED to repeat)\n", seed);
    kill_tally_t t;
    memset(&t, 0, sizeof t);
    for (int round = 0; round < RANDOM_KILLS; round++) {
        cr_assert_eq(mg_clear_dir(dir), 0, "%s: %s", dir, strerror(errno));
        uint64_t delay_us = (uint64_t)rand_r(&seed) % (RANDOM_KILL_MAX_US + 1);
        uint64_t fork_ns = mg_wall_ns();
        int fd;
        pid_t pid = fork_piped(&fd);
        if (pid == 0)
            allocating_child(&s, fd);
        mg_sleep_us(delay_us);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status = wait_child(pid, CHILD_TIMEOUT_MS);
        uint64_t kill_ns = mg_wall_ns();
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "round %d: the child ended on its own before the kill: status 0x%x", round,
                  status);
        char started = 0;
        int got = (int)read(fd, &started, 1);
        close(fd);
        int exists =
            check_killed_record(dir, pid, got == 1 && started == 'S', fork_ns, kill_ns, round, &t);

        static diagnosis_t d;
        diagnose_in_child(&s, &d);
        cr_assert(d.p.verdict != MEMGAUGE_END_CLEAN_STOP && d.p.verdict != MEMGAUGE_END_EXIT,
                  "round %d (kill after %llu us): a killed session read as %s", round,
                  (unsigned long long)delay_us, memgauge_end_name(d.p.verdict));
        if (!exists)
            cr_assert_eq(d.p.verdict, MEMGAUGE_END_NONE, "round %d: no record, yet verdict %s",
                         round, memgauge_end_name(d.p.verdict));
        else
            assert_killed_verdict(&d);
    }
    fprintf(stderr,
            "random_kill: %d kills: %d whole records (%d with samples, up to %llu; newest trail "
            "entry = slot's sample %d, one ahead %d), %d killed before the record existed\n",
            RANDOM_KILLS, t.whole, t.with_samples, (unsigned long long)t.max_samples,
            t.newest_in_slot, t.newest_ahead, t.absent);
    cr_assert_eq(t.whole + t.absent, RANDOM_KILLS);
    /* the kills must land in the sampling, not only before it */
    cr_assert_geq(t.with_samples, RANDOM_KILLS / 4, "only %d of %d kills came after a sample",
                  t.with_samples, RANDOM_KILLS);
}
