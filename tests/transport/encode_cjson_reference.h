/* The cJSON-built report encoder, kept as a test reference (see the .c). */
#ifndef MEMGAUGE_TEST_ENCODE_CJSON_REFERENCE_H
#define MEMGAUGE_TEST_ENCODE_CJSON_REFERENCE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "transport.h"

/* The document as the old encoder built it, before printing: every number
 * the exact double it meant (cJSON_Delete it), or NULL. */
cJSON *reference_cjson_tree(const memgauge__tr_batch_t *b);

/* What memgauge__tr_encode returned before it had its own writer: that
 * tree as cJSON prints it, compact (malloc'd, NUL-terminated, *len without
 * the NUL), or NULL. */
char *reference_cjson_encode(const memgauge__tr_batch_t *b, size_t *len);

#endif
