/*
 * Inside the transport: the state its files share (worker.c: the producer
 * side, the worker loop, sending and the lifecycle; batch.c: the batch being
 * assembled; queue.c: the queue between them). Not for use outside
 * transport/.
 *
 * Threads and locks: the producer (the sampler) touches only `queue`, the
 * dropped_* counters and `kick`; `lock` guards the fields marked so; the
 * rest belongs to the worker thread once it runs.
 */
#ifndef MEMGAUGE_TRANSPORT_WORKER_H
#define MEMGAUGE_TRANSPORT_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "batch.h"
#include "queue.h"
#include "spool.h"
#include "transport.h"

#define MEMGAUGE__TR_MAX_HEADERS 24

struct memgauge__tr_s {
    /* set by create, read-only afterwards */
    memgauge__tr_config_t cfg; /* strings below are owned copies */
    char *headers[MEMGAUGE__TR_MAX_HEADERS];
    size_t header_count;
    memgauge__tr_meta_t meta;
    memgauge__tr_send_fn send;
    void *send_ctx;

    /* the producer's side */
    memgauge__tr_queue_t queue;
    atomic_ullong dropped_samples, dropped_events; /* queue full */
    atomic_int kick;                               /* the producer wants the worker to look now */
    atomic_int abort_flag; /* stop's deadline passed: the transfer in flight ends */

    pthread_mutex_t lock;
    pthread_cond_t cond; /* from memgauge__cond_init: waits on the monotonic clock */
    pthread_t thread;
    int stop;                   /* guarded by lock */
    uint64_t deadline_ns;       /* guarded by lock */
    int exited;                 /* guarded by lock */
    int orphaned;               /* guarded by lock: the worker frees the transport */
    uint64_t end_ms_set;        /* guarded by lock */
    int end_set;                /* guarded by lock */
    memgauge__tr_stats_t stats; /* guarded by lock */

    /* worker only */
    memgauge__tr_assembly_t batch;
    memgauge__spool_t spool;
    uint32_t attempt;     /* failed attempts of the oldest file */
    uint64_t next_try_ns; /* 0: now */
    int config_attempt;   /* consecutive configuration errors */
    int gzip_refused;     /* the collector answered 415: plain JSON from now on */
};

/* Adds n to one of t->stats under t->lock. */
void memgauge__tr_add_stat(memgauge__tr_t *t, uint64_t *field, uint64_t n);

/* A diagnostic message through cfg.log (never call with t->lock held). */
void memgauge__tr_say(memgauge__tr_t *t, int kind, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
