/*
 * Darwin: the kernel's memory pressure state, from a dispatch source of type
 * DISPATCH_SOURCE_TYPE_MEMORYPRESSURE. Its handler turns each event into a
 * state word (darwin_pressure_rules.c: which level the OR'd flags mean, and
 * when an elevated level without news expires) and publishes it with one
 * atomic store; callers read the level the state stands for now. Darwin has
 * no PSI and no OOM-kill counter: those fields stay unset.
 *
 * Plain C: the handler is a function with a context
 * (dispatch_source_set_event_handler_f), so no blocks (-fblocks) are needed.
 */
#include <TargetConditionals.h>
#include <dispatch/dispatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "darwin_pressure_rules.h"
#include "platform.h"
#include "refresh.h"

_Static_assert(MEMGAUGE__DISPATCH_PRESSURE_NORMAL == DISPATCH_MEMORYPRESSURE_NORMAL,
               "DISPATCH_MEMORYPRESSURE_NORMAL");
_Static_assert(MEMGAUGE__DISPATCH_PRESSURE_WARN == DISPATCH_MEMORYPRESSURE_WARN,
               "DISPATCH_MEMORYPRESSURE_WARN");
_Static_assert(MEMGAUGE__DISPATCH_PRESSURE_CRITICAL == DISPATCH_MEMORYPRESSURE_CRITICAL,
               "DISPATCH_MEMORYPRESSURE_CRITICAL");

static struct {
    pthread_once_t once;
    _Atomic uint64_t state;   /* memgauge__darwin_pressure_state_t */
    _Atomic int forked;       /* libdispatch must not be used in a forked child */
    dispatch_source_t source; /* lives as long as the process */
} g = {
    .once = PTHREAD_ONCE_INIT,
};

/* Runs on the source's queue only, so the read-modify-write needs no lock. */
static void on_pressure(void *context)
{
    dispatch_source_t source = context;
    uintptr_t flags = dispatch_source_get_data(source);
    uint64_t state = atomic_load_explicit(&g.state, memory_order_relaxed);
    state = memgauge__darwin_pressure_on_event(state, flags, TARGET_OS_SIMULATOR != 0,
                                               memgauge__now_ns());
    atomic_store_explicit(&g.state, state, memory_order_relaxed);
}

/* The parent's source does not follow into the child, and libdispatch state
 * copied by fork() is unusable: the child reports NORMAL from then on. */
static void forked_child(void)
{
    atomic_store(&g.forked, 1);
    atomic_store(&g.state, 0);
}

static memgauge__cache_t g_cache = {.child = forked_child}; /* refresh.h */

static void init_once(void)
{
    memgauge__cache_register(&g_cache);
    if (atomic_load(&g.forked))
        return;
    /* User-interactive, as Bugsnag runs it: the event then arrives before
     * UIKit's didReceiveMemoryWarning, which the app's own handlers may keep
     * the main thread busy with. The handler is a few instructions. */
    dispatch_source_t source =
        dispatch_source_create(DISPATCH_SOURCE_TYPE_MEMORYPRESSURE, 0,
                               DISPATCH_MEMORYPRESSURE_NORMAL | DISPATCH_MEMORYPRESSURE_WARN |
                                   DISPATCH_MEMORYPRESSURE_CRITICAL,
                               dispatch_get_global_queue(QOS_CLASS_USER_INTERACTIVE, 0));
    if (source == NULL)
        return;
    dispatch_set_context(source, source);
    dispatch_source_set_event_handler_f(source, on_pressure);
    dispatch_resume(source);
    g.source = source;
}

int memgauge__platform_pressure(memgauge__os_pressure_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(out, 0, sizeof *out);
    pthread_once(&g.once, init_once);
    uint64_t state = atomic_load_explicit(&g.state, memory_order_relaxed);
    out->level = memgauge__darwin_pressure_level(state, memgauge__now_ns());
    return MEMGAUGE_OK;
}
