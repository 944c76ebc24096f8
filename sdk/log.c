/* The diagnostic log hook. See log.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "platform.h"

#define MESSAGE_MAX 512

struct memgauge__log_s {
    atomic_int refs;
    pthread_mutex_t lock; /* held across the hook's call: one at a time */
    memgauge_log_fn fn;   /* NULL once silenced */
    void *user_data;
    uint64_t last_ns[MEMGAUGE__LOG_KINDS]; /* 0: never spoke */
    uint64_t held[MEMGAUGE__LOG_KINDS];    /* held back since it last spoke */
    _Atomic uint64_t suppressed;           /* read without the lock: the hook may ask for stats */
};

memgauge__log_t *memgauge__log_create(memgauge_log_fn fn, void *user_data)
{
    memgauge__log_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        free(l);
        return NULL;
    }
    atomic_init(&l->refs, 1);
    l->fn = fn;
    l->user_data = user_data;
    return l;
}

void memgauge__log_retain(memgauge__log_t *l)
{
    atomic_fetch_add(&l->refs, 1);
}

void memgauge__log_release(void *p)
{
    memgauge__log_t *l = p;
    if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void memgauge__log_silence(memgauge__log_t *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->fn = NULL;
    pthread_mutex_unlock(&l->lock);
}

void memgauge__log(memgauge__log_t *l, int kind, int level, const char *fmt, ...)
{
    if (l == NULL || kind < 0 || kind >= MEMGAUGE__LOG_KINDS)
        return;
    uint64_t now = memgauge__now_ns();
    pthread_mutex_lock(&l->lock);
    if (l->fn == NULL) {
        pthread_mutex_unlock(&l->lock);
        return;
    }
    if (l->last_ns[kind] != 0 && now - l->last_ns[kind] < MEMGAUGE__LOG_INTERVAL_NS) {
        l->held[kind]++;
        atomic_fetch_add(&l->suppressed, 1);
        pthread_mutex_unlock(&l->lock);
        return;
    }
    char msg[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof msg && l->held[kind] > 0)
        snprintf(msg + n, sizeof msg - (size_t)n, " (%llu more like it held back)",
                 (unsigned long long)l->held[kind]);
    l->last_ns[kind] = now != 0 ? now : 1;
    l->held[kind] = 0;
    l->fn(level, msg, l->user_data);
    pthread_mutex_unlock(&l->lock);
}

uint64_t memgauge__log_suppressed(memgauge__log_t *l)
{
    if (l == NULL)
        return 0;
    return atomic_load(&l->suppressed);
}
