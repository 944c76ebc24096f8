/* The sampler-to-worker queue. See queue.h. */
#include <stdlib.h>

#include "queue.h"

int memgauge__tr_queue_init(memgauge__tr_queue_t *q, uint32_t cap)
{
    q->cap = cap > 0 ? cap : 1;
    q->items = calloc(q->cap, sizeof *q->items);
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return q->items != NULL ? 0 : -1;
}

void memgauge__tr_queue_free(memgauge__tr_queue_t *q)
{
    free(q->items);
    q->items = NULL;
}

int memgauge__tr_queue_push(memgauge__tr_queue_t *q, const memgauge__tr_item_t *it)
{
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head >= q->cap)
        return 0;
    q->items[tail % q->cap] = *it;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return 1;
}

const memgauge__tr_item_t *memgauge__tr_queue_front(memgauge__tr_queue_t *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    return head != tail ? &q->items[head % q->cap] : NULL;
}

void memgauge__tr_queue_pop(memgauge__tr_queue_t *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
}
