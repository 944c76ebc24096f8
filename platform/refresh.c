/* The platform layer's one pthread_atfork registration. See refresh.h. */
#include <stddef.h>

#include "refresh.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_registry = PTHREAD_MUTEX_INITIALIZER;
static memgauge__cache_t *g_caches; /* newest first; guarded by g_registry */

static void before_fork(void)
{
    pthread_mutex_lock(&g_registry);
    for (memgauge__cache_t *c = g_caches; c != NULL; c = c->next)
        if (c->lock != NULL)
            pthread_mutex_lock(c->lock);
}

static void in_parent(void)
{
    for (memgauge__cache_t *c = g_caches; c != NULL; c = c->next)
        if (c->lock != NULL)
            pthread_mutex_unlock(c->lock);
    pthread_mutex_unlock(&g_registry);
}

/* The child is single-threaded here: the hooks run with nothing reading. */
static void in_child(void)
{
    for (memgauge__cache_t *c = g_caches; c != NULL; c = c->next) {
        if (c->child != NULL)
            c->child();
        if (c->lock != NULL)
            pthread_mutex_unlock(c->lock);
    }
    pthread_mutex_unlock(&g_registry);
}

static void install(void)
{
    pthread_atfork(before_fork, in_parent, in_child);
}

void memgauge__cache_register(memgauge__cache_t *c)
{
    pthread_once(&g_once, install);
    pthread_mutex_lock(&g_registry);
    c->next = g_caches;
    g_caches = c;
    pthread_mutex_unlock(&g_registry);
}
