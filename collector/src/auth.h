#ifndef MEMGAUGE_COLLECTOR_AUTH_H
#define MEMGAUGE_COLLECTOR_AUTH_H

#include "cli.h"

/* 1 when `authorization` (the header value, may be NULL) is "Bearer <key>"
 * for one of the configured keys. Compares in time independent of where a
 * key differs. Pure, thread-safe. */
int memgauge__auth_check(const memgauge__cli_t *cli, const char *authorization);

/* 1 when `authorization` may read (the dashboard's data, the query API):
 * "Bearer <read token>", or, on a loopback listener only, "Bearer <API key>"
 * (local tools; elsewhere API keys only write, since they ship inside apps).
 * Same timing property as above. Pure, thread-safe. */
int memgauge__auth_read_check(const memgauge__cli_t *cli, const char *authorization);

#endif
