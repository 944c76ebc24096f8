/*
 * The sampler thread and its lifecycle. Aggregate exactness is checked on
 * injected synthetic readings (memgauge__start_with); peaks, signals, fork
 * and stop behaviour on the real platform and real threads.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "internal.h"
#include "samples_wait.h"
#include "support/support.h"

#define MIB (UINT64_C(1) << 20)

static memgauge_stats_t stats_of(memgauge_t *h)
{
    memgauge_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    cr_assert_eq(memgauge_get_stats(h, &s), MEMGAUGE_OK);
    return s;
}

/* Waits (bounded) until the sampler has taken `n` samples. */
static memgauge_stats_t wait_samples(memgauge_t *h, uint64_t n)
{
    memgauge_stats_t s = mg_wait_samples(h, n, 15000);
    cr_assert_geq(s.samples, n, "only %llu of %llu samples arrived", (unsigned long long)s.samples,
                  (unsigned long long)n);
    return s;
}

static memgauge_options_t fast_options(void)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 10;
    o.window_ms = 10;
    return o;
}

/* ---- synthetic readings ------------------------------------------------- */

enum { SERIES_MAX = 256 };

typedef struct series_s {
    memgauge_reading_t r[SERIES_MAX];
    size_t n;
    atomic_size_t next;
    atomic_int calls;
} series_t;

/* The first call is start's probe; then one reading per tick, and errors
 * once the series is used up (counted as read_errors, not sampled). */
static int series_read(memgauge_reading_t *out, void *ctx)
{
    series_t *s = ctx;
    if (atomic_fetch_add(&s->calls, 1) == 0) {
        *out = s->r[0];
        return MEMGAUGE_OK;
    }
    size_t i = atomic_fetch_add(&s->next, 1);
    if (i >= s->n)
        return MEMGAUGE_E_PLATFORM;
    *out = s->r[i];
    return MEMGAUGE_OK;
}

static void series_push(series_t *s, uint64_t t_ms, uint64_t footprint, uint64_t limit)
{
    memgauge_reading_t *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    r->time_ns = t_ms * 1000000u;
    r->footprint_bytes = footprint;
    r->resident_bytes = footprint + 10 * MIB;
    r->peak_bytes = 0;
    r->limit_bytes = limit;
    r->valid =
        MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | (limit ? MEMGAUGE_FIELD_LIMIT : 0);
    r->footprint_source = MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT;
}

static memgauge_t *start_series(series_t *s, memgauge_options_t *o)
{
    memgauge__hooks_t hooks = {series_read, s, NULL, NULL};
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge__start_with(o, &hooks, &h), MEMGAUGE_OK);
    return h;
}

static int read_failed(void *h)
{
    return mg_stats_of(h).read_errors > 0;
}

/* The series ends in a read error: once one is counted, all was read. */
static void wait_consumed(memgauge_t *h, series_t *s)
{
    mg_wait_until(read_failed, h, 15000);
    cr_assert_geq(atomic_load(&s->next), s->n);
}

