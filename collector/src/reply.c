#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char out_of_memory[] = "{\"error\":\"busy\",\"reason\":\"out of memory\"}";

void memgauge__reply_json(memgauge__reply_t *r, int status, cJSON *json)
{
    free(r->body);
    r->body = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    r->status = status;
    if (!r->body) {
        r->status = 503;
        r->retry_after_s = 2;
        r->body = strdup(out_of_memory);
    }
    r->len = r->body ? strlen(r->body) : 0;
}

void memgauge__reply_error(memgauge__reply_t *r, int status, const char *error, const char *field,
                           const char *reason)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", error);
    if (field)
        cJSON_AddStringToObject(j, "field", field);
    if (reason)
        cJSON_AddStringToObject(j, "reason", reason);
    memgauge__reply_json(r, status, j);
    if (!r->note[0])
        snprintf(r->note, sizeof r->note, "%s%s%.80s", error, field ? " " : "", field ? field : "");
}

void memgauge__reply_clear(memgauge__reply_t *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}
