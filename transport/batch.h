/*
 * The batch being assembled (batch.c): what the worker took from the queue
 * and has not yet written to the spool as a batch file, and the pending
 * spool file that keeps it safe from a kill. Worker thread only.
 *
 * Every batch is written to the spool before its first send and removed
 * only after a 2xx or a drop (worker.c), so a kill at any moment loses no
 * built batch, and a batch whose answer was lost is re-sent with the same id
 * and bytes (the collector stores it once). The batch being assembled is on
 * disk too, as a pending file ("p-…", spool.h). Its protocol, as invariants
 * over memgauge__tr_pending_t:
 *
 *  1. name is "" exactly when this process has no pending file. Otherwise
 *     the file is the last version written and holds, under batch id `id`
 *     (the same for every version), the first `wins` windows of the
 *     assembly's wins[], the first `events` of its events[], the previous
 *     session's verdict when `previous`, the clean end when `end`, and the
 *     dropped counters `total`. So wins <= win_count and
 *     events <= event_count: nothing leaves the assembly while a version
 *     holds it, except by promotion (4).
 *  2. A version replaces the previous one whole (spool.h: temp file and
 *     rename), so the file is always one whole version.
 *  3. A new version is written only when a window closed since the last
 *     (wins_added) and no batch is due (memgauge__tr_batch_keep_pending).
 *     A version over max_batch_bytes is never written: the batch is due
 *     then, and split.
 *  4. When the batch is due (memgauge__tr_batch_flush), the file is renamed
 *     to a batch file ("b-…", promotion) exactly once, after being brought
 *     up to date when it can be; what its last version holds is then
 *     forgotten and `reported` becomes `total`. What it does not hold is
 *     built into new batches with new ids: a window is never in two ids.
 *  5. Only one version of an id is ever sent: the promoted one, or, after a
 *     kill, the one the next start finds and renames (spool.h).
 */
#ifndef MEMGAUGE_TRANSPORT_BATCH_H
#define MEMGAUGE_TRANSPORT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"
#include "transport.h"

#define MEMGAUGE__TR_MAX_PENDING_WINDOWS 256   /* closed windows not yet in a batch */
#define MEMGAUGE__TR_MAX_PENDING_EVENTS 1000   /* events not yet in a batch */
#define MEMGAUGE__TR_MAX_WINDOW_SAMPLES 100000 /* the format's cap per window */
#define MEMGAUGE__TR_MAX_FULL_IDS                                                                  \
    64 /* full batches of this session remembered until one is acked */

typedef struct memgauge__tr_pending_window_s {
    memgauge__tr_window_t w;
    memgauge__tr_sample_t *series; /* owned; NULL when samples were lost */
} memgauge__tr_pending_window_t;

/* The pending file on disk and what its last version holds (invariants above). */
typedef struct memgauge__tr_pending_s {
    char name[MEMGAUGE__SPOOL_NAME_MAX]; /* "": none */
    char id[MEMGAUGE__UUID_TEXT];
    uint64_t created; /* unix ms of the first version */
    size_t wins, events;
    int previous;
    int end;                      /* that version carries the clean end */
    memgauge__tr_dropped_t total; /* becomes `reported` once that version is sent */
    int wins_added;               /* a window closed since that version */
} memgauge__tr_pending_t;

typedef struct memgauge__tr_assembly_s {
    memgauge__tr_sample_t *samples; /* of the window in progress, MAX_WINDOW_SAMPLES */
    size_t sample_count;
    memgauge__tr_pending_window_t wins[MEMGAUGE__TR_MAX_PENDING_WINDOWS];
    size_t win_count;
    memgauge__tr_event_t *events; /* MAX_PENDING_EVENTS */
    size_t event_count;
    memgauge__tr_previous_t previous;
    memgauge__tr_sample_t *previous_trail; /* owned copy of previous.trail */
    int previous_pending;
    int hurry; /* the last pressure event was not "normal": every window goes at once */
    memgauge__tr_dropped_t lost;     /* totals */
    memgauge__tr_dropped_t reported; /* totals already carried by a batch */
    uint64_t last_flush_ns;
    /* No batch has gone to the spool yet: the session's first goes at the
     * first window close, so the collector knows the session within one
     * window, not one report interval, and later batches can be short. */
    int first_pending;
    memgauge__tr_pending_t pend;
    int ending;      /* stopping after memgauge__tr_end_clean */
    int end_written; /* a spooled batch carries the clean end */
    uint64_t end_ms; /* copied from the transport's end_ms_set when stopping */
    /* Schema 2: batches carry the session's description (sdk, app, device)
     * until the collector has acknowledged one that did; later ones are
     * short. full_ids: the ids of the full batches this process built. */
    int meta_acked;
    char full_ids[MEMGAUGE__TR_MAX_FULL_IDS][MEMGAUGE__UUID_TEXT];
    size_t full_next;
} memgauge__tr_assembly_t;

/* Allocates the sample and event buffers. 0, or -1 without memory. */
int memgauge__tr_batch_init(memgauge__tr_assembly_t *a);

/* Copies the previous session's verdict and its trail, to go out with the
 * next batch. 0, or -1 without memory. */
int memgauge__tr_batch_set_previous(memgauge__tr_assembly_t *a, const memgauge__tr_previous_t *p);

/* Frees what the assembly owns (not the assembly itself). */
void memgauge__tr_batch_free(memgauge__tr_assembly_t *a);

/* Moves the queue into the assembly. Returns 1 when a batch is due now: an
 * urgent event, or a window closed and report_interval_ms has passed since
 * the last batch (or none has gone yet: the session's first), or something
 * should not wait for it (an event or the previous session's verdict is
 * pending, or memory pressure is above normal, when a kill may come before
 * the next batch would). */
int memgauge__tr_batch_drain(memgauge__tr_t *t);

/* A window closed and no batch is due: the batch so far goes to disk as a
 * new version of the pending file (invariant 3). */
void memgauge__tr_batch_keep_pending(memgauge__tr_t *t);

/* The batch is due: everything assembled goes to the spool as batch files
 * (invariant 4), split while over max_batch_bytes. */
void memgauge__tr_batch_flush(memgauge__tr_t *t);

/* A 2xx answered batch_id: when it was one of this session's full batches,
 * the collector has the description and later batches leave it out.
 * Batches already built keep their form (their bytes never change). */
void memgauge__tr_batch_acknowledged(memgauge__tr_t *t, const char *batch_id);

#endif
