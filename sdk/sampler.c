/*
 * The sampler: a background thread that reads the platform every interval
 * and feeds the session aggregates and thresholds, plus the lifecycle
 * (start, stop, fork) around it.
 *
 * Locks: g_lock guards which handle is live (at most one per process);
 * handle->lock guards the handle's session state. Order: g_lock, then
 * handle->lock. Readings and callbacks happen with neither held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "internal.h"
#include "platform.h"
#include "thresholds.h"

struct memgauge_s {
    memgauge_options_t opts; /* copy; thresholds point into `thresholds` */
    memgauge__thresholds_t thresholds;
    memgauge__read_fn read;
    void *read_ctx;

    pthread_mutex_t lock;
    pthread_cond_t wake;   /* signalled by stop */
    pthread_cond_t exited; /* signalled by the thread as it ends */
    pthread_t thread;
    int stop_requested;
    int has_exited;
    int orphaned; /* stop timed out: the thread frees the handle */

    memgauge__session_t session;
    uint64_t read_errors;
    uint64_t overruns;
    uint64_t threshold_events;
    memgauge_sample_t ring[]; /* opts.ring_capacity entries */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static memgauge_t *g_active; /* the running sampler, if any */
static memgauge_t *g_forked; /* in a forked child: the parent's sampler, threadless */
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* fork() copies only the calling thread. Holding both locks across fork
 * means the child never sees them held by a thread that does not exist. */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
    if (g_active != NULL)
        pthread_mutex_lock(&g_active->lock);
}

static void atfork_parent(void)
{
    if (g_active != NULL)
        pthread_mutex_unlock(&g_active->lock);
    pthread_mutex_unlock(&g_lock);
}

static void atfork_child(void)
{
    if (g_active != NULL) {
        pthread_mutex_unlock(&g_active->lock);
        g_forked = g_active;
        g_active = NULL;
    }
    pthread_mutex_unlock(&g_lock);
}

static void register_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static int platform_read(memgauge_reading_t *out, void *ctx)
{
    (void)ctx;
    return memgauge__platform_read(out);
}

/* One tick: read, aggregate, then run callbacks with no lock held. */
static void take_sample(memgauge_t *h)
{
    memgauge_reading_t reading;
    memgauge_sample_t sample;
    memgauge_window_t closed;
    memgauge_threshold_event_t events[2 * MEMGAUGE_MAX_THRESHOLDS];
    uint32_t n_events = 0;
    int window_closed = 0;

    int rc = h->read(&reading, h->read_ctx);
    pthread_mutex_lock(&h->lock);
    if (rc == MEMGAUGE_OK) {
        window_closed = memgauge__session_add(&h->session, &reading, &sample, &closed);
        n_events = memgauge__thresholds_eval(&h->thresholds, &sample, events);
        h->threshold_events += n_events;
    } else {
        h->read_errors++;
    }
    pthread_mutex_unlock(&h->lock);
    if (rc != MEMGAUGE_OK)
        return;

    const memgauge_options_t *o = &h->opts;
    if (window_closed && o->on_window != NULL)
        o->on_window(&closed, o->user_data);
    if (o->on_threshold != NULL)
        for (uint32_t i = 0; i < n_events; i++)
            o->on_threshold(&events[i], o->user_data);
    if (o->on_sample != NULL)
        o->on_sample(&sample, o->user_data);
}

static void *sampler_main(void *arg)
{
    memgauge_t *h = arg;
    const uint64_t interval = (uint64_t)h->opts.interval_ms * 1000000u;
    uint64_t next = memgauge__now_ns();

    pthread_mutex_lock(&h->lock);
    while (!h->stop_requested) {
        pthread_mutex_unlock(&h->lock);
        take_sample(h);
        pthread_mutex_lock(&h->lock);

        /* Ticks stay on the grid start + k * interval; a tick missed
         * because a sample or callback ran long is skipped and counted. */
        next += interval;
        uint64_t now = memgauge__now_ns();
        if (now >= next) {
            uint64_t missed = (now - next) / interval + 1;
            h->overruns += missed;
            next += missed * interval;
        }
        while (!h->stop_requested)
            if (memgauge__cond_wait_until(&h->wake, &h->lock, next) == ETIMEDOUT)
                break;
    }
    h->has_exited = 1;
    pthread_cond_broadcast(&h->exited);
    int orphaned = h->orphaned;
    pthread_mutex_unlock(&h->lock);
    if (orphaned) {
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        pthread_cond_destroy(&h->exited);
        free(h);
    }
    return NULL;
}

static int init_sync(memgauge_t *h)
{
    if (pthread_mutex_init(&h->lock, NULL) != 0)
        return -1;
    if (memgauge__cond_init(&h->wake) != 0) {
        pthread_mutex_destroy(&h->lock);
        return -1;
    }
    if (memgauge__cond_init(&h->exited) != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        return -1;
    }
    return 0;
}

static void destroy(memgauge_t *h)
{
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->exited);
    free(h);
}

/* Starts the thread with every signal blocked, so that the app's signal
 * handlers never run on it (it inherits the mask it is created with). */
static int spawn(memgauge_t *h)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, sampler_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

