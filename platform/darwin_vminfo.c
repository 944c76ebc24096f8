/* Darwin footprint rules, kept free of Apple headers so they run in every test. */
#include <string.h>

#include "darwin_vminfo.h"

/* The revision a returned count proves, -1 when it does not even cover rev0.
 * The kernel only ever returns an exact REVn count, but an in-between value
 * must not unlock a field that lies past it. */
static int vminfo_revision(uint32_t count)
{
    static const uint32_t counts[] = {
        MEMGAUGE__VMINFO_REV0_COUNT, MEMGAUGE__VMINFO_REV1_COUNT, MEMGAUGE__VMINFO_REV2_COUNT,
        MEMGAUGE__VMINFO_REV3_COUNT, MEMGAUGE__VMINFO_REV4_COUNT, MEMGAUGE__VMINFO_REV5_COUNT,
        MEMGAUGE__VMINFO_REV6_COUNT,
    };
    int rev = -1;
    for (int i = 0; i < (int)(sizeof counts / sizeof counts[0]); i++) {
        if (count >= counts[i])
            rev = i;
    }
    return rev;
}

static uint64_t add_saturated(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int memgauge__vminfo_interpret(const memgauge__vminfo_t *in, uint64_t now_ns,
                               memgauge_reading_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (in == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;

    int rev = in->vm_info_ok ? vminfo_revision(in->vm_info_count) : -1;
    if (rev < 0 && !in->basic_info_ok)
        return MEMGAUGE_E_PLATFORM;

    out->time_ns = now_ns;

    if (in->basic_info_ok) {
        out->resident_bytes = in->resident_size;
        out->valid |= MEMGAUGE_FIELD_RESIDENT;
    }

    if (rev >= 1) {
        out->footprint_bytes = in->phys_footprint;
        out->footprint_source = MEMGAUGE_SOURCE_PHYS_FOOTPRINT;
    } else if (rev == 0) {
        /* Before phys_footprint existed: its two main terms (the ledger
         * definition in xnu osfmk/kern/task.c). */
        out->footprint_bytes = add_saturated(in->internal, in->compressed);
        out->footprint_source = MEMGAUGE_SOURCE_INTERNAL_COMPRESSED;
    } else {
        /* Overstates by clean file-backed pages and misses compressed
         * memory; the source tells readers not to compare it. */
        out->footprint_bytes = in->resident_size;
        out->footprint_source = MEMGAUGE_SOURCE_RESIDENT_FALLBACK;
    }
    out->valid |= MEMGAUGE_FIELD_FOOTPRINT;

    if (rev >= 0) {
        out->swapped_bytes = in->compressed;
        out->valid |= MEMGAUGE_FIELD_SWAPPED;
    }

    /* A live task's high-water mark is never 0; the public contract reads a
     * 0 peak as unknown. */
    if (rev >= 3 && in->ledger_phys_footprint_peak != 0) {
        out->peak_bytes = in->ledger_phys_footprint_peak;
        out->valid |= MEMGAUGE_FIELD_PEAK;
    }

    /* macOS and the simulator have no jetsam limit; a made-up one produced
     * false out-of-memory reports in KSCrash. */
    if (!in->has_jetsam_limit)
        return MEMGAUGE_OK;

    /* limit_bytes_remaining == 0 means no limit, not an app, or already over
     * it: unknown, never zero headroom. */
    if (rev < 4 || in->limit_bytes_remaining == 0)
        return MEMGAUGE_OK;
    uint64_t available = in->limit_bytes_remaining;

    out->available_bytes = available;
    out->valid |= MEMGAUGE_FIELD_AVAILABLE;
    /* jetsam compares phys_footprint with the limit; an approximate
     * footprint would put the limit in the wrong place. */
    if (out->footprint_source == MEMGAUGE_SOURCE_PHYS_FOOTPRINT) {
        out->limit_bytes = add_saturated(in->phys_footprint, available);
        out->valid |= MEMGAUGE_FIELD_LIMIT;
    }
    return MEMGAUGE_OK;
}
