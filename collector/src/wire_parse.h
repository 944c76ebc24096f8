#ifndef MEMGAUGE_COLLECTOR_WIRE_PARSE_H
#define MEMGAUGE_COLLECTOR_WIRE_PARSE_H

#include "batch.h"

#include <stddef.h>

/* What is wrong with a document: the JSON path of the first bad field
 * ("windows[2].series.footprint[17]", or "body" for the document as a whole)
 * and why. */
typedef struct memgauge__wire_error_s {
    char field[192];
    char reason[160];
} memgauge__wire_error_t;

#define MEMGAUGE__WIRE_OK 0
#define MEMGAUGE__WIRE_INVALID (-1)   /* *err names the first bad field */
#define MEMGAUGE__WIRE_NO_MEMORY (-2) /* allocation failed; nothing to blame on the sender */

/* Parses and validates body[0 .. len) (need not be NUL-terminated) against
 * wire format v1 (docs/wire-format.md). On MEMGAUGE__WIRE_OK *out owns the
 * decoded batch (free with memgauge__batch_clear); otherwise *out is left
 * cleared and *err says why. Borrows body. Thread-safe (no global state). */
int memgauge__wire_parse(const char *body, size_t len, memgauge__batch_t *out,
                         memgauge__wire_error_t *err);

#endif
