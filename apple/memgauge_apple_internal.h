/* Shared between the glue's files; not public. */
#ifndef MEMGAUGE_APPLE_INTERNAL_H
#define MEMGAUGE_APPLE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Monotonic ns at which an upload in flight is cancelled; 0: none. Set by
 * memgauge_apple_stop, read by the sender. */
extern _Atomic uint64_t memgauge__apple_stop_deadline_ns;

/* The main bundle is an app extension (its path ends in .appex). */
bool memgauge__apple_is_extension(void);

#endif
