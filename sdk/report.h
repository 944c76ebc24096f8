/*
 * Between the sampler and the transport: turns the sampler's samples,
 * windows, threshold and pressure events and the previous session's
 * verdict into transport's report model (transport/transport.h), and the
 * transport's counters into memgauge_stats_t.
 */
#ifndef MEMGAUGE_REPORT_H
#define MEMGAUGE_REPORT_H

#include "internal.h"
#include "journal.h"
#include "log.h"

typedef struct memgauge__report_s memgauge__report_t;

/* Starts the transport for opts->endpoint_url (call with the caller's
 * options, whose strings are copied; *out stays NULL without an endpoint).
 * `journal` gives the session's identity and storage directory; `source`
 * is the footprint source of the first reading; the transport's diagnostics
 * go to `log` (it takes a reference). Returns 0 or MEMGAUGE_E_*. */
int memgauge__report_start(const memgauge_options_t *opts, const memgauge__journal_t *journal,
                           int source, memgauge__log_t *log, memgauge__report_t **out);

/* Sampler thread only; never block, never allocate. */
void memgauge__report_sample(memgauge__report_t *r, const memgauge_sample_t *s);
void memgauge__report_window(memgauge__report_t *r, const memgauge_window_t *w);
void memgauge__report_threshold(memgauge__report_t *r, const memgauge_threshold_event_t *e);
void memgauge__report_pressure(memgauge__report_t *r, const memgauge_pressure_event_t *e);
/* A memory warning the app received (memgauge_note_memory_warning): a
 * pressure event with source "memory_warning". Sampler thread. */
void memgauge__report_memory_warning(memgauge__report_t *r, uint64_t time_ns);

/* After the sampler thread has exited: reports the window in progress
 * (`partial`, may be NULL), flushes and sends for up to timeout_ms, spools
 * the rest, frees r. `clean_end_ns` (NULL: not a clean stop) is the time of
 * the session's last sample: the final batch says the session ended with a
 * clean stop then. Returns 0 or MEMGAUGE_E_TIMEOUT (a send hook that did
 * not return: it is then released when it does). */
int memgauge__report_stop(memgauge__report_t *r, const memgauge_window_t *partial,
                          const uint64_t *clean_end_ns, uint32_t timeout_ms);

/* Adds the transport's counters to *s. Any thread. */
void memgauge__report_stats(memgauge__report_t *r, memgauge_stats_t *s);

/* Test knob: `fn` is called on the transport thread after each batch is
 * durably spooled, for every transport started after this call (NULL: off). */
void memgauge__report_on_spooled(void (*fn)(const char *batch_id, void *ctx), void *ctx);

/* Test knob: `fn` is called on the transport thread after each version of
 * the batch being assembled is durably spooled, with its window count. */
void memgauge__report_on_pending(void (*fn)(const char *batch_id, size_t windows, void *ctx),
                                 void *ctx);

/* Wire-format verdict word for a memgauge_end_t ("oom_suspected", ...), or
 * NULL when the verdict is not reported (none, another process running). */
const char *memgauge__report_verdict_word(int verdict);

#endif
