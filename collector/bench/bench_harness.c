#include "bench_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* how long a collector may take to listen: a large database is checked at start */
#define START_WAIT_MS 60000
#define START_POLL_MS 10

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t bench_next_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

pid_t bench_start_collector(const char *who, const char *db, const char *dir,
                            const char *const *extra, int *port)
{
    char portfile[512], log[512];
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(log, sizeof log, "%s/collector.log", dir);
    unlink(portfile); /* a previous run's port is not this one's */
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[64] = {MEMGAUGE_COLLECTOR_BIN,
                                "--listen",
                                "127.0.0.1:0",
                                "--db",
                                db,
                                "--api-key",
                                BENCH_KEY,
                                "--read-token",
                                BENCH_READ_TOKEN,
                                "--port-file",
                                portfile,
                                "--log",
                                log,
                                "--quiet",
                                "--retention-days",
                                "0"};
        size_t n = 16;
        for (; extra != NULL && *extra != NULL && n + 1 < sizeof argv / sizeof *argv; extra++)
            argv[n++] = *extra;
        argv[n] = NULL;
        execv(MEMGAUGE_COLLECTOR_BIN, (char *const *)argv);
        _exit(127);
    }
    for (int waited = 0; pid > 0 && waited < START_WAIT_MS; waited += START_POLL_MS) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        usleep(START_POLL_MS * 1000);
    }
    fprintf(stderr, "%s: the collector did not start (see %s)\n", who, log);
    if (pid > 0)
        kill(pid, SIGKILL);
    exit(1);
}
