/*
 * What Darwin's memory pressure dispatch source means, as pure functions.
 * pressure_darwin.c owns the source and feeds every event through here; the
 * rules include no Apple header, so they are compiled and tested anywhere.
 */
#ifndef MEMGAUGE_DARWIN_PRESSURE_RULES_H
#define MEMGAUGE_DARWIN_PRESSURE_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* Apple's DISPATCH_MEMORYPRESSURE_* bits (dispatch/source.h), checked
 * against the SDK by pressure_darwin.c at compile time. */
#define MEMGAUGE__DISPATCH_PRESSURE_NORMAL 0x01u
#define MEMGAUGE__DISPATCH_PRESSURE_WARN 0x02u
#define MEMGAUGE__DISPATCH_PRESSURE_CRITICAL 0x04u

/* An elevated level with no event for this long reads as normal again.
 * xnu re-notifies a process while the condition lasts: the system-wide
 * path after a 25 s resting period (WARNING_ and
 * CRITICAL_NOTIFICATION_RESTING_PERIOD, bsd/kern/kern_memorystatus_notify.c),
 * the per-process path at every ledger warning. 60 s is more than two
 * resting periods. */
#define MEMGAUGE__DARWIN_PRESSURE_QUIET_NS (UINT64_C(60) * 1000000000u)

/* The level (MEMGAUGE_PRESSURE_*) one handler call stands for.
 *
 * libdispatch ORs the flags of every event that arrived before the handler
 * ran (DISPATCH_UNOTE_ACTION_SOURCE_OR_FFLAGS, src/event/event_kevent.c), so
 * WARN then NORMAL reads as WARN|NORMAL: NORMAL wins when its bit is set,
 * since xnu sends it only once pressure has stayed down for its 5 s
 * smoothing period and a later rise would bring a new event. In the
 * simulator the source is a file watch whose data is always WARN
 * (du_memorypressure_override): any event there is a warning. */
int memgauge__darwin_pressure_from_flags(uintptr_t flags, bool simulator);

/* The source's state as one 64-bit word, so that the handler can publish
 * it with a single atomic store: the level of the last event and the time
 * of the last elevated one. 0 is "normal, never elevated". */
typedef uint64_t memgauge__darwin_pressure_state_t;

/* The state after one handler call at now_ns (monotonic). */
memgauge__darwin_pressure_state_t
memgauge__darwin_pressure_on_event(memgauge__darwin_pressure_state_t state, uintptr_t flags,
                                   bool simulator, uint64_t now_ns);

/* The level the state stands for at now_ns: the last event's level, or
 * normal once an elevated one is older than MEMGAUGE__DARWIN_PRESSURE_QUIET_NS.
 *
 * Why it expires: at 80 % of its own limit an iOS app gets
 * NOTE_MEMORYSTATUS_PRESSURE_CRITICAL from memorystatus_warn_process()
 * (bsd/kern/kern_memorystatus_notify.c, called from
 * memorystatus_on_ledger_footprint_exceeded()), a path that never sends
 * NORMAL afterwards: a level kept forever would grade every later death as
 * a high-confidence out-of-memory kill. The private PROC_LIMIT flags that
 * tell this path apart are not used. */
int memgauge__darwin_pressure_level(memgauge__darwin_pressure_state_t state, uint64_t now_ns);

#endif
