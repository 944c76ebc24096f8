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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "internal.h"
#include "journal.h"
#include "log.h"
#include "platform.h"
#include "pressure.h"
#include "report.h"
#include "thresholds.h"
#include "tick.h"

struct memgauge_s {
    memgauge_options_t opts; /* copy; thresholds point into `thresholds` */
    memgauge__thresholds_t thresholds;
    memgauge__read_fn read;
    void *read_ctx;
    memgauge__pressure_fn os_pressure;
    void *pressure_ctx;

    pthread_mutex_t lock;
    pthread_cond_t wake;   /* signalled by stop */
    pthread_cond_t exited; /* signalled by the thread as it ends */
    pthread_t thread;
    int stop_requested;
    int has_exited;
    int orphaned; /* stop timed out: the thread frees the handle */

    memgauge__session_t session;
    memgauge__pressure_t pressure;
    uint32_t interval_ms; /* in use now: opts.interval_ms or opts.fast_interval_ms */
    uint64_t read_errors;
    uint64_t overruns;
    uint64_t resumes; /* waits that ended an interval late: suspended, grid restarted */
    uint64_t memory_warnings_sent; /* memgauge_note_memory_warning calls already reported */
    uint64_t threshold_events;
    uint64_t pressure_events;
    uint64_t fast_samples;
    memgauge__journal_t journal; /* written by the sampler thread only */
    memgauge__report_t *report;  /* NULL without options.endpoint_url */
    memgauge__log_t *log;        /* options.on_log, rate-limited; shared with the transport */
    memgauge_sample_t ring[];    /* opts.ring_capacity entries */
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
    memgauge__journal_forget_after_fork();
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

static int platform_pressure(memgauge__os_pressure_t *out, void *ctx)
{
    (void)ctx;
    return memgauge__platform_pressure(out);
}

/* Footprint change per second between two samples. */
static int64_t growth_per_s(const memgauge_sample_t *s, uint64_t prev_time_ns)
{
    if (s->seq < 2 || s->time_ns <= prev_time_ns)
        return 0;
    double dt = (double)(s->time_ns - prev_time_ns) / 1e9;
    return (int64_t)((double)s->delta_bytes / dt);
}

static void destroy(memgauge_t *h);

/* Memory warnings since the last sample go out as events, a few per sample
 * at most (a storm of them says no more than the first few). */
static void report_memory_warnings(memgauge_t *h, uint64_t time_ns)
{
    uint64_t total = memgauge__journal_memory_warnings();
    for (int sent = 0; h->memory_warnings_sent < total; h->memory_warnings_sent++)
        if (sent++ < 4)
            memgauge__report_memory_warning(h->report, time_ns);
}

/* One tick: read, aggregate, record, then run callbacks with no lock held. */
static void take_sample(memgauge_t *h)
{
    memgauge_reading_t reading;
    memgauge_sample_t sample;
    memgauge_window_t closed;
    memgauge_threshold_event_t events[2 * MEMGAUGE_MAX_THRESHOLDS];
    memgauge_pressure_event_t pressure_event;
    memgauge__os_pressure_t os;
    uint32_t n_events = 0;
    int window_closed = 0, pressure_changed = 0;

    int rc = h->read(&reading, h->read_ctx);
    memset(&os, 0, sizeof os);
    if (rc == MEMGAUGE_OK)
        h->os_pressure(&os, h->pressure_ctx);
    pthread_mutex_lock(&h->lock);
    uint64_t prev_time = h->session.last_ns;
    uint64_t session_peak = 0;
    int level = 0;
    if (rc == MEMGAUGE_OK) {
        window_closed = memgauge__session_add(&h->session, &reading, &sample, &closed);
        n_events = memgauge__thresholds_eval(&h->thresholds, &sample, events);
        h->threshold_events += n_events;
        pressure_changed =
            memgauge__pressure_update(&h->pressure, &sample, os.level, &pressure_event);
        h->pressure_events += (uint64_t)pressure_changed;
        if (h->interval_ms != h->opts.interval_ms)
            h->fast_samples++;
        int fast =
            memgauge__pressure_adapt(&h->pressure, &sample, growth_per_s(&sample, prev_time));
        h->interval_ms = fast ? h->opts.fast_interval_ms : h->opts.interval_ms;
        session_peak = h->session.peak;
        level = h->pressure.level;
    } else {
        h->read_errors++;
    }
    uint32_t interval_ms = h->interval_ms;
    pthread_mutex_unlock(&h->lock);
    if (rc != MEMGAUGE_OK)
        return;
    memgauge__journal_sample(&h->journal, &sample, session_peak, level, &os, interval_ms);
    if (h->report != NULL) { /* queue pushes: no lock, no allocation */
        if (window_closed)
            memgauge__report_window(h->report, &closed);
        memgauge__report_sample(h->report, &sample);
        for (uint32_t i = 0; i < n_events; i++)
            memgauge__report_threshold(h->report, &events[i]);
        if (pressure_changed)
            memgauge__report_pressure(h->report, &pressure_event);
        report_memory_warnings(h, sample.time_ns);
    }

    const memgauge_options_t *o = &h->opts;
    if (window_closed && o->on_window != NULL)
        o->on_window(&closed, o->user_data);
    if (o->on_threshold != NULL)
        for (uint32_t i = 0; i < n_events; i++)
            o->on_threshold(&events[i], o->user_data);
    if (pressure_changed && o->on_pressure != NULL)
        o->on_pressure(&pressure_event, o->user_data);
    if (o->on_sample != NULL)
        o->on_sample(&sample, o->user_data);
}

static void *sampler_main(void *arg)
{
    memgauge_t *h = arg;
    uint64_t next = memgauge__now_ns();
    uint32_t grid_ms = h->interval_ms;

    /* told from here rather than from memgauge_start, so that the hook only
     * ever runs on the SDK's threads */
    if (h->journal.record_errno != 0)
        memgauge__log(h->log, MEMGAUGE__LOG_RECORD, MEMGAUGE_LOG_WARNING,
                      "memgauge: no session record in %s (%s): measuring without one, so the "
                      "next launch cannot tell how this session ended",
                      h->journal.dir, strerror(h->journal.record_errno));

    pthread_mutex_lock(&h->lock);
    while (!h->stop_requested) {
        pthread_mutex_unlock(&h->lock);
        take_sample(h);
        pthread_mutex_lock(&h->lock);

        /* Ticks stay on the grid start + k * interval (tick.h); a tick
         * missed because a sample or callback ran long is skipped and
         * counted. A switch between the fast and the normal interval starts
         * a new grid at the last tick, and so does a wait that ended a whole
         * interval late: the process was suspended, not slow. */
        uint64_t now = memgauge__now_ns();
        if (h->interval_ms != grid_ms) {
            grid_ms = h->interval_ms;
            next = now;
        }
        const uint64_t interval = (uint64_t)grid_ms * 1000000u;
        next = memgauge__tick_after_sample(next, now, interval, &h->overruns);
        while (!h->stop_requested)
            if (memgauge__cond_wait_until(&h->wake, &h->lock, next) == ETIMEDOUT)
                break;
        next = memgauge__tick_after_wait(next, memgauge__now_ns(), interval, &h->resumes);
    }
    h->has_exited = 1;
    pthread_cond_broadcast(&h->exited);
    int orphaned = h->orphaned;
    pthread_mutex_unlock(&h->lock);
    if (orphaned)
        destroy(h);
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

/* Ends a handle that was started (or failed to start after its record was
 * created): the record is marked as a clean stop and closed. */
static void destroy(memgauge_t *h)
{
    if (h->report != NULL) /* a failed start, or an orphaned sampler: spool it all now */
        memgauge__report_stop(h->report, NULL, NULL, 0);
    memgauge__journal_close(&h->journal, 1);
    memgauge__log_silence(h->log);
    memgauge__log_release(h->log);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->exited);
    free(h);
}

/* Starts the thread with every signal blocked, so that the app's signal
 * handlers never run on it. */
static int spawn(memgauge_t *h)
{
    return memgauge__thread_start(&h->thread, sampler_main, h) == 0 ? 0 : -1;
}

/* Trail entries for trail_seconds at the fastest interval in use. */
static uint32_t trail_capacity(const memgauge_options_t *o)
{
    if (o->trail_seconds == 0)
        return 0;
    uint32_t fastest = o->fast_interval_ms < o->interval_ms ? o->fast_interval_ms : o->interval_ms;
    uint64_t n = (uint64_t)o->trail_seconds * 1000u / fastest + 1;
    return n > MEMGAUGE__RECORD_MAX_TRAIL ? MEMGAUGE__RECORD_MAX_TRAIL : (uint32_t)n;
}

int memgauge__start_with(const memgauge_options_t *user_opts, const memgauge__hooks_t *hooks,
                         memgauge_t **out)
{
    if (user_opts == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memgauge_options_t opts;
    int rc = memgauge__options_normalize(user_opts, &opts);
    if (rc == MEMGAUGE_OK)
        rc = memgauge__options_validate(&opts);
    if (rc != MEMGAUGE_OK)
        return rc;
    memgauge__read_fn read = hooks && hooks->read ? hooks->read : platform_read;
    void *read_ctx = hooks ? hooks->read_ctx : NULL;
    memgauge_reading_t probe;
    if (read(&probe, read_ctx) != MEMGAUGE_OK)
        return MEMGAUGE_E_PLATFORM;

    pthread_once(&g_atfork_once, register_atfork);
    size_t cap = opts.ring_capacity;
    memgauge_t *h = calloc(1, sizeof *h + cap * sizeof h->ring[0]);
    if (h == NULL)
        return MEMGAUGE_E_NO_MEMORY;
    h->opts = opts;
    if (h->opts.fast_interval_ms > h->opts.interval_ms)
        h->opts.fast_interval_ms = h->opts.interval_ms; /* "fast" never means slower */
    memgauge__thresholds_init(&h->thresholds, opts.thresholds, opts.threshold_count,
                              opts.hysteresis_fraction);
    h->opts.thresholds = h->thresholds.defs;
    /* the strings are the caller's: the journal copies what it keeps */
    h->opts.storage_dir = h->opts.app_id = h->opts.app_version = h->opts.app_build = NULL;
    h->read = read;
    h->read_ctx = read_ctx;
    h->os_pressure = hooks && hooks->pressure ? hooks->pressure : platform_pressure;
    h->pressure_ctx = hooks ? hooks->pressure_ctx : NULL;
    h->interval_ms = opts.interval_ms;
    memgauge__session_init(&h->session, h->ring, opts.ring_capacity,
                           (uint64_t)opts.window_ms * 1000000u);
    memgauge__pressure_init(&h->pressure, &opts);
    /* warnings before this start belong to no session's report */
    h->memory_warnings_sent = memgauge__journal_memory_warnings();
    int synced = 0, locked = 0;
    rc = MEMGAUGE_E_NO_MEMORY;
    h->log = memgauge__log_create(opts.on_log, opts.log_user_data);
    if (h->log == NULL || init_sync(h) != 0)
        goto fail;
    synced = 1; /* from here on destroy() ends the handle */

    /* g_lock is held across the record's creation so that a second start
     * never reads the running session's record as its predecessor. */
    pthread_mutex_lock(&g_lock);
    locked = 1;
    rc = MEMGAUGE_E_ALREADY_STARTED;
    if (g_active != NULL)
        goto fail;
    rc = memgauge__journal_open(&h->journal, &opts, trail_capacity(&opts));
    if (rc != MEMGAUGE_OK)
        goto fail;
    /* `opts` still holds the caller's strings: the transport copies them */
    rc = memgauge__report_start(&opts, &h->journal, probe.footprint_source, h->log, &h->report);
    if (rc != MEMGAUGE_OK)
        goto fail;
    /* Set before the thread exists, so callbacks may read it. */
    *out = h;
    rc = MEMGAUGE_E_THREAD;
    if (spawn(h) != 0) {
        *out = NULL;
        goto fail;
    }
    g_active = h;
    pthread_mutex_unlock(&g_lock);
    return MEMGAUGE_OK;

fail:
    if (locked)
        pthread_mutex_unlock(&g_lock);
    if (synced) {
        destroy(h);
    } else {
        memgauge__log_release(h->log);
        free(h);
    }
    return rc;
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
        memgauge__journal_close(&h->journal, 0); /* the parent's record: unmap only */
        memgauge__log_release(h->log);
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
    int rc = MEMGAUGE_OK;
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
    if (h->report != NULL) {
        /* the window in progress goes too; what the rest of the timeout
         * cannot send stays in the spool for the next start */
        memgauge_stats_t s;
        memset(&s, 0, sizeof s);
        memgauge__session_stats(&h->session, &s);
        uint64_t now = memgauge__now_ns();
        uint32_t left = now < deadline ? (uint32_t)((deadline - now) / 1000000u) : 0;
        rc = memgauge__report_stop(h->report, &s.current_window, s.samples > 0 ? &s.last_ns : NULL,
                                   left);
        h->report = NULL;
    }
    destroy(h);
    return rc;
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
    s.pressure = h->pressure.level;
    s.interval_ms = h->interval_ms;
    s.pressure_events = h->pressure_events;
    s.fast_samples = h->fast_samples;
    s.record_writes =
        h->journal.enabled ? atomic_load_explicit(&h->journal.rec.writes, memory_order_relaxed) : 0;
    s.record_active = h->journal.enabled;
    s.record_errno = h->journal.record_errno;
    s.log_suppressed = memgauge__log_suppressed(h->log);
    s.resumes = h->resumes;
    memgauge__journal_platform_facts(&s.memory_warnings, &s.thermal_state, &s.launch_flags);
    if (h->report != NULL && running)
        memgauge__report_stats(h->report, &s);
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

int memgauge_previous_session(memgauge_t *h, memgauge_previous_session_t *out)
{
    if (h == NULL || out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    if (out->struct_size < offsetof(memgauge_previous_session_t, trail))
        return MEMGAUGE_E_STRUCT_SIZE;
    int running;
    int rc = with_handle(h, &running);
    if (rc != MEMGAUGE_OK)
        return rc;
    memgauge_previous_session_t p = h->journal.previous;
    release_handle(h);
    size_t caller = out->struct_size;
    p.struct_size = caller;
    memcpy(out, &p, caller < sizeof p ? caller : sizeof p);
    if (caller > sizeof p)
        memset((char *)out + sizeof p, 0, caller - sizeof p);
    return MEMGAUGE_OK;
}
