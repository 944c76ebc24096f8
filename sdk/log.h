/*
 * The diagnostic log hook (options.on_log), rate-limited: each kind of
 * problem reaches the app at most once per MEMGAUGE__LOG_INTERVAL_NS, and
 * the next message that goes says how many were held back. Calls are
 * serialised by one mutex and stop for good at memgauge__log_silence, so the
 * app's hook never runs concurrently with itself or after memgauge_stop.
 * Shared by the sampler and the transport thread (reference counted: the
 * transport may outlive the handle when a send hook ignores its timeout).
 */
#ifndef MEMGAUGE_LOG_H
#define MEMGAUGE_LOG_H

#include <stdint.h>

#include <memgauge/memgauge.h>

#define MEMGAUGE__LOG_INTERVAL_NS (60ull * 1000000000ull)

/* Kinds of problem, each rate-limited on its own. The transport's kinds
 * (MEMGAUGE__TR_LOG_*) are passed through after MEMGAUGE__LOG_TRANSPORT. */
enum {
    MEMGAUGE__LOG_RECORD = 0, /* the session record could not be created */
    MEMGAUGE__LOG_TRANSPORT = 1,
    MEMGAUGE__LOG_KINDS = 16
};

typedef struct memgauge__log_s memgauge__log_t;

/* A logger for `fn` (NULL: every message is dropped uncounted), with one
 * reference. NULL when out of memory. */
memgauge__log_t *memgauge__log_create(memgauge_log_fn fn, void *user_data);

void memgauge__log_retain(memgauge__log_t *l);
/* Drops a reference; the last one frees. Takes a void * to serve as a
 * transport context destructor. NULL is ignored. */
void memgauge__log_release(void *l);

/* No call of the app's hook after this returns (waits for one in progress). */
void memgauge__log_silence(memgauge__log_t *l);

/* Formats and passes one message to the hook, unless its kind spoke less
 * than MEMGAUGE__LOG_INTERVAL_NS ago. Any thread; never called with an SDK
 * lock held. */
void memgauge__log(memgauge__log_t *l, int kind, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Messages held back by the rate limit so far. */
uint64_t memgauge__log_suppressed(memgauge__log_t *l);

#endif
