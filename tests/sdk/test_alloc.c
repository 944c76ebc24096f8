/*
 * Zero heap allocations per sample in steady state, on the real platform.
 * This binary replaces malloc and friends with counting wrappers around
 * glibc's own allocator; only calls made on the sampler thread count.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memgauge/memgauge.h>

#include "samples_wait.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int on_sampler_thread;
static atomic_ulong sampler_allocations;

static void count(void)
{
    if (on_sampler_thread)
        atomic_fetch_add(&sampler_allocations, 1);
}

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    count();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    count();
    void *p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}

void free(void *p)
{
    __libc_free(p);
}

enum { WARM_UP = 5, MEASURED = 150 };

static atomic_ulong at_warm_up, at_end;
static atomic_int probe_allocation;

/* Marks the sampler thread, then snapshots the counter at two sample
 * numbers: what lies between is the steady state. */
static void on_sample(const memgauge_sample_t *s, void *user)
{
    (void)user;
    on_sampler_thread = 1;
    if (s->seq == 2 && atomic_load(&probe_allocation)) {
        void *volatile p = malloc(64); /* proves the counter sees this thread */
        free(p);
    }
    if (s->seq == WARM_UP)
        atomic_store(&at_warm_up, atomic_load(&sampler_allocations));
    if (s->seq == WARM_UP + MEASURED)
        atomic_store(&at_end, atomic_load(&sampler_allocations) + 1);
}

static memgauge_t *run_sampler(uint64_t until_seq)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 10;
    o.window_ms = 50; /* many window closings within the measured span */
    memgauge_threshold_t th = {.bytes = 1, .id = 1};
    o.thresholds = &th;
    o.threshold_count = 1;
    o.on_sample = on_sample;
    memgauge_t *h = NULL;
    cr_assert_eq(memgauge_start(&o, &h), MEMGAUGE_OK);
    memgauge_stats_t st = mg_wait_samples(h, until_seq, 10000);
    cr_assert_geq(st.samples, until_seq);
    cr_assert_eq(st.read_errors, 0);
    return h;
}

Test(alloc, counter_sees_allocations_on_the_sampler_thread)
{
    atomic_store(&probe_allocation, 1);
    memgauge_t *h = run_sampler(3);
    cr_assert_geq(atomic_load(&sampler_allocations), 1);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}

Test(alloc, no_heap_allocation_per_sample_in_steady_state)
{
    memgauge_t *h = run_sampler(WARM_UP + MEASURED);
    unsigned long during = atomic_load(&at_end) - 1 - atomic_load(&at_warm_up);
    cr_assert_eq(during, 0, "%lu allocations in %d samples (%d windows closed)", during, MEASURED,
                 MEASURED / 5);
    cr_assert_eq(memgauge_stop(h, 2000), MEMGAUGE_OK);
}
