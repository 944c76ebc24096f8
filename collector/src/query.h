#ifndef MEMGAUGE_COLLECTOR_QUERY_H
#define MEMGAUGE_COLLECTOR_QUERY_H

#include "reply.h"
#include "store.h"

/* Looks up a query-string argument of the current request (NULL if absent). */
typedef const char *(*memgauge__arg_fn)(void *cls, const char *name);

/* Answers GET `path` of the query API (docs/collector.md "Query API"):
 * 200 with JSON, 400 naming a bad argument, 404 for an unknown path or
 * session, 500 when the store fails. Thread-safe. */
void memgauge__query(memgauge__store_t *st, const char *path, memgauge__arg_fn arg, void *cls,
                     memgauge__reply_t *out);

#endif
