/* The Darwin footprint rules (darwin_vminfo.c), fed with what each kernel
 * revision of task_info(TASK_VM_INFO) returns. */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "darwin_vminfo.h"

#define MIB (UINT64_C(1) << 20)
#define NOW_NS UINT64_C(5000000000)

/* An iOS device whose kernel filled every field up to `count`. The numbers
 * are distinct so that a wrong field shows up as a wrong number. */
static memgauge__vminfo_t ios_device(uint32_t count)
{
    memgauge__vminfo_t in;
    memset(&in, 0, sizeof in);
    in.vm_info_ok = true;
    in.vm_info_count = count;
    in.internal = 100 * MIB;
    in.compressed = 20 * MIB;
    in.phys_footprint = 150 * MIB;
    in.ledger_phys_footprint_peak = 180 * MIB;
    in.limit_bytes_remaining = 1000 * MIB;
    in.basic_info_ok = true;
    in.resident_size = 200 * MIB;
    in.has_jetsam_limit = true;
    return in;
}

static memgauge_reading_t interpret_ok(const memgauge__vminfo_t *in)
{
    memgauge_reading_t out;
    memset(&out, 0xab, sizeof out);
    cr_assert(eq(int, memgauge__vminfo_interpret(in, NOW_NS, &out), MEMGAUGE_OK));
    cr_assert(eq(u64, out.time_ns, NOW_NS));
    return out;
}

static void assert_no_limit(const memgauge_reading_t *out)
{
    cr_assert(eq(u64, out->limit_bytes, 0));
    cr_assert(eq(u64, out->available_bytes, 0));
    cr_assert(eq(u32, out->valid & (MEMGAUGE_FIELD_LIMIT | MEMGAUGE_FIELD_AVAILABLE), 0));
}

static void assert_rev4_reading(const memgauge_reading_t *out)
{
    cr_assert(eq(u64, out->footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out->footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out->peak_bytes, 180 * MIB));
    cr_assert(eq(u64, out->available_bytes, 1000 * MIB));
    cr_assert(eq(u64, out->limit_bytes, 1150 * MIB));
    cr_assert(eq(u64, out->resident_bytes, 200 * MIB));
    cr_assert(eq(u64, out->swapped_bytes, 20 * MIB));
    cr_assert(eq(u32, out->valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_PEAK |
                     MEMGAUGE_FIELD_LIMIT | MEMGAUGE_FIELD_AVAILABLE | MEMGAUGE_FIELD_SWAPPED));
}

Test(darwin_vminfo, revision_counts_are_apples_natural_t_counts)
{
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV0_COUNT, 36));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV1_COUNT, 38));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV2_COUNT, 42));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV3_COUNT, 84));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV4_COUNT, 86));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV5_COUNT, 87));
    cr_assert(eq(u32, MEMGAUGE__VMINFO_REV6_COUNT, 89));
}

Test(darwin_vminfo, rev0_falls_back_to_internal_plus_compressed)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV0_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 120 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_INTERNAL_COMPRESSED));
    cr_assert(eq(u64, out.peak_bytes, 0));
    cr_assert(eq(u64, out.resident_bytes, 200 * MIB));
    cr_assert(eq(u64, out.swapped_bytes, 20 * MIB));
    cr_assert(eq(u32, out.valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_SWAPPED));
    assert_no_limit(&out);
}

Test(darwin_vminfo, rev1_reads_phys_footprint_but_no_peak_or_limit)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV1_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out.peak_bytes, 0));
    cr_assert(eq(u64, out.swapped_bytes, 20 * MIB));
    cr_assert(eq(u32, out.valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_SWAPPED));
    assert_no_limit(&out);
}

Test(darwin_vminfo, rev2_reads_the_same_as_rev1)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV2_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out.peak_bytes, 0));
    cr_assert(eq(u32, out.valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_SWAPPED));
    assert_no_limit(&out);
}

Test(darwin_vminfo, rev3_adds_kernel_peak_but_no_limit)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV3_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out.peak_bytes, 180 * MIB));
    cr_assert(eq(u32, out.valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_PEAK |
                     MEMGAUGE_FIELD_SWAPPED));
    assert_no_limit(&out);
}

Test(darwin_vminfo, rev4_limit_is_phys_footprint_plus_remaining)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV4_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    assert_rev4_reading(&out);
}

Test(darwin_vminfo, rev5_reads_the_same_as_rev4)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV5_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    assert_rev4_reading(&out);
}

Test(darwin_vminfo, rev6_reads_the_same_as_rev4)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    assert_rev4_reading(&out);
}

Test(darwin_vminfo, count_above_rev6_behaves_as_rev6)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT + 40);
    memgauge_reading_t out = interpret_ok(&in);

    assert_rev4_reading(&out);
}

