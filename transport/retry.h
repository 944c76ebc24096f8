/*
 * What an answer means for a batch, and when to try again: exponential
 * backoff with jitter, Retry-After in seconds or as an HTTP date, capped.
 * Pure functions (the clock and the random draw are arguments).
 */
#ifndef MEMGAUGE_TRANSPORT_RETRY_H
#define MEMGAUGE_TRANSPORT_RETRY_H

#include <stdint.h>

typedef enum memgauge__tr_outcome_e {
    MEMGAUGE__TR_DONE = 0,  /* 2xx: acknowledged, remove from the spool */
    MEMGAUGE__TR_RETRY = 1, /* network error, 408, 429, 500, 502, 503, 504, 507 */
    MEMGAUGE__TR_DROP = 2,  /* any other answer: never retried, counted */
    /* 401, 403, 404, 405: the endpoint URL or the key is wrong, not the
     * batch. Kept in the spool and retried after a long backoff. */
    MEMGAUGE__TR_CONFIG = 3
} memgauge__tr_outcome_t;

/* The first wait after a configuration error (then doubling up to the cap). */
#define MEMGAUGE__TR_CONFIG_BACKOFF_MS 60000u

memgauge__tr_outcome_t memgauge__tr_classify(int status);

/* Delay before attempt number `attempt` (1 = the first retry): a uniform
 * draw in [d/2, d] with d = min(cap, base * 2^(attempt-1)). `random01` is
 * a number in [0, 1). */
uint32_t memgauge__tr_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t cap_ms,
                                 double random01);

/* Retry-After as milliseconds to wait: delta-seconds ("120") or an
 * IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT", RFC 9110 §10.2.3), relative
 * to now_unix_ms, capped at cap_ms. Returns -1 when absent or unparsable;
 * a date in the past is 0. */
int64_t memgauge__tr_retry_after_ms(const char *value, uint64_t now_unix_ms, uint32_t cap_ms);

#endif
