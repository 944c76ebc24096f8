/*
 * Darwin: the kernel's memory pressure state, from a dispatch source of type
 * DISPATCH_SOURCE_TYPE_MEMORYPRESSURE. It fires on every transition
 * (normal, warn, critical), before UIKit's didReceiveMemoryWarning, and its
 * handler stores the new level in an atomic that callers read. Darwin has
 * no PSI and no OOM-kill counter: those fields stay unset.
 *
 * Plain C: the handler is a function with a context
 * (dispatch_source_set_event_handler_f), so no blocks (-fblocks) are needed.
 */
#include <dispatch/dispatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "platform.h"

static struct {
    pthread_once_t once;
    _Atomic int level;
    _Atomic int forked;       /* libdispatch must not be used in a forked child */
    dispatch_source_t source; /* lives as long as the process */
} g = {
    .once = PTHREAD_ONCE_INIT,
    .level = MEMGAUGE_PRESSURE_NORMAL,
};

static void on_pressure(void *context)
{
    dispatch_source_t source = context;
    uintptr_t flags = dispatch_source_get_data(source);
    int level = MEMGAUGE_PRESSURE_NORMAL;
    if (flags & DISPATCH_MEMORYPRESSURE_CRITICAL)
        level = MEMGAUGE_PRESSURE_CRITICAL;
    else if (flags & DISPATCH_MEMORYPRESSURE_WARN)
        level = MEMGAUGE_PRESSURE_WARNING;
    atomic_store_explicit(&g.level, level, memory_order_relaxed);
}

/* The parent's source does not follow into the child, and libdispatch state
 * copied by fork() is unusable: the child reports NORMAL from then on. */
static void atfork_child(void)
{
    atomic_store(&g.forked, 1);
    atomic_store(&g.level, MEMGAUGE_PRESSURE_NORMAL);
}

static void init_once(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
    if (atomic_load(&g.forked))
        return;
    dispatch_source_t source =
        dispatch_source_create(DISPATCH_SOURCE_TYPE_MEMORYPRESSURE, 0,
                               DISPATCH_MEMORYPRESSURE_NORMAL | DISPATCH_MEMORYPRESSURE_WARN |
                                   DISPATCH_MEMORYPRESSURE_CRITICAL,
                               dispatch_get_global_queue(QOS_CLASS_UTILITY, 0));
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
    out->level = atomic_load_explicit(&g.level, memory_order_relaxed);
    return MEMGAUGE_OK;
}
