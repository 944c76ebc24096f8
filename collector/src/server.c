/* HTTP server on libmicrohttpd 0.9.75 (Debian 12): internal poll() threads
 * in a pool, so that a slow client costs a socket, not a thread.
 *
 * Not epoll: 0.9.75's MHD_epoll() drains its edge-triggered events in
 * batches of 128 (MAX_EVENTS, daemon.c) and calls epoll_wait() again, with
 * the full timeout, for as long as a batch comes back full. When a multiple
 * of 128 events is pending (a worker at its share of the connection
 * limit whose connections the guard shut down while it was not scheduled),
 * the last call blocks until the next event or the idle timeout with every
 * connection it has collected unprocessed: those stayed open for 30 s. It
 * also acts only on edges, and data followed by the end of the stream is one
 * edge. poll() is level-triggered and looks at every connection on each
 * wake-up, so a connection that its client or the guard closed goes at the
 * next pass. */
#include "server.h"

#include "clock.h"
#include "log_escape.h"
#include "request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* libmicrohttpd's own messages per second in the log; the rest are counted */
#define MHD_LOG_PER_SECOND 10

/* libmicrohttpd's own messages (a connection closed mid-request, a header
 * it refused, ...): escaped like request lines, and at most
 * MHD_LOG_PER_SECOND a second, so that a burst of bad connections cannot
 * flood the log. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    memgauge__server_t *srv = cls;
    time_t now = time(NULL);
    uint64_t dropped = 0;
    pthread_mutex_lock(&srv->mhd_log_lock);
    if (now != srv->mhd_log_second) {
        dropped = srv->mhd_log_dropped;
        srv->mhd_log_second = now;
        srv->mhd_log_lines = 0;
        srv->mhd_log_dropped = 0;
    }
    int keep = srv->mhd_log_lines < MHD_LOG_PER_SECOND;
    srv->mhd_log_lines += keep;
    srv->mhd_log_dropped += !keep;
    pthread_mutex_unlock(&srv->mhd_log_lock);
    if (dropped)
        fprintf(srv->log, "memgauge-collector: libmicrohttpd: %llu more messages not logged\n",
                (unsigned long long)dropped);
    if (!keep || srv->cli->quiet)
        return;
    char raw[400], line[4 * sizeof raw];
    vsnprintf(raw, sizeof raw, fmt, ap);
    size_t n = strlen(raw);
    while (n && raw[n - 1] == '\n')
        raw[--n] = '\0';
    memgauge__log_escape(line, sizeof line, raw, 0);
    fprintf(srv->log, "memgauge-collector: libmicrohttpd: %s\n", line);
}

int memgauge__server_start(const memgauge__cli_t *cli, memgauge__store_t *store, FILE *log,
                           memgauge__otlp_t *otlp, memgauge__server_t **out, char *err,
                           size_t errlen)
{
    memgauge__server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    srv->cli = cli;
    srv->store = store;
    srv->log = log;
    srv->otlp = otlp;
    srv->memory.limit = cli->max_memory;
    pthread_mutex_init(&srv->mhd_log_lock, NULL);
    memgauge__json_hooks_install();
    srv->guard = memgauge__conn_guard_start(cli->header_timeout_s, cli->idle_timeout_s);
    if (!srv->guard) {
        snprintf(err, errlen, "cannot start the connection guard");
        pthread_mutex_destroy(&srv->mhd_log_lock);
        free(srv);
        return -1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cli->port)};
    inet_pton(AF_INET, cli->host, &addr.sin_addr);
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, cli->port, NULL, NULL, memgauge__request_handle, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, srv, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, cli->threads, MHD_OPTION_CONNECTION_LIMIT,
        cli->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, cli->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        1024u, MHD_OPTION_URI_LOG_CALLBACK, memgauge__request_begin, srv,
        MHD_OPTION_NOTIFY_COMPLETED, memgauge__request_end, srv, MHD_OPTION_NOTIFY_CONNECTION,
        memgauge__conn_guard_notify, srv->guard, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cli->max_connections_per_ip, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%u (address in use or not available)", cli->host,
                 (unsigned)cli->port);
        memgauge__conn_guard_stop(srv->guard);
        pthread_mutex_destroy(&srv->mhd_log_lock);
        free(srv);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cli->port;
    *out = srv;
    return 0;
}

uint16_t memgauge__server_port(const memgauge__server_t *srv)
{
    return srv->port;
}

unsigned memgauge__server_stop(memgauge__server_t *srv, unsigned drain_s)
{
    if (!srv)
        return 0;
    MHD_socket listen_fd = MHD_quiesce_daemon(srv->daemon); /* stop accepting */
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    uint64_t start_ms = memgauge__mono_ms();
    unsigned left;
    while ((left = atomic_load_explicit(&srv->in_flight, memory_order_seq_cst)) &&
           (double)(memgauge__mono_ms() - start_ms) < drain_s * 1000.0) {
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    MHD_stop_daemon(srv->daemon); /* closes what remains; completion callbacks run */
    if (srv->mhd_log_dropped)
        fprintf(srv->log, "memgauge-collector: libmicrohttpd: %llu more messages not logged\n",
                (unsigned long long)srv->mhd_log_dropped);
    memgauge__conn_guard_stop(srv->guard);
    pthread_mutex_destroy(&srv->mhd_log_lock);
    free(srv);
    return left;
}
