#ifndef MEMGAUGE_COLLECTOR_AUTH_H
#define MEMGAUGE_COLLECTOR_AUTH_H

#include "cli.h"

/* The index in cli->keys of the key in `authorization` (the header value,
 * may be NULL: "Bearer <key>"), or -1. Compares in time independent of where
 * a key differs. Pure, thread-safe. */
int memgauge__auth_key(const memgauge__cli_t *cli, const char *authorization);

/* 1 when memgauge__auth_key finds a key. */
int memgauge__auth_check(const memgauge__cli_t *cli, const char *authorization);

/* 1 when `authorization` may read (the dashboard's data, the query API):
 * "Bearer <read token>" only. API keys never read, on any listener: they
 * ship inside apps. Same timing property as above. Pure, thread-safe. */
int memgauge__auth_read_check(const memgauge__cli_t *cli, const char *authorization);

/* 1 when a key bound to `apps` (comma-separated app ids, as in the
 * --api-keys file; "" or NULL = any app) may write reports of `app_id`.
 * Pure. */
int memgauge__auth_app_allowed(const char *apps, const char *app_id);

#endif