int memgauge__start_with(const memgauge_options_t *opts, const memgauge__hooks_t *hooks,
                         memgauge_t **out)
{
    if (opts == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    int rc = memgauge__options_validate(opts);
    if (rc != MEMGAUGE_OK)
        return rc;
    memgauge__read_fn read = hooks && hooks->read ? hooks->read : platform_read;
    void *read_ctx = hooks ? hooks->read_ctx : NULL;
    memgauge_reading_t probe;
    if (read(&probe, read_ctx) != MEMGAUGE_OK)
        return MEMGAUGE_E_PLATFORM;

    pthread_once(&g_atfork_once, register_atfork);
    size_t cap = opts->ring_capacity;
    memgauge_t *h = calloc(1, sizeof *h + cap * sizeof h->ring[0]);
    if (h == NULL)
        return MEMGAUGE_E_NO_MEMORY;
    memcpy(&h->opts, opts, sizeof h->opts);
    h->opts.struct_size = sizeof h->opts;
    memgauge__thresholds_init(&h->thresholds, opts->thresholds, opts->threshold_count,
                              opts->hysteresis_fraction);
    h->opts.thresholds = h->thresholds.defs;
    h->read = read;
    h->read_ctx = read_ctx;
    memgauge__session_init(&h->session, h->ring, opts->ring_capacity,
                           (uint64_t)opts->window_ms * 1000000u);
    if (init_sync(h) != 0) {
        free(h);
        return MEMGAUGE_E_NO_MEMORY;
    }

    pthread_mutex_lock(&g_lock);
    if (g_active != NULL) {
        pthread_mutex_unlock(&g_lock);
        destroy(h);
        return MEMGAUGE_E_ALREADY_STARTED;
    }
    /* Set before the thread exists, so callbacks may read it. */
    *out = h;
    if (spawn(h) != 0) {
        *out = NULL;
        pthread_mutex_unlock(&g_lock);
        destroy(h);
        return MEMGAUGE_E_THREAD;
    }
    g_active = h;
    pthread_mutex_unlock(&g_lock);
    return MEMGAUGE_OK;
}

int memgauge_start(const memgauge_options_t *opts, memgauge_t **out)
{
    return memgauge__start_with(opts, NULL, out);
}

int memgauge_stop(memgauge_t *h, uint32_t timeout_ms)
{
    if (h == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    pthread_mutex_lock(&g_lock);
    if (h == g_forked) {
        /* A child of fork(): the thread was not copied, so there is
         * nothing to join; its condvars may still count the parent's
         * waiter, so they are not destroyed (glibc would wait for it). */
        g_forked = NULL;
        pthread_mutex_unlock(&g_lock);
        free(h);
        return MEMGAUGE_OK;
    }
    if (h != g_active) {
        pthread_mutex_unlock(&g_lock);
        return MEMGAUGE_E_NOT_RUNNING;
    }
    if (pthread_equal(pthread_self(), h->thread)) {
        pthread_mutex_unlock(&g_lock);
        return MEMGAUGE_E_ARGUMENT;
    }
    g_active = NULL;
    pthread_mutex_unlock(&g_lock);

    pthread_mutex_lock(&h->lock);
    h->stop_requested = 1;
    pthread_cond_signal(&h->wake);
    uint64_t deadline = memgauge__now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (!h->has_exited)
        if (memgauge__cond_wait_until(&h->exited, &h->lock, deadline) == ETIMEDOUT)
            break;
    if (!h->has_exited) {
        /* From the unlock on, the thread may free h at any moment. */
        pthread_t thread = h->thread;
        h->orphaned = 1;
        pthread_mutex_unlock(&h->lock);
        pthread_detach(thread);
        return MEMGAUGE_E_TIMEOUT;
    }
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    destroy(h);
    return MEMGAUGE_OK;
}

/* Locks a live (or forked-away) handle for reading; refuses a stale one. */
static int with_handle(memgauge_t *h, int *running)
{
    pthread_mutex_lock(&g_lock);
    if (h == g_active) {
        *running = 1;
    } else if (h == g_forked) {
        *running = 0;
    } else {
        pthread_mutex_unlock(&g_lock);
        return MEMGAUGE_E_NOT_RUNNING;
    }
    pthread_mutex_lock(&h->lock);
    return MEMGAUGE_OK;
}

static void release_handle(memgauge_t *h)
{
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&g_lock);
}

int memgauge_get_stats(memgauge_t *h, memgauge_stats_t *out)
{
    if (h == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (out->struct_size < MEMGAUGE__STATS_V1_SIZE)
        return MEMGAUGE_E_STRUCT_SIZE;
    int running;
    int rc = with_handle(h, &running);
    if (rc != MEMGAUGE_OK)
        return rc;
    memgauge_stats_t s;
    memset(&s, 0, sizeof s);
    memgauge__session_stats(&h->session, &s);
    s.running = running;
    s.read_errors = h->read_errors;
    s.overruns = h->overruns;
    s.threshold_events = h->threshold_events;
    s.sampler_cpu_ns = running ? memgauge__thread_cpu_ns(h->thread) : 0;
    release_handle(h);

    size_t caller = out->struct_size;
    s.struct_size = caller;
    memcpy(out, &s, caller < sizeof s ? caller : sizeof s);
    if (caller > sizeof s)
        memset((char *)out + sizeof s, 0, caller - sizeof s);
    return MEMGAUGE_OK;
}

int memgauge_get_samples(memgauge_t *h, memgauge_sample_t *out, size_t cap, size_t *count)
{
    if (h == NULL || count == NULL || (out == NULL && cap != 0))
        return MEMGAUGE_E_NULL_ARGUMENT;
    int running;
    int rc = with_handle(h, &running);
    if (rc != MEMGAUGE_OK)
        return rc;
    *count = memgauge__session_recent(&h->session, out, cap);
    release_handle(h);
    return MEMGAUGE_OK;
}
