/* PostgreSQL backend: placeholder until the libpq implementation lands. */
#include "store.h"

#include <stdio.h>

memgauge__store_t *memgauge__store_pg_open(const char *conninfo,
                                           const memgauge__store_options_t *opts, char *err,
                                           size_t errlen)
{
    (void)conninfo;
    (void)opts;
    snprintf(err, errlen, "postgres: not supported by this build");
    return NULL;
}
