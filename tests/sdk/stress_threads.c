/*
 * The threaded parts under ThreadSanitizer. Criterion's runner cannot start
 * under TSan (its fixed-address arena collides with TSan's shadow memory,
 * Snaipe/Criterion#274), so this is a plain program: each scenario drives
 * real threads against the real platform and checks what it saw; the run
 * fails on a wrong result and, with TSAN_OPTIONS=halt_on_error=1, on any
 * race report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "internal.h"
#include "platform.h"
#include "samples_wait.h"
#include "support/check.h"
#include "support/support.h"

static memgauge_options_t fast(void)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 10;
    o.window_ms = 30;
    return o;
}

static int stats(memgauge_t *h, memgauge_stats_t *s)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    return memgauge_get_stats(h, s);
}

static void *reader(void *arg)
{
    atomic_int *bad = arg;
    for (int i = 0; i < 2000; i++) {
        memgauge_reading_t r;
        if (memgauge_read(&r) != MEMGAUGE_OK || r.footprint_bytes == 0)
            atomic_fetch_add(bad, 1);
        if (i % 500 == 0)
            memgauge__platform_invalidate();
    }
    return NULL;
}

static void concurrent_reads(void)
{
    atomic_int bad = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, &bad);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(atomic_load(&bad) == 0, "%d bad readings", atomic_load(&bad));
}

static atomic_int inconsistent;

/* `stopping`: memgauge_stop may already have begun (a callback running
 * while stop waits for it), so NOT_RUNNING is a fair answer. */
static void check_snapshot(memgauge_t *h, int stopping)
{
    memgauge_stats_t s;
    memgauge_sample_t ring[8];
    size_t n = 0;
    int rc = stats(h, &s);
    if (rc == MEMGAUGE_OK)
        rc = memgauge_get_samples(h, ring, 8, &n);
    if (rc != MEMGAUGE_OK) {
        if (!(stopping && rc == MEMGAUGE_E_NOT_RUNNING))
            atomic_fetch_add(&inconsistent, 1);
        return;
    }
    if (s.samples != 0 && !(s.min_bytes <= s.mean_bytes && s.mean_bytes <= s.max_bytes &&
                            s.max_bytes <= s.peak_bytes))
        atomic_fetch_add(&inconsistent, 1);
    for (size_t i = 1; i < n; i++)
        if (ring[i].seq != ring[i - 1].seq + 1)
            atomic_fetch_add(&inconsistent, 1);
}

static void on_sample_snapshot(const memgauge_sample_t *s, void *user)
{
    (void)s;
    check_snapshot(*(memgauge_t **)user, 1);
}

static void *snapshotter(void *arg)
{
    /* 400 ms (a few dozen samples at 10 ms) and at least 5 samples read
     * concurrently: under valgrind the sampler may get little of the CPU
     * three spinning readers leave, so wait for it, within 20 s */
    uint64_t start = memgauge__now_ns();
    uint64_t end = start + 400 * 1000000ull, give_up = start + 20000 * 1000000ull;
    memgauge_stats_t s = {.samples = 0};
    for (uint64_t now = start; now < give_up && (now < end || s.samples < 5);
         now = memgauge__now_ns()) {
        check_snapshot(arg, 0);
        stats(arg, &s);
    }
    return NULL;
}

static void sampler_with_concurrent_readers(void)
{
    static memgauge_t *h;
    memgauge_options_t o = fast();
    o.on_sample = on_sample_snapshot;
    o.user_data = &h;
    CHECK(memgauge_start(&o, &h) == MEMGAUGE_OK, "start");
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, snapshotter, h);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    memgauge_stats_t s;
    stats(h, &s);
    CHECK(memgauge_stop(h, 2000) == MEMGAUGE_OK, "stop");
    CHECK(atomic_load(&inconsistent) == 0, "%d inconsistent snapshots", atomic_load(&inconsistent));
    CHECK(s.samples >= 2, "only %llu samples", (unsigned long long)s.samples);
}

