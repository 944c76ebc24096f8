/*
 * The queue from the sampler to the transport's worker: bounded, lock-free,
 * one producer (the sampler) and one consumer (the worker). The producer
 * never blocks and never allocates: a full queue refuses the item and the
 * caller counts it as dropped.
 */
#ifndef MEMGAUGE_TRANSPORT_QUEUE_H
#define MEMGAUGE_TRANSPORT_QUEUE_H

#include <stdatomic.h>
#include <stdint.h>

#include "transport.h"

enum { MEMGAUGE__TR_ITEM_SAMPLE = 1, MEMGAUGE__TR_ITEM_WINDOW = 2, MEMGAUGE__TR_ITEM_EVENT = 3 };

typedef struct memgauge__tr_item_s {
    int kind; /* MEMGAUGE__TR_ITEM_* */
    union {
        memgauge__tr_sample_t sample;
        memgauge__tr_window_t window; /* without its series: the worker rebuilds it */
        memgauge__tr_event_t event;
    } u;
} memgauge__tr_item_t;

typedef struct memgauge__tr_queue_s {
    memgauge__tr_item_t *items; /* owned, `cap` of them */
    uint32_t cap;
    _Atomic uint64_t head; /* written by the consumer only */
    _Atomic uint64_t tail; /* written by the producer only */
} memgauge__tr_queue_t;

/* Allocates room for `cap` items (at least 1). 0, or -1 without memory. */
int memgauge__tr_queue_init(memgauge__tr_queue_t *q, uint32_t cap);

/* Frees the items; neither side may use the queue afterwards. */
void memgauge__tr_queue_free(memgauge__tr_queue_t *q);

/* Producer: copies *it in. 1 when queued, 0 when the queue is full. */
int memgauge__tr_queue_push(memgauge__tr_queue_t *q, const memgauge__tr_item_t *it);

/* Consumer: the oldest item, borrowed until memgauge__tr_queue_pop, or NULL
 * when the queue is empty. */
const memgauge__tr_item_t *memgauge__tr_queue_front(memgauge__tr_queue_t *q);

/* Consumer: gives the front item's slot back to the producer. */
void memgauge__tr_queue_pop(memgauge__tr_queue_t *q);

#endif