Test(sampler, aggregates_are_exact_on_synthetic_readings)
{
    static series_t s;
    uint64_t sum = 0, min = UINT64_MAX, max = 0;
    for (uint64_t i = 0; i < 200; i++) {
        /* a sawtooth with an odd period, so the mean has a remainder */
        uint64_t fp = 100 * MIB + (i % 7) * 3 * MIB + i * 4097;
        series_push(&s, 1000 + i * 10, fp, 0);
        sum += fp;
        min = fp < min ? fp : min;
        max = fp > max ? fp : max;
    }
    memgauge_options_t o = fast_options();
    o.window_ms = 500;
    memgauge_t *h = start_series(&s, &o);
    wait_consumed(h, &s);
    memgauge_stats_t st = stats_of(h);
    cr_assert_eq(st.samples, 200);
    cr_assert_eq(st.first_bytes, s.r[0].footprint_bytes);
    cr_assert_eq(st.last_bytes, s.r[199].footprint_bytes);
    cr_assert_eq(st.min_bytes, min);
    cr_assert_eq(st.max_bytes, max);
    cr_assert_eq(st.mean_bytes, sum / 200);
    cr_assert_eq(st.last_delta_bytes,
                 (int64_t)(s.r[199].footprint_bytes - s.r[198].footprint_bytes));
    cr_assert_eq(st.delta_since_start_bytes,
                 (int64_t)(s.r[199].footprint_bytes - s.r[0].footprint_bytes));
    /* 200 samples 10 ms apart in 500 ms windows: 3 closed, 50 in the 4th */
    cr_assert_eq(st.windows, 3);
    cr_assert_eq(st.last_window.samples, 50);
    cr_assert_eq(st.current_window.samples, 50);
    cr_assert_eq(st.last_window.first_bytes, s.r[100].footprint_bytes);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static struct {
    pthread_mutex_t lock;
    memgauge_threshold_event_t ev[16];
    int n;
    memgauge_window_t win[16];
    int nwin;
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record_threshold(const memgauge_threshold_event_t *e, void *user)
{
    (void)user;
    pthread_mutex_lock(&rec.lock);
    if (rec.n < 16)
        rec.ev[rec.n++] = *e;
    pthread_mutex_unlock(&rec.lock);
}

static void record_window(const memgauge_window_t *w, void *user)
{
    (void)user;
    pthread_mutex_lock(&rec.lock);
    if (rec.nwin < 16)
        rec.win[rec.nwin++] = *w;
    pthread_mutex_unlock(&rec.lock);
}

Test(sampler, threshold_callbacks_fire_once_each_way_with_hysteresis)
{
    static series_t s;
    const uint64_t limit = 1000 * MIB;
    /* climbs to 800 MiB, hovers around 750 MiB (75 % of the limit), then falls */
    const uint64_t fp[] = {500, 700, 760, 740, 755, 749, 751, 745, 700, 600};
    for (size_t i = 0; i < sizeof fp / sizeof fp[0]; i++)
        series_push(&s, i * 10, fp[i] * MIB, limit);
    memgauge_threshold_t th[2] = {
        {.limit_fraction = 0.75, .id = 75, .urgent = 1},
        {.bytes = 600 * MIB, .id = 600},
    };
    memgauge_options_t o = fast_options();
    o.thresholds = th;
    o.threshold_count = 2;
    o.hysteresis_fraction = 0.05;
    o.on_threshold = record_threshold;
    o.on_window = record_window;
    memgauge_t *h = start_series(&s, &o);
    wait_consumed(h, &s);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);

    /* 600 MiB: up at 700; down needs < 570, never reached.
     * 750 MiB: up at 760; down needs < 712.5, reached at 700. */
    cr_assert_eq(rec.n, 3);
    cr_assert_eq(rec.ev[0].id, 600);
    cr_assert_eq(rec.ev[0].direction, MEMGAUGE_CROSSED_UP);
    cr_assert_eq(rec.ev[0].footprint_bytes, 700 * MIB);
    cr_assert_eq(rec.ev[1].id, 75);
    cr_assert_eq(rec.ev[1].direction, MEMGAUGE_CROSSED_UP);
    cr_assert_eq(rec.ev[1].level_bytes, 750 * MIB);
    cr_assert_eq(rec.ev[1].urgent, 1);
    cr_assert_eq(rec.ev[2].id, 75);
    cr_assert_eq(rec.ev[2].direction, MEMGAUGE_CROSSED_DOWN);
    cr_assert_eq(rec.ev[2].footprint_bytes, 700 * MIB);
    /* 10 ms windows over readings 10 ms apart: every reading closes one */
    cr_assert_eq(rec.nwin, 9);
    cr_assert_eq(rec.win[0].samples, 1);
    cr_assert_eq(rec.win[0].max_bytes, 500 * MIB);
}

Test(sampler, read_errors_are_counted_not_sampled)
{
    static series_t s;
    series_push(&s, 0, 10 * MIB, 0);
    series_push(&s, 10, 20 * MIB, 0);
    memgauge_options_t o = fast_options();
    memgauge_t *h = start_series(&s, &o);
    wait_consumed(h, &s);
    mg_sleep_ms(50); /* time for a wrong third sample to appear */
    memgauge_stats_t st = stats_of(h);
    cr_assert_eq(st.samples, 2);
    cr_assert_geq(st.read_errors, 1);
    cr_assert_eq(st.last_bytes, 20 * MIB);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

/* ---- the real platform --------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t seq;
} ticks = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void on_tick(const memgauge_sample_t *s, void *user)
{
    (void)user;
    pthread_mutex_lock(&ticks.lock);
    ticks.seq = s->seq;
    pthread_cond_broadcast(&ticks.cond);
    pthread_mutex_unlock(&ticks.lock);
}

static void wait_tick(uint64_t seq)
{
    pthread_mutex_lock(&ticks.lock);
    while (ticks.seq < seq)
        pthread_cond_wait(&ticks.cond, &ticks.lock);
    pthread_mutex_unlock(&ticks.lock);
}

Test(sampler, peak_survives_spike_between_samples)
{
    const uint64_t spike = 200 * MIB;
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 3000; /* far longer than the spike, even under sanitizers */
    o.on_sample = on_tick;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_tick(1);

    /* right after sample 1: allocate, touch, free, all before sample 2 */
    char *p = mmap(NULL, spike, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    for (uint64_t off = 0; off < spike; off += 4096)
        p[off] = 1;
    munmap(p, spike);
    wait_tick(2);

    memgauge_stats_t st = stats_of(h);
    cr_assert_eq(st.samples, 2);
    cr_assert_lt(st.max_bytes, st.first_bytes + spike / 4,
                 "the spike was meant to fall between the two samples");
    cr_assert_geq(st.peak_bytes, st.first_bytes + spike - spike / 50,
                  "peak %llu does not show the 200 MiB spike over %llu",
                  (unsigned long long)st.peak_bytes, (unsigned long long)st.first_bytes);
    cr_assert_geq(st.kernel_peak_bytes, spike);
    memgauge_sample_t smp[4];
    size_t n = 0;
    cr_assert_eq(memgauge_get_samples(h, smp, 4, &n), MEMGAUGE_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(smp[1].interval_peak_bytes, st.peak_bytes);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(sampler, stop_returns_promptly_even_with_a_60s_interval)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 60000;
    o.window_ms = 60000;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 1);
    /* The thread is asleep for a minute; stop must wake it, not wait. */
    cr_assert_eq(memgauge_stop(h, 5000), MEMGAUGE_OK);
}

Test(sampler, a_thousand_start_stop_cycles)
{
    memgauge_options_t o = fast_options();
    for (int i = 0; i < 1000; i++) {
        memgauge_t *h = NULL;
        cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK, "start %d", i);
        cr_assert_eq(memgauge_stop(h, 5000), MEMGAUGE_OK, "stop %d", i);
    }
}

Test(sampler, double_start_double_stop_and_null_are_errors)
{
    memgauge_options_t o = fast_options();
    memgauge_t *h = NULL, *h2 = NULL;
    cr_assert_eq(memgauge_start(NULL, &h), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_start(&o, NULL), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert_eq(memgauge_start(&o, &h2), MEMGAUGE_E_ALREADY_STARTED);
    cr_assert_null(h2);
    cr_assert_eq(memgauge_get_stats(h, NULL), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_get_stats(NULL, NULL), MEMGAUGE_E_NULL_ARGUMENT);
    memgauge_stats_t small = {.struct_size = 8};
    cr_assert_eq(memgauge_get_stats(h, &small), MEMGAUGE_E_STRUCT_SIZE);
    size_t n;
    cr_assert_eq(memgauge_get_samples(h, NULL, 1, &n), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_stop(NULL, 100), MEMGAUGE_E_NULL_ARGUMENT);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_E_NOT_RUNNING);
    memgauge_options_t bad = fast_options();
    bad.interval_ms = 5;
    cr_assert_eq(memgauge_start(&bad, &h), MEMGAUGE_E_INTERVAL);
}

Test(sampler, stats_struct_from_a_newer_header_gets_its_tail_zeroed)
{
    memgauge_options_t o = fast_options();
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 1);
    struct {
        memgauge_stats_t s;
        uint64_t future[4];
    } big;
    memset(&big, 0xff, sizeof big);
    big.s.struct_size = sizeof big;
    cr_assert_eq(memgauge_get_stats(h, &big.s), MEMGAUGE_OK);
    cr_assert_eq(big.s.struct_size, sizeof big);
    cr_assert_geq(big.s.samples, 1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(big.future[i], 0);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static void *stats_reader(void *arg)
{
    memgauge_t *h = arg;
    uint64_t last_samples = 0;
    for (int i = 0; i < 20000; i++) {
        memgauge_stats_t s;
        memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
        if (memgauge_get_stats(h, &s) != MEMGAUGE_OK)
            return (void *)"get_stats failed";
        if (s.samples < last_samples)
            return (void *)"sample count went backwards";
        last_samples = s.samples;
        if (s.samples == 0)
            continue;
        if (!(s.min_bytes <= s.mean_bytes && s.mean_bytes <= s.max_bytes &&
              s.max_bytes <= s.peak_bytes && s.min_bytes <= s.last_bytes &&
              s.last_bytes <= s.max_bytes))
            return (void *)"inconsistent snapshot";
        if (s.delta_since_start_bytes != (int64_t)(s.last_bytes - s.first_bytes))
            return (void *)"delta does not match first and last";
        if (s.current_window.samples == 0)
            return (void *)"empty current window";
    }
    return NULL;
}

Test(sampler, concurrent_get_stats_sees_consistent_snapshots)
{
    memgauge_options_t o = fast_options();
    o.window_ms = 50;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 1);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, stats_reader, h), 0);
    for (int i = 0; i < 3; i++) {
        void *err;
        pthread_join(t[i], &err);
        cr_assert_null(err, "reader %d: %s", i, (const char *)err);
    }
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static atomic_int sampler_mask_ok = -1;

