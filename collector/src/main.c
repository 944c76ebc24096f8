/* memgauge-collector: receives wire-format v1 reports and stores them
 * (docs/collector.md). Exit status: 0 after a clean shutdown, 1 when the
 * database or the listening socket cannot be opened, 2 for bad arguments. */
#include "cli.h"
#include "otlp.h"
#include "retention.h"
#include "server.h"
#include "static.h"
#include "store.h"

#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path); /* readers never see a partial number */
}

/* A read token for this run when none was given on loopback: the dashboard
 * URL printed at start carries it, so that another local user or a web page
 * reaching 127.0.0.1 (DNS rebinding) cannot read the data. */
static int make_read_token(memgauge__cli_t *cli)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(cli->read_tokens[0] + 2 * i, 3, "%02x", raw[i]);
    cli->read_token_count = 1;
    cli->read_token_generated = 1;
    return 0;
}

/* The OTLP exporter, when --otlp-endpoint is given: its queue defaults to
 * otlp-queue/ beside the SQLite file (cli.c requires --otlp-queue for
 * PostgreSQL). Returns 0 (*out NULL when there is no exporter) or -1. */
static int start_otlp(const memgauge__cli_t *cli, memgauge__store_t *store, memgauge__otlp_t **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (!cli->otlp_endpoint)
        return 0;
    char dir[MEMGAUGE__DIR_MAX + 16];
    if (cli->otlp_queue) {
        snprintf(dir, sizeof dir, "%s", cli->otlp_queue);
    } else {
        char db[MEMGAUGE__DIR_MAX];
        snprintf(db, sizeof db, "%s", cli->db);
        snprintf(dir, sizeof dir, "%s/otlp-queue", dirname(db));
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    memgauge__otlp_options_t oo = {
        .endpoint = cli->otlp_endpoint,
        .headers = cli->otlp_headers,
        .header_count = cli->otlp_header_count,
        .queue_dir = dir,
        .queue_bytes = cli->otlp_queue_bytes,
        .store = store,
    };
    return memgauge__otlp_start(&oo, out, err, errlen);
}

int main(int argc, char **argv)
{
    static memgauge__cli_t cli; /* large (keys): not on the stack */
    char err[512];
    if (memgauge__cli_parse(argc, argv, &cli, err, sizeof err)) {
        fprintf(stderr, "memgauge-collector: %s\n(see memgauge-collector --help)\n", err);
        return 2;
    }
    if (cli.help) {
        fputs(memgauge__cli_usage, stdout);
        return 0;
    }
    if (cli.version) {
        puts("memgauge-collector " MEMGAUGE_COLLECTOR_VERSION " (wire format v1)");
        return 0;
    }

    if (cli.read_token_count == 0 && make_read_token(&cli)) {
        fprintf(stderr, "memgauge-collector: cannot make a read token: %s\n", strerror(errno));
        return 1;
    }
    int have_dashboard =
        cli.dashboard_dir[0]
            ? 1
            : memgauge__static_default_dir(cli.dashboard_dir, sizeof cli.dashboard_dir);

    /* Every thread created from here on inherits this mask: the signals are
     * taken only by sigwait() below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The log names clients, paths and batch ids: readable by its owner
     * only (an existing file keeps its mode; the operator chose it). */
    FILE *log = stderr;
    if (cli.log_file) {
        int fd = open(cli.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || !(log = fdopen(fd, "a"))) {
            fprintf(stderr, "memgauge-collector: --log: cannot open %s: %s\n", cli.log_file,
                    strerror(errno));
            if (fd >= 0)
                close(fd);
            return 2;
        }
    }
    setvbuf(log, NULL, _IOLBF, 0);

    memgauge__store_options_t so = {
        .sync_full = cli.sync_full, .pg_conns = cli.pg_conns, .retention_days = cli.retention_days};
    memgauge__store_t *store = memgauge__store_open(cli.db, &so, err, sizeof err);
    if (!store) {
        fprintf(stderr, "memgauge-collector: cannot open the database: %s\n", err);
        return 1;
    }
    memgauge__otlp_t *otlp;
    if (start_otlp(&cli, store, &otlp, err, sizeof err)) {
        fprintf(stderr, "memgauge-collector: %s\n", err);
        store->ops->close(store);
        return 1;
    }
    memgauge__server_t *srv;
    if (memgauge__server_start(&cli, store, log, otlp, &srv, err, sizeof err)) {
        fprintf(stderr, "memgauge-collector: %s\n", err);
        memgauge__otlp_stop(otlp);
        store->ops->close(store);
        return 1;
    }
    unsigned port = memgauge__server_port(srv);
    if (cli.port_file && write_port_file(cli.port_file, port)) {
        fprintf(stderr, "memgauge-collector: --port-file: cannot write %s: %s\n", cli.port_file,
                strerror(errno));
        memgauge__server_stop(srv, 0);
        memgauge__otlp_stop(otlp);
        store->ops->close(store);
        return 2;
    }
    fprintf(log, "memgauge-collector: listening on http://%s:%u (%s store, %zu API keys)\n",
            cli.host, port, store->ops->name, cli.key_count);
    if (otlp)
        fprintf(log, "memgauge-collector: exporting to %s (OTLP/HTTP JSON)\n", cli.otlp_endpoint);
    if (!have_dashboard)
        fprintf(log, "memgauge-collector: no dashboard files in %s (see docs/dashboard.md)\n",
                cli.dashboard_dir);
    /* a made-up token goes to the terminal only, never into a log file that
     * outlives the run (and may be read by others) */
    if (cli.read_token_generated) {
        fprintf(stderr, "memgauge-collector: dashboard: http://%s:%u/#token=%s\n", cli.host, port,
                cli.read_tokens[0]);
        if (log != stderr)
            fprintf(log,
                    "memgauge-collector: dashboard: http://%s:%u/ (read token made up for "
                    "this run, printed on the terminal)\n",
                    cli.host, port);
    } else
        fprintf(log, "memgauge-collector: dashboard: http://%s:%u/ (read token required)\n",
                cli.host, port);

    memgauge__retention_t *retention = NULL;
    if (memgauge__retention_start(store, cli.retention_days, log, &retention))
        fprintf(log, "memgauge-collector: retention: cannot start its thread; nothing expires\n");

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(log, "memgauge-collector: %s: draining requests in flight (up to %u s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", cli.drain_timeout_s);
    unsigned left = memgauge__server_stop(srv, cli.drain_timeout_s);
    memgauge__retention_stop(retention);
    /* after the server: no request can queue any more; what is queued
     * stays on disk for the next start */
    memgauge__otlp_stop(otlp);
    if (otlp)
        curl_global_cleanup();
    store->ops->close(store);
    if (left)
        fprintf(log, "memgauge-collector: %u requests still in flight were cut off\n", left);
    fprintf(log, "memgauge-collector: stopped\n");
    if (log != stderr)
        fclose(log);
    return 0;
}
