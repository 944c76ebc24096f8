/* The public one-shot reading: memgauge_read() and memgauge_source_name()
 * over the platform layer's reader. */
#include "platform.h"

const char *memgauge_source_name(int footprint_source)
{
    switch (footprint_source) {
    case MEMGAUGE_SOURCE_PHYS_FOOTPRINT:
        return "phys_footprint";
    case MEMGAUGE_SOURCE_INTERNAL_COMPRESSED:
        return "internal_compressed";
    case MEMGAUGE_SOURCE_RESIDENT_FALLBACK:
        return "resident_fallback";
    case MEMGAUGE_SOURCE_LINUX_PRIVATE_FOOTPRINT:
        return "linux_private_footprint";
    default:
        return "none";
    }
}

int memgauge_read(memgauge_reading_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    return memgauge__platform_read(out);
}