static void start_stop_cycles(void)
{
    memgauge_options_t o = fast();
    for (int i = 0; i < 200; i++) {
        memgauge_t *h = NULL;
        CHECK(memgauge_start(&o, &h) == MEMGAUGE_OK, "start %d", i);
        CHECK(memgauge_stop(h, 5000) == MEMGAUGE_OK, "stop %d", i);
    }
}

static atomic_int slow_callback_entered;

static void slow_first_sample(const memgauge_sample_t *s, void *user)
{
    (void)user;
    if (s->seq == 1) {
        atomic_store(&slow_callback_entered, 1);
        mg_sleep_ms(500);
    }
}

static int flag_set(void *flag)
{
    return atomic_load((atomic_int *)flag) != 0;
}

static void stop_timeout_then_orphan_cleanup(void)
{
    memgauge_options_t o = fast();
    o.on_sample = slow_first_sample;
    memgauge_t *h = NULL;
    CHECK(memgauge_start(&o, &h) == MEMGAUGE_OK, "start");
    CHECK(mg_wait_until(flag_set, &slow_callback_entered, 5000), "no first sample within 5 s");
    CHECK(memgauge_stop(h, 20) == MEMGAUGE_E_TIMEOUT, "stop should time out");
    memgauge_options_t o2 = fast();
    memgauge_t *h2 = NULL;
    CHECK(memgauge_start(&o2, &h2) == MEMGAUGE_OK, "restart");
    CHECK(memgauge_stop(h2, 2000) == MEMGAUGE_OK, "stop 2");
    /* the orphaned sampler frees its own handle once the callback returns:
     * nothing outside it can be waited on, so give it the callback's time */
    mg_sleep_ms(800);
}

static int child_run(memgauge_t *parent)
{
    alarm(20);
    memgauge_stats_t s;
    if (stats(parent, &s) != MEMGAUGE_OK || s.running)
        return 1;
    memgauge_options_t o = fast();
    memgauge_t *h = NULL;
    if (memgauge_start(&o, &h) != MEMGAUGE_OK)
        return 2;
    if (mg_wait_samples(h, 3, 5000).samples < 3)
        return 3;
    if (memgauge_stop(h, 2000) != MEMGAUGE_OK || memgauge_stop(parent, 10) != MEMGAUGE_OK)
        return 4;
    return 0;
}

static void fork_while_sampling(void)
{
    static memgauge_t *h;
    memgauge_options_t o = fast();
    o.on_sample = on_sample_snapshot;
    o.user_data = &h;
    CHECK(memgauge_start(&o, &h) == MEMGAUGE_OK, "start");
    for (int round = 0; round < 10; round++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_run(h));
        int status = 0;
        mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", round, status);
        mg_sleep_ms(7);
    }
    CHECK(memgauge_stop(h, 2000) == MEMGAUGE_OK, "stop");
}

int main(void)
{
    struct {
        const char *name;
        void (*fn)(void);
    } scenarios[] = {
        {"concurrent_reads", concurrent_reads},
        {"sampler_with_concurrent_readers", sampler_with_concurrent_readers},
        {"start_stop_cycles", start_stop_cycles},
        {"stop_timeout_then_orphan_cleanup", stop_timeout_then_orphan_cleanup},
        {"fork_while_sampling", fork_while_sampling},
    };
    int n = (int)(sizeof scenarios / sizeof scenarios[0]), passed = 0;
    for (int i = 0; i < n; i++) {
        int before = failures;
        scenarios[i].fn();
        int ok = failures == before;
        passed += ok;
        printf("[%s] stress_threads::%s\n", ok ? "PASS" : "FAIL", scenarios[i].name);
    }
    printf("stress_threads: %d passed, %d failed\n", passed, n - passed);
    return passed == n ? 0 : 1;
}
