#include "retention.h"

#include "clock.h"
#include "rollup.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

struct memgauge__retention_s {
    memgauge__store_t *st;
    FILE *log;
    uint64_t keep_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    int stop;
};

int memgauge__retention_step(memgauge__store_t *st, uint64_t cutoff_unix_ms, size_t *batch,
                             size_t *deleted)
{
    uint64_t t0 = memgauge__mono_ms();
    int rc = st->ops->expire(st, cutoff_unix_ms, *batch, deleted);
    uint64_t took = memgauge__mono_ms() - t0;
    if (took > MEMGAUGE__RETENTION_STEP_MS && *batch > 1)
        *batch /= 2;
    else if (took < MEMGAUGE__RETENTION_STEP_MS / 4 && *deleted == *batch &&
             *batch < MEMGAUGE__RETENTION_STEP_MAX)
        *batch *= 2;
    return rc;
}

/* Waits ms or until stopped; returns the stop flag. */
static int pause_ms(memgauge__retention_t *r, uint64_t ms)
{
    struct timespec until = memgauge__mono_deadline(ms);
    pthread_mutex_lock(&r->lock);
    while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
        ;
    int stop = r->stop;
    pthread_mutex_unlock(&r->lock);
    return stop;
}

static void *run(void *arg)
{
    memgauge__retention_t *r = arg;
    size_t batch = 16, total = 0;
    for (;;) {
        uint64_t cutoff = memgauge__now_unix_ms() - r->keep_ms;
        size_t deleted = 0, asked = batch;
        int rc = memgauge__retention_step(r->st, cutoff, &batch, &deleted);
        total += deleted;
        if (rc && rc != MEMGAUGE__STORE_BUSY)
            fprintf(r->log, "memgauge-collector: retention: %s\n", memgauge__store_error(r->st));
        int more = !rc && deleted == asked;
        if (!more && total) {
            fprintf(r->log, "memgauge-collector: retention: deleted %zu sessions\n", total);
            total = 0;
        }
        uint64_t wait = more ? MEMGAUGE__RETENTION_PAUSE_MS
                        : rc ? 1000
                             : MEMGAUGE__RETENTION_IDLE_S * 1000ull;
        if (pause_ms(r, wait))
            return NULL;
    }
}

int memgauge__retention_start(memgauge__store_t *st, unsigned days, FILE *log,
                              memgauge__retention_t **out)
{
    *out = NULL;
    if (days == 0)
        return 0;
    memgauge__retention_t *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->st = st;
    r->log = log;
    r->keep_ms = (uint64_t)days * MEMGAUGE__DAY_MS;
    pthread_mutex_init(&r->lock, NULL);
    memgauge__cond_init_mono(&r->wake);
    if (pthread_create(&r->thread, NULL, run, r)) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void memgauge__retention_stop(memgauge__retention_t *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
