/*
 * Darwin reader (iOS, macOS, tvOS, watchOS): asks the kernel and hands the
 * raw answer to memgauge__vminfo_interpret() (darwin_vminfo.c), which owns
 * every rule about what the numbers mean. Needs the macOS 10.15 / iOS 13 SDK
 * or later (task_vm_info rev4).
 */
#include <TargetConditionals.h>
#include <mach/mach.h>
#include <mach/task_info.h>

/* Only iOS-family devices kill at a per-process footprint limit. Mac
 * Catalyst sets TARGET_OS_IPHONE but runs under macOS. */
#if TARGET_OS_IPHONE && !TARGET_OS_SIMULATOR && !TARGET_OS_MACCATALYST
#define MEMGAUGE__JETSAM_LIMIT 1
#else
#define MEMGAUGE__JETSAM_LIMIT 0
#endif

#include "darwin_vminfo.h"
#include "platform.h"

uint64_t memgauge__thread_cpu_ns(pthread_t thread)
{
    thread_basic_info_data_t info;
    mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
    mach_port_t port = pthread_mach_thread_np(thread);
    if (thread_info(port, THREAD_BASIC_INFO, (thread_info_t)&info, &count) != KERN_SUCCESS)
        return 0;
    uint64_t us =
        ((uint64_t)info.user_time.seconds + (uint64_t)info.system_time.seconds) * 1000000u +
        (uint64_t)info.user_time.microseconds + (uint64_t)info.system_time.microseconds;
    return us * 1000u;
}

/* darwin_vminfo.c gates fields on its own copies of these counts. */
_Static_assert(MEMGAUGE__VMINFO_REV0_COUNT == TASK_VM_INFO_REV0_COUNT, "TASK_VM_INFO_REV0_COUNT");
_Static_assert(MEMGAUGE__VMINFO_REV1_COUNT == TASK_VM_INFO_REV1_COUNT, "TASK_VM_INFO_REV1_COUNT");
_Static_assert(MEMGAUGE__VMINFO_REV2_COUNT == TASK_VM_INFO_REV2_COUNT, "TASK_VM_INFO_REV2_COUNT");
_Static_assert(MEMGAUGE__VMINFO_REV3_COUNT == TASK_VM_INFO_REV3_COUNT, "TASK_VM_INFO_REV3_COUNT");
_Static_assert(MEMGAUGE__VMINFO_REV4_COUNT == TASK_VM_INFO_REV4_COUNT, "TASK_VM_INFO_REV4_COUNT");
_Static_assert(MEMGAUGE__VMINFO_REV5_COUNT == TASK_VM_INFO_REV5_COUNT, "TASK_VM_INFO_REV5_COUNT");
/* Older SDKs (the macOS 11 SDK among them) stop at rev5. */
#ifdef TASK_VM_INFO_REV6_COUNT
_Static_assert(MEMGAUGE__VMINFO_REV6_COUNT == TASK_VM_INFO_REV6_COUNT, "TASK_VM_INFO_REV6_COUNT");
#endif

int memgauge__platform_read(memgauge_reading_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;

    memgauge__vminfo_t in = {0};
    mach_port_t self = mach_task_self();

    /* The count is in natural_t units, never sizeof (bytes): xnu's
     * task_info() had to add a workaround for apps that passed byte counts
     * (osfmk/kern/task.c, rdar://49484582). The kernel fills what it knows
     * and lowers count to the last revision it filled.
     *
     * REV4, not TASK_VM_INFO_COUNT: every field used here is at or below
     * rev4. A newer SDK's full count on an older kernel is above that
     * kernel's TASK_VM_INFO_COUNT and makes task_info() write an os_log
     * warning ("possibly invalid task_info_count") on every sample, and
     * rev5's decompressions walk every thread of the task (queue_iterate
     * over task->threads) for a number nobody here reads. */
    task_vm_info_data_t vm = {0};
    mach_msg_type_number_t count = TASK_VM_INFO_REV4_COUNT;
    if (task_info(self, TASK_VM_INFO, (task_info_t)&vm, &count) == KERN_SUCCESS) {
        in.vm_info_ok = true;
        in.vm_info_count = count;
        in.internal = vm.internal;
        in.compressed = vm.compressed;
        in.phys_footprint = vm.phys_footprint;
        in.ledger_phys_footprint_peak =
            vm.ledger_phys_footprint_peak > 0 ? (uint64_t)vm.ledger_phys_footprint_peak : 0;
        in.limit_bytes_remaining = vm.limit_bytes_remaining;
    }

    mach_task_basic_info_data_t basic = {0};
    mach_msg_type_number_t basic_count = MACH_TASK_BASIC_INFO_COUNT;
    if (task_info(self, MACH_TASK_BASIC_INFO, (task_info_t)&basic, &basic_count) == KERN_SUCCESS) {
        in.basic_info_ok = true;
        in.resident_size = basic.resident_size;
    }

    /* os_proc_available_memory() is not called: it returns
     * memorystatus_available_memory_internal(), the value rev4 puts in
     * limit_bytes_remaining, and both arrived with xnu-6153 (iOS 13). */
    in.has_jetsam_limit = MEMGAUGE__JETSAM_LIMIT;

    return memgauge__vminfo_interpret(&in, memgauge__now_ns(), out);
}

/* Nothing is cached on Darwin: every reading asks the kernel for the limit. */
void memgauge__platform_invalidate(void)
{
}
