/*
 * The transport's threads under ThreadSanitizer (a plain program, like
 * tests/sdk/stress_threads.c: Criterion cannot start under TSan). A send
 * hook stands in for the network: the sampler, the transport worker,
 * memgauge_get_stats readers and memgauge_stop race for real.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#include "internal.h"
#include "sdk/samples_wait.h"
#include "support/check.h"
#include "support/support.h"
#include "transport.h"

static char g_dir[64];

static atomic_int g_sent;
static atomic_int g_hang_ms;
static atomic_int g_hung;      /* calls that hung */
static atomic_int g_not_found; /* the hook answers 404: a wrong endpoint */

static int counting_hook(const memgauge_http_request_t *req, char *retry_after, size_t cap,
                         void *ud)
{
    (void)retry_after;
    (void)cap;
    (void)ud;
    if (req->body_len == 0)
        return 0;
    int hang = atomic_load(&g_hang_ms);
    if (hang > 0) {
        atomic_fetch_add(&g_hung, 1);
        mg_sleep_ms((unsigned)hang);
    }
    if (atomic_load(&g_not_found))
        return 404;
    /* every third attempt fails: retries race with new batches */
    return atomic_fetch_add(&g_sent, 1) % 3 == 2 ? 503 : 200;
}

static atomic_int g_logs, g_logs_after_stop, g_stopped;

/* The diagnostic hook asks for stats, as an app's might, while the sampler,
 * the worker and the readers run. */
static void stats_asking_log(int level, const char *message, void *user_data)
{
    (void)level;
    (void)message;
    memgauge_t *h = atomic_load((memgauge_t * _Atomic *)user_data);
    memgauge_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (h != NULL)
        memgauge_get_stats(h, &s);
    atomic_fetch_add(&g_logs, 1);
    if (atomic_load(&g_stopped))
        atomic_fetch_add(&g_logs_after_stop, 1);
}

static atomic_int g_stop_readers;

static void *stats_reader(void *arg)
{
    memgauge_t *h = arg;
    while (!atomic_load(&g_stop_readers)) {
        memgauge_stats_t s;
        memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
        memgauge_get_stats(h, &s);
    }
    return NULL;
}

static memgauge_options_t reporting(void)
{
    memgauge_options_t o;
    memgauge_options_init(&o);
    o.interval_ms = 10;
    o.fast_interval_ms = 10;
    o.window_ms = 30;
    o.report_interval_ms = 0;
    o.storage_dir = g_dir;
    o.app_id = "stress";
    o.endpoint_url = "https://collector.invalid/v1/reports";
    o.send = counting_hook;
    o.retry_base_ms = 10;
    o.retry_max_ms = 50;
    o.queue_capacity = 16; /* small: the sampler must drop, never wait */
    memgauge_threshold_t t = {.bytes = 1, .urgent = 1};
    static memgauge_threshold_t thresholds[1];
    thresholds[0] = t;
    o.thresholds = thresholds;
    o.threshold_count = 1;
    return o;
}

static int built_and_sent(void *h)
{
    memgauge_stats_t s = mg_stats_of(h);
    return s.batches_built > 5 && s.batches_sent > 0;
}

static int hook_hung(void *unused)
{
    (void)unused;
    return atomic_load(&g_hung) > 0;
}

static int told_404(void *h)
{
    return mg_stats_of(h).config_errors > 0 && atomic_load(&g_logs) > 0;
}

