/* The OTLP exporter's queue on disk: one file per request (a kind byte,
 * then the gzip'd body), named by a sequence number so that the oldest goes
 * first, bounded by a byte budget: when a new request does not fit, the
 * oldest are deleted and counted. It survives a restart (a receiver down
 * for minutes loses nothing within the budget). Thread-safe: every call
 * takes the queue's lock for a bounded time (one small file). */
#ifndef MEMGAUGE_COLLECTOR_OTLP_QUEUE_H
#define MEMGAUGE_COLLECTOR_OTLP_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__OTLP_QUEUE_PATH_MAX 4000

typedef enum memgauge__otlp_kind_e {
    MEMGAUGE__OTLP_METRICS = 'm',
    MEMGAUGE__OTLP_LOGS = 'l'
} memgauge__otlp_kind_t;

typedef struct memgauge__otlp_queue_s {
    char dir[MEMGAUGE__OTLP_QUEUE_PATH_MAX];
    uint64_t budget;      /* bytes */
    pthread_mutex_t lock; /* everything below */
    uint64_t head, tail;  /* files head .. tail-1 may exist */
    uint64_t bytes, files;
    uint64_t dropped; /* deleted unsent to make room */
} memgauge__otlp_queue_t;

/* Creates dir (mode 0700) when missing and takes over what a previous run
 * left in it (its oldest first). Returns 0, or -1 with the reason in err. */
int memgauge__otlp_queue_open(memgauge__otlp_queue_t *q, const char *dir, uint64_t budget,
                              char *err, size_t errlen);

/* Appends one request (copied). Deletes the oldest requests while the queue
 * would pass its budget; a request larger than the whole budget is dropped
 * itself. Returns 0, or -1 when it could not be written (counted dropped). */
int memgauge__otlp_queue_put(memgauge__otlp_queue_t *q, memgauge__otlp_kind_t kind,
                             const void *data, size_t len);

/* The oldest request: *data malloc'd (the caller frees it). Returns 1 when
 * there is one, 0 when the queue is empty, -1 on a read error (that file
 * is deleted and counted dropped). */
int memgauge__otlp_queue_peek(memgauge__otlp_queue_t *q, uint64_t *seq, memgauge__otlp_kind_t *kind,
                              char **data, size_t *len);

/* Deletes request seq once delivered (or refused for good); a request
 * already dropped to make room is left alone. */
void memgauge__otlp_queue_remove(memgauge__otlp_queue_t *q, uint64_t seq);

/* 1 when nothing is queued. */
int memgauge__otlp_queue_empty(memgauge__otlp_queue_t *q);

void memgauge__otlp_queue_close(memgauge__otlp_queue_t *q);

#endif
