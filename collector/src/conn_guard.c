#include "conn_guard.h"

#include "clock.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define SWEEP_MS 100 /* how late past its deadline a connection may be cut */
/* A connection whose client closed its side before its headers were
 * complete can never complete them. libmicrohttpd's poll() loop reads the end
 * of the stream and closes it at once (server.c says why not epoll, which
 * could miss it); should it not, the guard cuts it once it has been seen
 * closed this long, which leaves libmicrohttpd time to parse a complete
 * request sent just before a half-close. */
#define HALF_CLOSED_GRACE_MS 200

typedef struct conn_s {
    struct conn_s *prev, *next;
    MHD_socket fd;
    int64_t deadline_ms;    /* monotonic; 0 = none (headers complete) */
    int64_t closed_seen_ms; /* when the client was first seen to have closed its side */
    _Atomic int cut;        /* MEMGAUGE__CONN_CUT_* */
} conn_t;

struct memgauge__conn_guard_s {
    pthread_mutex_t lock; /* the list and every conn_t field */
    conn_t *head;
    int64_t header_ms, idle_ms;
    uint64_t cuts;
    struct pollfd *fds; /* the sweeper's scratch */
    conn_t **polled;
    size_t fds_cap;
    _Atomic int stop;
    pthread_t thread;
};

static int64_t now_ms(void)
{
    return (int64_t)memgauge__mono_ms();
}

/* libmicrohttpd calls the CLOSED notification before it closes the socket
 * (daemon.c, MHD_cleanup_connections), and the entry leaves the list under
 * the lock: a socket shut down here is always still the connection's own. */
static void cut(memgauge__conn_guard_t *g, conn_t *c, int why)
{
    shutdown(c->fd, SHUT_RDWR);
    atomic_store_explicit(&c->cut, why, memory_order_relaxed);
    g->cuts++;
}

/* One pass under the lock: connections past their header deadline, and
 * connections in the header phase whose client has closed, are cut. */
static void sweep_once(memgauge__conn_guard_t *g)
{
    int64_t now = now_ms();
    size_t n = 0;
    pthread_mutex_lock(&g->lock);
    for (conn_t *c = g->head; c; c = c->next) {
        if (!c->deadline_ms || c->cut)
            continue;
        if (now >= c->deadline_ms) {
            cut(g, c, MEMGAUGE__CONN_CUT_DEADLINE);
            continue;
        }
        if (n == g->fds_cap) {
            size_t cap = g->fds_cap ? 2 * g->fds_cap : 256;
            struct pollfd *f = realloc(g->fds, cap * sizeof *f);
            if (f)
                g->fds = f;
            conn_t **p = f ? realloc(g->polled, cap * sizeof *p) : NULL;
            if (!p)
                continue; /* unpolled this time: the deadline still holds */
            g->polled = p;
            g->fds_cap = cap;
        }
        g->fds[n] = (struct pollfd){.fd = c->fd, .events = POLLRDHUP};
        g->polled[n++] = c;
    }
    if (n && poll(g->fds, n, 0) > 0)
        for (size_t i = 0; i < n; i++) {
            conn_t *c = g->polled[i];
            if (!(g->fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR)))
                continue;
            if (!c->closed_seen_ms)
                c->closed_seen_ms = now;
            else if (now - c->closed_seen_ms >= HALF_CLOSED_GRACE_MS)
                cut(g, c, MEMGAUGE__CONN_CUT_CLIENT_CLOSED);
        }
    pthread_mutex_unlock(&g->lock);
}

static void *sweep(void *arg)
{
    memgauge__conn_guard_t *g = arg;
    while (!atomic_load_explicit(&g->stop, memory_order_acquire)) {
        struct timespec tick = {0, SWEEP_MS * 1000000L};
        nanosleep(&tick, NULL);
        sweep_once(g);
    }
    return NULL;
}

memgauge__conn_guard_t *memgauge__conn_guard_start(unsigned header_timeout_s,
                                                   unsigned idle_timeout_s)
{
    memgauge__conn_guard_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->lock, NULL);
    g->header_ms = (int64_t)header_timeout_s * 1000;
    g->idle_ms = (int64_t)idle_timeout_s * 1000;
    if (pthread_create(&g->thread, NULL, sweep, g)) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

void memgauge__conn_guard_stop(memgauge__conn_guard_t *g)
{
    if (!g)
        return;
    atomic_store_explicit(&g->stop, 1, memory_order_release);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none after MHD_stop_daemon; defensive */
        conn_t *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->lock);
    free(g->fds);
    free(g->polled);
    free(g);
}

void memgauge__conn_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code)
{
    memgauge__conn_guard_t *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_t *c = calloc(1, sizeof *c);
        if (!c || !ci) { /* unguarded: still bounded by the idle timeout */
            free(c);
            *socket_context = NULL;
            return;
        }
        c->fd = ci->connect_fd;
        c->deadline_ms = now_ms() + g->header_ms;
        pthread_mutex_lock(&g->lock);
        c->next = g->head;
        if (g->head)
            g->head->prev = c;
        g->head = c;
        pthread_mutex_unlock(&g->lock);
        *socket_context = c;
        return;
    }
    conn_t *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
    *socket_context = NULL;
}

static void set_deadline(memgauge__conn_guard_t *g, void *conn, int64_t deadline, int earlier)
{
    conn_t *c = conn;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (!earlier || !c->deadline_ms || deadline < c->deadline_ms)
        c->deadline_ms = deadline;
    pthread_mutex_unlock(&g->lock);
}

void memgauge__conn_guard_request_line(memgauge__conn_guard_t *g, void *conn)
{
    set_deadline(g, conn, now_ms() + g->header_ms, 1);
}

void memgauge__conn_guard_headers_done(memgauge__conn_guard_t *g, void *conn)
{
    set_deadline(g, conn, 0, 0);
}

void memgauge__conn_guard_request_done(memgauge__conn_guard_t *g, void *conn)
{
    set_deadline(g, conn, now_ms() + g->idle_ms + g->header_ms, 0);
}

int memgauge__conn_guard_was_cut(void *conn)
{
    conn_t *c = conn;
    return c ? atomic_load_explicit(&c->cut, memory_order_relaxed) : 0;
}

uint64_t memgauge__conn_guard_cuts(memgauge__conn_guard_t *g)
{
    pthread_mutex_lock(&g->lock);
    uint64_t n = g->cuts;
    pthread_mutex_unlock(&g->lock);
    return n;
}
