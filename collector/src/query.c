/* The query API for the dashboard. */
#include "query.h"

void memgauge__query(memgauge__store_t *st, const char *path, memgauge__arg_fn arg, void *cls,
                     memgauge__reply_t *out)
{
    (void)st;
    (void)path;
    (void)arg;
    (void)cls;
    memgauge__reply_error(out, 404, "not found", NULL, NULL);
}
