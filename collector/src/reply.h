/* What a request handler answers: a status and a JSON body, built by
 * ingest.c and query.c and sent by request.c. */
#ifndef MEMGAUGE_COLLECTOR_REPLY_H
#define MEMGAUGE_COLLECTOR_REPLY_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct memgauge__reply_s {
    int status;
    char *body; /* malloc'd JSON text, owned by the reply */
    size_t len;
    char note[128];    /* one word or two for the request log: batch id, bad field */
    int retry_after_s; /* > 0: sent as Retry-After (a 503 for lack of memory) */
} memgauge__reply_t;

/* Sets status and a body rendered from `json` (takes ownership of json).
 * When rendering fails for lack of memory the reply becomes 503 with a
 * Retry-After: the request was fine, the collector was short. */
void memgauge__reply_json(memgauge__reply_t *r, int status, cJSON *json);
/* {"error": error, "field": field (if non-NULL), "reason": reason (if non-NULL)} */
void memgauge__reply_error(memgauge__reply_t *r, int status, const char *error, const char *field,
                           const char *reason);
void memgauge__reply_clear(memgauge__reply_t *r);

#endif
