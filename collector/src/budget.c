#include "budget.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

int memgauge__budget_take(memgauge__budget_t *b, size_t n)
{
    memgauge__mempool_t *p = b->pool;
    size_t used = atomic_load_explicit(&p->used, memory_order_relaxed);
    do {
        if (n > p->limit || used > p->limit - n) {
            atomic_fetch_add_explicit(&p->refused, 1, memory_order_relaxed);
            return -1;
        }
    } while (!atomic_compare_exchange_weak_explicit(&p->used, &used, used + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    size_t now = used + n, peak = atomic_load_explicit(&p->peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &p->peak, &peak, now, memory_order_relaxed, memory_order_relaxed))
        ;
    b->held += n;
    return 0;
}

void memgauge__budget_give(memgauge__budget_t *b, size_t n)
{
    if (n > b->held)
        n = b->held;
    b->held -= n;
    atomic_fetch_sub_explicit(&b->pool->used, n, memory_order_relaxed);
}

void memgauge__budget_release(memgauge__budget_t *b)
{
    if (b->pool)
        memgauge__budget_give(b, b->held);
}

typedef struct json_limit_s {
    int active;
    int failed;
    size_t left;
} json_limit_t;

static _Thread_local json_limit_t limit;

/* What a block really costs: its usable size and glibc's 8-byte header.
 * Charged when allocated and credited when freed, so the limit bounds the
 * bytes live at once (cJSON also makes short-lived copies of numbers). */
static size_t cost(void *p)
{
    return malloc_usable_size(p) + 8;
}

static void *json_malloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        limit.failed = 1;
        return NULL;
    }
    if (limit.active) {
        size_t charge = cost(p);
        if (charge > limit.left) {
            free(p);
            limit.failed = 1;
            return NULL;
        }
        limit.left -= charge;
    }
    return p;
}

/* blocks are plain malloc blocks: free() and cJSON_free() both work */
static void json_free(void *p)
{
    if (p && limit.active)
        limit.left += cost(p);
    free(p);
}

static void install(void)
{
    cJSON_Hooks h = {.malloc_fn = json_malloc, .free_fn = json_free};
    cJSON_InitHooks(&h);
}

void memgauge__json_hooks_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}

void memgauge__json_watch_begin(void)
{
    limit.active = 0;
    limit.failed = 0;
}

void memgauge__json_limit_begin(size_t bytes)
{
    limit.active = 1;
    limit.failed = 0;
    limit.left = bytes;
}

int memgauge__json_limit_end(void)
{
    int failed = limit.failed;
    limit.active = 0;
    limit.failed = 0;
    return failed;
}
