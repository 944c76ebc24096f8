/* The fault-injecting server. See fault_server.h. */
#define _GNU_SOURCE
#include "fault_server.h"
#include "support/support.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

struct fault_server_s {
    struct MHD_Daemon *d;
    int port;
    fault_step_t script[64];
    size_t steps;
    fault_step_t after;
    pthread_mutex_t lock;
    size_t next_step; /* requests whose body has been read */
    fault_request_t reqs[FAULT_MAX_REQUESTS];
    size_t count;
    atomic_int stopping;
    uint64_t t0_ns;
};

typedef struct conn_s {
    char *buf;
    size_t len;
} conn_t;

static double since(uint64_t t0_ns)
{
    return (double)(mg_mono_ns() - t0_ns) / 1e9;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, cap, "%s", v ? v : "");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)method;
    (void)version;
    fault_server_t *s = cls;
    conn_t *st = *con_cls;
    if (st == NULL) {
        st = calloc(1, sizeof *st);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        st->buf = realloc(st->buf, st->len + *upload_size + 1);
        memcpy(st->buf + st->len, upload, *upload_size);
        st->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    /* the whole body is in: record it and pick the script's step */
    fault_request_t r;
    memset(&r, 0, sizeof r);
    copy_header(c, "Authorization", r.authorization, sizeof r.authorization);
    copy_header(c, "User-Agent", r.user_agent, sizeof r.user_agent);
    copy_header(c, "Content-Type", r.content_type, sizeof r.content_type);
    copy_header(c, "X-Test", r.extra, sizeof r.extra);
    snprintf(r.path, sizeof r.path, "%s", url);
    const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    r.gzip = enc != NULL && strcasecmp(enc, "gzip") == 0;
    if (r.gzip) {
        size_t n = 0;
        r.body = (char *)memgauge__tr_gunzip(st->buf, st->len, 64u << 20, &n);
        r.len = n;
    } else {
        r.body = malloc(st->len + 1);
        memcpy(r.body, st->buf ? st->buf : "", st->len);
        r.body[st->len] = '\0';
        r.len = st->len;
    }
    pthread_mutex_lock(&s->lock);
    r.at_s = since(s->t0_ns);
    fault_step_t step = s->next_step < s->steps ? s->script[s->next_step] : s->after;
    s->next_step++;
    if (s->count < FAULT_MAX_REQUESTS)
        s->reqs[s->count++] = r;
    else
        free(r.body);
    pthread_mutex_unlock(&s->lock);

    if (step.kind == FAULT_RESET)
        return MHD_NO; /* MHD closes the connection without an answer */
    if (step.kind == FAULT_HANG) {
        while (!atomic_load(&s->stopping))
            usleep(10000);
        return MHD_NO;
    }
    for (unsigned waited = 0; waited < step.delay_ms && !atomic_load(&s->stopping); waited += 10)
        usleep(10000);
    static const char ok[] = "{\"status\":\"stored\"}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof ok - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    if (step.retry_after != NULL)
        MHD_add_response_header(resp, "Retry-After", step.retry_after);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)step.status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_t *st = *con_cls;
    if (st != NULL) {
        free(st->buf);
        free(st);
        *con_cls = NULL;
    }
}

fault_server_t *fault_server_start(const fault_step_t *script, size_t n, const fault_step_t *after)
{
    fault_server_t *s = calloc(1, sizeof *s);
    if (n > 64)
        n = 64;
    if (n > 0)
        memcpy(s->script, script, n * sizeof *script);
    s->steps = n;
    s->after = after ? *after : (fault_step_t){.kind = FAULT_ANSWER, .status = 200};
    pthread_mutex_init(&s->lock, NULL);
    s->t0_ns = mg_mono_ns();
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &addr,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (s->d == NULL) {
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

int fault_server_port(fault_server_t *s)
{
    return s->port;
}

size_t fault_server_count(fault_server_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

fault_request_t fault_server_request(fault_server_t *s, size_t i)
{
    pthread_mutex_lock(&s->lock);
    fault_request_t r = s->reqs[i];
    r.body = malloc(r.len + 1);
    memcpy(r.body, s->reqs[i].body ? s->reqs[i].body : "", r.len);
    r.body[r.len] = '\0';
    pthread_mutex_unlock(&s->lock);
    return r;
}

typedef struct count_wait_s {
    fault_server_t *s;
    size_t n;
} count_wait_t;

static int has_count(void *arg)
{
    count_wait_t *w = arg;
    return fault_server_count(w->s) >= w->n;
}

size_t fault_server_wait(fault_server_t *s, size_t n, unsigned timeout_ms)
{
    count_wait_t w = {s, n};
    mg_wait_until(has_count, &w, timeout_ms);
    return fault_server_count(s);
}

void fault_server_stop(fault_server_t *s)
{
    atomic_store(&s->stopping, 1);
    MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->count; i++)
        free(s->reqs[i].body);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