static void sampler_worker_and_readers_race_then_stop_flushes(void)
{
    memgauge_options_t o = reporting();
    memgauge_t *h;
    int rc = memgauge_start(&o, &h);
    CHECK(rc == MEMGAUGE_OK, "start: %s", memgauge_strerror(rc));
    pthread_t readers[2];
    atomic_store(&g_stop_readers, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&readers[i], NULL, stats_reader, h);
    mg_sleep_ms(600); /* the race itself */
    atomic_store(&g_stop_readers, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    /* a loaded machine (or a sanitizer) may need longer than the race did */
    mg_wait_until(built_and_sent, h, 5000);
    memgauge_stats_t s = mg_stats_of(h);
    CHECK(s.batches_built > 5, "built %llu batches", (unsigned long long)s.batches_built);
    CHECK(s.batches_sent > 0, "sent %llu", (unsigned long long)s.batches_sent);
    rc = memgauge_stop(h, 2000);
    CHECK(rc == MEMGAUGE_OK, "stop: %s", memgauge_strerror(rc));
}

static void stop_with_a_hook_that_hangs_returns_within_the_bound(void)
{
    atomic_store(&g_hang_ms, 1500);
    atomic_store(&g_hung, 0);
    memgauge_options_t o = reporting();
    memgauge_t *h;
    int rc = memgauge_start(&o, &h);
    CHECK(rc == MEMGAUGE_OK, "start: %s", memgauge_strerror(rc));
    CHECK(mg_wait_until(hook_hung, NULL, 5000), "the worker never called the hook");
    double t0 = (double)mg_mono_ns() / 1e9;
    rc = memgauge_stop(h, 200);
    double took = (double)mg_mono_ns() / 1e9 - t0;
    CHECK(took <= 0.200 + 0.250, "stop took %.3f s", took);
    CHECK(rc == MEMGAUGE_OK || rc == MEMGAUGE_E_TIMEOUT, "stop: %s", memgauge_strerror(rc));
    /* the orphaned worker finishes its hook and frees itself: nothing
     * outside it can be waited on, so give it the hook's time */
    mg_sleep_ms(1700);
    atomic_store(&g_hang_ms, 0);
}

static memgauge_t *_Atomic g_handle;

static void a_wrong_endpoint_told_through_the_log_hook_while_readers_race(void)
{
    atomic_store(&g_not_found, 1);
    atomic_store(&g_logs, 0);
    atomic_store(&g_logs_after_stop, 0);
    atomic_store(&g_stopped, 0);
    memgauge_options_t o = reporting();
    o.on_log = stats_asking_log;
    o.log_user_data = (void *)&g_handle;
    memgauge_t *h;
    int rc = memgauge_start(&o, &h);
    CHECK(rc == MEMGAUGE_OK, "start: %s", memgauge_strerror(rc));
    atomic_store(&g_handle, h);
    pthread_t readers[2];
    atomic_store(&g_stop_readers, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&readers[i], NULL, stats_reader, h);
    mg_wait_until(told_404, h, 2000);
    memgauge_stats_t s = mg_stats_of(h);
    atomic_store(&g_stop_readers, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    CHECK(s.config_error_status == 404, "config_error_status %d", s.config_error_status);
    CHECK(atomic_load(&g_logs) == 1, "%d messages: one a minute", atomic_load(&g_logs));
    /* a hook that hangs orphans the worker: it must not log after stop */
    atomic_store(&g_hang_ms, 300);
    mg_sleep_ms(100);
    atomic_store(&g_handle, NULL);
    rc = memgauge_stop(h, 100);
    atomic_store(&g_stopped, 1);
    CHECK(rc == MEMGAUGE_OK || rc == MEMGAUGE_E_TIMEOUT, "stop: %s", memgauge_strerror(rc));
    mg_sleep_ms(600); /* longer than the orphan's hook: a late message would be in */
    atomic_store(&g_hang_ms, 0);
    atomic_store(&g_not_found, 0);
    CHECK(atomic_load(&g_logs_after_stop) == 0, "%d messages after stop",
          atomic_load(&g_logs_after_stop));
}

int main(void)
{
    if (mg_temp_dir(g_dir, sizeof g_dir, "/tmp", "stress-tr") != 0)
        return 1;
    sampler_worker_and_readers_race_then_stop_flushes();
    stop_with_a_hook_that_hangs_returns_within_the_bound();
    a_wrong_endpoint_told_through_the_log_hook_while_readers_race();
    if (mg_remove_tree(g_dir) != 0)
        failures++;
    printf("stress_transport: %s (%d failures)\n", failures ? "FAILED" : "ok", failures);
    return failures ? 1 : 0;
}
