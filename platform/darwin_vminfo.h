/*
 * Darwin footprint rules as a pure function. platform_darwin.c asks the
 * kernel and copies what it got into memgauge__vminfo_t; this file decides
 * what those numbers mean. It includes no Apple header, so the rules are
 * compiled and tested on every platform.
 */
#ifndef MEMGAUGE_DARWIN_VMINFO_H
#define MEMGAUGE_DARWIN_VMINFO_H

#include <stdbool.h>
#include <stdint.h>

#include <memgauge/memgauge.h>

/* Apple's TASK_VM_INFO_REVn_COUNT (mach/task_info.h), in natural_t units.
 * task_info() returns the count of the last revision it filled in
 * (xnu osfmk/kern/task.c, task_info(), case TASK_VM_INFO).
 * platform_darwin.c checks each value against the SDK at compile time. */
#define MEMGAUGE__VMINFO_REV0_COUNT 36u /* up to compressed_lifetime */
#define MEMGAUGE__VMINFO_REV1_COUNT 38u /* + phys_footprint */
#define MEMGAUGE__VMINFO_REV2_COUNT 42u /* + min_address, max_address */
#define MEMGAUGE__VMINFO_REV3_COUNT 84u /* + ledger_phys_footprint_peak and other ledgers */
#define MEMGAUGE__VMINFO_REV4_COUNT 86u /* + limit_bytes_remaining */
#define MEMGAUGE__VMINFO_REV5_COUNT 87u /* + decompressions */
#define MEMGAUGE__VMINFO_REV6_COUNT 89u /* + ledger_swapins */

/* What the Darwin reader got from the kernel, before any interpretation.
 * Fields of a call that failed, or beyond the revision it returned, are
 * ignored whatever they hold. */
typedef struct memgauge__vminfo_s {
    /* task_info(TASK_VM_INFO) returned KERN_SUCCESS. */
    bool vm_info_ok;
    /* The count it returned (natural_t units), not the one passed in. */
    uint32_t vm_info_count;
    uint64_t internal;                   /* rev0 */
    uint64_t compressed;                 /* rev0 */
    uint64_t phys_footprint;             /* rev1 */
    uint64_t ledger_phys_footprint_peak; /* rev3; the kernel's int64_t, negatives as 0 */
    uint64_t limit_bytes_remaining;      /* rev4; 0 means unknown */

    /* task_info(MACH_TASK_BASIC_INFO) returned KERN_SUCCESS. */
    bool basic_info_ok;
    uint64_t resident_size;

    /* The platform kills at a per-process footprint limit: true on iOS,
     * tvOS and watchOS devices, false on macOS, Mac Catalyst and the
     * simulators. */
    bool has_jetsam_limit;
} memgauge__vminfo_t;

/* Turns one raw kernel answer into a reading taken at now_ns. Fills *out
 * completely: a field not known is 0 with its MEMGAUGE_FIELD_* bit clear.
 *
 * - footprint: phys_footprint when the returned count reaches rev1;
 *   internal + compressed below rev1; MACH_TASK_BASIC_INFO resident_size when
 *   TASK_VM_INFO failed. footprint_source says which.
 * - peak: ledger_phys_footprint_peak from rev3.
 * - available: limit_bytes_remaining from rev4 when not 0; never on a
 *   platform without a jetsam limit. (os_proc_available_memory() returns
 *   the same ledger value and arrived with rev4, in xnu-6153: it has nothing
 *   to add, so the reader does not call it.)
 * - limit: phys_footprint + available, only when both are known.
 * - swapped: compressed whenever TASK_VM_INFO succeeded.
 * - resident: MACH_TASK_BASIC_INFO resident_size.
 * A count between two revisions counts as the lower one; a count above rev6
 * counts as rev6; a count below rev0 as a failed TASK_VM_INFO.
 *
 * Returns MEMGAUGE_E_PLATFORM with *out zeroed when neither call succeeded,
 * MEMGAUGE_E_NULL_ARGUMENT for a NULL pointer. Pure: any thread. */
int memgauge__vminfo_interpret(const memgauge__vminfo_t *in, uint64_t now_ns,
                               memgauge_reading_t *out);

#endif
