#include "request.h"

#include "auth.h"
#include "clock.h"
#include "exposition.h"
#include "log_escape.h"
#include "query.h"
#include "static.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* what a client should wait before retrying when the memory pool is full */
#define BUSY_RETRY_AFTER "2"

enum route_e { ROUTE_NONE, ROUTE_INGEST };

typedef struct request_s {
    memgauge__server_t *srv;
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    int seen;          /* the handler has run once */
    int route;
    int gzip;
    int responded; /* a response is queued */
    int status;
    char *body; /* ingest body, grown up to max_body */
    size_t len, cap, received;
    memgauge__budget_t budget; /* what this request holds of srv->memory */
    int key;                   /* index of the API key that wrote, -1 before */
    int endpoint;              /* memgauge__endpoint_t, for /metrics */
    char method[12];
    char path[160];
    char note[128];
} request_t;

static void *socket_context(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static double elapsed_ms(uint64_t since_ns)
{
    return (double)(memgauge__mono_ns() - since_ns) / 1e6;
}

/* Called by MHD when a request line arrives: the request's life starts here,
 * before headers, so that its latency and the drain count include them. */
void *memgauge__request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    memgauge__server_t *srv = cls;
    /* the request line is in: its headers get header_timeout_s from here */
    memgauge__conn_guard_request_line(srv->guard, socket_context(c));
    request_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = srv;
    r->budget.pool = &srv->memory;
    r->key = -1;
    r->start_ns = memgauge__mono_ns();
    size_t n = strcspn(uri, "?");
    if (n >= sizeof r->path)
        n = sizeof r->path - 1;
    memcpy(r->path, uri, n);
    r->endpoint = (int)memgauge__endpoint_of(r->path);
    atomic_fetch_add_explicit(&srv->in_flight, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&srv->requests, 1, memory_order_relaxed);
    return r;
}

static void log_line(memgauge__server_t *srv, struct MHD_Connection *c, request_t *r,
                     enum MHD_RequestTerminationCode toe)
{
    if (srv->cli->quiet)
        return;
    char ts[40], ip[INET6_ADDRSTRLEN] = "-", line[1200];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip, sizeof ip);
    static const char *const ends[] = {"ok",       "error",      "timeout",
                                       "shutdown", "read-error", "client-abort"};
    char status[24];
    if (r->status)
        snprintf(status, sizeof status, "%d", r->status);
    else if (memgauge__conn_guard_was_cut(socket_context(c)))
        snprintf(status, sizeof status, "closed:%s",
                 memgauge__conn_guard_was_cut(socket_context(c)) == MEMGAUGE__CONN_CUT_DEADLINE
                     ? "header-timeout"
                     : "client-abort");
    else
        snprintf(status, sizeof status, "closed:%s",
                 (unsigned)toe < sizeof ends / sizeof ends[0] ? ends[toe] : "?");
    /* everything that came from the client is escaped: one request, one line */
    char method[4 * sizeof r->method], path[4 * sizeof r->path], note[4 * sizeof r->note];
    memgauge__log_escape(method, sizeof method, r->method[0] ? r->method : "-", 1);
    memgauge__log_escape(path, sizeof path, r->path, 1);
    memgauge__log_escape(note, sizeof note, r->note, 0);
    int n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %s %.3fms in=%zu %s\n", ts,
                     now.tv_nsec / 1000000, ip, method, path, status, elapsed_ms(r->start_ns),
                     r->received, note);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    fwrite(line, 1, (size_t)n, srv->log); /* one call per line: lines never interleave */
}

void memgauge__request_end(void *cls, struct MHD_Connection *c, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    memgauge__server_t *srv = cls;
    request_t *r = *req_cls;
    if (!r)
        return;
    log_line(srv, c, r, toe);
    memgauge__http_metrics_count(&srv->http, (memgauge__endpoint_t)r->endpoint, r->status,
                                 memgauge__mono_ns() - r->start_ns, r->received);
    /* the next request on this connection: its headers are bounded too */
    memgauge__conn_guard_request_done(srv->guard, socket_context(c));
    free(r->body);
    memgauge__budget_release(&r->budget);
    free(r);
    *req_cls = NULL;
    atomic_fetch_sub_explicit(&srv->in_flight, 1, memory_order_seq_cst);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, request_t *r, memgauge__reply_t *rep,
                                  const char *extra_name, const char *extra_value)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        memgauge__reply_clear(rep);
        return MHD_NO;
    }
    rep->body = NULL; /* the response owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (extra_name)
        MHD_add_response_header(resp, extra_name, extra_value);
    if (rep->retry_after_s > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", rep->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    r->status = rep->status;
    r->responded = 1;
    if (rep->note[0] && !r->note[0])
        snprintf(r->note, sizeof r->note, "%s", rep->note);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    memgauge__reply_clear(rep);
    return ok;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, request_t *r, int status,
                                   const char *error, const char *reason, const char *extra_name,
                                   const char *extra_value)
{
    memgauge__reply_t rep = {0};
    memgauge__reply_error(&rep, status, error, NULL, reason);
    return send_reply(c, r, &rep, extra_name, extra_value);
}

/* "application/json", optionally with parameters; a charset must be utf-8. */
static int json_content_type(const char *v)
{
    if (!v)
        return 0;
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "application/json", 16) != 0)
        return 0;
    const char *rest = v + 16;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return 1;
    if (*rest != ';')
        return 0;
    const char *cs = strcasestr(rest, "charset=");
    if (!cs)
        return 1;
    cs += 8;
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *get_arg(void *cls, const char *name)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