static void check_mask(const memgauge_sample_t *s, void *user)
{
    (void)s;
    (void)user;
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    int ok = sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) &&
             sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGCHLD) && sigismember(&cur, SIGALRM);
    atomic_store(&sampler_mask_ok, ok);
}

static pthread_t handled_on;
static atomic_int handled;

static int flag_set(void *flag)
{
    return atomic_load((atomic_int *)flag) != 0;
}

static void on_usr1(int sig)
{
    (void)sig;
    handled_on = pthread_self();
    atomic_store(&handled, 1);
}

Test(sampler, sampler_thread_blocks_all_signals)
{
    memgauge_options_t o = fast_options();
    o.on_sample = check_mask;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 2);
    cr_assert_eq(atomic_load(&sampler_mask_ok), 1, "the sampler thread accepts signals");

    /* A process-directed signal must land on the app's thread. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < 20; i++) {
        atomic_store(&handled, 0);
        kill(getpid(), SIGUSR1);
        mg_wait_until(flag_set, &handled, 1000);
        cr_assert(atomic_load(&handled));
        cr_assert(pthread_equal(handled_on, pthread_self()));
    }
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static void callback_stats(const memgauge_sample_t *s, void *user)
{
    (void)s;
    memgauge_t **hp = user;
    memgauge_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    memgauge_get_stats(*hp, &st); /* takes the locks fork must not copy held */
}

