/* Command line of memgauge-collector. Parsing is a pure function so that
 * every refusal can be tested; main.c prints the message and exits 2. */
#ifndef MEMGAUGE_COLLECTOR_CLI_H
#define MEMGAUGE_COLLECTOR_CLI_H

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__OTLP_MAX_HEADERS 16
#define MEMGAUGE__OTLP_HEADER_MAX 1024 /* bytes of one "Name: value" from a file */

#define MEMGAUGE__MAX_KEYS 64
#define MEMGAUGE__KEY_MAX 256
#define MEMGAUGE__MAX_READ_TOKENS 8
#define MEMGAUGE__DIR_MAX 4096
#define MEMGAUGE__KEY_MIN 16        /* shorter keys and tokens could be guessed */
#define MEMGAUGE__KEY_APPS_MAX 1024 /* a key's app list in the --api-keys file */

typedef struct memgauge__cli_s {
    char host[64];  /* numeric IPv4 address to bind */
    uint16_t port;  /* 0 = any free port (see port_file) */
    const char *db; /* SQLite path or postgres:// URL */
    size_t key_count;
    char keys[MEMGAUGE__MAX_KEYS][MEMGAUGE__KEY_MAX + 1];
    /* The app ids each key may write, comma-separated ("" = any app):
     * "KEY app.one,app.two" lines of the --api-keys file. */
    char key_apps[MEMGAUGE__MAX_KEYS][MEMGAUGE__KEY_APPS_MAX];
    /* Read tokens: what the dashboard and the query API accept (auth.h).
     * Required unless host is a loopback address; main.c makes one up when
     * none was given on loopback. */
    size_t read_token_count;
    char read_tokens[MEMGAUGE__MAX_READ_TOKENS][MEMGAUGE__KEY_MAX + 1];
    int read_token_generated; /* read_tokens[0] was made up at start */
    int loopback;             /* host is in 127.0.0.0/8 */
    /* The dashboard's files; "" until main.c resolves the default (static.h). */
    char dashboard_dir[MEMGAUGE__DIR_MAX];
    size_t max_body;  /* bytes, compressed and after gunzip */
    unsigned threads; /* HTTP worker threads */
    unsigned max_connections;
    unsigned max_connections_per_ip; /* 0 = no per-address limit */
    unsigned header_timeout_s;       /* a request's headers must be complete within this */
    size_t max_memory; /* bytes all requests in flight may hold: bodies, inflated bodies, trees */
    unsigned idle_timeout_s;    /* a connection silent this long is closed */
    unsigned request_timeout_s; /* a request body must arrive within this */
    unsigned drain_timeout_s;   /* on SIGTERM, wait this long for in-flight requests */
    int sync_full;
    unsigned pg_conns;
    /* --retention-days: older sessions are deleted (rollups stay); 0 = kept forever */
    unsigned retention_days;
    const char *port_file; /* written with the bound port once listening */
    const char *log_file;  /* NULL = stderr */
    int quiet;             /* no per-request log lines */
    /* OTLP/HTTP export (otlp.h): on when otlp_endpoint is set */
    const char *otlp_endpoint; /* base URL, http:// or https:// */
    size_t otlp_header_count;
    const char *otlp_headers[MEMGAUGE__OTLP_MAX_HEADERS]; /* "Name: value" */
    /* the headers read from --otlp-headers FILE, which otlp_headers point into */
    char otlp_header_text[MEMGAUGE__OTLP_MAX_HEADERS][MEMGAUGE__OTLP_HEADER_MAX];
    const char *otlp_queue;    /* NULL: beside the SQLite database */
    uint64_t otlp_queue_bytes; /* the queue's byte budget */
    int help, version;
} memgauge__cli_t;

/* Parses argv into *out (defaults first). Returns 0, or -1 with a message
 * naming the bad option in err[0 .. errlen). Reads the --api-keys file.
 * Refuses a non-loopback --listen without --read-token: the data would be
 * readable by anyone who can reach the port. Refuses keys and tokens
 * shorter than MEMGAUGE__KEY_MIN bytes.
 * Borrows argv strings (db, port_file, log_file point into argv). */
int memgauge__cli_parse(int argc, char **argv, memgauge__cli_t *out, char *err, size_t errlen);

extern const char memgauge__cli_usage[];

#endif