/* First call of a POST /v1/reports: everything that can be refused before
 * reading the body is refused here, and MHD then closes the connection
 * without reading the body. */
static enum MHD_Result start_ingest(struct MHD_Connection *c, request_t *r)
{
    memgauge__server_t *srv = r->srv;
    r->key = memgauge__auth_key(srv->cli, header(c, MHD_HTTP_HEADER_AUTHORIZATION));
    if (r->key < 0)
        return reply_error(c, r, 401, "unauthorized", "a valid bearer API key is required",
                           MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (!json_content_type(header(c, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return reply_error(c, r, 415, "unsupported media type",
                           "Content-Type must be application/json", NULL, NULL);
    const char *enc = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc && strcasecmp(enc, "gzip") == 0)
        r->gzip = 1;
    else if (enc && strcasecmp(enc, "identity") != 0)
        return reply_error(c, r, 415, "unsupported media type",
                           "Content-Encoding must be gzip or identity", NULL, NULL);
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (n > srv->cli->max_body) {
            atomic_fetch_add_explicit(&srv->ingest.too_large, 1, memory_order_relaxed);
            return reply_error(c, r, 413, "body too large",
                               "Content-Length exceeds the collector's cap", NULL, NULL);
        }
        /* the whole body is reserved before a byte of it is read: when the
         * pool is full the answer is 503 at once, the body never read */
        if (memgauge__budget_take(&r->budget, (size_t)n + 1)) {
            atomic_fetch_add_explicit(&srv->ingest.busy, 1, memory_order_relaxed);
            return reply_error(c, r, 503, "busy",
                               "the collector holds as many bodies as it may; retry",
                               MHD_HTTP_HEADER_RETRY_AFTER, BUSY_RETRY_AFTER);
        }
        r->cap = (size_t)n; /* allocate once when the length is known */
    }
    r->route = ROUTE_INGEST;
    return MHD_YES;
}

static enum MHD_Result take_body(request_t *r, const char *data, size_t size)
{
    memgauge__server_t *srv = r->srv;
    r->received += size;
    if (elapsed_ms(r->start_ns) > srv->cli->request_timeout_s * 1000.0) {
        snprintf(r->note, sizeof r->note, "request timeout: body too slow");
        return MHD_NO; /* closes the connection */
    }
    if (r->len + size > srv->cli->max_body) {
        atomic_fetch_add_explicit(&srv->ingest.too_large, 1, memory_order_relaxed);
        snprintf(r->note, sizeof r->note, "body over the cap while reading");
        return MHD_NO;
    }
    if (r->len + size > r->cap || !r->body) {
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + size)
            cap *= 2;
        if (cap > srv->cli->max_body)
            cap = srv->cli->max_body;
        /* a chunked body reserves as it grows (one with a Content-Length
         * reserved all of it in start_ingest); libmicrohttpd cannot answer
         * in the middle of a body, so a full pool closes the connection */
        if (cap + 1 > r->budget.held &&
            memgauge__budget_take(&r->budget, cap + 1 - r->budget.held)) {
            atomic_fetch_add_explicit(&srv->ingest.busy, 1, memory_order_relaxed);
            snprintf(r->note, sizeof r->note, "busy: memory for bodies in flight is full");
            return MHD_NO;
        }
        char *b = realloc(r->body, cap + 1);
        if (!b)
            return MHD_NO;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
    return MHD_YES;
}

static enum MHD_Result serve_health(struct MHD_Connection *c, request_t *r)
{
    memgauge__server_t *srv = r->srv;
    int version = 0;
    int ok = srv->store->ops->schema_version(srv->store, &version) == 0;
    /* reads answer on their own connection; say so when writes cannot start */
    int writes = ok ? srv->store->ops->write_check(srv->store) : MEMGAUGE__STORE_ERROR;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", !ok ? "store unavailable" : writes ? "degraded" : "ok");
    cJSON_AddStringToObject(j, "writes",
                            writes == MEMGAUGE__STORE_BUSY ? "busy"
                            : writes                       ? "failing"
                                                           : "ok");
    cJSON_AddStringToObject(j, "store", srv->store->ops->name);
    cJSON_AddNumberToObject(j, "schema", version);
    cJSON_AddNumberToObject(j, "requests",
                            (double)atomic_load_explicit(&srv->requests, memory_order_relaxed));
    cJSON_AddNumberToObject(j, "in_flight",
                            atomic_load_explicit(&srv->in_flight, memory_order_relaxed));
    const memgauge__ingest_stats_t *s = &srv->ingest;
    cJSON *in = cJSON_AddObjectToObject(j, "ingest");
    cJSON_AddNumberToObject(in, "stored",
                            (double)atomic_load_explicit(&s->stored, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "duplicates",
                            (double)atomic_load_explicit(&s->duplicates, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "invalid",
                            (double)atomic_load_explicit(&s->invalid, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "too_large",
                            (double)atomic_load_explicit(&s->too_large, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "store_errors",
                            (double)atomic_load_explicit(&s->store_errors, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "samples",
                            (double)atomic_load_explicit(&s->samples, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "forbidden",
                            (double)atomic_load_explicit(&s->forbidden, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "busy",
                            (double)atomic_load_explicit(&s->busy, memory_order_relaxed));
    cJSON_AddNumberToObject(in, "bad_framing",
                            (double)atomic_load_explicit(&srv->bad_framing, memory_order_relaxed));
    const memgauge__mempool_t *m = &srv->memory;
    cJSON *mem = cJSON_AddObjectToObject(j, "memory");
    cJSON_AddNumberToObject(mem, "limit", (double)m->limit);
    cJSON_AddNumberToObject(mem, "in_use",
                            (double)atomic_load_explicit(&m->used, memory_order_relaxed));
    cJSON_AddNumberToObject(mem, "peak",
                            (double)atomic_load_explicit(&m->peak, memory_order_relaxed));
    cJSON_AddNumberToObject(mem, "refused",
                            (double)atomic_load_explicit(&m->refused, memory_order_relaxed));
    cJSON_AddNumberToObject(j, "header_timeouts", (double)memgauge__conn_guard_cuts(srv->guard));
    memgauge__reply_t rep = {0};
    memgauge__reply_json(&rep, ok && !writes ? 200 : 503, j);
    return send_reply(c, r, &rep, NULL, NULL);
}

/* GET /metrics: the read token, on every listener, like the query API
 * (the numbers are the operator's, and a loopback port is reachable by
 * every local user). */
static enum MHD_Result serve_metrics(struct MHD_Connection *c, request_t *r)
{
    memgauge__server_t *srv = r->srv;
    if (!memgauge__auth_read_check(srv->cli, header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
        return reply_error(c, r, 401, "unauthorized",
                           "/metrics needs Authorization: Bearer <read token>",
                           MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    memgauge__exposition_src_t src = {
        .http = &srv->http,
        .ingest = &srv->ingest,
        .memory = &srv->memory,
        .in_flight = atomic_load_explicit(&srv->in_flight, memory_order_relaxed),
        .bad_framing = atomic_load_explicit(&srv->bad_framing, memory_order_relaxed),
        .header_timeouts = memgauge__conn_guard_cuts(srv->guard),
        .otlp = srv->otlp,
        .store_name = srv->store->ops->name,
        .db = srv->cli->db,
    };
    memgauge__text_t t = {0};
    memgauge__exposition(&src, &t);
    if (t.failed) {
        free(t.buf);
        return reply_error(c, r, 503, "busy", "no memory for the page", NULL, NULL);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(t.len, t.buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(t.buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    r->status = 200;
    r->responded = 1;
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The page may run only its own scripts and talk only to this server: a
 * string from a report that slipped into markup could not run (the
 * dashboard also never builds markup from data; tests/dashboard). uPlot
 * sizes its elements through style properties, which style-src allows. */
static const char page_policy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static enum MHD_Result serve_static_file(struct MHD_Connection *c, request_t *r, const char *url)
{
    memgauge__static_file_t f;
    /* no dashboard name needs escaping; MHD has already unescaped url, in
     * which a %00 would cut the name short */
    if (strchr(r->path, '%') || memgauge__static_open(r->srv->cli->dashboard_dir, url, &f))
        return reply_error(c, r, 404, "not found", NULL, NULL, NULL);
    struct MHD_Response *resp = MHD_create_response_from_fd64(f.size, f.fd);
    if (!resp) {
        close(f.fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f.type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (f.html) {
        MHD_add_response_header(resp, "Content-Security-Policy", page_policy);
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    r->status = 200;
    r->responded = 1;
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp); /* MHD closes the fd with the response */
    return ok;
}

typedef struct framing_s {
    unsigned content_length, transfer_encoding;
    int chunked_only; /* every Transfer-Encoding is exactly "chunked" */
} framing_t;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing_t *f = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
        f->content_length++;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->transfer_encoding++;
        f->chunked_only &= value && !strcasecmp(value, "chunked");
    }
    return MHD_YES;
}

/* A body framed two ways is read one way here and another way by a proxy in
 * front (request smuggling, RFC 9112 6.3): libmicrohttpd 0.9.75 takes
 * Transfer-Encoding over Content-Length and the first of two lengths, so
 * such requests are refused before routing. */
static int ambiguous_framing(struct MHD_Connection *c)
{
    framing_t f = {0, 0, 1};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    return f.content_length > 1 || (f.content_length && f.transfer_encoding) ||
           f.transfer_encoding > 1 || (f.transfer_encoding && !f.chunked_only);
}

static enum MHD_Result route_request(struct MHD_Connection *c, request_t *r, const char *url,
                                     const char *method)
{
    memgauge__server_t *srv = r->srv;
    snprintf(r->method, sizeof r->method, "%s", method);
    /* the headers are complete: the header-phase deadline no longer applies */
    memgauge__conn_guard_headers_done(srv->guard, socket_context(c));
    if (ambiguous_framing(c)) {
        atomic_fetch_add_explicit(&srv->bad_framing, 1, memory_order_relaxed);
        return reply_error(c, r, 400, "bad request",
                           "a body framed by both Content-Length and Transfer-Encoding, by two "
                           "lengths or by an encoding other than chunked",
                           MHD_HTTP_HEADER_CONNECTION, "close");
    }
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(url, "/v1/reports")) {
        if (strcmp(method, "POST"))
            return reply_error(c, r, 405, "method not allowed", "use POST", MHD_HTTP_HEADER_ALLOW,
                               "POST");
        return start_ingest(c, r);
    }
    if (!strcmp(url, "/healthz"))
        return get ? serve_health(c, r)
                   : reply_error(c, r, 405, "method not allowed", "use GET", MHD_HTTP_HEADER_ALLOW,
                                 "GET");
    if (!strcmp(url, "/metrics"))
        return get ? serve_metrics(c, r)
                   : reply_error(c, r, 405, "method not allowed", "use GET", MHD_HTTP_HEADER_ALLOW,
                                 "GET");
    if (!strncmp(url, "/v1/", 4)) {
        if (!get)
            return reply_error(c, r, 405, "method not allowed", "use GET", MHD_HTTP_HEADER_ALLOW,
                               "GET");
        if (!memgauge__auth_read_check(srv->cli, header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
            return reply_error(c, r, 401, "unauthorized",
                               "reading needs Authorization: Bearer <read token>",
                               MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        memgauge__reply_t rep = {0};
        memgauge__query(srv->store, url, get_arg, c, &rep);
        return send_reply(c, r, &rep, NULL, NULL);
    }
    /* the dashboard's files are code, not data: served without a token */
    if (get)
        return serve_static_file(c, r, url);
    return reply_error(c, r, 404, "not found", NULL, NULL, NULL);
}

enum MHD_Result memgauge__request_handle(void *cls, struct MHD_Connection *c, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **req_cls)
{
    (void)cls;
    (void)version;
    request_t *r = *req_cls;
    if (!r)
        return MHD_NO; /* memgauge__request_begin could not allocate */
    if (!r->seen) {
        r->seen = 1;
        return route_request(c, r, url, method);
    }
    if (r->responded) { /* answered early; whatever body follows is discarded */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->route != ROUTE_INGEST)
        return MHD_NO;
    if (*upload_data_size) {
        enum MHD_Result ok = take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok;
    }
    memgauge__server_t *srv = r->srv;
    memgauge__ingest_request_t in = {
        .body = r->body,
        .len = r->len,
        .body_held = r->budget.held,
        .gzip = r->gzip,
        .cap = srv->cli->max_body,
        .apps = srv->cli->key_apps[r->key],
        .budget = &r->budget,
        .otlp = srv->otlp,
    };
    r->body = NULL; /* ingest owns it now */
    memgauge__reply_t rep = {0};
    memgauge__ingest(srv->store, &in, &srv->ingest, &rep);
    return send_reply(c, r, &rep, NULL, NULL);
}
