/* One HTTP request's life in memgauge-collector, as the three callbacks
 * server.c gives libmicrohttpd: the request line arrives (begin), the
 * headers and each piece of the body (handle: routing, authentication,
 * content checks, the body cap while reading, the answer), the end (one log
 * line, the metrics, the memory returned). Also the server's state they
 * share with server.c. */
#ifndef MEMGAUGE_COLLECTOR_REQUEST_H
#define MEMGAUGE_COLLECTOR_REQUEST_H

#include "budget.h"
#include "cli.h"
#include "conn_guard.h"
#include "ingest.h"
#include "metrics.h"
#include "otlp.h"
#include "server.h"
#include "store.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct memgauge__server_s {
    struct MHD_Daemon *daemon;
    const memgauge__cli_t *cli;
    memgauge__store_t *store;
    FILE *log;
    uint16_t port;
    _Atomic unsigned in_flight; /* requests between their first line and their end */
    _Atomic uint64_t requests;
    _Atomic uint64_t bad_framing; /* requests refused for ambiguous framing */
    memgauge__ingest_stats_t ingest;
    memgauge__http_metrics_t http; /* GET /metrics */
    memgauge__otlp_t *otlp;        /* NULL: no export */
    memgauge__mempool_t memory;    /* bodies, inflated bodies and trees of requests in flight */
    memgauge__conn_guard_t *guard; /* header-phase deadlines */
    pthread_mutex_t mhd_log_lock;  /* the fields below */
    time_t mhd_log_second;
    unsigned mhd_log_lines;
    uint64_t mhd_log_dropped;
};

/* MHD_OPTION_URI_LOG_CALLBACK (cls = the server): the request starts. */
void *memgauge__request_begin(void *cls, const char *uri, struct MHD_Connection *c);
/* The MHD_AccessHandlerCallback (cls = the server). */
enum MHD_Result memgauge__request_handle(void *cls, struct MHD_Connection *c, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **req_cls);
/* MHD_OPTION_NOTIFY_COMPLETED (cls = the server): the request ends. */
void memgauge__request_end(void *cls, struct MHD_Connection *c, void **req_cls,
                           enum MHD_RequestTerminationCode toe);

#endif
