/*
 * Pure functions behind the Linux pressure reader (pressure_linux.c): the
 * PSI text, the cgroup OOM-kill counters, the level that PSI numbers and
 * latched cgroup v1 events mean, and the cgroup.event_control line. They
 * take buffers, numbers and a clock value, so that they are tested on any
 * input without a kernel. No allocation, no stdio.
 */
#ifndef MEMGAUGE_PRESSURE_PARSE_H
#define MEMGAUGE_PRESSURE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The avg10 figures of a PSI file (/proc/pressure/memory or a cgroup v2
 * memory.pressure), in hundredths of a percent: "some avg10=1.23" is 123. */
typedef struct memgauge__psi_s {
    uint32_t some_avg10_centi;
    uint32_t full_avg10_centi; /* 0 when there is no "full" line */
    int has_full;
} memgauge__psi_t;

/* Parses "some avg10=0.12 avg60=0.05 avg300=0.01 total=1234\n
 * full avg10=0.00 ...". The "some" line is required, "full" is optional;
 * either line may come first. A value above 100.00 or malformed text is an
 * error. Returns 0 or -1 (*out is then zeroed). */
int memgauge__parse_psi(const char *buf, size_t len, memgauge__psi_t *out);

/* The "oom_kill N" line of a cgroup v2 memory.events or a cgroup v1
 * memory.oom_control (there since Linux 4.13). Returns 0, or -1 when the
 * line is absent or malformed. */
int memgauge__parse_oom_kill(const char *buf, size_t len, uint64_t *count);

/* PSI thresholds, in hundredths of a percent of wall time over the last
 * 10 s (see memgauge__psi_level). */
#define MEMGAUGE__PSI_WARNING_SOME_CENTI 1000u  /* some >= 10 % */
#define MEMGAUGE__PSI_CRITICAL_SOME_CENTI 4000u /* some >= 40 % */
#define MEMGAUGE__PSI_CRITICAL_FULL_CENTI 1000u /* full >= 10 % */

/* The MEMGAUGE_PRESSURE_* level that PSI figures mean; NORMAL for NULL. */
int memgauge__psi_level(const memgauge__psi_t *psi);

/* How long a cgroup v1 pressure event keeps its level. */
#define MEMGAUGE__EVENT_LATCH_NS (UINT64_C(5) * 1000000000u)

/* The level still latched at now_ns by the last "medium" (WARNING) and
 * "critical" (CRITICAL) events, given their monotonic times (0 = never).
 * An event time after now_ns (stored by a concurrent reader with a later
 * clock) counts as latched. */
int memgauge__event_level(uint64_t now_ns, uint64_t last_warning_ns, uint64_t last_critical_ns,
                          uint64_t latch_ns);

/* Writes the cgroup v1 registration line "<event_fd> <level_fd> <level>"
 * (no newline, NUL-terminated) into buf. Returns its length, or -1 when an
 * fd is negative, level is NULL or empty, or it does not fit. */
int memgauge__format_event_control(char *buf, size_t cap, int event_fd, int level_fd,
                                   const char *level);

#endif
