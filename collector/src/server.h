/* The HTTP side of memgauge-collector, on GNU libmicrohttpd: routing,
 * authentication, content checks, the body cap while reading, per-request
 * deadlines, one log line per request, and a draining stop. */
#ifndef MEMGAUGE_COLLECTOR_SERVER_H
#define MEMGAUGE_COLLECTOR_SERVER_H

#include "cli.h"
#include "otlp.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>

typedef struct memgauge__server_s memgauge__server_t;

/* Starts listening on cli->host:cli->port with cli->threads workers.
 * Borrows cli, store, log and otlp (which must outlive the server; otlp NULL
 * = no export). Returns 0, or -1 with the reason in err. */
int memgauge__server_start(const memgauge__cli_t *cli, memgauge__store_t *store, FILE *log,
                           memgauge__otlp_t *otlp, memgauge__server_t **out, char *err,
                           size_t errlen);

uint16_t memgauge__server_port(const memgauge__server_t *srv);

/* Stops accepting connections, waits up to drain_s seconds for requests in
 * flight to finish, then closes every connection and frees the server.
 * Returns the number of requests still in flight when it gave up (0 when
 * all finished). */
unsigned memgauge__server_stop(memgauge__server_t *srv, unsigned drain_s);

#endif
