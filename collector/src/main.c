/* memgauge-collector: receives wire-format v1 reports and stores them
 * (docs/collector.md). Exit status: 0 after a clean shutdown, 1 when the
 * database or the listening socket cannot be opened, 2 for bad arguments. */
#include "cli.h"
#include "server.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        puts("memgauge-collector 0.1.0 (wire format v1)");
        return 0;
    }

    /* Every thread created from here on inherits this mask: the signals are
     * taken only by sigwait() below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    FILE *log = stderr;
    if (cli.log_file && !(log = fopen(cli.log_file, "a"))) {
        fprintf(stderr, "memgauge-collector: --log: cannot open %s: %s\n", cli.log_file,
                strerror(errno));
        return 2;
    }
    setvbuf(log, NULL, _IOLBF, 0);

    memgauge__store_options_t so = {.sync_full = cli.sync_full, .pg_conns = cli.pg_conns};
    memgauge__store_t *store = memgauge__store_open(cli.db, &so, err, sizeof err);
    if (!store) {
        fprintf(stderr, "memgauge-collector: cannot open the database: %s\n", err);
        return 1;
    }
    memgauge__server_t *srv;
    if (memgauge__server_start(&cli, store, log, &srv, err, sizeof err)) {
        fprintf(stderr, "memgauge-collector: %s\n", err);
        store->ops->close(store);
        return 1;
    }
    unsigned port = memgauge__server_port(srv);
    if (cli.port_file && write_port_file(cli.port_file, port)) {
        fprintf(stderr, "memgauge-collector: --port-file: cannot write %s: %s\n", cli.port_file,
                strerror(errno));
        memgauge__server_stop(srv, 0);
        store->ops->close(store);
        return 2;
    }
    fprintf(log, "memgauge-collector: listening on http://%s:%u (%s store, %zu API keys)\n",
            cli.host, port, store->ops->name, cli.key_count);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(log, "memgauge-collector: %s: draining requests in flight (up to %u s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", cli.drain_timeout_s);
    unsigned left = memgauge__server_stop(srv, cli.drain_timeout_s);
    store->ops->close(store);
    if (left)
        fprintf(log, "memgauge-collector: %u requests still in flight were cut off\n", left);
    fprintf(log, "memgauge-collector: stopped\n");
    if (log != stderr)
        fclose(log);
    return 0;
}
