/* Header-phase deadlines for libmicrohttpd connections. libmicrohttpd calls
 * the application only once a request's headers are complete, and its
 * connection timeout is an idle timeout, which a client sending one byte at a
 * time never reaches: a few hundred such clients would hold every
 * connection. The guard tracks every connection (MHD_OPTION_NOTIFY_CONNECTION)
 * and a thread of its own shuts down the socket of one whose headers are not
 * complete in time; libmicrohttpd then sees the end of the stream and closes
 * it like any connection the client closed. */
#ifndef MEMGAUGE_COLLECTOR_CONN_GUARD_H
#define MEMGAUGE_COLLECTOR_CONN_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

typedef struct memgauge__conn_guard_s memgauge__conn_guard_t;

/* A new connection's first request must have its headers within
 * header_timeout_s of the connection; a later request on a kept-alive
 * connection within idle_timeout_s + header_timeout_s of the previous answer
 * and within header_timeout_s of its request line. Starts the guard's
 * thread (signals stay blocked as in the caller). NULL when out of memory
 * or threads. */
memgauge__conn_guard_t *memgauge__conn_guard_start(unsigned header_timeout_s,
                                                   unsigned idle_timeout_s);
/* Stops the thread and frees the guard; call after MHD_stop_daemon. */
void memgauge__conn_guard_stop(memgauge__conn_guard_t *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls = the guard): registers a
 * connection as *socket_context when it starts, forgets it when it closes. */
void memgauge__conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code);

/* Events of the connection whose socket context is `conn` (NULL is
 * ignored). Thread-safe. */
void memgauge__conn_guard_request_line(memgauge__conn_guard_t *g, void *conn);
void memgauge__conn_guard_headers_done(memgauge__conn_guard_t *g, void *conn);
void memgauge__conn_guard_request_done(memgauge__conn_guard_t *g, void *conn);

#define MEMGAUGE__CONN_CUT_DEADLINE 1      /* headers not complete in time */
#define MEMGAUGE__CONN_CUT_CLIENT_CLOSED 2 /* closed by the client before its headers */

/* Why the guard cut this connection (MEMGAUGE__CONN_CUT_*), 0 if it did not. */
int memgauge__conn_guard_was_cut(void *conn);
/* Connections cut so far. */
uint64_t memgauge__conn_guard_cuts(memgauge__conn_guard_t *g);

#endif