Test(darwin_vminfo, count_between_rev3_and_rev4_counts_as_rev3)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV3_COUNT + 1);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(u64, out.peak_bytes, 180 * MIB));
    cr_assert(eq(u32, out.valid & MEMGAUGE_FIELD_PEAK, MEMGAUGE_FIELD_PEAK));
    assert_no_limit(&out);
}

Test(darwin_vminfo, count_between_rev0_and_rev1_counts_as_rev0)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV0_COUNT + 1);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 120 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_INTERNAL_COMPRESSED));
}

Test(darwin_vminfo, failed_vm_info_falls_back_to_resident_size)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.vm_info_ok = false;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 200 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_RESIDENT_FALLBACK));
    cr_assert(eq(u64, out.resident_bytes, 200 * MIB));
    cr_assert(eq(u64, out.peak_bytes, 0));
    cr_assert(eq(u64, out.swapped_bytes, 0));
    cr_assert(eq(u32, out.valid, MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT));
    assert_no_limit(&out);
}

Test(darwin_vminfo, count_below_rev0_is_treated_as_a_failed_vm_info)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV0_COUNT - 1);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 200 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_RESIDENT_FALLBACK));
    cr_assert(eq(u32, out.valid, MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT));
}

Test(darwin_vminfo, both_calls_failing_returns_platform_error_with_reading_zeroed)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.vm_info_ok = false;
    in.basic_info_ok = false;
    memgauge_reading_t out;
    memset(&out, 0xab, sizeof out);
    memgauge_reading_t zero;
    memset(&zero, 0, sizeof zero);

    cr_assert(eq(int, memgauge__vminfo_interpret(&in, NOW_NS, &out), MEMGAUGE_E_PLATFORM));
    cr_assert(eq(int, memcmp(&out, &zero, sizeof out), 0));
}

Test(darwin_vminfo, vm_info_without_basic_info_has_footprint_but_no_resident)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV4_COUNT);
    in.basic_info_ok = false;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out.resident_bytes, 0));
    cr_assert(eq(u32, out.valid & MEMGAUGE_FIELD_RESIDENT, 0));
    cr_assert(eq(u64, out.limit_bytes, 1150 * MIB));
}

Test(darwin_vminfo, zero_limit_bytes_remaining_is_unknown_not_zero_headroom)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.limit_bytes_remaining = 0;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(u64, out.peak_bytes, 180 * MIB));
    assert_no_limit(&out);
}

Test(darwin_vminfo, macos_reports_no_limit_even_with_remaining_bytes)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.has_jetsam_limit = false;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_PHYS_FOOTPRINT));
    cr_assert(eq(u64, out.peak_bytes, 180 * MIB));
    cr_assert(eq(u64, out.swapped_bytes, 20 * MIB));
    cr_assert(eq(u32, out.valid,
                 MEMGAUGE_FIELD_FOOTPRINT | MEMGAUGE_FIELD_RESIDENT | MEMGAUGE_FIELD_PEAK |
                     MEMGAUGE_FIELD_SWAPPED));
    assert_no_limit(&out);
}

/* os_proc_available_memory() is not called: it returns the value rev4
 * puts in limit_bytes_remaining and arrived with it, so a kernel without
 * rev4 has neither and a device with rev4 needs only the one call. */
Test(darwin_vminfo, device_below_rev4_has_no_limit)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV3_COUNT);
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.footprint_bytes, 150 * MIB));
    cr_assert(eq(u64, out.peak_bytes, 180 * MIB));
    assert_no_limit(&out);
}

Test(darwin_vminfo, failed_vm_info_has_no_headroom)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.vm_info_ok = false;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(i32, out.footprint_source, MEMGAUGE_SOURCE_RESIDENT_FALLBACK));
    assert_no_limit(&out);
}

Test(darwin_vminfo, zero_kernel_peak_is_unknown)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    in.ledger_phys_footprint_peak = 0;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.peak_bytes, 0));
    cr_assert(eq(u32, out.valid & MEMGAUGE_FIELD_PEAK, 0));
}

Test(darwin_vminfo, limit_saturates_instead_of_wrapping)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV4_COUNT);
    in.phys_footprint = UINT64_MAX - MIB;
    memgauge_reading_t out = interpret_ok(&in);

    cr_assert(eq(u64, out.limit_bytes, UINT64_MAX));
}

Test(darwin_vminfo, null_arguments_are_errors_not_crashes)
{
    memgauge__vminfo_t in = ios_device(MEMGAUGE__VMINFO_REV6_COUNT);
    memgauge_reading_t out;
    memset(&out, 0xab, sizeof out);

    cr_assert(eq(int, memgauge__vminfo_interpret(&in, NOW_NS, NULL), MEMGAUGE_E_NULL_ARGUMENT));
    cr_assert(eq(int, memgauge__vminfo_interpret(NULL, NOW_NS, &out), MEMGAUGE_E_NULL_ARGUMENT));
    cr_assert(eq(u32, out.valid, 0));
    cr_assert(eq(u64, out.footprint_bytes, 0));
}
