/* A fault-injecting HTTP server on 127.0.0.1 (libmicrohttpd): it answers
 * POSTs from a script (status, Retry-After, delay, hang, reset) and keeps
 * every request it received, gunzipped. */
#ifndef MEMGAUGE_TESTS_FAULT_SERVER_H
#define MEMGAUGE_TESTS_FAULT_SERVER_H

#include <stddef.h>

typedef enum fault_kind_e {
    FAULT_ANSWER = 0, /* status (+ Retry-After) after delay_ms */
    FAULT_HANG = 1,   /* never answer (until the server stops) */
    FAULT_RESET = 2   /* close the connection without an answer */
} fault_kind_t;

typedef struct fault_step_s {
    fault_kind_t kind;
    int status;
    const char *retry_after; /* NULL: none */
    unsigned delay_ms;
} fault_step_t;

#define FAULT_MAX_REQUESTS 256

typedef struct fault_request_s {
    char *body; /* gunzipped when Content-Encoding: gzip; NUL-terminated */
    size_t len;
    int gzip;
    char authorization[256];
    char user_agent[128];
    char content_type[128];
    char extra[128]; /* X-Test header */
    char path[128];  /* the request's path */
    double at_s;     /* seconds since the server started */
} fault_request_t;

typedef struct fault_server_s fault_server_t;

/* Starts on a free port. The script is copied; requests past its end get
 * `after` (a 200 with a stored-like body when after is NULL). */
fault_server_t *fault_server_start(const fault_step_t *script, size_t n, const fault_step_t *after);
int fault_server_port(fault_server_t *s);
/* Requests received so far (complete bodies). */
size_t fault_server_count(fault_server_t *s);
/* A copy of request i (the caller frees .body). */
fault_request_t fault_server_request(fault_server_t *s, size_t i);
/* Waits up to timeout_ms for at least n requests; returns the count. */
size_t fault_server_wait(fault_server_t *s, size_t n, unsigned timeout_ms);
void fault_server_stop(fault_server_t *s);

#endif