/* In the child: the parent's sampler is not running, no lock is held, and
 * a new sampler starts and samples. Exit code says which step failed. */
static int forked_child(memgauge_t *parent)
{
    alarm(20); /* a deadlock ends the child instead of hanging the test */
    memgauge_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (memgauge_get_stats(parent, &st) != MEMGAUGE_OK || st.running != 0)
        return 1;
    memgauge_options_t o = fast_options();
    memgauge_t *h = NULL;
    if (memgauge_start(&o, &h) != MEMGAUGE_OK)
        return 2;
    if (mg_wait_samples(h, 3, 2000).samples < 3)
        return 3;
    if (memgauge_stop(h, 2000) != MEMGAUGE_OK)
        return 4;
    if (memgauge_stop(parent, 100) != MEMGAUGE_OK)
        return 5;
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

Test(sampler, forked_child_inherits_neither_the_sampler_nor_a_held_lock)
{
#ifdef ASAN_BUILD
    /* clang 14's ASan does not hold its allocator lock across fork(): a
     * child forked while any other thread (here Criterion's own) allocates
     * deadlocks inside ASan before it reaches this code. The plain and
     * ThreadSanitizer runs of this test cover fork. */
    cr_skip_test("fork stress is not reliable under clang 14 AddressSanitizer");
#endif
    static memgauge_t *h;
    memgauge_options_t o = fast_options();
    o.on_sample = callback_stats;
    o.user_data = &h;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    for (int round = 0; round < 30; round++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
            _exit(forked_child(h));
        int status;
        cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0,
                     "the child did not end within %u ms", MG_CHILD_DEADLINE_MS);
        cr_assert(WIFEXITED(status), "child %d died with signal %d", round, WTERMSIG(status));
        cr_assert_eq(WEXITSTATUS(status), 0, "child %d failed at step %d", round,
                     WEXITSTATUS(status));
        mg_sleep_ms(3);
    }
    uint64_t before = stats_of(h).samples;
    wait_samples(h, before + 2); /* the parent's sampler goes on */
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static atomic_int stop_from_callback = 1;

static void try_stop_self(const memgauge_sample_t *s, void *user)
{
    (void)s;
    atomic_store(&stop_from_callback, memgauge_stop(*(memgauge_t **)user, 100));
}

Test(sampler, stop_from_its_own_callback_is_refused)
{
    static memgauge_t *h;
    memgauge_options_t o = fast_options();
    o.on_sample = try_stop_self;
    o.user_data = &h;
    /* start writes h before the thread exists, so the callback can use it */
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    wait_samples(h, 3);
    cr_assert_eq(atomic_load(&stop_from_callback), MEMGAUGE_E_ARGUMENT);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

static atomic_int slow_callback_entered;

static void slow_callback(const memgauge_sample_t *s, void *user)
{
    (void)user;
    if (s->seq == 1) {
        atomic_store(&slow_callback_entered, 1);
        mg_sleep_ms(800);
    }
}

Test(sampler, stop_times_out_on_a_hung_callback_and_the_thread_cleans_up)
{
    memgauge_options_t o = fast_options();
    o.on_sample = slow_callback;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    cr_assert(mg_wait_until(flag_set, &slow_callback_entered, 5000), "no first sample");
    cr_assert_eq(memgauge_stop(h, 50), MEMGAUGE_E_TIMEOUT);
    /* the process can start a new sampler at once */
    memgauge_options_t o2 = fast_options();
    memgauge_t *h2 = NULL;
    cr_assert_eq(memgauge_start(&o2, &h2), MEMGAUGE_OK);
    cr_assert_eq(memgauge_stop(h2, 2000), MEMGAUGE_OK);
    /* the orphaned thread finishes and frees its handle: nothing outside it
     * can be waited on, so give it the callback's time */
    mg_sleep_ms(1200);
}
