/*
 * How did the previous session end? Pure: a parsed record and what is true
 * now in, a verdict with its evidence out. No I/O, no clock.
 *
 * Elimination first (BRIEF §3, after Facebook's FOOM work): a session that
 * stopped, exited, crashed, was upgraded, rebooted, debugged, ran in the
 * background or was hung did not die for memory in the foreground. What is
 * left is graded by positive evidence — the last headroom, the pressure
 * level, the trail's climb, the kernel's own OOM kill count. A death with
 * no such evidence is "unexplained", never an OOM: with the limit unknown,
 * the system's available memory stands in for the headroom.
 */
#ifndef MEMGAUGE_DIAGNOSE_H
#define MEMGAUGE_DIAGNOSE_H

#include "platform.h"
#include "record.h"

typedef struct memgauge__diagnosis_input_s {
    int parse_status;                    /* MEMGAUGE__RECORD_* of the previous record */
    int absent;                          /* no previous record at all */
    int still_running;                   /* another live process holds it */
    const memgauge__record_view_t *prev; /* valid when parse_status is OK */
    const memgauge__trail_entry_t *trail;
    size_t trail_count;
    /* now */
    const memgauge__identity_t *identity;
    const char *app_version;
    const char *app_build;
    int has_oom_kills;
    uint64_t oom_kills;
} memgauge__diagnosis_input_t;

/* Headroom fractions of the limit that count as evidence. */
#define MEMGAUGE__NEAR_LIMIT_FRACTION 0.10
#define MEMGAUGE__LOW_HEADROOM_FRACTION 0.25
#define MEMGAUGE__PLENTY_FRACTION 0.50

/* The bits that point at memory: a verdict needs one of them to be an OOM. */
#define MEMGAUGE__EVIDENCE_OF_OOM                                                                  \
    (MEMGAUGE_EVIDENCE_NEAR_LIMIT | MEMGAUGE_EVIDENCE_LOW_HEADROOM |                               \
     MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL | MEMGAUGE_EVIDENCE_PRESSURE_WARNING |                    \
     MEMGAUGE_EVIDENCE_RISING | MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL)

/* Fills every field of *out except struct_size and the trail pointer. */
void memgauge__diagnose(const memgauge__diagnosis_input_t *in, memgauge_previous_session_t *out);

/* Footprint slope over the last `window_ns` of the trail, bytes per second
 * (least squares; 0 with fewer than two points). */
int64_t memgauge__trail_trend(const memgauge__trail_entry_t *trail, size_t n, uint64_t window_ns);

#endif
