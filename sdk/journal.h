/*
 * The session journal: everything between the sampler and the record file.
 * At start it reads the previous session's record, diagnoses how that
 * session ended and creates this session's record; then it writes one
 * update per sample; at stop it marks a clean end. It also owns the
 * process-wide markers (app state, crash, hang, exit) that the app may set
 * from any thread or a signal handler.
 */
#ifndef MEMGAUGE_JOURNAL_H
#define MEMGAUGE_JOURNAL_H

#include "diagnose.h"
#include "mg_base.h"
#include "platform.h"
#include "record.h"

#define MEMGAUGE__RECORD_FILE "session.mgrec"
#define MEMGAUGE__PREVIOUS_FILE "previous.mgrec"
#define MEMGAUGE__LOCK_FILE "start.lock"

typedef struct memgauge__journal_s {
    int enabled;
    char dir[512];
    memgauge__record_t rec;
    memgauge__record_body_t body;
    memgauge__identity_t identity;
    memgauge_previous_session_t previous;
    memgauge_trail_point_t *previous_trail; /* heap, previous.trail_count entries */
    uint64_t debugger_checked_ns;
    int record_errno; /* the record could not be created: why (the session runs without) */
} memgauge__journal_t;

/* Reads and diagnoses the previous record, then creates this session's.
 * With opts->record == 0 only fills `previous` with MEMGAUGE_END_NONE.
 * `trail_capacity` entries are kept. A record that cannot be created (a
 * full disk) is not an error: `enabled` stays 0 and record_errno says why.
 * Returns 0 or a MEMGAUGE_E_* code (an unusable storage directory). */
int memgauge__journal_open(memgauge__journal_t *j, const memgauge_options_t *opts,
                           uint32_t trail_capacity);

/* One sample into the record (sampler thread only; no system call except a
 * debugger check every few seconds). */
void memgauge__journal_sample(memgauge__journal_t *j, const memgauge_sample_t *s,
                              uint64_t session_peak, int pressure,
                              const memgauge__os_pressure_t *os, uint32_t interval_ms);

/* Marks a clean stop (when `clean`) and closes the record. */
void memgauge__journal_close(memgauge__journal_t *j, int clean);

/* The executable's name made into a valid app id ("app" if nothing of it
 * is usable): the default of options.app_id. */
void memgauge__default_app_id(const memgauge__identity_t *id, char *out, size_t cap);

/* In a forked child: stop writing markers into the parent's record. */
void memgauge__journal_forget_after_fork(void);

/* Memory warnings since the process started (the sampler's reporting). */
uint64_t memgauge__journal_memory_warnings(void);

/* The platform facts set through the public API (memory warnings since
 * the process started, thermal state, launch flags), for stats. */
void memgauge__journal_platform_facts(uint64_t *memory_warnings, int32_t *thermal,
                                      uint32_t *launch_flags);

#endif
